//! The `angora` command line. Exit codes: 0 success, 1 runtime failure, 2 bad input (an
//! unknown name, a malformed config, a broken or panicking plugin).

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::{
    eval::{EvalOptions, EvalReport, Policy, RandomPolicy, evaluate},
    plugin::{Registry, RegistryError, SearchPath},
    train::{
        backend::{ComputeBackend, GpuChoice},
        comm::{self, Communicator},
        config::{self, ConfigError, TrainConfig},
        policy::load_run,
        run::{self, RunOptions, TrainError},
        setup::EnvStack,
    },
};
use angora_plugin_api::{ActionSpace, ComponentKind};

/// Train goal-driven sensorimotor models with reinforcement learning.
#[derive(Debug, Parser)]
#[command(name = "angora", version, about, long_about = None)]
pub struct Cli {
    /// A directory to search for plugin libraries (repeatable; searched first, before
    /// ANGORA_PLUGIN_PATH, the user directory and the directory of the executable).
    #[arg(long = "plugin-dir", value_name = "DIR", global = true)]
    pub plugin_dirs: Vec<PathBuf>,

    /// Search only --plugin-dir and ANGORA_PLUGIN_PATH, not the user directory or the
    /// directory of the executable.
    #[arg(long, global = true)]
    pub no_default_plugin_dirs: bool,

    /// Print no progress output.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the components of every plugin found, and the files that failed to load.
    Plugins(PluginsArgs),
    /// Train a policy with PPO; writes a run directory with its config, metrics and
    /// checkpoints.
    Train(TrainArgs),
    /// Continue a run that was stopped or killed, from its last checkpoint.
    Resume(ResumeArgs),
    /// Run episodes with a trained policy (RUN_DIR) or a random one (--task T --policy
    /// random) and summarise returns and metrics.
    Eval(EvalArgs),
    /// Measure throughput: gathering with policy inference, or PPO updates.
    Bench(BenchArgs),
}

/// What `angora bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchTarget {
    /// Environment steps per second while gathering, policy inference included.
    Gather,
    /// Transitions per second through the PPO update (forward, loss, backward, Adam).
    Update,
    /// Sums per second over the MPI processes of a buffer the size of the model's parameters
    /// (run under `mpirun`; a single process measures only the call overhead).
    AllReduce,
}

/// `angora bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum)]
    pub target: BenchTarget,
    /// The run configuration, as for `angora train` (task, model, preset, --set ...).
    #[command(flatten)]
    pub train: TrainArgs,
    /// Measure for at least this many seconds.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

/// `angora train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A TOML config file (its keys override the preset's).
    pub config: Option<PathBuf>,
    /// The task to train on.
    #[arg(long)]
    pub task: Option<String>,
    /// A body for tasks that compose one.
    #[arg(long)]
    pub body: Option<String>,
    /// Sensation encoders to apply, in order (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sensation: Vec<String>,
    /// The model architecture.
    #[arg(long)]
    pub model: Option<String>,
    /// The policy distribution (default: chosen from the action space).
    #[arg(long)]
    pub distribution: Option<String>,
    /// A named preset of hyperparameters (default: the task's recommended preset).
    #[arg(long)]
    pub preset: Option<String>,
    /// Environment steps to train for (rounded up to whole cycles).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Gathering worker threads.
    #[arg(long)]
    pub workers: Option<u32>,
    /// The seed of everything random in the run.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where the neural networks run.
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// With `--backend wgpu`, which adapter: default, discrete:N, integrated:N, virtual:N or cpu.
    #[arg(long, default_value = "default")]
    pub device: GpuChoice,
    /// The run directory (default: runs/<task>-<time>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override a config key, e.g. `ppo.learning_rate=1e-3` or `task.config.max_episode_steps=200`
    /// (VALUE is JSON, or else a string). Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// List the presets and exit.
    #[arg(long)]
    pub list_presets: bool,
    /// Print a JSON summary at the end.
    #[arg(long)]
    pub json: bool,
}

/// The compute backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// burn's CPU backend (flex).
    Cpu,
    /// burn-wgpu on a GPU (needs a build with the `wgpu` feature).
    Wgpu,
    /// burn's deprecated ndarray CPU backend, for comparison (build feature `ndarray`).
    #[cfg(feature = "ndarray")]
    Ndarray,
}

impl Backend {
    fn compute(self, device: GpuChoice) -> Result<ComputeBackend, Failure> {
        if self != Backend::Wgpu && device != GpuChoice::Default {
            return Err(Failure::bad_input(anyhow!(
                "--device chooses a GPU adapter and applies only to --backend wgpu"
            )));
        }
        match self {
            Backend::Cpu => Ok(ComputeBackend::Flex),
            #[cfg(feature = "ndarray")]
            Backend::Ndarray => Ok(ComputeBackend::NdArray),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(ComputeBackend::Wgpu(device)),
            #[cfg(not(feature = "wgpu"))]
            Backend::Wgpu => Err(Failure::bad_input(anyhow!(
                "this angora was built without GPU support; rebuild with `cargo build --release --features angora-host/wgpu` to use --backend wgpu"
            ))),
        }
    }
}

/// `angora resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Where the neural networks run (a run may continue on another backend; results then
    /// differ by rounding).
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    pub backend: Backend,
    /// With `--backend wgpu`, which adapter (as for `angora train`).
    #[arg(long, default_value = "default")]
    pub device: GpuChoice,
    /// Train to this many steps in all instead of the run's configured budget (to extend a
    /// finished run; the new budget is written into the run's config.json). A linear
    /// learning-rate schedule is recomputed for the new budget: the rate of cycle c becomes
    /// base x (1 - c / new number of cycles).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Print a JSON summary at the end.
    #[arg(long)]
    pub json: bool,
}

/// `angora plugins`.
#[derive(Debug, Args)]
pub struct PluginsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Show one component instead of listing all.
    #[command(subcommand)]
    pub action: Option<PluginsAction>,
}

/// `angora plugins info`.
#[derive(Debug, Subcommand)]
pub enum PluginsAction {
    /// Show a component: kind, version, file, description, default config and, for tasks and
    /// bodies, what they declare.
    Info {
        /// The component's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The policies `angora eval` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyChoice {
    /// Uniform samples from the action space (with --task).
    Random,
    /// A run's trained policy, acting deterministically (with RUN_DIR).
    Trained,
    /// A run's trained policy, sampling its actions (with RUN_DIR).
    Stochastic,
}

/// `angora eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory whose trained policy to evaluate.
    pub run_dir: Option<PathBuf>,

    /// The task to run (with --policy random).
    #[arg(long, conflicts_with = "run_dir")]
    pub task: Option<String>,

    /// The policy (default: trained with RUN_DIR).
    #[arg(long, value_enum)]
    pub policy: Option<PolicyChoice>,

    /// The checkpoint of the run: last, best or cycle-N.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,

    /// A body for tasks that compose one (with --task).
    #[arg(long)]
    pub body: Option<String>,

    /// Number of episodes.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub episodes: u32,

    /// Seed of the first episode (and of the policy's sampling).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Override a config key: `task.KEY=VALUE` or `body.KEY=VALUE` (VALUE is JSON, or else a
    /// string). Repeatable; with --task only.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,

    /// Cut episodes after this many steps if the task declares no limit.
    #[arg(long, default_value_t = 100_000)]
    pub step_cap: u32,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A failed command: its exit code and the error to print.
#[derive(Debug)]
pub struct Failure {
    /// 1 for a runtime failure, 2 for bad input.
    pub code: u8,
    /// What went wrong.
    pub error: anyhow::Error,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: 2,
            error: error.into(),
        }
    }

    /// Runtime failure: exit code 1.
    pub fn runtime(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            code: 1,
            error: error.into(),
        }
    }

    fn from_registry(error: RegistryError) -> Self {
        if error.is_bad_input() {
            Failure::bad_input(error)
        } else {
            Failure::runtime(error)
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let world = comm::world();
    match run(cli, world.as_ref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if world.size() > 1 {
                eprintln!(
                    "error (MPI process {} of {}): {:#}",
                    world.rank(),
                    world.size(),
                    failure.error
                );
                // The other processes may be waiting for this one in a collective operation:
                // end them all rather than leave them hanging.
                world.abort(i32::from(failure.code));
            } else {
                eprintln!("error: {:#}", failure.error);
            }
            ExitCode::from(failure.code)
        }
    }
}

/// Runs one parsed command as one of the run's processes (`comm`; a single process without
/// MPI). Only the first process prints progress and results.
pub fn run(cli: Cli, comm: &dyn Communicator) -> Result<(), Failure> {
    let search = SearchPath::standard(&cli.plugin_dirs, !cli.no_default_plugin_dirs);
    let registry = Registry::load(&search);
    let distributed = matches!(
        cli.command,
        Command::Train(_) | Command::Resume(_) | Command::Bench(_)
    );
    if comm.size() > 1 && !distributed {
        return Err(Failure::bad_input(anyhow!(
            "only `train`, `resume` and `bench` run as several MPI processes; start this command without mpirun"
        )));
    }
    let quiet = cli.quiet || !comm.is_root();
    match cli.command {
        Command::Plugins(args) => match args.action {
            None => list_plugins(&registry, &search, args.json),
            Some(PluginsAction::Info { name, json }) => {
                plugin_info(&registry, &name, json || args.json)
            }
        },
        Command::Train(args) => {
            report_problems(&registry, quiet);
            train(&registry, &args, quiet, comm)
        }
        Command::Resume(args) => {
            report_problems(&registry, quiet);
            resume(&registry, &args, quiet, comm)
        }
        Command::Eval(args) => {
            report_problems(&registry, cli.quiet);
            eval(&registry, &args, cli.quiet)
        }
        Command::Bench(args) => {
            report_problems(&registry, quiet);
            bench(&registry, &args, comm)
        }
    }
}

/// Prints load problems as warnings; commands that need a broken component fail on their own.
fn report_problems(registry: &Registry, quiet: bool) {
    if quiet {
        return;
    }
    for problem in registry.problems() {
        eprintln!("warning: {problem}");
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(Failure::runtime)?;
    writeln!(std::io::stdout(), "{text}").map_err(Failure::runtime)
}

fn list_plugins(registry: &Registry, search: &SearchPath, json: bool) -> Result<(), Failure> {
    for problem in registry.problems() {
        eprintln!("error: {problem}");
    }
    if json {
        return print_json(&registry.listing(search));
    }
    let components = registry.components();
    let mut out = String::new();
    if components.is_empty() {
        out.push_str("No plugins found. Searched:\n");
        for (dir, _) in &search.dirs {
            out.push_str(&format!("  {}\n", dir.display()));
        }
    }
    for kind in ComponentKind::ALL {
        let of_kind: Vec<_> = components.iter().filter(|c| c.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        out.push_str(&format!("{}\n", kind.plural()));
        let width = of_kind.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in of_kind {
            let file = c
                .library
                .path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:width$}  {:8} {}  [{file}]\n",
                c.name, c.version, c.description
            ));
        }
    }
    if !registry.problems().is_empty() {
        out.push_str(&format!(
            "{} plugin problem(s), listed above on stderr\n",
            registry.problems().len()
        ));
    }
    print!("{out}");
    Ok(())
}

fn plugin_info(registry: &Registry, name: &str, json: bool) -> Result<(), Failure> {
    let Some(info) = registry.find(name) else {
        // Reuse the registry's message (unknown name with suggestions, or ambiguous).
        let kind_guess = ComponentKind::ALL
            .into_iter()
            .map(|k| registry.get(k, name))
            .find_map(|r| {
                r.err()
                    .filter(|e| matches!(e, RegistryError::Ambiguous { .. }))
            });
        let error = kind_guess.map(|e| anyhow!(e)).unwrap_or_else(|| {
            let names: Vec<&str> = registry
                .components()
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            let hint = crate::plugin::registry::suggest(name, &names)
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            anyhow!("unknown component '{name}'{hint}; run `angora plugins` to list them")
        });
        return Err(Failure::bad_input(error));
    };
    // What the component declares, when it can be created with its defaults.
    let declared: Result<Value, String> = match info.kind {
        ComponentKind::Task => registry
            .task(name, &Value::Null, None)
            .map(|t| serde_json::to_value(t.spec()).unwrap_or(Value::Null))
            .map_err(|e| e.to_string()),
        ComponentKind::Body => registry
            .body(name, &Value::Null)
            .map(|b| serde_json::to_value(b.description()).unwrap_or(Value::Null))
            .map_err(|e| e.to_string()),
        _ => Ok(Value::Null),
    };
    if json {
        let mut object = json!({
            "kind": info.kind.as_str(),
            "name": info.name,
            "version": info.version,
            "description": info.description,
            "file": info.library.path.display().to_string(),
            "sha256": info.library.sha256,
            "api_version": info.library.api_version,
            "default_config": info.default_config,
        });
        match declared {
            Ok(Value::Null) => {}
            Ok(value) => object["declares"] = value,
            Err(e) => object["error"] = Value::String(e),
        }
        return print_json(&object);
    }
    let mut out = format!(
        "name:         {}\nkind:         {}\nversion:      {}\nfile:         {}\nsha256:       {}\nplugin API:   {}\ndescription:  {}\ndefault config:\n{}\n",
        info.name,
        info.kind,
        info.version,
        info.library.path.display(),
        info.library.sha256,
        info.library.api_version,
        info.description,
        serde_json::to_string_pretty(&info.default_config).unwrap_or_default(),
    );
    match declared {
        Ok(Value::Null) => {}
        Ok(value) if info.kind == ComponentKind::Task => {
            let spec: angora_plugin_api::TaskSpec =
                serde_json::from_value(value).map_err(Failure::runtime)?;
            out.push_str("declares:\n");
            for s in &spec.senses {
                out.push_str(&format!(
                    "  sense {} {:?} ({:?})\n",
                    s.name, s.shape, s.dtype
                ));
            }
            out.push_str(&format!(
                "  actions {}\n",
                describe_space(&spec.action_space)
            ));
            if let Some(limit) = spec.max_episode_steps {
                out.push_str(&format!("  episodes truncate at {limit} steps\n"));
            }
            for m in &spec.metrics {
                out.push_str(&format!(
                    "  metric {} ({:?} per episode)\n",
                    m.name, m.aggregate
                ));
            }
        }
        Ok(value) => out.push_str(&format!(
            "declares:\n{}\n",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        )),
        Err(e) => out.push_str(&format!(
            "note: it could not be created with its default config: {e}\n"
        )),
    }
    print!("{out}");
    Ok(())
}

fn describe_space(space: &ActionSpace) -> String {
    match space {
        ActionSpace::Discrete { n } => format!("discrete, {n} choices"),
        ActionSpace::MultiDiscrete { nvec } => format!("multi-discrete {nvec:?}"),
        ActionSpace::Box { low, high } => {
            format!("box of {} values in [{:?}, {:?}]", low.len(), low, high)
        }
    }
}

/// Parses `--set SECTION.KEY=VALUE` flags into one JSON object per section.
pub fn parse_overrides(sets: &[String], sections: &[&str]) -> Result<Map<String, Value>, Failure> {
    let mut out = Map::new();
    for set in sets {
        let (path, raw) = set.split_once('=').ok_or_else(|| {
            Failure::bad_input(anyhow!(
                "--set '{set}' is not of the form SECTION.KEY=VALUE"
            ))
        })?;
        let mut keys = path.split('.');
        let section = keys.next().unwrap_or_default();
        if !sections.contains(&section) {
            return Err(Failure::bad_input(anyhow!(
                "--set '{set}': unknown section '{section}' (known: {})",
                sections.join(", ")
            )));
        }
        let keys: Vec<&str> = keys.collect();
        if keys.is_empty() || keys.iter().any(|k| k.is_empty()) {
            return Err(Failure::bad_input(anyhow!(
                "--set '{set}' needs a key after '{section}.'"
            )));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        let mut slot = out
            .entry(section.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        for key in &keys[..keys.len() - 1] {
            slot = slot
                .as_object_mut()
                .expect("every intermediate slot is an object")
                .entry(key.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                return Err(Failure::bad_input(anyhow!(
                    "--set '{set}': '{key}' is set to a value and a table"
                )));
            }
        }
        slot.as_object_mut()
            .ok_or_else(|| Failure::bad_input(anyhow!("--set '{set}': conflicting keys")))?
            .insert(keys[keys.len() - 1].to_string(), value);
    }
    Ok(out)
}

fn eval(registry: &Registry, args: &EvalArgs, quiet: bool) -> Result<(), Failure> {
    let (mut env, mut policy, label): (EnvStack, Box<dyn Policy>, &str) = match (
        &args.run_dir,
        &args.task,
    ) {
        (Some(run_dir), None) => {
            if !args.set.is_empty() || args.body.is_some() {
                return Err(Failure::bad_input(anyhow!(
                    "--set and --body apply to --task; a run uses its own config"
                )));
            }
            let (deterministic, label) = match args.policy.unwrap_or(PolicyChoice::Trained) {
                PolicyChoice::Trained => (true, "the trained policy (deterministic)"),
                PolicyChoice::Stochastic => (false, "the trained policy (stochastic)"),
                PolicyChoice::Random => {
                    return Err(Failure::bad_input(anyhow!(
                        "--policy random needs --task, not a run directory"
                    )));
                }
            };
            let loaded = load_run(
                registry,
                run_dir,
                &args.checkpoint,
                deterministic,
                args.seed,
            )
            .map_err(train_failure)?;
            (loaded.env, Box::new(loaded.policy), label)
        }
        (None, Some(task_name)) => {
            if args.policy != Some(PolicyChoice::Random) {
                return Err(Failure::bad_input(anyhow!(
                    "with --task, use --policy random (a trained policy is evaluated from its run directory)"
                )));
            }
            let overrides = parse_overrides(&args.set, &["task", "body"])?;
            let section = |name: &str| overrides.get(name).cloned().unwrap_or(Value::Null);
            if args.body.is_none() && overrides.contains_key("body") {
                return Err(Failure::bad_input(anyhow!(
                    "--set body.* given without --body"
                )));
            }
            let body = match &args.body {
                Some(name) => Some(
                    registry
                        .body(name, &section("body"))
                        .map_err(Failure::from_registry)?,
                ),
                None => None,
            };
            let task = registry
                .task(
                    task_name,
                    &section("task"),
                    body.as_ref().map(|b| b.description()),
                )
                .map_err(Failure::from_registry)?;
            let policy = RandomPolicy::new(
                task.spec().action_space.clone(),
                args.seed ^ RANDOM_POLICY_STREAM,
            );
            (
                EnvStack::from_task(task),
                Box::new(policy),
                "a random policy",
            )
        }
        (None, None) => {
            return Err(Failure::bad_input(anyhow!(
                "give a run directory, or --task T --policy random"
            )));
        }
        (Some(_), Some(_)) => unreachable!("clap refuses RUN_DIR with --task"),
    };
    let task_name = env.task().ident().name.clone();
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(u64::from(args.episodes));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} episodes {elapsed}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(task_name);
        bar
    };
    let options = EvalOptions {
        episodes: args.episodes,
        seed: args.seed,
        step_cap: args.step_cap,
    };
    let report = evaluate(&mut env, policy.as_mut(), &options, &mut |_| {
        progress.inc(1)
    });
    progress.finish_and_clear();
    let report = report.map_err(|e| match &e {
        crate::eval::EvalError::Task(call) if call.is_bad_input() => Failure::bad_input(e),
        _ => Failure::runtime(e),
    })?;
    if args.json {
        let mut value = serde_json::to_value(&report).map_err(Failure::runtime)?;
        value["policy"] = json!(match (&args.run_dir, args.policy) {
            (None, _) => "random",
            (Some(_), Some(PolicyChoice::Stochastic)) => "stochastic",
            _ => "trained",
        });
        value["seed"] = json!(args.seed);
        if let Some(dir) = &args.run_dir {
            value["run_dir"] = json!(dir.display().to_string());
            value["checkpoint"] = json!(args.checkpoint);
        }
        return print_json(&value);
    }
    print_report(&report, label, args.seed);
    Ok(())
}

fn train_failure(error: TrainError) -> Failure {
    if error.is_bad_input() {
        Failure::bad_input(error)
    } else {
        Failure::runtime(error)
    }
}

fn config_failure(error: ConfigError) -> Failure {
    Failure::bad_input(error)
}

/// Builds the run's configuration from its layers: base, preset, file, flags, `--set`.
pub fn resolve_train_config(args: &TrainArgs) -> Result<(TrainConfig, String), Failure> {
    let file = match &args.config {
        Some(path) => Some(config::read_file(path).map_err(config_failure)?),
        None => None,
    };
    let task = args
        .task
        .clone()
        .or_else(|| {
            file.as_ref()
                .and_then(|f| f["task"]["name"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "CartPole-v1".into());
    let preset_name = args
        .preset
        .clone()
        .unwrap_or_else(|| config::recommended_preset(&task).to_string());
    let mut value = config::base_config();
    config::merge(
        &mut value,
        config::preset(&preset_name).map_err(config_failure)?,
    );
    if let Some(file) = file {
        config::merge(&mut value, file);
    }
    let mut flags = serde_json::Map::new();
    if let Some(t) = &args.task {
        flags.insert("task".into(), json!({ "name": t }));
    }
    if let Some(b) = &args.body {
        flags.insert("body".into(), json!({ "name": b }));
    }
    if !args.sensation.is_empty() {
        flags.insert(
            "encoders".into(),
            json!(
                args.sensation
                    .iter()
                    .map(|e| json!({ "name": e }))
                    .collect::<Vec<_>>()
            ),
        );
    }
    if let Some(m) = &args.model {
        flags.insert("model".into(), json!({ "name": m }));
    }
    if let Some(d) = &args.distribution {
        flags.insert("distribution".into(), json!({ "name": d }));
    }
    if let Some(n) = args.steps {
        flags.insert("steps".into(), json!(n));
    }
    if let Some(w) = args.workers {
        flags.insert("gather".into(), json!({ "workers": w }));
    }
    if let Some(s) = args.seed {
        flags.insert("seed".into(), json!(s));
    }
    config::merge(&mut value, Value::Object(flags));
    for set in &args.set {
        let (path, raw) = set.split_once('=').ok_or_else(|| {
            Failure::bad_input(anyhow!("--set '{set}' is not of the form KEY=VALUE"))
        })?;
        let parsed = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        let mut patch = parsed;
        for key in path.rsplit('.') {
            if key.is_empty() {
                return Err(Failure::bad_input(anyhow!(
                    "--set '{set}' has an empty key"
                )));
            }
            patch = json!({ key: patch });
        }
        config::merge(&mut value, patch);
    }
    let config = config::finish(value).map_err(config_failure)?;
    Ok((config, preset_name))
}

fn train(
    registry: &Registry,
    args: &TrainArgs,
    quiet: bool,
    comm: &dyn Communicator,
) -> Result<(), Failure> {
    if args.list_presets {
        for p in config::PRESETS {
            println!("{:24} {}", p.name, p.summary);
        }
        return Ok(());
    }
    let backend = args.backend.compute(args.device)?;
    let (config, preset) = resolve_train_config(args)?;
    let run_dir = args
        .out
        .clone()
        .unwrap_or_else(|| run::default_run_dir(&config));
    if !quiet {
        eprintln!(
            "training {} with {} ({} steps, preset {preset}, seed {}) into {}",
            config.task.name,
            config.model.name,
            config.steps,
            config.seed,
            run_dir.display()
        );
    }
    let options = RunOptions {
        progress: !quiet,
        backend,
        comm,
    };
    let summary =
        run::train(registry, &config, &preset, &run_dir, &options).map_err(train_failure)?;
    if !comm.is_root() {
        return Ok(());
    }
    report_summary(&summary, args.json)
}

fn bench(registry: &Registry, args: &BenchArgs, comm: &dyn Communicator) -> Result<(), Failure> {
    let (config, preset) = resolve_train_config(&args.train)?;
    let backend = args.train.backend.compute(args.train.device)?;
    let mut bench = run::Bench::new(registry, &config, backend, comm).map_err(train_failure)?;
    let mut buffer = None;
    let (throughput, unit) = match args.target {
        BenchTarget::Gather => (
            bench.gather(args.seconds).map_err(train_failure)?,
            "environment steps/s",
        ),
        BenchTarget::Update => (
            bench.update(args.seconds).map_err(train_failure)?,
            "transitions/s",
        ),
        BenchTarget::AllReduce => {
            let (throughput, length) = bench.all_reduce(args.seconds).map_err(train_failure)?;
            buffer = Some(length);
            (throughput, "all-reduces/s")
        }
    };
    if !comm.is_root() {
        return Ok(());
    }
    let description = json!({
        "target": format!("{:?}", args.target).to_lowercase(),
        "backend": format!("{:?}", args.train.backend).to_lowercase(),
        "task": config.task.name,
        "model": config.model.name,
        "preset": preset,
        "workers": config.gather.workers,
        "envs_per_worker": config.gather.envs_per_worker,
        "horizon": config.gather.horizon,
        "minibatch_size": config.ppo.minibatch_size,
        "processes": comm.size(),
        "buffer_floats": buffer,
        "items": throughput.items,
        "seconds": throughput.seconds,
        "per_second": throughput.per_second,
    });
    if args.train.json {
        return print_json(&description);
    }
    println!(
        "{:?} {} with {}: {:.0} {unit} ({} in {:.2} s; {} process(es), workers {}, envs/worker {}, minibatch {}{})",
        args.target,
        config.task.name,
        config.model.name,
        throughput.per_second,
        throughput.items,
        throughput.seconds,
        comm.size(),
        config.gather.workers,
        config.gather.envs_per_worker,
        config.ppo.minibatch_size,
        buffer
            .map(|n| format!(
                ", buffer of {n} floats: {:.3} ms per all-reduce",
                1e3 / throughput.per_second.max(1e-12)
            ))
            .unwrap_or_default()
    );
    Ok(())
}

fn resume(
    registry: &Registry,
    args: &ResumeArgs,
    quiet: bool,
    comm: &dyn Communicator,
) -> Result<(), Failure> {
    let options = RunOptions {
        progress: !quiet,
        backend: args.backend.compute(args.device)?,
        comm,
    };
    let (summary, warnings) =
        run::resume(registry, &args.run_dir, args.steps, &options).map_err(train_failure)?;
    if !comm.is_root() {
        return Ok(());
    }
    for w in warnings {
        eprintln!("warning: {w}");
    }
    report_summary(&summary, args.json)
}

fn report_summary(summary: &run::RunSummary, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(summary);
    }
    let fmt = |r: Option<f64>| r.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".into());
    println!(
        "{} cycles, {} steps, {} episodes in {:.1} s; last cycle's mean return {}, best {}",
        summary.cycles,
        summary.steps,
        summary.episodes,
        summary.seconds,
        fmt(summary.last_mean_return),
        fmt(summary.best_return)
    );
    println!("run directory: {}", summary.run_dir.display());
    Ok(())
}

/// A fixed offset that decorrelates the random policy's stream from the task's.
const RANDOM_POLICY_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

fn print_report(report: &EvalReport, policy: &str, seed: u64) {
    println!(
        "{} with {policy}, {} episodes from seed {seed}",
        report.task, report.episodes
    );
    println!(
        "  return  mean {:.2}  std {:.2}  min {:.2}  max {:.2}",
        report.mean_return, report.std_return, report.min_return, report.max_return
    );
    println!(
        "  length  mean {:.1}  ({} steps, {:.0} steps/s)",
        report.mean_length, report.steps, report.steps_per_second
    );
    for (name, value) in &report.metrics {
        println!("  {name}  mean {value:.4}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_nest_and_parse_json_values() {
        let sets = vec![
            "task.max_episode_steps=200".to_string(),
            "task.physics.gravity=9.5".into(),
            "task.name=abc".into(),
        ];
        let map = parse_overrides(&sets, &["task"]).unwrap();
        assert_eq!(
            map["task"],
            json!({"max_episode_steps": 200, "physics": {"gravity": 9.5}, "name": "abc"})
        );
        assert!(parse_overrides(&["ppo.lr=1".into()], &["task"]).is_err());
        assert!(parse_overrides(&["task.lr".into()], &["task"]).is_err());
    }
}
