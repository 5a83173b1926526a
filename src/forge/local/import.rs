//! Importing a directory of feedstock checkouts into the local forge.
//!
//! Each `<name>-feedstock/` directory becomes (or updates) the bare repository
//! `<root>/<org>/<name>-feedstock.git` with the directory's files as one commit on the
//! default branch. The checkout's own git history, when it has one, is **not** imported:
//! only the files of its working tree (`.git` excluded) are, so an import gives the same
//! repository whether the source is a plain copy (as under `../shared/data/feedstocks`)
//! or a clone, and the forge never depends on objects elsewhere. Importing again is
//! idempotent: an unchanged checkout leaves its repository alone; a changed one adds one
//! commit on top of the default branch (the forge's history is kept, so open PRs stay
//! mergeable or become dirty just as after a maintainer's push). The checkout's files
//! win: re-importing a checkout older than a merged PR commits the old files again.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::LocalForge;
use super::repo::{self, GitContext};
use crate::feedstock::FeedstockName;
use crate::forge::ForgeError;

/// The default branch of imported repositories.
pub(crate) const DEFAULT_BRANCH: &str = "main";

/// What [`LocalForge::import`] did, feedstock names sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// Feedstocks that got a new repository.
    pub created: Vec<String>,
    /// Feedstocks whose files changed: one commit added on the default branch.
    pub updated: Vec<String>,
    /// Feedstocks whose repository already held exactly these files.
    pub unchanged: Vec<String>,
    /// Directory entries that are not importable feedstock checkouts.
    pub skipped: Vec<SkippedEntry>,
}

impl ImportSummary {
    /// Feedstocks imported (created, updated or unchanged).
    pub fn imported(&self) -> usize {
        self.created.len() + self.updated.len() + self.unchanged.len()
    }
}

/// An entry of the import directory that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedEntry {
    /// The entry.
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: String,
}

enum Imported {
    Created,
    Updated,
    Unchanged,
}

impl LocalForge {
    /// Imports every `<name>-feedstock/` directory under `dir` (see the module docs of
    /// `forge::local::import`). Entries that are not feedstock checkouts (files, other
    /// names, invalid names, directories without any file, unreadable files) are skipped
    /// with a warning and listed in the summary; failures of the forge itself abort.
    pub fn import(&self, dir: &Path) -> Result<ImportSummary, ForgeError> {
        let io = |err: std::io::Error| ForgeError::Io {
            path: dir.to_path_buf(),
            message: format!("cannot read the import directory: {err}"),
        };
        let mut entries = fs_err::read_dir(dir)
            .map_err(io)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<Vec<PathBuf>, _>>()
            .map_err(io)?;
        entries.sort();
        // Checkouts are independent and the work is mostly file system latency, so they
        // are imported in parallel; the database serializes its own writes.
        let outcomes: Vec<(
            PathBuf,
            Option<FeedstockName>,
            Result<Imported, SourceOrForge>,
        )> = entries
            .into_par_iter()
            .map(|path| match importable(&path) {
                Ok(name) => {
                    let imported = self.import_checkout(&name, &path);
                    (path, Some(name), imported)
                }
                Err(reason) => (path, None, Err(SourceOrForge::Source(reason))),
            })
            .collect();
        let mut summary = ImportSummary::default();
        for (path, name, imported) in outcomes {
            match (imported, name) {
                (Ok(Imported::Created), Some(name)) => summary.created.push(name.to_string()),
                (Ok(Imported::Updated), Some(name)) => summary.updated.push(name.to_string()),
                (Ok(Imported::Unchanged), Some(name)) => summary.unchanged.push(name.to_string()),
                (Ok(_), None) => {}
                (Err(SourceOrForge::Source(reason)), _) => {
                    tracing::debug!(path = %path.display(), "skipping: {reason}");
                    summary.skipped.push(SkippedEntry { path, reason });
                }
                (Err(SourceOrForge::Forge(err)), _) => return Err(err),
            }
        }
        summary.created.sort();
        summary.updated.sort();
        summary.unchanged.sort();
        Ok(summary)
    }

    /// Imports one checkout; a skipped checkout that had no repository leaves none.
    fn import_checkout(&self, name: &FeedstockName, dir: &Path) -> Result<Imported, SourceOrForge> {
        let repo_path = self.upstream_path(name);
        let existed = repo_path.exists();
        let imported = self.import_one(name, dir);
        if !existed
            && matches!(imported, Err(SourceOrForge::Source(_)))
            && let Err(err) = fs_err::remove_dir_all(&repo_path)
        {
            tracing::warn!("cannot remove `{}`: {err}", repo_path.display());
        }
        imported
    }

    fn import_one(&self, name: &FeedstockName, dir: &Path) -> Result<Imported, SourceOrForge> {
        let path = self.upstream_path(name);
        let git = if path.exists() {
            repo::open(&path)?
        } else {
            repo::init_bare(&path, DEFAULT_BRANCH)?
        };
        let default_branch = self
            .db
            .repo(&self.org, name.as_str())?
            .map_or_else(|| DEFAULT_BRANCH.to_string(), |repo| repo.default_branch);
        let refname = repo::branch_ref(&default_branch)?;
        let tip = repo::branch_tip(&git, &default_branch)?;
        let signature = repo::signature(super::MAINTAINER_NAME, super::MAINTAINER_EMAIL)?;
        let message = format!("Import {} from {}\n", name.dir_name(), dir.display());
        // The new commit, or `None` when the default branch already holds these files.
        let commit = repo::in_one_pack(&git, || {
            let tree = match repo::tree_from_dir(&git, dir) {
                Ok(Some(tree)) => tree,
                Ok(None) => {
                    return Err(SourceOrForge::Source(
                        "no files in the checkout".to_string(),
                    ));
                }
                Err(err @ (ForgeError::Io { .. } | ForgeError::Invalid { .. })) => {
                    return Err(SourceOrForge::Source(err.to_string()));
                }
                Err(err) => return Err(err.into()),
            };
            let parent = match tip {
                Some(tip) => Some(
                    git.find_commit(tip)
                        .git(|| format!("read `{refname}` of `{}`", path.display()))?,
                ),
                None => None,
            };
            if parent
                .as_ref()
                .is_some_and(|parent| parent.tree_id() == tree)
            {
                return Ok((None, false));
            }
            let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
            let oid = repo::commit(&git, &signature, &signature, &message, tree, &parents)?;
            Ok((Some(oid), true))
        })?;
        let outcome = match (commit, tip) {
            (None, _) => Imported::Unchanged,
            (Some(oid), None) => {
                repo::set_ref(&git, &refname, oid, "cascade: import")?;
                Imported::Created
            }
            (Some(oid), Some(tip)) => {
                repo::move_ref(&git, &refname, tip, oid, "cascade: import")?;
                Imported::Updated
            }
        };
        let added = self
            .db
            .add_repo(&self.org, name.as_str(), &default_branch, super::now())?;
        Ok(match outcome {
            // A repository left by an import killed before its row was written.
            Imported::Unchanged if added => Imported::Created,
            outcome => outcome,
        })
    }
}

/// The feedstock name of an importable entry, or why it is not one.
fn importable(path: &Path) -> Result<FeedstockName, String> {
    let file_name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| "not a UTF-8 name".to_string())?;
    if !path.is_dir() {
        return Err("not a directory".to_string());
    }
    let Some(stem) = file_name.strip_suffix("-feedstock") else {
        return Err("not named `<name>-feedstock`".to_string());
    };
    FeedstockName::new(stem).map_err(|err| err.to_string())
}

/// An import failure: the checkout's fault (skip it) or the forge's (abort).
enum SourceOrForge {
    Source(String),
    Forge(ForgeError),
}

impl From<ForgeError> for SourceOrForge {
    fn from(err: ForgeError) -> Self {
        SourceOrForge::Forge(err)
    }
}
