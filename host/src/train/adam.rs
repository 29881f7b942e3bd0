//! Adam (Kingma and Ba 2015) on a flat parameter vector, with global-norm gradient clipping.
//!
//! Working on the flat vector keeps the optimiser's state explicit (it is checkpointed
//! exactly), makes clipping global across all parameters, and is the form in which gradients
//! are all-reduced across processes.

use serde::{Deserialize, Serialize};

/// Adam's state.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Adam {
    /// First-moment estimates.
    #[serde(skip)]
    pub m: Vec<f32>,
    /// Second-moment estimates.
    #[serde(skip)]
    pub v: Vec<f32>,
    /// Steps taken.
    pub t: u64,
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the denominator for stability.
    pub epsilon: f64,
}

impl Adam {
    /// Fresh state for `n` parameters.
    pub fn new(n: usize, epsilon: f64) -> Adam {
        Adam {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
            beta1: 0.9,
            beta2: 0.999,
            epsilon,
        }
    }

    /// One update of `params` with `grads` (PyTorch's formulation, bias-corrected).
    pub fn step(&mut self, params: &mut [f32], grads: &[f32], learning_rate: f64) {
        self.t += 1;
        let t = self.t as i32;
        let correction1 = 1.0 - self.beta1.powi(t);
        let correction2 = 1.0 - self.beta2.powi(t);
        let step_size = (learning_rate / correction1) as f32;
        let correction2_sqrt = correction2.sqrt() as f32;
        let (b1, b2, eps) = (self.beta1 as f32, self.beta2 as f32, self.epsilon as f32);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= step_size * *m / (v.sqrt() / correction2_sqrt + eps);
        }
    }
}

/// The global L2 norm of `grads`.
pub fn global_norm(grads: &[f32]) -> f64 {
    grads
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum::<f64>()
        .sqrt()
}

/// Scales `grads` so that their global norm is at most `max_norm`; returns the norm before.
pub fn clip_global_norm(grads: &mut [f32], max_norm: f64) -> f64 {
    let norm = global_norm(grads);
    if norm > max_norm {
        let scale = (max_norm / (norm + 1e-6)) as f32;
        grads.iter_mut().for_each(|g| *g *= scale);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate() {
        let mut adam = Adam::new(3, 1e-8);
        let mut p = [1.0f32, -2.0, 0.5];
        adam.step(&mut p, &[0.3, -4.0, 0.0], 0.1);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] + 1.9).abs() < 1e-6 && p[2] == 0.5);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut adam = Adam::new(2, 1e-8);
        let mut p = [3.0f32, -1.0];
        for _ in 0..2000 {
            let g = [2.0 * p[0], 2.0 * (p[1] - 1.0)];
            adam.step(&mut p, &g, 0.01);
        }
        assert!(p[0].abs() < 1e-2 && (p[1] - 1.0).abs() < 1e-2, "{p:?}");
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let mut g = [3.0f32, 4.0];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((global_norm(&g) - 1.0).abs() < 1e-5);
        let mut small = [0.3f32, 0.4];
        clip_global_norm(&mut small, 1.0);
        assert_eq!(small, [0.3, 0.4]);
    }
}
