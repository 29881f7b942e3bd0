//! # Angora host
//!
//! The host runtime behind the `angora` command:
//!
//! - [`plugin`]: finds plugin libraries, loads each one on its own (a bad file never stops
//!   the others), keeps the registry of their components and wraps every call so that a
//!   plugin failure is an error naming the plugin, the component and the operation;
//! - [`model`]: parses and checks declarative model specs (references, shapes, heads);
//! - [`body`]: checks body descriptions against their MJCF models;
//! - [`eval`]: runs episodes of a task with a policy and summarises them;
//! - [`cli`]: the command line.

pub mod body;
pub mod cli;
pub mod eval;
pub mod model;
pub mod nn;
pub mod plugin;
pub mod train;
