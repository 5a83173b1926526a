//! History, burn-down and forecast on a scripted multi-run scenario: hand-made
//! feedstocks imported into a local forge, a `zlib2` pinning migration, `run::run` once a
//! day while the test plays the maintainers (merging every PR the bot opened the day
//! before). After each run, `status::collect` must agree with what happened: one
//! history point per finished run, done counts that only grow, no estimate before the
//! first merge (and the reason), then P50/P90 from the critical path and the observed
//! waves, and finally `finished`.

use std::path::Path;

use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{CiStatus, PrState};
use cascade::graph::{NoReporter, SnapshotCi, SnapshotState, Store};
use cascade::migrators::registry::{Registry, Sources};
use cascade::migrators::{GraphSnapshot, Identity};
use cascade::pinning::load_pinning;
use cascade::run::{self, RunOptions};
use cascade::status::{self, Forecast, MigrationStatus, ReasonCode, State};

const DAY: i64 = 86_400;
const START: i64 = 1_780_000_000;

/// Writes a v0 feedstock that builds on linux-64 with `zlib` and `deps` in host.
fn feedstock(root: &Path, name: &str, deps: &[&str]) {
    let dir = root.join(format!("{name}-feedstock"));
    fs_err::create_dir_all(dir.join("recipe")).unwrap();
    fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
    let mut host = String::new();
    for dep in deps {
        host.push_str(&format!("    - {dep}\n"));
    }
    fs_err::write(
        dir.join("recipe/meta.yaml"),
        format!(
            "package:\n  name: {name}\n  version: \"1.0\"\n\nbuild:\n  number: 0\n\n\
             requirements:\n  build:\n    - {{{{ compiler('c') }}}}\n  host:\n{host}\n\
             about:\n  license: MIT\n"
        ),
    )
    .unwrap();
    fs_err::write(dir.join("conda-forge.yml"), "{}\n").unwrap();
    fs_err::write(
        dir.join(".ci_support/linux_64_.yaml"),
        "c_compiler:\n- gcc\nc_compiler_version:\n- '14'\ntarget_platform:\n- linux-64\n\
         zlib:\n- '1'\n",
    )
    .unwrap();
}

struct World {
    dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
}

/// `a → b → c → d` (a chain of four waves) plus independent `e`, `f`, `g`, all with
/// `zlib` in host; `zlib` itself is pinned and so excluded.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources");
    feedstock(&sources, "zlib", &[]);
    feedstock(&sources, "a", &["zlib"]);
    feedstock(&sources, "b", &["zlib", "a"]);
    feedstock(&sources, "c", &["zlib", "b"]);
    feedstock(&sources, "d", &["zlib", "c"]);
    for name in ["e", "f", "g"] {
        feedstock(&sources, name, &["zlib"]);
    }
    let pinning = dir.path().join("pinning");
    fs_err::create_dir_all(pinning.join("migrations")).unwrap();
    fs_err::write(
        pinning.join("conda_build_config.yaml"),
        "c_compiler:\n- gcc\nc_compiler_version:\n- '14'\nzlib:\n- '1'\n",
    )
    .unwrap();
    fs_err::write(
        pinning.join("migrations/zlib2.yaml"),
        "__migrator:\n  build_number: 1\n  commit_message: Rebuild for zlib 2\n  kind: version\n  \
         migration_number: 1\n  pr_limit: 2\nmigrator_ts: 1780000000.0\nzlib:\n- '2'\n",
    )
    .unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&sources).unwrap();
    let options = RunOptions {
        db_path: dir.path().join("cascade.sqlite"),
        checkouts_dir: dir.path().join("checkouts"),
        pinning_dir: Some(pinning),
        migrators_dir: None,
        only: vec!["zlib2".to_string()],
        dry_run: false,
        identity: Identity::default(),
        now: START,
    };
    World {
        dir,
        forge,
        options,
    }
}

impl World {
    /// One bot run at the current day, then the clock moves a day on.
    fn run(&mut self) {
        let summary = run::run(&self.options, &self.forge, &NoReporter).unwrap();
        for m in &summary.migrations {
            assert!(m.errors.is_empty(), "{}: {:?}", m.name, m.errors);
        }
        self.options.now += DAY;
    }

    /// The maintainers: CI passes on every open PR, and they merge them all.
    fn merge_everything(&self) -> usize {
        let open = self
            .forge
            .list_prs(&PrFilter {
                state: Some(PrState::Open),
                ..PrFilter::default()
            })
            .unwrap();
        for pr in &open {
            self.forge.set_ci(pr.number, CiStatus::Passing).unwrap();
            self.forge.merge(pr.number).unwrap();
        }
        open.len()
    }

    /// The status of `zlib2` as `cascade status build` would compute it now.
    fn status(&self) -> MigrationStatus {
        let store = Store::open(&self.options.db_path).unwrap();
        let graph = GraphSnapshot::load(&store).unwrap();
        let pinning_dir = self.options.pinning_dir.clone().unwrap();
        let pinning = load_pinning(&pinning_dir).unwrap();
        let mut registry = Registry::load(
            &Sources {
                pinning_dir,
                migrators_dir: None,
            },
            &pinning,
        );
        registry.retain(&["zlib2".to_string()]);
        let report = status::collect(&store, &graph, &registry, self.options.now).unwrap();
        let _ = &self.dir;
        report
            .migrations
            .into_iter()
            .find(|m| m.name == "zlib2")
            .unwrap()
    }
}

fn state_of<'a>(m: &'a MigrationStatus, feedstock: &str) -> &'a cascade::status::NodeStatus {
    m.nodes
        .iter()
        .find(|n| n.feedstock == feedstock)
        .unwrap_or_else(|| panic!("{feedstock} is not a member"))
}

#[test]
fn history_and_forecast_follow_a_scripted_migration_to_the_end() {
    let mut w = world();

    // Day 0: a dry run builds the graph and records nothing.
    w.options.dry_run = true;
    run::run(&w.options, &w.forge, &NoReporter).unwrap();
    w.options.dry_run = false;
    let before = w.status();
    assert_eq!(before.counts.total, 7, "{:?}", before.nodes);
    assert!(before.history.is_empty());
    assert_eq!(before.edges.len(), 3);
    assert_eq!(
        before.nodes.iter().map(|n| n.level).max(),
        Some(3),
        "a → b → c → d"
    );
    let Forecast::NoEstimate { critical_path, .. } = &before.forecast else {
        panic!("no estimate before any run: {:?}", before.forecast);
    };
    assert_eq!(*critical_path, 4);
    assert_eq!(before.blockers[0].feedstock, "a");
    assert_eq!(before.blockers[0].held_back, 3);

    // Run 1 opens PRs; nobody merged anything yet: still no estimate, and it says why.
    w.run();
    let first = w.status();
    assert_eq!(first.history.len(), 1);
    assert_eq!(first.history[0].done, 0);
    assert!(first.counts.in_pr > 0);
    assert_eq!(state_of(&first, "a").state, State::InPr);
    assert_eq!(
        state_of(&first, "b").reason.code,
        ReasonCode::AwaitingParents
    );
    let Forecast::NoEstimate { reason, .. } = &first.forecast else {
        panic!("no estimate without merges: {:?}", first.forecast);
    };
    assert!(
        reason.contains("no PR of this migration has been merged"),
        "{reason}"
    );

    // Then each day: the maintainers merge everything, the bot runs.
    let mut runs = 1;
    let mut merged = 0;
    let mut estimates = Vec::new();
    while runs < 12 {
        merged += w.merge_everything();
        w.run();
        runs += 1;
        let m = w.status();
        assert_eq!(m.history.len(), runs, "one point per finished run");
        let done: Vec<usize> = m.history.iter().map(|p| p.done).collect();
        assert!(
            done.windows(2).all(|p| p[0] <= p[1]),
            "burn-down only goes down: {done:?}"
        );
        assert!(m.history.iter().all(|p| p.total == 7));
        if let Forecast::Finished { at } = m.forecast {
            assert_eq!(m.progress.done, 7);
            assert!(at.is_some());
            break;
        }
        let Forecast::Estimate {
            p50,
            p90,
            critical_path,
            latency_p50,
            samples,
            ..
        } = m.forecast
        else {
            panic!("an estimate once PRs were merged: {:?}", m.forecast);
        };
        // Every merge was seen by the next daily run: each wave took exactly a day.
        assert_eq!(latency_p50, DAY);
        assert_eq!(samples, merged);
        assert!(p90 >= p50 && p50 >= w.options.now);
        let remaining_waves = i64::from(critical_path);
        assert!(p50 >= w.options.now + remaining_waves * DAY);
        estimates.push((w.options.now, p50));
    }
    let last = w.status();
    let Forecast::Finished { at: Some(finished) } = last.forecast else {
        panic!(
            "the migration finished within {runs} runs: {:?} {:?}",
            last.counts, last.forecast
        );
    };
    assert!(last.blockers.is_empty());
    // The chain needs one wave per link: at least four runs with merges in between.
    assert!(runs >= 5, "{runs}");
    assert!(!estimates.is_empty());
    eprintln!("finished at {finished} after {runs} runs; estimates (now, p50): {estimates:?}");
    // The forecast was right to within one wave (the status is computed a day after
    // each run, so it runs up to a day late, never early).
    for (at, p50) in estimates {
        assert!(
            (0..=DAY).contains(&(p50 - finished)),
            "estimate {p50} made at {at} vs finished {finished}"
        );
    }
}

#[test]
fn the_run_loop_snapshots_every_pr_it_opens_and_refreshes() {
    let mut w = world();
    w.run();
    let store = Store::open(&w.options.db_path).unwrap();
    let opened = store.pr_snapshots().unwrap();
    assert!(!opened.is_empty());
    for pr in &opened {
        assert_eq!(pr.state, SnapshotState::Open, "{pr:?}");
        assert_eq!(pr.title, "Rebuild for zlib 2");
        assert!(
            pr.url.contains(&format!("{}-feedstock", pr.feedstock)),
            "{}",
            pr.url
        );
        assert_eq!(pr.seen_at, START);
    }
    let first = opened[0].number;
    w.forge.set_ci(first, CiStatus::Failing).unwrap();
    w.forge.set_draft(first, true).unwrap();
    for pr in &opened[1..] {
        w.forge.merge(pr.number).unwrap();
    }
    w.run();
    let refreshed = store.pr_snapshots().unwrap();
    let by_number = |n: u64| refreshed.iter().find(|p| p.number == n).unwrap();
    let draft = by_number(first);
    assert_eq!(
        (draft.state, draft.ci, draft.draft, draft.seen_at),
        (SnapshotState::Open, SnapshotCi::Failing, true, START + DAY)
    );
    for pr in &opened[1..] {
        let merged = by_number(pr.number);
        assert_eq!(merged.state, SnapshotState::Merged);
        assert!(merged.closed_at.is_some());
    }
    // And the status says so.
    let m = w.status();
    let node = state_of(&m, &draft.feedstock);
    assert_eq!(node.reason.code, ReasonCode::InPrDraft);
    assert_eq!(node.pr.as_ref().map(|p| p.draft), Some(true));
}
