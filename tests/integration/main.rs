//! Integration tests against the built `angora` binary and plugin libraries.
//! Run `cargo build --workspace` first (the README's test command does).

mod cli;
mod components;
#[cfg(feature = "wgpu")]
mod gpu;
mod hand;
mod loading;
#[cfg(feature = "mpi")]
mod mpi;
mod mujoco;
mod out_of_tree;
mod ppo_gradients;
mod tbptt;
mod training;
