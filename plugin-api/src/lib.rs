//! # Angora plugin API
//!
//! The stable binary interface between the Angora host and its plugin libraries. A plugin is a
//! `cdylib` that depends on this crate alone, implements one or more component traits, and
//! registers them:
//!
//! | kind | trait | what it does |
//! |---|---|---|
//! | task | [`Task`] | declares senses and an action space; `reset` and `step` |
//! | body | [`Body`] | describes a physical plant (MJCF, actuators, sensors) as data |
//! | encoder | [`SensationEncoder`] | transforms raw senses into network inputs, per step |
//! | model | [`ModelArchitecture`] | returns a declarative [`ModelSpec`] for given inputs |
//! | distribution | [`PolicyDistribution`] | head declaration and batched kernels with gradients |
//!
//! ```text
//! use angora_plugin_api::{register, export_plugin};
//! register!(task MyTask, "MyTask-v0", "What the task is about.");
//! export_plugin!();
//! ```
//!
//! `examples/out-of-tree-plugin` is a complete plugin built and run by the test suite, and
//! `docs/plugins.md` walks through it.
//!
//! ## What crosses the boundary
//! Only plain data: numbers, `RString`, `RVec<f32>`, slices and small enums on the hot path
//! ([`Sensation`], [`StepOutput`], kernel slices), and serde types serialised as JSON on the
//! cold path (configs, [`TaskSpec`], [`BodyDescription`], [`ModelSpec`],
//! [`DistributionHead`]). Panics never cross: the adapters catch them and return a
//! [`PluginError`]. The host checks the layout of every type in [`ffi`] when it loads a
//! library and refuses one built against an incompatible version of this crate.

mod body;
mod buffers;
pub mod component;
mod distribution;
mod error;
#[doc(hidden)]
pub mod export;
pub mod ffi;
mod model;
mod spec;

// Public surface: every item below is part of the plugin API's semver contract.
pub use body::{ActuatorSpec, BodyDescription, ControlMode, MjcfSource, SensorGroup, SensorKind};
pub use buffers::{Sensation, StepOutput};
pub use component::{
    Body, Component, ModelArchitecture, PolicyDistribution, SensationEncoder, Task,
};
pub use distribution::{DistributionHead, HeadActivation, ParamGroup, ParamSource};
pub use error::{ErrorKind, PluginError};
#[doc(hidden)]
pub use export::__private;
pub use export::Registration;
pub use ffi::{ComponentDescriptor, ComponentKind, PluginRoot, PluginRoot_Ref};
pub use model::{Activation, Layer, ModelRequest, ModelSpec, Node, Padding};
pub use spec::{
    ASYMMETRIC, ActionSpace, DType, MetricAggregate, MetricSpec, SENSE_NAMES, SenseSpec, TaskSpec,
    is_standard_sense, validate_senses,
};

/// The version of this crate, which is the version of the ABI a plugin was built against.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
