//! Classic-control tasks with Gymnasium 1.x semantics: dynamics, spaces, rewards,
//! initial-state distributions and time limits match the reference implementations (checked
//! against recorded Gymnasium rollouts in `tests/conformance.rs`), plus velocity-free variants
//! for recurrent policies.

mod acrobot;
mod cartpole;
mod common;
mod continuous_mountain_car;
mod mountain_car;
mod pendulum;

pub use acrobot::{Acrobot, AcrobotConfig};
pub use cartpole::{CartPole, CartPoleConfig};
pub use continuous_mountain_car::{ContinuousMountainCar, ContinuousMountainCarConfig};
pub use mountain_car::{MountainCar, MountainCarConfig};
pub use pendulum::{Pendulum, PendulumConfig};

use angora_plugin_api::register;

register!(
    task CartPole,
    "CartPole-v1",
    "Balance a pole on a cart by pushing it left or right (Gymnasium CartPole-v1)."
);
register!(
    task CartPole,
    "CartPoleNoVel-v1",
    "CartPole-v1 observing only cart position and pole angle, for recurrent policies.",
    preset = CartPoleConfig { velocities: false, ..CartPoleConfig::default() }
);
register!(
    task Acrobot,
    "Acrobot-v1",
    "Swing the tip of a two-link arm, actuated at the elbow, above a line (Gymnasium Acrobot-v1)."
);
register!(
    task MountainCar,
    "MountainCar-v0",
    "Rock an underpowered car up a hill with three discrete pushes (Gymnasium MountainCar-v0)."
);
register!(
    task ContinuousMountainCar,
    "MountainCarContinuous-v0",
    "MountainCar with a continuous force and an action cost (Gymnasium MountainCarContinuous-v0)."
);
register!(
    task Pendulum,
    "Pendulum-v1",
    "Swing a pendulum up and hold it upright with a bounded torque (Gymnasium Pendulum-v1)."
);
register!(
    task Pendulum,
    "PendulumNoVel-v1",
    "Pendulum-v1 observing only the cosine and sine of the angle, for recurrent policies.",
    preset = PendulumConfig { velocities: false, ..PendulumConfig::default() }
);

angora_plugin_api::export_plugin!();
