//! Distributed training under a real `mpirun -n 2` (cargo feature `mpi`; scripts/test-mpi.sh
//! builds the MPI-enabled binary into target/mpi and runs these).
//!
//! The processes of a run share its configured workers, so a run on two processes and a run
//! on one process with the same two workers gather exactly the same data; their updates differ
//! only in the order the gradient sums are added up. That makes "two processes equal one
//! process on the concatenated data" testable end to end, on the real binary.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use angora_host::train::checkpoint;
use angora_tests::{Outcome, isolate, isolated_angora};
use serde_json::Value;

/// `mpirun -n processes angora`, with the settings a container needs (running as root, more
/// processes than cores, yielding while waiting instead of spinning on shared cores).
fn mpirun(processes: usize) -> Command {
    let mut command = Command::new("mpirun");
    command
        .args(["-n", &processes.to_string(), "--oversubscribe"])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_mpi_yield_when_idle", "1")
        .arg(angora_tests::angora_exe());
    isolate(&mut command);
    command
}

/// Runs `command`, killing it after `limit` (a hung collective must fail the test, not hang it).
fn run_within(command: &mut Command, limit: Duration) -> Outcome {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("the child can be polled").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("the child ends");
            panic!(
                "still running after {limit:?}; stderr so far:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("the child ends");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const LIMIT: Duration = Duration::from_secs(120);

fn train(mut command: Command, out: &Path, args: &[&str]) {
    command
        .args(["-q", "train"])
        .args(args)
        .arg("--out")
        .arg(out);
    let outcome = run_within(&mut command, LIMIT);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
}

fn params(run_dir: &Path) -> Vec<f32> {
    checkpoint::load(run_dir, "last").unwrap().params
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn metrics(run_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(run_dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Trains `args` with two workers of `envs` environments each, on one process and on two;
/// both must gather the same episodes and end with the same weights to within `tolerance`. A
/// one-process run with one worker of twice the environments (the same amount of data, sampled
/// from other streams) must differ by more, so the tolerance separates "the same update" from
/// "an update on other data".
fn two_processes_equal_one(args: &[&str], envs: u32, tolerance: f32) {
    let dir = tempfile::tempdir().unwrap();
    let (one, two, other) = (
        dir.path().join("one"),
        dir.path().join("two"),
        dir.path().join("other"),
    );
    let layout = |workers: u32, envs: u32| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string())
            .chain([
                "--workers".into(),
                workers.to_string(),
                "--set".into(),
                format!("gather.envs_per_worker={envs}"),
            ])
            .collect()
    };
    let split = layout(2, envs);
    let split: Vec<&str> = split.iter().map(String::as_str).collect();
    train(isolated_angora(), &one, &split);
    train(mpirun(2), &two, &split);

    let (m1, m2) = (metrics(&one), metrics(&two));
    assert_eq!(m1.len(), m2.len());
    for (a, b) in m1.iter().zip(&m2) {
        for key in [
            "cycle",
            "steps",
            "episodes",
            "cycle_episodes",
            "mean_return",
        ] {
            assert_eq!(a[key], b[key], "{key} differs:\n{a}\n{b}");
        }
    }
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(two.join("config.json")).unwrap()).unwrap();
    assert_eq!(record["processes"], 2);

    let difference = largest_difference(&params(&one), &params(&two));
    assert!(
        difference <= tolerance,
        "the weights of the one- and two-process runs differ by {difference}"
    );

    let single = layout(1, 2 * envs);
    let single: Vec<&str> = single.iter().map(String::as_str).collect();
    train(isolated_angora(), &other, &single);
    let control = largest_difference(&params(&one), &params(&other));
    assert!(
        control > 10.0 * tolerance,
        "other data changed the weights by only {control}: the tolerance cannot tell updates apart"
    );
}

#[test]
fn one_cycle_on_two_processes_equals_one_process_on_the_whole_batch() {
    // CartPole preset: 8 environments x 32 steps per worker; two workers make one cycle of
    // 512 transitions, 10 epochs of two minibatches of 256, each drawn across both processes.
    two_processes_equal_one(
        &["--task", "CartPole-v1", "--steps", "512", "--seed", "7"],
        8,
        1e-5,
    );
}

#[test]
fn a_recurrent_model_with_reward_scaling_trains_alike_on_two_processes() {
    // GRU with TBPTT, minibatches tiled over trajectories of both processes, and the reward
    // normaliser merged across them; two cycles.
    two_processes_equal_one(
        &[
            "--task",
            "CartPoleNoVel-v1",
            "--preset",
            "cartpole_recurrent",
            "--steps",
            "2048",
            "--seed",
            "11",
        ],
        4,
        1e-4,
    );
}

#[test]
fn workers_that_do_not_split_over_the_processes_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = mpirun(2);
    command
        .args([
            "-q",
            "train",
            "--task",
            "CartPole-v1",
            "--workers",
            "3",
            "--out",
        ])
        .arg(dir.path().join("run"));
    let outcome = run_within(&mut command, LIMIT);
    assert_ne!(outcome.code, Some(0), "{outcome:?}");
    assert!(
        outcome
            .stderr
            .contains("gather.workers (3) must be a multiple of the number of MPI processes (2)"),
        "{}",
        outcome.stderr
    );
}

#[test]
fn gathering_is_measured_over_both_processes() {
    let mut command = mpirun(2);
    command.args([
        "-q",
        "bench",
        "gather",
        "--task",
        "CartPole-v1",
        "--workers",
        "2",
        "--seconds",
        "0.3",
        "--json",
    ]);
    let outcome = run_within(&mut command, LIMIT);
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let report = outcome.json();
    assert_eq!(report["processes"], 2);
    assert!(report["items"].as_u64().unwrap() > 0, "{report}");
}
