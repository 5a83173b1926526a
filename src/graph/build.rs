//! One graph build: crawl the checkouts, write the changed nodes, recompute edges, cycles
//! and the topological order from every node's stored renders, and commit — all in one
//! transaction, so a build that fails (or is killed) at any point leaves the previous
//! graph intact.
//!
//! Incremental by construction: an unchanged fingerprint skips a checkout entirely, an
//! unchanged content hash only refreshes the fingerprint, and a checkout that is gone is
//! marked removed (its row and history stay). Edges are recomputed from all nodes, which
//! costs milliseconds per thousand nodes and cannot drift from the nodes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::GraphError;
use super::crawl::{self, Checkout, Crawled, Known};
use super::edges;
use super::model::{Node, NodeAttributes};
use super::store::{NodeRow, Store, StoredFeedstock, Writer, unix_now};
use super::topo;

/// Where a build reads and writes.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The directory holding `<name>-feedstock/` checkouts.
    pub feedstocks_dir: PathBuf,
    /// The SQLite file (created with its directory when missing).
    pub db_path: PathBuf,
}

/// Progress of a build, for a progress bar. Called from several threads at once.
pub trait BuildReporter: Sync {
    /// The crawl starts over `total` checkouts.
    fn start(&self, total: usize);
    /// One checkout has been crawled (in any order).
    fn advance(&self, feedstock: &str);
    /// The crawl is over; the graph is being written.
    fn finish(&self);
}

/// A reporter that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReporter;

impl BuildReporter for NoReporter {
    fn start(&self, _total: usize) {}
    fn advance(&self, _feedstock: &str) {}
    fn finish(&self) {}
}

/// What a build did and what the graph looks like afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildSummary {
    /// Feedstocks in the graph (checkouts present).
    pub nodes: usize,
    /// Edges between them.
    pub edges: usize,
    /// Distinct requirement names no feedstock produces.
    pub external_dependencies: usize,
    /// Feedstocks in the graph with at least one parse failure.
    pub parse_errors: usize,
    /// Cycles: strongly connected components with more than one member or a self-loop.
    pub cycles: usize,
    /// Weakly connected components (isolated feedstocks count as one each).
    pub weak_components: usize,
    /// Checkouts read and rendered by this build.
    pub parsed: usize,
    /// Checkouts whose fingerprint was unchanged (not read).
    pub unchanged: usize,
    /// Checkouts whose files were touched but whose content was identical (not parsed).
    pub touched: usize,
    /// Feedstocks whose checkout disappeared since the last build.
    pub removed: usize,
    /// Recipe renders performed.
    pub renders: usize,
    /// Variants skipped because an identical render had been done.
    pub skipped_identical: usize,
    /// Milliseconds until every checkout was crawled: listing, reading the stored rows,
    /// fingerprints, hashes, loading and rendering. The rest of `wall_ms` is writing.
    pub crawl_ms: u64,
    /// Wall time of the build in milliseconds (crawl, store writes, edges, commit).
    pub wall_ms: u64,
}

/// How many times a build crawls again because another build committed meanwhile.
const ATTEMPTS: usize = 3;

/// Builds (or incrementally refreshes) the graph of `options.feedstocks_dir` into
/// `options.db_path`.
///
/// The crawl runs outside the write transaction, against a snapshot of the stored rows,
/// so other writers of the database are not blocked while recipes render. The write
/// transaction then checks that no other build committed since the snapshot; if one
/// did, the crawl is redone against the new rows (it is incremental, so cheap).
#[tracing::instrument(skip_all, fields(dir = %options.feedstocks_dir.display()))]
pub fn build(
    options: &BuildOptions,
    reporter: &dyn BuildReporter,
) -> Result<BuildSummary, GraphError> {
    let clock = Instant::now();
    let started_at = unix_now();
    // Stored paths must not depend on the working directory of the run that wrote them.
    let feedstocks_dir = std::path::absolute(&options.feedstocks_dir).map_err(|source| {
        GraphError::ListFeedstocks {
            path: options.feedstocks_dir.clone(),
            source,
        }
    })?;
    let checkouts = crawl::list_checkouts(&feedstocks_dir)?;
    let mut store = Store::open_or_create(&options.db_path)?;
    for attempt in 1..=ATTEMPTS {
        let snapshot = store.snapshot()?;
        let crawled = crawl_against(&checkouts, &snapshot.feedstocks, reporter);
        let crawl_ms = millis(clock.elapsed());
        let writer = store.begin_build()?;
        if writer.generation()? != snapshot.generation {
            tracing::info!(
                attempt,
                "another build committed during the crawl; crawling again"
            );
            continue;
        }
        let mut summary = BuildSummary {
            crawl_ms,
            ..BuildSummary::default()
        };
        write_build(
            &writer,
            &checkouts,
            crawled,
            snapshot.feedstocks,
            &mut summary,
        )?;
        summary.wall_ms = millis(clock.elapsed());
        let summary_json = serde_json::to_string(&summary)
            .map_err(|e| GraphError::Internal(format!("serialising the build summary: {e}")))?;
        writer.record_build(
            started_at,
            &feedstocks_dir.display().to_string(),
            &summary_json,
        )?;
        writer.commit()?;
        summary.wall_ms = millis(clock.elapsed());
        tracing::info!(?summary, "graph built");
        return Ok(summary);
    }
    Err(GraphError::ConcurrentBuilds {
        path: options.db_path.clone(),
        attempts: ATTEMPTS,
    })
}

/// Crawls every checkout against what the store knew.
fn crawl_against(
    checkouts: &[Checkout],
    stored: &BTreeMap<String, StoredFeedstock>,
    reporter: &dyn BuildReporter,
) -> Vec<Crawled> {
    let known: HashMap<&str, Known<'_>> = stored
        .iter()
        .filter(|(_, s)| !s.removed && s.attributes.is_some())
        .map(|(name, s)| {
            let known = Known {
                fingerprint: s.fingerprint.as_deref(),
                content_hash: s.content_hash.as_deref(),
            };
            (name.as_str(), known)
        })
        .collect();
    reporter.start(checkouts.len());
    let crawled = crawl::crawl(checkouts, &known, reporter);
    reporter.finish();
    crawled
}

/// Writes the crawl's outcome and the derived graph into the open transaction, and
/// fills in the summary's counts.
fn write_build(
    writer: &Writer<'_>,
    checkouts: &[Checkout],
    crawled: Vec<Crawled>,
    mut stored: BTreeMap<String, StoredFeedstock>,
    summary: &mut BuildSummary,
) -> Result<(), GraphError> {
    let mut nodes = Vec::with_capacity(checkouts.len());
    let mut ids = Vec::with_capacity(checkouts.len());
    for (checkout, outcome) in checkouts.iter().zip(crawled) {
        let path = checkout.path.display().to_string();
        let previous = stored.get_mut(checkout.name.as_str());
        let (id, attributes) = match outcome {
            Crawled::Unchanged | Crawled::Touched(_) => {
                let Some(previous) = previous else {
                    return Err(GraphError::Internal(format!(
                        "`{}` was skipped as unchanged but has no stored row",
                        checkout.name
                    )));
                };
                match &outcome {
                    Crawled::Touched(fingerprint) => {
                        summary.touched += 1;
                        writer.touch(previous.id, fingerprint.as_str(), &path)?;
                    }
                    _ => {
                        summary.unchanged += 1;
                        if previous.path != path {
                            writer.set_path(previous.id, &path)?;
                        }
                    }
                }
                (previous.id, previous.attributes.take().unwrap_or_default())
            }
            Crawled::Read(read) => {
                summary.parsed += 1;
                summary.renders += read.renders;
                summary.skipped_identical += read.skipped_identical;
                // Nothing rendered: keep the last good renders (and their edges), as
                // cf-scripts does, so one broken commit does not cut the node loose.
                let keep = read.attributes.platforms.is_empty() && !read.errors.is_empty();
                let (attributes, attributes_hash) = match previous {
                    Some(previous) if keep && has_renders(previous.attributes.as_ref()) => (
                        previous.attributes.take().unwrap_or_default(),
                        previous.attributes_hash.clone(),
                    ),
                    _ => (
                        read.attributes,
                        read.content_hash.as_ref().map(|h| h.as_str().to_string()),
                    ),
                };
                let id = writer.write_node(&NodeRow {
                    name: &checkout.name,
                    path: &path,
                    fingerprint: read.fingerprint.as_ref().map(|f| f.as_str()),
                    content_hash: read.content_hash.as_ref().map(|h| h.as_str()),
                    format: read.format,
                    errors: &read.errors,
                    attributes: &attributes,
                    attributes_hash: attributes_hash.as_deref(),
                    renders: read.renders,
                })?;
                if !read.errors.is_empty() {
                    tracing::debug!(feedstock = %checkout.name, errors = read.errors.len(), "parse errors");
                }
                (id, attributes)
            }
        };
        ids.push(id);
        nodes.push(Node {
            name: checkout.name.clone(),
            attributes,
        });
    }

    let present: HashSet<&str> = checkouts.iter().map(|c| c.name.as_str()).collect();
    let now = unix_now();
    for (name, row) in &stored {
        if !row.removed && !present.contains(name.as_str()) {
            writer.mark_removed(row.id, now)?;
            summary.removed += 1;
        }
    }

    let graph = edges::compute(&nodes).map_err(GraphError::Internal)?;
    let topology = topo::analyse(nodes.len(), graph.edges.keys().copied());
    writer.sync_graph(&ids, &graph, &topology)?;

    summary.nodes = nodes.len();
    summary.edges = graph.edges.len();
    summary.external_dependencies = graph
        .externals
        .keys()
        .map(|(name, _)| name.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    summary.cycles = topology.cycles.len();
    summary.weak_components = topology.weak_components;
    summary.parse_errors = writer.count_parse_errors()?;
    if summary.parse_errors > 0 {
        tracing::warn!(
            feedstocks = summary.parse_errors,
            "feedstocks with parse errors (`cascade graph errors` lists them)"
        );
    }
    Ok(())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn has_renders(attributes: Option<&NodeAttributes>) -> bool {
    attributes.is_some_and(|a| !a.platforms.is_empty())
}
