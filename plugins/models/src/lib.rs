//! Model architectures: functions from the available senses to declarative model specs.

mod feedforward;
mod recurrent;

pub use feedforward::{FeedForward, FeedForwardConfig};
pub use recurrent::{CellType, Recurrent, RecurrentConfig};

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

angora_plugin_api::register!(
    model Recurrent,
    "simple-rnn",
    "Tanh encoder of a dense layer of 64 units, then a simple RNN of 64 units.",
    preset = RecurrentConfig { encoder: vec![64], cell: CellType::Rnn, units: 64, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "simple-gru",
    "Tanh encoder of a dense layer of 64 units, then a GRU of 64 units.",
    preset = RecurrentConfig { encoder: vec![64], cell: CellType::Gru, units: 64, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "simple-lstm",
    "Tanh encoder of a dense layer of 64 units, then an LSTM of 64 units.",
    preset = RecurrentConfig { encoder: vec![64], cell: CellType::Lstm, units: 64, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "deeper-rnn",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then a simple RNN of 32 units.",
    preset = RecurrentConfig { encoder: vec![64, 64, 64, 32], cell: CellType::Rnn, units: 32, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "deeper-gru",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then a GRU of 32 units.",
    preset = RecurrentConfig { encoder: vec![64, 64, 64, 32], cell: CellType::Gru, units: 32, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "deeper-lstm",
    "Tanh encoder of dense layers of 64, 64, 64 and 32 units, then an LSTM of 32 units.",
    preset = RecurrentConfig { encoder: vec![64, 64, 64, 32], cell: CellType::Lstm, units: 32, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "wider-rnn",
    "Tanh encoder of a dense layer of 1024 units, then a simple RNN of 512 units.",
    preset = RecurrentConfig { encoder: vec![1024], cell: CellType::Rnn, units: 512, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "wider-gru",
    "Tanh encoder of a dense layer of 1024 units, then a GRU of 512 units.",
    preset = RecurrentConfig { encoder: vec![1024], cell: CellType::Gru, units: 512, ..RecurrentConfig::default() }
);
angora_plugin_api::register!(
    model Recurrent,
    "wider-lstm",
    "Tanh encoder of a dense layer of 1024 units, then an LSTM of 512 units.",
    preset = RecurrentConfig { encoder: vec![1024], cell: CellType::Lstm, units: 512, ..RecurrentConfig::default() }
);

angora_plugin_api::export_plugin!();
