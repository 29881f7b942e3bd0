//! Environment steps per second of every MuJoCo task under a random policy, and the task
//! layer's overhead over raw physics: HalfCheetah's `step` (controls, frame_skip x `mj_step`,
//! `mj_rnePostConstraint`, observation, reward) against `frame_skip` bare `mj_step` calls.
//!
//! `cargo bench -p angora-plugin-mujoco --bench mujoco_step`; docs/benchmarks.md has the
//! figures and the Gymnasium comparison (scripts/bench-gym-mujoco.py).

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use angora_plugin_api::{Sensation, StepOutput, Task, TaskSpec};
use angora_plugin_mujoco::{
    Ant, HalfCheetah, Hopper, Humanoid, HumanoidStandup, InvertedDoublePendulum, InvertedPendulum,
    MujocoTask, Pusher, Reacher, Swimmer, Walker2d, task::Dynamics,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Pre-drawn uniform actions within the control range, so the benchmark times the task only.
fn random_actions(spec: &TaskSpec, count: usize) -> Vec<Vec<f32>> {
    let angora_plugin_api::ActionSpace::Box { low, high } = &spec.action_space else {
        unreachable!("MuJoCo tasks have box action spaces")
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..count)
        .map(|_| {
            low.iter()
                .zip(high)
                .map(|(&l, &h)| rng.random_range(l..h))
                .collect()
        })
        .collect()
}

const BATCH: usize = 1000;

fn bench_task<D: Dynamics>(c: &mut Criterion, name: &str) {
    let mut task = MujocoTask::<D>::new(D::Config::default(), None).expect("the task loads");
    let actions = random_actions(&task.spec(), BATCH);
    let mut obs = Sensation::with_senses(1);
    let mut out = StepOutput::default();
    let metrics = task.spec().metrics.len();
    let mut group = c.benchmark_group("mujoco/random-policy");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(name, |b| {
        b.iter(|| {
            // 1000 steps, resetting whenever an episode ends, as a rollout worker does.
            task.reset(None, &mut obs).unwrap();
            for action in &actions {
                out.prepare(1, metrics);
                task.step(action, &mut out).unwrap();
                if out.terminated || out.truncated {
                    task.reset(None, &mut obs).unwrap();
                }
            }
        })
    });
    group.finish();
}

fn overhead(c: &mut Criterion) {
    let mut task = MujocoTask::<HalfCheetah>::new(Default::default(), None).unwrap();
    let actions = random_actions(&task.spec(), BATCH);
    let frame_skip = task.simulation().frame_skip();
    let mut obs = Sensation::with_senses(1);
    let mut out = StepOutput::default();
    let mut group = c.benchmark_group("mujoco/half-cheetah-overhead");
    group.throughput(Throughput::Elements(BATCH as u64));
    // Both start every batch of 1000 steps from the same reset (a negligible share of it).
    group.bench_function("task-step", |b| {
        b.iter(|| {
            task.reset(Some(1), &mut obs).unwrap();
            for action in &actions {
                out.prepare(1, 2);
                task.step(action, &mut out).unwrap();
            }
        })
    });
    group.bench_function("raw-mj_step-x-frame_skip", |b| {
        b.iter(|| {
            task.reset(Some(1), &mut obs).unwrap();
            let sim = task.simulation();
            for action in &actions {
                // The same controls, written directly; then frame_skip bare steps.
                sim.set_controls(action);
                sim.raw_steps(frame_skip);
            }
        })
    });
    group.finish();
}

fn tasks(c: &mut Criterion) {
    bench_task::<HalfCheetah>(c, "HalfCheetah-v5");
    bench_task::<Hopper>(c, "Hopper-v5");
    bench_task::<Walker2d>(c, "Walker2d-v5");
    bench_task::<Swimmer>(c, "Swimmer-v5");
    bench_task::<Ant>(c, "Ant-v5");
    bench_task::<Humanoid>(c, "Humanoid-v5");
    bench_task::<HumanoidStandup>(c, "HumanoidStandup-v5");
    bench_task::<Reacher>(c, "Reacher-v5");
    bench_task::<Pusher>(c, "Pusher-v5");
    bench_task::<InvertedPendulum>(c, "InvertedPendulum-v5");
    bench_task::<InvertedDoublePendulum>(c, "InvertedDoublePendulum-v5");
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = overhead, tasks
}
criterion_main!(benches);
