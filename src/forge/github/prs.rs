//! Forks and PRs over REST: make sure the bot's fork exists, find, open, update, close,
//! comment on and label PRs, and read one PR's state.
//!
//! Every call matches the local forge's semantics (`forge/local`), so the run loop cannot
//! tell them apart: opening is idempotent (an open PR with the same head is returned, and
//! GitHub's 422 "already exists" is treated as found), closing a closed PR is a no-op,
//! deleting a missing branch is fine. Reads are conditional GETs through [`Api::get`];
//! after a change, the cached answers it made stale are dropped.
//!
//! How a REST PR becomes the trait's [`PullRequest`] is in [`pull`].
//!
//! Not done here: syncing an existing fork's default branch. The run loop pushes branches
//! made on upstream's base commit, so a stale fork default branch changes nothing.

mod pull;

use std::time::Duration;

use http::Method;
use serde::Deserialize;
use serde_json::json;

use super::api::{Api, Reply, encode, encode_path};
use super::config::GitHubConfig;
use super::repo_name;
use crate::forge::{ForgeError, NewPullRequest, PrState, PullRequest};
use pull::{RestPull, complete, state_of};
pub(super) use pull::{closed_at, is_outside_commit, unix_seconds};

/// Waits between checks for a fork GitHub is still creating (it does so asynchronously).
const FORK_POLLS_MS: &[u64] = &[250, 500, 1000, 2000, 4000, 8000];

/// A repository as `GET /repos/{owner}/{repo}` returns it, the fields read.
#[derive(Debug, Deserialize)]
struct RestRepository {
    #[serde(default)]
    fork: bool,
}

/// Creates the bot's fork of the feedstock when it has none, and waits until GitHub
/// answers for it.
pub(super) fn ensure_fork(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
) -> Result<(), ForgeError> {
    let fork = repo_path(&config.bot_user, feedstock);
    if fork_exists(api, config, feedstock, &fork)? {
        return Ok(());
    }
    let upstream = repo_path(&config.org, feedstock);
    let reply = api.send(Method::POST, &format!("{upstream}/forks"), Some(&json!({})))?;
    match reply.status {
        200..=299 => {}
        404 => return Err(ForgeError::NoSuchFeedstock(feedstock.to_owned())),
        _ => return Err(refusal(&reply, feedstock)),
    }
    api.invalidate(&fork)?;
    for wait in FORK_POLLS_MS {
        if fork_exists(api, config, feedstock, &fork)? {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(*wait));
    }
    if fork_exists(api, config, feedstock, &fork)? {
        return Ok(());
    }
    Err(ForgeError::Api {
        context: format!("POST {upstream}/forks"),
        status: Some(reply.status),
        message: format!(
            "GitHub accepted the fork but `{}/{}` did not appear within {} s",
            config.bot_user,
            repo_name(feedstock),
            FORK_POLLS_MS.iter().sum::<u64>() / 1000
        ),
    })
}

/// Whether the bot's repository of that name exists; an existing repository that is no
/// fork is refused (a PR from it could not target upstream).
fn fork_exists(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    fork: &str,
) -> Result<bool, ForgeError> {
    let reply = api.get(fork)?;
    if reply.status == 404 {
        return Ok(false);
    }
    let repository: RestRepository = reply.json()?;
    if !repository.fork {
        return Err(ForgeError::Invalid {
            what: format!("repository `{}/{}`", config.bot_user, repo_name(feedstock)),
            reason: format!(
                "it exists but is not a fork of `{}/{}`",
                config.org,
                repo_name(feedstock)
            ),
        });
    }
    Ok(true)
}

/// The open PR from the bot's `branch` on this feedstock.
pub(super) fn find_open_pr(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    branch: &str,
) -> Result<Option<PullRequest>, ForgeError> {
    let reply = api.get(&open_list_path(config, feedstock, branch))?;
    if reply.status == 404 {
        return Err(ForgeError::NoSuchFeedstock(feedstock.to_owned()));
    }
    let list: Vec<RestPull> = reply.json()?;
    let head_label = format!("{}:{branch}", config.bot_user);
    let found = list.into_iter().find(|pr| {
        pr.state == "open"
            && pr.head.name == branch
            && pr
                .head
                .label
                .as_deref()
                .is_none_or(|label| label.eq_ignore_ascii_case(&head_label))
    });
    found
        .map(|raw| complete(api, config, feedstock, raw))
        .transpose()
}

/// Opens a PR from the bot's fork, or returns the open one with the same head.
pub(super) fn open_pr(
    api: &Api,
    config: &GitHubConfig,
    pr: &NewPullRequest,
) -> Result<PullRequest, ForgeError> {
    if let Some(existing) = find_open_pr(api, config, &pr.feedstock, &pr.head)? {
        return Ok(existing);
    }
    let body = json!({
        "title": pr.title,
        "body": pr.body,
        "head": format!("{}:{}", config.bot_user, pr.head),
        "base": pr.base,
        "maintainer_can_modify": true,
    });
    let path = format!("{}/pulls", repo_path(&config.org, &pr.feedstock));
    let reply = api.send(Method::POST, &path, Some(&body))?;
    api.invalidate(&open_list_path(config, &pr.feedstock, &pr.head))?;
    match reply.status {
        200..=299 => {
            let raw: RestPull = reply.json()?;
            complete(api, config, &pr.feedstock, raw)
        }
        404 => Err(ForgeError::NoSuchFeedstock(pr.feedstock.clone())),
        422 if reply.message().contains("already exists") => {
            // Someone (an earlier, killed run) opened it between the look-up and now.
            find_open_pr(api, config, &pr.feedstock, &pr.head)?.ok_or_else(|| reply.error())
        }
        _ => Err(refusal(&reply, &pr.feedstock)),
    }
}

/// Replaces the title and body of an open PR.
pub(super) fn update_pr(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
    title: &str,
    body: &str,
) -> Result<PullRequest, ForgeError> {
    let current = fetch(api, config, feedstock, number)?;
    let state = state_of(&current);
    if state != PrState::Open {
        return Err(ForgeError::NotOpen {
            feedstock: feedstock.to_owned(),
            number,
            state,
        });
    }
    let path = pull_path(config, feedstock, number);
    let change = json!({ "title": title, "body": body });
    let reply = api.send(Method::PATCH, &path, Some(&change))?;
    api.invalidate(&path)?;
    let raw = changed(&reply, feedstock, number)?;
    complete(api, config, feedstock, raw)
}

/// The state of PR `number`.
pub(super) fn pr(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
) -> Result<PullRequest, ForgeError> {
    let raw = fetch(api, config, feedstock, number)?;
    complete(api, config, feedstock, raw)
}

/// Closes an open PR; a closed or merged one is returned as it is.
pub(super) fn close_pr(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
) -> Result<PullRequest, ForgeError> {
    let current = fetch(api, config, feedstock, number)?;
    if state_of(&current) != PrState::Open {
        return complete(api, config, feedstock, current);
    }
    let path = pull_path(config, feedstock, number);
    let reply = api.send(Method::PATCH, &path, Some(&json!({ "state": "closed" })))?;
    api.invalidate(&path)?;
    api.invalidate(&open_list_path(config, feedstock, &current.head.name))?;
    let raw = changed(&reply, feedstock, number)?;
    complete(api, config, feedstock, raw)
}

/// Comments on PR `number` (PRs are issues for comments and labels).
pub(super) fn comment(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
    body: &str,
) -> Result<(), ForgeError> {
    let path = format!("{}/comments", issue_path(config, feedstock, number));
    let reply = api.send(Method::POST, &path, Some(&json!({ "body": body })))?;
    changed_any(&reply, feedstock, number)
}

/// Deletes the bot's fork branch; a branch (or fork) already gone is fine.
pub(super) fn delete_branch(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    branch: &str,
) -> Result<(), ForgeError> {
    let path = format!(
        "{}/git/refs/heads/{}",
        repo_path(&config.bot_user, feedstock),
        encode_path(branch)
    );
    let reply = api.send(Method::DELETE, &path, None)?;
    match reply.status {
        200..=299 | 404 | 422 => Ok(()),
        _ => Err(refusal(&reply, feedstock)),
    }
}

/// Adds labels to PR `number`.
pub(super) fn add_labels(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
    labels: &[&str],
) -> Result<(), ForgeError> {
    if let Some(bad) = labels.iter().find(|l| l.trim().is_empty()) {
        return Err(ForgeError::Invalid {
            what: format!("label `{bad}` for PR #{number} on `{feedstock}`"),
            reason: "a label needs a name".to_owned(),
        });
    }
    if labels.is_empty() {
        return Ok(());
    }
    let path = format!("{}/labels", issue_path(config, feedstock, number));
    let reply = api.send(Method::POST, &path, Some(&json!({ "labels": labels })))?;
    api.invalidate(&pull_path(config, feedstock, number))?;
    changed_any(&reply, feedstock, number)
}

/// `GET /pulls/{n}`: the raw PR, or [`ForgeError::NoSuchPr`].
fn fetch(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    number: u64,
) -> Result<RestPull, ForgeError> {
    let reply = api.get(&pull_path(config, feedstock, number))?;
    if reply.status == 404 {
        return Err(no_such_pr(feedstock, number));
    }
    reply.json()
}

/// The answer to a PATCH of a PR.
fn changed(reply: &Reply, feedstock: &str, number: u64) -> Result<RestPull, ForgeError> {
    if reply.status == 404 {
        return Err(no_such_pr(feedstock, number));
    }
    if !reply.is_success() {
        return Err(refusal(reply, feedstock));
    }
    reply.json()
}

/// The answer to a comment or label request, whose body is not needed.
fn changed_any(reply: &Reply, feedstock: &str, number: u64) -> Result<(), ForgeError> {
    match reply.status {
        200..=299 => Ok(()),
        404 => Err(no_such_pr(feedstock, number)),
        _ => Err(refusal(reply, feedstock)),
    }
}

/// A refused change: [`ForgeError::Archived`] for GitHub's "Repository was archived so is
/// read-only.", otherwise [`failure`].
fn refusal(reply: &Reply, feedstock: &str) -> ForgeError {
    if matches!(reply.status, 403 | 422)
        && reply.message().to_ascii_lowercase().contains("archived")
    {
        return ForgeError::Archived(repo_name(feedstock));
    }
    reply.error()
}

fn no_such_pr(feedstock: &str, number: u64) -> ForgeError {
    ForgeError::NoSuchPr {
        feedstock: feedstock.to_owned(),
        number,
    }
}

/// `/repos/{owner}/{name}-feedstock`.
fn repo_path(owner: &str, feedstock: &str) -> String {
    format!("/repos/{}/{}", encode(owner), encode(&repo_name(feedstock)))
}

/// `/repos/{org}/{name}-feedstock/pulls/{n}`.
pub(super) fn pull_path(config: &GitHubConfig, feedstock: &str, number: u64) -> String {
    format!("{}/pulls/{number}", repo_path(&config.org, feedstock))
}

/// `/repos/{org}/{name}-feedstock/issues/{n}`.
fn issue_path(config: &GitHubConfig, feedstock: &str, number: u64) -> String {
    format!("{}/issues/{number}", repo_path(&config.org, feedstock))
}

/// The list of open PRs whose head is the bot's `branch`.
fn open_list_path(config: &GitHubConfig, feedstock: &str, branch: &str) -> String {
    format!(
        "{}/pulls?state=open&head={}&per_page=100",
        repo_path(&config.org, feedstock),
        encode(&format!("{}:{branch}", config.bot_user))
    )
}
