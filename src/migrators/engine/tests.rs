//! Every scheduling rule on small constructed graphs, with a tiny migrator whose plan is
//! given by the test.

use std::collections::BTreeMap;

use super::*;
use crate::graph::{AttemptError, AttemptErrorKind, AttemptRecord, PrRef, SectionSet, WorkRecord};
use crate::migrators::migrator::{Change, ChangeInput, MigrateError, MigratorKind, Settings, Uid};
use crate::migrators::snapshot::NodeInfo;

const NOW: i64 = 1_000_000;
const HOUR: i64 = 3600;

/// A migrator with a fixed plan; its uid is `uid` (`Uid::new("m", 1)` unless a test
/// changes it) for every node.
struct Fixed {
    settings: Settings,
    plan: MigrationPlan,
    uid: Uid,
}

impl Migrator for Fixed {
    fn name(&self) -> &str {
        "m"
    }
    fn kind(&self) -> MigratorKind {
        MigratorKind::Pinning
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    fn plan(&self, _graph: &GraphSnapshot) -> MigrationPlan {
        self.plan.clone()
    }
    fn uid(&self, _node: &NodeInfo) -> Uid {
        self.uid.clone()
    }
    fn change(&self, _input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        Ok(Change::NothingToDo {
            reason: "test".to_string(),
        })
    }
}

/// A graph of named nodes and `parent → child` edges, every node a member and every
/// edge a plan edge.
struct Case {
    graph: GraphSnapshot,
    migrator: Fixed,
    records: MigrationRecords,
}

impl Case {
    fn new(names: &[&str], edges: &[(&str, &str)]) -> Case {
        let nodes: Vec<NodeInfo> = names
            .iter()
            .map(|n| NodeInfo {
                name: n.to_string(),
                outputs: vec![n.to_string()],
                ..NodeInfo::default()
            })
            .collect();
        let id = |name: &str| NodeId(names.iter().position(|n| *n == name).unwrap() as u32);
        let graph = GraphSnapshot::from_parts(
            nodes,
            edges
                .iter()
                .map(|(p, c)| (id(p), id(c), SectionSet::default())),
        );
        let mut parents: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
        for (p, c) in edges {
            parents.entry(id(c)).or_default().push(id(p));
        }
        let plan = MigrationPlan {
            members: graph.ids().collect(),
            parents,
            excluded: Vec::new(),
            closeout: None,
        };
        Case {
            graph,
            migrator: Fixed {
                settings: Settings::default(),
                plan,
                uid: Uid::new("m", 1),
            },
            records: MigrationRecords::default(),
        }
    }

    fn id(&self, name: &str) -> NodeId {
        self.graph.id(name).unwrap()
    }

    /// Records work under the current uid.
    fn work(&mut self, feedstock: &str, outcome: WorkOutcome) -> &mut Case {
        self.work_with_uid(feedstock, outcome, &Uid::new("m", 1))
    }

    fn work_with_uid(&mut self, feedstock: &str, outcome: WorkOutcome, uid: &Uid) -> &mut Case {
        self.records
            .work
            .push(record(&uid.migration, feedstock, outcome, uid));
        self
    }

    fn schedule(&self) -> Schedule {
        schedule(
            &self.migrator,
            &self.migrator.plan,
            &self.graph,
            &self.records,
            NOW,
        )
    }

    fn state(&self, name: &str) -> NodeState {
        self.schedule().state(self.id(name)).cloned().unwrap()
    }

    fn waiting(&self, name: &str) -> Vec<String> {
        match self.state(name) {
            NodeState::AwaitingParents { parents } => parents
                .into_iter()
                .map(|p| self.graph.node(p).name.clone())
                .collect(),
            other => panic!("{name} is {other:?}, not awaiting parents"),
        }
    }

    fn ready_names(&self) -> Vec<String> {
        self.schedule()
            .ready
            .iter()
            .map(|r| self.graph.node(r.id).name.clone())
            .collect()
    }
}

fn record(migration: &str, feedstock: &str, outcome: WorkOutcome, uid: &Uid) -> WorkRecord {
    WorkRecord {
        migration: migration.to_string(),
        feedstock: feedstock.to_string(),
        uid_key: uid.key(),
        outcome,
        pr: (outcome != WorkOutcome::NothingToDo).then(|| PrRef {
            feedstock: feedstock.to_string(),
            number: 7,
        }),
        branch: None,
        reason: None,
        created_at: 0,
        updated_at: 0,
    }
}

#[test]
fn a_chain_is_released_one_generation_at_a_time() {
    let case = Case::new(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
    assert_eq!(case.state("a"), NodeState::Ready);
    assert_eq!(case.waiting("b"), vec!["a"]);
    assert_eq!(case.waiting("c"), vec!["b"]);
}

#[test]
fn a_parent_with_an_open_pr_still_gates_its_children() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    case.work("a", WorkOutcome::Open);
    assert_eq!(
        case.state("a"),
        NodeState::InPr {
            pr: Some(PrRef {
                feedstock: "a".to_string(),
                number: 7
            })
        }
    );
    assert_eq!(case.waiting("b"), vec!["a"]);
}

#[test]
fn merged_closed_and_nothing_to_do_parents_all_release_their_children() {
    for (outcome, kind) in [
        (WorkOutcome::Merged, DoneKind::Merged),
        (WorkOutcome::Closed, DoneKind::ClosedUnmerged),
        (WorkOutcome::NothingToDo, DoneKind::NothingToDo),
    ] {
        let mut case = Case::new(&["a", "b"], &[("a", "b")]);
        case.work("a", outcome);
        assert_eq!(case.state("a"), NodeState::Done(kind));
        assert_eq!(case.state("b"), NodeState::Ready, "{outcome}");
    }
}

#[test]
fn records_under_another_uid_do_not_count() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    case.work_with_uid("a", WorkOutcome::Merged, &Uid::new("m", 0));
    assert_eq!(case.state("a"), NodeState::Ready);
    assert_eq!(case.waiting("b"), vec!["a"]);
    assert_eq!(case.schedule().counts.with_work, 0);
}

#[test]
fn an_open_pr_under_an_older_uid_keeps_the_node_in_pr() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    case.work_with_uid("a", WorkOutcome::Open, &Uid::new("m", 0));
    assert!(matches!(case.state("a"), NodeState::InPr { .. }));
    assert_eq!(case.waiting("b"), vec!["a"]);
    assert!(case.schedule().ready.is_empty());
    // Once that PR is merged, the work under the current uid is still to do.
    case.records.work[0].outcome = WorkOutcome::Merged;
    assert_eq!(case.state("a"), NodeState::Ready);
}

#[test]
fn a_uid_key_spelled_differently_still_matches() {
    let mut case = Case::new(&["a"], &[]);
    case.work("a", WorkOutcome::Merged);
    let value: serde_json::Value = serde_json::from_str(&case.records.work[0].uid_key).unwrap();
    case.records.work[0].uid_key = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(case.state("a"), NodeState::Done(DoneKind::Merged));
}

#[test]
fn a_bot_rerun_makes_done_work_ready_again_under_a_new_uid() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    case.work("a", WorkOutcome::Closed);
    case.records.reruns.insert("a".to_string(), 5000);
    assert_eq!(case.state("a"), NodeState::Ready);
    assert_eq!(case.waiting("b"), vec!["a"]);
    let ready = case.schedule().ready;
    assert_eq!(ready[0].uid.bot_rerun, 5000);

    let mut rerun = Uid::new("m", 1);
    rerun.bot_rerun = 5000;
    case.work_with_uid("a", WorkOutcome::Open, &rerun);
    assert!(matches!(case.state("a"), NodeState::InPr { .. }));
}

#[test]
fn ignored_dependencies_do_not_gate() {
    let mut case = Case::new(&["a", "b", "c"], &[("a", "c"), ("b", "c")]);
    case.migrator
        .settings
        .ignored_deps_per_node
        .insert("c".to_string(), vec!["a".to_string()]);
    assert_eq!(case.waiting("c"), vec!["b"]);
    case.work("b", WorkOutcome::Merged);
    assert_eq!(case.state("c"), NodeState::Ready);
}

#[test]
fn members_of_a_cycle_do_not_wait_on_each_other_but_on_the_cycles_parents() {
    // x → a, a ↔ b, b → c
    let mut case = Case::new(
        &["a", "b", "c", "x"],
        &[("x", "a"), ("a", "b"), ("b", "a"), ("b", "c")],
    );
    assert_eq!(case.waiting("a"), vec!["x"]);
    assert_eq!(case.waiting("b"), vec!["x"]);
    case.work("x", WorkOutcome::Merged);
    assert_eq!(case.state("a"), NodeState::Ready);
    assert_eq!(case.state("b"), NodeState::Ready);
    assert_eq!(case.waiting("c"), vec!["b"]);
}

#[test]
fn archived_parents_do_not_gate() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    let mut nodes = case.graph.nodes().to_vec();
    nodes[0].archived = true;
    case.graph = GraphSnapshot::from_parts(nodes, []);
    assert_eq!(case.state("b"), NodeState::Ready);
}

#[test]
fn an_ungated_migration_makes_every_member_ready() {
    let mut case = Case::new(&["a", "b", "c"], &[("a", "b"), ("b", "c")]);
    case.migrator.settings.gated = false;
    assert_eq!(case.ready_names(), vec!["a", "b", "c"]);
}

#[test]
fn the_closeout_node_waits_until_every_other_member_has_a_record() {
    let mut case = Case::new(&["a", "b", "pin"], &[("a", "b")]);
    case.migrator.plan.closeout = Some(case.id("pin"));
    assert_eq!(case.waiting("pin"), vec!["a", "b"]);
    case.work("a", WorkOutcome::Merged);
    assert_eq!(case.waiting("pin"), vec!["b"]);
    // An open PR is enough: "all predecessors issued".
    case.work("b", WorkOutcome::Open);
    assert_eq!(case.state("pin"), NodeState::Ready);
}

#[test]
fn the_closeout_node_waits_even_when_the_migration_is_not_gated() {
    let mut case = Case::new(&["a", "pin"], &[]);
    case.migrator.settings.gated = false;
    case.migrator.plan.closeout = Some(case.id("pin"));
    assert_eq!(case.waiting("pin"), vec!["a"]);
}

#[test]
fn a_node_waits_for_other_migrations_until_all_their_records_are_done() {
    let mut case = Case::new(&["a"], &[]);
    case.migrator.settings.wait_for_migrators = vec!["first".to_string(), "second".to_string()];
    let waiting = |case: &Case| match case.state("a") {
        NodeState::WaitingForMigrators { names } => names,
        other => panic!("{other:?}"),
    };
    assert_eq!(waiting(&case), vec!["first", "second"]);

    let first = Uid::new("first", 1);
    let second = Uid::new("second", 1);
    case.records
        .waited_for
        .push(record("first", "a", WorkOutcome::Merged, &first));
    case.records
        .waited_for
        .push(record("second", "a", WorkOutcome::Open, &second));
    assert_eq!(waiting(&case), vec!["second"]);

    // Any uid counts, but every record must be done.
    let mut old = Uid::new("second", 0);
    old.object_version = Some("1".to_string());
    case.records
        .waited_for
        .push(record("second", "a", WorkOutcome::Closed, &old));
    assert_eq!(waiting(&case), vec!["second"]);
    case.records.waited_for[1].outcome = WorkOutcome::NothingToDo;
    assert_eq!(case.state("a"), NodeState::Ready);
}

#[test]
fn a_paused_migration_keeps_its_records_and_opens_nothing() {
    let mut case = Case::new(&["a", "b"], &[]);
    case.migrator.settings.paused = true;
    case.work("a", WorkOutcome::Open);
    let schedule = case.schedule();
    assert!(matches!(
        schedule.state(case.id("a")),
        Some(NodeState::InPr { .. })
    ));
    assert_eq!(schedule.state(case.id("b")), Some(&NodeState::Paused));
    assert!(schedule.ready.is_empty());
    assert_eq!(schedule.limit, 0);
    assert_eq!((schedule.counts.paused, schedule.counts.in_pr), (1, 1));
}

fn failed(feedstock: &str, attempts: u32, at: i64) -> AttemptRecord {
    AttemptRecord {
        migration: "m".to_string(),
        feedstock: feedstock.to_string(),
        attempts,
        last_attempt_at: at,
        last_error: Some(AttemptError {
            kind: AttemptErrorKind::Migrate,
            message: "recipe/meta.yaml:3: cannot bump".to_string(),
        }),
    }
}

#[test]
fn a_failed_node_backs_off_exponentially_then_is_ready_again() {
    let mut case = Case::new(&["a"], &[]);
    // Two failures, the last one hour ago: 8 h of back-off.
    case.records.attempts.push(failed("a", 2, NOW - HOUR));
    assert_eq!(
        case.state("a"),
        NodeState::BackingOff {
            until: NOW + 7 * HOUR,
            attempts: 2
        }
    );
    case.records.attempts[0].last_attempt_at = NOW - 8 * HOUR + 1;
    assert!(matches!(case.state("a"), NodeState::BackingOff { until, .. } if until == NOW + 1));
    case.records.attempts[0].last_attempt_at = NOW - 8 * HOUR;
    assert_eq!(case.state("a"), NodeState::Ready);
}

#[test]
fn a_successful_last_attempt_does_not_back_off() {
    let mut case = Case::new(&["a"], &[]);
    let mut ok = failed("a", 0, NOW);
    ok.last_error = None;
    case.records.attempts.push(ok);
    assert_eq!(case.state("a"), NodeState::Ready);
}

#[test]
fn ready_nodes_come_by_descendants_then_by_name() {
    // a → b → d, a → c → d (d once), x and y alone.
    let mut case = Case::new(
        &["y", "x", "d", "c", "b", "a"],
        &[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
    );
    case.migrator.settings.gated = false;
    let schedule = case.schedule();
    let order: Vec<(String, u32)> = schedule
        .ready
        .iter()
        .map(|r| (case.graph.node(r.id).name.clone(), r.descendants))
        .collect();
    let expected = [("a", 3), ("b", 1), ("c", 1), ("d", 0), ("x", 0), ("y", 0)];
    assert_eq!(
        order,
        expected
            .iter()
            .map(|(n, d)| (n.to_string(), *d))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_limit_follows_the_ramp_over_members_with_work() {
    let names: Vec<String> = (0..200).map(|i| format!("n{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut case = Case::new(&refs, &[]);
    assert_eq!(case.schedule().limit, 2);
    for name in &refs[..5] {
        case.work(name, WorkOutcome::Merged);
    }
    assert_eq!(case.schedule().limit, 5);
    for name in &refs[5..15] {
        case.work(name, WorkOutcome::Open);
    }
    // n = 15 ≤ T/10 = 20: twice the nominal limit.
    let schedule = case.schedule();
    assert_eq!((schedule.counts.with_work, schedule.limit), (15, 10));
    case.migrator.settings.ramp = false;
    assert_eq!(case.schedule().limit, 5);
}

#[test]
fn counts_add_up_to_the_members() {
    let mut case = Case::new(&["a", "b", "c", "d", "e", "f"], &[("a", "b"), ("c", "d")]);
    case.migrator.settings.wait_for_migrators = Vec::new();
    case.work("a", WorkOutcome::Merged);
    case.work("c", WorkOutcome::Open);
    case.work("e", WorkOutcome::NothingToDo);
    case.records.attempts.push(failed("f", 1, NOW));
    let counts = case.schedule().counts;
    assert_eq!(counts.members, 6);
    assert_eq!(counts.with_work, 3);
    assert_eq!(
        (counts.merged, counts.nothing_to_do, counts.done()),
        (1, 1, 2)
    );
    assert_eq!(
        (counts.in_pr, counts.ready, counts.awaiting_parents),
        (1, 1, 1)
    );
    assert_eq!(counts.backing_off, 1);
}

#[test]
fn members_outside_the_graph_and_non_member_parents_are_ignored() {
    let mut case = Case::new(&["a", "b"], &[("a", "b")]);
    case.migrator.plan.members = vec![case.id("b"), NodeId(99)];
    let schedule = case.schedule();
    assert_eq!(schedule.states.len(), 1);
    assert_eq!(schedule.state(case.id("b")), Some(&NodeState::Ready));
}

#[test]
fn records_of_other_migrations_are_not_this_ones() {
    let mut case = Case::new(&["a"], &[]);
    case.records
        .work
        .push(record("other", "a", WorkOutcome::Merged, &Uid::new("m", 1)));
    assert_eq!(case.state("a"), NodeState::Ready);
}

/// A version-like uid: `m` with the target version as extra.
fn versioned(version: &str) -> Uid {
    let mut uid = Uid::new("m", 1);
    uid.extra.insert("version".to_string(), version.to_string());
    uid
}

#[test]
fn open_prs_under_older_uids_hold_the_node_only_at_max_open_per_node() {
    let mut case = Case::new(&["a"], &[]);
    case.migrator.settings.max_open_per_node = 3;
    case.migrator.uid = versioned("4");
    case.work_with_uid("a", WorkOutcome::Open, &versioned("1"));
    assert_eq!(case.state("a"), NodeState::Ready);
    case.work_with_uid("a", WorkOutcome::Open, &versioned("2"));
    assert_eq!(case.state("a"), NodeState::Ready);
    assert_eq!(case.schedule().ready[0].uid, versioned("4"));
    // A closed one does not count toward the limit.
    case.work_with_uid("a", WorkOutcome::Closed, &versioned("0"));
    assert_eq!(case.state("a"), NodeState::Ready);
    case.work_with_uid("a", WorkOutcome::Open, &versioned("3"));
    assert!(matches!(case.state("a"), NodeState::InPr { .. }));
    assert!(case.schedule().ready.is_empty());
}

#[test]
fn an_open_pr_under_the_current_uid_is_in_pr_whatever_max_open_per_node() {
    let mut case = Case::new(&["a"], &[]);
    case.migrator.settings.max_open_per_node = 3;
    case.migrator.uid = versioned("2");
    case.work_with_uid("a", WorkOutcome::Open, &versioned("2"));
    assert!(matches!(case.state("a"), NodeState::InPr { .. }));
    case.records.work[0].outcome = WorkOutcome::Merged;
    assert_eq!(case.state("a"), NodeState::Done(DoneKind::Merged));
}

#[test]
fn max_open_per_node_of_one_keeps_the_old_single_pr_rule() {
    let mut case = Case::new(&["a"], &[]);
    assert_eq!(case.migrator.settings.max_open_per_node, 1);
    case.migrator.uid = versioned("2");
    case.work_with_uid("a", WorkOutcome::Open, &versioned("1"));
    assert!(matches!(case.state("a"), NodeState::InPr { .. }));
}

#[test]
fn back_off_applies_to_the_work_of_the_failed_uid_only() {
    let mut case = Case::new(&["a"], &[]);
    case.migrator.uid = versioned("2");
    case.records
        .attempts
        .push(failed(&attempt_key("a", &versioned("2")), 1, NOW - HOUR));
    assert!(matches!(case.state("a"), NodeState::BackingOff { .. }));
    // A newer target version is new work with its own counter.
    case.migrator.uid = versioned("3");
    assert_eq!(case.state("a"), NodeState::Ready);
}

#[test]
fn attempt_keys_are_the_feedstock_name_for_uids_without_extras() {
    assert_eq!(attempt_key("numpy", &Uid::new("m", 1)), "numpy");
    assert_eq!(attempt_key("numpy", &versioned("2.3.1")), "numpy@2.3.1");
}
