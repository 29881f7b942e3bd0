//! Bodies described as data for physics tasks.

mod point_mass;

pub use point_mass::{PointMass, PointMassConfig};

angora_plugin_api::register!(
    body PointMass,
    "point-mass",
    "A sphere that slides in the plane, driven by two motors; senses its position and velocity."
);

angora_plugin_api::export_plugin!();
