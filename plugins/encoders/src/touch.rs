//! Touch re-coding: contact forces as scaled raw values, binary contacts, or one pooled value
//! per segment of the hand (by default the Shadow Dexterous Hand's 92 sensors in 17 groups).

use angora_plugin_api::{Component, DType, PluginError, Sensation, SensationEncoder, SenseSpec};
use serde::{Deserialize, Serialize};

use crate::{check_sense_name, find_sense, pass_through, sense_values};

/// What the touch encoder outputs.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TouchMode {
    /// Every reading, times `scale`, then `log1p`-compressed if asked.
    Raw,
    /// 1 where a reading exceeds `threshold`, else 0 (`scale` and `log1p` are not applied).
    Binary,
    /// One value per segment: the readings (scaled, compressed if asked) pooled with `pool`.
    #[default]
    Pooled,
}

/// How `pooled` mode folds a segment's readings into one value.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    /// The sum of the segment's readings.
    #[default]
    Sum,
    /// The largest of the segment's readings.
    Max,
}

/// A run of consecutive sensors in the touch sense, for example one phalanx.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// The segment's name (for messages and documentation); unique within the list.
    pub name: String,
    /// How many consecutive readings belong to it, at least 1.
    pub count: u32,
}

/// The Shadow Dexterous Hand's 92 touch sensors, grouped by body in the order the hand lists
/// them: palm, first, middle and ring fingers (proximal, middle, tip), the little finger
/// (metacarpal, proximal, middle, tip) and the thumb (proximal, middle, tip).
pub fn shadow_hand_segments() -> Vec<Segment> {
    [
        ("palm", 8),
        ("ffproximal", 7),
        ("ffmiddle", 5),
        ("fftip", 5),
        ("mfproximal", 7),
        ("mfmiddle", 5),
        ("mftip", 5),
        ("rfproximal", 7),
        ("rfmiddle", 5),
        ("rftip", 5),
        ("lfmetacarpal", 1),
        ("lfproximal", 7),
        ("lfmiddle", 5),
        ("lftip", 5),
        ("thproximal", 5),
        ("thmiddle", 5),
        ("thtip", 5),
    ]
    .into_iter()
    .map(|(name, count)| Segment {
        name: name.into(),
        count,
    })
    .collect()
}

/// Configuration of the touch encoder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TouchConfig {
    /// The touch sense, read as a flat vector of forces; the others pass through.
    pub sense: String,
    /// What to output.
    pub mode: TouchMode,
    /// Factor applied to every reading in `raw` and `pooled` modes; finite and > 0.
    pub scale: f32,
    /// `binary` mode: readings strictly above this become 1.
    pub threshold: f32,
    /// `pooled` mode: how a segment's readings are combined.
    pub pool: Pool,
    /// `raw` and `pooled` modes: compress each scaled reading `v` to
    /// `sign(v) * ln(1 + |v|)` (for the non-negative forces of touch sensors, `ln(1 + v)`),
    /// before pooling.
    pub log1p: bool,
    /// `pooled` mode: the sensor groups, in order; their counts must add up to the length of
    /// the sense. The other modes ignore them (they are still validated).
    pub segments: Vec<Segment>,
}

impl Default for TouchConfig {
    fn default() -> Self {
        TouchConfig {
            sense: "touch".into(),
            mode: TouchMode::Pooled,
            scale: 1.0,
            threshold: 0.0,
            pool: Pool::Sum,
            log1p: false,
            segments: shadow_hand_segments(),
        }
    }
}

/// The touch encoder.
pub struct TouchEncoder {
    config: TouchConfig,
    /// Position of the touch sense among the inputs and its length, once configured.
    target: Option<(usize, usize)>,
}

impl TouchEncoder {
    /// The scaled, optionally compressed value of one reading.
    fn transform(&self, v: f32) -> f32 {
        let v = v * self.config.scale;
        if self.config.log1p {
            v.signum() * v.abs().ln_1p()
        } else {
            v
        }
    }
}

impl Component for TouchEncoder {
    type Config = TouchConfig;
}

impl SensationEncoder for TouchEncoder {
    fn new(config: TouchConfig) -> Result<Self, PluginError> {
        check_sense_name(&config.sense)?;
        if !(config.scale.is_finite() && config.scale > 0.0) {
            return Err(PluginError::invalid_config(format!(
                "scale must be finite and > 0, got {}",
                config.scale
            )));
        }
        if !config.threshold.is_finite() {
            return Err(PluginError::invalid_config(format!(
                "threshold must be finite, got {}",
                config.threshold
            )));
        }
        if config.segments.is_empty() {
            return Err(PluginError::invalid_config(
                "segments must list at least one segment",
            ));
        }
        for (i, segment) in config.segments.iter().enumerate() {
            if segment.name.is_empty() {
                return Err(PluginError::invalid_config(format!(
                    "segment {i} has an empty name"
                )));
            }
            if segment.count == 0 {
                return Err(PluginError::invalid_config(format!(
                    "segment '{}' has count 0; every segment needs at least one sensor",
                    segment.name
                )));
            }
            if config.segments[..i].iter().any(|s| s.name == segment.name) {
                return Err(PluginError::invalid_config(format!(
                    "segment '{}' is listed twice",
                    segment.name
                )));
            }
        }
        Ok(TouchEncoder {
            config,
            target: None,
        })
    }

    fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, PluginError> {
        let name = &self.config.sense;
        let index = find_sense(inputs, name, "touch", "sense")?;
        let len = inputs[index].len();
        let mut outputs = inputs.to_vec();
        outputs[index].dtype = DType::F32;
        if self.config.mode == TouchMode::Pooled {
            let total: u64 = self
                .config
                .segments
                .iter()
                .map(|s| u64::from(s.count))
                .sum();
            if total != len as u64 {
                return Err(PluginError::unsupported(format!(
                    "the touch segments add up to {total} sensors, but sense '{name}' has {len} \
                     values; list segments whose counts add up to {len}"
                )));
            }
            outputs[index] = SenseSpec::vector(name.clone(), self.config.segments.len() as u32);
        }
        self.target = Some((index, len));
        Ok(outputs)
    }

    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), PluginError> {
        let (index, len) = self
            .target
            .ok_or_else(|| PluginError::invalid_argument("encode called before configure"))?;
        let values = sense_values(input, index, &self.config.sense, len)?;
        pass_through(input, out, index);
        let buffer = &mut out.senses[index];
        buffer.clear();
        match self.config.mode {
            TouchMode::Raw => buffer.extend(values.iter().map(|&v| self.transform(v))),
            TouchMode::Binary => {
                let t = self.config.threshold;
                buffer.extend(values.iter().map(|&v| if v > t { 1.0 } else { 0.0 }));
            }
            TouchMode::Pooled => {
                let mut start = 0;
                for segment in &self.config.segments {
                    let end = start + segment.count as usize;
                    let readings = values[start..end].iter().map(|&v| self.transform(v));
                    buffer.push(match self.config.pool {
                        Pool::Sum => readings.sum(),
                        Pool::Max => readings.fold(f32::NEG_INFINITY, f32::max),
                    });
                    start = end;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(counts: &[(&str, u32)]) -> Vec<Segment> {
        counts
            .iter()
            .map(|&(name, count)| Segment {
                name: name.into(),
                count,
            })
            .collect()
    }

    /// Configures `config` for a touch sense of `values.len()` and encodes `values`.
    fn run(config: TouchConfig, values: &[f32]) -> (SenseSpec, Vec<f32>) {
        let mut enc = TouchEncoder::new(config).unwrap();
        let outputs = enc
            .configure(&[SenseSpec::vector("touch", values.len() as u32)])
            .unwrap();
        let mut input = Sensation::with_senses(1);
        input.set(0, values);
        let mut out = Sensation::with_senses(1);
        enc.encode(&input, &mut out).unwrap();
        assert_eq!(out.senses[0].len(), outputs[0].len());
        (outputs[0].clone(), out.senses[0].to_vec())
    }

    fn small(mode: TouchMode) -> TouchConfig {
        TouchConfig {
            mode,
            segments: segments(&[("a", 2), ("b", 3), ("c", 1)]),
            ..TouchConfig::default()
        }
    }

    const READINGS: [f32; 6] = [1.0, 2.0, 0.0, 4.0, 0.5, 3.0];

    #[test]
    fn default_segments_are_the_shadow_hands_92_sensors() {
        let default = shadow_hand_segments();
        assert_eq!(default.len(), 17);
        assert_eq!(default.iter().map(|s| s.count).sum::<u32>(), 92);
        assert_eq!(default[0].name, "palm");
        assert_eq!(default[10].name, "lfmetacarpal");
        assert_eq!(default[16].name, "thtip");
        let (spec, out) = run(TouchConfig::default(), &[1.0; 92]);
        assert_eq!(spec, SenseSpec::vector("touch", 17));
        assert_eq!(&out[..4], &[8.0, 7.0, 5.0, 5.0]);
        assert_eq!(out[10], 1.0);
    }

    #[test]
    fn pooled_sums_and_maxima_per_segment() {
        let (spec, out) = run(small(TouchMode::Pooled), &READINGS);
        assert_eq!(spec.shape, vec![3]);
        assert_eq!(out, vec![3.0, 4.5, 3.0]);
        let max = TouchConfig {
            pool: Pool::Max,
            ..small(TouchMode::Pooled)
        };
        assert_eq!(run(max, &READINGS).1, vec![2.0, 4.0, 3.0]);
        let scaled = TouchConfig {
            scale: 2.0,
            ..small(TouchMode::Pooled)
        };
        assert_eq!(run(scaled, &READINGS).1, vec![6.0, 9.0, 6.0]);
    }

    #[test]
    fn log1p_compresses_before_pooling() {
        let compressed = TouchConfig {
            log1p: true,
            ..small(TouchMode::Pooled)
        };
        let out = run(compressed, &READINGS).1;
        let l = |v: f32| v.ln_1p();
        let want = [l(1.0) + l(2.0), l(0.0) + l(4.0) + l(0.5), l(3.0)];
        for (g, w) in out.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{out:?} vs {want:?}");
        }
        let raw = TouchConfig {
            log1p: true,
            ..small(TouchMode::Raw)
        };
        let out = run(raw, &[0.0, std::f32::consts::E - 1.0, -1.0]).1;
        assert!(out[0] == 0.0 && (out[1] - 1.0).abs() < 1e-6);
        assert!((out[2] + 2f32.ln()).abs() < 1e-6, "sign is kept: {out:?}");
    }

    #[test]
    fn raw_scales_and_binary_thresholds() {
        let raw = TouchConfig {
            scale: 0.5,
            ..small(TouchMode::Raw)
        };
        let (spec, out) = run(raw, &READINGS);
        assert_eq!(spec, SenseSpec::vector("touch", 6));
        assert_eq!(out, vec![0.5, 1.0, 0.0, 2.0, 0.25, 1.5]);
        let binary = TouchConfig {
            threshold: 1.0,
            ..small(TouchMode::Binary)
        };
        assert_eq!(run(binary, &READINGS).1, vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        // Raw and binary modes work on any length, whatever the segments say.
        let binary = TouchConfig {
            mode: TouchMode::Binary,
            ..TouchConfig::default()
        };
        assert_eq!(run(binary, &[0.0, 0.1]).1, vec![0.0, 1.0]);
    }

    #[test]
    fn mismatched_segment_counts_are_refused() {
        let mut enc = TouchEncoder::new(TouchConfig::default()).unwrap();
        let err = enc
            .configure(&[SenseSpec::vector("touch", 90)])
            .unwrap_err();
        assert!(err.message.contains("92"), "{err}");
        assert!(err.message.contains("90"), "{err}");
        let mut enc = TouchEncoder::new(small(TouchMode::Pooled)).unwrap();
        let err = enc.configure(&[SenseSpec::vector("touch", 7)]).unwrap_err();
        assert!(
            err.message.contains("add up to 6") && err.message.contains("has 7"),
            "{err}"
        );
        let err = enc
            .configure(&[SenseSpec::vector("vision", 6)])
            .unwrap_err();
        assert!(err.message.contains("'touch'"), "{err}");
    }

    #[test]
    fn other_senses_pass_through() {
        let mut enc = TouchEncoder::new(small(TouchMode::Pooled)).unwrap();
        let inputs = [SenseSpec::vector("goal", 2), SenseSpec::vector("touch", 6)];
        let outputs = enc.configure(&inputs).unwrap();
        assert_eq!(outputs[0], inputs[0]);
        let mut input = Sensation::with_senses(2);
        input.set(0, &[0.5, -0.5]);
        input.set(1, &READINGS);
        let mut out = Sensation::with_senses(2);
        for _ in 0..2 {
            enc.encode(&input, &mut out).unwrap();
            assert_eq!(out.senses[0].as_slice(), &[0.5, -0.5]);
            assert_eq!(out.senses[1].as_slice(), &[3.0, 4.5, 3.0]);
        }
    }

    #[test]
    fn refuses_configs_out_of_range() {
        for config in [
            TouchConfig {
                scale: 0.0,
                ..TouchConfig::default()
            },
            TouchConfig {
                threshold: f32::NAN,
                ..TouchConfig::default()
            },
            TouchConfig {
                segments: Vec::new(),
                ..TouchConfig::default()
            },
            TouchConfig {
                segments: segments(&[("a", 2), ("b", 0)]),
                ..TouchConfig::default()
            },
            TouchConfig {
                segments: segments(&[("a", 2), ("a", 1)]),
                ..TouchConfig::default()
            },
        ] {
            assert!(TouchEncoder::new(config).is_err());
        }
        let parsed: TouchConfig = serde_json::from_value(serde_json::json!({
            "mode": "pooled", "pool": "max", "segments": [{"name": "x", "count": 3}],
        }))
        .unwrap();
        assert_eq!(parsed.pool, Pool::Max);
        assert_eq!(parsed.segments, segments(&[("x", 3)]));
        // The default round-trips through the JSON the host merges keys into.
        let default = serde_json::to_value(TouchConfig::default()).unwrap();
        assert_eq!(
            default["segments"][0],
            serde_json::json!({"name": "palm", "count": 8})
        );
        assert_eq!(
            serde_json::from_value::<TouchConfig>(default).unwrap(),
            TouchConfig::default()
        );
        for bad in [
            serde_json::json!({"mode": "mean"}),
            serde_json::json!({"threshhold": 1.0}),
            serde_json::json!({"segments": [{"name": "x", "count": 3, "size": 1}]}),
        ] {
            assert!(serde_json::from_value::<TouchConfig>(bad).is_err());
        }
    }
}
