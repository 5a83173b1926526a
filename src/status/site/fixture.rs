//! Hand-made status models for the unit tests of the site's parts. (The behaviour tests
//! in `tests/status_site.rs` run the real pipeline instead.)

use std::collections::BTreeMap;

use crate::migrators::MigratorKind;
use crate::status::model::{
    Bucket, Edge, FeedstockMigration, FeedstockStatus, Forecast, MigrationStatus, NodeStatus,
    Progress, Reason, ReasonCode, ReasonDetail, State, StateCounts, StatusReport,
};

/// A reason with no detail.
pub(crate) fn reason(code: ReasonCode, text: &str) -> Reason {
    Reason {
        code,
        text: text.to_string(),
        detail: ReasonDetail::None,
    }
}

fn code_of(state: State) -> ReasonCode {
    match state {
        State::Done => ReasonCode::DoneMerged,
        State::DoneDeclined => ReasonCode::DoneDeclined,
        State::DoneNothingToDo => ReasonCode::DoneNothingToDo,
        State::Partial => ReasonCode::PartialPlatforms,
        State::InPr => ReasonCode::InPrCiPending,
        State::AwaitingPr => ReasonCode::AwaitingPrNextRun,
        State::AwaitingParents => ReasonCode::AwaitingParents,
        State::NotSolvable => ReasonCode::NotSolvable,
        State::BotError => ReasonCode::BotErrorMigrate,
        State::Excluded => ReasonCode::Excluded,
    }
}

/// A migration of `(feedstock, state, parents)` members, in the given (topological)
/// order; levels, children and descendants are derived.
pub(crate) fn migration(name: &str, members: &[(&str, State, &[&str])]) -> MigrationStatus {
    let mut level: BTreeMap<&str, u32> = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let mut counts = StateCounts::default();
    for (feedstock, state, parents) in members {
        let l = parents
            .iter()
            .filter_map(|p| level.get(p))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        level.insert(feedstock, l);
        for parent in *parents {
            edges.push(Edge {
                parent: parent.to_string(),
                child: feedstock.to_string(),
            });
        }
        counts.total += 1;
        match state {
            State::Done => counts.done += 1,
            State::DoneDeclined => counts.done_declined += 1,
            State::DoneNothingToDo => counts.done_nothing_to_do += 1,
            State::Partial => counts.partial += 1,
            State::InPr => counts.in_pr += 1,
            State::AwaitingPr => counts.awaiting_pr += 1,
            State::AwaitingParents => counts.awaiting_parents += 1,
            State::NotSolvable => counts.not_solvable += 1,
            State::BotError => counts.bot_error += 1,
            State::Excluded => {}
        }
        nodes.push(NodeStatus {
            feedstock: feedstock.to_string(),
            state: *state,
            reason: reason(
                code_of(*state),
                &format!("{feedstock} is {}", state.as_str()),
            ),
            pr: None,
            level: l,
            parents: parents.iter().map(|p| p.to_string()).collect(),
            children: Vec::new(),
            num_descendants: 0,
            attempts: 0,
            last_error: None,
        });
    }
    for edge in &edges {
        if let Some(parent) = nodes.iter_mut().find(|n| n.feedstock == edge.parent) {
            parent.children.push(edge.child.clone());
            parent.num_descendants += 1;
        }
    }
    let done = nodes.iter().filter(|n| n.state.is_done()).count();
    let in_pr = counts.in_pr;
    let total = nodes.len();
    MigrationStatus {
        name: name.to_string(),
        kind: MigratorKind::Pinning,
        bucket: Bucket::Regular,
        description: None,
        pr_limit: 5,
        counts,
        progress: Progress {
            done,
            in_pr,
            total,
            fraction_done: done as f64 / total.max(1) as f64,
            fraction_done_or_in_pr: (done + in_pr) as f64 / total.max(1) as f64,
        },
        nodes,
        edges,
        excluded: Vec::new(),
        excluded_counts: BTreeMap::new(),
        history: Vec::new(),
        forecast: Forecast::NoEstimate {
            reason: "no merged PR yet".into(),
            critical_path: 1,
        },
        blockers: Vec::new(),
    }
}

/// A report holding `migrations`, with a feedstock entry for every member.
pub(crate) fn report(migrations: Vec<MigrationStatus>) -> StatusReport {
    let mut feedstocks: BTreeMap<String, FeedstockStatus> = BTreeMap::new();
    for m in &migrations {
        for node in &m.nodes {
            feedstocks
                .entry(node.feedstock.clone())
                .or_insert_with(|| FeedstockStatus {
                    name: node.feedstock.clone(),
                    version: Some("1.0".into()),
                    archived: false,
                    migrations: Vec::new(),
                })
                .migrations
                .push(FeedstockMigration {
                    migration: m.name.clone(),
                    state: node.state,
                    reason: node.reason.clone(),
                    pr: node.pr.clone(),
                });
        }
    }
    StatusReport {
        generated_at: 1_790_000_000,
        migrations,
        feedstocks,
        definition_errors: Vec::new(),
    }
}
