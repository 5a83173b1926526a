//! One migration in one run: plan, schedule, then work through the ready nodes in
//! order until the PR limit is reached — computing each change set, pushing it, opening
//! (or finding) the PR, and recording the outcome.
//!
//! Order of effects for one node, each followed by a checkpoint: push the branch → open
//! the PR (the forge returns the open PR with that head if there is one) → update its
//! texts if they differ → record the work → record the attempt. A run killed anywhere in
//! between redoes the node: the branch name is derived from the uid, so the push lands on
//! the same branch and the PR is found, not duplicated.
//!
//! A spent rate limit on any of those forge calls stops the migration and the run
//! ([`Flow`]): the node is left as not reached — no attempt error, no back-off — and the
//! next run redoes it the same way a killed run's successor does.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use serde::Serialize;

use crate::feedstock::{Snapshot, config};
use crate::forge::{Forge, ForgeError, NewPullRequest, PullRequest};
use crate::graph::{
    AttemptError, AttemptErrorKind, GraphError, PrRef, Store, WorkOutcome, WorkRecord,
};
use crate::migrators::{
    Change, ChangeInput, ChangeSet, GraphSnapshot, Identity, MigrationPlan, MigrationRecords,
    Migrator, NodeId, NodeState, ReadyNode, Schedule, StateCounts, attempt_key, schedule,
};
use crate::pinning::Pinning;

use super::branch::{branch_name, commit_spec, diff};
use super::checkouts::Checkout;
use super::checkpoint;
use super::stop::{Flow, GO_ON, Stopped};

/// How many ready nodes may be tried per PR allowed (the bot's `PR_ATTEMPT_LIMIT_FACTOR`).
const ATTEMPT_FACTOR: u32 = 2;

/// How many downstream children a PR body lists.
const CHILDREN_IN_BODY: usize = 5;

/// A PR opened, found or planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrOutcome {
    /// The feedstock.
    pub feedstock: String,
    /// The PR number (`None` in a dry run).
    pub number: Option<u64>,
    /// Its title.
    pub title: String,
    /// The head branch.
    pub branch: String,
    /// Its descendants in the migration graph (the ordering key).
    pub descendants: u32,
    /// The diff (dry runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// What one migration did in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationRun {
    /// The migration.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    /// Paused migrations are planned but open nothing.
    pub paused: bool,
    /// Longterm migrations run after the others.
    pub longterm: bool,
    /// Members per state before this run acted.
    pub counts: StateCounts,
    /// Members excluded, per rule.
    pub excluded: BTreeMap<&'static str, usize>,
    /// The PR limit of this run (the ramp).
    pub limit: u32,
    /// PRs opened (or, in a dry run, that would be).
    pub opened: Vec<PrOutcome>,
    /// Feedstocks found already migrated (recorded as done, no PR).
    pub nothing_to_do: Vec<(String, String)>,
    /// Feedstocks whose attempt failed, with the message.
    pub errors: Vec<(String, String)>,
    /// The not-done members holding the most others back, most first (at most five).
    pub blockers: Vec<Blocker>,
}

/// A member others wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The feedstock.
    pub feedstock: String,
    /// Its state code (`in-pr`, `ready`, `awaiting-parents`, ...).
    pub state: &'static str,
    /// Members waiting directly on it.
    pub waiting: usize,
}

/// How many blockers a run reports per migration.
const BLOCKERS_REPORTED: usize = 5;

/// What a migration's work needs from the run.
pub(super) struct Context<'a> {
    pub store: &'a Store,
    pub forge: &'a dyn Forge,
    pub graph: &'a GraphSnapshot,
    pub checkouts: &'a BTreeMap<String, Checkout>,
    pub pinning: &'a Pinning,
    pub identity: &'a Identity,
    pub now: i64,
    pub dry_run: bool,
}

/// Runs one migration; returns what it did, and whether the run goes on.
pub(super) fn run_migration(
    cx: &Context<'_>,
    migrator: &dyn Migrator,
) -> Result<(MigrationRun, Flow), GraphError> {
    let mut plan = migrator.plan(cx.graph);
    let records = MigrationRecords::load(cx.store, migrator)?;
    plan.keep_recorded(cx.graph, |f| records.has_work_on(f));
    let schedule = schedule(migrator, &plan, cx.graph, &records, cx.now);
    let mut excluded = BTreeMap::new();
    for (_, rule) in &plan.excluded {
        *excluded.entry(rule.code()).or_insert(0) += 1;
    }
    let mut run = MigrationRun {
        name: migrator.name().to_string(),
        kind: migrator.kind().as_str(),
        paused: migrator.settings().paused,
        longterm: migrator.settings().longterm,
        counts: schedule.counts,
        excluded,
        limit: schedule.limit,
        opened: Vec::new(),
        nothing_to_do: Vec::new(),
        errors: Vec::new(),
        blockers: blockers(&schedule, cx.graph),
    };
    let children = children_of(&plan, cx.graph);
    let max_tries = usize::try_from(schedule.limit.saturating_mul(ATTEMPT_FACTOR)).unwrap_or(0);
    for ready in schedule.ready.iter().take(max_tries) {
        let opened = u32::try_from(run.opened.len()).unwrap_or(u32::MAX);
        if opened >= schedule.limit {
            break;
        }
        let node_children = children.get(&ready.id).map_or(&[][..], Vec::as_slice);
        let flow = attempt(cx, migrator, &plan, ready, node_children, &mut run)?;
        if flow.is_break() {
            return Ok((run, flow));
        }
    }
    Ok((run, GO_ON))
}

/// The parents most often waited for, with their own state.
fn blockers(schedule: &Schedule, graph: &GraphSnapshot) -> Vec<Blocker> {
    let mut waiting: HashMap<NodeId, usize> = HashMap::new();
    for state in schedule.states.values() {
        if let NodeState::AwaitingParents { parents } = state {
            for parent in parents {
                *waiting.entry(*parent).or_default() += 1;
            }
        }
    }
    let mut list: Vec<Blocker> = waiting
        .into_iter()
        .map(|(id, waiting)| Blocker {
            feedstock: graph.node(id).name.clone(),
            state: schedule.state(id).map_or("outside", NodeState::code),
            waiting,
        })
        .collect();
    list.sort_by(|a, b| {
        b.waiting
            .cmp(&a.waiting)
            .then(a.feedstock.cmp(&b.feedstock))
    });
    list.truncate(BLOCKERS_REPORTED);
    list
}

/// Each member's children in the migration graph, most-connected first, by name.
fn children_of(plan: &MigrationPlan, graph: &GraphSnapshot) -> HashMap<NodeId, Vec<String>> {
    let mut children: HashMap<NodeId, Vec<String>> = HashMap::new();
    for (child, parents) in &plan.parents {
        for parent in parents {
            children
                .entry(*parent)
                .or_default()
                .push(graph.node(*child).name.clone());
        }
    }
    for list in children.values_mut() {
        list.sort();
        list.dedup();
    }
    children
}

fn attempt(
    cx: &Context<'_>,
    migrator: &dyn Migrator,
    plan: &MigrationPlan,
    ready: &ReadyNode,
    children: &[String],
    run: &mut MigrationRun,
) -> Result<Flow, GraphError> {
    let node = cx.graph.node(ready.id);
    let name = migrator.name();
    let fail = |run: &mut MigrationRun, kind: AttemptErrorKind, message: String| {
        tracing::warn!(migration = name, feedstock = %node.name, %message, "attempt failed");
        run.errors.push((node.name.clone(), message.clone()));
        if cx.dry_run {
            return Ok(GO_ON);
        }
        cx.store.record_attempt(
            name,
            &attempt_key(&node.name, &ready.uid),
            Some(&AttemptError { kind, message }),
            cx.now,
        )?;
        checkpoint::reached("attempt failed");
        Ok::<Flow, GraphError>(GO_ON)
    };
    // A forge error fails the attempt, unless it stops the whole run: then the node was
    // simply not reached.
    let forge_failed = |run: &mut MigrationRun, err: ForgeError| match Stopped::from_forge(&err) {
        Some(stopped) => {
            tracing::info!(migration = name, feedstock = %node.name, "stopped here; left for the next run");
            Ok(ControlFlow::Break(stopped))
        }
        None => fail(run, AttemptErrorKind::Forge, err.to_string()),
    };
    let Some(checkout) = cx.checkouts.get(&node.name) else {
        return fail(
            run,
            AttemptErrorKind::Forge,
            format!("no checkout of `{}-feedstock` on the forge", node.name),
        );
    };
    let files = match Snapshot::read(&checkout.path) {
        Ok(files) => files,
        Err(err) => return fail(run, AttemptErrorKind::Migrate, err.to_string()),
    };
    let forge_config = match files.text("conda-forge.yml").map(config::parse) {
        None => config::ForgeConfig::default(),
        Some(Ok(parsed)) => parsed,
        Some(Err(err)) => {
            return fail(
                run,
                AttemptErrorKind::Migrate,
                format!("{}-feedstock/conda-forge.yml: {err}", node.name),
            );
        }
    };
    let mut listed: Vec<String> = children.to_vec();
    listed.truncate(CHILDREN_IN_BODY);
    let input = ChangeInput {
        node,
        files: &files,
        config: &forge_config,
        pinning: cx.pinning,
        children: &listed,
        closeout: plan.closeout == Some(ready.id),
        identity: cx.identity,
    };
    let change = match migrator.change(&input) {
        Ok(change) => change,
        Err(err) => {
            return fail(
                run,
                AttemptErrorKind::Migrate,
                format!("{}-feedstock: {err}", node.name),
            );
        }
    };
    let uid_key = ready.uid.key();
    let record = |outcome, pr: Option<PrRef>, branch: Option<String>, reason| WorkRecord {
        migration: name.to_string(),
        feedstock: node.name.clone(),
        uid_key: uid_key.clone(),
        outcome,
        pr,
        branch,
        reason,
        created_at: cx.now,
        updated_at: cx.now,
    };
    let change = match change {
        Change::NothingToDo { reason } => {
            run.nothing_to_do.push((node.name.clone(), reason.clone()));
            if !cx.dry_run {
                cx.store.record_work(&record(
                    WorkOutcome::NothingToDo,
                    None,
                    None,
                    Some(reason),
                ))?;
                checkpoint::reached("nothing to do recorded");
                cx.store.record_attempt(
                    name,
                    &attempt_key(&node.name, &ready.uid),
                    None,
                    cx.now,
                )?;
                checkpoint::reached("attempt recorded");
            }
            return Ok(GO_ON);
        }
        Change::Files(change) => change,
    };
    let branch = branch_name(&change, &ready.uid);
    let body = with_uid_marker(&change, &uid_key);
    if cx.dry_run {
        run.opened.push(PrOutcome {
            feedstock: node.name.clone(),
            number: None,
            title: change.title.clone(),
            branch,
            descendants: ready.descendants,
            diff: Some(diff(&change, &files)),
        });
        return Ok(GO_ON);
    }
    let pushed = cx.forge.push_branch(
        &node.name,
        &checkout.base,
        &branch,
        &commit_spec(&change, cx.identity),
    );
    if let Err(err) = pushed {
        return forge_failed(run, err);
    }
    checkpoint::reached("pushed");
    let opened = cx.forge.open_pr(&NewPullRequest {
        feedstock: node.name.clone(),
        head: branch.clone(),
        base: checkout.repo.default_branch.clone(),
        title: change.title.clone(),
        body: body.clone(),
    });
    let pr = match opened {
        Ok(pr) => pr,
        Err(err) => return forge_failed(run, err),
    };
    checkpoint::reached("opened");
    if (pr.title != change.title || pr.body != body)
        && let Err(err) = cx
            .forge
            .update_pr(&node.name, pr.number, &change.title, &body)
    {
        return forge_failed(run, err);
    }
    cx.store.record_pr(&super::refresh::snapshot(
        &PullRequest {
            title: change.title.clone(),
            ..pr.clone()
        },
        cx.now,
    ))?;
    cx.store.record_work(&record(
        WorkOutcome::Open,
        Some(PrRef {
            feedstock: node.name.clone(),
            number: pr.number,
        }),
        Some(branch.clone()),
        None,
    ))?;
    checkpoint::reached("work recorded");
    cx.store
        .record_attempt(name, &attempt_key(&node.name, &ready.uid), None, cx.now)?;
    checkpoint::reached("attempt recorded");
    tracing::info!(migration = name, feedstock = %node.name, number = pr.number, "PR open");
    run.opened.push(PrOutcome {
        feedstock: node.name.clone(),
        number: Some(pr.number),
        title: change.title,
        branch,
        descendants: ready.descendants,
        diff: None,
    });
    Ok(GO_ON)
}

/// The PR body with the uid as an HTML comment at the end: invisible on the forge, and
/// enough to tell which work a PR belongs to if the store is ever lost.
fn with_uid_marker(change: &ChangeSet, uid_key: &str) -> String {
    let escaped = uid_key.replace("--", "-\u{2010}");
    format!(
        "{}\n\n<!-- cascade-uid: {escaped} -->\n",
        change.body.trim_end()
    )
}
