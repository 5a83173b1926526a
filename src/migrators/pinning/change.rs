//! The change a pinning migration makes in one feedstock (reference §3.3, "`migrate` on
//! an ordinary feedstock", "on the pinning feedstock", §3.10). Pure: it reads the
//! feedstock's files from the [`ChangeInput`] and returns a change set.
//!
//! An ordinary feedstock gets the migration file, the `conda_forge_yml_patches`, the
//! build-number bump and a native rerender. As with the bot, whether the PR is worth
//! opening is decided by the rerender alone: when it changes nothing outside `recipe/`
//! (no `.ci_support` file written or deleted), the feedstock is already where the
//! migration wants it and the outcome is [`Change::NothingToDo`]. The pinning feedstock
//! gets the close-out instead: the pins merged into its `conda_build_config.yaml` (by
//! block replacement, or for `key_add` by guarded appends; other operations, and keys
//! written under a selector, are refused with an error asking for a manual close-out), the migration file deleted when the
//! feedstock has it, no build bump and no rerender.

use std::collections::{BTreeMap, BTreeSet};

use crate::feedstock::Snapshot;
use crate::feedstock::config::patch::apply_patches;
use crate::pinning::{self, BuildTool, Compat};
use crate::recipe::RecipeFormat;
use crate::recipe::edit::bump_build_number;

use super::super::migrator::{Change, ChangeInput, ChangeSet, MigrateError};
use super::closeout::{merge_key_add, merge_migrator_cbc, selector_keys};
use super::definition::{Operation, PinningMigration};
use super::texts::{self, BodyInput};

/// The pinning feedstock's global pinning file.
const PINNING_CBC: &str = "recipe/conda_build_config.yaml";

/// Computes the change for one feedstock.
pub(super) fn change(
    migration: &PinningMigration,
    input: &ChangeInput<'_>,
) -> Result<Change, MigrateError> {
    if input.closeout {
        return closeout(migration, input);
    }
    let files = input.files;
    let mut writes: BTreeMap<String, String> = BTreeMap::new();
    let mut deletes: BTreeSet<String> = BTreeSet::new();
    let mut warnings: Vec<String> = Vec::new();

    let migration_path = format!(".ci_support/migrations/{}.yaml", migration.name);
    writes.insert(migration_path.clone(), migration.text.clone());

    let forge_yml = text_of(files, "conda-forge.yml")?.unwrap_or_default();
    if !migration.conda_forge_yml_patches.is_empty() {
        let outcome =
            apply_patches(&forge_yml, &migration.conda_forge_yml_patches).map_err(|e| {
                MigrateError::Edit {
                    file: "conda-forge.yml".to_string(),
                    message: e.to_string(),
                }
            })?;
        warnings.extend(outcome.warnings.iter().map(ToString::to_string));
        if outcome.text != forge_yml {
            writes.insert("conda-forge.yml".to_string(), outcome.text);
        }
    }
    let forge_yml = writes.get("conda-forge.yml").cloned().unwrap_or(forge_yml);

    let (recipe_path, format) = recipe_file(&forge_yml)?;
    let recipe = text_of(files, &recipe_path)?
        .ok_or_else(|| MigrateError::MissingFile(recipe_path.clone()))?;
    if migration.bump_number > 0 {
        let edit = bump_build_number(format, &recipe, migration.bump_number).map_err(|e| {
            MigrateError::Edit {
                file: recipe_path.clone(),
                message: e.to_string(),
            }
        })?;
        writes.insert(recipe_path, edit.text);
    }

    let rerendered = rerender(migration, input, &writes)?;
    let rerender_changed = !rerendered.writes.is_empty() || !rerendered.deletes.is_empty();
    if !rerender_changed {
        return Ok(Change::NothingToDo {
            reason: format!(
                "the rerender with migration `{}` changes nothing outside recipe/",
                migration.name
            ),
        });
    }
    writes.extend(rerendered.writes);
    for path in rerendered.deletes {
        if path != migration_path {
            deletes.insert(path);
        }
    }

    let commit_message = texts::commit_message(migration, false);
    Ok(Change::Files(ChangeSet {
        title: texts::title(migration, input.config, &commit_message),
        body: texts::body(
            migration,
            &BodyInput {
                status_url: &input.identity.status_url,
                bot_user: &input.identity.bot_user,
                children: input.children,
                closeout: false,
                warnings: &warnings,
            },
        ),
        branch: texts::branch(migration),
        commit_message,
        writes,
        deletes,
    }))
}

/// The close-out on the pinning feedstock.
fn closeout(migration: &PinningMigration, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
    let cbc = text_of(input.files, PINNING_CBC)?
        .ok_or_else(|| MigrateError::MissingFile(PINNING_CBC.to_string()))?;
    let manual = |reason: String| {
        MigrateError::Other(format!(
            "{}: the close-out cannot be done by line edits ({reason}); close the migration \
             out by hand",
            migration.path.display()
        ))
    };
    let merged = match (migration.smithy.operation, &migration.smithy.primary_key) {
        (None, _) => {
            let guarded = selector_keys(&migration.text);
            if !guarded.is_empty() {
                return Err(manual(format!(
                    "{} would replace the pinning's values for every platform",
                    guarded
                        .iter()
                        .map(|k| format!("`{k}` under a selector"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            merge_migrator_cbc(&migration.text, &cbc)
        }
        (Some(Operation::KeyAdd), Some(primary)) => merge_key_add(
            &migration.text,
            &cbc,
            primary,
            &migration.smithy.additional_zip_keys,
        )
        .map_err(manual)?,
        (Some(Operation::KeyAdd), None) => return Err(manual("no primary_key".to_string())),
        (Some(Operation::KeyRemove), _) => {
            return Err(manual("`key_remove` is not supported".to_string()));
        }
    };
    let mut writes = BTreeMap::new();
    let mut deletes = BTreeSet::new();
    if merged != cbc {
        writes.insert(PINNING_CBC.to_string(), merged);
    }
    let migration_file = format!("recipe/migrations/{}.yaml", migration.name);
    if input.files.file(&migration_file).is_some() {
        deletes.insert(migration_file);
    }
    if writes.is_empty() && deletes.is_empty() {
        return Ok(Change::NothingToDo {
            reason: format!(
                "the pinning already holds the pins of `{}` and has no migration file for it",
                migration.name
            ),
        });
    }
    let commit_message = texts::commit_message(migration, true);
    Ok(Change::Files(ChangeSet {
        title: texts::title(migration, input.config, &commit_message),
        body: texts::body(
            migration,
            &BodyInput {
                status_url: &input.identity.status_url,
                bot_user: &input.identity.bot_user,
                children: input.children,
                closeout: true,
                warnings: &[],
            },
        ),
        branch: texts::branch(migration),
        commit_message,
        writes,
        deletes,
    }))
}

/// A file of the snapshot as text; `None` when absent, an error when not UTF-8.
fn text_of(files: &Snapshot, relative: &str) -> Result<Option<String>, MigrateError> {
    match files.file(relative) {
        None => Ok(None),
        Some(bytes) => {
            String::from_utf8(bytes.to_vec())
                .map(Some)
                .map_err(|_| MigrateError::Edit {
                    file: relative.to_string(),
                    message: "not UTF-8 text".to_string(),
                })
        }
    }
}

/// The recipe the rerender reads, as `conda-forge.yml` selects it.
fn recipe_file(forge_yml: &str) -> Result<(String, RecipeFormat), MigrateError> {
    let forge = pinning::ForgeConfig::parse(forge_yml).map_err(|e| MigrateError::Edit {
        file: "conda-forge.yml".to_string(),
        message: e.to_string(),
    })?;
    let dir = forge.recipe_dir.trim_end_matches('/').to_string();
    Ok(match forge.build_tool {
        BuildTool::CondaBuild => (format!("{dir}/meta.yaml"), RecipeFormat::V0),
        BuildTool::RattlerBuild => (format!("{dir}/recipe.yaml"), RecipeFormat::V1),
    })
}

/// What the rerender changes relative to the committed files.
struct Rerendered {
    writes: BTreeMap<String, String>,
    deletes: BTreeSet<String>,
}

/// Rerenders the feedstock with `writes` applied and compares with its committed
/// `.ci_support`.
///
/// The rerender resolves feedstock migrations against the pinning's; a pinning that
/// does not carry this migration (a local or test pinning) gets it added, so the
/// migration is applied rather than taken for closed.
fn rerender(
    migration: &PinningMigration,
    input: &ChangeInput<'_>,
    writes: &BTreeMap<String, String>,
) -> Result<Rerendered, MigrateError> {
    let files = input.files;
    let file_name = format!("{}.yaml", migration.name);
    let carried = input
        .pinning
        .migrations
        .as_ref()
        .is_none_or(|m| m.iter().any(|f| f.name == file_name));
    let extended;
    let pinning = if carried {
        input.pinning
    } else {
        let mut copy = input.pinning.clone();
        copy.migrations
            .get_or_insert_with(Vec::new)
            .push(pinning::MigrationFile {
                name: file_name,
                path: migration.path.clone(),
                text: migration.text.clone(),
            });
        extended = copy;
        &extended
    };
    let patched = Snapshot::from_files(
        files.root(),
        files
            .files()
            .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
            .chain(
                writes
                    .iter()
                    .map(|(path, text)| (path.clone(), text.clone().into_bytes())),
            ),
    );
    let repo = format!("{}-feedstock", input.node.name);
    let inputs = pinning::inputs_from_snapshot(&patched, &repo)
        .map_err(|e| MigrateError::Rerender(error_chain(&e)))?;
    let output = pinning::rerender(&inputs, pinning, Compat::default())
        .map_err(|e| MigrateError::Rerender(error_chain(&e)))?;
    let committed: BTreeMap<&str, &[u8]> = files
        .files_in(".ci_support")
        .filter(|(name, _)| name.ends_with(".yaml"))
        .collect();
    let mut result = Rerendered {
        writes: BTreeMap::new(),
        deletes: BTreeSet::new(),
    };
    for (name, text) in &output.files {
        if committed.get(name.as_str()).copied() != Some(text.as_bytes()) {
            result
                .writes
                .insert(format!(".ci_support/{name}"), text.clone());
        }
    }
    for name in committed.keys() {
        if !output.files.contains_key(*name) {
            result.deletes.insert(format!(".ci_support/{name}"));
        }
    }
    for name in output.migrations.closed() {
        let path = format!(".ci_support/migrations/{name}");
        if files.file(&path).is_some() {
            result.deletes.insert(path);
        }
    }
    Ok(result)
}

/// An error and its sources on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}
