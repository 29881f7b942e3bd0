//! The training configuration: every hyperparameter of a run, built from layers (the base
//! defaults, a named preset, a TOML file, command-line flags, `--set` overrides) and validated
//! before anything starts.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A component by name with the config keys to override in its defaults.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The component's name.
    pub name: String,
    /// Keys to override in the component's default config.
    #[serde(default = "empty_object")]
    pub config: Value,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// How the learning rate changes over a run.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// Constant.
    Constant,
    /// Linearly to zero at the end of the run.
    Linear,
    /// Multiplied by 0.98 after every cycle (AngoraPy's exponential schedule, per cycle).
    Exponential,
}

/// Proximal policy optimisation (Schulman et al. 2017) with generalised advantage estimation
/// (Schulman et al. 2016).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PpoConfig {
    /// Passes over each cycle's data.
    pub epochs: u32,
    /// Transitions per minibatch.
    pub minibatch_size: u32,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// How the learning rate changes.
    pub lr_schedule: LrSchedule,
    /// Adam's epsilon.
    pub adam_epsilon: f64,
    /// Discount factor gamma.
    pub discount: f64,
    /// GAE's lambda.
    pub gae_lambda: f64,
    /// The clipping range epsilon of the probability ratio.
    pub clip: f64,
    /// Clip value updates to the same range around the old values (PPO2 style).
    pub clip_value: bool,
    /// Weight of the value loss.
    pub value_coef: f64,
    /// Weight of the entropy bonus.
    pub entropy_coef: f64,
    /// Clip the global gradient norm to this value (none: no clipping).
    pub max_grad_norm: Option<f64>,
    /// Normalise advantages to zero mean and unit variance over each cycle's batch.
    pub normalize_advantages: bool,
    /// Bootstrap a truncated episode's return from the value of its last state (false: treat
    /// truncation as termination, as AngoraPy does).
    pub bootstrap_truncation: bool,
    /// Recurrent models: the length L of the chunks trajectories are cut into for truncated
    /// backpropagation through time. The horizon and the minibatch size must be multiples of
    /// it.
    pub tbptt_length: u32,
}

/// Experience gathering.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GatherConfig {
    /// Worker threads.
    pub workers: u32,
    /// Environments per worker, stepped in lockstep with batched inference.
    pub envs_per_worker: u32,
    /// Steps per environment per cycle.
    pub horizon: u32,
}

/// Running normalisation of observations and rewards.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NormalizationConfig {
    /// Normalise vector senses to zero mean and unit variance with running statistics.
    pub state: bool,
    /// Scale rewards by the running standard deviation of a discounted return.
    pub reward: bool,
    /// Clip normalised values to this magnitude.
    pub clip: f64,
    /// The discount of the return whose spread scales rewards (AngoraPy fixes it at 0.99).
    pub reward_discount: f64,
}

/// The full configuration of a training run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Environment steps to train for.
    pub steps: u64,
    /// The seed of everything random in the run.
    pub seed: u64,
    /// Save a numbered checkpoint every this many cycles (0: only `last` and `best`).
    pub save_every: u32,
    /// The task.
    pub task: Choice,
    /// The body, for tasks that compose one.
    pub body: Option<Choice>,
    /// Sensation encoders, applied in order.
    pub encoders: Vec<Choice>,
    /// The model architecture.
    pub model: Choice,
    /// The policy distribution (none: chosen from the action space).
    pub distribution: Option<Choice>,
    /// PPO hyperparameters.
    pub ppo: PpoConfig,
    /// Experience gathering.
    pub gather: GatherConfig,
    /// Observation and reward normalisation.
    pub normalization: NormalizationConfig,
}

/// The defaults every run starts from, before a preset and the user's settings.
pub fn base_config() -> Value {
    serde_json::json!({
        "steps": 1_000_000,
        "seed": 0,
        "save_every": 0,
        "task": { "name": "CartPole-v1", "config": {} },
        "body": null,
        "encoders": [],
        "model": { "name": "simple", "config": {} },
        "distribution": null,
        "ppo": {
            "epochs": 10,
            "minibatch_size": 64,
            "learning_rate": 3e-4,
            "lr_schedule": "constant",
            "adam_epsilon": 1e-5,
            "discount": 0.99,
            "gae_lambda": 0.95,
            "clip": 0.2,
            "clip_value": false,
            "value_coef": 0.5,
            "entropy_coef": 0.0,
            "max_grad_norm": 0.5,
            "normalize_advantages": true,
            "bootstrap_truncation": true,
            "tbptt_length": 16
        },
        "gather": { "workers": 1, "envs_per_worker": 8, "horizon": 256 },
        "normalization": { "state": true, "reward": true, "clip": 10.0, "reward_discount": 0.99 }
    })
}

/// A named preset: a TOML table of overrides.
pub struct Preset {
    /// The name used with `--preset`.
    pub name: &'static str,
    /// One line on what it is for.
    pub summary: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

macro_rules! preset {
    ($name:literal, $summary:literal) => {
        Preset {
            name: $name,
            summary: $summary,
            text: include_str!(concat!("../../presets/", $name, ".toml")),
        }
    };
}

/// The presets shipped with the host (AngoraPy's named configurations and a few of ours).
pub const PRESETS: &[Preset] = &[
    preset!(
        "default",
        "the base settings: 8 environments x 256 steps per cycle, Adam 3e-4"
    ),
    preset!(
        "cartpole",
        "tuned for CartPole: solves CartPole-v1 within 100k steps"
    ),
    preset!(
        "cartpole_recurrent",
        "tuned for recurrent policies on CartPoleNoVel: simple-gru, 8 x 128 steps, reward scaling"
    ),
    preset!(
        "acrobot",
        "tuned for Acrobot: 8 x 256 steps per cycle, minibatches of 256, no entropy bonus"
    ),
    preset!(
        "discrete",
        "AngoraPy's discrete preset: 8 workers x 2048 steps, 10 epochs, batch 128"
    ),
    preset!(
        "continuous",
        "AngoraPy's continuous preset: 8 workers x 2048 steps, batch 512, no entropy"
    ),
    preset!("continuous_beta", "continuous with the Beta distribution"),
    preset!(
        "pendulum",
        "AngoraPy's pendulum preset: 8 workers x 512 steps, batch 512"
    ),
    preset!("pendulum_beta", "pendulum with the Beta distribution"),
    preset!(
        "mountaincar_continuous",
        "continuous control with sparse goal reward: Gaussian, entropy bonus"
    ),
    preset!(
        "mujoco",
        "AngoraPy's mujoco preset: 1 worker x 2048 steps, batch 64, 10 epochs"
    ),
    preset!("mujoco_beta", "mujoco with the Beta distribution"),
    preset!(
        "inverted_double_pendulum",
        "tuned for InvertedDoublePendulum: mujoco_beta with 8 x 256 steps, batch 256, linear LR decay"
    ),
    preset!(
        "beta_paper",
        "AngoraPy's beta_paper preset: discount 0.995, entropy 0.001"
    ),
];

/// The preset a task trains with when none is given.
pub fn recommended_preset(task: &str) -> &'static str {
    match task {
        "CartPole-v1" | "CartPoleNoVel-v1" => "cartpole",
        "Acrobot-v1" => "acrobot",
        "MountainCar-v0" => "discrete",
        "MountainCarContinuous-v0" => "mountaincar_continuous",
        "Pendulum-v1" | "PendulumNoVel-v1" => "pendulum_beta",
        "InvertedDoublePendulum-v5" | "InvertedDoublePendulumNoVel-v5" => {
            "inverted_double_pendulum"
        }
        t if t.ends_with("-v5") => "mujoco_beta",
        _ => "default",
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A TOML file does not parse.
    #[error("{file}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The merged configuration has a bad key or value.
    #[error("config key '{key}': {message}")]
    Value {
        /// The dotted path of the key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A preset name is unknown.
    #[error("unknown preset '{0}'; available: {1}")]
    UnknownPreset(String, String),
}

/// Parses TOML text into JSON, naming the file and line on a syntax error.
pub fn parse_toml(file: &str, text: &str) -> Result<Value, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        file: file.into(),
        message: e.to_string(),
    })?;
    serde_json::to_value(table).map_err(|e| ConfigError::Syntax {
        file: file.into(),
        message: e.to_string(),
    })
}

/// The preset's overrides.
pub fn preset(name: &str) -> Result<Value, ConfigError> {
    let preset = PRESETS.iter().find(|p| p.name == name).ok_or_else(|| {
        ConfigError::UnknownPreset(
            name.into(),
            PRESETS
                .iter()
                .map(|p| p.name)
                .collect::<Vec<_>>()
                .join(", "),
        )
    })?;
    parse_toml(&format!("preset {name}"), preset.text)
}

/// Reads a TOML config file.
pub fn read_file(path: &Path) -> Result<Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Syntax {
        file: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_toml(&path.display().to_string(), &text)
}

/// Merges `overrides` into `base`: objects key by key, recursively; anything else replaces.
/// A component's `config` table is merged too, so a preset can set some keys and a user
/// others.
pub fn merge(base: &mut Value, overrides: Value) {
    match (base, overrides) {
        (Value::Object(base), Value::Object(overrides)) => {
            for (key, value) in overrides {
                match base.get_mut(&key) {
                    Some(slot) if slot.is_object() && value.is_object() => merge(slot, value),
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// Turns the merged JSON into a checked configuration; errors name the key.
pub fn finish(value: Value) -> Result<TrainConfig, ConfigError> {
    let config: TrainConfig =
        serde_path_to_error::deserialize(value).map_err(|e| ConfigError::Value {
            key: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
    config.validate()?;
    Ok(config)
}

fn range(key: &str, ok: bool, message: &str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Value {
            key: key.into(),
            message: message.into(),
        })
    }
}

impl TrainConfig {
    /// Checks value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.ppo;
        let g = &self.gather;
        let n = &self.normalization;
        range("steps", self.steps > 0, "must be at least 1")?;
        range("ppo.epochs", p.epochs > 0, "must be at least 1")?;
        range(
            "ppo.minibatch_size",
            p.minibatch_size > 0,
            "must be at least 1",
        )?;
        range(
            "ppo.learning_rate",
            p.learning_rate.is_finite() && p.learning_rate > 0.0,
            "must be positive",
        )?;
        range(
            "ppo.adam_epsilon",
            p.adam_epsilon.is_finite() && p.adam_epsilon > 0.0,
            "must be positive",
        )?;
        range(
            "ppo.discount",
            (0.0..=1.0).contains(&p.discount),
            "must be in [0, 1]",
        )?;
        range(
            "ppo.gae_lambda",
            (0.0..=1.0).contains(&p.gae_lambda),
            "must be in [0, 1]",
        )?;
        range(
            "ppo.clip",
            p.clip.is_finite() && p.clip > 0.0,
            "must be positive",
        )?;
        range(
            "ppo.value_coef",
            p.value_coef.is_finite() && p.value_coef >= 0.0,
            "must be non-negative",
        )?;
        range(
            "ppo.entropy_coef",
            p.entropy_coef.is_finite(),
            "must be finite",
        )?;
        if let Some(norm) = p.max_grad_norm {
            range(
                "ppo.max_grad_norm",
                norm.is_finite() && norm > 0.0,
                "must be positive (or absent for no clipping)",
            )?;
        }
        range(
            "gather.workers",
            (1..=256).contains(&g.workers),
            "must be in 1..=256",
        )?;
        range(
            "gather.envs_per_worker",
            (1..=4096).contains(&g.envs_per_worker),
            "must be in 1..=4096",
        )?;
        range("gather.horizon", g.horizon > 0, "must be at least 1")?;
        range(
            "ppo.tbptt_length",
            (1..=65_536).contains(&p.tbptt_length),
            "must be in 1..=65536",
        )?;
        range(
            "normalization.clip",
            n.clip.is_finite() && n.clip > 0.0,
            "must be positive",
        )?;
        range(
            "normalization.reward_discount",
            (0.0..1.0).contains(&n.reward_discount),
            "must be in [0, 1)",
        )?;
        let batch = self.steps_per_cycle();
        range(
            "ppo.minibatch_size",
            u64::from(p.minibatch_size) <= batch,
            &format!(
                "is larger than a cycle's batch of {batch} transitions (workers x envs_per_worker x horizon)"
            ),
        )?;
        for (key, choice) in [
            ("task", Some(&self.task)),
            ("model", Some(&self.model)),
            ("body", self.body.as_ref()),
            ("distribution", self.distribution.as_ref()),
        ] {
            if let Some(choice) = choice {
                range(
                    &format!("{key}.config"),
                    choice.config.is_object(),
                    "must be a table",
                )?;
            }
        }
        Ok(())
    }

    /// Transitions gathered per cycle.
    pub fn steps_per_cycle(&self) -> u64 {
        u64::from(self.gather.workers)
            * u64::from(self.gather.envs_per_worker)
            * u64::from(self.gather.horizon)
    }

    /// Cycles needed to reach `steps`.
    pub fn cycles(&self) -> u64 {
        self.steps.div_ceil(self.steps_per_cycle())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_validates() {
        for p in PRESETS {
            let mut value = base_config();
            merge(&mut value, preset(p.name).unwrap());
            finish(value).unwrap_or_else(|e| panic!("preset {}: {e}", p.name));
        }
    }

    #[test]
    fn errors_name_the_key() {
        let mut value = base_config();
        merge(
            &mut value,
            serde_json::json!({"ppo": {"learning_rat": 0.1}}),
        );
        let err = finish(value).unwrap_err().to_string();
        assert!(err.contains("ppo") && err.contains("learning_rat"), "{err}");
        let mut value = base_config();
        merge(&mut value, serde_json::json!({"ppo": {"discount": 1.5}}));
        assert!(
            finish(value)
                .unwrap_err()
                .to_string()
                .contains("ppo.discount")
        );
        let err = parse_toml("x.toml", "[ppo]\nepochs = = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.toml") && err.contains("line 2"), "{err}");
    }
}
