//! Which burn backend the networks run on.

use burn::tensor::Device;

/// A compute backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComputeBackend {
    /// burn's `flex` CPU backend: the default, measured fastest here
    /// (docs/decisions/0003-cpu-backend.md).
    Flex,
    /// burn's deprecated `ndarray` CPU backend, kept for comparison (cargo feature `ndarray`).
    #[cfg(feature = "ndarray")]
    NdArray,
}

impl ComputeBackend {
    /// The device for training (with autodiff) and the one for inference.
    pub fn devices(self) -> (Device, Device) {
        let device = match self {
            ComputeBackend::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated, reason = "kept only to measure it against flex")]
            ComputeBackend::NdArray => Device::ndarray(),
        };
        (device.clone().autodiff(), device)
    }
}
