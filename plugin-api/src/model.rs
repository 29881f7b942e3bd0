//! The declarative model spec: a graph of layers from the host's vocabulary, which the host
//! checks and compiles into neural-network modules on its backend.

use serde::{Deserialize, Serialize};

use crate::SenseSpec;

/// What the host asks a model architecture for.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelRequest {
    /// The senses available as inputs (after encoding), in order.
    pub inputs: Vec<SenseSpec>,
    /// The number of values the policy head must produce per step (the distribution's
    /// parameter size).
    pub policy_params: u32,
}

/// An element-wise activation function.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// No change.
    #[default]
    Identity,
    /// Hyperbolic tangent.
    Tanh,
    /// Rectified linear unit.
    Relu,
    /// Logistic sigmoid.
    Sigmoid,
    /// `ln(1 + exp(x))`.
    Softplus,
    /// Gaussian error linear unit.
    Gelu,
}

/// Padding of a convolution or pooling window.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// No padding: the output shrinks.
    #[default]
    Valid,
    /// Zero padding so that stride 1 keeps the spatial size.
    Same,
}

/// One layer of the vocabulary. Shapes exclude the batch and time dimensions.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// Reads one sense. No inputs.
    Input {
        /// The sense's name; it must be one of the request's inputs.
        sense: String,
    },
    /// A fully connected layer on a vector: `activation(W x + b)`.
    Dense {
        /// Output size.
        units: u32,
        /// Activation applied to the output.
        #[serde(default)]
        activation: Activation,
        /// Orthogonal initialisation gain; the host's default (sqrt 2) when absent.
        #[serde(default)]
        init_gain: Option<f32>,
    },
    /// An element-wise activation.
    Activation {
        /// The function.
        function: Activation,
    },
    /// A 2-D convolution on `[height, width, channels]`.
    Conv2d {
        /// Output channels.
        filters: u32,
        /// Square kernel size.
        kernel: u32,
        /// Stride in both directions.
        #[serde(default = "one")]
        stride: u32,
        /// Padding.
        #[serde(default)]
        padding: Padding,
        /// Activation applied to the output.
        #[serde(default)]
        activation: Activation,
    },
    /// Max pooling on `[height, width, channels]`.
    MaxPool2d {
        /// Square window size.
        kernel: u32,
        /// Stride; the window size when absent.
        #[serde(default)]
        stride: Option<u32>,
    },
    /// Average pooling on `[height, width, channels]`.
    AvgPool2d {
        /// Square window size.
        kernel: u32,
        /// Stride; the window size when absent.
        #[serde(default)]
        stride: Option<u32>,
    },
    /// Flattens any shape to a vector.
    Flatten,
    /// Concatenates vectors.
    Concat,
    /// Layer normalisation of a vector.
    LayerNorm,
    /// An Elman recurrent layer with tanh.
    SimpleRnn {
        /// Hidden size.
        units: u32,
    },
    /// A gated recurrent unit layer.
    Gru {
        /// Hidden size.
        units: u32,
    },
    /// A long short-term memory layer.
    Lstm {
        /// Hidden size.
        units: u32,
    },
    /// The policy head: produces the distribution's parameters from a vector. The host builds
    /// it from the distribution's [`DistributionHead`](crate::DistributionHead).
    PolicyHead,
    /// The value head: a dense layer to one output (orthogonal gain 1).
    ValueHead,
}

fn one() -> u32 {
    1
}

impl Layer {
    /// The layer's `type` tag as written in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            Layer::Input { .. } => "input",
            Layer::Dense { .. } => "dense",
            Layer::Activation { .. } => "activation",
            Layer::Conv2d { .. } => "conv2d",
            Layer::MaxPool2d { .. } => "max_pool2d",
            Layer::AvgPool2d { .. } => "avg_pool2d",
            Layer::Flatten => "flatten",
            Layer::Concat => "concat",
            Layer::LayerNorm => "layer_norm",
            Layer::SimpleRnn { .. } => "simple_rnn",
            Layer::Gru { .. } => "gru",
            Layer::Lstm { .. } => "lstm",
            Layer::PolicyHead => "policy_head",
            Layer::ValueHead => "value_head",
        }
    }

    /// Whether the layer carries state across time steps.
    pub fn is_recurrent(&self) -> bool {
        matches!(
            self,
            Layer::SimpleRnn { .. } | Layer::Gru { .. } | Layer::Lstm { .. }
        )
    }
}

/// One node of the graph: a named layer applied to the outputs of earlier nodes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// A name unique within the spec, used in error messages and checkpoints.
    pub name: String,
    /// The layer.
    pub layer: Layer,
    /// The names of the nodes whose outputs this layer reads, in order.
    #[serde(default)]
    pub inputs: Vec<String>,
}

/// A model: nodes in an order where every node comes after its inputs. Exactly one
/// [`Layer::PolicyHead`] and one [`Layer::ValueHead`]; the `asymmetric` sense may reach only
/// the value head.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The nodes, in evaluation order.
    pub nodes: Vec<Node>,
}

impl ModelSpec {
    /// An empty spec.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a node and returns its name, for chaining.
    pub fn add(&mut self, name: impl Into<String>, layer: Layer, inputs: &[&str]) -> String {
        let name = name.into();
        self.nodes.push(Node {
            name: name.clone(),
            layer,
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
        });
        name
    }
}
