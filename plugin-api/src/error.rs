//! The error type that crosses the plugin boundary.

use std::fmt;

use abi_stable::{StableAbi, std_types::RString};

/// What kind of failure a [`PluginError`] reports.
///
/// The host maps kinds to exit codes and messages: every kind except
/// [`ErrorKind::Runtime`] means the input (a config, an action, a plugin) was bad.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A component config could not be parsed or holds a value out of range.
    InvalidConfig,
    /// A call received an argument it cannot use: an action of the wrong length, a NaN, an
    /// index out of range, a slice whose length does not match the declared shapes.
    InvalidArgument,
    /// The component cannot work with what it was given (for example a distribution asked to
    /// bind to an action space it does not support, or a model missing a required sense).
    Unsupported,
    /// The plugin panicked; the message holds the panic payload and its location.
    Panicked,
    /// The component was poisoned by an earlier panic and refuses further calls.
    Poisoned,
    /// The call failed for a reason that is not the caller's fault.
    Runtime,
}

impl ErrorKind {
    /// A short lowercase label, used in messages.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::InvalidConfig => "invalid config",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Panicked => "panicked",
            ErrorKind::Poisoned => "poisoned by an earlier panic",
            ErrorKind::Runtime => "runtime failure",
        }
    }
}

/// An error returned by a plugin: a kind and a human-readable message.
///
/// Plugins never let a panic cross the boundary; the adapters in this crate catch panics and
/// return a `PluginError` of kind [`ErrorKind::Panicked`] instead.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginError {
    /// The category of the failure.
    pub kind: ErrorKind,
    /// What went wrong, written for the person running the host.
    pub message: RString,
}

impl PluginError {
    /// An error of the given kind with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        PluginError {
            kind,
            message: RString::from(message.into()),
        }
    }

    /// A config that cannot be used.
    pub fn invalid_config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidConfig, message)
    }

    /// An argument that cannot be used.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    /// A request the component does not support.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// A failure that is not the caller's fault.
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

impl std::error::Error for PluginError {}
