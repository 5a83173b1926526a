//! PLACEHOLDER — being written (issue 7 helper "prs"). Forks and PRs over REST.

use super::api::Api;
use super::config::GitHubConfig;
use crate::forge::{ForgeError, NewPullRequest, PullRequest};

fn pending(what: &str) -> ForgeError {
    ForgeError::Api {
        context: what.to_owned(),
        status: None,
        message: "not built yet".to_owned(),
    }
}

pub(super) fn ensure_fork(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
) -> Result<(), ForgeError> {
    Err(pending("ensure_fork"))
}
pub(super) fn find_open_pr(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _branch: &str,
) -> Result<Option<PullRequest>, ForgeError> {
    Err(pending("find_open_pr"))
}
pub(super) fn open_pr(
    _api: &Api,
    _config: &GitHubConfig,
    _pr: &NewPullRequest,
) -> Result<PullRequest, ForgeError> {
    Err(pending("open_pr"))
}
pub(super) fn update_pr(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _number: u64,
    _title: &str,
    _body: &str,
) -> Result<PullRequest, ForgeError> {
    Err(pending("update_pr"))
}
pub(super) fn pr(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _number: u64,
) -> Result<PullRequest, ForgeError> {
    Err(pending("pr"))
}
pub(super) fn close_pr(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _number: u64,
) -> Result<PullRequest, ForgeError> {
    Err(pending("close_pr"))
}
pub(super) fn comment(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _number: u64,
    _body: &str,
) -> Result<(), ForgeError> {
    Err(pending("comment"))
}
pub(super) fn delete_branch(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _branch: &str,
) -> Result<(), ForgeError> {
    Err(pending("delete_branch"))
}
pub(super) fn add_labels(
    _api: &Api,
    _config: &GitHubConfig,
    _feedstock: &str,
    _number: u64,
    _labels: &[&str],
) -> Result<(), ForgeError> {
    Err(pending("add_labels"))
}
