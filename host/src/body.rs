//! Checks of a body description against its MJCF model: the model parses, and every actuator,
//! sensor and camera the description names exists in it.

use std::path::Path;

use angora_plugin_api::{BodyDescription, MjcfSource, SensorKind};

/// Checks `body`; relative MJCF paths are resolved against `asset_dir` (the directory holding
/// the plugin library). `<include>` elements are followed (relative ones against the including
/// file's directory), so a body may be split over several files.
pub fn check(body: &BodyDescription, asset_dir: &Path) -> Result<(), String> {
    body.validate()?;
    let (text, dir) = match &body.mjcf {
        MjcfSource::Text(text) => (text.clone(), asset_dir.to_path_buf()),
        MjcfSource::File(file) => {
            let path = asset_dir.join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read MJCF file {}: {e}", path.display()))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (text, dir)
        }
    };
    let mut texts = Vec::new();
    gather(text, &dir, &mut texts, 0)?;
    let docs = texts
        .iter()
        .map(|t| roxmltree::Document::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the MJCF model is not well-formed XML: {e}"))?;
    let root = docs[0].root_element();
    if root.tag_name().name() != "mujoco" {
        return Err(format!(
            "the MJCF root element is <{}>, expected <mujoco>",
            root.tag_name().name()
        ));
    }
    let elements = || docs.iter().flat_map(|d| d.descendants());
    // A name counts as defined under `section` if it sits inside such an element, or in an
    // included file whose root holds it directly (an include inside `<actuator>` or `<sensor>`).
    let named_under = |section: &str, name: &str| {
        elements().any(|n| {
            n.attribute("name") == Some(name)
                && n.ancestors().any(|a| a.tag_name().name() == section)
        })
    };
    let named = |tag: &str, name: &str| {
        elements().any(|n| n.tag_name().name() == tag && n.attribute("name") == Some(name))
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
                SensorKind::Camera => named("camera", sensor),
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
    for (role, name) in &body.landmarks {
        if !(named("site", name) || named("body", name)) {
            return Err(format!(
                "landmark '{role}' names '{name}', which is neither a site nor a body of the \
                 MJCF model"
            ));
        }
    }
    Ok(())
}

/// Collects `text` and, depth first, the text of every file it includes.
fn gather(text: String, dir: &Path, out: &mut Vec<String>, depth: usize) -> Result<(), String> {
    if depth > 16 {
        return Err("MJCF includes nest more than 16 deep (an include cycle?)".into());
    }
    let includes: Vec<String> = {
        let doc = roxmltree::Document::parse(&text)
            .map_err(|e| format!("the MJCF model is not well-formed XML: {e}"))?;
        doc.descendants()
            .filter(|n| n.tag_name().name() == "include")
            .map(|n| {
                n.attribute("file")
                    .map(String::from)
                    .ok_or_else(|| "an MJCF <include> has no file attribute".to_string())
            })
            .collect::<Result<_, _>>()?
    };
    out.push(text);
    for file in includes {
        let path = dir.join(&file);
        let included = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read the included MJCF file {}: {e}", path.display()))?;
        let sub_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        gather(included, &sub_dir, out, depth + 1)?;
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
            landmarks: Default::default(),
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
