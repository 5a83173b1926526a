//! `cascade bench graph`: the scale benchmark. It generates a conda-forge-sized universe,
//! then per run builds its graph cold (no database), bumps the build number of 1% of the
//! recipes, and builds again incrementally. Each build runs in a child process
//! (`cascade graph build --json`) so its wall time includes process start-up and its peak
//! RSS is the child's alone (`wait4(2)`); the report gives every run and the medians.
//!
//! `cascade bench plan` (in `plan`) measures planning every migration over such a
//! universe, in process.

mod plan;
mod site;
mod workdir;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use crate::universe::{self, DEFAULT_SEED, UniverseOptions};

use super::ExitStatus;

/// Targets on a 2-core machine.
const COLD_TARGET: Duration = Duration::from_secs(10);
const INCREMENTAL_TARGET: Duration = Duration::from_secs(1);
const RSS_TARGET_BYTES: u64 = 1 << 30;

/// Benchmarks at conda-forge scale.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Graph build over a generated universe: cold, then incremental after a 1% touch.
    Graph(GraphBenchArgs),
    /// Planning and scheduling every migration (the pinning's and the embedded ones) over
    /// a generated universe, in process: snapshot load and plan + schedule, medians.
    Plan(plan::PlanBenchArgs),
    /// Writing the status site of a generated universe: collect, then the whole site,
    /// medians over rounds (targets: ≤ 5 s, largest page ≤ 2 MB).
    Site(site::SiteBenchArgs),
}

#[derive(Debug, Args)]
struct GraphBenchArgs {
    /// Feedstocks in the generated universe.
    #[arg(long, value_name = "N", default_value_t = 25_000)]
    size: usize,
    /// Cold + incremental pairs to run; medians are reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    runs: usize,
    /// Seed of the universe.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Fraction of feedstocks whose build number is bumped before each incremental build.
    #[arg(long, value_name = "F", default_value_t = 0.01)]
    touch: f64,
    /// Work directory (kept afterwards); default: a fresh directory under the system
    /// temporary directory, removed afterwards.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Exit 1 when a median misses its target (cold ≤ 10 s, incremental ≤ 1 s, RSS ≤ 1 GiB).
    #[arg(long)]
    check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `cascade bench ...`.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        BenchCommand::Graph(args) => graph(&args),
        BenchCommand::Plan(args) => plan::run(&args),
        BenchCommand::Site(args) => site::run(&args),
    }
}

/// The fields of `cascade graph build --json` the report uses.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
struct ChildSummary {
    nodes: usize,
    edges: usize,
    parse_errors: usize,
    cycles: usize,
    parsed: usize,
    unchanged: usize,
    renders: usize,
    crawl_ms: u64,
    wall_ms: u64,
}

/// One measured build.
#[derive(Debug, Clone, Serialize)]
struct Build {
    /// Wall time of the child process, start-up included.
    wall_ms: u64,
    /// Peak resident set of the child, when the platform reports it.
    max_rss_bytes: Option<u64>,
    /// User + system CPU time of the child, when the platform reports it: unlike the
    /// wall time, barely affected by other processes competing for the cores.
    cpu_ms: Option<u64>,
    /// What the build itself reported.
    summary: ChildSummary,
}

#[derive(Debug, Clone, Serialize)]
struct Run {
    cold: Build,
    touched: usize,
    incremental: Build,
}

#[derive(Debug, Serialize)]
struct Report {
    size: usize,
    seed: u64,
    generate_ms: u64,
    ci_support_files: usize,
    runs: Vec<Run>,
    median_cold_ms: u64,
    median_incremental_ms: u64,
    median_cold_rss_bytes: Option<u64>,
    median_incremental_rss_bytes: Option<u64>,
    median_cold_cpu_ms: Option<u64>,
    median_incremental_cpu_ms: Option<u64>,
    targets_met: bool,
}

fn graph(args: &GraphBenchArgs) -> anyhow::Result<ExitStatus> {
    if args.runs == 0 {
        bail!("--runs must be at least 1");
    }
    workdir::run_reported(
        args.dir.as_deref(),
        "graph",
        &workdir::Output {
            json: args.json,
            check: args.check,
        },
        |work| run_graph_bench(args, work),
        |report| report.targets_met,
        |mut out, report| print_report(&mut out, report),
    )
}

fn run_graph_bench(args: &GraphBenchArgs, work: &Path) -> anyhow::Result<Report> {
    let feedstocks = work.join("feedstocks");
    let db = work.join("bench.sqlite");
    let options = UniverseOptions {
        size: args.size,
        seed: args.seed,
    };
    // Run a private copy: a rebuild of the shared target directory during a long
    // benchmark would otherwise replace (or delete) the executable under our feet.
    fs_err::create_dir_all(work)?;
    let current = std::env::current_exe().context("locating the cascade executable")?;
    let exe = work.join(format!("cascade{}", std::env::consts::EXE_SUFFIX));
    fs_err::copy(&current, &exe)?;
    eprintln!(
        "generating {} feedstocks in {} ...",
        args.size,
        feedstocks.display()
    );
    let made = universe::generate(&options, &feedstocks)
        .with_context(|| format!("generating the universe in `{}`", feedstocks.display()))?;
    let mut runs = Vec::with_capacity(args.runs);
    for run in 0..args.runs {
        remove_db(&db)?;
        eprintln!("run {}/{}: cold build ...", run + 1, args.runs);
        let cold = measure_build(&exe, &feedstocks, &db)?;
        let seed = args.seed.wrapping_add(run as u64);
        let touched = universe::touch(&feedstocks, args.touch, seed)
            .with_context(|| format!("touching recipes in `{}`", feedstocks.display()))?;
        eprintln!(
            "run {}/{}: incremental build after touching {} feedstocks ...",
            run + 1,
            args.runs,
            touched.len()
        );
        let incremental = measure_build(&exe, &feedstocks, &db)?;
        runs.push(Run {
            cold,
            touched: touched.len(),
            incremental,
        });
    }
    let median_cold_ms = median(runs.iter().map(|r| r.cold.wall_ms).collect()).unwrap_or(0);
    let median_incremental_ms =
        median(runs.iter().map(|r| r.incremental.wall_ms).collect()).unwrap_or(0);
    let median_cold_rss_bytes = median(runs.iter().filter_map(|r| r.cold.max_rss_bytes).collect());
    let median_incremental_rss_bytes = median(
        runs.iter()
            .filter_map(|r| r.incremental.max_rss_bytes)
            .collect(),
    );
    let median_cold_cpu_ms = median(runs.iter().filter_map(|r| r.cold.cpu_ms).collect());
    let median_incremental_cpu_ms =
        median(runs.iter().filter_map(|r| r.incremental.cpu_ms).collect());
    let targets_met = Duration::from_millis(median_cold_ms) <= COLD_TARGET
        && Duration::from_millis(median_incremental_ms) <= INCREMENTAL_TARGET
        && median_cold_rss_bytes.is_none_or(|rss| rss <= RSS_TARGET_BYTES);
    Ok(Report {
        size: made.feedstocks,
        seed: args.seed,
        generate_ms: made.wall_ms,
        ci_support_files: made.ci_support_files,
        runs,
        median_cold_ms,
        median_incremental_ms,
        median_cold_rss_bytes,
        median_incremental_rss_bytes,
        median_cold_cpu_ms,
        median_incremental_cpu_ms,
        targets_met,
    })
}

fn remove_db(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if path.exists() {
            fs_err::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Runs `cascade graph build --json` as a child and measures it.
fn measure_build(exe: &Path, feedstocks: &Path, db: &Path) -> anyhow::Result<Build> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(["graph", "build", "--json", "--feedstocks"])
        .arg(feedstocks)
        .arg("--db")
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting `{} graph build`", exe.display()))?;
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout)
            .context("reading the output of `graph build`")?;
    }
    let Waited {
        success,
        max_rss_bytes,
        cpu_ms,
    } = wait_with_usage(&mut child)?;
    let wall_ms = started.elapsed().as_millis() as u64;
    if !success {
        bail!("`cascade graph build` failed (see its error above)");
    }
    let summary: ChildSummary = serde_json::from_str(&stdout)
        .with_context(|| format!("reading the JSON of `graph build`: {stdout}"))?;
    Ok(Build {
        wall_ms,
        max_rss_bytes,
        cpu_ms,
        summary,
    })
}

/// How a child process ended and what it used.
struct Waited {
    success: bool,
    max_rss_bytes: Option<u64>,
    cpu_ms: Option<u64>,
}

/// Waits for the child and reads its resource usage.
#[cfg(unix)]
fn wait_with_usage(child: &mut std::process::Child) -> anyhow::Result<Waited> {
    let pid = libc::pid_t::try_from(child.id()).context("child pid out of range")?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, so all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own un-waited child; both pointers are to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        return Err(std::io::Error::last_os_error()).context("waiting for `graph build`");
    }
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let max_rss = u64::try_from(usage.ru_maxrss).unwrap_or(0);
    // Linux reports kilobytes, macOS bytes.
    let max_rss_bytes = if cfg!(target_os = "macos") {
        max_rss
    } else {
        max_rss * 1024
    };
    let ms = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1000 + u64::try_from(t.tv_usec).unwrap_or(0) / 1000
    };
    Ok(Waited {
        success,
        max_rss_bytes: Some(max_rss_bytes),
        cpu_ms: Some(ms(usage.ru_utime) + ms(usage.ru_stime)),
    })
}

#[cfg(not(unix))]
fn wait_with_usage(child: &mut std::process::Child) -> anyhow::Result<Waited> {
    let status = child.wait().context("waiting for `graph build`")?;
    Ok(Waited {
        success: status.success(),
        max_rss_bytes: None,
        cpu_ms: None,
    })
}

fn median(mut values: Vec<u64>) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "n/a".to_string(),
        |b| format!("{:.0} MiB", b as f64 / 1048576.0),
    )
}

fn print_report(out: &mut impl Write, report: &Report) -> std::io::Result<()> {
    writeln!(
        out,
        "universe: {} feedstocks, {} .ci_support variants (generated in {:.2} s, seed {})",
        report.size,
        report.ci_support_files,
        report.generate_ms as f64 / 1000.0,
        report.seed
    )?;
    writeln!(
        out,
        "{:>4}  {:>9} {:>9} {:>9} {:>9} {:>9}  {:>7}  {:>9} {:>9} {:>9} {:>9}",
        "run",
        "cold",
        "(crawl)",
        "(build)",
        "cpu",
        "rss",
        "touched",
        "incr",
        "(build)",
        "cpu",
        "rss"
    )?;
    let ms = |v: Option<u64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v}ms"));
    for (i, run) in report.runs.iter().enumerate() {
        writeln!(
            out,
            "{:>4}  {:>7}ms {:>7}ms {:>7}ms {:>9} {:>9}  {:>7}  {:>7}ms {:>7}ms {:>9} {:>9}",
            i + 1,
            run.cold.wall_ms,
            run.cold.summary.crawl_ms,
            run.cold.summary.wall_ms,
            ms(run.cold.cpu_ms),
            mib(run.cold.max_rss_bytes),
            run.touched,
            run.incremental.wall_ms,
            run.incremental.summary.wall_ms,
            ms(run.incremental.cpu_ms),
            mib(run.incremental.max_rss_bytes)
        )?;
    }
    if let Some(run) = report.runs.first() {
        let s = &run.cold.summary;
        writeln!(
            out,
            "graph: {} nodes, {} edges, {} cycles, {} parse errors, {} renders; incremental re-parsed {}",
            s.nodes, s.edges, s.cycles, s.parse_errors, s.renders, run.incremental.summary.parsed
        )?;
    }
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    writeln!(
        out,
        "median cold {:.2} s (target ≤ {} s: {}), incremental {:.2} s (target ≤ {} s: {}), cold peak RSS {} (target ≤ 1 GiB: {})",
        report.median_cold_ms as f64 / 1000.0,
        COLD_TARGET.as_secs(),
        verdict(Duration::from_millis(report.median_cold_ms) <= COLD_TARGET),
        report.median_incremental_ms as f64 / 1000.0,
        INCREMENTAL_TARGET.as_secs(),
        verdict(Duration::from_millis(report.median_incremental_ms) <= INCREMENTAL_TARGET),
        mib(report.median_cold_rss_bytes),
        verdict(
            report
                .median_cold_rss_bytes
                .is_none_or(|r| r <= RSS_TARGET_BYTES)
        ),
    )?;
    writeln!(
        out,
        "median CPU (user + system): cold {}, incremental {} (wall time above includes waiting for the cores)",
        ms(report.median_cold_cpu_ms),
        ms(report.median_incremental_cpu_ms)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_odd_count_is_the_middle_value() {
        assert_eq!(median(vec![30, 10, 20]), Some(20));
        assert_eq!(median(vec![]), None);
    }
}
