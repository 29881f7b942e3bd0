//! A planar point mass: the smallest body with actuators and proprioception.

use angora_plugin_api::{
    ActuatorSpec, Body, BodyDescription, Component, ControlMode, MjcfSource, PluginError,
    SensorGroup, SensorKind,
};
use serde::{Deserialize, Serialize};

/// Configuration of the point-mass body.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PointMassConfig {
    /// Mass of the sphere in kg.
    pub mass: f64,
    /// Largest force each motor applies, in newtons.
    pub max_force: f64,
}

impl Default for PointMassConfig {
    fn default() -> Self {
        PointMassConfig {
            mass: 1.0,
            max_force: 1.0,
        }
    }
}

/// The point-mass body.
pub struct PointMass {
    config: PointMassConfig,
}

impl Component for PointMass {
    type Config = PointMassConfig;
}

impl Body for PointMass {
    fn new(config: PointMassConfig) -> Result<Self, PluginError> {
        if !(config.mass.is_finite() && config.mass > 0.0) {
            return Err(PluginError::invalid_config(format!(
                "mass must be positive, got {}",
                config.mass
            )));
        }
        if !(config.max_force.is_finite() && config.max_force > 0.0) {
            return Err(PluginError::invalid_config(format!(
                "max_force must be positive, got {}",
                config.max_force
            )));
        }
        Ok(PointMass { config })
    }

    fn description(&self) -> BodyDescription {
        let PointMassConfig { mass, max_force } = self.config;
        let mjcf = format!(
            r#"<mujoco model="point-mass">
  <worldbody>
    <body name="mass" pos="0 0 0.05">
      <joint name="slide_x" type="slide" axis="1 0 0" damping="0.1"/>
      <joint name="slide_y" type="slide" axis="0 1 0" damping="0.1"/>
      <geom name="sphere" type="sphere" size="0.05" mass="{mass}"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="motor_x" joint="slide_x" ctrlrange="-{max_force} {max_force}" ctrllimited="true"/>
    <motor name="motor_y" joint="slide_y" ctrlrange="-{max_force} {max_force}" ctrllimited="true"/>
  </actuator>
  <sensor>
    <jointpos name="pos_x" joint="slide_x"/>
    <jointpos name="pos_y" joint="slide_y"/>
    <jointvel name="vel_x" joint="slide_x"/>
    <jointvel name="vel_y" joint="slide_y"/>
  </sensor>
</mujoco>
"#
        );
        let motor = |name: &str| ActuatorSpec {
            name: name.into(),
            ctrl_range: [-max_force, max_force],
            mode: ControlMode::Torque,
        };
        BodyDescription {
            mjcf: MjcfSource::Text(mjcf),
            actuators: vec![motor("motor_x"), motor("motor_y")],
            sensors: vec![
                SensorGroup {
                    sense: "proprioception".into(),
                    kind: SensorKind::JointPosition,
                    sensors: vec!["pos_x".into(), "pos_y".into()],
                },
                SensorGroup {
                    sense: "proprioception".into(),
                    kind: SensorKind::JointVelocity,
                    sensors: vec!["vel_x".into(), "vel_y".into()],
                },
            ],
            capabilities: vec!["planar".into(), "point-mass".into()],
            landmarks: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_is_valid_and_scaled() {
        let body = PointMass::new(PointMassConfig {
            mass: 2.0,
            max_force: 3.0,
        })
        .unwrap();
        let d = body.description();
        d.validate().unwrap();
        assert_eq!(d.actuators[0].ctrl_range, [-3.0, 3.0]);
        let MjcfSource::Text(text) = d.mjcf else {
            panic!("expected generated MJCF")
        };
        assert!(text.contains(r#"mass="2""#));
    }

    #[test]
    fn refuses_non_positive_mass() {
        assert!(
            PointMass::new(PointMassConfig {
                mass: 0.0,
                max_force: 1.0
            })
            .is_err()
        );
    }
}
