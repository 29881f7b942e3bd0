//! Checkpoints: everything needed to continue a run exactly, written atomically.
//!
//! A checkpoint is a directory: `params.npy` (the flat parameter vector, readable with
//! `numpy.load`), `adam_m.npy` and `adam_v.npy` (the optimiser's moments) and `state.json`
//! (progress, optimiser step count, normaliser statistics and the parameter layout). It is
//! written into a temporary directory that is then renamed into place; a previous checkpoint
//! of the same name is moved aside first and removed last, so a kill at any moment leaves a
//! complete checkpoint behind (`NAME` or, during the swap, `NAME.old`).

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use ndarray::Array1;
use ndarray_npy::{read_npy, write_npy};
use serde::{Deserialize, Serialize};

use super::{adam::Adam, gather::EpisodeState, normalize::NormalizerState};
use crate::nn::params::ParamSlot;

/// How far a run has come.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Progress {
    /// Cycles completed.
    pub cycles: u64,
    /// Environment steps taken.
    pub steps: u64,
    /// Episodes finished.
    pub episodes: u64,
    /// The best cycle mean return so far, if any episode finished.
    pub best_return: Option<f64>,
}

/// A complete training state.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The flat parameters.
    pub params: Vec<f32>,
    /// The optimiser.
    pub adam: Adam,
    /// Normaliser statistics.
    pub normalizers: NormalizerState,
    /// Progress.
    pub progress: Progress,
    /// Names and shapes of the parameters in `params`.
    pub layout: Vec<ParamSlot>,
    /// Every environment's current episode, in environment order.
    pub envs: Vec<EpisodeState>,
}

#[derive(Serialize, Deserialize)]
struct State {
    format: u32,
    progress: Progress,
    adam: Adam,
    normalizers: NormalizerState,
    layout: Vec<ParamSlot>,
    envs: Vec<EpisodeState>,
}

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// A file operation failed.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// No checkpoint of that name exists.
    #[error("no checkpoint '{name}' in {dir}")]
    Missing {
        /// The run directory.
        dir: PathBuf,
        /// The checkpoint name.
        name: String,
    },
    /// The files are inconsistent.
    #[error("{path}: corrupt checkpoint: {message}")]
    Corrupt {
        /// The checkpoint directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn write_vec(path: &Path, values: &[f32]) -> Result<(), CheckpointError> {
    write_npy(path, &Array1::from(values.to_vec())).map_err(|e| io(path, e))?;
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path, e))
}

fn read_vec(path: &Path) -> Result<Vec<f32>, CheckpointError> {
    let array: Array1<f32> = read_npy(path).map_err(|e| CheckpointError::Corrupt {
        path: path.parent().unwrap_or(path).to_path_buf(),
        message: format!("{}: {e}", path.display()),
    })?;
    Ok(array.to_vec())
}

/// Writes `checkpoint` as `run_dir/name`, atomically.
pub fn save(run_dir: &Path, name: &str, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
    let target = run_dir.join(name);
    let temp = run_dir.join(format!(".{name}.tmp"));
    let old = run_dir.join(format!("{name}.old"));
    if temp.exists() {
        fs::remove_dir_all(&temp).map_err(|e| io(&temp, e))?;
    }
    fs::create_dir_all(&temp).map_err(|e| io(&temp, e))?;
    write_vec(&temp.join("params.npy"), &checkpoint.params)?;
    write_vec(&temp.join("adam_m.npy"), &checkpoint.adam.m)?;
    write_vec(&temp.join("adam_v.npy"), &checkpoint.adam.v)?;
    let state = State {
        format: 1,
        progress: checkpoint.progress.clone(),
        adam: checkpoint.adam.clone(),
        normalizers: checkpoint.normalizers.clone(),
        layout: checkpoint.layout.clone(),
        envs: checkpoint.envs.clone(),
    };
    let text = serde_json::to_string_pretty(&state).map_err(|e| io(&temp, e))?;
    let state_path = temp.join("state.json");
    let mut file = fs::File::create(&state_path).map_err(|e| io(&state_path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| io(&state_path, e))?;
    if target.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| io(&old, e))?;
        }
        fs::rename(&target, &old).map_err(|e| io(&target, e))?;
    }
    fs::rename(&temp, &target).map_err(|e| io(&temp, e))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(|e| io(&old, e))?;
    }
    if let Ok(dir) = fs::File::open(run_dir) {
        // Persist the renames; failure to sync a directory is not worth aborting a run for.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The directory of checkpoint `name`, falling back to the copy set aside during a swap.
pub fn locate(run_dir: &Path, name: &str) -> Result<PathBuf, CheckpointError> {
    let target = run_dir.join(name);
    if target.join("state.json").exists() {
        return Ok(target);
    }
    let old = run_dir.join(format!("{name}.old"));
    if old.join("state.json").exists() {
        return Ok(old);
    }
    Err(CheckpointError::Missing {
        dir: run_dir.to_path_buf(),
        name: name.into(),
    })
}

/// Reads checkpoint `name` of a run.
pub fn load(run_dir: &Path, name: &str) -> Result<Checkpoint, CheckpointError> {
    let dir = locate(run_dir, name)?;
    let state_path = dir.join("state.json");
    let text = fs::read_to_string(&state_path).map_err(|e| io(&state_path, e))?;
    let state: State = serde_json::from_str(&text).map_err(|e| CheckpointError::Corrupt {
        path: dir.clone(),
        message: format!("state.json: {e}"),
    })?;
    let params = read_vec(&dir.join("params.npy"))?;
    let mut adam = state.adam;
    adam.m = read_vec(&dir.join("adam_m.npy"))?;
    adam.v = read_vec(&dir.join("adam_v.npy"))?;
    let expected: usize = state
        .layout
        .iter()
        .map(|s| s.shape.iter().product::<usize>())
        .sum();
    if params.len() != expected || adam.m.len() != expected || adam.v.len() != expected {
        return Err(CheckpointError::Corrupt {
            path: dir,
            message: format!(
                "the layout has {expected} parameters but params, adam_m and adam_v hold {}, {} and {}",
                params.len(),
                adam.m.len(),
                adam.v.len()
            ),
        });
    }
    Ok(Checkpoint {
        params,
        adam,
        normalizers: state.normalizers,
        progress: state.progress,
        layout: state.layout,
        envs: state.envs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::normalize::Moments;

    fn sample() -> Checkpoint {
        let mut adam = Adam::new(3, 1e-5);
        adam.step(&mut [0.0; 3], &[0.1, 0.2, 0.3], 0.01);
        Checkpoint {
            params: vec![1.0, -2.5, 3.25],
            adam,
            normalizers: NormalizerState {
                senses: vec![Some(Moments::new(2)), None],
                reward: Some(Moments::new(1)),
            },
            progress: Progress {
                cycles: 3,
                steps: 300,
                episodes: 7,
                best_return: Some(12.5),
            },
            layout: vec![ParamSlot {
                name: "w".into(),
                shape: vec![3],
                offset: 0,
            }],
            envs: vec![EpisodeState {
                episode: 2,
                actions: vec![1.0, 0.0],
                ret: 2.0,
                length: 2,
                metrics: vec![],
                discounted: 1.99,
                memory: vec![0.25, -1.5],
            }],
        }
    }

    #[test]
    fn round_trips_exactly_and_replaces_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let first = sample();
        save(dir.path(), "last", &first).unwrap();
        assert_eq!(load(dir.path(), "last").unwrap(), first);
        let mut second = sample();
        second.params[0] = 9.0;
        save(dir.path(), "last", &second).unwrap();
        assert_eq!(load(dir.path(), "last").unwrap(), second);
        assert!(!dir.path().join("last.old").exists() && !dir.path().join(".last.tmp").exists());
        // A kill between the two renames leaves only last.old: it is still found.
        fs::rename(dir.path().join("last"), dir.path().join("last.old")).unwrap();
        assert_eq!(load(dir.path(), "last").unwrap(), second);
    }

    #[test]
    fn a_corrupt_checkpoint_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), "last", &sample()).unwrap();
        fs::write(dir.path().join("last/params.npy"), b"garbage").unwrap();
        let err = load(dir.path(), "last").unwrap_err().to_string();
        assert!(
            err.contains("corrupt checkpoint") && err.contains("params.npy"),
            "{err}"
        );
    }
}
