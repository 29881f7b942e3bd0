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
    /// burn-wgpu on a GPU (any Vulkan, Metal or DirectX 12 adapter wgpu finds; Mesa's
    /// software Vulkan on a machine without one), for optimisation and batched inference
    /// (cargo feature `wgpu`).
    #[cfg(feature = "wgpu")]
    Wgpu(GpuChoice),
}

/// Which wgpu adapter to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpuChoice {
    /// wgpu's own choice (a high-performance GPU first; `CUBECL_WGPU_DEFAULT_DEVICE`
    /// overrides it).
    #[default]
    Default,
    /// The n-th discrete GPU.
    Discrete(usize),
    /// The n-th integrated GPU.
    Integrated(usize),
    /// The n-th virtual GPU.
    Virtual(usize),
    /// A CPU adapter (a software renderer such as Mesa's lavapipe).
    Cpu,
}

impl std::str::FromStr for GpuChoice {
    type Err = String;

    /// `default`, `discrete:N`, `integrated:N`, `virtual:N` or `cpu` (N defaults to 0).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, index) = text.split_once(':').unwrap_or((text, "0"));
        let index: usize = index
            .parse()
            .map_err(|_| format!("'{index}' in '{text}' is not an adapter index"))?;
        match kind {
            "default" => Ok(GpuChoice::Default),
            "discrete" => Ok(GpuChoice::Discrete(index)),
            "integrated" => Ok(GpuChoice::Integrated(index)),
            "virtual" => Ok(GpuChoice::Virtual(index)),
            "cpu" => Ok(GpuChoice::Cpu),
            other => Err(format!(
                "unknown GPU kind '{other}'; use default, discrete:N, integrated:N, virtual:N or cpu"
            )),
        }
    }
}

/// Why a backend cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(String);

impl ComputeBackend {
    /// The device for training (with autodiff) and the one for inference.
    pub fn devices(self) -> Result<(Device, Device), BackendError> {
        let device = match self {
            ComputeBackend::Flex => Device::flex(),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated, reason = "kept only to measure it against flex")]
            ComputeBackend::NdArray => Device::ndarray(),
            #[cfg(feature = "wgpu")]
            ComputeBackend::Wgpu(choice) => gpu::device(choice)?,
        };
        Ok((device.clone().autodiff(), device))
    }
}

#[cfg(feature = "wgpu")]
mod gpu {
    use std::sync::{Mutex, OnceLock};

    use burn::tensor::{Device, DeviceKind};

    use super::{BackendError, GpuChoice};

    /// The adapters looked for so far in this process, and what was found.
    type Found = Vec<(GpuChoice, Result<Device, BackendError>)>;

    /// The wgpu device for `choice`, found and initialised once per process (wgpu refuses a
    /// second initialisation of the same adapter).
    pub fn device(choice: GpuChoice) -> Result<Device, BackendError> {
        static DEVICES: OnceLock<Mutex<Found>> = OnceLock::new();
        let mut devices = DEVICES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, found)) = devices.iter().find(|(c, _)| *c == choice) {
            return found.clone();
        }
        let kind = match choice {
            GpuChoice::Default => DeviceKind::DefaultDevice,
            GpuChoice::Discrete(i) => DeviceKind::DiscreteGpu(i),
            GpuChoice::Integrated(i) => DeviceKind::IntegratedGpu(i),
            GpuChoice::Virtual(i) => DeviceKind::VirtualGpu(i),
            GpuChoice::Cpu => DeviceKind::Cpu,
        };
        let found = Device::wgpu_options()
            .device_kind(kind)
            .init()
            .map_err(|e| {
                BackendError(format!(
                    "no usable wgpu adapter ({choice:?}): {e}. A GPU needs its Vulkan driver; without a GPU, Mesa's software Vulkan works (Debian/Ubuntu: apt-get install mesa-vulkan-drivers), or train with --backend cpu"
                ))
            });
        devices.push((choice, found.clone()));
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_choices_parse_and_bad_ones_are_named() {
        assert_eq!("default".parse(), Ok(GpuChoice::Default));
        assert_eq!("discrete".parse(), Ok(GpuChoice::Discrete(0)));
        assert_eq!("integrated:1".parse(), Ok(GpuChoice::Integrated(1)));
        assert_eq!("cpu".parse(), Ok(GpuChoice::Cpu));
        let error = "quantum:0".parse::<GpuChoice>().unwrap_err();
        assert!(error.contains("quantum"), "{error}");
        assert!(
            "discrete:x"
                .parse::<GpuChoice>()
                .unwrap_err()
                .contains("'x'")
        );
    }
}
