//! Running episodes of a task with a policy and summarising them.

use std::{collections::BTreeMap, time::Instant};

use angora_plugin_api::{ActionSpace, Sensation};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;

use crate::{plugin::CallError, train::setup::EnvStack};

/// Something that picks actions.
pub trait Policy {
    /// Called at the start of every episode.
    fn start_episode(&mut self) {}

    /// Writes the action for `sensation` into `action` (of the task's action dimension).
    fn act(&mut self, sensation: &Sensation, action: &mut [f32]) -> anyhow::Result<()>;
}

/// Samples uniformly from the action space: a uniform choice per discrete dimension, a
/// uniform value within finite box bounds, and a standard normal where a bound is infinite.
pub struct RandomPolicy {
    space: ActionSpace,
    rng: ChaCha8Rng,
}

impl RandomPolicy {
    /// A random policy for `space`, seeded.
    pub fn new(space: ActionSpace, seed: u64) -> Self {
        RandomPolicy {
            space,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _sensation: &Sensation, action: &mut [f32]) -> anyhow::Result<()> {
        match &self.space {
            ActionSpace::Discrete { n } => action[0] = self.rng.random_range(0..*n) as f32,
            ActionSpace::MultiDiscrete { nvec } => {
                for (a, &n) in action.iter_mut().zip(nvec) {
                    *a = self.rng.random_range(0..n) as f32;
                }
            }
            ActionSpace::Box { low, high } => {
                for ((a, &lo), &hi) in action.iter_mut().zip(low).zip(high) {
                    *a = if lo.is_finite() && hi.is_finite() {
                        if lo == hi {
                            lo
                        } else {
                            self.rng.random_range(lo..=hi)
                        }
                    } else {
                        let z: f32 = self.rng.sample(StandardNormal);
                        if lo.is_finite() {
                            lo + z.abs()
                        } else if hi.is_finite() {
                            hi - z.abs()
                        } else {
                            z
                        }
                    };
                }
            }
        }
        Ok(())
    }
}

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Number of episodes.
    pub episodes: u32,
    /// Seed of the first reset; later episodes continue the task's random stream.
    pub seed: u64,
    /// Cut episodes after this many steps, for tasks that declare no limit of their own.
    pub step_cap: u32,
}

/// The summary `angora eval` prints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalReport {
    /// The task's name.
    pub task: String,
    /// Number of episodes.
    pub episodes: u32,
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Standard deviation of the returns (population, as numpy's default).
    pub std_return: f64,
    /// Smallest return.
    pub min_return: f64,
    /// Largest return.
    pub max_return: f64,
    /// Mean episode length in steps.
    pub mean_length: f64,
    /// Per metric, the mean over episodes of its per-episode aggregate.
    pub metrics: BTreeMap<String, f64>,
    /// Total environment steps.
    pub steps: u64,
    /// Environment steps per second of wall time (policy included).
    pub steps_per_second: f64,
}

/// Why an evaluation stopped.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// The task failed.
    #[error(transparent)]
    Task(#[from] CallError),
    /// The policy failed.
    #[error("the policy failed: {0:#}")]
    Policy(anyhow::Error),
}

/// Runs `options.episodes` episodes; `on_episode` is called after each with its index.
pub fn evaluate(
    env: &mut EnvStack,
    policy: &mut dyn Policy,
    options: &EvalOptions,
    on_episode: &mut dyn FnMut(u32),
) -> Result<EvalReport, EvalError> {
    let spec = env.task().spec().clone();
    let mut action = vec![0.0f32; spec.action_space.action_dim()];
    let mut sensation = Sensation::default();
    let (mut returns, mut lengths) = (Vec::new(), Vec::new());
    let mut metric_totals = vec![0.0; spec.metrics.len()];
    let cap = spec.max_episode_steps.unwrap_or(options.step_cap);
    let started = Instant::now();

    for episode in 0..options.episodes {
        let seed = (episode == 0).then_some(options.seed);
        sensation.clone_from(env.reset(seed)?);
        policy.start_episode();
        let (mut total, mut length) = (0.0, 0u32);
        let mut aggregates: Vec<f64> = spec.metrics.iter().map(|m| m.aggregate.initial()).collect();
        loop {
            policy
                .act(&sensation, &mut action)
                .map_err(EvalError::Policy)?;
            let out = env.step(&action)?;
            total += out.reward;
            length += 1;
            for ((agg, m), &v) in aggregates.iter_mut().zip(&spec.metrics).zip(out.metrics) {
                *agg = m.aggregate.fold(*agg, v);
            }
            let done = out.terminated || out.truncated || length >= cap;
            sensation.clone_from(out.sensation);
            if done {
                break;
            }
        }
        for ((sum, m), agg) in metric_totals.iter_mut().zip(&spec.metrics).zip(aggregates) {
            *sum += m.aggregate.finish(agg, length);
        }
        returns.push(total);
        lengths.push(length);
        on_episode(episode);
    }

    let n = f64::from(options.episodes.max(1));
    let mean = returns.iter().sum::<f64>() / n;
    let variance = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    let steps: u64 = lengths.iter().map(|&l| u64::from(l)).sum();
    let seconds = started.elapsed().as_secs_f64();
    Ok(EvalReport {
        task: env.task().ident().name.clone(),
        episodes: options.episodes,
        mean_return: mean,
        std_return: variance.sqrt(),
        min_return: returns.iter().copied().fold(f64::INFINITY, f64::min),
        max_return: returns.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        mean_length: steps as f64 / n,
        metrics: spec
            .metrics
            .iter()
            .zip(metric_totals)
            .map(|(m, t)| (m.name.clone(), t / n))
            .collect(),
        steps,
        steps_per_second: if seconds > 0.0 {
            steps as f64 / seconds
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_policy_stays_in_the_space() {
        let space = ActionSpace::Box {
            low: vec![-2.0, 0.0, f32::NEG_INFINITY],
            high: vec![2.0, f32::INFINITY, 1.0],
        };
        let mut policy = RandomPolicy::new(space.clone(), 1);
        let mut action = [0.0; 3];
        for _ in 0..1000 {
            policy.act(&Sensation::default(), &mut action).unwrap();
            assert!((-2.0..=2.0).contains(&action[0]));
            assert!(action[1] >= 0.0 && action[2] <= 1.0);
            space.check(&action).unwrap();
        }
        let mut policy = RandomPolicy::new(ActionSpace::MultiDiscrete { nvec: vec![3, 11] }, 2);
        let mut seen = [false; 11];
        for _ in 0..2000 {
            policy.act(&Sensation::default(), &mut action[..2]).unwrap();
            seen[action[1] as usize] = true;
            assert!(action[0] < 3.0);
        }
        assert!(seen.iter().all(|&s| s), "every bin is drawn");
    }
}
