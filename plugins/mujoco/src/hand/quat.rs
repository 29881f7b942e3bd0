//! Unit quaternions `(w, x, y, z)` for object orientations and goals.

/// A quaternion `(w, x, y, z)`.
pub type Quat = [f64; 4];

/// The rotation by `angle` radians about `axis` (normalised here).
pub fn from_angle_axis(angle: f64, axis: [f64; 3]) -> Quat {
    let norm = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
    let (s, c) = (angle / 2.0).sin_cos();
    [
        c,
        s * axis[0] / norm,
        s * axis[1] / norm,
        s * axis[2] / norm,
    ]
}

/// The Hamilton product `a * b`.
pub fn mul(a: Quat, b: Quat) -> Quat {
    [
        a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
        a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
        a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
        a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0],
    ]
}

/// The conjugate (the inverse of a unit quaternion).
pub fn conjugate(q: Quat) -> Quat {
    [q[0], -q[1], -q[2], -q[3]]
}

/// `q / |q|`.
pub fn normalise(q: Quat) -> Quat {
    let n = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    [q[0] / n, q[1] / n, q[2] / n, q[3] / n]
}

/// The angle in `[0, pi]` of the rotation taking `b` to `a`, the distance Gymnasium's and
/// AngoraPy's manipulation tasks measure: `2 acos(|w|)` of `a * conj(b)`. Taking `|w|` treats
/// `q` and `-q` (the same rotation) alike; the two libraries clip `w` instead, which gives
/// angles up to `2 pi` for the same rotation.
pub fn angle_between(a: Quat, b: Quat) -> f64 {
    let d = mul(normalise(a), conjugate(normalise(b)));
    2.0 * d[0].abs().clamp(0.0, 1.0).acos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, PI};

    #[test]
    fn angles_between_known_rotations() {
        let id = [1.0, 0.0, 0.0, 0.0];
        let quarter_z = from_angle_axis(FRAC_PI_2, [0.0, 0.0, 2.0]);
        assert!((angle_between(quarter_z, id) - FRAC_PI_2).abs() < 1e-12);
        assert!((angle_between(id, quarter_z) - FRAC_PI_2).abs() < 1e-12);
        // q and -q are the same orientation.
        let neg = quarter_z.map(|v| -v);
        assert!(angle_between(neg, quarter_z).abs() < 1e-6);
        let half_x = from_angle_axis(PI, [1.0, 0.0, 0.0]);
        assert!((angle_between(half_x, id) - PI).abs() < 1e-6);
        // Two quarter turns about z make a half turn.
        let half_z = mul(quarter_z, quarter_z);
        assert!((angle_between(half_z, id) - PI).abs() < 1e-6);
    }
}
