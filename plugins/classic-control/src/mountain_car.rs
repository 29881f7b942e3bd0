//! MountainCar-v0 (Moore 1990): drive an underpowered car up a hill by rocking it, with
//! three discrete accelerations, as Gymnasium 1.x defines it.

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, PluginError, Sensation, SenseSpec, StepOutput, Task,
    TaskSpec,
};
use serde::{Deserialize, Serialize};

use crate::common::Episode;

const MIN_POSITION: f64 = -1.2;
const MAX_POSITION: f64 = 0.6;
const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

/// Configuration of MountainCar.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MountainCarConfig {
    /// The car must reach the goal at least this fast.
    pub goal_velocity: f64,
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
    /// Start every episode from this `[position, velocity]` instead of a uniform position in
    /// [-0.6, -0.4] at rest (used to replay reference rollouts).
    pub initial_state: Option<[f64; 2]>,
}

impl Default for MountainCarConfig {
    fn default() -> Self {
        MountainCarConfig {
            goal_velocity: 0.0,
            max_episode_steps: 200,
            initial_state: None,
        }
    }
}

/// The MountainCar task.
pub struct MountainCar {
    config: MountainCarConfig,
    position: f64,
    velocity: f64,
    episode: Episode,
}

impl Component for MountainCar {
    type Config = MountainCarConfig;
}

impl MountainCar {
    fn observe(&self, out: &mut Sensation) {
        out.set(0, &[self.position as f32, self.velocity as f32]);
    }
}

impl Task for MountainCar {
    fn new(config: MountainCarConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(
                "MountainCar has its own body and takes none",
            ));
        }
        if !config.goal_velocity.is_finite() {
            return Err(PluginError::invalid_config("goal_velocity must be finite"));
        }
        let initial = config.initial_state.as_ref().map(|s| &s[..]);
        let episode = Episode::new(config.max_episode_steps, initial, 2)?;
        Ok(MountainCar {
            config,
            position: 0.0,
            velocity: 0.0,
            episode,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector("proprioception", 2)],
            action_space: ActionSpace::Discrete { n: 3 },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: Some(-110.0),
            metrics: Vec::new(),
            dt: None,
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.episode.start(seed);
        [self.position, self.velocity] = match self.config.initial_state {
            Some(state) => state,
            None => [self.episode.uniform(-0.6, -0.4), 0.0],
        };
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        let push = f64::from(action[0]) - 1.0;
        let mut velocity = self.velocity + (push * FORCE + (3.0 * self.position).cos() * -GRAVITY);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        let position = (self.position + velocity).clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        (self.position, self.velocity) = (position, velocity);
        out.terminated = position >= GOAL_POSITION && velocity >= self.config.goal_velocity;
        out.reward = -1.0;
        out.truncated = self.episode.tick();
        self.observe(&mut out.sensation);
        Ok(())
    }
}
