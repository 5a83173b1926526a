//! [`collect`]: the whole status report from the store, the graph and the registry.
//!
//! Per migration: the plan and the schedule exactly as the run loop computes them
//! (`migrators::schedule` over the same records at the same time), then each member is
//! classified (`classify`), the migration graph's shape computed (`shape`), and the
//! history and forecast attached. Nothing here writes.

use std::collections::{BTreeMap, HashMap};

use crate::graph::{AttemptRecord, GraphError, Store, WorkRecord};
use crate::migrators::registry::Registry;
use crate::migrators::{
    DoneKind, Exclusion, GraphSnapshot, MigrationPlan, MigrationRecords, Migrator, MigratorKind,
    NodeId, NodeState, Schedule, attempt_key, schedule,
};

use super::classify::{Classified, Facts, classify};
use super::forecast::{blockers, forecast};
use super::history::{History, Snapshots, merge_latencies};
use super::model::{
    Bucket, DefinitionError, Edge, ExcludedNode, FeedstockMigration, FeedstockStatus,
    MigrationStatus, NodeStatus, ParentState, Progress, Reason, ReasonCode, ReasonDetail, State,
    StateCounts, StatusReport,
};
use super::partial::CiSupportCache;
use super::shape::Shape;

/// How many parents an awaiting-parents reason lists at most (a close-out node may wait
/// for thousands; the text gives the count).
const PARENTS_LISTED: usize = 50;

/// What every migration's status is computed from, read once.
pub(crate) struct Inputs {
    /// PR snapshots by (feedstock, number).
    pub snapshots: Snapshots,
    /// The runs' history.
    pub history: History,
}

impl Inputs {
    /// Reads the snapshots and the runs.
    pub(crate) fn load(store: &Store) -> Result<Inputs, GraphError> {
        let snapshots = store
            .pr_snapshots()?
            .into_iter()
            .map(|s| ((s.feedstock.clone(), s.number), s))
            .collect();
        Ok(Inputs {
            snapshots,
            history: History::from_runs(&store.runs()?),
        })
    }
}

/// Computes the status of every migration and feedstock at `now` (Unix seconds).
pub fn collect(
    store: &Store,
    graph: &GraphSnapshot,
    registry: &Registry,
    now: i64,
) -> Result<StatusReport, GraphError> {
    let inputs = Inputs::load(store)?;
    let mut cache = CiSupportCache::default();
    let mut migrations = Vec::with_capacity(registry.migrators.len());
    for migrator in &registry.migrators {
        let records = MigrationRecords::load(store, migrator.as_ref())?;
        let computed = migration(migrator.as_ref(), graph, &records, &inputs, &mut cache, now);
        migrations.push(computed.status);
    }
    let feedstocks = feedstocks(graph, &migrations);
    Ok(StatusReport {
        generated_at: now,
        migrations,
        feedstocks,
        definition_errors: registry
            .errors
            .iter()
            .map(|e| DefinitionError {
                file: e.file.display().to_string(),
                message: e.message.clone(),
            })
            .collect(),
    })
}

/// One migration's status plus what `explain` needs beside it.
pub(crate) struct Computed {
    /// The status.
    pub status: MigrationStatus,
    /// The plan it came from.
    pub plan: MigrationPlan,
    /// The engine's schedule.
    pub schedule: Schedule,
}

/// The bucket a migration goes in.
pub(crate) fn bucket(migrator: &dyn Migrator) -> Bucket {
    let settings = migrator.settings();
    if settings.paused {
        Bucket::Paused
    } else if settings.longterm || migrator.kind() == MigratorKind::Architecture {
        Bucket::Longterm
    } else {
        Bucket::Regular
    }
}

/// Computes one migration's status.
pub(crate) fn migration(
    migrator: &dyn Migrator,
    graph: &GraphSnapshot,
    records: &MigrationRecords,
    inputs: &Inputs,
    cache: &mut CiSupportCache,
    now: i64,
) -> Computed {
    let name = migrator.name();
    let mut plan = migrator.plan(graph);
    plan.keep_recorded(graph, |f| records.has_work_on(f));
    let schedule = schedule(migrator, &plan, graph, records, now);

    let members: Vec<NodeId> = schedule.states.keys().copied().collect();
    let index: HashMap<NodeId, u32> = members
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, i as u32))
        .collect();
    let mut edges = Vec::new();
    for (child, parents) in &plan.parents {
        let Some(&c) = index.get(child) else {
            continue;
        };
        edges.extend(parents.iter().filter_map(|p| index.get(p)).map(|&p| (p, c)));
    }
    edges.sort_unstable();
    edges.dedup();

    let mut work: HashMap<&str, Vec<&WorkRecord>> = HashMap::new();
    for record in records.work.iter().filter(|r| r.migration == name) {
        work.entry(record.feedstock.as_str())
            .or_default()
            .push(record);
    }
    // Attempts are recorded under `attempt_key(feedstock, uid)`: per piece of work when
    // the uid has extras (a version update, a maintenance rerender's pinning hash).
    let attempts: HashMap<&str, &AttemptRecord> = records
        .attempts
        .iter()
        .filter(|a| a.migration == name)
        .map(|a| (a.feedstock.as_str(), a))
        .collect();
    let positions: HashMap<NodeId, u32> = schedule
        .ready
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i as u32 + 1))
        .collect();
    let ready_count = u32::try_from(schedule.ready.len()).unwrap_or(u32::MAX);

    let attempt_of = |id: NodeId| {
        let node = graph.node(id);
        let key = attempt_key(&node.name, &migrator.uid(node));
        attempts.get(key.as_str()).copied()
    };
    let mut classified: Vec<Classified> = Vec::with_capacity(members.len());
    for (&id, engine) in &schedule.states {
        let node = graph.node(id);
        let record = record_for(engine, work.get(node.name.as_str()));
        let partial = match engine {
            NodeState::Done(DoneKind::Merged | DoneKind::NothingToDo)
                if migrator.kind() == MigratorKind::Pinning =>
            {
                cache.partial(&node.path, name)
            }
            _ => None,
        };
        classified.push(classify(
            Facts {
                engine,
                record,
                attempt: attempt_of(id),
                position: positions.get(&id).copied(),
                limit: schedule.limit,
                ready: ready_count,
                closeout: plan.closeout == Some(id),
                partial,
            },
            &inputs.snapshots,
        ));
    }

    // Awaiting-parents details name the parents' states.
    let parent_states: Vec<ParentState> = members
        .iter()
        .zip(&classified)
        .map(|(&id, c)| ParentState {
            feedstock: graph.node(id).name.clone(),
            state: c.state,
            code: c.reason.code,
            pr_url: c
                .pr
                .as_ref()
                .map(|p| p.url.clone())
                .filter(|u| !u.is_empty()),
        })
        .collect();
    for (&id, c) in members.iter().zip(classified.iter_mut()) {
        if let (
            Some(NodeState::AwaitingParents { parents }),
            ReasonDetail::Parents { parents: list },
        ) = (schedule.states.get(&id), &mut c.reason.detail)
        {
            *list = parents
                .iter()
                .filter_map(|p| index.get(p))
                .filter_map(|&m| parent_states.get(m as usize).cloned())
                .take(PARENTS_LISTED)
                .collect();
            if !c.reason.code.eq(&ReasonCode::AwaitingCloseout) {
                let names: Vec<&str> = list.iter().map(|p| p.feedstock.as_str()).collect();
                c.reason.text = format!(
                    "Waiting for its parent(s) to be done: {}.",
                    names.join(", ")
                );
            }
        }
    }

    let done: Vec<bool> = classified.iter().map(|c| c.state.is_done()).collect();
    let shape = Shape::new(members.len(), &edges, &done);
    let name_of = |m: u32| graph.node(members[m as usize]).name.clone();
    let mut parents_of: Vec<Vec<String>> = vec![Vec::new(); members.len()];
    let mut children_of: Vec<Vec<String>> = vec![Vec::new(); members.len()];
    for &(p, c) in &edges {
        parents_of[c as usize].push(name_of(p));
        children_of[p as usize].push(name_of(c));
    }

    let mut counts = StateCounts {
        total: members.len(),
        ..StateCounts::default()
    };
    let mut nodes: Vec<NodeStatus> = Vec::with_capacity(members.len());
    for (m, (&id, c)) in members.iter().zip(classified).enumerate() {
        let node = graph.node(id);
        count(&mut counts, c.state);
        let attempt = attempt_of(id);
        let mut parents = std::mem::take(&mut parents_of[m]);
        parents.sort();
        let mut children = std::mem::take(&mut children_of[m]);
        children.sort();
        nodes.push(NodeStatus {
            feedstock: node.name.clone(),
            state: c.state,
            reason: c.reason,
            pr: c.pr,
            level: shape.levels[m],
            parents,
            children,
            num_descendants: shape.descendants[m],
            attempts: attempt.map_or(0, |a| a.attempts),
            last_error: attempt
                .and_then(|a| a.last_error.as_ref())
                .map(|e| e.message.clone()),
        });
    }
    let blockers = blockers(&nodes, &shape.held_back);
    let critical_chain: Vec<String> = shape.critical_chain.iter().map(|&m| name_of(m)).collect();
    let progress = progress(&counts);
    let latencies = merge_latencies(&records.work);
    let last_done = records
        .work
        .iter()
        .filter(|r| r.migration == name && r.outcome.is_done())
        .map(|r| r.updated_at)
        .max();
    let forecast = forecast(&super::forecast::ForecastInputs {
        paused: migrator.settings().paused,
        counts: &counts,
        limit: schedule.limit,
        critical_chain,
        latencies: &latencies,
        run_intervals: &inputs.history.run_intervals(),
        last_done,
        now,
    });
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| {
        (nodes[a].level, &nodes[a].feedstock).cmp(&(nodes[b].level, &nodes[b].feedstock))
    });
    let mut slots: Vec<Option<NodeStatus>> = nodes.into_iter().map(Some).collect();
    let nodes: Vec<NodeStatus> = order.into_iter().filter_map(|i| slots[i].take()).collect();
    let mut edges: Vec<Edge> = edges
        .iter()
        .map(|&(p, c)| Edge {
            parent: name_of(p),
            child: name_of(c),
        })
        .collect();
    edges.sort();

    let (excluded, excluded_counts) = exclusions(&plan, graph);
    let status = MigrationStatus {
        name: name.to_string(),
        kind: migrator.kind(),
        bucket: bucket(migrator),
        description: None,
        pr_limit: schedule.limit,
        counts,
        progress,
        nodes,
        edges,
        excluded,
        excluded_counts,
        history: inputs.history.points.get(name).cloned().unwrap_or_default(),
        forecast,
        blockers,
    };
    Computed {
        status,
        plan,
        schedule,
    }
}

/// The record an engine state comes from: for done members, the latest record whose
/// outcome gives that kind; for in-PR members, the one holding the PR.
fn record_for<'a>(
    engine: &NodeState,
    records: Option<&Vec<&'a WorkRecord>>,
) -> Option<&'a WorkRecord> {
    let records = records?;
    let latest = |keep: &dyn Fn(&WorkRecord) -> bool| {
        records
            .iter()
            .copied()
            .filter(|r| keep(r))
            .max_by_key(|r| r.updated_at)
    };
    match engine {
        NodeState::Done(kind) => latest(&|r| done_kind(r) == Some(*kind)),
        NodeState::InPr { pr } => latest(&|r| r.pr == *pr && !r.outcome.is_done()),
        _ => None,
    }
}

fn done_kind(record: &WorkRecord) -> Option<DoneKind> {
    use crate::graph::WorkOutcome;
    match record.outcome {
        WorkOutcome::Open => None,
        WorkOutcome::Merged => Some(DoneKind::Merged),
        WorkOutcome::Closed => Some(DoneKind::ClosedUnmerged),
        WorkOutcome::NothingToDo => Some(DoneKind::NothingToDo),
    }
}

fn count(counts: &mut StateCounts, state: State) {
    let slot = match state {
        State::Done => &mut counts.done,
        State::DoneDeclined => &mut counts.done_declined,
        State::DoneNothingToDo => &mut counts.done_nothing_to_do,
        State::Partial => &mut counts.partial,
        State::InPr => &mut counts.in_pr,
        State::AwaitingPr => &mut counts.awaiting_pr,
        State::AwaitingParents => &mut counts.awaiting_parents,
        State::NotSolvable => &mut counts.not_solvable,
        State::BotError => &mut counts.bot_error,
        State::Excluded => return,
    };
    *slot += 1;
}

/// Progress: done counts every done state and partial (the engine treats both as done).
fn progress(counts: &StateCounts) -> Progress {
    let done = counts.done + counts.done_declined + counts.done_nothing_to_do + counts.partial;
    let fraction = |n: usize| {
        if counts.total == 0 {
            1.0
        } else {
            n as f64 / counts.total as f64
        }
    };
    Progress {
        done,
        in_pr: counts.in_pr,
        total: counts.total,
        fraction_done: fraction(done),
        fraction_done_or_in_pr: fraction(done + counts.in_pr),
    }
}

/// True for the rules that leave out feedstocks the migration simply does not concern;
/// they are counted, not listed.
pub(crate) fn irrelevant(rule: &Exclusion) -> bool {
    matches!(rule, Exclusion::NotAffected | Exclusion::NotInAllowlist)
}

/// The listed exclusions and the counts per rule.
fn exclusions(
    plan: &MigrationPlan,
    graph: &GraphSnapshot,
) -> (Vec<ExcludedNode>, BTreeMap<String, usize>) {
    let mut counts = BTreeMap::new();
    let mut listed = Vec::new();
    for (id, rule) in &plan.excluded {
        *counts.entry(rule.code().to_string()).or_insert(0) += 1;
        if id.index() >= graph.len() || irrelevant(rule) {
            continue;
        }
        listed.push(ExcludedNode {
            feedstock: graph.node(*id).name.clone(),
            reason: exclusion_reason(rule),
        });
    }
    listed.sort_by(|a, b| a.feedstock.cmp(&b.feedstock));
    (listed, counts)
}

/// The reason of an exclusion.
pub(crate) fn exclusion_reason(rule: &Exclusion) -> Reason {
    let (text, detail) = match rule {
        Exclusion::Archived => ("The repository is archived.".to_string(), None),
        Exclusion::ParseError => (
            "The recipe failed to parse or render, so the bot cannot tell what it needs."
                .to_string(),
            None,
        ),
        Exclusion::RecipeFormat => (
            "The recipe format is one this migration does not handle.".to_string(),
            None,
        ),
        Exclusion::NotAffected => (
            "Nothing it builds with is affected by this migration.".to_string(),
            None,
        ),
        Exclusion::Noarch => (
            "Every output is noarch and the migration does not include noarch feedstocks."
                .to_string(),
            None,
        ),
        Exclusion::ExcludedByName => (
            "The migration's definition excludes it by name.".to_string(),
            None,
        ),
        Exclusion::ProducesPinnedPackage => (
            "It produces a package the migration pins (`exclude_pinned_pkgs`).".to_string(),
            None,
        ),
        Exclusion::PlatformAllowlist => (
            "It builds on none of the migration's platforms.".to_string(),
            None,
        ),
        Exclusion::NotInAllowlist => (
            "It is neither in the migration's allowlist nor needed by anything in it.".to_string(),
            None,
        ),
        Exclusion::AlreadyMigrated { detail } => (
            format!("It already has what the migration adds: {detail}."),
            Some(detail.clone()),
        ),
    };
    Reason {
        code: ReasonCode::Excluded,
        text,
        detail: ReasonDetail::Exclusion {
            rule: rule.code().to_string(),
            detail,
        },
    }
}

/// Every feedstock of the graph with its place in each migration that concerns it.
fn feedstocks(
    graph: &GraphSnapshot,
    migrations: &[MigrationStatus],
) -> BTreeMap<String, FeedstockStatus> {
    let mut out: BTreeMap<String, FeedstockStatus> = graph
        .ids()
        .map(|id| {
            let node = graph.node(id);
            (
                node.name.clone(),
                FeedstockStatus {
                    name: node.name.clone(),
                    version: node.version.clone(),
                    archived: node.archived,
                    migrations: Vec::new(),
                },
            )
        })
        .collect();
    for m in migrations {
        for node in &m.nodes {
            if let Some(f) = out.get_mut(&node.feedstock) {
                f.migrations.push(FeedstockMigration {
                    migration: m.name.clone(),
                    state: node.state,
                    reason: node.reason.clone(),
                    pr: node.pr.clone(),
                });
            }
        }
        for excluded in &m.excluded {
            if let Some(f) = out.get_mut(&excluded.feedstock) {
                f.migrations.push(FeedstockMigration {
                    migration: m.name.clone(),
                    state: State::Excluded,
                    reason: excluded.reason.clone(),
                    pr: None,
                });
            }
        }
    }
    out
}
