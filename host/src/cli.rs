//! The `angora` command line. Exit codes: 0 success, 1 runtime failure, 2 bad input (an
//! unknown name, a malformed config, a broken or panicking plugin).

use std::{io::Write, path::PathBuf, process::ExitCode};

use anyhow::anyhow;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::{
    eval::{EvalOptions, EvalReport, RandomPolicy, evaluate},
    plugin::{Registry, RegistryError, SearchPath},
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
    /// Run episodes of a task with a policy and summarise the returns and metrics.
    Eval(EvalArgs),
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

/// The policies `angora eval` can run without a trained run.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PolicyChoice {
    /// Uniform samples from the action space.
    Random,
}

/// `angora eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The task to run.
    #[arg(long)]
    pub task: String,

    /// The policy.
    #[arg(long, value_enum)]
    pub policy: PolicyChoice,

    /// A body for tasks that compose one into their scene.
    #[arg(long)]
    pub body: Option<String>,

    /// Number of episodes.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub episodes: u32,

    /// Seed of the first episode (and of the random policy).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Override a config key: `task.KEY=VALUE` or `body.KEY=VALUE` (VALUE is JSON, or else a
    /// string). Repeatable.
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let search = SearchPath::standard(&cli.plugin_dirs, !cli.no_default_plugin_dirs);
    let registry = Registry::load(&search);
    match cli.command {
        Command::Plugins(args) => match args.action {
            None => list_plugins(&registry, &search, args.json),
            Some(PluginsAction::Info { name, json }) => {
                plugin_info(&registry, &name, json || args.json)
            }
        },
        Command::Eval(args) => {
            report_problems(&registry, cli.quiet);
            eval(&registry, &args, cli.quiet)
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
    let mut task = registry
        .task(
            &args.task,
            &section("task"),
            body.as_ref().map(|b| b.description()),
        )
        .map_err(Failure::from_registry)?;
    let mut policy = match args.policy {
        PolicyChoice::Random => RandomPolicy::new(
            task.spec().action_space.clone(),
            args.seed ^ RANDOM_POLICY_STREAM,
        ),
    };
    let progress = if quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(u64::from(args.episodes));
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} episodes {elapsed}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(args.task.clone());
        bar
    };
    let options = EvalOptions {
        episodes: args.episodes,
        seed: args.seed,
        step_cap: args.step_cap,
    };
    let report = evaluate(&mut task, &mut policy, &options, &mut |_| progress.inc(1));
    progress.finish_and_clear();
    let report = report.map_err(|e| match &e {
        crate::eval::EvalError::Task(call) if call.is_bad_input() => Failure::bad_input(e),
        _ => Failure::runtime(e),
    })?;
    if args.json {
        let mut value = serde_json::to_value(&report).map_err(Failure::runtime)?;
        value["policy"] = json!("random");
        value["seed"] = json!(args.seed);
        return print_json(&value);
    }
    print_report(&report, args.seed);
    Ok(())
}

/// A fixed offset that decorrelates the random policy's stream from the task's.
const RANDOM_POLICY_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

fn print_report(report: &EvalReport, seed: u64) {
    println!(
        "{} with a random policy, {} episodes from seed {seed}",
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
