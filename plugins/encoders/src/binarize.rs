//! Binarisation of senses, for example touch readings into contact / no contact.

use angora_plugin_api::{Component, PluginError, Sensation, SensationEncoder, SenseSpec};
use serde::{Deserialize, Serialize};

/// Configuration of the binarize encoder.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BinarizeConfig {
    /// Values strictly above this become 1, the rest 0.
    pub threshold: f32,
    /// The senses to binarise; the others pass through unchanged.
    pub senses: Vec<String>,
}

impl Default for BinarizeConfig {
    fn default() -> Self {
        BinarizeConfig {
            threshold: 0.0,
            senses: vec!["touch".into()],
        }
    }
}

/// The binarize encoder.
pub struct Binarize {
    config: BinarizeConfig,
    /// Per input buffer: binarise it?
    selected: Vec<bool>,
}

impl Component for Binarize {
    type Config = BinarizeConfig;
}

impl SensationEncoder for Binarize {
    fn new(config: BinarizeConfig) -> Result<Self, PluginError> {
        if !config.threshold.is_finite() {
            return Err(PluginError::invalid_config("threshold must be finite"));
        }
        if config.senses.is_empty() {
            return Err(PluginError::invalid_config(
                "senses must name at least one sense",
            ));
        }
        Ok(Binarize {
            config,
            selected: Vec::new(),
        })
    }

    fn configure(&mut self, inputs: &[SenseSpec]) -> Result<Vec<SenseSpec>, PluginError> {
        self.selected = inputs
            .iter()
            .map(|s| self.config.senses.contains(&s.name))
            .collect();
        if !self.selected.contains(&true) {
            let available: Vec<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
            return Err(PluginError::unsupported(format!(
                "none of the senses {:?} is among the inputs {available:?}",
                self.config.senses
            )));
        }
        Ok(inputs.to_vec())
    }

    fn encode(&mut self, input: &Sensation, out: &mut Sensation) -> Result<(), PluginError> {
        for (i, (values, &selected)) in input.senses.iter().zip(&self.selected).enumerate() {
            let buffer = &mut out.senses[i];
            buffer.clear();
            if selected {
                let t = self.config.threshold;
                buffer.extend(values.iter().map(|&v| if v > t { 1.0 } else { 0.0 }));
            } else {
                buffer.extend_from_slice(values);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binarises_only_the_chosen_sense() {
        let mut enc = Binarize::new(BinarizeConfig::default()).unwrap();
        let outputs = enc
            .configure(&[SenseSpec::vector("touch", 3), SenseSpec::vector("goal", 2)])
            .unwrap();
        assert_eq!(outputs.len(), 2);
        let mut input = Sensation::with_senses(2);
        input.set(0, &[0.0, 0.2, -1.0]);
        input.set(1, &[0.5, -0.5]);
        let mut out = Sensation::with_senses(2);
        enc.encode(&input, &mut out).unwrap();
        assert_eq!(out.senses[0].as_slice(), &[0.0, 1.0, 0.0]);
        assert_eq!(out.senses[1].as_slice(), &[0.5, -0.5]);
    }

    #[test]
    fn refuses_inputs_without_the_chosen_sense() {
        let mut enc = Binarize::new(BinarizeConfig::default()).unwrap();
        assert!(
            enc.configure(&[SenseSpec::vector("proprioception", 4)])
                .is_err()
        );
    }
}
