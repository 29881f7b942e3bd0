//! Bakes the directory of MuJoCo's shared library into this crate's binaries (the plugin
//! library, tests, benchmarks) as an rpath, so they run from any directory without
//! `LD_LIBRARY_PATH`. The directory comes from `.cargo/config.toml`, which points at what
//! `scripts/setup-mujoco.sh` installs; mujoco-rs links against the same directory.

fn main() {
    println!("cargo::rerun-if-env-changed=MUJOCO_DYNAMIC_LINK_DIR");
    match std::env::var("MUJOCO_DYNAMIC_LINK_DIR") {
        Ok(dir) => println!("cargo::rustc-link-arg=-Wl,-rpath,{dir}"),
        Err(_) => println!(
            "cargo::warning=MUJOCO_DYNAMIC_LINK_DIR is not set: run scripts/setup-mujoco.sh \
             (the repository's .cargo/config.toml points at what it installs)"
        ),
    }
}
