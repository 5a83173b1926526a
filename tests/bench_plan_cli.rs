//! `cascade bench plan` end to end: the real binary plans the real pinning's migrations
//! and the embedded ones over a small generated universe. Checks the report's shape and
//! its consistency, and the reuse of a `--dir`; not the timings (the benchmark itself
//! measures those in release, see `benches/README.md`).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

const SIZE: u64 = 300;

/// Runs `cascade bench plan --json` over a `SIZE`-feedstock universe in `dir`.
fn bench_plan(dir: &Path, pinning: &Path, seed: u64, rounds: u64) -> Value {
    let output = cargo_bin_cmd!("cascade")
        .args(["bench", "plan", "--json", "--size"])
        .arg(SIZE.to_string())
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--rounds")
        .arg(rounds.to_string())
        .arg("--pinning")
        .arg(pinning)
        .arg("--dir")
        .arg(dir)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&output).unwrap()
}

fn number(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {value}"))
}

/// Members per migration, by name.
fn members(report: &Value) -> Vec<(String, u64)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["members"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_report_covers_every_migration_and_a_second_run_reuses_the_universe() {
    let Some(pinning) = common::shared_data("pinning") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = bench_plan(dir.path(), &pinning, 7, 3);

    let universe = &report["universe"];
    assert_eq!(universe["size"], SIZE);
    assert_eq!(universe["seed"], 7);
    assert_eq!(universe["reused"], false);
    assert!(universe["generate_ms"].is_u64(), "{universe}");
    assert_eq!(universe["nodes"], SIZE);
    assert!(universe["edges"].as_u64().unwrap() > SIZE, "{universe}");

    let rounds = report["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 3);
    for round in rounds {
        assert!(number(round, "load_ms") > 0.0, "{round}");
        assert!(number(round, "plan_ms") > 0.0, "{round}");
    }
    for spread in [&report["load"], &report["plan"]] {
        let (min, median, max) = (
            number(spread, "min_ms"),
            number(spread, "median_ms"),
            number(spread, "max_ms"),
        );
        assert!(0.0 < min && min <= median && median <= max, "{spread}");
    }
    assert_eq!(report["target_ms"], 2000);
    assert!(report["target_met"].is_boolean());

    // Every pinning migration file is planned, or named in a definition error.
    let migrations = report["migrations"].as_array().unwrap();
    let names: BTreeSet<&str> = migrations
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    let errors: Vec<&str> = report["definition_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let mut files = 0;
    for entry in fs_err::read_dir(pinning.join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files += 1;
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                names.contains(stem) || errors.iter().any(|e| e.contains(&format!("`{stem}`"))),
                "`{stem}` is neither planned nor reported: {names:?} {errors:?}"
            );
        }
    }
    assert!(files > 10, "only {files} migration files");
    for arch in [
        "arch-linux-aarch64-ppc64le",
        "arch-osx-arm64",
        "arch-win-arm64",
    ] {
        assert!(names.contains(arch), "{arch} missing from {names:?}");
    }
    assert!(names.contains("maintenance-rerender"), "{names:?}");

    for m in migrations {
        let members = m["members"].as_u64().unwrap();
        assert!(m["ready"].as_u64().unwrap() <= members, "{m}");
        assert!(m["awaiting_parents"].as_u64().unwrap() <= members, "{m}");
        assert!(members + m["excluded"].as_u64().unwrap() <= SIZE, "{m}");
        for key in ["plan_ms", "records_ms", "schedule_ms", "total_ms"] {
            number(m, key);
        }
        if m["kind"] == "pinning" {
            // The universe's pinning feedstock closes every pinning migration.
            assert!(members >= 1, "{m}");
        }
    }
    // The universe has the real hubs, so python314 reaches well beyond the pinning
    // feedstock, and in order: some of its members wait for their parents.
    let python = migrations
        .iter()
        .find(|m| m["name"] == "python314")
        .unwrap();
    assert!(python["members"].as_u64().unwrap() > 10, "{python}");
    assert!(python["plan_edges"].as_u64().unwrap() > 0, "{python}");
    assert!(python["awaiting_parents"].as_u64().unwrap() > 0, "{python}");
    let maintenance = migrations
        .iter()
        .find(|m| m["name"] == "maintenance-rerender")
        .unwrap();
    assert_eq!(maintenance["members"], SIZE, "{maintenance}");

    // Same size and seed: the universe and its graph are reused, and plan the same.
    let again = bench_plan(dir.path(), &pinning, 7, 1);
    assert_eq!(again["universe"]["reused"], true);
    assert!(again["universe"]["generate_ms"].is_null());
    assert_eq!(again["universe"]["edges"], universe["edges"]);
    assert_eq!(members(&again), members(&report));

    // Another seed replaces it.
    let other = bench_plan(dir.path(), &pinning, 8, 1);
    assert_eq!(other["universe"]["reused"], false);
    assert_eq!(other["universe"]["seed"], 8);
}

#[test]
fn the_text_report_gives_the_medians_and_the_verdict() {
    let Some(pinning) = common::shared_data("pinning") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("cascade")
        .args([
            "bench",
            "plan",
            "--size",
            "200",
            "--rounds",
            "1",
            "--pinning",
        ])
        .arg(&pinning)
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("universe: 200 feedstocks")
                .and(predicate::str::contains("python314"))
                .and(predicate::str::contains("snapshot load: median"))
                .and(predicate::str::contains(
                    "plan + schedule of all migrations: median",
                )),
        );
}

#[test]
fn a_directory_the_benchmark_did_not_write_is_left_alone() {
    let Some(pinning) = common::shared_data("pinning") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("plan.sqlite");
    fs_err::write(&foreign, "not ours").unwrap();
    cargo_bin_cmd!("cascade")
        .args(["bench", "plan", "--size", "200", "--pinning"])
        .arg(&pinning)
        .arg("--dir")
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "was not written by `cascade bench plan`",
        ));
    assert_eq!(fs_err::read_to_string(&foreign).unwrap(), "not ours");
}

#[test]
fn a_missing_pinning_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("cascade")
        .args(["bench", "plan", "--size", "200", "--pinning"])
        .arg(dir.path().join("nowhere"))
        .assert()
        .failure()
        .stderr(predicate::str::contains("is not a pinning directory"));
}
