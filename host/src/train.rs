//! Training: PPO with GAE on burn, gathering workers, normalisation, checkpoints and runs.

pub mod actor;
pub mod adam;
pub mod backend;
pub mod checkpoint;
pub mod comm;
pub mod config;
pub mod gae;
pub mod gather;
pub mod normalize;
pub mod policy;
pub mod ppo;
pub mod run;
pub mod setup;
pub mod writer;
