//! Environment steps per second of the Shadow-hand tasks under a fixed, seeded random policy,
//! and the share of a step spent in physics.
//!
//! - `hand/random-policy`: ReachAbsolute, ManipulateBlock continuous and discrete (11 bins),
//!   each with and without camera vision (64x64 RGB through EGL on the CPU). An iteration is
//!   `BATCH` steps of pre-drawn actions from a seeded reset, resetting whenever an episode
//!   ends; the resets are inside the timing, as in a rollout worker. Random actions drop the
//!   cube within a few steps, so the ManipulateBlock figures include a reset (10 settling steps
//!   of the cube) every 8 or so steps; `ManipulateBlock-no-reset` steps on after the drop.
//! - `hand/physics`: on the same task's own simulation, after the same seeded reset, the same
//!   actions applied as controls and `frame_skip` x `mj_step` each (`Hand::act`), without
//!   observations, rewards or goals: the physics part of a step.
//!
//! `cargo bench -p angora-plugin-mujoco --bench hand_step`; docs/benchmarks.md has the figures.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]

use std::time::Duration;

use angora_plugin_api::{ActionSpace, Sensation, StepOutput, Task, TaskSpec};
use angora_plugin_mujoco::{ManipulateBlock, ManipulateBlockConfig, Reach, ReachConfig, Vision};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Task steps per timed iteration (one ReachAbsolute episode).
const BATCH: usize = 100;

/// Pre-drawn actions, uniform over the action space, from a fixed seed.
fn random_actions(spec: &TaskSpec) -> Vec<Vec<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..BATCH)
        .map(|_| match &spec.action_space {
            ActionSpace::Box { low, high } => low
                .iter()
                .zip(high)
                .map(|(&l, &h)| rng.random_range(l..h))
                .collect(),
            ActionSpace::MultiDiscrete { nvec } => nvec
                .iter()
                .map(|&n| rng.random_range(0..n) as f32)
                .collect(),
            ActionSpace::Discrete { n } => vec![rng.random_range(0..*n) as f32],
        })
        .collect()
}

/// Steps `task` through `actions` from a seeded reset, resetting whenever an episode ends
/// (unless `keep_going`); returns the number of resets.
fn rollout<T: Task>(task: &mut T, actions: &[Vec<f32>], keep_going: bool) -> usize {
    let spec = task.spec();
    let mut obs = Sensation::with_senses(spec.senses.len());
    let mut out = StepOutput::default();
    let mut resets = 0;
    task.reset(Some(1), &mut obs).unwrap();
    for action in actions {
        out.prepare(spec.senses.len(), spec.metrics.len());
        task.step(action, &mut out).unwrap();
        if !keep_going && (out.terminated || out.truncated) {
            task.reset(None, &mut obs).unwrap();
            resets += 1;
        }
    }
    resets
}

fn bench_task<T: Task>(c: &mut Criterion, name: &str, config: T::Config, keep_going: bool) {
    let mut task = T::new(config, None).expect("the task loads");
    let actions = random_actions(&task.spec());
    let resets = rollout(&mut task, &actions, keep_going);
    eprintln!("{name}: {resets} resets in {BATCH} steps");
    let mut group = c.benchmark_group("hand/random-policy");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(name, |b| {
        b.iter(|| rollout(&mut task, &actions, keep_going))
    });
    group.finish();
}

/// The physics of `BATCH` steps on the task's own simulation (see the module comment).
fn bench_physics<T: Task>(
    c: &mut Criterion,
    name: &str,
    config: T::Config,
    hand: fn(&mut T) -> &mut angora_plugin_mujoco::hand::Hand,
) {
    let mut task = T::new(config, None).expect("the task loads");
    let actions = random_actions(&task.spec());
    let mut obs = Sensation::with_senses(task.spec().senses.len());
    let mut group = c.benchmark_group("hand/physics");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(name, |b| {
        b.iter(|| {
            task.reset(Some(1), &mut obs).unwrap();
            let hand = hand(&mut task);
            for action in &actions {
                hand.act(action).unwrap();
            }
        })
    });
    group.finish();
}

fn hand_tasks(c: &mut Criterion) {
    let camera = Vision::Camera;
    bench_task::<Reach>(c, "ReachAbsolute", ReachConfig::default(), false);
    let reach = ReachConfig {
        vision: camera,
        ..Default::default()
    };
    bench_task::<Reach>(c, "ReachAbsolute-camera", reach, false);
    let block = ManipulateBlockConfig::default;
    bench_task::<ManipulateBlock>(c, "ManipulateBlock", block(), false);
    bench_task::<ManipulateBlock>(c, "ManipulateBlock-no-reset", block(), true);
    let discrete = ManipulateBlockConfig {
        bins: Some(11),
        ..block()
    };
    bench_task::<ManipulateBlock>(c, "ManipulateBlockDiscrete", discrete.clone(), false);
    let visual = ManipulateBlockConfig {
        vision: camera,
        ..block()
    };
    bench_task::<ManipulateBlock>(c, "ManipulateBlock-camera", visual, false);
    let visual_discrete = ManipulateBlockConfig {
        vision: camera,
        ..discrete
    };
    bench_task::<ManipulateBlock>(c, "ManipulateBlockDiscrete-camera", visual_discrete, false);

    bench_physics::<Reach>(c, "ReachAbsolute", ReachConfig::default(), Reach::hand_mut);
    bench_physics::<ManipulateBlock>(c, "ManipulateBlock-no-reset", block(), |t| t.hand_mut());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = hand_tasks
}
criterion_main!(benches);
