//! `status::explain` and `cascade explain`: one test per reason code, each on a
//! constructed scenario — hand-made feedstocks built into a real SQLite graph, a
//! migration over them, and work, attempt and PR-snapshot records written through the
//! store as the run loop writes them — plus the CLI end to end (human text, `--json`,
//! exit 2 for an unknown feedstock).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cascade::graph::{
    self, AttemptError, AttemptErrorKind, BuildOptions, NoReporter, PrRef, PrSnapshot, SnapshotCi,
    SnapshotMergeable, SnapshotState, Store, VersionCheck, VersionCheckStatus, WorkOutcome,
    WorkRecord,
};
use cascade::migrators::registry::Registry;
use cascade::migrators::{
    Change, ChangeInput, Exclusion, GraphSnapshot, MigrateError, MigrationPlan, Migrator,
    MigratorKind, NodeId, NodeInfo, Settings, Uid,
};
use cascade::recipe::Section;
use cascade::status::{
    self, ExplainError, Membership, MigrationTrace, ReasonCode, ReasonDetail, State,
};

const MIGRATION: &str = "zlib2";
const NOW: i64 = 1_780_000_000;

/// A pinning-style migration of every feedstock with `zlib` in host, gated on host
/// edges among members, closing out on `conda-forge-pinning`, excluding some by name.
struct Rebuild {
    settings: Settings,
    exclude: Vec<String>,
    extra: BTreeMap<String, String>,
}

impl Migrator for Rebuild {
    fn name(&self) -> &str {
        MIGRATION
    }
    fn kind(&self) -> MigratorKind {
        MigratorKind::Pinning
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let mut plan = MigrationPlan {
            closeout: graph.id("conda-forge-pinning"),
            ..MigrationPlan::default()
        };
        for id in graph.ids() {
            let node = graph.node(id);
            if Some(id) == plan.closeout {
                plan.members.push(id);
            } else if !node.section(Section::Host).any(|r| r == "zlib") {
                plan.excluded.push((id, Exclusion::NotAffected));
            } else if self.exclude.contains(&node.name) {
                plan.excluded.push((id, Exclusion::ExcludedByName));
            } else {
                plan.members.push(id);
            }
        }
        for &id in &plan.members {
            let parents: Vec<NodeId> = graph
                .parents(id)
                .iter()
                .filter(|(p, _)| plan.members.contains(p))
                .map(|(p, _)| *p)
                .collect();
            if !parents.is_empty() {
                plan.parents.insert(id, parents);
            }
        }
        plan
    }
    fn uid(&self, _node: &NodeInfo) -> Uid {
        Uid {
            extra: self.extra.clone(),
            ..Uid::new(MIGRATION, 1)
        }
    }
    fn change(&self, _input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        Ok(Change::NothingToDo {
            reason: "test migrator".to_string(),
        })
    }
}

/// Writes a v1 feedstock with `host` requirements, rendered for linux-64 and osx-64.
fn feedstock(root: &Path, name: &str, host: &[&str]) {
    let dir = root.join(format!("{name}-feedstock"));
    fs_err::create_dir_all(dir.join("recipe")).unwrap();
    fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
    let mut recipe =
        format!("schema_version: 1\n\npackage:\n  name: {name}\n  version: \"1.0\"\n\n");
    if !host.is_empty() {
        recipe.push_str("requirements:\n  host:\n");
        for h in host {
            recipe.push_str(&format!("    - {h}\n"));
        }
    }
    fs_err::write(dir.join("recipe/recipe.yaml"), recipe).unwrap();
    for platform in ["linux_64", "osx_64"] {
        fs_err::write(
            dir.join(format!(".ci_support/{platform}_.yaml")),
            format!(
                "target_platform:\n- {}\nzlib:\n- '1'\n",
                platform.replace('_', "-")
            ),
        )
        .unwrap();
    }
}

/// The scenario: `zlib` (the pinned package), a chain `a → b → c`, independent `d`,
/// `e`, `f`, `x` (excluded by name), and the close-out `conda-forge-pinning`.
struct Scenario {
    dir: tempfile::TempDir,
    store: Store,
    graph: GraphSnapshot,
    settings: Settings,
    /// Extra identity of the migration's uid (a version update has the version).
    extra: BTreeMap<String, String>,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkouts");
        feedstock(&root, "zlib", &[]);
        feedstock(&root, "a", &["zlib"]);
        feedstock(&root, "b", &["zlib", "a"]);
        feedstock(&root, "c", &["zlib", "b"]);
        for name in ["d", "e", "f", "x"] {
            feedstock(&root, name, &["zlib"]);
        }
        feedstock(&root, "conda-forge-pinning", &[]);
        let db = dir.path().join("cascade.sqlite");
        graph::build(
            &BuildOptions {
                feedstocks_dir: root,
                db_path: db.clone(),
            },
            &NoReporter,
        )
        .unwrap();
        let store = Store::open(&db).unwrap();
        let graph = GraphSnapshot::load(&store).unwrap();
        Scenario {
            dir,
            store,
            graph,
            settings: Settings {
                pr_limit: 2,
                ramp: false,
                ..Settings::default()
            },
            extra: BTreeMap::new(),
        }
    }

    fn checkout(&self, name: &str) -> PathBuf {
        self.dir
            .path()
            .join("checkouts")
            .join(format!("{name}-feedstock"))
    }

    fn registry(&self) -> Registry {
        Registry {
            migrators: vec![Box::new(Rebuild {
                settings: self.settings.clone(),
                exclude: vec!["x".to_string()],
                extra: self.extra.clone(),
            })],
            errors: Vec::new(),
        }
    }

    fn explain(&self, feedstock: &str) -> MigrationTrace {
        let explanation = status::explain(
            &self.store,
            &self.graph,
            &self.registry(),
            feedstock,
            Some(MIGRATION),
            NOW,
        )
        .unwrap();
        assert_eq!(explanation.migrations.len(), 1);
        explanation.migrations.into_iter().next().unwrap()
    }

    fn work(&self, feedstock: &str, outcome: WorkOutcome, number: Option<u64>) {
        self.store
            .record_work(&WorkRecord {
                migration: MIGRATION.to_string(),
                feedstock: feedstock.to_string(),
                uid_key: Uid {
                    extra: self.extra.clone(),
                    ..Uid::new(MIGRATION, 1)
                }
                .key(),
                outcome,
                pr: number.map(|number| PrRef {
                    feedstock: feedstock.to_string(),
                    number,
                }),
                branch: number.map(|_| "rebuild-zlib2".to_string()),
                reason: (outcome == WorkOutcome::NothingToDo)
                    .then(|| "zlib 2 is already pinned".to_string()),
                created_at: NOW - 7200,
                updated_at: NOW - 3600,
            })
            .unwrap();
    }

    fn pr(&self, feedstock: &str, number: u64, state: SnapshotState, ci: SnapshotCi) -> PrSnapshot {
        let snapshot = PrSnapshot {
            feedstock: feedstock.to_string(),
            number,
            state,
            draft: false,
            ci,
            mergeable: SnapshotMergeable::Clean,
            title: "Rebuild for zlib 2".to_string(),
            url: format!("https://forge.test/{feedstock}-feedstock/pull/{number}"),
            created_at: NOW - 7200,
            updated_at: NOW - 3600,
            closed_at: (state != SnapshotState::Open).then_some(NOW - 3600),
            seen_at: NOW - 3600,
        };
        self.store.record_pr(&snapshot).unwrap();
        snapshot
    }

    fn fail(&self, feedstock: &str, kind: AttemptErrorKind, message: &str, at: i64) {
        self.store
            .record_attempt(
                MIGRATION,
                feedstock,
                Some(&AttemptError {
                    kind,
                    message: message.to_string(),
                }),
                at,
            )
            .unwrap();
    }
}

fn assert_reason(trace: &MigrationTrace, state: State, code: ReasonCode) {
    assert_eq!(
        (trace.state, trace.reason.code),
        (state, code),
        "reason: {}",
        trace.reason.text
    );
    assert!(!trace.reason.text.is_empty());
}

#[test]
fn a_merged_pr_is_done_merged_with_its_pr() {
    let s = Scenario::new();
    s.work("a", WorkOutcome::Merged, Some(1));
    s.pr("a", 1, SnapshotState::Merged, SnapshotCi::Passing);
    let trace = s.explain("a");
    assert_reason(&trace, State::Done, ReasonCode::DoneMerged);
    let pr = trace.pr.unwrap();
    assert_eq!(pr.number, 1);
    assert_eq!(pr.state, Some(SnapshotState::Merged));
    assert_eq!(pr.url, "https://forge.test/a-feedstock/pull/1");
    assert!(trace.records[0].current);
}

#[test]
fn a_pr_closed_without_merging_is_done_declined() {
    let s = Scenario::new();
    s.work("a", WorkOutcome::Closed, Some(1));
    s.pr("a", 1, SnapshotState::Closed, SnapshotCi::Failing);
    assert_reason(
        &s.explain("a"),
        State::DoneDeclined,
        ReasonCode::DoneDeclined,
    );
    // Declined counts as done for the children: b is ready now.
    assert_eq!(s.explain("b").state, State::AwaitingPr);
}

#[test]
fn nothing_to_do_is_done_with_the_migrators_note() {
    let s = Scenario::new();
    s.work("d", WorkOutcome::NothingToDo, None);
    let trace = s.explain("d");
    assert_reason(&trace, State::DoneNothingToDo, ReasonCode::DoneNothingToDo);
    assert!(trace.reason.text.contains("zlib 2 is already pinned"));
}

#[test]
fn a_committed_migration_missing_on_one_platform_is_partial() {
    let s = Scenario::new();
    s.work("d", WorkOutcome::Merged, Some(4));
    let ci = s.checkout("d").join(".ci_support");
    fs_err::create_dir_all(ci.join("migrations")).unwrap();
    fs_err::write(
        ci.join("migrations/zlib2.yaml"),
        "__migrator:\n  kind: version\n  migration_number: 1\nmigrator_ts: 1.0\nzlib:\n- '2'\n",
    )
    .unwrap();
    fs_err::write(
        ci.join("linux_64_.yaml"),
        "target_platform:\n- linux-64\nzlib:\n- '2'\n",
    )
    .unwrap();
    let trace = s.explain("d");
    assert_reason(&trace, State::Partial, ReasonCode::PartialPlatforms);
    assert_eq!(
        trace.reason.detail,
        ReasonDetail::Platforms {
            migrated: vec!["linux-64".to_string()],
            missing: vec!["osx-64".to_string()],
        }
    );
}

/// An open PR with a snapshot built by `edit`.
fn in_pr(edit: impl FnOnce(&mut PrSnapshot), with_snapshot: bool) -> MigrationTrace {
    let s = Scenario::new();
    s.work("a", WorkOutcome::Open, Some(7));
    if with_snapshot {
        let mut snapshot = s.pr("a", 7, SnapshotState::Open, SnapshotCi::Pending);
        edit(&mut snapshot);
        s.store.record_pr(&snapshot).unwrap();
    }
    let trace = s.explain("a");
    assert_eq!(trace.pr.as_ref().map(|p| p.number), Some(7));
    trace
}

#[test]
fn an_open_pr_with_passing_ci_is_in_pr_ci_passing() {
    let trace = in_pr(|p| p.ci = SnapshotCi::Passing, true);
    assert_reason(&trace, State::InPr, ReasonCode::InPrCiPassing);
}

#[test]
fn an_open_pr_with_failing_ci_is_in_pr_ci_failing() {
    let trace = in_pr(|p| p.ci = SnapshotCi::Failing, true);
    assert_reason(&trace, State::InPr, ReasonCode::InPrCiFailing);
}

#[test]
fn an_open_pr_whose_ci_has_not_reported_is_in_pr_ci_pending() {
    let trace = in_pr(|p| p.ci = SnapshotCi::None, true);
    assert_reason(&trace, State::InPr, ReasonCode::InPrCiPending);
}

#[test]
fn an_open_pr_with_conflicts_is_in_pr_conflicts_even_when_ci_passes() {
    let trace = in_pr(
        |p| {
            p.ci = SnapshotCi::Passing;
            p.mergeable = SnapshotMergeable::Conflicts;
        },
        true,
    );
    assert_reason(&trace, State::InPr, ReasonCode::InPrConflicts);
}

#[test]
fn a_draft_pr_is_in_pr_draft() {
    let trace = in_pr(
        |p| {
            p.draft = true;
            p.mergeable = SnapshotMergeable::Conflicts;
        },
        true,
    );
    assert_reason(&trace, State::InPr, ReasonCode::InPrDraft);
}

#[test]
fn an_open_pr_never_refreshed_is_in_pr_unknown() {
    let trace = in_pr(|_| {}, false);
    assert_reason(&trace, State::InPr, ReasonCode::InPrUnknown);
    assert_eq!(trace.pr.unwrap().state, None);
}

#[test]
fn ready_nodes_within_the_limit_wait_for_the_next_run_in_descendant_order() {
    let s = Scenario::new();
    // a holds back b and c, so it comes first; then d, e, f by name. Limit 2.
    let a = s.explain("a");
    assert_reason(&a, State::AwaitingPr, ReasonCode::AwaitingPrNextRun);
    assert_eq!(
        a.reason.detail,
        ReasonDetail::Queue {
            position: 1,
            limit: 2,
            ready: 4
        }
    );
    let d = s.explain("d");
    assert_reason(&d, State::AwaitingPr, ReasonCode::AwaitingPrNextRun);
    assert_eq!(d.queue.map(|q| q.position), Some(2));
}

#[test]
fn ready_nodes_behind_the_pr_limit_say_so_with_their_position() {
    let s = Scenario::new();
    let f = s.explain("f");
    assert_reason(&f, State::AwaitingPr, ReasonCode::AwaitingPrLimit);
    assert_eq!(
        f.reason.detail,
        ReasonDetail::Queue {
            position: 4,
            limit: 2,
            ready: 4
        }
    );
    assert!(f.reason.text.contains("number 4 of 4"));
}

#[test]
fn a_forge_failure_backs_off_and_stays_awaiting_pr() {
    let s = Scenario::new();
    s.fail(
        "d",
        AttemptErrorKind::Forge,
        "push to the fork failed: HTTP 502",
        NOW - 60,
    );
    let trace = s.explain("d");
    assert_reason(&trace, State::AwaitingPr, ReasonCode::AwaitingPrBackoff);
    let ReasonDetail::Backoff {
        until,
        attempts,
        message,
    } = &trace.reason.detail
    else {
        panic!("expected a back-off detail, got {:?}", trace.reason.detail);
    };
    assert!(*until > NOW);
    assert_eq!(*attempts, 1);
    assert!(message.contains("HTTP 502"));
    assert_eq!(trace.attempts.unwrap().retry_at, Some(*until));
}

#[test]
fn a_paused_migration_leaves_every_node_without_work_paused() {
    let mut s = Scenario::new();
    s.settings.paused = true;
    s.work("d", WorkOutcome::Merged, Some(1));
    assert_reason(&s.explain("a"), State::AwaitingPr, ReasonCode::Paused);
    assert_reason(&s.explain("d"), State::Done, ReasonCode::DoneMerged);
}

#[test]
fn a_child_awaits_its_parents_and_names_their_states_and_prs() {
    let s = Scenario::new();
    s.work("a", WorkOutcome::Open, Some(3));
    s.pr("a", 3, SnapshotState::Open, SnapshotCi::Failing);
    let b = s.explain("b");
    assert_reason(&b, State::AwaitingParents, ReasonCode::AwaitingParents);
    let ReasonDetail::Parents { parents } = &b.reason.detail else {
        panic!("expected parents, got {:?}", b.reason.detail);
    };
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].feedstock, "a");
    assert_eq!(parents[0].state, State::InPr);
    assert_eq!(parents[0].code, ReasonCode::InPrCiFailing);
    assert_eq!(
        parents[0].pr_url.as_deref(),
        Some("https://forge.test/a-feedstock/pull/3")
    );
    // c waits on b only (its direct parent in the migration graph).
    let c = s.explain("c");
    assert_eq!(
        c.parents
            .iter()
            .map(|p| p.feedstock.as_str())
            .collect::<Vec<_>>(),
        vec!["b"]
    );
}

#[test]
fn the_closeout_awaits_every_member_having_work() {
    let s = Scenario::new();
    for name in ["a", "b", "c", "d", "e"] {
        s.work(name, WorkOutcome::Merged, Some(1));
    }
    let trace = s.explain("conda-forge-pinning");
    assert_reason(&trace, State::AwaitingParents, ReasonCode::AwaitingCloseout);
    let ReasonDetail::Parents { parents } = &trace.reason.detail else {
        panic!("expected parents");
    };
    assert_eq!(
        parents
            .iter()
            .map(|p| p.feedstock.as_str())
            .collect::<Vec<_>>(),
        vec!["f"]
    );
    assert!(trace.reason.text.contains("1 have none yet"));
}

#[test]
fn a_migration_that_waits_for_another_names_it() {
    let mut s = Scenario::new();
    s.settings.wait_for_migrators = vec!["zlib1".to_string()];
    let trace = s.explain("a");
    assert_reason(
        &trace,
        State::AwaitingParents,
        ReasonCode::WaitingForMigrators,
    );
    assert_eq!(
        trace.reason.detail,
        ReasonDetail::Migrations {
            names: vec!["zlib1".to_string()]
        }
    );
}

#[test]
fn a_solver_failure_is_not_solvable() {
    let s = Scenario::new();
    s.fail(
        "e",
        AttemptErrorKind::NotSolvable,
        "nothing provides zlib 2 for osx-64",
        NOW - 60,
    );
    let trace = s.explain("e");
    assert_reason(&trace, State::NotSolvable, ReasonCode::NotSolvable);
    assert!(trace.reason.text.contains("nothing provides zlib 2"));
}

#[test]
fn a_migrate_failure_is_a_bot_error_with_the_message_while_and_after_backing_off() {
    let s = Scenario::new();
    let message = "e-feedstock: cannot edit `recipe/meta.yaml`: no build number";
    s.fail("e", AttemptErrorKind::Migrate, message, NOW - 60);
    let trace = s.explain("e");
    assert_reason(&trace, State::BotError, ReasonCode::BotErrorMigrate);
    let ReasonDetail::Error {
        kind,
        message: m,
        attempts,
        retry_at,
        ..
    } = &trace.reason.detail
    else {
        panic!("expected an error detail");
    };
    assert_eq!(
        (*kind, m.as_str(), *attempts),
        (AttemptErrorKind::Migrate, message, 1)
    );
    assert!(retry_at.is_some_and(|at| at > NOW));
    // A day later the back-off is over: still a bot error, retried in the next run.
    s.fail("f", AttemptErrorKind::Migrate, message, NOW - 86_400);
    let later = s.explain("f");
    assert_reason(&later, State::BotError, ReasonCode::BotErrorMigrate);
    assert!(matches!(
        later.reason.detail,
        ReasonDetail::Error { retry_at: None, .. }
    ));
}

#[test]
fn a_failure_of_work_whose_uid_has_extras_is_found_under_its_attempt_key() {
    let mut s = Scenario::new();
    s.extra = BTreeMap::from([("version".to_string(), "2.0".to_string())]);
    let uid = Uid {
        extra: s.extra.clone(),
        ..Uid::new(MIGRATION, 1)
    };
    let key = cascade::migrators::attempt_key("e", &uid);
    assert_eq!(key, "e@2.0");
    s.fail(
        &key,
        AttemptErrorKind::Migrate,
        "no sha256 for 2.0",
        NOW - 60,
    );
    let trace = s.explain("e");
    assert_reason(&trace, State::BotError, ReasonCode::BotErrorMigrate);
    assert!(trace.reason.text.contains("no sha256 for 2.0"));
    assert_eq!(trace.attempts.map(|a| a.attempts), Some(1));
}

#[test]
fn a_bug_in_cascade_is_a_bot_error_internal() {
    let s = Scenario::new();
    s.fail(
        "e",
        AttemptErrorKind::Internal,
        "internal: uid key did not parse",
        NOW - 60,
    );
    assert_reason(
        &s.explain("e"),
        State::BotError,
        ReasonCode::BotErrorInternal,
    );
}

#[test]
fn an_error_kind_written_by_a_newer_cascade_is_a_bot_error_other() {
    let s = Scenario::new();
    s.fail(
        "e",
        AttemptErrorKind::Other,
        "rate budget exhausted",
        NOW - 60,
    );
    assert_reason(&s.explain("e"), State::BotError, ReasonCode::BotErrorOther);
}

#[test]
fn a_feedstock_excluded_by_name_says_which_rule() {
    let s = Scenario::new();
    let trace = s.explain("x");
    assert_reason(&trace, State::Excluded, ReasonCode::Excluded);
    assert_eq!(
        trace.membership,
        Membership::Excluded {
            rule: "excluded-by-name".to_string()
        }
    );
    assert_eq!(
        trace.reason.detail,
        ReasonDetail::Exclusion {
            rule: "excluded-by-name".to_string(),
            detail: None
        }
    );
}

#[test]
fn a_feedstock_the_migration_does_not_concern_gets_no_trace() {
    let s = Scenario::new();
    let explanation =
        status::explain(&s.store, &s.graph, &s.registry(), "zlib", None, NOW).unwrap();
    assert!(explanation.migrations.is_empty());
}

#[test]
fn unknown_feedstocks_and_migrations_are_errors_naming_them() {
    let s = Scenario::new();
    let err = status::explain(&s.store, &s.graph, &s.registry(), "nope", None, NOW).unwrap_err();
    assert!(matches!(err, ExplainError::UnknownFeedstock { ref name } if name == "nope"));
    let err = status::explain(
        &s.store,
        &s.graph,
        &s.registry(),
        "a",
        Some("python99"),
        NOW,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "no migration named `python99`");
}

#[test]
fn the_version_update_is_part_of_the_explanation_when_checked() {
    let s = Scenario::new();
    let before = status::explain(&s.store, &s.graph, &s.registry(), "a", None, NOW).unwrap();
    assert_eq!(before.version_update, None);
    s.store
        .record_version_checks(&[VersionCheck {
            feedstock: "a".to_string(),
            current_version: Some("1.0".to_string()),
            newest_version: Some("1.1".to_string()),
            source: Some("PyPI".to_string()),
            upstream_url: Some("https://pypi.org/pypi/a/json".to_string()),
            status: VersionCheckStatus::Newer,
            error: None,
            source_errors: Vec::new(),
            checked_at: NOW - 10,
        }])
        .unwrap();
    let after = status::explain(&s.store, &s.graph, &s.registry(), "a", None, NOW).unwrap();
    let update = after.version_update.unwrap();
    assert_eq!(update.status, VersionCheckStatus::Newer);
    assert_eq!(update.newest_version.as_deref(), Some("1.1"));
}

#[test]
fn every_non_done_member_has_a_reason_code_in_the_full_report() {
    let s = Scenario::new();
    s.work("a", WorkOutcome::Open, Some(1));
    s.fail("d", AttemptErrorKind::Migrate, "boom", NOW - 60);
    let report = status::collect(&s.store, &s.graph, &s.registry(), NOW).unwrap();
    let m = &report.migrations[0];
    let codes: BTreeMap<&str, ReasonCode> = m
        .nodes
        .iter()
        .map(|n| (n.feedstock.as_str(), n.reason.code))
        .collect();
    assert_eq!(
        codes,
        BTreeMap::from([
            ("a", ReasonCode::InPrUnknown),
            ("b", ReasonCode::AwaitingParents),
            ("c", ReasonCode::AwaitingParents),
            ("conda-forge-pinning", ReasonCode::AwaitingCloseout),
            ("d", ReasonCode::BotErrorMigrate),
            ("e", ReasonCode::AwaitingPrNextRun),
            ("f", ReasonCode::AwaitingPrNextRun),
        ])
    );
    // Topological order: roots first, then b, then c.
    let order: Vec<&str> = m.nodes.iter().map(|n| n.feedstock.as_str()).collect();
    assert_eq!(
        order,
        vec!["a", "conda-forge-pinning", "d", "e", "f", "b", "c"]
    );
    assert_eq!(m.nodes[0].num_descendants, 2);
    assert_eq!(m.blockers[0].feedstock, "a");
    assert_eq!(m.blockers[0].held_back, 2);
    assert_eq!(m.excluded_counts.get("excluded-by-name"), Some(&1));
    assert_eq!(
        m.excluded.len(),
        1,
        "not-affected feedstocks are counted, not listed"
    );
    assert_eq!(m.counts.total, 7);
    let feedstock = &report.feedstocks["x"];
    assert_eq!(feedstock.migrations[0].state, State::Excluded);
}

// ---------------------------------------------------------------------------------------
// The CLI, with a real pinning migration file.

/// A data dir with the scenario's graph and a pinning dir with a `zlib2` migration.
fn cli_world() -> (Scenario, PathBuf) {
    let s = Scenario::new();
    let pinning = s.dir.path().join("pinning");
    fs_err::create_dir_all(pinning.join("migrations")).unwrap();
    fs_err::write(pinning.join("conda_build_config.yaml"), "zlib:\n- '1'\n").unwrap();
    fs_err::write(
        pinning.join("migrations/zlib2.yaml"),
        "__migrator:\n  build_number: 1\n  commit_message: Rebuild for zlib 2\n  kind: version\n  \
         migration_number: 1\n  exclude:\n    - x\nmigrator_ts: 1780000000.0\nzlib:\n- '2'\n",
    )
    .unwrap();
    (s, pinning)
}

fn cascade() -> Command {
    Command::cargo_bin("cascade").unwrap()
}

#[test]
fn cascade_explain_prints_the_trace_and_json() {
    let (s, pinning) = cli_world();
    s.work("a", WorkOutcome::Open, Some(9));
    s.pr("a", 9, SnapshotState::Open, SnapshotCi::Failing);
    let out = cascade()
        .args(["explain", "b", "--migration", "zlib2", "--data-dir"])
        .arg(s.dir.path())
        .arg("--pinning")
        .arg(&pinning)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("zlib2 (pinning"), "{text}");
    assert!(text.contains("awaiting-parents"), "{text}");
    assert!(
        text.contains("Waiting for its parent(s) to be done: a."),
        "{text}"
    );
    assert!(text.contains("parents: a (in-pr)"), "{text}");
    assert!(
        text.contains("a has its PR at https://forge.test/a-feedstock/pull/9"),
        "{text}"
    );
    assert!(text.contains("version update: never checked"), "{text}");

    let out = cascade()
        .args(["explain", "a", "--json", "--data-dir"])
        .arg(s.dir.path())
        .arg("--pinning")
        .arg(&pinning)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let zlib2 = json["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["migration"] == "zlib2")
        .expect("the zlib2 trace");
    assert_eq!(zlib2["state"], "in-pr");
    assert_eq!(zlib2["reason"]["code"], "in-pr/ci-failing");
    assert_eq!(zlib2["pr"]["number"], 9);
    assert_eq!(json["feedstock"], "a");
}

#[test]
fn cascade_explain_exits_2_for_an_unknown_feedstock() {
    let (s, pinning) = cli_world();
    let out = cascade()
        .args(["explain", "no-such-thing", "--data-dir"])
        .arg(s.dir.path())
        .arg("--pinning")
        .arg(&pinning)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no feedstock named `no-such-thing`"),
        "{stderr}"
    );
}
