//! The facts migrations select on, for every present feedstock at once: the read behind
//! `migrators::GraphSnapshot::load`, and the `archived` flag the forge sets.
//!
//! One read transaction, four sequential scans (feedstocks, outputs, distinct
//! requirement names, edges) and no per-node query: 25,000 feedstocks load in a few
//! hundred milliseconds. Nodes come sorted by name, and their index in
//! [`StoredGraph::nodes`] is what the edges refer to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::params;
use rusqlite::types::ValueRef;

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

impl Store {
    /// Reads every present feedstock with its outputs, requirement names and edges, in
    /// one read transaction (a consistent view even while a build commits).
    pub(crate) fn load_graph(&self) -> Result<StoredGraph, GraphError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(self.sql("start a read transaction"))?;
        let mut index: HashMap<i64, u32> = HashMap::new();
        let mut nodes: Vec<StoredNode> = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, name, path, recipe_format, version, platforms,
                            parse_error IS NOT NULL, noarch_all, noarch_python, archived,
                            cycle, topo_index
                     FROM feedstocks WHERE removed_at IS NULL ORDER BY name",
                )
                .map_err(self.sql("read feedstocks"))?;
            let mut rows = stmt.query([]).map_err(self.sql("read feedstocks"))?;
            while let Some(row) = rows.next().map_err(self.sql("read feedstocks"))? {
                let read = |row: &rusqlite::Row<'_>| -> rusqlite::Result<StoredNode> {
                    Ok(StoredNode {
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
                    })
                };
                let id: i64 = row.get(0).map_err(self.sql("read feedstocks"))?;
                let node = read(row).map_err(self.sql("read feedstocks"))?;
                let position = u32::try_from(nodes.len())
                    .map_err(|_| GraphError::Internal("more than 2^32 feedstocks".into()))?;
                index.insert(id, position);
                nodes.push(node);
            }
        }

        {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT feedstock_id, name FROM outputs ORDER BY feedstock_id, name",
                )
                .map_err(self.sql("read outputs"))?;
            let mut rows = stmt.query([]).map_err(self.sql("read outputs"))?;
            while let Some(row) = rows.next().map_err(self.sql("read outputs"))? {
                let id: i64 = row.get(0).map_err(self.sql("read outputs"))?;
                if let Some(node) = index.get(&id).and_then(|&i| nodes.get_mut(i as usize)) {
                    node.outputs
                        .push(row.get(1).map_err(self.sql("read outputs"))?);
                }
            }
        }

        {
            let mut stmt = tx
                .prepare_cached("SELECT DISTINCT feedstock_id, section, name FROM requirements")
                .map_err(self.sql("read requirements"))?;
            let mut rows = stmt.query([]).map_err(self.sql("read requirements"))?;
            while let Some(row) = rows.next().map_err(self.sql("read requirements"))? {
                let id: i64 = row.get(0).map_err(self.sql("read requirements"))?;
                let Some(node) = index.get(&id).and_then(|&i| nodes.get_mut(i as usize)) else {
                    continue;
                };
                let section = match row.get_ref(1).map_err(self.sql("read requirements"))? {
                    ValueRef::Text(text) => std::str::from_utf8(text).ok().and_then(Section::parse),
                    _ => None,
                };
                if let Some(section) = section {
                    let name: String = row.get(2).map_err(self.sql("read requirements"))?;
                    node.requirements.entry(section).or_default().insert(name);
                }
            }
        }

        let mut edges = Vec::new();
        {
            let mut parsed: HashMap<Vec<u8>, SectionSet> = HashMap::new();
            let mut stmt = tx
                .prepare_cached("SELECT src_id, dst_id, sections FROM edges")
                .map_err(self.sql("read edges"))?;
            let mut rows = stmt.query([]).map_err(self.sql("read edges"))?;
            while let Some(row) = rows.next().map_err(self.sql("read edges"))? {
                let src: i64 = row.get(0).map_err(self.sql("read edges"))?;
                let dst: i64 = row.get(1).map_err(self.sql("read edges"))?;
                let (Some(&src), Some(&dst)) = (index.get(&src), index.get(&dst)) else {
                    continue;
                };
                let sections = match row.get_ref(2).map_err(self.sql("read edges"))? {
                    ValueRef::Text(text) => *parsed
                        .entry(text.to_vec())
                        .or_insert_with(|| section_set(text)),
                    _ => SectionSet::default(),
                };
                edges.push((src, dst, sections));
            }
        }
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

/// A stored `sections` cell (a JSON array of section names); corrupt text reads empty.
fn section_set(json: &[u8]) -> SectionSet {
    let names: Vec<String> = serde_json::from_slice(json).unwrap_or_default();
    let mut set = SectionSet::default();
    for section in names.iter().filter_map(|s| Section::parse(s)) {
        set.insert(section);
    }
    set
}
