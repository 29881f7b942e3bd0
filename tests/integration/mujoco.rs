//! The MuJoCo task pack through the real plugin boundary and the command line: bad input
//! (missing or corrupt MJCF files, missing assets, wrong or NaN actions, bad config values)
//! gives a clear error and never a MuJoCo abort, reward terms reach the evaluation report,
//! and a short training run works end to end.

use std::sync::OnceLock;

use angora_host::plugin::{Registry, SearchPath};
use angora_plugin_api::{ComponentKind, ErrorKind, Sensation, StepOutput};
use angora_tests::{PluginDir, isolated_angora, profile_dir, root, run, shipped};
use serde_json::{Value, json};

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let registry = Registry::load(&SearchPath::only([profile_dir()]));
        assert!(registry.problems().is_empty(), "{:?}", registry.problems());
        registry
    })
}

/// The error creating `name` with `config` gives; panics if it is created.
fn refused(name: &str, config: &Value) -> String {
    match registry().task(name, config, None) {
        Ok(_) => panic!("{name} accepted {config}"),
        Err(e) => e.to_string(),
    }
}

fn half_cheetah_xml() -> String {
    let path = root().join(".deps/assets/gymnasium/envs/mujoco/assets/half_cheetah.xml");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/setup-mujoco.sh)", path.display()))
}

#[test]
fn every_mujoco_task_resets_and_steps_through_the_boundary() {
    let names: Vec<String> = registry()
        .components()
        .into_iter()
        .filter(|c| c.kind == ComponentKind::Task && c.name.ends_with("-v5"))
        .map(|c| c.name.clone())
        .collect();
    assert!(names.len() >= 19, "{names:?}");
    for name in &names {
        let mut task = registry().task(name, &Value::Null, None).unwrap();
        let spec = task.spec().clone();
        let dim = spec.action_space.action_dim();
        let mut obs = Sensation::with_senses(1);
        task.reset(Some(1), &mut obs).unwrap();
        assert_eq!(obs.senses[0].len(), spec.senses[0].len(), "{name}");
        let mut out = StepOutput::default();
        task.step(&vec![0.1; dim], &mut out).unwrap();
        assert!(out.reward.is_finite(), "{name}: reward {}", out.reward);
        assert_eq!(out.metrics.len(), spec.metrics.len(), "{name}");
        assert!(
            out.sensation.senses[0].iter().all(|v| v.is_finite()),
            "{name}"
        );
    }
}

#[test]
fn velocity_free_variants_observe_less() {
    for (full, novel) in [
        ("HalfCheetah-v5", "HalfCheetahNoVel-v5"),
        ("InvertedPendulum-v5", "InvertedPendulumNoVel-v5"),
        ("Hopper-v5", "HopperNoVel-v5"),
    ] {
        let len = |name: &str| {
            registry()
                .task(name, &Value::Null, None)
                .unwrap()
                .spec()
                .senses[0]
                .len()
        };
        assert!(len(novel) < len(full), "{novel} against {full}");
    }
    // InvertedPendulum: cart position, pole angle; velocities left out.
    let task = registry()
        .task("InvertedPendulumNoVel-v5", &Value::Null, None)
        .unwrap();
    assert_eq!(task.spec().senses[0].shape, vec![2]);
}

#[test]
fn wrong_and_nan_actions_are_refused_and_the_task_goes_on() {
    let mut task = registry()
        .task("HalfCheetah-v5", &Value::Null, None)
        .unwrap();
    task.reset(Some(0), &mut Sensation::with_senses(1)).unwrap();
    let mut out = StepOutput::default();
    let err = task.step(&[0.0; 5], &mut out).unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("needs 6"), "{err}");
    let mut action = [0.0f32; 6];
    action[2] = f32::NAN;
    let err = task.step(&action, &mut out).unwrap_err();
    assert!(err.to_string().contains("action[2] is NaN"), "{err}");
    // Out-of-range actions are clamped by MuJoCo, as in Gymnasium; the task is still usable.
    task.step(&[1e30, -1e30, 5.0, 0.0, 0.0, 0.0], &mut out)
        .unwrap();
    assert!(out.sensation.senses[0].iter().all(|v| v.is_finite()));
}

#[test]
fn a_missing_mjcf_file_is_named() {
    let text = refused(
        "HalfCheetah-v5",
        &json!({"xml_file": "/nonexistent/cheetah.xml"}),
    );
    assert!(text.contains("/nonexistent/cheetah.xml"), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    let err = refused("Hopper-v5", &json!({"xml_file": "no_such_model.xml"}));
    assert!(err.contains("no_such_model.xml"), "{err}");
}

#[test]
fn a_corrupt_mjcf_file_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let xml = half_cheetah_xml();
    let cases = [
        ("truncated.xml", xml[..xml.len() / 2].to_string()),
        ("garbage.xml", "\u{0}\u{1}not xml at all".to_string()),
        (
            "bad-attribute.xml",
            xml.replacen("<option ", "<option bogus_attribute=\"1\" ", 1),
        ),
    ];
    for (file, content) in cases {
        let path = dir.path().join(file);
        std::fs::write(&path, content).unwrap();
        let text = refused(
            "HalfCheetah-v5",
            &json!({"xml_file": path.to_str().unwrap()}),
        );
        assert!(text.contains("MuJoCo cannot load"), "{file}: {text}");
        assert!(text.contains(file), "{file}: {text}");
    }
    // A model that loads but lacks what the task needs.
    let path = dir.path().join("no-fingertip.xml");
    std::fs::write(&path, xml).unwrap();
    let err = refused("Reacher-v5", &json!({"xml_file": path.to_str().unwrap()}));
    assert!(err.contains("no body 'fingertip'"), "{err}");
}

#[test]
fn config_values_are_checked_and_unknown_keys_named() {
    let err = refused("Ant-v5", &json!({"ctrl_cost_weight": -1.0}));
    assert!(err.contains("ctrl_cost_weight"), "{err}");
    let err = refused("Hopper-v5", &json!({"healthy_z_range": [2.0, 1.0]}));
    assert!(err.contains("healthy_z_range"), "{err}");
    let err = refused("Walker2d-v5", &json!({"contact_cost_weight": 1.0}));
    assert!(err.contains("contact_cost_weight"), "{err}");
    let err = refused("HalfCheetah-v5", &json!({"initial_state": [0.0, 1.0]}));
    assert!(err.contains("nq + nv = 18"), "{err}");
    // Gymnasium's keys are accepted.
    let task = registry()
        .task(
            "HalfCheetah-v5",
            &json!({"exclude_current_positions_from_observation": false, "reset_noise_scale": 0.0}),
            None,
        )
        .unwrap();
    assert_eq!(task.spec().senses[0].shape, vec![18]);
}

#[test]
fn missing_assets_say_how_to_install_them() {
    let empty = tempfile::tempdir().unwrap();
    let outcome = run(isolated_angora()
        .env("ANGORA_MUJOCO_ASSETS", empty.path())
        .args(["eval", "--task", "Swimmer-v5", "--policy", "random"]));
    assert_ne!(outcome.code, Some(0), "{outcome:?}");
    assert!(outcome.code.is_some(), "killed by a signal: {outcome:?}");
    assert!(
        outcome.stderr.contains("scripts/setup-mujoco.sh"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn evaluation_reports_the_reward_terms() {
    let outcome = run(isolated_angora().args([
        "eval",
        "--task",
        "Hopper-v5",
        "--policy",
        "random",
        "--episodes",
        "3",
        "--seed",
        "4",
        "--json",
    ]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let report = outcome.json();
    let metrics = &report["metrics"];
    for term in ["reward_forward", "reward_ctrl", "reward_survive"] {
        assert!(metrics.get(term).is_some(), "{term} missing from {report}");
    }
    // The terms add up to the return (Hopper's reward is their sum).
    let sum: f64 = ["reward_forward", "reward_ctrl", "reward_survive"]
        .iter()
        .map(|t| metric_mean(&metrics[*t]))
        .sum();
    let mean = report["mean_return"].as_f64().unwrap();
    assert!(
        (sum - mean).abs() < 1e-6 * mean.abs().max(1.0),
        "{sum} vs {mean}"
    );
    assert!(
        !outcome.stderr.contains("MUJOCO_LOG") && !outcome.stderr.contains("settotalmass"),
        "{}",
        outcome.stderr
    );
}

/// The mean of a metric in the report (a number, or an object with a `mean`).
fn metric_mean(value: &Value) -> f64 {
    value
        .as_f64()
        .or_else(|| value.get("mean").and_then(Value::as_f64))
        .unwrap_or_else(|| panic!("not a metric: {value}"))
}

#[test]
fn a_short_training_run_on_a_mujoco_task_completes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let outcome = run(isolated_angora().args([
        "-q",
        "train",
        "--task",
        "InvertedPendulum-v5",
        "--steps",
        "4096",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(out.join("config.json").is_file() && out.join("last").exists());
    let eval =
        run(isolated_angora().args(["eval", out.to_str().unwrap(), "--episodes", "2", "--json"]));
    assert_eq!(eval.code, Some(0), "{eval:?}");
    assert!(eval.json()["mean_return"].as_f64().unwrap() >= 1.0);
}

#[test]
fn a_missing_mujoco_library_says_how_to_install_it() {
    // A copy of the plugin whose baked-in library directory (its rpath) points nowhere: what a
    // user sees after deleting .deps/ or moving the repository.
    let bytes = std::fs::read(shipped("mujoco")).unwrap();
    let rpath = root().join(".deps/mujoco-3.17.0/lib");
    let rpath = rpath.to_str().unwrap().as_bytes();
    let at = bytes
        .windows(rpath.len())
        .position(|w| w == rpath)
        .expect("the plugin carries the MuJoCo library directory as its rpath");
    let mut broken = bytes.clone();
    let version = at + rpath.len() - b"0/lib".len();
    broken[version] = b'X';
    let dir = PluginDir::new();
    dir.write("libangora_plugin_mujoco.so", &broken);
    let outcome = run(dir.angora().arg("plugins"));
    assert!(outcome.code.is_some(), "killed by a signal: {outcome:?}");
    assert!(
        outcome.stderr.contains("libmujoco.so.3.17.0")
            && outcome.stderr.contains("scripts/setup-mujoco.sh"),
        "{}",
        outcome.stderr
    );
}
