//! CartPole-v1: the cart-pole of Barto, Sutton and Anderson (1983) as Gymnasium 1.x defines it.

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, PluginError, Sensation, SenseSpec, StepOutput, Task,
    TaskSpec,
};
use serde::{Deserialize, Serialize};

use crate::common::Episode;

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
/// Half the pole's length.
const LENGTH: f64 = 0.5;
const POLE_MASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
/// Seconds between state updates.
const TAU: f64 = 0.02;
const THETA_THRESHOLD: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

/// Configuration of CartPole.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Observe the cart and pole velocities (false: position and angle only).
    pub velocities: bool,
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
    /// Gymnasium's `sutton_barto_reward`: 0 per step and -1 on failure instead of 1 per step.
    pub sutton_barto_reward: bool,
    /// Start every episode from this `[x, x_dot, theta, theta_dot]` instead of sampling
    /// each value uniformly in [-0.05, 0.05] (used to replay reference rollouts).
    pub initial_state: Option<[f64; 4]>,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        CartPoleConfig {
            velocities: true,
            max_episode_steps: 500,
            sutton_barto_reward: false,
            initial_state: None,
        }
    }
}

/// The CartPole task.
pub struct CartPole {
    config: CartPoleConfig,
    /// `[x, x_dot, theta, theta_dot]`.
    state: [f64; 4],
    episode: Episode,
}

impl Component for CartPole {
    type Config = CartPoleConfig;
}

impl CartPole {
    fn observe(&self, out: &mut Sensation) {
        let s = self.state.map(|v| v as f32);
        if self.config.velocities {
            out.set(0, &s);
        } else {
            out.set(0, &[s[0], s[2]]);
        }
    }
}

impl Task for CartPole {
    fn new(config: CartPoleConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(
                "CartPole has its own body and takes none",
            ));
        }
        let initial = config.initial_state.as_ref().map(|s| &s[..]);
        let episode = Episode::new(config.max_episode_steps, initial, 4)?;
        Ok(CartPole {
            config,
            state: [0.0; 4],
            episode,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector(
                "proprioception",
                if self.config.velocities { 4 } else { 2 },
            )],
            action_space: ActionSpace::Discrete { n: 2 },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: Some(475.0),
            metrics: Vec::new(),
            dt: Some(TAU),
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.episode.start(seed);
        self.state = match self.config.initial_state {
            Some(state) => state,
            None => std::array::from_fn(|_| self.episode.uniform(-0.05, 0.05)),
        };
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action[0] == 1.0 {
            FORCE_MAG
        } else {
            -FORCE_MAG
        };
        let (sin, cos) = theta.sin_cos();
        // Grouped as Gymnasium groups them (squares first), so that rounding agrees.
        let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        // Explicit Euler, in Gymnasium's order.
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        let [x, _, theta, _] = self.state;
        let failed = !(-X_THRESHOLD..=X_THRESHOLD).contains(&x)
            || !(-THETA_THRESHOLD..=THETA_THRESHOLD).contains(&theta);
        out.reward = match (self.config.sutton_barto_reward, failed) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        out.terminated = failed;
        out.truncated = self.episode.tick();
        self.observe(&mut out.sensation);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_task(config: CartPoleConfig) -> CartPole {
        CartPole::new(config, None).unwrap()
    }

    #[test]
    fn reset_state_is_small_and_seeded() {
        let mut a = new_task(CartPoleConfig::default());
        let mut b = new_task(CartPoleConfig::default());
        let (mut oa, mut ob) = (Sensation::with_senses(1), Sensation::with_senses(1));
        a.reset(Some(7), &mut oa).unwrap();
        b.reset(Some(7), &mut ob).unwrap();
        assert_eq!(oa, ob);
        assert!(oa.senses[0].iter().all(|v| v.abs() < 0.05));
    }

    #[test]
    fn pushing_one_way_fails_before_the_time_limit() {
        let mut task = new_task(CartPoleConfig::default());
        let mut obs = Sensation::with_senses(1);
        task.reset(Some(0), &mut obs).unwrap();
        let mut out = StepOutput::default();
        let mut steps = 0;
        loop {
            out.prepare(1, 0);
            task.step(&[1.0], &mut out).unwrap();
            steps += 1;
            if out.terminated || out.truncated {
                break;
            }
        }
        assert!(out.terminated && !out.truncated);
        assert!(
            steps < 30,
            "constant pushing should topple the pole quickly, took {steps}"
        );
    }

    #[test]
    fn no_velocity_variant_observes_position_and_angle() {
        let mut task = new_task(CartPoleConfig {
            velocities: false,
            ..Default::default()
        });
        assert_eq!(task.spec().senses[0].shape, vec![2]);
        let mut obs = Sensation::with_senses(1);
        task.reset(Some(1), &mut obs).unwrap();
        assert_eq!(obs.senses[0].len(), 2);
    }
}
