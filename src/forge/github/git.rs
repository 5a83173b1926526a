//! PLACEHOLDER — being written (issue 7 helper "transport"). The git CLI transport.

use std::path::{Path, PathBuf};

use super::api::Api;
use super::config::GitHubConfig;
use crate::forge::{CommitSpec, ForgeError};

fn pending(what: &str) -> ForgeError {
    ForgeError::Api {
        context: what.to_owned(),
        status: None,
        message: "not built yet".to_owned(),
    }
}

pub(super) fn sync_checkout(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _dest: &Path,
) -> Result<String, ForgeError> {
    Err(pending("git sync_checkout"))
}
pub(super) fn push(
    _api: &Api,
    _config: &GitHubConfig,
    _git_dir: &Path,
    _feedstock: &str,
    _base: &str,
    _branch: &str,
    _commit: &CommitSpec,
) -> Result<String, ForgeError> {
    Err(pending("git push"))
}
pub(super) fn work_repo(git_dir: &Path, feedstock: &str) -> PathBuf {
    git_dir.join(format!("{feedstock}-feedstock.git"))
}
