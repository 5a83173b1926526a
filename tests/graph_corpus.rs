//! The graph over the real conda-forge corpus under `../shared/data/feedstocks`.
//!
//! One build is shared by the read-only tests (it lives in `CARGO_TARGET_TMPDIR`); the
//! incremental tests work on their own copy of the corpus. Every test skips with a
//! message when the corpus is absent (a fresh clone without `../shared`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cascade::graph::{self, BuildOptions, BuildSummary, DepDirection, NoReporter, Store};
use cascade::recipe::Section;

const PINNING: &str = "conda-forge-pinning";

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feedstocks");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} is absent", dir.display());
        None
    }
}

/// The shared build of the corpus, made once per test binary.
fn built() -> Option<&'static (PathBuf, BuildSummary)> {
    static BUILT: OnceLock<Option<(PathBuf, BuildSummary)>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let feedstocks_dir = corpus()?;
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph_corpus");
            let _ = fs_err::remove_dir_all(&dir);
            let db_path = dir.join("cascade.sqlite");
            let options = BuildOptions {
                feedstocks_dir,
                db_path: db_path.clone(),
            };
            let summary = graph::build(&options, &NoReporter).unwrap();
            eprintln!("corpus build: {summary:?}");
            Some((db_path, summary))
        })
        .as_ref()
}

fn store() -> Option<(Store, &'static BuildSummary)> {
    let (db, summary) = built()?;
    Some((Store::open(db).unwrap(), summary))
}

fn direct_dependencies(store: &Store, name: &str) -> Vec<String> {
    store
        .deps(name, DepDirection::Dependencies, Some(1))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect()
}

#[test]
fn corpus_builds_with_zero_parse_errors() {
    let Some((store, summary)) = store() else {
        return;
    };
    let errors = store.errors().unwrap();
    let failing: std::collections::BTreeSet<&str> =
        errors.iter().map(|e| e.feedstock.as_str()).collect();
    for error in &errors {
        eprintln!(
            "{}: {}:{}: {} ({})",
            error.feedstock,
            error.file,
            error.line.map_or(String::from("?"), |l| l.to_string()),
            error.message,
            error.variant.as_deref().unwrap_or("-")
        );
    }
    eprintln!(
        "parsed cleanly: {}/{}",
        summary.nodes - failing.len(),
        summary.nodes
    );
    assert_eq!(
        summary.nodes, 137,
        "136 package feedstocks + the pinning feedstock"
    );
    assert_eq!(
        failing.len(),
        0,
        "feedstocks with parse errors: {failing:?}"
    );
    assert_eq!(summary.parse_errors, 0);
}

#[test]
fn numpy_depends_on_python_and_the_blas_outputs() {
    let Some((store, _)) = store() else { return };
    let deps = direct_dependencies(&store, "numpy");
    assert!(deps.contains(&"python".to_string()), "{deps:?}");
    assert!(deps.contains(&"blas".to_string()), "{deps:?}");
    let numpy = store.node("numpy").unwrap().unwrap();
    let blas = store.node("blas").unwrap().unwrap();
    let host = &numpy.requirements[&Section::Host];
    let blas_outputs_used: Vec<&String> =
        host.iter().filter(|r| blas.outputs.contains(r)).collect();
    assert!(
        blas_outputs_used.iter().any(|o| o.as_str() == "libblas"),
        "numpy host {host:?}, blas outputs {:?}",
        blas.outputs
    );
}

#[test]
fn pyarrow_depends_on_arrow_cpp_outputs() {
    let Some((store, _)) = store() else { return };
    let deps = direct_dependencies(&store, "pyarrow");
    assert!(deps.contains(&"arrow-cpp".to_string()), "{deps:?}");
    let arrow = store.node("arrow-cpp").unwrap().unwrap();
    assert!(
        arrow.outputs.contains(&"libarrow".to_string()),
        "{:?}",
        arrow.outputs
    );
    let pyarrow = store.node("pyarrow").unwrap().unwrap();
    let uses_arrow_output = pyarrow
        .requirements
        .values()
        .flatten()
        .any(|r| arrow.outputs.contains(r) && r != "arrow-cpp");
    assert!(uses_arrow_output, "{:?}", pyarrow.requirements);
}

#[test]
fn feedstocks_using_libcurl_depend_on_curl() {
    let Some((store, _)) = store() else { return };
    let curl = store.node("curl").unwrap().unwrap();
    assert!(
        curl.outputs.contains(&"libcurl".to_string()),
        "{:?}",
        curl.outputs
    );
    let export = store.export().unwrap();
    let mut users = 0;
    for node in &export.nodes {
        if node.name == "curl" {
            continue;
        }
        let view = store.node(&node.name).unwrap().unwrap();
        if view.requirements.values().flatten().any(|r| r == "libcurl") {
            users += 1;
            assert!(
                direct_dependencies(&store, &node.name).contains(&"curl".to_string()),
                "{} requires libcurl but has no edge from curl",
                node.name
            );
        }
    }
    eprintln!("feedstocks using libcurl: {users}");
    assert!(users >= 2, "expected several libcurl users, found {users}");
}

#[test]
fn graph_is_one_weak_component_besides_the_pinning_feedstock() {
    let Some((store, _)) = store() else { return };
    let export = store.export().unwrap();
    // The pinning feedstock is joined to the rest by test requirements only.
    for edge in export
        .edges
        .iter()
        .filter(|e| e.target == PINNING || e.source == PINNING)
    {
        assert_eq!(edge.sections, vec![Section::Test], "{edge:?}");
    }
    // Weakly connected components of the graph without it, by union-find.
    let names: Vec<&str> = export
        .nodes
        .iter()
        .map(|n| n.name.as_str())
        .filter(|n| *n != PINNING)
        .collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut parent: Vec<usize> = (0..names.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for edge in &export.edges {
        if let (Some(&a), Some(&b)) = (
            index.get(edge.source.as_str()),
            index.get(edge.target.as_str()),
        ) {
            let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
            parent[ra] = rb;
        }
    }
    let mut components: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        components
            .entry(root(&mut parent, i))
            .or_default()
            .push(name);
    }
    let small: Vec<&Vec<&str>> = components.values().filter(|c| c.len() < 10).collect();
    assert_eq!(
        components.len(),
        1,
        "components besides the main one: {small:?}"
    );
}

#[test]
fn cycles_are_listed_with_the_edges_that_close_them() {
    let Some((store, summary)) = store() else {
        return;
    };
    let cycles = store.cycles().unwrap();
    assert_eq!(cycles.len(), summary.cycles);
    for cycle in &cycles {
        eprintln!("cycle {:?}", cycle.members);
        for edge in &cycle.edges {
            eprintln!("  {} -> {} {:?}", edge.source, edge.target, edge.sections);
        }
        assert!(cycle.members.len() >= 2);
        // Every member has an incoming and an outgoing edge inside the cycle.
        for member in &cycle.members {
            assert!(cycle.edges.iter().any(|e| &e.source == member));
            assert!(cycle.edges.iter().any(|e| &e.target == member));
        }
    }
}

#[test]
fn topological_order_puts_dependencies_first_outside_cycles() {
    let Some((store, _)) = store() else { return };
    let order = store.topological_order().unwrap();
    let position = |name: &str| order.iter().position(|n| n == name).unwrap();
    let export = store.export().unwrap();
    let cycle_of: std::collections::HashMap<&str, Option<i64>> = export
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.cycle))
        .collect();
    for edge in &export.edges {
        let same_cycle = cycle_of[edge.source.as_str()].is_some()
            && cycle_of[edge.source.as_str()] == cycle_of[edge.target.as_str()];
        if !same_cycle {
            assert!(
                position(&edge.source) < position(&edge.target),
                "{} -> {} out of order",
                edge.source,
                edge.target
            );
        }
    }
}

/// Copies the corpus into a writable temporary directory.
fn copy_corpus(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    copy_dir(from, to.path());
    to
}

fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs_err::write(&target, fs_err::read(entry.path()).unwrap()).unwrap();
        }
    }
}

fn recipe_file(feedstock: &Path) -> PathBuf {
    let v0 = feedstock.join("recipe/meta.yaml");
    if v0.is_file() {
        v0
    } else {
        feedstock.join("recipe/recipe.yaml")
    }
}

#[test]
fn incremental_rebuilds_reparse_only_what_changed() {
    let Some(corpus) = corpus() else { return };
    let feedstocks = copy_corpus(&corpus);
    let data = tempfile::tempdir().unwrap();
    let options = BuildOptions {
        feedstocks_dir: feedstocks.path().to_path_buf(),
        db_path: data.path().join("cascade.sqlite"),
    };
    let first = graph::build(&options, &NoReporter).unwrap();
    assert_eq!(first.parsed, 137);

    let again = graph::build(&options, &NoReporter).unwrap();
    eprintln!(
        "full build {} ms, no-op rebuild {} ms",
        first.wall_ms, again.wall_ms
    );
    assert_eq!((again.parsed, again.unchanged, again.touched), (0, 137, 0));
    assert_eq!(
        (again.nodes, again.edges, again.cycles),
        (first.nodes, first.edges, first.cycles)
    );

    // Same bytes, new mtime: the content hash settles it without a parse.
    let zlib = recipe_file(&feedstocks.path().join("zlib-feedstock"));
    let text = fs_err::read_to_string(&zlib).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs_err::write(&zlib, &text).unwrap();
    fs_err::write(
        feedstocks
            .path()
            .join("zlib-feedstock/recipe/new-patch.txt"),
        "x",
    )
    .unwrap();
    fs_err::remove_file(
        feedstocks
            .path()
            .join("zlib-feedstock/recipe/new-patch.txt"),
    )
    .unwrap();
    let touched = graph::build(&options, &NoReporter).unwrap();
    assert_eq!((touched.parsed, touched.touched), (0, 1), "{touched:?}");

    // A real change: exactly one feedstock is re-parsed.
    let numpy = recipe_file(&feedstocks.path().join("numpy-feedstock"));
    let mut text = fs_err::read_to_string(&numpy).unwrap();
    text.push_str("\n# a comment added by the incremental test\n");
    fs_err::write(&numpy, text).unwrap();
    let changed = graph::build(&options, &NoReporter).unwrap();
    assert_eq!((changed.parsed, changed.unchanged), (1, 136), "{changed:?}");
    assert_eq!(changed.edges, first.edges);

    // A checkout that disappears is marked removed, not deleted.
    let store = Store::open(&options.db_path).unwrap();
    let arrow_dependents = |store: &Store| -> Vec<String> {
        store
            .deps("arrow-cpp", DepDirection::Dependents, Some(1))
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect()
    };
    assert!(arrow_dependents(&store).contains(&"pyarrow".to_string()));
    fs_err::remove_dir_all(feedstocks.path().join("pyarrow-feedstock")).unwrap();
    let removed = graph::build(&options, &NoReporter).unwrap();
    assert_eq!(
        (removed.removed, removed.nodes, removed.parsed),
        (1, 136, 0)
    );
    let pyarrow = store.node("pyarrow").unwrap().unwrap();
    assert!(pyarrow.removed_at.is_some());
    assert!(
        store
            .deps("pyarrow", DepDirection::Dependencies, None)
            .is_err()
    );
    assert!(
        !arrow_dependents(&store).contains(&"pyarrow".to_string()),
        "edges of a removed feedstock are gone"
    );
}
