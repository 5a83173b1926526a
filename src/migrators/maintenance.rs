//! The maintenance rerender: a PR wherever the committed `.ci_support/` is not what a
//! native rerender against the current pinning gives, and the rerender step the other
//! declarative migrators run after their edit (`rerender_changes`).
//!
//! Every feedstock that is not archived and whose recipe parses is a member, ungated:
//! knowing which feedstocks are stale would take a rerender of each, which `plan` (pure
//! and fast) cannot afford, so staleness is decided in `change`, which answers
//! `NothingToDo` for an up-to-date feedstock. The engine's ordering and PR limit decide
//! how many are looked at per run.
//!
//! **The uid carries the pinning.** `Uid.extra` holds `pinning`, a short hash of the
//! pinning's `conda_build_config.yaml` and migration files ([`pinning_stamp`]),
//! `renderer`, the cascade version (whose rerender decides what "stale" means), and the
//! feedstock's `version`. A recorded outcome ("done" after a merged PR or an up-to-date
//! check) therefore only holds for that pinning, renderer and recipe version: when any
//! of them changes the uid changes, the feedstock is looked at again, and a new
//! staleness gets a new PR. Changes that keep the version (a maintainer's edit of the
//! recipe) are not seen until one of the three changes; a content hash of the rerender
//! inputs in `NodeInfo` would close that gap.
//!
//! Only `.ci_support/*.yaml` and closed `.ci_support/migrations/*.yaml` are rewritten:
//! the CI pipeline files, scripts and README are outside the native rerender.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::feedstock::Snapshot;
use crate::pinning::{self, Compat, Pinning};

use super::definitions::{Common, Fields, pr_footer};
use super::migrator::{
    Change, ChangeInput, ChangeSet, Exclusion, MigrateError, MigrationPlan, Migrator, MigratorKind,
    Settings, Uid,
};
use super::snapshot::{GraphSnapshot, NodeInfo};

/// Bumped when what this migrator writes changes meaning.
const MIGRATOR_VERSION: u32 = 1;

/// The maintenance-rerender migration.
#[derive(Debug, Clone)]
pub struct Maintenance {
    name: String,
    settings: Settings,
    stamp: String,
}

impl Maintenance {
    /// A maintenance migration named `name` against `pinning`.
    pub fn new(name: &str, settings: Settings, pinning: &Pinning) -> Maintenance {
        Maintenance {
            name: name.to_string(),
            settings,
            stamp: pinning_stamp(pinning),
        }
    }

    /// Reads the definition (no keys beyond the common ones). Not gated by default.
    pub(crate) fn from_definition(
        common: Common,
        _fields: &mut Fields<'_>,
        pinning: &Pinning,
    ) -> Option<Maintenance> {
        let settings = common.settings(Settings {
            gated: false,
            ..Settings::default()
        });
        Some(Maintenance::new(&common.name, settings, pinning))
    }

    /// The pinning stamp in this migration's uids.
    pub fn stamp(&self) -> &str {
        &self.stamp
    }
}

/// A short, stable hash of a pinning: its `conda_build_config.yaml` and every migration
/// file (name and text, in name order). 12 hex digits.
pub fn pinning_stamp(pinning: &Pinning) -> String {
    let mut hasher = Sha256::new();
    hasher.update(pinning.cbc.as_bytes());
    let mut migrations: Vec<_> = pinning.migrations.iter().flatten().collect();
    migrations.sort_by(|a, b| a.name.cmp(&b.name));
    for migration in migrations {
        hasher.update([0]);
        hasher.update(migration.name.as_bytes());
        hasher.update([0]);
        hasher.update(migration.text.as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    digest.get(..12).unwrap_or(&digest).to_string()
}

impl Migrator for Maintenance {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> MigratorKind {
        MigratorKind::Maintenance
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let mut plan = MigrationPlan::default();
        for id in graph.ids() {
            let node = graph.node(id);
            if node.archived {
                plan.excluded.push((id, Exclusion::Archived));
            } else if node.parse_error || node.recipe_format.is_none() {
                plan.excluded.push((id, Exclusion::ParseError));
            } else {
                plan.members.push(id);
            }
        }
        plan
    }

    fn uid(&self, node: &NodeInfo) -> Uid {
        let mut uid = Uid::new(&self.name, MIGRATOR_VERSION);
        uid.extra.insert("pinning".to_string(), self.stamp.clone());
        uid.extra.insert(
            "renderer".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        );
        uid.extra.insert(
            "version".to_string(),
            node.version.clone().unwrap_or_default(),
        );
        uid
    }

    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        let rerendered = rerender_changes(input, &[])?;
        if rerendered.is_empty() {
            return Ok(Change::NothingToDo {
                reason: format!(
                    "`.ci_support` is up to date with the pinning ({})",
                    self.stamp
                ),
            });
        }
        let title = format!(
            "MNT: Re-rendered with cascade {} and the current pinning",
            env!("CARGO_PKG_VERSION")
        );
        let body = format!(
            "The committed `.ci_support` files are not what a rerender against the current \
             pinning (`{stamp}`) gives. This PR brings them up to date:\n\n{list}\n\
             It changes no recipe and does not bump the build number: merging it changes \
             the CI jobs, not the packages already built.\n\n{footer}",
            stamp = self.stamp,
            list = rerendered.markdown(),
            footer = pr_footer(input.identity, &self.name),
        );
        let mut set = ChangeSet {
            commit_message: title.clone(),
            title,
            body,
            branch: self.name.clone(),
            ..ChangeSet::default()
        };
        rerendered.apply_to(&mut set);
        Ok(Change::Files(set))
    }
}

/// What a rerender changes in `.ci_support/`: relative path → new content, `None` to
/// delete. Sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rerendered {
    changes: BTreeMap<String, FileEdit>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FileEdit {
    Added(String),
    Changed(String),
    Removed,
}

impl Rerendered {
    /// True when the committed files are what the rerender gives.
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Adds the writes and deletes to a change set.
    pub(crate) fn apply_to(&self, set: &mut ChangeSet) {
        for (path, edit) in &self.changes {
            match edit {
                FileEdit::Added(text) | FileEdit::Changed(text) => {
                    set.writes.insert(path.clone(), text.clone());
                }
                FileEdit::Removed => {
                    set.deletes.insert(path.clone());
                }
            }
        }
    }

    /// One Markdown list item per file: added, updated or removed.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        for (path, edit) in &self.changes {
            let verb = match edit {
                FileEdit::Added(_) => "added",
                FileEdit::Changed(_) => "updated",
                FileEdit::Removed => "removed",
            };
            out.push_str(&format!("- {verb} `{path}`\n"));
        }
        out
    }
}

/// The result of a native rerender: its `.ci_support` changes and every variant file it
/// produced (by file name), for callers that check which platforms got files.
pub(crate) struct RerenderResult {
    pub(crate) changes: Rerendered,
    pub(crate) files: BTreeMap<String, String>,
}

impl RerenderResult {
    /// True when the rerender wrote a variant file for the platform key (`linux_aarch64`).
    pub(crate) fn has_platform(&self, key: &str) -> bool {
        let prefix = format!("{key}_");
        self.files.keys().any(|name| name.starts_with(&prefix))
    }
}

/// Rerenders the feedstock of `input` against `input.pinning`, with `edits` (relative
/// path → new text) replacing or adding files first, and compares the result with the
/// committed `.ci_support/`.
pub(crate) fn rerender_with(
    input: &ChangeInput<'_>,
    edits: &[(&str, &str)],
) -> Result<RerenderResult, MigrateError> {
    let edited;
    let snapshot = if edits.is_empty() {
        input.files
    } else {
        let mut files: BTreeMap<String, Vec<u8>> = input
            .files
            .files()
            .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
            .collect();
        for (path, text) in edits {
            files.insert(path.to_string(), text.as_bytes().to_vec());
        }
        edited = Snapshot::from_files(input.files.root(), files);
        &edited
    };
    let inputs = pinning::inputs_from_snapshot(snapshot, &repository(input))
        .map_err(|e| MigrateError::Rerender(chain(&e)))?;
    let output = pinning::rerender(&inputs, input.pinning, Compat::default())
        .map_err(|e| MigrateError::Rerender(chain(&e)))?;
    let mut changes = BTreeMap::new();
    let committed: BTreeMap<&str, &[u8]> = snapshot
        .files_in(".ci_support")
        .filter(|(name, _)| name.ends_with(".yaml"))
        .collect();
    for (name, old) in &committed {
        let path = format!(".ci_support/{name}");
        match output.files.get(*name) {
            Some(new) if new.as_bytes() == *old => {}
            Some(new) => {
                changes.insert(path, FileEdit::Changed(new.clone()));
            }
            None => {
                changes.insert(path, FileEdit::Removed);
            }
        }
    }
    for (name, new) in &output.files {
        if !committed.contains_key(name.as_str()) {
            changes.insert(format!(".ci_support/{name}"), FileEdit::Added(new.clone()));
        }
    }
    for name in output.migrations.closed() {
        let path = format!(".ci_support/migrations/{name}");
        if snapshot.file(&path).is_some() {
            changes.insert(path, FileEdit::Removed);
        }
    }
    Ok(RerenderResult {
        changes: Rerendered { changes },
        files: output.files,
    })
}

/// [`rerender_with`], keeping only the changes.
pub(crate) fn rerender_changes(
    input: &ChangeInput<'_>,
    edits: &[(&str, &str)],
) -> Result<Rerendered, MigrateError> {
    rerender_with(input, edits).map(|r| r.changes)
}

/// The repository name the rerender uses for long file names: the checkout's directory
/// when it is `<name>-feedstock`, else `<name>-feedstock`.
fn repository(input: &ChangeInput<'_>) -> String {
    input
        .files
        .root()
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| n.ends_with("-feedstock"))
        .map_or_else(|| format!("{}-feedstock", input.node.name), str::to_string)
}

/// An error and its sources, one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinning::MigrationFile;

    #[test]
    fn the_pinning_stamp_changes_with_the_cbc_and_the_migrations_but_not_their_order() {
        let migration = |name: &str, text: &str| MigrationFile {
            name: name.to_string(),
            text: text.to_string(),
            path: name.into(),
        };
        let base = Pinning {
            cbc: "python:\n  - 3.12\n".to_string(),
            migrations: Some(vec![
                migration("a.yaml", "x: 1"),
                migration("b.yaml", "y: 2"),
            ]),
        };
        let reordered = Pinning {
            migrations: Some(vec![
                migration("b.yaml", "y: 2"),
                migration("a.yaml", "x: 1"),
            ]),
            ..base.clone()
        };
        let new_cbc = Pinning {
            cbc: "python:\n  - 3.13\n".to_string(),
            ..base.clone()
        };
        let new_migration = Pinning {
            migrations: Some(vec![
                migration("a.yaml", "x: 2"),
                migration("b.yaml", "y: 2"),
            ]),
            ..base.clone()
        };
        assert_eq!(pinning_stamp(&base).len(), 12);
        assert_eq!(pinning_stamp(&base), pinning_stamp(&reordered));
        assert_ne!(pinning_stamp(&base), pinning_stamp(&new_cbc));
        assert_ne!(pinning_stamp(&base), pinning_stamp(&new_migration));
    }

    #[test]
    fn the_uid_names_the_pinning_the_renderer_and_the_version() {
        let pinning = Pinning::default();
        let migrator = Maintenance::new("maintenance-rerender", Settings::default(), &pinning);
        let node = NodeInfo {
            name: "zlib".to_string(),
            version: Some("1.3.1".to_string()),
            ..NodeInfo::default()
        };
        let uid = migrator.uid(&node);
        assert_eq!(uid.extra["pinning"], pinning_stamp(&pinning));
        assert_eq!(uid.extra["version"], "1.3.1");
        assert_eq!(uid.extra["renderer"], env!("CARGO_PKG_VERSION"));
        let other = Maintenance::new(
            "maintenance-rerender",
            Settings::default(),
            &Pinning {
                cbc: "x: [1]\n".to_string(),
                migrations: None,
            },
        );
        assert_ne!(other.uid(&node), uid);
    }
}
