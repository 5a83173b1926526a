//! The command line: one module per sub-command, each a clap `Args` struct plus `run`.
//!
//! Nothing else in the crate imports `cli`; it is the only place that prints, and the only
//! place that uses `anyhow`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod demo;
mod explain;
mod forge;
mod forge_choice;
mod graph;
mod progress;
mod rerender;
mod run;
mod status;
mod universe;
mod version_bump;
mod versions;

/// cascade: a migration bot engine for conda-forge-sized package ecosystems.
#[derive(Debug, Parser)]
#[command(name = "cascade", version, about)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax); `CASCADE_LOG` overrides the default `warn`.
    #[arg(long, global = true)]
    pub log: Option<String>,
    /// The sub-command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build the feedstock dependency graph and query it.
    Graph(graph::GraphArgs),
    /// Generate synthetic feedstock universes for demos, tests and benchmarks.
    Universe(universe::UniverseArgs),
    /// Run the whole pipeline on a generated ~300-feedstock universe (offline).
    Demo(demo::DemoArgs),
    /// Benchmarks at conda-forge scale.
    Bench(bench::BenchArgs),
    /// Regenerate a feedstock's `.ci_support/` natively, exactly as conda-smithy does.
    Rerender(rerender::RerenderArgs),
    /// Run the bot once: refresh PRs, rebuild the graph, open the PRs that are ready.
    Run(run::RunArgs),
    /// Explain why a feedstock is where it is in each migration (and its version update).
    Explain(explain::ExplainArgs),
    /// The local forge: import feedstocks; list, show, merge, close and label PRs.
    Forge(forge::ForgeArgs),
    /// Discover upstream releases of the feedstocks in the graph and record them.
    Versions(versions::VersionsArgs),
    /// Rewrite one feedstock's recipe to a new upstream version (URLs, hashes, build 0).
    VersionBump(version_bump::VersionBumpArgs),
    /// The status site: where every migration and feedstock stands, and why.
    Status(status::StatusArgs),
}

/// What a command reports to the process: success, a "found something" result (such as
/// `rerender --check` finding differences), or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything worked (exit 0).
    Success,
    /// The command ran but its check failed (exit 1).
    CheckFailed,
    /// The run stopped early because the forge refused more work (a spent rate limit);
    /// what it did is recorded and the next run resumes (exit 3).
    Stopped,
    /// The forge refused the credentials, or none were given (exit 4); the message
    /// names the variable to set and never the credential.
    AuthFailed,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::CheckFailed => ExitCode::from(1),
            ExitStatus::Stopped => ExitCode::from(3),
            ExitStatus::AuthFailed => ExitCode::from(4),
        }
    }
}

/// Runs the parsed command line. A failure caused by missing or refused forge
/// credentials is printed here and becomes [`ExitStatus::AuthFailed`], so scripts can
/// tell it from other errors.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let result = dispatch(cli.command);
    match result {
        Err(error) if is_auth_failure(&error) => {
            eprintln!("error: {error:#}");
            Ok(ExitStatus::AuthFailed)
        }
        other => other,
    }
}

/// Whether `error` comes from forge credentials (anywhere in its chain).
fn is_auth_failure(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<crate::forge::ForgeError>(),
            Some(crate::forge::ForgeError::Auth(_))
        )
    })
}

fn dispatch(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Graph(args) => graph::run(args),
        Command::Universe(args) => universe::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Rerender(args) => rerender::run(args),
        Command::Run(args) => run::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Forge(args) => forge::run(args),
        Command::Status(args) => status::run(args),
        Command::Versions(args) => versions::run(args),
        Command::VersionBump(args) => version_bump::run(args),
    }
}
