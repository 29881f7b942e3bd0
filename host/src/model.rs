//! Model specs on the host side: parsing a plugin's spec node by node and checking it
//! (references, shapes, heads, the asymmetric rule) before anything is built.

use std::collections::HashMap;

use angora_plugin_api::{
    ASYMMETRIC, DistributionHead, Layer, ModelSpec, Node, Padding, SenseSpec, is_standard_sense,
};

/// A spec that cannot be used, and the node at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("model spec node '{node}': {reason}")]
pub struct SpecError {
    /// The node's name (or its position when it has none).
    pub node: String,
    /// What is wrong.
    pub reason: String,
}

fn fail<T>(node: &str, reason: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError {
        node: node.into(),
        reason: reason.into(),
    })
}

/// Parses a spec's JSON, one node at a time, so an unknown layer type or a bad field names the
/// node it is in.
pub fn parse_spec(text: &str) -> Result<ModelSpec, SpecError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawSpec {
        nodes: Vec<serde_json::Value>,
    }
    let raw: RawSpec = serde_json::from_str(text).map_err(|e| SpecError {
        node: "(spec)".into(),
        reason: format!("not a model spec: {e}"),
    })?;
    let mut nodes = Vec::with_capacity(raw.nodes.len());
    for (i, value) in raw.nodes.into_iter().enumerate() {
        let label = value
            .get("name")
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{i}"));
        let node: Node = serde_json::from_value(value).map_err(|e| SpecError {
            node: label,
            reason: e.to_string(),
        })?;
        nodes.push(node);
    }
    Ok(ModelSpec { nodes })
}

/// One node of a checked spec.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedNode {
    /// The node's name.
    pub name: String,
    /// The layer.
    pub layer: Layer,
    /// Indices of the input nodes.
    pub inputs: Vec<usize>,
    /// The output shape (without batch and time).
    pub shape: Vec<u32>,
    /// Whether the node depends on the `asymmetric` sense.
    pub reads_asymmetric: bool,
}

/// A spec whose references and shapes are consistent.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedModel {
    /// Nodes in evaluation order.
    pub nodes: Vec<CheckedNode>,
    /// Index of the policy head.
    pub policy_head: usize,
    /// Index of the value head.
    pub value_head: usize,
}

impl CheckedModel {
    /// Whether any layer is recurrent.
    pub fn is_recurrent(&self) -> bool {
        self.nodes.iter().any(|n| n.layer.is_recurrent())
    }

    /// The senses the model reads.
    pub fn senses(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter_map(|n| match &n.layer {
                Layer::Input { sense } => Some(sense.as_str()),
                _ => None,
            })
            .collect()
    }
}

fn window_out(
    node: &str,
    size: u32,
    kernel: u32,
    stride: u32,
    padding: Padding,
) -> Result<u32, SpecError> {
    if kernel == 0 || stride == 0 {
        return fail(node, "kernel and stride must be at least 1");
    }
    match padding {
        Padding::Same => Ok(size.div_ceil(stride)),
        Padding::Valid if size >= kernel => Ok((size - kernel) / stride + 1),
        Padding::Valid => fail(
            node,
            format!("the window of {kernel} does not fit an input of {size}"),
        ),
    }
}

/// Checks a spec against the inputs it was built for and the distribution's head.
pub fn check(
    spec: &ModelSpec,
    inputs: &[SenseSpec],
    head: &DistributionHead,
) -> Result<CheckedModel, SpecError> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<CheckedNode> = Vec::with_capacity(spec.nodes.len());
    let (mut policy_head, mut value_head) = (None, None);

    for node in &spec.nodes {
        let name = node.name.as_str();
        if name.is_empty() {
            return fail(&format!("#{}", nodes.len()), "every node needs a name");
        }
        if index.contains_key(name) {
            return fail(name, "the name is used by an earlier node");
        }
        let mut input_ids = Vec::with_capacity(node.inputs.len());
        for input in &node.inputs {
            match index.get(input.as_str()) {
                Some(&i) => input_ids.push(i),
                None => {
                    return fail(
                        name,
                        format!(
                            "input '{input}' is not an earlier node (nodes must come after their inputs)"
                        ),
                    );
                }
            }
        }
        let shapes: Vec<&[u32]> = input_ids
            .iter()
            .map(|&i| nodes[i].shape.as_slice())
            .collect();
        let single = |what: &str| -> Result<&[u32], SpecError> {
            match shapes.as_slice() {
                [one] => Ok(one),
                _ => fail(
                    name,
                    format!(
                        "a {what} layer takes exactly one input, got {}",
                        shapes.len()
                    ),
                ),
            }
        };
        let vector = |what: &str| -> Result<u32, SpecError> {
            match single(what)? {
                [n] => Ok(*n),
                other => fail(
                    name,
                    format!(
                        "a {what} layer needs a vector input, got shape {other:?} (add a flatten node)"
                    ),
                ),
            }
        };
        let image = |what: &str| -> Result<[u32; 3], SpecError> {
            match single(what)? {
                [h, w, c] => Ok([*h, *w, *c]),
                other => fail(
                    name,
                    format!(
                        "a {what} layer needs a [height, width, channels] input, got {other:?}"
                    ),
                ),
            }
        };
        let positive = |units: u32| {
            if units == 0 {
                fail(name, "units must be at least 1")
            } else {
                Ok(units)
            }
        };

        let shape: Vec<u32> = match &node.layer {
            Layer::Input { sense } => {
                if !node.inputs.is_empty() {
                    return fail(name, "an input node takes no inputs");
                }
                if !is_standard_sense(sense) {
                    return fail(
                        name,
                        format!(
                            "'{sense}' is not one of the senses a model may read (vision, touch, proprioception, goal, asymmetric)"
                        ),
                    );
                }
                match inputs.iter().find(|s| &s.name == sense) {
                    Some(s) => s.shape.clone(),
                    None => {
                        let available: Vec<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
                        return fail(
                            name,
                            format!(
                                "reads sense '{sense}', which the task does not provide (it provides {available:?})"
                            ),
                        );
                    }
                }
            }
            Layer::Dense { units, .. } => {
                vector("dense")?;
                vec![positive(*units)?]
            }
            Layer::Activation { .. } => single("activation")?.to_vec(),
            Layer::LayerNorm => vec![vector("layer_norm")?],
            Layer::Flatten => vec![single("flatten")?.iter().product()],
            Layer::Concat => {
                if shapes.is_empty() {
                    return fail(name, "a concat layer needs at least one input");
                }
                let mut total = 0;
                for (input, shape) in node.inputs.iter().zip(&shapes) {
                    match shape {
                        [n] => total += n,
                        other => {
                            return fail(
                                name,
                                format!("concat needs vectors, but '{input}' has shape {other:?}"),
                            );
                        }
                    }
                }
                vec![total]
            }
            Layer::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => {
                let [h, w, _] = image("conv2d")?;
                vec![
                    window_out(name, h, *kernel, *stride, *padding)?,
                    window_out(name, w, *kernel, *stride, *padding)?,
                    positive(*filters)?,
                ]
            }
            Layer::MaxPool2d { kernel, stride } | Layer::AvgPool2d { kernel, stride } => {
                let [h, w, c] = image(node.layer.type_name())?;
                let stride = stride.unwrap_or(*kernel);
                vec![
                    window_out(name, h, *kernel, stride, Padding::Valid)?,
                    window_out(name, w, *kernel, stride, Padding::Valid)?,
                    c,
                ]
            }
            Layer::SimpleRnn { units } | Layer::Gru { units } | Layer::Lstm { units } => {
                vector(node.layer.type_name())?;
                vec![positive(*units)?]
            }
            Layer::PolicyHead => {
                vector("policy_head")?;
                if policy_head.replace(nodes.len()).is_some() {
                    return fail(name, "a spec has exactly one policy head");
                }
                vec![head.param_size() as u32]
            }
            Layer::ValueHead => {
                vector("value_head")?;
                if value_head.replace(nodes.len()).is_some() {
                    return fail(name, "a spec has exactly one value head");
                }
                vec![1]
            }
        };
        let reads_asymmetric = matches!(&node.layer, Layer::Input { sense } if sense == ASYMMETRIC)
            || input_ids.iter().any(|&i| nodes[i].reads_asymmetric);
        if matches!(node.layer, Layer::PolicyHead) && reads_asymmetric {
            return fail(
                name,
                "the policy head depends on the 'asymmetric' sense, which only the value path may read",
            );
        }
        index.insert(name, nodes.len());
        nodes.push(CheckedNode {
            name: name.into(),
            layer: node.layer.clone(),
            inputs: input_ids,
            shape,
            reads_asymmetric,
        });
    }
    let Some(policy_head) = policy_head else {
        return fail("(spec)", "the spec has no policy_head node");
    };
    let Some(value_head) = value_head else {
        return fail("(spec)", "the spec has no value_head node");
    };
    Ok(CheckedModel {
        nodes,
        policy_head,
        value_head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use angora_plugin_api::{Activation, HeadActivation, ParamGroup, ParamSource};

    fn head(n: u32) -> DistributionHead {
        DistributionHead {
            action_dim: 1,
            params: vec![ParamGroup {
                name: "logits".into(),
                size: n,
                source: ParamSource::Linear { init_gain: 0.01 },
                activation: HeadActivation::Identity,
            }],
        }
    }

    fn dense(units: u32) -> Layer {
        Layer::Dense {
            units,
            activation: Activation::Tanh,
            init_gain: None,
        }
    }

    #[test]
    fn infers_shapes_through_a_conv_stack() {
        let mut spec = ModelSpec::new();
        spec.add(
            "img",
            Layer::Input {
                sense: "vision".into(),
            },
            &[],
        );
        spec.add(
            "conv",
            Layer::Conv2d {
                filters: 8,
                kernel: 5,
                stride: 2,
                padding: Padding::Valid,
                activation: Activation::Relu,
            },
            &["img"],
        );
        spec.add(
            "pool",
            Layer::MaxPool2d {
                kernel: 2,
                stride: None,
            },
            &["conv"],
        );
        spec.add("flat", Layer::Flatten, &["pool"]);
        spec.add("pi", Layer::PolicyHead, &["flat"]);
        spec.add("v", Layer::ValueHead, &["flat"]);
        let inputs = [SenseSpec {
            name: "vision".into(),
            shape: vec![64, 64, 3],
            dtype: Default::default(),
        }];
        let checked = check(&spec, &inputs, &head(3)).unwrap();
        assert_eq!(checked.nodes[1].shape, vec![30, 30, 8]);
        assert_eq!(checked.nodes[2].shape, vec![15, 15, 8]);
        assert_eq!(checked.nodes[3].shape, vec![1800]);
        assert_eq!(checked.nodes[4].shape, vec![3]);
    }

    #[test]
    fn names_the_node_at_fault() {
        let mut spec = ModelSpec::new();
        spec.add(
            "p",
            Layer::Input {
                sense: "proprioception".into(),
            },
            &[],
        );
        spec.add("h", dense(8), &["missing"]);
        let err = check(&spec, &[SenseSpec::vector("proprioception", 4)], &head(2)).unwrap_err();
        assert_eq!(err.node, "h");

        let err =
            parse_spec(r#"{"nodes":[{"name":"x","layer":{"type":"transformer"}}]}"#).unwrap_err();
        assert_eq!(err.node, "x");
        assert!(err.reason.contains("transformer"), "{}", err.reason);
    }

    #[test]
    fn policy_may_not_read_asymmetric() {
        let mut spec = ModelSpec::new();
        spec.add(
            "a",
            Layer::Input {
                sense: "asymmetric".into(),
            },
            &[],
        );
        spec.add("pi", Layer::PolicyHead, &["a"]);
        spec.add("v", Layer::ValueHead, &["a"]);
        let err = check(&spec, &[SenseSpec::vector("asymmetric", 4)], &head(2)).unwrap_err();
        assert_eq!(err.node, "pi");
    }
}
