//! The first step of a run: ask the forge what happened to every open PR the store
//! tracks, and record it (reference §5.2, §5.3).
//!
//! - merged → done (merged), the fork branch is deleted;
//! - closed → done (closed unmerged) — and when it carries `bot-rerun`, a rerun;
//! - open with `bot-rerun` → the bot comments, closes it, deletes the branch and records
//!   a rerun: the node's uid changes, so the migration is redone there;
//! - open, conflicted ("dirty"), not a draft, only the bot's commits on it, and the
//!   feedstock allows it (`bot.remake_prs_with_conflicts`, default true) → closed the
//!   same way and remade;
//! - drafts and everything else are left alone;
//! - a PR closed unmerged within the last [`RERUN_WINDOW_SECONDS`] that a maintainer
//!   labels `bot-rerun` afterwards is a rerun too (cf-scripts honours the label on every
//!   closed PR it still holds; cascade looks back three days so a refresh stays cheap).
//!
//! Each record is updated in its own short transaction after the forge acted, so a run
//! killed half-way redoes at most the step it was in: the forge calls are idempotent.
//! A spent rate limit is handled the same way: the refresh stops at the PR it was at,
//! records nothing for it, and the next run takes it up again.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use serde::Serialize;

use crate::forge::{CiStatus, Forge, ForgeError, Mergeable, PrState, PullRequest};
use crate::graph::{
    GraphError, PrRef, PrSnapshot, SnapshotCi, SnapshotMergeable, SnapshotState, Store,
    WorkOutcome, WorkRecord,
};

use super::checkpoint;
use super::stop::{Flow, GO_ON, Stopped, stop_or};

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
///
/// The forge is asked once for all tracked open PRs ([`Forge::prs`]), then once more for
/// the recently closed ones a late `bot-rerun` label may concern. A spent rate limit on
/// any call stops the refresh there ([`Flow`]`::Break`): what was recorded stays, the
/// PR it was at is refreshed again next run.
pub fn refresh(
    store: &Store,
    forge: &dyn Forge,
    remake_allowed: RemakeAllowed<'_>,
    now: i64,
    dry_run: bool,
) -> Result<(RefreshSummary, Flow), GraphError> {
    let mut summary = RefreshSummary::default();
    let flow = refresh_open(store, forge, remake_allowed, now, dry_run, &mut summary)?;
    if flow.is_break() || dry_run {
        return Ok((summary, flow));
    }
    let flow = late_reruns(store, forge, now, &mut summary)?;
    Ok((summary, flow))
}

/// The refresh of the open PRs the store tracks.
fn refresh_open(
    store: &Store,
    forge: &dyn Forge,
    remake_allowed: RemakeAllowed<'_>,
    now: i64,
    dry_run: bool,
    summary: &mut RefreshSummary,
) -> Result<Flow, GraphError> {
    let tracked: Vec<(WorkRecord, PrRef)> = store
        .open_work()?
        .into_iter()
        .filter_map(|record| record.pr.clone().map(|pr| (record, pr)))
        .collect();
    let answers = ask(forge, &tracked);
    for ((record, pr_ref), answer) in tracked.iter().zip(answers) {
        if let Err(err) = &answer
            && let Some(stopped) = Stopped::from_forge(err)
        {
            return Ok(ControlFlow::Break(stopped));
        }
        summary.checked += 1;
        let pr = match answer {
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
        let flow = match pr.state {
            PrState::Merged => {
                summary.merged += 1;
                if dry_run {
                    continue;
                }
                settle(store, forge, record, &pr, WorkOutcome::Merged, now)?
            }
            PrState::Closed => {
                if rerun {
                    summary.reruns += 1;
                } else {
                    summary.closed += 1;
                }
                if dry_run {
                    continue;
                }
                if rerun {
                    store.set_rerun(&record.migration, &record.feedstock, now)?;
                    checkpoint::reached("rerun recorded");
                }
                settle(store, forge, record, &pr, WorkOutcome::Closed, now)?
            }
            PrState::Open => {
                let dirty = remakes_for_conflicts(&pr, remake_allowed(&pr.feedstock));
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
                remake(store, forge, record, &pr, comment, now, summary)?
            }
        };
        if flow.is_break() {
            return Ok(flow);
        }
    }
    Ok(GO_ON)
}

/// Whether an open PR is closed and remade because of its conflicts (reference §5.2):
/// conflicted, not a draft, with no commits but the bot's (a maintainer working on the
/// branch is never overruled), on a feedstock that allows it.
fn remakes_for_conflicts(pr: &PullRequest, allowed: bool) -> bool {
    pr.mergeable == Mergeable::Dirty && !pr.draft && !pr.other_committers && allowed
}

/// Closes an open PR so it is made again: comment, close, record the rerun, settle.
fn remake(
    store: &Store,
    forge: &dyn Forge,
    record: &WorkRecord,
    pr: &PullRequest,
    comment: &str,
    now: i64,
    summary: &mut RefreshSummary,
) -> Result<Flow, GraphError> {
    if let Err(err) = close_for_remake(forge, pr, comment) {
        return stop_or(err, |err| {
            summary.errors.push((pr.feedstock.clone(), err.to_string()));
            Ok(())
        });
    }
    store.record_pr(&PrSnapshot {
        state: SnapshotState::Closed,
        closed_at: Some(now),
        ..snapshot(pr, now)
    })?;
    store.set_rerun(&record.migration, &record.feedstock, now)?;
    checkpoint::reached("rerun recorded");
    settle(store, forge, record, pr, WorkOutcome::Closed, now)
}

/// Closed PRs labelled `bot-rerun` after the bot recorded them closed.
fn late_reruns(
    store: &Store,
    forge: &dyn Forge,
    now: i64,
    summary: &mut RefreshSummary,
) -> Result<Flow, GraphError> {
    let mut reruns: HashMap<String, BTreeMap<String, i64>> = HashMap::new();
    let mut candidates: Vec<(WorkRecord, PrRef)> = Vec::new();
    for record in store.closed_work_since(now - RERUN_WINDOW_SECONDS)? {
        let Some(pr_ref) = record.pr.clone() else {
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
        if !already {
            candidates.push((record, pr_ref));
        }
    }
    let answers = ask(forge, &candidates);
    for ((record, pr_ref), answer) in candidates.iter().zip(answers) {
        match answer {
            Ok(pr) if pr.labels.contains(BOT_RERUN_LABEL) => {
                summary.reruns += 1;
                store.set_rerun(&record.migration, &record.feedstock, now)?;
                checkpoint::reached("late rerun recorded");
            }
            Ok(_) => {}
            Err(err) => {
                let flow = stop_or(err, |err| {
                    summary
                        .errors
                        .push((pr_ref.feedstock.clone(), err.to_string()));
                    Ok::<(), GraphError>(())
                })?;
                if flow.is_break() {
                    return Ok(flow);
                }
            }
        }
    }
    Ok(GO_ON)
}

/// One [`Forge::prs`] call for the PRs of `tracked` (none when there are none), with one
/// answer per PR in order: a forge that answers fewer is reported on the PRs it skipped.
fn ask(forge: &dyn Forge, tracked: &[(WorkRecord, PrRef)]) -> Vec<Result<PullRequest, ForgeError>> {
    if tracked.is_empty() {
        return Vec::new();
    }
    let refs: Vec<(String, u64)> = tracked
        .iter()
        .map(|(_, pr)| (pr.feedstock.clone(), pr.number))
        .collect();
    let mut answers = forge.prs(&refs);
    if answers.len() != refs.len() {
        tracing::error!(
            asked = refs.len(),
            answered = answers.len(),
            "the forge answered a PR refresh with the wrong number of results"
        );
    }
    answers.truncate(refs.len());
    for (feedstock, number) in refs.iter().skip(answers.len()) {
        answers.push(Err(ForgeError::Api {
            context: format!("refresh PR #{number} on `{feedstock}`"),
            status: None,
            message: "the forge returned no answer for this PR".to_string(),
        }));
    }
    answers
}

fn close_for_remake(forge: &dyn Forge, pr: &PullRequest, comment: &str) -> Result<(), ForgeError> {
    forge.comment(&pr.feedstock, pr.number, comment)?;
    checkpoint::reached("commented");
    forge.close_pr(&pr.feedstock, pr.number)?;
    checkpoint::reached("closed");
    Ok(())
}

/// Deletes the fork branch, then records the final outcome. A branch that cannot be
/// deleted is logged and the outcome still recorded — unless the forge stopped the run:
/// then nothing is recorded and the next run settles the PR again.
fn settle(
    store: &Store,
    forge: &dyn Forge,
    record: &WorkRecord,
    pr: &PullRequest,
    outcome: WorkOutcome,
    now: i64,
) -> Result<Flow, GraphError> {
    if let Err(err) = forge.delete_branch(&pr.feedstock, &pr.head) {
        let flow = stop_or(err, |err| {
            tracing::warn!(feedstock = %pr.feedstock, branch = %pr.head, %err, "branch not deleted");
            Ok::<(), GraphError>(())
        })?;
        if flow.is_break() {
            return Ok(flow);
        }
    }
    checkpoint::reached("branch deleted");
    store.record_work(&WorkRecord {
        outcome,
        updated_at: now,
        ..record.clone()
    })?;
    checkpoint::reached("outcome recorded");
    Ok(GO_ON)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::forge::CiStatus;

    fn conflicted() -> PullRequest {
        PullRequest {
            feedstock: "zlib".into(),
            number: 7,
            head: "rebuild-for-python314-0-1_h0a1b2c".into(),
            base: "main".into(),
            title: "Rebuild for python 3.14".into(),
            body: String::new(),
            state: PrState::Open,
            draft: false,
            labels: BTreeSet::new(),
            ci: CiStatus::Passing,
            mergeable: Mergeable::Dirty,
            other_committers: false,
            head_sha: "0".repeat(40),
            url: "https://github.com/conda-forge/zlib-feedstock/pull/7".into(),
            created_at: 0,
            updated_at: 0,
            closed_at: None,
        }
    }

    #[test]
    fn a_conflicted_bot_only_pr_is_remade() {
        assert!(remakes_for_conflicts(&conflicted(), true));
    }

    #[test]
    fn a_maintainer_commit_on_the_branch_keeps_a_conflicted_pr_open() {
        let pr = PullRequest {
            other_committers: true,
            ..conflicted()
        };
        assert!(!remakes_for_conflicts(&pr, true));
    }

    #[test]
    fn drafts_clean_prs_and_feedstocks_that_opt_out_keep_their_prs() {
        let draft = PullRequest {
            draft: true,
            ..conflicted()
        };
        let clean = PullRequest {
            mergeable: Mergeable::Clean,
            ..conflicted()
        };
        assert!(!remakes_for_conflicts(&draft, true));
        assert!(!remakes_for_conflicts(&clean, true));
        assert!(!remakes_for_conflicts(&conflicted(), false));
    }
}
