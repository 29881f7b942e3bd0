//! Loading plugins: the shipped ones, the search path, and every kind of broken library. Each
//! broken case sits beside a good plugin, which must still load; the process must exit with a
//! code (never die by a signal).

use angora_tests::{PluginDir, fixture, incompatible_plugin, isolated_angora, run, shipped};
use serde_json::Value;

fn components(listing: &Value) -> Vec<(String, String)> {
    listing["components"]
        .as_array()
        .expect("components is a list")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn problems(listing: &Value) -> Vec<(String, String)> {
    listing["problems"]
        .as_array()
        .expect("problems is a list")
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap().to_string(),
                p["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Lists a directory holding `bad` (written by `setup`) and a good distributions plugin, and
/// returns the one problem's message after checking the good plugin loaded.
fn single_problem(setup: impl FnOnce(&PluginDir) -> std::path::PathBuf) -> String {
    let dir = PluginDir::new();
    dir.add(&shipped("distributions"));
    let bad = setup(&dir);
    let outcome = run(dir.angora().args(["plugins", "--json"]));
    assert_eq!(outcome.code, Some(0), "listing still works: {outcome:?}");
    let listing = outcome.json();
    assert!(
        components(&listing).contains(&("distribution".into(), "categorical".into())),
        "the good plugin still loads"
    );
    let problems = problems(&listing);
    assert_eq!(problems.len(), 1, "exactly one problem: {problems:?}");
    assert_eq!(problems[0].0, bad.display().to_string());
    assert!(
        problems[0].1.contains(&bad.display().to_string()),
        "the message names the file: {}",
        problems[0].1
    );
    assert!(
        outcome.stderr.contains(&problems[0].1),
        "the problem is also printed on stderr"
    );
    problems[0].1.clone()
}

#[test]
fn shipped_plugins_provide_every_kind() {
    let outcome = run(isolated_angora().args(["plugins", "--json"]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let listing = outcome.json();
    assert!(problems(&listing).is_empty(), "{:?}", problems(&listing));
    let listed = components(&listing);
    for kind in ["task", "body", "encoder", "model", "distribution"] {
        assert!(
            listed.iter().any(|(k, _)| k == kind),
            "no {kind} among {listed:?}"
        );
    }
    for component in listing["components"].as_array().unwrap() {
        assert!(component["file"].as_str().unwrap().ends_with(".so"));
        assert_eq!(component["sha256"].as_str().unwrap().len(), 64);
        assert!(component["default_config"].is_object());
    }
}

#[test]
fn a_file_that_is_not_a_library() {
    let message = single_problem(|dir| {
        dir.write("libangora_plugin_notes.so", b"these are notes, not code\n")
    });
    assert!(
        message.contains("not a plugin library") && message.contains("not an ELF file"),
        "{message}"
    );
}

#[test]
fn a_truncated_library() {
    let message = single_problem(|dir| {
        let bytes = std::fs::read(shipped("classic_control")).unwrap();
        dir.write("libangora_plugin_half.so", &bytes[..bytes.len() / 2])
    });
    assert!(
        message.contains("corrupt") && message.contains("truncated"),
        "{message}"
    );
}

#[test]
fn a_library_cut_right_after_its_headers() {
    let message = single_problem(|dir| {
        let mut bytes = std::fs::read(shipped("classic_control")).unwrap();
        let keep = 4096.min(bytes.len());
        bytes.truncate(keep);
        dir.write("libangora_plugin_stub.so", &bytes)
    });
    assert!(message.contains("truncated"), "{message}");
}

#[test]
fn a_library_without_the_root_module() {
    let message = single_problem(|dir| dir.add(&fixture("no_root")));
    assert!(
        message.contains("not an Angora plugin") && message.contains("root module"),
        "{message}"
    );
}

#[test]
fn a_plugin_built_against_an_incompatible_api_layout() {
    let message = single_problem(|dir| dir.add(incompatible_plugin()));
    assert!(message.contains("incompatible plugin API"), "{message}");
    assert!(
        message.contains("StepOutput"),
        "the message names the type: {message}"
    );
    assert!(
        message.contains("rebuild the plugin"),
        "the message says how to fix it: {message}"
    );
}

#[test]
fn two_libraries_registering_the_same_name() {
    let dir = PluginDir::new();
    let real = dir.add(&shipped("classic_control"));
    let impostor = dir.add(&fixture("impostor"));
    let outcome = run(dir.angora().args(["plugins", "--json"]));
    assert_eq!(outcome.code, Some(0));
    let listing = outcome.json();
    let listed = components(&listing);
    assert!(
        !listed.iter().any(|(_, n)| n == "CartPole-v1"),
        "a duplicated name is refused"
    );
    assert!(
        listed.iter().any(|(_, n)| n == "CartPoleNoVel-v1"),
        "the rest of the real plugin loads"
    );
    assert!(
        listed.iter().any(|(_, n)| n == "Impostor-v0"),
        "the rest of the impostor loads"
    );
    let problems = problems(&listing);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let message = &problems[0].1;
    assert!(message.contains("CartPole-v1"), "{message}");
    assert!(
        message.contains(&real.display().to_string())
            && message.contains(&impostor.display().to_string()),
        "both files are named: {message}"
    );

    let eval = run(dir
        .angora()
        .args(["eval", "--task", "CartPole-v1", "--policy", "random"]));
    assert_eq!(eval.code, Some(2), "{eval:?}");
    assert!(
        eval.stderr.contains("registered by both"),
        "{}",
        eval.stderr
    );
}

fn panicking(task: &str, operation: &str, panic_text: &str) {
    let dir = PluginDir::new();
    dir.add(&shipped("classic_control"));
    let file = dir.add(&fixture("panicky"));
    let outcome = run(dir.angora().args([
        "eval",
        "--task",
        task,
        "--policy",
        "random",
        "--episodes",
        "1",
    ]));
    assert_eq!(
        outcome.code,
        Some(2),
        "bad input exits with 2, not a crash: {outcome:?}"
    );
    let stderr = &outcome.stderr;
    assert!(stderr.contains(task), "names the component: {stderr}");
    assert!(
        stderr.contains(&file.display().to_string()),
        "names the file: {stderr}"
    );
    assert!(
        stderr.contains(&format!("failed to {operation}")),
        "names the operation: {stderr}"
    );
    assert!(
        stderr.contains("panicked") && stderr.contains(panic_text),
        "gives the reason: {stderr}"
    );
    assert!(
        stderr.contains("src/lib.rs:"),
        "gives the panic's location: {stderr}"
    );
    // The good plugin in the same directory still works.
    let good = run(dir.angora().args([
        "eval",
        "--task",
        "CartPole-v1",
        "--policy",
        "random",
        "--episodes",
        "2",
    ]));
    assert_eq!(good.code, Some(0), "{good:?}");
}

#[test]
fn a_constructor_that_panics() {
    panicking(
        "PanicOnCreate-v0",
        "create",
        "the constructor of this fixture always panics",
    );
}

#[test]
fn a_step_that_panics() {
    panicking("PanicOnStep-v0", "step", "index out of bounds");
}

#[test]
fn a_reset_that_panics() {
    panicking(
        "PanicOnReset-v0",
        "reset",
        "reset of this fixture always panics",
    );
}

#[test]
fn the_environment_variable_and_repeated_flags_are_searched() {
    let (a, b, c) = (PluginDir::new(), PluginDir::new(), PluginDir::new());
    a.add(&shipped("classic_control"));
    b.add(&shipped("distributions"));
    c.add(&fixture("echo"));
    let outcome = run(isolated_angora()
        .env("ANGORA_PLUGIN_PATH", c.path())
        .args(["--no-default-plugin-dirs", "--plugin-dir"])
        .arg(a.path())
        .arg("--plugin-dir")
        .arg(b.path())
        .args(["plugins", "--json"]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let listing = outcome.json();
    let names: Vec<String> = components(&listing).into_iter().map(|(_, n)| n).collect();
    for name in ["CartPole-v1", "categorical", "Echo-v0"] {
        assert!(
            names.contains(&name.to_string()),
            "{name} missing from {names:?}"
        );
    }
    let search: Vec<&str> = listing["search_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let expected = [a.path(), b.path(), c.path()].map(|p| p.display().to_string());
    assert_eq!(
        search, expected,
        "flags come first, then the environment variable"
    );
}

#[test]
fn a_missing_plugin_directory_is_reported() {
    let outcome = run(isolated_angora().args([
        "--no-default-plugin-dirs",
        "--plugin-dir",
        "/nonexistent/angora-plugins",
        "plugins",
        "--json",
    ]));
    assert_eq!(outcome.code, Some(0));
    let problems = problems(&outcome.json());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].1.contains("/nonexistent/angora-plugins"),
        "{problems:?}"
    );
}

#[test]
fn plugins_info_shows_a_component() {
    let outcome = run(isolated_angora().args(["plugins", "info", "CartPole-v1", "--json"]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let info = outcome.json();
    assert_eq!(info["kind"], "task");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        info["file"]
            .as_str()
            .unwrap()
            .ends_with("libangora_plugin_classic_control.so")
    );
    assert!(info["description"].as_str().unwrap().contains("pole"));
    assert_eq!(info["default_config"]["max_episode_steps"], 500);
    assert_eq!(info["declares"]["action_space"]["type"], "discrete");

    let text = run(isolated_angora().args(["plugins", "info", "point-mass"]));
    assert_eq!(text.code, Some(0));
    assert!(
        text.stdout.contains("kind:         body") && text.stdout.contains("motor_x"),
        "{}",
        text.stdout
    );

    let unknown = run(isolated_angora().args(["plugins", "info", "cartpole-v1"]));
    assert_eq!(unknown.code, Some(2));
    assert!(
        unknown.stderr.contains("did you mean 'CartPole-v1'"),
        "{}",
        unknown.stderr
    );
}
