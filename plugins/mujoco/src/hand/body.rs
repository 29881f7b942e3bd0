//! The `shadow-hand` body: the Shadow Dexterous Hand E3M5 of Gymnasium-Robotics' assets,
//! described as data (design.md section 3) for the hand tasks to compose into their scenes.
//!
//! The MJCF is generated text that includes Gymnasium-Robotics' hand files by absolute path,
//! so MuJoCo reads the installed assets unchanged; it adds one `jointvel` sensor per joint
//! (the files only have `jointpos` sensors) so that proprioception is 24 positions and 24
//! velocities, AngoraPy's 48 values.

use std::path::PathBuf;

use angora_plugin_api::{
    ActuatorSpec, Body, BodyDescription, Component, ControlMode, MjcfSource, PluginError,
    SensorGroup, SensorKind,
};
use serde::{Deserialize, Serialize};

use crate::assets;

/// The 24 joints in Gymnasium's order (wrist, first, middle, ring, little finger, thumb).
pub const JOINTS: [&str; 24] = [
    "WRJ1", "WRJ0", "FFJ3", "FFJ2", "FFJ1", "FFJ0", "MFJ3", "MFJ2", "MFJ1", "MFJ0", "RFJ3", "RFJ2",
    "RFJ1", "RFJ0", "LFJ4", "LFJ3", "LFJ2", "LFJ1", "LFJ0", "THJ4", "THJ3", "THJ2", "THJ1", "THJ0",
];

/// The five fingertips, in the order of every fingertip vector: first, middle, ring, little
/// finger, thumb.
pub const FINGERS: [&str; 5] = ["ff", "mf", "rf", "lf", "th"];

/// The landmark role of fingertip `finger` (`fingertip.ff`, ...).
pub fn fingertip_role(finger: &str) -> String {
    format!("fingertip.{finger}")
}

/// The landmark role of the palm.
pub const PALM: &str = "palm";

/// Configuration of the shadow-hand body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShadowHandConfig {
    /// Include the 92 touch sensors (Gymnasium-Robotics' `*_touch_sensors_92` variant).
    pub touch: bool,
    /// How the actuators' commands are meant: `absolute_position` (a target angle in the
    /// actuator's range) or `relative_position` (an offset from the current angle). Tasks
    /// whose `control` is `body` follow this.
    pub control: ControlMode,
}

impl Default for ShadowHandConfig {
    fn default() -> Self {
        ShadowHandConfig {
            touch: true,
            control: ControlMode::AbsolutePosition,
        }
    }
}

/// The shadow-hand body.
pub struct ShadowHand {
    config: ShadowHandConfig,
}

impl Component for ShadowHand {
    type Config = ShadowHandConfig;
}

impl Body for ShadowHand {
    fn new(config: ShadowHandConfig) -> Result<Self, PluginError> {
        if config.control == ControlMode::Torque {
            return Err(PluginError::invalid_config(
                "control: the Shadow hand has position actuators; use absolute_position or \
                 relative_position",
            ));
        }
        // Fail here, with the set-up hint, rather than in the task that composes the body.
        hand_dir()?;
        Ok(ShadowHand { config })
    }

    fn description(&self) -> BodyDescription {
        // `new` found the assets; if they vanished since, the host's check of the description
        // reports the unreadable files.
        let dir = hand_dir().unwrap_or_default();
        describe(&dir, &self.config)
    }
}

/// Gymnasium-Robotics' hand asset directory.
pub fn hand_dir() -> Result<PathBuf, PluginError> {
    let dir = assets::robotics_dir()?.join("hand");
    if dir.join("shared.xml").is_file() {
        Ok(dir)
    } else {
        Err(PluginError::runtime(format!(
            "the Shadow hand assets are missing ({} has no shared.xml): run \
             scripts/setup-mujoco.sh",
            dir.display()
        )))
    }
}

/// The actuators declared in `shared.xml`: name and control range, in file order.
fn actuators(dir: &std::path::Path) -> Vec<(String, [f64; 2])> {
    let Ok(text) = std::fs::read_to_string(dir.join("shared.xml")) else {
        return Vec::new();
    };
    let Ok(doc) = roxmltree::Document::parse(&text) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "position")
        .filter_map(|n| {
            let name = n.attribute("name")?;
            let mut range = n
                .attribute("ctrlrange")?
                .split_whitespace()
                .map(|v| v.parse::<f64>().ok());
            Some((name.to_string(), [range.next()??, range.next()??]))
        })
        .collect()
}

/// The touch sensors' names, in the order of `shared_touch_sensors_92.xml`.
fn touch_sensors(dir: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(dir.join("shared_touch_sensors_92.xml")) else {
        return Vec::new();
    };
    let Ok(doc) = roxmltree::Document::parse(&text) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "touch")
        .filter_map(|n| n.attribute("name").map(String::from))
        .collect()
}

/// The description of the hand whose Gymnasium-Robotics files are in `dir`.
pub fn describe(dir: &std::path::Path, config: &ShadowHandConfig) -> BodyDescription {
    let root = dir.parent().unwrap_or(dir);
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    let (touch_include, robot) = if config.touch {
        (
            format!(
                r#"  <include file="{}"/>"#,
                path(dir.join("shared_touch_sensors_92.xml"))
            ),
            "robot_touch_sensors_92.xml",
        )
    } else {
        (String::new(), "robot.xml")
    };
    let velocity_sensors: String = JOINTS
        .iter()
        .map(|j| format!("    <jointvel name=\"robot0:Sjv_{j}\" joint=\"robot0:{j}\"/>\n"))
        .collect();
    let mjcf = format!(
        r#"<mujoco model="shadow-hand">
  <compiler angle="radian" meshdir="{meshes}" texturedir="{textures}"/>
  <option timestep="0.002" iterations="20"><flag warmstart="enable"/></option>
  <include file="{shared}"/>
{touch_include}
  <asset><include file="{shared_asset}"/></asset>
  <worldbody><include file="{robot}"/></worldbody>
  <sensor>
{velocity_sensors}  </sensor>
</mujoco>
"#,
        meshes = path(root.join("stls/hand")),
        textures = path(root.join("textures")),
        shared = path(dir.join("shared.xml")),
        shared_asset = path(dir.join("shared_asset.xml")),
        robot = path(dir.join(robot)),
    );
    let actuators = actuators(dir)
        .into_iter()
        .map(|(name, ctrl_range)| ActuatorSpec {
            name,
            ctrl_range,
            mode: config.control,
        })
        .collect();
    let mut sensors = vec![
        SensorGroup {
            sense: "proprioception".into(),
            kind: SensorKind::JointPosition,
            sensors: JOINTS.iter().map(|j| format!("robot0:Sjp_{j}")).collect(),
        },
        SensorGroup {
            sense: "proprioception".into(),
            kind: SensorKind::JointVelocity,
            sensors: JOINTS.iter().map(|j| format!("robot0:Sjv_{j}")).collect(),
        },
    ];
    if config.touch {
        sensors.push(SensorGroup {
            sense: "touch".into(),
            kind: SensorKind::Touch,
            sensors: touch_sensors(dir),
        });
    }
    let mut landmarks: std::collections::BTreeMap<String, String> = FINGERS
        .iter()
        .map(|f| (fingertip_role(f), format!("robot0:S_{f}tip")))
        .collect();
    landmarks.insert(PALM.into(), "robot0:palm".into());
    let capabilities = vec!["hand".to_string(), "fingertips".to_string()];
    BodyDescription {
        mjcf: MjcfSource::Text(mjcf),
        actuators,
        sensors,
        capabilities,
        landmarks,
    }
}
