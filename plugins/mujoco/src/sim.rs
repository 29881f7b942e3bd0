//! One MuJoCo simulation: a model loaded from MJCF and its data, stepped `frame_skip` times per
//! environment step, the way Gymnasium's `MujocoEnv` does it.
//!
//! Everything that could make MuJoCo end the process (`mju_error`) is checked here first: the
//! file must exist and parse, and controls must be finite and of the right length.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, Once};

use angora_plugin_api::PluginError;
use mujoco_rs::prelude::{MjData, MjLogMessage, MjModel, MjtLogLevel, MjtObjBase, set_log_handler};

/// Serialises model loading, and with it the one-time installation of the log handler.
static LOADING: Mutex<()> = Mutex::new(());
static LOG_HANDLER: Once = Once::new();

/// Where MuJoCo's messages go: warnings to stderr, prefixed, instead of MuJoCo's default of
/// the console plus a `MUJOCO_LOG.TXT` in whatever directory the user runs from. One known
/// warning is dropped: Gymnasium's half_cheetah.xml uses the deprecated `settotalmass`
/// attribute, which MuJoCo 3.17 still honours, and every load would repeat it.
fn route_message(message: &MjLogMessage) {
    let text = message.subject();
    if text.contains("'settotalmass' is deprecated") {
        return;
    }
    let level = match message.level() {
        MjtLogLevel::mjLOG_ERROR => "error",
        MjtLogLevel::mjLOG_WARNING => "warning",
        _ => return,
    };
    // A failed write is ignored: a panic here would abort the process.
    let _ = writeln!(std::io::stderr(), "MuJoCo {level}: {text}");
}

/// Installs [`route_message`] before the first model is loaded.
fn install_log_handler() {
    LOG_HANDLER.call_once(|| {
        #[allow(
            unsafe_code,
            reason = "mujoco-rs marks setting MuJoCo's global log handler unsafe"
        )]
        // SAFETY: set_log_handler must not race with other MuJoCo use. It runs once, under
        // LOADING, before this library has created any model or data, and every MuJoCo object
        // of this plugin is created after a load that holds LOADING; so no thread of this
        // plugin is inside MuJoCo. The handler is thread-safe (it only writes to stderr) and
        // does not panic (it ignores write errors).
        unsafe {
            set_log_handler(route_message)
        };
    });
}

/// Compiles MJCF text, with MuJoCo's messages routed like [`Simulation::load`]'s.
pub fn compile(text: &str) -> Result<MjModel, String> {
    let _guard = LOADING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    install_log_handler();
    MjModel::from_xml_string(text).map_err(|e| e.to_string())
}

/// A loaded model and its simulation state.
pub struct Simulation {
    data: MjData<Arc<MjModel>>,
    frame_skip: u32,
}

impl Simulation {
    /// Loads an MJCF file. A missing file or one MuJoCo cannot compile is an
    /// [`ErrorKind::InvalidConfig`](angora_plugin_api::ErrorKind) error naming the file.
    pub fn load(path: &Path, frame_skip: u32) -> Result<Self, PluginError> {
        if frame_skip == 0 {
            return Err(PluginError::invalid_config("frame_skip must be at least 1"));
        }
        if !path.is_file() {
            return Err(PluginError::invalid_config(format!(
                "the MJCF file {} does not exist",
                path.display()
            )));
        }
        let model = {
            let _guard = LOADING
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            install_log_handler();
            MjModel::from_xml(path)
        }
        .map_err(|e| {
            PluginError::invalid_config(format!(
                "MuJoCo cannot load the MJCF file {}: {e}",
                path.display()
            ))
        })?;
        let data = MjData::new(Arc::new(model));
        Ok(Simulation { data, frame_skip })
    }

    /// Compiles MJCF text (a scene composed in memory; its `<include>`s and asset
    /// directories must be absolute paths). A model MuJoCo cannot compile is an
    /// [`ErrorKind::InvalidConfig`](angora_plugin_api::ErrorKind) error that names `what`.
    pub fn from_text(text: &str, frame_skip: u32, what: &str) -> Result<Self, PluginError> {
        if frame_skip == 0 {
            return Err(PluginError::invalid_config("frame_skip must be at least 1"));
        }
        let model = compile(text).map_err(|e| {
            PluginError::invalid_config(format!("MuJoCo cannot compile {what}: {e}"))
        })?;
        let data = MjData::new(Arc::new(model));
        Ok(Simulation { data, frame_skip })
    }

    /// The model.
    pub fn model(&self) -> &MjModel {
        self.data.model()
    }

    /// The simulation state.
    pub fn data(&self) -> &MjData<Arc<MjModel>> {
        &self.data
    }

    /// The simulation state, for tasks that write more than the controls (object poses,
    /// joint positions at reset).
    pub fn data_mut(&mut self) -> &mut MjData<Arc<MjModel>> {
        &mut self.data
    }

    /// The id of a named object of kind `kind`, if the model has one.
    pub fn id_of(&self, kind: MjtObjBase, name: &str) -> Option<usize> {
        self.model().name_to_id(kind, name)
    }

    /// Number of position coordinates.
    pub fn nq(&self) -> usize {
        self.model().ffi().nq as usize
    }

    /// Number of velocity coordinates.
    pub fn nv(&self) -> usize {
        self.model().ffi().nv as usize
    }

    /// Number of actuators.
    pub fn nu(&self) -> usize {
        self.model().ffi().nu as usize
    }

    /// Physics steps per environment step.
    pub fn frame_skip(&self) -> u32 {
        self.frame_skip
    }

    /// Simulated seconds per environment step.
    pub fn dt(&self) -> f64 {
        self.timestep() * f64::from(self.frame_skip)
    }

    /// The physics time step.
    pub fn timestep(&self) -> f64 {
        self.model().ffi().opt.timestep
    }

    /// The model's reference configuration and zero velocity (Gymnasium's `init_qpos` and
    /// `init_qvel`).
    pub fn initial_state(&self) -> (Vec<f64>, Vec<f64>) {
        (self.model().qpos0().to_vec(), vec![0.0; self.nv()])
    }

    /// Control bounds per actuator, as `f32` like Gymnasium's action space; unlimited
    /// actuators get infinite bounds.
    pub fn control_bounds(&self) -> (Vec<f32>, Vec<f32>) {
        let model = self.model();
        let limited = model.actuator_ctrllimited();
        model
            .actuator_ctrlrange()
            .iter()
            .zip(limited)
            .map(|(range, &limited)| {
                if limited {
                    (range[0] as f32, range[1] as f32)
                } else {
                    (f32::NEG_INFINITY, f32::INFINITY)
                }
            })
            .unzip()
    }

    /// The id of a body, or an error naming the model's missing body.
    pub fn body_id(&self, name: &str) -> Result<usize, PluginError> {
        self.model()
            .name_to_id(MjtObjBase::mjOBJ_BODY, name)
            .ok_or_else(|| PluginError::invalid_config(format!("the model has no body '{name}'")))
    }

    /// Resets the data (`mj_resetData`), sets the state and recomputes everything derived
    /// from it (`mj_forward`), like Gymnasium's `reset` followed by `set_state`.
    pub fn reset_to(&mut self, qpos: &[f64], qvel: &[f64]) {
        debug_assert_eq!(qpos.len(), self.nq());
        debug_assert_eq!(qvel.len(), self.nv());
        self.data.reset();
        self.data.qpos_mut().copy_from_slice(qpos);
        self.data.qvel_mut().copy_from_slice(qvel);
        self.data.forward();
    }

    /// Applies one action as the controls for `frame_skip` physics steps, then computes the
    /// external contact forces (`mj_rnePostConstraint`) that observations and costs read.
    ///
    /// The caller has checked the action's length and that it holds no NaN; out-of-range
    /// controls are clamped by MuJoCo itself, as in Gymnasium.
    pub fn advance(&mut self, action: &[f32]) {
        self.set_controls(action);
        for _ in 0..self.frame_skip {
            self.data.step();
        }
        self.data.rne_post_constraint();
    }

    /// Writes an action into the controls (single to double precision, exactly).
    pub fn set_controls(&mut self, action: &[f32]) {
        for (ctrl, &a) in self.data.ctrl_mut().iter_mut().zip(action) {
            *ctrl = f64::from(a);
        }
    }

    /// Steps the physics `steps` times with the current controls and nothing else: the
    /// reference point for the task layer's overhead.
    pub fn raw_steps(&mut self, steps: u32) {
        for _ in 0..steps {
            self.data.step();
        }
    }

    /// Whether positions and velocities are all finite.
    pub fn state_is_finite(&self) -> bool {
        self.data
            .qpos()
            .iter()
            .chain(self.data.qvel())
            .all(|v| v.is_finite())
    }
}
