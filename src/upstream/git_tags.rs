//! Tags of a git repository through `git ls-remote --tags` (the git command line, as
//! DESIGN prescribes for network git: libgit2 here is built without https).
//!
//! Applies to recipes with a `git_url` source. Peeled entries (`^{}`) are folded into
//! their tag; every tag goes through the allowlist and `-` → `.` (the bot's `GitTags`).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::check::Listing;
use super::error::{Redacted, SourceError};
use super::tags::{Dashes, TagFilter, tag_version};

/// The tags `git ls-remote --tags` prints, without `refs/tags/` and `^{}`, deduplicated
/// in order.
pub(crate) fn parse_ls_remote(output: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for line in output.lines() {
        let Some((_, reference)) = line.split_once('\t') else {
            continue;
        };
        let Some(tag) = reference.trim().strip_prefix("refs/tags/") else {
            continue;
        };
        let tag = tag.strip_suffix("^{}").unwrap_or(tag);
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// The repository's answer, or `None` when the recipe has no `git_url`.
pub(crate) async fn versions(
    git_urls: &[String],
    filter: &TagFilter,
    timeout: Duration,
) -> Result<Option<Listing>, SourceError> {
    let Some(url) = git_urls.first() else {
        return Ok(None);
    };
    let redacted = || Redacted::new(url);
    let child = Command::new("git")
        .args(["ls-remote", "--tags", "--", url])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| SourceError::SpawnGit {
            url: redacted(),
            source,
        })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return Err(SourceError::Git {
                url: redacted(),
                message: format!("no answer within {}s", timeout.as_secs_f32()),
            });
        }
        Ok(Err(source)) => {
            return Err(SourceError::SpawnGit {
                url: redacted(),
                source,
            });
        }
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed without a message")
            .trim()
            .to_string();
        return Err(SourceError::Git {
            url: redacted(),
            message,
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let versions = parse_ls_remote(&stdout)
        .iter()
        .filter_map(|tag| tag_version(tag, filter, None, Dashes::ToDots))
        .collect();
    Ok(Some(Listing {
        versions,
        url: url.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_remote_output_gives_each_tag_once() {
        let out = "a1\trefs/tags/libtirpc-1-3-6\na2\trefs/tags/libtirpc-1-3-6^{}\n\
                   b1\trefs/tags/v1.3.7\nc1\trefs/heads/main\n";
        assert_eq!(parse_ls_remote(out), ["libtirpc-1-3-6", "v1.3.7"]);
    }
}
