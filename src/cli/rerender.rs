//! `cascade rerender`: regenerate a feedstock's `.ci_support/` natively, or check that the
//! committed files are what a rerender would write (`--check`), or time the rerender of
//! every case of a rerender-cases directory in one process (`--bench-cases`).
//!
//! The work is done by [`cascade::pinning`](crate::pinning); this file turns flags into
//! its inputs and prints.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;

use crate::pinning::{
    self, Compat, FeedstockInputs, FeedstockLayout, MigrationAction, Pinning, RerenderOutput,
};

use super::ExitStatus;

/// The benchmark target: median rerender time per feedstock.
const MEDIAN_TARGET: Duration = Duration::from_millis(5);

/// Regenerate `.ci_support/*.yaml` and `.ci_support/migrations/` exactly as
/// `conda smithy rerender` does, natively.
///
/// Exit status: 0 done (or, with --check, nothing differs), 1 --check found differences,
/// 2 error.
#[derive(Debug, Args)]
pub struct RerenderArgs {
    /// The feedstock checkout (holding `conda-forge.yml`, `recipe/`, `.ci_support/`).
    #[arg(value_name = "FEEDSTOCK_DIR", required_unless_present = "bench_cases")]
    feedstock: Option<PathBuf>,
    /// The pinning: a directory with `conda_build_config.yaml` and `migrations/`
    /// (the layout of conda-forge-pinning's `recipe/`).
    #[arg(
        long,
        value_name = "PINNING_DIR",
        required_unless_present = "bench_cases"
    )]
    pinning: Option<PathBuf>,
    /// Change nothing; print a unified diff and exit 1 when the committed files differ.
    #[arg(long)]
    check: bool,
    /// Reproduce the behaviour of an older conda-smithy release (e.g. `3.44.9`); the
    /// default is the newest behaviour.
    #[arg(long, value_name = "VERSION")]
    smithy_version: Option<String>,
    /// Benchmark: rerender every case of a rerender-cases directory (`cases/<name>/`
    /// plus `pinning/<sha>/`) in this process and report the median time per feedstock.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["feedstock", "check"])]
    bench_cases: Option<PathBuf>,
    /// Benchmark rounds over all cases (the median is taken over every rerender).
    #[arg(long, default_value_t = 5, requires = "bench_cases")]
    rounds: usize,
    /// Benchmark: also print each feedstock's median time, slowest first.
    #[arg(long, requires = "bench_cases")]
    per_case: bool,
}

/// Runs `cascade rerender`.
pub fn run(args: RerenderArgs) -> anyhow::Result<ExitStatus> {
    if let Some(dir) = &args.bench_cases {
        return bench(dir, args.rounds, args.per_case);
    }
    let (Some(feedstock), Some(pinning_dir)) = (&args.feedstock, &args.pinning) else {
        bail!("FEEDSTOCK_DIR and --pinning are required");
    };
    let compat = args
        .smithy_version
        .as_deref()
        .map(Compat::for_smithy_version)
        .unwrap_or_default();
    let pinning = pinning::load_pinning(pinning_dir)
        .with_context(|| format!("cannot read the pinning in `{}`", pinning_dir.display()))?;
    let inputs = pinning::load_feedstock(&FeedstockLayout::checkout(feedstock))
        .with_context(|| format!("cannot read the feedstock `{}`", feedstock.display()))?;
    let output = pinning::rerender(&inputs, &pinning, compat)
        .with_context(|| format!("cannot rerender `{}`", feedstock.display()))?;
    let changes = pinning::changes(feedstock, &output)?;
    let mut stdout = std::io::stdout().lock();
    if args.check {
        if changes.is_empty() {
            writeln!(stdout, "{}: .ci_support is up to date", feedstock.display())?;
            return Ok(ExitStatus::Success);
        }
        write!(stdout, "{}", pinning::unified_diff(&changes))?;
        return Ok(ExitStatus::CheckFailed);
    }
    pinning::apply(feedstock, &changes)?;
    report(&mut stdout, feedstock, &output, changes.len())?;
    Ok(ExitStatus::Success)
}

fn report(
    out: &mut impl Write,
    feedstock: &Path,
    output: &RerenderOutput,
    changed: usize,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{}: {} variant files, {changed} changed",
        feedstock.display(),
        output.files.len()
    )?;
    for (name, action) in &output.migrations.actions {
        let what = match action {
            MigrationAction::PinningCopy => "applied (the pinning's copy)",
            MigrationAction::FeedstockCopy => "applied (the feedstock's copy)",
            MigrationAction::Closed => "closed upstream: deleted",
        };
        writeln!(out, "  migration {name}: {what}")?;
    }
    for (platform, why) in &output.empty_platforms {
        writeln!(out, "  {platform}: no files ({why})")?;
    }
    Ok(())
}

/// One loaded benchmark case.
struct BenchCase {
    name: String,
    inputs: FeedstockInputs,
    pinning: Pinning,
    compat: Compat,
}

fn load_cases(dir: &Path) -> anyhow::Result<Vec<BenchCase>> {
    let cases_dir = dir.join("cases");
    let mut names: Vec<PathBuf> = fs_err::read_dir(&cases_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case.json").is_file())
        .collect();
    names.sort();
    let mut cases = Vec::new();
    for case_dir in names {
        let json: serde_json::Value =
            serde_json::from_str(&fs_err::read_to_string(case_dir.join("case.json"))?)
                .with_context(|| format!("bad case.json in `{}`", case_dir.display()))?;
        let pinning_dir = json["pinning_dir"]
            .as_str()
            .context("case.json has no pinning_dir")?;
        let name = case_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let layout = FeedstockLayout {
            root: case_dir.clone(),
            migrations_dir: case_dir.join("migrations-before"),
        };
        let inputs = pinning::load_feedstock(&layout)?;
        cases.push(BenchCase {
            name,
            inputs,
            pinning: pinning::load_pinning(&dir.join(pinning_dir))?,
            compat: Compat::for_smithy_version(
                json["tools"]["conda-smithy"].as_str().unwrap_or_default(),
            ),
        });
    }
    Ok(cases)
}

/// The median and other quantiles of a sorted sample.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

fn bench(dir: &Path, rounds: usize, per_case: bool) -> anyhow::Result<ExitStatus> {
    let cases =
        load_cases(dir).with_context(|| format!("cannot load the cases in `{}`", dir.display()))?;
    // Per case: wall and CPU time of every round.
    let mut wall: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut cpu: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut failed: Vec<String> = Vec::new();
    let started = Instant::now();
    for round in 0..rounds.max(1) {
        for (index, case) in cases.iter().enumerate() {
            let cpu_start = cpu_time();
            let start = Instant::now();
            let result = pinning::rerender(&case.inputs, &case.pinning, case.compat);
            wall[index].push(start.elapsed());
            if let (Some(a), Some(b)) = (cpu_start, cpu_time()) {
                cpu[index].push(b.saturating_sub(a));
            }
            if round == 0
                && let Err(err) = result
            {
                failed.push(format!("{}: {:#}", case.name, anyhow::Error::new(err)));
            }
        }
    }
    let total = started.elapsed();
    let all = |samples: &[Vec<Duration>]| {
        let mut all: Vec<Duration> = samples.iter().flatten().copied().collect();
        all.sort();
        all
    };
    let (all_wall, all_cpu) = (all(&wall), all(&cpu));
    let median = quantile(&all_wall, 0.5);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "rerendered {} feedstocks x {} rounds in {:.2?} (one process)",
        cases.len(),
        rounds.max(1),
        total
    )?;
    writeln!(
        out,
        "per feedstock: median {:.2?}, p90 {:.2?}, max {:.2?} (target: median <= {:?})",
        median,
        quantile(&all_wall, 0.9),
        quantile(&all_wall, 1.0),
        MEDIAN_TARGET
    )?;
    if !all_cpu.is_empty() {
        writeln!(
            out,
            "per feedstock CPU time (all threads; steadier on a busy machine): median {:.2?}, \
             p90 {:.2?}",
            quantile(&all_cpu, 0.5),
            quantile(&all_cpu, 0.9)
        )?;
    }
    if per_case {
        let mut rows: Vec<(Duration, Duration, &str)> = cases
            .iter()
            .enumerate()
            .map(|(i, case)| {
                wall[i].sort();
                cpu[i].sort();
                (
                    quantile(&wall[i], 0.5),
                    quantile(&cpu[i], 0.5),
                    case.name.as_str(),
                )
            })
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        writeln!(out, "  {:>10}  {:>10}  feedstock", "wall", "cpu")?;
        for (wall, cpu, name) in rows {
            writeln!(out, "  {wall:>10.2?}  {cpu:>10.2?}  {name}")?;
        }
    }
    if !failed.is_empty() {
        writeln!(
            out,
            "errors in {}:\n  {}",
            failed.len(),
            failed.join("\n  ")
        )?;
    }
    Ok(if median <= MEDIAN_TARGET {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

/// CPU time the process has used so far (all threads), where the OS reports it.
#[cfg(unix)]
fn cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a live local of the type the call writes.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| {
        Duration::new(
            u64::try_from(ts.tv_sec).unwrap_or(0),
            u32::try_from(ts.tv_nsec).unwrap_or(0),
        )
    })
}

/// CPU time is not measured on this platform.
#[cfg(not(unix))]
fn cpu_time() -> Option<Duration> {
    None
}
