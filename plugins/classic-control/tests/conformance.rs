//! Conformance with Gymnasium 1.x: replays rollouts recorded from Gymnasium's own
//! implementations (scripts/gym-reference.sh writes tests/data/) from the same initial state
//! with the same actions, and requires every observation and reward to agree within 1e-5 and
//! every termination and truncation to happen at the same step.

use std::path::Path;

use angora_plugin_api::{Sensation, StepOutput, Task};
use angora_plugin_classic_control::{
    Acrobot, AcrobotConfig, CartPole, CartPoleConfig, ContinuousMountainCar,
    ContinuousMountainCarConfig, MountainCar, MountainCarConfig, Pendulum, PendulumConfig,
};
use serde::Deserialize;

const TOLERANCE: f64 = 1e-5;

#[derive(Deserialize)]
struct Reference {
    task: String,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
struct Episode {
    policy: String,
    seed: u64,
    initial_state: Vec<f64>,
    initial_observation: Vec<f64>,
    actions: Vec<serde_json::Value>,
    observations: Vec<Vec<f64>>,
    rewards: Vec<f64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

fn load(task: &str) -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{task}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/gym-reference.sh)", path.display()));
    let reference: Reference = serde_json::from_str(&text).expect("reference data parses");
    assert_eq!(reference.task, task);
    assert!(!reference.episodes.is_empty());
    reference
}

fn action(value: &serde_json::Value) -> Vec<f32> {
    match value {
        serde_json::Value::Number(n) => vec![n.as_f64().expect("a number") as f32],
        serde_json::Value::Array(values) => values
            .iter()
            .map(|v| v.as_f64().expect("a number") as f32)
            .collect(),
        other => panic!("unexpected action {other}"),
    }
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (f64::from(a) - b).abs() <= TOLERANCE,
            "{what}[{i}]: ours {a}, Gymnasium {b}"
        );
    }
}

/// Replays every episode of `task` on tasks made by `make(initial_state)`.
fn replay<T: Task>(task: &str, make: impl Fn(&[f64]) -> T) {
    let reference = load(task);
    let mut steps = 0;
    for episode in &reference.episodes {
        let label = format!("{task} {} seed {}", episode.policy, episode.seed);
        let mut env = make(&episode.initial_state);
        let mut obs = Sensation::with_senses(1);
        env.reset(Some(episode.seed), &mut obs).unwrap();
        assert_close(
            &format!("{label} initial observation"),
            &obs.senses[0],
            &episode.initial_observation,
        );
        let mut out = StepOutput::default();
        for (t, value) in episode.actions.iter().enumerate() {
            out.prepare(1, 0);
            env.step(&action(value), &mut out).unwrap();
            let at = format!("{label} step {}", t + 1);
            assert_close(
                &format!("{at} observation"),
                &out.sensation.senses[0],
                &episode.observations[t],
            );
            assert!(
                (out.reward - episode.rewards[t]).abs() <= TOLERANCE,
                "{at} reward: ours {}, Gymnasium {}",
                out.reward,
                episode.rewards[t]
            );
            assert_eq!(out.terminated, episode.terminated[t], "{at} terminated");
            assert_eq!(out.truncated, episode.truncated[t], "{at} truncated");
        }
        steps += episode.actions.len();
    }
    assert!(steps > 0);
}

#[test]
fn cartpole_matches_gymnasium() {
    replay("CartPole-v1", |s| {
        let config = CartPoleConfig {
            initial_state: Some(s.try_into().unwrap()),
            ..Default::default()
        };
        CartPole::new(config, None).unwrap()
    });
}

#[test]
fn acrobot_matches_gymnasium() {
    replay("Acrobot-v1", |s| {
        let config = AcrobotConfig {
            initial_state: Some(s.try_into().unwrap()),
            ..Default::default()
        };
        Acrobot::new(config, None).unwrap()
    });
}

#[test]
fn mountain_car_matches_gymnasium() {
    replay("MountainCar-v0", |s| {
        let config = MountainCarConfig {
            initial_state: Some(s.try_into().unwrap()),
            ..Default::default()
        };
        MountainCar::new(config, None).unwrap()
    });
}

#[test]
fn continuous_mountain_car_matches_gymnasium() {
    replay("MountainCarContinuous-v0", |s| {
        let config = ContinuousMountainCarConfig {
            initial_state: Some(s.try_into().unwrap()),
            ..Default::default()
        };
        ContinuousMountainCar::new(config, None).unwrap()
    });
}

#[test]
fn pendulum_matches_gymnasium() {
    replay("Pendulum-v1", |s| {
        let config = PendulumConfig {
            initial_state: Some(s.try_into().unwrap()),
            ..Default::default()
        };
        Pendulum::new(config, None).unwrap()
    });
}

#[test]
fn velocity_free_variants_observe_a_subset() {
    let mut full = Pendulum::new(PendulumConfig::default(), None).unwrap();
    let mut blind = Pendulum::new(
        PendulumConfig {
            velocities: false,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let (mut a, mut b) = (Sensation::with_senses(1), Sensation::with_senses(1));
    full.reset(Some(5), &mut a).unwrap();
    blind.reset(Some(5), &mut b).unwrap();
    assert_eq!(&a.senses[0][..2], b.senses[0].as_slice());
    let mut full = CartPole::new(CartPoleConfig::default(), None).unwrap();
    let mut blind = CartPole::new(
        CartPoleConfig {
            velocities: false,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    full.reset(Some(5), &mut a).unwrap();
    blind.reset(Some(5), &mut b).unwrap();
    assert_eq!([a.senses[0][0], a.senses[0][2]], b.senses[0].as_slice());
}
