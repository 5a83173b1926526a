//! The store's guarantees, on real SQLite files and real (small, v1) feedstock trees:
//! one build is one transaction, incremental rebuilds, removal, corrupt rows, schema
//! versions, and edge labels from real renders.

use std::path::{Path, PathBuf};

use cascade::graph::{self, BuildOptions, DepDirection, GraphError, NoReporter, Store};
use cascade::recipe::Section;

/// A directory of feedstock checkouts plus a database, both temporary.
struct Universe {
    feedstocks: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Universe {
    fn new() -> Universe {
        Universe {
            feedstocks: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn options(&self) -> BuildOptions {
        BuildOptions {
            feedstocks_dir: self.feedstocks.path().to_path_buf(),
            db_path: self.db(),
        }
    }

    fn db(&self) -> PathBuf {
        self.data.path().join("graph/cascade.sqlite")
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.feedstocks.path().join(format!("{name}-feedstock"))
    }

    /// Writes a v1 feedstock rendered for `platforms` (`linux_64`, `osx_64`, ...).
    fn feedstock(&self, name: &str, recipe: &str, platforms: &[&str]) {
        let dir = self.dir(name);
        fs_err::create_dir_all(dir.join("recipe")).unwrap();
        fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
        fs_err::write(dir.join("recipe/recipe.yaml"), recipe).unwrap();
        for platform in platforms {
            let subdir = platform.replace('_', "-");
            fs_err::write(
                dir.join(format!(".ci_support/{platform}_.yaml")),
                format!("target_platform:\n- {subdir}\n"),
            )
            .unwrap();
        }
    }

    fn build(&self) -> Result<graph::BuildSummary, GraphError> {
        graph::build(&self.options(), &NoReporter)
    }

    fn store(&self) -> Store {
        Store::open(&self.db()).unwrap()
    }

    fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db()).unwrap()
    }
}

fn recipe(name: &str, version: &str, requirements: &str) -> String {
    format!(
        "schema_version: 1\n\npackage:\n  name: {name}\n  version: \"{version}\"\n\nbuild:\n  number: 0\n{requirements}"
    )
}

/// `lib` and `app`, where `app` host-requires `lib`.
fn lib_and_app() -> Universe {
    let universe = Universe::new();
    universe.feedstock("lib", &recipe("lib", "1.0", ""), &["linux_64"]);
    universe.feedstock(
        "app",
        &recipe("app", "0.4.0", "requirements:\n  host:\n    - lib\n"),
        &["linux_64"],
    );
    universe
}

fn dependencies(store: &Store, name: &str) -> Vec<String> {
    store
        .deps(name, DepDirection::Dependencies, Some(1))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect()
}

#[test]
fn a_build_that_fails_midway_leaves_the_previous_graph_intact() {
    let universe = lib_and_app();
    let first = universe.build().unwrap();
    assert_eq!((first.nodes, first.edges), (2, 1));

    // Change app, then make the build fail at its last write: the `builds` row is
    // inserted after every feedstock row and every derived table have been written.
    universe.feedstock("app", &recipe("app", "0.5.0", ""), &["linux_64"]);
    universe
        .sql()
        .execute_batch(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON builds
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap();
    let err = universe.build().unwrap_err();
    assert!(matches!(err, GraphError::Sqlite { .. }), "{err:?}");

    let store = universe.store();
    let app = store.node("app").unwrap().unwrap();
    assert_eq!(
        app.version.as_deref(),
        Some("0.4.0"),
        "the old row is intact"
    );
    assert_eq!(dependencies(&store, "app"), vec!["lib".to_string()]);
    assert_eq!(
        store.node("lib").unwrap().unwrap().outputs,
        vec!["lib".to_string()]
    );
    let builds: i64 = universe
        .sql()
        .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(builds, 1);

    // Once the fault is gone, the change is picked up (the failed build left no trace).
    universe
        .sql()
        .execute_batch("DROP TRIGGER injected_failure")
        .unwrap();
    let retried = universe.build().unwrap();
    assert_eq!((retried.parsed, retried.edges), (1, 0));
    let app = universe.store().node("app").unwrap().unwrap();
    assert_eq!(app.version.as_deref(), Some("0.5.0"));
}

#[test]
fn a_database_from_a_newer_cascade_is_refused() {
    let universe = lib_and_app();
    universe.build().unwrap();
    universe
        .sql()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let err = Store::open(&universe.db()).unwrap_err();
    assert!(
        matches!(err, GraphError::NewerSchema { found: 999, .. }),
        "{err:?}"
    );
    assert!(universe.build().is_err());
}

#[test]
fn opening_a_missing_database_says_to_build_first() {
    let err = Store::open(Path::new("/nonexistent/cascade.sqlite")).unwrap_err();
    assert!(matches!(err, GraphError::NoGraph { .. }), "{err:?}");
    assert!(err.to_string().contains("cascade graph build"));
}

#[test]
fn corrupt_stored_attributes_make_the_next_build_reread_the_feedstock() {
    let universe = lib_and_app();
    universe.build().unwrap();
    universe
        .sql()
        .execute(
            "UPDATE feedstocks SET attributes = '{not json' WHERE name = 'lib'",
            [],
        )
        .unwrap();
    let rebuilt = universe.build().unwrap();
    assert_eq!(
        (rebuilt.parsed, rebuilt.unchanged, rebuilt.edges),
        (1, 1, 1)
    );
}

#[test]
fn a_feedstock_that_stops_rendering_keeps_its_last_good_edges() {
    let universe = lib_and_app();
    universe.build().unwrap();
    fs_err::write(
        universe.dir("lib").join("recipe/recipe.yaml"),
        "schema_version: 1\npackage:\n  name: lib\n   version: [\n",
    )
    .unwrap();
    let rebuilt = universe.build().unwrap();
    assert_eq!((rebuilt.parsed, rebuilt.parse_errors), (1, 1));
    let store = universe.store();
    let lib = store.node("lib").unwrap().unwrap();
    assert!(lib.parse_error.is_some());
    assert_eq!(lib.version.as_deref(), Some("1.0"), "last good render kept");
    assert_eq!(dependencies(&store, "app"), vec!["lib".to_string()]);
    assert_eq!(store.errors().unwrap().len(), 1);
}

#[test]
fn a_removed_feedstock_that_returns_is_read_again() {
    let universe = lib_and_app();
    universe.build().unwrap();
    let saved = universe.data.path().join("app-saved");
    fs_err::rename(universe.dir("app"), &saved).unwrap();
    let removed = universe.build().unwrap();
    assert_eq!((removed.removed, removed.nodes, removed.edges), (1, 1, 0));
    assert!(
        universe
            .store()
            .node("app")
            .unwrap()
            .unwrap()
            .removed_at
            .is_some()
    );
    let again = universe.build().unwrap();
    assert_eq!(again.removed, 0, "a removal is counted once");

    fs_err::rename(&saved, universe.dir("app")).unwrap();
    let back = universe.build().unwrap();
    assert_eq!((back.parsed, back.nodes, back.edges), (1, 2, 1));
    assert!(
        universe
            .store()
            .node("app")
            .unwrap()
            .unwrap()
            .removed_at
            .is_none()
    );
}

#[test]
fn edge_labels_keep_sections_and_platforms_from_real_renders() {
    let universe = Universe::new();
    let both = ["linux_64", "win_64"];
    universe.feedstock("m2-make", &recipe("m2-make", "4.4", ""), &both);
    universe.feedstock("libz", &recipe("libz", "1.3", ""), &both);
    universe.feedstock(
        "app",
        &recipe(
            "app",
            "1.0",
            "requirements:\n  build:\n    - if: win\n      then: m2-make\n  host:\n    - libz\n  run:\n    - libz\n",
        ),
        &both,
    );
    universe.build().unwrap();
    let export = universe.store().export().unwrap();
    let edge = |source: &str| {
        export
            .edges
            .iter()
            .find(|e| e.source == source && e.target == "app")
            .unwrap_or_else(|| panic!("no edge {source} -> app in {:?}", export.edges))
    };
    let make = edge("m2-make");
    assert_eq!(make.sections, vec![Section::Build]);
    assert_eq!(make.platforms, vec!["win-64".to_string()]);
    let libz = edge("libz");
    assert_eq!(libz.sections, vec![Section::Host, Section::Run]);
    assert_eq!(
        libz.by_section[&Section::Run],
        vec!["linux-64".to_string(), "win-64".to_string()]
    );
}

#[test]
fn strong_run_exports_add_a_run_edge_on_the_platform_that_exports() {
    let universe = Universe::new();
    let both = ["linux_64", "osx_64"];
    universe.feedstock("runtime", &recipe("runtime", "2.0", ""), &both);
    universe.feedstock(
        "toolchain",
        &recipe(
            "toolchain",
            "1.0",
            "requirements:\n  run_exports:\n    strong:\n      - if: linux\n        then: runtime >=2\n",
        ),
        &both,
    );
    universe.feedstock(
        "app",
        &recipe("app", "1.0", "requirements:\n  build:\n    - toolchain\n"),
        &both,
    );
    universe.build().unwrap();
    let export = universe.store().export().unwrap();
    let runtime = export
        .edges
        .iter()
        .find(|e| e.source == "runtime" && e.target == "app")
        .unwrap_or_else(|| panic!("no runtime -> app edge in {:?}", export.edges));
    assert_eq!(runtime.sections, vec![Section::Run]);
    assert_eq!(runtime.platforms, vec!["linux-64".to_string()]);
}

#[test]
fn a_cycle_is_stored_with_its_members_and_ordered_as_a_block() {
    let universe = Universe::new();
    universe.feedstock("base", &recipe("base", "1", ""), &["linux_64"]);
    universe.feedstock(
        "chicken",
        &recipe(
            "chicken",
            "1",
            "requirements:\n  host:\n    - base\n    - egg\n",
        ),
        &["linux_64"],
    );
    universe.feedstock(
        "egg",
        &recipe("egg", "1", "tests:\n  - requirements:\n      run:\n        - chicken\n    script:\n      - chicken --version\n"),
        &["linux_64"],
    );
    let summary = universe.build().unwrap();
    let store = universe.store();
    let cycles = store.cycles().unwrap();
    assert_eq!(summary.cycles, 1, "{cycles:?}");
    assert_eq!(
        cycles[0].members,
        vec!["chicken".to_string(), "egg".to_string()]
    );
    let test_edge = cycles[0]
        .edges
        .iter()
        .find(|e| e.source == "chicken")
        .unwrap();
    assert_eq!(test_edge.sections, vec![Section::Test]);
    assert_eq!(
        store.node("egg").unwrap().unwrap().cycle,
        Some(vec!["chicken".to_string(), "egg".to_string()])
    );
    assert_eq!(
        store.topological_order().unwrap(),
        vec!["base".to_string(), "chicken".to_string(), "egg".to_string()]
    );
}

/// Kills `cascade graph build` at several points of a rebuild: every time, the database
/// is intact and holds either the previous graph or the new one, never a mix, and the
/// next build completes.
#[test]
fn a_build_killed_at_any_point_leaves_a_consistent_graph() {
    use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};
    let universe_dir = tempfile::tempdir().unwrap();
    let feedstocks = universe_dir.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 400,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let db = universe_dir.path().join("cascade.sqlite");
    let options = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: db.clone(),
    };
    graph::build(&options, &NoReporter).unwrap();
    let builds = |db: &Path| -> i64 {
        rusqlite::Connection::open(db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))
            .unwrap()
    };

    // Calibrate: how long the binary crawls and writes for a rebuild after a touch.
    universe::touch(&feedstocks, 0.5, DEFAULT_SEED).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(["graph", "build", "--json", "--feedstocks"])
        .arg(&feedstocks)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let crawl = summary["crawl_ms"].as_u64().unwrap();
    let wall = summary["wall_ms"].as_u64().unwrap().max(crawl + 1);
    // Kill before, during and after the write phase (crawl_ms..wall_ms).
    let delays = [
        crawl / 2,
        crawl,
        crawl + (wall - crawl) / 3,
        crawl + 2 * (wall - crawl) / 3,
        wall,
    ];

    for (round, delay_ms) in delays.into_iter().enumerate() {
        // A real change every round, so every build has work to write.
        universe::touch(&feedstocks, 0.5, DEFAULT_SEED + 1 + round as u64).unwrap();
        let before = builds(&db);
        let versions_before = universe_versions(&db);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
            .args(["graph", "build", "--json", "--feedstocks"])
            .arg(&feedstocks)
            .arg("--db")
            .arg(&db)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();

        let conn = rusqlite::Connection::open(&db).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let after = builds(&db);
        eprintln!("killed after {delay_ms} ms ({status}): builds {before} -> {after}");
        if after == before {
            assert_eq!(
                universe_versions(&db),
                versions_before,
                "an uncommitted build changed rows"
            );
        } else {
            assert_eq!(after, before + 1);
        }
        // The store opens and the next build completes the work.
        Store::open(&db).unwrap().export().unwrap();
        let next = graph::build(&options, &NoReporter).unwrap();
        assert_eq!(next.nodes, 400);
        let settled = graph::build(&options, &NoReporter).unwrap();
        assert_eq!(settled.parsed, 0);
    }
}

/// (name, fingerprint, content hash) of every feedstock row.
fn universe_versions(db: &Path) -> Vec<(String, Option<String>, Option<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, fingerprint, content_hash FROM feedstocks ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The derived tables are synced by difference; after removals and changes they must be
/// exactly what a fresh build of the same checkouts produces.
#[test]
fn an_incremental_build_equals_a_fresh_build_of_the_same_tree() {
    use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 300,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let incremental = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("incremental.sqlite"),
    };
    graph::build(&incremental, &NoReporter).unwrap();

    // Remove every 7th feedstock (their dependents lose edges and gain externals),
    // add a new one that depends on a hub, and change 10% of the rest.
    let mut names: Vec<String> = fs_err::read_dir(&feedstocks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-feedstock") && !n.starts_with("conda-forge-pinning"))
        .collect();
    names.sort();
    for name in names.iter().step_by(7) {
        fs_err::remove_dir_all(feedstocks.join(name)).unwrap();
    }
    let newcomer = feedstocks.join("newcomer-feedstock");
    fs_err::create_dir_all(newcomer.join("recipe")).unwrap();
    fs_err::create_dir_all(newcomer.join(".ci_support")).unwrap();
    fs_err::write(
        newcomer.join("recipe/recipe.yaml"),
        recipe(
            "newcomer",
            "1.0",
            "requirements:\n  host:\n    - python\n    - zlib\n  run:\n    - python\n",
        ),
    )
    .unwrap();
    fs_err::write(
        newcomer.join(".ci_support/linux_64_.yaml"),
        "target_platform:\n- linux-64\n",
    )
    .unwrap();
    universe::touch(&feedstocks, 0.1, DEFAULT_SEED).unwrap();
    let summary = graph::build(&incremental, &NoReporter).unwrap();
    assert!(summary.removed > 0 && summary.parsed > 0, "{summary:?}");

    let fresh = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("fresh.sqlite"),
    };
    graph::build(&fresh, &NoReporter).unwrap();
    let export = |options: &BuildOptions| {
        serde_json::to_value(Store::open(&options.db_path).unwrap().export().unwrap()).unwrap()
    };
    let (incremental, fresh) = (export(&incremental), export(&fresh));
    assert!(
        incremental["edges"].as_array().unwrap().len() > 100,
        "the universe has a real graph"
    );
    assert_eq!(incremental["nodes"], fresh["nodes"]);
    assert_eq!(incremental["edges"], fresh["edges"]);
    assert_eq!(incremental["externals"], fresh["externals"]);
}

/// Writes a v1 feedstock for linux-64 into a universe directory.
fn write_v1(feedstocks: &Path, dir: &str, recipe: &str) {
    let dir = feedstocks.join(format!("{dir}-feedstock"));
    fs_err::create_dir_all(dir.join("recipe")).unwrap();
    fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
    fs_err::write(dir.join("recipe/recipe.yaml"), recipe).unwrap();
    fs_err::write(
        dir.join(".ci_support/linux_64_.yaml"),
        "target_platform:\n- linux-64\n",
    )
    .unwrap();
}

/// A few changes to a built universe take the partial path (only the nodes a change
/// reaches are recomputed), and every kind of change that moves edges of other nodes
/// ends in exactly the graph a fresh build gives: a renamed output, changed strong
/// run_exports, a removed dependency, a new producer of an external name.
#[test]
fn a_small_incremental_build_recomputes_few_nodes_and_equals_a_fresh_build() {
    use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 300,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let host = |reqs: &str| format!("requirements:\n  host:\n{reqs}");
    // `libprov` (renamed later) and `provtool` (whose strong exports change later).
    write_v1(&feedstocks, "libprov", &recipe("libprov", "1.0", ""));
    let exports =
        |rt: &str| format!("requirements:\n  run_exports:\n    strong:\n      - {rt} >=1\n");
    write_v1(
        &feedstocks,
        "provtool",
        &recipe("provtool", "1.0", &exports("rt-a")),
    );
    write_v1(&feedstocks, "rt-a", &recipe("rt-a", "1.0", ""));
    write_v1(&feedstocks, "rt-b", &recipe("rt-b", "1.0", ""));
    // `gone` is removed later; `user` depends on all of them and on `notyet`, external
    // until a feedstock producing it appears.
    write_v1(&feedstocks, "gone", &recipe("gone", "1.0", ""));
    write_v1(
        &feedstocks,
        "user",
        &recipe(
            "user",
            "1.0",
            &(host("    - libprov\n    - libprov2\n    - provtool\n    - gone\n")
                + "  run:\n    - notyet\n    - python\n"),
        ),
    );
    write_v1(
        &feedstocks,
        "other-user",
        &recipe("other-user", "1.0", &host("    - provtool\n    - zlib\n")),
    );
    write_v1(
        &feedstocks,
        "waiting",
        &recipe("waiting", "1.0", "requirements:\n  run:\n    - notyet\n"),
    );
    let incremental = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("incremental.sqlite"),
    };
    let first = graph::build(&incremental, &NoReporter).unwrap();
    let noop = graph::build(&incremental, &NoReporter).unwrap();
    assert_eq!((noop.parsed, noop.recomputed), (0, 0), "{noop:?}");
    assert_eq!(
        (
            noop.edges,
            noop.external_dependencies,
            noop.cycles,
            noop.weak_components
        ),
        (
            first.edges,
            first.external_dependencies,
            first.cycles,
            first.weak_components
        )
    );

    write_v1(&feedstocks, "libprov", &recipe("libprov2", "1.1", ""));
    write_v1(
        &feedstocks,
        "provtool",
        &recipe("provtool", "1.1", &exports("rt-b")),
    );
    fs_err::remove_dir_all(feedstocks.join("gone-feedstock")).unwrap();
    write_v1(&feedstocks, "notyet", &recipe("notyet", "1.0", ""));
    universe::touch(&feedstocks, 0.02, DEFAULT_SEED).unwrap();
    let summary = graph::build(&incremental, &NoReporter).unwrap();
    assert!(summary.parsed >= 4 && summary.removed == 1, "{summary:?}");
    assert!(
        summary.recomputed > 0 && summary.recomputed < summary.nodes / 10,
        "the partial path was taken: {summary:?}"
    );

    let fresh = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("fresh.sqlite"),
    };
    let fresh_summary = graph::build(&fresh, &NoReporter).unwrap();
    let export = |options: &BuildOptions| {
        serde_json::to_value(Store::open(&options.db_path).unwrap().export().unwrap()).unwrap()
    };
    let (incremental_export, fresh_export) = (export(&incremental), export(&fresh));
    assert_eq!(incremental_export["nodes"], fresh_export["nodes"]);
    assert_eq!(incremental_export["edges"], fresh_export["edges"]);
    assert_eq!(incremental_export["externals"], fresh_export["externals"]);
    assert_eq!(
        (
            summary.edges,
            summary.external_dependencies,
            summary.cycles,
            summary.weak_components
        ),
        (
            fresh_summary.edges,
            fresh_summary.external_dependencies,
            fresh_summary.cycles,
            fresh_summary.weak_components
        )
    );
    let store = Store::open(&incremental.db_path).unwrap();
    let mut user = dependencies(&store, "user");
    user.sort();
    assert_eq!(
        user,
        ["libprov", "notyet", "provtool", "python", "rt-b"].map(String::from),
        "renamed output kept, new producer found, removed dependency and old export dropped"
    );
    assert!(dependencies(&store, "other-user").contains(&"rt-b".to_string()));
    assert_eq!(dependencies(&store, "waiting"), vec!["notyet".to_string()]);
}

/// Two builds of the same tree at once: the crawl runs outside the write transaction,
/// so one of them sees the other's commit and crawls again. Both succeed and the graph
/// is the one a single build gives.
#[test]
fn concurrent_builds_both_succeed_and_agree() {
    use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 300,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let options = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("cascade.sqlite"),
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| graph::build(&options, &NoReporter));
        let b = scope.spawn(|| graph::build(&options, &NoReporter));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    eprintln!("a parsed {}, b parsed {}", a.parsed, b.parsed);
    assert_eq!((a.nodes, a.edges), (b.nodes, b.edges));
    assert_eq!(
        a.parsed + b.parsed,
        300,
        "the second build to commit re-crawls against the first's rows"
    );
    let builds: i64 = rusqlite::Connection::open(&options.db_path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM builds", [], |r| r.get(0))
        .unwrap();
    assert_eq!(builds, 2);
    assert_eq!(graph::build(&options, &NoReporter).unwrap().parsed, 0);
}
