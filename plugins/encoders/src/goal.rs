//! Goal re-coding: a goal orientation quaternion as a rotation matrix, its 6D representation,
//! or a canonical quaternion; optionally relative to the current orientation (the rotation
//! still to go) read from another sense.
//!
//! A unit quaternion and its negation are the same rotation, so a network that reads raw
//! quaternions sees one goal at two far-apart points. The matrix and 6D codes (Zhou et al.,
//! "On the Continuity of Rotation Representations in Neural Networks", CVPR 2019) are
//! continuous and unique; the canonical quaternion is unique but jumps where `w` crosses 0.

use angora_plugin_api::{Component, PluginError, Sensation, SensationEncoder, SenseSpec};
use serde::{Deserialize, Serialize};

use crate::{check_sense_name, find_sense, pass_through, sense_values};

/// How the goal quaternion is re-coded.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum GoalMode {
    /// The 3x3 rotation matrix, row-major: 9 values.
    #[default]
    Matrix,
    /// The matrix's first two columns, first column first: 6 values.
    SixD,
    /// The unit quaternion `(w, x, y, z)` with `w >= 0` (when `w = 0`, the first non-zero of
    /// `x`, `y`, `z` made positive): 4 values.
    Canonical,
}

impl GoalMode {
    /// The number of values the mode outputs.
    pub fn output_len(self) -> usize {
        match self {
            GoalMode::Matrix => 9,
            GoalMode::SixD => 6,
            GoalMode::Canonical => 4,
        }
    }
}

/// Configuration of the goal encoder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GoalConfig {
    /// The goal sense: 4 values, a quaternion `(w, x, y, z)`; the others pass through.
    pub sense: String,
    /// The code to produce.
    pub mode: GoalMode,
    /// If set, code the rotation still to go, `goal * conj(current)` (in the frame the two
    /// quaternions are given in), instead of the goal itself; `current` is read from this
    /// place. The task's senses are unchanged: this is the same information, arranged so that
    /// a network need not learn quaternion products.
    pub relative_to: Option<OrientationSource>,
}

/// Where a sense holds the current orientation quaternion `(w, x, y, z)`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OrientationSource {
    /// The sense, e.g. `vision` (ManipulateBlock's surrogate vision: position 3, quaternion 4).
    pub sense: String,
    /// Index of the quaternion's `w` within the sense.
    pub offset: u32,
}

impl Default for GoalConfig {
    fn default() -> Self {
        GoalConfig {
            sense: "goal".into(),
            mode: GoalMode::Matrix,
            relative_to: None,
        }
    }
}

/// The goal encoder.
pub struct GoalEncoder {
    config: GoalConfig,
    /// Position of the goal sense among the inputs, once configured.
    index: Option<usize>,
    /// Position and length of the `relative_to` sense among the inputs, once configured.
    current: Option<(usize, usize)>,
}

/// The quaternion `(w, x, y, z)` scaled to unit length, or `None` if it has none.
fn unit(q: &[f32]) -> Option<[f64; 4]> {
    let q = [q[0], q[1], q[2], q[3]].map(f64::from);
    let norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    (norm.is_finite() && norm > 1e-12).then(|| q.map(|v| v / norm))
}

/// The unit quaternion of `values`, or an error naming the place they came from (for example
/// "goal sense 'goal'"; built only on error, since this runs every step) when they have no
/// length.
fn rotation(values: &[f32], place: impl FnOnce() -> String) -> Result<[f64; 4], PluginError> {
    unit(values).ok_or_else(|| {
        PluginError::invalid_argument(format!(
            "{} holds {values:?}, which is not a rotation quaternion (zero or non-finite \
             length)",
            place()
        ))
    })
}

/// The rotation matrix of a unit quaternion `(w, x, y, z)`, row-major.
fn matrix([w, x, y, z]: [f64; 4]) -> [f64; 9] {
    [
        1.0 - 2.0 * (y * y + z * z),
        2.0 * (x * y - w * z),
        2.0 * (x * z + w * y),
        2.0 * (x * y + w * z),
        1.0 - 2.0 * (x * x + z * z),
        2.0 * (y * z - w * x),
        2.0 * (x * z - w * y),
        2.0 * (y * z + w * x),
        1.0 - 2.0 * (x * x + y * y),
    ]
}

/// The Hamilton product `a * b` of quaternions `(w, x, y, z)`.
fn product([aw, ax, ay, az]: [f64; 4], [bw, bx, by, bz]: [f64; 4]) -> [f64; 4] {
    [
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ]
}

/// The representative of `q` and `-q` with `w > 0`, or on a tie the first non-zero of
/// `x`, `y`, `z` positive.
fn canonical(q: [f64; 4]) -> [f64; 4] {
    let leading = q.iter().copied().find(|v| *v != 0.0).unwrap_or(0.0);
    if leading < 0.0 { q.map(|v| -v) } else { q }
}

impl Component for GoalEncoder {
    type Config = GoalConfig;
}

impl SensationEncoder for GoalEncoder {
    fn new(config: GoalConfig) -> Result<Self, PluginError> {
        check_sense_name(&config.sense)?;
        if let Some(source) = &config.relative_to {
            check_sense_name(&source.sense)?;
        }
        Ok(GoalEncoder {
            config,
            index: None,
            current: None,
        })
    }

    fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, PluginError> {
        let name = &self.config.sense;
        let index = find_sense(inputs, name, "goal", "sense")?;
        let len = inputs[index].len();
        if len != 4 {
            return Err(PluginError::unsupported(format!(
                "the goal encoder re-codes quaternion goals (w, x, y, z), but sense '{name}' has \
                 {len} values (shape {:?}); use it only with orientation goals",
                inputs[index].shape
            )));
        }
        if let Some(source) = &self.config.relative_to {
            let current = find_sense(inputs, &source.sense, "goal", "relative_to.sense")?;
            let len = inputs[current].len();
            if source.offset as usize + 4 > len {
                return Err(PluginError::unsupported(format!(
                    "the goal encoder reads the current orientation from '{}' at offset {}, \
                     but that sense has only {len} values (a quaternion needs 4)",
                    source.sense, source.offset
                )));
            }
            self.current = Some((current, len));
        }
        let mut outputs = inputs.to_vec();
        outputs[index] = SenseSpec::vector(name.clone(), self.config.mode.output_len() as u32);
        self.index = Some(index);
        Ok(outputs)
    }

    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), PluginError> {
        let index = self
            .index
            .ok_or_else(|| PluginError::invalid_argument("encode called before configure"))?;
        let name = &self.config.sense;
        let values = sense_values(input, index, name, 4)?;
        let mut q = rotation(values, || format!("goal sense '{name}'"))?;
        if let (Some(source), Some((current, len))) = (&self.config.relative_to, self.current) {
            let offset = source.offset as usize;
            // configure checked that offset + 4 <= len, and sense_values that len values came.
            let values = &sense_values(input, current, &source.sense, len)?[offset..offset + 4];
            let [w, x, y, z] = rotation(values, || {
                format!("sense '{}' at offset {offset}", source.sense)
            })?;
            q = product(q, [w, -x, -y, -z]);
        }
        pass_through(input, out, index);
        let buffer = &mut out.senses[index];
        buffer.clear();
        match self.config.mode {
            GoalMode::Matrix => buffer.extend(matrix(q).iter().map(|&v| v as f32)),
            GoalMode::SixD => {
                let m = matrix(q);
                buffer.extend([m[0], m[3], m[6], m[1], m[4], m[7]].map(|v| v as f32));
            }
            GoalMode::Canonical => buffer.extend(canonical(q).map(|v| v as f32)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::FRAC_1_SQRT_2;

    /// Configures `mode` for a goal quaternion and encodes `q`.
    fn run(mode: GoalMode, q: [f32; 4]) -> Vec<f32> {
        let mut enc = GoalEncoder::new(GoalConfig {
            mode,
            ..GoalConfig::default()
        })
        .unwrap();
        let outputs = enc.configure(&[SenseSpec::vector("goal", 4)]).unwrap();
        assert_eq!(
            outputs[0],
            SenseSpec::vector("goal", mode.output_len() as u32)
        );
        let mut input = Sensation::with_senses(1);
        input.set(0, &q);
        let mut out = Sensation::with_senses(1);
        enc.encode(&input, &mut out).unwrap();
        out.senses[0].to_vec()
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
    }

    /// 90 degrees about z: (cos 45, 0, 0, sin 45).
    const QUARTER_Z: [f32; 4] = [FRAC_1_SQRT_2, 0.0, 0.0, FRAC_1_SQRT_2];

    #[test]
    fn a_quarter_turn_about_z_gives_the_known_matrix() {
        // x goes to y, y goes to -x.
        let rz = [0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        assert_close(&run(GoalMode::Matrix, QUARTER_Z), &rz);
        assert_close(
            &run(GoalMode::SixD, QUARTER_Z),
            &[0.0, 1.0, 0.0, -1.0, 0.0, 0.0],
        );
        let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        assert_close(&run(GoalMode::Matrix, [1.0, 0.0, 0.0, 0.0]), &identity);
        // Half a turn about x: (0, 1, 0, 0).
        let rx = [1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, -1.0];
        assert_close(&run(GoalMode::Matrix, [0.0, 1.0, 0.0, 0.0]), &rx);
    }

    #[test]
    fn q_and_minus_q_and_scaled_q_code_alike() {
        let q = [0.3, -0.5, 0.1, 0.8];
        let norm = q.iter().map(|v: &f32| v * v).sum::<f32>().sqrt();
        for mode in [GoalMode::Matrix, GoalMode::SixD, GoalMode::Canonical] {
            let reference = run(mode, q);
            assert_close(&run(mode, q.map(|v| -v)), &reference);
            assert_close(&run(mode, q.map(|v| 3.0 * v)), &reference);
        }
        assert_close(&run(GoalMode::Canonical, q), &q.map(|v| v / norm));
    }

    #[test]
    fn canonical_flips_to_non_negative_w() {
        let got = run(GoalMode::Canonical, [-2.0, 0.0, 0.0, 0.0]);
        assert_close(&got, &[1.0, 0.0, 0.0, 0.0]);
        let got = run(GoalMode::Canonical, QUARTER_Z.map(|v| -v));
        assert_close(&got, &QUARTER_Z);
        // w = 0: the first non-zero component decides.
        let got = run(GoalMode::Canonical, [0.0, 0.0, -0.6, 0.8]);
        assert_close(&got, &[0.0, 0.0, 0.6, -0.8]);
    }

    #[test]
    fn refuses_goals_that_are_not_quaternions() {
        let mut enc = GoalEncoder::new(GoalConfig::default()).unwrap();
        let err = enc.configure(&[SenseSpec::vector("goal", 3)]).unwrap_err();
        assert!(err.message.contains("quaternion"), "{err}");
        assert!(err.message.contains("3 values"), "{err}");
        let err = enc.configure(&[SenseSpec::vector("touch", 4)]).unwrap_err();
        assert!(err.message.contains("'goal'"), "{err}");
        enc.configure(&[SenseSpec::vector("goal", 4)]).unwrap();
        let mut input = Sensation::with_senses(1);
        input.set(0, &[0.0; 4]);
        let mut out = Sensation::with_senses(1);
        let err = enc.encode(&input, &mut out).unwrap_err();
        assert!(err.message.contains("not a rotation quaternion"), "{err}");
    }

    #[test]
    fn other_senses_pass_through() {
        let mut enc = GoalEncoder::new(GoalConfig::default()).unwrap();
        let inputs = [
            SenseSpec::vector("proprioception", 2),
            SenseSpec::vector("goal", 4),
        ];
        let outputs = enc.configure(&inputs).unwrap();
        assert_eq!(outputs[0], inputs[0]);
        assert_eq!(outputs[1], SenseSpec::vector("goal", 9));
        let mut input = Sensation::with_senses(2);
        input.set(0, &[1.0, 2.0]);
        input.set(1, &QUARTER_Z);
        let mut out = Sensation::with_senses(2);
        enc.encode(&input, &mut out).unwrap();
        assert_eq!(out.senses[0].as_slice(), &[1.0, 2.0]);
        assert_eq!(out.senses[1].len(), 9);
    }

    /// Encodes `goal` relative to the quaternion at offset 3 of a 7-value `vision` sense.
    fn run_relative(goal: [f32; 4], current: [f32; 4]) -> Vec<f32> {
        let mut enc = GoalEncoder::new(GoalConfig {
            relative_to: Some(OrientationSource {
                sense: "vision".into(),
                offset: 3,
            }),
            ..GoalConfig::default()
        })
        .unwrap();
        let inputs = [SenseSpec::vector("vision", 7), SenseSpec::vector("goal", 4)];
        enc.configure(&inputs).unwrap();
        let mut input = Sensation::with_senses(2);
        let [w, x, y, z] = current;
        input.set(0, &[0.1, 0.2, 0.3, w, x, y, z]);
        input.set(1, &goal);
        let mut out = Sensation::with_senses(2);
        enc.encode(&input, &mut out).unwrap();
        assert_eq!(out.senses[0].as_slice(), input.senses[0].as_slice());
        out.senses[1].to_vec()
    }

    #[test]
    fn relative_goals_code_the_rotation_still_to_go() {
        let identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let rz = [0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        // At the goal: nothing to go, whatever the goal and the sign of either quaternion.
        assert_close(&run_relative(QUARTER_Z, QUARTER_Z), &identity);
        assert_close(&run_relative(QUARTER_Z, QUARTER_Z.map(|v| -v)), &identity);
        // From the identity, the goal itself.
        assert_close(&run_relative(QUARTER_Z, [1.0, 0.0, 0.0, 0.0]), &rz);
        // Half a turn about z, from a quarter turn about z: another quarter turn about z.
        assert_close(&run_relative([0.0, 0.0, 0.0, 1.0], QUARTER_Z), &rz);
        // From a quarter turn about x back to the identity: a quarter turn about -x, which
        // takes y to -z and z to y.
        let rx_back = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0];
        let quarter_x = [FRAC_1_SQRT_2, FRAC_1_SQRT_2, 0.0, 0.0];
        assert_close(&run_relative([1.0, 0.0, 0.0, 0.0], quarter_x), &rx_back);
    }

    #[test]
    fn relative_goals_need_a_quaternion_in_the_named_sense() {
        let config = |sense: &str, offset| GoalConfig {
            relative_to: Some(OrientationSource {
                sense: sense.into(),
                offset,
            }),
            ..GoalConfig::default()
        };
        let inputs = [SenseSpec::vector("vision", 7), SenseSpec::vector("goal", 4)];
        let mut enc = GoalEncoder::new(config("vision", 4)).unwrap();
        let err = enc.configure(&inputs).unwrap_err();
        assert!(err.message.contains("offset 4"), "{err}");
        assert!(err.message.contains("only 7 values"), "{err}");
        let mut enc = GoalEncoder::new(config("touch", 0)).unwrap();
        let err = enc.configure(&inputs).unwrap_err();
        assert!(err.message.contains("'touch'"), "{err}");
        assert!(err.message.contains("`relative_to.sense`"), "{err}");
        assert!(GoalEncoder::new(config("", 0)).is_err());
        let mut enc = GoalEncoder::new(config("vision", 3)).unwrap();
        enc.configure(&inputs).unwrap();
        let mut input = Sensation::with_senses(2);
        input.set(0, &[0.1, 0.2, 0.3, 0.0, 0.0, 0.0, 0.0]);
        input.set(1, &QUARTER_Z);
        let mut out = Sensation::with_senses(2);
        let err = enc.encode(&input, &mut out).unwrap_err();
        assert!(err.message.contains("'vision' at offset 3"), "{err}");
        assert!(err.message.contains("not a rotation quaternion"), "{err}");
        input.set(0, &[0.1, 0.2, 0.3, 1.0, 0.0]);
        let err = enc.encode(&input, &mut out).unwrap_err();
        assert!(err.message.contains("'vision' holds 5 values"), "{err}");
        let parsed: GoalConfig = serde_json::from_value(serde_json::json!(
            {"relative_to": {"sense": "vision", "offset": 3}}
        ))
        .unwrap();
        assert_eq!(parsed, config("vision", 3));
        let bad = serde_json::json!({"relative_to": {"sense": "vision", "index": 3}});
        assert!(serde_json::from_value::<GoalConfig>(bad).is_err());
    }

    #[test]
    fn config_is_checked() {
        assert!(
            GoalEncoder::new(GoalConfig {
                sense: String::new(),
                ..GoalConfig::default()
            })
            .is_err()
        );
        let parsed: GoalConfig =
            serde_json::from_value(serde_json::json!({"mode": "six_d"})).unwrap();
        assert_eq!(parsed.mode, GoalMode::SixD);
        for bad in [
            serde_json::json!({"mode": "euler"}),
            serde_json::json!({"mode": "matrix", "order": "xyz"}),
        ] {
            assert!(serde_json::from_value::<GoalConfig>(bad).is_err());
        }
    }
}
