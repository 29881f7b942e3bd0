//! Acrobot-v1: swing the tip of a two-link pendulum, actuated at the elbow, above a line
//! (Sutton 1996; Sutton and Barto 2018), with Gymnasium 1.x's "book" dynamics and RK4 step.

use std::f64::consts::PI;

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, PluginError, Sensation, SenseSpec, StepOutput, Task,
    TaskSpec,
};
use serde::{Deserialize, Serialize};

use crate::common::Episode;

const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const TORQUES: [f64; 3] = [-1.0, 0.0, 1.0];
const GRAVITY: f64 = 9.8;

/// Configuration of Acrobot.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AcrobotConfig {
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
    /// Start every episode from this `[theta1, theta2, dtheta1, dtheta2]` instead of sampling
    /// each value uniformly in [-0.1, 0.1] (used to replay reference rollouts).
    pub initial_state: Option<[f64; 4]>,
}

impl Default for AcrobotConfig {
    fn default() -> Self {
        AcrobotConfig {
            max_episode_steps: 500,
            initial_state: None,
        }
    }
}

/// The Acrobot task.
pub struct Acrobot {
    config: AcrobotConfig,
    /// `[theta1, theta2, dtheta1, dtheta2]`.
    state: [f64; 4],
    episode: Episode,
}

impl Component for Acrobot {
    type Config = AcrobotConfig;
}

/// The time derivative of `[theta1, theta2, dtheta1, dtheta2]` under elbow torque `a`.
fn derivatives(s: [f64; 4], a: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2) = (
        LINK_MASS_1,
        LINK_MASS_2,
        LINK_LENGTH_1,
        LINK_COM_POS_1,
        LINK_COM_POS_2,
        LINK_MOI,
        LINK_MOI,
    );
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * lc1.powi(2)
        + m2 * (l1.powi(2) + lc2.powi(2) + 2.0 * l1 * lc2 * theta2.cos())
        + i1
        + i2;
    let d2 = m2 * (lc2.powi(2) + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * GRAVITY * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * dtheta2.powi(2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * GRAVITY * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1.powi(2) * theta2.sin() - phi2)
        / (m2 * lc2.powi(2) + i2 - d2.powi(2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classical Runge-Kutta step of length `DT`, summed in Gymnasium's order.
fn rk4(y: [f64; 4], a: f64) -> [f64; 4] {
    let dt2 = DT / 2.0;
    let add = |y: [f64; 4], h: f64, k: [f64; 4]| std::array::from_fn(|i| y[i] + h * k[i]);
    let k1 = derivatives(y, a);
    let k2 = derivatives(add(y, dt2, k1), a);
    let k3 = derivatives(add(y, dt2, k2), a);
    let k4 = derivatives(add(y, DT, k3), a);
    std::array::from_fn(|i| y[i] + DT / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// Wraps `x` into `[low, high]` by whole turns.
fn wrap(mut x: f64, low: f64, high: f64) -> f64 {
    let span = high - low;
    while x > high {
        x -= span;
    }
    while x < low {
        x += span;
    }
    x
}

impl Acrobot {
    fn observe(&self, out: &mut Sensation) {
        let [t1, t2, d1, d2] = self.state;
        out.set(
            0,
            &[t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2].map(|v| v as f32),
        );
    }
}

impl Task for Acrobot {
    fn new(config: AcrobotConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(
                "Acrobot has its own body and takes none",
            ));
        }
        let initial = config.initial_state.as_ref().map(|s| &s[..]);
        let episode = Episode::new(config.max_episode_steps, initial, 4)?;
        Ok(Acrobot {
            config,
            state: [0.0; 4],
            episode,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector("proprioception", 6)],
            action_space: ActionSpace::Discrete { n: 3 },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: Some(-100.0),
            metrics: Vec::new(),
            dt: Some(DT),
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.episode.start(seed);
        self.state = match self.config.initial_state {
            Some(state) => state,
            // Gymnasium stores the sampled start in single precision.
            None => std::array::from_fn(|_| self.episode.uniform(-0.1, 0.1) as f32 as f64),
        };
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        let torque = TORQUES[action[0] as usize];
        let [t1, t2, d1, d2] = rk4(self.state, torque);
        self.state = [
            wrap(t1, -PI, PI),
            wrap(t2, -PI, PI),
            d1.clamp(-MAX_VEL_1, MAX_VEL_1),
            d2.clamp(-MAX_VEL_2, MAX_VEL_2),
        ];
        let [t1, t2, _, _] = self.state;
        out.terminated = -t1.cos() - (t2 + t1).cos() > 1.0;
        out.reward = if out.terminated { 0.0 } else { -1.0 };
        out.truncated = self.episode.tick();
        self.observe(&mut out.sensation);
        Ok(())
    }
}
