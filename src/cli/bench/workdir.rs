//! What the in-process benchmarks (`bench plan`, `bench site`) share: a work directory
//! holding a generated universe and its graph, kept with `--dir` and reused by the next
//! run of the same size and seed, the checks and migration loading both start with, and
//! the run-then-report wrapper every bench uses.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::graph::{self, BuildOptions, BuildSummary, NoReporter};
use crate::migrators::registry::{Registry, Sources};
use crate::pinning::load_pinning;
use crate::universe::{self, UniverseOptions};

use super::super::ExitStatus;

/// Refuses what no bench can run with: zero rounds, or a `--pinning` that is not a
/// pinning directory.
pub(super) fn check_inputs(rounds: usize, pinning: &Path) -> anyhow::Result<()> {
    if rounds == 0 {
        bail!("--rounds must be at least 1");
    }
    if !pinning.join("conda_build_config.yaml").is_file() {
        bail!(
            "`{}` is not a pinning directory (no conda_build_config.yaml); pass --pinning DIR",
            pinning.display()
        );
    }
    Ok(())
}

/// Every migration of the pinning in `pinning` plus the embedded definitions.
pub(super) fn load_registry(pinning: &Path) -> anyhow::Result<Registry> {
    let loaded = load_pinning(pinning)
        .with_context(|| format!("reading the pinning in `{}`", pinning.display()))?;
    Ok(Registry::load(
        &Sources {
            pinning_dir: pinning.to_path_buf(),
            migrators_dir: None,
        },
        &loaded,
    ))
}

/// Where a bench keeps its universe: file names inside the work directory.
pub(super) struct Layout {
    /// The marker file (`plan-universe.json`).
    pub marker: &'static str,
    /// The graph database (`plan.sqlite`).
    pub database: &'static str,
    /// The feedstocks directory.
    pub feedstocks: &'static str,
    /// Other directories of ours, removed when the universe is replaced.
    pub outputs: &'static [&'static str],
    /// The command, for the refusal message (`cascade bench plan`).
    pub command: &'static str,
}

/// What a work directory holds. Written before the universe is generated (so the
/// directory's contents are known to be ours even if the run is killed) and marked
/// complete once its graph is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    size: usize,
    seed: u64,
    complete: bool,
}

/// How the universe and its graph were obtained.
pub(super) struct Prepared {
    /// True when the directory already held it (nothing generated, the build incremental).
    pub reused: bool,
    /// Generation time; `None` when reused.
    pub generate_ms: Option<u64>,
    /// The graph build (cold, or the incremental check of a reused directory).
    pub build: BuildSummary,
}

/// Makes `work` hold a universe of `size` and `seed` and its built graph, reusing what a
/// previous run left there. A directory holding files no bench of this kind wrote is
/// refused, never emptied.
pub(super) fn prepare_universe(
    layout: &Layout,
    work: &Path,
    size: usize,
    seed: u64,
) -> anyhow::Result<Prepared> {
    let feedstocks = work.join(layout.feedstocks);
    let db = work.join(layout.database);
    let marker_path = work.join(layout.marker);
    let wanted = Marker {
        size,
        seed,
        complete: true,
    };
    let found: Option<Marker> = fs_err::read_to_string(&marker_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let reused = found.as_ref() == Some(&wanted) && feedstocks.is_dir() && db.is_file();
    let mut generate_ms = None;
    if !reused {
        if found.is_some() {
            // Ours (the marker says so), but for another size or seed, or incomplete.
            eprintln!("{} holds another universe; replacing it", work.display());
            let ours = std::iter::once(layout.feedstocks).chain(layout.outputs.iter().copied());
            for dir in ours.map(|d| work.join(d)) {
                if dir.exists() {
                    fs_err::remove_dir_all(&dir)?;
                }
            }
        } else if db.exists() || feedstocks.exists() {
            let foreign = if db.exists() { &db } else { &feedstocks };
            bail!(
                "`{}` exists but was not written by `{}`; pass another --dir",
                foreign.display(),
                layout.command
            );
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = PathBuf::from(format!("{}{suffix}", db.display()));
            if path.exists() {
                fs_err::remove_file(&path)?;
            }
        }
        fs_err::create_dir_all(work)?;
        let incomplete = Marker {
            complete: false,
            ..wanted.clone()
        };
        fs_err::write(&marker_path, serde_json::to_string(&incomplete)?)?;
        eprintln!(
            "generating {size} feedstocks in {} ...",
            feedstocks.display()
        );
        let made = universe::generate(&UniverseOptions { size, seed }, &feedstocks)
            .with_context(|| format!("generating the universe in `{}`", feedstocks.display()))?;
        generate_ms = Some(made.wall_ms);
    }
    eprintln!(
        "building the graph into {} ({}) ...",
        db.display(),
        if reused { "incremental" } else { "cold" }
    );
    let build = graph::build(
        &BuildOptions {
            feedstocks_dir: feedstocks.clone(),
            db_path: db.clone(),
        },
        &NoReporter,
    )
    .with_context(|| format!("building the graph of `{}`", feedstocks.display()))?;
    if !reused {
        fs_err::write(&marker_path, serde_json::to_string(&wanted)?)?;
    }
    Ok(Prepared {
        reused,
        generate_ms,
        build,
    })
}

/// How a bench's report is printed and judged.
pub(super) struct Output {
    /// Print JSON instead of text.
    pub json: bool,
    /// Exit 1 when the targets are missed.
    pub check: bool,
}

/// Runs `bench` in `dir`, or in a temporary directory (`cascade-bench-<tag>-<pid>`)
/// removed afterwards, then prints its report and turns a missed target into exit 1
/// under `--check`.
pub(super) fn run_reported<R: Serialize>(
    dir: Option<&Path>,
    tag: &str,
    output: &Output,
    bench: impl FnOnce(&Path) -> anyhow::Result<R>,
    targets_met: impl FnOnce(&R) -> bool,
    print: impl FnOnce(&mut dyn Write, &R) -> std::io::Result<()>,
) -> anyhow::Result<ExitStatus> {
    let (work, temporary) = match dir {
        Some(dir) => (dir.to_path_buf(), false),
        None => (
            std::env::temp_dir().join(format!("cascade-bench-{tag}-{}", std::process::id())),
            true,
        ),
    };
    let result = bench(&work);
    if temporary {
        // Best effort: a leftover temporary directory is not worth failing the report.
        let _ = fs_err::remove_dir_all(&work);
    }
    let report = result?;
    let mut out = std::io::stdout().lock();
    if output.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        print(&mut out, &report)?;
    }
    Ok(if output.check && !targets_met(&report) {
        ExitStatus::CheckFailed
    } else {
        ExitStatus::Success
    })
}
