//! Conformance with Gymnasium 1.4's MuJoCo v5 tasks: replays rollouts recorded from Gymnasium
//! (scripts/gym-reference.sh writes tests/data/) from the same qpos and qvel with the same
//! actions. Both sides run the same libmujoco 3.17.0, so the physics agrees to the last bit;
//! what may differ is rounding: our observations are single precision, and sums may be taken
//! in another order. Every observation value, reward and reward term must agree within
//! `1e-6 * max(1, |reference|)` (relative 1e-6, absolute 1e-6 below magnitude 1), and every
//! termination and truncation must happen at the same step.

use std::path::Path;

use angora_plugin_api::{Sensation, StepOutput, Task};
use angora_plugin_mujoco::{
    Ant, AntConfig, HalfCheetah, HalfCheetahConfig, Hopper, HopperConfig, Humanoid, HumanoidConfig,
    HumanoidStandup, HumanoidStandupConfig, InvertedDoublePendulum, InvertedDoublePendulumConfig,
    InvertedPendulum, InvertedPendulumConfig, MujocoTask, Pusher, PusherConfig, Reacher,
    ReacherConfig, Swimmer, SwimmerConfig, Walker2d, Walker2dConfig, task::Dynamics,
};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-6;

#[derive(Deserialize)]
struct Reference {
    task: String,
    mujoco: String,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
struct Episode {
    policy: String,
    seed: u64,
    initial_state: Vec<f64>,
    initial_observation: Vec<f64>,
    actions: Vec<Vec<f32>>,
    observations: Vec<Vec<f64>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    metrics: serde_json::Map<String, serde_json::Value>,
}

fn load(task: &str) -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{task}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/gym-reference.sh)", path.display()));
    let reference: Reference = serde_json::from_str(&text).expect("reference data parses");
    assert_eq!(reference.task, task);
    assert_eq!(reference.mujoco, "3.17.0", "recorded with another MuJoCo");
    assert!(!reference.episodes.is_empty());
    reference
}

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= TOLERANCE * theirs.abs().max(1.0)
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            close(f64::from(a), b),
            "{what}[{i}]: ours {a}, Gymnasium {b}"
        );
    }
}

/// Replays every episode of `task` on tasks made by `make(initial_state)`.
fn replay<D: Dynamics>(task: &str, make: impl Fn(Vec<f64>) -> D::Config) {
    let reference = load(task);
    let mut steps = 0;
    for episode in &reference.episodes {
        let label = format!("{task} {} seed {}", episode.policy, episode.seed);
        let mut env = MujocoTask::<D>::new(make(episode.initial_state.clone()), None)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let spec = env.spec();
        let names: Vec<&str> = spec.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, D::METRICS, "{label}: declared metrics");
        let mut obs = Sensation::with_senses(1);
        env.reset(Some(episode.seed), &mut obs).unwrap();
        assert_close(
            &format!("{label} initial observation"),
            &obs.senses[0],
            &episode.initial_observation,
        );
        let mut out = StepOutput::default();
        for (t, action) in episode.actions.iter().enumerate() {
            out.prepare(1, names.len());
            env.step(action, &mut out).unwrap();
            let at = format!("{label} step {t}");
            assert_close(
                &format!("{at} observation"),
                &out.sensation.senses[0],
                &episode.observations[t],
            );
            assert!(
                close(out.reward, episode.rewards[t]),
                "{at} reward: ours {}, Gymnasium {}",
                out.reward,
                episode.rewards[t]
            );
            for (i, name) in names.iter().enumerate() {
                let theirs = episode.metrics[*name][t].as_f64().expect("a number");
                assert!(
                    close(out.metrics[i], theirs),
                    "{at} {name}: ours {}, Gymnasium {theirs}",
                    out.metrics[i]
                );
            }
            assert_eq!(
                out.terminated, episode.terminated[t],
                "{at}: termination differs"
            );
            assert_eq!(
                out.truncated, episode.truncated[t],
                "{at}: truncation differs"
            );
            steps += 1;
        }
    }
    assert!(steps > 0);
}

#[test]
fn half_cheetah_matches_gymnasium() {
    replay::<HalfCheetah>("HalfCheetah-v5", |s| HalfCheetahConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn hopper_matches_gymnasium() {
    replay::<Hopper>("Hopper-v5", |s| HopperConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn walker2d_matches_gymnasium() {
    replay::<Walker2d>("Walker2d-v5", |s| Walker2dConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn swimmer_matches_gymnasium() {
    replay::<Swimmer>("Swimmer-v5", |s| SwimmerConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn ant_matches_gymnasium() {
    replay::<Ant>("Ant-v5", |s| AntConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn humanoid_matches_gymnasium() {
    replay::<Humanoid>("Humanoid-v5", |s| HumanoidConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn humanoid_standup_matches_gymnasium() {
    replay::<HumanoidStandup>("HumanoidStandup-v5", |s| HumanoidStandupConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn reacher_matches_gymnasium() {
    replay::<Reacher>("Reacher-v5", |s| ReacherConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn pusher_matches_gymnasium() {
    replay::<Pusher>("Pusher-v5", |s| PusherConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn inverted_pendulum_matches_gymnasium() {
    replay::<InvertedPendulum>("InvertedPendulum-v5", |s| InvertedPendulumConfig {
        initial_state: Some(s),
        ..Default::default()
    });
}

#[test]
fn inverted_double_pendulum_matches_gymnasium() {
    replay::<InvertedDoublePendulum>("InvertedDoublePendulum-v5", |s| {
        InvertedDoublePendulumConfig {
            initial_state: Some(s),
            ..Default::default()
        }
    });
}
