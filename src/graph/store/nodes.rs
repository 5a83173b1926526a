//! The facts migrations select on, for every present feedstock at once: the read behind
//! `migrators::GraphSnapshot::load`, and the `archived` flag the forge sets.
//!
//! One read transaction, four sequential table scans (feedstocks, outputs,
//! requirements, edges) and no per-node query: 25,000 feedstocks load in a few
//! hundred milliseconds. Nodes come sorted by name, and their index in
//! [`StoredGraph::nodes`] is what the edges refer to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::types::ValueRef;
use rusqlite::{Transaction, params};

use crate::graph::GraphError;
use crate::graph::model::SectionSet;
use crate::recipe::{RecipeFormat, Section};

use super::{Store, recipe_format, string_list};

/// One present feedstock, as stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredNode {
    /// The feedstock name.
    pub(crate) name: String,
    /// The checkout directory of the last build.
    pub(crate) path: String,
    /// The recipe format.
    pub(crate) recipe_format: Option<RecipeFormat>,
    /// The recipe version.
    pub(crate) version: Option<String>,
    /// Platforms rendered.
    pub(crate) platforms: Vec<String>,
    /// Packages produced, sorted.
    pub(crate) outputs: Vec<String>,
    /// Requirement names per section, unioned over platforms and outputs.
    pub(crate) requirements: BTreeMap<Section, BTreeSet<String>>,
    /// Every output noarch on every platform (false while unknown).
    pub(crate) noarch_all: bool,
    /// Every output with python in host/build is `noarch: python` (false while unknown).
    pub(crate) noarch_python: bool,
    /// The last read had a parse error.
    pub(crate) parse_error: bool,
    /// The repository is archived.
    pub(crate) archived: bool,
    /// Its cycle, when on one.
    pub(crate) cycle: Option<u32>,
    /// Its position in the topological order.
    pub(crate) topo_index: u32,
}

/// Every present feedstock and the edges between them.
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredGraph {
    /// Nodes sorted by name.
    pub(crate) nodes: Vec<StoredNode>,
    /// `(dependency, dependent, sections)` as indices into `nodes`.
    pub(crate) edges: Vec<(u32, u32, SectionSet)>,
}

/// Row id → position in [`StoredGraph::nodes`].
type Positions = HashMap<i64, u32, foldhash::fast::RandomState>;

impl Store {
    /// Reads every present feedstock with its outputs, requirement names and edges, in
    /// one read transaction (a consistent view even while a build commits).
    pub(crate) fn load_graph(&self) -> Result<StoredGraph, GraphError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(self.sql("start a read transaction"))?;
        let mut rows = read_nodes(&tx).map_err(self.sql("read feedstocks"))?;
        rows.sort_unstable_by(|a, b| a.1.name.cmp(&b.1.name));
        let mut positions = Positions::default();
        let mut nodes = Vec::with_capacity(rows.len());
        for (id, node) in rows {
            let position = u32::try_from(nodes.len())
                .map_err(|_| GraphError::Internal("more than 2^32 feedstocks".into()))?;
            positions.insert(id, position);
            nodes.push(node);
        }
        read_outputs(&tx, &positions, &mut nodes).map_err(self.sql("read outputs"))?;
        read_requirements(&tx, &positions, &mut nodes).map_err(self.sql("read requirements"))?;
        let edges = read_edges(&tx, &positions).map_err(self.sql("read edges"))?;
        tx.commit().map_err(self.sql("end a read transaction"))?;
        Ok(StoredGraph { nodes, edges })
    }

    /// Marks a feedstock's repository archived (or not). Archived feedstocks stay in the
    /// graph but no migration touches them. The flag survives rebuilds.
    pub fn set_archived(&self, name: &str, archived: bool) -> Result<(), GraphError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE feedstocks SET archived = ?2 WHERE name = ?1")
            .and_then(|mut stmt| stmt.execute(params![name, archived]))
            .map_err(self.sql("set the archived flag"))?;
        if changed == 0 {
            return Err(GraphError::UnknownFeedstock {
                name: name.to_string(),
            });
        }
        Ok(())
    }
}

/// Every present feedstock row with its row id, unsorted (sorting in memory is
/// cheaper than walking the name index and looking up every row).
fn read_nodes(tx: &Transaction<'_>) -> rusqlite::Result<Vec<(i64, StoredNode)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, name, path, recipe_format, version, platforms,
                parse_error IS NOT NULL, noarch_all, noarch_python, archived, cycle,
                topo_index
         FROM feedstocks WHERE removed_at IS NULL",
    )?;
    stmt.query_map([], |row| {
        let node = StoredNode {
            name: row.get(1)?,
            path: row.get(2)?,
            recipe_format: recipe_format(row.get::<_, Option<String>>(3)?.as_deref()),
            version: row.get(4)?,
            platforms: string_list(&row.get::<_, String>(5)?),
            outputs: Vec::new(),
            requirements: BTreeMap::new(),
            parse_error: row.get(6)?,
            noarch_all: row.get::<_, Option<bool>>(7)?.unwrap_or(false),
            noarch_python: row.get::<_, Option<bool>>(8)?.unwrap_or(false),
            archived: row.get(9)?,
            cycle: row
                .get::<_, Option<i64>>(10)?
                .and_then(|c| u32::try_from(c).ok()),
            topo_index: row
                .get::<_, Option<i64>>(11)?
                .and_then(|t| u32::try_from(t).ok())
                .unwrap_or(u32::MAX),
        };
        Ok((row.get(0)?, node))
    })?
    .collect()
}

/// Adds every output to its node, sorted by name.
fn read_outputs(
    tx: &Transaction<'_>,
    positions: &Positions,
    nodes: &mut [StoredNode],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("SELECT feedstock_id, name FROM outputs")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        if let Some(node) = node_of(positions, nodes, row.get(0)?) {
            node.outputs.push(row.get(1)?);
        }
    }
    for node in nodes {
        node.outputs.sort_unstable();
    }
    Ok(())
}

/// Adds every requirement name to its node's section. No `DISTINCT`: the sets dedupe,
/// and sorting 400,000 rows in SQLite costs more than skipping repeats here.
fn read_requirements(
    tx: &Transaction<'_>,
    positions: &Positions,
    nodes: &mut [StoredNode],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("SELECT feedstock_id, section, name FROM requirements")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(node) = node_of(positions, nodes, row.get(0)?) else {
            continue;
        };
        let (ValueRef::Text(section), ValueRef::Text(name)) = (row.get_ref(1)?, row.get_ref(2)?)
        else {
            continue;
        };
        let (Some(section), Ok(name)) = (
            std::str::from_utf8(section).ok().and_then(Section::parse),
            std::str::from_utf8(name),
        ) else {
            continue;
        };
        // Most rows repeat a name seen on another platform or output: look it up
        // borrowed and allocate only for a new one.
        let names = node.requirements.entry(section).or_default();
        if !names.contains(name) {
            names.insert(name.to_string());
        }
    }
    Ok(())
}

/// Every edge between present feedstocks, as positions.
fn read_edges(
    tx: &Transaction<'_>,
    positions: &Positions,
) -> rusqlite::Result<Vec<(u32, u32, SectionSet)>> {
    // Few distinct `sections` cells exist (one per combination): parse each once.
    let mut parsed: HashMap<Vec<u8>, SectionSet> = HashMap::new();
    let mut edges = Vec::new();
    let mut stmt = tx.prepare_cached("SELECT src_id, dst_id, sections FROM edges")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let src: i64 = row.get(0)?;
        let dst: i64 = row.get(1)?;
        let (Some(&src), Some(&dst)) = (positions.get(&src), positions.get(&dst)) else {
            continue;
        };
        let sections = match row.get_ref(2)? {
            ValueRef::Text(text) => match parsed.get(text) {
                Some(set) => *set,
                None => *parsed
                    .entry(text.to_vec())
                    .or_insert_with(|| section_set(text)),
            },
            _ => SectionSet::default(),
        };
        edges.push((src, dst, sections));
    }
    Ok(edges)
}

/// The node of a row id, when it is present.
fn node_of<'n>(
    positions: &Positions,
    nodes: &'n mut [StoredNode],
    id: i64,
) -> Option<&'n mut StoredNode> {
    let position = *positions.get(&id)?;
    nodes.get_mut(position as usize)
}

/// A stored `sections` cell (a JSON array of section names); corrupt text reads empty.
fn section_set(json: &[u8]) -> SectionSet {
    let names: Vec<String> = serde_json::from_slice(json).unwrap_or_default();
    let mut set = SectionSet::default();
    for section in names.iter().filter_map(|s| Section::parse(s)) {
        set.insert(section);
    }
    set
}
