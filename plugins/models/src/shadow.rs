//! AngoraPy's `shadow`: a recurrent actor-critic for the Shadow hand whose blocks are named
//! after brain regions (somatosensory, posterior parietal, prefrontal and motor cortex).
//!
//! Every block is applied at each time step; the only state is the recurrent layer after the
//! premotor cortex. The policy and value paths share the cortical trunk: the value path reads
//! the premotor state, MCC, IPS, LPFC and SSC (plus the `asymmetric` sense, when the task
//! provides it) through its own dense layers, and the policy head reads M1. Nothing that
//! depends on `asymmetric` reaches the policy head.

use angora_plugin_api::{
    ASYMMETRIC, Activation, Component, Layer, ModelArchitecture, ModelRequest, ModelSpec, Padding,
    PluginError, SenseSpec,
};
use serde::{Deserialize, Serialize};

use crate::recurrent::CellType;

/// One convolution of the visual encoder (no padding, the given activation).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConvConfig {
    /// Output channels.
    pub filters: u32,
    /// Square kernel size.
    pub kernel: u32,
    /// Stride in both directions.
    pub stride: u32,
}

/// The encoder applied when `vision` is an image (`[height, width, channels]`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct VisionEncoderConfig {
    /// Encode images with the convolutions and the dense layer below (true), or flatten them
    /// and pass the raw pixels on as the visual feature (false).
    pub enabled: bool,
    /// Convolutions, input side first (may be empty: flatten, then the dense layer).
    pub convs: Vec<ConvConfig>,
    /// Units of the dense layer after flattening: the size of the visual feature.
    pub units: u32,
}

impl Default for VisionEncoderConfig {
    fn default() -> Self {
        let conv = |filters, kernel| ConvConfig {
            filters,
            kernel,
            stride: 2,
        };
        VisionEncoderConfig {
            enabled: true,
            convs: vec![conv(32, 5), conv(32, 3), conv(64, 3)],
            units: 128,
        }
    }
}

/// Configuration of the `shadow` architecture: the units of each block.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ShadowConfig {
    /// Somatosensory cortex: dense layers on `[proprioception, touch]`, input side first.
    pub ssc: Vec<u32>,
    /// Superior parietal lobule: dense on `[vision, SSC]`.
    pub spl: u32,
    /// Inferior parietal lobule: dense on SPL.
    pub ipl: u32,
    /// Intraparietal sulcus: dense on `[IPL, SSC]`.
    pub ips: u32,
    /// Midcingulate cortex: dense on `[goal, SSC]`.
    pub mcc: u32,
    /// Lateral prefrontal cortex: dense on `[MCC, goal, vision]`.
    pub lpfc: u32,
    /// Premotor cortex: dense on `[LPFC, IPL]`, followed by the recurrent layer.
    pub pmc: u32,
    /// The recurrent cell after the premotor dense layer.
    pub cell: CellType,
    /// Units of the recurrent layer.
    pub recurrent_units: u32,
    /// Primary motor cortex: dense on `[recurrent, MCC, LPFC, SSC, IPS]`; the policy head
    /// reads it.
    pub m1: u32,
    /// Dense layers of the value path on `[recurrent, MCC, IPS, LPFC, SSC, asymmetric]`,
    /// input side first (may be empty: the value head reads that concatenation directly).
    pub value: Vec<u32>,
    /// Activation of every dense and convolutional layer.
    pub activation: Activation,
    /// The visual encoder for image vision (unused when vision is a vector or absent).
    pub vision_encoder: VisionEncoderConfig,
}

impl Default for ShadowConfig {
    fn default() -> Self {
        ShadowConfig {
            ssc: vec![128, 64],
            spl: 256,
            ipl: 256,
            ips: 128,
            mcc: 64,
            lpfc: 128,
            pmc: 512,
            cell: CellType::Gru,
            recurrent_units: 512,
            m1: 256,
            value: vec![512, 512],
            activation: Activation::Relu,
            vision_encoder: VisionEncoderConfig::default(),
        }
    }
}

impl ShadowConfig {
    /// The `shadow-small` preset: every width roughly quartered, a recurrent layer of 128.
    pub fn small() -> Self {
        let conv = |filters, kernel| ConvConfig {
            filters,
            kernel,
            stride: 2,
        };
        ShadowConfig {
            ssc: vec![32, 16],
            spl: 64,
            ipl: 64,
            ips: 32,
            mcc: 16,
            lpfc: 32,
            pmc: 128,
            cell: CellType::Gru,
            recurrent_units: 128,
            m1: 64,
            value: vec![128, 128],
            activation: Activation::Relu,
            vision_encoder: VisionEncoderConfig {
                enabled: true,
                convs: vec![conv(8, 5), conv(8, 3), conv(16, 3)],
                units: 32,
            },
        }
    }

    /// Checks that every width is at least 1 and every convolution is well formed.
    fn validate(&self) -> Result<(), PluginError> {
        let bad = |message: String| Err(PluginError::invalid_config(message));
        if self.ssc.is_empty() {
            return bad("ssc must list at least one layer (e.g. [128, 64])".into());
        }
        if let Some(i) = self.ssc.iter().position(|&u| u == 0) {
            return bad(format!("ssc[{i}] must have at least 1 unit"));
        }
        if let Some(i) = self.value.iter().position(|&u| u == 0) {
            return bad(format!("value[{i}] must have at least 1 unit"));
        }
        let widths = [
            ("spl", self.spl),
            ("ipl", self.ipl),
            ("ips", self.ips),
            ("mcc", self.mcc),
            ("lpfc", self.lpfc),
            ("pmc", self.pmc),
            ("recurrent_units", self.recurrent_units),
            ("m1", self.m1),
            ("vision_encoder.units", self.vision_encoder.units),
        ];
        if let Some((key, _)) = widths.iter().find(|(_, units)| *units == 0) {
            return bad(format!("{key} must be at least 1"));
        }
        for (i, conv) in self.vision_encoder.convs.iter().enumerate() {
            if conv.filters == 0 || conv.kernel == 0 || conv.stride == 0 {
                return bad(format!(
                    "vision_encoder.convs[{i}]: filters, kernel and stride must each be at least 1"
                ));
            }
        }
        Ok(())
    }
}

/// The `shadow` architecture.
pub struct Shadow {
    config: ShadowConfig,
}

impl Component for Shadow {
    type Config = ShadowConfig;
}

/// Concatenates `parts` under `name`, or passes a single part on without a node.
fn concat(spec: &mut ModelSpec, name: &str, parts: &[&str]) -> String {
    match parts {
        [one] => one.to_string(),
        _ => spec.add(name, Layer::Concat, parts),
    }
}

/// Adds an input node for `sense` (named after it), flattened when its rank is not one.
fn input(spec: &mut ModelSpec, sense: &SenseSpec) -> String {
    let node = spec.add(
        sense.name.as_str(),
        Layer::Input {
            sense: sense.name.clone(),
        },
        &[],
    );
    if sense.shape.len() == 1 {
        node
    } else {
        spec.add(format!("{}/flat", sense.name), Layer::Flatten, &[&node])
    }
}

impl Shadow {
    fn dense(&self, spec: &mut ModelSpec, name: &str, units: u32, inputs: &[&str]) -> String {
        let layer = Layer::Dense {
            units,
            activation: self.config.activation,
            init_gain: None,
        };
        spec.add(name, layer, inputs)
    }

    /// The visual feature: the encoded image, the raw vector, or the flattened image.
    fn vision(&self, spec: &mut ModelSpec, sense: &SenseSpec) -> Result<String, PluginError> {
        let encoder = &self.config.vision_encoder;
        let (height, width) = match sense.shape.as_slice() {
            [h, w, _] if encoder.enabled => (*h, *w),
            _ => return Ok(input(spec, sense)),
        };
        let mut last = spec.add(
            "vision",
            Layer::Input {
                sense: sense.name.clone(),
            },
            &[],
        );
        let (mut h, mut w) = (height, width);
        for (i, conv) in encoder.convs.iter().enumerate() {
            if h < conv.kernel || w < conv.kernel {
                return Err(PluginError::unsupported(format!(
                    "the vision image of {height}x{width} is too small for the visual encoder: \
                     vision_encoder.convs[{i}] has a kernel of {} but its input is {h}x{w} \
                     (use a larger image, fewer or smaller convolutions, or set \
                     vision_encoder.enabled = false)",
                    conv.kernel
                )));
            }
            h = (h - conv.kernel) / conv.stride + 1;
            w = (w - conv.kernel) / conv.stride + 1;
            let layer = Layer::Conv2d {
                filters: conv.filters,
                kernel: conv.kernel,
                stride: conv.stride,
                padding: Padding::Valid,
                activation: self.config.activation,
            };
            last = spec.add(format!("vision/conv{i}"), layer, &[&last]);
        }
        let flat = spec.add("vision/flat", Layer::Flatten, &[&last]);
        Ok(self.dense(spec, "vision/dense", encoder.units, &[&flat]))
    }
}

impl ModelArchitecture for Shadow {
    fn new(config: ShadowConfig) -> Result<Self, PluginError> {
        config.validate()?;
        Ok(Shadow { config })
    }

    fn build(&self, request: &ModelRequest) -> Result<ModelSpec, PluginError> {
        let c = &self.config;
        let sense = |name: &str| request.inputs.iter().find(|s| s.name == name);
        let Some(proprioception) = sense("proprioception") else {
            let available: Vec<&str> = request.inputs.iter().map(|s| s.name.as_str()).collect();
            return Err(PluginError::unsupported(format!(
                "the shadow model needs the 'proprioception' sense (its somatosensory cortex \
                 reads proprioception and, when present, touch), but the task provides only \
                 {available:?}"
            )));
        };

        let mut spec = ModelSpec::new();
        // Senses, in canonical order.
        let vision = sense("vision")
            .map(|s| self.vision(&mut spec, s))
            .transpose()?;
        let touch = sense("touch").map(|s| input(&mut spec, s));
        let proprioception = input(&mut spec, proprioception);
        let goal = sense("goal").map(|s| input(&mut spec, s));
        let asymmetric = sense(ASYMMETRIC).map(|s| input(&mut spec, s));
        let (vision, goal) = (vision.as_deref(), goal.as_deref());

        // Somatosensory cortex.
        let mut somatosensory = vec![proprioception.as_str()];
        somatosensory.extend(touch.as_deref());
        let mut ssc = concat(&mut spec, "ssc/input", &somatosensory);
        for (i, &units) in c.ssc.iter().enumerate() {
            ssc = self.dense(&mut spec, &format!("ssc/dense{i}"), units, &[&ssc]);
        }
        let ssc = ssc.as_str();

        // Posterior parietal cortex.
        let spl_in: Vec<&str> = vision.into_iter().chain([ssc]).collect();
        let spl_in = concat(&mut spec, "spl/input", &spl_in);
        let spl = self.dense(&mut spec, "spl", c.spl, &[&spl_in]);
        let ipl = self.dense(&mut spec, "ipl", c.ipl, &[&spl]);
        let ips_in = concat(&mut spec, "ips/input", &[&ipl, ssc]);
        let ips = self.dense(&mut spec, "ips", c.ips, &[&ips_in]);

        // Prefrontal cortex.
        let mcc_in: Vec<&str> = goal.into_iter().chain([ssc]).collect();
        let mcc_in = concat(&mut spec, "mcc/input", &mcc_in);
        let mcc = self.dense(&mut spec, "mcc", c.mcc, &[&mcc_in]);
        let lpfc_in: Vec<&str> = [mcc.as_str()]
            .into_iter()
            .chain(goal)
            .chain(vision)
            .collect();
        let lpfc_in = concat(&mut spec, "lpfc/input", &lpfc_in);
        let lpfc = self.dense(&mut spec, "lpfc", c.lpfc, &[&lpfc_in]);

        // Motor cortex.
        let pmc_in = concat(&mut spec, "pmc/input", &[&lpfc, &ipl]);
        let pmc = self.dense(&mut spec, "pmc", c.pmc, &[&pmc_in]);
        let units = c.recurrent_units;
        let cell = match c.cell {
            CellType::Rnn => Layer::SimpleRnn { units },
            CellType::Gru => Layer::Gru { units },
            CellType::Lstm => Layer::Lstm { units },
        };
        let recurrent = spec.add("pmc/recurrent", cell, &[&pmc]);
        let m1_in = concat(&mut spec, "m1/input", &[&recurrent, &mcc, &lpfc, ssc, &ips]);
        let m1 = self.dense(&mut spec, "m1", c.m1, &[&m1_in]);
        spec.add("policy/head", Layer::PolicyHead, &[&m1]);

        // The value path: the only reader of `asymmetric`.
        let mut value_in = vec![recurrent.as_str(), &mcc, &ips, &lpfc, ssc];
        value_in.extend(asymmetric.as_deref());
        let mut value = concat(&mut spec, "value/input", &value_in);
        for (i, &units) in c.value.iter().enumerate() {
            value = self.dense(&mut spec, &format!("value/dense{i}"), units, &[&value]);
        }
        spec.add("value/head", Layer::ValueHead, &[&value]);
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use angora_plugin_api::DType;

    fn image(h: u32, w: u32, c: u32) -> SenseSpec {
        SenseSpec {
            name: "vision".into(),
            shape: vec![h, w, c],
            dtype: DType::F32,
        }
    }

    /// The ManipulateBlock senses (surrogate vision, asymmetric critic information) and a
    /// multi-categorical head of 20 actuators x 11 bins.
    fn manipulate(vision: SenseSpec) -> ModelRequest {
        ModelRequest {
            inputs: vec![
                vision,
                SenseSpec::vector("touch", 92),
                SenseSpec::vector("proprioception", 48),
                SenseSpec::vector("goal", 4),
                SenseSpec::vector("asymmetric", 25),
            ],
            policy_params: 220,
        }
    }

    fn build(config: ShadowConfig, request: &ModelRequest) -> Result<ModelSpec, PluginError> {
        Shadow::new(config)?.build(request)
    }

    /// Output shapes and trainable parameters of every node, inferred the way the host does
    /// (GRU: input and hidden projections with a bias each; LSTM: one bias).
    fn shapes_and_params(
        spec: &ModelSpec,
        request: &ModelRequest,
    ) -> (HashMap<String, Vec<u32>>, u64) {
        let mut shapes: HashMap<String, Vec<u32>> = HashMap::new();
        let mut params = 0u64;
        for node in &spec.nodes {
            let ins: Vec<&Vec<u32>> = node.inputs.iter().map(|i| &shapes[i]).collect();
            let fan_in = || u64::from(ins[0].iter().product::<u32>());
            let shape = match &node.layer {
                Layer::Input { sense } => request
                    .inputs
                    .iter()
                    .find(|s| &s.name == sense)
                    .unwrap()
                    .shape
                    .clone(),
                Layer::Dense { units, .. } => {
                    params += (fan_in() + 1) * u64::from(*units);
                    vec![*units]
                }
                Layer::Conv2d {
                    filters,
                    kernel,
                    stride,
                    ..
                } => {
                    let [h, w, c] = ins[0].as_slice() else {
                        panic!("conv on {:?}", ins[0])
                    };
                    params += (u64::from(c * kernel * kernel) + 1) * u64::from(*filters);
                    vec![
                        (h - kernel) / stride + 1,
                        (w - kernel) / stride + 1,
                        *filters,
                    ]
                }
                Layer::Flatten => vec![ins[0].iter().product()],
                Layer::Concat => vec![ins.iter().map(|s| s[0]).sum()],
                Layer::SimpleRnn { units } | Layer::Gru { units } | Layer::Lstm { units } => {
                    let (gates, biases) = match node.layer {
                        Layer::SimpleRnn { .. } => (1, 1),
                        Layer::Gru { .. } => (3, 2),
                        _ => (4, 1),
                    };
                    let u = u64::from(*units);
                    params += gates * u * (fan_in() + u + biases);
                    vec![*units]
                }
                Layer::PolicyHead => {
                    params += (fan_in() + 1) * u64::from(request.policy_params);
                    vec![request.policy_params]
                }
                Layer::ValueHead => {
                    params += fan_in() + 1;
                    vec![1]
                }
                other => panic!("the shadow model does not use {other:?}"),
            };
            shapes.insert(node.name.clone(), shape);
        }
        (shapes, params)
    }

    /// The names of every node `name` depends on, itself included.
    fn ancestors(spec: &ModelSpec, name: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut stack = vec![name.to_string()];
        while let Some(n) = stack.pop() {
            if seen.insert(n.clone()) {
                let node = spec.nodes.iter().find(|x| x.name == n).unwrap();
                stack.extend(node.inputs.iter().cloned());
            }
        }
        seen
    }

    fn names(spec: &ModelSpec) -> Vec<&str> {
        spec.nodes.iter().map(|n| n.name.as_str()).collect()
    }

    #[test]
    fn the_manipulate_spec_has_the_brain_regions() {
        let request = manipulate(SenseSpec::vector("vision", 7));
        let spec = build(ShadowConfig::default(), &request).unwrap();
        assert_eq!(
            names(&spec),
            [
                "vision",
                "touch",
                "proprioception",
                "goal",
                "asymmetric",
                "ssc/input",
                "ssc/dense0",
                "ssc/dense1",
                "spl/input",
                "spl",
                "ipl",
                "ips/input",
                "ips",
                "mcc/input",
                "mcc",
                "lpfc/input",
                "lpfc",
                "pmc/input",
                "pmc",
                "pmc/recurrent",
                "m1/input",
                "m1",
                "policy/head",
                "value/input",
                "value/dense0",
                "value/dense1",
                "value/head",
            ]
        );
        let (shapes, params) = shapes_and_params(&spec, &request);
        let expected = [
            ("ssc/input", 140),
            ("spl/input", 71),
            ("ips/input", 320),
            ("mcc/input", 68),
            ("lpfc/input", 75),
            ("pmc/input", 384),
            ("pmc/recurrent", 512),
            ("m1/input", 896),
            ("m1", 256),
            ("value/input", 921),
        ];
        for (name, size) in expected {
            assert_eq!(shapes[name], vec![size], "{name}");
        }
        assert_eq!(params, 2_960_221);
        let inputs = |name: &str| &spec.nodes.iter().find(|n| n.name == name).unwrap().inputs;
        assert_eq!(
            inputs("m1/input"),
            &["pmc/recurrent", "mcc", "lpfc", "ssc/dense1", "ips"]
        );
        assert_eq!(
            inputs("value/input"),
            &[
                "pmc/recurrent",
                "mcc",
                "ips",
                "lpfc",
                "ssc/dense1",
                "asymmetric"
            ]
        );
        assert_eq!(inputs("lpfc/input"), &["mcc", "goal", "vision"]);
        assert_eq!(
            spec.nodes.iter().filter(|n| n.layer.is_recurrent()).count(),
            1
        );
    }

    #[test]
    fn asymmetric_reaches_only_the_value_path() {
        let spec = build(
            ShadowConfig::default(),
            &manipulate(SenseSpec::vector("vision", 7)),
        )
        .unwrap();
        let policy = ancestors(&spec, "policy/head");
        assert!(!policy.contains("asymmetric"), "{policy:?}");
        for sense in ["vision", "touch", "proprioception", "goal"] {
            assert!(policy.contains(sense), "the policy reads {sense}");
        }
        let readers: Vec<&str> = spec
            .nodes
            .iter()
            .filter(|n| n.inputs.iter().any(|i| i == "asymmetric"))
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(readers, ["value/input"]);
        assert!(ancestors(&spec, "value/head").contains("asymmetric"));
    }

    #[test]
    fn an_image_goes_through_the_visual_encoder() {
        let request = manipulate(image(64, 64, 3));
        let spec = build(ShadowConfig::default(), &request).unwrap();
        assert_eq!(
            &names(&spec)[..6],
            [
                "vision",
                "vision/conv0",
                "vision/conv1",
                "vision/conv2",
                "vision/flat",
                "vision/dense"
            ]
        );
        let (shapes, params) = shapes_and_params(&spec, &request);
        assert_eq!(shapes["vision/conv0"], vec![30, 30, 32]);
        assert_eq!(shapes["vision/conv1"], vec![14, 14, 32]);
        assert_eq!(shapes["vision/conv2"], vec![6, 6, 64]);
        assert_eq!(shapes["vision/flat"], vec![2304]);
        assert_eq!(shapes["spl/input"], vec![128 + 64]);
        assert_eq!(shapes["lpfc/input"], vec![64 + 4 + 128]);
        assert_eq!(params, 3_331_901);

        // Switched off, the image is flattened and read as it is.
        let mut config = ShadowConfig::default();
        config.vision_encoder.enabled = false;
        let spec = build(config, &request).unwrap();
        let (shapes, _) = shapes_and_params(&spec, &request);
        assert_eq!(shapes["spl/input"], vec![64 * 64 * 3 + 64]);
        assert!(!names(&spec).iter().any(|n| n.starts_with("vision/conv")));

        let err = build(ShadowConfig::default(), &manipulate(image(12, 12, 3))).unwrap_err();
        assert!(err.to_string().contains("too small"), "{err}");
    }

    #[test]
    fn missing_senses_drop_their_inputs_but_proprioception_is_required() {
        let request = ModelRequest {
            inputs: vec![
                SenseSpec::vector("proprioception", 48),
                SenseSpec::vector("goal", 15),
            ],
            policy_params: 20,
        };
        let spec = build(ShadowConfig::default(), &request).unwrap();
        let (shapes, _) = shapes_and_params(&spec, &request);
        let names = names(&spec);
        assert!(!names.contains(&"ssc/input") && !names.contains(&"spl/input"));
        assert_eq!(shapes["lpfc/input"], vec![64 + 15]);
        assert_eq!(shapes["value/input"], vec![512 + 64 + 128 + 128 + 64]);

        let request = ModelRequest {
            inputs: vec![
                SenseSpec::vector("vision", 7),
                SenseSpec::vector("touch", 92),
                SenseSpec::vector("goal", 4),
            ],
            policy_params: 220,
        };
        let err = build(ShadowConfig::default(), &request).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("'proprioception'") && message.contains("touch"),
            "{message}"
        );
    }

    #[test]
    fn the_small_preset_is_a_fourteenth_of_the_size() {
        let request = manipulate(SenseSpec::vector("vision", 7));
        let spec = build(ShadowConfig::small(), &request).unwrap();
        let (shapes, params) = shapes_and_params(&spec, &request);
        assert_eq!(shapes["pmc/recurrent"], vec![128]);
        assert_eq!(params, 203_389);
        let request = manipulate(image(64, 64, 3));
        let (_, params) =
            shapes_and_params(&build(ShadowConfig::small(), &request).unwrap(), &request);
        assert_eq!(params, 226_613);
    }

    #[test]
    fn the_cell_is_configurable() {
        let request = manipulate(SenseSpec::vector("vision", 7));
        for (cell, expected) in [
            (CellType::Rnn, Layer::SimpleRnn { units: 128 }),
            (CellType::Lstm, Layer::Lstm { units: 128 }),
        ] {
            let config = ShadowConfig {
                cell,
                ..ShadowConfig::small()
            };
            let spec = build(config, &request).unwrap();
            let node = spec
                .nodes
                .iter()
                .find(|n| n.name == "pmc/recurrent")
                .unwrap();
            assert_eq!(node.layer, expected);
        }
    }

    #[test]
    fn bad_configs_are_named() {
        type Edit = fn(&mut ShadowConfig);
        let cases: [(Edit, &str); 5] = [
            (|c| c.ssc.clear(), "ssc must list"),
            (|c| c.ssc[1] = 0, "ssc[1]"),
            (|c| c.recurrent_units = 0, "recurrent_units"),
            (|c| c.value[0] = 0, "value[0]"),
            (
                |c| c.vision_encoder.convs[2].stride = 0,
                "vision_encoder.convs[2]",
            ),
        ];
        for (edit, needle) in cases {
            let mut config = ShadowConfig::default();
            edit(&mut config);
            let err = Shadow::new(config).err().unwrap();
            assert!(err.to_string().contains(needle), "{err}");
        }
        let err = serde_json::from_value::<ShadowConfig>(serde_json::json!({"spl": 3, "sppl": 3}))
            .unwrap_err();
        assert!(err.to_string().contains("sppl"), "{err}");
    }
}
