//! The cost of one task step across the plugin boundary.
//!
//! `Echo-v0` (a fixture plugin) takes a 20-float action and returns a 100-float sensation; its
//! step only copies the action into the observation. Measured: the step through the host's
//! handle (FFI call, panic guard, action check, buffer refill, host wrapper) and, as the
//! baseline, the same copying done in-process. Their difference is the boundary's overhead.
//!
//! Run with `cargo bench -p angora-tests --bench abi_step`.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::hint::black_box;

use angora_host::plugin::{Registry, SearchPath};
use angora_plugin_api::{Sensation, StepOutput};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const ACTION_DIM: usize = 20;
const OBSERVATION_DIM: usize = 100;

fn step_across_the_boundary(c: &mut Criterion) {
    let registry = Registry::load(&SearchPath::only([
        angora_tests::fixtures_dir().to_path_buf()
    ]));
    let config = json!({"action_dim": ACTION_DIM, "observation_dim": OBSERVATION_DIM});
    let mut task = registry
        .task("Echo-v0", &config, None)
        .expect("the echo fixture loads");
    let mut sensation = Sensation::with_senses(1);
    task.reset(Some(0), &mut sensation).expect("reset works");
    let action = [0.25f32; ACTION_DIM];
    let mut out = StepOutput::default();

    let mut group = c.benchmark_group("task_step_20_action_100_sensation");
    group.bench_function("plugin_across_boundary", |b| {
        b.iter(|| task.step(black_box(&action), &mut out).expect("step works"))
    });

    // The same work without the boundary: fill the observation from the action, copy it
    // into the reused output buffer.
    let mut observation = vec![0.0f32; OBSERVATION_DIM];
    let mut in_process = StepOutput::default();
    in_process.prepare(1, 0);
    group.bench_function("same_work_in_process", |b| {
        b.iter(|| {
            let action = black_box(&action);
            for (o, a) in observation.iter_mut().zip(action.iter().cycle()) {
                *o = *a;
            }
            in_process.sensation.set(0, &observation);
            in_process.reward = f64::from(action[0]);
            black_box(&in_process);
        })
    });
    group.finish();
}

criterion_group!(benches, step_across_the_boundary);
criterion_main!(benches);
