//! PLACEHOLDER — being written (issue 7 helper "crawl"). Listing and crawling the org.

use std::path::Path;

use serde::Serialize;

use super::api::Api;
use super::config::GitHubConfig;
use crate::forge::{FeedstockRepo, ForgeError};

/// What a crawl did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    /// Feedstocks listed.
    pub listed: usize,
}

fn pending(what: &str) -> ForgeError {
    ForgeError::Api {
        context: what.to_owned(),
        status: None,
        message: "not built yet".to_owned(),
    }
}

pub(super) fn list_feedstocks(
    _api: &Api,
    _config: &GitHubConfig,
) -> Result<Vec<FeedstockRepo>, ForgeError> {
    Err(pending("list_feedstocks"))
}
pub(super) fn crawl(
    _api: &Api,
    _config: &GitHubConfig,
    _dir: &Path,
) -> Result<CrawlSummary, ForgeError> {
    Err(pending("crawl"))
}
