//! `cascade forge ...` end to end: the real binary on a real forge directory. PRs are
//! opened through the library (the bot's side has no CLI of its own here), then the
//! maintainers' commands act on them.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use cascade::forge::local::{LocalForge, LocalForgeOptions};
use cascade::forge::{CommitSpec, Forge, NewPullRequest};
use predicates::prelude::*;
use serde_json::Value;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// Two hand-made feedstocks and a stray file in a checkouts directory.
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for name in ["alpha", "beta"] {
            let recipe = dir
                .path()
                .join(format!("checkouts/{name}-feedstock/recipe"));
            fs_err::create_dir_all(&recipe).unwrap();
            fs_err::write(
                recipe.join("meta.yaml"),
                format!("package:\n  name: {name}\n  version: 1.0\n"),
            )
            .unwrap();
        }
        fs_err::write(dir.path().join("checkouts/notes.txt"), "not a feedstock\n").unwrap();
        Fixture { dir }
    }

    fn checkouts(&self) -> PathBuf {
        self.dir.path().join("checkouts")
    }

    fn forge_dir(&self) -> PathBuf {
        self.dir.path().join("forge")
    }

    /// Runs `cascade forge --forge-dir <forge> <args>`.
    fn forge(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        cargo_bin_cmd!("cascade")
            .arg("forge")
            .arg("--forge-dir")
            .arg(self.forge_dir())
            .args(args)
            .assert()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.forge(args).success().get_output().stdout.clone();
        serde_json::from_slice(&output).unwrap()
    }

    /// Opens a PR the way the bot does: push a branch to the fork, open the PR.
    fn open_pr(&self, feedstock: &str, branch: &str, path: &str, text: &str) -> u64 {
        let forge = LocalForge::open(&self.forge_dir(), &LocalForgeOptions::default()).unwrap();
        let work = self.dir.path().join(format!("work/{feedstock}-feedstock"));
        let base = forge.sync_checkout(feedstock, &work).unwrap();
        let commit = CommitSpec {
            writes: [(path.to_string(), text.to_string())].into(),
            deletes: BTreeSet::new(),
            message: "MNT: change".to_string(),
            author_name: "cascade-bot".to_string(),
            author_email: "cascade-bot@users.noreply.github.com".to_string(),
        };
        forge
            .push_branch(feedstock, &base, branch, &commit)
            .unwrap();
        let pr = forge
            .open_pr(&NewPullRequest {
                feedstock: feedstock.to_string(),
                head: branch.to_string(),
                base: "main".to_string(),
                title: format!("Change {path}"),
                body: "Made by a test.".to_string(),
            })
            .unwrap();
        pr.number
    }

    /// A maintainer's push to `main`.
    fn push_upstream(&self, feedstock: &str, path: &str, text: &str) {
        let forge = LocalForge::open(&self.forge_dir(), &LocalForgeOptions::default()).unwrap();
        let commit = CommitSpec {
            writes: [(path.to_string(), text.to_string())].into(),
            deletes: BTreeSet::new(),
            message: "maintainer change".to_string(),
            author_name: "A Maintainer".to_string(),
            author_email: "maintainer@example.org".to_string(),
        };
        forge.commit_upstream(feedstock, &commit).unwrap();
    }
}

fn imported(fixture: &Fixture) {
    fixture
        .forge(&["import"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("DIR"));
    let checkouts = fixture.checkouts();
    fixture
        .forge(&["import", checkouts.to_str().unwrap()])
        .success()
        .stdout(predicate::str::contains("imported 2 feedstocks into"))
        .stdout(predicate::str::contains(
            "(2 new, 0 updated, 0 unchanged), skipped 1",
        ))
        .stderr(predicate::str::contains("notes.txt"));
}

#[test]
fn the_pr_commands_round_trip_through_the_binary() {
    let fx = Fixture::new();
    imported(&fx);
    let first = fx.open_pr("alpha", "bump_h1", "recipe/meta.yaml", "bumped\n");
    let second = fx.open_pr("beta", "bump_h1", "README.md", "readme\n");

    let listed = fx.json(&["pr", "list", "--json"]);
    let numbers: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|pr| pr["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [first, second]);
    assert_eq!(listed[0]["feedstock"], "alpha");
    assert_eq!(listed[0]["state"], "open");
    assert_eq!(
        listed[0]["url"],
        format!("local://conda-forge/alpha-feedstock/pull/{first}")
    );

    fx.forge(&["pr", "label", &first.to_string(), "automerge"])
        .success()
        .stdout(predicate::str::contains("automerge"));
    fx.forge(&["pr", "ci", &first.to_string(), "passing"])
        .success()
        .stdout(predicate::str::contains("passing"));
    fx.forge(&["pr", "ci", &first.to_string(), "green"])
        .failure()
        .code(2);

    let table = fx
        .forge(&["pr", "list"])
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("PR"), "{table}");
    for word in [
        format!("#{first}"),
        "alpha".to_string(),
        "open".to_string(),
        "passing".to_string(),
        "automerge".to_string(),
        "Change recipe/meta.yaml".to_string(),
    ] {
        assert!(
            lines[1].contains(&word),
            "{word} missing from {:?}",
            lines[1]
        );
    }

    let shown = fx.json(&["pr", "show", &first.to_string(), "--json"]);
    assert_eq!(shown["ci"], "passing");
    assert_eq!(shown["labels"], serde_json::json!(["automerge"]));
    assert_eq!(shown["mergeable"], "clean");
    assert_eq!(shown["comments"], serde_json::json!([]));
    fx.forge(&["pr", "show", &first.to_string()])
        .success()
        .stdout(predicate::str::contains("Made by a test."))
        .stdout(predicate::str::contains("mergeable:  clean"));

    fx.forge(&["pr", "merge", &first.to_string()])
        .success()
        .stdout(predicate::str::contains(format!("merged #{first}")));
    fx.forge(&["pr", "close", &second.to_string()])
        .success()
        .stdout(predicate::str::contains("closed"));

    let merged = fx.json(&["pr", "list", "--state", "merged", "--json"]);
    assert_eq!(merged.as_array().unwrap().len(), 1);
    assert_eq!(merged[0]["number"].as_u64(), Some(first));
    let all = fx.json(&["pr", "list", "--state", "all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let open = fx.json(&["pr", "list", "--json"]);
    assert_eq!(open, serde_json::json!([]));

    // The merge reached upstream: a fresh checkout has the PR's change.
    let forge = LocalForge::open(&fx.forge_dir(), &LocalForgeOptions::default()).unwrap();
    let check = fx.dir.path().join("check/alpha-feedstock");
    forge.sync_checkout("alpha", &check).unwrap();
    assert_eq!(
        fs_err::read_to_string(check.join("recipe/meta.yaml")).unwrap(),
        "bumped\n"
    );

    // Importing the checkouts again: beta's files are what upstream has; alpha's
    // checkout predates the merge, so the import commits its files on top again.
    let again = fx.json(&["import", fx.checkouts().to_str().unwrap(), "--json"]);
    assert_eq!(again["unchanged"], serde_json::json!(["beta"]));
    assert_eq!(again["updated"], serde_json::json!(["alpha"]));
    forge.sync_checkout("alpha", &check).unwrap();
    assert_eq!(
        fs_err::read_to_string(check.join("recipe/meta.yaml")).unwrap(),
        "package:\n  name: alpha\n  version: 1.0\n"
    );
}

#[test]
fn a_conflicting_merge_exits_2_and_the_pr_shows_dirty() {
    let fx = Fixture::new();
    imported(&fx);
    let number = fx.open_pr("alpha", "conflict_h1", "recipe/meta.yaml", "bot\n");
    fx.push_upstream("alpha", "recipe/meta.yaml", "maintainer\n");
    fx.forge(&["pr", "merge", &number.to_string()])
        .failure()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "cannot merge PR #{number}"
        )))
        .stderr(predicate::str::contains("conflicts with `main`"));
    let shown = fx.json(&["pr", "show", &number.to_string(), "--json"]);
    assert_eq!(shown["mergeable"], "dirty");
    assert_eq!(shown["state"], "open");
}

#[test]
fn bad_input_exits_2_naming_what_was_wrong() {
    let fx = Fixture::new();
    let missing = fx.dir.path().join("no-such-dir");
    fx.forge(&["import", missing.to_str().unwrap()])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("no-such-dir"));

    // No forge yet: read commands say so instead of creating an empty one.
    fx.forge(&["pr", "list"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("no forge at"));
    assert!(!fx.forge_dir().join("forge.sqlite").exists());

    imported(&fx);
    fx.forge(&["pr", "merge", "99"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("cannot merge PR #99"))
        .stderr(predicate::str::contains("PR #99 not found"));
    fx.forge(&["pr", "show", "7"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("PR #7 not found"));
    fx.forge(&["pr", "label", "1", "x"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("PR #1 not found"));
    fx.forge(&["pr", "list", "--state", "sideways"])
        .failure()
        .code(2);
    fx.forge(&["--org", "../x", "pr", "list"])
        .failure()
        .code(2)
        .stderr(predicate::str::contains("../x"));
}

#[test]
fn the_real_feedstocks_import_through_the_binary() {
    let Some(data) = common::shared_data("feedstocks") else {
        return;
    };
    let fx = Fixture::new();
    let summary = fx.json(&["import", data.to_str().unwrap(), "--json"]);
    assert_eq!(summary["created"].as_array().unwrap().len(), 137);
    let skipped: Vec<&str> = summary["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            Path::new(entry["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
        })
        .collect();
    assert_eq!(skipped, ["MANIFEST.tsv", "README.md"]);
    let forge = LocalForge::open(&fx.forge_dir(), &LocalForgeOptions::default()).unwrap();
    let names: Vec<String> = forge
        .list_feedstocks()
        .unwrap()
        .into_iter()
        .map(|repo| repo.name)
        .collect();
    assert!(names.contains(&"numpy".to_string()));
    assert!(names.contains(&"conda-forge-pinning".to_string()));
}
