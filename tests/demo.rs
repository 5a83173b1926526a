//! `cascade demo`: offline, end to end, on a generated universe: universe → local forge →
//! rounds of `run` with simulated maintainers → the waves.

use assert_cmd::Command;
use cascade::forge::PrState;
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::graph::{DepDirection, Store, WorkOutcome};

fn demo(dir: &std::path::Path) -> std::process::Output {
    demo_rounds(dir, 4)
}

fn demo_rounds(dir: &std::path::Path, rounds: usize) -> std::process::Output {
    Command::cargo_bin("cascade")
        .unwrap()
        .args([
            "demo",
            "--size",
            "150",
            "--rounds",
            &rounds.to_string(),
            "--dir",
        ])
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn the_demo_builds_a_clean_graph_and_answers_the_first_questions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let output = demo(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("graph: 150 feedstocks"), "{stdout}");
    assert!(stdout.contains("0 parse errors, 2 cycles"), "{stdout}");
    assert!(
        stdout.contains("4. waves: PRs opened per round"),
        "{stdout}"
    );
    assert!(stdout.contains("python314"), "{stdout}");
    assert!(stdout.contains("libxml2216"), "{stdout}");
    assert!(stdout.contains("top hubs by dependents"), "{stdout}");
    assert!(
        stdout.contains("[test]"),
        "cycle edges are labelled: {stdout}"
    );

    // The database is left behind for `cascade graph ...` and holds what was printed.
    let store = Store::open(&dir.join("cascade.sqlite")).unwrap();
    let python_users = store
        .deps("python", DepDirection::Dependents, Some(1))
        .unwrap();
    assert!(python_users.len() > 75, "{} use python", python_users.len());
    assert_eq!(store.cycles().unwrap().len(), 2);
    assert!(store.errors().unwrap().is_empty());

    // The bot worked in waves: python314 PRs were merged by the maintainers and more
    // were opened after, and every open PR on the forge is tracked exactly once.
    let work = store.work_for("python314").unwrap();
    let merged = work
        .iter()
        .filter(|w| w.outcome == WorkOutcome::Merged)
        .count();
    assert!(merged >= 4, "{merged} python314 PRs merged");
    let forge = LocalForge::open(&dir.join("forge"), &LocalForgeOptions::default()).unwrap();
    let open = forge
        .list_prs(&PrFilter {
            state: Some(PrState::Open),
            ..PrFilter::default()
        })
        .unwrap();
    let tracked = store.open_work().unwrap();
    for pr in &open {
        let records = tracked
            .iter()
            .filter(|w| w.pr.as_ref().is_some_and(|p| p.number == pr.number))
            .count();
        assert_eq!(
            records, 1,
            "PR #{} ({}) tracked once",
            pr.number, pr.feedstock
        );
    }
}

#[test]
fn running_the_demo_again_replaces_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    assert!(demo_rounds(&dir, 1).status.success());
    let stale = dir.join("feedstocks/zlib-feedstock/stale.txt");
    fs_err::write(&stale, "from the last run").unwrap();
    assert!(demo_rounds(&dir, 1).status.success());
    assert!(!stale.exists());
}

#[test]
fn the_demo_refuses_to_replace_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(dir.join("thesis.tex"), "precious").unwrap();
    let output = demo(&dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing"));
    assert_eq!(
        fs_err::read_to_string(dir.join("thesis.tex")).unwrap(),
        "precious"
    );
}
