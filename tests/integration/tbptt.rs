//! Truncated backpropagation through time (issue 4's acceptance tests (a) and (b)): the
//! recurrent PPO update on a hand-built batch of padded episodes, against the same loss written
//! directly in burn over each episode's whole sequence.

use angora_host::{
    model,
    nn::{Network, Sequence, params},
    plugin::{DistributionInstance, Registry, SearchPath},
    train::{
        adam::Adam,
        config::{self, PpoConfig, TrainConfig},
        ppo::{Batch, Learner, Sequences, Window},
    },
};
use angora_plugin_api::{ActionSpace, ModelRequest, SenseSpec};
use angora_tests::{numbers, profile_dir};
use burn::tensor::{Device, Int, Tensor, TensorData, activation::log_softmax};
use serde_json::Value;

const OBS: usize = 4;
const ACTIONS: u32 = 3;
/// The TBPTT length, at least as long as every episode below.
const L: usize = 8;
/// Steps per trajectory: two chunks.
const TIME: usize = 16;
/// Trajectories.
const SEQS: usize = 2;

/// An episode: trajectory, first step, length, and whether it continues from before the
/// cycle (its state then comes from the batch's initial memory).
struct Episode {
    seq: usize,
    start: usize,
    length: usize,
    continued: bool,
}

/// Trajectory 0: an episode of 5 steps (3 steps of padding), then one of 8. Trajectory 1: an
/// episode continued from the previous cycle (8 steps), then one of 6 (2 of padding).
fn episodes() -> Vec<Episode> {
    vec![
        Episode {
            seq: 0,
            start: 0,
            length: 5,
            continued: false,
        },
        Episode {
            seq: 0,
            start: 8,
            length: 8,
            continued: false,
        },
        Episode {
            seq: 1,
            start: 0,
            length: 8,
            continued: true,
        },
        Episode {
            seq: 1,
            start: 8,
            length: 6,
            continued: false,
        },
    ]
}

struct Fixture {
    registry: Registry,
    net: Network,
    device: Device,
    ppo: PpoConfig,
}

impl Fixture {
    fn new() -> Fixture {
        let registry = Registry::load(&SearchPath::only([profile_dir()]));
        let mut distribution = registry.distribution("categorical", &Value::Null).unwrap();
        let head = distribution
            .bind(&ActionSpace::Discrete { n: ACTIONS })
            .unwrap();
        let inputs = vec![SenseSpec::vector("proprioception", OBS as u32)];
        let request = ModelRequest {
            inputs: inputs.clone(),
            policy_params: head.param_size() as u32,
        };
        let config = serde_json::json!({"encoder": [16], "units": 12, "cell": "lstm"});
        let spec = registry
            .model("simple-lstm", &config)
            .unwrap()
            .build(&request)
            .unwrap();
        let checked = model::check(&spec, &inputs, &head).unwrap();
        let device = Device::flex().autodiff();
        let net = Network::new(&checked, &head, 7, &device).unwrap();
        let mut base = config::base_config();
        config::merge(
            &mut base,
            serde_json::json!({"ppo": {"entropy_coef": 0.05, "value_coef": 0.7, "clip": 0.2}}),
        );
        let train: TrainConfig = config::finish(base).unwrap();
        Fixture {
            registry,
            net,
            device,
            ppo: train.ppo,
        }
    }

    fn distribution(&self) -> DistributionInstance {
        let mut d = self
            .registry
            .distribution("categorical", &Value::Null)
            .unwrap();
        d.bind(&ActionSpace::Discrete { n: ACTIONS }).unwrap();
        d
    }

    fn learner(&self) -> Learner {
        let flat = params::values(&self.net);
        Learner {
            net: self.net.clone(),
            adam: Adam::new(flat.len(), 1e-5),
            params: flat,
            device: self.device.clone(),
        }
    }

    fn memory_size(&self) -> usize {
        self.net.state_sizes().iter().sum()
    }

    /// The batch: one block of two trajectories, step-major; padding rows hold zeros.
    fn batch(&self) -> Batch {
        let rows = TIME * SEQS;
        let row = |s: usize, t: usize| t * SEQS + s;
        let mut mask = vec![false; rows];
        let mut keep = vec![0.0f32; rows];
        for e in episodes() {
            for t in e.start..e.start + e.length {
                mask[row(e.seq, t)] = true;
                keep[row(e.seq, t)] = if t == e.start && !e.continued {
                    0.0
                } else {
                    1.0
                };
            }
        }
        let zero_padding = |mut data: Vec<f32>, width: usize| {
            for (r, &ok) in mask.iter().enumerate() {
                if !ok {
                    data[r * width..(r + 1) * width].fill(0.0);
                }
            }
            data
        };
        let actions: Vec<f32> = numbers(2, rows)
            .iter()
            .map(|v| ((v + 1.0) * 1.5).floor().min(2.0))
            .collect();
        let memory = self.memory_size();
        // Trajectory 1's episode comes from the previous cycle with a non-zero state.
        let mut initial_memory = vec![0.0; SEQS * memory];
        initial_memory[memory..].copy_from_slice(&numbers(9, memory));
        Batch {
            inputs: vec![zero_padding(numbers(1, rows * OBS), OBS)],
            sizes: vec![OBS],
            actions: zero_padding(actions, 1),
            action_dim: 1,
            // Old log-probabilities around ln(1/3), so that some ratios are clipped.
            log_probs: zero_padding(
                numbers(3, rows).iter().map(|n| -1.0986 + 0.5 * n).collect(),
                1,
            ),
            values: zero_padding(numbers(6, rows), 1),
            advantages: zero_padding(numbers(4, rows), 1),
            returns: zero_padding(numbers(5, rows), 1),
            sequences: Some(Sequences {
                block: SEQS,
                count: SEQS,
                time: TIME,
                mask,
                keep,
                initial_memory,
            }),
        }
    }

    /// The learner's gradient over one window of both trajectories, cut every `truncate` steps.
    fn tbptt_gradient(&self, batch: &Batch, truncate: usize) -> (Vec<f32>, f64) {
        let learner = self.learner();
        let seqs = batch.sequences.as_ref().unwrap();
        let trajectories = [0, 1];
        let rows: Vec<usize> = (0..TIME)
            .flat_map(|t| trajectories.iter().map(move |&s| seqs.row(s, t)))
            .collect();
        let window = Window {
            batch: SEQS,
            state: learner.initial_state(seqs, &trajectories),
            truncate,
        };
        let (grads, stats, _) = learner
            .loss_gradients(batch, &rows, Some(window), &self.distribution(), &self.ppo)
            .unwrap();
        (
            grads,
            stats.policy_loss + 0.7 * stats.value_loss - 0.05 * stats.entropy,
        )
    }

    /// The same loss in burn: every episode run on its own from its first step with full
    /// backpropagation through time, padding never seen.
    fn full_bptt_gradient(&self, batch: &Batch) -> Vec<f32> {
        let seqs = batch.sequences.as_ref().unwrap();
        let memory = self.memory_size();
        let sizes = self.net.state_sizes().to_vec();
        let (mut heads, mut values) = (Vec::new(), Vec::new());
        let picked = |data: &[f32], e: &Episode| -> Vec<f32> {
            (e.start..e.start + e.length)
                .map(|t| data[seqs.row(e.seq, t)])
                .collect()
        };
        let (mut actions, mut old, mut adv, mut ret) = (vec![], vec![], vec![], vec![]);
        for e in episodes() {
            let x: Vec<f32> = (e.start..e.start + e.length)
                .flat_map(|t| {
                    let r = seqs.row(e.seq, t);
                    batch.inputs[0][r * OBS..(r + 1) * OBS].to_vec()
                })
                .collect();
            let x = Tensor::<2>::from_data(TensorData::new(x, [e.length, OBS]), &self.device);
            let start = if e.continued {
                &seqs.initial_memory[e.seq * memory..(e.seq + 1) * memory]
            } else {
                &vec![0.0; memory][..]
            };
            let mut offset = 0;
            let state = sizes
                .iter()
                .map(|&n| {
                    let part = start[offset..offset + n].to_vec();
                    offset += n;
                    Tensor::<2>::from_data(TensorData::new(part, [1, n]), &self.device)
                })
                .collect();
            let seq = Sequence {
                batch: 1,
                state,
                keep: None,
                truncate: None,
            };
            let (p, v, _) = self.net.forward_sequence(&[x], seq);
            heads.push(p);
            values.push(v);
            actions.extend(picked(&batch.actions, &e));
            old.extend(picked(&batch.log_probs, &e));
            adv.extend(picked(&batch.advantages, &e));
            ret.extend(picked(&batch.returns, &e));
        }
        let n = actions.len();
        let column = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [n]), &self.device);
        let index = Tensor::<2, Int>::from_data(
            TensorData::new(
                actions.iter().map(|&a| a as i64).collect::<Vec<_>>(),
                [n, 1],
            ),
            &self.device,
        );
        let log_probs_all = log_softmax(Tensor::cat(heads, 0), 1);
        let log_probs = log_probs_all.clone().gather(1, index).reshape([n]);
        let ratio = (log_probs - column(old)).exp();
        let advantage = column(adv);
        let surrogate =
            (ratio.clone() * advantage.clone()).min_pair(ratio.clamp(0.8, 1.2) * advantage);
        let entropy = -(log_probs_all.clone().exp() * log_probs_all)
            .sum_dim(1)
            .mean();
        let value_loss = (Tensor::cat(values, 0) - column(ret)).square().mean() * 0.5;
        let total = -surrogate.mean() + value_loss * 0.7 - entropy * 0.05;
        params::gradients(&self.net, &total.backward())
    }
}

fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0f32, |m, g| m.max(g.abs()))
}

/// Acceptance test (b): with L at least the episode length, the TBPTT gradient equals the
/// full-BPTT gradient; with a shorter L it does not.
#[test]
fn tbptt_with_long_chunks_equals_full_bptt() {
    let fixture = Fixture::new();
    let batch = fixture.batch();
    let (tbptt, _) = fixture.tbptt_gradient(&batch, L);
    let reference = fixture.full_bptt_gradient(&batch);
    assert_eq!(tbptt.len(), reference.len());
    assert!(
        max_abs(&reference) > 1e-3,
        "the gradient is not trivially zero"
    );
    for (i, (a, b)) in tbptt.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "parameter {i}: TBPTT {a}, full BPTT {b}"
        );
    }
    // Cutting inside the episodes changes the recurrent weights' gradient.
    let (short, _) = fixture.tbptt_gradient(&batch, 2);
    let differs = short
        .iter()
        .zip(&reference)
        .any(|(a, b)| (a - b).abs() > 1e-4 + 1e-3 * b.abs());
    assert!(differs, "truncating every 2 steps must change the gradient");
}

/// Acceptance test (a): whatever masked (padding) positions hold changes neither the loss nor
/// the gradients.
#[test]
fn garbage_in_masked_positions_changes_nothing() {
    let fixture = Fixture::new();
    let clean = fixture.batch();
    let mut dirty = fixture.batch();
    let seqs = dirty.sequences.as_mut().unwrap();
    let padded: Vec<usize> = (0..seqs.mask.len()).filter(|&r| !seqs.mask[r]).collect();
    assert_eq!(padded.len(), 5, "the fixture has five padding steps");
    let garbage = [f32::NAN, 1e30, -7.5, f32::INFINITY, 123.0];
    for (k, &r) in padded.iter().enumerate() {
        let g = garbage[k % garbage.len()];
        seqs.keep[r] = g;
        dirty.inputs[0][r * OBS..(r + 1) * OBS].fill(g);
        dirty.actions[r] = 99.0 + k as f32;
        dirty.log_probs[r] = g;
        dirty.values[r] = g;
        dirty.advantages[r] = g;
        dirty.returns[r] = g;
    }
    let (a, loss_a) = fixture.tbptt_gradient(&clean, L);
    let (b, loss_b) = fixture.tbptt_gradient(&dirty, L);
    assert!(loss_a.is_finite());
    assert_eq!(
        loss_a.to_bits(),
        loss_b.to_bits(),
        "loss {loss_a} vs {loss_b}"
    );
    assert!(max_abs(&a) > 1e-3);
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x.to_bits(), y.to_bits(), "parameter {i}: {x} vs {y}");
    }
}
