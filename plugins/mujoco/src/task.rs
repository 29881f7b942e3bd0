//! The part every MuJoCo task shares: loading the model, the episode's random source and time
//! limit, replaying a fixed initial state, the action space from the actuators' control
//! ranges, and the [`Task`] implementation. What differs per task (observation, reward,
//! termination, reset noise) is a [`Dynamics`].

use angora_plugin_api::{
    ActionSpace, BodyDescription, Component, MetricAggregate, MetricSpec, PluginError, Sensation,
    SenseSpec, StepOutput, Task, TaskSpec,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Serialize, de::DeserializeOwned};

use crate::assets;
use crate::sim::Simulation;

/// The random source of an episode's initial state.
pub type EpisodeRng = ChaCha8Rng;

/// The settings every MuJoCo task's config carries, whatever its own keys.
pub struct Common {
    /// The MJCF file: a name inside Gymnasium's asset directory, or a path.
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Whether observations include velocities (false: the velocity-free variant).
    pub velocities: bool,
    /// `qpos` followed by `qvel` to start every episode from, instead of the random reset
    /// (used to replay reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

/// What one step of a task produced besides the observation.
pub struct Outcome {
    /// The reward.
    pub reward: f64,
    /// Whether the episode ended in a terminal state.
    pub terminated: bool,
}

/// The task-specific part of a MuJoCo task.
pub trait Dynamics: Sized + Send + 'static {
    /// The task's config, with Gymnasium's keys.
    type Config: Serialize + DeserializeOwned + Default + Send + 'static;

    /// The task's name in messages.
    const NAME: &'static str;

    /// The reward terms reported as per-step metrics, in the order `step` fills them.
    const METRICS: &'static [&'static str];

    /// Gymnasium's reward threshold, if the task has one.
    const REWARD_THRESHOLD: Option<f64> = None;

    /// The shared settings of a config.
    fn common(config: &Self::Config) -> Common;

    /// Checks the task's own keys and looks up what it needs in the model.
    fn new(config: Self::Config, sim: &Simulation) -> Result<Self, PluginError>;

    /// A random initial state around the model's reference configuration.
    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>);

    /// Remembers what the task needs from a given initial state (for example a goal position
    /// that is part of `qpos`). Called after every reset, random or replayed.
    fn started(&mut self, _sim: &Simulation) {}

    /// Writes the observation. `velocities` is false for the velocity-free variant.
    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>);

    /// Advances the simulation by one action and computes the reward, its terms (into
    /// `metrics`, in [`Self::METRICS`] order) and termination.
    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome;
}

/// A MuJoCo task: a simulation driven by a [`Dynamics`].
pub struct MujocoTask<D> {
    dynamics: D,
    sim: Simulation,
    rng: EpisodeRng,
    steps: u32,
    max_episode_steps: u32,
    velocities: bool,
    initial_state: Option<Vec<f64>>,
    observation: Vec<f32>,
}

impl<D: Dynamics> Component for MujocoTask<D> {
    type Config = D::Config;
}

impl<D: Dynamics> MujocoTask<D> {
    /// The simulation, for benchmarks and tests.
    pub fn simulation(&mut self) -> &mut Simulation {
        &mut self.sim
    }

    fn observe(&mut self, out: &mut Sensation) {
        self.observation.clear();
        self.dynamics
            .observe(&self.sim, self.velocities, &mut self.observation);
        out.set(0, &self.observation);
    }
}

impl<D: Dynamics> Task for MujocoTask<D> {
    fn new(config: D::Config, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        if body.is_some() {
            return Err(PluginError::unsupported(format!(
                "{} has its own body and takes none",
                D::NAME
            )));
        }
        let common = D::common(&config);
        if common.max_episode_steps == 0 {
            return Err(PluginError::invalid_config(
                "max_episode_steps must be at least 1",
            ));
        }
        let path = assets::resolve(&common.xml_file)?;
        let mut sim = Simulation::load(&path, common.frame_skip)?;
        if let Some(state) = &common.initial_state {
            let want = sim.nq() + sim.nv();
            if state.len() != want {
                return Err(PluginError::invalid_config(format!(
                    "initial_state has {} values, the model needs nq + nv = {want}",
                    state.len()
                )));
            }
            if state.iter().any(|v| !v.is_finite()) {
                return Err(PluginError::invalid_config("initial_state must be finite"));
            }
        }
        let dynamics = D::new(config, &sim)?;
        let (qpos, qvel) = sim.initial_state();
        sim.reset_to(&qpos, &qvel);
        let mut task = MujocoTask {
            dynamics,
            sim,
            rng: EpisodeRng::seed_from_u64(0),
            steps: 0,
            max_episode_steps: common.max_episode_steps,
            velocities: common.velocities,
            initial_state: common.initial_state,
            observation: Vec::new(),
        };
        // The observation's length comes from observing once.
        task.dynamics.started(&task.sim);
        task.observe(&mut Sensation::with_senses(1));
        Ok(task)
    }

    fn spec(&self) -> TaskSpec {
        let (low, high) = self.sim.control_bounds();
        TaskSpec {
            senses: vec![SenseSpec::vector(
                "proprioception",
                self.observation.len() as u32,
            )],
            action_space: ActionSpace::Box { low, high },
            max_episode_steps: Some(self.max_episode_steps),
            reward_threshold: D::REWARD_THRESHOLD,
            metrics: D::METRICS
                .iter()
                .map(|name| MetricSpec {
                    name: (*name).to_owned(),
                    aggregate: MetricAggregate::Sum,
                })
                .collect(),
            dt: Some(self.sim.dt()),
        }
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        if let Some(seed) = seed {
            self.rng = EpisodeRng::seed_from_u64(seed);
        }
        self.steps = 0;
        let (qpos, qvel) = match &self.initial_state {
            Some(state) => {
                let (qpos, qvel) = state.split_at(self.sim.nq());
                (qpos.to_vec(), qvel.to_vec())
            }
            None => self.dynamics.reset_state(&self.sim, &mut self.rng),
        };
        self.sim.reset_to(&qpos, &qvel);
        self.dynamics.started(&self.sim);
        self.observe(out);
        Ok(())
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        let outcome = self.dynamics.step(&mut self.sim, action, &mut out.metrics);
        self.steps += 1;
        out.reward = outcome.reward;
        out.terminated = outcome.terminated;
        out.truncated = self.steps >= self.max_episode_steps;
        self.observe(&mut out.sensation);
        Ok(())
    }
}

/// How a task's reset perturbs the reference velocities (positions always get uniform noise).
pub enum VelocityNoise {
    /// Uniform in `[-scale, scale)`.
    Uniform,
    /// `scale` times standard normal.
    Normal,
}

/// Gymnasium's usual reset: the reference configuration plus uniform noise of `scale` on the
/// positions, and zero velocity plus noise of `scale` of the given kind.
pub fn noisy_reset(
    sim: &Simulation,
    scale: f64,
    velocity: VelocityNoise,
    rng: &mut EpisodeRng,
) -> (Vec<f64>, Vec<f64>) {
    let (qpos, qvel) = sim.initial_state();
    let qpos = uniform_noise(&qpos, scale, rng);
    let qvel = match velocity {
        VelocityNoise::Uniform => uniform_noise(&qvel, scale, rng),
        VelocityNoise::Normal => normal_noise(&qvel, scale, rng),
    };
    (qpos, qvel)
}

/// Implements [`Dynamics::common`] for a config that carries the shared keys (`xml_file`,
/// `frame_skip`, `max_episode_steps`, `velocities`, `initial_state`) under those names.
macro_rules! common_from_config {
    ($config:ty) => {
        fn common(c: &$config) -> $crate::task::Common {
            $crate::task::Common {
                xml_file: c.xml_file.clone(),
                frame_skip: c.frame_skip,
                max_episode_steps: c.max_episode_steps,
                velocities: c.velocities,
                initial_state: c.initial_state.clone(),
            }
        }
    };
}
pub(crate) use common_from_config;

/// `base` plus independent uniform noise in `[-scale, scale)` per entry, in order (NumPy's
/// `uniform(low=-scale, high=scale, size=n)`).
pub fn uniform_noise(base: &[f64], scale: f64, rng: &mut EpisodeRng) -> Vec<f64> {
    base.iter()
        .map(|&b| b + uniform(rng, -scale, scale))
        .collect()
}

/// `base` plus `scale` times independent standard normal noise per entry.
pub fn normal_noise(base: &[f64], scale: f64, rng: &mut EpisodeRng) -> Vec<f64> {
    base.iter()
        .map(|&b| b + scale * rng.sample::<f64, _>(StandardNormal))
        .collect()
}

/// One uniform sample in `[low, high)`; a zero-width range gives `low`.
pub fn uniform(rng: &mut EpisodeRng, low: f64, high: f64) -> f64 {
    if high > low {
        rng.random_range(low..high)
    } else {
        low
    }
}

/// Gymnasium's quadratic control cost `weight * sum(action^2)`. The action is single
/// precision and NumPy keeps the whole expression in single precision, so this does too.
pub fn control_cost(weight: f64, action: &[f32]) -> f64 {
    let sum: f32 = action.iter().map(|&a| a * a).sum();
    f64::from(weight as f32 * sum)
}

/// The sum of squares in double precision.
pub fn squared_norm(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().map(|v| v * v).sum()
}

/// Appends `values` as `f32`.
pub fn push(out: &mut Vec<f32>, values: impl IntoIterator<Item = f64>) {
    out.extend(values.into_iter().map(|v| v as f32));
}

/// Checks that a weight or scale from a config is finite and not negative.
pub fn non_negative(name: &str, value: f64) -> Result<(), PluginError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(PluginError::invalid_config(format!(
            "{name} must be finite and non-negative, got {value}"
        )))
    }
}

/// Checks that a `(low, high)` range from a config is ordered and holds no NaN.
pub fn ordered(name: &str, range: (f64, f64)) -> Result<(), PluginError> {
    if range.0 <= range.1 {
        Ok(())
    } else {
        Err(PluginError::invalid_config(format!(
            "{name} must be an ordered [low, high] pair, got [{}, {}]",
            range.0, range.1
        )))
    }
}

/// Whether `value` lies strictly inside `(low, high)`.
pub fn inside(value: f64, (low, high): (f64, f64)) -> bool {
    low < value && value < high
}

/// Checks that a config value is finite.
pub fn finite(name: &str, value: f64) -> Result<(), PluginError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(PluginError::invalid_config(format!(
            "{name} must be finite, got {value}"
        )))
    }
}

/// Serde for `(low, high)` ranges whose ends may be infinite, as Gymnasium's defaults are
/// (`float("inf")`). JSON, which carries configs across the plugin boundary, has no infinity,
/// so an infinite end is written as the string `"inf"` or `"-inf"`; numbers, those strings and
/// TOML's `inf` are all read.
pub mod range {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum End {
        Number(f64),
        Text(String),
    }

    fn to_end(value: f64) -> End {
        if value.is_finite() {
            End::Number(value)
        } else if value > 0.0 {
            End::Text("inf".into())
        } else if value < 0.0 {
            End::Text("-inf".into())
        } else {
            End::Text("nan".into())
        }
    }

    fn from_end<E: Error>(end: End) -> Result<f64, E> {
        match end {
            End::Number(v) => Ok(v),
            End::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "inf" | "+inf" | "infinity" | "+infinity" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                _ => Err(E::custom(format!(
                    "expected a number, \"inf\" or \"-inf\", got \"{t}\""
                ))),
            },
        }
    }

    /// Writes the range as a two-element array.
    pub fn serialize<S: Serializer>(range: &(f64, f64), s: S) -> Result<S::Ok, S::Error> {
        (to_end(range.0), to_end(range.1)).serialize(s)
    }

    /// Reads a two-element array of numbers or infinities.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
        let (low, high) = <(End, End)>::deserialize(d)?;
        Ok((from_end(low)?, from_end(high)?))
    }
}
