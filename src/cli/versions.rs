//! `cascade versions`: discover upstream releases of the feedstocks in the graph store
//! (`check`), show what the store holds (`show`), and measure checking against a local
//! server (`bench`).
//!
//! Flags become library types here ([`CheckOptions`], [`Selection`], [`SourceKind`]);
//! the work is done by [`cascade::upstream`](crate::upstream).

mod bench;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::graph::{Store, VersionRecord};
use crate::upstream::{
    self, CheckOptions, CheckOutcome, CheckReporter, GithubToken, HttpSettings, Selection,
    SourceKind, SourceUrls, VersionCheckStatus,
};

use super::ExitStatus;
use super::progress;

/// Discover upstream releases and record them in the graph store.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    #[command(subcommand)]
    command: VersionsCommand,
}

#[derive(Debug, Subcommand)]
enum VersionsCommand {
    /// Check the feedstocks of the graph store against their upstream sources and record
    /// the newest version of each (exit 2 when some feedstock could not be checked).
    Check(CheckArgs),
    /// Show the recorded checks.
    Show(ShowArgs),
    /// Check generated feedstocks against a local server serving registry answers, and
    /// report feedstocks per second.
    Bench(bench::VersionsBenchArgs),
}

/// Politeness and patience, shared by `check` and `bench`.
#[derive(Debug, Clone, Args)]
struct NetworkArgs {
    /// Feedstocks checked at the same time.
    #[arg(long, value_name = "K", default_value_t = 16)]
    concurrency: usize,
    /// Requests in flight per host at most.
    #[arg(long, value_name = "N", default_value_t = 8)]
    per_host: usize,
    /// Pause after each request before its host slot is free again, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    host_delay_ms: u64,
    /// Per-request timeout in seconds.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    timeout: f64,
    /// Extra tries after a timeout, a connection failure, a 429 or a 5xx.
    #[arg(long, value_name = "N", default_value_t = 1)]
    retries: u32,
}

impl NetworkArgs {
    fn options(&self, urls: SourceUrls, sources: Option<Vec<SourceKind>>) -> CheckOptions {
        let timeout = Duration::from_secs_f64(self.timeout.max(0.001));
        CheckOptions {
            urls,
            http: HttpSettings {
                timeout,
                per_host: self.per_host.max(1),
                host_delay: Duration::from_millis(self.host_delay_ms),
                retries: self.retries,
                github_token: GithubToken::from_env(),
            },
            concurrency: self.concurrency.max(1),
            git_timeout: timeout.max(Duration::from_secs(30)),
            sources,
        }
    }
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The graph database.
    #[arg(long, value_name = "FILE", default_value = "graph-data/cascade.sqlite")]
    db: PathBuf,
    /// Check only this feedstock (repeatable); default: every present feedstock that is
    /// not archived and parsed cleanly.
    #[arg(long = "feedstock", value_name = "NAME")]
    feedstocks: Vec<String>,
    /// Ask only this source (repeatable, in order), instead of each feedstock's own list:
    /// PyPI, CRAN, CratesIO, NPM, Github, GithubReleases, GitTags, RawURL,
    /// IncrementAlphaRawURL (any case).
    #[arg(long = "source", value_name = "NAME")]
    sources: Vec<String>,
    /// A JSON object overriding registry base URLs (`pypi`, `npm`, `crates_index`,
    /// `github_api`, `cran`); default: `$CASCADE_UPSTREAM_URLS`, else the public ones.
    #[arg(long, value_name = "FILE")]
    base_urls: Option<PathBuf>,
    #[command(flatten)]
    network: NetworkArgs,
    /// Print a JSON summary (with every outcome) instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The graph database.
    #[arg(long, value_name = "FILE", default_value = "graph-data/cascade.sqlite")]
    db: PathBuf,
    /// Show only this feedstock (repeatable).
    #[arg(long = "feedstock", value_name = "NAME")]
    feedstocks: Vec<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `cascade versions ...`.
pub fn run(args: VersionsArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        VersionsCommand::Check(args) => check(&args),
        VersionsCommand::Show(args) => show(&args),
        VersionsCommand::Bench(args) => bench::run(&args),
    }
}

/// Counts per status, and the run's wall time.
#[derive(Debug, Default, Serialize)]
struct Summary {
    checked: usize,
    newer: usize,
    up_to_date: usize,
    not_found: usize,
    failed: usize,
    skipped: usize,
    wall_ms: u128,
}

impl Summary {
    fn of(outcomes: &[CheckOutcome], wall: Duration) -> Summary {
        let mut s = Summary {
            checked: outcomes.len(),
            wall_ms: wall.as_millis(),
            ..Summary::default()
        };
        for o in outcomes {
            match o.status {
                VersionCheckStatus::Newer => s.newer += 1,
                VersionCheckStatus::UpToDate => s.up_to_date += 1,
                VersionCheckStatus::NotFound => s.not_found += 1,
                VersionCheckStatus::Failed => s.failed += 1,
                VersionCheckStatus::Skipped => s.skipped += 1,
            }
        }
        s
    }
}

#[derive(Serialize)]
struct CheckReport<'a> {
    db: &'a Path,
    #[serde(flatten)]
    summary: &'a Summary,
    unknown_feedstocks: &'a [String],
    notes: &'a [String],
    outcomes: &'a [CheckOutcome],
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let sources = parse_sources(&args.sources)?;
    let urls = SourceUrls::resolve(args.base_urls.as_deref())?;
    let store = Store::open(&args.db)?;
    let selection = if args.feedstocks.is_empty() {
        Selection::All
    } else {
        Selection::Named(args.feedstocks.clone())
    };
    let targets = upstream::targets_from_store(&store, &selection)?;
    if !targets.unknown.is_empty() {
        bail!(
            "not in the graph at `{}`: {}",
            args.db.display(),
            targets.unknown.join(", ")
        );
    }
    let reporter = Arc::new(Bar::new(!args.json));
    let started = Instant::now();
    let outcomes = upstream::check(
        targets.targets,
        args.network.options(urls, sources),
        reporter,
    )?;
    upstream::record(&store, &outcomes)
        .with_context(|| format!("failed to record checks in `{}`", args.db.display()))?;
    let summary = Summary::of(&outcomes, started.elapsed());
    if args.json {
        print_json(&CheckReport {
            db: &args.db,
            summary: &summary,
            unknown_feedstocks: &targets.unknown,
            notes: &targets.notes,
            outcomes: &outcomes,
        })?;
    } else {
        print_text(&outcomes, &summary, &targets.notes)?;
    }
    if summary.failed > 0 {
        bail!(
            "{} of {} feedstocks could not be checked (errors recorded in `{}`)",
            summary.failed,
            summary.checked,
            args.db.display()
        );
    }
    Ok(ExitStatus::Success)
}

fn parse_sources(names: &[String]) -> anyhow::Result<Option<Vec<SourceKind>>> {
    if names.is_empty() {
        return Ok(None);
    }
    let kinds = names
        .iter()
        .map(|n| SourceKind::parse(n))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(kinds))
}

fn print_text(
    outcomes: &[CheckOutcome],
    summary: &Summary,
    notes: &[String],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for note in notes {
        writeln!(out, "note: {note}")?;
    }
    for o in outcomes {
        let current = o.current_version.as_deref().unwrap_or("?");
        match o.status {
            VersionCheckStatus::Newer => writeln!(
                out,
                "{}: {current} -> {} ({})",
                o.feedstock,
                o.newest_version.as_deref().unwrap_or("?"),
                o.source.map_or("?", SourceKind::as_str)
            )?,
            VersionCheckStatus::Failed => {
                writeln!(out, "{}: failed", o.feedstock)?;
                for f in &o.failures {
                    writeln!(out, "  {}: {}", f.source, f.message)?;
                }
            }
            _ => {}
        }
    }
    writeln!(
        out,
        "checked {} feedstocks in {:.1}s: {} newer, {} up to date, {} nothing found, {} failed, {} skipped",
        summary.checked,
        Duration::from_millis(u64::try_from(summary.wall_ms).unwrap_or(u64::MAX)).as_secs_f64(),
        summary.newer,
        summary.up_to_date,
        summary.not_found,
        summary.failed,
        summary.skipped
    )?;
    Ok(())
}

fn show(args: &ShowArgs) -> anyhow::Result<ExitStatus> {
    let store = Store::open(&args.db)?;
    let records: Vec<VersionRecord> = if args.feedstocks.is_empty() {
        store.version_records()?
    } else {
        let mut records = Vec::new();
        for name in &args.feedstocks {
            match store.version_record(name)? {
                Some(record) => records.push(record),
                None => bail!("no version check recorded for `{name}`"),
            }
        }
        records
    };
    if args.json {
        return print_json(&records);
    }
    let mut out = std::io::stdout().lock();
    for r in &records {
        write!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            r.feedstock,
            r.current_version.as_deref().unwrap_or("-"),
            r.newest_version.as_deref().unwrap_or("-"),
            r.source.as_deref().unwrap_or("-"),
            r.status.as_str(),
        )?;
        if let Some(error) = &r.error {
            write!(
                out,
                "\tattempts={}\t{}",
                r.attempts,
                error.lines().next().unwrap_or("")
            )?;
        }
        writeln!(out)?;
    }
    Ok(ExitStatus::Success)
}

fn print_json(value: &impl Serialize) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).context("failed to write JSON")?;
    writeln!(out)?;
    Ok(ExitStatus::Success)
}

/// The progress bar: the indicatif side of [`CheckReporter`]. Drawn only on a terminal
/// and never under `--json`.
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(wanted: bool) -> Bar {
        Bar {
            bar: progress::bar(wanted, progress::FEEDSTOCKS),
        }
    }
}

impl CheckReporter for Bar {
    fn start(&self, total: usize) {
        progress::set_length(&self.bar, total);
    }

    fn checked(&self, outcome: &CheckOutcome) {
        self.bar.set_message(outcome.feedstock.clone());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
