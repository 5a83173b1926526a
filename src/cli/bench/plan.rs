//! `cascade bench plan`: the planning benchmark (issue 4: every pinning migration plus the
//! architecture rollouts over a 25,000-feedstock universe in ≤ 2 s).
//!
//! It generates a universe and builds its graph once, loads the real pinning and the
//! registry (the pinning's migrations plus the definitions compiled into the binary),
//! then measures, in this one process and for several rounds, what every run of the bot
//! does before it touches a feedstock: [`GraphSnapshot::load`] (reported on its own),
//! then for every migration `plan` + [`MigrationRecords::load`] + [`schedule`]. The
//! report gives each round, the median/min/max, and per migration its members, ready
//! nodes and median times, so a slow migrator is visible at once.
//!
//! With `--dir`, the universe and its graph are kept there and reused by the next run
//! of the same size and seed (a marker file records what the directory holds), so
//! repeated measurements skip the generation and the cold build.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::graph::Store;
use crate::migrators::registry::LoadError;
use crate::migrators::{GraphSnapshot, MigrationRecords, schedule};
use crate::universe::DEFAULT_SEED;

use super::super::ExitStatus;
use super::workdir;

/// The acceptance target for the median plan + schedule time of all migrations.
const PLAN_TARGET: Duration = Duration::from_secs(2);

/// The marker that says which universe a `--dir` holds.
const MARKER: &str = "plan-universe.json";
/// The graph database inside the work directory.
const DATABASE: &str = "plan.sqlite";
/// The universe's feedstocks inside the work directory.
const FEEDSTOCKS: &str = "feedstocks";

/// Planning every migration over a generated universe.
#[derive(Debug, Args)]
pub(super) struct PlanBenchArgs {
    /// Feedstocks in the generated universe.
    #[arg(long, value_name = "N", default_value_t = 25_000)]
    size: usize,
    /// Seed of the universe.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// The pinning directory (`conda_build_config.yaml` and `migrations/`) whose
    /// migrations are planned.
    #[arg(long, value_name = "DIR", default_value = "../shared/data/pinning")]
    pinning: PathBuf,
    /// Measured rounds; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 5)]
    rounds: usize,
    /// Work directory, kept afterwards and reused when it already holds a universe of
    /// this size and seed; default: a fresh directory under the system temporary
    /// directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Exit 1 when the median plan + schedule time misses its target (≤ 2 s).
    #[arg(long)]
    check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// How the universe and its graph were obtained.
#[derive(Debug, Serialize)]
struct UniverseReport {
    size: usize,
    seed: u64,
    /// True when `--dir` already held it (nothing generated, the build incremental).
    reused: bool,
    /// Generation time; `None` when reused.
    generate_ms: Option<u64>,
    /// The graph build (cold, or the incremental check of a reused directory).
    build_ms: u64,
    nodes: usize,
    edges: usize,
}

/// Median, minimum and maximum of one measure over the rounds, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Spread {
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

/// One measured round.
#[derive(Debug, Clone, Copy, Serialize)]
struct Round {
    /// `GraphSnapshot::load`.
    load_ms: f64,
    /// Plan + records + schedule of every migration, back to back.
    plan_ms: f64,
}

/// One migration: what it planned and its median times over the rounds.
#[derive(Debug, Clone, Serialize)]
struct MigrationReport {
    name: String,
    kind: &'static str,
    paused: bool,
    longterm: bool,
    members: usize,
    /// Parent edges of the migration graph.
    plan_edges: usize,
    excluded: usize,
    /// Excluded feedstocks per rule (`not-affected`, `noarch`, ...).
    excluded_by_rule: BTreeMap<&'static str, usize>,
    ready: usize,
    awaiting_parents: usize,
    limit: u32,
    plan_ms: f64,
    records_ms: f64,
    schedule_ms: f64,
    /// `plan_ms + records_ms + schedule_ms`.
    total_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    universe: UniverseReport,
    pinning: PathBuf,
    rounds: Vec<Round>,
    load: Spread,
    plan: Spread,
    /// Median of load + plan per round: a run's whole planning phase.
    load_and_plan_median_ms: f64,
    target_ms: u64,
    target_met: bool,
    migrations: Vec<MigrationReport>,
    definition_errors: Vec<LoadError>,
}

/// Runs `cascade bench plan`.
pub(super) fn run(args: &PlanBenchArgs) -> anyhow::Result<ExitStatus> {
    workdir::check_inputs(args.rounds, &args.pinning)?;
    workdir::run_reported(
        args.dir.as_deref(),
        "plan",
        &workdir::Output {
            json: args.json,
            check: args.check,
        },
        |work| bench(args, work),
        |report| report.target_met,
        |mut out, report| print_report(&mut out, report),
    )
}

fn bench(args: &PlanBenchArgs, work: &Path) -> anyhow::Result<Report> {
    let universe = prepare_universe(args, work)?;
    let registry = workdir::load_registry(&args.pinning)?;
    for error in &registry.errors {
        eprintln!(
            "warning: {}: {} (not planned)",
            error.file.display(),
            error.message
        );
    }
    let db = work.join(DATABASE);
    let store = Store::open(&db).with_context(|| format!("opening `{}`", db.display()))?;
    let now = unix_now();

    let mut rounds = Vec::with_capacity(args.rounds);
    // Per migration, per round: (plan, records, schedule) durations.
    let mut times: Vec<Vec<[Duration; 3]>> = vec![Vec::new(); registry.migrators.len()];
    let mut migrations: Vec<MigrationReport> = Vec::new();
    for round in 0..args.rounds {
        eprintln!(
            "round {}/{}: planning {} migrations ...",
            round + 1,
            args.rounds,
            registry.migrators.len()
        );
        let started = Instant::now();
        let snapshot = GraphSnapshot::load(&store).context("loading the graph snapshot")?;
        let load = started.elapsed();

        let started = Instant::now();
        for (i, migrator) in registry.migrators.iter().enumerate() {
            let migrator = migrator.as_ref();
            let t0 = Instant::now();
            let plan = migrator.plan(&snapshot);
            let t1 = Instant::now();
            let records = MigrationRecords::load(&store, migrator)
                .with_context(|| format!("loading the records of `{}`", migrator.name()))?;
            let t2 = Instant::now();
            let scheduled = schedule(migrator, &plan, &snapshot, &records, now);
            let t3 = Instant::now();
            if let Some(list) = times.get_mut(i) {
                list.push([t1 - t0, t2 - t1, t3 - t2]);
            }
            if round == 0 {
                let settings = migrator.settings();
                let mut excluded_by_rule = BTreeMap::new();
                for (_, rule) in &plan.excluded {
                    *excluded_by_rule.entry(rule.code()).or_insert(0) += 1;
                }
                migrations.push(MigrationReport {
                    name: migrator.name().to_string(),
                    kind: migrator.kind().as_str(),
                    paused: settings.paused,
                    longterm: settings.longterm,
                    members: scheduled.counts.members,
                    plan_edges: plan.parents.values().map(Vec::len).sum(),
                    excluded: plan.excluded.len(),
                    excluded_by_rule,
                    ready: scheduled.counts.ready,
                    awaiting_parents: scheduled.counts.awaiting_parents,
                    limit: scheduled.limit,
                    plan_ms: 0.0,
                    records_ms: 0.0,
                    schedule_ms: 0.0,
                    total_ms: 0.0,
                });
            }
        }
        let plan = started.elapsed();
        rounds.push(Round {
            load_ms: ms(load),
            plan_ms: ms(plan),
        });
    }

    for (report, list) in migrations.iter_mut().zip(&times) {
        let part = |k: usize| median_ms(list.iter().map(|t| t[k]).collect());
        report.plan_ms = part(0);
        report.records_ms = part(1);
        report.schedule_ms = part(2);
        report.total_ms = median_ms(list.iter().map(|t| t[0] + t[1] + t[2]).collect());
    }
    let load = spread(rounds.iter().map(|r| r.load_ms).collect());
    let plan = spread(rounds.iter().map(|r| r.plan_ms).collect());
    let load_and_plan_median_ms =
        spread(rounds.iter().map(|r| r.load_ms + r.plan_ms).collect()).median_ms;
    let target_ms = u64::try_from(PLAN_TARGET.as_millis()).unwrap_or(u64::MAX);
    Ok(Report {
        universe,
        pinning: args.pinning.clone(),
        rounds,
        load,
        plan,
        load_and_plan_median_ms,
        target_ms,
        target_met: plan.median_ms <= target_ms as f64,
        migrations,
        definition_errors: registry.errors.clone(),
    })
}

/// The universe and its graph, as `bench plan` keeps them in its work directory.
const LAYOUT: workdir::Layout = workdir::Layout {
    marker: MARKER,
    database: DATABASE,
    feedstocks: FEEDSTOCKS,
    outputs: &[],
    command: "cascade bench plan",
};

fn prepare_universe(args: &PlanBenchArgs, work: &Path) -> anyhow::Result<UniverseReport> {
    let prepared = workdir::prepare_universe(&LAYOUT, work, args.size, args.seed)?;
    Ok(UniverseReport {
        size: args.size,
        seed: args.seed,
        reused: prepared.reused,
        generate_ms: prepared.generate_ms,
        build_ms: prepared.build.wall_ms,
        nodes: prepared.build.nodes,
        edges: prepared.build.edges,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Milliseconds, rounded to microseconds.
fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn median_ms(mut values: Vec<Duration>) -> f64 {
    values.sort_unstable();
    values.get(values.len() / 2).copied().map_or(0.0, ms)
}

fn spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    Spread {
        median_ms: values.get(values.len() / 2).copied().unwrap_or(0.0),
        min_ms: values.first().copied().unwrap_or(0.0),
        max_ms: values.last().copied().unwrap_or(0.0),
    }
}

fn print_report(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    let u = &report.universe;
    let origin = match u.generate_ms {
        Some(ms) => format!("generated in {:.2} s", ms as f64 / 1000.0),
        None => "reused".to_string(),
    };
    writeln!(
        out,
        "universe: {} feedstocks (seed {}, {origin}); graph {} nodes, {} edges (build {:.2} s)",
        u.size,
        u.seed,
        u.nodes,
        u.edges,
        u.build_ms as f64 / 1000.0
    )?;
    writeln!(
        out,
        "pinning: {}; {} migrations planned, {} definitions not loaded",
        report.pinning.display(),
        report.migrations.len(),
        report.definition_errors.len()
    )?;
    writeln!(
        out,
        "{:<34} {:<12} {:<8} {:>7} {:>7} {:>7} {:>6} {:>9} {:>9} {:>9}",
        "migration",
        "kind",
        "",
        "members",
        "edges",
        "ready",
        "limit",
        "plan",
        "records",
        "schedule"
    )?;
    for m in &report.migrations {
        let flag = match (m.paused, m.longterm) {
            (true, _) => "paused",
            (false, true) => "longterm",
            (false, false) => "",
        };
        writeln!(
            out,
            "{:<34} {:<12} {:<8} {:>7} {:>7} {:>7} {:>6} {:>7.2}ms {:>7.2}ms {:>7.2}ms",
            m.name,
            m.kind,
            flag,
            m.members,
            m.plan_edges,
            m.ready,
            m.limit,
            m.plan_ms,
            m.records_ms,
            m.schedule_ms
        )?;
    }
    for (i, round) in report.rounds.iter().enumerate() {
        writeln!(
            out,
            "round {}: snapshot load {:.1} ms, plan + schedule {:.1} ms",
            i + 1,
            round.load_ms,
            round.plan_ms
        )?;
    }
    let verdict = if report.target_met { "ok" } else { "MISSED" };
    writeln!(
        out,
        "snapshot load: median {:.1} ms (min {:.1}, max {:.1})",
        report.load.median_ms, report.load.min_ms, report.load.max_ms
    )?;
    writeln!(
        out,
        "plan + schedule of all migrations: median {:.1} ms (min {:.1}, max {:.1}; target ≤ {} ms: {verdict})",
        report.plan.median_ms, report.plan.min_ms, report.plan.max_ms, report.target_ms
    )?;
    writeln!(
        out,
        "load + plan + schedule: median {:.1} ms",
        report.load_and_plan_median_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_reports_the_middle_the_smallest_and_the_largest_value() {
        let s = spread(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median_ms, s.min_ms, s.max_ms), (2.0, 1.0, 3.0));
        let empty = spread(Vec::new());
        assert_eq!(
            (empty.median_ms, empty.min_ms, empty.max_ms),
            (0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn durations_become_milliseconds_with_microsecond_precision() {
        assert_eq!(ms(Duration::from_micros(1_234_567)), 1234.567);
        assert_eq!(
            median_ms(vec![
                Duration::from_millis(5),
                Duration::from_millis(1),
                Duration::from_millis(3)
            ]),
            3.0
        );
    }
}
