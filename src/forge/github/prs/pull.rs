//! One PR as the REST API describes it, and how it becomes the trait's [`PullRequest`]:
//! state from `merged_at`, GitHub's `mergeable_state` simplified, CI from the head commit
//! ([`ci`]), and — for conflicted PRs only — whether anyone but the bot committed.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::forge::github::api::Api;
use crate::forge::github::ci::{self, CommitHome};
use crate::forge::github::config::GitHubConfig;
use crate::forge::github::repo_name;
use crate::forge::{CiStatus, ForgeError, Mergeable, PrState, PullRequest};

use super::pull_path;

/// Accounts whose commits on a PR branch do not make it someone else's PR: the linter,
/// the admin web services, and `web-flow` (GitHub's committer for merges made in the
/// web UI, e.g. "Update branch"). The bot itself is added from the configuration.
const BOT_COMPANIONS: &[&str] = &["conda-forge-linter", "conda-forge-admin", "web-flow"];

/// A PR as the REST API returns it (`GET /pulls/{n}`, list items, create and update
/// answers), only the fields read: lean on purpose, so API drift and the emulator's
/// shapes do not break it.
#[derive(Debug, Deserialize)]
pub(super) struct RestPull {
    number: u64,
    /// `open` or `closed` (merged PRs are `closed` with `merged_at`).
    pub(super) state: String,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    pub(super) head: RestHead,
    base: RestHead,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    mergeable: Option<bool>,
    #[serde(default)]
    mergeable_state: Option<String>,
    #[serde(default)]
    labels: Vec<RestLabel>,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    closed_at: Option<String>,
}

/// `head` / `base` of a PR.
#[derive(Debug, Deserialize)]
pub(super) struct RestHead {
    #[serde(rename = "ref")]
    pub(super) name: String,
    #[serde(default)]
    sha: String,
    /// `owner:branch`.
    #[serde(default)]
    pub(super) label: Option<String>,
    /// Null when the fork was deleted.
    #[serde(default)]
    repo: Option<RestRepo>,
}

#[derive(Debug, Deserialize)]
struct RestRepo {
    full_name: String,
}

#[derive(Debug, Deserialize)]
struct RestLabel {
    name: String,
}

/// One item of `GET /pulls/{n}/commits`. `author`/`committer` are the GitHub accounts
/// (null, or `{}`, when the e-mail matches none); `commit.author` is the git identity.
#[derive(Debug, Deserialize)]
struct RestCommit {
    #[serde(default)]
    author: Option<Account>,
    #[serde(default)]
    committer: Option<Account>,
    commit: GitCommit,
}

#[derive(Debug, Deserialize)]
struct Account {
    #[serde(default)]
    login: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GitCommit {
    #[serde(default)]
    author: Option<GitIdentity>,
}

#[derive(Debug, Deserialize)]
struct GitIdentity {
    #[serde(default)]
    name: Option<String>,
}

/// Makes the trait's [`PullRequest`] of a REST PR: CI for open PRs (closed ones no longer
/// change), and — only for open, conflicted PRs, to save a request — whether anyone but
/// the bot committed to it.
pub(super) fn complete(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    raw: RestPull,
) -> Result<PullRequest, ForgeError> {
    let state = state_of(&raw);
    let mergeable = mergeable_of(state, raw.mergeable, raw.mergeable_state.as_deref());
    let context = format!("PR #{} on `{feedstock}`", raw.number);
    let ci = if state == PrState::Open && !raw.head.sha.is_empty() {
        let upstream = format!("{}/{}", config.org, repo_name(feedstock));
        let fork = raw
            .head
            .repo
            .as_ref()
            .map(|r| r.full_name.clone())
            .filter(|name| !name.eq_ignore_ascii_case(&upstream));
        let home = CommitHome {
            upstream: &upstream,
            fork: fork.as_deref(),
        };
        ci::status(api, home, &raw.head.sha)?
    } else {
        CiStatus::None
    };
    let other_committers = if state == PrState::Open && mergeable == Mergeable::Dirty {
        outside_commits(api, config, feedstock, raw.number)?
    } else {
        false
    };
    Ok(PullRequest {
        feedstock: feedstock.to_owned(),
        number: raw.number,
        head: raw.head.name,
        base: raw.base.name,
        title: raw.title.unwrap_or_default(),
        body: raw.body.unwrap_or_default(),
        state,
        draft: raw.draft.unwrap_or(false),
        labels: raw
            .labels
            .into_iter()
            .map(|l| l.name)
            .collect::<BTreeSet<_>>(),
        ci,
        mergeable,
        other_committers,
        head_sha: raw.head.sha,
        url: raw.html_url.unwrap_or_default(),
        created_at: unix_seconds(&context, &raw.created_at)?,
        updated_at: unix_seconds(&context, &raw.updated_at)?,
        closed_at: closed_at(&context, raw.closed_at.as_deref(), raw.merged_at.as_deref())?,
    })
}

/// Whether a commit of PR `number` was written by someone other than the bot and its
/// companions (the first 250 commits GitHub lists are plenty for a bot PR).
fn outside_commits(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
) -> Result<bool, ForgeError> {
    let path = format!(
        "{}/commits?per_page=100",
        pull_path(config, feedstock, number)
    );
    let commits: Vec<RestCommit> = api.get_all(&path)?;
    Ok(commits.iter().any(|commit| {
        let author = commit.author.as_ref().and_then(|a| a.login.as_deref());
        let name = commit
            .commit
            .author
            .as_ref()
            .and_then(|a| a.name.as_deref());
        let committer = commit.committer.as_ref().and_then(|c| c.login.as_deref());
        is_outside_commit(config, author, name, committer)
    }))
}

/// Whether one commit comes from outside: its author's login (or, with no account, its
/// git author name) or its committer's login is neither the bot nor a companion.
pub(in crate::forge::github) fn is_outside_commit(
    config: &GitHubConfig,
    author_login: Option<&str>,
    author_name: Option<&str>,
    committer_login: Option<&str>,
) -> bool {
    let ours = |who: &str| {
        who.eq_ignore_ascii_case(&config.bot_user)
            || BOT_COMPANIONS.iter().any(|c| who.eq_ignore_ascii_case(c))
    };
    let author = author_login.or(author_name).filter(|a| !a.is_empty());
    author.is_some_and(|a| !ours(a)) || committer_login.is_some_and(|c| !ours(c))
}

/// Merged when `merged_at` is set (`GET /pulls/{n}/merge` is not asked: one request less,
/// and the emulator lacks it), else `state`.
pub(super) fn state_of(raw: &RestPull) -> PrState {
    if raw.merged_at.is_some() {
        PrState::Merged
    } else if raw.state == "open" {
        PrState::Open
    } else {
        PrState::Closed
    }
}

/// GitHub's `mergeable_state` simplified: `dirty` conflicts; `clean`, `unstable` (CI
/// red), `blocked` (reviews), `behind` and `has_hooks` all merge without conflicts;
/// anything else (`unknown`, `draft`, not computed yet) is unknown — unless an open PR
/// says `mergeable: false`.
fn mergeable_of(
    state: PrState,
    mergeable: Option<bool>,
    mergeable_state: Option<&str>,
) -> Mergeable {
    match mergeable_state {
        Some("dirty") => Mergeable::Dirty,
        Some("clean" | "unstable" | "blocked" | "behind" | "has_hooks") => Mergeable::Clean,
        _ if state == PrState::Open && mergeable == Some(false) => Mergeable::Dirty,
        _ => Mergeable::Unknown,
    }
}

/// An RFC 3339 time (`2011-01-26T19:01:12Z`) in Unix seconds.
pub(in crate::forge::github) fn unix_seconds(context: &str, text: &str) -> Result<i64, ForgeError> {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| ForgeError::Api {
            context: context.to_owned(),
            status: None,
            message: format!("unexpected time `{text}`: {e}"),
        })
}

/// When a PR was closed: its `closed_at`, or failing that its `merged_at` (Unix seconds).
pub(in crate::forge::github) fn closed_at(
    context: &str,
    closed: Option<&str>,
    merged: Option<&str>,
) -> Result<Option<i64>, ForgeError> {
    closed
        .or(merged)
        .map(|at| unix_seconds(context, at))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mergeable_states_are_simplified_as_documented() {
        let open = PrState::Open;
        assert_eq!(
            mergeable_of(open, Some(false), Some("dirty")),
            Mergeable::Dirty
        );
        for clean in ["clean", "unstable", "blocked", "behind", "has_hooks"] {
            assert_eq!(
                mergeable_of(open, Some(true), Some(clean)),
                Mergeable::Clean,
                "{clean}"
            );
        }
        assert_eq!(
            mergeable_of(open, None, Some("unknown")),
            Mergeable::Unknown
        );
        assert_eq!(mergeable_of(open, None, None), Mergeable::Unknown);
        assert_eq!(
            mergeable_of(open, Some(false), Some("unknown")),
            Mergeable::Dirty
        );
        // A merged PR says `mergeable: false`; it conflicts with nothing.
        assert_eq!(
            mergeable_of(PrState::Merged, Some(false), Some("unknown")),
            Mergeable::Unknown
        );
    }

    #[test]
    fn commits_by_the_bot_and_its_companions_are_not_outside_commits() {
        let config = GitHubConfig::default();
        let outside = |a, n, c| is_outside_commit(&config, a, n, c);
        assert!(!outside(
            Some("regro-cf-autotick-bot"),
            None,
            Some("web-flow")
        ));
        assert!(!outside(Some("Regro-CF-Autotick-Bot"), None, None));
        assert!(!outside(
            Some("conda-forge-linter"),
            None,
            Some("conda-forge-linter")
        ));
        assert!(!outside(None, Some("regro-cf-autotick-bot"), None));
        assert!(!outside(None, None, None));
        assert!(outside(Some("jane"), None, Some("web-flow")));
        assert!(outside(Some("regro-cf-autotick-bot"), None, Some("jane")));
        assert!(outside(None, Some("Jane Maintainer"), None));
    }

    #[test]
    fn rfc3339_times_become_unix_seconds() {
        assert_eq!(
            unix_seconds("t", "2011-01-26T19:01:12Z").unwrap(),
            1_296_068_472
        );
        assert_eq!(
            unix_seconds("t", "2011-01-26T20:01:12+01:00").unwrap(),
            1_296_068_472
        );
        assert!(unix_seconds("t", "yesterday").is_err());
    }

    #[test]
    fn a_recorded_pull_request_parses_with_the_lean_model() {
        let body = r#"{"number":1347,"state":"closed","draft":false,"title":"t","body":null,
            "html_url":"https://github.com/octocat/Hello-World/pull/1347",
            "head":{"ref":"new-topic","sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e","label":"octocat:new-topic","repo":null},
            "base":{"ref":"master","sha":"6dcb09b5b57875f334f61aebed695e2e4193db5e"},
            "merged_at":"2011-01-26T19:01:12Z","labels":[{"name":"bug"}],
            "created_at":"2011-01-26T19:01:12Z","updated_at":"2011-01-26T19:01:12Z","closed_at":"2011-01-26T19:01:12Z"}"#;
        let raw: RestPull = serde_json::from_str(body).unwrap();
        assert_eq!(state_of(&raw), PrState::Merged);
        assert_eq!(raw.head.name, "new-topic");
        assert!(raw.head.repo.is_none());
    }
}
