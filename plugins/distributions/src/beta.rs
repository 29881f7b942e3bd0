//! The Beta distribution for bounded continuous actions (Chou, Maturana and Scherer 2017):
//! per dimension `alpha, beta = softplus(x) + 1` (so the density is unimodal), samples in
//! (0, 1) scaled affinely to the action bounds.

use angora_plugin_api::{
    ActionSpace, Component, DistributionHead, HeadActivation, ParamGroup, ParamSource, PluginError,
    PolicyDistribution,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

use crate::special::{digamma, ln_gamma, trigamma};

/// Samples are kept this far from 0 and 1, where the log-density is unbounded.
const EDGE: f64 = 1e-6;

/// Configuration of the Beta distribution.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BetaConfig {
    /// Orthogonal initialisation gain of the alpha and beta layers.
    pub init_gain: f32,
}

impl Default for BetaConfig {
    fn default() -> Self {
        BetaConfig { init_gain: 0.01 }
    }
}

/// The Beta distribution. Parameters per row: `d` alphas, then `d` betas (both above one).
pub struct Beta {
    config: BetaConfig,
    low: Vec<f64>,
    width: Vec<f64>,
}

impl Component for Beta {
    type Config = BetaConfig;
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The Beta(a, b) log-density on (0, 1) at x, given ln x and ln(1 - x).
fn log_density(a: f64, b: f64, ln_x: f64, ln_1mx: f64) -> f64 {
    (a - 1.0) * ln_x + (b - 1.0) * ln_1mx - ln_beta(a, b)
}

impl Beta {
    fn dim(&self) -> usize {
        self.low.len()
    }

    fn check_params(alpha: f64, beta: f64, row: usize) -> Result<(), PluginError> {
        if alpha > 0.0 && beta > 0.0 && alpha.is_finite() && beta.is_finite() {
            Ok(())
        } else {
            Err(PluginError::invalid_argument(format!(
                "row {row}: alpha {alpha} and beta {beta} must be positive and finite"
            )))
        }
    }

    /// An action of dimension `i` mapped back to (0, 1), kept away from the edges.
    fn unit(&self, action: f32, i: usize) -> f64 {
        ((f64::from(action) - self.low[i]) / self.width[i]).clamp(EDGE, 1.0 - EDGE)
    }

    /// The sum over dimensions of the log-width of the bounds (the scaling's Jacobian).
    fn log_width(&self) -> f64 {
        self.width.iter().map(|w| w.ln()).sum()
    }
}

impl PolicyDistribution for Beta {
    fn new(config: BetaConfig) -> Result<Self, PluginError> {
        if !(config.init_gain.is_finite() && config.init_gain > 0.0) {
            return Err(PluginError::invalid_config("init_gain must be positive"));
        }
        Ok(Beta {
            config,
            low: Vec::new(),
            width: Vec::new(),
        })
    }

    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError> {
        let ActionSpace::Box { low, high } = space else {
            return Err(PluginError::unsupported(
                "beta needs a box (continuous) action space with finite bounds; use categorical for discrete spaces",
            ));
        };
        if let Some(i) = low
            .iter()
            .zip(high)
            .position(|(l, h)| !(l.is_finite() && h.is_finite() && l < h))
        {
            return Err(PluginError::unsupported(format!(
                "beta needs finite bounds with low < high, but dimension {i} is [{}, {}]; use gaussian",
                low[i], high[i]
            )));
        }
        self.low = low.iter().map(|&l| f64::from(l)).collect();
        self.width = low
            .iter()
            .zip(high)
            .map(|(&l, &h)| f64::from(h) - f64::from(l))
            .collect();
        let d = low.len() as u32;
        let group = |name: &str| ParamGroup {
            name: name.into(),
            size: d,
            source: ParamSource::Linear {
                init_gain: self.config.init_gain,
            },
            activation: HeadActivation::SoftplusPlusOne,
        };
        Ok(DistributionHead {
            action_dim: d,
            params: vec![group("alpha"), group("beta")],
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
        let d = self.dim();
        let log_width = self.log_width();
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let mut lp = -log_width;
            for i in 0..d {
                let (a, b) = (f64::from(row[i]), f64::from(row[d + i]));
                Self::check_params(a, b, r)?;
                let distribution = rand_distr::Beta::new(a, b)
                    .map_err(|e| PluginError::invalid_argument(format!("row {r}: {e}")))?;
                let x: f64 = distribution.sample(&mut rng).clamp(EDGE, 1.0 - EDGE);
                let action = (self.low[i] + x * self.width[i]) as f32;
                actions[r * d + i] = action;
                // Score the action as it will be stored (rounded to f32), so that sample and
                // log_prob agree exactly.
                let x = self.unit(action, i);
                lp += log_density(a, b, x.ln(), (1.0 - x).ln());
            }
            log_probs[r] = lp as f32;
        }
        Ok(())
    }

    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError> {
        // The mean, alpha / (alpha + beta), as AngoraPy uses for deterministic actions.
        let d = self.dim();
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            for i in 0..d {
                let (a, b) = (f64::from(row[i]), f64::from(row[d + i]));
                Self::check_params(a, b, r)?;
                actions[r * d + i] = (self.low[i] + a / (a + b) * self.width[i]) as f32;
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
        let d = self.dim();
        let log_width = self.log_width();
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let mut lp = -log_width;
            for i in 0..d {
                let (a, b) = (f64::from(row[i]), f64::from(row[d + i]));
                Self::check_params(a, b, r)?;
                let x = self.unit(actions[r * d + i], i);
                let (ln_x, ln_1mx) = (x.ln(), (1.0 - x).ln());
                lp += log_density(a, b, ln_x, ln_1mx);
                if let Some(grad) = grad.as_deref_mut() {
                    let psi_ab = digamma(a + b);
                    grad[r * 2 * d + i] = (ln_x - digamma(a) + psi_ab) as f32;
                    grad[r * 2 * d + d + i] = (ln_1mx - digamma(b) + psi_ab) as f32;
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
        // Differential entropy of the scaled distribution: the (0, 1) entropy plus log-width.
        let d = self.dim();
        let log_width = self.log_width();
        for (r, row) in params.chunks_exact(2 * d).enumerate() {
            let mut h = log_width;
            for i in 0..d {
                let (a, b) = (f64::from(row[i]), f64::from(row[d + i]));
                Self::check_params(a, b, r)?;
                h += ln_beta(a, b) - (a - 1.0) * digamma(a) - (b - 1.0) * digamma(b)
                    + (a + b - 2.0) * digamma(a + b);
                if let Some(grad) = grad.as_deref_mut() {
                    let t_ab = (a + b - 2.0) * trigamma(a + b);
                    grad[r * 2 * d + i] = (-(a - 1.0) * trigamma(a) + t_ab) as f32;
                    grad[r * 2 * d + d + i] = (-(b - 1.0) * trigamma(b) + t_ab) as f32;
                }
            }
            entropy[r] = h as f32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(low: Vec<f32>, high: Vec<f32>) -> Beta {
        let mut b = Beta::new(BetaConfig::default()).unwrap();
        b.bind(&ActionSpace::Box { low, high }).unwrap();
        b
    }

    #[test]
    fn gradients_match_finite_differences() {
        let b = bound(vec![-2.0, 0.0], vec![2.0, 1.0]);
        let params = [1.5, 3.0, 2.2, 1.1, 4.0, 1.2, 1.7, 2.5];
        crate::testing::check_gradients(&b, &params, &[0.5, 0.2, -1.5, 0.9], 2);
    }

    #[test]
    fn samples_stay_in_bounds_with_the_right_mean() {
        let b = bound(vec![-2.0], vec![2.0]);
        let n = 20_000;
        // alpha 3, beta 1.5: mean 2/3 of the way from low to high.
        let params: Vec<f32> = (0..n).flat_map(|_| [3.0, 1.5]).collect();
        let mut actions = vec![0.0; n];
        let mut lp = vec![0.0; n];
        b.sample(&params, 11, &mut actions, &mut lp).unwrap();
        assert!(actions.iter().all(|a| (-2.0..=2.0).contains(a)));
        let mean = actions.iter().map(|&a| f64::from(a)).sum::<f64>() / n as f64;
        assert!(
            (mean - (-2.0 + 4.0 * 2.0 / 3.0)).abs() < 0.02,
            "mean {mean}"
        );
        let mut check = vec![0.0; n];
        b.log_prob(&params, &actions, &mut check, None).unwrap();
        assert!(lp.iter().zip(&check).all(|(a, c)| (a - c).abs() < 1e-5));
    }

    #[test]
    fn uniform_case_has_log_width_entropy() {
        let b = bound(vec![0.0], vec![4.0]);
        let mut h = [0.0];
        b.entropy(&[1.0, 1.0], &mut h, None).unwrap();
        assert!((f64::from(h[0]) - 4f64.ln()).abs() < 1e-6);
    }

    #[test]
    fn refuses_unbounded_spaces() {
        let mut b = Beta::new(BetaConfig::default()).unwrap();
        let err = b
            .bind(&ActionSpace::Box {
                low: vec![f32::NEG_INFINITY],
                high: vec![1.0],
            })
            .unwrap_err();
        assert!(err.message.contains("finite bounds"));
        assert!(b.bind(&ActionSpace::Discrete { n: 3 }).is_err());
    }
}
