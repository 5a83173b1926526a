//! The JSON files conda-forge's status page reads (reference §6.3, §6.4), so a site
//! cascade writes can replace cf-scripts' `status/` directory as a data source:
//! `migration_json/<name>.json`, `regular_status.json`, `longterm_status.json`,
//! `paused_status.json`, `total_status.json`, `closed_status.json` and
//! `version_status.json`. Their schemas are in `tests/fixtures/status/`.
//!
//! cascade's states map onto the six arrays as [`CfState::of`] documents. Where
//! cf-scripts fills a field from GitHub's PR JSON, cascade uses its PR snapshot:
//! `pr_status` is GitHub's `mergeable_state` vocabulary (`clean`, `dirty` for
//! conflicts, `unstable` for failing CI, `draft`, `unknown`; empty without a PR).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::graph::{SnapshotCi, SnapshotMergeable};
use crate::status::model::{Bucket, MigrationStatus, NodeStatus, StatusReport};

use super::cf_state::CfState;
use super::dates;
use super::escape::xml;

/// `migration_json/<name>.json`.
#[derive(Debug, Serialize)]
pub(crate) struct MigrationJson<'a> {
    done: Vec<&'a str>,
    #[serde(rename = "in-pr")]
    in_pr: Vec<&'a str>,
    #[serde(rename = "awaiting-pr")]
    awaiting_pr: Vec<&'a str>,
    #[serde(rename = "not-solvable")]
    not_solvable: Vec<&'a str>,
    #[serde(rename = "awaiting-parents")]
    awaiting_parents: Vec<&'a str>,
    #[serde(rename = "bot-error")]
    bot_error: Vec<&'a str>,
    #[serde(rename = "_feedstock_status")]
    feedstock_status: BTreeMap<&'a str, FeedstockJson<'a>>,
}

/// One entry of `_feedstock_status`.
#[derive(Debug, Serialize)]
struct FeedstockJson<'a> {
    num_descendants: u32,
    immediate_children: Vec<&'a str>,
    pre_pr_migrator_status: String,
    pr_url: String,
    pr_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

/// `version_status.json`: `{queued, errored, errors}`.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionStatusJson {
    /// Feedstocks with a new version and no failed attempt yet.
    pub queued: Vec<String>,
    /// Feedstocks whose version update failed.
    pub errored: Vec<String>,
    /// The error per errored feedstock.
    pub errors: BTreeMap<String, String>,
}

/// Builds `migration_json/<name>.json` for one migration. The arrays keep the model's
/// topological order (roots first; a cycle's members by name), which is the order
/// cf-scripts sorts them in.
pub(crate) fn migration_json<'a>(
    migration: &'a MigrationStatus,
    feedstock_url_base: &str,
) -> MigrationJson<'a> {
    let mut json = MigrationJson {
        done: Vec::new(),
        in_pr: Vec::new(),
        awaiting_pr: Vec::new(),
        not_solvable: Vec::new(),
        awaiting_parents: Vec::new(),
        bot_error: Vec::new(),
        feedstock_status: BTreeMap::new(),
    };
    for node in &migration.nodes {
        let Some(state) = CfState::of(node.state) else {
            continue;
        };
        let name = node.feedstock.as_str();
        match state {
            CfState::Done => json.done.push(name),
            CfState::InPr => json.in_pr.push(name),
            CfState::AwaitingPr => json.awaiting_pr.push(name),
            CfState::NotSolvable => json.not_solvable.push(name),
            CfState::AwaitingParents => json.awaiting_parents.push(name),
            CfState::BotError => json.bot_error.push(name),
        }
        json.feedstock_status
            .insert(name, feedstock_json(node, state, feedstock_url_base));
    }
    json
}

fn feedstock_json<'a>(
    node: &'a NodeStatus,
    state: CfState,
    feedstock_url_base: &str,
) -> FeedstockJson<'a> {
    let mut children: Vec<&str> = node.children.iter().map(String::as_str).collect();
    children.sort_unstable();
    children.dedup();
    // cf-scripts puts the error (as HTML) here for the two error states only.
    let pre_pr_migrator_status = match state {
        CfState::BotError | CfState::NotSolvable => {
            let message = node.last_error.as_deref().unwrap_or(&node.reason.text);
            xml(message).into_owned()
        }
        _ => String::new(),
    };
    let pr = node.pr.as_ref();
    let pr_url = pr
        .map(|pr| pr.url.clone())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| format!("{feedstock_url_base}{}-feedstock", node.feedstock));
    let pr_status = match pr {
        None => "",
        Some(pr) if pr.draft => "draft",
        Some(pr) => match (pr.mergeable, pr.ci) {
            (Some(SnapshotMergeable::Conflicts), _) => "dirty",
            (_, Some(SnapshotCi::Failing)) => "unstable",
            (Some(SnapshotMergeable::Clean), _) => "clean",
            _ => "unknown",
        },
    };
    FeedstockJson {
        num_descendants: node.num_descendants,
        immediate_children: children,
        pre_pr_migrator_status,
        pr_url,
        pr_status,
        created_at: pr.and_then(|pr| pr.created_at).and_then(dates::iso),
        updated_at: pr.and_then(|pr| pr.updated_at).and_then(dates::iso),
    }
}

/// `regular_status.json`, `longterm_status.json`, `paused_status.json` and their
/// union `total_status.json`: report name → `"<name> Migration Status"`.
pub(crate) fn bucket_json(report: &StatusReport, bucket: Option<Bucket>) -> BTreeMap<&str, String> {
    report
        .migrations
        .iter()
        .filter(|m| bucket.is_none_or(|b| m.bucket == b))
        .map(|m| (m.name.as_str(), format!("{} Migration Status", m.name)))
        .collect()
}

/// How long a closed migration stays in `closed_status.json` (cf-scripts: 14 days).
const CLOSED_KEEP_SECONDS: i64 = 14 * 86_400;

/// `closed_status.json`: migrations that were in the previous `total_status.json` and
/// are gone now, closed at `now`, plus earlier closings younger than 14 days — both
/// read from what the previous build left in the output directory. A migration that
/// came back is no longer closed.
pub(crate) fn closed_json(
    previous_total: &BTreeMap<String, String>,
    previous_closed: &BTreeMap<String, String>,
    current_total: &BTreeMap<&str, String>,
    now: i64,
) -> BTreeMap<String, String> {
    let mut closed = BTreeMap::new();
    for (name, text) in previous_closed {
        if current_total.contains_key(name.as_str()) {
            continue;
        }
        let Some(at) = closed_at(text) else {
            continue;
        };
        if now - at <= CLOSED_KEEP_SECONDS {
            closed.insert(name.clone(), text.clone());
        }
    }
    for name in previous_total.keys() {
        if current_total.contains_key(name.as_str()) || closed.contains_key(name) {
            continue;
        }
        let at = dates::iso(now)
            .map(|iso| iso.trim_end_matches('Z').to_string())
            .unwrap_or_default();
        closed.insert(name.clone(), format!("{name} closed at {at} UTC"));
    }
    closed
}

/// Reads the time back out of `"<name> closed at <ISO> UTC"`.
fn closed_at(text: &str) -> Option<i64> {
    let (_, rest) = text.rsplit_once(" closed at ")?;
    let iso = rest.strip_suffix(" UTC")?.trim();
    let iso = if iso.ends_with('Z') {
        iso.to_string()
    } else {
        format!("{iso}Z")
    };
    let at: jiff::Timestamp = iso.parse().ok()?;
    Some(at.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_that_left_the_total_is_closed_now_and_kept_for_fourteen_days() {
        let previous_total: BTreeMap<String, String> = [
            ("gone".to_string(), "gone Migration Status".to_string()),
            ("kept".to_string(), "kept Migration Status".to_string()),
        ]
        .into();
        let current: BTreeMap<&str, String> =
            [("kept", "kept Migration Status".to_string())].into();
        let now = 1_790_000_000;
        let closed = closed_json(&previous_total, &BTreeMap::new(), &current, now);
        assert_eq!(
            closed.get("gone").map(String::as_str),
            Some("gone closed at 2026-09-21T14:13:20 UTC")
        );
        assert!(!closed.contains_key("kept"));

        // Thirteen days later it is still listed, unchanged; fifteen days later it is not.
        let later = closed_json(&BTreeMap::new(), &closed, &current, now + 13 * 86_400);
        assert_eq!(later, closed);
        let much_later = closed_json(&BTreeMap::new(), &closed, &current, now + 15 * 86_400);
        assert!(much_later.is_empty());
    }

    #[test]
    fn a_migration_that_came_back_is_not_closed() {
        let previous_closed: BTreeMap<String, String> = [(
            "back".to_string(),
            "back closed at 2026-09-21T14:13:20 UTC".to_string(),
        )]
        .into();
        let current: BTreeMap<&str, String> =
            [("back", "back Migration Status".to_string())].into();
        assert!(
            closed_json(&BTreeMap::new(), &previous_closed, &current, 1_790_000_100).is_empty()
        );
    }
}
