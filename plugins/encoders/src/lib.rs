//! Sensation encoders: per-step transforms from raw senses to network inputs.

use angora_plugin_api::{PluginError, SenseSpec};

mod binarize;
mod goal;
mod image;
mod touch;

pub use binarize::{Binarize, BinarizeConfig};
pub use goal::{GoalConfig, GoalEncoder, GoalMode};
pub use image::{ImageConfig, ImageEncoder, Normalise};
pub use touch::{Pool, Segment, TouchConfig, TouchEncoder, TouchMode, shadow_hand_segments};

angora_plugin_api::register!(
    encoder Binarize,
    "binarize",
    "Turns the chosen senses (by default touch) into 0/1 values: 1 where a value exceeds the threshold."
);
angora_plugin_api::register!(
    encoder ImageEncoder,
    "image",
    "Resizes a camera sense (by default vision) to 64x64, optionally to grayscale, and scales u8 pixels to 0..1 or standardises per channel."
);
angora_plugin_api::register!(
    encoder TouchEncoder,
    "touch",
    "Re-codes touch forces: raw (scaled, optionally log1p), binary contact, or pooled per segment (by default the Shadow Hand's 17 sensor groups)."
);
angora_plugin_api::register!(
    encoder GoalEncoder,
    "goal",
    "Re-codes a quaternion goal (w, x, y, z) as a rotation matrix (default), its 6D first two columns, or a canonical w >= 0 quaternion."
);

angora_plugin_api::export_plugin!();

/// The position of the sense `name` among `inputs`, or an error that names it, the encoder,
/// the senses that are there and the config key (`key`) that chose it.
fn find_sense(
    inputs: &[SenseSpec],
    name: &str,
    encoder: &str,
    key: &str,
) -> Result<usize, PluginError> {
    inputs.iter().position(|s| s.name == name).ok_or_else(|| {
        let available: Vec<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
        PluginError::unsupported(format!(
            "the {encoder} encoder reads the sense '{name}', which is not among the inputs \
             {available:?} (choose another with the config key `{key}`)"
        ))
    })
}

/// Checks a `sense` config key: it must name a sense.
fn check_sense_name(name: &str) -> Result<(), PluginError> {
    if name.is_empty() {
        Err(PluginError::invalid_config("sense must not be empty"))
    } else {
        Ok(())
    }
}

/// The values of the configured sense, checked against the declared length.
fn sense_values<'a>(
    input: &'a angora_plugin_api::Sensation,
    index: usize,
    name: &str,
    want: usize,
) -> Result<&'a [f32], PluginError> {
    let values = input.get(index).ok_or_else(|| {
        PluginError::invalid_argument(format!("the input has no buffer for sense '{name}'"))
    })?;
    if values.len() != want {
        return Err(PluginError::invalid_argument(format!(
            "sense '{name}' holds {} values, configured for {want}",
            values.len()
        )));
    }
    Ok(values)
}

/// Copies every input buffer except `skip` to the output unchanged, reusing allocations.
fn pass_through(
    input: &angora_plugin_api::Sensation,
    out: &mut angora_plugin_api::Sensation,
    skip: usize,
) {
    out.ensure_senses(input.senses.len());
    for (i, values) in input.senses.iter().enumerate() {
        if i != skip {
            out.set(i, values);
        }
    }
}
