//! A training run: the PPO loop over cycles (gather, estimate advantages, update), with the
//! run directory, metrics, checkpoints and resumption.
//!
//! ```text
//! for each cycle:
//!     weights -> every worker's actor
//!     gather: workers step their environments in parallel threads
//!     exchange the workers' normaliser statistics and episodes (over MPI processes, if any)
//!     merge the normaliser statistics, in worker order
//!     advantages and returns by GAE, per environment trajectory
//!     PPO update: epochs x minibatches, Adam on the flat parameters
//!         (with several processes: gradients summed over them, see `ppo::Learner::update`)
//!     append a metrics line; checkpoint `last` (and `best`, `cycle-N`), in the background
//! ```
//!
//! With K MPI processes each runs `gather.workers / K` of the workers; rank 0 alone writes the
//! run directory (docs/distributed.md).

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use angora_plugin_api::MetricAggregate;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::{
    actor::Actor,
    adam::Adam,
    backend::{BackendError, ComputeBackend},
    checkpoint::{self, Checkpoint, CheckpointError, Progress},
    comm::Communicator,
    config::{LrSchedule, TrainConfig},
    gae::{Trajectory, advantages},
    gather::{
        EnvSlot, Episode, EpisodeState, GatherContext, GatherError, RestoreError, Rollout, gather,
    },
    normalize::NormalizerState,
    ppo::{Batch, Learner, Sequences, UpdateError, UpdateStats},
    setup::{Provenance, Setup, SetupError},
    writer::{RunWriter, WriteError},
};
use crate::{
    nn::{CompileError, Network, params},
    plugin::{DistributionInstance, Registry},
};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The components could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The model could not be compiled.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Gathering failed.
    #[error("gathering failed in cycle {cycle}: {error}")]
    Gather {
        /// The cycle.
        cycle: u64,
        /// What failed.
        error: Box<GatherError>,
    },
    /// The update failed; for a divergence, the last good checkpoint is named.
    #[error("training stopped in cycle {cycle}: {error}; the last good checkpoint is {}", checkpoint.display())]
    Update {
        /// The cycle.
        cycle: u64,
        /// What failed.
        error: Box<UpdateError>,
        /// The last checkpoint written.
        checkpoint: PathBuf,
    },
    /// Reading or writing a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Writing the metrics failed.
    #[error("{}: {message}", path.display())]
    Metrics {
        /// The metrics file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Starting the environments failed.
    #[error("starting the environments failed: {0}")]
    Start(#[from] crate::plugin::CallError),
    /// An environment could not be put back into its checkpointed state.
    #[error("resuming failed: {0}")]
    Restore(#[from] RestoreError),
    /// The compute backend cannot be used.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The run cannot be split over the MPI processes as configured.
    #[error("{0}")]
    Processes(String),
    /// A resume asked for a step budget the run has already used.
    #[error("{0}")]
    Budget(String),
    /// The processes of an MPI run could not exchange their data.
    #[error("exchanging data between the MPI processes failed: {0}")]
    Exchange(String),
    /// The run directory cannot be used.
    #[error("run directory {}: {message}", path.display())]
    RunDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl TrainError {
    /// Whether the error is bad input (exit code 2) rather than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        match self {
            TrainError::Setup(e) => e.is_bad_input(),
            TrainError::Compile(_)
            | TrainError::RunDir { .. }
            | TrainError::Processes(_)
            | TrainError::Budget(_) => true,
            TrainError::Gather { error, .. } => {
                matches!(error.as_ref(), GatherError::Call(c) if c.is_bad_input())
            }
            TrainError::Start(c) => c.is_bad_input(),
            TrainError::Update { .. }
            | TrainError::Checkpoint(_)
            | TrainError::Metrics { .. }
            | TrainError::Exchange(_)
            | TrainError::Backend(_)
            | TrainError::Restore(_) => false,
        }
    }
}

/// What `config.json` in a run directory holds.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RunRecord {
    /// The version of the host that created the run.
    pub angora_version: String,
    /// The preset the configuration started from.
    pub preset: String,
    /// The fully resolved configuration.
    pub config: TrainConfig,
    /// Where each component came from.
    pub plugins: Value,
    /// When the run was created (RFC 3339, UTC).
    pub created: String,
    /// How many processes (MPI ranks) gathered and trained it at the start; a run may resume
    /// with any number that divides `gather.workers`, with the same results up to rounding.
    #[serde(default = "one")]
    pub processes: usize,
}

fn one() -> usize {
    1
}

/// How a run ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Cycles completed.
    pub cycles: u64,
    /// Environment steps taken.
    pub steps: u64,
    /// Episodes finished.
    pub episodes: u64,
    /// Mean return of the last cycle's episodes, if any finished.
    pub last_mean_return: Option<f64>,
    /// The best cycle mean return.
    pub best_return: Option<f64>,
    /// Wall-clock seconds of this invocation.
    pub seconds: f64,
}

/// Options that do not change the result (beyond float rounding).
pub struct RunOptions<'a> {
    /// Show a progress bar (on the first process only).
    pub progress: bool,
    /// Where the networks run.
    pub backend: ComputeBackend,
    /// The processes of the run.
    pub comm: &'a dyn Communicator,
}

struct Worker {
    slots: Vec<EnvSlot>,
    distribution: DistributionInstance,
}

/// The state of a run in progress.
pub struct Trainer<'r> {
    setup: Setup<'r>,
    config: TrainConfig,
    run_dir: PathBuf,
    learner: Learner,
    actor: Actor,
    workers: Vec<Worker>,
    update_distribution: DistributionInstance,
    normalizers: NormalizerState,
    progress: Progress,
    layout: Vec<params::ParamSlot>,
    metric_aggregates: Vec<MetricAggregate>,
    comm: &'r dyn Communicator,
    /// The global index of this process's first worker.
    first_worker: u32,
}

/// What the processes of a run exchange after gathering: per worker, in global worker order,
/// the normaliser increment and the finished episodes.
#[derive(Serialize, Deserialize, Clone)]
struct Gathered {
    increments: Vec<NormalizerState>,
    episodes: Vec<Vec<Episode>>,
}

/// Every process's `local`, in rank order; one process skips the encoding.
fn all_gather<T: Serialize + DeserializeOwned + Clone>(
    comm: &dyn Communicator,
    local: &T,
) -> Result<Vec<T>, TrainError> {
    if comm.size() == 1 {
        return Ok(vec![local.clone()]);
    }
    let bytes = serde_json::to_vec(local).map_err(|e| TrainError::Exchange(e.to_string()))?;
    comm.gather_bytes(&bytes)
        .iter()
        .map(|b| serde_json::from_slice(b).map_err(|e| TrainError::Exchange(e.to_string())))
        .collect()
}

impl From<WriteError> for TrainError {
    fn from(error: WriteError) -> Self {
        match error {
            WriteError::Checkpoint(e) => TrainError::Checkpoint(e),
            WriteError::Metrics { path, message } => TrainError::Metrics { path, message },
        }
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::RunDir {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A default run directory: `runs/<task>-<UTC time>-s<seed>`.
pub fn default_run_dir(config: &TrainConfig) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = stamp
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    PathBuf::from("runs").join(format!(
        "{}-{}-s{}",
        config.task.name,
        stamp.trim_end_matches('Z'),
        config.seed
    ))
}

impl<'r> Trainer<'r> {
    fn build(
        registry: &'r Registry,
        config: &TrainConfig,
        run_dir: &Path,
        checkpoint: Option<Checkpoint>,
        backend: ComputeBackend,
        comm: &'r dyn Communicator,
    ) -> Result<Self, TrainError> {
        let setup = Setup::new(registry, config)?;
        let config = setup.config().clone();
        let processes = comm.size() as u32;
        if !config.gather.workers.is_multiple_of(processes) {
            return Err(TrainError::Processes(format!(
                "gather.workers ({}) must be a multiple of the number of MPI processes ({processes}): the processes share the configured workers equally; pass --workers {processes} (or a multiple of it)",
                config.gather.workers
            )));
        }
        let local_workers = config.gather.workers / processes;
        let first_worker = comm.rank() as u32 * local_workers;
        let (train_device, inference_device) = backend.devices()?;
        let net = Network::new(&setup.model, &setup.head, config.seed, &train_device)?;
        let inference = Network::new(&setup.model, &setup.head, config.seed, &inference_device)?;
        let layout = params::layout(&net);
        let actor = Actor::new(inference, &setup.senses, &setup.head, inference_device);
        let metric_aggregates: Vec<MetricAggregate> = {
            let env = setup.env()?;
            env.task()
                .spec()
                .metrics
                .iter()
                .map(|m| m.aggregate)
                .collect()
        };
        let envs_total = (config.gather.workers * config.gather.envs_per_worker) as usize;
        let (params_flat, adam, normalizers, progress, env_states) = match checkpoint {
            Some(c) => {
                if c.layout != layout {
                    return Err(TrainError::Checkpoint(CheckpointError::Corrupt {
                        path: run_dir.to_path_buf(),
                        message: "the checkpoint's parameter layout does not match the model built from config.json".into(),
                    }));
                }
                if c.envs.len() != envs_total {
                    return Err(TrainError::Checkpoint(CheckpointError::Corrupt {
                        path: run_dir.to_path_buf(),
                        message: format!(
                            "the checkpoint records {} environments, the config has {envs_total}",
                            c.envs.len()
                        ),
                    }));
                }
                (c.params, c.adam, c.normalizers, c.progress, Some(c.envs))
            }
            None => {
                let flat = params::values(&net);
                let adam = Adam::new(flat.len(), config.ppo.adam_epsilon);
                let normalizers = NormalizerState::new(
                    &actor.sizes,
                    &actor.vectors,
                    config.normalization.state,
                    config.normalization.reward,
                );
                (
                    flat,
                    adam,
                    normalizers,
                    Progress {
                        cycles: 0,
                        steps: 0,
                        episodes: 0,
                        best_return: None,
                    },
                    None,
                )
            }
        };
        // Every process builds the same network from the seed; rank 0's copy is the reference.
        let mut params_flat = params_flat;
        comm.broadcast_f32(&mut params_flat);
        let net = params::load(net, &params_flat);
        let skip = (first_worker * config.gather.envs_per_worker) as usize;
        let mut env_states = env_states.map(|states| states.into_iter().skip(skip));
        let mut workers = Vec::new();
        for w in first_worker..first_worker + local_workers {
            let mut slots = Vec::new();
            for e in 0..config.gather.envs_per_worker {
                let index = u64::from(w * config.gather.envs_per_worker + e);
                let env = setup.env()?;
                slots.push(match env_states.as_mut().and_then(Iterator::next) {
                    Some(state) => {
                        EnvSlot::restore(env, index, config.seed, state, actor.action_dim)?
                    }
                    None => EnvSlot::start(env, index, config.seed, &metric_aggregates)?,
                });
            }
            workers.push(Worker {
                slots,
                distribution: setup.distribution()?,
            });
        }
        let update_distribution = setup.distribution()?;
        Ok(Trainer {
            learner: Learner {
                net,
                params: params_flat,
                adam,
                device: train_device,
            },
            actor,
            workers,
            update_distribution,
            normalizers,
            progress,
            layout,
            metric_aggregates,
            run_dir: run_dir.to_path_buf(),
            config,
            setup,
            comm,
            first_worker,
        })
    }

    fn learning_rate(&self, cycle: u64) -> f64 {
        let base = self.config.ppo.learning_rate;
        match self.config.ppo.lr_schedule {
            LrSchedule::Constant => base,
            LrSchedule::Linear => base * (1.0 - cycle as f64 / self.config.cycles() as f64),
            LrSchedule::Exponential => base * 0.98f64.powf(cycle as f64),
        }
    }

    /// The complete training state; with several processes, every process must call it (the
    /// environments' states are collected from all of them).
    fn checkpoint(&self) -> Result<Checkpoint, TrainError> {
        let local: Vec<EpisodeState> = self
            .workers
            .iter()
            .flat_map(|w| w.slots.iter().map(|s| s.state.clone()))
            .collect();
        let envs = all_gather(self.comm, &local)?.concat();
        Ok(Checkpoint {
            params: self.learner.params.clone(),
            adam: self.learner.adam.clone(),
            normalizers: self.normalizers.clone(),
            progress: self.progress.clone(),
            layout: self.layout.clone(),
            envs,
        })
    }

    /// The normaliser increments and finished episodes of every worker of the run.
    fn exchange(&self, rollouts: &[Rollout]) -> Result<Gathered, TrainError> {
        let local = Gathered {
            increments: rollouts.iter().map(|r| r.increment.clone()).collect(),
            episodes: rollouts.iter().map(|r| r.episodes.clone()).collect(),
        };
        let mut all = all_gather(self.comm, &local)?.into_iter();
        let mut gathered = all.next().expect("at least one process");
        for more in all {
            gathered.increments.extend(more.increments);
            gathered.episodes.extend(more.episodes);
        }
        Ok(gathered)
    }

    /// Gathers one cycle in parallel worker threads.
    fn gather_cycle(&mut self, cycle: u64) -> Result<Vec<Rollout>, TrainError> {
        let net = params::load(self.actor.network().clone(), &self.learner.params);
        self.actor.set_network(net);
        let normalizers = &self.normalizers;
        let actor = &self.actor;
        let horizon = self.config.gather.horizon as usize;
        let (seed, clip, reward_discount) = (
            self.config.seed,
            self.config.normalization.clip,
            self.config.normalization.reward_discount,
        );
        let aggregates = &self.metric_aggregates;
        let tbptt = (self.actor.memory_size() > 0).then_some(self.config.ppo.tbptt_length as usize);
        let first_worker = u64::from(self.first_worker);
        let results: Vec<Result<Rollout, GatherError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .workers
                .iter_mut()
                .enumerate()
                .map(|(w, worker)| {
                    let actor = actor.clone();
                    scope.spawn(move || {
                        let ctx = GatherContext {
                            seed,
                            cycle,
                            worker: first_worker + w as u64,
                            horizon,
                            normalizers,
                            clip,
                            reward_discount,
                            metric_aggregates: aggregates,
                            tbptt,
                        };
                        gather(&ctx, &mut worker.slots, &actor, &worker.distribution)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a gathering thread panicked"))
                .collect()
        });
        results
            .into_iter()
            .map(|r| {
                r.map_err(|error| TrainError::Gather {
                    cycle,
                    error: Box::new(error),
                })
            })
            .collect()
    }

    /// Estimates advantages and flattens the workers' rollouts into one batch.
    fn batch(&self, rollouts: &[Rollout]) -> Batch {
        let p = &self.config.ppo;
        let sizes = self.actor.sizes.clone();
        let action_dim = self.actor.action_dim;
        let recurrent = self.actor.memory_size() > 0;
        let mut batch = Batch {
            inputs: vec![Vec::new(); sizes.len()],
            sizes,
            actions: Vec::new(),
            action_dim,
            log_probs: Vec::new(),
            values: Vec::new(),
            advantages: Vec::new(),
            returns: Vec::new(),
            sequences: None,
        };
        let mut mask = Vec::new();
        for r in rollouts {
            for (all, mine) in batch.inputs.iter_mut().zip(&r.inputs) {
                all.extend_from_slice(mine);
            }
            batch.actions.extend_from_slice(&r.actions);
            batch.log_probs.extend_from_slice(&r.log_probs);
            batch.values.extend(r.values.iter().map(|&v| v as f32));
            mask.extend_from_slice(&r.mask);
            let rows = r.envs * r.horizon;
            let (mut adv, mut ret) = (vec![0.0; rows], vec![0.0; rows]);
            // Each environment's trajectory is a strided column of the step-major rows; padding
            // (which only follows an episode's end) is left out.
            for e in 0..r.envs {
                let steps: Vec<usize> = (0..r.horizon)
                    .map(|t| t * r.envs + e)
                    .filter(|&row| r.mask[row])
                    .collect();
                let column =
                    |data: &[f64]| -> Vec<f64> { steps.iter().map(|&i| data[i]).collect() };
                let flags =
                    |data: &[bool]| -> Vec<bool> { steps.iter().map(|&i| data[i]).collect() };
                let (rewards, values, cut) = (
                    column(&r.rewards),
                    column(&r.values),
                    column(&r.truncation_values),
                );
                let (terminated, truncated) = (flags(&r.terminated), flags(&r.truncated));
                let trajectory = Trajectory {
                    rewards: &rewards,
                    values: &values,
                    terminated: &terminated,
                    truncated: &truncated,
                    truncation_values: &cut,
                    last_value: r.last_values[e],
                };
                let (mut a, mut g) = (vec![0.0; steps.len()], vec![0.0; steps.len()]);
                advantages(
                    &trajectory,
                    p.discount,
                    p.gae_lambda,
                    p.bootstrap_truncation,
                    &mut a,
                    &mut g,
                );
                for (k, &row) in steps.iter().enumerate() {
                    adv[row] = a[k];
                    ret[row] = g[k];
                }
            }
            batch.advantages.extend(adv.iter().map(|&a| a as f32));
            batch.returns.extend(ret.iter().map(|&g| g as f32));
        }
        if p.normalize_advantages {
            let valid = || {
                batch
                    .advantages
                    .iter()
                    .zip(&mask)
                    .filter(|(_, ok)| **ok)
                    .map(|(&a, _)| f64::from(a))
            };
            // Over the whole batch: summed over the processes.
            let mut sums = [valid().sum::<f64>(), valid().count() as f64];
            self.comm.sum_f64(&mut sums);
            let n = sums[1].max(1.0);
            let mean = sums[0] / n;
            let mut squares = [valid().map(|a| (a - mean).powi(2)).sum::<f64>()];
            self.comm.sum_f64(&mut squares);
            let var = squares[0] / n;
            let std = var.sqrt().max(1e-8);
            for (a, &ok) in batch.advantages.iter_mut().zip(&mask) {
                *a = if ok {
                    ((f64::from(*a) - mean) / std) as f32
                } else {
                    0.0
                };
            }
        }
        if recurrent {
            let block = rollouts.first().map_or(0, |r| r.envs);
            batch.sequences = Some(Sequences {
                block,
                count: rollouts.iter().map(|r| r.envs).sum(),
                time: rollouts.first().map_or(0, |r| r.horizon),
                mask,
                keep: rollouts
                    .iter()
                    .flat_map(|r| r.keep.iter().copied())
                    .collect(),
                initial_memory: rollouts
                    .iter()
                    .flat_map(|r| r.initial_memory.iter().copied())
                    .collect(),
            });
        }
        batch
    }

    /// Runs cycles until the configured number of steps.
    fn run(&mut self, options: &RunOptions) -> Result<RunSummary, TrainError> {
        let started = Instant::now();
        let total_cycles = self.config.cycles();
        let per_cycle = self.config.steps_per_cycle();
        let root = self.comm.is_root();
        let bar = if options.progress && root {
            let bar = ProgressBar::new(total_cycles * per_cycle);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {human_pos}/{human_len} steps {msg} ({elapsed})",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix(self.config.task.name.clone());
            bar.set_position(self.progress.steps);
            bar
        } else {
            ProgressBar::hidden()
        };
        // Only the first process writes the run directory.
        let mut writer = root.then(|| RunWriter::start(&self.run_dir));
        let mut last_mean = None;
        while self.progress.cycles < total_cycles {
            let cycle = self.progress.cycles;
            let lr = self.learning_rate(cycle);
            let gather_start = Instant::now();
            let rollouts = self.gather_cycle(cycle)?;
            let gather_seconds = gather_start.elapsed().as_secs_f64();
            let gathered = self.exchange(&rollouts)?;
            for increment in &gathered.increments {
                self.normalizers.merge(increment);
            }
            let batch = self.batch(&rollouts);
            let update_start = Instant::now();
            let stats = self
                .learner
                .update(
                    &batch,
                    &self.update_distribution,
                    &self.config.ppo,
                    lr,
                    self.config.seed,
                    cycle,
                    self.comm,
                )
                .map_err(|error| TrainError::Update {
                    cycle: cycle + 1,
                    error: Box::new(error),
                    checkpoint: self.run_dir.join("last"),
                })?;
            let update_seconds = update_start.elapsed().as_secs_f64();

            let episodes: Vec<&Episode> = gathered.episodes.iter().flatten().collect();
            let mean_return = (!episodes.is_empty())
                .then(|| episodes.iter().map(|e| e.ret).sum::<f64>() / episodes.len() as f64);
            let mean_length = (!episodes.is_empty()).then(|| {
                episodes.iter().map(|e| f64::from(e.length)).sum::<f64>() / episodes.len() as f64
            });
            let metric_means: serde_json::Map<String, Value> = self
                .setup
                .metric_names
                .iter()
                .enumerate()
                .filter(|_| !episodes.is_empty())
                .map(|(i, name)| {
                    (
                        name.clone(),
                        json!(
                            episodes.iter().map(|e| e.metrics[i]).sum::<f64>()
                                / episodes.len() as f64
                        ),
                    )
                })
                .collect();
            self.progress.cycles += 1;
            self.progress.steps += per_cycle;
            self.progress.episodes += episodes.len() as u64;
            let improved = match (mean_return, self.progress.best_return) {
                (Some(m), Some(b)) => m >= b,
                (Some(_), None) => true,
                _ => false,
            };
            if improved {
                self.progress.best_return = mean_return;
            }
            let seconds = gather_seconds + update_seconds;
            let padding = rollouts
                .iter()
                .map(|r| r.mask.iter().filter(|&&real| !real).count())
                .sum::<usize>() as f64
                / per_cycle as f64;
            let line = json!({
                "cycle": self.progress.cycles,
                "steps": self.progress.steps,
                "episodes": self.progress.episodes,
                "cycle_episodes": episodes.len(),
                "mean_return": mean_return,
                "mean_length": mean_length,
                "metrics": metric_means,
                "learning_rate": lr,
                "update": stats_json(&stats),
                "gather_seconds": gather_seconds,
                "update_seconds": update_seconds,
                "tbptt_padding": padding,
                "steps_per_second": per_cycle as f64 / seconds.max(1e-9),
            });
            let snapshot = Arc::new(self.checkpoint()?);
            if let Some(writer) = writer.as_mut() {
                writer.metrics(line)?;
                writer.checkpoint("last", snapshot.clone())?;
                if improved {
                    writer.checkpoint("best", snapshot.clone())?;
                }
                if self.config.save_every > 0
                    && self
                        .progress
                        .cycles
                        .is_multiple_of(u64::from(self.config.save_every))
                {
                    writer.checkpoint(&format!("cycle-{}", self.progress.cycles), snapshot)?;
                }
            }
            if mean_return.is_some() {
                last_mean = mean_return;
            }
            bar.set_position(self.progress.steps);
            bar.set_message(format!(
                "cycle {}/{} return {} {:.0} steps/s",
                self.progress.cycles,
                total_cycles,
                last_mean
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "-".into()),
                per_cycle as f64 / seconds.max(1e-9)
            ));
        }
        if let Some(writer) = writer {
            writer.finish()?;
        }
        bar.finish_and_clear();
        Ok(RunSummary {
            run_dir: self.run_dir.clone(),
            cycles: self.progress.cycles,
            steps: self.progress.steps,
            episodes: self.progress.episodes,
            last_mean_return: last_mean,
            best_return: self.progress.best_return,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

fn stats_json(stats: &UpdateStats) -> Value {
    serde_json::to_value(stats).unwrap_or(Value::Null)
}

fn provenance_json(list: &[Provenance]) -> Value {
    serde_json::to_value(list).unwrap_or(Value::Null)
}

/// Starts a new run in `run_dir` (which must not exist or be empty).
pub fn train(
    registry: &Registry,
    config: &TrainConfig,
    preset: &str,
    run_dir: &Path,
    options: &RunOptions,
) -> Result<RunSummary, TrainError> {
    let comm = options.comm;
    if comm.is_root()
        && run_dir.exists()
        && fs::read_dir(run_dir)
            .map_err(|e| io_error(run_dir, e))?
            .next()
            .is_some()
    {
        return Err(TrainError::RunDir {
            path: run_dir.to_path_buf(),
            message:
                "exists and is not empty; continue it with `angora resume` or choose another --out"
                    .into(),
        });
    }
    let mut trainer = Trainer::build(registry, config, run_dir, None, options.backend, comm)?;
    // The initial state is a checkpoint too: a run killed in its first cycle resumes from it.
    let initial = trainer.checkpoint()?;
    if comm.is_root() {
        fs::create_dir_all(run_dir).map_err(|e| io_error(run_dir, e))?;
        let record = RunRecord {
            angora_version: env!("CARGO_PKG_VERSION").into(),
            preset: preset.into(),
            config: trainer.config.clone(),
            plugins: provenance_json(&trainer.setup.provenance),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            processes: comm.size(),
        };
        let path = run_dir.join("config.json");
        let text = serde_json::to_string_pretty(&record).map_err(|e| io_error(&path, e))?;
        fs::write(&path, text + "\n").map_err(|e| io_error(&path, e))?;
        checkpoint::save(run_dir, "last", &initial)?;
    }
    trainer.run(options)
}

/// Reads a run's `config.json`.
pub fn read_record(run_dir: &Path) -> Result<RunRecord, TrainError> {
    let path = run_dir.join("config.json");
    let text = fs::read_to_string(&path)
        .map_err(|e| io_error(&path, format!("cannot read the run's config: {e}")))?;
    serde_json::from_str(&text).map_err(|e| io_error(&path, format!("not a valid run config: {e}")))
}

/// Continues a run from its `last` checkpoint to its configured number of steps, or to
/// `steps` if given (a longer budget for a finished run; written into `config.json`).
pub fn resume(
    registry: &Registry,
    run_dir: &Path,
    steps: Option<u64>,
    options: &RunOptions,
) -> Result<(RunSummary, Vec<String>), TrainError> {
    let mut record = read_record(run_dir)?;
    let checkpoint = checkpoint::load(run_dir, "last")?;
    if let Some(steps) = steps {
        if steps <= checkpoint.progress.steps {
            return Err(TrainError::Budget(format!(
                "--steps {steps}: the run has already trained {} steps; give a larger budget",
                checkpoint.progress.steps
            )));
        }
        record.config.steps = steps;
        if options.comm.is_root() {
            // Written beside and renamed over, so a kill leaves the old or the new record.
            let path = run_dir.join("config.json");
            let temp = run_dir.join("config.json.tmp");
            let text = serde_json::to_string_pretty(&record).map_err(|e| io_error(&path, e))?;
            fs::write(&temp, text + "\n").map_err(|e| io_error(&temp, e))?;
            fs::rename(&temp, &path).map_err(|e| io_error(&path, e))?;
        }
    }
    let mut warnings = Vec::new();
    if let Some(list) = record.plugins.as_array() {
        for entry in list {
            let (Some(name), Some(hash)) = (entry["name"].as_str(), entry["sha256"].as_str())
            else {
                continue;
            };
            match registry.find(name) {
                Some(info) if info.library.sha256 != hash => warnings.push(format!(
                    "{name}: the plugin library {} differs from the one the run started with; results may differ",
                    info.library.path.display()
                )),
                _ => {}
            }
        }
    }
    // Metrics written after the checkpoint belong to a cycle that will be redone.
    let metrics = run_dir.join("metrics.jsonl");
    let text = options
        .comm
        .is_root()
        .then(|| fs::read_to_string(&metrics).ok())
        .flatten();
    if let Some(text) = text {
        let kept: Vec<&str> = text
            .lines()
            .filter(|line| {
                serde_json::from_str::<Value>(line)
                    .ok()
                    .and_then(|v| v["cycle"].as_u64())
                    .is_some_and(|c| c <= checkpoint.progress.cycles)
            })
            .collect();
        let mut text = kept.join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        fs::write(&metrics, text).map_err(|e| io_error(&metrics, e))?;
    }
    let mut trainer = Trainer::build(
        registry,
        &record.config,
        run_dir,
        Some(checkpoint),
        options.backend,
        options.comm,
    )?;
    Ok((trainer.run(options)?, warnings))
}

/// A throughput measurement.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Items processed (environment steps or transitions).
    pub items: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Items per second.
    pub per_second: f64,
}

impl Throughput {
    fn new(items: u64, seconds: f64) -> Throughput {
        Throughput {
            items,
            seconds,
            per_second: items as f64 / seconds.max(1e-12),
        }
    }
}

/// Measurements behind `angora bench`: the same code paths as training, timed separately.
pub struct Bench<'r> {
    trainer: Trainer<'r>,
}

impl<'r> Bench<'r> {
    /// Sets up the components of `config` without a run directory.
    pub fn new(
        registry: &'r Registry,
        config: &TrainConfig,
        backend: ComputeBackend,
        comm: &'r dyn Communicator,
    ) -> Result<Bench<'r>, TrainError> {
        Ok(Bench {
            trainer: Trainer::build(registry, config, Path::new("."), None, backend, comm)?,
        })
    }

    /// Whether to go on measuring: rank 0's clock decides for every process, so that all of
    /// them run the same number of collective operations.
    fn go_on(&self, started: Instant, min_seconds: f64) -> bool {
        let comm = self.trainer.comm;
        let mut flag = [f64::from(u8::from(
            comm.is_root() && started.elapsed().as_secs_f64() < min_seconds,
        ))];
        comm.sum_f64(&mut flag);
        flag[0] > 0.0
    }

    /// Gathering throughput (environment steps per second, policy inference included) over
    /// whole cycles until at least `min_seconds` have passed; with several processes, the
    /// steps of all of them.
    pub fn gather(&mut self, min_seconds: f64) -> Result<Throughput, TrainError> {
        let comm = self.trainer.comm;
        let per_cycle = self.trainer.config.steps_per_cycle() / comm.size() as u64;
        let _warm_up = self.trainer.gather_cycle(0)?;
        comm.barrier();
        let started = Instant::now();
        let mut steps = 0;
        let mut cycle = 1;
        while self.go_on(started, min_seconds) {
            self.trainer.gather_cycle(cycle)?;
            steps += per_cycle;
            cycle += 1;
        }
        let mut totals = [steps as f64, started.elapsed().as_secs_f64()];
        comm.sum_f64(&mut totals);
        Ok(Throughput::new(
            totals[0] as u64,
            totals[1] / comm.size() as f64,
        ))
    }

    /// Update throughput (transitions per second through forward, loss, backward and Adam) at
    /// the configured minibatch size, on one gathered cycle, until `min_seconds` have passed.
    pub fn update(&mut self, min_seconds: f64) -> Result<Throughput, TrainError> {
        let rollouts = self.trainer.gather_cycle(0)?;
        let batch = self.trainer.batch(&rollouts);
        let mut ppo = self.trainer.config.ppo.clone();
        ppo.epochs = 1;
        let lr = ppo.learning_rate;
        let run = |trainer: &mut Trainer<'_>, cycle: u64| {
            trainer
                .learner
                .update(
                    &batch,
                    &trainer.update_distribution,
                    &ppo,
                    lr,
                    0,
                    cycle,
                    trainer.comm,
                )
                .map_err(|error| TrainError::Update {
                    cycle,
                    error: Box::new(error),
                    checkpoint: PathBuf::new(),
                })
        };
        run(&mut self.trainer, 0)?;
        let started = Instant::now();
        let mut transitions = 0;
        let mut cycle = 1;
        while self.go_on(started, min_seconds) {
            let stats = run(&mut self.trainer, cycle)?;
            transitions += stats.updates * u64::from(ppo.minibatch_size);
            cycle += 1;
        }
        Ok(Throughput::new(
            transitions,
            started.elapsed().as_secs_f64(),
        ))
    }

    /// All-reduce throughput: sums per second of one buffer the size of the model's
    /// parameters (plus the few loss terms), as every minibatch update of a multi-process run
    /// does. Returns the measurement and the buffer's length.
    pub fn all_reduce(&mut self, min_seconds: f64) -> Result<(Throughput, usize), TrainError> {
        let comm = self.trainer.comm;
        let length = self.trainer.learner.params.len() + 6;
        let mut buffer: Vec<f32> = (0..length).map(|i| (i % 7) as f32).collect();
        comm.sum_f32(&mut buffer);
        comm.barrier();
        let started = Instant::now();
        let mut calls = 0;
        // Ten sums per check of the clock, so the check's own (tiny) collective is negligible.
        while self.go_on(started, min_seconds) {
            for _ in 0..10 {
                comm.sum_f32(&mut buffer);
            }
            calls += 10;
        }
        Ok((
            Throughput::new(calls, started.elapsed().as_secs_f64()),
            length,
        ))
    }
}
