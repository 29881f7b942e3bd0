//! Independent categorical choices, one per action dimension (for multi-discrete spaces, such
//! as the hand's 11 bins per actuator).

use angora_plugin_api::{
    ActionSpace, Component, DistributionHead, HeadActivation, ParamGroup, ParamSource, PluginError,
    PolicyDistribution,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::categorical::log_softmax;

/// How the per-dimension entropies are combined.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EntropyReduction {
    /// The mean over dimensions, as AngoraPy uses in its loss.
    Mean,
    /// The sum: the entropy of the joint distribution.
    Sum,
}

/// Configuration of the multi-categorical distribution.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MultiCategoricalConfig {
    /// How the per-dimension entropies are combined.
    pub entropy: EntropyReduction,
}

impl Default for MultiCategoricalConfig {
    fn default() -> Self {
        MultiCategoricalConfig {
            entropy: EntropyReduction::Mean,
        }
    }
}

/// The multi-categorical distribution. Parameters per row: the logits of dimension 0, then of
/// dimension 1, and so on.
pub struct MultiCategorical {
    config: MultiCategoricalConfig,
    nvec: Vec<usize>,
    param_size: usize,
}

impl Component for MultiCategorical {
    type Config = MultiCategoricalConfig;
}

impl MultiCategorical {
    /// Calls `f(dimension, logits)` for each dimension of one row.
    fn dims<'a>(&'a self, row: &'a [f32]) -> impl Iterator<Item = (usize, &'a [f32], usize)> + 'a {
        let mut offset = 0;
        self.nvec.iter().enumerate().map(move |(d, &n)| {
            let logits = &row[offset..offset + n];
            let start = offset;
            offset += n;
            (d, logits, start)
        })
    }
}

impl PolicyDistribution for MultiCategorical {
    fn new(config: MultiCategoricalConfig) -> Result<Self, PluginError> {
        Ok(MultiCategorical {
            config,
            nvec: Vec::new(),
            param_size: 0,
        })
    }

    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError> {
        let nvec: Vec<u32> = match space {
            ActionSpace::MultiDiscrete { nvec } => nvec.clone(),
            ActionSpace::Discrete { n } => vec![*n],
            ActionSpace::Box { .. } => {
                return Err(PluginError::unsupported(
                    "multi-categorical needs a discrete or multi-discrete action space; use gaussian or beta for box spaces",
                ));
            }
        };
        self.nvec = nvec.iter().map(|&n| n as usize).collect();
        self.param_size = self.nvec.iter().sum();
        Ok(DistributionHead {
            action_dim: nvec.len() as u32,
            params: vec![ParamGroup {
                name: "logits".into(),
                size: self.param_size as u32,
                source: ParamSource::Linear { init_gain: 0.01 },
                activation: HeadActivation::Identity,
            }],
        })
    }

    fn sample(
        &self,
        params: &[f32],
        seed: u64,
        actions: &mut [f32],
        log_probs: &mut [f32],
    ) -> Result<(), PluginError> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let dims = self.nvec.len();
        let mut logp = Vec::new();
        for (r, row) in params.chunks_exact(self.param_size).enumerate() {
            let mut total = 0.0;
            for (d, logits, _) in self.dims(row) {
                logp.resize(logits.len(), 0.0);
                log_softmax(logits, &mut logp);
                let u: f64 = rng.random();
                let mut cumulative = 0.0;
                let mut choice = logits.len() - 1;
                for (i, lp) in logp.iter().enumerate() {
                    cumulative += lp.exp();
                    if u < cumulative {
                        choice = i;
                        break;
                    }
                }
                actions[r * dims + d] = choice as f32;
                total += logp[choice];
            }
            log_probs[r] = total as f32;
        }
        Ok(())
    }

    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError> {
        let dims = self.nvec.len();
        for (r, row) in params.chunks_exact(self.param_size).enumerate() {
            for (d, logits, _) in self.dims(row) {
                let best =
                    logits
                        .iter()
                        .enumerate()
                        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                            if v > bv { (i, v) } else { (bi, bv) }
                        });
                actions[r * dims + d] = best.0 as f32;
            }
        }
        Ok(())
    }

    fn log_prob(
        &self,
        params: &[f32],
        actions: &[f32],
        log_probs: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        let dims = self.nvec.len();
        let mut logp = Vec::new();
        for (r, row) in params.chunks_exact(self.param_size).enumerate() {
            let mut total = 0.0;
            for (d, logits, start) in self.dims(row) {
                let a = actions[r * dims + d];
                if !(a >= 0.0 && (a as usize) < logits.len() && a.fract() == 0.0) {
                    return Err(PluginError::invalid_argument(format!(
                        "action {a} in row {r}, dimension {d} is not a choice in 0..{}",
                        logits.len()
                    )));
                }
                let a = a as usize;
                logp.resize(logits.len(), 0.0);
                log_softmax(logits, &mut logp);
                total += logp[a];
                if let Some(grad) = grad.as_deref_mut() {
                    let base = r * self.param_size + start;
                    for (j, lp) in logp.iter().enumerate() {
                        grad[base + j] = (if j == a { 1.0 } else { 0.0 } - lp.exp()) as f32;
                    }
                }
            }
            log_probs[r] = total as f32;
        }
        Ok(())
    }

    fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        let scale = match self.config.entropy {
            EntropyReduction::Mean => 1.0 / self.nvec.len() as f64,
            EntropyReduction::Sum => 1.0,
        };
        let mut logp = Vec::new();
        for (r, row) in params.chunks_exact(self.param_size).enumerate() {
            let mut total = 0.0;
            for (_, logits, start) in self.dims(row) {
                logp.resize(logits.len(), 0.0);
                log_softmax(logits, &mut logp);
                let h: f64 = -logp.iter().map(|&l| l.exp() * l).sum::<f64>();
                total += h;
                if let Some(grad) = grad.as_deref_mut() {
                    let base = r * self.param_size + start;
                    for (j, &l) in logp.iter().enumerate() {
                        grad[base + j] = (-scale * l.exp() * (l + h)) as f32;
                    }
                }
            }
            entropy[r] = (scale * total) as f32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(nvec: Vec<u32>, entropy: EntropyReduction) -> MultiCategorical {
        let mut d = MultiCategorical::new(MultiCategoricalConfig { entropy }).unwrap();
        d.bind(&ActionSpace::MultiDiscrete { nvec }).unwrap();
        d
    }

    #[test]
    fn gradients_match_finite_differences() {
        for reduction in [EntropyReduction::Mean, EntropyReduction::Sum] {
            let d = bound(vec![2, 3], reduction);
            let params = [0.2, -0.4, 1.0, 0.0, -1.0, 0.3, 0.3, 2.0, -0.5, 0.1];
            crate::testing::check_gradients(&d, &params, &[1.0, 2.0, 0.0, 0.0], 2);
        }
    }

    #[test]
    fn joint_log_prob_is_the_sum_over_dimensions() {
        let d = bound(vec![11; 3], EntropyReduction::Sum);
        let params = vec![0.0f32; 33];
        let mut lp = [0.0];
        d.log_prob(&params, &[0.0, 5.0, 10.0], &mut lp, None)
            .unwrap();
        assert!((f64::from(lp[0]) - 3.0 * (1.0f64 / 11.0).ln()).abs() < 1e-5);
        let mut h = [0.0];
        d.entropy(&params, &mut h, None).unwrap();
        assert!((f64::from(h[0]) - 3.0 * 11f64.ln()).abs() < 1e-5);
    }
}
