//! The PPO update joins the plugin distribution's analytic gradients to burn's autodiff through
//! a surrogate term (docs/decisions/0002-ppo-on-burn.md). This checks the result against the
//! same loss written directly in burn: the parameter gradients must agree.

use angora_host::{
    model,
    nn::{Network, params},
    plugin::{Registry, SearchPath},
    train::{
        adam::Adam,
        config::{self, TrainConfig},
        ppo::{Batch, Learner},
    },
};
use angora_plugin_api::{ActionSpace, ModelRequest, SenseSpec};
use angora_tests::{numbers, profile_dir};
use burn::tensor::{Device, Int, Tensor, TensorData, activation::log_softmax};
use serde_json::Value;

#[test]
fn joined_gradients_equal_the_direct_loss_gradient() {
    let registry = Registry::load(&SearchPath::only([profile_dir()]));
    let mut distribution = registry.distribution("categorical", &Value::Null).unwrap();
    let space = ActionSpace::Discrete { n: 3 };
    let head = distribution.bind(&space).unwrap();
    let inputs = vec![SenseSpec::vector("proprioception", 5)];
    let request = ModelRequest {
        inputs: inputs.clone(),
        policy_params: head.param_size() as u32,
    };
    let spec = registry
        .model("simple", &Value::Null)
        .unwrap()
        .build(&request)
        .unwrap();
    let checked = model::check(&spec, &inputs, &head).unwrap();
    let device = Device::flex().autodiff();
    let net = Network::new(&checked, &head, 11, &device).unwrap();
    let flat = params::values(&net);
    let learner = Learner {
        net: net.clone(),
        params: flat.clone(),
        adam: Adam::new(flat.len(), 1e-5),
        device: device.clone(),
    };

    let rows = 24;
    let observations = numbers(1, rows * 5);
    let actions: Vec<f32> = numbers(2, rows)
        .iter()
        .map(|v| ((v + 1.0) * 1.5).floor().min(2.0))
        .collect();
    // Old log-probabilities: the current ones shifted by up to +-0.5, so that some ratios fall
    // outside the clipping range.
    let x = Tensor::<2>::from_data(TensorData::new(observations.clone(), [rows, 5]), &device);
    let action_index = Tensor::<2, Int>::from_data(
        TensorData::new(
            actions.iter().map(|&a| a as i64).collect::<Vec<_>>(),
            [rows, 1],
        ),
        &device,
    );
    let (p, _) = net.forward(std::slice::from_ref(&x));
    let current: Vec<f32> = log_softmax(p, 1)
        .gather(1, action_index.clone())
        .reshape([rows])
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let old_log_probs: Vec<f32> = current
        .iter()
        .zip(numbers(3, rows))
        .map(|(c, n)| c + 0.5 * n)
        .collect();
    let advantages = numbers(4, rows);
    let returns = numbers(5, rows);

    let batch = Batch {
        inputs: vec![observations],
        sizes: vec![5],
        actions: actions.clone(),
        action_dim: 1,
        log_probs: old_log_probs.clone(),
        values: vec![0.0; rows],
        advantages: advantages.clone(),
        returns: returns.clone(),
        sequences: None,
    };
    let mut base = config::base_config();
    config::merge(
        &mut base,
        serde_json::json!({"ppo": {"entropy_coef": 0.05, "value_coef": 0.7, "clip": 0.2}}),
    );
    let train_config: TrainConfig = config::finish(base).unwrap();
    let all: Vec<usize> = (0..rows).collect();
    let (joined, stats, _) = learner
        .loss_gradients(&batch, &all, None, &distribution, &train_config.ppo)
        .unwrap();
    assert!(
        stats.clip_fraction > 0.0 && stats.clip_fraction < 1.0,
        "some but not all ratios clipped: {}",
        stats.clip_fraction
    );

    // The same loss, all in burn.
    let (p, v) = net.forward(&[x]);
    let log_probs_all = log_softmax(p, 1);
    let log_probs = log_probs_all
        .clone()
        .gather(1, action_index)
        .reshape([rows]);
    let tensor =
        |values: Vec<f32>| Tensor::<1>::from_data(TensorData::new(values, [rows]), &device);
    let ratio = (log_probs - tensor(old_log_probs)).exp();
    let advantage = tensor(advantages);
    let surrogate = (ratio.clone() * advantage.clone()).min_pair(ratio.clamp(0.8, 1.2) * advantage);
    let policy_loss = -surrogate.mean();
    let entropy = -(log_probs_all.clone().exp() * log_probs_all)
        .sum_dim(1)
        .mean();
    let value_loss = (v - tensor(returns)).square().mean() * 0.5;
    let total = policy_loss + value_loss * 0.7 - entropy * 0.05;
    let reference = params::gradients(&net, &total.backward());

    assert_eq!(joined.len(), reference.len());
    let scale = reference.iter().fold(0f32, |m, g| m.max(g.abs()));
    assert!(scale > 1e-3, "the gradient is not trivially zero");
    for (i, (a, b)) in joined.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "parameter {i}: joined {a}, direct {b}"
        );
    }
}
