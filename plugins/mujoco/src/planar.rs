//! The planar runners and swimmers of Gymnasium v5: HalfCheetah, Hopper, Walker2d and
//! Swimmer. Each is rewarded for its forward speed `(x_after - x_before) / dt` and pays a
//! quadratic control cost; Hopper and Walker2d also earn a survival reward while healthy and
//! end the episode when they are not.

use angora_plugin_api::PluginError;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::{
    Dynamics, EpisodeRng, Outcome, VelocityNoise, common_from_config, control_cost, finite, inside,
    noisy_reset, non_negative, ordered, push,
};

/// The observation of a planar model: `qpos` without the first `skip` coordinates, then
/// `qvel` (clipped to `[-clip, clip]` when `clip` is set) unless velocities are left out.
fn observe_planar(
    sim: &Simulation,
    skip: usize,
    clip: Option<f64>,
    velocities: bool,
    out: &mut Vec<f32>,
) {
    let data = sim.data();
    push(out, data.qpos()[skip..].iter().copied());
    if velocities {
        match clip {
            Some(c) => push(out, data.qvel().iter().map(|v| v.clamp(-c, c))),
            None => push(out, data.qvel().iter().copied()),
        }
    }
}

/// The forward speed over one step and the step itself: steps `sim` with `action`.
fn forward_speed(sim: &mut Simulation, action: &[f32]) -> f64 {
    let before = sim.data().qpos()[0];
    sim.advance(action);
    (sim.data().qpos()[0] - before) / sim.dt()
}

/// Configuration of HalfCheetah-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HalfCheetahConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward.
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Scale of the reset noise (uniform on positions, normal on velocities).
    pub reset_noise_scale: f64,
    /// Leave the x position out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: positions only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for HalfCheetahConfig {
    fn default() -> Self {
        HalfCheetahConfig {
            xml_file: "half_cheetah.xml".into(),
            frame_skip: 5,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 0.1,
            reset_noise_scale: 0.1,
            exclude_current_positions_from_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// HalfCheetah-v5: a planar cat-like runner.
pub struct HalfCheetah {
    config: HalfCheetahConfig,
}

impl Dynamics for HalfCheetah {
    type Config = HalfCheetahConfig;
    const NAME: &'static str = "HalfCheetah-v5";
    const METRICS: &'static [&'static str] = &["reward_forward", "reward_ctrl"];
    const REWARD_THRESHOLD: Option<f64> = Some(4800.0);

    common_from_config!(HalfCheetahConfig);

    fn new(config: HalfCheetahConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        Ok(HalfCheetah { config })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        noisy_reset(
            sim,
            self.config.reset_noise_scale,
            VelocityNoise::Normal,
            rng,
        )
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let skip = usize::from(self.config.exclude_current_positions_from_observation);
        observe_planar(sim, skip, None, velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let forward = self.config.forward_reward_weight * forward_speed(sim, action);
        let ctrl = control_cost(self.config.ctrl_cost_weight, action);
        metrics[0] = forward;
        metrics[1] = -ctrl;
        Outcome {
            reward: forward - ctrl,
            terminated: false,
        }
    }
}

/// Configuration of Swimmer-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SwimmerConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward.
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: positions only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for SwimmerConfig {
    fn default() -> Self {
        SwimmerConfig {
            xml_file: "swimmer.xml".into(),
            frame_skip: 4,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 1e-4,
            reset_noise_scale: 0.1,
            exclude_current_positions_from_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Swimmer-v5: a three-link swimmer in a viscous fluid.
pub struct Swimmer {
    config: SwimmerConfig,
}

impl Dynamics for Swimmer {
    type Config = SwimmerConfig;
    const NAME: &'static str = "Swimmer-v5";
    const METRICS: &'static [&'static str] = &["reward_forward", "reward_ctrl"];
    const REWARD_THRESHOLD: Option<f64> = Some(360.0);

    common_from_config!(SwimmerConfig);

    fn new(config: SwimmerConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        Ok(Swimmer { config })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        noisy_reset(
            sim,
            self.config.reset_noise_scale,
            VelocityNoise::Uniform,
            rng,
        )
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let skip = 2 * usize::from(self.config.exclude_current_positions_from_observation);
        observe_planar(sim, skip, None, velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let forward = self.config.forward_reward_weight * forward_speed(sim, action);
        let ctrl = control_cost(self.config.ctrl_cost_weight, action);
        metrics[0] = forward;
        metrics[1] = -ctrl;
        Outcome {
            reward: forward - ctrl,
            terminated: false,
        }
    }
}

/// Configuration of Hopper-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HopperConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward.
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Reward per step while healthy.
    pub healthy_reward: f64,
    /// End the episode when the hopper is no longer healthy.
    pub terminate_when_unhealthy: bool,
    /// Open bounds on `qpos[2..]` and `qvel` for a healthy state.
    #[serde(with = "crate::task::range")]
    pub healthy_state_range: (f64, f64),
    /// Open bounds on the torso height.
    #[serde(with = "crate::task::range")]
    pub healthy_z_range: (f64, f64),
    /// Open bounds on the torso angle.
    #[serde(with = "crate::task::range")]
    pub healthy_angle_range: (f64, f64),
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Leave the x position out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: positions only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for HopperConfig {
    fn default() -> Self {
        HopperConfig {
            xml_file: "hopper.xml".into(),
            frame_skip: 4,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 1e-3,
            healthy_reward: 1.0,
            terminate_when_unhealthy: true,
            healthy_state_range: (-100.0, 100.0),
            healthy_z_range: (0.7, f64::INFINITY),
            healthy_angle_range: (-0.2, 0.2),
            reset_noise_scale: 5e-3,
            exclude_current_positions_from_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Hopper-v5: a one-legged planar hopper.
pub struct Hopper {
    config: HopperConfig,
}

impl Hopper {
    fn is_healthy(&self, sim: &Simulation) -> bool {
        let data = sim.data();
        let (z, angle) = (data.qpos()[1], data.qpos()[2]);
        let (lo, hi) = self.config.healthy_state_range;
        let state_ok = data.qpos()[2..]
            .iter()
            .chain(data.qvel())
            .all(|&v| lo < v && v < hi);
        state_ok
            && inside(z, self.config.healthy_z_range)
            && inside(angle, self.config.healthy_angle_range)
    }
}

impl Dynamics for Hopper {
    type Config = HopperConfig;
    const NAME: &'static str = "Hopper-v5";
    const METRICS: &'static [&'static str] = &["reward_forward", "reward_ctrl", "reward_survive"];
    const REWARD_THRESHOLD: Option<f64> = Some(3800.0);

    common_from_config!(HopperConfig);

    fn new(config: HopperConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        finite("healthy_reward", config.healthy_reward)?;
        ordered("healthy_state_range", config.healthy_state_range)?;
        ordered("healthy_z_range", config.healthy_z_range)?;
        ordered("healthy_angle_range", config.healthy_angle_range)?;
        Ok(Hopper { config })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        noisy_reset(
            sim,
            self.config.reset_noise_scale,
            VelocityNoise::Uniform,
            rng,
        )
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let skip = usize::from(self.config.exclude_current_positions_from_observation);
        observe_planar(sim, skip, Some(10.0), velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let forward = self.config.forward_reward_weight * forward_speed(sim, action);
        let healthy = self.is_healthy(sim);
        let survive = if healthy {
            self.config.healthy_reward
        } else {
            0.0
        };
        let ctrl = control_cost(self.config.ctrl_cost_weight, action);
        metrics.copy_from_slice(&[forward, -ctrl, survive]);
        Outcome {
            reward: forward + survive - ctrl,
            terminated: !healthy && self.config.terminate_when_unhealthy,
        }
    }
}

/// Configuration of Walker2d-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Walker2dConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward.
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Reward per step while healthy.
    pub healthy_reward: f64,
    /// End the episode when the walker is no longer healthy.
    pub terminate_when_unhealthy: bool,
    /// Open bounds on the torso height.
    #[serde(with = "crate::task::range")]
    pub healthy_z_range: (f64, f64),
    /// Open bounds on the torso angle.
    #[serde(with = "crate::task::range")]
    pub healthy_angle_range: (f64, f64),
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Leave the x position out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: positions only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for Walker2dConfig {
    fn default() -> Self {
        Walker2dConfig {
            xml_file: "walker2d_v5.xml".into(),
            frame_skip: 4,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 1e-3,
            healthy_reward: 1.0,
            terminate_when_unhealthy: true,
            healthy_z_range: (0.8, 2.0),
            healthy_angle_range: (-1.0, 1.0),
            reset_noise_scale: 5e-3,
            exclude_current_positions_from_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Walker2d-v5: a two-legged planar walker.
pub struct Walker2d {
    config: Walker2dConfig,
}

impl Dynamics for Walker2d {
    type Config = Walker2dConfig;
    const NAME: &'static str = "Walker2d-v5";
    const METRICS: &'static [&'static str] = &["reward_forward", "reward_ctrl", "reward_survive"];

    common_from_config!(Walker2dConfig);

    fn new(config: Walker2dConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        finite("healthy_reward", config.healthy_reward)?;
        ordered("healthy_z_range", config.healthy_z_range)?;
        ordered("healthy_angle_range", config.healthy_angle_range)?;
        Ok(Walker2d { config })
    }

    fn reset_state(&mut self, sim: &Simulation, rng: &mut EpisodeRng) -> (Vec<f64>, Vec<f64>) {
        noisy_reset(
            sim,
            self.config.reset_noise_scale,
            VelocityNoise::Uniform,
            rng,
        )
    }

    fn observe(&self, sim: &Simulation, velocities: bool, out: &mut Vec<f32>) {
        let skip = usize::from(self.config.exclude_current_positions_from_observation);
        observe_planar(sim, skip, Some(10.0), velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let forward = self.config.forward_reward_weight * forward_speed(sim, action);
        let qpos = sim.data().qpos();
        let healthy = inside(qpos[1], self.config.healthy_z_range)
            && inside(qpos[2], self.config.healthy_angle_range);
        let survive = if healthy {
            self.config.healthy_reward
        } else {
            0.0
        };
        let ctrl = control_cost(self.config.ctrl_cost_weight, action);
        metrics.copy_from_slice(&[forward, -ctrl, survive]);
        Outcome {
            reward: forward + survive - ctrl,
            terminated: !healthy && self.config.terminate_when_unhealthy,
        }
    }
}
