//! PLACEHOLDER — being written (issue 7 helper "prs"). PR refresh over GraphQL, 100 per request.

use super::api::Api;
use super::config::GitHubConfig;
use crate::forge::{ForgeError, PullRequest};

pub(super) fn prs(
    api: &Api,
    config: &GitHubConfig,
    refs: &[(String, u64)],
) -> Vec<Result<PullRequest, ForgeError>> {
    refs.iter()
        .map(|(f, n)| super::prs::pr(api, config, f, *n))
        .collect()
}
