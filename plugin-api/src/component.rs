//! The traits plugin authors implement, one per component kind.
//!
//! They are ordinary Rust traits; a component becomes visible to the host once it is
//! registered with [`register!`](crate::register) and the library calls
//! [`export_plugin!`](crate::export_plugin) once. The adapters behind those macros catch
//! panics, check slice lengths and actions against the declarations, and turn everything into
//! the FFI-safe objects of [`crate::ffi`].

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    ActionSpace, BodyDescription, DistributionHead, ModelRequest, ModelSpec, PluginError,
    Sensation, SenseSpec, StepOutput, TaskSpec,
};

/// What every component has: a config type.
///
/// The config is built from the registered defaults (the type's `Default`, or a preset given
/// at registration) with the user's keys merged over it, then deserialised. Give config
/// structs `#[serde(deny_unknown_fields)]` so a misspelt key is an error that names it, and
/// check value ranges in the constructor.
pub trait Component: Sized + Send + 'static {
    /// The component's configuration.
    type Config: Serialize + DeserializeOwned + Default;
}

/// An environment.
///
/// The adapter guarantees that `step` is only called after a `reset` and before the episode
/// ended, with an action that fits [`TaskSpec::action_space`] (right length, no NaN, integral
/// choices in range). Before each call `out` holds one buffer per declared sense and, in
/// `step`, one zeroed slot per declared metric; fill the buffers with
/// [`Sensation::set`] so their allocations are reused.
pub trait Task: Component {
    /// Creates the task. `body` is the description of the body the user selected, for tasks
    /// that compose a body into their scene; other tasks may refuse one.
    fn new(config: Self::Config, body: Option<BodyDescription>) -> Result<Self, PluginError>;

    /// The task's senses, action space and limits. Called once, right after `new`.
    fn spec(&self) -> TaskSpec;

    /// Starts an episode and writes the first observation. `Some(seed)` re-seeds the task's
    /// random source; `None` continues it.
    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError>;

    /// Applies `action` and writes the outcome.
    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError>;
}

/// A physical plant described as data.
pub trait Body: Component {
    /// Creates the body.
    fn new(config: Self::Config) -> Result<Self, PluginError>;

    /// The body's MJCF model, actuators, sensors and capabilities.
    fn description(&self) -> BodyDescription;
}

/// A per-step transform from raw senses to network inputs.
pub trait SensationEncoder: Component {
    /// Creates the encoder.
    fn new(config: Self::Config) -> Result<Self, PluginError>;

    /// Declares the outputs for the given inputs. Called once, before any `encode`; refuse
    /// inputs the encoder cannot handle.
    fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, PluginError>;

    /// Transforms one observation. `out` already holds one buffer per declared output.
    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), PluginError>;
}

/// A model architecture: a function from the available inputs to a declarative spec.
pub trait ModelArchitecture: Component {
    /// Creates the architecture.
    fn new(config: Self::Config) -> Result<Self, PluginError>;

    /// Builds the spec for these inputs and this policy-head size.
    fn build(&self, request: &ModelRequest) -> Result<ModelSpec, PluginError>;
}

/// A policy distribution: head declaration and batched kernels with analytic gradients.
///
/// The adapter checks every slice length against the head returned by `bind`, so the kernels
/// may rely on `params.len() == batch * param_size`, `actions.len() == batch * action_dim`
/// and per-row outputs of length `batch`. Gradients are with respect to the parameters as the
/// kernels receive them (after the head activation).
pub trait PolicyDistribution: Component {
    /// Creates the distribution.
    fn new(config: Self::Config) -> Result<Self, PluginError>;

    /// Binds to an action space, or refuses it with [`ErrorKind::Unsupported`](crate::ErrorKind).
    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError>;

    /// Draws one action per row, deterministically for a given `seed`.
    fn sample(
        &self,
        params: &[f32],
        seed: u64,
        actions: &mut [f32],
        log_probs: &mut [f32],
    ) -> Result<(), PluginError>;

    /// The deterministic action per row.
    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError>;

    /// Log-probabilities of the given actions and, if asked, their gradients.
    fn log_prob(
        &self,
        params: &[f32],
        actions: &[f32],
        log_probs: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError>;

    /// Entropies and, if asked, their gradients.
    fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError>;
}
