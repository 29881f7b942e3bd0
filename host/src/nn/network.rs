//! The compiler from a checked model spec to a burn module, and its forward pass.
//!
//! The module keeps its parameters in a few typed lists (dense layers, layer norms,
//! convolutions, the policy head's groups, the value head) and a plan: the nodes in evaluation
//! order with indices into those lists. Weights are initialised from the run's seed (see
//! [`super::init`]), never from burn's global random state.

use std::sync::Arc;

use angora_plugin_api::{
    Activation, DistributionHead, HeadActivation, Layer, Padding, ParamSource,
};
use burn::{
    module::{Module, Param},
    nn::{
        LayerNorm, LayerNormConfig, Linear, PaddingConfig2d,
        conv::{Conv2d, Conv2dConfig},
        pool::{AvgPool2d, AvgPool2dConfig, MaxPool2d, MaxPool2dConfig},
    },
    tensor::{Device, Tensor, TensorData, activation},
};

use super::init::{orthogonal, param_rng};
use crate::model::CheckedModel;

/// Why a spec cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot compile model node '{node}': {reason}")]
pub struct CompileError {
    /// The node.
    pub node: String,
    /// Why.
    pub reason: String,
}

/// The default orthogonal gain of hidden dense layers.
const HIDDEN_GAIN: f32 = std::f32::consts::SQRT_2;

#[derive(Debug, Clone, Copy)]
enum Op {
    Input {
        slot: usize,
    },
    Dense {
        index: usize,
        activation: Activation,
    },
    Activation(Activation),
    Flatten,
    Concat,
    LayerNorm {
        index: usize,
    },
    Conv {
        index: usize,
        activation: Activation,
    },
    MaxPool {
        index: usize,
    },
    AvgPool {
        index: usize,
    },
    PolicyHead,
    ValueHead,
}

#[derive(Debug, Clone)]
struct Step {
    op: Op,
    inputs: Vec<usize>,
}

/// One group of the policy head.
#[derive(Debug, Clone, Copy)]
enum HeadGroup {
    Linear {
        index: usize,
        activation: HeadActivation,
    },
    Free {
        index: usize,
        activation: HeadActivation,
    },
}

#[derive(Debug)]
struct Plan {
    steps: Vec<Step>,
    head: Vec<HeadGroup>,
    /// The senses the inputs are read from, by slot.
    input_senses: Vec<String>,
    input_shapes: Vec<Vec<usize>>,
}

/// A compiled actor-critic network.
#[derive(Module, Debug)]
pub struct Network {
    dense: Vec<Linear>,
    norms: Vec<LayerNorm>,
    convs: Vec<Conv2d>,
    max_pools: Vec<MaxPool2d>,
    avg_pools: Vec<AvgPool2d>,
    head_linear: Vec<Linear>,
    head_free: Vec<Param<Tensor<1>>>,
    value: Vec<Linear>,
    #[module(skip)]
    plan: Arc<Plan>,
}

/// A node's output: a batch of vectors or of images (`[batch, height, width, channels]`).
enum Value {
    Vector(Tensor<2>),
    Image(Tensor<4>),
}

impl Value {
    fn vector(self) -> Tensor<2> {
        match self {
            Value::Vector(t) => t,
            Value::Image(t) => {
                let [b, h, w, c] = t.dims();
                t.reshape([b, h * w * c])
            }
        }
    }

    fn image(self) -> Tensor<4> {
        match self {
            Value::Image(t) => t,
            Value::Vector(_) => unreachable!("the spec check guarantees image inputs"),
        }
    }
}

fn apply<const D: usize>(activation: Activation, x: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Identity => x,
        // tanh(x) = 2 sigmoid(2x) - 1. burn-flex evaluates `tanh` element by element with the C
        // library's tanhf, which took 70% of a PPO update's time (perf, minibatch 2048); its
        // sigmoid goes through expf and is several times faster. The two agree to within
        // 1e-7 absolute (tested below).
        Activation::Tanh => activation::sigmoid(x * 2.0) * 2.0 - 1.0,
        Activation::Relu => activation::relu(x),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Softplus => activation::softplus(x, 1.0),
        Activation::Gelu => activation::gelu(x),
    }
}

/// Creates parameters in a fixed order, each from its own seeded stream.
struct Initialiser<'a> {
    seed: u64,
    next: usize,
    device: &'a Device,
}

impl Initialiser<'_> {
    fn tensor<const D: usize>(&self, values: Vec<f32>, shape: [usize; D]) -> Param<Tensor<D>> {
        Param::from_tensor(Tensor::<D>::from_data(
            TensorData::new(values, shape),
            self.device,
        ))
    }

    /// A dense layer with an orthogonal weight of gain `gain` and a zero bias.
    fn linear(&mut self, inputs: usize, outputs: usize, gain: f32) -> Linear {
        let weight = orthogonal(inputs, outputs, gain, &mut param_rng(self.seed, self.next));
        self.next += 1;
        Linear {
            weight: self.tensor(weight, [inputs, outputs]),
            bias: Some(self.tensor(vec![0.0; outputs], [outputs])),
        }
    }
}

impl Network {
    /// Compiles `model` with a policy head for `head`, initialised from `seed`.
    pub fn new(
        model: &CheckedModel,
        head: &DistributionHead,
        seed: u64,
        device: &Device,
    ) -> Result<Network, CompileError> {
        let mut init = Initialiser {
            seed,
            next: 0,
            device,
        };
        let mut net = Network {
            dense: Vec::new(),
            norms: Vec::new(),
            convs: Vec::new(),
            max_pools: Vec::new(),
            avg_pools: Vec::new(),
            head_linear: Vec::new(),
            head_free: Vec::new(),
            value: Vec::new(),
            plan: Arc::new(Plan {
                steps: vec![],
                head: vec![],
                input_senses: vec![],
                input_shapes: vec![],
            }),
        };
        let mut steps = Vec::with_capacity(model.nodes.len());
        let mut head_groups = Vec::new();
        let (mut input_senses, mut input_shapes) = (Vec::new(), Vec::new());
        for node in &model.nodes {
            let shape: Vec<usize> = node.shape.iter().map(|&d| d as usize).collect();
            let shape = &shape;
            let in_shape = |i: usize| -> Vec<usize> {
                model.nodes[node.inputs[i]]
                    .shape
                    .iter()
                    .map(|&d| d as usize)
                    .collect()
            };
            let op = match &node.layer {
                Layer::Input { sense } => {
                    let slot = match input_senses.iter().position(|s| s == sense) {
                        Some(slot) => slot,
                        None => {
                            input_senses.push(sense.clone());
                            input_shapes.push(shape.clone());
                            input_senses.len() - 1
                        }
                    };
                    Op::Input { slot }
                }
                Layer::Dense {
                    units,
                    activation,
                    init_gain,
                } => {
                    let fan_in = in_shape(0)[0];
                    net.dense.push(init.linear(
                        fan_in,
                        *units as usize,
                        init_gain.unwrap_or(HIDDEN_GAIN),
                    ));
                    Op::Dense {
                        index: net.dense.len() - 1,
                        activation: *activation,
                    }
                }
                Layer::Activation { function } => Op::Activation(*function),
                Layer::Flatten => Op::Flatten,
                Layer::Concat => Op::Concat,
                Layer::LayerNorm => {
                    net.norms.push(LayerNormConfig::new(shape[0]).init(device));
                    Op::LayerNorm {
                        index: net.norms.len() - 1,
                    }
                }
                Layer::Conv2d {
                    filters,
                    kernel,
                    stride,
                    padding,
                    activation,
                } => {
                    let channels = in_shape(0)[2];
                    let k = *kernel as usize;
                    let pad = match padding {
                        Padding::Valid => PaddingConfig2d::Valid,
                        Padding::Same if k % 2 == 1 => PaddingConfig2d::Explicit(
                            (k - 1) / 2,
                            (k - 1) / 2,
                            (k - 1) / 2,
                            (k - 1) / 2,
                        ),
                        Padding::Same => {
                            return Err(CompileError {
                                node: node.name.clone(),
                                reason: "'same' padding needs an odd kernel".into(),
                            });
                        }
                    };
                    let mut conv = Conv2dConfig::new([channels, *filters as usize], [k, k])
                        .with_stride([*stride as usize, *stride as usize])
                        .with_padding(pad)
                        .init(device);
                    // Orthogonal over [filters, channels * k * k], seeded like every other weight.
                    let fan = channels * k * k;
                    let w = orthogonal(
                        *filters as usize,
                        fan,
                        HIDDEN_GAIN,
                        &mut param_rng(seed, init.next),
                    );
                    init.next += 1;
                    conv.weight = init.tensor(w, [*filters as usize, channels, k, k]);
                    conv.bias =
                        Some(init.tensor(vec![0.0; *filters as usize], [*filters as usize]));
                    net.convs.push(conv);
                    Op::Conv {
                        index: net.convs.len() - 1,
                        activation: *activation,
                    }
                }
                Layer::MaxPool2d { kernel, stride } => {
                    let k = *kernel as usize;
                    let s = stride.unwrap_or(*kernel) as usize;
                    net.max_pools
                        .push(MaxPool2dConfig::new([k, k]).with_strides([s, s]).init());
                    Op::MaxPool {
                        index: net.max_pools.len() - 1,
                    }
                }
                Layer::AvgPool2d { kernel, stride } => {
                    let k = *kernel as usize;
                    let s = stride.unwrap_or(*kernel) as usize;
                    net.avg_pools
                        .push(AvgPool2dConfig::new([k, k]).with_strides([s, s]).init());
                    Op::AvgPool {
                        index: net.avg_pools.len() - 1,
                    }
                }
                Layer::SimpleRnn { .. } | Layer::Gru { .. } | Layer::Lstm { .. } => {
                    return Err(CompileError {
                        node: node.name.clone(),
                        reason: "recurrent layers are not supported by this version of the host"
                            .into(),
                    });
                }
                Layer::PolicyHead => {
                    let latent = in_shape(0)[0];
                    for group in &head.params {
                        let size = group.size as usize;
                        head_groups.push(match group.source {
                            ParamSource::Linear { init_gain } => {
                                net.head_linear.push(init.linear(latent, size, init_gain));
                                HeadGroup::Linear {
                                    index: net.head_linear.len() - 1,
                                    activation: group.activation,
                                }
                            }
                            ParamSource::StateIndependent { init: value } => {
                                net.head_free.push(init.tensor(vec![value; size], [size]));
                                HeadGroup::Free {
                                    index: net.head_free.len() - 1,
                                    activation: group.activation,
                                }
                            }
                        });
                    }
                    Op::PolicyHead
                }
                Layer::ValueHead => {
                    net.value.push(init.linear(in_shape(0)[0], 1, 1.0));
                    Op::ValueHead
                }
            };
            steps.push(Step {
                op,
                inputs: node.inputs.clone(),
            });
        }
        net.plan = Arc::new(Plan {
            steps,
            head: head_groups,
            input_senses,
            input_shapes,
        });
        Ok(net)
    }

    /// The senses the network reads, in the order [`Network::forward`] expects them.
    pub fn input_senses(&self) -> &[String] {
        &self.plan.input_senses
    }

    /// The number of values of each input, in input order.
    pub fn input_sizes(&self) -> Vec<usize> {
        self.plan
            .input_shapes
            .iter()
            .map(|s| s.iter().product())
            .collect()
    }

    /// The forward pass.
    ///
    /// # Shapes
    /// - `inputs[i]`: `[batch, size of input i]` (images flattened row-major from
    ///   `[height, width, channels]`)
    /// - returns the distribution parameters `[batch, param_size]` (after the head
    ///   activations) and the values `[batch]`.
    pub fn forward(&self, inputs: &[Tensor<2>]) -> (Tensor<2>, Tensor<1>) {
        let plan = &self.plan;
        let mut values: Vec<Option<Value>> = Vec::with_capacity(plan.steps.len());
        // Each node's output is used by later nodes; the last use takes it, earlier ones clone.
        let mut uses = vec![0usize; plan.steps.len()];
        for step in &plan.steps {
            for &i in &step.inputs {
                uses[i] += 1;
            }
        }
        let take = |values: &mut Vec<Option<Value>>, uses: &mut Vec<usize>, i: usize| -> Value {
            uses[i] -= 1;
            if uses[i] == 0 {
                values[i]
                    .take()
                    .expect("a node's output is available until its last use")
            } else {
                match values[i]
                    .as_ref()
                    .expect("a node's output is available until its last use")
                {
                    Value::Vector(t) => Value::Vector(t.clone()),
                    Value::Image(t) => Value::Image(t.clone()),
                }
            }
        };
        let (mut policy, mut value) = (None, None);
        for step in &plan.steps {
            let out = match step.op {
                Op::Input { slot } => {
                    let x = inputs[slot].clone();
                    match plan.input_shapes[slot].as_slice() {
                        [h, w, c] => {
                            let [b, _] = x.dims();
                            Value::Image(x.reshape([b, *h, *w, *c]))
                        }
                        _ => Value::Vector(x),
                    }
                }
                Op::Dense { index, activation } => {
                    let x = take(&mut values, &mut uses, step.inputs[0]).vector();
                    Value::Vector(apply(activation, self.dense[index].forward(x)))
                }
                Op::Activation(activation) => match take(&mut values, &mut uses, step.inputs[0]) {
                    Value::Vector(x) => Value::Vector(apply(activation, x)),
                    Value::Image(x) => Value::Image(apply(activation, x)),
                },
                Op::Flatten => Value::Vector(take(&mut values, &mut uses, step.inputs[0]).vector()),
                Op::Concat => {
                    let parts: Vec<Tensor<2>> = step
                        .inputs
                        .iter()
                        .map(|&i| take(&mut values, &mut uses, i).vector())
                        .collect();
                    Value::Vector(if parts.len() == 1 {
                        parts.into_iter().next().expect("one part")
                    } else {
                        Tensor::cat(parts, 1)
                    })
                }
                Op::LayerNorm { index } => Value::Vector(
                    self.norms[index]
                        .forward(take(&mut values, &mut uses, step.inputs[0]).vector()),
                ),
                Op::Conv { index, activation } => {
                    // burn convolves [batch, channels, height, width]; senses are channels-last.
                    let x = take(&mut values, &mut uses, step.inputs[0])
                        .image()
                        .permute([0, 3, 1, 2]);
                    let y = apply(activation, self.convs[index].forward(x));
                    Value::Image(y.permute([0, 2, 3, 1]))
                }
                Op::MaxPool { index } => {
                    let x = take(&mut values, &mut uses, step.inputs[0])
                        .image()
                        .permute([0, 3, 1, 2]);
                    Value::Image(self.max_pools[index].forward(x).permute([0, 2, 3, 1]))
                }
                Op::AvgPool { index } => {
                    let x = take(&mut values, &mut uses, step.inputs[0])
                        .image()
                        .permute([0, 3, 1, 2]);
                    Value::Image(self.avg_pools[index].forward(x).permute([0, 2, 3, 1]))
                }
                Op::PolicyHead => {
                    let latent = take(&mut values, &mut uses, step.inputs[0]).vector();
                    let batch = latent.dims()[0];
                    let groups: Vec<Tensor<2>> = plan
                        .head
                        .iter()
                        .map(|group| match *group {
                            HeadGroup::Linear { index, activation } => head_activation(
                                activation,
                                self.head_linear[index].forward(latent.clone()),
                            ),
                            HeadGroup::Free { index, activation } => {
                                let v = self.head_free[index].val();
                                let size = v.dims()[0];
                                head_activation(
                                    activation,
                                    v.unsqueeze::<2>().expand([batch, size]),
                                )
                            }
                        })
                        .collect();
                    policy = Some(if groups.len() == 1 {
                        groups.into_iter().next().expect("one group")
                    } else {
                        Tensor::cat(groups, 1)
                    });
                    values.push(None);
                    continue;
                }
                Op::ValueHead => {
                    let latent = take(&mut values, &mut uses, step.inputs[0]).vector();
                    let v = self.value[0].forward(latent);
                    let batch = v.dims()[0];
                    value = Some(v.reshape([batch]));
                    values.push(None);
                    continue;
                }
            };
            values.push(Some(out));
        }
        (
            policy.expect("the spec has a policy head"),
            value.expect("the spec has a value head"),
        )
    }
}

fn head_activation(activation: HeadActivation, x: Tensor<2>) -> Tensor<2> {
    match activation {
        HeadActivation::Identity => x,
        HeadActivation::SoftplusPlusOne => activation::softplus(x, 1.0) + 1.0,
        HeadActivation::Sigmoid => activation::sigmoid(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tanh_formulation_matches_tanh() {
        let device = Device::flex();
        let xs: Vec<f32> = (-2000..=2000)
            .map(|i| i as f32 / 100.0)
            .chain([1e-6, -1e-6, 90.0, -90.0])
            .collect();
        let n = xs.len();
        let t = Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device);
        let ours: Vec<f32> = apply(Activation::Tanh, t)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (x, y) in xs.iter().zip(ours) {
            assert!(
                (x.tanh() - y).abs() < 2e-7,
                "tanh({x}): {} vs {y}",
                x.tanh()
            );
        }
    }
}
