//! The first step of a run: ask the forge what happened to every open PR the store
//! tracks, and record it (reference §5.2, §5.3).
//!
//! - merged → done (merged), the fork branch is deleted;
//! - closed → done (closed unmerged) — and when it carries `bot-rerun`, a rerun;
//! - open with `bot-rerun` → the bot comments, closes it, deletes the branch and records
//!   a rerun: the node's uid changes, so the migration is redone there;
//! - open, conflicted ("dirty"), not a draft, and the feedstock allows it
//!   (`bot.remake_prs_with_conflicts`, default true) → closed the same way and remade;
//! - drafts and everything else are left alone;
//! - a PR closed unmerged within the last [`RERUN_WINDOW_SECONDS`] that a maintainer
//!   labels `bot-rerun` afterwards is a rerun too (cf-scripts honours the label on every
//!   closed PR it still holds; cascade looks back three days so a refresh stays cheap).
//!
//! Each record is updated in its own short transaction after the forge acted, so a run
//! killed half-way redoes at most the step it was in: the forge calls are idempotent.

use serde::Serialize;

use crate::forge::{CiStatus, Forge, Mergeable, PrState, PullRequest};
use crate::graph::{
    GraphError, PrSnapshot, SnapshotCi, SnapshotMergeable, SnapshotState, Store, WorkOutcome,
    WorkRecord,
};

use super::checkpoint;

/// The label that asks the bot to redo a PR.
pub const BOT_RERUN_LABEL: &str = "bot-rerun";

const RERUN_COMMENT: &str = "Due to the `bot-rerun` label I'm closing this PR. \
I will make another one as appropriate.";

const DIRTY_COMMENT: &str = "I see that this PR has conflicts, and I'm the only committer. \
I'm going to close this PR and will make another one as appropriate.";

/// How far back closed PRs are still asked about for a late `bot-rerun` label.
pub const RERUN_WINDOW_SECONDS: i64 = 3 * 24 * 3600;

/// What the refresh found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RefreshSummary {
    /// Open PRs asked about.
    pub checked: usize,
    /// Found merged.
    pub merged: usize,
    /// Found closed without merging (not counting the bot's own closes below).
    pub closed: usize,
    /// Closed by the bot because of `bot-rerun`, or found closed with it.
    pub reruns: usize,
    /// Closed by the bot because of conflicts.
    pub dirty: usize,
    /// Still open.
    pub open: usize,
    /// (feedstock, message) for PRs the forge could not tell about.
    pub errors: Vec<(String, String)>,
}

/// Whether a feedstock lets the bot close its conflicted PRs.
pub type RemakeAllowed<'a> = &'a dyn Fn(&str) -> bool;

/// Refreshes every open PR the store tracks. With `dry_run`, only reads.
pub fn refresh(
    store: &Store,
    forge: &dyn Forge,
    remake_allowed: RemakeAllowed<'_>,
    now: i64,
    dry_run: bool,
) -> Result<RefreshSummary, GraphError> {
    let mut summary = RefreshSummary::default();
    for record in store.open_work()? {
        let Some(pr_ref) = record.pr.clone() else {
            continue;
        };
        summary.checked += 1;
        let pr = match forge.pr(&pr_ref.feedstock, pr_ref.number) {
            Ok(pr) => pr,
            Err(err) => {
                summary
                    .errors
                    .push((pr_ref.feedstock.clone(), err.to_string()));
                continue;
            }
        };
        if !dry_run {
            store.record_pr(&snapshot(&pr, now))?;
        }
        let rerun = pr.labels.contains(BOT_RERUN_LABEL);
        match pr.state {
            PrState::Merged => {
                summary.merged += 1;
                if !dry_run {
                    settle(store, forge, &record, &pr, WorkOutcome::Merged, now)?;
                }
            }
            PrState::Closed => {
                if rerun {
                    summary.reruns += 1;
                } else {
                    summary.closed += 1;
                }
                if !dry_run {
                    if rerun {
                        store.set_rerun(&record.migration, &record.feedstock, now)?;
                        checkpoint::reached("rerun recorded");
                    }
                    settle(store, forge, &record, &pr, WorkOutcome::Closed, now)?;
                }
            }
            PrState::Open => {
                let dirty =
                    pr.mergeable == Mergeable::Dirty && !pr.draft && remake_allowed(&pr.feedstock);
                let comment = if rerun {
                    summary.reruns += 1;
                    RERUN_COMMENT
                } else if dirty {
                    summary.dirty += 1;
                    DIRTY_COMMENT
                } else {
                    summary.open += 1;
                    continue;
                };
                if dry_run {
                    continue;
                }
                if let Err(err) = close_for_remake(forge, &pr, comment) {
                    summary.errors.push((pr.feedstock.clone(), err.to_string()));
                    continue;
                }
                store.record_pr(&PrSnapshot {
                    state: SnapshotState::Closed,
                    closed_at: Some(now),
                    ..snapshot(&pr, now)
                })?;
                store.set_rerun(&record.migration, &record.feedstock, now)?;
                checkpoint::reached("rerun recorded");
                settle(store, forge, &record, &pr, WorkOutcome::Closed, now)?;
            }
        }
    }
    if !dry_run {
        late_reruns(store, forge, now, &mut summary)?;
    }
    Ok(summary)
}

/// Closed PRs labelled `bot-rerun` after the bot recorded them closed.
fn late_reruns(
    store: &Store,
    forge: &dyn Forge,
    now: i64,
    summary: &mut RefreshSummary,
) -> Result<(), GraphError> {
    let mut reruns: std::collections::HashMap<String, std::collections::BTreeMap<String, i64>> =
        std::collections::HashMap::new();
    for record in store.closed_work_since(now - RERUN_WINDOW_SECONDS)? {
        let Some(pr_ref) = &record.pr else {
            continue;
        };
        if !reruns.contains_key(&record.migration) {
            reruns.insert(
                record.migration.clone(),
                store.reruns_for(&record.migration)?,
            );
        }
        let already = reruns
            .get(&record.migration)
            .and_then(|m| m.get(&record.feedstock))
            .is_some_and(|&at| at >= record.updated_at);
        if already {
            continue;
        }
        match forge.pr(&pr_ref.feedstock, pr_ref.number) {
            Ok(pr) if pr.labels.contains(BOT_RERUN_LABEL) => {
                summary.reruns += 1;
                store.set_rerun(&record.migration, &record.feedstock, now)?;
                checkpoint::reached("late rerun recorded");
            }
            Ok(_) => {}
            Err(err) => summary
                .errors
                .push((pr_ref.feedstock.clone(), err.to_string())),
        }
    }
    Ok(())
}

fn close_for_remake(
    forge: &dyn Forge,
    pr: &PullRequest,
    comment: &str,
) -> Result<(), crate::forge::ForgeError> {
    forge.comment(&pr.feedstock, pr.number, comment)?;
    checkpoint::reached("commented");
    forge.close_pr(&pr.feedstock, pr.number)?;
    checkpoint::reached("closed");
    Ok(())
}

/// Records the final outcome and deletes the fork branch (best effort: a branch that
/// cannot be deleted is logged, the outcome still recorded).
fn settle(
    store: &Store,
    forge: &dyn Forge,
    record: &WorkRecord,
    pr: &PullRequest,
    outcome: WorkOutcome,
    now: i64,
) -> Result<(), GraphError> {
    if let Err(err) = forge.delete_branch(&pr.feedstock, &pr.head) {
        tracing::warn!(feedstock = %pr.feedstock, branch = %pr.head, %err, "branch not deleted");
    }
    checkpoint::reached("branch deleted");
    store.record_work(&WorkRecord {
        outcome,
        updated_at: now,
        ..record.clone()
    })?;
    checkpoint::reached("outcome recorded");
    Ok(())
}

/// The store's snapshot of a PR as the forge reports it, seen at `now` (the graph store
/// cannot see the forge's types).
pub(super) fn snapshot(pr: &PullRequest, now: i64) -> PrSnapshot {
    PrSnapshot {
        feedstock: pr.feedstock.clone(),
        number: pr.number,
        state: match pr.state {
            PrState::Open => SnapshotState::Open,
            PrState::Merged => SnapshotState::Merged,
            PrState::Closed => SnapshotState::Closed,
        },
        draft: pr.draft,
        ci: match pr.ci {
            CiStatus::None => SnapshotCi::None,
            CiStatus::Pending => SnapshotCi::Pending,
            CiStatus::Passing => SnapshotCi::Passing,
            CiStatus::Failing => SnapshotCi::Failing,
        },
        mergeable: match pr.mergeable {
            Mergeable::Unknown => SnapshotMergeable::Unknown,
            Mergeable::Clean => SnapshotMergeable::Clean,
            Mergeable::Dirty => SnapshotMergeable::Conflicts,
        },
        title: pr.title.clone(),
        url: pr.url.clone(),
        created_at: pr.created_at,
        updated_at: pr.updated_at,
        closed_at: pr.closed_at,
        seen_at: now,
    }
}
