//! What the engine says about each member of a migration, and the schedule it returns.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::graph::PrRef;
use crate::migrators::migrator::Uid;
use crate::migrators::snapshot::NodeId;

/// How finished work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DoneKind {
    /// The PR was merged.
    Merged,
    /// The PR was closed without merging (presumed rebuilt, as cf-scripts does).
    ClosedUnmerged,
    /// The migrator found nothing to change.
    NothingToDo,
}

/// Where one member of a migration stands this run, from the stored records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// Work under the node's current uid is finished.
    Done(DoneKind),
    /// A PR under the current uid is open.
    InPr {
        /// The PR (`None` when the record has none, e.g. written before the PR number
        /// was known).
        pr: Option<PrRef>,
    },
    /// Nothing stops the bot from working on it now.
    Ready,
    /// The last attempt failed; the node is retried from `until` on (reference §3.1:
    /// `2 h × 2^min(attempts, 6)` after the last failed attempt).
    BackingOff {
        /// Unix seconds from which it is ready again.
        until: i64,
        /// Consecutive failed attempts so far.
        attempts: u32,
    },
    /// Parents in the migration graph are not done yet (for the close-out node: other
    /// members have no record at all yet).
    AwaitingParents {
        /// The parents it waits for, in id order.
        parents: Vec<NodeId>,
    },
    /// Migrations listed in `wait_for_migrators` are not done on this node.
    WaitingForMigrators {
        /// Those migrations, in the order the settings list them.
        names: Vec<String>,
    },
    /// The migration is paused and this node has no work yet.
    Paused,
}

impl NodeState {
    /// The state's kebab-case code (`done`, `in-pr`, `ready`, `backing-off`,
    /// `awaiting-parents`, `waiting-for-migrators`, `paused`).
    pub fn code(&self) -> &'static str {
        match self {
            NodeState::Done(_) => "done",
            NodeState::InPr { .. } => "in-pr",
            NodeState::Ready => "ready",
            NodeState::BackingOff { .. } => "backing-off",
            NodeState::AwaitingParents { .. } => "awaiting-parents",
            NodeState::WaitingForMigrators { .. } => "waiting-for-migrators",
            NodeState::Paused => "paused",
        }
    }

    /// True for [`NodeState::Done`].
    pub fn is_done(&self) -> bool {
        matches!(self, NodeState::Done(_))
    }
}

/// How many members are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    /// Members of the migration (`T` of the ramp).
    pub members: usize,
    /// Members with a record under their current uid, in any state (`n` of the ramp).
    pub with_work: usize,
    /// Done: merged.
    pub merged: usize,
    /// Done: closed without merging.
    pub closed_unmerged: usize,
    /// Done: nothing to do.
    pub nothing_to_do: usize,
    /// With an open PR.
    pub in_pr: usize,
    /// Ready.
    pub ready: usize,
    /// Backing off after a failure.
    pub backing_off: usize,
    /// Awaiting parents.
    pub awaiting_parents: usize,
    /// Waiting for other migrations.
    pub waiting_for_migrators: usize,
    /// Paused.
    pub paused: usize,
}

impl StateCounts {
    /// Members done, whichever way.
    pub fn done(&self) -> usize {
        self.merged + self.closed_unmerged + self.nothing_to_do
    }

    pub(super) fn add(&mut self, state: &NodeState) {
        let slot = match state {
            NodeState::Done(DoneKind::Merged) => &mut self.merged,
            NodeState::Done(DoneKind::ClosedUnmerged) => &mut self.closed_unmerged,
            NodeState::Done(DoneKind::NothingToDo) => &mut self.nothing_to_do,
            NodeState::InPr { .. } => &mut self.in_pr,
            NodeState::Ready => &mut self.ready,
            NodeState::BackingOff { .. } => &mut self.backing_off,
            NodeState::AwaitingParents { .. } => &mut self.awaiting_parents,
            NodeState::WaitingForMigrators { .. } => &mut self.waiting_for_migrators,
            NodeState::Paused => &mut self.paused,
        };
        *slot += 1;
    }
}

/// A ready node, with what the run loop needs to work on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyNode {
    /// The node.
    pub id: NodeId,
    /// Its descendants in the migration graph (the ordering key).
    pub descendants: u32,
    /// Its current uid (with the `bot-rerun` time, if any): record the work under it.
    pub uid: Uid,
}

/// The engine's answer for one migration this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The migration's report name.
    pub migration: String,
    /// Every member's state.
    pub states: BTreeMap<NodeId, NodeState>,
    /// The ready nodes in the order to work on them: most descendants in the migration
    /// graph first, ties by name. Deterministic, unlike cf-scripts' random tie-breaks.
    pub ready: Vec<ReadyNode>,
    /// PRs to open this run at most (the ramp of reference §3.3; 0 when paused).
    /// Like cf-scripts, it is not reduced by the PRs already open.
    pub limit: u32,
    /// Members per state.
    pub counts: StateCounts,
}

impl Schedule {
    /// The state of a member (`None` for a node outside the migration).
    pub fn state(&self, id: NodeId) -> Option<&NodeState> {
        self.states.get(&id)
    }
}
