//! The graph over a generated universe (`cascade::universe`): a full build, a no-op
//! rebuild and a rebuild after 1% of the recipes changed.
//!
//! The default size (1,000 feedstocks) keeps the test around ten seconds in a debug build.
//! `CASCADE_GRAPH_SCALE=25000 cargo test --release --test graph_scale -- --nocapture`
//! measures conda-forge scale; the timings are printed, the asserts are about what was
//! re-read, never about speed.

use cascade::graph::{self, BuildOptions, NoReporter, Store};
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

fn size() -> usize {
    std::env::var("CASCADE_GRAPH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

#[test]
fn a_generated_universe_builds_and_rebuilds_only_what_changed() {
    let size = size();
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    let generated = universe::generate(
        &UniverseOptions {
            size,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    eprintln!(
        "universe: {} feedstocks ({} v0, {} v1), {} ci_support files, {} ms",
        generated.feedstocks,
        generated.v0_recipes,
        generated.v1_recipes,
        generated.ci_support_files,
        generated.wall_ms
    );
    let options = BuildOptions {
        feedstocks_dir: feedstocks.clone(),
        db_path: root.path().join("cascade.sqlite"),
    };

    let full = graph::build(&options, &NoReporter).unwrap();
    eprintln!("full build: {full:?}");
    assert_eq!(full.nodes, generated.feedstocks);
    assert_eq!(full.parsed, generated.feedstocks);

    let noop = graph::build(&options, &NoReporter).unwrap();
    eprintln!("no-op rebuild: {noop:?}");
    assert_eq!((noop.parsed, noop.unchanged), (0, generated.feedstocks));
    assert_eq!((noop.edges, noop.cycles), (full.edges, full.cycles));

    let touched = universe::touch(&feedstocks, 0.01, DEFAULT_SEED).unwrap();
    let incremental = graph::build(&options, &NoReporter).unwrap();
    eprintln!("after touching {} recipes: {incremental:?}", touched.len());
    assert_eq!(incremental.parsed, touched.len());
    assert_eq!(incremental.unchanged, generated.feedstocks - touched.len());

    // The deliberate test-dependency cycles of the universe are found once v0 and v1
    // render (each pair is a cycle of its own unless the pair joins a larger one).
    let store = Store::open(&options.db_path).unwrap();
    let cycles = store.cycles().unwrap();
    eprintln!(
        "cycles: {} found, {} planted; parse errors: {}",
        cycles.len(),
        generated.cycles.len(),
        store.errors().unwrap().len()
    );
    for [a, b] in &generated.cycles {
        let a_errors = store.node(a).unwrap().and_then(|n| n.parse_error);
        let b_errors = store.node(b).unwrap().and_then(|n| n.parse_error);
        if a_errors.is_some() || b_errors.is_some() {
            continue;
        }
        assert!(
            cycles
                .iter()
                .any(|c| c.members.contains(a) && c.members.contains(b)),
            "planted cycle {a} <-> {b} not found"
        );
    }
}
