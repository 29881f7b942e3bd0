//! Acting with a network: batched inference on the inference device, mapping environment
//! senses to network inputs.

use angora_plugin_api::{DistributionHead, SenseSpec};
use burn::tensor::{Device, Tensor, TensorData};

use crate::nn::{Network, Sequence};

/// A network ready for inference, with the mapping from an environment's senses to its inputs.
#[derive(Clone)]
pub struct Actor {
    net: Network,
    device: Device,
    /// For each network input, the index of the environment sense it reads.
    pub slots: Vec<usize>,
    /// For each network input, its number of values.
    pub sizes: Vec<usize>,
    /// For each network input, whether it is a vector (normalisable) rather than an image.
    pub vectors: Vec<bool>,
    /// Distribution parameters per row.
    pub param_size: usize,
    /// Values per action.
    pub action_dim: usize,
}

/// Builds a batch tensor `[batch, size]` from a flat row-major buffer.
pub fn batch_tensor(values: &[f32], batch: usize, size: usize, device: &Device) -> Tensor<2> {
    Tensor::<2>::from_data(TensorData::new(values.to_vec(), [batch, size]), device)
}

/// Reads a tensor back as a flat `f32` vector.
pub fn to_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensors convert to f32")
}

impl Actor {
    /// Wraps `net` (on `device`) for environments producing `senses`.
    pub fn new(
        net: Network,
        senses: &[SenseSpec],
        head: &DistributionHead,
        device: Device,
    ) -> Actor {
        let slots: Vec<usize> = net
            .input_senses()
            .iter()
            .map(|name| {
                senses
                    .iter()
                    .position(|s| &s.name == name)
                    .expect("the model was checked against these senses")
            })
            .collect();
        let sizes = net.input_sizes();
        let vectors = slots.iter().map(|&i| senses[i].shape.len() == 1).collect();
        Actor {
            net,
            device,
            slots,
            sizes,
            vectors,
            param_size: head.param_size(),
            action_dim: head.action_dim as usize,
        }
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Replaces the network's weights.
    pub fn set_network(&mut self, net: Network) {
        self.net = net;
    }

    /// Distribution parameters `[batch, param_size]` and values `[batch]` for a batch of
    /// inputs (one flat buffer per network input).
    pub fn forward(&self, inputs: &[Vec<f32>], batch: usize) -> (Vec<f32>, Vec<f32>) {
        let tensors: Vec<Tensor<2>> = inputs
            .iter()
            .zip(&self.sizes)
            .map(|(x, &n)| batch_tensor(x, batch, n, &self.device))
            .collect();
        let (params, values) = self.net.forward(&tensors);
        (to_vec(params), to_vec(values))
    }

    /// Values of the recurrent state per sequence (the entries of
    /// [`Network::state_sizes`] side by side); 0 for a feed-forward network.
    pub fn memory_size(&self) -> usize {
        self.net.state_sizes().iter().sum()
    }

    /// One step for `batch` sequences. For a recurrent network the state comes in as `memory`
    /// (`batch x memory_size`, row-major) and is replaced by the state after the step; `keep[b]`
    /// is 0 where sequence `b` starts afresh (its state is reset before the step). For a
    /// feed-forward network (empty memory) this is [`Actor::forward`].
    pub fn step(
        &self,
        inputs: &[Vec<f32>],
        batch: usize,
        memory: &mut [f32],
        keep: &[f32],
    ) -> (Vec<f32>, Vec<f32>) {
        if self.memory_size() == 0 {
            return self.forward(inputs, batch);
        }
        let tensors: Vec<Tensor<2>> = inputs
            .iter()
            .zip(&self.sizes)
            .map(|(x, &n)| batch_tensor(x, batch, n, &self.device))
            .collect();
        let seq = Sequence {
            batch,
            state: memory_to_state(memory, batch, self.net.state_sizes(), &self.device),
            keep: Some(batch_tensor(keep, 1, batch, &self.device)),
            truncate: None,
        };
        let (params, values, state) = self.net.forward_sequence(&tensors, seq);
        state_to_memory(state, batch, memory);
        (to_vec(params), to_vec(values))
    }
}

/// Splits per-sequence memory rows (`batch x sum(sizes)`) into one `[batch, size]` tensor per
/// state entry.
pub fn memory_to_state(
    memory: &[f32],
    batch: usize,
    sizes: &[usize],
    device: &Device,
) -> Vec<Tensor<2>> {
    let width: usize = sizes.iter().sum();
    let mut offset = 0;
    sizes
        .iter()
        .map(|&n| {
            let mut values = Vec::with_capacity(batch * n);
            for row in memory.chunks(width.max(1)).take(batch) {
                values.extend_from_slice(&row[offset..offset + n]);
            }
            offset += n;
            batch_tensor(&values, batch, n, device)
        })
        .collect()
}

/// Writes state tensors back into per-sequence memory rows (the inverse of
/// [`memory_to_state`]).
pub fn state_to_memory(state: Vec<Tensor<2>>, batch: usize, memory: &mut [f32]) {
    let width = memory.len() / batch.max(1);
    let mut offset = 0;
    for entry in state {
        let n = entry.dims()[1];
        for (b, values) in to_vec(entry).chunks(n).enumerate() {
            memory[b * width + offset..b * width + offset + n].copy_from_slice(values);
        }
        offset += n;
    }
}
