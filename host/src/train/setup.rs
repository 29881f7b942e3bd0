//! Composing a run's components from its configuration: the environment stack (body, task,
//! sensation encoders), the distribution bound to the action space, and the checked model.

use angora_plugin_api::{
    ActionSpace, DistributionHead, ModelRequest, Sensation, SenseSpec, StepOutput,
    is_standard_sense,
};
use serde::Serialize;
use serde_json::Value;

use super::config::{Choice, TrainConfig};
use crate::{
    model::{self, CheckedModel, SpecError},
    plugin::{
        BodyInstance, CallError, DistributionInstance, EncoderInstance, Registry, RegistryError,
        TaskInstance,
    },
};

/// Why the components of a run cannot be put together.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A component is unknown, ambiguous or refused its config.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A component failed while being set up.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The model spec does not fit the inputs or the distribution.
    #[error("model '{model}': {error}")]
    Spec {
        /// The architecture.
        model: String,
        /// What is wrong.
        error: SpecError,
    },
    /// The components do not fit together.
    #[error("{0}")]
    Mismatch(String),
}

impl SetupError {
    /// Whether the error is bad input (exit code 2) rather than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        match self {
            SetupError::Registry(e) => e.is_bad_input(),
            SetupError::Call(e) => e.is_bad_input(),
            SetupError::Spec { .. } | SetupError::Mismatch(_) => true,
        }
    }
}

/// Where a component came from, recorded in a run's config.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `task`, `body`, `encoder`, `model` or `distribution`.
    pub role: &'static str,
    /// The component's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The library file.
    pub file: String,
    /// The library's SHA-256.
    pub sha256: String,
}

/// A task with its body and encoders: resets and steps return the encoded sensation.
pub struct EnvStack {
    task: TaskInstance,
    encoders: Vec<EncoderInstance>,
    senses: Vec<SenseSpec>,
    out: StepOutput,
    reset: Sensation,
    stages: Vec<Sensation>,
}

/// What one step of an [`EnvStack`] produced.
pub struct Transition<'a> {
    /// The encoded sensation after the step.
    pub sensation: &'a Sensation,
    /// The task's reward.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut off.
    pub truncated: bool,
    /// The task's metric values.
    pub metrics: &'a [f64],
}

impl EnvStack {
    /// A stack of just a task, without encoders.
    pub fn from_task(task: TaskInstance) -> EnvStack {
        let senses = task.spec().senses.clone();
        let raw = senses.len();
        EnvStack {
            task,
            encoders: Vec::new(),
            senses,
            out: StepOutput::default(),
            reset: Sensation::with_senses(raw),
            stages: Vec::new(),
        }
    }

    /// The encoded senses, in buffer order.
    pub fn senses(&self) -> &[SenseSpec] {
        &self.senses
    }

    /// The task.
    pub fn task(&self) -> &TaskInstance {
        &self.task
    }

    fn encode(
        encoders: &mut [EncoderInstance],
        stages: &mut [Sensation],
        raw: &Sensation,
    ) -> Result<(), CallError> {
        for i in 0..encoders.len() {
            let (done, rest) = stages.split_at_mut(i);
            let input = if i == 0 { raw } else { &done[i - 1] };
            encoders[i].encode(input, &mut rest[0])?;
        }
        Ok(())
    }

    /// Starts an episode; returns the encoded first sensation.
    pub fn reset(&mut self, seed: Option<u64>) -> Result<&Sensation, CallError> {
        self.task.reset(seed, &mut self.reset)?;
        Self::encode(&mut self.encoders, &mut self.stages, &self.reset)?;
        Ok(self.stages.last().unwrap_or(&self.reset))
    }

    /// Applies an action.
    pub fn step(&mut self, action: &[f32]) -> Result<Transition<'_>, CallError> {
        self.task.step(action, &mut self.out)?;
        Self::encode(&mut self.encoders, &mut self.stages, &self.out.sensation)?;
        Ok(Transition {
            sensation: self.stages.last().unwrap_or(&self.out.sensation),
            reward: self.out.reward,
            terminated: self.out.terminated,
            truncated: self.out.truncated,
            metrics: &self.out.metrics,
        })
    }
}

/// The distribution a task trains with when the config names none: categorical for discrete
/// spaces, multi-categorical for multi-discrete ones, Beta for bounded boxes and Gaussian for
/// unbounded ones.
pub fn default_distribution(space: &ActionSpace) -> &'static str {
    match space {
        ActionSpace::Discrete { .. } => "categorical",
        ActionSpace::MultiDiscrete { .. } => "multi-categorical",
        ActionSpace::Box { low, high } if low.iter().chain(high).all(|v| v.is_finite()) => "beta",
        ActionSpace::Box { .. } => "gaussian",
    }
}

/// Everything a run needs to create environments, distributions and networks.
pub struct Setup<'r> {
    registry: &'r Registry,
    config: TrainConfig,
    body: Option<BodyInstance>,
    /// The encoded senses the environments produce.
    pub senses: Vec<SenseSpec>,
    /// The task's action space.
    pub action_space: ActionSpace,
    /// The distribution's name.
    pub distribution: String,
    /// The distribution's head.
    pub head: DistributionHead,
    /// The checked model.
    pub model: CheckedModel,
    /// Where each component came from.
    pub provenance: Vec<Provenance>,
    /// The task's episode step limit.
    pub max_episode_steps: Option<u32>,
    /// Names of the task's metrics.
    pub metric_names: Vec<String>,
}

fn provenance(registry: &Registry, role: &'static str, name: &str) -> Option<Provenance> {
    registry.find(name).map(|info| Provenance {
        role,
        name: info.name.clone(),
        version: info.version.clone(),
        file: info.library.path.display().to_string(),
        sha256: info.library.sha256.clone(),
    })
}

impl<'r> Setup<'r> {
    /// Creates one of each component, checks that they fit, and keeps what is needed to make
    /// more.
    pub fn new(registry: &'r Registry, config: &TrainConfig) -> Result<Setup<'r>, SetupError> {
        let body = match &config.body {
            Some(choice) => Some(registry.body(&choice.name, &choice.config)?),
            None => None,
        };
        let mut config = config.clone();
        let mut env = make_env(registry, &config, body.as_ref())?;
        let spec = env.task().spec().clone();
        let distribution_choice = config.distribution.clone().unwrap_or_else(|| Choice {
            name: default_distribution(&spec.action_space).into(),
            config: Value::Object(Default::default()),
        });
        config.distribution = Some(distribution_choice.clone());
        let mut distribution =
            registry.distribution(&distribution_choice.name, &distribution_choice.config)?;
        let head = distribution.bind(&spec.action_space)?;
        let inputs: Vec<SenseSpec> = env
            .senses()
            .iter()
            .filter(|s| is_standard_sense(&s.name))
            .cloned()
            .collect();
        if inputs.is_empty() {
            let names: Vec<&str> = env.senses().iter().map(|s| s.name.as_str()).collect();
            return Err(SetupError::Mismatch(format!(
                "task '{}' provides no sense a model can read (it provides {names:?}); add an encoder that maps them to vision, touch, proprioception, goal or asymmetric",
                config.task.name
            )));
        }
        let architecture = registry.model(&config.model.name, &config.model.config)?;
        let request = ModelRequest {
            inputs: inputs.clone(),
            policy_params: head.param_size() as u32,
        };
        let spec_graph = architecture.build(&request)?;
        let model =
            model::check(&spec_graph, &inputs, &head).map_err(|error| SetupError::Spec {
                model: config.model.name.clone(),
                error,
            })?;
        if model.is_recurrent() {
            let l = config.ppo.tbptt_length;
            for (key, value) in [
                ("gather.horizon", config.gather.horizon),
                ("ppo.minibatch_size", config.ppo.minibatch_size),
            ] {
                if value % l != 0 {
                    return Err(SetupError::Mismatch(format!(
                        "model '{}' is recurrent, so {key} ({value}) must be a multiple of ppo.tbptt_length ({l}): trajectories are cut into chunks of that length",
                        config.model.name
                    )));
                }
            }
        }
        // One reset proves the stack produces what it declares.
        env.reset(Some(config.seed))?;

        let mut provenance_list = Vec::new();
        provenance_list.extend(provenance(registry, "task", &config.task.name));
        if let Some(b) = &config.body {
            provenance_list.extend(provenance(registry, "body", &b.name));
        }
        for e in &config.encoders {
            provenance_list.extend(provenance(registry, "encoder", &e.name));
        }
        provenance_list.extend(provenance(registry, "model", &config.model.name));
        provenance_list.extend(provenance(
            registry,
            "distribution",
            &distribution_choice.name,
        ));
        Ok(Setup {
            registry,
            senses: env.senses().to_vec(),
            action_space: spec.action_space.clone(),
            distribution: distribution_choice.name,
            head,
            model,
            provenance: provenance_list,
            max_episode_steps: spec.max_episode_steps,
            metric_names: spec.metrics.iter().map(|m| m.name.clone()).collect(),
            config,
            body,
        })
    }

    /// The configuration with defaults filled in (the chosen distribution).
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// A new environment stack.
    pub fn env(&self) -> Result<EnvStack, SetupError> {
        make_env(self.registry, &self.config, self.body.as_ref())
    }

    /// A new distribution instance, bound to the action space.
    pub fn distribution(&self) -> Result<DistributionInstance, SetupError> {
        let choice = self
            .config
            .distribution
            .as_ref()
            .expect("Setup::new fills in the distribution");
        let mut d = self.registry.distribution(&choice.name, &choice.config)?;
        d.bind(&self.action_space)?;
        Ok(d)
    }
}

fn make_env(
    registry: &Registry,
    config: &TrainConfig,
    body: Option<&BodyInstance>,
) -> Result<EnvStack, SetupError> {
    let task = registry.task(
        &config.task.name,
        &config.task.config,
        body.map(|b| b.description()),
    )?;
    let mut senses = task.spec().senses.clone();
    let mut encoders = Vec::new();
    for choice in &config.encoders {
        let mut encoder = registry.encoder(&choice.name, &choice.config)?;
        senses = encoder.configure(&senses)?;
        encoders.push(encoder);
    }
    let raw_senses = task.spec().senses.len();
    let stages = (0..encoders.len()).map(|_| Sensation::default()).collect();
    Ok(EnvStack {
        task,
        encoders,
        senses,
        out: StepOutput::default(),
        reset: Sensation::with_senses(raw_senses),
        stages,
    })
}
