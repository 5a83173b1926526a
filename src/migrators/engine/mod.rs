//! The migration engine: from a migration's plan, the graph and the stored records to
//! this run's [`Schedule`] — each member's [`NodeState`], the ready nodes in order, and
//! how many PRs to open. The same rules for every kind of migrator; pure (no I/O, no
//! clock, no randomness), so the run loop, `explain` and the status site agree.
//!
//! A member's state is decided in this order (the first rule that applies wins):
//! 1. a work record under the node's current uid (the migrator's uid with the
//!    `bot-rerun` time, if any) makes it [`NodeState::Done`] or [`NodeState::InPr`];
//!    failing that, PRs of this migration still open under older uids make it
//!    [`NodeState::InPr`] once there are `Settings::max_open_per_node` of them (1 by
//!    default: a maintenance rerender whose uid moved with the pinning must not get a
//!    second PR beside the first; 3 for version updates, one PR per version); other
//!    records under other uids do not count;
//! 2. a paused migration leaves it [`NodeState::Paused`];
//! 3. a migration of `wait_for_migrators` that has no record on the node, or an open
//!    one, makes it [`NodeState::WaitingForMigrators`];
//! 4. parents in the migration graph that are not done make it
//!    [`NodeState::AwaitingParents`] (skipping `ignored_deps_per_node` and archived
//!    parents; not at all when the migration is not gated). A cycle of the migration
//!    graph is gated as one unit: its members never wait on each other, and each waits
//!    for every parent of the cycle outside it. The close-out node instead waits until
//!    every other member has a record, in any state (reference §3.2 rule 2), gated or
//!    not;
//! 5. a failed last attempt at the work of its current uid within its back-off makes
//!    it [`NodeState::BackingOff`] (attempts are keyed by [`attempt_key`], so a uid
//!    with extras, such as a version update's target version, has its own counter);
//! 6. otherwise it is [`NodeState::Ready`].
//!
//! Differences from cf-scripts, on purpose: members of a cycle still wait for the
//! cycle's parents outside it (the bot lets every cycle member through at once); nodes
//! in back-off are not tried at all (the bot sorts them last with a random key and may
//! still try them); ready nodes are ordered by descendants *in the migration graph*,
//! ties by name (the bot counts descendants in the whole graph and breaks ties
//! randomly); an open PR under an older uid keeps the node in PR (the bot opens a
//! second PR beside it).

mod condense;
mod pace;
mod reach;
mod records;
mod state;

#[cfg(test)]
mod tests;

use crate::graph::{WorkOutcome, WorkRecord};

use super::migrator::{MigrationPlan, Migrator, Settings};
use super::snapshot::{GraphSnapshot, NodeId};

pub use condense::Condensation;
pub use pace::{BACKOFF_BASE_SECONDS, BACKOFF_MAX_EXPONENT, MAX_PR_LIMIT, pr_limit, retry_at};
pub use records::{MigrationRecords, attempt_key};
pub use state::{DoneKind, NodeState, ReadyNode, Schedule, StateCounts};

use reach::Reach;
use records::Index;

/// Marks a node id that is not a member in the dense member index.
const NOT_A_MEMBER: u32 = u32::MAX;

/// Computes the schedule of one migration at time `now` (Unix seconds).
///
/// `plan` must come from `migrator.plan(graph)`; member ids outside `graph` are
/// ignored. Cost: linear in members, plan edges and records, plus the descendant
/// counts of [`reach`] when anything is ready.
#[tracing::instrument(skip_all, fields(migration = %migrator.name()))]
pub fn schedule(
    migrator: &dyn Migrator,
    plan: &MigrationPlan,
    graph: &GraphSnapshot,
    records: &MigrationRecords,
    now: i64,
) -> Schedule {
    let settings = migrator.settings();
    let index = Index::new(migrator.name(), records);
    let mut pass = Pass::new(migrator, plan, graph, &index);
    if settings.gated {
        pass.gate(settings);
    }

    let states: Vec<NodeState> = (0..pass.members.len())
        .map(|m| pass.state(m as u32, settings, now))
        .collect();
    let ready = pass.ready(&states);

    let with_work = pass.current.iter().flatten().count();
    let mut counts = StateCounts {
        members: pass.members.len(),
        with_work,
        ..StateCounts::default()
    };
    for state in &states {
        counts.add(state);
    }
    let limit = if settings.paused {
        0
    } else {
        pr_limit(
            settings.pr_limit,
            settings.ramp,
            with_work,
            pass.members.len(),
        )
    };
    tracing::debug!(?counts, limit, "scheduled");
    Schedule {
        migration: migrator.name().to_string(),
        states: pass.members.iter().copied().zip(states).collect(),
        ready,
        limit,
        counts,
    }
}

/// One scheduling pass: the members under dense indices `0..len` (in id order) and
/// what is known about each.
struct Pass<'a> {
    migrator: &'a dyn Migrator,
    plan: &'a MigrationPlan,
    graph: &'a GraphSnapshot,
    index: &'a Index<'a>,
    /// Members in id order.
    members: Vec<NodeId>,
    /// Node index → member index, [`NOT_A_MEMBER`] for the rest.
    position: Vec<u32>,
    /// Per member, its record under its current uid.
    current: Vec<Option<&'a WorkRecord>>,
    /// The migration graph's cycles and descendant counts.
    reach: Reach,
    /// The close-out node's member index.
    closeout: Option<u32>,
    /// Per component of the migration graph, the parents its members wait for (filled
    /// by [`Pass::gate`] when the migration is gated).
    waiting: Vec<Vec<NodeId>>,
}

impl<'a> Pass<'a> {
    fn new(
        migrator: &'a dyn Migrator,
        plan: &'a MigrationPlan,
        graph: &'a GraphSnapshot,
        index: &'a Index<'a>,
    ) -> Pass<'a> {
        let mut members: Vec<NodeId> = plan
            .members
            .iter()
            .copied()
            .filter(|id| id.index() < graph.len())
            .collect();
        members.sort_unstable();
        members.dedup();
        let mut position = vec![NOT_A_MEMBER; graph.len()];
        for (i, id) in members.iter().enumerate() {
            position[id.index()] = i as u32;
        }
        // Only nodes with some record need their uid now.
        let current = members
            .iter()
            .map(|&id| {
                let node = graph.node(id);
                if !index.has_work(&node.name) {
                    return None;
                }
                index
                    .matching(&node.name, &index.current_uid(migrator, node))
                    .or_else(|| {
                        index
                            .open_under_other_uid(&node.name, migrator.settings().max_open_per_node)
                    })
            })
            .collect();
        let mut pass = Pass {
            migrator,
            plan,
            graph,
            index,
            members,
            position,
            current,
            reach: Reach::new(0, &[]),
            closeout: None,
            waiting: Vec::new(),
        };
        let mut edges = Vec::new();
        for (child, parents) in &plan.parents {
            let Some(c) = pass.member(*child) else {
                continue;
            };
            edges.extend(
                parents
                    .iter()
                    .filter_map(|p| pass.member(*p))
                    .map(|p| (p, c)),
            );
        }
        pass.reach = Reach::new(pass.members.len(), &edges);
        pass.closeout = plan.closeout.and_then(|id| pass.member(id));
        pass
    }

    /// Computes, once per component, the parents its members wait for: parents of any
    /// member that are members outside the component, not archived, not in that
    /// member's `ignored_deps_per_node`, and not done. A cycle is built as one unit once
    /// everything it depends on is done; its members never wait on each other.
    fn gate(&mut self, settings: &Settings) {
        let mut waiting = vec![Vec::new(); self.reach.components()];
        for (child, parents) in &self.plan.parents {
            let Some(c) = self.member(*child) else {
                continue;
            };
            let component = self.reach.component(c);
            let ignored = settings
                .ignored_deps_per_node
                .get(&self.graph.node(*child).name);
            for &p in parents {
                let Some(pm) = self.member(p) else {
                    continue;
                };
                let parent = self.graph.node(p);
                if self.reach.component(pm) != component
                    && !parent.archived
                    && !ignored.is_some_and(|list| list.contains(&parent.name))
                    && !self.done(pm)
                    && let Some(list) = waiting.get_mut(component as usize)
                {
                    list.push(p);
                }
            }
        }
        for list in &mut waiting {
            list.sort_unstable();
            list.dedup();
        }
        self.waiting = waiting;
    }

    /// The member index of a node.
    fn member(&self, id: NodeId) -> Option<u32> {
        self.position
            .get(id.index())
            .copied()
            .filter(|&p| p != NOT_A_MEMBER)
    }

    /// True when a member's work under its current uid is done.
    fn done(&self, m: u32) -> bool {
        self.current
            .get(m as usize)
            .copied()
            .flatten()
            .is_some_and(|r| r.outcome.is_done())
    }

    /// The state of member `m` (the rules of the module doc, in order).
    fn state(&self, m: u32, settings: &Settings, now: i64) -> NodeState {
        let id = self.members[m as usize];
        let node = self.graph.node(id);
        if let Some(record) = self.current[m as usize] {
            return recorded(record);
        }
        if settings.paused {
            return NodeState::Paused;
        }
        let names: Vec<String> = settings
            .wait_for_migrators
            .iter()
            .filter(|name| !self.index.waited_done(name, &node.name))
            .cloned()
            .collect();
        if !names.is_empty() {
            return NodeState::WaitingForMigrators { names };
        }
        let parents = if self.closeout == Some(m) {
            self.not_issued(m)
        } else if settings.gated {
            self.parents_not_done(m)
        } else {
            Vec::new()
        };
        if !parents.is_empty() {
            return NodeState::AwaitingParents { parents };
        }
        let uid = self.index.current_uid(self.migrator, node);
        if let Some(attempt) = self.index.attempts(&node.name, &uid)
            && let Some(until) = retry_at(attempt).filter(|&until| now < until)
        {
            return NodeState::BackingOff {
                until,
                attempts: attempt.attempts,
            };
        }
        NodeState::Ready
    }

    /// For the close-out node: the other (non-archived) members without any record
    /// under their current uid.
    fn not_issued(&self, closeout: u32) -> Vec<NodeId> {
        self.members
            .iter()
            .enumerate()
            .filter(|&(o, id)| {
                o as u32 != closeout && self.current[o].is_none() && !self.graph.node(*id).archived
            })
            .map(|(_, id)| *id)
            .collect()
    }

    /// The parents member `m` waits for ([`Pass::gate`] must have run).
    fn parents_not_done(&self, m: u32) -> Vec<NodeId> {
        self.waiting
            .get(self.reach.component(m) as usize)
            .cloned()
            .unwrap_or_default()
    }

    /// The ready members in working order, with their descendant counts and uids.
    fn ready(&mut self, states: &[NodeState]) -> Vec<ReadyNode> {
        if !states.contains(&NodeState::Ready) {
            return Vec::new();
        }
        self.reach.count_descendants();
        let mut ready: Vec<ReadyNode> = states
            .iter()
            .enumerate()
            .filter(|(_, state)| **state == NodeState::Ready)
            .map(|(m, _)| {
                let id = self.members[m];
                ReadyNode {
                    id,
                    descendants: self.reach.descendants(m as u32),
                    uid: self.index.current_uid(self.migrator, self.graph.node(id)),
                }
            })
            .collect();
        let name = |id: NodeId| self.graph.node(id).name.as_str();
        ready.sort_by(|a, b| {
            b.descendants
                .cmp(&a.descendants)
                .then_with(|| name(a.id).cmp(name(b.id)))
        });
        ready
    }
}

/// The state a record under the current uid gives.
fn recorded(record: &WorkRecord) -> NodeState {
    match record.outcome {
        WorkOutcome::Open => NodeState::InPr {
            pr: record.pr.clone(),
        },
        WorkOutcome::Merged => NodeState::Done(DoneKind::Merged),
        WorkOutcome::Closed => NodeState::Done(DoneKind::ClosedUnmerged),
        WorkOutcome::NothingToDo => NodeState::Done(DoneKind::NothingToDo),
    }
}
