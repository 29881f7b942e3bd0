//! Image preprocessing: resizing a camera sense, optionally to grayscale, and scaling or
//! standardising its values.
//!
//! The steps, in order: grayscale conversion (luminance `0.299 R + 0.587 G + 0.114 B`), a
//! separable resize, then a per-channel affine normalisation. Each axis of the resize is
//! resampled on its own: an axis that shrinks is **area-averaged** (every output pixel is the
//! mean of the input area it covers, fractional pixels weighted by their coverage, so
//! 4x4 to 2x2 averages 2x2 blocks and nothing aliases); an axis that grows is interpolated
//! **bilinearly with pixel-centre alignment** (output pixel `o` samples the input at
//! `(o + 0.5) * in / out - 0.5`, clamped to the edge pixels, as OpenCV's `INTER_LINEAR` and
//! PyTorch's `align_corners=False` do); an axis that keeps its size is copied. Every output
//! value is a convex combination of input values, so a constant image stays constant.

use angora_plugin_api::{Component, DType, PluginError, Sensation, SensationEncoder, SenseSpec};
use serde::{Deserialize, Serialize};

use crate::{check_sense_name, find_sense, pass_through, sense_values};

/// The largest target height or width.
const MAX_SIDE: u32 = 4096;

/// The luminance weights of red, green and blue (ITU-R BT.601).
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// How the image encoder scales the resized values, selected by the key `mode`.
///
/// In a config: `{ "mode": "unit" }`, or
/// `{ "mode": "standardise", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225] }`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
// The variants without values are empty struct variants, not unit variants, so that
// `deny_unknown_fields` refuses `{ "mode": "unit", "mean": [...] }` too.
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Normalise {
    /// `unit` for `u8` input, `none` for `f32` input. The default.
    Auto {},
    /// Divide by 255, so `u8` pixels become values in `0..=1`.
    Unit {},
    /// Keep the values as they are.
    #[serde(rename = "none")]
    Identity {},
    /// Per channel `c`, `(v - mean[c]) / std[c]`. For `u8` input `v` is the pixel divided by
    /// 255 (torchvision's convention, so ImageNet's statistics apply as published); for
    /// `f32` input it is the value itself.
    Standardise {
        /// One mean per output channel, or one for all channels.
        mean: Vec<f32>,
        /// One standard deviation per output channel, or one for all channels; each > 0.
        std: Vec<f32>,
    },
}

impl Default for Normalise {
    fn default() -> Self {
        Normalise::Auto {}
    }
}

/// Configuration of the image encoder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ImageConfig {
    /// The image sense, of shape `[height, width, channels]`; the others pass through.
    pub sense: String,
    /// The output height in pixels, `1..=4096`.
    pub height: u32,
    /// The output width in pixels, `1..=4096`.
    pub width: u32,
    /// Convert to one luminance channel. The input needs 1 (kept), 3 (RGB) or 4 (RGBA, alpha
    /// dropped) channels.
    pub grayscale: bool,
    /// How the values are scaled after resizing.
    pub normalise: Normalise,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            sense: "vision".into(),
            height: 64,
            width: 64,
            grayscale: false,
            normalise: Normalise::Auto {},
        }
    }
}

/// The image encoder: resizes, optionally grays and normalises one image sense.
pub struct ImageEncoder {
    config: ImageConfig,
    plan: Option<Plan>,
}

/// Everything `encode` needs, worked out once in `configure`.
struct Plan {
    /// Position of the image sense among the inputs.
    index: usize,
    in_height: usize,
    in_width: usize,
    in_channels: usize,
    /// Channels after the optional grayscale conversion (and in the output).
    channels: usize,
    /// Convert RGB(A) to luminance first.
    to_gray: bool,
    /// Resampling weights from input rows to output rows.
    rows: Taps,
    /// Resampling weights from input columns to output columns.
    cols: Taps,
    /// Per output channel: `value * gain + offset`.
    gain: Vec<f32>,
    offset: Vec<f32>,
    /// Scratch: the luminance image, `in_height x in_width`.
    gray: Vec<f32>,
    /// Scratch: the image resized along the width only, `in_height x width x channels`.
    resized_cols: Vec<f32>,
}

/// One-dimensional resampling weights: output `o` is the sum over
/// `starts[o]..starts[o + 1]` of `weight[t] * input[index[t]]`.
#[derive(Debug, Default)]
struct Taps {
    starts: Vec<usize>,
    index: Vec<usize>,
    weight: Vec<f32>,
}

impl Taps {
    /// The weights that resample `input` samples to `output` samples (both at least 1).
    fn new(input: usize, output: usize) -> Taps {
        let mut taps = Taps {
            starts: vec![0],
            ..Taps::default()
        };
        let scale = input as f64 / output as f64;
        let mut row: Vec<(usize, f64)> = Vec::new();
        for o in 0..output {
            row.clear();
            if output < input {
                // Area: the output pixel covers [lo, hi) of the input.
                let lo = o as f64 * scale;
                let hi = ((o + 1) as f64 * scale).min(input as f64);
                let first = lo.floor() as usize;
                let last = (hi.ceil() as usize).min(input);
                for i in first..last {
                    let overlap = hi.min((i + 1) as f64) - lo.max(i as f64);
                    if overlap > 1e-9 {
                        row.push((i, overlap));
                    }
                }
            } else if output > input {
                // Bilinear with pixel-centre alignment, clamped at the edges.
                let at = ((o as f64 + 0.5) * scale - 0.5).clamp(0.0, (input - 1) as f64);
                let i0 = at.floor() as usize;
                let frac = at - i0 as f64;
                row.push((i0, 1.0 - frac));
                if frac > 0.0 && i0 + 1 < input {
                    row.push((i0 + 1, frac));
                }
            } else {
                row.push((o, 1.0));
            }
            // Normalise so each output is an exact convex combination.
            let total: f64 = row.iter().map(|&(_, w)| w).sum();
            for &(i, w) in &row {
                taps.index.push(i);
                taps.weight.push((w / total) as f32);
            }
            taps.starts.push(taps.index.len());
        }
        taps
    }

    /// The output count.
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The input indices and weights of output `o`.
    fn of(&self, o: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let range = self.starts[o]..self.starts[o + 1];
        self.index[range.clone()]
            .iter()
            .copied()
            .zip(self.weight[range].iter().copied())
    }
}

impl Component for ImageEncoder {
    type Config = ImageConfig;
}

impl SensationEncoder for ImageEncoder {
    fn new(config: ImageConfig) -> Result<Self, PluginError> {
        check_sense_name(&config.sense)?;
        for (key, value) in [("height", config.height), ("width", config.width)] {
            if !(1..=MAX_SIDE).contains(&value) {
                return Err(PluginError::invalid_config(format!(
                    "{key} must be in 1..={MAX_SIDE}, got {value}"
                )));
            }
        }
        if let Normalise::Standardise { mean, std } = &config.normalise {
            if mean.is_empty() || mean.len() != std.len() {
                return Err(PluginError::invalid_config(format!(
                    "normalise: mean and std need the same, non-zero number of values (one per \
                     channel, or one for all), got {} and {}",
                    mean.len(),
                    std.len()
                )));
            }
            if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
                return Err(PluginError::invalid_config(format!(
                    "normalise: every mean must be finite, got {m}"
                )));
            }
            if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
                return Err(PluginError::invalid_config(format!(
                    "normalise: every std must be finite and > 0, got {s}"
                )));
            }
        }
        Ok(ImageEncoder { config, plan: None })
    }

    fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, PluginError> {
        let name = &self.config.sense;
        let index = find_sense(inputs, name, "image", "sense")?;
        let spec = &inputs[index];
        let &[in_height, in_width, in_channels] = spec.shape.as_slice() else {
            return Err(PluginError::unsupported(format!(
                "the image encoder needs sense '{name}' to have shape [height, width, channels], \
                 it has shape {:?}",
                spec.shape
            )));
        };
        let (in_height, in_width, in_channels) =
            (in_height as usize, in_width as usize, in_channels as usize);
        let to_gray = self.config.grayscale && in_channels > 1;
        if to_gray && !(in_channels == 3 || in_channels == 4) {
            return Err(PluginError::unsupported(format!(
                "grayscale needs 1, 3 (RGB) or 4 (RGBA) channels; sense '{name}' has {in_channels}"
            )));
        }
        let channels = if to_gray { 1 } else { in_channels };

        let pixel_scale = if spec.dtype == DType::U8 {
            1.0 / 255.0
        } else {
            1.0
        };
        let (gain, offset) = match &self.config.normalise {
            Normalise::Auto {} => (vec![pixel_scale; channels], vec![0.0; channels]),
            Normalise::Unit {} => (vec![1.0 / 255.0; channels], vec![0.0; channels]),
            Normalise::Identity {} => (vec![1.0; channels], vec![0.0; channels]),
            Normalise::Standardise { mean, std } => {
                if mean.len() != 1 && mean.len() != channels {
                    return Err(PluginError::unsupported(format!(
                        "normalise has {} means and stds, but the image has {channels} \
                         channel(s){}; give one per channel or one for all",
                        mean.len(),
                        if to_gray { " after grayscale" } else { "" }
                    )));
                }
                let at = |values: &[f32], c: usize| values[if values.len() == 1 { 0 } else { c }];
                (0..channels)
                    .map(|c| (pixel_scale / at(std, c), -at(mean, c) / at(std, c)))
                    .unzip()
            }
        };

        let (height, width) = (self.config.height as usize, self.config.width as usize);
        self.plan = Some(Plan {
            index,
            in_height,
            in_width,
            in_channels,
            channels,
            to_gray,
            rows: Taps::new(in_height, height),
            cols: Taps::new(in_width, width),
            gain,
            offset,
            gray: vec![0.0; if to_gray { in_height * in_width } else { 0 }],
            resized_cols: vec![0.0; in_height * width * channels],
        });

        let mut outputs = inputs.to_vec();
        outputs[index] = SenseSpec {
            name: name.clone(),
            shape: vec![self.config.height, self.config.width, channels as u32],
            dtype: DType::F32,
        };
        Ok(outputs)
    }

    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), PluginError> {
        let plan = self
            .plan
            .as_mut()
            .ok_or_else(|| PluginError::invalid_argument("encode called before configure"))?;
        let pixels = plan.in_height * plan.in_width;
        let values = sense_values(
            input,
            plan.index,
            &self.config.sense,
            pixels * plan.in_channels,
        )?;
        pass_through(input, out, plan.index);

        let source: &[f32] = if plan.to_gray {
            let stride = plan.in_channels;
            for (g, px) in plan.gray.iter_mut().zip(values.chunks_exact(stride)) {
                *g = LUMA[0] * px[0] + LUMA[1] * px[1] + LUMA[2] * px[2];
            }
            &plan.gray
        } else {
            values
        };

        // Along the width: in_height x in_width x c  ->  in_height x width x c.
        let c = plan.channels;
        let (width, height) = (plan.cols.len(), plan.rows.len());
        for y in 0..plan.in_height {
            let src_row = &source[y * plan.in_width * c..(y + 1) * plan.in_width * c];
            let dst_row = &mut plan.resized_cols[y * width * c..(y + 1) * width * c];
            for (ox, dst) in dst_row.chunks_exact_mut(c).enumerate() {
                dst.fill(0.0);
                for (ix, w) in plan.cols.of(ox) {
                    for (d, s) in dst.iter_mut().zip(&src_row[ix * c..(ix + 1) * c]) {
                        *d += w * s;
                    }
                }
            }
        }

        // Along the height, then the per-channel affine map, straight into the output.
        let buffer = &mut out.senses[plan.index];
        buffer.clear();
        buffer.resize(height * width * c, 0.0);
        let row_len = width * c;
        for (oy, dst_row) in buffer.as_mut_slice().chunks_exact_mut(row_len).enumerate() {
            for (iy, w) in plan.rows.of(oy) {
                let src_row = &plan.resized_cols[iy * row_len..(iy + 1) * row_len];
                for (d, s) in dst_row.iter_mut().zip(src_row) {
                    *d += w * s;
                }
            }
            for px in dst_row.chunks_exact_mut(c) {
                for ((v, g), o) in px.iter_mut().zip(&plan.gain).zip(&plan.offset) {
                    *v = *v * g + o;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(height: u32, width: u32, channels: u32, dtype: DType) -> SenseSpec {
        SenseSpec {
            name: "vision".into(),
            shape: vec![height, width, channels],
            dtype,
        }
    }

    fn config(height: u32, width: u32) -> ImageConfig {
        ImageConfig {
            height,
            width,
            ..ImageConfig::default()
        }
    }

    /// Configures `config` for one input image and encodes `values`.
    fn run(config: ImageConfig, spec: SenseSpec, values: &[f32]) -> (SenseSpec, Vec<f32>) {
        let mut enc = ImageEncoder::new(config).unwrap();
        let outputs = enc.configure(&[spec]).unwrap();
        let mut input = Sensation::with_senses(1);
        input.set(0, values);
        let mut out = Sensation::with_senses(1);
        enc.encode(&input, &mut out).unwrap();
        assert_eq!(out.senses[0].len(), outputs[0].len());
        (outputs[0].clone(), out.senses[0].to_vec())
    }

    fn assert_close(got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn shrinking_four_by_four_to_two_by_two_averages_blocks() {
        let values: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let (spec, out) = run(config(2, 2), image(4, 4, 1, DType::F32), &values);
        assert_eq!(spec.shape, vec![2, 2, 1]);
        assert_eq!(spec.dtype, DType::F32);
        // (0+1+4+5)/4, (2+3+6+7)/4, (8+9+12+13)/4, (10+11+14+15)/4
        assert_close(&out, &[2.5, 4.5, 10.5, 12.5]);
    }

    #[test]
    fn shrinking_by_a_fraction_weights_partial_pixels() {
        // One row of three pixels to two: [0, 1.5) and [1.5, 3).
        let (_, out) = run(config(1, 2), image(1, 3, 1, DType::F32), &[0.0, 3.0, 6.0]);
        assert_close(&out, &[(0.0 + 0.5 * 3.0) / 1.5, (0.5 * 3.0 + 6.0) / 1.5]);
    }

    #[test]
    fn enlarging_is_bilinear_with_pixel_centres_aligned() {
        // Output centres 0.5, 1.5, 2.5, 3.5 map to input -0.25, 0.25, 0.75, 1.25 (clamped).
        let (_, out) = run(config(1, 4), image(1, 2, 1, DType::F32), &[0.0, 4.0]);
        assert_close(&out, &[0.0, 1.0, 3.0, 4.0]);
        // The same along the height, with two channels kept apart.
        let (_, out) = run(
            config(4, 1),
            image(2, 1, 2, DType::F32),
            &[0.0, 10.0, 4.0, 50.0],
        );
        assert_close(&out, &[0.0, 10.0, 1.0, 20.0, 3.0, 40.0, 4.0, 50.0]);
    }

    #[test]
    fn a_constant_image_stays_constant_under_mixed_resizes() {
        let values = vec![7.0; 5 * 7 * 3];
        let (spec, out) = run(config(3, 11), image(5, 7, 3, DType::F32), &values);
        assert_eq!(spec.shape, vec![3, 11, 3]);
        assert_close(&out, &[7.0; 3 * 11 * 3]);
    }

    #[test]
    fn u8_pixels_are_scaled_to_unit_and_grayed_by_luminance() {
        let grayscale = ImageConfig {
            grayscale: true,
            ..config(1, 1)
        };
        let (spec, out) = run(grayscale, image(1, 1, 3, DType::U8), &[100.0, 200.0, 50.0]);
        assert_eq!(spec.shape, vec![1, 1, 1]);
        // 0.299 * 100 + 0.587 * 200 + 0.114 * 50 = 153.
        assert_close(&out, &[153.0 / 255.0]);
        // RGBA: alpha is dropped.
        let grayscale = ImageConfig {
            grayscale: true,
            normalise: Normalise::Identity {},
            ..config(1, 1)
        };
        let (_, out) = run(
            grayscale,
            image(1, 1, 4, DType::U8),
            &[255.0, 0.0, 0.0, 9.0],
        );
        assert_close(&out, &[0.299 * 255.0]);
        // Auto keeps f32 input as it is; unit divides it anyway.
        let (_, out) = run(config(1, 1), image(1, 1, 1, DType::F32), &[51.0]);
        assert_close(&out, &[51.0]);
        let unit = ImageConfig {
            normalise: Normalise::Unit {},
            ..config(1, 1)
        };
        let (_, out) = run(unit, image(1, 1, 1, DType::F32), &[51.0]);
        assert_close(&out, &[0.2]);
    }

    #[test]
    fn standardises_per_channel_in_unit_scale_for_u8() {
        let standardise = ImageConfig {
            normalise: Normalise::Standardise {
                mean: vec![0.5, 0.25, 0.0],
                std: vec![0.5, 0.25, 2.0],
            },
            ..config(1, 1)
        };
        let (_, out) = run(
            standardise.clone(),
            image(1, 1, 3, DType::U8),
            &[255.0, 0.0, 51.0],
        );
        // (1 - 0.5) / 0.5, (0 - 0.25) / 0.25, (0.2 - 0) / 2
        assert_close(&out, &[1.0, -1.0, 0.1]);
        // f32 input is standardised as it is.
        let (_, out) = run(standardise, image(1, 1, 3, DType::F32), &[1.5, 0.25, 4.0]);
        assert_close(&out, &[2.0, 0.0, 2.0]);
        // One mean and std for every channel.
        let shared = ImageConfig {
            normalise: Normalise::Standardise {
                mean: vec![1.0],
                std: vec![2.0],
            },
            ..config(1, 1)
        };
        let (_, out) = run(shared, image(1, 1, 2, DType::F32), &[3.0, -1.0]);
        assert_close(&out, &[1.0, -1.0]);
    }

    #[test]
    fn other_senses_pass_through() {
        let mut enc = ImageEncoder::new(config(1, 1)).unwrap();
        let inputs = [
            SenseSpec::vector("touch", 2),
            image(2, 2, 1, DType::U8),
            SenseSpec::vector("goal", 1),
        ];
        let outputs = enc.configure(&inputs).unwrap();
        assert_eq!(outputs[0], inputs[0]);
        assert_eq!(outputs[2], inputs[2]);
        assert_eq!(outputs[1].shape, vec![1, 1, 1]);
        let mut input = Sensation::with_senses(3);
        input.set(0, &[1.0, -2.0]);
        input.set(1, &[0.0, 255.0, 255.0, 0.0]);
        input.set(2, &[0.5]);
        let mut out = Sensation::with_senses(3);
        for _ in 0..2 {
            enc.encode(&input, &mut out).unwrap();
            assert_eq!(out.senses[0].as_slice(), &[1.0, -2.0]);
            assert_close(&out.senses[1], &[0.5]);
            assert_eq!(out.senses[2].as_slice(), &[0.5]);
        }
    }

    #[test]
    fn refuses_missing_or_non_image_senses() {
        let mut enc = ImageEncoder::new(ImageConfig::default()).unwrap();
        let err = enc
            .configure(&[SenseSpec::vector("proprioception", 4)])
            .unwrap_err();
        assert!(err.message.contains("'vision'"), "{err}");
        assert!(err.message.contains("proprioception"), "{err}");
        let err = enc
            .configure(&[SenseSpec {
                name: "vision".into(),
                shape: vec![8, 8],
                dtype: DType::U8,
            }])
            .unwrap_err();
        assert!(err.message.contains("'vision'"), "{err}");
        assert!(err.message.contains("[8, 8]"), "{err}");
        let grayscale = ImageConfig {
            grayscale: true,
            ..ImageConfig::default()
        };
        let mut enc = ImageEncoder::new(grayscale).unwrap();
        let err = enc.configure(&[image(8, 8, 2, DType::U8)]).unwrap_err();
        assert!(err.message.contains("grayscale"), "{err}");
        // Mean and std must fit the output channels: one after grayscale.
        let mut enc = ImageEncoder::new(ImageConfig {
            grayscale: true,
            normalise: Normalise::Standardise {
                mean: vec![0.5; 3],
                std: vec![0.2; 3],
            },
            ..ImageConfig::default()
        })
        .unwrap();
        let err = enc.configure(&[image(8, 8, 3, DType::U8)]).unwrap_err();
        assert!(err.message.contains("after grayscale"), "{err}");
    }

    #[test]
    fn refuses_configs_out_of_range() {
        assert!(ImageEncoder::new(config(0, 64)).is_err());
        let err = ImageEncoder::new(config(64, 5000)).err().unwrap();
        assert!(err.message.contains("width"), "{err}");
        let bad_std = ImageConfig {
            normalise: Normalise::Standardise {
                mean: vec![0.0],
                std: vec![0.0],
            },
            ..ImageConfig::default()
        };
        assert!(ImageEncoder::new(bad_std).is_err());
        let mismatched = ImageConfig {
            normalise: Normalise::Standardise {
                mean: vec![0.0, 0.0],
                std: vec![1.0],
            },
            ..ImageConfig::default()
        };
        assert!(ImageEncoder::new(mismatched).is_err());
    }

    #[test]
    fn config_reads_the_mode_tagged_normalisation() {
        let parsed: ImageConfig = serde_json::from_value(serde_json::json!({
            "height": 32,
            "normalise": {"mode": "standardise", "mean": [0.5], "std": [0.25]},
        }))
        .unwrap();
        assert_eq!(parsed.height, 32);
        assert_eq!(parsed.width, 64);
        assert_eq!(
            parsed.normalise,
            Normalise::Standardise {
                mean: vec![0.5],
                std: vec![0.25]
            }
        );
        let none: ImageConfig =
            serde_json::from_value(serde_json::json!({"normalise": {"mode": "none"}})).unwrap();
        assert_eq!(none.normalise, Normalise::Identity {});
        // The default round-trips through the JSON the host merges keys into.
        let default = serde_json::to_value(ImageConfig::default()).unwrap();
        assert_eq!(default["normalise"], serde_json::json!({"mode": "auto"}));
        assert_eq!(
            serde_json::from_value::<ImageConfig>(default).unwrap(),
            ImageConfig::default()
        );
        for bad in [
            serde_json::json!({"hieght": 32}),
            serde_json::json!({"normalise": {"mode": "standardise", "mean": [0.5]}}),
            serde_json::json!({"normalise": {"mode": "standardise", "mean": [0.5], "std": [1.0], "extra": 1}}),
            serde_json::json!({"normalise": {"mode": "zscore"}}),
            serde_json::json!({"normalise": {"mode": "unit", "mean": [0.5]}}),
            serde_json::json!({"normalise": "unit"}),
        ] {
            assert!(serde_json::from_value::<ImageConfig>(bad).is_err());
        }
    }
}
