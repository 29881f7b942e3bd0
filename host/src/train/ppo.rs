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
    actor::{batch_tensor, to_vec},
    adam::{Adam, clip_global_norm},
    config::PpoConfig,
    gather::{derive_seed, purpose},
};
use crate::{
    nn::{Network, params},
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
}

impl Batch {
    /// Number of transitions.
    pub fn rows(&self) -> usize {
        self.log_probs.len()
    }
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
    pub fn update(
        &mut self,
        batch: &Batch,
        distribution: &DistributionInstance,
        config: &PpoConfig,
        learning_rate: f64,
        seed: u64,
        cycle: u64,
    ) -> Result<UpdateStats, UpdateError> {
        let rows = batch.rows();
        let minibatch = (config.minibatch_size as usize).min(rows);
        let mut stats = UpdateStats::default();
        let mut order: Vec<usize> = (0..rows).collect();
        let mut update = 0u64;
        for epoch in 0..config.epochs {
            shuffle(
                &mut order,
                derive_seed(seed, purpose::SHUFFLE, cycle, u64::from(epoch), 0),
            );
            for chunk in order.chunks(minibatch) {
                if chunk.len() < minibatch && rows >= minibatch {
                    // Drop the ragged end, as AngoraPy does, so every update sees the same size.
                    continue;
                }
                let step = self
                    .minibatch(batch, chunk, distribution, config, learning_rate)
                    .map_err(|e| match e {
                        StepError::Call(c) => UpdateError::Call(c),
                        StepError::NonFinite(what, value) => UpdateError::NonFinite {
                            what,
                            value,
                            epoch,
                            update,
                        },
                    })?;
                stats.policy_loss += step.policy_loss;
                stats.value_loss += step.value_loss;
                stats.entropy += step.entropy;
                stats.approx_kl += step.approx_kl;
                stats.clip_fraction += step.clip_fraction;
                stats.grad_norm += step.grad_norm;
                update += 1;
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

    fn minibatch(
        &mut self,
        batch: &Batch,
        rows: &[usize],
        distribution: &DistributionInstance,
        config: &PpoConfig,
        learning_rate: f64,
    ) -> Result<UpdateStats, StepError> {
        let (mut flat, mut stats) = self.gradients(batch, rows, distribution, config)?;
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
        Ok(stats)
    }

    /// The gradient of the PPO loss on the minibatch `rows` with respect to the flat
    /// parameters (before clipping), and the loss terms.
    pub fn loss_gradients(
        &self,
        batch: &Batch,
        rows: &[usize],
        distribution: &DistributionInstance,
        config: &PpoConfig,
    ) -> Result<(Vec<f32>, UpdateStats), UpdateError> {
        self.gradients(batch, rows, distribution, config)
            .map_err(|e| match e {
                StepError::Call(c) => UpdateError::Call(c),
                StepError::NonFinite(what, value) => UpdateError::NonFinite {
                    what,
                    value,
                    epoch: 0,
                    update: 0,
                },
            })
    }

    fn gradients(
        &self,
        batch: &Batch,
        rows: &[usize],
        distribution: &DistributionInstance,
        config: &PpoConfig,
    ) -> Result<(Vec<f32>, UpdateStats), StepError> {
        let m = rows.len();
        let gather = |data: &[f32], width: usize| -> Vec<f32> {
            let mut out = Vec::with_capacity(m * width);
            for &r in rows {
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
        let actions = gather(&batch.actions, batch.action_dim);
        let old_log_probs = gather(&batch.log_probs, 1);
        let old_values = gather(&batch.values, 1);
        let advantages = gather(&batch.advantages, 1);
        let returns = gather(&batch.returns, 1);

        let (head, values) = self.net.forward(&inputs);
        let head_values = to_vec(head.clone());
        let param_size = head_values.len() / m;
        let mut log_probs = vec![0.0f32; m];
        let mut d_log_prob = vec![0.0f32; m * param_size];
        distribution.log_prob(&head_values, &actions, &mut log_probs, &mut d_log_prob)?;
        let mut entropy = vec![0.0f32; m];
        let mut d_entropy = vec![0.0f32; m * param_size];
        distribution.entropy(&head_values, &mut entropy, &mut d_entropy)?;

        // dL/dP for L = mean(-min(r A, clip(r) A)) - c_e mean(H).
        let (lo, hi) = (1.0 - config.clip, 1.0 + config.clip);
        let mut grad = vec![0.0f32; m * param_size];
        let mut stats = UpdateStats::default();
        for i in 0..m {
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
            let row = i * param_size..(i + 1) * param_size;
            for ((g, &dl), &dh) in grad[row.clone()]
                .iter_mut()
                .zip(&d_log_prob[row.clone()])
                .zip(&d_entropy[row])
            {
                *g = ((d_policy * f64::from(dl) - config.entropy_coef * f64::from(dh)) / m as f64)
                    as f32;
            }
        }
        stats.entropy = entropy.iter().map(|&h| f64::from(h)).sum::<f64>() / m as f64;
        stats.policy_loss /= m as f64;
        stats.approx_kl /= m as f64;
        stats.clip_fraction /= m as f64;

        let grad = Tensor::<2>::from_data(TensorData::new(grad, [m, param_size]), &self.device);
        let surrogate = (head * grad).sum();
        let returns = Tensor::<1>::from_data(TensorData::new(returns, [m]), &self.device);
        let value_loss = if config.clip_value {
            let old = Tensor::<1>::from_data(TensorData::new(old_values, [m]), &self.device);
            let clipped = old.clone() + (values.clone() - old).clamp(-config.clip, config.clip);
            let a = (values - returns.clone()).square();
            let b = (clipped - returns).square();
            a.max_pair(b).mean() * 0.5
        } else {
            (values - returns).square().mean() * 0.5
        };
        stats.value_loss = f64::from(to_vec(value_loss.clone())[0]);
        let total = surrogate + value_loss * config.value_coef;
        let loss = stats.policy_loss + config.value_coef * stats.value_loss
            - config.entropy_coef * stats.entropy;
        if !loss.is_finite() {
            return Err(StepError::NonFinite("loss", loss));
        }
        let grads = total.backward();
        Ok((params::gradients(&self.net, &grads), stats))
    }
}

enum StepError {
    Call(CallError),
    NonFinite(&'static str, f64),
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
