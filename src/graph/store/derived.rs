//! Bringing the derived tables (`outputs`, `edges`, `externals`, and the `topo_index` /
//! `cycle` columns) in line with a freshly computed graph, inside the build transaction.
//!
//! The graph is recomputed from every node on each build, but most builds change few
//! rows of it, so the current rows are read back and only the differences are written:
//! a no-op rebuild of 25,000 feedstocks writes nothing here instead of rewriting
//! 150,000 rows. The result is the same as deleting and re-inserting everything.

use std::collections::HashMap;
use std::hash::Hash;

use rusqlite::{CachedStatement as Statement, Row, params};

use crate::graph::GraphError;
use crate::graph::edges::GraphEdges;
use crate::graph::model::{EdgeLabel, PlatformTable};
use crate::graph::topo::Topology;

use super::write::Writer;
use super::{sections_json, sql_err};

/// The stored cells of a label: `sections`, `platforms`, `labels`.
type LabelCells = (String, String, String);

impl Writer<'_> {
    /// Makes the derived tables describe `edges` and `topo`. `ids[i]` is the row id of
    /// node `i`.
    pub(crate) fn sync_graph(
        &self,
        ids: &[i64],
        edges: &GraphEdges,
        topo: &Topology,
    ) -> Result<(), GraphError> {
        let id_of = |node: usize| {
            ids.get(node)
                .copied()
                .ok_or_else(|| GraphError::Internal(format!("node {node} has no row id")))
        };
        let table = &edges.platforms;

        let mut outputs = Vec::with_capacity(edges.outputs.len());
        for ((name, node), bits) in &edges.outputs {
            outputs.push((
                (name.clone(), id_of(*node)?),
                list_json(&table.names(*bits)),
            ));
        }
        self.sync::<Outputs>(outputs)?;

        let mut rows = Vec::with_capacity(edges.edges.len());
        for ((src, dst), label) in &edges.edges {
            rows.push(((id_of(*src)?, id_of(*dst)?), label_cells(label, table)));
        }
        self.sync::<Edges>(rows)?;

        let mut rows = Vec::with_capacity(edges.externals.len());
        for ((name, node), label) in &edges.externals {
            rows.push(((name.clone(), id_of(*node)?), label_cells(label, table)));
        }
        self.sync::<Externals>(rows)?;

        self.sync_order(ids, topo)
    }

    /// The generic diff: read the table's rows, write `desired` rows that are new or
    /// differ, delete rows no longer desired.
    fn sync<T: DerivedTable>(&self, desired: Vec<(T::Key, T::Value)>) -> Result<(), GraphError> {
        let err = |op| sql_err(self.path, op);
        let mut current: HashMap<T::Key, T::Value> = self
            .tx
            .prepare_cached(T::SELECT)
            .and_then(|mut stmt| stmt.query_map([], T::read)?.collect())
            .map_err(err("read the derived graph"))?;
        let mut upsert = self
            .tx
            .prepare_cached(T::UPSERT)
            .map_err(err("write the derived graph"))?;
        let (mut written, mut kept) = (0usize, 0usize);
        for (key, value) in desired {
            if current.remove(&key).is_some_and(|old| old == value) {
                kept += 1;
                continue;
            }
            T::write(&mut upsert, &key, &value).map_err(err("write the derived graph"))?;
            written += 1;
        }
        let mut delete = self
            .tx
            .prepare_cached(T::DELETE)
            .map_err(err("write the derived graph"))?;
        for key in current.keys() {
            T::remove(&mut delete, key).map_err(err("write the derived graph"))?;
        }
        tracing::debug!(
            table = T::NAME,
            written,
            kept,
            deleted = current.len(),
            "derived table synced"
        );
        Ok(())
    }

    /// Writes `topo_index` and `cycle` where they changed.
    pub(crate) fn sync_order(&self, ids: &[i64], topo: &Topology) -> Result<(), GraphError> {
        let err = |op| sql_err(self.path, op);
        let current: HashMap<i64, (Option<i64>, Option<i64>)> = self
            .tx
            .prepare_cached("SELECT id, topo_index, cycle FROM feedstocks WHERE removed_at IS NULL")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
                    .collect()
            })
            .map_err(err("read the topological order"))?;
        let mut update = self
            .tx
            .prepare_cached("UPDATE feedstocks SET topo_index = ?2, cycle = ?3 WHERE id = ?1")
            .map_err(err("write the topological order"))?;
        for (index, &node) in topo.order.iter().enumerate() {
            let Some(&id) = ids.get(node) else {
                return Err(GraphError::Internal(format!("node {node} has no row id")));
            };
            let cycle = topo
                .cycle_of
                .get(node)
                .copied()
                .flatten()
                .and_then(|c| i64::try_from(c).ok());
            let wanted = (i64::try_from(index).ok(), cycle);
            if current.get(&id) != Some(&wanted) {
                update
                    .execute(params![id, wanted.0, wanted.1])
                    .map_err(err("write the topological order"))?;
            }
        }
        Ok(())
    }
}

/// One derived table: its key and value columns and the SQL to read and write them.
trait DerivedTable {
    /// The primary key.
    type Key: Eq + Hash;
    /// The other columns.
    type Value: PartialEq;
    const NAME: &'static str;
    const SELECT: &'static str;
    const UPSERT: &'static str;
    const DELETE: &'static str;
    fn read(row: &Row<'_>) -> rusqlite::Result<(Self::Key, Self::Value)>;
    fn write(
        stmt: &mut Statement<'_>,
        key: &Self::Key,
        value: &Self::Value,
    ) -> rusqlite::Result<usize>;
    fn remove(stmt: &mut Statement<'_>, key: &Self::Key) -> rusqlite::Result<usize>;
}

struct Outputs;

impl DerivedTable for Outputs {
    type Key = (String, i64);
    type Value = String;
    const NAME: &'static str = "outputs";
    const SELECT: &'static str = "SELECT name, feedstock_id, platforms FROM outputs";
    const UPSERT: &'static str =
        "INSERT OR REPLACE INTO outputs (name, feedstock_id, platforms) VALUES (?1, ?2, ?3)";
    const DELETE: &'static str = "DELETE FROM outputs WHERE name = ?1 AND feedstock_id = ?2";
    fn read(r: &Row<'_>) -> rusqlite::Result<(Self::Key, Self::Value)> {
        Ok(((r.get(0)?, r.get(1)?), r.get(2)?))
    }
    fn write(
        stmt: &mut Statement<'_>,
        (name, id): &Self::Key,
        platforms: &String,
    ) -> rusqlite::Result<usize> {
        stmt.execute(params![name, id, platforms])
    }
    fn remove(stmt: &mut Statement<'_>, (name, id): &Self::Key) -> rusqlite::Result<usize> {
        stmt.execute(params![name, id])
    }
}

struct Edges;

impl DerivedTable for Edges {
    type Key = (i64, i64);
    type Value = LabelCells;
    const NAME: &'static str = "edges";
    const SELECT: &'static str = "SELECT src_id, dst_id, sections, platforms, labels FROM edges";
    const UPSERT: &'static str =
        "INSERT OR REPLACE INTO edges (src_id, dst_id, sections, platforms, labels)
         VALUES (?1, ?2, ?3, ?4, ?5)";
    const DELETE: &'static str = "DELETE FROM edges WHERE src_id = ?1 AND dst_id = ?2";
    fn read(r: &Row<'_>) -> rusqlite::Result<(Self::Key, Self::Value)> {
        Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
    }
    fn write(
        stmt: &mut Statement<'_>,
        (src, dst): &Self::Key,
        (sections, platforms, labels): &LabelCells,
    ) -> rusqlite::Result<usize> {
        stmt.execute(params![src, dst, sections, platforms, labels])
    }
    fn remove(stmt: &mut Statement<'_>, (src, dst): &Self::Key) -> rusqlite::Result<usize> {
        stmt.execute(params![src, dst])
    }
}

struct Externals;

impl DerivedTable for Externals {
    type Key = (String, i64);
    type Value = LabelCells;
    const NAME: &'static str = "externals";
    const SELECT: &'static str =
        "SELECT name, feedstock_id, sections, platforms, labels FROM externals";
    const UPSERT: &'static str =
        "INSERT OR REPLACE INTO externals (name, feedstock_id, sections, platforms, labels)
         VALUES (?1, ?2, ?3, ?4, ?5)";
    const DELETE: &'static str = "DELETE FROM externals WHERE name = ?1 AND feedstock_id = ?2";
    fn read(r: &Row<'_>) -> rusqlite::Result<(Self::Key, Self::Value)> {
        Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
    }
    fn write(
        stmt: &mut Statement<'_>,
        (name, id): &Self::Key,
        (sections, platforms, labels): &LabelCells,
    ) -> rusqlite::Result<usize> {
        stmt.execute(params![name, id, sections, platforms, labels])
    }
    fn remove(stmt: &mut Statement<'_>, (name, id): &Self::Key) -> rusqlite::Result<usize> {
        stmt.execute(params![name, id])
    }
}

pub(super) fn list_json(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

/// The `sections`, `platforms` and `labels` cells of an edge or external.
pub(super) fn label_cells(label: &EdgeLabel, table: &PlatformTable) -> LabelCells {
    let label = label.resolve(table);
    let by_section: std::collections::BTreeMap<&str, &Vec<String>> = label
        .by_section
        .iter()
        .map(|(s, p)| (s.as_str(), p))
        .collect();
    (
        sections_json(&label.sections),
        list_json(&label.platforms),
        serde_json::to_string(&by_section).unwrap_or_else(|_| "{}".to_string()),
    )
}
