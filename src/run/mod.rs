//! The run loop: one pass of the bot.
//!
//! 1. **Refresh** every open PR the store tracks (`refresh`): merges, closes,
//!    `bot-rerun` labels and conflicts become recorded outcomes.
//! 2. **Sync** a working checkout of every feedstock from the forge (`checkouts`).
//! 3. **Build** the graph incrementally from those checkouts (only changed feedstocks
//!    are re-rendered).
//! 4. **Load** the pinning and every migration (`migrators::Registry`), plus the
//!    version migrator over the store's upstream versions ([`VersionOptions`]).
//! 5. Per migration (regular first, longterm last, paused ones only planned):
//!    **plan, schedule, and work** through the ready nodes up to the PR limit
//!    (`attempt`), recording every outcome and error in the store.
//!
//! A run is idempotent: running it twice opens nothing the first did not, and a run
//! killed at any point (`checkpoint`) is finished by the next one without duplicates.
//!
//! A spent rate limit (`stop`) ends the forge work early, at any step: the rest is
//! skipped, the run is still recorded as finished with [`RunSummary::stopped`] saying
//! why, and the next run resumes where this one stopped.

mod attempt;
mod branch;
mod checkouts;
pub mod checkpoint;
mod refresh;
mod stop;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::forge::{Forge, ForgeError};
use crate::graph::{self, BuildOptions, BuildReporter, BuildSummary, GraphError, Store};
use crate::migrators::registry::{LoadError, Registry, Sources};
use crate::migrators::version::{RunFetch, VersionMigrator};
use crate::migrators::{GraphSnapshot, Identity};
use crate::pinning::{FilesError, load_pinning};
use crate::recipe::version::{
    Fetch, FetchError, HashCache, HashCacheError, HttpFetch, HttpOptions,
};

pub use attempt::{Blocker, MigrationRun, PrOutcome};
pub use branch::{branch_name, commit_spec, diff};
pub use checkouts::{Checkout, Synced, sync_all};
pub use refresh::{BOT_RERUN_LABEL, RefreshSummary, refresh};
pub use stop::{Flow, Stopped};

/// The feedstock that holds the pinning in a crawled universe.
pub const PINNING_FEEDSTOCK: &str = "conda-forge-pinning";

/// What a run works on and how.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The store.
    pub db_path: PathBuf,
    /// Where the working checkouts live.
    pub checkouts_dir: PathBuf,
    /// The pinning directory; `None`: the pinning feedstock's `recipe/` in the checkouts.
    pub pinning_dir: Option<PathBuf>,
    /// The definitions folder; `None`: the copy compiled into the binary.
    pub migrators_dir: Option<PathBuf>,
    /// Only these migrations (all when empty).
    pub only: Vec<String>,
    /// Plan and print; change nothing on the forge or in the work records.
    pub dry_run: bool,
    /// The bot identity and links.
    pub identity: Identity,
    /// The run's clock (Unix seconds).
    pub now: i64,
}

/// Whether and how a run opens version-update PRs (the version migrator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionOptions {
    /// Run the version migrator at all.
    pub enabled: bool,
    /// A JSON hash-cache file (`{"<url>": {"sha256": "<hex>"}}`) preloaded before the
    /// store's own cache.
    pub hash_cache: Option<PathBuf>,
    /// Whether sources may be downloaded to hash them.
    pub network: VersionNetwork,
}

impl Default for VersionOptions {
    /// Enabled, downloading through the store's hash cache.
    fn default() -> Self {
        VersionOptions {
            enabled: true,
            hash_cache: None,
            network: VersionNetwork::Online,
        }
    }
}

/// Where the version migrator's source digests may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionNetwork {
    /// Download what no cache knows (and record it in the store).
    Online,
    /// Caches only: an unknown URL counts as not existing.
    Offline,
}

/// Why a run could not proceed at all (per-node problems are recorded, not raised).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The forge failed before any work could start.
    #[error("the forge failed")]
    Forge(#[source] ForgeError),
    /// The store or the graph build failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// No pinning found.
    #[error(
        "no pinning: pass --pinning DIR, or have a `{PINNING_FEEDSTOCK}-feedstock` on the forge"
    )]
    NoPinning,
    /// The pinning could not be read.
    #[error("cannot read the pinning in `{}`", .dir.display())]
    Pinning {
        /// The directory.
        dir: PathBuf,
        /// What failed.
        #[source]
        source: Box<FilesError>,
    },
    /// The `--hash-cache` file could not be used.
    #[error("cannot use the hash cache")]
    HashCache(#[source] HashCacheError),
    /// The HTTP client for hashing sources could not be built.
    #[error("cannot set up downloads for the version migrator")]
    Fetch(#[source] FetchError),
    /// `--migrator` named migrations that do not exist.
    #[error("unknown migration(s): {}", .0.join(", "))]
    UnknownMigrations(Vec<String>),
}

/// Everything one run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// The run's id in the store (`None` for a dry run).
    pub run_id: Option<i64>,
    /// True when nothing was changed.
    pub dry_run: bool,
    /// What the PR refresh found.
    pub refresh: RefreshSummary,
    /// Feedstocks checked out.
    pub checkouts: usize,
    /// Feedstocks that could not be checked out, with the error.
    pub sync_failures: Vec<(String, String)>,
    /// The graph build.
    pub graph: BuildSummary,
    /// The pinning directory used.
    pub pinning: PathBuf,
    /// Definitions that did not load.
    pub definition_errors: Vec<LoadError>,
    /// Per migration, in run order (a run that stopped early lists those it reached).
    pub migrations: Vec<MigrationRun>,
    /// Set when the forge stopped the run early (a spent rate limit); the next run
    /// resumes.
    pub stopped: Option<Stopped>,
    /// Wall time in milliseconds.
    pub wall_ms: u64,
}

impl RunSummary {
    /// PRs opened (or planned) across all migrations.
    pub fn opened(&self) -> usize {
        self.migrations.iter().map(|m| m.opened.len()).sum()
    }
}

/// Runs the bot once, with version updates on their defaults ([`VersionOptions`]).
pub fn run(
    options: &RunOptions,
    forge: &dyn Forge,
    reporter: &dyn BuildReporter,
) -> Result<RunSummary, RunError> {
    run_with_versions(options, &VersionOptions::default(), forge, reporter)
}

/// Runs the bot once; `versions` says whether and how version PRs are opened.
///
/// A spent rate limit is not an error: the summary comes back with
/// [`RunSummary::stopped`] set, and the run is recorded as finished.
pub fn run_with_versions(
    options: &RunOptions,
    versions: &VersionOptions,
    forge: &dyn Forge,
    reporter: &dyn BuildReporter,
) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let mut summary = RunSummary {
        run_id: None,
        dry_run: options.dry_run,
        refresh: RefreshSummary::default(),
        checkouts: 0,
        sync_failures: Vec::new(),
        graph: BuildSummary::default(),
        pinning: pinning_dir(options),
        definition_errors: Vec::new(),
        migrations: Vec::new(),
        stopped: None,
        wall_ms: 0,
    };
    if let ControlFlow::Break(stopped) = work(options, versions, forge, reporter, &mut summary)? {
        tracing::warn!(reason = %stopped.reason, "run stopped early; the next run resumes");
        summary.stopped = Some(stopped);
    }
    summary.wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if !options.dry_run {
        let store = Store::open(&options.db_path)?;
        let id = match summary.run_id {
            Some(id) => id,
            None => store.begin_run(options.now)?,
        };
        summary.run_id = Some(id);
        let json = serde_json::to_string(&summary).unwrap_or_default();
        store.finish_run(id, options.now, &json)?;
        checkpoint::reached("run finished");
    }
    Ok(summary)
}

/// The steps of a run, each filling its part of `summary`; stops after the first step
/// the forge stopped.
fn work(
    options: &RunOptions,
    versions: &VersionOptions,
    forge: &dyn Forge,
    reporter: &dyn BuildReporter,
    summary: &mut RunSummary,
) -> Result<Flow, RunError> {
    if options.db_path.is_file() {
        let store = Store::open(&options.db_path)?;
        let remake_allowed = |feedstock: &str| remake_prs_with_conflicts(options, feedstock);
        let (refreshed, flow) =
            refresh(&store, forge, &remake_allowed, options.now, options.dry_run)?;
        summary.refresh = refreshed;
        if flow.is_break() {
            return Ok(flow);
        }
    }

    let (synced, flow) = sync_all(forge, &options.checkouts_dir).map_err(RunError::Forge)?;
    summary.checkouts = synced.checkouts.len();
    summary.sync_failures = synced
        .failures
        .iter()
        .map(|(name, err)| (name.clone(), err.to_string()))
        .collect();
    if flow.is_break() {
        return Ok(flow);
    }
    summary.graph = graph::build(
        &BuildOptions {
            feedstocks_dir: options.checkouts_dir.clone(),
            db_path: options.db_path.clone(),
        },
        reporter,
    )?;
    let store = Store::open(&options.db_path)?;
    for checkout in synced.checkouts.values() {
        store.set_archived(&checkout.repo.name, checkout.repo.archived)?;
    }
    let snapshot = GraphSnapshot::load(&store)?;

    let pinning_dir = summary.pinning.clone();
    if !pinning_dir.join("conda_build_config.yaml").is_file() {
        return Err(RunError::NoPinning);
    }
    let pinning = load_pinning(&pinning_dir).map_err(|source| RunError::Pinning {
        dir: pinning_dir.clone(),
        source: Box::new(source),
    })?;
    let mut registry = Registry::load(
        &Sources {
            pinning_dir,
            migrators_dir: options.migrators_dir.clone(),
        },
        &pinning,
    );
    if versions.enabled {
        let fetch = version_fetch(options, versions)?;
        registry.add(Box::new(VersionMigrator::load(&store, &snapshot, fetch)?));
    }
    let unknown = registry.retain(&options.only);
    if !unknown.is_empty() {
        return Err(RunError::UnknownMigrations(unknown));
    }
    for error in &registry.errors {
        tracing::error!(file = %error.file.display(), message = %error.message, "definition not loaded");
    }
    summary.definition_errors = registry.errors.clone();

    if !options.dry_run {
        summary.run_id = Some(store.begin_run(options.now)?);
    }
    let cx = attempt::Context {
        store: &store,
        forge,
        graph: &snapshot,
        checkouts: &synced.checkouts,
        pinning: &pinning,
        identity: &options.identity,
        now: options.now,
        dry_run: options.dry_run,
    };
    summary.migrations.reserve(registry.migrators.len());
    for migrator in &registry.migrators {
        let (migration, flow) = attempt::run_migration(&cx, migrator.as_ref())?;
        summary.migrations.push(migration);
        if flow.is_break() {
            return Ok(flow);
        }
    }
    Ok(stop::GO_ON)
}

/// The pinning directory: `--pinning`, else the pinning feedstock's `recipe/` in the
/// checkouts.
fn pinning_dir(options: &RunOptions) -> PathBuf {
    match &options.pinning_dir {
        Some(dir) => dir.clone(),
        None => options
            .checkouts_dir
            .join(format!("{PINNING_FEEDSTOCK}-feedstock"))
            .join("recipe"),
    }
}

/// The version migrator's fetcher: the `--hash-cache` file, the store's hash cache,
/// and (online) HTTP.
fn version_fetch(
    options: &RunOptions,
    versions: &VersionOptions,
) -> Result<Arc<dyn Fetch + Send + Sync>, RunError> {
    let preloaded = match &versions.hash_cache {
        Some(path) => HashCache::load(path).map_err(RunError::HashCache)?,
        None => HashCache::new(),
    };
    let network = match versions.network {
        VersionNetwork::Online => {
            Some(HttpFetch::new(HttpOptions::default()).map_err(RunError::Fetch)?)
        }
        VersionNetwork::Offline => None,
    };
    let store = Store::open(&options.db_path)?;
    Ok(Arc::new(RunFetch::new(preloaded, Some(store), network)))
}

/// `bot.remake_prs_with_conflicts` of a feedstock's checkout (default true; an
/// unreadable `conda-forge.yml` keeps the default).
fn remake_prs_with_conflicts(options: &RunOptions, feedstock: &str) -> bool {
    let path = options
        .checkouts_dir
        .join(format!("{feedstock}-feedstock"))
        .join("conda-forge.yml");
    read_config(&path).is_none_or(|c| c.bot.remake_prs_with_conflicts)
}

fn read_config(path: &Path) -> Option<crate::feedstock::config::ForgeConfig> {
    let text = fs_err::read_to_string(path).ok()?;
    crate::feedstock::config::parse(&text).ok()
}
