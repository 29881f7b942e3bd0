//! The out-of-tree example: a crate that depends on plugin-api alone, built outside the
//! workspace, dropped into a directory the host is pointed at.

use angora_host::plugin::{Registry, SearchPath};
use angora_plugin_api::{Sensation, StepOutput};
use angora_tests::{PluginDir, out_of_tree_plugin, root, run};

#[test]
fn the_example_plugin_is_listed_reset_and_stepped() {
    let dir = PluginDir::new();
    dir.add(out_of_tree_plugin());

    let listing = run(dir.angora().args(["plugins", "--json"]));
    assert_eq!(listing.code, Some(0), "{listing:?}");
    let listing = listing.json();
    let names: Vec<&str> = listing["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["GridWalk-v0"]);

    let eval = run(dir.angora().args([
        "eval",
        "--task",
        "GridWalk-v0",
        "--policy",
        "random",
        "--episodes",
        "20",
        "--json",
    ]));
    assert_eq!(eval.code, Some(0), "{eval:?}");
    let report = eval.json();
    assert_eq!(report["episodes"], 20);
    assert!(report["metrics"]["reached_goal"].as_f64().is_some());

    // Step it by hand through the host library: walking right always reaches the goal.
    let registry = Registry::load(&SearchPath::only([dir.path().to_path_buf()]));
    assert!(registry.problems().is_empty(), "{:?}", registry.problems());
    let mut task = registry
        .task("GridWalk-v0", &serde_json::json!({"length": 5}), None)
        .unwrap();
    let mut obs = Sensation::with_senses(1);
    task.reset(Some(4), &mut obs).unwrap();
    let start = obs.senses[0]
        .iter()
        .position(|&v| v == 1.0)
        .expect("one-hot position");
    let mut out = StepOutput::default();
    for step in 1..=(4 - start) {
        task.step(&[1.0], &mut out).unwrap();
        assert_eq!(out.terminated, step == 4 - start);
    }
    assert_eq!(out.metrics.as_slice(), &[1.0]);
    assert!((out.reward - 0.99).abs() < 1e-12);
    let err = registry
        .task("GridWalk-v0", &serde_json::json!({"length": 1}), None)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("length must be at least 2"),
        "{err}"
    );
}

#[test]
fn the_plugin_guide_shows_the_example_verbatim() {
    let guide = std::fs::read_to_string(root().join("docs/plugins.md")).unwrap();
    for file in [
        "examples/out-of-tree-plugin/Cargo.toml",
        "examples/out-of-tree-plugin/src/lib.rs",
    ] {
        let source = std::fs::read_to_string(root().join(file)).unwrap();
        assert!(
            guide.contains(source.trim_end()),
            "docs/plugins.md must quote {file} exactly (copy it in)"
        );
    }
}
