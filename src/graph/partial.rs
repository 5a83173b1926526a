//! The incremental half of a build: when few feedstocks changed, recompute only the
//! edges that can differ instead of decoding every stored render.
//!
//! What a node's in-edges and externals depend on: its own requirements, which nodes
//! produce each name it requires (the output lookup), and, for names it requires in
//! `build`/`host`, the strong run_exports of their producers. So after a change the
//! nodes to recompute are: every re-read node; and, for each re-read or removed node
//! whose [provider signature](edges::provider_signature) changed (names produced per
//! platform and their strong exports), every node that had an edge from it, every node
//! requiring or missing (external) one of its old or new names, and every node that had
//! an edge from another producer of those names (a name needed only through someone's
//! strong exports shows up there). The output lookup comes from the stored `outputs`
//! table, patched with the changed nodes. Renders are decoded only for the nodes to
//! recompute and the producers they ask for strong exports.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::GraphError;
use super::build::Changed;
use super::crawl::Checkout;
use super::edges;
use super::model::Node;
use super::store::Writer;

/// What [`update`] did.
pub(super) enum Outcome {
    /// The derived tables are up to date; `recomputed` nodes had their in-edges
    /// recomputed, and `edges_changed` says whether the order must be recomputed.
    Done {
        /// Nodes whose in-edges were recomputed.
        recomputed: usize,
        /// Whether the set of (dependency, dependent) pairs changed.
        edges_changed: bool,
    },
    /// The change reaches more nodes than the limit; nothing was written, and the
    /// changed nodes are handed back for a full recomputation.
    TooLarge(Vec<Changed>),
}

/// Updates the derived rows reached by `changed` and `removed` (row ids). `ids[i]` is
/// the row id of `checkouts[i]`; at most `limit` dependents are recomputed.
pub(super) fn update(
    writer: &Writer<'_>,
    checkouts: &[Checkout],
    ids: &[i64],
    changed: Vec<Changed>,
    removed: &[i64],
    limit: usize,
) -> Result<Outcome, GraphError> {
    let present: HashSet<i64> = ids.iter().copied().collect();
    let stored_outputs = writer.stored_outputs()?;
    let mut old_lookup: HashMap<&str, Vec<i64>> = HashMap::new();
    let mut old_outputs: HashMap<i64, Vec<&str>> = HashMap::new();
    for (name, id) in &stored_outputs {
        old_lookup.entry(name.as_str()).or_default().push(*id);
        old_outputs.entry(*id).or_default().push(name.as_str());
    }

    // The providers whose change reaches others, and the names they touch.
    let mut providers: BTreeSet<i64> = BTreeSet::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for change in &changed {
        let after = edges::provider_signature(&change.after);
        let before = change.before.as_ref().map(edges::provider_signature);
        if before.as_ref() != Some(&after) {
            providers.insert(change.id);
            names.extend(after.values().flat_map(|o| o.keys().map(|n| n.to_string())));
            let old = old_outputs.get(&change.id).into_iter().flatten();
            names.extend(old.map(|n| n.to_string()));
        }
    }
    for id in removed {
        providers.insert(*id);
        let old = old_outputs.get(id).into_iter().flatten();
        names.extend(old.map(|n| n.to_string()));
    }
    let mut dependents: BTreeSet<i64> = changed.iter().map(|c| c.id).collect();
    for name in &names {
        dependents.extend(writer.requirers_of(name)?);
        providers.extend(old_lookup.get(name.as_str()).into_iter().flatten());
    }
    for &provider in &providers {
        dependents.extend(writer.dependents_of(provider)?);
    }
    dependents.retain(|id| present.contains(id));
    if dependents.len() > limit {
        return Ok(Outcome::TooLarge(changed));
    }

    // The output lookup after this build, keyed by row id.
    let rewritten: HashSet<i64> = changed
        .iter()
        .map(|c| c.id)
        .chain(removed.iter().copied())
        .collect();
    let new_outputs: Vec<(String, usize)> = changed
        .iter()
        .flat_map(|c| {
            edges::node_outputs(&c.after)
                .into_keys()
                .map(|name| (name.to_string(), node_key(c.id)))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut lookup: HashMap<&str, Vec<usize>> = HashMap::new();
    for (name, id) in &stored_outputs {
        if !rewritten.contains(id) {
            lookup.entry(name.as_str()).or_default().push(node_key(*id));
        }
    }
    for (name, id) in &new_outputs {
        lookup.entry(name.as_str()).or_default().push(*id);
    }
    for producers in lookup.values_mut() {
        producers.sort_unstable();
        producers.dedup();
    }

    // The nodes to read: the dependents, then the producers they ask for exports.
    let name_of: HashMap<i64, &Checkout> = ids.iter().copied().zip(checkouts).collect();
    let producers: Vec<usize> = changed.iter().map(|c| node_key(c.id)).collect();
    let mut nodes: HashMap<usize, Node> = changed
        .into_iter()
        .map(|c| (node_key(c.id), c.after))
        .collect();
    let missing: HashSet<i64> = dependents
        .iter()
        .copied()
        .filter(|id| !nodes.contains_key(&node_key(*id)))
        .collect();
    load(writer, &missing, &name_of, &mut nodes)?;
    let dependent_keys: Vec<usize> = dependents.iter().map(|id| node_key(*id)).collect();
    let mut asked: HashSet<i64> = HashSet::new();
    for key in &dependent_keys {
        if let Some(node) = nodes.get(key) {
            for provider in edges::build_host_providers(*key, node, &lookup) {
                if !nodes.contains_key(&provider) {
                    asked.insert(i64::try_from(provider).unwrap_or(i64::MAX));
                }
            }
        }
    }
    load(writer, &asked, &name_of, &mut nodes)?;

    let graph = edges::compute_for(&nodes, &lookup, &dependent_keys, &producers)
        .map_err(GraphError::Internal)?;
    let dependents: Vec<i64> = dependents.into_iter().collect();
    let producers: Vec<i64> = producers
        .iter()
        .map(|&k| i64::try_from(k).unwrap_or(i64::MAX))
        .collect();
    let edges_changed = writer.replace_graph_of(&dependents, &producers, removed, &graph)?;
    tracing::debug!(
        dependents = dependents.len(),
        loaded = nodes.len(),
        edges = graph.edges.len(),
        "derived graph updated in part"
    );
    Ok(Outcome::Done {
        recomputed: dependents.len(),
        edges_changed,
    })
}

/// Decodes the stored renders of `ids` into `nodes`.
fn load(
    writer: &Writer<'_>,
    ids: &HashSet<i64>,
    checkouts: &HashMap<i64, &Checkout>,
    nodes: &mut HashMap<usize, Node>,
) -> Result<(), GraphError> {
    for (id, attributes) in writer.load_attributes(ids)? {
        let checkout = checkouts
            .get(&id)
            .ok_or_else(|| GraphError::Internal(format!("row {id} is not a present checkout")))?;
        nodes.insert(
            node_key(id),
            Node {
                name: checkout.name.clone(),
                attributes,
            },
        );
    }
    Ok(())
}

/// A row id as a node key of the edge computation (row ids are positive).
fn node_key(id: i64) -> usize {
    usize::try_from(id).unwrap_or(usize::MAX)
}
