//! The PPO update: clipped surrogate, (optionally clipped) value loss and entropy bonus over
//! minibatches of one cycle's data, with the distribution's gradients joined to burn's
//! autodiff.
//!
//! The distribution lives in a plugin and computes on the CPU. For a minibatch with head
//! outputs `P`, the host asks it for log-probabilities, entropies and their gradients with
//! respect to `P`, assembles `G = dL/dP` for the policy and entropy terms, and adds the
//! surrogate `sum(P * detach(G))` to the loss: its gradient with respect to `P` is exactly `G`,
//! so backpropagation through the network is exact (docs/decisions/0002-ppo-on-burn.md).

use burn::tensor::{Device, Tensor, TensorData};

use super::{
    actor::{batch_tensor, memory_to_state, to_vec},
    adam::{Adam, clip_global_norm},
    comm::Communicator,
    config::PpoConfig,
    gather::{derive_seed, purpose},
};
use crate::{
    nn::{Network, Sequence, params},
    plugin::{CallError, DistributionInstance},
};

/// One cycle's training data, flattened over workers, environments and steps.
pub struct Batch {
    /// Per network input, `rows x size` normalised values.
    pub inputs: Vec<Vec<f32>>,
    /// Sizes of the network inputs.
    pub sizes: Vec<usize>,
    /// `rows x action_dim` actions.
    pub actions: Vec<f32>,
    /// Values per action.
    pub action_dim: usize,
    /// Log-probabilities at sampling time.
    pub log_probs: Vec<f32>,
    /// Values at sampling time.
    pub values: Vec<f32>,
    /// Advantages (normalised if configured).
    pub advantages: Vec<f32>,
    /// Value targets.
    pub returns: Vec<f32>,
    /// For recurrent models, how the rows form trajectories.
    pub sequences: Option<Sequences>,
}

impl Batch {
    /// Number of transitions.
    pub fn rows(&self) -> usize {
        self.log_probs.len()
    }
}

/// The trajectory structure of a recurrent model's batch.
///
/// The rows come in blocks, one per gathering worker, of `block` trajectories each; within a
/// block they are step-major. Trajectory `s` is environment `s % block` of block `s / block`.
pub struct Sequences {
    /// Trajectories in a block.
    pub block: usize,
    /// Trajectories in all.
    pub count: usize,
    /// Steps per trajectory (a multiple of the TBPTT length).
    pub time: usize,
    /// Per row, whether it is a real step (false: padding after an episode's end).
    pub mask: Vec<bool>,
    /// Per row, 0 where the recurrent state resets before the step, else 1.
    pub keep: Vec<f32>,
    /// Per trajectory, the recurrent state before its first step (`count x memory size`).
    pub initial_memory: Vec<f32>,
}

impl Sequences {
    /// The row of step `t` of trajectory `s`.
    pub fn row(&self, s: usize, t: usize) -> usize {
        (s / self.block) * self.block * self.time + t * self.block + s % self.block
    }
}

/// The gradient of the loss with respect to the flat parameters, the loss terms, and for a
/// recurrent minibatch the state after its window.
pub type LossGradients = (Vec<f32>, UpdateStats, Option<Vec<Tensor<2>>>);

/// The recurrent part of one minibatch: its trajectories' state before the window, and how
/// often the gradient is cut.
pub struct Window {
    /// Trajectories in the minibatch.
    pub batch: usize,
    /// Their state before the window's first step, one tensor per state entry.
    pub state: Vec<Tensor<2>>,
    /// The TBPTT length.
    pub truncate: usize,
}

/// Averages over one cycle's updates.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UpdateStats {
    /// Clipped surrogate loss.
    pub policy_loss: f64,
    /// Value loss.
    pub value_loss: f64,
    /// Mean entropy.
    pub entropy: f64,
    /// Mean of `(r - 1) - ln r`, an estimate of KL(old || new).
    pub approx_kl: f64,
    /// Fraction of transitions whose ratio was clipped.
    pub clip_fraction: f64,
    /// Mean global gradient norm before clipping.
    pub grad_norm: f64,
    /// Optimiser steps taken.
    pub updates: u64,
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The distribution failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The loss or the gradients stopped being finite numbers.
    #[error("the {what} is not a finite number ({value}) in update {update} of epoch {epoch}")]
    NonFinite {
        /// `loss` or `gradient norm`.
        what: &'static str,
        /// The offending value.
        value: f64,
        /// The epoch.
        epoch: u32,
        /// The update within the cycle.
        update: u64,
    },
}

/// The trainable state: the autodiff network, its flat parameters and the optimiser.
pub struct Learner {
    /// The network on the autodiff device.
    pub net: Network,
    /// The same parameters, flat.
    pub params: Vec<f32>,
    /// Adam's state.
    pub adam: Adam,
    /// The autodiff device.
    pub device: Device,
}

impl Learner {
    /// Runs `config.epochs` epochs of minibatch updates on `batch`.
    ///
    /// With several processes, `batch` is this process's part of the cycle's batch (the whole
    /// is the processes' parts in rank order, all of one size). Every process draws the same
    /// minibatches of the whole batch, computes the gradient on the rows of each that it holds,
    /// and the gradients are summed over the processes weighted by their rows: every process
    /// takes the same optimiser step as one process holding the whole batch would.
    #[allow(
        clippy::too_many_arguments,
        reason = "the update's inputs are independent; a struct would only rename them"
    )]
    pub fn update(
        &mut self,
        batch: &Batch,
        distribution: &DistributionInstance,
        config: &PpoConfig,
        learning_rate: f64,
        seed: u64,
        cycle: u64,
        comm: &dyn Communicator,
    ) -> Result<UpdateStats, UpdateError> {
        let (rank, processes) = (comm.rank(), comm.size());
        let mut stats = UpdateStats::default();
        let mut update = 0u64;
        for epoch in 0..config.epochs {
            let shuffle_seed = derive_seed(seed, purpose::SHUFFLE, cycle, u64::from(epoch), 0);
            let mut step = |learner: &mut Learner,
                            rows: &[usize],
                            window: Option<Window>|
             -> Result<Option<Vec<Tensor<2>>>, UpdateError> {
                let (step, state) = learner
                    .minibatch(
                        batch,
                        rows,
                        window,
                        distribution,
                        config,
                        learning_rate,
                        comm,
                    )
                    .map_err(|e| e.at(epoch, update))?;
                stats.policy_loss += step.policy_loss;
                stats.value_loss += step.value_loss;
                stats.entropy += step.entropy;
                stats.approx_kl += step.approx_kl;
                stats.clip_fraction += step.clip_fraction;
                stats.grad_norm += step.grad_norm;
                update += 1;
                Ok(state)
            };
            match &batch.sequences {
                None => {
                    let part = batch.rows();
                    let rows = part * processes;
                    let minibatch = (config.minibatch_size as usize).min(rows);
                    let mut order: Vec<usize> = (0..rows).collect();
                    shuffle(&mut order, shuffle_seed);
                    for chunk in order.chunks(minibatch) {
                        if chunk.len() < minibatch && rows >= minibatch {
                            // Drop the ragged end, as AngoraPy does, so every update sees the
                            // same size.
                            continue;
                        }
                        step(self, &mine(chunk, rank, part), None)?;
                    }
                }
                Some(seqs) => {
                    let l = config.tbptt_length as usize;
                    let count = seqs.count * processes;
                    let (group, width) =
                        tile(config.minibatch_size as usize / l, seqs.time / l, count);
                    let mut order: Vec<usize> = (0..count).collect();
                    shuffle(&mut order, shuffle_seed);
                    for trajectories in order.chunks(group) {
                        if trajectories.len() < group {
                            continue;
                        }
                        let trajectories = mine(trajectories, rank, seqs.count);
                        // The windows of a group of trajectories go in order, each starting
                        // from the state the previous one ended in.
                        let mut state = self.initial_state(seqs, &trajectories);
                        for w in 0..seqs.time / (width * l) {
                            let rows: Vec<usize> = (w * width * l..(w + 1) * width * l)
                                .flat_map(|t| trajectories.iter().map(move |&s| seqs.row(s, t)))
                                .collect();
                            let window = Window {
                                batch: trajectories.len(),
                                state,
                                truncate: l,
                            };
                            state = step(self, &rows, Some(window))?
                                .unwrap_or_default()
                                .into_iter()
                                .map(Tensor::detach)
                                .collect();
                        }
                    }
                }
            }
        }
        let n = update.max(1) as f64;
        stats.policy_loss /= n;
        stats.value_loss /= n;
        stats.entropy /= n;
        stats.approx_kl /= n;
        stats.clip_fraction /= n;
        stats.grad_norm /= n;
        stats.updates = update;
        Ok(stats)
    }

    /// The recurrent state of `trajectories` at the start of the cycle, on the autodiff device.
    pub fn initial_state(&self, seqs: &Sequences, trajectories: &[usize]) -> Vec<Tensor<2>> {
        let sizes = self.net.state_sizes();
        let width: usize = sizes.iter().sum();
        let mut memory = Vec::with_capacity(trajectories.len() * width);
        for &s in trajectories {
            memory.extend_from_slice(&seqs.initial_memory[s * width..(s + 1) * width]);
        }
        memory_to_state(&memory, trajectories.len(), sizes, &self.device)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the update's inputs are independent; a struct would only rename them"
    )]
    fn minibatch(
        &mut self,
        batch: &Batch,
        rows: &[usize],
        window: Option<Window>,
        distribution: &DistributionInstance,
        config: &PpoConfig,
        learning_rate: f64,
        comm: &dyn Communicator,
    ) -> Result<(UpdateStats, Option<Vec<Tensor<2>>>), StepError> {
        let (mut flat, mut stats, state) = if rows.is_empty() {
            // Another process holds this whole minibatch; this one adds nothing to the sum.
            (vec![0.0; self.params.len()], UpdateStats::default(), None)
        } else {
            self.gradients(batch, rows, window, distribution, config)?
        };
        if comm.size() > 1 {
            let weight = match &batch.sequences {
                Some(seqs) => rows.iter().filter(|&&r| seqs.mask[r]).count(),
                None => rows.len(),
            };
            all_reduce(comm, &mut flat, &mut stats, weight);
        }
        let loss = stats.policy_loss + config.value_coef * stats.value_loss
            - config.entropy_coef * stats.entropy;
        if !loss.is_finite() {
            return Err(StepError::NonFinite("loss", loss));
        }
        let norm = match config.max_grad_norm {
            Some(max) => clip_global_norm(&mut flat, max),
            None => super::adam::global_norm(&flat),
        };
        if !norm.is_finite() {
            return Err(StepError::NonFinite("gradient norm", norm));
        }
        stats.grad_norm = norm;
        self.adam.step(&mut self.params, &flat, learning_rate);
        // Cloning a module only clones tensor handles; `load` then replaces every value.
        self.net = params::load(self.net.clone(), &self.params);
        Ok((stats, state))
    }

    /// The gradient of the PPO loss on the minibatch `rows` with respect to the flat
    /// parameters (before clipping), the loss terms, and for a recurrent minibatch (`rows`
    /// time-major over the window's trajectories) the state after the window.
    pub fn loss_gradients(
        &self,
        batch: &Batch,
        rows: &[usize],
        window: Option<Window>,
        distribution: &DistributionInstance,
        config: &PpoConfig,
    ) -> Result<LossGradients, UpdateError> {
        self.gradients(batch, rows, window, distribution, config)
            .map_err(|e| e.at(0, 0))
    }

    fn gradients(
        &self,
        batch: &Batch,
        rows: &[usize],
        window: Option<Window>,
        distribution: &DistributionInstance,
        config: &PpoConfig,
    ) -> Result<LossGradients, StepError> {
        let m = rows.len();
        // Padding rows take part in the forward pass (as zeros, so whatever they hold cannot
        // reach a valid row) and in nothing else.
        let valid: Vec<bool> = match &batch.sequences {
            Some(seqs) => rows.iter().map(|&r| seqs.mask[r]).collect(),
            None => vec![true; m],
        };
        let n_valid = valid.iter().filter(|&&v| v).count();
        let gather = |data: &[f32], width: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(m * width);
            for (&r, &ok) in rows.iter().zip(&valid) {
                if ok {
                    out.extend_from_slice(&data[r * width..(r + 1) * width]);
                } else {
                    out.resize(out.len() + width, 0.0);
                }
            }
            out
        };
        let valid_rows = |data: &[f32], width: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(n_valid * width);
            for (&r, _) in rows.iter().zip(&valid).filter(|(_, ok)| **ok) {
                out.extend_from_slice(&data[r * width..(r + 1) * width]);
            }
            out
        };
        let inputs: Vec<Tensor<2>> = batch
            .inputs
            .iter()
            .zip(&batch.sizes)
            .map(|(data, &size)| batch_tensor(&gather(data, size), m, size, &self.device))
            .collect();
        let actions = valid_rows(&batch.actions, batch.action_dim);
        let old_log_probs = valid_rows(&batch.log_probs, 1);
        let advantages = valid_rows(&batch.advantages, 1);

        let (head, values, state) = match window {
            None => {
                let (head, values) = self.net.forward(&inputs);
                (head, values, None)
            }
            Some(window) => {
                let seqs = batch
                    .sequences
                    .as_ref()
                    .expect("a window belongs to a recurrent batch");
                let time = m / window.batch;
                let keep = batch_tensor(&gather(&seqs.keep, 1), time, window.batch, &self.device);
                let seq = Sequence {
                    batch: window.batch,
                    state: window.state,
                    keep: Some(keep),
                    truncate: Some(window.truncate),
                };
                let (head, values, state) = self.net.forward_sequence(&inputs, seq);
                (head, values, Some(state))
            }
        };
        let head_values = to_vec(head.clone());
        let param_size = head_values.len() / m.max(1);
        let valid_head: Vec<f32> = if n_valid == m {
            head_values
        } else {
            head_values
                .chunks(param_size)
                .zip(&valid)
                .filter(|(_, ok)| **ok)
                .flat_map(|(p, _)| p.iter().copied())
                .collect()
        };
        let mut log_probs = vec![0.0f32; n_valid];
        let mut d_log_prob = vec![0.0f32; n_valid * param_size];
        distribution.log_prob(&valid_head, &actions, &mut log_probs, &mut d_log_prob)?;
        let mut entropy = vec![0.0f32; n_valid];
        let mut d_entropy = vec![0.0f32; n_valid * param_size];
        distribution.entropy(&valid_head, &mut entropy, &mut d_entropy)?;

        // dL/dP for L = mean(-min(r A, clip(r) A)) - c_e mean(H), means over valid rows.
        let (lo, hi) = (1.0 - config.clip, 1.0 + config.clip);
        let mut grad = vec![0.0f32; m * param_size];
        let mut stats = UpdateStats::default();
        let valid_positions = valid
            .iter()
            .enumerate()
            .filter(|(_, ok)| **ok)
            .map(|(i, _)| i);
        for (i, row) in valid_positions.enumerate() {
            let log_ratio = f64::from(log_probs[i]) - f64::from(old_log_probs[i]);
            let ratio = log_ratio.exp();
            let advantage = f64::from(advantages[i]);
            let unclipped = ratio * advantage;
            let clipped = ratio.clamp(lo, hi) * advantage;
            stats.policy_loss -= unclipped.min(clipped);
            stats.approx_kl += (ratio - 1.0) - log_ratio;
            if !(lo..=hi).contains(&ratio) {
                stats.clip_fraction += 1.0;
            }
            // The gradient flows through the unclipped term only where min picks it.
            let d_policy = if unclipped <= clipped {
                -advantage * ratio
            } else {
                0.0
            };
            let src = i * param_size..(i + 1) * param_size;
            let dst = row * param_size..(row + 1) * param_size;
            for ((g, &dl), &dh) in grad[dst]
                .iter_mut()
                .zip(&d_log_prob[src.clone()])
                .zip(&d_entropy[src])
            {
                *g = ((d_policy * f64::from(dl) - config.entropy_coef * f64::from(dh))
                    / n_valid as f64) as f32;
            }
        }
        let n = n_valid.max(1) as f64;
        stats.entropy = entropy.iter().map(|&h| f64::from(h)).sum::<f64>() / n;
        stats.policy_loss /= n;
        stats.approx_kl /= n;
        stats.clip_fraction /= n;

        let grad = Tensor::<2>::from_data(TensorData::new(grad, [m, param_size]), &self.device);
        let surrogate = (head * grad).sum();
        let column =
            |values: Vec<f32>| Tensor::<1>::from_data(TensorData::new(values, [m]), &self.device);
        let returns = column(gather(&batch.returns, 1));
        let squared = if config.clip_value {
            let old = column(gather(&batch.values, 1));
            let clipped = old.clone() + (values.clone() - old).clamp(-config.clip, config.clip);
            let a = (values - returns.clone()).square();
            let b = (clipped - returns).square();
            a.max_pair(b)
        } else {
            (values - returns).square()
        };
        let value_loss = if n_valid == m {
            squared.mean() * 0.5
        } else {
            let mask = column(valid.iter().map(|&ok| f32::from(u8::from(ok))).collect());
            (squared * mask).sum() * (0.5 / n)
        };
        stats.value_loss = f64::from(to_vec(value_loss.clone())[0]);
        let total = surrogate + value_loss * config.value_coef;
        // A loss that is not finite is reported by the caller, after the processes' terms are
        // combined, so that every process stops at the same update.
        let grads = total.backward();
        Ok((params::gradients(&self.net, &grads), stats, state))
    }
}

/// The members of `global` (indices into the whole batch) that lie in process `rank`'s part
/// of `part` items, as indices into that part.
fn mine(global: &[usize], rank: usize, part: usize) -> Vec<usize> {
    let range = rank * part..(rank + 1) * part;
    global
        .iter()
        .filter(|i| range.contains(i))
        .map(|i| i - range.start)
        .collect()
}

/// Sums one minibatch's gradient and loss terms over the processes as one flat buffer, each
/// process's mean weighted by its `weight` real rows: afterwards every process holds the mean
/// over the whole minibatch.
fn all_reduce(comm: &dyn Communicator, flat: &mut [f32], stats: &mut UpdateStats, weight: usize) {
    let w = weight as f32;
    let terms = [
        stats.policy_loss,
        stats.value_loss,
        stats.entropy,
        stats.approx_kl,
        stats.clip_fraction,
    ];
    let mut buffer: Vec<f32> = flat.iter().map(|g| g * w).collect();
    buffer.push(w);
    buffer.extend(terms.iter().map(|&t| t as f32 * w));
    comm.sum_f32(&mut buffer);
    let p = flat.len();
    let total = buffer[p].max(1.0);
    for (g, &sum) in flat.iter_mut().zip(&buffer[..p]) {
        *g = sum / total;
    }
    let mean = |i: usize| f64::from(buffer[p + 1 + i] / total);
    stats.policy_loss = mean(0);
    stats.value_loss = mean(1);
    stats.entropy = mean(2);
    stats.approx_kl = mean(3);
    stats.clip_fraction = mean(4);
}

/// The shape of a recurrent minibatch of `chunks` TBPTT chunks: `(trajectories, consecutive
/// chunks per trajectory)`. As AngoraPy, it prefers long runs of consecutive chunks ("width
/// first"): the widest divisor of `per_trajectory` that also divides `chunks`, then as many
/// trajectories as make up the rest (at most `trajectories`, at least one).
pub fn tile(chunks: usize, per_trajectory: usize, trajectories: usize) -> (usize, usize) {
    let chunks = chunks.max(1);
    let width = (1..=per_trajectory.min(chunks))
        .rev()
        .find(|&w| per_trajectory.is_multiple_of(w) && chunks.is_multiple_of(w))
        .unwrap_or(1);
    ((chunks / width).clamp(1, trajectories.max(1)), width)
}

enum StepError {
    Call(CallError),
    NonFinite(&'static str, f64),
}

impl StepError {
    /// The error as reported for update `update` of epoch `epoch`.
    fn at(self, epoch: u32, update: u64) -> UpdateError {
        match self {
            StepError::Call(c) => UpdateError::Call(c),
            StepError::NonFinite(what, value) => UpdateError::NonFinite {
                what,
                value,
                epoch,
                update,
            },
        }
    }
}

impl From<CallError> for StepError {
    fn from(e: CallError) -> Self {
        StepError::Call(e)
    }
}

/// Fisher-Yates with a SplitMix-derived stream, so the order depends only on the seed.
fn shuffle(order: &mut [usize], seed: u64) {
    order.iter_mut().enumerate().for_each(|(i, v)| *v = i);
    let mut state = seed;
    for i in (1..order.len()).rev() {
        state = super::gather::mix(state);
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::tile;

    #[test]
    fn tiles_prefer_consecutive_chunks() {
        // AngoraPy's discrete preset on 2048-step trajectories: 8 chunks of one trajectory.
        assert_eq!(tile(8, 128, 8), (1, 8));
        // 32 chunks over trajectories of 8 chunks: 4 whole trajectories.
        assert_eq!(tile(32, 8, 32), (4, 8));
        // Widths must divide both: 12 chunks over trajectories of 8 chunks -> 3 x 4.
        assert_eq!(tile(12, 8, 16), (3, 4));
        // Never more trajectories than there are.
        assert_eq!(tile(16, 2, 4), (4, 2));
    }
}
