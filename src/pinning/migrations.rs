//! Migration files (`__migrator`): which ones apply to a feedstock, and how each folds
//! into the combined spec (CFEP-9 "variant algebra", reference §1.5).
//!
//! Resolution compares the feedstock's `.ci_support/migrations/*.yaml` with the
//! pinning's `migrations/`: a copy whose name, `migrator_ts` and `migration_number` match
//! is replaced by the pinning's, a migration the pinning no longer has is deleted unless
//! `use_local: true`. Application sorts by `migrator_ts` and folds each file with
//! [`variant_add`]; the arithmetic of values lives in `algebra.rs`.

use std::path::PathBuf;

use indexmap::IndexMap;

use super::cbc::{SpecError, VariantSpec, scalars, spec_from_node};
use super::load::{Node, YamlError, load};
use super::prepared::{Prepared, PreparedError};
use super::selector::Namespace;

pub(crate) use super::algebra::variant_add;

/// Errors reading or applying a migration file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The file is not YAML.
    #[error("migration `{}` is not valid YAML", .path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser error.
        #[source]
        source: YamlError,
    },
    /// The file's variant content is malformed.
    #[error("migration `{}` is malformed", .path.display())]
    Spec {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: SpecError,
    },
    /// The `__migrator` block is malformed or asks for something impossible.
    #[error("migration `{}`: {message}", .path.display())]
    Migrator {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A migration file as found on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationFile {
    /// The file name (`orc231.yaml`).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

/// What happens to one feedstock migration file (reference §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationAction {
    /// The pinning's copy (same name, `migrator_ts` and `migration_number`) is applied.
    PinningCopy,
    /// The feedstock's own file is applied (`use_local`, no `migrator_ts`, a different
    /// `migration_number`, or a pinning without a migrations directory).
    FeedstockCopy,
    /// The migration is closed upstream: the file is deleted and not applied.
    Closed,
}

/// The outcome of resolving a feedstock's migrations against the pinning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    /// The files to apply (pinning or feedstock copies).
    pub apply: Vec<MigrationFile>,
    /// The decision for each feedstock file, by file name.
    pub actions: Vec<(String, MigrationAction)>,
}

impl Resolution {
    /// Names of the feedstock files to delete.
    pub fn closed(&self) -> impl Iterator<Item = &str> {
        self.actions
            .iter()
            .filter(|(_, a)| *a == MigrationAction::Closed)
            .map(|(n, _)| n.as_str())
    }
}

/// The keys smithy compares, read with a string-only loader before selectors apply.
struct Identity {
    ts: Option<String>,
    number: Option<String>,
    use_local: bool,
}

fn identity(file: &MigrationFile) -> Result<Identity, MigrationError> {
    let node = load(&file.text).map_err(|source| MigrationError::Yaml {
        path: file.path.clone(),
        source,
    })?;
    let node = node.unwrap_or(Node::Map(Vec::new()));
    let migrator = node.get("__migrator");
    Ok(Identity {
        ts: node
            .get("migrator_ts")
            .and_then(Node::as_str)
            .map(str::to_string),
        number: migrator
            .and_then(|m| m.get("migration_number"))
            .and_then(Node::as_str)
            .map(str::to_string),
        use_local: migrator
            .and_then(|m| m.get("use_local"))
            .and_then(Node::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// Decides which migration files apply (smithy `set_migration_fns`). `pinning` is `None`
/// when the pinning has no migrations directory: then every feedstock file applies.
pub fn resolve(
    feedstock: &[MigrationFile],
    pinning: Option<&[MigrationFile]>,
) -> Result<Resolution, MigrationError> {
    let mut resolution = Resolution::default();
    let Some(pinning) = pinning else {
        for file in feedstock {
            resolution.apply.push(file.clone());
            resolution
                .actions
                .push((file.name.clone(), MigrationAction::FeedstockCopy));
        }
        return Ok(resolution);
    };
    let mut upstream = Vec::with_capacity(pinning.len());
    // Only files a feedstock file shares its name with can matter.
    for file in pinning
        .iter()
        .filter(|p| feedstock.iter().any(|f| f.name == p.name))
    {
        // A broken file in the pinning only matters if a feedstock refers to it.
        if let Ok(id) = identity(file) {
            upstream.push((file, id));
        }
    }
    for file in feedstock {
        let mine = identity(file)?;
        let action = if mine.use_local || mine.ts.is_none() {
            resolution.apply.push(file.clone());
            MigrationAction::FeedstockCopy
        } else {
            let same = upstream
                .iter()
                .find(|(theirs, id)| theirs.name == file.name && id.ts == mine.ts);
            match same {
                None => MigrationAction::Closed,
                Some((theirs, id)) if id.number == mine.number => {
                    resolution.apply.push((*theirs).clone());
                    MigrationAction::PinningCopy
                }
                Some(_) => {
                    resolution.apply.push(file.clone());
                    MigrationAction::FeedstockCopy
                }
            }
        };
        resolution.actions.push((file.name.clone(), action));
    }
    Ok(resolution)
}

/// What a migration asks of the algebra.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Add new values (and their zip partners) for the primary key.
    KeyAdd,
    /// Remove one value of the primary key (and its zip partners).
    KeyRemove,
}

/// One migration parsed for a platform.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Migration {
    /// Where it came from (for errors and the sort tie-break).
    pub(crate) path: PathBuf,
    /// `migrator_ts` (-1 when absent).
    pub(crate) ts: f64,
    /// The variant keys it sets.
    pub(crate) spec: VariantSpec,
    /// `__migrator.operation`.
    pub(crate) operation: Option<Operation>,
    /// `__migrator.primary_key`.
    pub(crate) primary_key: Option<String>,
    /// `__migrator.additional_zip_keys`.
    pub(crate) additional_zip_keys: Vec<String>,
    /// `__migrator.ordering`: key → allowed values, lowest first.
    pub(crate) ordering: IndexMap<String, Vec<String>>,
    /// True when the file carries a `__migrator` block.
    pub(crate) has_migrator: bool,
}

impl Migration {
    /// Parses a migration file for one platform (smithy `parse_variant`).
    pub(crate) fn parse(
        file: &PreparedMigration,
        ns: &Namespace,
    ) -> Result<Migration, MigrationError> {
        let path = file.path.clone();
        let node = file.text.load(ns).map_err(|e| match e {
            PreparedError::Selector(e) => MigrationError::Spec {
                path: path.clone(),
                source: SpecError::Selector(e),
            },
            PreparedError::Yaml(source) => MigrationError::Yaml {
                path: path.clone(),
                source,
            },
        })?;
        Migration::from_node(node.unwrap_or(Node::Map(Vec::new())), path)
    }

    /// Parses a migration whose selectors are already applied.
    #[cfg(test)]
    pub(crate) fn from_selected(
        selected: &str,
        path: PathBuf,
    ) -> Result<Migration, MigrationError> {
        let node = load(selected)
            .map_err(|source| MigrationError::Yaml {
                path: path.clone(),
                source,
            })?
            .unwrap_or(Node::Map(Vec::new()));
        Migration::from_node(node, path)
    }

    fn from_node(node: Node, path: PathBuf) -> Result<Migration, MigrationError> {
        let Node::Map(entries) = &node else {
            return Err(MigrationError::Spec {
                path,
                source: SpecError::NotAMapping,
            });
        };
        let ts = match node.get("migrator_ts").and_then(Node::as_str) {
            None => -1.0,
            Some(text) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| MigrationError::Migrator {
                    path: path.clone(),
                    message: format!("`migrator_ts: {text}` is not a number"),
                })?,
        };
        let rest: Vec<(String, Node)> = entries
            .iter()
            .filter(|(k, _)| k != "__migrator" && k != "migrator_ts")
            .cloned()
            .collect();
        let spec = spec_from_node(Node::Map(rest)).map_err(|source| MigrationError::Spec {
            path: path.clone(),
            source,
        })?;
        let migrator = node.get("__migrator");
        let field = |name: &str| migrator.and_then(|m| m.get(name));
        let operation = match field("operation").and_then(Node::as_str) {
            None => None,
            Some("key_add") => Some(Operation::KeyAdd),
            Some("key_remove") => Some(Operation::KeyRemove),
            Some(other) => {
                return Err(MigrationError::Migrator {
                    path,
                    message: format!(
                        "unknown `__migrator.operation: {other}` (expected `key_add` or \
                         `key_remove`)"
                    ),
                });
            }
        };
        let mut ordering = IndexMap::new();
        if let Some(Node::Map(orders)) = field("ordering") {
            for (key, values) in orders {
                ordering.insert(key.clone(), scalars(values));
            }
        }
        let migration = Migration {
            ts,
            spec,
            operation,
            primary_key: field("primary_key")
                .and_then(Node::as_str)
                .map(str::to_string),
            additional_zip_keys: field("additional_zip_keys")
                .map(scalars)
                .unwrap_or_default(),
            ordering,
            has_migrator: migrator.is_some_and(|m| !m.is_null()),
            path,
        };
        if migration.operation.is_some() && migration.primary_key.is_none() {
            return Err(MigrationError::Migrator {
                path: migration.path,
                message: "`operation` needs a `primary_key`".to_string(),
            });
        }
        Ok(migration)
    }

    /// True when applying it can change anything (smithy skips files whose content is
    /// empty once `migrator_ts` is removed).
    pub(crate) fn is_empty(&self) -> bool {
        self.spec.is_empty() && !self.has_migrator
    }
}

/// A migration file prepared once for every platform of a rerender.
#[derive(Debug)]
pub(crate) struct PreparedMigration {
    path: PathBuf,
    text: Prepared,
}

impl PreparedMigration {
    /// Prepares a file.
    pub(crate) fn new(file: &MigrationFile) -> PreparedMigration {
        PreparedMigration {
            path: file.path.clone(),
            text: Prepared::new(&file.text),
        }
    }
}

/// Applies migrations to a combined spec: sorted by (`migrator_ts`, path), folded with
/// [`variant_add`] (smithy `migrate_combined_spec`).
pub(crate) fn apply(
    spec: VariantSpec,
    files: &[PreparedMigration],
    ns: &Namespace,
) -> Result<VariantSpec, MigrationError> {
    let mut migrations = files
        .iter()
        .map(|f| Migration::parse(f, ns))
        .collect::<Result<Vec<_>, _>>()?;
    migrations.sort_by(|a, b| a.ts.total_cmp(&b.ts).then_with(|| a.path.cmp(&b.path)));
    let mut spec = spec;
    for migration in &migrations {
        if migration.is_empty() {
            continue;
        }
        spec = variant_add(spec, migration).map_err(|message| MigrationError::Migrator {
            path: migration.path.clone(),
            message,
        })?;
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> MigrationFile {
        MigrationFile {
            name: name.to_string(),
            path: PathBuf::from(name),
            text: text.to_string(),
        }
    }

    #[test]
    fn a_matching_copy_is_replaced_by_the_pinnings() {
        let mine = file(
            "orc.yaml",
            "migrator_ts: 1\n__migrator:\n  migration_number: 1\norc: [1]\n",
        );
        let theirs = file(
            "orc.yaml",
            "migrator_ts: 1\n__migrator:\n  migration_number: 1\norc: [2]\n",
        );
        let r = resolve(
            std::slice::from_ref(&mine),
            Some(std::slice::from_ref(&theirs)),
        )
        .unwrap();
        assert_eq!(r.apply, vec![theirs]);
        assert_eq!(r.actions[0].1, MigrationAction::PinningCopy);
    }

    #[test]
    fn a_closed_migration_is_deleted_unless_local() {
        let closed = file("old.yaml", "migrator_ts: 1\nold: [1]\n");
        let local = file(
            "mine.yaml",
            "migrator_ts: 2\n__migrator:\n  use_local: True\nx: [1]\n",
        );
        let r = resolve(&[closed, local.clone()], Some(&[])).unwrap();
        assert_eq!(r.closed().collect::<Vec<_>>(), ["old.yaml"]);
        assert_eq!(r.apply, vec![local]);
    }

    #[test]
    fn a_different_migration_number_keeps_the_feedstock_copy() {
        let mine = file(
            "a.yaml",
            "migrator_ts: 1\n__migrator:\n  migration_number: 1\n",
        );
        let theirs = file(
            "a.yaml",
            "migrator_ts: 1\n__migrator:\n  migration_number: 2\n",
        );
        let r = resolve(std::slice::from_ref(&mine), Some(&[theirs])).unwrap();
        assert_eq!(r.apply, vec![mine]);
    }

    #[test]
    fn malformed_migration_files_are_errors_naming_the_file() {
        let broken = file("broken.yaml", "migrator_ts: [1\n");
        let err = resolve(std::slice::from_ref(&broken), Some(&[])).unwrap_err();
        assert!(err.to_string().contains("broken.yaml"), "{err}");
        let bad_op = file(
            "op.yaml",
            "__migrator:\n  operation: key_frob\n  primary_key: x\n",
        );
        let err =
            Migration::parse(&PreparedMigration::new(&bad_op), &Namespace::default()).unwrap_err();
        assert!(err.to_string().contains("key_frob"), "{err}");
    }
}
