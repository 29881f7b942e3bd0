//! The categorical distribution over `n` choices, parameterised by logits.

use angora_plugin_api::{
    ActionSpace, Component, DistributionHead, HeadActivation, ParamGroup, ParamSource, PluginError,
    PolicyDistribution,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Configuration of the categorical distribution (it has no options).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoricalConfig {}

/// The categorical distribution.
#[derive(Default)]
pub struct Categorical {
    n: usize,
}

impl Component for Categorical {
    type Config = CategoricalConfig;
}

/// Log-probabilities of one row of logits, computed stably.
pub(crate) fn log_softmax(logits: &[f32], out: &mut [f64]) {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let sum: f64 = logits.iter().map(|&v| (v as f64 - max).exp()).sum();
    let log_z = max + sum.ln();
    for (o, &v) in out.iter_mut().zip(logits) {
        *o = v as f64 - log_z;
    }
}

impl Categorical {
    fn rows<'a>(&self, params: &'a [f32]) -> impl Iterator<Item = &'a [f32]> {
        params.chunks_exact(self.n)
    }
}

impl PolicyDistribution for Categorical {
    fn new(_config: CategoricalConfig) -> Result<Self, PluginError> {
        Ok(Categorical::default())
    }

    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError> {
        let ActionSpace::Discrete { n } = space else {
            return Err(PluginError::unsupported(
                "categorical needs a discrete action space (use multi-categorical for multi-discrete, \
                 gaussian or beta for box spaces)",
            ));
        };
        self.n = *n as usize;
        Ok(DistributionHead {
            action_dim: 1,
            params: vec![ParamGroup {
                name: "logits".into(),
                size: *n,
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
        let mut logp = vec![0.0; self.n];
        for ((row, action), out_lp) in self
            .rows(params)
            .zip(actions.iter_mut())
            .zip(log_probs.iter_mut())
        {
            log_softmax(row, &mut logp);
            let u: f64 = rng.random();
            let mut cumulative = 0.0;
            // The last choice takes any rounding remainder.
            let mut choice = self.n - 1;
            for (i, lp) in logp.iter().enumerate() {
                cumulative += lp.exp();
                if u < cumulative {
                    choice = i;
                    break;
                }
            }
            *action = choice as f32;
            *out_lp = logp[choice] as f32;
        }
        Ok(())
    }

    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError> {
        for (row, action) in self.rows(params).zip(actions.iter_mut()) {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                });
            *action = best.0 as f32;
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
        let mut logp = vec![0.0; self.n];
        for (r, row) in self.rows(params).enumerate() {
            let a = actions[r];
            if !(a >= 0.0 && (a as usize) < self.n && a.fract() == 0.0) {
                return Err(PluginError::invalid_argument(format!(
                    "action {a} in row {r} is not a choice in 0..{}",
                    self.n
                )));
            }
            let a = a as usize;
            log_softmax(row, &mut logp);
            log_probs[r] = logp[a] as f32;
            if let Some(grad) = grad.as_deref_mut() {
                // d log p_a / d z_j = [j == a] - p_j
                for (j, g) in grad[r * self.n..(r + 1) * self.n].iter_mut().enumerate() {
                    *g = (if j == a { 1.0 } else { 0.0 } - logp[j].exp()) as f32;
                }
            }
        }
        Ok(())
    }

    fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        let mut logp = vec![0.0; self.n];
        for (r, row) in self.rows(params).enumerate() {
            log_softmax(row, &mut logp);
            let h: f64 = -logp.iter().map(|&l| l.exp() * l).sum::<f64>();
            entropy[r] = h as f32;
            if let Some(grad) = grad.as_deref_mut() {
                // d H / d z_j = -p_j (log p_j + H)
                for (j, g) in grad[r * self.n..(r + 1) * self.n].iter_mut().enumerate() {
                    *g = (-logp[j].exp() * (logp[j] + h)) as f32;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(n: u32) -> Categorical {
        let mut d = Categorical::new(CategoricalConfig::default()).unwrap();
        d.bind(&ActionSpace::Discrete { n }).unwrap();
        d
    }

    #[test]
    fn gradients_match_finite_differences() {
        let d = bound(3);
        let params = [0.3, -1.2, 0.8, 2.0, 0.1, -0.5];
        crate::testing::check_gradients(&d, &params, &[2.0, 0.0], 2);
    }

    #[test]
    fn sampling_follows_the_probabilities() {
        let d = bound(2);
        // p(1) = sigmoid(1) ~ 0.731
        let params: Vec<f32> = (0..4000).flat_map(|_| [0.0, 1.0]).collect();
        let mut actions = vec![0.0; 4000];
        let mut lp = vec![0.0; 4000];
        d.sample(&params, 42, &mut actions, &mut lp).unwrap();
        let ones = actions.iter().filter(|&&a| a == 1.0).count() as f64 / 4000.0;
        assert!(
            (ones - 0.731).abs() < 0.03,
            "frequency of choice 1 was {ones}"
        );
        let mut again = vec![0.0; 4000];
        d.sample(&params, 42, &mut again, &mut lp).unwrap();
        assert_eq!(actions, again, "the same seed must give the same samples");
    }

    #[test]
    fn refuses_box_spaces() {
        let mut d = Categorical::new(CategoricalConfig::default()).unwrap();
        assert!(
            d.bind(&ActionSpace::Box {
                low: vec![-1.0],
                high: vec![1.0]
            })
            .is_err()
        );
    }
}
