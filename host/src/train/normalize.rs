//! Running normalisation of observations (per sense and dimension, clipped) and rewards
//! (scaled by the spread of a discounted return), as AngoraPy does it.
//!
//! Statistics are kept in double precision. During a cycle each worker adds its samples to a
//! local copy; at the end of the cycle the local increments are merged, in worker order, into
//! the shared statistics. The result depends only on the data and the number of workers.

use serde::{Deserialize, Serialize};

/// The variance floor added before the square root.
const EPSILON: f64 = 1e-8;

/// Running mean and variance of a vector (Chan et al.'s parallel algorithm).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Moments {
    /// Samples seen (starts at a tiny positive count, as AngoraPy's does).
    pub count: f64,
    /// Mean per dimension.
    pub mean: Vec<f64>,
    /// Population variance per dimension.
    pub var: Vec<f64>,
}

impl Moments {
    /// Statistics of dimension `len` with no data.
    pub fn new(len: usize) -> Moments {
        Moments {
            count: 1e-4,
            mean: vec![0.0; len],
            var: vec![1.0; len],
        }
    }

    /// Empty increments of dimension `len`: merged into statistics, they change nothing.
    pub fn empty(len: usize) -> Moments {
        Moments {
            count: 0.0,
            mean: vec![0.0; len],
            var: vec![0.0; len],
        }
    }

    /// Adds one sample.
    pub fn add(&mut self, x: &[f32]) {
        self.count += 1.0;
        for ((m, v), &x) in self.mean.iter_mut().zip(&mut self.var).zip(x) {
            let x = f64::from(x);
            let delta = x - *m;
            *m += delta / self.count;
            // Welford: the running sum of squares, kept as a variance.
            *v += (delta * (x - *m) - *v) / self.count;
        }
    }

    /// Merges other statistics into these.
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0.0 {
            return;
        }
        let total = self.count + other.count;
        for i in 0..self.mean.len() {
            let delta = other.mean[i] - self.mean[i];
            let m2 = self.var[i] * self.count
                + other.var[i] * other.count
                + delta * delta * self.count * other.count / total;
            self.mean[i] += delta * other.count / total;
            self.var[i] = m2 / total;
        }
        self.count = total;
    }

    /// These statistics with `increment` merged in, without changing either.
    pub fn combined(&self, increment: &Moments) -> Moments {
        let mut out = self.clone();
        out.merge(increment);
        out
    }
}

/// Normalisers' state: per normalised sense, and for rewards.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NormalizerState {
    /// Per network input: statistics, or `None` where the input is not normalised (images,
    /// or state normalisation switched off).
    pub senses: Vec<Option<Moments>>,
    /// Statistics of the discounted return, if rewards are normalised.
    pub reward: Option<Moments>,
}

impl NormalizerState {
    /// Fresh statistics for inputs of these sizes; `vector[i]` says whether input `i` is a
    /// vector (images are never normalised).
    pub fn new(sizes: &[usize], vector: &[bool], state: bool, reward: bool) -> NormalizerState {
        NormalizerState {
            senses: sizes
                .iter()
                .zip(vector)
                .map(|(&n, &v)| (state && v).then(|| Moments::new(n)))
                .collect(),
            reward: reward.then(|| Moments::new(1)),
        }
    }

    /// Empty increments shaped like these statistics.
    pub fn empty_like(&self) -> NormalizerState {
        NormalizerState {
            senses: self
                .senses
                .iter()
                .map(|m| m.as_ref().map(|m| Moments::empty(m.mean.len())))
                .collect(),
            reward: self.reward.as_ref().map(|_| Moments::empty(1)),
        }
    }

    /// Merges increments into these statistics.
    pub fn merge(&mut self, increment: &NormalizerState) {
        for (mine, theirs) in self.senses.iter_mut().zip(&increment.senses) {
            if let (Some(mine), Some(theirs)) = (mine, theirs) {
                mine.merge(theirs);
            }
        }
        if let (Some(mine), Some(theirs)) = (&mut self.reward, &increment.reward) {
            mine.merge(theirs);
        }
    }
}

/// Normalises `x` in place with `moments`, clipping to `clip`.
pub fn normalize(x: &mut [f32], moments: &Moments, clip: f64) {
    for ((x, m), v) in x.iter_mut().zip(&moments.mean).zip(&moments.var) {
        *x = ((f64::from(*x) - m) / (v + EPSILON).sqrt()).clamp(-clip, clip) as f32;
    }
}

/// Scales a reward by the spread of the discounted return, clipping to `clip`.
pub fn scale_reward(reward: f64, moments: &Moments, clip: f64) -> f64 {
    (reward / (moments.var[0] + EPSILON).sqrt()).clamp(-clip, clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_increments_equal_one_pass() {
        let data: Vec<[f32; 2]> = (0..50)
            .map(|i| [i as f32 * 0.3, (i % 7) as f32 - 2.0])
            .collect();
        let mut one = Moments::new(2);
        data.iter().for_each(|x| one.add(x));
        let mut merged = Moments::new(2);
        let (mut a, mut b) = (Moments::empty(2), Moments::empty(2));
        data[..20].iter().for_each(|x| a.add(x));
        data[20..].iter().for_each(|x| b.add(x));
        merged.merge(&a);
        merged.merge(&b);
        for i in 0..2 {
            assert!((one.mean[i] - merged.mean[i]).abs() < 1e-9);
            assert!((one.var[i] - merged.var[i]).abs() < 1e-6);
        }
        let exact_mean = data.iter().map(|x| f64::from(x[0])).sum::<f64>() / 50.0;
        assert!((merged.mean[0] - exact_mean).abs() < 1e-3);
    }

    #[test]
    fn normalised_values_are_clipped() {
        let m = Moments {
            count: 10.0,
            mean: vec![1.0],
            var: vec![4.0],
        };
        let mut x = [5.0f32, 1.0, 1000.0];
        normalize(&mut x[..1], &m, 10.0);
        assert!((x[0] - 2.0).abs() < 1e-6);
        normalize(&mut x[2..], &m, 10.0);
        assert_eq!(x[2], 10.0);
    }
}
