//! What the classic tasks share: a seeded random source, Gymnasium's time limit, and the
//! optional fixed initial state used to replay reference rollouts.

use angora_plugin_api::PluginError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Episode bookkeeping common to every classic task.
pub struct Episode {
    rng: ChaCha8Rng,
    steps: u32,
    max_steps: u32,
}

impl Episode {
    /// Checks the shared config values and starts with seed 0.
    pub fn new(
        max_steps: u32,
        initial_state: Option<&[f64]>,
        state_len: usize,
    ) -> Result<Self, PluginError> {
        if max_steps == 0 {
            return Err(PluginError::invalid_config(
                "max_episode_steps must be at least 1",
            ));
        }
        if let Some(state) = initial_state {
            if state.len() != state_len {
                return Err(PluginError::invalid_config(format!(
                    "initial_state has {} values, the task's state has {state_len}",
                    state.len()
                )));
            }
            if state.iter().any(|v| !v.is_finite()) {
                return Err(PluginError::invalid_config("initial_state must be finite"));
            }
        }
        Ok(Episode {
            rng: ChaCha8Rng::seed_from_u64(0),
            steps: 0,
            max_steps,
        })
    }

    /// Starts an episode: re-seeds if asked and resets the step counter.
    pub fn start(&mut self, seed: Option<u64>) {
        if let Some(seed) = seed {
            self.rng = ChaCha8Rng::seed_from_u64(seed);
        }
        self.steps = 0;
    }

    /// A uniform sample in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        self.rng.random_range(low..high)
    }

    /// Counts a step and says whether the time limit truncates the episode here. Like
    /// Gymnasium's `TimeLimit`, this is independent of termination.
    pub fn tick(&mut self) -> bool {
        self.steps += 1;
        self.steps >= self.max_steps
    }
}
