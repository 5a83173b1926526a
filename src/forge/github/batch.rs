//! Refreshing many PRs at once: one GraphQL request per 100 PRs instead of three REST
//! requests per PR, so refreshing every PR the bot tracks costs a handful of requests.
//!
//! Each PR is one aliased `repository { pullRequest }` selection whose owner, name and
//! number are GraphQL variables (never spliced into the query text). A null repository
//! means [`ForgeError::NoSuchFeedstock`], a null PR [`ForgeError::NoSuchPr`], for that PR
//! alone. When GraphQL itself is unavailable (a server without `/graphql`, a 5xx after
//! retries), the PRs are asked over REST one by one instead ([`super::prs::pr`]); when
//! GitHub says stop (a spent limit, refused credentials), every PR not yet answered gets
//! that error and nothing more is sent.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::api::Api;
use super::config::GitHubConfig;
use super::prs::{self, closed_at, is_outside_commit, unix_seconds};
use super::repo_name;
use crate::forge::{CiStatus, ForgeError, Mergeable, PrState, PullRequest};

/// PRs per GraphQL request (GitHub allows 100 nodes per connection, and this keeps a
/// query's cost at a few points).
const CHUNK: usize = 100;

/// The fields read of each PR. `last` carries the head commit's CI roll-up; `all` the
/// authors of the first 100 commits (for "did anyone but the bot commit", needed when a
/// PR conflicts; cheap to fetch always).
const PR_FRAGMENT: &str = "fragment pr on PullRequest { number state isDraft title body url \
headRefName baseRefName headRefOid mergeable createdAt updatedAt closedAt mergedAt \
labels(first: 50) { nodes { name } } \
last: commits(last: 1) { nodes { commit { statusCheckRollup { state } } } } \
all: commits(first: 100) { nodes { commit { author { name user { login } } committer { user { login } } } } } }";

/// A PR as the query above returns it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlPull {
    number: u64,
    /// `OPEN`, `CLOSED` or `MERGED`.
    state: String,
    #[serde(default)]
    is_draft: bool,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    url: String,
    head_ref_name: String,
    base_ref_name: String,
    #[serde(default)]
    head_ref_oid: String,
    /// `MERGEABLE`, `CONFLICTING` or `UNKNOWN`.
    #[serde(default)]
    mergeable: String,
    created_at: String,
    updated_at: String,
    #[serde(default)]
    closed_at: Option<String>,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    labels: Option<Nodes<GqlLabel>>,
    #[serde(default)]
    last: Option<Nodes<GqlCommitNode>>,
    #[serde(default)]
    all: Option<Nodes<GqlCommitNode>>,
}

/// A connection's `nodes` (GraphQL lists may hold nulls).
#[derive(Debug, Deserialize)]
struct Nodes<T> {
    #[serde(default = "Vec::new")]
    nodes: Vec<Option<T>>,
}

impl<T> Nodes<T> {
    fn iter(&self) -> impl Iterator<Item = &T> {
        self.nodes.iter().flatten()
    }
}

#[derive(Debug, Deserialize)]
struct GqlLabel {
    name: String,
}

#[derive(Debug, Deserialize)]
struct GqlCommitNode {
    commit: GqlCommit,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GqlCommit {
    #[serde(default)]
    status_check_rollup: Option<GqlRollup>,
    #[serde(default)]
    author: Option<GqlActor>,
    #[serde(default)]
    committer: Option<GqlActor>,
}

#[derive(Debug, Deserialize)]
struct GqlRollup {
    /// `SUCCESS`, `FAILURE`, `ERROR`, `PENDING` or `EXPECTED`.
    state: String,
}

/// A git identity and the account it maps to.
#[derive(Debug, Deserialize)]
struct GqlActor {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    user: Option<GqlUser>,
}

#[derive(Debug, Deserialize)]
struct GqlUser {
    login: String,
}

/// The state of every PR in `refs`, one result each, in order.
pub(super) fn prs(
    api: &Api,
    config: &GitHubConfig,
    refs: &[(String, u64)],
) -> Vec<Result<PullRequest, ForgeError>> {
    let mut results = Vec::with_capacity(refs.len());
    let mut graphql = true;
    let mut stopped: Option<ForgeError> = None;
    for chunk in refs.chunks(CHUNK) {
        if stopped.is_none() && graphql {
            match ask(api, config, chunk) {
                Ok(answers) => {
                    results.extend(answers);
                    continue;
                }
                Err(err) if halts(&err) => stopped = Some(err),
                Err(err) => {
                    tracing::warn!(%err, "GraphQL unavailable; refreshing PRs over REST");
                    graphql = false;
                }
            }
        }
        for (feedstock, number) in chunk {
            if let Some(err) = &stopped {
                results.push(Err(again(err)));
                continue;
            }
            let answer = prs::pr(api, config, feedstock, *number);
            if let Err(err) = &answer
                && halts(err)
            {
                stopped = Some(again(err));
            }
            results.push(answer);
        }
    }
    results
}

/// Errors after which asking about more PRs is pointless: the run must stop (a spent
/// limit), or every request would be refused the same way (credentials).
fn halts(err: &ForgeError) -> bool {
    err.stops_run() || matches!(err, ForgeError::Auth(_))
}

/// The same error again, for each PR it kept from being asked about.
fn again(err: &ForgeError) -> ForgeError {
    match err {
        ForgeError::RateLimited { message, resets_at } => ForgeError::RateLimited {
            message: message.clone(),
            resets_at: *resets_at,
        },
        ForgeError::Auth(message) => ForgeError::Auth(message.clone()),
        other => ForgeError::Api {
            context: "refresh PRs".to_owned(),
            status: None,
            message: other.to_string(),
        },
    }
}

/// One GraphQL request for up to [`CHUNK`] PRs. `Err` when the request as a whole failed.
fn ask(
    api: &Api,
    config: &GitHubConfig,
    chunk: &[(String, u64)],
) -> Result<Vec<Result<PullRequest, ForgeError>>, ForgeError> {
    let (query, variables) = query(&config.org, chunk);
    let data = api.graphql(&query, Value::Object(variables))?;
    Ok(chunk
        .iter()
        .enumerate()
        .map(|(i, (feedstock, number))| {
            answer(config, &data, i, feedstock, *number).map_err(|err| api.scrub_error(err))
        })
        .collect())
}

/// The query and its variables: `$o<i>`, `$n<i>`, `$k<i>` for the i-th PR. A number too
/// large for GraphQL's `Int` is asked as 0 (no such PR).
fn query(org: &str, chunk: &[(String, u64)]) -> (String, Map<String, Value>) {
    let mut declarations = Vec::with_capacity(chunk.len());
    let mut selections = String::new();
    let mut variables = Map::new();
    for (i, (feedstock, number)) in chunk.iter().enumerate() {
        declarations.push(format!("$o{i}: String!, $n{i}: String!, $k{i}: Int!"));
        selections.push_str(&format!(
            "  p{i}: repository(owner: $o{i}, name: $n{i}) {{ pullRequest(number: $k{i}) {{ ...pr }} }}\n"
        ));
        variables.insert(format!("o{i}"), Value::from(org));
        variables.insert(format!("n{i}"), Value::from(repo_name(feedstock)));
        variables.insert(
            format!("k{i}"),
            Value::from(i32::try_from(*number).unwrap_or(0)),
        );
    }
    let query = format!(
        "query ({}) {{\n{selections}}}\n{PR_FRAGMENT}",
        declarations.join(", ")
    );
    (query, variables)
}

/// The i-th PR's answer in `data`.
fn answer(
    config: &GitHubConfig,
    data: &Value,
    i: usize,
    feedstock: &str,
    number: u64,
) -> Result<PullRequest, ForgeError> {
    let repository = data.get(format!("p{i}")).filter(|r| !r.is_null());
    let Some(repository) = repository else {
        return Err(ForgeError::NoSuchFeedstock(feedstock.to_owned()));
    };
    let node = repository.get("pullRequest").filter(|p| !p.is_null());
    let Some(node) = node else {
        return Err(ForgeError::NoSuchPr {
            feedstock: feedstock.to_owned(),
            number,
        });
    };
    let raw: GqlPull = serde_json::from_value(node.clone()).map_err(|e| ForgeError::Api {
        context: format!("POST /graphql (PR #{number} on `{feedstock}`)"),
        status: None,
        message: format!("unexpected answer: {e}"),
    })?;
    convert(config, feedstock, raw)
}

/// The trait's [`PullRequest`] of a GraphQL PR.
fn convert(
    config: &GitHubConfig,
    feedstock: &str,
    raw: GqlPull,
) -> Result<PullRequest, ForgeError> {
    let context = format!("PR #{} on `{feedstock}`", raw.number);
    let state = match raw.state.as_str() {
        "OPEN" => PrState::Open,
        "MERGED" => PrState::Merged,
        _ if raw.merged_at.is_some() => PrState::Merged,
        _ => PrState::Closed,
    };
    let mergeable = match raw.mergeable.as_str() {
        "CONFLICTING" => Mergeable::Dirty,
        "MERGEABLE" => Mergeable::Clean,
        _ => Mergeable::Unknown,
    };
    let rollup = raw
        .last
        .as_ref()
        .and_then(|last| last.iter().last())
        .and_then(|node| node.commit.status_check_rollup.as_ref());
    let ci = match rollup.map(|r| r.state.as_str()) {
        Some("SUCCESS") => CiStatus::Passing,
        Some("FAILURE" | "ERROR") => CiStatus::Failing,
        Some("PENDING" | "EXPECTED") => CiStatus::Pending,
        _ => CiStatus::None,
    };
    let other_committers = mergeable == Mergeable::Dirty
        && raw.all.as_ref().is_some_and(|all| {
            all.iter().any(|node| {
                let author = node.commit.author.as_ref();
                let login = author
                    .and_then(|a| a.user.as_ref())
                    .map(|u| u.login.as_str());
                let name = author.and_then(|a| a.name.as_deref());
                let committer = node
                    .commit
                    .committer
                    .as_ref()
                    .and_then(|c| c.user.as_ref())
                    .map(|u| u.login.as_str());
                is_outside_commit(config, login, name, committer)
            })
        });
    let labels: BTreeSet<String> = raw
        .labels
        .as_ref()
        .map(|labels| labels.iter().map(|l| l.name.clone()).collect())
        .unwrap_or_default();
    Ok(PullRequest {
        feedstock: feedstock.to_owned(),
        number: raw.number,
        head: raw.head_ref_name,
        base: raw.base_ref_name,
        title: raw.title,
        body: raw.body,
        state,
        draft: raw.is_draft,
        labels,
        ci,
        mergeable,
        other_committers,
        head_sha: raw.head_ref_oid,
        url: raw.url,
        created_at: unix_seconds(&context, &raw.created_at)?,
        updated_at: unix_seconds(&context, &raw.updated_at)?,
        closed_at: closed_at(&context, raw.closed_at.as_deref(), raw.merged_at.as_deref())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(names: &[(&str, u64)]) -> Vec<(String, u64)> {
        names.iter().map(|(f, n)| ((*f).to_owned(), *n)).collect()
    }

    #[test]
    fn names_travel_as_variables_never_in_the_query_text() {
        let chunk = refs(&[("zlib", 12), ("evil\") { x } #", 3)]);
        let (query, variables) = query("conda-forge", &chunk);
        assert!(!query.contains("zlib"), "{query}");
        assert!(!query.contains("evil"), "{query}");
        assert!(query.contains("p1: repository(owner: $o1, name: $n1) { pullRequest(number: $k1)"));
        assert!(query.starts_with("query ($o0: String!, $n0: String!, $k0: Int!, $o1: String!"));
        assert_eq!(variables["n0"], "zlib-feedstock");
        assert_eq!(variables["n1"], "evil\") { x } #-feedstock");
        assert_eq!(variables["o1"], "conda-forge");
        assert_eq!(variables["k0"], 12);
    }

    #[test]
    fn a_number_beyond_graphql_int_is_asked_as_zero() {
        let (_, variables) = query("o", &refs(&[("zlib", u64::MAX)]));
        assert_eq!(variables["k0"], 0);
    }

    fn node(extra: Value) -> Value {
        let mut node = serde_json::json!({
            "number": 7, "state": "OPEN", "isDraft": false, "title": "t", "body": "b",
            "url": "https://github.com/conda-forge/zlib-feedstock/pull/7",
            "headRefName": "br", "baseRefName": "main", "headRefOid": "abc",
            "mergeable": "MERGEABLE", "createdAt": "2024-01-01T00:00:00Z",
            "updatedAt": "2024-01-02T00:00:00Z", "closedAt": null, "mergedAt": null,
            "labels": {"nodes": [{"name": "bot-rerun"}, null]},
            "last": {"nodes": [{"commit": {"statusCheckRollup": {"state": "SUCCESS"}}}]},
            "all": {"nodes": [{"commit": {"author": {"name": "regro-cf-autotick-bot", "user": null}, "committer": {"user": {"login": "web-flow"}}}}]}
        });
        for (k, v) in extra.as_object().unwrap() {
            node[k] = v.clone();
        }
        node
    }

    fn converted(extra: Value) -> PullRequest {
        let raw: GqlPull = serde_json::from_value(node(extra)).unwrap();
        convert(&GitHubConfig::default(), "zlib", raw).unwrap()
    }

    #[test]
    fn an_open_green_pr_converts_field_by_field() {
        let pr = converted(serde_json::json!({}));
        assert_eq!(pr.state, PrState::Open);
        assert_eq!(pr.ci, CiStatus::Passing);
        assert_eq!(pr.mergeable, Mergeable::Clean);
        assert!(pr.labels.contains("bot-rerun"));
        assert_eq!(pr.created_at, 1_704_067_200);
        assert_eq!(pr.closed_at, None);
        assert!(!pr.other_committers);
    }

    #[test]
    fn rollup_states_map_to_ci_statuses() {
        for (state, want) in [
            ("FAILURE", CiStatus::Failing),
            ("ERROR", CiStatus::Failing),
            ("PENDING", CiStatus::Pending),
            ("EXPECTED", CiStatus::Pending),
        ] {
            let last =
                serde_json::json!({"nodes": [{"commit": {"statusCheckRollup": {"state": state}}}]});
            assert_eq!(
                converted(serde_json::json!({ "last": last })).ci,
                want,
                "{state}"
            );
        }
        let none = serde_json::json!({"nodes": [{"commit": {"statusCheckRollup": null}}]});
        assert_eq!(
            converted(serde_json::json!({ "last": none })).ci,
            CiStatus::None
        );
    }

    #[test]
    fn a_conflicting_pr_counts_commits_by_others() {
        let mine = converted(serde_json::json!({"mergeable": "CONFLICTING"}));
        assert_eq!(mine.mergeable, Mergeable::Dirty);
        assert!(!mine.other_committers);
        let all = serde_json::json!({"nodes": [
            {"commit": {"author": {"name": "x", "user": {"login": "regro-cf-autotick-bot"}}, "committer": {"user": null}}},
            {"commit": {"author": {"name": "Jane", "user": null}, "committer": {"user": {"login": "web-flow"}}}}
        ]});
        let theirs = converted(serde_json::json!({"mergeable": "CONFLICTING", "all": all}));
        assert!(theirs.other_committers);
    }

    #[test]
    fn merged_and_closed_prs_carry_their_closing_time() {
        let merged = converted(serde_json::json!({
            "state": "MERGED", "mergedAt": "2024-01-03T00:00:00Z", "closedAt": "2024-01-03T00:00:00Z"
        }));
        assert_eq!(merged.state, PrState::Merged);
        assert_eq!(merged.closed_at, Some(1_704_240_000));
        let closed =
            converted(serde_json::json!({"state": "CLOSED", "closedAt": "2024-01-03T00:00:00Z"}));
        assert_eq!(closed.state, PrState::Closed);
    }

    #[test]
    fn null_repositories_and_prs_are_reported_per_pr() {
        let data = serde_json::json!({"p0": null, "p1": {"pullRequest": null}, "p2": {"pullRequest": node(serde_json::json!({}))}});
        let config = GitHubConfig::default();
        assert!(matches!(
            answer(&config, &data, 0, "gone", 1),
            Err(ForgeError::NoSuchFeedstock(name)) if name == "gone"
        ));
        assert!(matches!(
            answer(&config, &data, 1, "zlib", 2),
            Err(ForgeError::NoSuchPr { number: 2, .. })
        ));
        assert_eq!(answer(&config, &data, 2, "zlib", 7).unwrap().number, 7);
    }
}
