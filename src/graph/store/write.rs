//! The write side of the store: one build is one `IMMEDIATE` transaction.
//!
//! [`Writer`] is created by `Store::begin_build`; dropping it without
//! [`Writer::commit`] rolls everything back, so an error (or a panic, or a kill) anywhere
//! in a build leaves the previous graph exactly as it was.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use crate::feedstock::{FeedstockName, RenderFailure};
use crate::graph::GraphError;
use crate::graph::model::NodeAttributes;
use crate::recipe::{Noarch as NoarchKind, RecipeFormat, Requirements, Section};

use super::sql_err;

/// What the store remembers about a feedstock, read at the start of a build.
#[derive(Debug, Clone)]
pub(crate) struct StoredFeedstock {
    /// The row id.
    pub(crate) id: i64,
    /// The checkout directory of the last build that saw it.
    pub(crate) path: String,
    /// The metadata fingerprint when last read.
    pub(crate) fingerprint: Option<String>,
    /// The content hash when last read.
    pub(crate) content_hash: Option<String>,
    /// True when the checkout disappeared in an earlier build.
    pub(crate) removed: bool,
    /// False when the stored renders are not valid JSON (the build then re-reads the
    /// feedstock instead of failing). The renders themselves are loaded on demand with
    /// [`Writer::load_attributes`].
    pub(crate) attributes_valid: bool,
    /// The content hash the stored renders came from.
    pub(crate) attributes_hash: Option<String>,
}

/// What the store held when a build started: every feedstock row and the generation.
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// Every feedstock row, by name.
    pub(crate) feedstocks: BTreeMap<String, StoredFeedstock>,
    /// The number of the last committed build.
    pub(crate) generation: i64,
}

/// One feedstock row to write after (re-)reading its checkout.
#[derive(Debug)]
pub(crate) struct NodeRow<'a> {
    /// The feedstock.
    pub(crate) name: &'a FeedstockName,
    /// The checkout directory.
    pub(crate) path: &'a str,
    /// The metadata fingerprint, when it could be computed.
    pub(crate) fingerprint: Option<&'a str>,
    /// The content hash, when it could be computed.
    pub(crate) content_hash: Option<&'a str>,
    /// The recipe format, when a recipe exists.
    pub(crate) format: Option<RecipeFormat>,
    /// Every failure of this read (empty when clean).
    pub(crate) errors: &'a [RenderFailure],
    /// The renders to keep (the new ones, or the last good ones when nothing rendered).
    pub(crate) attributes: &'a NodeAttributes,
    /// The content hash `attributes` came from.
    pub(crate) attributes_hash: Option<&'a str>,
    /// Renders performed.
    pub(crate) renders: usize,
}

/// The noarch summary of a node, stored in `noarch_all` / `noarch_python` so that
/// migrations can select on it without decoding renders.
///
/// A package is an output of a render, or the render's top level when it has no
/// outputs; an output's noarch is its own (`build.noarch` of the output), as cf-scripts'
/// `all_noarch` reads it. Skipped variants are not in the renders, so they do not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Noarch {
    /// Every package is noarch (python or generic) on every platform. False when
    /// nothing rendered.
    pub(crate) all: bool,
    /// Every package with `python` in host or build is `noarch: python`, on every
    /// platform (true when no package uses python). False when nothing rendered.
    pub(crate) python: bool,
}

impl Noarch {
    pub(crate) fn of(attributes: &NodeAttributes) -> Noarch {
        if attributes.platforms.is_empty() {
            return Noarch {
                all: false,
                python: false,
            };
        }
        let packages = || {
            attributes.platforms.values().flat_map(|render| {
                let top = render
                    .outputs
                    .is_empty()
                    .then_some((render.noarch, &render.requirements));
                top.into_iter().chain(
                    render
                        .outputs
                        .iter()
                        .map(|output| (output.noarch, &output.requirements)),
                )
            })
        };
        let uses_python = |requirements: &Requirements| {
            [Section::Host, Section::Build]
                .into_iter()
                .any(|s| requirements.section(s).iter().any(|r| r.name == "python"))
        };
        Noarch {
            all: packages().all(|(noarch, _)| noarch.is_some()),
            python: packages().all(|(noarch, requirements)| {
                !uses_python(requirements) || noarch == Some(NoarchKind::Python)
            }),
        }
    }
}

/// The open transaction of one build.
pub(crate) struct Writer<'c> {
    pub(super) tx: Transaction<'c>,
    pub(super) path: &'c Path,
}

impl<'c> Writer<'c> {
    pub(super) fn begin(conn: &'c mut Connection, path: &'c Path) -> Result<Self, GraphError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, "start the build transaction"))?;
        Ok(Writer { tx, path })
    }

    /// The number of the last committed build (0 before the first): compared with the
    /// snapshot's to detect a build that committed during the crawl.
    pub(crate) fn generation(&self) -> Result<i64, GraphError> {
        self.tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM builds", [], |r| r.get(0))
            .map_err(sql_err(self.path, "read the build generation"))
    }

    /// Inserts or replaces a feedstock row with its parse errors and requirements.
    pub(crate) fn write_node(&self, row: &NodeRow<'_>) -> Result<i64, GraphError> {
        let err = |op| sql_err(self.path, op);
        let attributes = serde_json::to_string(row.attributes)
            .map_err(|e| GraphError::Internal(format!("serialising {}: {e}", row.name)))?;
        let platforms = serde_json::to_string(&row.attributes.platforms.keys().collect::<Vec<_>>())
            .map_err(|e| GraphError::Internal(format!("serialising {}: {e}", row.name)))?;
        let parse_error = (!row.errors.is_empty()).then(|| {
            row.errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        });
        let noarch = Noarch::of(row.attributes);
        let id: i64 = self
            .tx
            .prepare_cached(
                "INSERT INTO feedstocks (name, path, fingerprint, content_hash, recipe_format,
                     version, parse_error, platforms, attributes, attributes_hash, renders,
                     parsed_at, removed_at, noarch_all, noarch_python)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13, ?14)
                 ON CONFLICT(name) DO UPDATE SET path = excluded.path,
                     fingerprint = excluded.fingerprint, content_hash = excluded.content_hash,
                     recipe_format = excluded.recipe_format, version = excluded.version,
                     parse_error = excluded.parse_error, platforms = excluded.platforms,
                     attributes = excluded.attributes, attributes_hash = excluded.attributes_hash,
                     renders = excluded.renders, parsed_at = excluded.parsed_at,
                     removed_at = NULL, noarch_all = excluded.noarch_all,
                     noarch_python = excluded.noarch_python
                 RETURNING id",
            )
            .and_then(|mut stmt| {
                stmt.query_row(
                    params![
                        row.name,
                        row.path,
                        row.fingerprint,
                        row.content_hash,
                        row.format.map(RecipeFormat::as_str),
                        row.attributes.version(),
                        parse_error,
                        platforms,
                        attributes,
                        row.attributes_hash,
                        i64::try_from(row.renders).unwrap_or(i64::MAX),
                        super::unix_now(),
                        noarch.all,
                        noarch.python,
                    ],
                    |r| r.get(0),
                )
            })
            .map_err(err("write a feedstock row"))?;
        self.write_errors(id, row.errors)?;
        self.write_requirements(id, row.attributes)?;
        Ok(id)
    }

    fn write_errors(&self, id: i64, errors: &[RenderFailure]) -> Result<(), GraphError> {
        let err = |op| sql_err(self.path, op);
        self.tx
            .prepare_cached("DELETE FROM parse_errors WHERE feedstock_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(err("clear parse errors"))?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO parse_errors (feedstock_id, seq, file, line, variant, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err("write parse errors"))?;
        for (seq, failure) in errors.iter().enumerate() {
            insert
                .execute(params![
                    id,
                    i64::try_from(seq).unwrap_or(i64::MAX),
                    failure.file,
                    failure.line.and_then(|l| i64::try_from(l).ok()),
                    failure.variant,
                    failure.message,
                ])
                .map_err(err("write parse errors"))?;
        }
        Ok(())
    }

    fn write_requirements(&self, id: i64, attributes: &NodeAttributes) -> Result<(), GraphError> {
        let err = |op| sql_err(self.path, op);
        self.tx
            .prepare_cached("DELETE FROM requirements WHERE feedstock_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(err("clear requirements"))?;
        let mut insert = self
            .tx
            .prepare_cached(
                "INSERT INTO requirements (feedstock_id, output, platform, section, name, spec)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err("write requirements"))?;
        for (platform, render) in &attributes.platforms {
            let parts = std::iter::once((None, &render.requirements)).chain(
                render
                    .outputs
                    .iter()
                    .map(|o| (Some(o.name.as_str()), &o.requirements)),
            );
            for (output, requirements) in parts {
                for section in Section::ALL {
                    for req in requirements.section(section) {
                        insert
                            .execute(params![
                                id,
                                output,
                                platform,
                                section.as_str(),
                                req.name,
                                req.raw
                            ])
                            .map_err(err("write requirements"))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Records a new fingerprint (and path) for a feedstock whose content did not change.
    pub(crate) fn touch(&self, id: i64, fingerprint: &str, path: &str) -> Result<(), GraphError> {
        self.tx
            .prepare_cached("UPDATE feedstocks SET fingerprint = ?2, path = ?3 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, fingerprint, path]))
            .map_err(sql_err(self.path, "update a fingerprint"))?;
        Ok(())
    }

    /// Records the checkout path of an unchanged feedstock when it moved.
    pub(crate) fn set_path(&self, id: i64, path: &str) -> Result<(), GraphError> {
        self.tx
            .prepare_cached("UPDATE feedstocks SET path = ?2 WHERE id = ?1 AND path <> ?2")
            .and_then(|mut s| s.execute(params![id, path]))
            .map_err(sql_err(self.path, "update a path"))?;
        Ok(())
    }

    /// Marks a feedstock whose checkout is gone as removed (the row and its history stay).
    pub(crate) fn mark_removed(&self, id: i64, now: i64) -> Result<(), GraphError> {
        self.tx
            .prepare_cached(
                "UPDATE feedstocks SET removed_at = ?2, topo_index = NULL, cycle = NULL
                 WHERE id = ?1 AND removed_at IS NULL",
            )
            .and_then(|mut s| s.execute(params![id, now]))
            .map_err(sql_err(self.path, "mark a feedstock removed"))?;
        Ok(())
    }

    /// Appends the build to the `builds` history.
    pub(crate) fn record_build(
        &self,
        started_at: i64,
        feedstocks_dir: &str,
        summary_json: &str,
    ) -> Result<(), GraphError> {
        self.tx
            .prepare_cached(
                "INSERT INTO builds (started_at, finished_at, feedstocks_dir, summary)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    started_at,
                    super::unix_now(),
                    feedstocks_dir,
                    summary_json
                ])
            })
            .map_err(sql_err(self.path, "record the build"))?;
        Ok(())
    }

    /// The number of feedstock rows with a parse error among those not removed.
    pub(crate) fn count_parse_errors(&self) -> Result<usize, GraphError> {
        let count: i64 = self
            .tx
            .query_row(
                "SELECT COUNT(*) FROM feedstocks WHERE removed_at IS NULL AND parse_error IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .map_err(sql_err(self.path, "count parse errors"))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Makes the build visible. Until this returns, readers see the previous graph.
    pub(crate) fn commit(self) -> Result<(), GraphError> {
        self.tx
            .commit()
            .map_err(sql_err(self.path, "commit the build"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::{Output, RenderedRecipe, Requirement};

    fn host(names: &[&str]) -> Requirements {
        Requirements {
            host: names.iter().filter_map(|n| Requirement::parse(n)).collect(),
            ..Requirements::default()
        }
    }

    fn output(name: &str, noarch: Option<NoarchKind>, requirements: Requirements) -> Output {
        Output {
            name: name.to_string(),
            noarch,
            requirements,
            ..Output::default()
        }
    }

    fn attributes(renders: &[(&str, RenderedRecipe)]) -> NodeAttributes {
        NodeAttributes {
            platforms: renders
                .iter()
                .map(|(p, r)| (p.to_string(), r.clone()))
                .collect(),
        }
    }

    #[test]
    fn a_noarch_python_recipe_is_noarch_in_both_senses() {
        let render = RenderedRecipe {
            name: "purepy".to_string(),
            noarch: Some(NoarchKind::Python),
            requirements: host(&["python >=3.9", "pip"]),
            ..RenderedRecipe::default()
        };
        let noarch = Noarch::of(&attributes(&[("linux-64", render)]));
        assert_eq!(
            noarch,
            Noarch {
                all: true,
                python: true
            }
        );
    }

    #[test]
    fn a_compiled_library_without_python_is_python_noarch_only_vacuously() {
        let render = RenderedRecipe {
            name: "zlib".to_string(),
            requirements: host(&["libzlib"]),
            ..RenderedRecipe::default()
        };
        let noarch = Noarch::of(&attributes(&[("linux-64", render)]));
        assert_eq!(
            noarch,
            Noarch {
                all: false,
                python: true
            }
        );
    }

    #[test]
    fn outputs_decide_and_the_top_level_of_a_split_recipe_does_not() {
        // A compiled library plus noarch python bindings: not all noarch, but every
        // python-using output is noarch: python. The top level's python in host is the
        // build of the split recipe, not a package.
        let render = RenderedRecipe {
            name: "split".to_string(),
            requirements: host(&["python"]),
            outputs: vec![
                output("libsplit", None, host(&["zlib"])),
                output("py-split", Some(NoarchKind::Python), host(&["python"])),
            ],
            ..RenderedRecipe::default()
        };
        let noarch = Noarch::of(&attributes(&[("linux-64", render.clone())]));
        assert_eq!((noarch.all, noarch.python), (false, true));

        let mut compiled = render;
        compiled.outputs[1].noarch = None;
        let noarch = Noarch::of(&attributes(&[("linux-64", compiled)]));
        assert_eq!((noarch.all, noarch.python), (false, false));
    }

    #[test]
    fn one_platform_that_is_not_noarch_makes_the_node_not_noarch() {
        let noarch_render = RenderedRecipe {
            name: "tool".to_string(),
            noarch: Some(NoarchKind::Generic),
            ..RenderedRecipe::default()
        };
        let native = RenderedRecipe {
            noarch: None,
            ..noarch_render.clone()
        };
        let noarch = Noarch::of(&attributes(&[
            ("linux-64", noarch_render),
            ("win-64", native),
        ]));
        assert!(!noarch.all);
    }

    #[test]
    fn nothing_rendered_is_not_noarch() {
        let noarch = Noarch::of(&NodeAttributes::default());
        assert_eq!(
            noarch,
            Noarch {
                all: false,
                python: false
            }
        );
    }
}
