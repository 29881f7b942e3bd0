//! Training on a wgpu device (cargo feature `wgpu`; scripts/test-gpu.sh builds the binary with
//! burn-wgpu into target/wgpu and runs these). Without a GPU the device is Mesa's software
//! Vulkan, which is slow but computes the same thing.

use std::path::Path;

use angora_host::train::checkpoint;
use angora_tests::{isolated_angora, run};

fn train(out: &Path, args: &[&str]) {
    let outcome = run(isolated_angora()
        .args(["-q", "train", "--task", "CartPole-v1", "--steps", "512"])
        .args(args)
        .arg("--out")
        .arg(out));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
}

fn params(run_dir: &Path) -> Vec<f32> {
    checkpoint::load(run_dir, "last").unwrap().params
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// One cycle (512 transitions, 20 minibatch updates) from the same seed on the CPU and on the
/// GPU: the same initial weights and, with inference on each device, the same data; the
/// weights after the updates agree to float rounding. The same run with another seed (other
/// data) must differ by far more.
#[test]
fn the_gpu_trains_like_the_cpu_from_the_same_weights_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let (cpu, gpu, other) = (
        dir.path().join("cpu"),
        dir.path().join("gpu"),
        dir.path().join("other"),
    );
    train(&cpu, &["--seed", "7", "--backend", "cpu"]);
    train(&gpu, &["--seed", "7", "--backend", "wgpu"]);
    train(&other, &["--seed", "8", "--backend", "cpu"]);
    let metrics = |dir: &Path| std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let cycle = |dir: &Path| -> serde_json::Value {
        serde_json::from_str(metrics(dir).lines().next().unwrap()).unwrap()
    };
    assert_eq!(cycle(&cpu)["mean_return"], cycle(&gpu)["mean_return"]);
    let tolerance = 1e-4;
    let difference = largest_difference(&params(&cpu), &params(&gpu));
    assert!(
        difference <= tolerance,
        "CPU and GPU weights differ by {difference}"
    );
    let control = largest_difference(&params(&cpu), &params(&other));
    assert!(
        control > 10.0 * tolerance,
        "control differs by only {control}"
    );
}

#[test]
fn an_adapter_that_does_not_exist_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run(isolated_angora()
        .args(["-q", "train", "--task", "CartPole-v1", "--steps", "512"])
        .args(["--backend", "wgpu", "--device", "discrete:7", "--out"])
        .arg(dir.path().join("run")));
    assert_eq!(outcome.code, Some(1), "{outcome:?}");
    assert!(
        outcome.stderr.contains("no usable wgpu adapter"),
        "{}",
        outcome.stderr
    );
}
