//! Every kind of shipped component does what its kind promises, through the real plugin
//! boundary (the libraries are loaded into this test process by the host's registry).

use std::sync::OnceLock;

use angora_host::{
    model,
    nn::{Network, Sequence, params},
    plugin::{Registry, RegistryError, SearchPath},
};
use angora_plugin_api::{
    ActionSpace, DType, ErrorKind, ModelRequest, Sensation, SenseSpec, StepOutput,
};
use angora_tests::{PluginDir, fixture, numbers, profile_dir};
use burn::tensor::{Device, Tensor, TensorData};
use serde_json::{Value, json};

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<(PluginDir, Registry)> = OnceLock::new();
    let (_, registry) = REGISTRY.get_or_init(|| {
        // The shipped plugins, plus the two fixtures these tests need (the fixture directory
        // also holds broken libraries, which the loading tests cover).
        let fixtures = PluginDir::new();
        fixtures.add(&fixture("echo"));
        fixtures.add(&fixture("panicky"));
        let registry = Registry::load(&SearchPath::only([
            profile_dir(),
            fixtures.path().to_path_buf(),
        ]));
        assert!(registry.problems().is_empty(), "{:?}", registry.problems());
        (fixtures, registry)
    });
    registry
}

#[test]
fn a_task_resets_and_steps_to_the_end_of_an_episode() {
    let mut task = registry().task("CartPole-v1", &Value::Null, None).unwrap();
    assert_eq!(task.spec().senses[0].shape, vec![4]);
    let mut obs = Sensation::with_senses(1);
    task.reset(Some(3), &mut obs).unwrap();
    let first = obs.senses[0].to_vec();
    let mut out = StepOutput::default();
    let mut steps = 0;
    while !(out.terminated || out.truncated) {
        task.step(&[(steps % 2) as f32], &mut out).unwrap();
        steps += 1;
        assert!(steps <= 500);
    }
    assert!(steps > 1);
    // Same seed, same start.
    task.reset(Some(3), &mut obs).unwrap();
    assert_eq!(obs.senses[0].to_vec(), first);
}

#[test]
fn a_task_refuses_bad_actions_and_steps_outside_episodes() {
    let mut task = registry().task("CartPole-v1", &Value::Null, None).unwrap();
    let mut out = StepOutput::default();
    let err = task.step(&[0.0], &mut out).unwrap_err();
    assert!(err.to_string().contains("call reset first"), "{err}");
    task.reset(Some(0), &mut Sensation::default()).unwrap();
    for bad in [[2.0], [0.5], [f32::NAN]] {
        let err = task.step(&bad, &mut out).unwrap_err();
        assert_eq!(err.error.kind, ErrorKind::InvalidArgument, "{err}");
    }
    let err = task.step(&[0.0, 1.0], &mut out).unwrap_err();
    assert!(err.to_string().contains("2 values"), "{err}");

    let mut echo = registry().task("Echo-v0", &Value::Null, None).unwrap();
    echo.reset(None, &mut Sensation::default()).unwrap();
    let mut action = [0.0f32; 20];
    action[7] = f32::NAN;
    let err = echo.step(&action, &mut out).unwrap_err();
    assert!(err.to_string().contains("action[7] is NaN"), "{err}");
}

#[test]
fn configs_merge_over_defaults_and_unknown_keys_are_named() {
    let task = registry()
        .task("CartPole-v1", &json!({"max_episode_steps": 20}), None)
        .unwrap();
    assert_eq!(task.spec().max_episode_steps, Some(20));
    let novel = registry()
        .task("CartPoleNoVel-v1", &json!({}), None)
        .unwrap();
    assert_eq!(novel.spec().senses[0].shape, vec![2]);

    let err = registry()
        .task("CartPole-v1", &json!({"velocitiez": false}), None)
        .err()
        .unwrap();
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("velocitiez"), "{err}");
    let err = registry()
        .task("CartPole-v1", &json!({"max_episode_steps": "long"}), None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("invalid type"), "{err}");
    let err = registry()
        .task("CartPole-v1", &json!({"max_episode_steps": 0}), None)
        .err()
        .unwrap();
    assert!(err.to_string().contains("at least 1"), "{err}");
}

#[test]
fn unknown_names_list_what_is_available() {
    let err = registry()
        .task("Cartpole", &Value::Null, None)
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(matches!(err, RegistryError::Unknown { .. }));
    assert!(
        message.contains("CartPole-v1") && message.contains("available tasks"),
        "{message}"
    );
    let err = registry()
        .distribution("CartPole-v1", &Value::Null)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("is a task, not a distribution"),
        "{err}"
    );
}

#[test]
fn a_distribution_binds_samples_and_scores() {
    let mut categorical = registry()
        .distribution("categorical", &Value::Null)
        .unwrap();
    let head = categorical.bind(&ActionSpace::Discrete { n: 3 }).unwrap();
    assert_eq!(head.param_size(), 3);
    let params = [0.0, 2.0, -1.0, 1.0, 1.0, 1.0];
    let (mut actions, mut log_probs) = ([0.0; 2], [0.0; 2]);
    categorical
        .sample(&params, 9, &mut actions, &mut log_probs)
        .unwrap();
    let (mut again, mut grad) = ([0.0; 2], [0.0; 6]);
    categorical
        .log_prob(&params, &actions, &mut again, &mut grad)
        .unwrap();
    assert!(
        log_probs
            .iter()
            .zip(again)
            .all(|(a, b)| (a - b).abs() < 1e-6)
    );
    // Rows of d log p / d logits sum to zero.
    assert!(
        grad.chunks(3)
            .all(|row| row.iter().sum::<f32>().abs() < 1e-6)
    );
    let mut entropy = [0.0; 2];
    categorical.entropy(&params, &mut entropy, &mut []).unwrap();
    assert!(
        (entropy[1] - 3f32.ln()).abs() < 1e-6,
        "uniform logits have entropy ln 3"
    );
    let err = categorical
        .sample(&params[..5], 0, &mut actions, &mut log_probs)
        .unwrap_err();
    assert!(err.to_string().contains("whole number of rows"), "{err}");

    let mut gaussian = registry()
        .distribution("gaussian", &json!({"init_log_std": -0.5}))
        .unwrap();
    let head = gaussian
        .bind(&ActionSpace::Box {
            low: vec![-1.0; 2],
            high: vec![1.0; 2],
        })
        .unwrap();
    assert_eq!(head.param_size(), 4);
    let mut mode = [0.0; 2];
    gaussian.mode(&[0.3, -0.2, 0.0, 0.0], &mut mode).unwrap();
    assert_eq!(mode, [0.3, -0.2]);
}

#[test]
fn a_distribution_refuses_a_space_it_does_not_fit() {
    let mut categorical = registry()
        .distribution("categorical", &Value::Null)
        .unwrap();
    let err = categorical
        .bind(&ActionSpace::Box {
            low: vec![-1.0],
            high: vec![1.0],
        })
        .unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::Unsupported);
    assert!(
        err.to_string().contains("categorical") && err.to_string().contains("discrete"),
        "{err}"
    );
}

#[test]
fn every_model_spec_compiles_for_a_task_and_a_distribution() {
    let task = registry().task("CartPole-v1", &Value::Null, None).unwrap();
    let mut categorical = registry()
        .distribution("categorical", &Value::Null)
        .unwrap();
    let head = categorical.bind(&task.spec().action_space).unwrap();
    let mut inputs = task.spec().senses.clone();
    inputs.push(SenseSpec::vector("asymmetric", 3));
    let request = ModelRequest {
        inputs: inputs.clone(),
        policy_params: head.param_size() as u32,
    };
    for name in ["simple", "deeper", "wider"] {
        for shared in [false, true] {
            let architecture = registry()
                .model(name, &json!({ "shared": shared }))
                .unwrap();
            let spec = architecture.build(&request).unwrap();
            let checked =
                model::check(&spec, &inputs, &head).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(checked.nodes[checked.policy_head].shape, vec![2]);
            assert_eq!(checked.nodes[checked.value_head].shape, vec![1]);
            assert!(!checked.nodes[checked.policy_head].reads_asymmetric);
            assert!(checked.nodes[checked.value_head].reads_asymmetric);
        }
    }
    let err = registry()
        .model("simple", &json!({"hidden": []}))
        .err()
        .unwrap();
    assert!(err.to_string().contains("hidden"), "{err}");
}

/// Compiles the `shadow` model for the ManipulateBlock senses with `vision`, a
/// multi-categorical head of 20 actuators x 11 bins, and runs 3 steps of 2 sequences through
/// it; returns the number of parameters.
fn compile_and_run_shadow(vision: SenseSpec) -> usize {
    let mut distribution = registry()
        .distribution("multi-categorical", &Value::Null)
        .unwrap();
    let head = distribution
        .bind(&ActionSpace::MultiDiscrete { nvec: vec![11; 20] })
        .unwrap();
    assert_eq!(head.param_size(), 220);
    let inputs = vec![
        vision,
        SenseSpec::vector("touch", 92),
        SenseSpec::vector("proprioception", 48),
        SenseSpec::vector("goal", 4),
        SenseSpec::vector("asymmetric", 25),
    ];
    let request = ModelRequest {
        inputs: inputs.clone(),
        policy_params: head.param_size() as u32,
    };
    let spec = registry()
        .model("shadow", &Value::Null)
        .unwrap()
        .build(&request)
        .unwrap();
    let checked = model::check(&spec, &inputs, &head).unwrap_or_else(|e| panic!("{e}"));
    assert!(!checked.nodes[checked.policy_head].reads_asymmetric);
    assert!(checked.nodes[checked.value_head].reads_asymmetric);
    assert!(checked.is_recurrent());
    let device = Device::flex();
    let net = Network::new(&checked, &head, 3, &device).unwrap();
    assert_eq!(net.state_sizes(), &[512]);

    let (time, batch) = (3, 2);
    let rows = time * batch;
    let tensors: Vec<Tensor<2>> = net
        .input_sizes()
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            let data = numbers(i as u64 + 1, rows * size);
            Tensor::from_data(TensorData::new(data, [rows, size]), &device)
        })
        .collect();
    let seq = Sequence {
        batch,
        state: net.zero_state(batch, &device),
        keep: None,
        truncate: None,
    };
    let (policy, value, state) = net.forward_sequence(&tensors, seq);
    assert_eq!(policy.dims(), [rows, 220]);
    assert_eq!(value.dims(), [rows]);
    assert_eq!(state[0].dims(), [batch, 512]);
    let finite = |t: Vec<f32>| t.iter().all(|x| x.is_finite());
    assert!(finite(policy.into_data().try_to_vec::<f32>().unwrap()));
    assert!(finite(value.into_data().try_to_vec::<f32>().unwrap()));
    params::values(&net).len()
}

#[test]
fn the_shadow_model_compiles_and_runs_on_the_manipulate_senses() {
    let vector = compile_and_run_shadow(SenseSpec::vector("vision", 7));
    assert_eq!(vector, 2_960_221);
    let image = compile_and_run_shadow(SenseSpec {
        name: "vision".into(),
        shape: vec![64, 64, 3],
        dtype: DType::F32,
    });
    assert_eq!(image, 3_331_901);
    let err = registry()
        .model("shadow-small", &Value::Null)
        .unwrap()
        .build(&ModelRequest {
            inputs: vec![SenseSpec::vector("touch", 92)],
            policy_params: 220,
        })
        .err()
        .unwrap();
    assert_eq!(err.error.kind, ErrorKind::Unsupported);
    assert!(err.to_string().contains("'proprioception'"), "{err}");
}

#[test]
fn an_encoder_transforms_sensations() {
    let mut encoder = registry()
        .encoder(
            "binarize",
            &json!({"senses": ["proprioception"], "threshold": 0.01}),
        )
        .unwrap();
    let task = registry().task("CartPole-v1", &Value::Null, None).unwrap();
    let outputs = encoder.configure(&task.spec().senses).unwrap();
    assert_eq!(outputs, task.spec().senses);
    let mut input = Sensation::with_senses(1);
    input.set(0, &[0.02, -0.3, 0.0, 0.5]);
    let mut out = Sensation::default();
    encoder.encode(&input, &mut out).unwrap();
    assert_eq!(out.senses[0].as_slice(), &[1.0, 0.0, 0.0, 1.0]);
    let mut wrong = registry().encoder("binarize", &Value::Null).unwrap();
    assert!(
        wrong.configure(&task.spec().senses).is_err(),
        "no touch sense to binarise"
    );
}

#[test]
fn a_body_describes_a_consistent_plant() {
    let body = registry()
        .body("point-mass", &json!({"max_force": 2.5}))
        .unwrap();
    let description = body.description();
    assert_eq!(description.actuators.len(), 2);
    assert_eq!(description.actuators[0].ctrl_range, [-2.5, 2.5]);
    assert!(
        description
            .sensors
            .iter()
            .all(|g| g.sense == "proprioception")
    );
    let err = registry()
        .task("CartPole-v1", &Value::Null, Some(description))
        .err()
        .unwrap();
    assert!(err.is_bad_input());
    assert!(err.to_string().contains("takes none"), "{err}");
}

#[test]
fn a_panicked_component_refuses_further_calls() {
    let mut task = registry()
        .task("PanicOnStep-v0", &Value::Null, None)
        .unwrap();
    assert!(
        task.ident()
            .plugin
            .ends_with("libangora_fixture_panicky.so")
    );
    task.reset(None, &mut Sensation::default()).unwrap();
    let err = task.step(&[0.0], &mut StepOutput::default()).unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::Panicked);
    let err = task.reset(None, &mut Sensation::default()).unwrap_err();
    assert_eq!(err.error.kind, ErrorKind::Poisoned, "{err}");
}
