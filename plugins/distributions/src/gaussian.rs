//! The diagonal Gaussian with a state-independent log standard deviation per action dimension.

use angora_plugin_api::{
    ActionSpace, Component, DistributionHead, HeadActivation, ParamGroup, ParamSource, PluginError,
    PolicyDistribution,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_8;

/// Configuration of the Gaussian distribution.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GaussianConfig {
    /// Initial log standard deviation of every action dimension (0 gives std 1).
    pub init_log_std: f32,
}

impl Default for GaussianConfig {
    fn default() -> Self {
        GaussianConfig { init_log_std: 0.0 }
    }
}

/// The Gaussian distribution. Parameters per row: `d` means, then `d` log standard deviations.
pub struct Gaussian {
    config: GaussianConfig,
    dim: usize,
}

impl Component for Gaussian {
    type Config = GaussianConfig;
}

impl PolicyDistribution for Gaussian {
    fn new(config: GaussianConfig) -> Result<Self, PluginError> {
        if !config.init_log_std.is_finite() {
            return Err(PluginError::invalid_config("init_log_std must be finite"));
        }
        Ok(Gaussian { config, dim: 0 })
    }

    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError> {
        let ActionSpace::Box { low, .. } = space else {
            return Err(PluginError::unsupported(
                "gaussian needs a box (continuous) action space; use categorical for discrete spaces",
            ));
        };
        self.dim = low.len();
        let d = self.dim as u32;
        Ok(DistributionHead {
            action_dim: d,
            params: vec![
                ParamGroup {
                    name: "mean".into(),
                    size: d,
                    source: ParamSource::Linear { init_gain: 0.01 },
                    activation: HeadActivation::Identity,
                },
                ParamGroup {
                    name: "log_std".into(),
                    size: d,
                    source: ParamSource::StateIndependent {
                        init: self.config.init_log_std,
                    },
                    activation: HeadActivation::Identity,
                },
            ],
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
        let d = self.dim;
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let (mean, log_std) = row.split_at(d);
            let mut lp = 0.0;
            for i in 0..d {
                let eps: f64 = StandardNormal.sample(&mut rng);
                let std = (log_std[i] as f64).exp();
                actions[r * d + i] = (mean[i] as f64 + std * eps) as f32;
                lp += -0.5 * eps * eps - log_std[i] as f64 - HALF_LOG_TWO_PI;
            }
            log_probs[r] = lp as f32;
        }
        Ok(())
    }

    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError> {
        let d = self.dim;
        for (row, action) in params.chunks_exact(2 * d).zip(actions.chunks_exact_mut(d)) {
            action.copy_from_slice(&row[..d]);
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
        let d = self.dim;
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let (mean, log_std) = row.split_at(d);
            let mut lp = 0.0;
            for i in 0..d {
                let std = (log_std[i] as f64).exp();
                let z = (actions[r * d + i] as f64 - mean[i] as f64) / std;
                lp += -0.5 * z * z - log_std[i] as f64 - HALF_LOG_TWO_PI;
                if let Some(grad) = grad.as_deref_mut() {
                    grad[r * 2 * d + i] = (z / std) as f32; // d/d mean
                    grad[r * 2 * d + d + i] = (z * z - 1.0) as f32; // d/d log_std
                }
            }
            log_probs[r] = lp as f32;
        }
        Ok(())
    }

    fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        let d = self.dim;
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let log_std = &row[d..];
            entropy[r] = log_std
                .iter()
                .map(|&l| 0.5 + HALF_LOG_TWO_PI + l as f64)
                .sum::<f64>() as f32;
            if let Some(grad) = grad.as_deref_mut() {
                let g = &mut grad[r * 2 * d..(r + 1) * 2 * d];
                g[..d].fill(0.0);
                g[d..].fill(1.0);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(d: usize) -> Gaussian {
        let mut g = Gaussian::new(GaussianConfig::default()).unwrap();
        g.bind(&ActionSpace::Box {
            low: vec![-1.0; d],
            high: vec![1.0; d],
        })
        .unwrap();
        g
    }

    #[test]
    fn gradients_match_finite_differences() {
        let g = bound(2);
        let params = [0.1, -0.4, 0.2, -0.3, 1.0, 0.5, -0.7, 0.1];
        crate::testing::check_gradients(&g, &params, &[0.5, -1.0, 0.3, 0.9], 2);
    }

    #[test]
    fn samples_have_the_requested_moments() {
        let g = bound(1);
        let n = 20_000;
        let params: Vec<f32> = (0..n).flat_map(|_| [2.0, (0.5f32).ln()]).collect();
        let mut actions = vec![0.0; n];
        let mut lp = vec![0.0; n];
        g.sample(&params, 3, &mut actions, &mut lp).unwrap();
        let mean = actions.iter().map(|&a| a as f64).sum::<f64>() / n as f64;
        let var = actions
            .iter()
            .map(|&a| (a as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 2.0).abs() < 0.02, "mean {mean}");
        assert!((var.sqrt() - 0.5).abs() < 0.02, "std {}", var.sqrt());
        // The log-probabilities returned by sample agree with log_prob.
        let mut check = vec![0.0; n];
        g.log_prob(&params, &actions, &mut check, None).unwrap();
        assert!(lp.iter().zip(&check).all(|(a, b)| (a - b).abs() < 1e-4));
    }
}
