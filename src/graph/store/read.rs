//! The read side of the store: what `cascade graph show/deps/cycles/errors/export` and
//! other layers ask of a built graph. Every query reads committed data only.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::graph::GraphError;
use crate::graph::export::{ExportEdge, ExportExternal, ExportNode, GraphExport};
use crate::recipe::{RecipeFormat, Section};

use super::{Store, recipe_format, string_list};

/// One feedstock as `cascade graph show` presents it.
#[derive(Debug, Clone, Serialize)]
pub struct NodeView {
    /// The feedstock name.
    pub name: String,
    /// The checkout directory it was last read from.
    pub path: String,
    /// The recipe version.
    pub version: Option<String>,
    /// `v0` or `v1`; `None` when there is no recipe.
    pub recipe_format: Option<RecipeFormat>,
    /// The package names it produces (empty for a removed feedstock).
    pub outputs: Vec<String>,
    /// Per section, the requirement names unioned over platforms and outputs (every
    /// section is present, possibly empty).
    pub requirements: BTreeMap<Section, Vec<String>>,
    /// The platforms its recipe rendered for.
    pub platforms: Vec<String>,
    /// The parse failures, one per line (`recipe/meta.yaml:12: ...`); `None` when clean.
    pub parse_error: Option<String>,
    /// The same failures, structured.
    pub errors: Vec<ParseErrorView>,
    /// How many feedstocks it depends on directly.
    pub dependencies: usize,
    /// How many feedstocks depend on it directly.
    pub dependents: usize,
    /// Requirement names no feedstock in the graph produces.
    pub external_dependencies: Vec<String>,
    /// The other members of its cycle, itself included, when it is on one.
    pub cycle: Option<Vec<String>>,
    /// Its position in the cycle-tolerant topological order.
    pub topo_index: Option<i64>,
    /// When its checkout disappeared (Unix seconds); `None` while present.
    pub removed_at: Option<i64>,
}

/// One recorded parse failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseErrorView {
    /// The feedstock.
    pub feedstock: String,
    /// The file at fault, relative to the feedstock root.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The `.ci_support` variant, when the failure is per variant.
    pub variant: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Which way [`Store::deps`] walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepDirection {
    /// What the feedstock needs: follow edges backwards, towards dependencies.
    Dependencies,
    /// What needs the feedstock: follow edges forwards, towards dependents.
    Dependents,
}

/// One feedstock reached by [`Store::deps`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepView {
    /// The feedstock reached.
    pub name: String,
    /// Hops from the start (1 = direct).
    pub depth: usize,
    /// The feedstock it was reached from (the start, for direct ones).
    pub via: String,
    /// The sections of the edge between `via` and `name`.
    pub sections: Vec<Section>,
    /// The platforms of that edge.
    pub platforms: Vec<String>,
}

/// One cycle: its members and the edges among them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleView {
    /// Members, sorted.
    pub members: Vec<String>,
    /// The edges between members, which together close the cycle.
    pub edges: Vec<CycleEdge>,
}

/// An edge inside a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleEdge {
    /// The dependency.
    pub source: String,
    /// The dependent.
    pub target: String,
    /// The sections the edge comes from (a `test`-only edge is a cheap one to cut).
    pub sections: Vec<Section>,
}

fn sections(json: &str) -> Vec<Section> {
    string_list(json)
        .iter()
        .filter_map(|s| Section::parse(s))
        .collect()
}

fn by_section(json: &str) -> BTreeMap<Section, Vec<String>> {
    let raw: BTreeMap<String, Vec<String>> = serde_json::from_str(json).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(s, p)| Section::parse(&s).map(|s| (s, p)))
        .collect()
}

fn count(value: i64) -> usize {
    usize::try_from(value).unwrap_or(0)
}

impl Store {
    /// One feedstock, or `None` when no feedstock of that name was ever built.
    pub fn node(&self, name: &str) -> Result<Option<NodeView>, GraphError> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT id, name, path, version, recipe_format, platforms, parse_error,
                        topo_index, cycle, removed_at
                 FROM feedstocks WHERE name = ?1",
            )
            .and_then(|mut s| {
                s.query_row([name], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(8)?,
                        NodeView {
                            name: r.get(1)?,
                            path: r.get(2)?,
                            version: r.get(3)?,
                            recipe_format: recipe_format(r.get::<_, Option<String>>(4)?.as_deref()),
                            outputs: Vec::new(),
                            requirements: BTreeMap::new(),
                            platforms: string_list(&r.get::<_, String>(5)?),
                            parse_error: r.get(6)?,
                            errors: Vec::new(),
                            dependencies: 0,
                            dependents: 0,
                            external_dependencies: Vec::new(),
                            cycle: None,
                            topo_index: r.get(7)?,
                            removed_at: r.get(9)?,
                        },
                    ))
                })
                .optional()
            })
            .map_err(self.sql("read a feedstock"))?;
        let Some((id, cycle, mut view)) = row else {
            return Ok(None);
        };
        view.outputs = self.strings(
            "SELECT name FROM outputs WHERE feedstock_id = ?1 ORDER BY name",
            id,
        )?;
        view.external_dependencies = self.strings(
            "SELECT name FROM externals WHERE feedstock_id = ?1 ORDER BY name",
            id,
        )?;
        view.dependencies = count(self.scalar("SELECT COUNT(*) FROM edges WHERE dst_id = ?1", id)?);
        view.dependents = count(self.scalar("SELECT COUNT(*) FROM edges WHERE src_id = ?1", id)?);
        view.requirements = Section::ALL.iter().map(|s| (*s, Vec::new())).collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT section, name FROM requirements WHERE feedstock_id = ?1
                 ORDER BY section, name",
            )
            .map_err(self.sql("read requirements"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(self.sql("read requirements"))?;
        for row in rows {
            let (section, name) = row.map_err(self.sql("read requirements"))?;
            if let Some(list) = Section::parse(&section).and_then(|s| view.requirements.get_mut(&s))
            {
                list.push(name);
            }
        }
        view.errors = self.parse_errors(Some(id))?;
        if let Some(cycle) = cycle {
            view.cycle = Some(self.strings(
                "SELECT name FROM feedstocks WHERE cycle = ?1 AND removed_at IS NULL ORDER BY name",
                cycle,
            )?);
        }
        Ok(Some(view))
    }

    /// The feedstocks reachable from `name` in `direction`, breadth first, up to `depth`
    /// hops (`None`: all). Each is listed once, at its smallest depth; ties go to the
    /// alphabetically first `via`.
    pub fn deps(
        &self,
        name: &str,
        direction: DepDirection,
        depth: Option<usize>,
    ) -> Result<Vec<DepView>, GraphError> {
        let start = self.active_id(name)?;
        let sql = match direction {
            DepDirection::Dependencies => {
                "SELECT f.id, f.name, e.sections, e.platforms FROM edges e
                 JOIN feedstocks f ON f.id = e.src_id WHERE e.dst_id = ?1 ORDER BY f.name"
            }
            DepDirection::Dependents => {
                "SELECT f.id, f.name, e.sections, e.platforms FROM edges e
                 JOIN feedstocks f ON f.id = e.dst_id WHERE e.src_id = ?1 ORDER BY f.name"
            }
        };
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(self.sql("walk edges"))?;
        let mut seen = BTreeSet::from([start]);
        let mut queue = VecDeque::from([(start, name.to_string(), 0usize)]);
        let mut found = Vec::new();
        while let Some((id, via, level)) = queue.pop_front() {
            if depth.is_some_and(|max| level >= max) {
                continue;
            }
            let rows = stmt
                .query_map([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .map_err(self.sql("walk edges"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.sql("walk edges"))?;
            for (next, next_name, edge_sections, platforms) in rows {
                if !seen.insert(next) {
                    continue;
                }
                found.push(DepView {
                    name: next_name.clone(),
                    depth: level + 1,
                    via: via.clone(),
                    sections: sections(&edge_sections),
                    platforms: string_list(&platforms),
                });
                queue.push_back((next, next_name, level + 1));
            }
        }
        Ok(found)
    }

    /// Every cycle of the last build, with the edges that close it.
    pub fn cycles(&self) -> Result<Vec<CycleView>, GraphError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT cycle, name FROM feedstocks
                 WHERE cycle IS NOT NULL AND removed_at IS NULL ORDER BY cycle, name",
            )
            .map_err(self.sql("read cycles"))?;
        let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(self.sql("read cycles"))?;
        for row in rows {
            let (cycle, name) = row.map_err(self.sql("read cycles"))?;
            members.entry(cycle).or_default().push(name);
        }
        let mut edges = self
            .conn
            .prepare_cached(
                "SELECT s.name, d.name, e.sections FROM edges e
                 JOIN feedstocks s ON s.id = e.src_id JOIN feedstocks d ON d.id = e.dst_id
                 WHERE s.cycle = ?1 AND d.cycle = ?1 ORDER BY s.name, d.name",
            )
            .map_err(self.sql("read cycle edges"))?;
        let mut cycles = Vec::with_capacity(members.len());
        for (cycle, members) in members {
            let edges = edges
                .query_map([cycle], |r| {
                    Ok(CycleEdge {
                        source: r.get(0)?,
                        target: r.get(1)?,
                        sections: sections(&r.get::<_, String>(2)?),
                    })
                })
                .map_err(self.sql("read cycle edges"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(self.sql("read cycle edges"))?;
            cycles.push(CycleView { members, edges });
        }
        Ok(cycles)
    }

    /// Every parse failure of feedstocks present in the last build, by feedstock.
    pub fn errors(&self) -> Result<Vec<ParseErrorView>, GraphError> {
        self.parse_errors(None)
    }

    fn parse_errors(&self, feedstock: Option<i64>) -> Result<Vec<ParseErrorView>, GraphError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT f.name, e.file, e.line, e.variant, e.message FROM parse_errors e
                 JOIN feedstocks f ON f.id = e.feedstock_id
                 WHERE (?1 IS NULL AND f.removed_at IS NULL) OR f.id = ?1
                 ORDER BY f.name, e.seq",
            )
            .map_err(self.sql("read parse errors"))?;
        stmt.query_map([feedstock], |r| {
            Ok(ParseErrorView {
                feedstock: r.get(0)?,
                file: r.get(1)?,
                line: r
                    .get::<_, Option<i64>>(2)?
                    .and_then(|l| usize::try_from(l).ok()),
                variant: r.get(3)?,
                message: r.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(self.sql("read parse errors"))
    }

    /// Feedstock names in the cycle-tolerant topological order of the last build.
    pub fn topological_order(&self) -> Result<Vec<String>, GraphError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name FROM feedstocks WHERE removed_at IS NULL ORDER BY topo_index, name",
            )
            .map_err(self.sql("read the topological order"))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(self.sql("read the topological order"))
    }

    /// The whole graph of the last build.
    pub fn export(&self) -> Result<GraphExport, GraphError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, version, recipe_format, platforms, topo_index, cycle,
                        parse_error IS NOT NULL
                 FROM feedstocks WHERE removed_at IS NULL ORDER BY topo_index, name",
            )
            .map_err(self.sql("export nodes"))?;
        let nodes = stmt
            .query_map([], |r| {
                Ok(ExportNode {
                    name: r.get(0)?,
                    version: r.get(1)?,
                    recipe_format: recipe_format(r.get::<_, Option<String>>(2)?.as_deref()),
                    platforms: string_list(&r.get::<_, String>(3)?),
                    topo_index: r.get(4)?,
                    cycle: r.get(5)?,
                    parse_error: r.get(6)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.sql("export nodes"))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.name, d.name, e.sections, e.platforms, e.labels FROM edges e
                 JOIN feedstocks s ON s.id = e.src_id JOIN feedstocks d ON d.id = e.dst_id
                 ORDER BY s.name, d.name",
            )
            .map_err(self.sql("export edges"))?;
        let edges = stmt
            .query_map([], |r| {
                Ok(ExportEdge {
                    source: r.get(0)?,
                    target: r.get(1)?,
                    sections: sections(&r.get::<_, String>(2)?),
                    platforms: string_list(&r.get::<_, String>(3)?),
                    by_section: by_section(&r.get::<_, String>(4)?),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.sql("export edges"))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT x.name, f.name, x.sections, x.platforms FROM externals x
                 JOIN feedstocks f ON f.id = x.feedstock_id ORDER BY x.name, f.name",
            )
            .map_err(self.sql("export externals"))?;
        let externals = stmt
            .query_map([], |r| {
                Ok(ExportExternal {
                    name: r.get(0)?,
                    feedstock: r.get(1)?,
                    sections: sections(&r.get::<_, String>(2)?),
                    platforms: string_list(&r.get::<_, String>(3)?),
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.sql("export externals"))?;
        Ok(GraphExport {
            nodes,
            edges,
            externals,
        })
    }

    /// The row id of a feedstock present in the last build.
    fn active_id(&self, name: &str) -> Result<i64, GraphError> {
        self.conn
            .prepare_cached("SELECT id FROM feedstocks WHERE name = ?1 AND removed_at IS NULL")
            .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
            .map_err(self.sql("look up a feedstock"))?
            .ok_or_else(|| GraphError::UnknownFeedstock {
                name: name.to_string(),
            })
    }

    fn strings(&self, sql: &str, id: i64) -> Result<Vec<String>, GraphError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_map(params![id], |r| r.get(0))?.collect())
            .map_err(self.sql("read a list"))
    }

    fn scalar(&self, sql: &str, id: i64) -> Result<i64, GraphError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
            .map_err(self.sql("count rows"))
    }
}
