//! Training end to end through the `angora` binary: learning, resumption after SIGKILL with
//! bit-identical weights, divergence, and bad input.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use angora_tests::{isolated_angora, run};

fn train(out: &Path, extra: &[&str]) -> angora_tests::Outcome {
    let mut command = isolated_angora();
    command
        .args(["-q", "train", "--task", "CartPole-v1", "--out"])
        .arg(out)
        .args(extra);
    run(&mut command)
}

fn metrics_lines(run_dir: &Path) -> usize {
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn cartpole_learns_far_above_random_play() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let started = Instant::now();
    let trained = train(&out, &["--steps", "100000", "--seed", "3"]);
    assert_eq!(trained.code, Some(0), "{trained:?}");
    let eval = run(isolated_angora().args(["-q", "eval"]).arg(&out).args([
        "--episodes",
        "20",
        "--json",
        "--checkpoint",
        "last",
    ]));
    assert_eq!(eval.code, Some(0), "{eval:?}");
    let mean = eval.json()["mean_return"].as_f64().unwrap();
    // Random play averages about 22; the maximum is 500.
    assert!(mean >= 400.0, "after 100k steps the policy returns {mean}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

/// Trains `args` for `steps` uninterrupted, and again with a SIGKILL after a few cycles and
/// `angora resume`; both must end with the same bytes in their last checkpoint.
fn killed_and_resumed_equals_uninterrupted(args: &[&str], steps: u64, cycles: usize) {
    let dir = tempfile::tempdir().unwrap();
    let steps = steps.to_string();
    let command = |out: &Path| {
        let mut command = isolated_angora();
        command
            .args(["-q", "train", "--steps", &steps, "--seed", "5"])
            .args(args)
            .arg("--out")
            .arg(out);
        command
    };
    let whole = dir.path().join("whole");
    let outcome = run(&mut command(&whole));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert_eq!(metrics_lines(&whole), cycles);

    let killed = dir.path().join("killed");
    let mut child = command(&killed)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while metrics_lines(&killed) < 5 {
        assert!(Instant::now() < deadline, "the run made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_before_resume = metrics_lines(&killed);
    assert!(
        done_before_resume < cycles,
        "the kill came after the end of the run"
    );

    let resumed = run(isolated_angora()
        .args(["-q", "resume"])
        .arg(&killed)
        .arg("--json"));
    assert_eq!(resumed.code, Some(0), "{resumed:?}");
    let summary = resumed.json();
    assert_eq!(summary["steps"].as_u64().unwrap().to_string(), steps);
    assert_eq!(
        metrics_lines(&killed),
        cycles,
        "every cycle has exactly one metrics line"
    );

    for file in ["params.npy", "adam_m.npy", "adam_v.npy", "state.json"] {
        let a = std::fs::read(whole.join("last").join(file)).unwrap();
        let b = std::fs::read(killed.join("last").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the uninterrupted and the resumed run"
        );
    }
}

#[test]
fn a_killed_run_resumes_to_the_same_weights() {
    killed_and_resumed_equals_uninterrupted(&["--task", "CartPole-v1"], 40960, 160);
}

/// A recurrent policy's per-environment state is part of the checkpoint: episodes that run
/// across the kill continue from the same state.
#[test]
fn a_killed_recurrent_run_resumes_to_the_same_weights() {
    killed_and_resumed_equals_uninterrupted(
        &["--task", "CartPoleNoVel-v1", "--model", "simple-gru"],
        20480,
        80,
    );
}

#[test]
fn divergence_stops_with_a_clear_error_and_keeps_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let outcome = train(
        &out,
        &[
            "--steps",
            "20000",
            "--set",
            "ppo.learning_rate=1e30",
            "--set",
            "ppo.max_grad_norm=null",
        ],
    );
    assert_eq!(outcome.code, Some(1), "a runtime failure: {outcome:?}");
    let stderr = &outcome.stderr;
    assert!(
        stderr.contains("training stopped in cycle") && stderr.contains("not a finite number"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&out.join("last").display().to_string()),
        "names the checkpoint: {stderr}"
    );
    // The checkpoint is complete and loadable.
    let eval = run(isolated_angora().args(["-q", "eval"]).arg(&out).args([
        "--checkpoint",
        "last",
        "--episodes",
        "1",
        "--json",
    ]));
    assert_eq!(eval.code, Some(0), "{eval:?}");
}

#[test]
fn bad_training_input_exits_with_code_two_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "[ppo]\nepochs = = 3\n").unwrap();
    let unknown_key = dir.path().join("unknown.toml");
    std::fs::write(&unknown_key, "[ppo]\nlearning_rat = 0.1\n").unwrap();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--task".into(), "NoSuchTask-v0".into()],
            "available tasks: Acrobot-v1",
        ),
        (
            vec!["--model".into(), "enormous".into()],
            "available models: deeper, deeper-gru, deeper-lstm, deeper-rnn, shadow, shadow-small, simple,",
        ),
        (
            vec![
                "--model".into(),
                "simple-gru".into(),
                "--set".into(),
                "gather.horizon=40".into(),
            ],
            "gather.horizon (40) must be a multiple of ppo.tbptt_length (16)",
        ),
        (
            vec!["--distribution".into(), "cauchy".into()],
            "available distributions: beta, categorical",
        ),
        (
            vec!["--distribution".into(), "beta".into()],
            "beta needs a box",
        ),
        (vec![bad_toml.display().to_string()], "line 2"),
        (vec![unknown_key.display().to_string()], "ppo.learning_rat"),
        (
            vec!["--set".into(), "ppo.discount=2".into()],
            "ppo.discount",
        ),
        (
            vec!["--preset".into(), "fastest".into()],
            "unknown preset 'fastest'",
        ),
        (
            vec!["--backend".into(), "wgpu".into()],
            "--features angora-host/wgpu",
        ),
    ];
    for (i, (args, expected)) in cases.into_iter().enumerate() {
        let mut command = isolated_angora();
        command
            .args([
                "-q",
                "train",
                "--steps",
                "1000",
                "--out",
                &out(&format!("run{i}")),
            ])
            .args(&args);
        let outcome = run(&mut command);
        assert_eq!(outcome.code, Some(2), "{args:?}: {outcome:?}");
        assert!(
            outcome.stderr.contains(expected),
            "{args:?}: {}",
            outcome.stderr
        );
    }
    // A run directory that is in use is refused.
    let used = dir.path().join("used");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "mine").unwrap();
    let outcome = train(&used, &["--steps", "1000"]);
    assert_eq!(outcome.code, Some(2));
    assert!(outcome.stderr.contains("not empty"), "{}", outcome.stderr);
}

/// `resume --steps` extends a finished run to a larger budget and equals a run trained to that
/// budget at once; a budget already spent is refused.
#[test]
fn a_finished_run_extends_to_a_larger_budget() {
    let dir = tempfile::tempdir().unwrap();
    let train_to = |out: &std::path::Path, steps: &str| {
        let outcome = run(isolated_angora()
            .args(["-q", "train", "--task", "CartPole-v1", "--seed", "2"])
            // A constant rate: a linear schedule would stretch over the new budget.
            .args(["--set", "ppo.lr_schedule=constant"])
            .args(["--steps", steps, "--set", "gather.horizon=64", "--out"])
            .arg(out));
        assert_eq!(outcome.code, Some(0), "{outcome:?}");
    };
    let (short, long) = (dir.path().join("short"), dir.path().join("long"));
    train_to(&short, "1024");
    train_to(&long, "2048");
    let extended = run(isolated_angora()
        .args(["-q", "resume", "--steps", "2048", "--json"])
        .arg(&short));
    assert_eq!(extended.code, Some(0), "{extended:?}");
    assert_eq!(extended.json()["steps"], 2048);
    let config = std::fs::read_to_string(short.join("config.json")).unwrap();
    assert!(config.contains("\"steps\": 2048"), "{config}");
    for file in ["params.npy", "adam_m.npy", "adam_v.npy"] {
        let a = std::fs::read(long.join("last").join(file)).unwrap();
        let b = std::fs::read(short.join("last").join(file)).unwrap();
        assert!(
            a == b,
            "{file} differs between the extended and the longer run"
        );
    }
    let spent = run(isolated_angora()
        .args(["-q", "resume", "--steps", "1024"])
        .arg(&short));
    assert_eq!(spent.code, Some(2), "{spent:?}");
    assert!(
        spent.stderr.contains("already trained 2048"),
        "{}",
        spent.stderr
    );
}
