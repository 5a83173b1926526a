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
use super::partial;
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
    /// Nodes whose in-edges and externals were recomputed: all of them when many
    /// changed, only those a change can reach otherwise, none when nothing changed.
    pub recomputed: usize,
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
        .filter(|(_, s)| !s.removed && s.attributes_valid)
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
    stored: BTreeMap<String, StoredFeedstock>,
    summary: &mut BuildSummary,
) -> Result<(), GraphError> {
    // The previous renders of re-read feedstocks: to keep them when nothing renders now,
    // and to tell whether what they provide to others changed.
    let reread: HashSet<i64> = checkouts
        .iter()
        .zip(&crawled)
        .filter(|(_, outcome)| matches!(outcome, Crawled::Read(_)))
        .filter_map(|(checkout, _)| stored.get(checkout.name.as_str()))
        .filter(|s| !s.removed)
        .map(|s| s.id)
        .collect();
    let mut previous_renders = writer.load_attributes(&reread)?;

    let mut ids = Vec::with_capacity(checkouts.len());
    let mut changed: Vec<Changed> = Vec::new();
    for (index, (checkout, outcome)) in checkouts.iter().zip(crawled).enumerate() {
        let path = checkout.path.display().to_string();
        let previous = stored.get(checkout.name.as_str());
        let id = match outcome {
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
                previous.id
            }
            Crawled::Read(read) => {
                summary.parsed += 1;
                summary.renders += read.renders;
                summary.skipped_identical += read.skipped_identical;
                let before = previous.and_then(|p| previous_renders.remove(&p.id));
                // Nothing rendered: keep the last good renders (and their edges), as
                // cf-scripts does, so one broken commit does not cut the node loose.
                let keep = read.attributes.platforms.is_empty() && !read.errors.is_empty();
                let (attributes, attributes_hash) = match (previous, &before) {
                    (Some(previous), Some(before)) if keep && !before.platforms.is_empty() => {
                        (before.clone(), previous.attributes_hash.clone())
                    }
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
                changed.push(Changed {
                    index,
                    id,
                    before: before.map(|attributes| Node {
                        name: checkout.name.clone(),
                        attributes,
                    }),
                    after: Node {
                        name: checkout.name.clone(),
                        attributes,
                    },
                });
                id
            }
        };
        ids.push(id);
    }

    let present: HashSet<&str> = checkouts.iter().map(|c| c.name.as_str()).collect();
    let now = unix_now();
    let mut removed = Vec::new();
    for (name, row) in &stored {
        if !row.removed && !present.contains(name.as_str()) {
            writer.mark_removed(row.id, now)?;
            removed.push(row.id);
        }
    }
    summary.removed = removed.len();
    summary.nodes = checkouts.len();

    let limit = checkouts.len() / PARTIAL_FRACTION;
    let full = if changed.is_empty() && removed.is_empty() {
        Some(false)
    } else if changed.len() + removed.len() > limit {
        None
    } else {
        match partial::update(
            writer,
            checkouts,
            &ids,
            std::mem::take(&mut changed),
            &removed,
            limit,
        )? {
            partial::Outcome::Done {
                recomputed,
                edges_changed,
            } => {
                summary.recomputed = recomputed;
                Some(edges_changed)
            }
            partial::Outcome::TooLarge(rest) => {
                changed = rest;
                None
            }
        }
    };
    match full {
        None => full_graph(writer, checkouts, &ids, changed, summary)?,
        Some(edges_changed) => finish_summary(writer, &ids, edges_changed, summary)?,
    }
    summary.parse_errors = writer.count_parse_errors()?;
    if summary.parse_errors > 0 {
        tracing::warn!(
            feedstocks = summary.parse_errors,
            "feedstocks with parse errors (`cascade graph errors` lists them)"
        );
    }
    Ok(())
}

/// A partial graph update is tried when at most `1 / PARTIAL_FRACTION` of the nodes
/// changed (and reaches at most as many dependents); beyond that, everything is
/// recomputed.
const PARTIAL_FRACTION: usize = 10;

/// A feedstock re-read by this build.
pub(super) struct Changed {
    /// Its position among the checkouts.
    pub(super) index: usize,
    /// Its row id.
    pub(super) id: i64,
    /// The node before this build (`None` when new or returning).
    pub(super) before: Option<Node>,
    /// The node as it is now.
    pub(super) after: Node,
}

/// Recomputes the whole derived graph from every node's renders (the stored ones of
/// the unchanged nodes) and syncs the derived tables with it.
fn full_graph(
    writer: &Writer<'_>,
    checkouts: &[Checkout],
    ids: &[i64],
    changed: Vec<Changed>,
    summary: &mut BuildSummary,
) -> Result<(), GraphError> {
    let mut fresh: HashMap<usize, NodeAttributes> = changed
        .into_iter()
        .map(|c| (c.index, c.after.attributes))
        .collect();
    let unchanged: HashSet<i64> = ids
        .iter()
        .enumerate()
        .filter(|(index, _)| !fresh.contains_key(index))
        .map(|(_, id)| *id)
        .collect();
    let mut stored = writer.load_attributes(&unchanged)?;
    let nodes: Vec<Node> = checkouts
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(index, (checkout, id))| Node {
            name: checkout.name.clone(),
            attributes: fresh
                .remove(&index)
                .or_else(|| stored.remove(id))
                .unwrap_or_default(),
        })
        .collect();
    let graph = edges::compute(&nodes).map_err(GraphError::Internal)?;
    let topology = topo::analyse(nodes.len(), graph.edges.keys().copied());
    writer.sync_graph(ids, &graph, &topology)?;
    summary.recomputed = nodes.len();
    summary.edges = graph.edges.len();
    summary.external_dependencies = graph
        .externals
        .keys()
        .map(|(name, _)| name.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    summary.cycles = topology.cycles.len();
    summary.weak_components = topology.weak_components;
    Ok(())
}

/// Fills in the graph counts of a build that did not recompute everything: from the
/// stored tables, with the order recomputed from the stored edges when they changed,
/// and the cycle counts of the last build when nothing did.
fn finish_summary(
    writer: &Writer<'_>,
    ids: &[i64],
    graph_changed: bool,
    summary: &mut BuildSummary,
) -> Result<(), GraphError> {
    let (edges, externals) = writer.graph_counts()?;
    summary.edges = edges;
    summary.external_dependencies = externals;
    if !graph_changed {
        let last = writer.last_summary()?;
        let count = |key: &str| {
            last.as_ref()
                .and_then(|l| l.get(key))
                .and_then(serde_json::Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
        };
        let same_nodes = count("nodes") == Some(ids.len());
        if let (true, Some(cycles), Some(weak)) =
            (same_nodes, count("cycles"), count("weak_components"))
        {
            summary.cycles = cycles;
            summary.weak_components = weak;
            return Ok(());
        }
    }
    let index_of: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut pairs: Vec<(usize, usize)> = writer
        .edge_pairs()?
        .into_iter()
        .filter_map(|(src, dst)| Some((*index_of.get(&src)?, *index_of.get(&dst)?)))
        .collect();
    pairs.sort_unstable();
    let topology = topo::analyse(ids.len(), pairs);
    writer.sync_order(ids, &topology)?;
    summary.cycles = topology.cycles.len();
    summary.weak_components = topology.weak_components;
    Ok(())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
