//! Plugins: finding and loading libraries, the registry of their components, and host-side
//! handles that turn every plugin failure into an error naming plugin and component.

pub mod component;
pub mod elf;
pub mod loader;
pub mod registry;

pub use component::{
    BodyInstance, CallError, DistributionInstance, EncoderInstance, Ident, ModelInstance,
    TaskInstance,
};
pub use loader::{Library, LoadError, SearchPath};
pub use registry::{ComponentInfo, Problem, Registry, RegistryError};
