//! GridWalk: walk along a corridor to the goal at its right end.
//!
//! The smallest useful task: a discrete action space, a one-hot position sense, a reward
//! with a step cost, termination at the goal, truncation at a time limit, a per-step metric,
//! a validated config and a seeded random start.

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, MetricAggregate, MetricSpec, PluginError, Sensation,
    SenseSpec, StepOutput, Task, TaskSpec,
};
use serde::{Deserialize, Serialize};

/// The task's configuration. `deny_unknown_fields` makes a misspelt key an error that names it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridWalkConfig {
    /// Number of cells; the goal is the last one.
    pub length: u32,
    /// Reward added at every step (a cost when negative).
    pub step_reward: f64,
    /// Steps after which the episode is truncated.
    pub max_episode_steps: u32,
}

impl Default for GridWalkConfig {
    fn default() -> Self {
        GridWalkConfig {
            length: 8,
            step_reward: -0.01,
            max_episode_steps: 50,
        }
    }
}

/// The task's state.
pub struct GridWalk {
    config: GridWalkConfig,
    position: u32,
    steps: u32,
    /// A small xorshift generator: enough for random starts, and no dependency.
    rng: u64,
}

impl GridWalk {
    fn observe(&self, out: &mut Sensation) {
        let buffer = &mut out.senses[0];
        buffer.clear();
        buffer.extend((0..self.config.length).map(|i| if i == self.position { 1.0 } else { 0.0 }));
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }
}

impl Component for GridWalk {
    type Config = GridWalkConfig;
}

impl Task for GridWalk {
    fn new(config: GridWalkConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported("GridWalk takes no body"));
        }
        if config.length < 2 {
            return Err(PluginError::invalid_config("length must be at least 2"));
        }
        if config.max_episode_steps == 0 {
            return Err(PluginError::invalid_config(
                "max_episode_steps must be at least 1",
            ));
        }
        Ok(GridWalk {
            config,
            position: 0,
            steps: 0,
            rng: 1,
        })
    }

    fn spec(&self) -> TaskSpec {
        TaskSpec {
            senses: vec![SenseSpec::vector("proprioception", self.config.length)],
            action_space: ActionSpace::Discrete { n: 2 },
            max_episode_steps: Some(self.config.max_episode_steps),
            reward_threshold: None,
            metrics: vec![MetricSpec {
                name: "reached_goal".into(),
                aggregate: MetricAggregate::Last,
            }],
            dt: None,
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        if let Some(seed) = seed {
            // xorshift must not start at zero.
            self.rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        }
        // Start anywhere left of the goal.
        self.position = (self.next_random() % u64::from(self.config.length - 1)) as u32;
        self.steps = 0;
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        // The host has checked that the action is 0 (left) or 1 (right).
        if action[0] == 1.0 {
            self.position += 1;
        } else {
            self.position = self.position.saturating_sub(1);
        }
        self.steps += 1;
        let at_goal = self.position == self.config.length - 1;
        out.reward = self.config.step_reward + if at_goal { 1.0 } else { 0.0 };
        out.terminated = at_goal;
        out.truncated = !at_goal && self.steps >= self.config.max_episode_steps;
        out.metrics[0] = if at_goal { 1.0 } else { 0.0 };
        self.observe(&mut out.sensation);
        Ok(())
    }
}

angora_plugin_api::register!(
    task GridWalk,
    "GridWalk-v0",
    "Walk right along a corridor to the goal at its end (an out-of-tree example)."
);

angora_plugin_api::export_plugin!();
