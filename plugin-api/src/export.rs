//! Registration inside a plugin library and the root module it exports.
//!
//! Components register with [`register!`](crate::register), which submits a [`Registration`]
//! to this crate's `inventory` collection. Each plugin library links its own copy of this
//! crate, so the collection holds exactly that library's components; the root module's
//! functions walk it. The host never relies on `inventory` across libraries.

use std::{
    any::Any,
    cell::{Cell, RefCell},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Once,
};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RErr, ROk, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    ActionSpace, BodyDescription, ComponentDescriptor, ComponentKind, DistributionHead, ErrorKind,
    ModelRequest, PluginError, PluginRoot, PluginRoot_Ref, Sensation, SenseSpec, StepOutput,
    TaskSpec,
    component::{Body, ModelArchitecture, PolicyDistribution, SensationEncoder, Task},
    ffi::{
        BodyBox, DistributionBox, EncoderBox, FfiBody, FfiBody_TO, FfiDistribution,
        FfiDistribution_TO, FfiEncoder, FfiEncoder_TO, FfiModel, FfiModel_TO, FfiTask, FfiTask_TO,
        ModelBox, TaskBox,
    },
};

type DefaultConfig = fn() -> Result<Value, serde_json::Error>;

/// How a registration builds its component from a fully merged config.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Make {
    Task(fn(Value, Option<BodyDescription>) -> Result<TaskBox, PluginError>),
    Body(fn(Value) -> Result<BodyBox, PluginError>),
    Encoder(fn(Value) -> Result<EncoderBox, PluginError>),
    Model(fn(Value) -> Result<ModelBox, PluginError>),
    Distribution(fn(Value) -> Result<DistributionBox, PluginError>),
}

/// One registered component. Created by [`register!`](crate::register); not used directly.
pub struct Registration {
    name: &'static str,
    version: &'static str,
    description: &'static str,
    default_config: DefaultConfig,
    make: Make,
}

inventory::collect!(Registration);

macro_rules! registration_ctor {
    ($fn_name:ident, $bound:ident, $variant:ident, $make:ident) => {
        #[doc = concat!("A registration for a `", stringify!($bound), "`; used by `register!`.")]
        pub const fn $fn_name<T: $bound>(
            name: &'static str,
            version: &'static str,
            description: &'static str,
            default_config: DefaultConfig,
        ) -> Self {
            Registration {
                name,
                version,
                description,
                default_config,
                make: Make::$variant($make::<T>),
            }
        }
    };
}

impl Registration {
    registration_ctor!(task, Task, Task, make_task);
    registration_ctor!(body, Body, Body, make_body);
    registration_ctor!(encoder, SensationEncoder, Encoder, make_encoder);
    registration_ctor!(model, ModelArchitecture, Model, make_model);
    registration_ctor!(
        distribution,
        PolicyDistribution,
        Distribution,
        make_distribution
    );

    fn kind(&self) -> ComponentKind {
        match self.make {
            Make::Task(_) => ComponentKind::Task,
            Make::Body(_) => ComponentKind::Body,
            Make::Encoder(_) => ComponentKind::Encoder,
            Make::Model(_) => ComponentKind::Model,
            Make::Distribution(_) => ComponentKind::Distribution,
        }
    }
}

/// Registers a component of this library under a name.
///
/// ```text
/// angora_plugin_api::register!(task CartPole, "CartPole-v1", "Balance a pole on a cart.");
/// angora_plugin_api::register!(
///     task CartPole, "CartPoleNoVel-v1", "CartPole without velocities.",
///     preset = CartPoleConfig { velocities: false, ..Default::default() }
/// );
/// ```
/// The kind is one of `task`, `body`, `encoder`, `model`, `distribution`; the type must
/// implement the matching trait of [`crate::component`]. The optional `preset` replaces the
/// config type's `Default` as the base that users' keys are merged over. The component's
/// version is the registering crate's version.
#[macro_export]
macro_rules! register {
    ($kind:ident $ty:ty, $name:expr, $description:expr $(,)?) => {
        $crate::register!($kind $ty, $name, $description,
            preset = <<$ty as $crate::Component>::Config as ::core::default::Default>::default());
    };
    ($kind:ident $ty:ty, $name:expr, $description:expr, preset = $preset:expr $(,)?) => {
        const _: () = {
            fn default_config() -> ::core::result::Result<
                $crate::__private::serde_json::Value,
                $crate::__private::serde_json::Error,
            > {
                let config: <$ty as $crate::Component>::Config = $preset;
                $crate::__private::serde_json::to_value(config)
            }
            $crate::__private::inventory::submit! {
                $crate::Registration::$kind::<$ty>(
                    $name, ::core::env!("CARGO_PKG_VERSION"), $description, default_config)
            }
        };
    };
}

/// Exports this library's root module. Call it exactly once, in the plugin crate's root.
///
/// It defines the symbol abi_stable's loader looks for; nothing else is needed for the host
/// to find every component registered with [`register!`](crate::register).
#[macro_export]
macro_rules! export_plugin {
    () => {
        // The name is abi_stable 0.11's mangled root-module symbol; plugin-api's tests check
        // it against abi_stable's own function.
        #[doc(hidden)]
        #[allow(
            unsafe_code,
            reason = "exporting the root-module symbol needs `no_mangle`"
        )]
        #[allow(
            non_upper_case_globals,
            reason = "the symbol name is fixed by abi_stable"
        )]
        #[unsafe(no_mangle)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader =
            $crate::__private::lib_header();
    };
}

#[doc(hidden)]
pub mod __private {
    pub use abi_stable::library::LibHeader;
    pub use inventory;
    pub use serde_json;

    use abi_stable::library::{__call_root_module_loader, CheckTypeLayout, RootModuleResult};

    use crate::PluginRoot_Ref;

    extern "C" fn erased_loader() -> RootModuleResult {
        __call_root_module_loader(super::root_module)
    }

    /// The header every plugin exports, built at compile time into the plugin's static.
    #[allow(
        unsafe_code,
        reason = "abi_stable's header constructor is unsafe; see SAFETY"
    )]
    pub const fn lib_header() -> LibHeader {
        // SAFETY: `from_constructor` requires the constructor to return a `PrefixRef` erased
        // from a `PrefixRef` of the module type named here. `erased_loader` returns what
        // abi_stable's own `__call_root_module_loader` makes of `root_module`, which returns a
        // `PluginRoot_Ref`: exactly what abi_stable's `#[export_root_module]` generates.
        unsafe {
            LibHeader::from_constructor::<PluginRoot_Ref>(erased_loader, CheckTypeLayout::Yes)
        }
    }
}

fn root_module() -> PluginRoot_Ref {
    install_panic_hook();
    use abi_stable::prefix_type::PrefixTypeTrait;
    PluginRoot {
        components: root_components,
        new_task: root_new_task,
        new_body: root_new_body,
        new_encoder: root_new_encoder,
        new_model: root_new_model,
        new_distribution: root_new_distribution,
    }
    .leak_into_prefix()
}

// ---------------------------------------------------------------------------------------------
// Panics

thread_local! {
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces this library's panic hook (each plugin library has its own copy of std) with one
/// that remembers where the panic happened instead of printing, so the host can report it
/// once, in its own words.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let location = info.location().map(|l| l.to_string());
            PANIC_LOCATION.with(|cell| *cell.borrow_mut() = location);
        }));
    });
}

fn panic_error(payload: Box<dyn Any + Send>) -> PluginError {
    let message = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    };
    let location = PANIC_LOCATION.with(|cell| cell.borrow_mut().take());
    match location {
        Some(at) => PluginError::new(ErrorKind::Panicked, format!("{message} (at {at})")),
        None => PluginError::new(ErrorKind::Panicked, message),
    }
}

/// Runs `f`, turning a panic into a [`PluginError`].
fn catch<R>(f: impl FnOnce() -> Result<R, PluginError>) -> RResult<R, PluginError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => ROk(value),
        Ok(Err(error)) => RErr(error),
        Err(payload) => RErr(panic_error(payload)),
    }
}

/// Remembers whether a component panicked; a panicked component refuses further calls,
/// since its state may be half-updated.
#[derive(Default)]
struct Poison(Cell<bool>);

impl Poison {
    fn run<R>(&self, f: impl FnOnce() -> Result<R, PluginError>) -> RResult<R, PluginError> {
        if self.0.get() {
            return RErr(PluginError::new(
                ErrorKind::Poisoned,
                "the component panicked earlier and refuses further calls; create a new one",
            ));
        }
        let result = catch(f);
        if matches!(&result, RErr(e) if e.kind == ErrorKind::Panicked) {
            self.0.set(true);
        }
        result
    }
}

// ---------------------------------------------------------------------------------------------
// Root-module functions

fn registrations() -> impl Iterator<Item = &'static Registration> {
    inventory::iter::<Registration>.into_iter()
}

extern "C" fn root_components() -> RResult<RVec<ComponentDescriptor>, PluginError> {
    catch(|| {
        let mut list = RVec::new();
        for reg in registrations() {
            let config = (reg.default_config)().map_err(|e| {
                PluginError::runtime(format!(
                    "default config of '{}' does not serialise: {e}",
                    reg.name
                ))
            })?;
            let text = serde_json::to_string_pretty(&config)
                .map_err(|e| PluginError::runtime(e.to_string()))?;
            list.push(ComponentDescriptor {
                kind: reg.kind(),
                name: reg.name.into(),
                version: reg.version.into(),
                description: reg.description.into(),
                default_config: text.into(),
            });
        }
        Ok(list)
    })
}

/// Finds a registration of this library and merges the user's config over its defaults.
fn lookup(
    kind: ComponentKind,
    name: RStr<'_>,
    config: RStr<'_>,
) -> Result<(&'static Registration, Value), PluginError> {
    let reg = registrations()
        .find(|r| r.kind() == kind && r.name == name.as_str())
        .ok_or_else(|| {
            PluginError::invalid_argument(format!("this library has no {kind} named '{name}'"))
        })?;
    let mut merged = (reg.default_config)()
        .map_err(|e| PluginError::runtime(format!("default config does not serialise: {e}")))?;
    let text = config.as_str().trim();
    if !text.is_empty() {
        let overrides: Value = serde_json::from_str(text)
            .map_err(|e| PluginError::invalid_config(format!("config is not valid JSON: {e}")))?;
        if !overrides.is_object() {
            return Err(PluginError::invalid_config(
                "config must be a JSON object (a table of keys)",
            ));
        }
        merge(&mut merged, overrides);
    }
    Ok((reg, merged))
}

/// Merges `overrides` into `base`: objects key by key, recursively; anything else replaces.
fn merge(base: &mut Value, overrides: Value) {
    match (base, overrides) {
        (Value::Object(base), Value::Object(overrides)) => {
            for (key, value) in overrides {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

fn parse_config<C: DeserializeOwned>(config: Value) -> Result<C, PluginError> {
    serde_json::from_value(config).map_err(|e| PluginError::invalid_config(e.to_string()))
}

fn parse_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, PluginError> {
    serde_json::from_str(text).map_err(|e| PluginError::invalid_argument(format!("{what}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<RString, PluginError> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|e| PluginError::runtime(e.to_string()))
}

macro_rules! root_ctor {
    ($fn_name:ident, $kind:ident, $boxed:ty) => {
        extern "C" fn $fn_name(name: RStr<'_>, config: RStr<'_>) -> RResult<$boxed, PluginError> {
            catch(|| {
                let (reg, config) = lookup(ComponentKind::$kind, name, config)?;
                match reg.make {
                    Make::$kind(make) => make(config),
                    _ => unreachable!("lookup filters by kind"),
                }
            })
        }
    };
}

root_ctor!(root_new_body, Body, BodyBox);
root_ctor!(root_new_encoder, Encoder, EncoderBox);
root_ctor!(root_new_model, Model, ModelBox);
root_ctor!(root_new_distribution, Distribution, DistributionBox);

extern "C" fn root_new_task(
    name: RStr<'_>,
    config: RStr<'_>,
    body: ROption<RStr<'_>>,
) -> RResult<TaskBox, PluginError> {
    catch(|| {
        let (reg, config) = lookup(ComponentKind::Task, name, config)?;
        let body = match body.into_option() {
            Some(text) => Some(parse_json::<BodyDescription>(
                "body description",
                text.as_str(),
            )?),
            None => None,
        };
        match reg.make {
            Make::Task(make) => make(config, body),
            _ => unreachable!("lookup filters by kind"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Task adapter

struct TaskAdapter<T> {
    task: T,
    spec: TaskSpec,
    spec_json: RString,
    sense_lens: Vec<usize>,
    in_episode: bool,
    poison: Poison,
}

fn make_task<T: Task>(
    config: Value,
    body: Option<BodyDescription>,
) -> Result<TaskBox, PluginError> {
    let task = T::new(parse_config(config)?, body)?;
    let spec = task.spec();
    spec.validate()
        .map_err(|e| PluginError::runtime(format!("the task declares an invalid spec: {e}")))?;
    let adapter = TaskAdapter {
        spec_json: to_json(&spec)?,
        sense_lens: spec.senses.iter().map(SenseSpec::len).collect(),
        spec,
        task,
        in_episode: false,
        poison: Poison::default(),
    };
    Ok(FfiTask_TO::from_value(adapter, TD_Opaque))
}

/// Checks that a producer filled every declared buffer with the declared number of values.
fn check_filled(
    what: &str,
    senses: &[SenseSpec],
    lens: &[usize],
    out: &Sensation,
) -> Result<(), PluginError> {
    for ((spec, &want), got) in senses.iter().zip(lens).zip(out.senses.iter()) {
        if got.len() != want {
            return Err(PluginError::runtime(format!(
                "{what} wrote {} values for sense '{}', which declares {want}",
                got.len(),
                spec.name
            )));
        }
    }
    Ok(())
}

impl<T: Task> FfiTask for TaskAdapter<T> {
    fn spec(&self) -> RResult<RString, PluginError> {
        ROk(self.spec_json.clone())
    }

    fn reset(&mut self, seed: ROption<u64>, out: &mut Sensation) -> RResult<(), PluginError> {
        let this = &mut *self;
        this.poison.run(|| {
            out.ensure_senses(this.sense_lens.len());
            this.task.reset(seed.into_option(), out)?;
            check_filled("reset", &this.spec.senses, &this.sense_lens, out)?;
            this.in_episode = true;
            Ok(())
        })
    }

    fn step(&mut self, action: RSlice<'_, f32>, out: &mut StepOutput) -> RResult<(), PluginError> {
        let this = &mut *self;
        this.poison.run(|| {
            if !this.in_episode {
                return Err(PluginError::invalid_argument(
                    "step called outside an episode: call reset first (and after an episode ends)",
                ));
            }
            this.spec
                .action_space
                .check(action.as_slice())
                .map_err(PluginError::invalid_argument)?;
            out.prepare(this.sense_lens.len(), this.spec.metrics.len());
            this.task.step(action.as_slice(), out)?;
            check_filled("step", &this.spec.senses, &this.sense_lens, &out.sensation)?;
            if out.metrics.len() != this.spec.metrics.len() {
                return Err(PluginError::runtime(format!(
                    "step wrote {} metrics, the task declares {}",
                    out.metrics.len(),
                    this.spec.metrics.len()
                )));
            }
            this.in_episode = !(out.terminated || out.truncated);
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Body adapter

struct BodyAdapter {
    description: RString,
}

fn make_body<T: Body>(config: Value) -> Result<BodyBox, PluginError> {
    let body = T::new(parse_config(config)?)?;
    let description = body.description();
    description.validate().map_err(|e| {
        PluginError::runtime(format!("the body declares an invalid description: {e}"))
    })?;
    Ok(FfiBody_TO::from_value(
        BodyAdapter {
            description: to_json(&description)?,
        },
        TD_Opaque,
    ))
}

impl FfiBody for BodyAdapter {
    fn description(&self) -> RResult<RString, PluginError> {
        ROk(self.description.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// Encoder adapter

struct EncoderAdapter<T> {
    encoder: T,
    inputs: Option<(Vec<SenseSpec>, Vec<usize>)>,
    outputs: (Vec<SenseSpec>, Vec<usize>),
    poison: Poison,
}

fn make_encoder<T: SensationEncoder>(config: Value) -> Result<EncoderBox, PluginError> {
    let encoder = T::new(parse_config(config)?)?;
    let adapter = EncoderAdapter {
        encoder,
        inputs: None,
        outputs: (Vec::new(), Vec::new()),
        poison: Poison::default(),
    };
    Ok(FfiEncoder_TO::from_value(adapter, TD_Opaque))
}

fn with_lens(senses: Vec<SenseSpec>) -> (Vec<SenseSpec>, Vec<usize>) {
    let lens = senses.iter().map(SenseSpec::len).collect();
    (senses, lens)
}

impl<T: SensationEncoder> FfiEncoder for EncoderAdapter<T> {
    fn configure(&mut self, inputs: RStr<'_>) -> RResult<RString, PluginError> {
        let this = &mut *self;
        this.poison.run(|| {
            let inputs: Vec<SenseSpec> = parse_json("encoder inputs", inputs.as_str())?;
            crate::validate_senses(&inputs).map_err(PluginError::invalid_argument)?;
            let outputs = this.encoder.configure(&inputs)?;
            crate::validate_senses(&outputs).map_err(|e| {
                PluginError::runtime(format!("the encoder declares invalid outputs: {e}"))
            })?;
            let json = to_json(&outputs)?;
            this.inputs = Some(with_lens(inputs));
            this.outputs = with_lens(outputs);
            Ok(json)
        })
    }

    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> RResult<(), PluginError> {
        let this = &mut *self;
        this.poison.run(|| {
            let Some((in_specs, in_lens)) = &this.inputs else {
                return Err(PluginError::invalid_argument(
                    "encode called before configure",
                ));
            };
            if input.senses.len() != in_specs.len() {
                return Err(PluginError::invalid_argument(format!(
                    "encode got {} sense buffers, configured for {}",
                    input.senses.len(),
                    in_specs.len()
                )));
            }
            check_filled("the caller", in_specs, in_lens, input)
                .map_err(|e| PluginError::invalid_argument(e.message))?;
            out.ensure_senses(this.outputs.0.len());
            this.encoder.encode(input, out)?;
            check_filled("encode", &this.outputs.0, &this.outputs.1, out)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Model adapter

struct ModelAdapter<T> {
    model: T,
    poison: Poison,
}

fn make_model<T: ModelArchitecture>(config: Value) -> Result<ModelBox, PluginError> {
    let model = T::new(parse_config(config)?)?;
    Ok(FfiModel_TO::from_value(
        ModelAdapter {
            model,
            poison: Poison::default(),
        },
        TD_Opaque,
    ))
}

impl<T: ModelArchitecture> FfiModel for ModelAdapter<T> {
    fn build(&self, request: RStr<'_>) -> RResult<RString, PluginError> {
        self.poison.run(|| {
            let request: ModelRequest = parse_json("model request", request.as_str())?;
            to_json(&self.model.build(&request)?)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Distribution adapter

struct DistributionAdapter<T> {
    distribution: T,
    /// `(param_size, action_dim)` once bound.
    bound: Option<(usize, usize)>,
    poison: Poison,
}

fn make_distribution<T: PolicyDistribution>(config: Value) -> Result<DistributionBox, PluginError> {
    let distribution = T::new(parse_config(config)?)?;
    let adapter = DistributionAdapter {
        distribution,
        bound: None,
        poison: Poison::default(),
    };
    Ok(FfiDistribution_TO::from_value(adapter, TD_Opaque))
}

impl<T> DistributionAdapter<T> {
    /// Checks the parameter slice and returns `(batch, param_size, action_dim)`.
    fn shape(&self, params: &[f32]) -> Result<(usize, usize, usize), PluginError> {
        let (param_size, action_dim) = self
            .bound
            .ok_or_else(|| PluginError::invalid_argument("kernel called before bind"))?;
        if param_size == 0 || !params.len().is_multiple_of(param_size) {
            return Err(PluginError::invalid_argument(format!(
                "{} parameters is not a whole number of rows of {param_size}",
                params.len()
            )));
        }
        Ok((params.len() / param_size, param_size, action_dim))
    }
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), PluginError> {
    if got == want {
        Ok(())
    } else {
        Err(PluginError::invalid_argument(format!(
            "{what} has {got} values, expected {want}"
        )))
    }
}

/// An empty gradient slice means "not wanted"; otherwise it must match the parameters.
fn grad_slot(grad: &mut [f32], params: usize) -> Result<Option<&mut [f32]>, PluginError> {
    if grad.is_empty() {
        Ok(None)
    } else {
        check_len("grad", grad.len(), params)?;
        Ok(Some(grad))
    }
}

impl<T: PolicyDistribution> FfiDistribution for DistributionAdapter<T> {
    fn bind(&mut self, space: RStr<'_>) -> RResult<RString, PluginError> {
        let this = &mut *self;
        this.poison.run(|| {
            let space: ActionSpace = parse_json("action space", space.as_str())?;
            space.validate().map_err(PluginError::invalid_argument)?;
            let head: DistributionHead = this.distribution.bind(&space)?;
            if head.action_dim as usize != space.action_dim() || head.param_size() == 0 {
                return Err(PluginError::runtime(format!(
                    "the distribution declares a head with action_dim {} and {} parameters for a space of {} values",
                    head.action_dim,
                    head.param_size(),
                    space.action_dim()
                )));
            }
            this.bound = Some((head.param_size(), head.action_dim as usize));
            to_json(&head)
        })
    }

    fn sample(
        &self,
        params: RSlice<'_, f32>,
        seed: u64,
        mut actions: RSliceMut<'_, f32>,
        mut log_probs: RSliceMut<'_, f32>,
    ) -> RResult<(), PluginError> {
        self.poison.run(|| {
            let (batch, _, action_dim) = self.shape(&params)?;
            check_len("actions", actions.len(), batch * action_dim)?;
            check_len("log_probs", log_probs.len(), batch)?;
            self.distribution
                .sample(&params, seed, &mut actions, &mut log_probs)
        })
    }

    fn mode(
        &self,
        params: RSlice<'_, f32>,
        mut actions: RSliceMut<'_, f32>,
    ) -> RResult<(), PluginError> {
        self.poison.run(|| {
            let (batch, _, action_dim) = self.shape(&params)?;
            check_len("actions", actions.len(), batch * action_dim)?;
            self.distribution.mode(&params, &mut actions)
        })
    }

    fn log_prob(
        &self,
        params: RSlice<'_, f32>,
        actions: RSlice<'_, f32>,
        mut log_probs: RSliceMut<'_, f32>,
        mut grad: RSliceMut<'_, f32>,
    ) -> RResult<(), PluginError> {
        self.poison.run(|| {
            let (batch, _, action_dim) = self.shape(&params)?;
            check_len("actions", actions.len(), batch * action_dim)?;
            check_len("log_probs", log_probs.len(), batch)?;
            let grad = grad_slot(&mut grad, params.len())?;
            self.distribution
                .log_prob(&params, &actions, &mut log_probs, grad)
        })
    }

    fn entropy(
        &self,
        params: RSlice<'_, f32>,
        mut entropy: RSliceMut<'_, f32>,
        mut grad: RSliceMut<'_, f32>,
    ) -> RResult<(), PluginError> {
        self.poison.run(|| {
            let (batch, _, _) = self.shape(&params)?;
            check_len("entropy", entropy.len(), batch)?;
            let grad = grad_slot(&mut grad, params.len())?;
            self.distribution.entropy(&params, &mut entropy, grad)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_symbol_matches_abi_stable() {
        assert_eq!(
            abi_stable_shared::mangled_root_module_loader_name(),
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }

    #[test]
    fn merge_overrides_nested_keys_only() {
        let mut base = serde_json::json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge(&mut base, serde_json::json!({"b": {"c": 5}, "e": true}));
        assert_eq!(
            base,
            serde_json::json!({"a": 1, "b": {"c": 5, "d": 3}, "e": true})
        );
    }
}
