//! `cascade explain FEEDSTOCK`: why a feedstock is where it is in one or every
//! migration — the engine's decision trace, its PR, and its upstream version check.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use jiff::Timestamp;

use crate::graph::Store;
use crate::migrators::GraphSnapshot;
use crate::migrators::registry::{Registry, Sources};
use crate::pinning::load_pinning;
use crate::run::PINNING_FEEDSTOCK;
use crate::status::{self, Explanation, MigrationTrace, PrInfo, ReasonDetail};

use super::ExitStatus;

/// Explain why a feedstock is where it is in each migration (and its version update).
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The feedstock (without `-feedstock`).
    feedstock: String,
    /// Only this migration.
    #[arg(long, value_name = "NAME")]
    migration: Option<String>,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
    /// The data directory holding `cascade.sqlite` (and `checkouts/`).
    #[arg(long, value_name = "DIR", default_value = "graph-data")]
    data_dir: PathBuf,
    /// The pinning directory (`conda_build_config.yaml`, `migrations/`); default: the
    /// `conda-forge-pinning` feedstock's `recipe/` in `<data-dir>/checkouts`.
    #[arg(long, value_name = "DIR")]
    pinning: Option<PathBuf>,
    /// The migration definitions folder (default: the copy built into cascade).
    #[arg(long, value_name = "DIR")]
    migrators: Option<PathBuf>,
}

/// Runs `cascade explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<ExitStatus> {
    let pinning = args.pinning.clone().unwrap_or_else(|| {
        args.data_dir
            .join("checkouts")
            .join(format!("{PINNING_FEEDSTOCK}-feedstock"))
            .join("recipe")
    });
    if !pinning.join("conda_build_config.yaml").is_file() {
        bail!(
            "`{}` is not a pinning directory (no conda_build_config.yaml); pass --pinning DIR",
            pinning.display()
        );
    }
    let db = args.data_dir.join("cascade.sqlite");
    let store = Store::open(&db).with_context(|| format!("opening `{}`", db.display()))?;
    let graph = GraphSnapshot::load(&store).context("loading the graph")?;
    let loaded = load_pinning(&pinning)
        .with_context(|| format!("reading the pinning in `{}`", pinning.display()))?;
    let registry = Registry::load(
        &Sources {
            pinning_dir: pinning.clone(),
            migrators_dir: args.migrators.clone(),
        },
        &loaded,
    );
    let explanation = status::explain(
        &store,
        &graph,
        &registry,
        &args.feedstock,
        args.migration.as_deref(),
        super::run::now(),
    )?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &explanation)?;
        writeln!(out)?;
    } else {
        print(&mut out, &explanation)?;
    }
    Ok(ExitStatus::Success)
}

fn when(unix: i64) -> String {
    match Timestamp::from_second(unix) {
        Ok(at) => at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => unix.to_string(),
    }
}

fn print(out: &mut impl Write, e: &Explanation) -> std::io::Result<()> {
    let version = e.version.as_deref().unwrap_or("(no version)");
    let mut flags = Vec::new();
    if e.archived {
        flags.push("archived");
    }
    if e.parse_error {
        flags.push("recipe does not parse");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    writeln!(out, "{} {version}{flags}", e.feedstock)?;
    if e.migrations.is_empty() {
        writeln!(out, "\n  no migration concerns this feedstock")?;
    }
    for m in &e.migrations {
        print_trace(out, m)?;
    }
    writeln!(out)?;
    match &e.version_update {
        None => writeln!(out, "version update: never checked")?,
        Some(v) => {
            let newest = v.newest_version.as_deref().unwrap_or("-");
            let source = v.source.as_deref().unwrap_or("no source");
            writeln!(
                out,
                "version update: {} (newest {newest} from {source}, checked {})",
                v.status.as_str(),
                when(v.checked_at)
            )?;
            if let Some(error) = &v.error {
                writeln!(out, "  {} failed check(s): {error}", v.attempts)?;
            }
        }
    }
    Ok(())
}

fn print_trace(out: &mut impl Write, m: &MigrationTrace) -> std::io::Result<()> {
    writeln!(
        out,
        "\n{} ({}, {}): {} [{}]",
        m.migration,
        m.kind.as_str(),
        m.bucket.as_str(),
        m.state.as_str(),
        serde_json::to_value(m.reason.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    )?;
    for step in m.steps() {
        writeln!(out, "  · {step}")?;
    }
    match &m.reason.detail {
        ReasonDetail::Parents { parents } => {
            for p in parents {
                if let Some(url) = &p.pr_url {
                    writeln!(out, "      {} has its PR at {url}", p.feedstock)?;
                }
            }
        }
        ReasonDetail::Backoff { until, .. } => {
            writeln!(out, "  · retried from {}", when(*until))?;
        }
        ReasonDetail::Error {
            retry_at: Some(at), ..
        } => {
            writeln!(out, "  · retried from {}", when(*at))?;
        }
        _ => {}
    }
    if let Some(pr) = &m.pr {
        print_pr(out, pr)?;
    }
    Ok(())
}

fn print_pr(out: &mut impl Write, pr: &PrInfo) -> std::io::Result<()> {
    let state = pr.state.map_or("not seen yet", |s| s.as_str());
    let ci = pr.ci.map_or("-", |c| c.as_str());
    let mergeable = pr.mergeable.map_or("-", |m| m.as_str());
    let draft = if pr.draft { ", draft" } else { "" };
    writeln!(
        out,
        "  · PR #{} {state}, CI {ci}, mergeable {mergeable}{draft} {}",
        pr.number, pr.url
    )?;
    if !pr.title.is_empty() {
        writeln!(out, "      {}", pr.title)?;
    }
    Ok(())
}
