//! GitHub through its REST API: `Github` lists tags (`GET /repos/{o}/{r}/tags`,
//! following `Link: rel="next"` for a few pages), `GithubReleases` lists releases
//! (`GET /repos/{o}/{r}/releases`, drafts skipped). Pre-releases are judged by PEP 440
//! on the tag, not by GitHub's `prerelease` flag (reference §4.3, bot issue #2642).
//!
//! Both apply to recipe URLs on `github.com`. The token, when there is one, is added by
//! the HTTP layer for the API host only.

use serde::Deserialize;

use super::check::{Checker, Listing};
use super::error::SourceError;
use super::tags::{Dashes, TagFilter, tag_version, url_tag_prefix};

/// Tag pages read at most (100 tags each).
const MAX_TAG_PAGES: usize = 3;

#[derive(Deserialize)]
struct Tag {
    name: String,
}

#[derive(Deserialize)]
struct Release {
    tag_name: String,
    #[serde(default)]
    draft: bool,
}

/// `(owner, repo, url)` of the first recipe URL on github.com.
pub(crate) fn repository_of(urls: &[String]) -> Option<(String, String, &str)> {
    urls.iter().find_map(|url| {
        let rest = url.split_once("://")?.1;
        let (host, path) = rest.split_once('/')?;
        if !matches!(
            host.to_ascii_lowercase().as_str(),
            "github.com" | "www.github.com"
        ) {
            return None;
        }
        let mut segments = path.split('/');
        let owner = segments.next().filter(|s| !s.is_empty())?;
        let repo = segments.next().filter(|s| !s.is_empty())?;
        let repo = repo.strip_suffix(".git").unwrap_or(repo);
        Some((owner.to_string(), repo.to_string(), url.as_str()))
    })
}

/// Which GitHub listing to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GithubListing {
    /// `/tags`.
    Tags,
    /// `/releases`.
    Releases,
}

/// GitHub's answer, or `None` when no recipe URL is on github.com.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
    current: Option<&str>,
    filter: &TagFilter,
    which: GithubListing,
) -> Result<Option<Listing>, SourceError> {
    let Some((owner, repo, recipe_url)) = repository_of(urls) else {
        return Ok(None);
    };
    let prefix = current.and_then(|v| url_tag_prefix(recipe_url, v));
    let base = format!("{}/repos/{owner}/{repo}", checker.urls().github_api);
    let (url, tags) = match which {
        GithubListing::Tags => {
            let url = format!("{base}/tags?per_page=100");
            (url.clone(), tag_names(checker, url).await?)
        }
        GithubListing::Releases => {
            let url = format!("{base}/releases?per_page=100");
            let releases: Vec<Release> = checker.http().get_json(&url).await?;
            let tags = releases
                .into_iter()
                .filter(|r| !r.draft)
                .map(|r| r.tag_name)
                .collect();
            (url, tags)
        }
    };
    let versions = tags
        .iter()
        .filter_map(|tag| tag_version(tag, filter, prefix.as_deref(), Dashes::Keep))
        .collect();
    Ok(Some(Listing { versions, url }))
}

async fn tag_names(checker: &Checker, first: String) -> Result<Vec<String>, SourceError> {
    let mut names = Vec::new();
    let mut next = Some(first);
    for _ in 0..MAX_TAG_PAGES {
        let Some(url) = next.take() else { break };
        let page = checker.http().get(&url).await?;
        let tags: Vec<Tag> = serde_json::from_str(&page.body).map_err(|e| SourceError::Decode {
            url: super::error::Redacted::new(&url),
            message: e.to_string(),
        })?;
        names.extend(tags.into_iter().map(|t| t.name));
        next = page.next;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_is_read_from_the_first_github_url() {
        let urls = vec![
            "https://example.org/mirror/x.tar.gz".to_string(),
            "https://github.com/abseil/abseil-cpp/archive/refs/tags/20240722.0.tar.gz".to_string(),
        ];
        let (owner, repo, _) = repository_of(&urls).unwrap();
        assert_eq!((owner.as_str(), repo.as_str()), ("abseil", "abseil-cpp"));
        assert!(repository_of(&["https://gitlab.com/a/b".to_string()]).is_none());
    }
}
