//! Recurrent actor-critic networks (AngoraPy's recurrent `simple`, `deeper` and `wider`): a
//! dense encoder applied at every step, then one recurrent layer whose state runs through the
//! episode.

use angora_plugin_api::{
    Activation, Component, Layer, ModelArchitecture, ModelRequest, ModelSpec, PluginError,
};
use serde::{Deserialize, Serialize};

use crate::feedforward::{actor_critic, dense_stack};

/// The recurrent cell.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CellType {
    /// An Elman network with tanh.
    Rnn,
    /// A gated recurrent unit.
    Gru,
    /// A long short-term memory.
    Lstm,
}

/// Configuration of a recurrent architecture.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecurrentConfig {
    /// Units of each dense encoder layer, input side first (may be empty).
    pub encoder: Vec<u32>,
    /// Encoder activation.
    pub activation: Activation,
    /// The recurrent cell.
    pub cell: CellType,
    /// Units of the recurrent layer.
    pub units: u32,
    /// Share the trunk between policy and value (true) or give the value its own copy,
    /// recurrent layer included.
    pub shared: bool,
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        RecurrentConfig {
            encoder: vec![64],
            activation: Activation::Tanh,
            cell: CellType::Gru,
            units: 64,
            shared: false,
        }
    }
}

/// A recurrent architecture.
pub struct Recurrent {
    config: RecurrentConfig,
}

impl Component for Recurrent {
    type Config = RecurrentConfig;
}

impl ModelArchitecture for Recurrent {
    fn new(config: RecurrentConfig) -> Result<Self, PluginError> {
        if config.units == 0 || config.encoder.contains(&0) {
            return Err(PluginError::invalid_config(
                "units and every encoder layer must be at least 1",
            ));
        }
        Ok(Recurrent { config })
    }

    fn build(&self, request: &ModelRequest) -> Result<ModelSpec, PluginError> {
        let c = &self.config;
        actor_critic(request, c.shared, |spec, prefix, input| {
            let encoded = dense_stack(spec, prefix, input, &c.encoder, c.activation);
            let units = c.units;
            let layer = match c.cell {
                CellType::Rnn => Layer::SimpleRnn { units },
                CellType::Gru => Layer::Gru { units },
                CellType::Lstm => Layer::Lstm { units },
            };
            spec.add(format!("{prefix}recurrent"), layer, &[&encoded])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use angora_plugin_api::SenseSpec;

    #[test]
    fn each_path_has_its_own_recurrent_layer_unless_shared() {
        let request = ModelRequest {
            inputs: vec![SenseSpec::vector("proprioception", 3)],
            policy_params: 2,
        };
        let count = |shared: bool| {
            let config = RecurrentConfig {
                cell: CellType::Lstm,
                shared,
                ..RecurrentConfig::default()
            };
            Recurrent::new(config)
                .unwrap()
                .build(&request)
                .unwrap()
                .nodes
                .iter()
                .filter(|n| n.layer.is_recurrent())
                .count()
        };
        assert_eq!(count(false), 2);
        assert_eq!(count(true), 1);
    }
}
