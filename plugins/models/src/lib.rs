//! Model architectures: functions from the available senses to declarative model specs.

mod feedforward;

pub use feedforward::{FeedForward, FeedForwardConfig};

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

angora_plugin_api::export_plugin!();
