//! `cascade graph`: build the dependency graph of a directory of feedstock checkouts into
//! SQLite, and query it (`show`, `deps`, `cycles`, `errors`, `export`). `build --github
//! ORG` crawls the organisation's feedstocks from GitHub into that directory first.
//!
//! Flags are turned into library types here (`--json` into [`Output`], `--reverse` into
//! [`DepDirection`]); the work is done by [`cascade::graph`](crate::graph).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::graph::{self, BuildOptions, BuildSummary, DepDirection, GraphError, NodeView, Store};

use crate::forge::github::CrawlSummary;

use super::ExitStatus;
use super::forge_choice;
use super::progress::{self, BarReporter};

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
    /// With `--github ORG`, the organisation's feedstocks are crawled from GitHub into
    /// that directory first. Incremental: feedstocks whose files did not change are not
    /// read again (nor, from GitHub, downloaded again).
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
    /// The directory holding the `<name>-feedstock` checkouts. With `--github`, where
    /// the crawl writes them (default: `github-feedstocks/` beside the database).
    #[arg(long, value_name = "DIR", required_unless_present = "github")]
    feedstocks: Option<PathBuf>,
    /// Crawl the `*-feedstock` repositories of this GitHub organisation first (their
    /// `recipe/`, `conda-forge.yml` and `.ci_support/`; an unchanged feedstock costs
    /// one conditional request), then build the graph of what was crawled. The token
    /// is read from the variable `[github.auth]` names (`CASCADE_GITHUB_TOKEN`).
    #[arg(long, value_name = "ORG")]
    github: Option<String>,
    /// The configuration file for `--github` (default: `./cascade.toml` when it exists).
    #[arg(long, value_name = "FILE", requires = "github")]
    config: Option<PathBuf>,
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
    let crawled = match &args.github {
        Some(org) => Some(crawl_github(args, org, output)?),
        None => None,
    };
    let feedstocks_dir = match (&crawled, &args.feedstocks) {
        (Some(crawl), _) => crawl.dir.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => anyhow::bail!("--feedstocks DIR or --github ORG is required"),
    };
    let options = BuildOptions {
        feedstocks_dir: feedstocks_dir.clone(),
        db_path: args.db.db.clone(),
    };
    let reporter = BarReporter::new(output == Output::Text);
    let summary = graph::build(&options, &reporter).with_context(|| {
        format!(
            "failed to build the graph of `{}`",
            feedstocks_dir.display()
        )
    })?;
    if let Some(crawl) = &crawled {
        mark_archived(&args.db.db, &crawl.summary)?;
    }
    let stopped = crawled
        .as_ref()
        .is_some_and(|c| c.summary.stopped.is_some());
    match output {
        Output::Json => match &crawled {
            Some(crawl) => {
                print_json(&CrawledBuild {
                    build: &summary,
                    crawl: &crawl.summary,
                })?;
            }
            None => {
                print_json(&summary)?;
            }
        },
        Output::Text => {
            if let Some(crawl) = &crawled {
                print_crawl(&crawl.summary, &crawl.dir)?;
            }
            print_summary(&summary, &args.db.db)?;
        }
    };
    Ok(if stopped {
        ExitStatus::Stopped
    } else {
        ExitStatus::Success
    })
}

/// `graph build --github --json`: the build summary with the crawl's beside it.
#[derive(Serialize)]
struct CrawledBuild<'a> {
    #[serde(flatten)]
    build: &'a BuildSummary,
    crawl: &'a CrawlSummary,
}

/// A finished crawl and where it wrote.
struct Crawled {
    dir: PathBuf,
    summary: CrawlSummary,
}

/// Crawls `org` into `--feedstocks` (default `github-feedstocks/` beside the database),
/// with the forge's state (`github.sqlite`, the conditional-request cache) beside the
/// database too.
fn crawl_github(args: &BuildArgs, org: &str, output: Output) -> anyhow::Result<Crawled> {
    let config = forge_choice::load_config(args.config.as_deref())?;
    let github = forge_choice::github_config(&config, Some(org), None);
    let data_dir = match args.db.db.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = args
        .feedstocks
        .clone()
        .unwrap_or_else(|| data_dir.join("github-feedstocks"));
    let forge = forge_choice::open_github(github, &data_dir)?;
    let bar = CrawlBar::new(output == Output::Text);
    let summary = forge
        .crawl_with(&dir, &|done, total| bar.set(done, total))
        .with_context(|| format!("failed to crawl the GitHub organisation `{org}`"))?;
    bar.finish();
    Ok(Crawled { dir, summary })
}

/// Records which crawled feedstocks are archived (the graph keeps them; migrations
/// leave them alone). A feedstock whose crawl failed before it had files is not in the
/// graph and is skipped.
fn mark_archived(db: &Path, crawl: &CrawlSummary) -> anyhow::Result<()> {
    let store = Store::open(db)?;
    for repo in &crawl.repos {
        match store.set_archived(&repo.name, repo.archived) {
            Ok(()) | Err(GraphError::UnknownFeedstock { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// The crawl's progress bar on stderr (only on a terminal, never under `--json`).
struct CrawlBar {
    bar: ProgressBar,
}

impl CrawlBar {
    fn new(wanted: bool) -> CrawlBar {
        CrawlBar {
            bar: progress::bar(
                wanted,
                "{spinner} crawling {pos}/{len} feedstocks {wide_bar}",
            ),
        }
    }

    fn set(&self, done: usize, total: usize) {
        progress::set_length(&self.bar, total);
        self.bar
            .set_position(u64::try_from(done).unwrap_or(u64::MAX));
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn print_crawl(s: &CrawlSummary, dir: &Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "crawled {} feedstocks into {}: {} unchanged, {} updated, {} removed, {} archived, {} failed",
        s.listed,
        dir.display(),
        s.unchanged,
        s.updated.len(),
        s.removed.len(),
        s.archived.len(),
        s.errors.len()
    )?;
    writeln!(
        out,
        "  {} requests ({} answered 304 Not Modified), {} files written, {} deleted",
        s.requests, s.not_modified, s.files_written, s.files_deleted
    )?;
    for (feedstock, message) in &s.errors {
        writeln!(out, "  error on {feedstock}: {message}")?;
    }
    if let Some(reason) = &s.stopped {
        writeln!(
            out,
            "  stopped early ({} feedstocks not crawled): {reason}; the next crawl resumes",
            s.skipped
        )?;
    }
    Ok(())
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
