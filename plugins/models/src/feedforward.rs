//! Feed-forward actor-critic networks (AngoraPy's `simple`, `deeper` and `wider`).

use angora_plugin_api::{
    ASYMMETRIC, Activation, Component, Layer, ModelArchitecture, ModelRequest, ModelSpec,
    PluginError, is_standard_sense,
};
use serde::{Deserialize, Serialize};

/// Configuration of a feed-forward architecture.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FeedForwardConfig {
    /// Units of each hidden layer, input side first.
    pub hidden: Vec<u32>,
    /// Hidden-layer activation.
    pub activation: Activation,
    /// Share the trunk between policy and value (true) or give the value its own copy.
    pub shared: bool,
}

impl Default for FeedForwardConfig {
    fn default() -> Self {
        FeedForwardConfig {
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            shared: false,
        }
    }
}

/// A feed-forward architecture.
pub struct FeedForward {
    config: FeedForwardConfig,
}

impl Component for FeedForward {
    type Config = FeedForwardConfig;
}

/// Adds input nodes for `senses` (flattening any of rank above one), concatenates them if
/// there are several, and returns the name of the resulting vector node.
pub(crate) fn inputs(spec: &mut ModelSpec, prefix: &str, senses: &[(&str, usize)]) -> String {
    let mut names = Vec::new();
    for &(sense, rank) in senses {
        let mut node = spec.add(
            format!("{prefix}{sense}"),
            Layer::Input {
                sense: sense.into(),
            },
            &[],
        );
        if rank > 1 {
            node = spec.add(format!("{prefix}{sense}_flat"), Layer::Flatten, &[&node]);
        }
        names.push(node);
    }
    if names.len() == 1 {
        return names.remove(0);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    spec.add(format!("{prefix}inputs"), Layer::Concat, &refs)
}

/// Adds dense layers of `hidden` units after `input`; returns the last one's name.
pub(crate) fn dense_stack(
    spec: &mut ModelSpec,
    prefix: &str,
    input: String,
    hidden: &[u32],
    activation: Activation,
) -> String {
    let mut last = input;
    for (i, &units) in hidden.iter().enumerate() {
        let layer = Layer::Dense {
            units,
            activation,
            init_gain: None,
        };
        last = spec.add(format!("{prefix}dense{i}"), layer, &[&last]);
    }
    last
}

impl ModelArchitecture for FeedForward {
    fn new(config: FeedForwardConfig) -> Result<Self, PluginError> {
        if config.hidden.is_empty() || config.hidden.contains(&0) {
            return Err(PluginError::invalid_config(
                "hidden must list at least one layer, each with units >= 1",
            ));
        }
        Ok(FeedForward { config })
    }

    fn build(&self, request: &ModelRequest) -> Result<ModelSpec, PluginError> {
        let c = &self.config;
        actor_critic(request, c.shared, |spec, prefix, input| {
            dense_stack(spec, prefix, input, &c.hidden, c.activation)
        })
    }
}

/// The actor-critic layout shared by the architectures of this plugin: the policy path reads
/// every standard sense except `asymmetric`; the value path either sits on the policy's latent
/// (`shared`, with `asymmetric` concatenated in when present) or is a second copy of the trunk
/// over all senses. `trunk(spec, prefix, input)` adds a trunk and returns its output node.
pub(crate) fn actor_critic(
    request: &ModelRequest,
    shared: bool,
    trunk: impl Fn(&mut ModelSpec, &str, String) -> String,
) -> Result<ModelSpec, PluginError> {
    let senses: Vec<(&str, usize)> = request
        .inputs
        .iter()
        .filter(|s| is_standard_sense(&s.name))
        .map(|s| (s.name.as_str(), s.shape.len()))
        .collect();
    let policy_senses: Vec<_> = senses
        .iter()
        .copied()
        .filter(|(n, _)| *n != ASYMMETRIC)
        .collect();
    if policy_senses.is_empty() {
        return Err(PluginError::unsupported(
            "the task provides no sense the policy may read (vision, touch, proprioception or goal)",
        ));
    }
    let asymmetric: Vec<_> = senses
        .iter()
        .copied()
        .filter(|(n, _)| *n == ASYMMETRIC)
        .collect();

    let mut spec = ModelSpec::new();
    let policy_in = inputs(&mut spec, "policy/", &policy_senses);
    let policy_latent = trunk(&mut spec, "policy/", policy_in);
    spec.add("policy/head", Layer::PolicyHead, &[&policy_latent]);

    let value_latent = if shared {
        if asymmetric.is_empty() {
            policy_latent
        } else {
            let extra = inputs(&mut spec, "value/", &asymmetric);
            spec.add("value/inputs", Layer::Concat, &[&policy_latent, &extra])
        }
    } else {
        let value_in = inputs(&mut spec, "value/", &senses);
        trunk(&mut spec, "value/", value_in)
    };
    spec.add("value/head", Layer::ValueHead, &[&value_latent]);
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use angora_plugin_api::SenseSpec;

    fn request(senses: &[&str]) -> ModelRequest {
        ModelRequest {
            inputs: senses.iter().map(|s| SenseSpec::vector(*s, 3)).collect(),
            policy_params: 2,
        }
    }

    #[test]
    fn asymmetric_feeds_only_the_value_path() {
        let model = FeedForward::new(FeedForwardConfig::default()).unwrap();
        let spec = model
            .build(&request(&["proprioception", "asymmetric"]))
            .unwrap();
        let policy_inputs: Vec<_> = spec
            .nodes
            .iter()
            .filter(|n| n.name.starts_with("policy/") && matches!(n.layer, Layer::Input { .. }))
            .collect();
        assert_eq!(policy_inputs.len(), 1);
        assert!(spec.nodes.iter().any(|n| n.name == "value/asymmetric"));
    }

    #[test]
    fn shared_trunk_has_one_stack() {
        let config = FeedForwardConfig {
            shared: true,
            ..FeedForwardConfig::default()
        };
        let spec = FeedForward::new(config)
            .unwrap()
            .build(&request(&["proprioception"]))
            .unwrap();
        let dense = spec
            .nodes
            .iter()
            .filter(|n| matches!(n.layer, Layer::Dense { .. }))
            .count();
        assert_eq!(dense, 2);
    }
}
