//! Classic-control tasks with Gymnasium 1.x semantics: dynamics, spaces, rewards, initial-state
//! distributions and time limits match the reference implementations.

mod cartpole;

pub use cartpole::{CartPole, CartPoleConfig};

angora_plugin_api::register!(
    task CartPole,
    "CartPole-v1",
    "Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1)."
);
angora_plugin_api::register!(
    task CartPole,
    "CartPoleNoVel-v1",
    "CartPole-v1 observing only cart position and pole angle, for recurrent policies.",
    preset = CartPoleConfig { velocities: false, ..CartPoleConfig::default() }
);

angora_plugin_api::export_plugin!();
