//! `cascade demo`: the whole pipeline on a synthetic universe, offline. It writes a
//! ~300-feedstock universe under `graph-data/demo/feedstocks/`, builds its graph into
//! `graph-data/demo/cascade.sqlite`, and prints the summary plus the queries a maintainer
//! would ask first (the hubs, the cycles). No network, no token.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::graph::{self, BuildOptions, DepDirection, Store};
use crate::universe::{self, DEFAULT_SEED, UniverseOptions};

use super::ExitStatus;
use super::progress::BarReporter;

/// The entries a demo directory may hold; anything else means it is not ours to delete.
const DEMO_ENTRIES: &[&str] = &[
    "feedstocks",
    "cascade.sqlite",
    "cascade.sqlite-wal",
    "cascade.sqlite-shm",
    "cascade.sqlite-journal",
];

/// Run the whole pipeline on a generated ~300-feedstock universe (offline).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo lives; replaced on every run.
    #[arg(long, value_name = "DIR", default_value = "graph-data/demo")]
    dir: PathBuf,
    /// Number of feedstocks in the universe.
    #[arg(long, value_name = "N", default_value_t = 300)]
    size: usize,
    /// Seed of the universe.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
}

/// Runs `cascade demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    let feedstocks = args.dir.join("feedstocks");
    let db = args.dir.join("cascade.sqlite");
    clear_demo_dir(&args.dir)?;

    writeln!(out, "cascade demo: a synthetic conda-forge, offline\n")?;
    let options = UniverseOptions {
        size: args.size,
        seed: args.seed,
    };
    let made = universe::generate(&options, &feedstocks)
        .with_context(|| format!("generating the demo universe in `{}`", feedstocks.display()))?;
    writeln!(
        out,
        "1. universe  {} feedstocks in {} ({} files) in {:.2} s",
        made.feedstocks,
        feedstocks.display(),
        made.files,
        made.wall_ms as f64 / 1000.0
    )?;
    writeln!(
        out,
        "             {} v0 meta.yaml + {} v1 recipe.yaml; {} noarch python; {} multi-output; {} .ci_support variants",
        made.v0_recipes,
        made.v1_recipes,
        made.noarch_python,
        made.multi_output,
        made.ci_support_files
    )?;

    let started = Instant::now();
    let reporter = BarReporter::new(true);
    let summary = graph::build(
        &BuildOptions {
            feedstocks_dir: feedstocks.clone(),
            db_path: db.clone(),
        },
        &reporter,
    )
    .with_context(|| format!("building the graph into `{}`", db.display()))?;
    writeln!(
        out,
        "2. graph     {} in {:.2} s ({} renders, {} identical variants skipped)",
        db.display(),
        started.elapsed().as_secs_f64(),
        summary.renders,
        summary.skipped_identical
    )?;
    writeln!(
        out,
        "             nodes {}, edges {}, external dependencies {}, parse errors {}, cycles {}",
        summary.nodes,
        summary.edges,
        summary.external_dependencies,
        summary.parse_errors,
        summary.cycles
    )?;

    let store = Store::open(&db).with_context(|| format!("opening `{}`", db.display()))?;
    writeln!(out, "\n3. what a maintainer asks first")?;
    print_hubs(&mut out, &store)?;
    print_cycles(&mut out, &store)?;
    print_errors(&mut out, &store)?;

    let db_arg = db.display();
    writeln!(out, "\nexplore further:")?;
    writeln!(out, "  cascade graph show numpy --db {db_arg}")?;
    writeln!(
        out,
        "  cascade graph deps zlib --reverse --depth 1 --db {db_arg}"
    )?;
    writeln!(out, "  cascade graph cycles --db {db_arg}")?;
    writeln!(
        out,
        "  cascade graph export --format dot --db {db_arg} > demo.dot"
    )?;
    Ok(ExitStatus::Success)
}

/// Removes a previous demo. Refuses a directory holding anything a demo does not write,
/// so a mistyped `--dir` never deletes someone's files.
fn clear_demo_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let entries = fs_err::read_dir(dir)?;
    for entry in entries {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !DEMO_ENTRIES.contains(&name.as_str()) {
            bail!(
                "`{}` holds `{name}`, which the demo did not write; refusing to replace it",
                dir.display()
            );
        }
    }
    fs_err::remove_dir_all(dir)?;
    Ok(())
}

/// The ten feedstocks with the most direct dependents, with their transitive dependents:
/// the size of a rebuild migration started at that hub.
fn print_hubs(out: &mut impl Write, store: &Store) -> anyhow::Result<()> {
    let export = store.export()?;
    let mut direct: HashMap<&str, usize> = HashMap::new();
    for edge in &export.edges {
        *direct.entry(edge.source.as_str()).or_default() += 1;
    }
    let mut hubs: Vec<(&str, usize)> = direct.into_iter().collect();
    hubs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    writeln!(
        out,
        "   top hubs by dependents (direct / transitive = feedstocks a rebuild of it reaches):"
    )?;
    for (name, count) in hubs.iter().take(10) {
        let transitive = store.deps(name, DepDirection::Dependents, None)?.len();
        writeln!(out, "     {name:<20} {count:>5} / {transitive:>5}")?;
    }
    Ok(())
}

fn print_cycles(out: &mut impl Write, store: &Store) -> anyhow::Result<()> {
    let cycles = store.cycles()?;
    writeln!(
        out,
        "   cycles ({}); the test-only edge is the cheap one to cut:",
        cycles.len()
    )?;
    for cycle in &cycles {
        let edges: Vec<String> = cycle
            .edges
            .iter()
            .map(|e| {
                let sections: Vec<&str> = e.sections.iter().map(|s| s.as_str()).collect();
                format!("{} -> {} [{}]", e.source, e.target, sections.join(","))
            })
            .collect();
        writeln!(
            out,
            "     {}: {}",
            cycle.members.join(" + "),
            edges.join("; ")
        )?;
    }
    Ok(())
}

fn print_errors(out: &mut impl Write, store: &Store) -> anyhow::Result<()> {
    let errors = store.errors()?;
    if errors.is_empty() {
        writeln!(out, "   parse errors: none")?;
        return Ok(());
    }
    writeln!(out, "   parse errors ({}), first ten:", errors.len())?;
    for error in errors.iter().take(10) {
        let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
        writeln!(
            out,
            "     {}: {}{line}: {}",
            error.feedstock, error.file, error.message
        )?;
    }
    Ok(())
}
