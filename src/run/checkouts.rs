//! Working checkouts of every feedstock, kept equal to the forge's default branches: the
//! graph is crawled from them and migrators read their files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::forge::{FeedstockRepo, Forge, ForgeError};

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
pub fn sync_all(forge: &dyn Forge, dir: &Path) -> Result<Synced, ForgeError> {
    fs_err::create_dir_all(dir).map_err(|e| ForgeError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let repos = forge.list_feedstocks()?;
    let results: Vec<(FeedstockRepo, PathBuf, Result<String, ForgeError>)> = repos
        .into_iter()
        .map(|repo| {
            let path = dir.join(format!("{}-feedstock", repo.name));
            let base = forge.sync_checkout(&repo.name, &path);
            (repo, path, base)
        })
        .collect();
    let mut synced = Synced::default();
    for (repo, path, base) in results {
        match base {
            Ok(base) => {
                synced
                    .checkouts
                    .insert(repo.name.clone(), Checkout { repo, path, base });
            }
            Err(err) => synced.failures.push((repo.name.clone(), err)),
        }
    }
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
    Ok(synced)
}
