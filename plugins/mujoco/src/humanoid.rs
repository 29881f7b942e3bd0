//! Humanoid-v5 (walk forward) and HumanoidStandup-v5 (get up from lying on the floor): the
//! same 3D humanoid, the same rich observation (positions, velocities, body inertias and
//! velocities, actuator forces, external contact forces), different rewards.

use angora_plugin_api::PluginError;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::{
    Dynamics, EpisodeRng, Outcome, VelocityNoise, common_from_config, finite, inside, noisy_reset,
    non_negative, ordered, push, squared_norm,
};

/// What a humanoid observation includes (Gymnasium's `include_*` keys).
struct Contents {
    exclude_positions: bool,
    cinert: bool,
    cvel: bool,
    qfrc_actuator: bool,
    cfrc_ext: bool,
}

fn observe_humanoid(sim: &Simulation, contents: &Contents, velocities: bool, out: &mut Vec<f32>) {
    let data = sim.data();
    let skip = 2 * usize::from(contents.exclude_positions);
    push(out, data.qpos()[skip..].iter().copied());
    if velocities {
        push(out, data.qvel().iter().copied());
    }
    // Per-body quantities skip the world body (id 0).
    if contents.cinert {
        push(out, data.cinert()[1..].iter().flatten().copied());
    }
    if contents.cvel && velocities {
        push(out, data.cvel()[1..].iter().flatten().copied());
    }
    if contents.qfrc_actuator {
        // The free joint's six degrees of freedom carry no actuator force.
        push(out, data.qfrc_actuator()[6..].iter().copied());
    }
    if contents.cfrc_ext {
        push(out, data.cfrc_ext()[1..].iter().flatten().copied());
    }
}

/// `weight * sum(cfrc_ext^2)`, clipped to `range`.
fn contact_cost(sim: &Simulation, weight: f64, (lo, hi): (f64, f64)) -> f64 {
    let cost = weight * squared_norm(sim.data().cfrc_ext().iter().flatten().copied());
    cost.clamp(lo, hi)
}

/// `weight * sum(ctrl^2)` over the controls as MuJoCo holds them (double precision).
fn ctrl_cost(sim: &Simulation, weight: f64) -> f64 {
    weight * squared_norm(sim.data().ctrl().iter().copied())
}

/// The x-y position of the whole body's centre of mass.
fn mass_center(sim: &Simulation) -> [f64; 2] {
    let masses = sim.model().body_mass();
    let total: f64 = masses.iter().sum();
    let mut xy = [0.0; 2];
    for (m, p) in masses.iter().zip(sim.data().xipos()) {
        xy[0] += m * p[0];
        xy[1] += m * p[1];
    }
    [xy[0] / total, xy[1] / total]
}

/// Configuration of Humanoid-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HumanoidConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward-speed reward (speed of the centre of mass along x).
    pub forward_reward_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the quadratic contact-force cost.
    pub contact_cost_weight: f64,
    /// The contact cost is clipped to this range.
    #[serde(with = "crate::task::range")]
    pub contact_cost_range: (f64, f64),
    /// Reward per step while healthy.
    pub healthy_reward: f64,
    /// End the episode when the humanoid is no longer healthy.
    pub terminate_when_unhealthy: bool,
    /// Open bounds on the torso height.
    #[serde(with = "crate::task::range")]
    pub healthy_z_range: (f64, f64),
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Observe the bodies' inertias.
    pub include_cinert_in_observation: bool,
    /// Observe the bodies' velocities.
    pub include_cvel_in_observation: bool,
    /// Observe the actuator forces.
    pub include_qfrc_actuator_in_observation: bool,
    /// Observe the external contact forces.
    pub include_cfrc_ext_in_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false also leaves out the bodies' velocities).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for HumanoidConfig {
    fn default() -> Self {
        HumanoidConfig {
            xml_file: "humanoid.xml".into(),
            frame_skip: 5,
            forward_reward_weight: 1.25,
            ctrl_cost_weight: 0.1,
            contact_cost_weight: 5e-7,
            contact_cost_range: (f64::NEG_INFINITY, 10.0),
            healthy_reward: 5.0,
            terminate_when_unhealthy: true,
            healthy_z_range: (1.0, 2.0),
            reset_noise_scale: 1e-2,
            exclude_current_positions_from_observation: true,
            include_cinert_in_observation: true,
            include_cvel_in_observation: true,
            include_qfrc_actuator_in_observation: true,
            include_cfrc_ext_in_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// Humanoid-v5.
pub struct Humanoid {
    config: HumanoidConfig,
    contents: Contents,
}

impl Dynamics for Humanoid {
    type Config = HumanoidConfig;
    const NAME: &'static str = "Humanoid-v5";
    const METRICS: &'static [&'static str] = &[
        "reward_survive",
        "reward_forward",
        "reward_ctrl",
        "reward_contact",
    ];

    common_from_config!(HumanoidConfig);

    fn new(config: HumanoidConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("contact_cost_weight", config.contact_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("forward_reward_weight", config.forward_reward_weight)?;
        finite("healthy_reward", config.healthy_reward)?;
        ordered("contact_cost_range", config.contact_cost_range)?;
        ordered("healthy_z_range", config.healthy_z_range)?;
        let contents = Contents {
            exclude_positions: config.exclude_current_positions_from_observation,
            cinert: config.include_cinert_in_observation,
            cvel: config.include_cvel_in_observation,
            qfrc_actuator: config.include_qfrc_actuator_in_observation,
            cfrc_ext: config.include_cfrc_ext_in_observation,
        };
        Ok(Humanoid { config, contents })
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
        observe_humanoid(sim, &self.contents, velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        let before = mass_center(sim);
        sim.advance(action);
        let after = mass_center(sim);
        let forward = self.config.forward_reward_weight * (after[0] - before[0]) / sim.dt();
        let healthy = inside(sim.data().qpos()[2], self.config.healthy_z_range);
        let survive = if healthy {
            self.config.healthy_reward
        } else {
            0.0
        };
        let ctrl = ctrl_cost(sim, self.config.ctrl_cost_weight);
        let contact = contact_cost(
            sim,
            self.config.contact_cost_weight,
            self.config.contact_cost_range,
        );
        metrics.copy_from_slice(&[survive, forward, -ctrl, -contact]);
        Outcome {
            reward: (forward + survive) - (ctrl + contact),
            terminated: !healthy && self.config.terminate_when_unhealthy,
        }
    }
}

/// Configuration of HumanoidStandup-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HumanoidStandupConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Weight of the height reward (torso height divided by the physics time step).
    pub uph_cost_weight: f64,
    /// Weight of the quadratic control cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the quadratic contact-force cost.
    pub impact_cost_weight: f64,
    /// The impact cost is clipped to this range.
    #[serde(with = "crate::task::range")]
    pub impact_cost_range: (f64, f64),
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Observe the bodies' inertias.
    pub include_cinert_in_observation: bool,
    /// Observe the bodies' velocities.
    pub include_cvel_in_observation: bool,
    /// Observe the actuator forces.
    pub include_qfrc_actuator_in_observation: bool,
    /// Observe the external contact forces.
    pub include_cfrc_ext_in_observation: bool,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false also leaves out the bodies' velocities).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for HumanoidStandupConfig {
    fn default() -> Self {
        HumanoidStandupConfig {
            xml_file: "humanoidstandup.xml".into(),
            frame_skip: 5,
            uph_cost_weight: 1.0,
            ctrl_cost_weight: 0.1,
            impact_cost_weight: 5e-7,
            impact_cost_range: (f64::NEG_INFINITY, 10.0),
            reset_noise_scale: 1e-2,
            exclude_current_positions_from_observation: true,
            include_cinert_in_observation: true,
            include_cvel_in_observation: true,
            include_qfrc_actuator_in_observation: true,
            include_cfrc_ext_in_observation: true,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// HumanoidStandup-v5.
pub struct HumanoidStandup {
    config: HumanoidStandupConfig,
    contents: Contents,
}

impl Dynamics for HumanoidStandup {
    type Config = HumanoidStandupConfig;
    const NAME: &'static str = "HumanoidStandup-v5";
    const METRICS: &'static [&'static str] = &["reward_linup", "reward_quadctrl", "reward_impact"];

    common_from_config!(HumanoidStandupConfig);

    fn new(config: HumanoidStandupConfig, _sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("ctrl_cost_weight", config.ctrl_cost_weight)?;
        non_negative("impact_cost_weight", config.impact_cost_weight)?;
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("uph_cost_weight", config.uph_cost_weight)?;
        ordered("impact_cost_range", config.impact_cost_range)?;
        let contents = Contents {
            exclude_positions: config.exclude_current_positions_from_observation,
            cinert: config.include_cinert_in_observation,
            cvel: config.include_cvel_in_observation,
            qfrc_actuator: config.include_qfrc_actuator_in_observation,
            cfrc_ext: config.include_cfrc_ext_in_observation,
        };
        Ok(HumanoidStandup { config, contents })
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
        observe_humanoid(sim, &self.contents, velocities, out);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        sim.advance(action);
        let uph = self.config.uph_cost_weight * sim.data().qpos()[2] / sim.timestep();
        let ctrl = ctrl_cost(sim, self.config.ctrl_cost_weight);
        let impact = contact_cost(
            sim,
            self.config.impact_cost_weight,
            self.config.impact_cost_range,
        );
        metrics.copy_from_slice(&[uph, -ctrl, -impact]);
        Outcome {
            reward: uph - ctrl - impact + 1.0,
            terminated: false,
        }
    }
}
