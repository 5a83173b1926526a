//! `cascade demo`: offline, end to end, on a generated universe.

use assert_cmd::Command;
use cascade::graph::{DepDirection, Store};

fn demo(dir: &std::path::Path) -> std::process::Output {
    Command::cargo_bin("cascade")
        .unwrap()
        .args(["demo", "--size", "150", "--dir"])
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
    assert!(stdout.contains("nodes 150,"), "{stdout}");
    assert!(stdout.contains("parse errors 0,"), "{stdout}");
    assert!(stdout.contains("cycles 2"), "{stdout}");
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
}

#[test]
fn running_the_demo_again_replaces_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    assert!(demo(&dir).status.success());
    let stale = dir.join("feedstocks/zlib-feedstock/stale.txt");
    fs_err::write(&stale, "from the last run").unwrap();
    assert!(demo(&dir).status.success());
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
