//! MountainCarContinuous-v0: MountainCar with a continuous force, a goal reward of 100 and an
//! action cost, as Gymnasium 1.x defines it.
//!
//! Gymnasium keeps this task's state in single precision after the first step, and NumPy 2's
//! promotion rules make most of the update single-precision arithmetic; the step below
//! reproduces those roundings (see [`Num`]) so that replayed rollouts match to the last digit.

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, PluginError, Sensation, SenseSpec, StepOutput, Task,
    TaskSpec,
};
use serde::{Deserialize, Serialize};

use crate::common::Episode;

const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.45;
const POWER: f64 = 0.0015;

/// Configuration of MountainCarContinuous.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContinuousMountainCarConfig {
    /// The car must reach the goal at least this fast.
    pub goal_velocity: f64,
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
    /// Start every episode from this `[position, velocity]` instead of a uniform position in
    /// [-0.6, -0.4] at rest (used to replay reference rollouts).
    pub initial_state: Option<[f64; 2]>,
}

impl Default for ContinuousMountainCarConfig {
    fn default() -> Self {
        ContinuousMountainCarConfig {
            goal_velocity: 0.0,
            max_episode_steps: 999,
            initial_state: None,
        }
    }
}

/// A number as Gymnasium's code holds it. NumPy 2 (NEP 50) treats Python floats as "weak":
/// mixed with a float32 they are rounded to float32 first; mixed with a float64 the result is
/// float64.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    /// A Python float.
    Py(f64),
    /// A NumPy float64 scalar.
    F64(f64),
    /// A NumPy float32 scalar.
    F32(f32),
}

impl Num {
    fn value(self) -> f64 {
        match self {
            Num::Py(v) | Num::F64(v) => v,
            Num::F32(v) => f64::from(v),
        }
    }

    /// Applies a binary operation with NumPy 2's promotion.
    fn op(self, other: Num, f64_op: fn(f64, f64) -> f64, f32_op: fn(f32, f32) -> f32) -> Num {
        match (self, other) {
            (Num::F32(a), Num::F32(b)) => Num::F32(f32_op(a, b)),
            (Num::F32(a), Num::Py(b)) => Num::F32(f32_op(a, b as f32)),
            (Num::Py(a), Num::F32(b)) => Num::F32(f32_op(a as f32, b)),
            (Num::Py(a), Num::Py(b)) => Num::Py(f64_op(a, b)),
            (a, b) => Num::F64(f64_op(a.value(), b.value())),
        }
    }

    fn add(self, other: Num) -> Num {
        self.op(other, |a, b| a + b, |a, b| a + b)
    }

    fn sub(self, other: Num) -> Num {
        self.op(other, |a, b| a - b, |a, b| a - b)
    }

    fn mul(self, other: Num) -> Num {
        self.op(other, |a, b| a * b, |a, b| a * b)
    }

    /// Compares with a Python float in the scalar's precision.
    fn cmp_py(self, x: f64) -> std::cmp::Ordering {
        let ordering = match self {
            Num::F32(a) => a.partial_cmp(&(x as f32)),
            other => other.value().partial_cmp(&x),
        };
        ordering.expect("the state is never NaN")
    }
}

/// The MountainCarContinuous task.
pub struct ContinuousMountainCar {
    config: ContinuousMountainCarConfig,
    position: Num,
    velocity: Num,
    episode: Episode,
}

impl Component for ContinuousMountainCar {
    type Config = ContinuousMountainCarConfig;
}

impl ContinuousMountainCar {
    fn observe(&self, out: &mut Sensation) {
        out.set(
            0,
            &[self.position.value() as f32, self.velocity.value() as f32],
        );
    }
}

impl Task for ContinuousMountainCar {
    fn new(
        config: ContinuousMountainCarConfig,
        body: Option<BodyDescription>,
    ) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(
                "MountainCarContinuous has its own body and takes none",
            ));
        }
        if !config.goal_velocity.is_finite() {
            return Err(PluginError::invalid_config("goal_velocity must be finite"));
        }
        let initial = config.initial_state.as_ref().map(|s| &s[..]);
        let episode = Episode::new(config.max_episode_steps, initial, 2)?;
        Ok(ContinuousMountainCar {
            config,
            position: Num::F64(0.0),
            velocity: Num::F64(0.0),
            episode,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector("proprioception", 2)],
            action_space: ActionSpace::Box {
                low: vec![-1.0],
                high: vec![1.0],
            },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: Some(90.0),
            metrics: Vec::new(),
            dt: None,
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.episode.start(seed);
        let [position, velocity] = match self.config.initial_state {
            Some(state) => state,
            None => [self.episode.uniform(-0.6, -0.4), 0.0],
        };
        // After a reset Gymnasium holds a float64 array; steps store float32.
        (self.position, self.velocity) = (Num::F64(position), Num::F64(velocity));
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        use std::cmp::Ordering::{Greater, Less};
        let a = action[0];
        // `min(max(action[0], -1.0), 1.0)`: the float32 action unless a bound (a Python float)
        // wins.
        let force = if a < -1.0 {
            Num::Py(-1.0)
        } else if a > 1.0 {
            Num::Py(1.0)
        } else {
            Num::F32(a)
        };
        let slope = 0.0025 * Num::Py(3.0).mul(self.position).value().cos();
        let mut velocity = self
            .velocity
            .add(force.mul(Num::Py(POWER)).sub(Num::Py(slope)));
        if velocity.cmp_py(MAX_SPEED) == Greater {
            velocity = Num::Py(MAX_SPEED);
        }
        if velocity.cmp_py(-MAX_SPEED) == Less {
            velocity = Num::Py(-MAX_SPEED);
        }
        let mut position = self.position.add(velocity);
        if position.cmp_py(MAX_POSITION) == Greater {
            position = Num::Py(MAX_POSITION);
        }
        if position.cmp_py(MIN_POSITION) == Less {
            position = Num::Py(MIN_POSITION);
        }
        if position.cmp_py(MIN_POSITION).is_eq() && velocity.value() < 0.0 {
            velocity = Num::Py(0.0);
        }
        let terminated = position.cmp_py(GOAL_POSITION).is_ge()
            && velocity.cmp_py(self.config.goal_velocity).is_ge();
        let mut reward = if terminated { 100.0 } else { 0.0 };
        reward -= f64::from(a).powi(2) * 0.1;
        // Gymnasium stores the new state as a float32 array.
        self.position = Num::F32(position.value() as f32);
        self.velocity = Num::F32(velocity.value() as f32);
        out.terminated = terminated;
        out.reward = reward;
        out.truncated = self.episode.tick();
        self.observe(&mut out.sensation);
        Ok(())
    }
}
