//! Pendulum-v1: swing a frictionless pendulum up and hold it, with a bounded torque, as
//! Gymnasium 1.x defines it.

use std::f64::consts::PI;

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, PluginError, Sensation, SenseSpec, StepOutput, Task,
    TaskSpec,
};
use serde::{Deserialize, Serialize};

use crate::common::Episode;

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const MASS: f64 = 1.0;
const LENGTH: f64 = 1.0;

/// Configuration of Pendulum.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravitational acceleration.
    pub g: f64,
    /// Observe the angular velocity (false: cos and sin of the angle only).
    pub velocities: bool,
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
    /// Start every episode from this `[theta, theta_dot]` instead of a uniform angle in
    /// [-pi, pi] and velocity in [-1, 1] (used to replay reference rollouts).
    pub initial_state: Option<[f64; 2]>,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        PendulumConfig {
            g: 10.0,
            velocities: true,
            max_episode_steps: 200,
            initial_state: None,
        }
    }
}

/// The Pendulum task.
pub struct Pendulum {
    config: PendulumConfig,
    theta: f64,
    theta_dot: f64,
    episode: Episode,
}

impl Component for Pendulum {
    type Config = PendulumConfig;
}

/// The angle in `[-pi, pi)`, with NumPy's floored modulo.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl Pendulum {
    fn observe(&self, out: &mut Sensation) {
        let (sin, cos) = (self.theta.sin() as f32, self.theta.cos() as f32);
        if self.config.velocities {
            out.set(0, &[cos, sin, self.theta_dot as f32]);
        } else {
            out.set(0, &[cos, sin]);
        }
    }
}

impl Task for Pendulum {
    fn new(config: PendulumConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(
                "Pendulum has its own body and takes none",
            ));
        }
        if !(config.g.is_finite() && config.g >= 0.0) {
            return Err(PluginError::invalid_config(format!(
                "g must be finite and non-negative, got {}",
                config.g
            )));
        }
        let initial = config.initial_state.as_ref().map(|s| &s[..]);
        let episode = Episode::new(config.max_episode_steps, initial, 2)?;
        Ok(Pendulum {
            config,
            theta: 0.0,
            theta_dot: 0.0,
            episode,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector(
                "proprioception",
                if self.config.velocities { 3 } else { 2 },
            )],
            action_space: ActionSpace::Box {
                low: vec![-MAX_TORQUE],
                high: vec![MAX_TORQUE],
            },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: None,
            metrics: Vec::new(),
            dt: Some(DT),
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.episode.start(seed);
        [self.theta, self.theta_dot] = match self.config.initial_state {
            Some(state) => state,
            None => [
                self.episode.uniform(-PI, PI),
                self.episode.uniform(-1.0, 1.0),
            ],
        };
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        // The torque is clipped and kept in single precision, as Gymnasium does.
        let u = action[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        let (th, thdot, g) = (self.theta, self.theta_dot, self.config.g);
        let costs =
            angle_normalize(th).powi(2) + 0.1 * thdot.powi(2) + f64::from(0.001f32 * (u * u));
        // 3 / (m l^2) times the float32 torque, in float32 as NumPy computes it.
        let torque_term = f64::from((3.0 / (MASS * LENGTH * LENGTH)) as f32 * u);
        let new_thdot = (thdot + (3.0 * g / (2.0 * LENGTH) * th.sin() + torque_term) * DT)
            .clamp(-MAX_SPEED, MAX_SPEED);
        self.theta = th + new_thdot * DT;
        self.theta_dot = new_thdot;
        out.reward = -costs;
        out.terminated = false;
        out.truncated = self.episode.tick();
        self.observe(&mut out.sensation);
        Ok(())
    }
}
