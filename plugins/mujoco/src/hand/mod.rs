//! The anthropomorphic hand: the `shadow-hand` body and the tasks that compose it (reaching
//! and in-hand block manipulation, after AngoraPy's `dexterity` tasks).
//!
//! A hand task takes the body the user selected (`--body`), or the shadow hand by default,
//! composes its scene from the body's MJCF and its own elements, and reads everything through
//! the body's declarations ([`rig::Rig`]): actions drive the declared actuators, `proprioception`
//! and `touch` are the declared sensor groups, and fingertips and palm are landmarks. So the
//! same task runs with any body that offers the landmarks it needs.

pub mod body;
mod eye;
pub mod manipulate;
pub mod quat;
pub mod reach;
pub mod rig;

pub use rig::HandControl;

use angora_plugin_api::{ActionSpace, BodyDescription, PluginError, SenseSpec};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::sim::Simulation;
use crate::task::EpisodeRng;
pub use body::{ShadowHand, ShadowHandConfig};
pub use eye::Eye;
use rig::Rig;

/// What the `vision` sense carries.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Vision {
    /// A low-dimensional stand-in for what vision would tell (AngoraPy's "surrogate
    /// vision"): fingertip positions for reaching, the object's pose for manipulation.
    #[default]
    Surrogate,
    /// RGB images of a scene camera, `image_size` pixels square (dtype `u8`).
    Camera,
}

/// The scene camera of camera vision: above the fingertips, looking back and down at the palm
/// (near (1, 0.96, 0.14)).
pub const CAMERA_ELEMENT: &str =
    r#"<camera name="vision" pos="1 0.5 0.55" xyaxes="1 0 0 0 0.707 0.707" fovy="40"/>"#;

/// The declaration of the `vision` sense: `surrogate` values, or an RGB image.
pub fn vision_sense(vision: Vision, surrogate: u32, image_size: u32) -> SenseSpec {
    match vision {
        Vision::Surrogate => SenseSpec::vector("vision", surrogate),
        Vision::Camera => SenseSpec {
            name: "vision".into(),
            shape: vec![image_size, image_size, 3],
            dtype: angora_plugin_api::DType::U8,
        },
    }
}

/// The hand, its scene and what the tasks share: actuation, senses, the random source.
pub struct Hand {
    sim: Simulation,
    rig: Rig,
    eye: Option<Eye>,
    discrete: Option<u32>,
    actions: Vec<f32>,
    rng: EpisodeRng,
    scratch: Vec<f32>,
}

/// The part of a hand task's config that says how the hand is driven and sensed.
#[derive(Debug, Clone, Copy)]
pub struct HandOptions {
    /// How actions become actuator targets.
    pub control: HandControl,
    /// `Some(bins)`: one discrete choice among `bins` per actuator.
    pub discrete: Option<u32>,
    /// Physics steps per task step.
    pub frame_skip: u32,
    /// Camera images of this size, if any.
    pub camera: Option<u32>,
}

impl Hand {
    /// Composes `body` (the shadow hand if `None`) with the task's scene elements, compiles
    /// it and binds the body.
    pub fn new(
        body: Option<BodyDescription>,
        scene: &str,
        model: &str,
        options: HandOptions,
    ) -> Result<Self, PluginError> {
        if let Some(bins) = options.discrete
            && !(2..=255).contains(&bins)
        {
            return Err(PluginError::invalid_config(format!(
                "bins must be in 2..=255, got {bins}"
            )));
        }
        if let Some(size) = options.camera
            && !(8..=1024).contains(&size)
        {
            return Err(PluginError::invalid_config(format!(
                "image_size must be in 8..=1024, got {size}"
            )));
        }
        let body = match body {
            Some(body) => body,
            None => body::describe(&body::hand_dir()?, &ShadowHandConfig::default()),
        };
        let mut scene = scene.to_string();
        if let Some(size) = options.camera {
            // No shadows and no multisampling: 20x faster on a software renderer, and
            // offscreen buffers large enough for the image.
            scene.push_str(&format!(
                "<visual><global offwidth=\"{size}\" offheight=\"{size}\"/>\
                 <quality shadowsize=\"0\" offsamples=\"0\"/></visual>\n"
            ));
        }
        let text = rig::compose(&body, &scene, model)?;
        let sim = Simulation::from_text(&text, options.frame_skip, &format!("the {model} scene"))?;
        let rig = Rig::bind(&body, &sim, options.control)?;
        let eye = match options.camera {
            Some(size) => Some(Eye::open(&text, size as usize)?),
            None => None,
        };
        Ok(Hand {
            sim,
            rig,
            eye,
            discrete: options.discrete,
            actions: Vec::new(),
            rng: EpisodeRng::seed_from_u64(0),
            scratch: Vec::new(),
        })
    }

    /// The action space: `[-1, 1]` per driven actuator, or `bins` choices each.
    pub fn action_space(&self) -> ActionSpace {
        let n = self.rig.actions();
        match self.discrete {
            Some(bins) => ActionSpace::MultiDiscrete {
                nvec: vec![bins; n],
            },
            None => ActionSpace::Box {
                low: vec![-1.0; n],
                high: vec![1.0; n],
            },
        }
    }

    /// The body-provided senses: `touch` (if the body has touch sensors and `touch` is
    /// wanted) and `proprioception`.
    pub fn body_senses(&self, touch: bool) -> Vec<SenseSpec> {
        let mut senses = Vec::new();
        if touch && self.rig.touch_len() > 0 {
            senses.push(SenseSpec::vector("touch", self.rig.touch_len() as u32));
        }
        if self.rig.proprioception_len() > 0 {
            senses.push(SenseSpec::vector(
                "proprioception",
                self.rig.proprioception_len() as u32,
            ));
        }
        senses
    }

    /// Re-seeds the random source if asked.
    pub fn seed(&mut self, seed: Option<u64>) {
        if let Some(seed) = seed {
            self.rng = EpisodeRng::seed_from_u64(seed);
        }
    }

    /// Applies one action (continuous in `[-1, 1]` or discrete choices) and steps the
    /// physics. A non-finite state is an error, never a silent NaN observation.
    pub fn act(&mut self, action: &[f32]) -> Result<(), PluginError> {
        match self.discrete {
            Some(bins) => rig::bins_to_actions(action, bins, &mut self.actions),
            None => {
                self.actions.clear();
                self.actions.extend_from_slice(action);
            }
        }
        self.rig.apply(&mut self.sim, &self.actions);
        self.sim.raw_steps(self.sim.frame_skip());
        if self.sim.state_is_finite() {
            Ok(())
        } else {
            Err(PluginError::runtime(
                "the hand simulation became unstable (non-finite state)",
            ))
        }
    }

    /// Writes the body senses (as declared by [`Hand::body_senses`]) into `out` from
    /// buffer `first` on; returns the next free buffer index.
    pub fn write_body_senses(
        &mut self,
        touch: bool,
        out: &mut angora_plugin_api::Sensation,
        mut index: usize,
    ) -> usize {
        if touch && self.rig.touch_len() > 0 {
            self.scratch.clear();
            self.rig.read_touch(&self.sim, &mut self.scratch);
            out.set(index, &self.scratch);
            index += 1;
        }
        if self.rig.proprioception_len() > 0 {
            self.scratch.clear();
            self.rig.read_proprioception(&self.sim, &mut self.scratch);
            out.set(index, &self.scratch);
            index += 1;
        }
        index
    }

    /// Renders the camera image into buffer `index`.
    pub fn write_image(
        &mut self,
        out: &mut angora_plugin_api::Sensation,
        index: usize,
    ) -> Result<(), PluginError> {
        let eye = self
            .eye
            .as_ref()
            .ok_or_else(|| PluginError::runtime("this task has no camera"))?;
        self.scratch.clear();
        eye.render(self.sim.data().qpos(), &mut self.scratch)?;
        out.set(index, &self.scratch);
        Ok(())
    }

    /// The simulation.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// The simulation, mutably.
    pub fn sim_mut(&mut self) -> &mut Simulation {
        &mut self.sim
    }

    /// The bound body.
    pub fn rig(&self) -> &Rig {
        &self.rig
    }

    /// The random source of the episode.
    pub fn rng(&mut self) -> &mut EpisodeRng {
        &mut self.rng
    }

    /// Sets the targets to the current pose and steps `steps` times with them, so that a
    /// pose set by hand settles under the actuators' control.
    pub fn settle(&mut self, steps: u32) {
        self.rig.hold(&mut self.sim);
        self.sim.raw_steps(steps * self.sim.frame_skip());
    }

    /// The five fingertip landmarks (first, middle, ring, little finger, thumb), or an error
    /// naming the first the body does not offer.
    pub fn fingertips(&self) -> Result<[usize; 5], PluginError> {
        let mut tips = [0; 5];
        for (tip, finger) in tips.iter_mut().zip(body::FINGERS) {
            *tip = self.rig.landmark(&body::fingertip_role(finger))?;
        }
        Ok(tips)
    }

    /// The world positions of the landmarks `indices`, flattened.
    pub fn positions<const N: usize>(&self, indices: &[usize; N]) -> Vec<f64> {
        indices
            .iter()
            .flat_map(|&i| self.rig.position(&self.sim, i))
            .collect()
    }
}

/// The simulation state a task returns to at each reset.
#[derive(Debug, Clone)]
pub struct Snapshot {
    qpos: Vec<f64>,
    qvel: Vec<f64>,
    ctrl: Vec<f64>,
}

impl Snapshot {
    /// Takes the current state.
    pub fn take(sim: &Simulation) -> Self {
        Snapshot {
            qpos: sim.data().qpos().to_vec(),
            qvel: sim.data().qvel().to_vec(),
            ctrl: sim.data().ctrl().to_vec(),
        }
    }

    /// Restores it, including the controls, and recomputes derived quantities.
    pub fn restore(&self, sim: &mut Simulation) {
        sim.reset_to(&self.qpos, &self.qvel);
        sim.data_mut().ctrl_mut().copy_from_slice(&self.ctrl);
    }
}

/// The Euclidean distance between two equally long vectors.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}
