//! Host-side handles of component instances. Every call goes through the plugin's adapter
//! (which catches panics); a failure comes back as a [`CallError`] naming the component, its
//! library and the operation.

use std::path::PathBuf;

use abi_stable::std_types::{RErr, ROk, ROption, RResult, RSlice, RSliceMut, RStr};
use angora_plugin_api::{
    ActionSpace, BodyDescription, ComponentKind, DistributionHead, ErrorKind, MjcfSource,
    ModelRequest, ModelSpec, PluginError, Sensation, SenseSpec, StepOutput, TaskSpec,
    ffi::{BodyBox, DistributionBox, EncoderBox, ModelBox, TaskBox},
};

use super::registry::ComponentInfo;

/// Which component, from which library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The kind.
    pub kind: ComponentKind,
    /// The component's name.
    pub name: String,
    /// The library file.
    pub plugin: PathBuf,
}

impl Ident {
    pub(crate) fn of(info: &ComponentInfo) -> Ident {
        Ident {
            kind: info.kind,
            name: info.name.clone(),
            plugin: info.library.path.clone(),
        }
    }

    /// Wraps a plugin result, naming this component and the operation on failure.
    pub fn result<T>(
        &self,
        op: &'static str,
        result: RResult<T, PluginError>,
    ) -> Result<T, CallError> {
        match result {
            ROk(value) => Ok(value),
            RErr(source) => Err(self.error(op, source)),
        }
    }

    /// An error about this component.
    pub fn error(&self, op: &'static str, source: PluginError) -> CallError {
        CallError {
            ident: self.clone(),
            op,
            error: source,
        }
    }
}

/// A call into a plugin failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} '{}' (plugin {}) failed to {op}: {error}", ident.kind, ident.name, ident.plugin.display())]
pub struct CallError {
    /// The component.
    pub ident: Ident,
    /// What the host asked it to do.
    pub op: &'static str,
    /// What the plugin (or the host's check of its answer) reported. (Not a `#[source]`:
    /// the message above already includes it.)
    pub error: PluginError,
}

impl CallError {
    /// Whether the failure is due to bad input (a config, an action, a broken plugin) rather
    /// than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        self.error.kind != ErrorKind::Runtime
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    ident: &Ident,
    op: &'static str,
    text: &str,
) -> Result<T, CallError> {
    serde_json::from_str(text).map_err(|e| {
        ident.error(
            op,
            PluginError::runtime(format!("the plugin answered with malformed JSON: {e}")),
        )
    })
}

/// A task instance.
pub struct TaskInstance {
    ident: Ident,
    inner: TaskBox,
    spec: TaskSpec,
}

impl TaskInstance {
    pub(crate) fn new(ident: Ident, inner: TaskBox) -> Result<Self, CallError> {
        let text = ident.result("describe itself", inner.spec())?;
        let spec: TaskSpec = parse(&ident, "describe itself", &text)?;
        spec.validate()
            .map_err(|e| ident.error("describe itself", PluginError::runtime(e)))?;
        Ok(TaskInstance { ident, inner, spec })
    }

    /// Which task this is.
    pub fn ident(&self) -> &Ident {
        &self.ident
    }

    /// The task's declaration.
    pub fn spec(&self) -> &TaskSpec {
        &self.spec
    }

    /// Starts an episode.
    pub fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), CallError> {
        let seed = match seed {
            Some(s) => ROption::RSome(s),
            None => ROption::RNone,
        };
        self.ident.result("reset", self.inner.reset(seed, out))
    }

    /// Applies one action.
    pub fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), CallError> {
        self.ident
            .result("step", self.inner.step(RSlice::from_slice(action), out))
    }
}

/// A body instance with its checked description.
pub struct BodyInstance {
    ident: Ident,
    description: BodyDescription,
}

impl BodyInstance {
    pub(crate) fn new(ident: Ident, inner: BodyBox) -> Result<Self, CallError> {
        let text = ident.result("describe itself", inner.description())?;
        let mut description: BodyDescription = parse(&ident, "describe itself", &text)?;
        let asset_dir = ident.plugin.parent().map(PathBuf::from).unwrap_or_default();
        crate::body::check(&description, &asset_dir)
            .map_err(|e| ident.error("describe itself", PluginError::runtime(e)))?;
        // Tasks receive the file as an absolute path: they cannot know the body's directory.
        if let MjcfSource::File(file) = &mut description.mjcf {
            *file = asset_dir.join(&*file).to_string_lossy().into_owned();
        }
        Ok(BodyInstance { ident, description })
    }

    /// Which body this is.
    pub fn ident(&self) -> &Ident {
        &self.ident
    }

    /// The checked description.
    pub fn description(&self) -> &BodyDescription {
        &self.description
    }
}

/// A sensation-encoder instance.
pub struct EncoderInstance {
    ident: Ident,
    inner: EncoderBox,
}

impl EncoderInstance {
    pub(crate) fn new(ident: Ident, inner: EncoderBox) -> Self {
        EncoderInstance { ident, inner }
    }

    /// Which encoder this is.
    pub fn ident(&self) -> &Ident {
        &self.ident
    }

    /// Declares the outputs for these inputs.
    pub fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, CallError> {
        let text = serde_json::to_string(inputs).expect("sense specs always serialise");
        let answer = self
            .ident
            .result("configure", self.inner.configure(RStr::from_str(&text)))?;
        parse(&self.ident, "configure", &answer)
    }

    /// Encodes one observation.
    pub fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), CallError> {
        self.ident.result("encode", self.inner.encode(input, out))
    }
}

/// A model-architecture instance.
pub struct ModelInstance {
    ident: Ident,
    inner: ModelBox,
}

impl ModelInstance {
    pub(crate) fn new(ident: Ident, inner: ModelBox) -> Self {
        ModelInstance { ident, inner }
    }

    /// Which architecture this is.
    pub fn ident(&self) -> &Ident {
        &self.ident
    }

    /// Asks for a spec. The spec is parsed node by node, so an unknown layer type is an error
    /// that names the node; its shapes are checked by [`crate::model::check`].
    pub fn build(&self, request: &ModelRequest) -> Result<ModelSpec, CallError> {
        let text = serde_json::to_string(request).expect("a model request always serialises");
        let answer = self
            .ident
            .result("build a model", self.inner.build(RStr::from_str(&text)))?;
        crate::model::parse_spec(&answer).map_err(|e| {
            self.ident
                .error("build a model", PluginError::runtime(e.to_string()))
        })
    }
}

/// A policy-distribution instance.
pub struct DistributionInstance {
    ident: Ident,
    inner: DistributionBox,
}

impl DistributionInstance {
    pub(crate) fn new(ident: Ident, inner: DistributionBox) -> Self {
        DistributionInstance { ident, inner }
    }

    /// Which distribution this is.
    pub fn ident(&self) -> &Ident {
        &self.ident
    }

    /// Binds to an action space; refuses spaces the distribution does not support.
    pub fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, CallError> {
        let text = serde_json::to_string(space).expect("an action space always serialises");
        let answer = self.ident.result(
            "bind to the action space",
            self.inner.bind(RStr::from_str(&text)),
        )?;
        parse(&self.ident, "bind to the action space", &answer)
    }

    /// Samples one action per row.
    pub fn sample(
        &self,
        params: &[f32],
        seed: u64,
        actions: &mut [f32],
        log_probs: &mut [f32],
    ) -> Result<(), CallError> {
        let result = self.inner.sample(
            RSlice::from_slice(params),
            seed,
            RSliceMut::from_mut_slice(actions),
            RSliceMut::from_mut_slice(log_probs),
        );
        self.ident.result("sample", result)
    }

    /// The deterministic action per row.
    pub fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), CallError> {
        self.ident.result(
            "compute the mode",
            self.inner.mode(
                RSlice::from_slice(params),
                RSliceMut::from_mut_slice(actions),
            ),
        )
    }

    /// Log-probabilities and, if `grad` is not empty, their gradients.
    pub fn log_prob(
        &self,
        params: &[f32],
        actions: &[f32],
        log_probs: &mut [f32],
        grad: &mut [f32],
    ) -> Result<(), CallError> {
        let result = self.inner.log_prob(
            RSlice::from_slice(params),
            RSlice::from_slice(actions),
            RSliceMut::from_mut_slice(log_probs),
            RSliceMut::from_mut_slice(grad),
        );
        self.ident.result("compute log-probabilities", result)
    }

    /// Entropies and, if `grad` is not empty, their gradients.
    pub fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        grad: &mut [f32],
    ) -> Result<(), CallError> {
        let result = self.inner.entropy(
            RSlice::from_slice(params),
            RSliceMut::from_mut_slice(entropy),
            RSliceMut::from_mut_slice(grad),
        );
        self.ident.result("compute entropies", result)
    }
}
