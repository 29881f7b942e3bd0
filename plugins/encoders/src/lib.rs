//! Sensation encoders: per-step transforms from raw senses to network inputs.

mod binarize;

pub use binarize::{Binarize, BinarizeConfig};

angora_plugin_api::register!(
    encoder Binarize,
    "binarize",
    "Turns the chosen senses (by default touch) into 0/1 values: 1 where a value exceeds the threshold."
);

angora_plugin_api::export_plugin!();
