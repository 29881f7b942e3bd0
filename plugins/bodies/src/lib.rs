//! Bodies described as data for physics tasks.

mod frozen_wrist_hand;
mod point_mass;

pub use frozen_wrist_hand::{FrozenWristHand, FrozenWristHandConfig};
pub use point_mass::{PointMass, PointMassConfig};

angora_plugin_api::register!(
    body PointMass,
    "point-mass",
    "A sphere that slides in the plane, driven by two motors; senses its position and velocity."
);

angora_plugin_api::register!(
    body FrozenWristHand,
    "shadow-hand-frozen-wrist",
    "The Shadow hand with its wrist locked straight and no touch sensors: 18 finger actuators, \
     22 joint positions and velocities, fingertip and palm landmarks."
);

angora_plugin_api::export_plugin!();
