//! The categorical distribution over `n` choices, parameterised by logits.

use angora_plugin_api::{
    ActionSpace, Component, DistributionHead, PluginError, PolicyDistribution,
};
use serde::{Deserialize, Serialize};

use crate::multi_categorical::{EntropyReduction, MultiCategorical, MultiCategoricalConfig};

/// Configuration of the categorical distribution (it has no options).
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategoricalConfig {}

/// The categorical distribution: a multi-categorical with a single dimension, whose kernels
/// it shares.
pub struct Categorical {
    inner: MultiCategorical,
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

impl PolicyDistribution for Categorical {
    fn new(_config: CategoricalConfig) -> Result<Self, PluginError> {
        let config = MultiCategoricalConfig {
            entropy: EntropyReduction::Sum,
        };
        Ok(Categorical {
            inner: MultiCategorical::new(config)?,
        })
    }

    fn bind(&mut self, space: &ActionSpace) -> Result<DistributionHead, PluginError> {
        if !matches!(space, ActionSpace::Discrete { .. }) {
            return Err(PluginError::unsupported(
                "categorical needs a discrete action space (use multi-categorical for multi-discrete, \
                 gaussian or beta for box spaces)",
            ));
        }
        self.inner.bind(space)
    }

    fn sample(
        &self,
        params: &[f32],
        seed: u64,
        actions: &mut [f32],
        log_probs: &mut [f32],
    ) -> Result<(), PluginError> {
        self.inner.sample(params, seed, actions, log_probs)
    }

    fn mode(&self, params: &[f32], actions: &mut [f32]) -> Result<(), PluginError> {
        self.inner.mode(params, actions)
    }

    fn log_prob(
        &self,
        params: &[f32],
        actions: &[f32],
        log_probs: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        self.inner.log_prob(params, actions, log_probs, grad)
    }

    fn entropy(
        &self,
        params: &[f32],
        entropy: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<(), PluginError> {
        self.inner.entropy(params, entropy, grad)
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
