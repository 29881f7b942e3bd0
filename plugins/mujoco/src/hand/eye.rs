//! Camera images of a scene, rendered offscreen on the CPU through EGL (Mesa's llvmpipe when
//! there is no GPU), with the `vision` cargo feature.
//!
//! An EGL context belongs to the thread that made it current, while tasks move between the
//! host's threads. So each [`Eye`] owns a thread that owns the renderer and its own copy of
//! the compiled scene: a render sends the positions `qpos` there, the thread runs MuJoCo's
//! kinematics and draws, and the pixels come back. No GL object ever crosses a thread.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use angora_plugin_api::PluginError;

/// The camera the hand tasks add to their scenes for the `vision` sense.
pub const CAMERA: &str = "vision";

/// A camera on a scene, rendering `size x size` RGB images.
pub struct Eye {
    requests: Option<SyncSender<Vec<f64>>>,
    images: Receiver<Result<Vec<u8>, String>>,
    thread: Option<JoinHandle<()>>,
    size: usize,
}

impl Eye {
    /// Opens a renderer for the scene `mjcf` (compiled again on the render thread) and its
    /// camera [`CAMERA`]. Fails with a message naming the cause when the build lacks the
    /// `vision` feature or no EGL device can be opened.
    pub fn open(mjcf: &str, size: usize) -> Result<Self, PluginError> {
        let (request_tx, request_rx) = sync_channel::<Vec<f64>>(1);
        let (image_tx, image_rx) = sync_channel(1);
        let text = mjcf.to_string();
        let thread = std::thread::Builder::new()
            .name("angora-eye".into())
            .spawn(move || render_loop(&text, size, &request_rx, &image_tx))
            .map_err(|e| PluginError::runtime(format!("cannot start the render thread: {e}")))?;
        // The thread answers once it has a renderer (an empty image) or failed to make one.
        let ready = image_rx
            .recv()
            .map_err(|_| PluginError::runtime("the render thread stopped while starting"))?;
        if let Err(e) = ready {
            let _ = thread.join();
            return Err(PluginError::runtime(e));
        }
        Ok(Eye {
            requests: Some(request_tx),
            images: image_rx,
            thread: Some(thread),
            size,
        })
    }

    /// Renders the scene at positions `qpos` into `out` (`size * size * 3` values in
    /// `0..=255`, rows from the top).
    pub fn render(&self, qpos: &[f64], out: &mut Vec<f32>) -> Result<(), PluginError> {
        let stopped = || PluginError::runtime("the render thread has stopped");
        self.requests
            .as_ref()
            .ok_or_else(stopped)?
            .send(qpos.to_vec())
            .map_err(|_| stopped())?;
        let pixels = self
            .images
            .recv()
            .map_err(|_| stopped())?
            .map_err(PluginError::runtime)?;
        if pixels.len() != self.size * self.size * 3 {
            return Err(PluginError::runtime(format!(
                "the renderer returned {} values for a {size}x{size} RGB image",
                pixels.len(),
                size = self.size
            )));
        }
        // mujoco-rs already turns OpenGL's bottom-up rows into top-down ones.
        out.extend(pixels.iter().map(|&p| f32::from(p)));
        Ok(())
    }
}

impl Drop for Eye {
    fn drop(&mut self) {
        // Closing the request channel ends the loop; the thread frees the GL context.
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(feature = "vision")]
fn render_loop(
    mjcf: &str,
    size: usize,
    requests: &Receiver<Vec<f64>>,
    images: &SyncSender<Result<Vec<u8>, String>>,
) {
    use mujoco_rs::prelude::{MjData, MjModel, MjtObjBase, MjvCamera};
    use mujoco_rs::renderer::MjRenderer;
    use std::sync::Arc;

    let start = || -> Result<(MjData<Arc<MjModel>>, MjRenderer), String> {
        let model = crate::sim::compile(mjcf)
            .map_err(|e| format!("the render thread cannot compile the scene: {e}"))?;
        let camera = model
            .name_to_id(MjtObjBase::mjOBJ_CAMERA, CAMERA)
            .ok_or_else(|| format!("the scene has no camera '{CAMERA}'"))?;
        let renderer = MjRenderer::builder()
            .width(size as u32)
            .height(size as u32)
            .rgb(true)
            .depth(false)
            .camera(MjvCamera::new_fixed(camera))
            .build(&model)
            .map_err(|e| {
                format!(
                    "cannot open an offscreen renderer through EGL ({e:?}); vision needs \
                     libEGL and a Mesa driver (Debian: libegl1 libegl-mesa0 libgl1-mesa-dri)"
                )
            })?;
        Ok((MjData::new(Arc::new(model)), renderer))
    };
    let (mut data, mut renderer) = match start() {
        Ok(parts) => {
            let _ = images.send(Ok(Vec::new()));
            parts
        }
        Err(e) => {
            let _ = images.send(Err(e));
            return;
        }
    };
    while let Ok(qpos) = requests.recv() {
        let image = (|| {
            if qpos.len() != data.qpos().len() {
                return Err(format!(
                    "render request with {} positions, the scene has {}",
                    qpos.len(),
                    data.qpos().len()
                ));
            }
            data.qpos_mut().copy_from_slice(&qpos);
            data.forward();
            renderer
                .sync_data(&mut data)
                .map_err(|e| format!("{e:?}"))?;
            renderer.render().map_err(|e| format!("{e:?}"))?;
            renderer
                .rgb_flat()
                .map(<[u8]>::to_vec)
                .ok_or_else(|| "the renderer produced no RGB image".to_string())
        })();
        if images.send(image).is_err() {
            return;
        }
    }
}

#[cfg(not(feature = "vision"))]
fn render_loop(
    _mjcf: &str,
    _size: usize,
    _requests: &Receiver<Vec<f64>>,
    images: &SyncSender<Result<Vec<u8>, String>>,
) {
    let _ = images.send(Err(
        "this build of the MuJoCo plugin has no camera vision: build it with the `vision` \
         feature (on by default)"
            .into(),
    ));
}
