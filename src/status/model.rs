//! The status data model: what the status site, `cascade explain --json` and the
//! conda-forge-compatible JSON files are made from. Plain serde data, computed by
//! [`collect`](super::collect) and only read afterwards.
//!
//! Invariants:
//! - every node that is not done carries a [`Reason`] whose [`ReasonCode`] is stable
//!   (it is the machine-readable part; the `text` is for people and may change);
//! - [`MigrationStatus::nodes`] is in topological order of the migration graph
//!   (parents before children; members of a cycle by name), and every name in
//!   `parents`, `children`, `edges` and `blockers` is a member of the migration;
//! - times are Unix seconds (UTC); durations are seconds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::graph::{AttemptErrorKind, SnapshotCi, SnapshotMergeable, SnapshotState};
use crate::migrators::MigratorKind;

/// Everything the status site shows, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusReport {
    /// When it was computed (Unix seconds).
    pub generated_at: i64,
    /// Every migration the registry loaded, in run order (regular, then longterm; each
    /// by name). Paused ones included.
    pub migrations: Vec<MigrationStatus>,
    /// Per feedstock of the graph, its place in every migration that concerns it.
    pub feedstocks: BTreeMap<String, FeedstockStatus>,
    /// Migration definitions that failed to load, with the message.
    pub definition_errors: Vec<DefinitionError>,
}

/// A migration definition that did not load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefinitionError {
    /// The file at fault.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

/// Which list of conda-forge's status page a migration belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bucket {
    /// Neither paused nor longterm (`regular_status.json`).
    Regular,
    /// `longterm: true` or an architecture rollout (`longterm_status.json`).
    Longterm,
    /// `paused: true` (`paused_status.json`); wins over longterm.
    Paused,
}

impl Bucket {
    /// The kebab-case name (`regular`, `longterm`, `paused`).
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Regular => "regular",
            Bucket::Longterm => "longterm",
            Bucket::Paused => "paused",
        }
    }
}

/// One migration: who is where, how fast it moves, who holds it up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationStatus {
    /// The report name (`python314`).
    pub name: String,
    /// The kind of migrator.
    pub kind: MigratorKind,
    /// The status-page list it goes in.
    pub bucket: Bucket,
    /// One line saying what the migration does, when the definition says it.
    pub description: Option<String>,
    /// PRs this run may open at most (the ramp; 0 when paused).
    pub pr_limit: u32,
    /// Members per state.
    pub counts: StateCounts,
    /// How far along it is.
    pub progress: Progress,
    /// The members, in topological order of the migration graph.
    pub nodes: Vec<NodeStatus>,
    /// The migration graph's edges, parent → child, both members.
    pub edges: Vec<Edge>,
    /// Feedstocks left out, with the rule — except those the plan drops as simply not
    /// affected, which only appear in `excluded_counts` (they are most of the graph).
    pub excluded: Vec<ExcludedNode>,
    /// How many feedstocks each exclusion rule left out (rule code → count).
    pub excluded_counts: BTreeMap<String, usize>,
    /// Counts at the start of each finished run, oldest first (the burn-down; the
    /// current counts are `counts`).
    pub history: Vec<HistoryPoint>,
    /// When it may finish.
    pub forecast: Forecast,
    /// Not-done members ordered by how many members they hold back, most first.
    pub blockers: Vec<Blocker>,
}

/// The state of one (migration, feedstock): the status page's columns, refined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Its PR was merged.
    Done,
    /// Its PR was closed without merging; like cf-scripts, presumed rebuilt (counts as
    /// done for its children).
    DoneDeclined,
    /// The migrator found nothing to change.
    DoneNothingToDo,
    /// Migrated on some platforms only (see [`ReasonCode::PartialPlatforms`]).
    Partial,
    /// A PR is open.
    InPr,
    /// Nothing in the migration graph stops it; waiting for the bot (PR limit, queue,
    /// back-off after a forge error, or a paused migration).
    AwaitingPr,
    /// Waiting for parents in the migration graph, or for other migrations.
    AwaitingParents,
    /// The migrated recipe is not installable: the last attempt failed with an error of
    /// kind `not-solvable`. cascade has no solver check yet, so nothing records such an
    /// attempt today; the state is defined so the data model and the site need no change
    /// when one lands.
    NotSolvable,
    /// The bot failed on it; the message says why.
    BotError,
    /// Not part of the migration (only in per-feedstock views and `explain`).
    Excluded,
}

impl State {
    /// The kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Done => "done",
            State::DoneDeclined => "done-declined",
            State::DoneNothingToDo => "done-nothing-to-do",
            State::Partial => "partial",
            State::InPr => "in-pr",
            State::AwaitingPr => "awaiting-pr",
            State::AwaitingParents => "awaiting-parents",
            State::NotSolvable => "not-solvable",
            State::BotError => "bot-error",
            State::Excluded => "excluded",
        }
    }

    /// True for the three done states and partial: the engine counts all four as done
    /// (they let children go, and count as progress).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            State::Done | State::DoneDeclined | State::DoneNothingToDo | State::Partial
        )
    }
}

/// Why a node is where it is: the machine-readable code, a sentence, and the data
/// behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// One or two sentences for people (plain text; escape before putting it in HTML).
    pub text: String,
    /// The structured facts behind the sentence.
    pub detail: ReasonDetail,
}

/// The machine-readable reason codes. Serialized as `state/cause` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum ReasonCode {
    /// `done/merged`.
    #[serde(rename = "done/merged")]
    DoneMerged,
    /// `done/declined`: closed without merging.
    #[serde(rename = "done/declined")]
    DoneDeclined,
    /// `done/nothing-to-do`: the migrator found nothing to change.
    #[serde(rename = "done/nothing-to-do")]
    DoneNothingToDo,
    /// `partial/platforms`: some platforms have the migration, others do not.
    #[serde(rename = "partial/platforms")]
    PartialPlatforms,
    /// `in-pr/ci-passing`.
    #[serde(rename = "in-pr/ci-passing")]
    InPrCiPassing,
    /// `in-pr/ci-failing`.
    #[serde(rename = "in-pr/ci-failing")]
    InPrCiFailing,
    /// `in-pr/ci-pending`: CI running or not reported yet.
    #[serde(rename = "in-pr/ci-pending")]
    InPrCiPending,
    /// `in-pr/conflicts`: the PR conflicts with its base branch.
    #[serde(rename = "in-pr/conflicts")]
    InPrConflicts,
    /// `in-pr/draft`.
    #[serde(rename = "in-pr/draft")]
    InPrDraft,
    /// `in-pr/unknown`: a PR is recorded but no snapshot of it exists yet.
    #[serde(rename = "in-pr/unknown")]
    InPrUnknown,
    /// `awaiting-pr/next-run`: ready and within this run's PR limit.
    #[serde(rename = "awaiting-pr/next-run")]
    AwaitingPrNextRun,
    /// `awaiting-pr/pr-limit`: ready, but behind the PR limit in the queue.
    #[serde(rename = "awaiting-pr/pr-limit")]
    AwaitingPrLimit,
    /// `awaiting-pr/backoff`: the last attempt failed on the forge; retried later.
    #[serde(rename = "awaiting-pr/backoff")]
    AwaitingPrBackoff,
    /// `paused`: the migration is paused.
    #[serde(rename = "paused")]
    Paused,
    /// `awaiting-parents`: parents in the migration graph are not done.
    #[serde(rename = "awaiting-parents")]
    AwaitingParents,
    /// `awaiting-parents/closeout`: the close-out node waits for every member to have
    /// work recorded.
    #[serde(rename = "awaiting-parents/closeout")]
    AwaitingCloseout,
    /// `waiting-for-migrators`: migrations named in `wait_for_migrators` are not done.
    #[serde(rename = "waiting-for-migrators")]
    WaitingForMigrators,
    /// `not-solvable`.
    #[serde(rename = "not-solvable")]
    NotSolvable,
    /// `bot-error/migrate`: computing the change (recipe edit, rerender) failed.
    #[serde(rename = "bot-error/migrate")]
    BotErrorMigrate,
    /// `bot-error/internal`: a bug in cascade.
    #[serde(rename = "bot-error/internal")]
    BotErrorInternal,
    /// `bot-error/other`: an error kind this version does not know.
    #[serde(rename = "bot-error/other")]
    BotErrorOther,
    /// `excluded`: left out by a plan rule (the rule's code, such as
    /// `excluded-by-name`, is in [`ReasonDetail::Exclusion`]).
    #[serde(rename = "excluded")]
    Excluded,
}

/// The facts behind a reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ReasonDetail {
    /// Nothing more to say.
    None,
    /// Finished work.
    Done {
        /// When the work record last changed.
        at: i64,
        /// The migrator's note (why nothing was to do), when any.
        note: Option<String>,
    },
    /// A PR (its facts are in [`NodeStatus::pr`]).
    Pr {
        /// The PR number, when known.
        number: Option<u64>,
    },
    /// Ready, in the queue of this run.
    Queue {
        /// 1-based position among the ready nodes (the order the run works in).
        position: u32,
        /// How many PRs this run opens at most.
        limit: u32,
        /// How many nodes are ready.
        ready: u32,
    },
    /// Waiting out a back-off after failed attempts.
    Backoff {
        /// Retried from this time on.
        until: i64,
        /// Consecutive failed attempts.
        attempts: u32,
        /// The last error.
        message: String,
    },
    /// Waiting for parents.
    Parents {
        /// The parents waited for, with their states.
        parents: Vec<ParentState>,
    },
    /// Waiting for other migrations.
    Migrations {
        /// Their names.
        names: Vec<String>,
    },
    /// A failure of the bot.
    Error {
        /// The kind of failure.
        kind: AttemptErrorKind,
        /// The message.
        message: String,
        /// Consecutive failed attempts.
        attempts: u32,
        /// When the last one was.
        last_attempt_at: i64,
        /// When it is retried (`None`: it is due now).
        retry_at: Option<i64>,
    },
    /// Left out of the migration.
    Exclusion {
        /// The rule's code (`excluded-by-name`, `noarch`, ...).
        rule: String,
        /// What the rule found, when it says.
        detail: Option<String>,
    },
    /// Migrated on some platforms only.
    Platforms {
        /// Platforms that have it.
        migrated: Vec<String>,
        /// Platforms that lack it.
        missing: Vec<String>,
    },
}

/// A parent a node waits for, and where that parent stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParentState {
    /// The parent feedstock.
    pub feedstock: String,
    /// Its state in this migration.
    pub state: State,
    /// Its reason code.
    pub code: ReasonCode,
    /// Its PR's URL, when it has one.
    pub pr_url: Option<String>,
}

/// What the bot last saw of a PR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrInfo {
    /// The PR number.
    pub number: u64,
    /// Where a person sees it (empty when no snapshot has been taken).
    pub url: String,
    /// Open, merged or closed (`None`: no snapshot yet).
    pub state: Option<SnapshotState>,
    /// CI of its head commit.
    pub ci: Option<SnapshotCi>,
    /// Whether it can be merged.
    pub mergeable: Option<SnapshotMergeable>,
    /// True for a draft.
    pub draft: bool,
    /// Its title.
    pub title: String,
    /// When it was opened.
    pub created_at: Option<i64>,
    /// When the forge last changed it.
    pub updated_at: Option<i64>,
    /// When it was merged or closed.
    pub closed_at: Option<i64>,
}

/// One member of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// The feedstock (without `-feedstock`).
    pub feedstock: String,
    /// Where it stands.
    pub state: State,
    /// Why.
    pub reason: Reason,
    /// Its PR for this migration, when there is one.
    pub pr: Option<PrInfo>,
    /// Its topological level in the migration graph: 0 without parents there, else one
    /// more than its deepest parent (a cycle shares one level).
    pub level: u32,
    /// Its parents in the migration graph, by name.
    pub parents: Vec<String>,
    /// Its children in the migration graph, by name.
    pub children: Vec<String>,
    /// Members that (transitively) depend on it in the migration graph.
    pub num_descendants: u32,
    /// Consecutive failed attempts.
    pub attempts: u32,
    /// The last attempt's error, when the last attempt failed.
    pub last_error: Option<String>,
}

/// An edge of the migration graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    /// The dependency.
    pub parent: String,
    /// The dependent.
    pub child: String,
}

/// A feedstock left out of a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcludedNode {
    /// The feedstock.
    pub feedstock: String,
    /// The reason (code [`ReasonCode::Excluded`], rule in the detail).
    pub reason: Reason,
}

/// Members per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    /// Members (excluded feedstocks are not members).
    pub total: usize,
    /// [`State::Done`].
    pub done: usize,
    /// [`State::DoneDeclined`].
    pub done_declined: usize,
    /// [`State::DoneNothingToDo`].
    pub done_nothing_to_do: usize,
    /// [`State::Partial`].
    pub partial: usize,
    /// [`State::InPr`].
    pub in_pr: usize,
    /// [`State::AwaitingPr`].
    pub awaiting_pr: usize,
    /// [`State::AwaitingParents`].
    pub awaiting_parents: usize,
    /// [`State::NotSolvable`].
    pub not_solvable: usize,
    /// [`State::BotError`].
    pub bot_error: usize,
}

/// How far a migration is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Progress {
    /// Members done (any of the three done states, or partial).
    pub done: usize,
    /// Members with an open PR.
    pub in_pr: usize,
    /// Members.
    pub total: usize,
    /// `done / total` (1.0 for an empty migration).
    pub fraction_done: f64,
    /// `(done + in_pr) / total`, as conda-forge's status page counts progress.
    pub fraction_done_or_in_pr: f64,
}

/// The counts one run saw when it started (before it opened anything).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryPoint {
    /// The run's id.
    pub run_id: i64,
    /// When the counts were taken (the run's start).
    pub at: i64,
    /// Members.
    pub total: usize,
    /// Done, any way.
    pub done: usize,
    /// With an open PR.
    pub in_pr: usize,
    /// Not done and without a PR.
    pub remaining: usize,
}

/// When a migration may finish.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Forecast {
    /// Every member is done.
    Finished {
        /// When the last member was done, when known.
        at: Option<i64>,
    },
    /// An estimate from the critical path and observed latencies.
    Estimate {
        /// The median completion time.
        p50: i64,
        /// The 90th-percentile completion time.
        p90: i64,
        /// Waves still to go: the longest chain of not-done members.
        critical_path: u32,
        /// The members on that chain, root first.
        critical_chain: Vec<String>,
        /// Median wave latency observed (PR opened → merge seen by the bot), seconds.
        latency_p50: i64,
        /// 90th-percentile wave latency observed, seconds.
        latency_p90: i64,
        /// How many merged PRs the latencies come from.
        samples: usize,
    },
    /// No estimate, and why (no merged PR yet, paused, ...).
    NoEstimate {
        /// Why there is none.
        reason: String,
        /// Waves still to go, when the graph says.
        critical_path: u32,
    },
}

/// A not-done member others wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The feedstock.
    pub feedstock: String,
    /// Its state.
    pub state: State,
    /// Its reason code.
    pub code: ReasonCode,
    /// Members that transitively depend on it and are not done.
    pub held_back: u32,
    /// Its PR's URL, when it has one.
    pub pr_url: Option<String>,
}

/// One feedstock across migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedstockStatus {
    /// The feedstock.
    pub name: String,
    /// Its recipe version.
    pub version: Option<String>,
    /// True when its repository is archived.
    pub archived: bool,
    /// Every migration it is a member of, or excluded from by a rule other than "not
    /// affected", in the report's migration order.
    pub migrations: Vec<FeedstockMigration>,
}

/// A feedstock's place in one migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedstockMigration {
    /// The migration.
    pub migration: String,
    /// Its state there.
    pub state: State,
    /// Why.
    pub reason: Reason,
    /// Its PR there, when any.
    pub pr: Option<PrInfo>,
}
