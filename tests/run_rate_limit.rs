//! A spent rate limit stops a run cleanly, and the next run resumes (issue 7, "H2").
//!
//! The real corpus (`../shared/data/feedstocks`, `../shared/data/pinning`) is imported
//! into a real local forge, and the run talks to it through [`Limited`]: a fault
//! injector that delegates every call and answers `RateLimited` from a chosen call on
//! (the N-th content-creating call, the N-th `prs` refresh, the listing, the N-th
//! checkout sync). A stopped run returns its summary with `stopped` set, records no
//! failure on the node it was at, makes no further forge call, and is recorded as
//! finished; the next run, through a forge that no longer refuses, ends where an
//! uninterrupted run ends — no PR missing, none duplicated.

mod common;
#[path = "run_rate_limit/limited.rs"]
mod limited;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{PrState, PullRequest};
use cascade::graph::{NoReporter, Store};
use cascade::migrators::Identity;
use cascade::run::{self, BOT_RERUN_LABEL, RunOptions, RunSummary};
use limited::{Fault, Limited, RESETS_AT};

/// Migrations whose ready members all fit in one run's first ramp step (2 PRs), so an
/// uninterrupted first run opens every PR there is to open: four PRs, eight creating
/// calls (a push and an open each), over three migrations.
const MIGRATIONS: &[&str] = &["flang21", "gsl28", "mpich5"];

/// The corpus on a local forge, with a store and checkouts, in a temporary directory.
struct World {
    _dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
}

fn world() -> Option<World> {
    let feedstocks = common::shared_data("feedstocks")?;
    let pinning = common::shared_data("pinning")?;
    let dir = tempfile::tempdir().unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();
    let options = RunOptions {
        db_path: dir.path().join("cascade.sqlite"),
        checkouts_dir: dir.path().join("checkouts"),
        pinning_dir: Some(pinning),
        migrators_dir: None,
        only: MIGRATIONS.iter().map(|s| s.to_string()).collect(),
        dry_run: false,
        identity: Identity::default(),
        now: 1_780_000_000,
    };
    Some(World {
        _dir: dir,
        forge,
        options,
    })
}

impl World {
    /// One run through a forge with `fault`; returns the summary and the forge wrapper.
    fn run(&mut self, fault: Fault) -> (RunSummary, Limited<'_>) {
        let limited = Limited::new(&self.forge, fault);
        let summary = run::run(&self.options, &limited, &NoReporter).unwrap();
        self.options.now += 3600;
        assert!(
            limited.after_trip.borrow().is_empty(),
            "forge calls after the limit was spent: {:?}",
            limited.after_trip.borrow()
        );
        assert_eq!(
            limited.pr_calls.get(),
            0,
            "the run asked `pr` one at a time"
        );
        (summary, limited)
    }

    fn store(&self) -> Store {
        Store::open(&self.options.db_path).unwrap()
    }

    fn prs(&self, state: Option<PrState>) -> Vec<PullRequest> {
        self.forge
            .list_prs(&PrFilter {
                state,
                ..PrFilter::default()
            })
            .unwrap()
    }

    /// (feedstock, head, title) of every open PR, after checking no head is open twice.
    fn open_set(&self) -> BTreeSet<(String, String, String)> {
        let open = self.prs(Some(PrState::Open));
        let set: BTreeSet<(String, String, String)> = open
            .iter()
            .map(|p| (p.feedstock.clone(), p.head.clone(), p.title.clone()))
            .collect();
        assert_eq!(set.len(), open.len(), "duplicate open PRs: {open:#?}");
        set
    }

    /// No attempt of any migration carries an error.
    fn assert_no_attempt_errors(&self) {
        let store = self.store();
        for name in MIGRATIONS {
            for attempt in store.attempts_for(name).unwrap() {
                assert_eq!(attempt.last_error, None, "{attempt:?}");
            }
        }
    }

    /// The last run in the store is finished and its summary records the stop.
    fn assert_recorded_as_stopped(&self) {
        let runs = self.store().runs().unwrap();
        let last = runs.last().expect("the stopped run is recorded");
        assert!(last.finished_at.is_some(), "{last:?}");
        let summary: serde_json::Value =
            serde_json::from_str(last.summary.as_deref().unwrap()).unwrap();
        assert_eq!(summary["stopped"]["resets_at"], RESETS_AT, "{summary:#}");
        assert!(
            summary["stopped"]["reason"]
                .as_str()
                .unwrap()
                .contains("rate limit"),
            "{summary:#}"
        );
    }
}

/// What an uninterrupted first run does: its open PRs, and its creating calls.
struct Baseline {
    open: BTreeSet<(String, String, String)>,
    created: Vec<(&'static str, String)>,
    migrations: Vec<String>,
}

fn baseline() -> Option<&'static Baseline> {
    static BASELINE: OnceLock<Option<Baseline>> = OnceLock::new();
    BASELINE
        .get_or_init(|| {
            let mut world = world()?;
            let (summary, limited) = world.run(Fault::Never);
            assert_eq!(summary.stopped, None);
            let created = limited.created.borrow().clone();
            drop(limited);
            let open = world.open_set();
            Some(Baseline {
                open,
                created,
                migrations: summary.migrations.iter().map(|m| m.name.clone()).collect(),
            })
        })
        .as_ref()
}

#[test]
fn an_uninterrupted_first_run_opens_four_prs_over_three_migrations() {
    let Some(baseline) = baseline() else {
        return;
    };
    assert_eq!(baseline.open.len(), 4, "{:#?}", baseline.open);
    assert_eq!(baseline.created.len(), 8, "{:#?}", baseline.created);
    assert_eq!(baseline.migrations.len(), 3, "{:?}", baseline.migrations);
}

/// The run stops at the `n`-th creating call, then a clean run ends where the baseline
/// did.
fn exhausted_at_creating_call(n: usize) {
    let Some(baseline) = baseline() else {
        return;
    };
    let mut world = world().unwrap();
    let (stopped, limited) = world.run(Fault::Create(n));
    let created = limited.created.borrow().clone();
    drop(limited);

    // Stopped, with the reason and the reset time; the calls before it went through.
    let stop = stopped.stopped.as_ref().expect("the run stopped");
    assert_eq!(stop.resets_at, Some(RESETS_AT));
    assert!(stop.reason.contains("rate limit"), "{stop:?}");
    assert_eq!(created, baseline.created[..n - 1], "calls before the stop");

    // No failure is recorded: not in the summary, not as an attempt error.
    for m in &stopped.migrations {
        assert!(m.errors.is_empty(), "{m:#?}");
    }
    world.assert_no_attempt_errors();
    world.assert_recorded_as_stopped();

    // Only the migrations reached are listed; the PRs opened before the stop are open.
    let (_, refused) = &baseline.created[n - 1];
    let reached: Vec<&str> = stopped.migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(reached, baseline.migrations[..reached.len()]);
    let last = stopped.migrations.last().unwrap();
    assert!(
        last.opened.iter().all(|pr| &pr.feedstock != refused),
        "{last:#?}"
    );
    let opened_before: usize = stopped.migrations.iter().map(|m| m.opened.len()).sum();
    assert_eq!(opened_before, (n - 1) / 2, "{stopped:#?}");
    let partial = world.open_set();
    assert_eq!(partial.len(), opened_before);
    assert!(partial.is_subset(&baseline.open));

    // The next run opens exactly what is missing; the end state is the baseline's.
    let (resumed, _) = world.run(Fault::Never);
    assert_eq!(resumed.stopped, None);
    assert_eq!(resumed.opened(), baseline.open.len() - opened_before);
    assert_eq!(world.open_set(), baseline.open);
    assert_eq!(
        world.prs(None).len(),
        baseline.open.len(),
        "no PR was opened and closed on the way"
    );
    world.assert_no_attempt_errors();
    let tracked = world.store().open_work().unwrap();
    assert_eq!(tracked.len(), baseline.open.len(), "{tracked:#?}");
}

#[test]
fn a_limit_spent_at_the_first_push_stops_the_run_and_the_next_run_opens_every_pr() {
    exhausted_at_creating_call(1);
}

#[test]
fn a_limit_spent_between_push_and_open_leaves_a_branch_the_next_run_opens_once() {
    exhausted_at_creating_call(2);
}

#[test]
fn a_limit_spent_at_the_second_push_keeps_the_first_pr_and_the_next_run_adds_the_rest() {
    exhausted_at_creating_call(3);
}

#[test]
fn a_limit_spent_in_a_later_migration_skips_the_rest_and_the_next_run_completes() {
    exhausted_at_creating_call(5);
}

/// A world after a clean first run, with the PR the refresh asks about last labelled
/// `bot-rerun`; returns that PR.
fn world_with_rerun_label() -> Option<(World, PullRequest)> {
    let mut world = world()?;
    world.run(Fault::Never);
    let last = world.store().open_work().unwrap().pop().unwrap();
    let pr = world
        .forge
        .label(last.pr.unwrap().number, BOT_RERUN_LABEL)
        .unwrap();
    Some((world, pr))
}

/// After the rerun is done: the labelled PR is closed with one rerun comment per
/// comment call that went through, its branch is gone, and a fresh PR with another
/// head is open in its place; every other PR is as it was.
fn assert_rerun_completed(world: &World, labelled: &PullRequest, comments: usize) {
    let old = world.forge.pr_by_number(labelled.number).unwrap();
    assert_eq!(old.state, PrState::Closed);
    let bot_comments = world.forge.comments(labelled.number).unwrap();
    assert_eq!(bot_comments.len(), comments, "{bot_comments:#?}");
    assert!(bot_comments.iter().all(|c| c.body.contains("bot-rerun")));
    let open = world.open_set();
    assert_eq!(open.len(), 4, "{open:#?}");
    let fresh: Vec<_> = open
        .iter()
        .filter(|(feedstock, _, title)| feedstock == &old.feedstock && title == &old.title)
        .collect();
    assert_eq!(fresh.len(), 1, "{open:#?}");
    assert_ne!(fresh[0].1, old.head, "the rerun has a new branch");
    let tracked = world.store().open_work().unwrap();
    assert_eq!(tracked.len(), 4, "{tracked:#?}");
    assert!(
        tracked
            .iter()
            .all(|w| w.pr.as_ref().unwrap().number != old.number)
    );
}

#[test]
fn a_limit_spent_on_the_pr_refresh_stops_before_sync_and_the_next_run_does_the_rerun() {
    let Some((mut world, labelled)) = world_with_rerun_label() else {
        return;
    };
    let checkouts_before = fs_err::read_dir(&world.options.checkouts_dir)
        .unwrap()
        .count();
    let (stopped, limited) = world.run(Fault::Prs(1));
    assert!(stopped.stopped.is_some(), "{stopped:#?}");
    assert_eq!(limited.prs_calls.borrow().len(), 1);
    drop(limited);
    // The PRs answered before the refusal are refreshed (the labelled one, asked last,
    // was refused); nothing after it happened.
    assert_eq!(stopped.refresh.checked, 2, "{stopped:#?}");
    assert_eq!(stopped.refresh.open, 2, "{stopped:#?}");
    assert_eq!(stopped.refresh.reruns, 0, "{stopped:#?}");
    let pr = world.forge.pr_by_number(labelled.number).unwrap();
    assert_eq!(pr.state, PrState::Open);
    assert!(stopped.refresh.errors.is_empty(), "{stopped:#?}");
    assert!(stopped.migrations.is_empty(), "{stopped:#?}");
    assert_eq!(stopped.checkouts, 0);
    assert_eq!(
        fs_err::read_dir(&world.options.checkouts_dir)
            .unwrap()
            .count(),
        checkouts_before,
        "checkouts untouched"
    );
    world.assert_recorded_as_stopped();

    let (resumed, _) = world.run(Fault::Never);
    assert_eq!(resumed.stopped, None);
    assert_eq!(resumed.refresh.reruns, 1, "{:#?}", resumed.refresh);
    assert_rerun_completed(&world, &labelled, 1);
}

#[test]
fn a_limit_spent_while_closing_a_bot_rerun_pr_is_resumed_step_by_step() {
    let Some((mut world, labelled)) = world_with_rerun_label() else {
        return;
    };
    let store_work = |world: &World| {
        world
            .store()
            .open_work()
            .unwrap()
            .into_iter()
            .any(|w| w.pr.is_some_and(|pr| pr.number == labelled.number))
    };

    // The comment is refused: nothing changed.
    let (stopped, _) = world.run(Fault::Create(1));
    assert!(stopped.stopped.is_some() && stopped.migrations.is_empty());
    let pr = world.forge.pr_by_number(labelled.number).unwrap();
    assert_eq!(pr.state, PrState::Open);
    assert!(world.forge.comments(labelled.number).unwrap().is_empty());

    // The close is refused: commented, still open.
    let (stopped, _) = world.run(Fault::Create(2));
    assert!(stopped.stopped.is_some() && stopped.migrations.is_empty());
    let pr = world.forge.pr_by_number(labelled.number).unwrap();
    assert_eq!(pr.state, PrState::Open);
    assert_eq!(world.forge.comments(labelled.number).unwrap().len(), 1);

    // The branch deletion is refused: closed, but the work is still tracked as open,
    // so the next run settles it.
    let (stopped, _) = world.run(Fault::Create(3));
    assert!(stopped.stopped.is_some() && stopped.migrations.is_empty());
    let pr = world.forge.pr_by_number(labelled.number).unwrap();
    assert_eq!(pr.state, PrState::Closed);
    assert!(
        store_work(&world),
        "the outcome waits for the branch deletion"
    );
    world.assert_recorded_as_stopped();

    let (resumed, limited) = world.run(Fault::Never);
    assert_eq!(resumed.stopped, None);
    assert_eq!(resumed.refresh.reruns, 1, "{:#?}", resumed.refresh);
    let deleted = limited
        .created
        .borrow()
        .iter()
        .filter(|(method, _)| *method == "delete_branch")
        .count();
    assert_eq!(deleted, 1);
    drop(limited);
    assert!(!store_work(&world));
    // The stop between comment and close makes the comment twice (the forge keeps no
    // record the bot could check); everything else happens once.
    assert_rerun_completed(&world, &labelled, 2);
}

#[test]
fn a_limit_spent_asking_about_a_late_rerun_label_is_honoured_next_run() {
    let Some(mut world) = world() else {
        return;
    };
    world.run(Fault::Never);
    let closed = world.prs(Some(PrState::Open)).into_iter().next().unwrap();
    world.forge.close(closed.number).unwrap();
    let (summary, _) = world.run(Fault::Never);
    assert_eq!(summary.refresh.closed, 1);
    world.forge.label(closed.number, BOT_RERUN_LABEL).unwrap();

    // The second `prs` call of the refresh (the late-rerun look-back) is refused.
    let (stopped, limited) = world.run(Fault::Prs(2));
    assert!(stopped.stopped.is_some(), "{stopped:#?}");
    assert_eq!(limited.prs_calls.borrow().len(), 2);
    drop(limited);
    assert_eq!(stopped.refresh.reruns, 0, "{:#?}", stopped.refresh);
    assert!(stopped.migrations.is_empty());

    let (resumed, _) = world.run(Fault::Never);
    assert_eq!(resumed.stopped, None);
    assert_eq!(resumed.refresh.reruns, 1, "{:#?}", resumed.refresh);
    let reopened: Vec<_> = world
        .open_set()
        .into_iter()
        .filter(|(feedstock, _, title)| feedstock == &closed.feedstock && title == &closed.title)
        .collect();
    assert_eq!(reopened.len(), 1, "a fresh PR after the late label");
    assert_ne!(reopened[0].1, closed.head);
}

#[test]
fn the_refresh_asks_once_per_phase_for_all_tracked_prs_and_never_one_by_one() {
    let Some(mut world) = world() else {
        return;
    };
    // No store yet: nothing to refresh.
    let (_, limited) = world.run(Fault::Never);
    assert!(limited.prs_calls.borrow().is_empty());
    drop(limited);

    let tracked = |world: &World| -> BTreeSet<(String, u64)> {
        world
            .store()
            .open_work()
            .unwrap()
            .into_iter()
            .filter_map(|w| w.pr.map(|pr| (pr.feedstock, pr.number)))
            .collect()
    };
    let as_set = |refs: &[(String, u64)]| -> BTreeSet<(String, u64)> {
        let set: BTreeSet<_> = refs.iter().cloned().collect();
        assert_eq!(set.len(), refs.len(), "a PR asked twice: {refs:?}");
        set
    };

    // Every tracked PR open: one call with all of them, none for the look-back.
    let before = tracked(&world);
    assert_eq!(before.len(), 4);
    let (_, limited) = world.run(Fault::Never);
    let calls = limited.prs_calls.borrow().clone();
    drop(limited);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(as_set(&calls[0]), before);

    // One closed by a maintainer: the open refresh asks all four once, the look-back
    // asks about the closed one.
    let closed = world.prs(Some(PrState::Open)).into_iter().next().unwrap();
    world.forge.close(closed.number).unwrap();
    let before = tracked(&world);
    let (summary, limited) = world.run(Fault::Never);
    let calls = limited.prs_calls.borrow().clone();
    drop(limited);
    assert_eq!(summary.refresh.checked, 4);
    assert_eq!(summary.refresh.closed, 1);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(as_set(&calls[0]), before);
    assert_eq!(
        as_set(&calls[1]),
        BTreeSet::from([(closed.feedstock.clone(), closed.number)])
    );
}

#[test]
fn a_limit_spent_during_the_checkout_sync_removes_nothing_and_plans_nothing() {
    let Some(mut world) = world() else {
        return;
    };
    world.run(Fault::Never);
    let checkouts = world.options.checkouts_dir.clone();
    let dirs = || -> BTreeSet<String> {
        fs_err::read_dir(&checkouts)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let before = dirs();
    assert!(before.len() > 100, "{}", before.len());
    let open_before = world.open_set();

    for fault in [Fault::Listing, Fault::Sync(5)] {
        let (stopped, _) = world.run(fault);
        assert!(stopped.stopped.is_some(), "{fault:?}: {stopped:#?}");
        let synced = match fault {
            Fault::Sync(n) => n - 1,
            _ => 0,
        };
        assert_eq!(stopped.checkouts, synced, "{fault:?}");
        assert!(stopped.migrations.is_empty(), "{fault:?}");
        assert_eq!(stopped.graph.nodes, 0, "{fault:?}: no graph build");
        assert_eq!(dirs(), before, "{fault:?}: a checkout was removed");
        world.assert_recorded_as_stopped();
    }

    let (resumed, _) = world.run(Fault::Never);
    assert_eq!(resumed.stopped, None);
    assert_eq!(resumed.checkouts, before.len());
    assert_eq!(world.open_set().len(), open_before.len() + resumed.opened());
}
