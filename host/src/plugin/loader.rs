//! Finding plugin libraries and loading each one on its own, so that one bad file never
//! stops the others.
//!
//! Libraries are loaded with abi_stable's `lib_header_from_path`, which checks every file
//! (unlike `RootModule::load_from_file`, which caches one module per type for the process),
//! and are never unloaded: components may hold code and statics of the library until exit.

use std::{
    env,
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
};

use abi_stable::library::{LibraryError, RootModule, lib_header_from_path};
use angora_plugin_api::{API_VERSION, ComponentDescriptor, PluginRoot_Ref};
use sha2::{Digest, Sha256};

use super::elf::{ElfProblem, check_shared_library};

/// Why one plugin file could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// A directory given explicitly does not exist or cannot be read.
    #[error("{path}: plugin directory cannot be read: {reason}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not a shared library.
    #[error("{path}: not a plugin library: {reason}")]
    NotALibrary {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The file is a damaged shared library.
    #[error("{path}: corrupt plugin library: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is damaged.
        reason: String,
    },
    /// The dynamic loader refused the file.
    #[error("{path}: the dynamic loader could not open it: {reason}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
    /// The library exports no Angora root module.
    #[error(
        "{path}: not an Angora plugin: it exports no root module (was it built with `angora_plugin_api::export_plugin!()`?)"
    )]
    NoRootModule {
        /// The file.
        path: PathBuf,
    },
    /// The library was built against an incompatible plugin API.
    #[error(
        "{path}: built against an incompatible plugin API (this host uses angora-plugin-api {host_api}{plugin_api}): {reason}; rebuild the plugin against angora-plugin-api {host_api}"
    )]
    Incompatible {
        /// The file.
        path: PathBuf,
        /// This host's API version.
        host_api: &'static str,
        /// `", the plugin X"` when the plugin's version could be read.
        plugin_api: String,
        /// The layout or version mismatch.
        reason: String,
    },
    /// The library's root module failed or panicked while listing its components.
    #[error("{path}: the plugin failed while listing its components: {reason}")]
    Listing {
        /// The file.
        path: PathBuf,
        /// The plugin's error.
        reason: String,
    },
}

/// A loaded plugin library.
pub struct Library {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// SHA-256 of the file, in hex, recorded in run configs.
    pub sha256: String,
    /// The angora-plugin-api version it was built against.
    pub api_version: String,
    root: PluginRoot_Ref,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library")
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .finish()
    }
}

impl Library {
    /// The library's root module.
    pub fn root(&self) -> PluginRoot_Ref {
        self.root
    }
}

/// The directories searched for plugins, in order.
#[derive(Debug, Clone, Default)]
pub struct SearchPath {
    /// Directories, with whether a missing one is an error (explicitly requested) or not.
    pub dirs: Vec<(PathBuf, bool)>,
}

impl SearchPath {
    /// The standard order: `--plugin-dir` flags, `ANGORA_PLUGIN_PATH` (colon-separated), the
    /// user directory (`$XDG_DATA_HOME/angora/plugins`, by default
    /// `~/.local/share/angora/plugins`), `plugins/` beside the executable, and the cargo
    /// build directory the executable sits in, if it sits in one. Without `defaults`, only
    /// the flags and the environment variable count.
    pub fn standard(cli_dirs: &[PathBuf], defaults: bool) -> Self {
        let mut dirs: Vec<(PathBuf, bool)> = cli_dirs.iter().map(|d| (d.clone(), true)).collect();
        if let Some(path) = env::var_os("ANGORA_PLUGIN_PATH") {
            dirs.extend(
                env::split_paths(&path)
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(|p| (p, true)),
            );
        }
        if !defaults {
            return SearchPath { dirs };
        }
        let data_home = env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".local/share")));
        if let Some(data_home) = data_home {
            dirs.push((data_home.join("angora/plugins"), false));
        }
        if let Some(exe_dir) = env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf))
        {
            dirs.push((exe_dir.join("plugins"), false));
            // Cargo writes plugin cdylibs next to the binary in target/<profile>/, which it
            // marks with a `.cargo-lock` file; test binaries live one level down, in deps/.
            let build_dir = if exe_dir.ends_with("deps") {
                exe_dir.parent().map(Path::to_path_buf)
            } else {
                Some(exe_dir)
            };
            if let Some(build_dir) = build_dir.filter(|d| d.join(".cargo-lock").exists()) {
                dirs.push((build_dir, false));
            }
        }
        SearchPath { dirs }
    }

    /// Only the given directories, each required to exist.
    pub fn only(dirs: impl IntoIterator<Item = PathBuf>) -> Self {
        SearchPath {
            dirs: dirs.into_iter().map(|d| (d, true)).collect(),
        }
    }

    /// The plugin files found, in search order, each once, with the errors of directories
    /// that were required but cannot be read.
    pub fn files(&self) -> (Vec<PathBuf>, Vec<LoadError>) {
        let mut files = Vec::new();
        let mut seen = Vec::new();
        let mut errors = Vec::new();
        for (dir, required) in &self.dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) => {
                    if *required {
                        errors.push(LoadError::Directory {
                            path: dir.clone(),
                            reason: e.to_string(),
                        });
                    }
                    continue;
                }
            };
            let mut here: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_library_name(p))
                .collect();
            here.sort();
            for file in here {
                let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
                if !seen.contains(&canonical) {
                    seen.push(canonical);
                    files.push(file);
                }
            }
        }
        (files, errors)
    }
}

/// Whether a file name looks like a shared library of this platform.
fn is_library_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(env::consts::DLL_SUFFIX) && !n.starts_with('.'))
}

/// Adds how to fix the most common reason a whole library fails to open: a shared library it
/// links against is missing.
fn with_fix(reason: String) -> String {
    let hint = if reason.contains("libmujoco") {
        // Missing, or present but damaged ("file too short", "invalid ELF header").
        "MuJoCo is missing or damaged where the plugin was built to find it: run scripts/setup-mujoco.sh in the Angora repository (or rebuild the plugin)"
    } else if reason.contains("cannot open shared object file") {
        "install the missing library, or make it findable through LD_LIBRARY_PATH"
    } else {
        return reason;
    };
    format!("{reason} ({hint})")
}

/// Loads one plugin file and lists its components.
pub fn load(path: &Path) -> Result<(Arc<Library>, Vec<ComponentDescriptor>), LoadError> {
    let bytes = std::fs::read(path).map_err(|e| LoadError::Open {
        path: path.into(),
        reason: e.to_string(),
    })?;
    if cfg!(target_os = "linux") {
        check_shared_library(&bytes).map_err(|problem| match problem {
            ElfProblem::NotALibrary(reason) => LoadError::NotALibrary {
                path: path.into(),
                reason,
            },
            ElfProblem::Corrupt(reason) => LoadError::Corrupt {
                path: path.into(),
                reason,
            },
        })?;
    }
    let sha256 = hex(&Sha256::digest(&bytes));
    drop(bytes);

    let header = lib_header_from_path(path).map_err(|e| library_error(path, None, e))?;
    let plugin_api = header.version_strings().version.to_string();
    let root = header
        .init_root_module::<PluginRoot_Ref>()
        .map_err(|e| library_error(path, Some(&plugin_api), e))?;
    let components = match (root.components())() {
        abi_stable::std_types::ROk(list) => list.into_vec(),
        abi_stable::std_types::RErr(e) => {
            return Err(LoadError::Listing {
                path: path.into(),
                reason: e.to_string(),
            });
        }
    };
    let library = Library {
        path: path.into(),
        sha256,
        api_version: plugin_api,
        root,
    };
    Ok((Arc::new(library), components))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Translates abi_stable's loader error into a message for people.
fn library_error(path: &Path, plugin_api: Option<&str>, error: LibraryError) -> LoadError {
    let incompatible = |reason: String| LoadError::Incompatible {
        path: path.into(),
        host_api: API_VERSION,
        plugin_api: plugin_api
            .map(|v| format!(", the plugin {v}"))
            .unwrap_or_default(),
        reason,
    };
    match error {
        LibraryError::OpenError { err, .. } => LoadError::Open {
            path: path.into(),
            reason: with_fix(err.to_string()),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NoRootModule { path: path.into() },
        LibraryError::ParseVersionError(e) => incompatible(format!("unreadable version: {e}")),
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => incompatible(format!(
            "version {actual_version} is not compatible with {expected_version}"
        )),
        LibraryError::AbiInstability(e) => incompatible(layout_summary(&e.to_string())),
        LibraryError::InvalidAbiHeader(_) => {
            incompatible("the library uses a different abi_stable header".into())
        }
        LibraryError::InvalidCAbi { .. } => {
            incompatible("the library was built with a different C ABI".into())
        }
        LibraryError::RootModule { err, .. } => LoadError::Listing {
            path: path.into(),
            reason: err.to_string(),
        },
        other => incompatible(other.to_string().trim().to_string()),
    }
}

/// abi_stable's layout report runs to hundreds of lines with the cause at the end: keep the
/// type that differs and the distinct `Error:` lines, with their expected and found values
/// when those fit on one line.
fn layout_summary(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let type_name = lines
        .iter()
        .rposition(|l| l.starts_with("Layout of found type"))
        .and_then(|i| lines[i..].iter().find_map(|l| l.strip_prefix("type:")));
    let mut causes: Vec<String> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(what) = line.strip_prefix("Error:") else {
            continue;
        };
        let mut cause = what.trim().to_string();
        if lines.get(i + 1) == Some(&"Expected:")
            && lines.get(i + 3) == Some(&"Found:")
            && let (Some(expected), Some(found)) = (lines.get(i + 2), lines.get(i + 4))
        {
            cause = format!("{cause}: expected {expected}, found {found}");
        }
        if !causes.contains(&cause) {
            causes.push(cause);
        }
    }
    if causes.is_empty() {
        let tail: Vec<&str> = lines.iter().copied().filter(|l| !l.is_empty()).collect();
        causes.push(tail[tail.len().saturating_sub(3)..].join(" "));
    }
    causes.truncate(3);
    match type_name {
        Some(name) => format!("the layout of type {name} differs ({})", causes.join("; ")),
        None => format!("the type layouts differ ({})", causes.join("; ")),
    }
}

/// The root module type's base name, used in documentation of file naming.
pub const ROOT_MODULE_BASE_NAME: &str = PluginRoot_Ref::BASE_NAME;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_summary_keeps_the_causes() {
        let report = "lots\nLayout of found type:\n  type:StepOutput\n  size:88\nError:incompatible type size\nExpected:\n    80\nFound:\n    88\n\nError:unexpected field\nExpected:\n  field_name:a\n  type:u8\nFound:\n  field_name:b\n";
        let s = layout_summary(report);
        assert!(s.contains("type StepOutput"), "{s}");
        assert!(
            s.contains("incompatible type size: expected 80, found 88"),
            "{s}"
        );
        assert!(s.contains("unexpected field"), "{s}");
    }

    #[test]
    fn missing_optional_dirs_are_skipped_but_required_ones_reported() {
        let search = SearchPath {
            dirs: vec![
                ("/nonexistent/a".into(), false),
                ("/nonexistent/b".into(), true),
            ],
        };
        let (files, errors) = search.files();
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("/nonexistent/b"));
    }
}
