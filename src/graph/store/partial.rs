//! The store side of an incremental build: loading the renders of just the nodes a
//! build needs, the stored lookups that tell which nodes a change reaches, and rewriting
//! the derived rows of those nodes only. Node ids here are row ids.

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use rusqlite::params;

use crate::graph::GraphError;
use crate::graph::edges::GraphEdges;
use crate::graph::model::NodeAttributes;

use super::derived::{label_cells, list_json};
use super::sql_err;
use super::write::Writer;

/// Above this many rows, loading renders scans the table instead of looking rows up.
const SCAN_ABOVE: usize = 2_000;

impl Writer<'_> {
    /// The stored renders of `ids`, decoded in parallel. A row whose JSON does not decode
    /// reads as no renders (the snapshot already sent rows that are not JSON to be re-read).
    pub(crate) fn load_attributes(
        &self,
        ids: &HashSet<i64>,
    ) -> Result<HashMap<i64, NodeAttributes>, GraphError> {
        let err = |op| sql_err(self.path, op);
        let mut raw: Vec<(i64, String)> = Vec::with_capacity(ids.len());
        if ids.len() > SCAN_ABOVE {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT id, attributes FROM feedstocks WHERE removed_at IS NULL")
                .map_err(err("read stored renders"))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .map_err(err("read stored renders"))?;
            for row in rows {
                let (id, json) = row.map_err(err("read stored renders"))?;
                if ids.contains(&id) {
                    raw.push((id, json));
                }
            }
        } else {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT attributes FROM feedstocks WHERE id = ?1")
                .map_err(err("read stored renders"))?;
            for &id in ids {
                let json: String = stmt
                    .query_row([id], |r| r.get(0))
                    .map_err(err("read stored renders"))?;
                raw.push((id, json));
            }
        }
        Ok(raw
            .into_par_iter()
            .map(|(id, json)| (id, serde_json::from_str(&json).unwrap_or_default()))
            .collect())
    }

    /// Every stored (output name, producing row) pair.
    pub(crate) fn stored_outputs(&self) -> Result<Vec<(String, i64)>, GraphError> {
        self.tx
            .prepare_cached("SELECT name, feedstock_id FROM outputs")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(sql_err(self.path, "read the outputs"))
    }

    /// The rows with a stored edge from `id`.
    pub(crate) fn dependents_of(&self, id: i64) -> Result<Vec<i64>, GraphError> {
        self.tx
            .prepare_cached("SELECT dst_id FROM edges WHERE src_id = ?1")
            .and_then(|mut stmt| stmt.query_map([id], |r| r.get(0))?.collect())
            .map_err(sql_err(self.path, "read dependents"))
    }

    /// The rows that require `name` directly (any section) or had it as an external
    /// dependency (which covers a name required through strong run_exports).
    pub(crate) fn requirers_of(&self, name: &str) -> Result<Vec<i64>, GraphError> {
        self.tx
            .prepare_cached(
                "SELECT feedstock_id FROM requirements WHERE name = ?1
                 UNION SELECT feedstock_id FROM externals WHERE name = ?1",
            )
            .and_then(|mut stmt| stmt.query_map([name], |r| r.get(0))?.collect())
            .map_err(sql_err(self.path, "read requirers"))
    }

    /// Replaces the derived rows of some nodes: the in-edges and externals of
    /// `dependents`, the outputs of `producers`, and everything of `removed`. `graph`
    /// holds the new rows, keyed by row id. Returns whether the set of edges (as
    /// dependency → dependent pairs) changed, which is what cycles and the order depend on.
    pub(crate) fn replace_graph_of(
        &self,
        dependents: &[i64],
        producers: &[i64],
        removed: &[i64],
        graph: &GraphEdges,
    ) -> Result<bool, GraphError> {
        let mut before: BTreeSet<(i64, i64)> = BTreeSet::new();
        {
            let mut select = self
                .tx
                .prepare_cached("SELECT src_id FROM edges WHERE dst_id = ?1")
                .map_err(sql_err(self.path, "read in-edges"))?;
            for &id in dependents {
                let sources = select
                    .query_map([id], |r| r.get::<_, i64>(0))
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<i64>>>())
                    .map_err(sql_err(self.path, "read in-edges"))?;
                before.extend(sources.into_iter().map(|src| (src, id)));
            }
        }
        let after: BTreeSet<(i64, i64)> = graph
            .edges
            .keys()
            .map(|(src, dst)| (row_id(*src), row_id(*dst)))
            .collect();
        let edges_changed = !removed.is_empty() || before != after;
        let err = |op| sql_err(self.path, op);
        let write = err("write the derived graph");
        let run = |sql: &str, id: i64| {
            self.tx
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([id]))
                .map(drop)
        };
        let result = (|| -> rusqlite::Result<()> {
            for &id in removed {
                run("DELETE FROM edges WHERE src_id = ?1", id)?;
                run("DELETE FROM edges WHERE dst_id = ?1", id)?;
                run("DELETE FROM externals WHERE feedstock_id = ?1", id)?;
                run("DELETE FROM outputs WHERE feedstock_id = ?1", id)?;
            }
            for &id in dependents {
                run("DELETE FROM edges WHERE dst_id = ?1", id)?;
                run("DELETE FROM externals WHERE feedstock_id = ?1", id)?;
            }
            for &id in producers {
                run("DELETE FROM outputs WHERE feedstock_id = ?1", id)?;
            }
            let table = &graph.platforms;
            let mut insert = self.tx.prepare_cached(
                "INSERT INTO outputs (name, feedstock_id, platforms) VALUES (?1, ?2, ?3)",
            )?;
            for ((name, node), bits) in &graph.outputs {
                insert.execute(params![name, row_id(*node), list_json(&table.names(*bits))])?;
            }
            let mut insert = self.tx.prepare_cached(
                "INSERT INTO edges (src_id, dst_id, sections, platforms, labels)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for ((src, dst), label) in &graph.edges {
                let (sections, platforms, labels) = label_cells(label, table);
                insert.execute(params![
                    row_id(*src),
                    row_id(*dst),
                    sections,
                    platforms,
                    labels
                ])?;
            }
            let mut insert = self.tx.prepare_cached(
                "INSERT INTO externals (name, feedstock_id, sections, platforms, labels)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for ((name, node), label) in &graph.externals {
                let (sections, platforms, labels) = label_cells(label, table);
                insert.execute(params![name, row_id(*node), sections, platforms, labels])?;
            }
            Ok(())
        })();
        result.map_err(write)?;
        Ok(edges_changed)
    }

    /// Every stored edge as (src row, dst row).
    pub(crate) fn edge_pairs(&self) -> Result<Vec<(i64, i64)>, GraphError> {
        self.tx
            .prepare_cached("SELECT src_id, dst_id FROM edges")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(sql_err(self.path, "read the edges"))
    }

    /// (edges, distinct external dependency names) as stored.
    pub(crate) fn graph_counts(&self) -> Result<(usize, usize), GraphError> {
        let (edges, externals): (i64, i64) = self
            .tx
            .query_row(
                "SELECT (SELECT COUNT(*) FROM edges), (SELECT COUNT(DISTINCT name) FROM externals)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql_err(self.path, "count the graph"))?;
        Ok((
            usize::try_from(edges).unwrap_or(0),
            usize::try_from(externals).unwrap_or(0),
        ))
    }

    /// The summary JSON of the last committed build, when there is one.
    pub(crate) fn last_summary(&self) -> Result<Option<serde_json::Value>, GraphError> {
        let json: Option<String> = self
            .tx
            .query_row(
                "SELECT summary FROM builds ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(sql_err(self.path, "read the last build"))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }
}

/// A node key of an incremental [`GraphEdges`] back to its row id.
fn row_id(node: usize) -> i64 {
    i64::try_from(node).unwrap_or(i64::MAX)
}
