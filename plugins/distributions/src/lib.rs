//! Policy distributions: batched kernels with analytic gradients over flat `f32` slices.

mod beta;
mod categorical;
mod gaussian;
mod multi_categorical;
mod special;

pub use beta::{Beta, BetaConfig};
pub use categorical::{Categorical, CategoricalConfig};
pub use gaussian::{Gaussian, GaussianConfig};
pub use multi_categorical::{EntropyReduction, MultiCategorical, MultiCategoricalConfig};

angora_plugin_api::register!(
    distribution Categorical,
    "categorical",
    "One choice among n, from logits (for discrete action spaces)."
);
angora_plugin_api::register!(
    distribution Gaussian,
    "gaussian",
    "Diagonal normal with state-independent log standard deviations (for box action spaces)."
);

angora_plugin_api::register!(
    distribution MultiCategorical,
    "multi-categorical",
    "One categorical choice per dimension (for multi-discrete action spaces, e.g. 11 bins per actuator)."
);
angora_plugin_api::register!(
    distribution Beta,
    "beta",
    "Beta per dimension with alpha, beta = softplus + 1, scaled to the action bounds (for bounded box spaces)."
);

angora_plugin_api::export_plugin!();

/// Numerical-gradient checks shared by the distributions' tests.
#[cfg(test)]
pub(crate) mod testing {
    use angora_plugin_api::PolicyDistribution;

    /// Compares analytic log-prob and entropy gradients with central differences.
    pub fn check_gradients<D: PolicyDistribution>(
        dist: &D,
        params: &[f32],
        actions: &[f32],
        batch: usize,
    ) {
        let p = params.len();
        let mut grad = vec![0.0; p];
        let mut lp = vec![0.0; batch];
        dist.log_prob(params, actions, &mut lp, Some(&mut grad))
            .unwrap();
        let mut ent_grad = vec![0.0; p];
        let mut ent = vec![0.0; batch];
        dist.entropy(params, &mut ent, Some(&mut ent_grad)).unwrap();
        let per_row = p / batch;
        let h = 1e-2f32;
        for i in 0..p {
            let row = i / per_row;
            let eval = |delta: f32| {
                let mut q = params.to_vec();
                q[i] += delta;
                let mut lp = vec![0.0; batch];
                let mut ent = vec![0.0; batch];
                dist.log_prob(&q, actions, &mut lp, None).unwrap();
                dist.entropy(&q, &mut ent, None).unwrap();
                (lp[row] as f64, ent[row] as f64)
            };
            let (lp_plus, ent_plus) = eval(h);
            let (lp_minus, ent_minus) = eval(-h);
            let numeric_lp = (lp_plus - lp_minus) / (2.0 * h as f64);
            let numeric_ent = (ent_plus - ent_minus) / (2.0 * h as f64);
            assert!(
                (numeric_lp - grad[i] as f64).abs() < 2e-3,
                "log-prob grad {i}: {numeric_lp} vs {}",
                grad[i]
            );
            assert!(
                (numeric_ent - ent_grad[i] as f64).abs() < 2e-3,
                "entropy grad {i}: {numeric_ent} vs {}",
                ent_grad[i]
            );
        }
    }
}
