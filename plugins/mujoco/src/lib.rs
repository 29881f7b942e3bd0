//! MuJoCo tasks with Gymnasium v5 semantics, on real MuJoCo 3.17.0 physics through mujoco-rs:
//! the same MJCF assets, observation contents, action bounds, reward terms (reported as
//! per-step metrics), health and termination conditions, reset noise and frame skip as
//! Gymnasium 1.4's `*-v5` environments (checked against recorded Gymnasium rollouts in
//! `tests/conformance.rs`), plus velocity-free variants for recurrent policies.
//!
//! `scripts/setup-mujoco.sh` installs the library and the assets into the repository's
//! `.deps/`; the build bakes both locations in, and `ANGORA_MUJOCO_ASSETS` overrides the
//! asset root at run time.

mod ant;
mod arms;
pub mod assets;
pub mod hand;
mod humanoid;
mod pendulums;
mod planar;
pub mod sim;
pub mod task;

pub use ant::{Ant, AntConfig, BodyRef};
pub use arms::{Pusher, PusherConfig, Reacher, ReacherConfig};
pub use hand::manipulate::{ManipulateBlock, ManipulateBlockConfig};
pub use hand::reach::{Reach, ReachConfig};
pub use hand::rig::HandControl;
pub use hand::{ShadowHand, ShadowHandConfig, Vision};
pub use humanoid::{Humanoid, HumanoidConfig, HumanoidStandup, HumanoidStandupConfig};
pub use pendulums::{
    InvertedDoublePendulum, InvertedDoublePendulumConfig, InvertedPendulum, InvertedPendulumConfig,
};
pub use planar::{
    HalfCheetah, HalfCheetahConfig, Hopper, HopperConfig, Swimmer, SwimmerConfig, Walker2d,
    Walker2dConfig,
};
pub use task::MujocoTask;

use angora_plugin_api::register;

register!(
    task MujocoTask<HalfCheetah>,
    "HalfCheetah-v5",
    "Run forward with a planar cat-like body (Gymnasium HalfCheetah-v5, MuJoCo)."
);
register!(
    task MujocoTask<HalfCheetah>,
    "HalfCheetahNoVel-v5",
    "HalfCheetah-v5 observing joint positions only, for recurrent policies.",
    preset = HalfCheetahConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Hopper>,
    "Hopper-v5",
    "Hop forward on one leg without falling (Gymnasium Hopper-v5, MuJoCo)."
);
register!(
    task MujocoTask<Hopper>,
    "HopperNoVel-v5",
    "Hopper-v5 observing joint positions only, for recurrent policies.",
    preset = HopperConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Walker2d>,
    "Walker2d-v5",
    "Walk forward on two legs without falling (Gymnasium Walker2d-v5, MuJoCo)."
);
register!(
    task MujocoTask<Walker2d>,
    "Walker2dNoVel-v5",
    "Walker2d-v5 observing joint positions only, for recurrent policies.",
    preset = Walker2dConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Swimmer>,
    "Swimmer-v5",
    "Swim forward with a three-link body in a viscous fluid (Gymnasium Swimmer-v5, MuJoCo)."
);
register!(
    task MujocoTask<Swimmer>,
    "SwimmerNoVel-v5",
    "Swimmer-v5 observing joint positions only, for recurrent policies.",
    preset = SwimmerConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Ant>,
    "Ant-v5",
    "Walk forward with a four-legged body (Gymnasium Ant-v5, MuJoCo)."
);
register!(
    task MujocoTask<Ant>,
    "AntNoVel-v5",
    "Ant-v5 observing positions and contact forces only, for recurrent policies.",
    preset = AntConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Humanoid>,
    "Humanoid-v5",
    "Walk forward with a 3D humanoid without falling (Gymnasium Humanoid-v5, MuJoCo)."
);
register!(
    task MujocoTask<HumanoidStandup>,
    "HumanoidStandup-v5",
    "Stand up from lying on the floor (Gymnasium HumanoidStandup-v5, MuJoCo)."
);
register!(
    task MujocoTask<Reacher>,
    "Reacher-v5",
    "Bring a two-link arm's fingertip to a random target (Gymnasium Reacher-v5, MuJoCo)."
);
register!(
    task MujocoTask<Reacher>,
    "ReacherNoVel-v5",
    "Reacher-v5 without the arm's joint velocities, for recurrent policies.",
    preset = ReacherConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<Pusher>,
    "Pusher-v5",
    "Push a cylinder to a goal with a seven-joint arm (Gymnasium Pusher-v5, MuJoCo)."
);
register!(
    task MujocoTask<InvertedPendulum>,
    "InvertedPendulum-v5",
    "Balance a pole on a cart (Gymnasium InvertedPendulum-v5, MuJoCo)."
);
register!(
    task MujocoTask<InvertedPendulum>,
    "InvertedPendulumNoVel-v5",
    "InvertedPendulum-v5 observing cart position and pole angle only, for recurrent policies.",
    preset = InvertedPendulumConfig { velocities: false, ..Default::default() }
);
register!(
    task MujocoTask<InvertedDoublePendulum>,
    "InvertedDoublePendulum-v5",
    "Balance two stacked poles on a cart (Gymnasium InvertedDoublePendulum-v5, MuJoCo)."
);
register!(
    task MujocoTask<InvertedDoublePendulum>,
    "InvertedDoublePendulumNoVel-v5",
    "InvertedDoublePendulum-v5 without velocities, for recurrent policies.",
    preset = InvertedDoublePendulumConfig { velocities: false, ..Default::default() }
);

register!(
    body ShadowHand,
    "shadow-hand",
    "The Shadow Dexterous Hand (Gymnasium-Robotics' model): 20 position actuators, 24 joint \
     positions and velocities, 92 touch sensors, fingertip and palm landmarks."
);

/// Registers one reaching task: name, description, config fields over the defaults.
macro_rules! reach {
    ($name:expr, $description:expr, { $($field:ident : $value:expr),* }) => {
        register!(
            task Reach,
            $name,
            $description,
            preset = ReachConfig { $($field: $value,)* ..ReachConfig::default() }
        );
    };
}

reach!("ReachAbsolute-v0",
    "Bring the thumb and one finger together above the palm, the others staying put; absolute joint targets (AngoraPy).",
    { control: HandControl::Absolute });
reach!("ReachRelative-v0",
    "ReachAbsolute-v0 with relative joint targets (offsets from the current angles).",
    { control: HandControl::Relative });
reach!("ReachAbsoluteNoTouch-v0", "ReachAbsolute-v0 without the touch sense.",
    { control: HandControl::Absolute, touch: false });
reach!("ReachRelativeNoTouch-v0", "ReachRelative-v0 without the touch sense.",
    { control: HandControl::Relative, touch: false });
reach!("ReachAbsoluteVisual-v0",
    "ReachAbsolute-v0 seeing the hand through a 64x64 camera instead of fingertip coordinates.",
    { control: HandControl::Absolute, vision: Vision::Camera });
reach!("ReachRelativeVisual-v0",
    "ReachRelative-v0 seeing the hand through a 64x64 camera instead of fingertip coordinates.",
    { control: HandControl::Relative, vision: Vision::Camera });
reach!("FreeReachAbsolute-v0",
    "Touch the thumb to the finger the one-hot goal names, keeping the others away; absolute targets.",
    { free: true, control: HandControl::Absolute });
reach!("FreeReachRelative-v0", "FreeReachAbsolute-v0 with relative joint targets.",
    { free: true, control: HandControl::Relative });
reach!("FreeReachFFAbsolute-v0", "FreeReachAbsolute-v0, always the first finger.",
    { free: true, force_finger: Some(0), control: HandControl::Absolute });
reach!("FreeReachMFAbsolute-v0", "FreeReachAbsolute-v0, always the middle finger.",
    { free: true, force_finger: Some(1), control: HandControl::Absolute });
reach!("FreeReachRFAbsolute-v0", "FreeReachAbsolute-v0, always the ring finger.",
    { free: true, force_finger: Some(2), control: HandControl::Absolute });
reach!("FreeReachLFAbsolute-v0", "FreeReachAbsolute-v0, always the little finger.",
    { free: true, force_finger: Some(3), control: HandControl::Absolute });
reach!("FreeReachFFRelative-v0", "FreeReachRelative-v0, always the first finger.",
    { free: true, force_finger: Some(0), control: HandControl::Relative });
reach!("FreeReachMFRelative-v0", "FreeReachRelative-v0, always the middle finger.",
    { free: true, force_finger: Some(1), control: HandControl::Relative });
reach!("FreeReachRFRelative-v0", "FreeReachRelative-v0, always the ring finger.",
    { free: true, force_finger: Some(2), control: HandControl::Relative });
reach!("FreeReachLFRelative-v0", "FreeReachRelative-v0, always the little finger.",
    { free: true, force_finger: Some(3), control: HandControl::Relative });

/// Registers one block manipulation task: name, description, config fields over the defaults.
macro_rules! manipulate {
    ($name:expr, $description:expr, { $($field:ident : $value:expr),* }) => {
        register!(
            task ManipulateBlock,
            $name,
            $description,
            preset = ManipulateBlockConfig { $($field: $value,)* ..ManipulateBlockConfig::default() }
        );
    };
}

manipulate!(
    "ManipulateBlock-v0",
    "Turn a cube on the palm to a sequence of goal orientations (Dactyl protocol: 0.4 rad, 100 steps per goal, 50 goals or a drop end it); relative targets.",
    {}
);
manipulate!("ManipulateBlockDiscrete-v0",
    "ManipulateBlock-v0 with 11 discrete target choices per actuator (AngoraPy's default for the hand).",
    { bins: Some(11) });
manipulate!("ManipulateBlockAsymmetric-v0",
    "ManipulateBlock-v0 with a critic-only sense: fingertips, rotation to go, cube velocities.",
    { asymmetric: true });
manipulate!("ManipulateBlockDiscreteAsymmetric-v0",
    "ManipulateBlockDiscrete-v0 with the critic-only asymmetric sense.",
    { bins: Some(11), asymmetric: true });
manipulate!("ManipulateBlockVisual-v0",
    "ManipulateBlock-v0 seeing the cube through a 64x64 camera instead of its pose.",
    { vision: Vision::Camera });
manipulate!("ManipulateBlockVisualDiscrete-v0",
    "ManipulateBlockDiscrete-v0 seeing the cube through a 64x64 camera.",
    { vision: Vision::Camera, bins: Some(11) });
manipulate!("ManipulateBlockVisualAsymmetric-v0",
    "ManipulateBlockAsymmetric-v0 seeing the cube through a 64x64 camera.",
    { vision: Vision::Camera, asymmetric: true });
manipulate!("ManipulateBlockVisualDiscreteAsymmetric-v0",
    "ManipulateBlockDiscreteAsymmetric-v0 seeing the cube through a 64x64 camera.",
    { vision: Vision::Camera, bins: Some(11), asymmetric: true });

angora_plugin_api::export_plugin!();

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Serialize, de::DeserializeOwned};

    /// Configs cross the plugin boundary as JSON: every default must survive the trip,
    /// infinite range ends included.
    fn round_trip<T: Serialize + DeserializeOwned + Default + PartialEq + std::fmt::Debug>() {
        let json = serde_json::to_value(T::default()).unwrap();
        let back: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, T::default(), "{json}");
    }

    #[test]
    fn default_configs_survive_json() {
        round_trip::<HalfCheetahConfig>();
        round_trip::<HopperConfig>();
        round_trip::<Walker2dConfig>();
        round_trip::<SwimmerConfig>();
        round_trip::<AntConfig>();
        round_trip::<HumanoidConfig>();
        round_trip::<HumanoidStandupConfig>();
        round_trip::<ReacherConfig>();
        round_trip::<PusherConfig>();
        round_trip::<InvertedPendulumConfig>();
        round_trip::<InvertedDoublePendulumConfig>();
        round_trip::<ReachConfig>();
        round_trip::<ManipulateBlockConfig>();
        round_trip::<ShadowHandConfig>();
    }

    #[test]
    fn infinite_range_ends_are_written_as_text_and_read_back() {
        let json = serde_json::to_value(HopperConfig::default()).unwrap();
        assert_eq!(json["healthy_z_range"], serde_json::json!([0.7, "inf"]));
        let config: HopperConfig = serde_json::from_value(serde_json::json!({
            "healthy_z_range": [0.5, "Infinity"],
            "xml_file": "hopper.xml", "frame_skip": 4, "forward_reward_weight": 1.0,
            "ctrl_cost_weight": 0.001, "healthy_reward": 1.0, "terminate_when_unhealthy": true,
            "healthy_state_range": ["-inf", 100.0], "healthy_angle_range": [-0.2, 0.2],
            "reset_noise_scale": 0.005, "exclude_current_positions_from_observation": true,
            "max_episode_steps": 1000, "velocities": true, "initial_state": null
        }))
        .unwrap();
        assert_eq!(config.healthy_z_range, (0.5, f64::INFINITY));
        assert_eq!(config.healthy_state_range.0, f64::NEG_INFINITY);
        let err = serde_json::from_value::<HopperConfig>(
            serde_json::json!({"healthy_z_range": [0.5, "lots"]}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("lots"), "{err}");
    }
}
