//! Model architectures: functions from the available senses to declarative model specs.

mod feedforward;
mod recurrent;
mod shadow;

pub use feedforward::{FeedForward, FeedForwardConfig};
pub use recurrent::{CellType, Recurrent, RecurrentConfig};
pub use shadow::{ConvConfig, Shadow, ShadowConfig, VisionEncoderConfig};

angora_plugin_api::register!(
    model FeedForward,
    "simple",
    "Feed-forward tanh network with two hidden layers of 64 units.",
    preset = FeedForwardConfig { hidden: vec![64, 64], ..FeedForwardConfig::default() }
);
angora_plugin_api::register!(
    model FeedForward,
    "deeper",
    "Feed-forward tanh network with hidden layers of 64, 64, 64 and 32 units.",
    preset = FeedForwardConfig { hidden: vec![64, 64, 64, 32], ..FeedForwardConfig::default() }
);
angora_plugin_api::register!(
    model FeedForward,
    "wider",
    "Feed-forward tanh network with hidden layers of 1024 and 512 units.",
    preset = FeedForwardConfig { hidden: vec![1024, 512], ..FeedForwardConfig::default() }
);

/// Registers one recurrent variant: name, description, encoder units, cell, recurrent units.
macro_rules! recurrent {
    ($name:expr, $description:expr, $encoder:expr, $cell:ident, $units:expr) => {
        angora_plugin_api::register!(
            model Recurrent,
            $name,
            $description,
            preset = RecurrentConfig {
                encoder: $encoder,
                cell: CellType::$cell,
                units: $units,
                ..RecurrentConfig::default()
            }
        );
    };
}

// AngoraPy's recurrent `simple`, `deeper` and `wider`: the dense encoder, then one recurrent
// layer.
recurrent!(
    "simple-rnn",
    "Tanh encoder of a dense layer of 64 units, then a simple RNN of 64 units.",
    vec![64],
    Rnn,
    64
);
recurrent!(
    "simple-gru",
    "Tanh encoder of a dense layer of 64 units, then a GRU of 64 units.",
    vec![64],
    Gru,
    64
);
recurrent!(
    "simple-lstm",
    "Tanh encoder of a dense layer of 64 units, then an LSTM of 64 units.",
    vec![64],
    Lstm,
    64
);
recurrent!(
    "deeper-rnn",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then a simple RNN of 32 units.",
    vec![64, 64, 64, 32],
    Rnn,
    32
);
recurrent!(
    "deeper-gru",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then a GRU of 32 units.",
    vec![64, 64, 64, 32],
    Gru,
    32
);
recurrent!(
    "deeper-lstm",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then an LSTM of 32 units.",
    vec![64, 64, 64, 32],
    Lstm,
    32
);
recurrent!(
    "wider-rnn",
    "Tanh encoder of a dense layer of 1024 units, then a simple RNN of 512 units.",
    vec![1024],
    Rnn,
    512
);
recurrent!(
    "wider-gru",
    "Tanh encoder of a dense layer of 1024 units, then a GRU of 512 units.",
    vec![1024],
    Gru,
    512
);
recurrent!(
    "wider-lstm",
    "Tanh encoder of a dense layer of 1024 units, then an LSTM of 512 units.",
    vec![1024],
    Lstm,
    512
);

// AngoraPy's `shadow`: the brain-region-named recurrent model for the Shadow hand.
angora_plugin_api::register!(
    model Shadow,
    "shadow",
    "Brain-region-named recurrent ReLU model for the Shadow hand (AngoraPy's shadow): SSC 128-64, \
     SPL/IPL 256, IPS 128, MCC 64, LPFC 128, PMC 512 then a GRU of 512, M1 256; value path \
     512-512 on the cortical trunk plus asymmetric; a convolutional encoder for image vision.",
    preset = ShadowConfig::default()
);
angora_plugin_api::register!(
    model Shadow,
    "shadow-small",
    "The shadow model with every width about a quarter (SSC 32-16, SPL/IPL 64, IPS 32, MCC 16, \
     LPFC 32, PMC 128, GRU 128, M1 64, value 128-128): for quick runs and tests.",
    preset = ShadowConfig::small()
);

angora_plugin_api::export_plugin!();
