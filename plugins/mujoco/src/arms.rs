//! The goal-directed arms of Gymnasium v5: Reacher (bring a two-link arm's fingertip to a
//! random target) and Pusher (push a cylinder to a goal with a seven-joint arm). The goal is
//! part of the model's state, so both observe it along with the arm.

use angora_plugin_api::PluginError;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::{
    Dynamics, EpisodeRng, Outcome, common_from_config, control_cost, non_negative, push, uniform,
    uniform_noise,
};

/// The position of body `id`'s frame (Gymnasium's `get_body_com`).
fn body_position(sim: &Simulation, id: usize) -> [f64; 3] {
    sim.data().xpos()[id]
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Configuration of Reacher-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReacherConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the fingertip-to-target distance penalty.
    pub reward_dist_weight: f64,
    /// Weight of the quadratic control penalty.
    pub reward_control_weight: f64,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe the arm's joint velocities (false: positions and the target offset only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for ReacherConfig {
    fn default() -> Self {
        ReacherConfig {
            xml_file: "reacher.xml".into(),
            frame_skip: 2,
            reward_dist_weight: 1.0,
            reward_control_weight: 1.0,
            max_episode_steps: 50,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Reacher-v5.
pub struct Reacher {
    config: ReacherConfig,
    fingertip: usize,
    target: usize,
}

impl Dynamics for Reacher {
    type Config = ReacherConfig;
    const NAME: &'static str = "Reacher-v5";
    const METRICS: &'static [&'static str] = &["reward_dist", "reward_ctrl"];
    const REWARD_THRESHOLD: Option<f64> = Some(-3.75);

    common_from_config!(ReacherConfig);

    fn new(config: ReacherConfig, sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("reward_dist_weight", config.reward_dist_weight)?;
        non_negative("reward_control_weight", config.reward_control_weight)?;
        Ok(Reacher {
            fingertip: sim.body_id("fingertip")?,
            target: sim.body_id("target")?,
            config,
        })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        let (qpos, qvel) = sim.initial_state();
        let mut qpos = uniform_noise(&qpos, 0.1, rng);
        // A target uniformly inside the disc of radius 0.2, by rejection.
        let goal = loop {
            let goal = [uniform(rng, -0.2, 0.2), uniform(rng, -0.2, 0.2)];
            if goal[0].hypot(goal[1]) < 0.2 {
                break goal;
            }
        };
        let n = qpos.len();
        qpos[n - 2..].copy_from_slice(&goal);
        let mut qvel = uniform_noise(&qvel, 0.005, rng);
        let n = qvel.len();
        qvel[n - 2..].fill(0.0);
        (qpos, qvel)
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let data = sim.data();
        let theta = &data.qpos()[..2];
        push(out, theta.iter().map(|t| t.cos()));
        push(out, theta.iter().map(|t| t.sin()));
        push(out, data.qpos()[2..].iter().copied());
        if velocities {
            push(out, data.qvel()[..2].iter().copied());
        }
        let tip = body_position(sim, self.fingertip);
        let target = body_position(sim, self.target);
        push(out, [tip[0] - target[0], tip[1] - target[1]]);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        sim.advance(action);
        let dist = -distance(
            body_position(sim, self.fingertip),
            body_position(sim, self.target),
        ) * self.config.reward_dist_weight;
        let ctrl = -control_cost(self.config.reward_control_weight, action);
        metrics.copy_from_slice(&[dist, ctrl]);
        Outcome {
            reward: dist + ctrl,
            terminated: false,
        }
    }
}

/// Configuration of Pusher-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PusherConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the fingertip-to-object distance penalty.
    pub reward_near_weight: f64,
    /// Weight of the object-to-goal distance penalty.
    pub reward_dist_weight: f64,
    /// Weight of the quadratic control penalty.
    pub reward_control_weight: f64,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe the arm's joint velocities (false: positions only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for PusherConfig {
    fn default() -> Self {
        PusherConfig {
            xml_file: "pusher_v5.xml".into(),
            frame_skip: 5,
            reward_near_weight: 0.5,
            reward_dist_weight: 1.0,
            reward_control_weight: 0.1,
            max_episode_steps: 100,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Pusher-v5.
pub struct Pusher {
    config: PusherConfig,
    tips_arm: usize,
    object: usize,
    goal: usize,
}

impl Dynamics for Pusher {
    type Config = PusherConfig;
    const NAME: &'static str = "Pusher-v5";
    const METRICS: &'static [&'static str] = &["reward_dist", "reward_ctrl", "reward_near"];
    const REWARD_THRESHOLD: Option<f64> = Some(0.0);

    common_from_config!(PusherConfig);

    fn new(config: PusherConfig, sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("reward_near_weight", config.reward_near_weight)?;
        non_negative("reward_dist_weight", config.reward_dist_weight)?;
        non_negative("reward_control_weight", config.reward_control_weight)?;
        Ok(Pusher {
            tips_arm: sim.body_id("tips_arm")?,
            object: sim.body_id("object")?,
            goal: sim.body_id("goal")?,
            config,
        })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        let (mut qpos, qvel) = sim.initial_state();
        let goal = [0.0, 0.0];
        // The cylinder starts anywhere in a box, but not within 0.17 of the goal.
        let cylinder = loop {
            let c = [uniform(rng, -0.3, 0.0), uniform(rng, -0.2, 0.2)];
            if (c[0] - goal[0]).hypot(c[1] - goal[1]) > 0.17 {
                break c;
            }
        };
        let n = qpos.len();
        qpos[n - 4..n - 2].copy_from_slice(&cylinder);
        qpos[n - 2..].copy_from_slice(&goal);
        let mut qvel = uniform_noise(&qvel, 0.005, rng);
        let n = qvel.len();
        qvel[n - 4..].fill(0.0);
        (qpos, qvel)
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let data = sim.data();
        push(out, data.qpos()[..7].iter().copied());
        if velocities {
            push(out, data.qvel()[..7].iter().copied());
        }
        for id in [self.tips_arm, self.object, self.goal] {
            push(out, body_position(sim, id));
        }
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        sim.advance(action);
        let object = body_position(sim, self.object);
        let near =
            -distance(object, body_position(sim, self.tips_arm)) * self.config.reward_near_weight;
        let dist =
            -distance(object, body_position(sim, self.goal)) * self.config.reward_dist_weight;
        let ctrl = -control_cost(self.config.reward_control_weight, action);
        metrics.copy_from_slice(&[dist, ctrl, near]);
        Outcome {
            reward: dist + ctrl + near,
            terminated: false,
        }
    }
}
