//! A trained policy, loaded from a run directory, acting in single environments (for
//! `angora eval RUN_DIR`).

use std::path::Path;

use angora_plugin_api::Sensation;
use burn::tensor::Device;

use super::{
    actor::Actor,
    checkpoint,
    normalize::{NormalizerState, normalize},
    run::{TrainError, read_record},
    setup::{EnvStack, Setup},
};
use crate::{
    eval::Policy,
    nn::{Network, params},
    plugin::{DistributionInstance, Registry},
};

/// A trained policy with frozen normaliser statistics.
pub struct TrainedPolicy {
    actor: Actor,
    distribution: DistributionInstance,
    normalizers: NormalizerState,
    clip: f64,
    deterministic: bool,
    seed: u64,
    steps: u64,
    inputs: Vec<Vec<f32>>,
    log_prob: [f32; 1],
    /// A recurrent policy's state (empty for a feed-forward one).
    memory: Vec<f32>,
}

/// A run's environment and its trained policy.
pub struct LoadedRun {
    /// An environment stack as the run trained on.
    pub env: EnvStack,
    /// The policy.
    pub policy: TrainedPolicy,
}

/// Loads checkpoint `name` (`last`, `best`, `cycle-N`) of the run in `run_dir`.
pub fn load_run(
    registry: &Registry,
    run_dir: &Path,
    name: &str,
    deterministic: bool,
    seed: u64,
) -> Result<LoadedRun, TrainError> {
    let record = read_record(run_dir)?;
    let checkpoint = checkpoint::load(run_dir, name)?;
    let setup = Setup::new(registry, &record.config)?;
    let device = Device::flex();
    let net = Network::new(&setup.model, &setup.head, record.config.seed, &device)?;
    if params::layout(&net) != checkpoint.layout {
        return Err(TrainError::Checkpoint(
            checkpoint::CheckpointError::Corrupt {
                path: run_dir.join(name),
                message: "the parameter layout does not match the model built from config.json"
                    .into(),
            },
        ));
    }
    let net = params::load(net, &checkpoint.params);
    let actor = Actor::new(net, &setup.senses, &setup.head, device);
    let inputs = vec![Vec::new(); actor.slots.len()];
    let memory = vec![0.0; actor.memory_size()];
    let policy = TrainedPolicy {
        actor,
        distribution: setup.distribution()?,
        normalizers: checkpoint.normalizers,
        clip: record.config.normalization.clip,
        deterministic,
        seed,
        steps: 0,
        inputs,
        log_prob: [0.0],
        memory,
    };
    Ok(LoadedRun {
        env: setup.env()?,
        policy,
    })
}

impl Policy for TrainedPolicy {
    fn start_episode(&mut self) {
        self.memory.fill(0.0);
    }

    fn act(&mut self, sensation: &Sensation, action: &mut [f32]) -> anyhow::Result<()> {
        for (slot, (&sense, buffer)) in self
            .actor
            .slots
            .iter()
            .zip(self.inputs.iter_mut())
            .enumerate()
        {
            buffer.clear();
            buffer.extend_from_slice(&sensation.senses[sense]);
            if let Some(moments) = &self.normalizers.senses[slot] {
                normalize(buffer, moments, self.clip);
            }
        }
        let (params, _) = self.actor.step(&self.inputs, 1, &mut self.memory, &[1.0]);
        if self.deterministic {
            self.distribution.mode(&params, action)?;
        } else {
            self.steps += 1;
            let seed = super::gather::derive_seed(self.seed, 4, self.steps, 0, 0);
            self.distribution
                .sample(&params, seed, action, &mut self.log_prob)?;
        }
        Ok(())
    }
}
