//! Declarations of a policy distribution's head: how many parameters the network must produce
//! for one action, and how each group of them is made.

use serde::{Deserialize, Serialize};

/// Where a group of distribution parameters comes from.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ParamSource {
    /// A dense layer on the policy latent, orthogonally initialised with this gain and a zero
    /// bias.
    Linear {
        /// The orthogonal initialisation gain.
        init_gain: f32,
    },
    /// A trainable vector that does not depend on the state (for example a Gaussian's
    /// log-standard-deviation), initialised to `init`.
    StateIndependent {
        /// The initial value of every element.
        init: f32,
    },
}

/// The activation the host applies to a parameter group before handing it to the kernels.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum HeadActivation {
    /// The values are used as they are.
    #[default]
    Identity,
    /// `softplus(x) + 1`, which keeps Beta concentrations above one.
    SoftplusPlusOne,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
}

/// One group of distribution parameters.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParamGroup {
    /// A name for messages and checkpoints, for example `logits` or `log_std`.
    pub name: String,
    /// The number of parameters in the group.
    pub size: u32,
    /// How the group is produced.
    pub source: ParamSource,
    /// The activation applied before the kernels see the values.
    #[serde(default)]
    pub activation: HeadActivation,
}

/// The head a distribution needs once it is bound to an action space.
///
/// The kernels receive, per batch row, the concatenation of the groups (after activation) in
/// this order; their gradients are with respect to those same values.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DistributionHead {
    /// The number of `f32` values in one action.
    pub action_dim: u32,
    /// The parameter groups, in order.
    pub params: Vec<ParamGroup>,
}

impl DistributionHead {
    /// The number of parameters per batch row: the sum of the group sizes.
    pub fn param_size(&self) -> usize {
        self.params.iter().map(|g| g.size as usize).sum()
    }
}
