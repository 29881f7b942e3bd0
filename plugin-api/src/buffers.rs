//! The plain-data buffers that cross the boundary on every step (the hot path).
//!
//! Names, shapes and dtypes are declared once, up front, in a [`TaskSpec`](crate::TaskSpec) or
//! an encoder's output declaration; per step only flat `f32` buffers move, in the declared
//! order. The host allocates these buffers once and the plugin refills them in place, so a
//! step allocates nothing once the buffers have grown to size.

use abi_stable::{StableAbi, std_types::RVec};

/// One observation: a flat `f32` buffer per declared sense, in declaration order.
///
/// Each buffer holds the sense's values in row-major order of its declared shape. Images
/// (dtype `u8`) are carried as `f32` values in `0..=255`.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq)]
pub struct Sensation {
    /// The senses' buffers, in the order the producer declared them.
    pub senses: RVec<RVec<f32>>,
}

impl Sensation {
    /// A sensation with `count` empty buffers.
    pub fn with_senses(count: usize) -> Self {
        let mut senses = RVec::with_capacity(count);
        for _ in 0..count {
            senses.push(RVec::new());
        }
        Sensation { senses }
    }

    /// Makes sure there are exactly `count` buffers, keeping existing allocations.
    pub fn ensure_senses(&mut self, count: usize) {
        while self.senses.len() < count {
            self.senses.push(RVec::new());
        }
        self.senses.truncate(count);
    }

    /// Replaces the contents of buffer `index` with `values`, reusing its allocation.
    ///
    /// # Panics
    /// If `index` is not below the number of buffers; call [`Sensation::ensure_senses`] first.
    pub fn set(&mut self, index: usize, values: &[f32]) {
        let buffer = &mut self.senses[index];
        buffer.clear();
        buffer.extend_from_slice(values);
    }

    /// The values of buffer `index`, or `None` if there is no such buffer.
    pub fn get(&self, index: usize) -> Option<&[f32]> {
        self.senses.get(index).map(|b| b.as_slice())
    }
}

/// What a task returns from one step.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    /// The observation after the step.
    pub sensation: Sensation,
    /// The reward for the transition.
    pub reward: f64,
    /// The episode ended in a terminal state of the task (no bootstrapping past it).
    pub terminated: bool,
    /// The episode was cut off (for example by a time limit); the state is not terminal.
    pub truncated: bool,
    /// Per-step values of the task's declared metrics, in declaration order.
    pub metrics: RVec<f64>,
}

impl StepOutput {
    /// Resets the scalar fields and sizes the buffers for a task with `senses` senses and
    /// `metrics` metrics, keeping allocations.
    pub fn prepare(&mut self, senses: usize, metrics: usize) {
        self.sensation.ensure_senses(senses);
        self.reward = 0.0;
        self.terminated = false;
        self.truncated = false;
        self.metrics.clear();
        self.metrics.resize(metrics, 0.0);
    }
}
