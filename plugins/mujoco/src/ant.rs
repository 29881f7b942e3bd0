//! Ant-v5: a four-legged walker rewarded for its speed along x, with control and contact costs
//! and a survival reward while its torso stays within a height range.

use angora_plugin_api::PluginError;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::{
    Dynamics, EpisodeRng, Outcome, VelocityNoise, common_from_config, control_cost, finite,
    noisy_reset, non_negative, ordered, push,
};

/// A body named by its id or its name in the model.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum BodyRef {
    /// The body's id.
    Id(usize),
    /// The body's name.
    Name(String),
}

/// Configuration of Ant-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AntConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward.
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the quadratic cost of the clipped contact forces.
    pub contact_cost_weight: f64,
    /// Reward per step while healthy.
    pub healthy_reward: f64,
    /// The body whose x-y motion is rewarded.
    pub main_body: BodyRef,
    /// End the episode when the ant is no longer healthy.
    pub terminate_when_unhealthy: bool,
    /// Closed bounds on the torso height.
    #[serde(with = "crate::task::range")]
    pub healthy_z_range: (f64, f64),
    /// Contact forces are clipped to this range in observations and costs.
    #[serde(with = "crate::task::range")]
    pub contact_force_range: (f64, f64),
    /// Scale of the reset noise (uniform on positions, normal on velocities).
    pub reset_noise_scale: f64,
    /// Leave the x and y positions out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Append the clipped contact forces of every body but the world to the observation.
    pub include_cfrc_ext_in_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: positions and contact forces only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for AntConfig {
    fn default() -> Self {
        AntConfig {
            xml_file: "ant.xml".into(),
            frame_skip: 5,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 0.5,
            contact_cost_weight: 5e-4,
            healthy_reward: 1.0,
            main_body: BodyRef::Id(1),
            terminate_when_unhealthy: true,
            healthy_z_range: (0.2, 1.0),
            contact_force_range: (-1.0, 1.0),
            reset_noise_scale: 0.1,
            exclude_current_positions_from_observation: true,
            include_cfrc_ext_in_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Ant-v5.
pub struct Ant {
    config: AntConfig,
    main_body: usize,
}

impl Ant {
    fn main_xy(&self, sim: &Simulation) -> [f64; 2] {
        let p = sim.data().xpos()[self.main_body];
        [p[0], p[1]]
    }

    fn clipped_contact_forces<'a>(&self, sim: &'a Simulation) -> impl Iterator<Item = f64> + 'a {
        let (lo, hi) = self.config.contact_force_range;
        sim.data()
            .cfrc_ext()
            .iter()
            .flatten()
            .map(move |f| f.clamp(lo, hi))
    }
}

impl Dynamics for Ant {
    type Config = AntConfig;
    const NAME: &'static str = "Ant-v5";
    const METRICS: &'static [&'static str] = &[
        "reward_forward",
        "reward_ctrl",
        "reward_contact",
        "reward_survive",
    ];
    const REWARD_THRESHOLD: Option<f64> = Some(6000.0);

    common_from_config!(AntConfig);

    fn new(config: AntConfig, sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("contact_cost_weight", config.contact_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        finite("healthy_reward", config.healthy_reward)?;
        ordered("healthy_z_range", config.healthy_z_range)?;
        ordered("contact_force_range", config.contact_force_range)?;
        let bodies = sim.model().ffi().nbody as usize;
        let main_body = match &config.main_body {
            BodyRef::Id(id) if *id < bodies => *id,
            BodyRef::Id(id) => {
                return Err(PluginError::invalid_config(format!(
                    "main_body {id} is not a body id (the model has {bodies} bodies)"
                )));
            }
            BodyRef::Name(name) => sim.body_id(name)?,
        };
        Ok(Ant { config, main_body })
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
        let data = sim.data();
        let skip = 2 * usize::from(self.config.exclude_current_positions_from_observation);
        push(out, data.qpos()[skip..].iter().copied());
        if velocities {
            push(out, data.qvel().iter().copied());
        }
        if self.config.include_cfrc_ext_in_observation {
            // Every body but the world body (id 0).
            push(out, self.clipped_contact_forces(sim).skip(6));
        }
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let before = self.main_xy(sim);
        sim.advance(action);
        let after = self.main_xy(sim);
        let x_velocity = (after[0] - before[0]) / sim.dt();
        let forward = x_velocity * self.config.forward_reward_weight;
        let z = sim.data().qpos()[2];
        let (lo, hi) = self.config.healthy_z_range;
        let healthy = sim.state_is_finite() && lo <= z && z <= hi;
        let survive = if healthy {
            self.config.healthy_reward
        } else {
            0.0
        };
        let ctrl = control_cost(self.config.ctrl_cost_weight, action);
        let contact = self.config.contact_cost_weight
            * self.clipped_contact_forces(sim).map(|f| f * f).sum::<f64>();
        metrics.copy_from_slice(&[forward, -ctrl, -contact, survive]);
        Outcome {
            reward: (forward + survive) - (ctrl + contact),
            terminated: !healthy && self.config.terminate_when_unhealthy,
        }
    }
}
