//! Support for the integration tests and benchmarks: where the built binary and plugins are,
//! building the fixture and example plugins (outside the host's default search path), and
//! running `angora` against a private plugin directory.
//!
//! The tests use what `cargo build --workspace` produced (the README's test command builds it
//! first); the fixtures and the out-of-tree example are separate workspaces that are built
//! here, once per test process, into `target/external`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// The cargo profile directory the running test or bench binary was built into
/// (`target/debug` or `target/release`), which also holds `angora` and the shipped plugins.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let deps = exe
        .parent()
        .expect("test binaries live in target/<profile>/deps");
    deps.parent().expect("deps/ has a parent").to_path_buf()
}

/// The target directory.
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf()
}

fn profile_name() -> String {
    profile_dir()
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_string()
}

/// The built `angora` binary.
pub fn angora_exe() -> PathBuf {
    let exe = profile_dir().join("angora");
    assert!(
        exe.exists(),
        "{} is missing: run `cargo build --workspace` first",
        exe.display()
    );
    exe
}

/// The file of a shipped plugin library, e.g. `shipped("classic_control")`.
pub fn shipped(name: &str) -> PathBuf {
    let file = profile_dir().join(format!(
        "libangora_plugin_{name}{}",
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        file.exists(),
        "{} is missing: run `cargo build --workspace` first",
        file.display()
    );
    file
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds the workspace at `manifest` into `target/external` with the current profile and
/// returns the profile directory of the result.
fn build_external(manifest: &Path) -> PathBuf {
    let target = target_dir().join("external");
    let mut command = cargo();
    command
        .args(["build", "--quiet", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target);
    if profile_name() == "release" {
        command.arg("--release");
    }
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "building {} failed", manifest.display());
    target.join(profile_name())
}

/// The directory holding the built fixture plugins.
pub fn fixtures_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build_external(&root().join("tests/fixtures/Cargo.toml")))
}

/// The file of a fixture plugin, e.g. `fixture("panicky")`.
pub fn fixture(name: &str) -> PathBuf {
    fixtures_dir().join(format!(
        "libangora_fixture_{name}{}",
        std::env::consts::DLL_SUFFIX
    ))
}

/// The out-of-tree example plugin, built from `examples/out-of-tree-plugin`.
pub fn out_of_tree_plugin() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = build_external(&root().join("examples/out-of-tree-plugin/Cargo.toml"));
        dir.join(format!("libgridwalk{}", std::env::consts::DLL_SUFFIX))
    })
}

/// A plugin built against a copy of plugin-api whose `StepOutput` has one more field than
/// this host's: the same package name and version, an incompatible layout.
pub fn incompatible_plugin() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let work = target_dir().join("external-src/incompatible");
        if work.exists() {
            fs::remove_dir_all(&work).expect("the old copy can be removed");
        }
        let api = work.join("plugin-api");
        copy_dir(&root().join("plugin-api/src"), &api.join("src"));
        let buffers = api.join("src/buffers.rs");
        let source = fs::read_to_string(&buffers).expect("buffers.rs is readable");
        let marker = "pub struct StepOutput {";
        assert!(source.contains(marker), "plugin-api's StepOutput moved; update this fixture");
        let patched = source.replacen(
            marker,
            "pub struct StepOutput {\n    /// A field this host does not know.\n    pub added_in_an_incompatible_version: u64,",
            1,
        );
        fs::write(&buffers, patched).expect("the patched copy is writable");
        fs::write(
            api.join("Cargo.toml"),
            format!(
                "[package]\nname = \"angora-plugin-api\"\nversion = \"{}\"\nedition = \"2024\"\n\n[dependencies]\n\
                 abi_stable = \"0.11.3\"\ninventory = \"0.3\"\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n",
                angora_plugin_api::API_VERSION
            ),
        )
        .expect("the manifest is writable");
        let plugin = work.join("plugin");
        copy_dir(&root().join("tests/fixtures/echo/src"), &plugin.join("src"));
        fs::write(
            plugin.join("Cargo.toml"),
            "[package]\nname = \"angora-fixture-incompatible\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nangora-plugin-api = { path = \"../plugin-api\" }\n\
             serde = { version = \"1\", features = [\"derive\"] }\n",
        )
        .expect("the manifest is writable");
        fs::write(work.join("Cargo.toml"), "[workspace]\nresolver = \"3\"\nmembers = [\"plugin\"]\n").expect("writable");
        // Resolve to the versions this workspace already uses.
        fs::copy(root().join("Cargo.lock"), work.join("Cargo.lock")).expect("Cargo.lock copies");
        let dir = build_external(&work.join("Cargo.toml"));
        dir.join(format!("libangora_fixture_incompatible{}", std::env::consts::DLL_SUFFIX))
    })
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("the directory can be created");
    for entry in fs::read_dir(from).expect("the source directory is readable") {
        let entry = entry.expect("the entry is readable");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("the file copies");
        }
    }
}

/// A private plugin directory for one test.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl Default for PluginDir {
    fn default() -> Self {
        Self::new()
    }
}

impl PluginDir {
    /// An empty directory.
    pub fn new() -> Self {
        PluginDir {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies a library in under its own file name and returns the copy's path.
    pub fn add(&self, library: &Path) -> PathBuf {
        let name = library.file_name().expect("a library has a file name");
        self.add_as(library, name.to_str().expect("UTF-8 file name"))
    }

    /// Copies a library in under another name and returns the copy's path.
    pub fn add_as(&self, library: &Path, name: &str) -> PathBuf {
        let target = self.dir.path().join(name);
        fs::copy(library, &target).expect("the library copies");
        target
    }

    /// Writes a file with the given bytes and returns its path.
    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let target = self.dir.path().join(name);
        fs::write(&target, bytes).expect("the file is writable");
        target
    }

    /// `angora` searching only this directory.
    pub fn angora(&self) -> Command {
        let mut command = isolated_angora();
        command
            .arg("--no-default-plugin-dirs")
            .arg("--plugin-dir")
            .arg(self.path());
        command
    }
}

/// `angora` with no plugin path from the environment and an empty user directory.
pub fn isolated_angora() -> Command {
    let mut command = Command::new(angora_exe());
    isolate(&mut command);
    command
}

/// Gives `command` (an `angora`, or a launcher such as `mpirun` that passes its environment on)
/// the environment of [`isolated_angora`].
pub fn isolate(command: &mut Command) {
    static EMPTY: OnceLock<tempfile::TempDir> = OnceLock::new();
    let empty = EMPTY.get_or_init(|| tempfile::tempdir().expect("a temporary directory"));
    command
        .env_remove("ANGORA_PLUGIN_PATH")
        .env("XDG_DATA_HOME", empty.path());
}

/// What a finished command did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; `None` if a signal killed it (which must never happen).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    /// Parses standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs a command to completion.
pub fn run(command: &mut Command) -> Outcome {
    let output = command.output().expect("the command starts");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A small deterministic stream of numbers in [-1, 1).
pub fn numbers(seed: u64, n: usize) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}
