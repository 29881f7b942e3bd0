//! The run directory's writer: metrics lines and checkpoints, written on a background thread.
//!
//! Writing a checkpoint means several files, each flushed to disk (`fsync`), and then renames;
//! on a small model that took about as long as the update itself (docs/benchmarks.md). The
//! training loop hands each cycle's metrics line and snapshot to this writer and goes on; the
//! writer appends the lines in order and saves the checkpoints after them (each still written
//! atomically by [`checkpoint::save`]). When snapshots of one name queue up faster than the
//! disk takes them, only the newest is written: `last` and `best` are always a complete
//! checkpoint of some recent cycle, never a mixture. Numbered checkpoints have unique names and
//! are all written. Dropping the writer (also on an error) waits for everything queued, so a
//! run that stops has its last checkpoint on disk.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::{
        Arc,
        mpsc::{self, Receiver, Sender},
    },
    thread::JoinHandle,
};

use serde_json::Value;

use super::checkpoint::{self, Checkpoint, CheckpointError};

/// Why the writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Appending to the metrics file failed.
    #[error("{path}: {message}")]
    Metrics {
        /// The metrics file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A checkpoint could not be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

enum Job {
    Metrics(Value),
    Checkpoint(String, Arc<Checkpoint>),
}

/// A background writer for one run directory.
pub struct RunWriter {
    jobs: Option<Sender<Job>>,
    thread: Option<JoinHandle<Result<(), WriteError>>>,
}

impl RunWriter {
    /// Starts the writer for `run_dir`; metrics go to `run_dir/metrics.jsonl`.
    pub fn start(run_dir: &Path) -> Self {
        let (jobs, queue) = mpsc::channel();
        let run_dir = run_dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("angora-writer".into())
            .spawn(move || write_all(&run_dir, &queue))
            .expect("the writer thread starts");
        Self {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Queues a metrics line.
    pub fn metrics(&mut self, line: Value) -> Result<(), WriteError> {
        self.send(Job::Metrics(line))
    }

    /// Queues checkpoint `name`.
    pub fn checkpoint(&mut self, name: &str, snapshot: Arc<Checkpoint>) -> Result<(), WriteError> {
        self.send(Job::Checkpoint(name.to_owned(), snapshot))
    }

    /// Waits until everything queued is on disk.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.join()
    }

    fn send(&mut self, job: Job) -> Result<(), WriteError> {
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if sent {
            Ok(())
        } else {
            // The thread has stopped, which it does only on an error: report it.
            self.join()
        }
    }

    fn join(&mut self) -> Result<(), WriteError> {
        drop(self.jobs.take());
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            None => Ok(()),
        }
    }
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        // An error here was (or will be) reported by whoever stopped the run; what matters on
        // this path is that the queued checkpoints reach the disk before the process exits.
        if !std::thread::panicking() {
            let _ = self.join();
        }
    }
}

/// The writer thread: takes whatever has queued up, appends the metrics lines, then saves the
/// newest snapshot of each checkpoint name, until the sender is gone.
fn write_all(run_dir: &Path, queue: &Receiver<Job>) -> Result<(), WriteError> {
    let metrics_path = run_dir.join("metrics.jsonl");
    while let Ok(first) = queue.recv() {
        let mut lines = Vec::new();
        let mut checkpoints: Vec<(String, Arc<Checkpoint>)> = Vec::new();
        for job in std::iter::once(first).chain(queue.try_iter()) {
            match job {
                Job::Metrics(line) => lines.push(line),
                Job::Checkpoint(name, snapshot) => {
                    match checkpoints.iter_mut().find(|(n, _)| *n == name) {
                        Some(slot) => slot.1 = snapshot,
                        None => checkpoints.push((name, snapshot)),
                    }
                }
            }
        }
        if !lines.is_empty() {
            append_lines(&metrics_path, &lines)?;
        }
        for (name, snapshot) in &checkpoints {
            checkpoint::save(run_dir, name, snapshot)?;
        }
    }
    Ok(())
}

fn append_lines(path: &Path, lines: &[Value]) -> Result<(), WriteError> {
    let error = |e: std::io::Error| WriteError::Metrics {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)?;
    file.write_all(text.as_bytes())
        .and_then(|_| file.sync_data())
        .map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{adam::Adam, checkpoint::Progress, normalize::NormalizerState};

    fn snapshot(cycles: u64) -> Arc<Checkpoint> {
        Arc::new(Checkpoint {
            params: vec![cycles as f32; 3],
            adam: Adam::new(3, 1e-5),
            normalizers: NormalizerState::new(&[], &[], false, false),
            progress: Progress {
                cycles,
                steps: cycles * 10,
                episodes: 0,
                best_return: None,
            },
            layout: vec![crate::nn::params::ParamSlot {
                name: "w".into(),
                shape: vec![3],
                offset: 0,
            }],
            envs: Vec::new(),
        })
    }

    #[test]
    fn everything_queued_is_on_disk_after_finish() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = RunWriter::start(dir.path());
        for cycle in 1..=50 {
            writer
                .metrics(serde_json::json!({ "cycle": cycle }))
                .unwrap();
            writer.checkpoint("last", snapshot(cycle)).unwrap();
            if cycle % 10 == 0 {
                writer
                    .checkpoint(&format!("cycle-{cycle}"), snapshot(cycle))
                    .unwrap();
            }
        }
        writer.finish().unwrap();
        let lines = fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
        let cycles: Vec<u64> = lines
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["cycle"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(cycles, (1..=50).collect::<Vec<_>>());
        assert_eq!(
            checkpoint::load(dir.path(), "last")
                .unwrap()
                .progress
                .cycles,
            50
        );
        for cycle in [10, 20, 30, 40, 50] {
            let numbered = checkpoint::load(dir.path(), &format!("cycle-{cycle}")).unwrap();
            assert_eq!(numbered.params, vec![cycle as f32; 3]);
        }
    }

    #[test]
    fn a_failed_write_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the metrics file's directory should be: every write fails.
        let run_dir = dir.path().join("not-a-directory");
        fs::write(&run_dir, "").unwrap();
        let mut writer = RunWriter::start(&run_dir);
        let mut result = writer.metrics(serde_json::json!({ "cycle": 1 }));
        for _ in 0..100 {
            if result.is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
            result = writer.checkpoint("last", snapshot(1));
        }
        let error = result.and_then(|()| writer.finish()).unwrap_err();
        assert!(error.to_string().contains("not-a-directory"), "{error}");
    }
}
