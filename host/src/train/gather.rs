//! Experience gathering: each worker thread steps its environments in lockstep, with one
//! batched inference per step, and records what PPO needs.
//!
//! Episodes run on across cycles. Every reset is seeded from the run's seed, the environment's
//! index and its episode count, and each environment remembers the actions of its current
//! episode: a checkpoint records that much, and a resumed run replays it to put every
//! environment back into the exact state it had (tasks are deterministic given their seed and
//! actions). A cycle's data therefore depends only on the checkpointed state, which is what
//! makes a resumed run identical to an uninterrupted one.

use angora_plugin_api::{MetricAggregate, Sensation};

use super::{
    actor::Actor,
    normalize::{NormalizerState, normalize, scale_reward},
    setup::EnvStack,
};
use crate::plugin::{CallError, DistributionInstance};

/// A 64-bit mix (SplitMix64's finaliser) for deriving independent seeds.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A seed for `(run seed, purpose, a, b, c)`.
pub fn derive_seed(seed: u64, purpose: u64, a: u64, b: u64, c: u64) -> u64 {
    mix(mix(mix(mix(seed ^ purpose.wrapping_mul(0x2545_f491_4f6c_dd1d)) ^ a) ^ b) ^ c)
}

/// Seed purposes.
pub mod purpose {
    /// Environment resets at the start of a cycle.
    pub const RESET: u64 = 1;
    /// Action sampling.
    pub const SAMPLE: u64 = 2;
    /// Minibatch shuffling.
    pub const SHUFFLE: u64 = 3;
}

/// One finished episode.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Episode {
    /// Undiscounted return of the raw rewards.
    pub ret: f64,
    /// Steps.
    pub length: u32,
    /// Per-episode aggregates of the task's metrics.
    pub metrics: Vec<f64>,
}

/// What one worker gathered in one cycle, laid out step-major: row `t * envs + e`.
///
/// With a recurrent model, each environment's steps are cut into chunks of the TBPTT length;
/// when an episode ends inside a chunk, the rest of the chunk is padding: the environment waits
/// for the next chunk to start its next episode, and the padded rows are zero and masked out.
/// Padding uses up horizon budget, as in AngoraPy.
pub struct Rollout {
    /// Environments.
    pub envs: usize,
    /// Steps per environment.
    pub horizon: usize,
    /// Per network input, the normalised inputs of every row.
    pub inputs: Vec<Vec<f32>>,
    /// Actions, `action_dim` per row.
    pub actions: Vec<f32>,
    /// Log-probabilities of the actions when sampled.
    pub log_probs: Vec<f32>,
    /// Values of the states.
    pub values: Vec<f64>,
    /// Rewards used for training (normalised if configured).
    pub rewards: Vec<f64>,
    /// Terminal flags.
    pub terminated: Vec<bool>,
    /// Truncation flags.
    pub truncated: Vec<bool>,
    /// For truncated rows, the value of the state the episode was cut off in.
    pub truncation_values: Vec<f64>,
    /// Per environment, the value of the state after the last step.
    pub last_values: Vec<f64>,
    /// Episodes that ended during the cycle.
    pub episodes: Vec<Episode>,
    /// The normaliser statistics this worker added.
    pub increment: NormalizerState,
    /// Per row, whether it is a real step (false: TBPTT padding).
    pub mask: Vec<bool>,
    /// Per row, 0 where the recurrent state is reset before the step (an episode's first step),
    /// 1 where it carries over. Empty for feed-forward models.
    pub keep: Vec<f32>,
    /// Per environment, the recurrent state at the start of the cycle (zero for environments
    /// starting an episode), `envs x memory size`.
    pub initial_memory: Vec<f32>,
}

/// One environment with the state of its current episode.
pub struct EnvSlot {
    /// The environment.
    pub env: EnvStack,
    /// Its index across all workers.
    pub index: u64,
    /// What it observes now (encoded).
    pub current: Sensation,
    /// The episode's progress, checkpointed.
    pub state: EpisodeState,
}

/// The part of an environment's state a checkpoint records.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
pub struct EpisodeState {
    /// Episodes started so far (the current one included); it seeds the next reset.
    pub episode: u64,
    /// The actions of the current episode, in order.
    pub actions: Vec<f32>,
    /// Its undiscounted return so far.
    pub ret: f64,
    /// Its length so far.
    pub length: u32,
    /// Its metric aggregates so far.
    pub metrics: Vec<f64>,
    /// The discounted return the reward normaliser tracks.
    pub discounted: f64,
    /// A recurrent policy's state for the episode's next step (empty for feed-forward models).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory: Vec<f32>,
}

impl EnvSlot {
    fn reset_seed(seed: u64, index: u64, episode: u64) -> u64 {
        derive_seed(seed, purpose::RESET, index, episode, 0)
    }

    /// Starts the environment's first episode.
    pub fn start(
        env: EnvStack,
        index: u64,
        seed: u64,
        metrics: &[MetricAggregate],
    ) -> Result<EnvSlot, CallError> {
        let mut slot = EnvSlot {
            env,
            index,
            current: Sensation::default(),
            state: EpisodeState::fresh(0, metrics),
        };
        slot.current
            .clone_from(slot.env.reset(Some(Self::reset_seed(seed, index, 0)))?);
        slot.state.episode = 1;
        Ok(slot)
    }

    /// Puts the environment back into a checkpointed state by replaying the episode's actions.
    pub fn restore(
        env: EnvStack,
        index: u64,
        seed: u64,
        state: EpisodeState,
        action_dim: usize,
    ) -> Result<EnvSlot, RestoreError> {
        let mut slot = EnvSlot {
            env,
            index,
            current: Sensation::default(),
            state,
        };
        let episode = slot
            .state
            .episode
            .checked_sub(1)
            .ok_or(RestoreError::Inconsistent(index))?;
        slot.current.clone_from(
            slot.env
                .reset(Some(Self::reset_seed(seed, index, episode)))?,
        );
        let actions = slot.state.actions.clone();
        if action_dim == 0
            || !actions.len().is_multiple_of(action_dim)
            || actions.len() / action_dim != slot.state.length as usize
        {
            return Err(RestoreError::Inconsistent(index));
        }
        for action in actions.chunks(action_dim) {
            let step = slot.env.step(action)?;
            if step.terminated || step.truncated {
                return Err(RestoreError::Diverged(index));
            }
            slot.current.clone_from(step.sensation);
        }
        Ok(slot)
    }
}

/// Why an environment could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A plugin call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The recorded episode ended during the replay.
    #[error(
        "environment {0} ended its episode while its actions were replayed: the task is not deterministic given its seed and actions, so the run cannot resume exactly"
    )]
    Diverged(u64),
    /// The checkpoint's record is inconsistent.
    #[error("environment {0}'s checkpointed episode is inconsistent")]
    Inconsistent(u64),
}

impl EpisodeState {
    fn fresh(episode: u64, metrics: &[MetricAggregate]) -> EpisodeState {
        EpisodeState {
            episode,
            actions: Vec::new(),
            ret: 0.0,
            length: 0,
            metrics: metrics.iter().map(|a| a.initial()).collect(),
            discounted: 0.0,
            memory: Vec::new(),
        }
    }
}

/// What a worker needs besides its environments.
pub struct GatherContext<'a> {
    /// The run's seed.
    pub seed: u64,
    /// The cycle being gathered.
    pub cycle: u64,
    /// The worker's index.
    pub worker: u64,
    /// Steps per environment.
    pub horizon: usize,
    /// Normaliser statistics at the start of the cycle.
    pub normalizers: &'a NormalizerState,
    /// Clip of normalised values.
    pub clip: f64,
    /// Discount of the return that scales rewards.
    pub reward_discount: f64,
    /// How each metric is aggregated per episode.
    pub metric_aggregates: &'a [MetricAggregate],
    /// For recurrent models, the TBPTT chunk length (it divides the horizon).
    pub tbptt: Option<usize>,
}

/// Why gathering stopped.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// A plugin call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The task produced a value that is not a number.
    #[error(
        "the task returned a non-finite {what} at cycle {cycle} (reward or observation is NaN or infinite)"
    )]
    NonFinite {
        /// What was not finite.
        what: &'static str,
        /// The cycle.
        cycle: u64,
    },
}

/// The worker-side normaliser: the shared statistics plus this cycle's own samples.
struct LocalNorm {
    current: NormalizerState,
    increment: NormalizerState,
}

impl LocalNorm {
    /// Copies an environment's sense into `out`, updating statistics if `learn`, normalising.
    fn input(&mut self, slot: usize, raw: &[f32], out: &mut Vec<f32>, clip: f64, learn: bool) {
        let start = out.len();
        out.extend_from_slice(raw);
        if let Some(current) = &mut self.current.senses[slot] {
            if learn {
                current.add(raw);
                self.increment.senses[slot]
                    .as_mut()
                    .expect("shaped like current")
                    .add(raw);
            }
            normalize(&mut out[start..], current, clip);
        }
    }
}

/// Appends the normalised network inputs of `sensation` to `buffers`.
fn push_inputs(
    actor: &Actor,
    norm: &mut LocalNorm,
    sensation: &Sensation,
    buffers: &mut [Vec<f32>],
    clip: f64,
    learn: bool,
) {
    for (slot, (&sense, buffer)) in actor.slots.iter().zip(buffers.iter_mut()).enumerate() {
        norm.input(slot, &sensation.senses[sense], buffer, clip, learn);
    }
}

/// Refills `buffers` with the normalised network inputs of every environment's current state;
/// environments marked `waiting` contribute zeros (and no statistics).
fn current_inputs(
    actor: &Actor,
    norm: &mut LocalNorm,
    slots: &[EnvSlot],
    waiting: &[bool],
    buffers: &mut [Vec<f32>],
    clip: f64,
    learn: bool,
) {
    buffers.iter_mut().for_each(Vec::clear);
    for (slot, &wait) in slots.iter().zip(waiting) {
        if wait {
            for (buffer, &n) in buffers.iter_mut().zip(&actor.sizes) {
                buffer.resize(buffer.len() + n, 0.0);
            }
        } else {
            push_inputs(actor, norm, &slot.current, buffers, clip, learn);
        }
    }
}

/// Per environment, 0 if its episode starts with the next step (its recurrent state resets),
/// else 1.
fn keep_flags(slots: &[EnvSlot]) -> Vec<f32> {
    slots
        .iter()
        .map(|s| if s.state.length == 0 { 0.0 } else { 1.0 })
        .collect()
}

/// Runs one worker's environments for one cycle.
pub fn gather(
    ctx: &GatherContext<'_>,
    slots: &mut [EnvSlot],
    actor: &Actor,
    distribution: &DistributionInstance,
) -> Result<Rollout, GatherError> {
    let n_envs = slots.len();
    let horizon = ctx.horizon;
    let rows = n_envs * horizon;
    let inputs_count = actor.slots.len();
    let dim = actor.action_dim;
    let recurrent = ctx.tbptt.is_some();
    let memory_size = actor.memory_size();
    let mut norm = LocalNorm {
        current: ctx.normalizers.clone(),
        increment: ctx.normalizers.empty_like(),
    };
    // The recurrent state of every environment, side by side; zero where an episode starts.
    let mut memory = vec![0.0f32; n_envs * memory_size];
    if recurrent {
        for (e, slot) in slots.iter().enumerate() {
            if slot.state.length > 0 && slot.state.memory.len() == memory_size {
                memory[e * memory_size..(e + 1) * memory_size].copy_from_slice(&slot.state.memory);
            }
        }
    }
    let mut rollout = Rollout {
        envs: n_envs,
        horizon,
        inputs: actor
            .sizes
            .iter()
            .map(|&n| Vec::with_capacity(rows * n))
            .collect(),
        actions: Vec::with_capacity(rows * dim),
        log_probs: Vec::with_capacity(rows),
        values: Vec::with_capacity(rows),
        rewards: Vec::with_capacity(rows),
        terminated: Vec::with_capacity(rows),
        truncated: Vec::with_capacity(rows),
        truncation_values: vec![0.0; rows],
        last_values: Vec::new(),
        episodes: Vec::new(),
        increment: NormalizerState {
            senses: vec![],
            reward: None,
        },
        mask: Vec::with_capacity(rows),
        keep: Vec::with_capacity(if recurrent { rows } else { 0 }),
        initial_memory: memory.clone(),
    };
    // Rows cut off by truncation, with the normalised inputs of the state they ended in (and,
    // for recurrent models, the state they would have continued with).
    let mut cut_rows: Vec<usize> = Vec::new();
    let mut cut_inputs: Vec<Vec<f32>> = vec![Vec::new(); inputs_count];
    let mut cut_memory: Vec<f32> = Vec::new();

    let mut step_inputs: Vec<Vec<f32>> = vec![Vec::new(); inputs_count];
    let mut actions = vec![0.0f32; n_envs * dim];
    let mut log_probs = vec![0.0f32; n_envs];
    // Environments whose episode ended inside the current TBPTT chunk.
    let mut waiting = vec![false; n_envs];
    for t in 0..horizon {
        if ctx.tbptt.is_some_and(|l| t % l == 0) {
            waiting.fill(false);
        }
        current_inputs(
            actor,
            &mut norm,
            slots,
            &waiting,
            &mut step_inputs,
            ctx.clip,
            true,
        );
        if step_inputs.iter().any(|b| b.iter().any(|v| !v.is_finite())) {
            return Err(GatherError::NonFinite {
                what: "observation",
                cycle: ctx.cycle,
            });
        }
        let keep = keep_flags(slots);
        let (params, values) = actor.step(&step_inputs, n_envs, &mut memory, &keep);
        if recurrent {
            rollout.keep.extend_from_slice(&keep);
        }
        let seed = derive_seed(ctx.seed, purpose::SAMPLE, ctx.cycle, ctx.worker, t as u64);
        distribution.sample(&params, seed, &mut actions, &mut log_probs)?;
        for (buffer, step) in rollout.inputs.iter_mut().zip(&step_inputs) {
            buffer.extend_from_slice(step);
        }

        for (e, slot) in slots.iter_mut().enumerate() {
            let row = t * n_envs + e;
            if waiting[e] {
                rollout.actions.extend(std::iter::repeat_n(0.0, dim));
                rollout.log_probs.push(0.0);
                rollout.values.push(0.0);
                rollout.rewards.push(0.0);
                rollout.terminated.push(false);
                rollout.truncated.push(false);
                rollout.mask.push(false);
                continue;
            }
            let action = &actions[e * dim..(e + 1) * dim];
            rollout.actions.extend_from_slice(action);
            rollout.log_probs.push(log_probs[e]);
            rollout.values.push(f64::from(values[e]));
            rollout.mask.push(true);
            let step = slot.env.step(action)?;
            let (reward, terminated, truncated) = (step.reward, step.terminated, step.truncated);
            if !reward.is_finite() {
                return Err(GatherError::NonFinite {
                    what: "reward",
                    cycle: ctx.cycle,
                });
            }
            let state = &mut slot.state;
            state.actions.extend_from_slice(action);
            state.ret += reward;
            state.length += 1;
            for ((agg, kind), &v) in state
                .metrics
                .iter_mut()
                .zip(ctx.metric_aggregates)
                .zip(step.metrics)
            {
                *agg = kind.fold(*agg, v);
            }
            let training_reward = match (&mut norm.current.reward, &mut norm.increment.reward) {
                (Some(current), Some(increment)) => {
                    state.discounted = state.discounted * ctx.reward_discount + reward;
                    current.add(&[state.discounted as f32]);
                    increment.add(&[state.discounted as f32]);
                    scale_reward(reward, current, ctx.clip)
                }
                _ => reward,
            };
            rollout.rewards.push(training_reward);
            rollout.terminated.push(terminated);
            rollout.truncated.push(truncated && !terminated);
            if truncated && !terminated {
                cut_rows.push(row);
                push_inputs(
                    actor,
                    &mut norm,
                    step.sensation,
                    &mut cut_inputs,
                    ctx.clip,
                    false,
                );
                cut_memory.extend_from_slice(&memory[e * memory_size..(e + 1) * memory_size]);
            }
            if terminated || truncated {
                let finished = std::mem::replace(
                    state,
                    EpisodeState::fresh(state.episode, ctx.metric_aggregates),
                );
                let metrics: Vec<f64> = finished
                    .metrics
                    .iter()
                    .zip(ctx.metric_aggregates)
                    .map(|(&m, kind)| kind.finish(m, finished.length))
                    .collect();
                rollout.episodes.push(Episode {
                    ret: finished.ret,
                    length: finished.length,
                    metrics,
                });
                let seed = EnvSlot::reset_seed(ctx.seed, slot.index, slot.state.episode);
                slot.state.episode += 1;
                slot.current.clone_from(slot.env.reset(Some(seed))?);
                // The next episode starts with the next chunk.
                waiting[e] = ctx.tbptt.is_some_and(|l| (t + 1) % l != 0);
            } else {
                slot.current.clone_from(step.sensation);
            }
        }
    }

    // Bootstrap values: the states after the horizon, and the states episodes were cut in.
    // (The recurrent state is not advanced: the next cycle starts from the same state.)
    waiting.fill(false);
    current_inputs(
        actor,
        &mut norm,
        slots,
        &waiting,
        &mut step_inputs,
        ctx.clip,
        false,
    );
    let keep = keep_flags(slots);
    let (_, last) = actor.step(&step_inputs, n_envs, &mut memory.clone(), &keep);
    rollout.last_values = last.iter().map(|&v| f64::from(v)).collect();
    if !cut_rows.is_empty() {
        let n = cut_rows.len();
        let (_, cut_values) = actor.step(&cut_inputs, n, &mut cut_memory, &vec![1.0; n]);
        for (&row, &v) in cut_rows.iter().zip(&cut_values) {
            rollout.truncation_values[row] = f64::from(v);
        }
    }
    if recurrent {
        for (e, slot) in slots.iter_mut().enumerate() {
            slot.state.memory = if slot.state.length > 0 {
                memory[e * memory_size..(e + 1) * memory_size].to_vec()
            } else {
                Vec::new()
            };
        }
    }
    rollout.increment = norm.increment;
    Ok(rollout)
}
