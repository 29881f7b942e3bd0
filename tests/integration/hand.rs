//! The Shadow hand through the command line and the plugin boundary: evaluation reports
//! `goals_reached`, a task runs with a body from another plugin, bodies that lack what a task
//! needs are refused by name, and a short recurrent training run on a hand task completes.

use angora_tests::{isolated_angora, run};

fn eval(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["eval", "--policy", "random", "--seed", "3", "--json"];
    all.extend_from_slice(args);
    let outcome = run(isolated_angora().args(&all));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    outcome.json()
}

#[test]
fn random_manipulation_reports_goals_reached() {
    let report = eval(&["--task", "ManipulateBlockDiscrete-v0", "--episodes", "3"]);
    assert_eq!(report["episodes"], 3);
    let metrics = &report["metrics"];
    for name in ["goals_reached", "success", "dropped"] {
        assert!(metrics.get(name).is_some(), "{name} missing from {report}");
    }
    // A random policy drops the cube: every episode ends early, with a drop.
    assert!(report["mean_length"].as_f64().unwrap() < 100.0, "{report}");
}

#[test]
fn reaching_runs_with_a_body_from_another_plugin() {
    let own = eval(&["--task", "ReachAbsolute-v0", "--episodes", "2"]);
    let swapped = eval(&[
        "--task",
        "ReachAbsolute-v0",
        "--body",
        "shadow-hand-frozen-wrist",
        "--episodes",
        "2",
    ]);
    assert_eq!(swapped["mean_length"], 100.0, "{swapped}");
    assert!(swapped["metrics"].get("success").is_some());
    // Different body, different episodes.
    assert_ne!(own["mean_return"], swapped["mean_return"]);

    // The task's declarations follow the body: 18 actions, no touch, 44 joint readings.
    let outcome = run(isolated_angora().args([
        "-q",
        "train",
        "--task",
        "ReachAbsolute-v0",
        "--body",
        "shadow-hand-frozen-wrist",
        "--model",
        "simple-gru",
        "--steps",
        "512",
        "--set",
        "gather.horizon=64",
        "--set",
        "gather.envs_per_worker=8",
        "--out",
        tempfile::tempdir()
            .unwrap()
            .path()
            .join("run")
            .to_str()
            .unwrap(),
    ]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
}

#[test]
fn a_body_without_fingertips_is_refused_by_name() {
    let outcome = run(isolated_angora().args([
        "eval",
        "--task",
        "ReachAbsolute-v0",
        "--body",
        "point-mass",
        "--policy",
        "random",
    ]));
    assert_eq!(outcome.code, Some(2), "{outcome:?}");
    assert!(
        outcome.stderr.contains("fingertip") || outcome.stderr.contains("landmark"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn missing_hand_assets_say_how_to_install_them() {
    let empty = tempfile::tempdir().unwrap();
    for task in ["ReachAbsolute-v0", "ManipulateBlock-v0"] {
        let outcome = run(isolated_angora()
            .env("ANGORA_MUJOCO_ASSETS", empty.path())
            .args(["eval", "--task", task, "--policy", "random"]));
        assert!(
            outcome.code.is_some() && outcome.code != Some(0),
            "{outcome:?}"
        );
        assert!(
            outcome.stderr.contains("scripts/setup-mujoco.sh"),
            "{}",
            outcome.stderr
        );
    }
}

/// Trains a few steps of discrete manipulation (8 environments, multi-categorical) into `out`
/// with the extra arguments, and checks that it succeeded.
fn train_manipulation_briefly(out: &std::path::Path, extra: &[&str]) {
    let mut args = vec![
        "-q",
        "train",
        "--distribution",
        "multi-categorical",
        "--set",
        "gather.envs_per_worker=8",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let outcome = run(isolated_angora().args(&args));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
}

#[test]
fn a_short_training_run_on_discrete_manipulation_with_the_shadow_model_completes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_manipulation_briefly(
        &out,
        &[
            "--task",
            "ManipulateBlockDiscreteAsymmetric-v0",
            "--model",
            "shadow-small",
            "--steps",
            "512",
            "--set",
            "gather.horizon=64",
        ],
    );
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("goals_reached"), "{metrics}");
}

#[test]
fn the_relative_goal_example_config_trains_and_its_run_evaluates() {
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/configs/manipulate-relative-goal.toml"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    train_manipulation_briefly(
        &out,
        &[
            config,
            "--task",
            "ManipulateBlockDiscrete-v0",
            "--steps",
            "256",
            "--set",
            "gather.horizon=32",
        ],
    );
    let saved = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(saved.contains("relative_to"), "{saved}");
    // Evaluation rebuilds the encoder from the run's config (without it the goal would be 4
    // values and the model's input would not match).
    let outcome =
        run(isolated_angora().args(["eval", out.to_str().unwrap(), "--episodes", "1", "--json"]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(outcome.json()["metrics"].get("goals_reached").is_some());
}
