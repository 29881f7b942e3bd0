//! Where the MJCF assets are: the Gymnasium asset directory that `scripts/setup-mujoco.sh`
//! installs, found through `ANGORA_MUJOCO_ASSETS` at run time or, failing that, the path the
//! plugin was built with.

use std::path::{Path, PathBuf};

use angora_plugin_api::PluginError;

/// The variable naming the asset root (the directory holding `gymnasium/envs/mujoco/assets`).
pub const ASSETS_VARIABLE: &str = "ANGORA_MUJOCO_ASSETS";

/// Gymnasium's MuJoCo asset directory.
pub fn gymnasium_dir() -> Result<PathBuf, PluginError> {
    installed("gymnasium/envs/mujoco/assets")
}

/// Gymnasium-Robotics' asset directory (the Shadow hand's MJCF, meshes and textures).
pub fn robotics_dir() -> Result<PathBuf, PluginError> {
    installed("gymnasium_robotics/envs/assets")
}

/// `relative` under the asset root, if it exists.
fn installed(relative: &str) -> Result<PathBuf, PluginError> {
    let root = std::env::var_os(ASSETS_VARIABLE)
        .map(PathBuf::from)
        .or_else(|| option_env!("ANGORA_MUJOCO_ASSETS").map(PathBuf::from))
        .ok_or_else(|| {
            PluginError::runtime(format!(
                "the MuJoCo assets are not configured: run scripts/setup-mujoco.sh, or set \
                 {ASSETS_VARIABLE} to a directory holding {relative}"
            ))
        })?;
    let dir = root.join(relative);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(PluginError::runtime(format!(
            "the MuJoCo assets are missing ({} does not exist): run scripts/setup-mujoco.sh, \
             or set {ASSETS_VARIABLE} to the directory it installs them into",
            dir.display()
        )))
    }
}

/// Resolves a config's `xml_file` the way Gymnasium does: a path starting with `/`, `.` or
/// `~` is used as it is (with `~` expanded), anything else is a file in the asset directory.
pub fn resolve(xml_file: &str) -> Result<PathBuf, PluginError> {
    let path = if let Some(rest) = xml_file.strip_prefix("~/") {
        let home = std::env::var_os("HOME").ok_or_else(|| {
            PluginError::invalid_config(format!("cannot expand {xml_file}: HOME is not set"))
        })?;
        Path::new(&home).join(rest)
    } else if xml_file.starts_with('/') || xml_file.starts_with('.') {
        PathBuf::from(xml_file)
    } else {
        gymnasium_dir()?.join(xml_file)
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(PluginError::invalid_config(format!(
            "xml_file: the MJCF file {} does not exist",
            path.display()
        )))
    }
}
