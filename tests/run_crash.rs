//! Crash safety of the run loop: `cascade run` is killed with SIGKILL at 20 different
//! checkpoints (pushes, PR creation, comments, closes, store writes — see
//! `cascade::run::checkpoint`), each time followed by a clean rerun and a round of
//! maintainers. After every rerun there are no duplicate PRs, every open PR is tracked
//! by exactly one open work record, and both databases pass SQLite's integrity check.

#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{CiStatus, PrState, PullRequest};
use cascade::graph::Store;
use cascade::run::checkpoint::KILL_AT_ENV;
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "python314.yaml",
        include_str!("../migrators/demo/python314.yaml"),
    ),
    (
        "libxml2216.yaml",
        include_str!("../migrators/demo/libxml2216.yaml"),
    ),
];

fn cascade_run(data: &Path, kill_at: Option<u64>) -> (std::process::ExitStatus, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cascade"));
    command
        .args(["run", "--json", "--data-dir"])
        .arg(data)
        .stdout(std::process::Stdio::null());
    match kill_at {
        Some(n) => command.env(KILL_AT_ENV, n.to_string()),
        None => command.env_remove(KILL_AT_ENV),
    };
    let output = command.output().unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn all_prs(forge: &LocalForge) -> Vec<PullRequest> {
    forge.list_prs(&PrFilter::default()).unwrap()
}

fn integrity(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{}", db.display());
}

/// The invariants that must hold after a clean run, whatever happened before.
fn assert_consistent(data: &Path, forge: &LocalForge, round: usize) {
    integrity(&data.join("cascade.sqlite"));
    integrity(&data.join("forge/forge.sqlite"));
    let prs = all_prs(forge);
    let mut open_per_work: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for pr in prs.iter().filter(|p| p.state == PrState::Open) {
        let stem = pr
            .head
            .rsplit_once("_h")
            .map_or(pr.head.as_str(), |(s, _)| s);
        open_per_work
            .entry((pr.feedstock.clone(), stem.to_string()))
            .or_default()
            .push(pr.number);
    }
    for ((feedstock, stem), numbers) in &open_per_work {
        assert_eq!(
            numbers.len(),
            1,
            "round {round}: duplicate open PRs {numbers:?} for {stem} on {feedstock}"
        );
    }
    let store = Store::open(&data.join("cascade.sqlite")).unwrap();
    let tracked = store.open_work().unwrap();
    for pr in prs.iter().filter(|p| p.state == PrState::Open) {
        let records = tracked
            .iter()
            .filter(|w| {
                w.pr.as_ref()
                    .is_some_and(|r| r.number == pr.number && r.feedstock == pr.feedstock)
            })
            .count();
        assert_eq!(
            records, 1,
            "round {round}: PR #{} tracked {records} times",
            pr.number
        );
    }
    for record in &tracked {
        let pr = record.pr.as_ref().unwrap();
        let found = prs.iter().find(|p| p.number == pr.number).unwrap();
        assert_eq!(
            found.state,
            PrState::Open,
            "round {round}: stale open record"
        );
    }
    let uids: BTreeSet<(String, String, String)> = tracked
        .iter()
        .map(|w| (w.migration.clone(), w.feedstock.clone(), w.uid_key.clone()))
        .collect();
    assert_eq!(
        uids.len(),
        tracked.len(),
        "round {round}: one record per uid"
    );
}

/// Maintainers between rounds: CI green everywhere, merge every other PR, ask for one
/// rerun and close one unmerged, so later runs have refresh work to be killed in.
fn maintainers(forge: &LocalForge, round: usize) {
    let open: Vec<PullRequest> = all_prs(forge)
        .into_iter()
        .filter(|p| p.state == PrState::Open)
        .collect();
    for (i, pr) in open.iter().enumerate() {
        forge.set_ci(pr.number, CiStatus::Passing).unwrap();
        match (i + round) % 5 {
            0 | 2 => {
                let _ = forge.merge(pr.number);
            }
            1 if round.is_multiple_of(3) => {
                forge.label(pr.number, "bot-rerun").unwrap();
            }
            3 if round % 4 == 1 => {
                forge.close(pr.number).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn a_run_killed_at_any_of_20_points_is_finished_by_the_next_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let feedstocks = tmp.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 120,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
    fs_err::create_dir_all(&migrations).unwrap();
    for (name, text) in MIGRATIONS {
        fs_err::write(migrations.join(name), text).unwrap();
    }
    let data = tmp.path().join("data");
    let forge = LocalForge::open(&data.join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();

    let mut killed = 0;
    for round in 1..=20u64 {
        let (status, stderr) = cascade_run(&data, Some(round));
        if status.signal() == Some(9) {
            killed += 1;
        } else {
            assert!(status.success(), "round {round}: {status}\n{stderr}");
        }
        let (status, stderr) = cascade_run(&data, None);
        assert!(
            status.success(),
            "round {round}: the clean rerun failed: {status}\n{stderr}"
        );
        assert_consistent(&data, &forge, round as usize);
        maintainers(&forge, round as usize);
    }
    assert!(
        killed >= 18,
        "only {killed} of 20 runs reached their checkpoint"
    );
    let prs = all_prs(&forge);
    let merged = prs.iter().filter(|p| p.state == PrState::Merged).count();
    assert!(merged >= 10, "the migrations progressed: {merged} merged");
}
