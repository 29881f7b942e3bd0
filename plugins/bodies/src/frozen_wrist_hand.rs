//! A second hand body for the hand tasks: the Shadow hand with its wrist locked straight and
//! no touch sensors. It shows that tasks compose whatever body offers what they need (here
//! the fingertip and palm landmarks), whichever plugin ships it.
//!
//! The MJCF includes Gymnasium-Robotics' hand files (installed by `scripts/setup-mujoco.sh`)
//! and adds two joint equality constraints that hold the wrist joints at 0; only the 18
//! finger and thumb actuators are declared, so actions drive the fingers only, and
//! proprioception is the 22 finger joints' positions and velocities.

use std::path::PathBuf;

use angora_plugin_api::{
    ActuatorSpec, Body, BodyDescription, Component, ControlMode, MjcfSource, PluginError,
    SensorGroup, SensorKind,
};
use serde::{Deserialize, Serialize};

/// The finger and thumb joints (the hand's joints but the wrist's).
const JOINTS: [&str; 22] = [
    "FFJ3", "FFJ2", "FFJ1", "FFJ0", "MFJ3", "MFJ2", "MFJ1", "MFJ0", "RFJ3", "RFJ2", "RFJ1", "RFJ0",
    "LFJ4", "LFJ3", "LFJ2", "LFJ1", "LFJ0", "THJ4", "THJ3", "THJ2", "THJ1", "THJ0",
];

/// The 18 finger and thumb actuators and their control ranges (Gymnasium-Robotics 1.4.2's
/// `hand/shared.xml`).
const ACTUATORS: [(&str, f64, f64); 18] = [
    ("FFJ3", -0.349, 0.349),
    ("FFJ2", 0.0, 1.571),
    ("FFJ1", 0.0, 1.571),
    ("MFJ3", -0.349, 0.349),
    ("MFJ2", 0.0, 1.571),
    ("MFJ1", 0.0, 1.571),
    ("RFJ3", -0.349, 0.349),
    ("RFJ2", 0.0, 1.571),
    ("RFJ1", 0.0, 1.571),
    ("LFJ4", 0.0, 0.785),
    ("LFJ3", -0.349, 0.349),
    ("LFJ2", 0.0, 1.571),
    ("LFJ1", 0.0, 1.571),
    ("THJ4", -1.047, 1.047),
    ("THJ3", 0.0, 1.222),
    ("THJ2", -0.209, 0.209),
    ("THJ1", -0.524, 0.524),
    ("THJ0", -1.571, 0.0),
];

/// Configuration of the frozen-wrist hand (none needed).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct FrozenWristHandConfig {}

/// The Shadow hand with a locked wrist.
pub struct FrozenWristHand {
    dir: PathBuf,
}

impl Component for FrozenWristHand {
    type Config = FrozenWristHandConfig;
}

impl Body for FrozenWristHand {
    fn new(_config: FrozenWristHandConfig) -> Result<Self, PluginError> {
        Ok(FrozenWristHand {
            dir: robotics_dir()?,
        })
    }

    fn description(&self) -> BodyDescription {
        let path = |p: &str| self.dir.join(p).to_string_lossy().into_owned();
        let velocity_sensors: String = JOINTS
            .iter()
            .map(|j| format!("    <jointvel name=\"frozen:Sjv_{j}\" joint=\"robot0:{j}\"/>\n"))
            .collect();
        let mjcf = format!(
            r#"<mujoco model="shadow-hand-frozen-wrist">
  <compiler angle="radian" meshdir="{meshes}" texturedir="{textures}"/>
  <option timestep="0.002" iterations="20"/>
  <include file="{shared}"/>
  <asset><include file="{shared_asset}"/></asset>
  <worldbody><include file="{robot}"/></worldbody>
  <equality>
    <joint name="frozen:WRJ1" joint1="robot0:WRJ1" polycoef="0 0 0 0 0"/>
    <joint name="frozen:WRJ0" joint1="robot0:WRJ0" polycoef="0 0 0 0 0"/>
  </equality>
  <sensor>
{velocity_sensors}  </sensor>
</mujoco>
"#,
            meshes = path("stls/hand"),
            textures = path("textures"),
            shared = path("hand/shared.xml"),
            shared_asset = path("hand/shared_asset.xml"),
            robot = path("hand/robot.xml"),
        );
        let actuators = ACTUATORS
            .iter()
            .map(|&(joint, low, high)| ActuatorSpec {
                name: format!("robot0:A_{joint}"),
                ctrl_range: [low, high],
                mode: ControlMode::AbsolutePosition,
            })
            .collect();
        let group = |kind, prefix: &str| SensorGroup {
            sense: "proprioception".into(),
            kind,
            sensors: JOINTS.iter().map(|j| format!("{prefix}{j}")).collect(),
        };
        let mut landmarks: std::collections::BTreeMap<String, String> =
            ["ff", "mf", "rf", "lf", "th"]
                .iter()
                .map(|f| (format!("fingertip.{f}"), format!("robot0:S_{f}tip")))
                .collect();
        landmarks.insert("palm".into(), "robot0:palm".into());
        BodyDescription {
            mjcf: MjcfSource::Text(mjcf),
            actuators,
            sensors: vec![
                group(SensorKind::JointPosition, "robot0:Sjp_"),
                group(SensorKind::JointVelocity, "frozen:Sjv_"),
            ],
            capabilities: vec!["hand".into(), "fingertips".into(), "frozen-wrist".into()],
            landmarks,
        }
    }
}

/// Gymnasium-Robotics' asset directory, where `scripts/setup-mujoco.sh` installed it:
/// `ANGORA_MUJOCO_ASSETS` at run time, else the path this plugin was built with.
fn robotics_dir() -> Result<PathBuf, PluginError> {
    let root = std::env::var_os("ANGORA_MUJOCO_ASSETS")
        .map(PathBuf::from)
        .or_else(|| option_env!("ANGORA_MUJOCO_ASSETS").map(PathBuf::from))
        .ok_or_else(|| {
            PluginError::runtime(
                "the MuJoCo assets are not configured: run scripts/setup-mujoco.sh, or set \
                 ANGORA_MUJOCO_ASSETS",
            )
        })?;
    let dir = root.join("gymnasium_robotics/envs/assets");
    if dir.join("hand/shared.xml").is_file() {
        Ok(dir)
    } else {
        Err(PluginError::runtime(format!(
            "the Shadow hand assets are missing ({} has no hand/shared.xml): run \
             scripts/setup-mujoco.sh",
            dir.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declares_the_fingers_only() {
        let d = FrozenWristHand::new(FrozenWristHandConfig::default())
            .unwrap()
            .description();
        d.validate().unwrap();
        assert_eq!(d.actuators.len(), 18);
        assert!(d.actuators.iter().all(|a| !a.name.contains("WR")));
        let proprioception: usize = d.sensors.iter().map(|g| g.sensors.len()).sum();
        assert_eq!(proprioception, 44);
        assert_eq!(d.landmarks.len(), 6);
    }
}
