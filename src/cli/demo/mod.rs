//! `cascade demo`: the whole pipeline on a synthetic universe, offline. It writes a
//! ~300-feedstock universe, imports it into a local forge (with the demo's pinning
//! migrations in its `conda-forge-pinning` feedstock), then runs the bot for several
//! rounds while simulated maintainers merge, close and `bot-rerun` its PRs, and prints
//! the waves: PRs opened per round per migration, and what is still waiting on what.
//! No network, no token. Everything stays under `graph-data/demo/` for further
//! `cascade run`, `cascade forge` and `cascade graph` commands.

mod maintainers;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::forge::local::{LocalForge, LocalForgeOptions};
use crate::graph::{DepDirection, Store};
use crate::migrators::Identity;
use crate::run::{self, RunOptions, RunSummary};
use crate::universe::{self, DEFAULT_SEED, UniverseOptions};

use super::ExitStatus;
use super::progress::BarReporter;

/// The entries a demo directory may hold; anything else means it is not ours to delete.
const DEMO_ENTRIES: &[&str] = &[
    "feedstocks",
    "forge",
    "checkouts",
    "cascade.sqlite",
    "cascade.sqlite-wal",
    "cascade.sqlite-shm",
    "cascade.sqlite-journal",
    "site",
];

/// The demo's pinning migrations (`migrators/demo/`), added to the universe's pinning.
const DEMO_MIGRATIONS: &[(&str, &str)] = &[
    (
        "python314.yaml",
        include_str!("../../../migrators/demo/python314.yaml"),
    ),
    (
        "libxml2216.yaml",
        include_str!("../../../migrators/demo/libxml2216.yaml"),
    ),
];

/// The clock of the first round; each round is a day later (Unix seconds).
const DEMO_EPOCH: i64 = 1_790_000_000;

/// Run the whole pipeline on a generated ~300-feedstock universe (offline).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo lives; replaced on every run.
    #[arg(long, value_name = "DIR", default_value = "graph-data/demo")]
    dir: PathBuf,
    /// Number of feedstocks in the universe.
    #[arg(long, value_name = "N", default_value_t = 300)]
    size: usize,
    /// Seed of the universe and of the maintainers.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Rounds of bot run + maintainers.
    #[arg(long, value_name = "N", default_value_t = 6)]
    rounds: usize,
}

/// Runs `cascade demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    let started = Instant::now();
    let feedstocks = args.dir.join("feedstocks");
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
    let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
    fs_err::create_dir_all(&migrations)?;
    for (name, text) in DEMO_MIGRATIONS {
        fs_err::write(migrations.join(name), text)?;
    }

    let forge_dir = args.dir.join("forge");
    let forge = LocalForge::open(&forge_dir, &LocalForgeOptions::default())
        .with_context(|| format!("opening the local forge in `{}`", forge_dir.display()))?;
    let imported = forge
        .import(&feedstocks)
        .with_context(|| format!("importing `{}`", feedstocks.display()))?;
    writeln!(
        out,
        "2. forge     {} repositories in {} (PRs in forge.sqlite); pinning migrations: {}",
        imported.imported(),
        forge_dir.display(),
        DEMO_MIGRATIONS
            .iter()
            .map(|(n, _)| n.trim_end_matches(".yaml"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;

    let mut options = RunOptions {
        db_path: args.dir.join("cascade.sqlite"),
        checkouts_dir: args.dir.join("checkouts"),
        pinning_dir: None,
        migrators_dir: None,
        only: Vec::new(),
        dry_run: false,
        identity: Identity::default(),
        now: DEMO_EPOCH,
    };
    writeln!(
        out,
        "3. rounds    each: the bot runs (refresh PRs, sync, graph, open ready PRs), then maintainers act"
    )?;
    let mut opened: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut last: Option<RunSummary> = None;
    for round in 1..=args.rounds {
        let reporter = BarReporter::new(true);
        let summary = run::run(&options, &forge, &reporter)
            .with_context(|| format!("round {round}: the run failed"))?;
        for m in &summary.migrations {
            let row = opened.entry(m.name.clone()).or_default();
            row.resize(round - 1, 0);
            row.push(m.opened.len());
        }
        let played = maintainers::play(
            &forge,
            maintainers::Habits::default(),
            args.seed ^ round as u64,
        )
        .with_context(|| format!("round {round}: the maintainers failed"))?;
        writeln!(
            out,
            "   round {round}  {:>3} PRs opened, {:>3} refreshed ({} merged, {} closed, {} bot-rerun); then maintainers merged {}, closed {}, asked {} reruns, left {} open",
            summary.opened(),
            summary.refresh.checked,
            summary.refresh.merged,
            summary.refresh.closed,
            summary.refresh.reruns,
            played.merged,
            played.closed,
            played.reruns,
            played.left_open
        )?;
        if round == 1 {
            writeln!(
                out,
                "            graph: {} feedstocks, {} edges, {} parse errors, {} cycles",
                summary.graph.nodes,
                summary.graph.edges,
                summary.graph.parse_errors,
                summary.graph.cycles
            )?;
        }
        options.now += 86_400;
        last = Some(summary);
    }

    writeln!(out, "\n4. waves: PRs opened per round")?;
    write!(out, "   {:<32}", "migration")?;
    for round in 1..=args.rounds {
        write!(out, " {:>4}", format!("r{round}"))?;
    }
    writeln!(out)?;
    for (name, row) in &opened {
        write!(out, "   {name:<32}")?;
        for round in 0..args.rounds {
            write!(out, " {:>4}", row.get(round).copied().unwrap_or(0))?;
        }
        writeln!(out)?;
    }
    if let Some(summary) = &last {
        print_waiting(&mut out, summary)?;
    }

    let store = Store::open(&options.db_path)
        .with_context(|| format!("opening `{}`", options.db_path.display()))?;
    writeln!(out, "\n5. the graph")?;
    print_hubs(&mut out, &store)?;
    print_cycles(&mut out, &store)?;
    print_errors(&mut out, &store)?;

    let site = write_site(&args.dir, &options)?;
    writeln!(
        out,
        "\n6. status site  {} pages, {:.1} MB (largest {:.0} kB) in {} ms",
        site.site.pages,
        site.site.bytes as f64 / 1e6,
        site.site.largest_page_bytes as f64 / 1e3,
        site.collect_ms + site.site.wall_ms
    )?;
    writeln!(
        out,
        "   index: {}",
        super::status::display_path(&site.site.index)
    )?;

    let dir = args.dir.display();
    writeln!(
        out,
        "\ndone in {:.1} s. explore further:",
        started.elapsed().as_secs_f64()
    )?;
    writeln!(out, "  cascade forge --forge-dir {dir}/forge pr list")?;
    writeln!(out, "  cascade run --data-dir {dir} --dry-run")?;
    writeln!(
        out,
        "  cascade status build --data-dir {dir} --out {dir}/site"
    )?;
    writeln!(out, "  cascade graph show numpy --db {dir}/cascade.sqlite")?;
    writeln!(
        out,
        "  cascade graph deps zlib --reverse --depth 1 --db {dir}/cascade.sqlite"
    )?;
    Ok(ExitStatus::Success)
}

/// Writes the status site of the demo's last state into `<dir>/site/`, on the demo's
/// clock.
fn write_site(dir: &Path, options: &RunOptions) -> anyhow::Result<super::status::Built> {
    let inputs = super::status::SiteInputs {
        db: options.db_path.clone(),
        pinning: options
            .checkouts_dir
            .join(format!("{}-feedstock", run::PINNING_FEEDSTOCK))
            .join("recipe"),
        migrators: None,
        out: dir.join("site"),
        now: options.now,
        options: crate::status::site::SiteOptions::default(),
    };
    super::status::build_site(&inputs)
}

/// Per migration, where its members stand at the start of the last round and who
/// holds the most of them back.
fn print_waiting(out: &mut impl Write, summary: &RunSummary) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n   where each migration stands (start of the last round) and what waits on what:"
    )?;
    for m in &summary.migrations {
        let c = &m.counts;
        writeln!(
            out,
            "   {:<32} {} members: {} done ({} merged, {} closed unmerged, {} nothing to do), {} in PR, {} ready, {} awaiting parents",
            m.name,
            c.members,
            c.done(),
            c.merged,
            c.closed_unmerged,
            c.nothing_to_do,
            c.in_pr,
            c.ready,
            c.awaiting_parents
        )?;
        if !m.blockers.is_empty() {
            let blockers: Vec<String> = m
                .blockers
                .iter()
                .map(|b| format!("{} ({}, {} waiting)", b.feedstock, b.state, b.waiting))
                .collect();
            writeln!(out, "   {:<32}   blocked on: {}", "", blockers.join(", "))?;
        }
    }
    Ok(())
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
