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
    tensor::{Device, Tensor, TensorData, activation as burn_activation},
};

use super::activation;
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

/// The fewest rows (steps x sequences) a recurrent layer's input projection is computed for
/// in one product (measured: 64 balances the cost of the product against the cost of
/// scattering each step's gradient into its block; docs/benchmarks.md).
const PROJECTION_ROWS: usize = 64;

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
    Recurrent {
        index: usize,
        cell: Cell,
        units: usize,
        /// The first of this layer's entries in the state list.
        state: usize,
    },
    PolicyHead,
    ValueHead,
}

/// The recurrent cell types. Gates are laid out in blocks of `units` columns, in the order
/// given for each variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    /// `h' = tanh(x Wx + b + h Wh)`; state `[h]`.
    Simple,
    /// Gates `[z, r, n]` with the reset gate applied after the hidden product (cuDNN, PyTorch
    /// and Keras' `reset_after=True`): `n = tanh(x Wxn + bxn + r * (h Whn + bhn))`,
    /// `h' = (1 - z) n + z h`; state `[h]`.
    Gru,
    /// Gates `[i, f, o, g]` (the three sigmoid gates first, so that one sigmoid covers
    /// them): `c' = f c + i g`, `h' = o tanh(c')`; state `[h, c]`.
    Lstm,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }

    fn states(self) -> usize {
        match self {
            Cell::Lstm => 2,
            _ => 1,
        }
    }
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
    /// The size of each entry of the recurrent state, in state order.
    state_sizes: Vec<usize>,
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
    /// Per recurrent layer, the input projection to all gates (with the bias).
    recurrent_input: Vec<Linear>,
    /// Per recurrent layer, the hidden-state projection to all gates (GRU: with its own bias).
    recurrent_hidden: Vec<Linear>,
    #[module(skip)]
    plan: Arc<Plan>,
}

/// The recurrent context of a forward pass over sequences.
///
/// Rows of the inputs are time-major: row `t * batch + b` is step `t` of sequence `b`.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// Sequences in the batch.
    pub batch: usize,
    /// The state before the first step, one `[batch, size]` tensor per entry of
    /// [`Network::state_sizes`].
    pub state: Vec<Tensor<2>>,
    /// `[time, batch]`: 1 where the sequence carries its state into the step, 0 where the
    /// state is reset to zero before it (the first step of an episode). None: never reset.
    pub keep: Option<Tensor<2>>,
    /// Cut the gradient through the state every this many steps (truncated backpropagation
    /// through time); none: backpropagate through the whole sequence.
    pub truncate: Option<usize>,
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
        Activation::Tanh => activation::tanh(x),
        Activation::Relu => burn_activation::relu(x),
        Activation::Sigmoid => activation::sigmoid(x),
        Activation::Softplus => burn_activation::softplus(x, 1.0),
        Activation::Gelu => burn_activation::gelu(x),
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

    /// The two projections of a recurrent layer: orthogonal weights of gain 1 (the whole
    /// `[inputs, gates * units]` and `[units, gates * units]` matrices), zero biases except an
    /// LSTM's forget gate, which starts at 1 (Jozefowicz et al. 2015; Keras' default).
    fn recurrent(&mut self, inputs: usize, units: usize, cell: Cell) -> (Linear, Linear) {
        let width = cell.gates() * units;
        let mut input = self.linear(inputs, width, 1.0);
        if cell == Cell::Lstm {
            let mut bias = vec![0.0; width];
            bias[units..2 * units].fill(1.0);
            input.bias = Some(self.tensor(bias, [width]));
        }
        let mut hidden = self.linear(units, width, 1.0);
        if cell != Cell::Gru {
            hidden.bias = None;
        }
        (input, hidden)
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
            recurrent_input: Vec::new(),
            recurrent_hidden: Vec::new(),
            plan: Arc::new(Plan {
                steps: vec![],
                head: vec![],
                input_senses: vec![],
                input_shapes: vec![],
                state_sizes: vec![],
            }),
        };
        let mut state_sizes = Vec::new();
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
                Layer::SimpleRnn { units } | Layer::Gru { units } | Layer::Lstm { units } => {
                    let cell = match &node.layer {
                        Layer::SimpleRnn { .. } => Cell::Simple,
                        Layer::Gru { .. } => Cell::Gru,
                        _ => Cell::Lstm,
                    };
                    let units = *units as usize;
                    let (input, hidden) = init.recurrent(in_shape(0)[0], units, cell);
                    net.recurrent_input.push(input);
                    net.recurrent_hidden.push(hidden);
                    let state = state_sizes.len();
                    state_sizes.extend(std::iter::repeat_n(units, cell.states()));
                    Op::Recurrent {
                        index: net.recurrent_input.len() - 1,
                        cell,
                        units,
                        state,
                    }
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
            state_sizes,
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

    /// Whether the network carries state across steps.
    pub fn is_recurrent(&self) -> bool {
        !self.plan.state_sizes.is_empty()
    }

    /// The size of each entry of the recurrent state (an LSTM has two: `h` then `c`); empty
    /// for a feed-forward network.
    pub fn state_sizes(&self) -> &[usize] {
        &self.plan.state_sizes
    }

    /// An all-zero state for `batch` sequences.
    pub fn zero_state(&self, batch: usize, device: &Device) -> Vec<Tensor<2>> {
        self.plan
            .state_sizes
            .iter()
            .map(|&n| Tensor::<2>::zeros([batch, n], device))
            .collect()
    }

    /// The forward pass of one step from a zero state (for a feed-forward network, the only
    /// kind of step there is).
    ///
    /// # Shapes
    /// - `inputs[i]`: `[batch, size of input i]` (images flattened row-major from
    ///   `[height, width, channels]`)
    /// - returns the distribution parameters `[batch, param_size]` (after the head
    ///   activations) and the values `[batch]`.
    pub fn forward(&self, inputs: &[Tensor<2>]) -> (Tensor<2>, Tensor<1>) {
        if self.is_recurrent() {
            let first = inputs.first().expect("a network reads at least one input");
            let (batch, device) = (first.dims()[0], first.device());
            let seq = Sequence {
                batch,
                state: self.zero_state(batch, &device),
                keep: None,
                truncate: None,
            };
            let (p, v, _) = self.forward_sequence(inputs, seq);
            return (p, v);
        }
        let (p, v, _) = self.run(inputs, None);
        (p, v)
    }

    /// The forward pass over `seq.batch` sequences of `rows / seq.batch` steps.
    ///
    /// # Shapes
    /// - `inputs[i]`: `[time * batch, size of input i]`, time-major (see [`Sequence`])
    /// - returns the distribution parameters `[time * batch, param_size]`, the values
    ///   `[time * batch]` (both time-major) and the state after the last step.
    pub fn forward_sequence(
        &self,
        inputs: &[Tensor<2>],
        seq: Sequence,
    ) -> (Tensor<2>, Tensor<1>, Vec<Tensor<2>>) {
        let (p, v, state) = self.run(inputs, Some(seq));
        (p, v, state.map(|s| s.state).unwrap_or_default())
    }

    fn run(
        &self,
        inputs: &[Tensor<2>],
        mut seq: Option<Sequence>,
    ) -> (Tensor<2>, Tensor<1>, Option<Sequence>) {
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
                Op::Recurrent {
                    index,
                    cell,
                    units,
                    state,
                } => {
                    let x = take(&mut values, &mut uses, step.inputs[0]).vector();
                    let seq = seq
                        .as_mut()
                        .expect("a recurrent network runs with a sequence context");
                    Value::Vector(self.recurrent(index, cell, units, state, x, seq))
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
            seq,
        )
    }

    /// Runs recurrent layer `index` over the time-major rows `x`, updating `seq.state`.
    fn recurrent(
        &self,
        index: usize,
        cell: Cell,
        units: usize,
        first_state: usize,
        x: Tensor<2>,
        seq: &mut Sequence,
    ) -> Tensor<2> {
        let batch = seq.batch;
        let rows = x.dims()[0];
        let time = rows / batch.max(1);
        let hidden = &self.recurrent_hidden[index];
        let mut h = seq.state[first_state].clone();
        let mut c = (cell == Cell::Lstm).then(|| seq.state[first_state + 1].clone());
        let mut outputs = Vec::with_capacity(time);
        // The input projection of a block of steps is one matrix product; only the hidden
        // product is sequential. Blocks keep the backward pass linear in the sequence length
        // (the gradient of each step's slice is scattered into a tensor the size of its block,
        // not of the whole sequence) while giving the product at least PROJECTION_ROWS rows.
        let block = seq
            .truncate
            .unwrap_or(1)
            .max(PROJECTION_ROWS.div_ceil(batch.max(1)));
        for start in (0..time).step_by(block) {
            let len = block.min(time - start);
            let projected = self.recurrent_input[index].forward(x.clone().narrow(
                0,
                start * batch,
                len * batch,
            ));
            for t in start..start + len {
                if let Some(every) = seq.truncate
                    && t > 0
                    && t % every == 0
                {
                    h = h.detach();
                    c = c.map(Tensor::detach);
                }
                if let Some(keep) = &seq.keep {
                    let k = keep.clone().narrow(0, t, 1).reshape([batch, 1]);
                    h = h * k.clone();
                    c = c.map(|c| c * k);
                }
                let gx = projected.clone().narrow(0, (t - start) * batch, batch);
                let gh = hidden.forward(h.clone());
                match cell {
                    Cell::Simple => h = activation::tanh(gx + gh),
                    Cell::Gru => {
                        let zr = activation::sigmoid(
                            gx.clone().narrow(1, 0, 2 * units) + gh.clone().narrow(1, 0, 2 * units),
                        );
                        let z = zr.clone().narrow(1, 0, units);
                        let r = zr.narrow(1, units, units);
                        let n = activation::tanh(
                            gx.narrow(1, 2 * units, units) + r * gh.narrow(1, 2 * units, units),
                        );
                        h = n.clone() + z * (h - n);
                    }
                    Cell::Lstm => {
                        let gates = gx + gh;
                        let ifo = activation::sigmoid(gates.clone().narrow(1, 0, 3 * units));
                        let g = activation::tanh(gates.narrow(1, 3 * units, units));
                        let i = ifo.clone().narrow(1, 0, units);
                        let f = ifo.clone().narrow(1, units, units);
                        let o = ifo.narrow(1, 2 * units, units);
                        let c_next = f * c.take().expect("an LSTM has a cell state") + i * g;
                        h = o * activation::tanh(c_next.clone());
                        c = Some(c_next);
                    }
                }
                outputs.push(h.clone());
            }
        }
        seq.state[first_state] = h;
        if let Some(c) = c {
            seq.state[first_state + 1] = c;
        }
        Tensor::cat(outputs, 0)
    }
}

fn head_activation(activation: HeadActivation, x: Tensor<2>) -> Tensor<2> {
    match activation {
        HeadActivation::Identity => x,
        HeadActivation::SoftplusPlusOne => burn_activation::softplus(x, 1.0) + 1.0,
        HeadActivation::Sigmoid => activation::sigmoid(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model;
    use angora_plugin_api::{ModelSpec, ParamGroup, SenseSpec};
    use burn::nn::{GruConfig, LstmConfig};

    /// A small deterministic stream of numbers in [-1, 1).
    fn numbers(seed: u64, n: usize) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(a: &[f32], b: &[f32], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}: lengths");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5, "{what}[{i}]: {x} vs {y}");
        }
    }

    const IN: usize = 5;

    /// input(5) -> dense(6, tanh) -> `recurrent` -> both heads; 2 policy parameters.
    fn recurrent_net(recurrent: Layer, device: &Device) -> Network {
        let mut spec = ModelSpec::new();
        spec.add(
            "x",
            Layer::Input {
                sense: "proprioception".into(),
            },
            &[],
        );
        spec.add(
            "dense",
            Layer::Dense {
                units: 6,
                activation: Activation::Tanh,
                init_gain: None,
            },
            &["x"],
        );
        spec.add("rnn", recurrent, &["dense"]);
        spec.add("pi", Layer::PolicyHead, &["rnn"]);
        spec.add("v", Layer::ValueHead, &["rnn"]);
        let head = DistributionHead {
            action_dim: 1,
            params: vec![ParamGroup {
                name: "logits".into(),
                size: 2,
                source: ParamSource::Linear { init_gain: 1.0 },
                activation: HeadActivation::Identity,
            }],
        };
        let checked = model::check(
            &spec,
            &[SenseSpec::vector("proprioception", IN as u32)],
            &head,
        )
        .unwrap();
        Network::new(&checked, &head, 5, device).unwrap()
    }

    fn cells() -> [Layer; 3] {
        [
            Layer::SimpleRnn { units: 4 },
            Layer::Gru { units: 4 },
            Layer::Lstm { units: 4 },
        ]
    }

    fn input(seed: u64, time: usize, batch: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(numbers(seed, time * batch * IN), [time * batch, IN]),
            device,
        )
    }

    fn sequence(net: &Network, batch: usize, keep: Option<Tensor<2>>) -> Sequence {
        let device = Device::flex();
        Sequence {
            batch,
            state: net.zero_state(batch, &device),
            keep,
            truncate: None,
        }
    }

    /// Acceptance test (c): chunks run in order, each starting from the state the previous
    /// one ended in, give the same outputs as the whole sequence at once.
    #[test]
    fn chunks_with_carried_state_equal_the_whole_sequence() {
        let device = Device::flex();
        let (time, batch, chunk) = (12, 3, 4);
        for cell in cells() {
            let name = cell.type_name();
            let net = recurrent_net(cell, &device);
            let x = input(1, time, batch, &device);
            let (p, v, end) =
                net.forward_sequence(std::slice::from_ref(&x), sequence(&net, batch, None));
            let (mut ps, mut vs) = (Vec::new(), Vec::new());
            let mut state = net.zero_state(batch, &device);
            for c in 0..time / chunk {
                let part = x.clone().narrow(0, c * chunk * batch, chunk * batch);
                let seq = Sequence {
                    state,
                    ..sequence(&net, batch, None)
                };
                let (p, v, next) = net.forward_sequence(&[part], seq);
                ps.extend(values(p));
                vs.extend(values(v));
                state = next;
            }
            assert_close(&ps, &values(p), &format!("{name} policy"));
            assert_close(&vs, &values(v), &format!("{name} value"));
            for (a, b) in state.into_iter().zip(end) {
                assert_close(&values(a), &values(b), &format!("{name} state"));
            }
            // A chunk that starts from a zero state instead differs: the state matters.
            let tail = x.clone().narrow(0, chunk * batch, chunk * batch);
            let (p_fresh, _, _) = net.forward_sequence(&[tail], sequence(&net, batch, None));
            let whole = values(net.forward_sequence(&[x], sequence(&net, batch, None)).0);
            let fresh = values(p_fresh);
            let offset = chunk * batch * 2;
            assert!(
                fresh
                    .iter()
                    .zip(&whole[offset..])
                    .any(|(a, b)| (a - b).abs() > 1e-4),
                "{name}: the carried state changes the outputs"
            );
        }
    }

    /// Acceptance test (d): a reset inside a chunk starts the sequence afresh from that step.
    #[test]
    fn the_state_resets_at_an_episode_boundary_inside_a_chunk() {
        let device = Device::flex();
        let (time, batch, boundary) = (10, 2, 6);
        for cell in cells() {
            let name = cell.type_name();
            let net = recurrent_net(cell, &device);
            let x = input(2, time, batch, &device);
            // Sequence 1 starts a new episode at step 6; sequence 0 runs on.
            let mut keep = vec![1.0f32; time * batch];
            keep[boundary * batch + 1] = 0.0;
            let keep = Tensor::<2>::from_data(TensorData::new(keep, [time, batch]), &device);
            let (p, _, _) =
                net.forward_sequence(std::slice::from_ref(&x), sequence(&net, batch, Some(keep)));
            let p = values(p);
            // The second episode of sequence 1 on its own, from a zero state.
            let rows: Vec<f32> = values(x.clone())
                .chunks(IN)
                .enumerate()
                .filter(|(r, _)| r % batch == 1 && r / batch >= boundary)
                .flat_map(|(_, row)| row.to_vec())
                .collect();
            let alone =
                Tensor::<2>::from_data(TensorData::new(rows, [time - boundary, IN]), &device);
            let (p_alone, _, _) = net.forward_sequence(&[alone], sequence(&net, 1, None));
            let from_reset: Vec<f32> = p
                .chunks(2)
                .enumerate()
                .filter(|(r, _)| r % batch == 1 && r / batch >= boundary)
                .flat_map(|(_, row)| row.to_vec())
                .collect();
            assert_close(
                &from_reset,
                &values(p_alone),
                &format!("{name} after the reset"),
            );
            // Sequence 0 is unaffected by sequence 1's reset.
            let (p_plain, _, _) = net.forward_sequence(&[x], sequence(&net, batch, None));
            let plain = values(p_plain);
            for r in (0..time * batch).filter(|r| r % batch == 0) {
                assert_close(&p[r * 2..r * 2 + 2], &plain[r * 2..r * 2 + 2], name);
            }
            // Without the reset sequence 1 would have continued differently.
            let differs = (boundary * batch..time * batch)
                .filter(|r| r % batch == 1)
                .any(|r| (p[r * 2] - plain[r * 2]).abs() > 1e-4);
            assert!(differs, "{name}: the reset changes sequence 1's outputs");
        }
    }

    /// The recurrent layers are plain tensor operations, so every backend computes the same
    /// thing: burn's ndarray backend agrees with flex on every cell (with the `ndarray`
    /// feature; the test suite runs it).
    #[cfg(feature = "ndarray")]
    #[test]
    #[allow(deprecated, reason = "ndarray is kept only as a second CPU backend")]
    fn every_cpu_backend_runs_the_recurrent_cells_alike() {
        let (time, batch) = (6, 3);
        for cell in cells() {
            let name = cell.type_name();
            let run = |device: Device| {
                let net = recurrent_net(cell.clone(), &device);
                let x = input(8, time, batch, &device);
                let mut keep = vec![1.0f32; time * batch];
                keep[3 * batch] = 0.0;
                let keep = Tensor::<2>::from_data(TensorData::new(keep, [time, batch]), &device);
                let seq = Sequence {
                    batch,
                    state: net.zero_state(batch, &device),
                    keep: Some(keep),
                    truncate: None,
                };
                let (p, v, _) = net.forward_sequence(&[x], seq);
                (values(p), values(v))
            };
            let (p_flex, v_flex) = run(Device::flex());
            let (p_nd, v_nd) = run(Device::ndarray());
            assert_close(&p_nd, &p_flex, &format!("{name} policy"));
            assert_close(&v_nd, &v_flex, &format!("{name} value"));
        }
    }

    fn cat_linear(parts: &[&Linear]) -> Linear {
        let weight = Tensor::cat(parts.iter().map(|l| l.weight.val()).collect(), 1);
        let bias = Tensor::cat(
            parts
                .iter()
                .map(|l| l.bias.as_ref().unwrap().val())
                .collect(),
            0,
        );
        Linear {
            weight: Param::from_tensor(weight),
            bias: Some(Param::from_tensor(bias)),
        }
    }

    /// The GRU cell computes what burn's own `Gru` (reset gate after the product) computes.
    #[test]
    fn the_gru_cell_matches_burns_gru() {
        let device = Device::flex();
        let (time, batch, units) = (7, 3, 4);
        let reference = GruConfig::new(IN, units, true).init(&device);
        let gates = [
            &reference.update_gate,
            &reference.reset_gate,
            &reference.new_gate,
        ];
        let mut net = recurrent_net(Layer::Gru { units: 4 }, &device);
        net.recurrent_input[0] = cat_linear(&gates.map(|g| &g.input_transform));
        net.recurrent_hidden[0] = cat_linear(&gates.map(|g| &g.hidden_transform));
        let x = input(3, time, batch, &device);
        let mut seq = sequence(&net, batch, None);
        let ours = net.recurrent(0, Cell::Gru, units, 0, x.clone(), &mut seq);
        // burn's layout is batch-first.
        let x3 = x.reshape([time, batch, IN]).swap_dims(0, 1);
        let theirs = reference
            .forward(x3, None)
            .swap_dims(0, 1)
            .reshape([time * batch, units]);
        assert_close(&values(ours), &values(theirs), "gru");
    }

    /// The LSTM cell computes what burn's own `Lstm` computes (its two biases summed into one).
    #[test]
    fn the_lstm_cell_matches_burns_lstm() {
        let device = Device::flex();
        let (time, batch, units) = (7, 3, 4);
        let reference = LstmConfig::new(IN, units, true).init(&device);
        let forget = reference.forget_gate.as_ref().unwrap();
        let gates = [
            &reference.input_gate,
            forget,
            &reference.output_gate,
            &reference.cell_gate,
        ];
        let mut input_proj = cat_linear(&gates.map(|g| &g.input_transform));
        let hidden_proj = cat_linear(&gates.map(|g| &g.hidden_transform));
        let summed = input_proj.bias.take().unwrap().val() + hidden_proj.bias.unwrap().val();
        input_proj.bias = Some(Param::from_tensor(summed));
        let mut net = recurrent_net(Layer::Lstm { units: 4 }, &device);
        net.recurrent_input[0] = input_proj;
        net.recurrent_hidden[0] = Linear {
            weight: hidden_proj.weight,
            bias: None,
        };
        let x = input(4, time, batch, &device);
        let mut seq = sequence(&net, batch, None);
        let ours = net.recurrent(0, Cell::Lstm, units, 0, x.clone(), &mut seq);
        let x3 = x.reshape([time, batch, IN]).swap_dims(0, 1);
        let (theirs, state) = reference.forward(x3, None);
        let theirs = theirs.swap_dims(0, 1).reshape([time * batch, units]);
        assert_close(&values(ours), &values(theirs), "lstm outputs");
        assert_close(
            &values(seq.state[1].clone()),
            &values(state.cell),
            "lstm cell state",
        );
    }
}
