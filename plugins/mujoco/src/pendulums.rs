//! The cart-pole balancers of Gymnasium v5: InvertedPendulum (one pole) and
//! InvertedDoublePendulum (two poles), rewarded for every step the poles stay up.

use angora_plugin_api::PluginError;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::{
    Dynamics, EpisodeRng, Outcome, VelocityNoise, common_from_config, finite, noisy_reset,
    non_negative, push,
};

/// Configuration of InvertedPendulum-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InvertedPendulumConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Scale of the uniform reset noise on positions and velocities.
    pub reset_noise_scale: f64,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: cart position and pole angle only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for InvertedPendulumConfig {
    fn default() -> Self {
        InvertedPendulumConfig {
            xml_file: "inverted_pendulum.xml".into(),
            frame_skip: 2,
            reset_noise_scale: 0.01,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// InvertedPendulum-v5.
pub struct InvertedPendulum {
    config: InvertedPendulumConfig,
}

impl Dynamics for InvertedPendulum {
    type Config = InvertedPendulumConfig;
    const NAME: &'static str = "InvertedPendulum-v5";
    const METRICS: &'static [&'static str] = &["reward_survive"];
    const REWARD_THRESHOLD: Option<f64> = Some(950.0);

    common_from_config!(InvertedPendulumConfig);

    fn new(config: InvertedPendulumConfig, sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        if sim.nq() < 2 {
            return Err(PluginError::invalid_config(
                "the model needs a cart and a pole joint (nq >= 2)",
            ));
        }
        Ok(InvertedPendulum { config })
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
        push(out, sim.data().qpos().iter().copied());
        if velocities {
            push(out, sim.data().qvel().iter().copied());
        }
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        sim.advance(action);
        let terminated = !sim.state_is_finite() || sim.data().qpos()[1].abs() > 0.2;
        let reward = if terminated { 0.0 } else { 1.0 };
        metrics[0] = reward;
        Outcome { reward, terminated }
    }
}

/// Configuration of InvertedDoublePendulum-v5 (Gymnasium's keys and defaults).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InvertedDoublePendulumConfig {
    /// MJCF file (a name in Gymnasium's asset directory, or a path).
    pub xml_file: String,
    /// Physics steps per environment step.
    pub frame_skip: u32,
    /// Reward per step while the tip is above height 1.
    pub healthy_reward: f64,
    /// Scale of the reset noise (uniform on positions, normal on velocities).
    pub reset_noise_scale: f64,
    /// Steps after which an episode is truncated.
    pub max_episode_steps: u32,
    /// Observe velocities (false: cart position, pole angles and constraint force only).
    pub velocities: bool,
    /// `qpos` then `qvel` to start every episode from (replaying reference rollouts).
    pub initial_state: Option<Vec<f64>>,
}

impl Default for InvertedDoublePendulumConfig {
    fn default() -> Self {
        InvertedDoublePendulumConfig {
            xml_file: "inverted_double_pendulum.xml".into(),
            frame_skip: 5,
            healthy_reward: 10.0,
            reset_noise_scale: 0.1,
            max_episode_steps: 1000,
            velocities: true,
            initial_state: None,
        }
    }
}

/// InvertedDoublePendulum-v5.
pub struct InvertedDoublePendulum {
    config: InvertedDoublePendulumConfig,
}

impl Dynamics for InvertedDoublePendulum {
    type Config = InvertedDoublePendulumConfig;
    const NAME: &'static str = "InvertedDoublePendulum-v5";
    const METRICS: &'static [&'static str] =
        &["reward_survive", "distance_penalty", "velocity_penalty"];
    const REWARD_THRESHOLD: Option<f64> = Some(9100.0);

    common_from_config!(InvertedDoublePendulumConfig);

    fn new(config: InvertedDoublePendulumConfig, sim: &Simulation) -> Result<Self, PluginError> {
        non_negative("reset_noise_scale", config.reset_noise_scale)?;
        finite("healthy_reward", config.healthy_reward)?;
        if sim.nq() < 3 || sim.model().ffi().nsite < 1 {
            return Err(PluginError::invalid_config(
                "the model needs a cart and two pole joints (nq >= 3) and a tip site",
            ));
        }
        Ok(InvertedDoublePendulum { config })
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
        let angles = &data.qpos()[1..];
        push(out, [data.qpos()[0]]);
        push(out, angles.iter().map(|a| a.sin()));
        push(out, angles.iter().map(|a| a.cos()));
        if velocities {
            push(out, data.qvel().iter().map(|v| v.clamp(-10.0, 10.0)));
        }
        push(out, [data.qfrc_constraint()[0].clamp(-10.0, 10.0)]);
    }

    fn step(&mut self, sim: &mut Simulation, action: &[f32], metrics: &mut [f64]) -> Outcome {
        sim.advance(action);
        let data = sim.data();
        let [x, _, y] = data.site_xpos()[0];
        let (v1, v2) = (data.qvel()[1], data.qvel()[2]);
        let terminated = y <= 1.0;
        let distance_penalty = 0.01 * x * x + (y - 2.0).powi(2);
        let velocity_penalty = 1e-3 * v1 * v1 + 5e-3 * v2 * v2;
        let alive = if terminated {
            0.0
        } else {
            self.config.healthy_reward
        };
        metrics.copy_from_slice(&[alive, -distance_penalty, -velocity_penalty]);
        Outcome {
            reward: alive - distance_penalty - velocity_penalty,
            terminated,
        }
    }
}
