//! `cascade graph ...` end to end: the real binary on the `tests/fixtures/broken`
//! feedstocks (good and broken ones side by side) and a real SQLite file.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/broken"
    ))
}

/// The number of `*-feedstock` directories in the fixtures.
fn fixture_count() -> usize {
    fs_err::read_dir(fixtures())
        .unwrap()
        .filter(|e| {
            let e = e.as_ref().unwrap();
            e.file_name().to_string_lossy().ends_with("-feedstock")
        })
        .count()
}

/// A temporary data directory with the fixtures built into `cascade.sqlite`.
struct Built {
    dir: tempfile::TempDir,
}

impl Built {
    fn new() -> Built {
        let built = Built {
            dir: tempfile::tempdir().unwrap(),
        };
        cargo_bin_cmd!("cascade")
            .args(["graph", "build", "--json", "--feedstocks"])
            .arg(fixtures())
            .arg("--db")
            .arg(built.db())
            .assert()
            .success();
        built
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("cascade.sqlite")
    }

    /// Runs `cascade graph <args> --db <db>`.
    fn graph(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        cargo_bin_cmd!("cascade")
            .arg("graph")
            .args(args)
            .arg("--db")
            .arg(self.db())
            .assert()
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.graph(args).success().get_output().stdout.clone();
        serde_json::from_slice(&output).unwrap()
    }
}

#[test]
fn build_prints_a_summary_with_nodes_edges_errors_cycles_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/cascade.sqlite");
    cargo_bin_cmd!("cascade")
        .args(["graph", "build", "--feedstocks"])
        .arg(fixtures())
        .arg("--db")
        .arg(&db)
        .assert()
        .success()
        .stdout(predicate::str::contains("graph built in"))
        .stdout(predicate::str::contains(format!(
            "{} feedstocks",
            fixture_count()
        )))
        .stdout(predicate::str::contains("parse errors:"))
        .stdout(predicate::str::contains("cycles: 0"));
    assert!(db.is_file(), "the data directory is created");
}

#[test]
fn build_json_is_the_build_summary() {
    let dir = tempfile::tempdir().unwrap();
    let output = cargo_bin_cmd!("cascade")
        .args(["graph", "build", "--json", "--feedstocks"])
        .arg(fixtures())
        .arg("--db")
        .arg(dir.path().join("cascade.sqlite"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(summary["nodes"], fixture_count());
    assert_eq!(summary["parsed"], fixture_count());
    for key in [
        "edges",
        "parse_errors",
        "cycles",
        "wall_ms",
        "unchanged",
        "removed",
    ] {
        assert!(summary.get(key).is_some(), "missing {key} in {summary}");
    }
}

#[test]
fn build_of_a_missing_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("cascade")
        .args(["graph", "build", "--feedstocks"])
        .arg(dir.path().join("nope"))
        .arg("--db")
        .arg(dir.path().join("cascade.sqlite"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("failed to list feedstocks"));
}

#[test]
fn show_json_has_the_documented_fields() {
    let built = Built::new();
    let node = built.json(&["show", "goodlib", "--json"]);
    assert_eq!(node["name"], "goodlib");
    assert_eq!(node["version"], "1.2.3");
    assert_eq!(node["recipe_format"], "v1");
    assert_eq!(node["outputs"], serde_json::json!(["goodlib"]));
    assert_eq!(node["platforms"], serde_json::json!(["linux-64"]));
    assert_eq!(node["parse_error"], Value::Null);
    assert!(node["dependents"].as_u64().unwrap() >= 2, "{node}");
    let app = built.json(&["show", "goodapp", "--json"]);
    assert_eq!(app["requirements"]["host"], serde_json::json!(["goodlib"]));
    assert_eq!(app["requirements"]["run"], serde_json::json!(["python"]));
}

#[test]
fn show_of_a_broken_feedstock_prints_its_parse_error() {
    let built = Built::new();
    built
        .graph(&["show", "broken-config"])
        .success()
        .stdout(predicate::str::contains("parse error: conda-forge.yml:4:"));
}

#[test]
fn show_of_an_unknown_feedstock_exits_2_with_a_clear_message() {
    let built = Built::new();
    built
        .graph(&["show", "no-such-thing"])
        .code(2)
        .stderr(predicate::str::contains(
            "unknown feedstock `no-such-thing`",
        ));
    built
        .graph(&["deps", "no-such-thing"])
        .code(2)
        .stderr(predicate::str::contains(
            "unknown feedstock `no-such-thing`",
        ));
}

#[test]
fn deps_lists_dependencies_and_reverse_lists_dependents() {
    let built = Built::new();
    built
        .graph(&["deps", "goodapp"])
        .success()
        .stdout(predicate::str::contains("goodlib [host]"));
    let dependents = built.json(&["deps", "goodlib", "--reverse", "--json"]);
    let names: Vec<&str> = dependents
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"goodapp"), "{names:?}");
    assert!(names.contains(&"broken-config"), "{names:?}");
    assert!(dependents[0]["depth"] == 1);
    let none = built.json(&["deps", "goodlib", "--depth", "0", "--json"]);
    assert_eq!(none, serde_json::json!([]));
}

#[test]
fn cycles_and_errors_have_text_and_json_forms() {
    let built = Built::new();
    built
        .graph(&["cycles"])
        .success()
        .stdout(predicate::str::contains("no cycles"));
    assert_eq!(built.json(&["cycles", "--json"]), serde_json::json!([]));
    built
        .graph(&["errors"])
        .success()
        .stdout(predicate::str::contains(
            "broken-config: conda-forge.yml:4:",
        ))
        .stdout(predicate::str::contains(
            "missing-recipe: recipe: no recipe",
        ));
    let errors = built.json(&["errors", "--json"]);
    let error = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["feedstock"] == "invalid-v1-yaml")
        .unwrap();
    assert_eq!(error["file"], "recipe/recipe.yaml");
    assert_eq!(error["line"], 10);
}

#[test]
fn export_writes_json_and_dot() {
    let built = Built::new();
    let export = built.json(&["export", "--format", "json"]);
    assert_eq!(export["nodes"].as_array().unwrap().len(), fixture_count());
    let edge = export["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == "goodlib" && e["target"] == "goodapp")
        .unwrap();
    assert_eq!(edge["sections"], serde_json::json!(["host"]));
    assert_eq!(edge["by_section"]["host"], serde_json::json!(["linux-64"]));
    assert_eq!(built.json(&["export", "--json"]), export);
    built
        .graph(&["export", "--format", "dot"])
        .success()
        .stdout(predicate::str::starts_with("digraph cascade {"))
        .stdout(predicate::str::contains(
            "\"goodlib\" -> \"goodapp\" [label=\"host\"];",
        ));
}

#[test]
fn read_commands_without_a_database_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for command in [&["show", "zlib"][..], &["cycles"], &["errors"], &["export"]] {
        cargo_bin_cmd!("cascade")
            .arg("graph")
            .args(command)
            .arg("--db")
            .arg(dir.path().join("missing.sqlite"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("run `cascade graph build` first"));
    }
}

#[test]
fn graph_help_lists_every_subcommand() {
    let output = cargo_bin_cmd!("cascade")
        .args(["graph", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8(output).unwrap(), @r"
    Build the feedstock dependency graph and query it

    Usage: cascade graph [OPTIONS] <COMMAND>

    Commands:
      build   Crawl a directory of `<name>-feedstock` checkouts into the graph database
      show    Show one feedstock: version, outputs, requirements, platforms, parse errors
      deps    List what a feedstock depends on (or, with --reverse, what depends on it)
      cycles  List the dependency cycles and the edges that close them
      errors  List every recorded parse error with its file and line
      export  Export the whole graph as JSON or Graphviz DOT
      help    Print this message or the help of the given subcommand(s)

    Options:
          --log <LOG>  Log filter (tracing `EnvFilter` syntax); `CASCADE_LOG` overrides the default `warn`
      -h, --help       Print help
    ");
}

#[test]
fn deps_text_shows_each_dependent_with_its_sections() {
    let built = Built::new();
    let output = built
        .graph(&["deps", "goodlib", "--reverse"])
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8(output).unwrap(), @r"
    broken-config [host]
    goodapp [host]
    goodtool [host,run]
    ");
}
