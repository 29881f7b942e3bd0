//! A body bound to a compiled scene: the task-side view of a [`BodyDescription`].
//!
//! A hand task composes its scene from the body's MJCF and its own elements ([`compose`]),
//! compiles it, and binds the body's declarations to the model's ids ([`Rig::bind`]): which
//! actuators the actions drive and how, which sensor readings make up each sense, and where
//! the landmarks (fingertips, palm) are.

use angora_plugin_api::{BodyDescription, ControlMode, MjcfSource, PluginError, SensorKind};
use mujoco_rs::prelude::MjtObjBase;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;

/// Composes a scene: the body's MJCF elements followed by the task's, in one `<mujoco>`
/// document. MuJoCo merges repeated sections, and a later `<option>`, `<visual>` or
/// `<compiler>` attribute overrides the body's, so tasks set their own time step.
pub fn compose(
    body: &BodyDescription,
    task_elements: &str,
    model: &str,
) -> Result<String, PluginError> {
    let body_elements = match &body.mjcf {
        MjcfSource::Text(text) => inner_elements(text)?.to_string(),
        // MuJoCo reads an included file's top-level elements into the including document.
        MjcfSource::File(path) => format!(r#"<include file="{path}"/>"#),
    };
    Ok(format!(
        "<mujoco model=\"{model}\">\n{body_elements}\n{task_elements}\n</mujoco>\n"
    ))
}

/// The text between `<mujoco ...>` and `</mujoco>`.
fn inner_elements(text: &str) -> Result<&str, PluginError> {
    let malformed = || PluginError::invalid_config("the body's MJCF has no <mujoco> element");
    let open = text.find("<mujoco").ok_or_else(malformed)?;
    let start = open + text[open..].find('>').ok_or_else(malformed)? + 1;
    if text[..start].ends_with("/>") {
        return Ok("");
    }
    let end = text.rfind("</mujoco>").ok_or_else(malformed)?;
    if end < start {
        return Err(malformed());
    }
    Ok(&text[start..end])
}

/// How actions in `[-1, 1]` become actuator targets.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum HandControl {
    /// `centre + a * half_range` of the actuator's control range.
    #[default]
    Absolute,
    /// `current + a * half_range`, where `current` is the actuator's length (the joint angle,
    /// or the tendon length of a tendon actuator): AngoraPy's relative control.
    Relative,
    /// What the body declares for each actuator.
    Body,
}

/// One driven actuator.
#[derive(Debug, Clone)]
struct Drive {
    id: usize,
    low: f64,
    high: f64,
    relative: bool,
}

/// Where one sense's readings are in `sensordata`: `(address, length)` runs.
type Reading = Vec<(usize, usize)>;

/// A body's declarations resolved against a compiled scene.
#[derive(Debug, Clone)]
pub struct Rig {
    drives: Vec<Drive>,
    proprioception: Reading,
    touch: Reading,
    landmarks: Vec<(String, Landmark)>,
}

/// A point of the body.
#[derive(Debug, Clone, Copy)]
enum Landmark {
    Site(usize),
    Body(usize),
}

impl Rig {
    /// Binds `body` to `sim`'s model. Every actuator, sensor and landmark must exist there.
    pub fn bind(
        body: &BodyDescription,
        sim: &Simulation,
        control: HandControl,
    ) -> Result<Self, PluginError> {
        let model = sim.model();
        if model.ffi().nout != model.ffi().nu {
            return Err(PluginError::invalid_config(
                "the hand tasks need one force output per actuator",
            ));
        }
        let ranges = model.actuator_ctrlrange();
        let mut drives = Vec::with_capacity(body.actuators.len());
        for spec in &body.actuators {
            let id = sim
                .id_of(MjtObjBase::mjOBJ_ACTUATOR, &spec.name)
                .ok_or_else(|| missing("actuator", &spec.name))?;
            let relative = match control {
                HandControl::Absolute => false,
                HandControl::Relative => true,
                HandControl::Body => match spec.mode {
                    ControlMode::AbsolutePosition => false,
                    ControlMode::RelativePosition => true,
                    ControlMode::Torque => {
                        return Err(PluginError::unsupported(format!(
                            "actuator '{}' is torque-controlled; the hand tasks drive \
                             position actuators",
                            spec.name
                        )));
                    }
                },
            };
            drives.push(Drive {
                id,
                low: ranges[id][0],
                high: ranges[id][1],
                relative,
            });
        }
        let reading = |sense: &str, kinds: &[SensorKind]| -> Result<Reading, PluginError> {
            let adr = model.sensor_adr();
            let dim = model.sensor_dim();
            let mut runs = Vec::new();
            for group in body.sensors.iter().filter(|g| g.sense == sense) {
                if !kinds.contains(&group.kind) {
                    return Err(PluginError::unsupported(format!(
                        "the body's '{sense}' sense has {:?} sensors, which the hand tasks do \
                         not read",
                        group.kind
                    )));
                }
                for name in &group.sensors {
                    let id = sim
                        .id_of(MjtObjBase::mjOBJ_SENSOR, name)
                        .ok_or_else(|| missing("sensor", name))?;
                    runs.push((adr[id] as usize, dim[id] as usize));
                }
            }
            Ok(runs)
        };
        let proprioception = reading(
            "proprioception",
            &[SensorKind::JointPosition, SensorKind::JointVelocity],
        )?;
        let touch = reading("touch", &[SensorKind::Touch])?;
        let landmarks = body
            .landmarks
            .iter()
            .map(|(role, name)| {
                let point = sim
                    .id_of(MjtObjBase::mjOBJ_SITE, name)
                    .map(Landmark::Site)
                    .or_else(|| sim.id_of(MjtObjBase::mjOBJ_BODY, name).map(Landmark::Body))
                    .ok_or_else(|| missing("site or body", name))?;
                Ok((role.clone(), point))
            })
            .collect::<Result<_, PluginError>>()?;
        Ok(Rig {
            drives,
            proprioception,
            touch,
            landmarks,
        })
    }

    /// The number of actions (driven actuators).
    pub fn actions(&self) -> usize {
        self.drives.len()
    }

    /// The length of the proprioception sense (0 if the body declares none).
    pub fn proprioception_len(&self) -> usize {
        self.proprioception.iter().map(|r| r.1).sum()
    }

    /// The length of the touch sense (0 if the body has no touch sensors).
    pub fn touch_len(&self) -> usize {
        self.touch.iter().map(|r| r.1).sum()
    }

    /// The landmark with `role`, or an error naming the role and the body's offer.
    pub fn landmark(&self, role: &str) -> Result<usize, PluginError> {
        self.landmarks
            .iter()
            .position(|(r, _)| r == role)
            .ok_or_else(|| {
                let offered: Vec<&str> = self.landmarks.iter().map(|(r, _)| r.as_str()).collect();
                PluginError::unsupported(format!(
                    "the body offers no landmark '{role}' (it offers {offered:?})"
                ))
            })
    }

    /// The world position of landmark `index` (from [`Rig::landmark`]).
    pub fn position(&self, sim: &Simulation, index: usize) -> [f64; 3] {
        match self.landmarks[index].1 {
            Landmark::Site(id) => sim.data().site_xpos()[id],
            Landmark::Body(id) => sim.data().xpos()[id],
        }
    }

    /// Sets the controls for actions in `[-1, 1]` (larger values are clipped by the control
    /// range). Actuators the body does not declare keep their controls.
    pub fn apply(&self, sim: &mut Simulation, action: &[f32]) {
        let data = sim.data_mut();
        for (drive, &a) in self.drives.iter().zip(action) {
            let half = (drive.high - drive.low) / 2.0;
            let centre = if drive.relative {
                data.actuator_length()[drive.id]
            } else {
                (drive.high + drive.low) / 2.0
            };
            let target = (centre + f64::from(a) * half).clamp(drive.low, drive.high);
            data.ctrl_mut()[drive.id] = target;
        }
    }

    /// Sets every driven actuator's target to its current length (clamped to the range), so
    /// that the hand holds its pose.
    pub fn hold(&self, sim: &mut Simulation) {
        let data = sim.data_mut();
        for drive in &self.drives {
            let length = data.actuator_length()[drive.id];
            data.ctrl_mut()[drive.id] = length.clamp(drive.low, drive.high);
        }
    }

    /// The sum of squared actuator forces of the driven actuators.
    pub fn squared_force(&self, sim: &Simulation) -> f64 {
        let force = sim.data().actuator_force();
        self.drives.iter().map(|d| force[d.id] * force[d.id]).sum()
    }

    /// Appends the proprioception readings to `out`.
    pub fn read_proprioception(&self, sim: &Simulation, out: &mut Vec<f32>) {
        read(sim, &self.proprioception, out);
    }

    /// Appends the touch readings to `out`.
    pub fn read_touch(&self, sim: &Simulation, out: &mut Vec<f32>) {
        read(sim, &self.touch, out);
    }
}

fn read(sim: &Simulation, runs: &Reading, out: &mut Vec<f32>) {
    let data = sim.data().sensordata();
    for &(adr, len) in runs {
        out.extend(data[adr..adr + len].iter().map(|&v| v as f32));
    }
}

fn missing(what: &str, name: &str) -> PluginError {
    PluginError::invalid_config(format!(
        "the composed scene has no {what} '{name}' that the body declares"
    ))
}

/// Maps discrete choices `0..bins` to actions in `[-1, 1]` (AngoraPy's 11-bin control: choice
/// `k` is `-1 + 2k / (bins - 1)`).
pub fn bins_to_actions(choices: &[f32], bins: u32, out: &mut Vec<f32>) {
    out.clear();
    let step = 2.0 / (bins - 1) as f32;
    out.extend(choices.iter().map(|&k| -1.0 + k * step));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleven_bins_span_the_range() {
        let mut out = Vec::new();
        bins_to_actions(&[0.0, 5.0, 10.0, 7.0], 11, &mut out);
        assert_eq!(out.len(), 4);
        assert!((out[0] + 1.0).abs() < 1e-6);
        assert!(out[1].abs() < 1e-6);
        assert!((out[2] - 1.0).abs() < 1e-6);
        assert!((out[3] - 0.4).abs() < 1e-6);
    }

    #[test]
    fn inner_elements_strip_the_root() {
        let text = "<?xml version=\"1.0\"?>\n<mujoco model=\"x\"><worldbody/></mujoco>\n";
        assert_eq!(inner_elements(text).unwrap(), "<worldbody/>");
        assert_eq!(inner_elements("<mujoco/>").unwrap(), "");
        assert!(inner_elements("<robot/>").is_err());
    }
}
