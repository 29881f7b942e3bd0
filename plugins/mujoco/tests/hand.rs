//! The Shadow hand body and its tasks: counts, control semantics, rewards on hand-computed
//! cases, goal sampling, the manipulation protocol and camera images.

use angora_plugin_api::{ActionSpace, Body, Sensation, StepOutput, Task};
use angora_plugin_mujoco::hand::body::{self, describe, hand_dir};
use angora_plugin_mujoco::hand::{Hand, HandOptions, quat};
use angora_plugin_mujoco::{
    HandControl, ManipulateBlock, ManipulateBlockConfig, Reach, ReachConfig, ShadowHand,
    ShadowHandConfig, Vision,
};

fn step(task: &mut impl Task, action: &[f32]) -> StepOutput {
    let spec = task.spec();
    let mut out = StepOutput::default();
    out.prepare(spec.senses.len(), spec.metrics.len());
    task.step(action, &mut out).unwrap();
    out
}

fn sense<'a>(task: &impl Task, sensation: &'a Sensation, name: &str) -> &'a [f32] {
    let index = task
        .spec()
        .senses
        .iter()
        .position(|s| s.name == name)
        .unwrap_or_else(|| panic!("no sense {name}"));
    sensation.get(index).unwrap()
}

#[test]
fn the_body_declares_20_actuators_48_joint_readings_and_92_touch_sensors() {
    let body = ShadowHand::new(ShadowHandConfig::default()).unwrap();
    let d = body.description();
    d.validate().unwrap();
    assert_eq!(d.actuators.len(), 20);
    let count = |sense: &str| -> usize {
        d.sensors
            .iter()
            .filter(|g| g.sense == sense)
            .map(|g| g.sensors.len())
            .sum()
    };
    assert_eq!(count("proprioception"), 48);
    assert_eq!(count("touch"), 92);
    assert_eq!(d.landmarks.len(), 6);
    let no_touch = describe(
        &hand_dir().unwrap(),
        &ShadowHandConfig {
            touch: false,
            ..Default::default()
        },
    );
    assert_eq!(
        no_touch
            .sensors
            .iter()
            .filter(|g| g.sense == "touch")
            .count(),
        0
    );

    let reach = Reach::new(ReachConfig::default(), Some(d)).unwrap();
    let spec = reach.spec();
    let shapes: Vec<(String, Vec<u32>)> = spec
        .senses
        .iter()
        .map(|s| (s.name.clone(), s.shape.clone()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("vision".to_string(), vec![15]),
            ("touch".to_string(), vec![92]),
            ("proprioception".to_string(), vec![48]),
            ("goal".to_string(), vec![15]),
        ]
    );
    assert_eq!(spec.action_space.action_dim(), 20);
    let discrete = ManipulateBlock::new(
        ManipulateBlockConfig {
            bins: Some(11),
            asymmetric: true,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(
        discrete.spec().action_space,
        ActionSpace::MultiDiscrete { nvec: vec![11; 20] }
    );
    let names: Vec<String> = discrete
        .spec()
        .senses
        .iter()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(
        names,
        ["vision", "touch", "proprioception", "goal", "asymmetric"]
    );
    assert_eq!(discrete.spec().senses[4].shape, vec![25]);
}

const EMPTY_SCENE: &str = "<worldbody><light pos=\"0 0 4\" dir=\"0 0 -1\"/></worldbody>";

fn hand(control: HandControl, discrete: Option<u32>) -> Hand {
    Hand::new(
        None,
        EMPTY_SCENE,
        "test",
        HandOptions {
            control,
            discrete,
            frame_skip: 10,
            camera: None,
        },
    )
    .unwrap()
}

fn ranges() -> Vec<[f64; 2]> {
    body::describe(&hand_dir().unwrap(), &ShadowHandConfig::default())
        .actuators
        .iter()
        .map(|a| a.ctrl_range)
        .collect()
}

#[test]
fn absolute_control_maps_actions_onto_the_control_ranges() {
    let mut hand = hand(HandControl::Absolute, None);
    let action: Vec<f32> = (0..20).map(|i| -1.0 + 0.1 * i as f32).collect();
    hand.act(&action).unwrap();
    let ctrl = hand.sim().data().ctrl().to_vec();
    for (i, [low, high]) in ranges().into_iter().enumerate() {
        let expected = (low + high) / 2.0 + f64::from(action[i]) * (high - low) / 2.0;
        assert!(
            (ctrl[i] - expected).abs() < 1e-6,
            "actuator {i}: {} vs {expected}",
            ctrl[i]
        );
    }
    // Beyond [-1, 1] the targets stop at the range ends.
    hand.act(&[3.0; 20]).unwrap();
    let ctrl = hand.sim().data().ctrl().to_vec();
    for (i, [_, high]) in ranges().into_iter().enumerate() {
        assert!((ctrl[i] - high).abs() < 1e-12, "actuator {i}");
    }
}

#[test]
fn relative_control_offsets_the_current_actuator_lengths() {
    let mut hand = hand(HandControl::Relative, None);
    // Move somewhere first, so that the current lengths are not the range centres.
    hand.act(&[0.3; 20]).unwrap();
    let lengths = hand.sim().data().actuator_length().to_vec();
    let action = [0.25f32; 20];
    hand.act(&action).unwrap();
    let ctrl = hand.sim().data().ctrl().to_vec();
    for (i, [low, high]) in ranges().into_iter().enumerate() {
        let expected = (lengths[i] + 0.25 * (high - low) / 2.0).clamp(low, high);
        assert!(
            (ctrl[i] - expected).abs() < 1e-9,
            "actuator {i}: {} vs {expected}",
            ctrl[i]
        );
    }
    // A zero relative action keeps the current lengths as targets.
    let lengths = hand.sim().data().actuator_length().to_vec();
    hand.act(&[0.0; 20]).unwrap();
    let ctrl = hand.sim().data().ctrl().to_vec();
    for (i, [low, high]) in ranges().into_iter().enumerate() {
        assert!((ctrl[i] - lengths[i].clamp(low, high)).abs() < 1e-9);
    }
}

#[test]
fn discrete_choices_are_eleven_evenly_spaced_targets() {
    let mut hand = hand(HandControl::Absolute, Some(11));
    let mut choices = [5.0f32; 20];
    choices[0] = 0.0;
    choices[1] = 10.0;
    choices[2] = 8.0;
    hand.act(&choices).unwrap();
    let ctrl = hand.sim().data().ctrl().to_vec();
    let r = ranges();
    assert!((ctrl[0] - r[0][0]).abs() < 1e-9);
    assert!((ctrl[1] - r[1][1]).abs() < 1e-9);
    let centre = (r[2][0] + r[2][1]) / 2.0;
    assert!((ctrl[2] - (centre + 0.6 * (r[2][1] - r[2][0]) / 2.0)).abs() < 1e-6);
    assert!((ctrl[3] - (r[3][0] + r[3][1]) / 2.0).abs() < 1e-9);
}

#[test]
fn reach_rewards_distance_and_success_as_computed_by_hand() {
    let mut task = Reach::new(ReachConfig::default(), None).unwrap();
    let mut s = Sensation::default();
    task.reset(Some(3), &mut s).unwrap();
    // The goal where the tips are: distance 0, success, reward = the bonus.
    let tips = task.tips();
    task.set_goal(&tips).unwrap();
    let (d, reward) = task.evaluate();
    assert!(d < 1e-12);
    assert!((reward - 0.1).abs() < 1e-12, "{reward}");
    // 3 cm off in one coordinate: no success, reward = -0.03.
    let mut off = tips.clone();
    off[4] += 0.03;
    task.set_goal(&off).unwrap();
    let (d, reward) = task.evaluate();
    assert!((d - 0.03).abs() < 1e-12);
    assert!((reward + 0.03).abs() < 1e-12, "{reward}");
    // 1.25 cm off in four coordinates of three tips: distance 2.5 cm, no success.
    let mut off = tips.clone();
    for i in [0, 5, 9, 14] {
        off[i] += 0.0125;
    }
    task.set_goal(&off).unwrap();
    let (d, reward) = task.evaluate();
    assert!((d - 0.025).abs() < 1e-12);
    assert!((reward + 0.025).abs() < 1e-12);
    // 0.75 cm in the same four: 1.5 cm, success, reward = -0.015 + 0.1.
    let mut near = tips.clone();
    for i in [0, 5, 9, 14] {
        near[i] -= 0.0075;
    }
    task.set_goal(&near).unwrap();
    let (d, reward) = task.evaluate();
    assert!((d - 0.015).abs() < 1e-12);
    assert!((reward - 0.085).abs() < 1e-12);
    // The step reports success and distance as metrics, and the goal as a sense.
    task.set_goal(&task.tips()).unwrap();
    let out = step(&mut task, &[0.0; 20]);
    assert_eq!(out.metrics.len(), 2);
    assert!((out.metrics[1] - task.evaluate().0).abs() < 1e-12);
    let goal = sense(&task, &out.sensation, "goal");
    assert_eq!(goal.len(), 15);
    assert!((f64::from(goal[4]) - tips[4]).abs() < 1e-6);
}

#[test]
fn free_reach_measures_thumb_to_finger_and_penalises_the_others() {
    let config = ReachConfig {
        free: true,
        ..Default::default()
    };
    let mut task = Reach::new(config, None).unwrap();
    let mut s = Sensation::default();
    task.reset(Some(0), &mut s).unwrap();
    task.set_goal(&[2.0]).unwrap();
    let goal = sense(&task, &s, "goal");
    assert_eq!(goal.len(), 5);
    let tips = task.tips();
    let dist = |a: usize, b: usize| -> f64 {
        (0..3)
            .map(|i| (tips[3 * a + i] - tips[3 * b + i]).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let (d, reward) = task.evaluate();
    assert!((d - dist(4, 2)).abs() < 1e-12);
    let intrusion: f64 = [0, 1, 3]
        .iter()
        .map(|&f| 0.06015 - dist(4, f).min(0.06015))
        .sum();
    let success = if d < 0.02 { 0.1 } else { 0.0 };
    assert!((reward - (-d + success - 0.01 * intrusion)).abs() < 1e-12);
    assert!(task.set_goal(&[4.0]).is_err(), "the thumb is not a target");
}

#[test]
fn reach_goals_bring_the_thumb_and_one_finger_together_above_the_palm() {
    let mut task = Reach::new(ReachConfig::default(), None).unwrap();
    let start = task.start_tips().to_vec();
    let mut s = Sensation::default();
    let (mut initial, mut moved_fingers) = (0, [0; 4]);
    let episodes = 400;
    for seed in 0..episodes {
        task.reset(Some(seed), &mut s).unwrap();
        let goal = task.goal();
        let moved: Vec<usize> = (0..5)
            .filter(|&t| (0..3).any(|i| (goal[3 * t + i] - start[3 * t + i]).abs() > 1e-12))
            .collect();
        if moved.is_empty() {
            initial += 1;
            continue;
        }
        assert_eq!(moved.len(), 2, "thumb and one finger move: {moved:?}");
        assert_eq!(moved[1], 4, "the thumb is one of them");
        moved_fingers[moved[0]] += 1;
        // The two tips are 5 mm short of a common meeting point: at most 1 cm apart.
        let gap: f64 = (0..3)
            .map(|i| (goal[3 * moved[0] + i] - goal[12 + i]).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(gap <= 0.01 + 1e-9 && gap > 0.0, "gap {gap}");
    }
    // 10% initial-pose goals: 40 expected of 400; 4 standard deviations is 24.
    assert!((16..=64).contains(&initial), "{initial} initial goals");
    assert!(moved_fingers.iter().all(|&n| n > 50), "{moved_fingers:?}");
    // The same seed gives the same goal.
    task.reset(Some(7), &mut s).unwrap();
    let a = task.goal();
    task.reset(Some(7), &mut s).unwrap();
    assert_eq!(a, task.goal());
}

#[test]
fn manipulation_counts_goals_draws_new_ones_and_ends_after_max_goals() {
    let config = ManipulateBlockConfig {
        max_goals: 2,
        ..Default::default()
    };
    let mut task = ManipulateBlock::new(config, None).unwrap();
    let mut s = Sensation::default();
    task.reset(Some(1), &mut s).unwrap();
    let pose = task.cube_pose();
    let mut goals = Vec::new();
    for expected in 1..=2u32 {
        // Turn the cube to the goal: the next step reaches it.
        let goal = task.goal();
        goals.push(goal);
        task.set_cube_pose([
            pose[0], pose[1], pose[2], goal[0], goal[1], goal[2], goal[3],
        ]);
        let out = step(&mut task, &[0.0; 20]);
        assert_eq!(task.goals_reached(), expected);
        assert_eq!(out.metrics[0], f64::from(expected), "goals_reached");
        assert_eq!(out.metrics[1], 1.0, "success");
        assert!(out.reward > 4.0, "the bonus of 5: {}", out.reward);
        assert_ne!(task.goal(), goal, "a new goal is drawn");
        assert_eq!(out.terminated, expected == 2, "50 goals end it; here 2");
    }
    let norms: Vec<f64> = goals
        .iter()
        .map(|q| q.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    assert!(norms.iter().all(|n| (n - 1.0).abs() < 1e-9));
}

#[test]
fn manipulation_ends_on_a_drop_and_on_a_goal_timeout() {
    let mut task = ManipulateBlock::new(ManipulateBlockConfig::default(), None).unwrap();
    let mut s = Sensation::default();
    task.reset(Some(2), &mut s).unwrap();
    assert!(!task.dropped());
    let out = step(&mut task, &[0.0; 20]);
    assert!(!out.terminated && !out.truncated);
    // Progress reward: the angle's decrease since the last step.
    let angle_before = out.metrics[3];
    let out = step(&mut task, &[0.0; 20]);
    let progress = angle_before - out.metrics[3];
    assert!(
        (out.reward - progress).abs() < 1e-9,
        "{} vs {progress}",
        out.reward
    );
    // Put the cube below the palm: dropped, terminated, penalised by 20.
    let p = task.cube_pose();
    task.set_cube_pose([p[0], p[1] - 0.3, 0.03, p[3], p[4], p[5], p[6]]);
    let out = step(&mut task, &[0.0; 20]);
    assert!(out.terminated && !out.truncated);
    assert_eq!(out.metrics[2], 1.0, "dropped");
    assert!(out.reward < -19.0, "{}", out.reward);

    // A goal not reached within steps_per_goal steps cuts the episode off.
    let config = ManipulateBlockConfig {
        steps_per_goal: 3,
        ..Default::default()
    };
    let mut task = ManipulateBlock::new(config, None).unwrap();
    task.reset(Some(5), &mut s).unwrap();
    // A goal half a turn away is not reached by holding still.
    let q = task.cube_pose();
    let current = [q[3], q[4], q[5], q[6]];
    task.set_goal(quat::mul(
        quat::from_angle_axis(3.0, [0.0, 0.0, 1.0]),
        current,
    ));
    let mut last = StepOutput::default();
    for _ in 0..3 {
        last = step(&mut task, &[0.0; 20]);
        if last.terminated {
            break;
        }
    }
    assert!(last.truncated && !last.terminated);
}

#[test]
fn the_asymmetric_sense_holds_tips_rotation_to_go_and_cube_velocities() {
    let config = ManipulateBlockConfig {
        asymmetric: true,
        ..Default::default()
    };
    let mut task = ManipulateBlock::new(config, None).unwrap();
    let mut s = Sensation::default();
    task.reset(Some(4), &mut s).unwrap();
    let privileged = sense(&task, &s, "asymmetric").to_vec();
    assert_eq!(privileged.len(), 25);
    let p = task.cube_pose();
    let to_go = quat::mul(task.goal(), quat::conjugate([p[3], p[4], p[5], p[6]]));
    for i in 0..4 {
        assert!((f64::from(privileged[15 + i]) - to_go[i]).abs() < 1e-6);
    }
    let vision = sense(&task, &s, "vision");
    assert_eq!(vision.len(), 7);
    assert!((f64::from(vision[2]) - p[2]).abs() < 1e-6);
}

fn assert_image_is_not_blank(image: &[f32], size: usize) {
    assert_eq!(image.len(), size * size * 3);
    assert!(image.iter().all(|v| (0.0..=255.0).contains(v)));
    let mean = image.iter().sum::<f32>() / image.len() as f32;
    let var = image.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / image.len() as f32;
    let distinct: std::collections::BTreeSet<u32> = image.iter().map(|&v| v as u32).collect();
    assert!(var.sqrt() > 10.0, "std {} (mean {mean})", var.sqrt());
    assert!(distinct.len() > 20, "{} distinct values", distinct.len());
}

#[test]
fn a_64_by_64_render_is_not_blank_and_follows_the_scene() {
    let config = ManipulateBlockConfig {
        vision: Vision::Camera,
        ..Default::default()
    };
    let mut task = ManipulateBlock::new(config, None).unwrap();
    assert_eq!(task.spec().senses[0].shape, vec![64, 64, 3]);
    let mut s = Sensation::default();
    task.reset(Some(0), &mut s).unwrap();
    let first = sense(&task, &s, "vision").to_vec();
    assert_image_is_not_blank(&first, 64);
    // Moving the cube away changes the picture.
    let p = task.cube_pose();
    task.set_cube_pose([p[0] + 0.5, p[1], 0.03, p[3], p[4], p[5], p[6]]);
    let out = step(&mut task, &[0.0; 20]);
    let second = sense(&task, &out.sensation, "vision");
    let changed = first.iter().zip(second).filter(|(a, b)| a != b).count();
    assert!(changed > 50, "{changed} pixels changed");

    let reach = ReachConfig {
        vision: Vision::Camera,
        image_size: 32,
        control: HandControl::Relative,
        ..Default::default()
    };
    let mut task = Reach::new(reach, None).unwrap();
    task.reset(Some(0), &mut s).unwrap();
    assert_image_is_not_blank(sense(&task, &s, "vision"), 32);
}

#[test]
fn bad_configs_are_refused_with_the_key() {
    let err = |r: Result<Reach, angora_plugin_api::PluginError>| r.err().unwrap().message;
    let e = err(Reach::new(
        ReachConfig {
            success_distance: -1.0,
            ..Default::default()
        },
        None,
    ));
    assert!(e.contains("success_distance"), "{e}");
    let e = err(Reach::new(
        ReachConfig {
            force_finger: Some(2),
            ..Default::default()
        },
        None,
    ));
    assert!(e.contains("force_finger"), "{e}");
    let e = err(Reach::new(
        ReachConfig {
            bins: Some(1),
            ..Default::default()
        },
        None,
    ));
    assert!(e.contains("bins"), "{e}");
    let e = ManipulateBlock::new(
        ManipulateBlockConfig {
            rotation_threshold: 4.0,
            ..Default::default()
        },
        None,
    )
    .err()
    .unwrap()
    .message;
    assert!(e.contains("rotation_threshold"), "{e}");
}
