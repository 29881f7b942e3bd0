//! In-hand block manipulation (AngoraPy's `ManipulateBlock*` tasks, the Dactyl protocol of
//! OpenAI et al. 2018): turn a 5 cm cube lying on the palm to a goal orientation.
//!
//! - The goal is a random rotation (angle uniform in [-pi, pi] about an axis uniform in
//!   [-1, 1]^3, Gymnasium's `xyz` target); position is ignored.
//! - Reached when the rotation angle to the goal is below `rotation_threshold` (0.4 rad):
//!   `goals_reached` counts up, `success` is 1 on that step, and a new goal is drawn.
//! - Reward: the decrease of the angle since the last step, `+ success_bonus` on success,
//!   `- drop_penalty` on a drop, `- force_penalty * sum(force^2)`.
//! - The episode ends (terminated) when the cube falls below the palm or after `max_goals`
//!   goals, and is cut off (truncated) after `steps_per_goal` steps without reaching one.
//! - Reset: the cube at its start position with N(0, 5 mm) noise and a random orientation,
//!   10 steps to settle with the start pose held; redrawn if it fell off.
//! - Steps are 10 physics steps of 8 ms (0.08 s), AngoraPy's timing.
//!
//! Senses: `vision` (surrogate: the cube's position and orientation quaternion, 7 values; or
//! camera images), the body's `touch` and `proprioception`, `goal` (the target quaternion),
//! and with `asymmetric` the critic-only vector of fingertip positions (15), the rotation
//! still to go as a quaternion (4) and the cube's linear and angular velocity (6).

use angora_plugin_api::{
    BodyDescription, Component, MetricAggregate, MetricSpec, PluginError, Sensation, SenseSpec,
    StepOutput, Task, TaskSpec,
};
use mujoco_rs::prelude::MjtObjBase;
use rand::Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::body::PALM;
use super::quat::{self, Quat};
use super::rig::HandControl;
use super::{CAMERA_ELEMENT, Hand, HandOptions, Snapshot, Vision, vision_sense};
use crate::assets;

/// Where the cube is dropped onto the palm (Gymnasium-Robotics' block start).
const CUBE_START: [f64; 3] = [1.0, 0.87, 0.2];

/// Configuration of the block manipulation tasks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ManipulateBlockConfig {
    /// How actions become actuator targets (AngoraPy's block tasks: `relative`).
    pub control: HandControl,
    /// Discrete control: this many choices per actuator (AngoraPy: 11); absent: continuous.
    pub bins: Option<u32>,
    /// What `vision` carries: `surrogate` (the cube's pose, 7 values) or `camera`.
    pub vision: Vision,
    /// Side of the camera images in pixels.
    pub image_size: u32,
    /// Provide the body's touch sense.
    pub touch: bool,
    /// Add the critic-only `asymmetric` sense.
    pub asymmetric: bool,
    /// Physics steps per task step.
    pub frame_skip: u32,
    /// Physics time step in seconds.
    pub timestep: f64,
    /// Angle (rad) under which the goal orientation counts as reached.
    pub rotation_threshold: f64,
    /// Reward for reaching a goal.
    pub success_bonus: f64,
    /// Penalty for dropping the cube.
    pub drop_penalty: f64,
    /// Weight of the squared actuator forces in the reward.
    pub force_penalty: f64,
    /// Goals after which the episode ends.
    pub max_goals: u32,
    /// Steps allowed per goal.
    pub steps_per_goal: u32,
    /// Standard deviation (m) of the cube's start position.
    pub position_noise: f64,
    /// Steps (with the start pose held) that let the cube settle at reset.
    pub settle_steps: u32,
}

impl Default for ManipulateBlockConfig {
    fn default() -> Self {
        ManipulateBlockConfig {
            control: HandControl::Relative,
            bins: None,
            vision: Vision::Surrogate,
            image_size: 64,
            touch: true,
            asymmetric: false,
            frame_skip: 10,
            timestep: 0.008,
            rotation_threshold: 0.4,
            success_bonus: 5.0,
            drop_penalty: 20.0,
            force_penalty: 0.0,
            max_goals: 50,
            steps_per_goal: 100,
            position_noise: 0.005,
            settle_steps: 10,
        }
    }
}

impl ManipulateBlockConfig {
    fn validate(&self) -> Result<(), PluginError> {
        let fail = |m: String| Err(PluginError::invalid_config(m));
        if !(self.timestep.is_finite() && self.timestep > 0.0 && self.timestep <= 0.05) {
            return fail(format!(
                "timestep must be in (0, 0.05] s, got {}",
                self.timestep
            ));
        }
        if !(self.rotation_threshold > 0.0 && self.rotation_threshold < std::f64::consts::PI) {
            return fail(format!(
                "rotation_threshold must be in (0, pi), got {}",
                self.rotation_threshold
            ));
        }
        for (name, value) in [
            ("success_bonus", self.success_bonus),
            ("drop_penalty", self.drop_penalty),
            ("force_penalty", self.force_penalty),
            ("position_noise", self.position_noise),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return fail(format!(
                    "{name} must be finite and non-negative, got {value}"
                ));
            }
        }
        if self.max_goals == 0 || self.steps_per_goal == 0 {
            return fail("max_goals and steps_per_goal must be at least 1".into());
        }
        Ok(())
    }
}

/// The block manipulation tasks.
pub struct ManipulateBlock {
    config: ManipulateBlockConfig,
    hand: Hand,
    tips: [usize; 5],
    palm: usize,
    /// The cube's free joint: its `qpos` and `qvel` addresses.
    cube_qpos: usize,
    cube_qvel: usize,
    start: Snapshot,
    goal: Quat,
    last_angle: f64,
    goals_reached: u32,
    steps_since_goal: u32,
    spec: TaskSpec,
}

impl Component for ManipulateBlock {
    type Config = ManipulateBlockConfig;
}

impl Task for ManipulateBlock {
    fn new(
        config: ManipulateBlockConfig,
        body: Option<BodyDescription>,
    ) -> Result<Self, PluginError> {
        config.validate()?;
        let camera = config.vision == Vision::Camera;
        let hand = Hand::new(
            body,
            &scene(&config, camera)?,
            "manipulate-block",
            HandOptions {
                control: config.control,
                discrete: config.bins,
                frame_skip: config.frame_skip,
                camera: camera.then_some(config.image_size),
            },
        )?;
        let tips = hand.fingertips()?;
        let palm = hand.rig().landmark(PALM)?;
        let joint = hand
            .sim()
            .id_of(MjtObjBase::mjOBJ_JOINT, "object:joint")
            .ok_or_else(|| PluginError::runtime("the scene lost the cube's joint"))?;
        let cube_qpos = hand.sim().model().jnt_qposadr()[joint] as usize;
        let cube_qvel = hand.sim().model().jnt_dofadr()[joint] as usize;
        let start = Snapshot::take(hand.sim());
        let mut senses = vec![vision_sense(config.vision, 7, config.image_size)];
        senses.extend(hand.body_senses(config.touch));
        senses.push(SenseSpec::vector("goal", 4));
        if config.asymmetric {
            senses.push(SenseSpec::vector("asymmetric", 25));
        }
        let metric = |name: &str, aggregate| MetricSpec {
            name: name.into(),
            aggregate,
        };
        let spec = TaskSpec {
            senses,
            action_space: hand.action_space(),
            max_episode_steps: Some(config.max_goals * config.steps_per_goal),
            reward_threshold: None,
            metrics: vec![
                metric("goals_reached", MetricAggregate::Last),
                metric("success", MetricAggregate::Mean),
                metric("dropped", MetricAggregate::Last),
                metric("angle", MetricAggregate::Last),
            ],
            dt: Some(hand.sim().dt()),
        };
        Ok(ManipulateBlock {
            config,
            hand,
            tips,
            palm,
            cube_qpos,
            cube_qvel,
            start,
            goal: [1.0, 0.0, 0.0, 0.0],
            last_angle: 0.0,
            goals_reached: 0,
            steps_since_goal: 0,
            spec,
        })
    }

    fn spec(&self) -> TaskSpec {
        self.spec.clone()
    }

    fn reset(&mut self, seed: Option<u64>, out: &mut Sensation) -> Result<(), PluginError> {
        self.hand.seed(seed);
        let mut placed = false;
        for _ in 0..10 {
            if self.place_cube()? {
                placed = true;
                break;
            }
        }
        if !placed {
            return Err(PluginError::runtime(
                "the cube fell off the palm in 10 resets in a row; is the body holding its palm up?",
            ));
        }
        self.goal = self.sample_goal();
        self.last_angle = quat::angle_between(self.cube_orientation(), self.goal);
        self.goals_reached = 0;
        self.steps_since_goal = 0;
        self.observe(out)
    }

    fn step(&mut self, action: &[f32], out: &mut StepOutput) -> Result<(), PluginError> {
        self.hand.act(action)?;
        self.steps_since_goal += 1;
        let angle = quat::angle_between(self.cube_orientation(), self.goal);
        let mut reward = self.last_angle - angle;
        let success = angle < self.config.rotation_threshold;
        if success {
            reward += self.config.success_bonus;
            self.goals_reached += 1;
            self.steps_since_goal = 0;
            self.goal = self.sample_goal();
            self.last_angle = quat::angle_between(self.cube_orientation(), self.goal);
        } else {
            self.last_angle = angle;
        }
        let dropped = self.dropped();
        if dropped {
            reward -= self.config.drop_penalty;
        }
        reward -= self.config.force_penalty * self.hand.rig().squared_force(self.hand.sim());
        out.reward = reward;
        out.terminated = dropped || self.goals_reached >= self.config.max_goals;
        out.truncated = !out.terminated && self.steps_since_goal >= self.config.steps_per_goal;
        out.metrics[0] = f64::from(self.goals_reached);
        out.metrics[1] = f64::from(u8::from(success));
        out.metrics[2] = f64::from(u8::from(dropped));
        out.metrics[3] = self.last_angle;
        self.observe(&mut out.sensation)
    }
}

impl ManipulateBlock {
    /// The hand and its simulation, for benchmarks and tests.
    pub fn hand_mut(&mut self) -> &mut Hand {
        &mut self.hand
    }

    /// The cube's position and orientation quaternion (its free joint's 7 coordinates).
    pub fn cube_pose(&self) -> [f64; 7] {
        let q = self.hand.sim().data().qpos();
        std::array::from_fn(|i| q[self.cube_qpos + i])
    }

    fn cube_orientation(&self) -> Quat {
        let p = self.cube_pose();
        [p[3], p[4], p[5], p[6]]
    }

    /// The goal orientation.
    pub fn goal(&self) -> Quat {
        self.goal
    }

    /// Sets the goal orientation (for tests and scripted evaluations).
    pub fn set_goal(&mut self, goal: Quat) {
        self.goal = quat::normalise(goal);
        self.last_angle = quat::angle_between(self.cube_orientation(), self.goal);
    }

    /// Places the cube (position and orientation, zero velocity) without stepping.
    pub fn set_cube_pose(&mut self, pose: [f64; 7]) {
        let (qpos, qvel) = (self.cube_qpos, self.cube_qvel);
        let data = self.hand.sim_mut().data_mut();
        data.qpos_mut()[qpos..qpos + 7].copy_from_slice(&pose);
        data.qvel_mut()[qvel..qvel + 6].fill(0.0);
        data.forward();
        self.last_angle = quat::angle_between(self.cube_orientation(), self.goal);
    }

    /// Goals reached in this episode.
    pub fn goals_reached(&self) -> u32 {
        self.goals_reached
    }

    /// Whether the cube's centre is below the palm's.
    pub fn dropped(&self) -> bool {
        let palm = self.hand.rig().position(self.hand.sim(), self.palm);
        self.cube_pose()[2] < palm[2]
    }

    /// Restores the start state, drops the cube on the palm in a random pose and lets it
    /// settle; `false` if it fell off.
    fn place_cube(&mut self) -> Result<bool, PluginError> {
        self.start.restore(self.hand.sim_mut());
        let rng = self.hand.rng();
        let angle = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
        let axis: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        let orientation = quat::from_angle_axis(angle, axis);
        let position: [f64; 3] = std::array::from_fn(|i| {
            let noise: f64 = rng.sample(StandardNormal);
            CUBE_START[i] + self.config.position_noise * noise
        });
        let pose = [
            position[0],
            position[1],
            position[2],
            orientation[0],
            orientation[1],
            orientation[2],
            orientation[3],
        ];
        self.set_cube_pose(pose);
        // Settle with the start pose's targets held (a zero relative action would let the
        // hand sag under the cube's weight, since its targets follow the current angles).
        let frame_skip = self.hand.sim().frame_skip();
        self.hand
            .sim_mut()
            .raw_steps(self.config.settle_steps * frame_skip);
        if !self.hand.sim().state_is_finite() {
            return Err(PluginError::runtime(
                "the hand simulation became unstable while the cube settled",
            ));
        }
        Ok(!self.dropped())
    }

    fn sample_goal(&mut self) -> Quat {
        let rng = self.hand.rng();
        let angle = rng.random_range(-std::f64::consts::PI..std::f64::consts::PI);
        let axis: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        quat::from_angle_axis(angle, axis)
    }

    fn observe(&mut self, out: &mut Sensation) -> Result<(), PluginError> {
        out.ensure_senses(self.spec.senses.len());
        let pose = self.cube_pose();
        match self.config.vision {
            Vision::Surrogate => out.set(0, &pose.map(|v| v as f32)),
            Vision::Camera => self.hand.write_image(out, 0)?,
        }
        let mut next = self.hand.write_body_senses(self.config.touch, out, 1);
        out.set(next, &self.goal.map(|v| v as f32));
        next += 1;
        if self.config.asymmetric {
            let mut privileged: Vec<f32> = self
                .hand
                .positions(&self.tips)
                .iter()
                .map(|&v| v as f32)
                .collect();
            let to_go = quat::mul(self.goal, quat::conjugate(self.cube_orientation()));
            privileged.extend(to_go.map(|v| v as f32));
            let qvel = self.hand.sim().data().qvel();
            privileged.extend(
                qvel[self.cube_qvel..self.cube_qvel + 6]
                    .iter()
                    .map(|&v| v as f32),
            );
            out.set(next, &privileged);
        }
        Ok(())
    }
}

/// The task's scene elements: floor, light, the textured cube on its free joint, the time
/// step, and (for camera vision) a camera above the palm.
fn scene(config: &ManipulateBlockConfig, camera: bool) -> Result<String, PluginError> {
    let textures = assets::robotics_dir()?.join("textures");
    let texture = textures.join("block.png");
    let texture = texture.to_string_lossy();
    let camera = if camera { CAMERA_ELEMENT } else { "" };
    let [x, y, z] = CUBE_START;
    Ok(format!(
        r#"<option timestep="{timestep}"/>
<asset>
  <texture name="cube" file="{texture}" gridsize="3 4" gridlayout=".U..LFRB.D.."/>
  <material name="cube" texture="cube" specular="1" shininess="0.3" reflectance="0"/>
</asset>
<worldbody>
  <geom name="floor" pos="1 1 0" size="1 1 1" type="plane" condim="3" rgba="0.8 0.8 0.8 1"/>
  <light directional="true" ambient="0.2 0.2 0.2" diffuse="0.8 0.8 0.8" specular="0.3 0.3 0.3" castshadow="false" pos="0 1 4" dir="0 0 -1"/>
  <body name="object" pos="{x} {y} {z}">
    <geom name="object" type="box" size="0.025 0.025 0.025" material="cube" condim="4" density="567"/>
    <joint name="object:joint" type="free" damping="0.01"/>
  </body>
  {camera}
</worldbody>"#,
        timestep = config.timestep
    ))
}
