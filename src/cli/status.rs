//! `cascade status build`: computes where every migration and feedstock stands from the
//! store and writes the static status site plus conda-forge's status JSON files.
//!
//! The demo and `cascade bench site` build the site the same way, through
//! [`build_site`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::graph::{Store, VersionRecord};
use crate::migrators::GraphSnapshot;
use crate::migrators::registry::{Registry, Sources};
use crate::pinning::load_pinning;
use crate::run::PINNING_FEEDSTOCK;
use crate::status::site::{self, SiteOptions, SiteSummary};
use crate::status::{self, StatusReport};

use super::ExitStatus;

/// The status site: where every migration and feedstock stands, and why.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(subcommand)]
    command: StatusCommand,
}

#[derive(Debug, Subcommand)]
enum StatusCommand {
    /// Write the static status site and conda-forge's status JSON files.
    Build(BuildArgs),
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Where the site goes (created when missing; files of an earlier build that no
    /// longer apply are removed).
    #[arg(long, value_name = "DIR", default_value = "status-site/public")]
    out: PathBuf,
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
    /// Prefix of a feedstock repository's URL (`<prefix><name>-feedstock`), linked for
    /// feedstocks without a PR.
    #[arg(long, value_name = "URL", default_value = site::CONDA_FORGE_URL_BASE)]
    feedstock_url: String,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `cascade status ...`.
pub fn run(args: StatusArgs) -> anyhow::Result<ExitStatus> {
    match args.command {
        StatusCommand::Build(args) => build(&args),
    }
}

fn build(args: &BuildArgs) -> anyhow::Result<ExitStatus> {
    let pinning = args.pinning.clone().unwrap_or_else(|| {
        args.data_dir
            .join("checkouts")
            .join(format!("{PINNING_FEEDSTOCK}-feedstock"))
            .join("recipe")
    });
    let inputs = SiteInputs {
        db: args.data_dir.join("cascade.sqlite"),
        pinning,
        migrators: args.migrators.clone(),
        out: args.out.clone(),
        now: super::run::now(),
        options: SiteOptions {
            feedstock_url_base: args.feedstock_url.clone(),
        },
    };
    let built = build_site(&inputs)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &built)?;
        writeln!(out)?;
    } else {
        print_built(&mut out, &built)?;
    }
    Ok(ExitStatus::Success)
}

/// Everything a site build reads.
#[derive(Debug, Clone)]
pub(super) struct SiteInputs {
    /// The graph store.
    pub db: PathBuf,
    /// The pinning directory whose migrations are reported.
    pub pinning: PathBuf,
    /// The definitions folder (`None`: the embedded copy).
    pub migrators: Option<PathBuf>,
    /// The output directory.
    pub out: PathBuf,
    /// The report's clock (Unix seconds).
    pub now: i64,
    /// Site options.
    pub options: SiteOptions,
}

/// What a build did and how long each part took.
#[derive(Debug, Serialize)]
pub(super) struct Built {
    /// Reading the store, the graph and the registry.
    pub load_ms: u64,
    /// `status::collect`.
    pub collect_ms: u64,
    /// Writing the site.
    pub site: SiteSummary,
    /// Migrations reported.
    pub migrations: usize,
    /// Feedstocks reported.
    pub feedstocks: usize,
    /// Whether the store had version checks (and the site a version page).
    pub versions: bool,
}

/// Loads the store and the registry, computes the status report, writes the site.
pub(super) fn build_site(inputs: &SiteInputs) -> anyhow::Result<Built> {
    let started = Instant::now();
    let Loaded {
        report,
        collect_ms,
        versions,
    } = load_report(inputs)?;
    let loaded = started.elapsed();
    let updates = site::version_updates(&versions, &report);
    let site = site::build(&report, updates.as_ref(), &inputs.out, &inputs.options)
        .with_context(|| format!("writing the status site to `{}`", inputs.out.display()))?;
    Ok(Built {
        load_ms: ms(loaded).saturating_sub(collect_ms),
        collect_ms,
        site,
        migrations: report.migrations.len(),
        feedstocks: report.feedstocks.len(),
        versions: updates.is_some(),
    })
}

/// The status report, the time `collect` took, and the stored version checks.
struct Loaded {
    report: StatusReport,
    collect_ms: u64,
    versions: Vec<VersionRecord>,
}

fn load_report(inputs: &SiteInputs) -> anyhow::Result<Loaded> {
    if !inputs.pinning.join("conda_build_config.yaml").is_file() {
        bail!(
            "`{}` is not a pinning directory (no conda_build_config.yaml); pass --pinning DIR",
            inputs.pinning.display()
        );
    }
    let store =
        Store::open(&inputs.db).with_context(|| format!("opening `{}`", inputs.db.display()))?;
    let graph = GraphSnapshot::load(&store).context("loading the graph")?;
    let pinning = load_pinning(&inputs.pinning)
        .with_context(|| format!("reading the pinning in `{}`", inputs.pinning.display()))?;
    let registry = Registry::load(
        &Sources {
            pinning_dir: inputs.pinning.clone(),
            migrators_dir: inputs.migrators.clone(),
        },
        &pinning,
    );
    let started = Instant::now();
    let report = status::collect(&store, &graph, &registry, inputs.now)
        .context("computing the status of every migration")?;
    let collect_ms = ms(started.elapsed());
    let versions = store
        .version_records()
        .context("reading the version checks")?;
    Ok(Loaded {
        report,
        collect_ms,
        versions,
    })
}

fn ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The human summary of a build.
pub(super) fn print_built(out: &mut impl Write, built: &Built) -> std::io::Result<()> {
    let s = &built.site;
    writeln!(
        out,
        "status site: {} migrations, {} feedstocks{}; {} pages, {} files, {:.1} MB in {}",
        built.migrations,
        built.feedstocks,
        if built.versions {
            ", version updates"
        } else {
            ""
        },
        s.pages,
        s.files,
        s.bytes as f64 / 1e6,
        s.out.display()
    )?;
    writeln!(
        out,
        "time: load {} ms, collect {} ms, write {} ms; largest page {} ({:.0} kB); {} files unchanged, {} stale files removed",
        built.load_ms,
        built.collect_ms,
        s.wall_ms,
        s.largest_page.display(),
        s.largest_page_bytes as f64 / 1e3,
        s.unchanged,
        s.removed
    )?;
    writeln!(out, "index: {}", display_path(&s.index))
}

/// A path as the user can open it (absolute when it can be made so).
pub(super) fn display_path(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}
