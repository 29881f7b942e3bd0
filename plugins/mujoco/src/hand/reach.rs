//! Reaching with the fingertips (AngoraPy's `Reach*` and `FreeReach*` tasks, which follow
//! OpenAI's HandReach).
//!
//! - **Reach:** the goal is a position for each of the five fingertips: the thumb and one
//!   other finger meet at a point above the palm (offset `meeting_offset` from the palm, with
//!   N(0, 5 mm) noise, the two tips 5 mm apart); the other tips keep their starting positions.
//!   In `initial_goal_probability` of the episodes every tip is asked back to its start.
//!   Reward `-|tips - goal| + success_bonus * success - force_penalty * sum(force^2)`;
//!   success when that distance is below `success_distance`.
//! - **FreeReach:** the goal is which finger the thumb should touch (a one-hot over the five
//!   fingers; the thumb's slot stays 0). Reward `-|thumb - finger| + success_bonus * success -
//!   force penalty - auxiliary_penalty * sum over the other fingers of (radius - min(d, radius))`,
//!   which discourages touching the wrong finger.
//!
//! Episodes last `max_episode_steps` (100) steps of 10 x 2 ms. The `success` metric is the
//! last step's: its mean over episodes is the success rate.

use angora_plugin_api::{
    BodyDescription, Component, MetricAggregate, MetricSpec, PluginError, Sensation, SenseSpec,
    StepOutput, Task, TaskSpec,
};
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::body::PALM;
use super::rig::HandControl;
use super::{CAMERA_ELEMENT, Hand, HandOptions, Snapshot, Vision, distance, vision_sense};

/// Gymnasium-Robotics' HandReach starting pose (radians), by joint name without `robot0:`.
const INITIAL_POSE: [(&str, f64); 24] = [
    ("WRJ1", -0.16514339750464327),
    ("WRJ0", -0.31973286565062153),
    ("FFJ3", 0.14340512546557435),
    ("FFJ2", 0.32028208333591573),
    ("FFJ1", 0.7126053607727917),
    ("FFJ0", 0.6705281001412586),
    ("MFJ3", 0.000246444303701037),
    ("MFJ2", 0.3152655251085491),
    ("MFJ1", 0.7659800313729842),
    ("MFJ0", 0.7323156897425923),
    ("RFJ3", 0.00038520700007378114),
    ("RFJ2", 0.36743546201985233),
    ("RFJ1", 0.7119514095008576),
    ("RFJ0", 0.6699446327514138),
    ("LFJ4", 0.0525442258033891),
    ("LFJ3", -0.13615534724474673),
    ("LFJ2", 0.39872030433433003),
    ("LFJ1", 0.7415570009679252),
    ("LFJ0", 0.704096378652974),
    ("THJ4", 0.003673823825070126),
    ("THJ3", 0.5506291436028695),
    ("THJ2", -0.014515151997119306),
    ("THJ1", -0.0015229223564485414),
    ("THJ0", -0.7894883021600622),
];

/// Configuration of the reaching tasks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReachConfig {
    /// `false`: reach fingertip positions; `true`: touch the thumb to a named finger.
    pub free: bool,
    /// FreeReach only: always this finger (0 first, 1 middle, 2 ring, 3 little) instead of a
    /// random one.
    pub force_finger: Option<u32>,
    /// How actions become actuator targets: `absolute`, `relative` or `body`.
    pub control: HandControl,
    /// Discrete control: this many choices per actuator (AngoraPy: 11); absent: continuous.
    pub bins: Option<u32>,
    /// What `vision` carries: `surrogate` (the 15 fingertip coordinates) or `camera`.
    pub vision: Vision,
    /// Side of the camera images in pixels.
    pub image_size: u32,
    /// Provide the body's touch sense.
    pub touch: bool,
    /// Physics steps (of 2 ms) per task step.
    pub frame_skip: u32,
    /// Steps per episode.
    pub max_episode_steps: u32,
    /// Distance (m) under which the goal counts as reached.
    pub success_distance: f64,
    /// Reward added on steps where the goal is reached.
    pub success_bonus: f64,
    /// Weight of the squared actuator forces in the reward.
    pub force_penalty: f64,
    /// Reach only: the probability that the goal is the starting pose.
    pub initial_goal_probability: f64,
    /// Reach only: where the tips meet, relative to the palm (m, world axes).
    pub meeting_offset: [f64; 3],
    /// FreeReach only: radius (m) of the zone around the thumb other fingers should avoid.
    pub auxiliary_zone_radius: f64,
    /// FreeReach only: weight of the intrusions into that zone.
    pub auxiliary_penalty: f64,
}

impl Default for ReachConfig {
    fn default() -> Self {
        ReachConfig {
            free: false,
            force_finger: None,
            control: HandControl::Absolute,
            bins: None,
            vision: Vision::Surrogate,
            image_size: 64,
            touch: true,
            frame_skip: 10,
            max_episode_steps: 100,
            success_distance: 0.02,
            success_bonus: 0.1,
            force_penalty: 0.0,
            initial_goal_probability: 0.1,
            meeting_offset: [0.0, -0.09, 0.05],
            auxiliary_zone_radius: 0.06015,
            auxiliary_penalty: 0.01,
        }
    }
}

impl ReachConfig {
    fn validate(&self) -> Result<(), PluginError> {
        let check = |ok: bool, message: String| {
            if ok {
                Ok(())
            } else {
                Err(PluginError::invalid_config(message))
            }
        };
        check(
            self.max_episode_steps >= 1,
            "max_episode_steps must be at least 1".into(),
        )?;
        check(
            self.success_distance.is_finite() && self.success_distance > 0.0,
            format!(
                "success_distance must be positive, got {}",
                self.success_distance
            ),
        )?;
        for (name, value) in [
            ("success_bonus", self.success_bonus),
            ("force_penalty", self.force_penalty),
            ("auxiliary_zone_radius", self.auxiliary_zone_radius),
            ("auxiliary_penalty", self.auxiliary_penalty),
        ] {
            check(
                value.is_finite() && value >= 0.0,
                format!("{name} must be finite and non-negative, got {value}"),
            )?;
        }
        check(
            (0.0..=1.0).contains(&self.initial_goal_probability),
            format!(
                "initial_goal_probability must be in [0, 1], got {}",
                self.initial_goal_probability
            ),
        )?;
        check(
            self.meeting_offset.iter().all(|v| v.is_finite()),
            "meeting_offset must be finite".into(),
        )?;
        if let Some(finger) = self.force_finger {
            check(
                self.free && finger < 4,
                format!("force_finger {finger}: give 0..=3, and only with free = true"),
            )?;
        }
        Ok(())
    }
}

/// What the current episode asks for.
#[derive(Debug, Clone)]
enum Goal {
    /// Target positions of the five tips.
    Tips(Vec<f64>),
    /// The finger (0..4) the thumb should touch.
    Finger(usize),
}

/// The reaching tasks.
pub struct Reach {
    config: ReachConfig,
    hand: Hand,
    tips: [usize; 5],
    start: Snapshot,
    start_tips: Vec<f64>,
    palm: [f64; 3],
    goal: Goal,
    steps: u32,
    spec: TaskSpec,
}

impl Component for Reach {
    type Config = ReachConfig;
}

impl Task for Reach {
    fn new(config: ReachConfig, body: Option<BodyDescription>) -> Result<Self, PluginError> {
        config.validate()?;
        let camera = config.vision == Vision::Camera;
        let scene = scene(camera);
        let mut hand = Hand::new(
            body,
            &scene,
            "reach",
            HandOptions {
                control: config.control,
                discrete: config.bins,
                frame_skip: config.frame_skip,
                camera: camera.then_some(config.image_size),
            },
        )?;
        let tips = hand.fingertips()?;
        let palm_index = hand.rig().landmark(PALM)?;
        // The starting pose: Gymnasium's HandReach joint angles for the joints the scene has,
        // settled under the actuators holding it (a body may constrain some joints).
        for (joint, angle) in INITIAL_POSE {
            let name = format!("robot0:{joint}");
            if let Some(id) = hand
                .sim()
                .id_of(mujoco_rs::prelude::MjtObjBase::mjOBJ_JOINT, &name)
            {
                let adr = hand.sim().model().jnt_qposadr()[id] as usize;
                hand.sim_mut().data_mut().qpos_mut()[adr] = angle;
            }
        }
        hand.sim_mut().data_mut().forward();
        hand.settle(20);
        let start = Snapshot::take(hand.sim());
        let start_tips = hand.positions(&tips);
        let palm = hand.rig().position(hand.sim(), palm_index);
        let mut senses = vec![vision_sense(config.vision, 15, config.image_size)];
        senses.extend(hand.body_senses(config.touch));
        senses.push(SenseSpec::vector("goal", if config.free { 5 } else { 15 }));
        let spec = TaskSpec {
            senses,
            action_space: hand.action_space(),
            max_episode_steps: Some(config.max_episode_steps),
            reward_threshold: None,
            metrics: vec![
                MetricSpec {
                    name: "success".into(),
                    aggregate: MetricAggregate::Last,
                },
                MetricSpec {
                    name: "distance".into(),
                    aggregate: MetricAggregate::Last,
                },
            ],
            dt: Some(hand.sim().dt()),
        };
        Ok(Reach {
            goal: Goal::Tips(start_tips.clone()),
            config,
            hand,
            tips,
            start,
            start_tips,
            palm,
            steps: 0,
            spec,
        })
    }

    fn spec(&self) -> TaskSpec {
        self.spec.clone()
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.hand.seed(seed);
        self.start.restore(self.hand.sim_mut());
        self.goal = self.sample_goal();
        self.steps = 0;
        self.observe(out)
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        self.hand.act(action)?;
        self.steps += 1;
        let (distance, reward) = self.evaluate();
        let success = distance < self.config.success_distance;
        out.reward = reward;
        out.truncated = self.steps >= self.config.max_episode_steps;
        out.metrics[0] = f64::from(u8::from(success));
        out.metrics[1] = distance;
        self.observe(&mut out.sensation)
    }
}

impl Reach {
    /// The hand and its simulation, for benchmarks and tests.
    pub fn hand_mut(&mut self) -> &mut Hand {
        &mut self.hand
    }

    /// The current goal: 15 tip coordinates, or the finger index for FreeReach.
    pub fn goal(&self) -> Vec<f64> {
        match &self.goal {
            Goal::Tips(tips) => tips.clone(),
            Goal::Finger(f) => vec![*f as f64],
        }
    }

    /// Sets the goal to these 15 fingertip coordinates (Reach) or, with one value, to that
    /// finger (FreeReach): for tests and scripted evaluations.
    pub fn set_goal(&mut self, goal: &[f64]) -> Result<(), PluginError> {
        self.goal = match (self.config.free, goal.len()) {
            (false, 15) => Goal::Tips(goal.to_vec()),
            (true, 1) if (0.0..4.0).contains(&goal[0]) => Goal::Finger(goal[0] as usize),
            _ => {
                return Err(PluginError::invalid_config(
                    "a Reach goal is 15 coordinates, a FreeReach goal one finger index 0..=3",
                ));
            }
        };
        Ok(())
    }

    /// The fingertip positions where every episode starts.
    pub fn start_tips(&self) -> &[f64] {
        &self.start_tips
    }

    /// The current fingertip positions (first, middle, ring, little finger, thumb).
    pub fn tips(&self) -> Vec<f64> {
        self.hand.positions(&self.tips)
    }

    /// The distance the reward and success are measured by, and the reward of the current
    /// state.
    pub fn evaluate(&self) -> (f64, f64) {
        let tips = self.tips();
        let force = self.config.force_penalty * self.hand.rig().squared_force(self.hand.sim());
        match &self.goal {
            Goal::Tips(goal) => {
                let d = distance(&tips, goal);
                let success = d < self.config.success_distance;
                let reward = -d + self.config.success_bonus * f64::from(u8::from(success)) - force;
                (d, reward)
            }
            Goal::Finger(finger) => {
                let thumb = &tips[12..15];
                let d = distance(thumb, &tips[3 * finger..3 * finger + 3]);
                let success = d < self.config.success_distance;
                let radius = self.config.auxiliary_zone_radius;
                let intrusion: f64 = (0..4)
                    .filter(|f| f != finger)
                    .map(|f| radius - distance(thumb, &tips[3 * f..3 * f + 3]).min(radius))
                    .sum();
                let reward = -d + self.config.success_bonus * f64::from(u8::from(success))
                    - force
                    - self.config.auxiliary_penalty * intrusion;
                (d, reward)
            }
        }
    }

    fn sample_goal(&mut self) -> Goal {
        let rng = self.hand.rng();
        if self.config.free {
            return Goal::Finger(match self.config.force_finger {
                Some(f) => f as usize,
                None => rng.random_range(0..4),
            });
        }
        // As in HandReach: draw the finger, the noise, then the initial-goal coin.
        let finger = rng.random_range(0..4usize);
        let mut meeting = [0.0; 3];
        for (i, m) in meeting.iter_mut().enumerate() {
            let noise: f64 = rng.sample(StandardNormal);
            *m = self.palm[i] + self.config.meeting_offset[i] + 0.005 * noise;
        }
        let mut goal = self.start_tips.clone();
        for tip in [finger, 4] {
            let p = &mut goal[3 * tip..3 * tip + 3];
            let direction: Vec<f64> = (0..3).map(|i| meeting[i] - p[i]).collect();
            let norm = direction
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
                .max(1e-12);
            for i in 0..3 {
                p[i] = meeting[i] - 0.005 * direction[i] / norm;
            }
        }
        if rng.random::<f64>() < self.config.initial_goal_probability {
            goal = self.start_tips.clone();
        }
        Goal::Tips(goal)
    }

    fn observe(&mut self, out: &mut Sensation) -> Result<(), PluginError> {
        out.ensure_senses(self.spec.senses.len());
        match self.config.vision {
            Vision::Surrogate => {
                let tips: Vec<f32> = self.tips().iter().map(|&v| v as f32).collect();
                out.set(0, &tips);
            }
            Vision::Camera => self.hand.write_image(out, 0)?,
        }
        let next = self.hand.write_body_senses(self.config.touch, out, 1);
        let goal: Vec<f32> = match &self.goal {
            Goal::Tips(tips) => tips.iter().map(|&v| v as f32).collect(),
            Goal::Finger(f) => (0..5).map(|i| f32::from(u8::from(i == *f))).collect(),
        };
        out.set(next, &goal);
        Ok(())
    }
}

/// The task's scene elements: a floor, a light, and (for camera vision) a camera looking
/// down at the hand.
fn scene(camera: bool) -> String {
    let camera = if camera { CAMERA_ELEMENT } else { "" };
    format!(
        r#"<worldbody>
  <geom name="floor" pos="1 1 0" size="1 1 1" type="plane" condim="3" rgba="0.8 0.8 0.8 1"/>
  <light directional="true" ambient="0.2 0.2 0.2" diffuse="0.8 0.8 0.8" specular="0.3 0.3 0.3" castshadow="false" pos="0 0 4" dir="0 0 -1"/>
  {camera}
</worldbody>"#
    )
}
