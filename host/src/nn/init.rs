//! Seeded parameter initialisation, independent of burn's global random state, so that a run's
//! initial weights depend only on its seed.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A random stream for one parameter, derived from the run's seed and the parameter's index.
pub fn param_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64 + 1);
    rng
}

/// A `rows x cols` matrix (row-major) with orthonormal rows or columns, scaled by `gain`, as
/// in Saxe et al. (2014) and PyTorch's `orthogonal_`: QR of a Gaussian matrix with the signs of
/// R's diagonal folded in.
pub fn orthogonal(rows: usize, cols: usize, gain: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let (long, short) = (rows.max(cols), rows.min(cols));
    // `short` column vectors of length `long`, orthonormalised by modified Gram-Schmidt
    // (which yields R with a positive diagonal, so no sign correction is needed).
    let mut columns: Vec<Vec<f64>> = (0..short)
        .map(|_| (0..long).map(|_| StandardNormal.sample(rng)).collect())
        .collect();
    for j in 0..short {
        for k in 0..j {
            let (done, rest) = columns.split_at_mut(j);
            let projection: f64 = done[k].iter().zip(&rest[0]).map(|(a, b)| a * b).sum();
            for (x, q) in rest[0].iter_mut().zip(&done[k]) {
                *x -= projection * q;
            }
        }
        let norm = columns[j]
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        for x in &mut columns[j] {
            *x /= norm;
        }
    }
    let mut out = vec![0.0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            // Orthonormal columns when rows >= cols, orthonormal rows otherwise.
            let value = if rows >= cols {
                columns[c][r]
            } else {
                columns[r][c]
            };
            out[r * cols + c] = (f64::from(gain) * value) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_matrices_are_orthogonal() {
        for (rows, cols) in [(5, 3), (3, 5), (4, 4)] {
            let w = orthogonal(rows, cols, 2.0, &mut param_rng(1, 0));
            let (long, short) = (rows.max(cols), rows.min(cols));
            // Gram matrix over the short side equals gain^2 I.
            for a in 0..short {
                for b in 0..short {
                    let dot: f32 = (0..long)
                        .map(|i| {
                            let (x, y) = if rows >= cols {
                                (w[i * cols + a], w[i * cols + b])
                            } else {
                                (w[a * cols + i], w[b * cols + i])
                            };
                            x * y
                        })
                        .sum();
                    let expected = if a == b { 4.0 } else { 0.0 };
                    assert!(
                        (dot - expected).abs() < 1e-4,
                        "{rows}x{cols} [{a},{b}] = {dot}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_weights() {
        assert_eq!(
            orthogonal(4, 3, 1.0, &mut param_rng(7, 2)),
            orthogonal(4, 3, 1.0, &mut param_rng(7, 2))
        );
        assert_ne!(
            orthogonal(4, 3, 1.0, &mut param_rng(7, 2)),
            orthogonal(4, 3, 1.0, &mut param_rng(7, 3))
        );
    }
}
