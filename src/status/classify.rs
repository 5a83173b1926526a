//! From the engine's [`NodeState`] plus the records behind it to a status [`State`] with
//! its [`Reason`]: the one place that decides what a maintainer is told.
//!
//! The mapping, first match wins:
//! - `Done(merged)` → done (or partial, see `partial`); `Done(closed unmerged)` →
//!   done-declined; `Done(nothing to do)` → done-nothing-to-do (or partial);
//! - `InPr` → in-pr, refined by the PR snapshot: draft, then conflicts, then CI
//!   failing / passing / pending; no snapshot yet → `in-pr/unknown`;
//! - `Paused` → awaiting-pr, `paused`;
//! - `WaitingForMigrators` → awaiting-parents, `waiting-for-migrators`;
//! - `AwaitingParents` → awaiting-parents (`awaiting-parents/closeout` on the close-out
//!   node, which waits for every member to have work);
//! - `BackingOff` and `Ready` look at the last failed attempt: a solver failure is
//!   not-solvable; a migrate, internal or unknown failure is bot-error (with the retry
//!   time while backing off); a forge failure is the bot's infrastructure, not the
//!   feedstock, so it stays awaiting-pr (`awaiting-pr/backoff` while backing off);
//! - `Ready` otherwise → awaiting-pr, `awaiting-pr/next-run` when its queue position is
//!   within this run's PR limit, else `awaiting-pr/pr-limit`.

use crate::graph::{
    AttemptErrorKind, AttemptRecord, PrRef, PrSnapshot, SnapshotCi, SnapshotMergeable, WorkRecord,
};
use crate::migrators::{DoneKind, NodeState};

use super::history::Snapshots;
use super::model::{PrInfo, Reason, ReasonCode, ReasonDetail, State};
use super::partial::Split;

/// What is known about one member besides its engine state.
pub(crate) struct Facts<'a> {
    /// The engine's state.
    pub engine: &'a NodeState,
    /// The record the state comes from, for done and in-PR members.
    pub record: Option<&'a WorkRecord>,
    /// The attempt record.
    pub attempt: Option<&'a AttemptRecord>,
    /// 1-based position among the ready members, when ready.
    pub position: Option<u32>,
    /// This run's PR limit.
    pub limit: u32,
    /// How many members are ready.
    pub ready: u32,
    /// True for the close-out node.
    pub closeout: bool,
    /// The platforms split, for a done member that is partial.
    pub partial: Option<Split>,
}

/// A member's state, reason and PR. Awaiting-parents details are filled in later, once
/// every member is classified (they name the parents' states).
pub(crate) struct Classified {
    pub state: State,
    pub reason: Reason,
    pub pr: Option<PrInfo>,
}

/// The PR info of a reference, from its snapshot when there is one.
pub(crate) fn pr_info(pr: &PrRef, snapshots: &Snapshots) -> PrInfo {
    match snapshots.get(&(pr.feedstock.clone(), pr.number)) {
        Some(s) => from_snapshot(s),
        None => PrInfo {
            number: pr.number,
            url: String::new(),
            state: None,
            ci: None,
            mergeable: None,
            draft: false,
            title: String::new(),
            created_at: None,
            updated_at: None,
            closed_at: None,
        },
    }
}

fn from_snapshot(s: &PrSnapshot) -> PrInfo {
    PrInfo {
        number: s.number,
        url: s.url.clone(),
        state: Some(s.state),
        ci: Some(s.ci),
        mergeable: Some(s.mergeable),
        draft: s.draft,
        title: s.title.clone(),
        created_at: Some(s.created_at),
        updated_at: Some(s.updated_at),
        closed_at: s.closed_at,
    }
}

fn reason(code: ReasonCode, text: String, detail: ReasonDetail) -> Reason {
    Reason { code, text, detail }
}

/// Classifies one member.
pub(crate) fn classify(facts: Facts<'_>, snapshots: &Snapshots) -> Classified {
    let pr = facts
        .record
        .and_then(|r| r.pr.as_ref())
        .map(|p| pr_info(p, snapshots));
    let (state, reason) = match facts.engine {
        NodeState::Done(kind) => done(&facts, *kind),
        NodeState::InPr { pr: pr_ref } => {
            let info = pr_ref.as_ref().map(|p| pr_info(p, snapshots));
            let classified = in_pr(info.as_ref());
            return Classified {
                state: classified.0,
                reason: classified.1,
                pr: info.or(pr),
            };
        }
        NodeState::Paused => (
            State::AwaitingPr,
            reason(
                ReasonCode::Paused,
                "The migration is paused: it is planned and reported, but opens no PR.".to_string(),
                ReasonDetail::None,
            ),
        ),
        NodeState::WaitingForMigrators { names } => (
            State::AwaitingParents,
            reason(
                ReasonCode::WaitingForMigrators,
                format!(
                    "Waiting for {} to be done on this feedstock first (`wait_for_migrators`).",
                    names.join(", ")
                ),
                ReasonDetail::Migrations {
                    names: names.clone(),
                },
            ),
        ),
        NodeState::AwaitingParents { parents } => {
            let (code, text) = if facts.closeout {
                (
                    ReasonCode::AwaitingCloseout,
                    format!(
                        "The close-out waits until every member has a PR or is done; {} have none yet.",
                        parents.len()
                    ),
                )
            } else {
                (
                    ReasonCode::AwaitingParents,
                    format!("Waiting for {} parent(s) to be done.", parents.len()),
                )
            };
            (
                State::AwaitingParents,
                reason(
                    code,
                    text,
                    ReasonDetail::Parents {
                        parents: Vec::new(),
                    },
                ),
            )
        }
        NodeState::BackingOff { until, attempts } => backing_off(&facts, *until, *attempts),
        NodeState::Ready => ready(&facts),
    };
    Classified { state, reason, pr }
}

fn done(facts: &Facts<'_>, kind: DoneKind) -> (State, Reason) {
    let at = facts.record.map_or(0, |r| r.updated_at);
    let note = facts.record.and_then(|r| r.reason.clone());
    if let Some(split) = &facts.partial {
        return (
            State::Partial,
            reason(
                ReasonCode::PartialPlatforms,
                format!(
                    "The migration is committed, but only {} of the platforms have its new \
                     pins; {} do not (the recipe may skip them).",
                    split.migrated.join(", "),
                    split.missing.join(", ")
                ),
                ReasonDetail::Platforms {
                    migrated: split.migrated.clone(),
                    missing: split.missing.clone(),
                },
            ),
        );
    }
    let (state, code, text) = match kind {
        DoneKind::Merged => (
            State::Done,
            ReasonCode::DoneMerged,
            "The PR was merged.".to_string(),
        ),
        DoneKind::ClosedUnmerged => (
            State::DoneDeclined,
            ReasonCode::DoneDeclined,
            "The PR was closed without merging; like cf-scripts, the bot presumes the \
             feedstock was rebuilt some other way."
                .to_string(),
        ),
        DoneKind::NothingToDo => (
            State::DoneNothingToDo,
            ReasonCode::DoneNothingToDo,
            match &note {
                Some(note) => format!("Nothing to do: {note}."),
                None => "Nothing to do.".to_string(),
            },
        ),
    };
    (state, reason(code, text, ReasonDetail::Done { at, note }))
}

/// The in-PR refinement from the PR snapshot.
pub(crate) fn in_pr(info: Option<&PrInfo>) -> (State, Reason) {
    let number = info.map(|i| i.number);
    let detail = ReasonDetail::Pr { number };
    let hash = number.map_or(String::new(), |n| format!(" #{n}"));
    let (code, text) = match info {
        Some(i) if i.draft => (ReasonCode::InPrDraft, format!("PR{hash} is a draft.")),
        Some(i) if i.mergeable == Some(SnapshotMergeable::Conflicts) => (
            ReasonCode::InPrConflicts,
            format!("PR{hash} conflicts with its base branch."),
        ),
        Some(i) if i.ci == Some(SnapshotCi::Failing) => (
            ReasonCode::InPrCiFailing,
            format!("PR{hash} is open; CI is failing."),
        ),
        Some(i) if i.ci == Some(SnapshotCi::Passing) => (
            ReasonCode::InPrCiPassing,
            format!("PR{hash} is open; CI passes, waiting for a maintainer to merge."),
        ),
        Some(i) if i.ci.is_some() => (
            ReasonCode::InPrCiPending,
            format!("PR{hash} is open; CI has not finished."),
        ),
        _ => (
            ReasonCode::InPrUnknown,
            format!("PR{hash} is open; the bot has not looked at it since opening it."),
        ),
    };
    (State::InPr, reason(code, text, detail))
}

/// The failure of the last attempt, when it failed.
fn failure<'a>(facts: &Facts<'a>) -> Option<(&'a AttemptRecord, AttemptErrorKind, &'a str)> {
    let attempt = facts.attempt?;
    let error = attempt.last_error.as_ref()?;
    Some((attempt, error.kind, error.message.as_str()))
}

fn error_reason(
    kind: AttemptErrorKind,
    message: &str,
    attempt: &AttemptRecord,
    retry_at: Option<i64>,
) -> (State, Reason) {
    let (state, code) = match kind {
        AttemptErrorKind::NotSolvable => (State::NotSolvable, ReasonCode::NotSolvable),
        AttemptErrorKind::Migrate => (State::BotError, ReasonCode::BotErrorMigrate),
        AttemptErrorKind::Internal => (State::BotError, ReasonCode::BotErrorInternal),
        AttemptErrorKind::Forge | AttemptErrorKind::Other => {
            (State::BotError, ReasonCode::BotErrorOther)
        }
    };
    let when = match retry_at {
        Some(_) => "retried after a back-off",
        None => "retried in the next run",
    };
    (
        state,
        reason(
            code,
            format!(
                "The bot failed {} time(s) in a row ({when}): {message}",
                attempt.attempts
            ),
            ReasonDetail::Error {
                kind,
                message: message.to_string(),
                attempts: attempt.attempts,
                last_attempt_at: attempt.last_attempt_at,
                retry_at,
            },
        ),
    )
}

fn backing_off(facts: &Facts<'_>, until: i64, attempts: u32) -> (State, Reason) {
    match failure(facts) {
        Some((attempt, kind, message)) if kind != AttemptErrorKind::Forge => {
            error_reason(kind, message, attempt, Some(until))
        }
        other => {
            let message = other.map_or_else(String::new, |(_, _, m)| m.to_string());
            (
                State::AwaitingPr,
                reason(
                    ReasonCode::AwaitingPrBackoff,
                    format!(
                        "The last {attempts} attempt(s) failed on the forge; retried from \
                         the back-off time on. Last error: {message}"
                    ),
                    ReasonDetail::Backoff {
                        until,
                        attempts,
                        message,
                    },
                ),
            )
        }
    }
}

fn ready(facts: &Facts<'_>) -> (State, Reason) {
    if let Some((attempt, kind, message)) = failure(facts)
        && kind != AttemptErrorKind::Forge
    {
        return error_reason(kind, message, attempt, None);
    }
    let position = facts.position.unwrap_or(facts.ready.max(1));
    let detail = ReasonDetail::Queue {
        position,
        limit: facts.limit,
        ready: facts.ready,
    };
    if position <= facts.limit {
        (
            State::AwaitingPr,
            reason(
                ReasonCode::AwaitingPrNextRun,
                format!(
                    "Ready: number {position} of {} in the queue, within this run's limit of \
                     {} PR(s).",
                    facts.ready, facts.limit
                ),
                detail,
            ),
        )
    } else {
        (
            State::AwaitingPr,
            reason(
                ReasonCode::AwaitingPrLimit,
                format!(
                    "Ready, but number {position} of {} in the queue and this run opens at \
                     most {} PR(s) for the migration (the PR limit).",
                    facts.ready, facts.limit
                ),
                detail,
            ),
        )
    }
}
