//! `cascade run` from the command line: `--dry-run` prints every PR with its diff and
//! changes nothing; a real run opens them (`--json` for scripts); running it again opens
//! no duplicate; an unknown `--migrator` is an error naming it.

use std::path::Path;

use assert_cmd::Command;
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

fn cascade(args: &[&str], data: &Path) -> std::process::Output {
    Command::cargo_bin("cascade")
        .unwrap()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn setup(dir: &Path) -> std::path::PathBuf {
    let feedstocks = dir.join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 60,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
    fs_err::create_dir_all(&migrations).unwrap();
    fs_err::write(
        migrations.join("python314.yaml"),
        include_str!("../migrators/demo/python314.yaml"),
    )
    .unwrap();
    let data = dir.join("data");
    let import = Command::cargo_bin("cascade")
        .unwrap()
        .args(["forge", "--forge-dir"])
        .arg(data.join("forge"))
        .arg("import")
        .arg(&feedstocks)
        .output()
        .unwrap();
    assert!(import.status.success(), "{import:?}");
    data
}

fn pr_count(data: &Path) -> usize {
    let out = Command::cargo_bin("cascade")
        .unwrap()
        .args(["forge", "--forge-dir"])
        .arg(data.join("forge"))
        .args(["pr", "list", "--state", "all", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let prs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    prs.as_array().unwrap().len()
}

#[test]
fn a_dry_run_prints_each_pr_with_its_diff_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = setup(tmp.path());
    let out = cascade(&["run", "--dry-run", "--migrator", "python314"], &data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("dry run: nothing was pushed"), "{stdout}");
    assert!(stdout.contains("=== python314 · "), "{stdout}");
    assert!(
        stdout.contains("+++ b/.ci_support/migrations/python314.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("3.14.* *_cp314"), "{stdout}");
    assert_eq!(pr_count(&data), 0, "a dry run opened PRs");

    let out = cascade(&["run", "--json", "--migrator", "python314"], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let opened = summary["migrations"][0]["opened"].as_array().unwrap().len();
    assert_eq!(summary["migrations"][0]["name"], "python314");
    assert_eq!(opened, 2, "{summary:#}");
    assert_eq!(pr_count(&data), 2);

    // Again: the open PRs are in-pr, the ramp allows 2 more at most, nothing doubles.
    let out = cascade(&["run", "--json", "--migrator", "python314"], &data);
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["migrations"][0]["counts"]["in_pr"], 2,
        "{summary:#}"
    );
    let again = summary["migrations"][0]["opened"].as_array().unwrap().len();
    assert_eq!(pr_count(&data), 2 + again);
}

#[test]
fn an_unknown_migration_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = setup(tmp.path());
    let out = cascade(&["run", "--migrator", "python999"], &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("python999"));
}

#[test]
fn a_bot_rerun_label_on_an_already_closed_pr_redoes_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let data = setup(tmp.path());
    let forge = |args: &[&str]| {
        let out = Command::cargo_bin("cascade")
            .unwrap()
            .args(["forge", "--forge-dir"])
            .arg(data.join("forge"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        out
    };
    let run = || {
        let out = cascade(&["run", "--json", "--migrator", "python314"], &data);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    run();
    let shown: serde_json::Value =
        serde_json::from_slice(&forge(&["pr", "show", "1", "--json"]).stdout).unwrap();
    let feedstock = shown["feedstock"].as_str().unwrap().to_string();

    // Closed unmerged: recorded as done (closed), no new PR for it.
    forge(&["pr", "close", "1"]);
    let summary = run();
    assert_eq!(summary["refresh"]["closed"], 1, "{summary:#}");
    assert_eq!(summary["migrations"][0]["counts"]["closed_unmerged"], 1);

    // Labelled afterwards: the next run honours the label and opens a fresh PR there.
    forge(&["pr", "label", "1", "bot-rerun"]);
    let summary = run();
    assert_eq!(summary["refresh"]["reruns"], 1, "{summary:#}");
    let opened: Vec<&str> = summary["migrations"][0]["opened"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["feedstock"].as_str().unwrap())
        .collect();
    assert!(opened.contains(&feedstock.as_str()), "{opened:?}");
    // And only once: the run after that does not count the label again.
    let summary = run();
    assert_eq!(summary["refresh"]["reruns"], 0, "{summary:#}");
}
