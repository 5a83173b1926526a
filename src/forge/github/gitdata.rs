//! PLACEHOLDER — being written (issue 7 helper "transport"). The Git Data API transport.

use std::path::Path;

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
    Err(pending("api sync_checkout"))
}
pub(super) fn push(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _base: &str,
    _branch: &str,
    _commit: &CommitSpec,
) -> Result<String, ForgeError> {
    Err(pending("api push"))
}
pub(super) fn mirror(
    _api: &Api,
    _config: &GitHubConfig,
    _repo: &Path,
    _feedstock: &str,
    _sha: &str,
    _branch: &str,
) -> Result<(), ForgeError> {
    Err(pending("api mirror"))
}
