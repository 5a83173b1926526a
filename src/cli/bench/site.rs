//! `cascade bench site`: the status-site benchmark (issue 6: the site for a
//! 25,000-feedstock universe with 25 migrations builds in ≤ 5 s, and its largest page is
//! ≤ 2 MB).
//!
//! It generates a universe and builds its graph once (kept and reused with `--dir`, like
//! `bench plan`), loads the real pinning's migrations plus the embedded ones, computes
//! the status report (`status::collect`, timed on its own), then writes the whole site
//! several times, each time into an empty directory, and reports the medians; then it
//! republishes once over the last build with nothing changed (every file compared, none
//! rewritten), which is what an hourly bot run mostly does.
//!
//! A freshly built store has no run, no PR and no history, which is the smallest site.
//! `--shape midway` (the default) measures the site of a migration half way through
//! instead: in every migration the first 60% of the members in topological order are
//! done through a merged PR and the next 10% have an open PR (every such row carries a
//! PR URL, the widest row there is), with 200 runs of history. The shaping happens in
//! memory on the report; the store is not touched.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::graph::Store;
use crate::graph::{SnapshotCi, SnapshotMergeable, SnapshotState};
use crate::migrators::GraphSnapshot;
use crate::status::model::{
    HistoryPoint, MigrationStatus, NodeStatus, PrInfo, Reason, ReasonCode, ReasonDetail, State,
};
use crate::status::site::{self, SiteOptions, SiteSummary};
use crate::status::{self, StatusReport};
use crate::universe::DEFAULT_SEED;

use super::super::ExitStatus;
use super::workdir;

/// The acceptance targets.
const BUILD_TARGET: Duration = Duration::from_secs(5);
const PAGE_TARGET_BYTES: u64 = 2_000_000;

/// The marker that says which universe a `--dir` holds.
const MARKER: &str = "site-universe.json";
const DATABASE: &str = "site.sqlite";
const FEEDSTOCKS: &str = "feedstocks";
const SITE: &str = "site";

/// What the measured report looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Shape {
    /// As collected from the freshly built store: no PR, no history.
    Fresh,
    /// Half way: 60% done by merged PRs, 10% in PR, 200 runs of history.
    Midway,
}

/// Writing the status site of a generated universe.
#[derive(Debug, Args)]
pub(super) struct SiteBenchArgs {
    /// Feedstocks in the generated universe.
    #[arg(long, value_name = "N", default_value_t = 25_000)]
    size: usize,
    /// Seed of the universe.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The pinning directory whose migrations are reported.
    #[arg(long, value_name = "DIR", default_value = "../shared/data/pinning")]
    pinning: PathBuf,
    /// The report measured (see the command's description).
    #[arg(long, value_enum, default_value = "midway")]
    shape: Shape,
    /// Measured rounds; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 5)]
    rounds: usize,
    /// Work directory, kept afterwards and reused when it holds a universe of this size
    /// and seed; default: a fresh temporary directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Exit 1 when a target is missed (median build ≤ 5 s, largest page ≤ 2 MB).
    #[arg(long)]
    check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// One measured round.
#[derive(Debug, Clone, Serialize)]
struct Round {
    /// `status::collect`.
    collect_ms: u64,
    /// `site::build` (rendering and writing every file).
    build_ms: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    size: usize,
    seed: u64,
    shape: Shape,
    reused_universe: bool,
    migrations: usize,
    feedstocks: usize,
    members: usize,
    largest_migration: String,
    largest_migration_members: usize,
    rounds: Vec<Round>,
    median_collect_ms: u64,
    median_build_ms: u64,
    /// One more build over the last one with nothing changed.
    republish_ms: u64,
    /// Files it found unchanged (all, when nothing changed).
    republish_unchanged: usize,
    pages: usize,
    files: usize,
    bytes: u64,
    largest_page: PathBuf,
    largest_page_bytes: u64,
    build_target_ms: u64,
    page_target_bytes: u64,
    targets_met: bool,
}

/// Runs `cascade bench site`.
pub(super) fn run(args: &SiteBenchArgs) -> anyhow::Result<ExitStatus> {
    workdir::check_inputs(args.rounds, &args.pinning)?;
    workdir::run_reported(
        args.dir.as_deref(),
        "site",
        &workdir::Output {
            json: args.json,
            check: args.check,
        },
        |work| bench(args, work),
        |report| report.targets_met,
        |mut out, report| print_report(&mut out, report),
    )
}

fn bench(args: &SiteBenchArgs, work: &Path) -> anyhow::Result<Report> {
    let reused_universe = prepare_universe(args, work)?;
    let registry = workdir::load_registry(&args.pinning)?;
    let db = work.join(DATABASE);
    let store = Store::open(&db).with_context(|| format!("opening `{}`", db.display()))?;
    let graph = GraphSnapshot::load(&store).context("loading the graph snapshot")?;
    let now = 1_790_000_000;
    let out = work.join(SITE);
    let options = SiteOptions::default();

    let mut rounds = Vec::with_capacity(args.rounds);
    let mut last: Option<(StatusReport, SiteSummary)> = None;
    for round in 0..args.rounds {
        eprintln!("round {}/{}: collect + site ...", round + 1, args.rounds);
        let started = Instant::now();
        let mut report = status::collect(&store, &graph, &registry, now)
            .context("computing the status report")?;
        let collect_ms = ms(started.elapsed());
        if args.shape == Shape::Midway {
            shape_midway(&mut report);
        }
        // Every round writes the whole site into an empty directory (the first
        // publication; the removal is not timed).
        if out.exists() {
            fs_err::remove_dir_all(&out)?;
        }
        let started = Instant::now();
        let summary = site::build(&report, None, &out, &options)
            .with_context(|| format!("writing the site to `{}`", out.display()))?;
        rounds.push(Round {
            collect_ms,
            build_ms: ms(started.elapsed()),
        });
        last = Some((report, summary));
    }
    let Some((report, summary)) = last else {
        bail!("no round ran");
    };
    // A republication with nothing changed: every file is compared, none rewritten.
    eprintln!("republishing the unchanged site ...");
    let started = Instant::now();
    let again = site::build(&report, None, &out, &options)
        .with_context(|| format!("writing the site to `{}`", out.display()))?;
    let republish_ms = ms(started.elapsed());
    let largest = report.migrations.iter().max_by_key(|m| m.nodes.len());
    let median_build_ms = median(rounds.iter().map(|r| r.build_ms).collect());
    let build_target_ms = ms(BUILD_TARGET);
    Ok(Report {
        size: args.size,
        seed: args.seed,
        shape: args.shape,
        reused_universe,
        migrations: report.migrations.len(),
        feedstocks: report.feedstocks.len(),
        members: report.migrations.iter().map(|m| m.nodes.len()).sum(),
        largest_migration: largest.map(|m| m.name.clone()).unwrap_or_default(),
        largest_migration_members: largest.map_or(0, |m| m.nodes.len()),
        median_collect_ms: median(rounds.iter().map(|r| r.collect_ms).collect()),
        median_build_ms,
        republish_ms,
        republish_unchanged: again.unchanged,
        rounds,
        pages: summary.pages,
        files: summary.files,
        bytes: summary.bytes,
        largest_page: summary.largest_page,
        largest_page_bytes: summary.largest_page_bytes,
        build_target_ms,
        page_target_bytes: PAGE_TARGET_BYTES,
        targets_met: median_build_ms <= build_target_ms
            && summary.largest_page_bytes <= PAGE_TARGET_BYTES,
    })
}

/// Rewrites `report` as half way through every migration (see the module docs).
fn shape_midway(report: &mut StatusReport) {
    let at = report.generated_at;
    for migration in &mut report.migrations {
        let total = migration.nodes.len();
        let done = total * 6 / 10;
        let in_pr = total / 10;
        for (i, node) in migration.nodes.iter_mut().enumerate() {
            let number = i as u64 + 1;
            let pr = |state, ci| PrInfo {
                number,
                url: format!(
                    "https://github.com/conda-forge/{}-feedstock/pull/{number}",
                    node.feedstock
                ),
                state: Some(state),
                ci: Some(ci),
                mergeable: Some(SnapshotMergeable::Clean),
                draft: false,
                title: format!("Rebuild for {}", migration.name),
                created_at: Some(at - 7 * 86_400),
                updated_at: Some(at - 86_400),
                closed_at: (state == SnapshotState::Merged).then_some(at - 86_400),
            };
            if i < done {
                node.state = State::Done;
                node.reason = Reason {
                    code: ReasonCode::DoneMerged,
                    text: "The PR was merged.".into(),
                    detail: ReasonDetail::Done {
                        at: at - 86_400,
                        note: None,
                    },
                };
                node.pr = Some(pr(SnapshotState::Merged, SnapshotCi::Passing));
            } else if i < done + in_pr {
                let failing = i % 3 == 0;
                node.state = State::InPr;
                node.reason = Reason {
                    code: if failing {
                        ReasonCode::InPrCiFailing
                    } else {
                        ReasonCode::InPrCiPassing
                    },
                    text: format!("PR #{number} is open."),
                    detail: ReasonDetail::Pr {
                        number: Some(number),
                    },
                };
                let ci = if failing {
                    SnapshotCi::Failing
                } else {
                    SnapshotCi::Passing
                };
                node.pr = Some(pr(SnapshotState::Open, ci));
            }
        }
        recount(migration);
        migration.history = (0..200)
            .map(|k| {
                let share = |n: usize| n * k / 199;
                let done_k = share(migration.progress.done);
                let in_pr_k = migration.progress.in_pr.min(total - done_k);
                HistoryPoint {
                    run_id: k as i64 + 1,
                    at: at - (199 - k as i64) * 3_600,
                    total,
                    done: done_k,
                    in_pr: in_pr_k,
                    remaining: total - done_k - in_pr_k,
                }
            })
            .collect();
    }
    let nodes: HashMap<(&str, &str), &NodeStatus> = report
        .migrations
        .iter()
        .flat_map(|m| {
            m.nodes
                .iter()
                .map(move |n| ((m.name.as_str(), n.feedstock.as_str()), n))
        })
        .collect();
    for feedstock in report.feedstocks.values_mut() {
        for entry in &mut feedstock.migrations {
            if let Some(node) = nodes.get(&(entry.migration.as_str(), feedstock.name.as_str())) {
                entry.state = node.state;
                entry.reason = node.reason.clone();
                entry.pr = node.pr.clone();
            }
        }
    }
}

/// Recomputes a migration's counts and progress from its nodes.
fn recount(migration: &mut MigrationStatus) {
    let c = &mut migration.counts;
    *c = Default::default();
    c.total = migration.nodes.len();
    for node in &migration.nodes {
        match node.state {
            State::Done => c.done += 1,
            State::DoneDeclined => c.done_declined += 1,
            State::DoneNothingToDo => c.done_nothing_to_do += 1,
            State::Partial => c.partial += 1,
            State::InPr => c.in_pr += 1,
            State::AwaitingPr => c.awaiting_pr += 1,
            State::AwaitingParents => c.awaiting_parents += 1,
            State::NotSolvable => c.not_solvable += 1,
            State::BotError => c.bot_error += 1,
            State::Excluded => {}
        }
    }
    let p = &mut migration.progress;
    p.total = c.total;
    p.done = c.done + c.done_declined + c.done_nothing_to_do;
    p.in_pr = c.in_pr;
    let total = p.total.max(1) as f64;
    p.fraction_done = p.done as f64 / total;
    p.fraction_done_or_in_pr = (p.done + p.in_pr) as f64 / total;
}

/// The universe and its graph, as `bench site` keeps them in its work directory.
const LAYOUT: workdir::Layout = workdir::Layout {
    marker: MARKER,
    database: DATABASE,
    feedstocks: FEEDSTOCKS,
    outputs: &[SITE],
    command: "cascade bench site",
};

/// Makes `work` hold the universe and its graph; returns whether a previous run's was
/// reused.
fn prepare_universe(args: &SiteBenchArgs, work: &Path) -> anyhow::Result<bool> {
    Ok(workdir::prepare_universe(&LAYOUT, work, args.size, args.seed)?.reused)
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().unwrap_or(0)
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "universe: {} feedstocks (seed {}{}); {} migrations, {} memberships, largest {} ({} members); shape {:?}",
        r.size,
        r.seed,
        if r.reused_universe { ", reused" } else { "" },
        r.migrations,
        r.members,
        r.largest_migration,
        r.largest_migration_members,
        r.shape
    )?;
    for (i, round) in r.rounds.iter().enumerate() {
        writeln!(
            out,
            "round {}: collect {} ms, site {} ms",
            i + 1,
            round.collect_ms,
            round.build_ms
        )?;
    }
    writeln!(
        out,
        "republish with nothing changed: {} ms ({} of {} files unchanged, none rewritten)",
        r.republish_ms, r.republish_unchanged, r.files
    )?;
    writeln!(
        out,
        "site: {} pages, {} files, {:.1} MB; largest page {} ({:.0} kB)",
        r.pages,
        r.files,
        r.bytes as f64 / 1e6,
        r.largest_page.display(),
        r.largest_page_bytes as f64 / 1e3
    )?;
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    writeln!(
        out,
        "median site build {:.2} s (target ≤ {} s: {}); largest page {:.2} MB (target ≤ 2 MB: {}); median collect {:.2} s",
        r.median_build_ms as f64 / 1000.0,
        BUILD_TARGET.as_secs(),
        verdict(r.median_build_ms <= r.build_target_ms),
        r.largest_page_bytes as f64 / 1e6,
        verdict(r.largest_page_bytes <= r.page_target_bytes),
        r.median_collect_ms as f64 / 1000.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_rounds_is_the_middle_value() {
        assert_eq!(median(vec![30, 10, 20]), 20);
        assert_eq!(median(Vec::new()), 0);
    }
}
