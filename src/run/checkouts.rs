//! Working checkouts of every feedstock, kept equal to the forge's default branches: the
//! graph is crawled from them and migrators read their files.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::forge::{FeedstockRepo, Forge, ForgeError};

use super::stop::{Flow, GO_ON, Stopped};

/// One synced checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The repository as the forge lists it.
    pub repo: FeedstockRepo,
    /// The checkout directory (`<dir>/<name>-feedstock`).
    pub path: PathBuf,
    /// The upstream commit it holds: the base of every branch the bot pushes.
    pub base: String,
}

/// The outcome of [`sync_all`]: the synced checkouts by feedstock name, and the
/// feedstocks that could not be synced (recorded, never fatal).
#[derive(Debug, Default)]
pub struct Synced {
    /// Feedstock name → checkout.
    pub checkouts: BTreeMap<String, Checkout>,
    /// (feedstock, error) for those that failed.
    pub failures: Vec<(String, ForgeError)>,
    /// Checkout directories removed because the forge no longer lists them.
    pub removed: Vec<String>,
}

/// Brings `dir` in line with the forge: every listed feedstock checked out at its
/// default branch, and directories of feedstocks the forge no longer has removed (so the
/// next graph build marks them removed).
///
/// A spent rate limit stops the sync at the feedstock it met ([`Flow`]`::Break`, with
/// what was synced so far); nothing is removed then, since the listing may be partial.
pub fn sync_all(forge: &dyn Forge, dir: &Path) -> Result<(Synced, Flow), ForgeError> {
    fs_err::create_dir_all(dir).map_err(|e| ForgeError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut synced = Synced::default();
    let repos = match forge.list_feedstocks() {
        Ok(repos) => repos,
        Err(err) => match Stopped::from_forge(&err) {
            Some(stopped) => return Ok((synced, ControlFlow::Break(stopped))),
            None => return Err(err),
        },
    };
    for repo in repos {
        let path = dir.join(format!("{}-feedstock", repo.name));
        match forge.sync_checkout(&repo.name, &path) {
            Ok(base) => {
                synced
                    .checkouts
                    .insert(repo.name.clone(), Checkout { repo, path, base });
            }
            Err(err) => {
                if let Some(stopped) = Stopped::from_forge(&err) {
                    return Ok((synced, ControlFlow::Break(stopped)));
                }
                synced.failures.push((repo.name.clone(), err));
            }
        }
    }
    remove_unlisted(dir, &mut synced)?;
    Ok((synced, GO_ON))
}

/// Removes the checkouts of feedstocks the forge no longer lists (a failed sync keeps
/// its directory).
fn remove_unlisted(dir: &Path, synced: &mut Synced) -> Result<(), ForgeError> {
    let entries = fs_err::read_dir(dir).map_err(|e| ForgeError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(feedstock) = name.strip_suffix("-feedstock") else {
            continue;
        };
        let failed = synced.failures.iter().any(|(f, _)| f == feedstock);
        if !synced.checkouts.contains_key(feedstock) && !failed {
            fs_err::remove_dir_all(entry.path()).map_err(|e| ForgeError::Io {
                path: entry.path(),
                message: e.to_string(),
            })?;
            synced.removed.push(feedstock.to_string());
        }
    }
    Ok(())
}
