//! Declarations that cross the boundary as JSON text: what a task observes and accepts, what a
//! body offers, what an encoder produces, what a distribution's head looks like.
//!
//! These are read once when a component is set up, never per step, so they are serde types:
//! they can grow new optional fields without breaking the binary layout, and a malformed
//! declaration gets an error that names the field.

use serde::{Deserialize, Serialize};

/// The five senses of a [`Sensation`](crate::Sensation) a model may consume, in canonical order.
///
/// Any other sense name is an *extra*: tasks may provide extras (for example a raw object
/// pose) for encoders to turn into one of the five senses, but models only read these five.
pub const SENSE_NAMES: [&str; 5] = ["vision", "touch", "proprioception", "goal", "asymmetric"];

/// The sense that carries privileged information for the value function only.
pub const ASYMMETRIC: &str = "asymmetric";

/// Whether `name` is one of the five standard senses.
pub fn is_standard_sense(name: &str) -> bool {
    SENSE_NAMES.contains(&name)
}

/// How the values of a sense are to be read.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// Real numbers.
    #[default]
    F32,
    /// Integers in `0..=255` (image pixels), carried as `f32`.
    U8,
}

/// One declared sense: its name, shape and dtype.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SenseSpec {
    /// `vision`, `touch`, `proprioception`, `goal`, `asymmetric`, or an extra's name.
    pub name: String,
    /// The shape, without batch or time dimensions. Images are `[height, width, channels]`.
    pub shape: Vec<u32>,
    /// How to read the values.
    #[serde(default)]
    pub dtype: DType,
}

impl SenseSpec {
    /// A rank-1 `f32` sense of `len` values.
    pub fn vector(name: impl Into<String>, len: u32) -> Self {
        SenseSpec {
            name: name.into(),
            shape: vec![len],
            dtype: DType::F32,
        }
    }

    /// The number of values in one observation of this sense.
    pub fn len(&self) -> usize {
        self.shape.iter().map(|&d| d as usize).product()
    }

    /// Whether the sense holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The actions a task accepts.
///
/// Actions always cross the boundary as a flat `f32` slice of [`ActionSpace::action_dim`]
/// values; discrete choices are carried as exact integers (`0.0`, `1.0`, ...).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionSpace {
    /// One choice among `n`.
    Discrete {
        /// Number of choices.
        n: u32,
    },
    /// One choice per dimension; dimension `i` has `nvec[i]` choices.
    MultiDiscrete {
        /// Choices per dimension.
        nvec: Vec<u32>,
    },
    /// A real vector with per-dimension bounds (`f32::INFINITY` for unbounded).
    Box {
        /// Lower bounds.
        low: Vec<f32>,
        /// Upper bounds.
        high: Vec<f32>,
    },
}

impl ActionSpace {
    /// The number of `f32` values in one action.
    pub fn action_dim(&self) -> usize {
        match self {
            ActionSpace::Discrete { .. } => 1,
            ActionSpace::MultiDiscrete { nvec } => nvec.len(),
            ActionSpace::Box { low, .. } => low.len(),
        }
    }

    /// Checks one action and says what is wrong with it, if anything.
    pub fn check(&self, action: &[f32]) -> Result<(), String> {
        if action.len() != self.action_dim() {
            return Err(format!(
                "action has {} values, the action space needs {}",
                action.len(),
                self.action_dim()
            ));
        }
        let check_choice = |i: usize, value: f32, n: u32| {
            if !(value.is_finite() && value.fract() == 0.0 && value >= 0.0 && value < n as f32) {
                Err(format!("action[{i}] = {value} is not a choice in 0..{n}"))
            } else {
                Ok(())
            }
        };
        match self {
            ActionSpace::Discrete { n } => check_choice(0, action[0], *n),
            ActionSpace::MultiDiscrete { nvec } => nvec
                .iter()
                .zip(action)
                .enumerate()
                .try_for_each(|(i, (&n, &v))| check_choice(i, v, n)),
            ActionSpace::Box { .. } => match action.iter().position(|v| v.is_nan()) {
                Some(i) => Err(format!("action[{i}] is NaN")),
                None => Ok(()),
            },
        }
    }

    /// Checks that the declaration itself is consistent.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ActionSpace::Discrete { n } if *n == 0 => Err("a discrete space needs n >= 1".into()),
            ActionSpace::MultiDiscrete { nvec } if nvec.is_empty() || nvec.contains(&0) => {
                Err("a multi-discrete space needs at least one dimension, each with n >= 1".into())
            }
            ActionSpace::Box { low, high } => {
                if low.len() != high.len() || low.is_empty() {
                    return Err(format!(
                        "a box space needs matching, non-empty bounds (low has {}, high has {})",
                        low.len(),
                        high.len()
                    ));
                }
                match low
                    .iter()
                    .zip(high)
                    .position(|(l, h)| l.is_nan() || h.is_nan() || l > h)
                {
                    Some(i) => Err(format!(
                        "box bound {i} is invalid: low {} high {}",
                        low[i], high[i]
                    )),
                    None => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// How the per-step values of a metric are folded into one number per episode.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MetricAggregate {
    /// The value at the last step (counters such as `goals_reached`).
    #[default]
    Last,
    /// The sum over the episode (reward terms).
    Sum,
    /// The mean over the episode's steps (rates such as `success`).
    Mean,
    /// The largest value seen.
    Max,
}

impl MetricAggregate {
    /// The value an episode's aggregate starts from.
    pub fn initial(self) -> f64 {
        if self == MetricAggregate::Max {
            f64::NEG_INFINITY
        } else {
            0.0
        }
    }

    /// Folds one step's value into the aggregate.
    pub fn fold(self, aggregate: f64, value: f64) -> f64 {
        match self {
            MetricAggregate::Last => value,
            MetricAggregate::Sum | MetricAggregate::Mean => aggregate + value,
            MetricAggregate::Max => aggregate.max(value),
        }
    }

    /// The episode's value from the aggregate after `steps` steps.
    pub fn finish(self, aggregate: f64, steps: u32) -> f64 {
        if self == MetricAggregate::Mean {
            aggregate / f64::from(steps.max(1))
        } else {
            aggregate
        }
    }
}

/// A named per-step number a task reports besides the reward.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// The metric's name, for example `goals_reached`.
    pub name: String,
    /// How steps are folded into one value per episode.
    #[serde(default)]
    pub aggregate: MetricAggregate,
}

/// Everything the host needs to know about a task before the first step.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The senses each observation carries, in buffer order.
    pub senses: Vec<SenseSpec>,
    /// The actions the task accepts.
    pub action_space: ActionSpace,
    /// The step at which the task truncates an episode, if it does.
    #[serde(default)]
    pub max_episode_steps: Option<u32>,
    /// The mean return at which the task counts as solved, if there is one.
    #[serde(default)]
    pub reward_threshold: Option<f64>,
    /// The per-step metrics, in the order of [`StepOutput::metrics`](crate::StepOutput).
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    /// Simulated seconds per step, if the task has a notion of time.
    #[serde(default)]
    pub dt: Option<f64>,
}

impl TaskSpec {
    /// Checks that the declaration is consistent: sense names are unique and non-empty,
    /// shapes have no zero dimension, and the action space is valid.
    pub fn validate(&self) -> Result<(), String> {
        if self.senses.is_empty() {
            return Err("a task must declare at least one sense".into());
        }
        validate_senses(&self.senses)?;
        self.action_space
            .validate()
            .map_err(|e| format!("action space: {e}"))?;
        let mut names: Vec<&str> = self.metrics.iter().map(|m| m.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("metric '{}' is declared twice", w[0]));
        }
        Ok(())
    }
}

/// Checks a list of sense declarations: unique non-empty names, non-empty shapes.
pub fn validate_senses(senses: &[SenseSpec]) -> Result<(), String> {
    for (i, sense) in senses.iter().enumerate() {
        if sense.name.is_empty() {
            return Err(format!("sense {i} has an empty name"));
        }
        if sense.shape.is_empty() || sense.shape.contains(&0) {
            return Err(format!(
                "sense '{}' has an empty shape {:?}",
                sense.name, sense.shape
            ));
        }
        if senses[..i].iter().any(|s| s.name == sense.name) {
            return Err(format!("sense '{}' is declared twice", sense.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_aggregates_fold_an_episode() {
        let steps = [2.0, -1.0, 5.0, 0.5];
        let fold = |kind: MetricAggregate| {
            let total = steps
                .iter()
                .fold(kind.initial(), |acc, &v| kind.fold(acc, v));
            kind.finish(total, steps.len() as u32)
        };
        assert_eq!(fold(MetricAggregate::Last), 0.5);
        assert_eq!(fold(MetricAggregate::Sum), 6.5);
        assert_eq!(fold(MetricAggregate::Mean), 1.625);
        assert_eq!(fold(MetricAggregate::Max), 5.0);
    }

    #[test]
    fn actions_are_checked_against_the_space() {
        let space = ActionSpace::MultiDiscrete { nvec: vec![3, 2] };
        assert!(space.check(&[2.0, 1.0]).is_ok());
        assert!(space.check(&[3.0, 0.0]).unwrap_err().contains("action[0]"));
        assert!(space.check(&[0.5, 0.0]).is_err());
        assert!(space.check(&[0.0]).unwrap_err().contains("1 values"));
        let boxed = ActionSpace::Box {
            low: vec![-1.0],
            high: vec![1.0],
        };
        assert!(boxed.check(&[f32::NAN]).unwrap_err().contains("NaN"));
        assert!(
            ActionSpace::Box {
                low: vec![1.0],
                high: vec![0.0]
            }
            .validate()
            .is_err()
        );
    }
}
