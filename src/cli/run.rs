//! `cascade run`: one pass of the bot against the local forge — refresh PRs, sync
//! checkouts, rebuild the graph, and open the PRs every migration is ready for.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::migrators::Identity;
use crate::run::{self, MigrationRun, RunOptions, RunSummary, VersionNetwork, VersionOptions};

use super::ExitStatus;
use super::forge_choice::{self, ForgeChoiceArgs};
use super::progress::BarReporter;

/// Run the bot once: refresh PRs, rebuild the graph, open the PRs that are ready.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The data directory: `cascade.sqlite`, `forge/` and `checkouts/` live in it.
    #[arg(long, value_name = "DIR", default_value = "graph-data")]
    data_dir: PathBuf,
    /// Which forge, and where: `--forge`, `--config`, `--forge-dir`, `--org`, `--bot-user`.
    #[command(flatten)]
    forge: ForgeChoiceArgs,
    /// The pinning directory (`conda_build_config.yaml`, `migrations/`); default: the
    /// `conda-forge-pinning` feedstock's `recipe/` on the forge.
    #[arg(long, value_name = "DIR")]
    pinning: Option<PathBuf>,
    /// The migration definitions folder (default: the copy built into cascade).
    #[arg(long, value_name = "DIR")]
    migrators: Option<PathBuf>,
    /// Only this migration (repeatable).
    #[arg(long = "migrator", value_name = "NAME")]
    only: Vec<String>,
    /// Print every PR the run would open, with its diff; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Base URL of the status site linked from PR bodies.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://conda-forge.org/status/migration"
    )]
    status_url: String,
    /// Print the run summary as JSON.
    #[arg(long)]
    json: bool,
    /// Open no version-update PRs this run.
    #[arg(long)]
    no_versions: bool,
    /// A JSON file of known source digests (`{"<url>": {"sha256": "<hex>"}}`) for
    /// version updates, consulted before the store's hash cache.
    #[arg(long, value_name = "FILE")]
    hash_cache: Option<PathBuf>,
    /// Hash version-update sources from the caches only: download nothing.
    #[arg(long)]
    offline: bool,
}

/// Runs `cascade run`; exits with [`ExitStatus::Stopped`] when the forge stopped the run
/// early (a spent rate limit), after printing the summary.
pub fn run(args: RunArgs) -> anyhow::Result<ExitStatus> {
    let opened = forge_choice::open(&args.forge, &args.data_dir)?;
    let options = RunOptions {
        db_path: args.data_dir.join("cascade.sqlite"),
        checkouts_dir: args.data_dir.join("checkouts"),
        pinning_dir: args.pinning.clone(),
        migrators_dir: args.migrators.clone(),
        only: args.only.clone(),
        dry_run: args.dry_run,
        identity: Identity {
            bot_user: opened.bot_user.clone(),
            author_name: opened.bot_user.clone(),
            author_email: format!("{}@users.noreply.github.com", opened.bot_user),
            status_url: args.status_url.clone(),
        },
        now: now(),
    };
    let reporter = BarReporter::new(!args.json);
    let versions = VersionOptions {
        enabled: !args.no_versions,
        hash_cache: args.hash_cache.clone(),
        network: if args.offline {
            VersionNetwork::Offline
        } else {
            VersionNetwork::Online
        },
    };
    let summary = run::run_with_versions(&options, &versions, opened.forge.as_ref(), &reporter)
        .context("the run failed")?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &summary)?;
        writeln!(out)?;
    } else {
        print_summary(&mut out, &summary)?;
    }
    if summary.stopped.is_some() {
        return Ok(ExitStatus::Stopped);
    }
    Ok(ExitStatus::Success)
}

/// The current time in Unix seconds.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The human-readable run summary.
pub(super) fn print_summary(out: &mut impl Write, summary: &RunSummary) -> std::io::Result<()> {
    let r = &summary.refresh;
    writeln!(
        out,
        "refresh   {} open PRs checked: {} merged, {} closed, {} bot-rerun, {} conflicted, {} still open",
        r.checked, r.merged, r.closed, r.reruns, r.dirty, r.open
    )?;
    for (feedstock, message) in &r.errors {
        writeln!(out, "          error on {feedstock}: {message}")?;
    }
    writeln!(
        out,
        "graph     {} feedstocks ({} re-rendered), {} edges, {} with parse errors",
        summary.graph.nodes, summary.graph.parsed, summary.graph.edges, summary.graph.parse_errors
    )?;
    writeln!(out, "pinning   {}", summary.pinning.display())?;
    for error in &summary.definition_errors {
        writeln!(out, "error     {}: {}", error.file.display(), error.message)?;
    }
    writeln!(
        out,
        "\n{:<34} {:>7} {:>6} {:>6} {:>8} {:>7} {:>6} {:>6}",
        "migration", "members", "done", "in-pr", "awaiting", "ready", "limit", "opened"
    )?;
    for m in &summary.migrations {
        print_migration(out, m)?;
    }
    if let Some(stopped) = &summary.stopped {
        writeln!(out, "\nstopped early: {}; resumes next run", stopped.reason)?;
    }
    if summary.dry_run {
        writeln!(out, "\ndry run: nothing was pushed, opened or recorded")?;
        for m in &summary.migrations {
            for pr in &m.opened {
                writeln!(
                    out,
                    "\n=== {} · {}: {} (branch {})",
                    m.name, pr.feedstock, pr.title, pr.branch
                )?;
                if let Some(diff) = &pr.diff {
                    write!(out, "{diff}")?;
                }
            }
        }
    }
    Ok(())
}

fn print_migration(out: &mut impl Write, m: &MigrationRun) -> std::io::Result<()> {
    let c = &m.counts;
    let flag = if m.paused {
        " (paused)"
    } else if m.longterm {
        " (longterm)"
    } else {
        ""
    };
    writeln!(
        out,
        "{:<34} {:>7} {:>6} {:>6} {:>8} {:>7} {:>6} {:>6}",
        format!("{}{flag}", m.name),
        c.members,
        c.done(),
        c.in_pr,
        c.awaiting_parents + c.waiting_for_migrators,
        c.ready,
        m.limit,
        m.opened.len()
    )?;
    for pr in &m.opened {
        let number = pr
            .number
            .map_or("(planned)".to_string(), |n| format!("#{n}"));
        writeln!(out, "    {number:>9} {:<28} {}", pr.feedstock, pr.title)?;
    }
    for (feedstock, reason) in &m.nothing_to_do {
        writeln!(
            out,
            "    {:>9} {feedstock:<28} nothing to do: {reason}",
            "done"
        )?;
    }
    for (feedstock, message) in &m.errors {
        writeln!(out, "    {:>9} {feedstock:<28} {message}", "error")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::BuildSummary;
    use crate::run::{RefreshSummary, Stopped};

    #[test]
    fn a_stopped_run_says_why_and_that_the_next_run_resumes() {
        let summary = RunSummary {
            run_id: Some(7),
            dry_run: false,
            refresh: RefreshSummary::default(),
            checkouts: 0,
            sync_failures: Vec::new(),
            graph: BuildSummary::default(),
            pinning: PathBuf::from("pinning"),
            definition_errors: Vec::new(),
            migrations: Vec::new(),
            stopped: Some(Stopped {
                reason: "rate limit reached: GitHub core limit".to_string(),
                resets_at: Some(1_780_000_000),
            }),
            wall_ms: 1,
        };
        let mut out = Vec::new();
        print_summary(&mut out, &summary).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("stopped early: rate limit reached: GitHub core limit; resumes next run"),
            "{text}"
        );
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["stopped"]["resets_at"], 1_780_000_000);
    }
}
