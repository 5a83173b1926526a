//! `explain`: the decision trace for one feedstock in one or every migration — whether
//! it is in the migration and by which rule not, its uid and records, its parents and
//! their states, where it stands in the queue against the PR limit, its back-off and
//! errors, its PR — plus its upstream version check when the store has one.
//!
//! It runs the same plan and schedule as the run loop and [`collect`](super::collect),
//! so what `explain` says is what the bot does.

use serde::Serialize;

use crate::graph::{
    AttemptError, GraphError, Store, VersionCheckStatus, VersionRecord, WorkOutcome,
};
use crate::migrators::registry::Registry;
use crate::migrators::{
    GraphSnapshot, MigrationRecords, Migrator, MigratorKind, NodeState, attempt_key, retry_at,
};

use super::collect::{Inputs, bucket, exclusion_reason, irrelevant, migration};
use super::model::{Bucket, NodeStatus, ParentState, PrInfo, Reason, State};
use super::partial::CiSupportCache;

/// Why `explain` could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// The graph has no feedstock of that name.
    #[error("no feedstock named `{name}` in the graph")]
    UnknownFeedstock {
        /// The name asked for.
        name: String,
    },
    /// `--migration` named a migration the registry does not have.
    #[error("no migration named `{name}`")]
    UnknownMigration {
        /// The name asked for.
        name: String,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] GraphError),
}

/// The whole answer for one feedstock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The feedstock.
    pub feedstock: String,
    /// Its recipe version.
    pub version: Option<String>,
    /// True when its repository is archived.
    pub archived: bool,
    /// True when its recipe failed to parse or render.
    pub parse_error: bool,
    /// When the status was computed (Unix seconds).
    pub now: i64,
    /// One trace per migration asked about, in run order.
    pub migrations: Vec<MigrationTrace>,
    /// Its last upstream version check, when the store has one.
    pub version_update: Option<VersionUpdate>,
}

/// Whether a feedstock takes part in a migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Membership {
    /// A member.
    Member,
    /// Left out by a plan rule.
    Excluded {
        /// The rule's code.
        rule: String,
    },
}

/// One work record, as `explain` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    /// The work's uid (canonical text).
    pub uid: String,
    /// True when it is the node's current uid.
    pub current: bool,
    /// Open, merged, closed or nothing-to-do.
    pub outcome: WorkOutcome,
    /// The PR number, when one was opened.
    pub pr: Option<u64>,
    /// The branch pushed for it.
    pub branch: Option<String>,
    /// The note on the outcome.
    pub reason: Option<String>,
    /// When it was first written.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Where the node stands in this run's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QueueView {
    /// 1-based position among the ready members.
    pub position: u32,
    /// How many members are ready.
    pub ready: u32,
    /// PRs this run opens at most.
    pub limit: u32,
}

/// The attempts on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptView {
    /// Consecutive failed attempts.
    pub attempts: u32,
    /// When the last attempt ran.
    pub last_attempt_at: i64,
    /// Its error, when it failed.
    pub last_error: Option<AttemptError>,
    /// When the back-off ends (`None` without failures).
    pub retry_at: Option<i64>,
}

/// One feedstock in one migration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MigrationTrace {
    /// The migration.
    pub migration: String,
    /// Its kind.
    pub kind: MigratorKind,
    /// Its bucket (paused migrations are in `paused`).
    pub bucket: Bucket,
    /// Member or excluded (and why).
    pub membership: Membership,
    /// The node's current uid (members only).
    pub uid: Option<String>,
    /// Every work record of this migration on the feedstock, newest first.
    pub records: Vec<RecordView>,
    /// The state.
    pub state: State,
    /// The reason.
    pub reason: Reason,
    /// The PR, when any.
    pub pr: Option<PrInfo>,
    /// Every parent in the migration graph with its state (not only those waited for).
    pub parents: Vec<ParentState>,
    /// Its children in the migration graph.
    pub children: Vec<String>,
    /// Its descendants in the migration graph.
    pub num_descendants: u32,
    /// Its topological level.
    pub level: u32,
    /// Its queue position, when ready.
    pub queue: Option<QueueView>,
    /// Its attempts, when any were recorded.
    pub attempts: Option<AttemptView>,
}

/// The upstream version side of a feedstock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionUpdate {
    /// How the last check ended.
    pub status: VersionCheckStatus,
    /// The recipe version then.
    pub current_version: Option<String>,
    /// The newest version found.
    pub newest_version: Option<String>,
    /// Where it was found.
    pub source: Option<String>,
    /// When it was checked.
    pub checked_at: i64,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// Consecutive failed checks.
    pub attempts: u32,
}

impl From<VersionRecord> for VersionUpdate {
    fn from(r: VersionRecord) -> VersionUpdate {
        VersionUpdate {
            status: r.status,
            current_version: r.current_version,
            newest_version: r.newest_version,
            source: r.source,
            checked_at: r.checked_at,
            error: r.error,
            attempts: r.attempts,
        }
    }
}

/// Explains `feedstock` in `only` (every migration when `None`) at `now`.
pub fn explain(
    store: &Store,
    graph: &GraphSnapshot,
    registry: &Registry,
    feedstock: &str,
    only: Option<&str>,
    now: i64,
) -> Result<Explanation, ExplainError> {
    let Some(id) = graph.id(feedstock) else {
        return Err(ExplainError::UnknownFeedstock {
            name: feedstock.to_string(),
        });
    };
    let node = graph.node(id);
    let migrators: Vec<&dyn Migrator> = match only {
        Some(name) => vec![
            registry
                .get(name)
                .ok_or_else(|| ExplainError::UnknownMigration {
                    name: name.to_string(),
                })?,
        ],
        None => registry.migrators.iter().map(|m| m.as_ref()).collect(),
    };
    let inputs = Inputs::load(store)?;
    let mut cache = CiSupportCache::default();
    let mut migrations = Vec::new();
    for migrator in migrators {
        let records = MigrationRecords::load(store, migrator)?;
        if let Some(trace) = trace(
            migrator, graph, &records, &inputs, &mut cache, feedstock, now,
        ) {
            migrations.push(trace);
        }
    }
    Ok(Explanation {
        feedstock: feedstock.to_string(),
        version: node.version.clone(),
        archived: node.archived,
        parse_error: node.parse_error,
        now,
        migrations,
        version_update: store.version_record(feedstock)?.map(VersionUpdate::from),
    })
}

/// The trace of one migration; `None` when the feedstock is neither a member nor
/// excluded by a rule worth naming (the migration does not concern it).
fn trace(
    migrator: &dyn Migrator,
    graph: &GraphSnapshot,
    records: &MigrationRecords,
    inputs: &Inputs,
    cache: &mut CiSupportCache,
    feedstock: &str,
    now: i64,
) -> Option<MigrationTrace> {
    let computed = migration(migrator, graph, records, inputs, cache, now);
    let id = graph.id(feedstock)?;
    let name = migrator.name();
    let node_info = graph.node(id);
    let mut uid = migrator.uid(node_info);
    if let Some(&at) = records.reruns.get(feedstock) {
        uid.bot_rerun = at;
    }
    let uid_key = uid.key();
    let mut views: Vec<RecordView> = records
        .work
        .iter()
        .filter(|r| r.migration == name && r.feedstock == feedstock)
        .map(|r| RecordView {
            uid: r.uid_key.clone(),
            current: r.uid_key == uid_key,
            outcome: r.outcome,
            pr: r.pr.as_ref().map(|p| p.number),
            branch: r.branch.clone(),
            reason: r.reason.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    views.sort_by_key(|v| std::cmp::Reverse(v.updated_at));
    let attempts = records
        .attempts
        .iter()
        .find(|a| a.migration == name && a.feedstock == attempt_key(feedstock, &uid))
        .map(|a| AttemptView {
            attempts: a.attempts,
            last_attempt_at: a.last_attempt_at,
            last_error: a.last_error.clone(),
            retry_at: retry_at(a),
        });
    let base = |membership, state, reason| MigrationTrace {
        migration: name.to_string(),
        kind: migrator.kind(),
        bucket: bucket(migrator),
        membership,
        uid: None,
        records: Vec::new(),
        state,
        reason,
        pr: None,
        parents: Vec::new(),
        children: Vec::new(),
        num_descendants: 0,
        level: 0,
        queue: None,
        attempts: None,
    };

    let Some(status) = computed
        .status
        .nodes
        .iter()
        .find(|n| n.feedstock == feedstock)
    else {
        let (_, rule) = computed.plan.excluded.iter().find(|(e, _)| *e == id)?;
        if irrelevant(rule) {
            return None;
        }
        return Some(MigrationTrace {
            records: views,
            attempts,
            ..base(
                Membership::Excluded {
                    rule: rule.code().to_string(),
                },
                State::Excluded,
                exclusion_reason(rule),
            )
        });
    };
    let queue = match computed.schedule.state(id) {
        Some(NodeState::Ready) => {
            computed
                .schedule
                .ready
                .iter()
                .position(|r| r.id == id)
                .map(|p| QueueView {
                    position: u32::try_from(p + 1).unwrap_or(u32::MAX),
                    ready: u32::try_from(computed.schedule.ready.len()).unwrap_or(u32::MAX),
                    limit: computed.schedule.limit,
                })
        }
        _ => None,
    };
    Some(MigrationTrace {
        uid: Some(uid_key),
        records: views,
        pr: status.pr.clone(),
        parents: parents(status, &computed.status.nodes),
        children: status.children.clone(),
        num_descendants: status.num_descendants,
        level: status.level,
        queue,
        attempts,
        ..base(Membership::Member, status.state, status.reason.clone())
    })
}

/// Every parent of a member, with its state.
fn parents(status: &NodeStatus, nodes: &[NodeStatus]) -> Vec<ParentState> {
    status
        .parents
        .iter()
        .filter_map(|p| nodes.iter().find(|n| &n.feedstock == p))
        .map(|n| ParentState {
            feedstock: n.feedstock.clone(),
            state: n.state,
            code: n.reason.code,
            pr_url: n
                .pr
                .as_ref()
                .map(|p| p.url.clone())
                .filter(|u| !u.is_empty()),
        })
        .collect()
}

impl MigrationTrace {
    /// The decision trace as sentences, in the order the engine decides.
    pub fn steps(&self) -> Vec<String> {
        let mut steps = Vec::new();
        match &self.membership {
            Membership::Excluded { rule } => {
                steps.push(format!(
                    "not in the migration: rule `{rule}`. {}",
                    self.reason.text
                ));
                return steps;
            }
            Membership::Member => steps.push("in the migration".to_string()),
        }
        if let Some(uid) = &self.uid {
            steps.push(format!("uid {uid}"));
        }
        if self.records.is_empty() {
            steps.push("no work recorded yet".to_string());
        }
        for r in &self.records {
            let pr = r.pr.map_or(String::new(), |n| format!(" PR #{n}"));
            let current = if r.current {
                "current uid"
            } else {
                "older uid"
            };
            steps.push(format!("record ({current}): {}{pr}", r.outcome));
        }
        if !self.parents.is_empty() {
            let list: Vec<String> = self
                .parents
                .iter()
                .map(|p| format!("{} ({})", p.feedstock, p.state.as_str()))
                .collect();
            steps.push(format!("parents: {}", list.join(", ")));
        }
        if let Some(a) = self.attempts.as_ref().filter(|a| a.attempts > 0) {
            let error = a.last_error.as_ref().map_or(String::new(), |e| {
                format!("; last error ({}): {}", e.kind.as_str(), e.message)
            });
            steps.push(format!(
                "{} consecutive failed attempt(s){error}",
                a.attempts
            ));
        }
        if let Some(q) = &self.queue {
            steps.push(format!(
                "ready: number {} of {} in the queue; this run opens at most {}",
                q.position, q.ready, q.limit
            ));
        }
        steps.push(format!("{} — {}", self.state.as_str(), self.reason.text));
        steps
    }
}
