//! Checks of a body description against its MJCF model: the model parses, and every actuator,
//! sensor and camera the description names exists in it.

use std::path::Path;

use angora_plugin_api::{BodyDescription, MjcfSource, SensorKind};

/// Checks `body`; relative MJCF paths are resolved against `asset_dir` (the directory holding
/// the plugin library).
pub fn check(body: &BodyDescription, asset_dir: &Path) -> Result<(), String> {
    body.validate()?;
    let text = match &body.mjcf {
        MjcfSource::Text(text) => text.clone(),
        MjcfSource::File(file) => {
            let path = asset_dir.join(file);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read MJCF file {}: {e}", path.display()))?
        }
    };
    let doc = roxmltree::Document::parse(&text)
        .map_err(|e| format!("the MJCF model is not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "mujoco" {
        return Err(format!(
            "the MJCF root element is <{}>, expected <mujoco>",
            root.tag_name().name()
        ));
    }
    let named_under = |section: &str, name: &str| {
        root.descendants()
            .filter(|n| n.tag_name().name() == section)
            .any(|s| s.descendants().any(|n| n.attribute("name") == Some(name)))
    };
    for actuator in &body.actuators {
        if !named_under("actuator", &actuator.name) {
            return Err(format!(
                "actuator '{}' is not defined in the MJCF <actuator> section",
                actuator.name
            ));
        }
    }
    for group in &body.sensors {
        for sensor in &group.sensors {
            let found = match group.kind {
                SensorKind::Camera => root.descendants().any(|n| {
                    n.tag_name().name() == "camera" && n.attribute("name") == Some(sensor)
                }),
                _ => named_under("sensor", sensor),
            };
            if !found {
                return Err(format!(
                    "sensor '{sensor}' of sense '{}' is not defined in the MJCF model",
                    group.sense
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use angora_plugin_api::{ActuatorSpec, ControlMode, SensorGroup};

    fn body(mjcf: &str, actuator: &str) -> BodyDescription {
        BodyDescription {
            mjcf: MjcfSource::Text(mjcf.into()),
            actuators: vec![ActuatorSpec {
                name: actuator.into(),
                ctrl_range: [-1.0, 1.0],
                mode: ControlMode::Torque,
            }],
            sensors: vec![SensorGroup {
                sense: "proprioception".into(),
                kind: SensorKind::JointPosition,
                sensors: vec!["q".into()],
            }],
            capabilities: vec![],
        }
    }

    const MJCF: &str = r#"<mujoco><actuator><motor name="m" joint="j"/></actuator><sensor><jointpos name="q" joint="j"/></sensor></mujoco>"#;

    #[test]
    fn accepts_consistent_bodies_and_names_missing_parts() {
        check(&body(MJCF, "m"), Path::new(".")).unwrap();
        let err = check(&body(MJCF, "other"), Path::new(".")).unwrap_err();
        assert!(err.contains("'other'"), "{err}");
        let err = check(&body("<mujoco><actuator>", "m"), Path::new(".")).unwrap_err();
        assert!(err.contains("not well-formed"), "{err}");
    }
}
