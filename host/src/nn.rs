//! Neural networks on burn: the compiler from declarative model specs to modules, seeded
//! initialisation, and the flat view of parameters that optimiser and checkpoints use.

pub mod activation;
pub mod init;
pub mod network;
pub mod params;

pub use network::{CompileError, Network, Sequence};
