//! `cascade graph`: build the dependency graph of a directory of feedstock checkouts into
//! SQLite, and query it (`show`, `deps`, `cycles`, `errors`, `export`).
//!
//! Flags are turned into library types here (`--json` into [`Output`], `--reverse` into
//! [`DepDirection`]); the work is done by [`cascade::graph`](crate::graph).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::graph::{self, BuildOptions, BuildSummary, DepDirection, GraphError, NodeView, Store};

use super::ExitStatus;
use super::progress::BarReporter;

/// Build the feedstock dependency graph and query it.
#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(subcommand)]
    command: GraphCommand,
}

#[derive(Debug, Subcommand)]
enum GraphCommand {
    /// Crawl a directory of `<name>-feedstock` checkouts into the graph database.
    ///
    /// Incremental: feedstocks whose files did not change are not read again.
    Build(BuildArgs),
    /// Show one feedstock: version, outputs, requirements, platforms, parse errors.
    Show(ShowArgs),
    /// List what a feedstock depends on (or, with --reverse, what depends on it).
    Deps(DepsArgs),
    /// List the dependency cycles and the edges that close them.
    Cycles(ReadArgs),
    /// List every recorded parse error with its file and line.
    Errors(ReadArgs),
    /// Export the whole graph as JSON or Graphviz DOT.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct DbArgs {
    /// The graph database.
    #[arg(long, value_name = "FILE", default_value = "graph-data/cascade.sqlite")]
    db: PathBuf,
}

#[derive(Debug, Args)]
struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// The directory holding the `<name>-feedstock` checkouts.
    #[arg(long, value_name = "DIR")]
    feedstocks: PathBuf,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The feedstock name (without `-feedstock`).
    name: String,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct DepsArgs {
    /// The feedstock name (without `-feedstock`).
    name: String,
    /// List dependents (what needs NAME) instead of dependencies.
    #[arg(long)]
    reverse: bool,
    /// Stop after this many hops (default: no limit).
    #[arg(long, value_name = "N")]
    depth: Option<usize>,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct ReadArgs {
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    json: JsonArg,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    format: ExportFormat,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    /// The graph as JSON: nodes, labelled edges, external dependencies.
    Json,
    /// Graphviz DOT.
    Dot,
}

/// How a read command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    Text,
    Json,
}

impl From<&JsonArg> for Output {
    fn from(arg: &JsonArg) -> Output {
        if arg.json { Output::Json } else { Output::Text }
    }
}

/// Runs `cascade graph ...`.
pub fn run(args: GraphArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        GraphCommand::Build(args) => build(&args),
        GraphCommand::Show(args) => show(&args),
        GraphCommand::Deps(args) => deps(&args),
        GraphCommand::Cycles(args) => cycles(&args),
        GraphCommand::Errors(args) => errors(&args),
        GraphCommand::Export(args) => export(&args),
    }
}

fn open(db: &DbArgs) -> anyhow::Result<Store> {
    Ok(Store::open(&db.db)?)
}

fn print_json(value: &impl Serialize) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).context("failed to write JSON")?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}

fn build(args: &BuildArgs) -> anyhow::Result<ExitStatus> {
    let output = Output::from(&args.json);
    let options = BuildOptions {
        feedstocks_dir: args.feedstocks.clone(),
        db_path: args.db.db.clone(),
    };
    let reporter = BarReporter::new(output == Output::Text);
    let summary = graph::build(&options, &reporter).with_context(|| {
        format!(
            "failed to build the graph of `{}`",
            args.feedstocks.display()
        )
    })?;
    match output {
        Output::Json => print_json(&summary),
        Output::Text => {
            print_summary(&summary, &args.db.db)?;
            Ok(ExitStatus::Success)
        }
    }
}

fn print_summary(s: &BuildSummary, db: &Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "graph built in {:.2} s: {} feedstocks, {} edges, {} external dependencies",
        s.wall_ms as f64 / 1000.0,
        s.nodes,
        s.edges,
        s.external_dependencies
    )?;
    writeln!(
        out,
        "  read {}, unchanged {}, touched {}, removed {} ({} renders, {} identical variants skipped)",
        s.parsed, s.unchanged, s.touched, s.removed, s.renders, s.skipped_identical
    )?;
    writeln!(
        out,
        "  parse errors: {}, cycles: {}, weakly connected components: {}",
        s.parse_errors, s.cycles, s.weak_components
    )?;
    writeln!(out, "  database: {}", db.display())?;
    Ok(())
}

fn show(args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let store = open(&args.db)?;
    let node = store
        .node(&args.name)?
        .ok_or_else(|| GraphError::UnknownFeedstock {
            name: args.name.clone(),
        })?;
    match Output::from(&args.json) {
        Output::Json => print_json(&node),
        Output::Text => {
            print_node(&node)?;
            Ok(ExitStatus::Success)
        }
    }
}

fn print_node(node: &NodeView) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let format = node.recipe_format.map_or("no recipe", |f| f.as_str());
    let version = node.version.as_deref().unwrap_or("(no version)");
    writeln!(out, "{} {version} ({format})", node.name)?;
    if let Some(removed) = node.removed_at {
        writeln!(out, "  removed: checkout gone since {removed} (Unix time)")?;
    }
    writeln!(out, "  path: {}", node.path)?;
    writeln!(out, "  platforms: {}", node.platforms.join(", "))?;
    writeln!(out, "  outputs: {}", node.outputs.join(", "))?;
    writeln!(out, "  requirements:")?;
    for (section, names) in &node.requirements {
        if !names.is_empty() {
            writeln!(out, "    {section}: {}", names.join(", "))?;
        }
    }
    writeln!(
        out,
        "  dependencies: {}, dependents: {}",
        node.dependencies, node.dependents
    )?;
    if !node.external_dependencies.is_empty() {
        writeln!(out, "  external: {}", node.external_dependencies.join(", "))?;
    }
    if let Some(cycle) = &node.cycle {
        writeln!(out, "  on a cycle with: {}", cycle.join(", "))?;
    }
    if let Some(index) = node.topo_index {
        writeln!(out, "  topological position: {index}")?;
    }
    for error in &node.errors {
        let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
        let variant = error
            .variant
            .as_deref()
            .map(|v| format!(" (variant {v})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  parse error: {}{line}: {}{variant}",
            error.file, error.message
        )?;
    }
    Ok(())
}

fn deps(args: &DepsArgs) -> anyhow::Result<ExitStatus> {
    let store = open(&args.db)?;
    let direction = if args.reverse {
        DepDirection::Dependents
    } else {
        DepDirection::Dependencies
    };
    let found = store.deps(&args.name, direction, args.depth)?;
    match Output::from(&args.json) {
        Output::Json => print_json(&found),
        Output::Text => {
            let mut out = std::io::stdout().lock();
            if found.is_empty() {
                let what = match direction {
                    DepDirection::Dependencies => "no dependencies in the graph",
                    DepDirection::Dependents => "no dependents in the graph",
                };
                writeln!(out, "{}: {what}", args.name)?;
            }
            for dep in &found {
                let sections: Vec<&str> = dep.sections.iter().map(|s| s.as_str()).collect();
                let via = if dep.depth > 1 {
                    format!(" via {}", dep.via)
                } else {
                    String::new()
                };
                writeln!(
                    out,
                    "{}{} [{}]{via}",
                    "  ".repeat(dep.depth.saturating_sub(1)),
                    dep.name,
                    sections.join(",")
                )?;
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn cycles(args: &ReadArgs) -> anyhow::Result<ExitStatus> {
    let cycles = open(&args.db)?.cycles()?;
    match Output::from(&args.json) {
        Output::Json => print_json(&cycles),
        Output::Text => {
            let mut out = std::io::stdout().lock();
            if cycles.is_empty() {
                writeln!(out, "no cycles")?;
            }
            for (i, cycle) in cycles.iter().enumerate() {
                writeln!(out, "cycle {}: {}", i + 1, cycle.members.join(", "))?;
                for edge in &cycle.edges {
                    let sections: Vec<&str> = edge.sections.iter().map(|s| s.as_str()).collect();
                    writeln!(
                        out,
                        "  {} -> {} [{}]",
                        edge.source,
                        edge.target,
                        sections.join(",")
                    )?;
                }
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn errors(args: &ReadArgs) -> anyhow::Result<ExitStatus> {
    let errors = open(&args.db)?.errors()?;
    match Output::from(&args.json) {
        Output::Json => print_json(&errors),
        Output::Text => {
            let mut out = std::io::stdout().lock();
            if errors.is_empty() {
                writeln!(out, "no parse errors")?;
            }
            for error in &errors {
                let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
                let variant = error
                    .variant
                    .as_deref()
                    .map(|v| format!(" (variant {v})"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}: {}{line}: {}{variant}",
                    error.feedstock, error.file, error.message
                )?;
            }
            Ok(ExitStatus::Success)
        }
    }
}

fn export(args: &ExportArgs) -> anyhow::Result<ExitStatus> {
    let export = open(&args.db)?.export()?;
    let format = if args.json {
        ExportFormat::Json
    } else {
        args.format
    };
    match format {
        ExportFormat::Json => print_json(&export),
        ExportFormat::Dot => {
            std::io::stdout()
                .lock()
                .write_all(export.to_dot().as_bytes())?;
            Ok(ExitStatus::Success)
        }
    }
}
