//! Loading and scheduling at scale, over a generated universe.
//!
//! `CASCADE_ENGINE_SCALE=25000 cargo test --release --test migration_engine -- --nocapture scale`
//! measures conda-forge scale (`CASCADE_ENGINE_DIR=DIR` keeps the built universe in
//! `DIR` for repeated runs); timings are printed, the asserts are about results, never
//! about speed.

use std::path::PathBuf;
use std::time::Instant;

use cascade::graph::{Store, WorkOutcome};
use cascade::migrators::{GraphSnapshot, MigrationRecords, Migrator, schedule};
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

use super::{Rebuild, build, work};

fn scale_size() -> usize {
    std::env::var("CASCADE_ENGINE_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000)
}

/// Generates and builds the universe, or reuses the one in `CASCADE_ENGINE_DIR` when
/// that directory already holds a built graph (for repeated measurements).
fn scale_graph(size: usize) -> (Option<tempfile::TempDir>, PathBuf) {
    let (temp, root) = match std::env::var_os("CASCADE_ENGINE_DIR") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let temp = tempfile::tempdir().unwrap();
            let root = temp.path().to_path_buf();
            (Some(temp), root)
        }
    };
    let db = root.join("cascade.sqlite");
    if !db.is_file() {
        let feedstocks = root.join("feedstocks");
        let options = UniverseOptions {
            size,
            seed: DEFAULT_SEED,
        };
        universe::generate(&options, &feedstocks).unwrap();
        build(&feedstocks, &db);
    }
    (temp, db)
}

/// CPU time of this thread: on a machine shared with other builds, wall time varies
/// threefold, CPU time much less.
#[cfg(unix)]
fn cpu_time() -> std::time::Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `spec` is a valid, writable timespec; the clock id is a constant.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut spec) } == 0;
    if !ok {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::new(
        u64::try_from(spec.tv_sec).unwrap_or(0),
        u32::try_from(spec.tv_nsec).unwrap_or(0),
    )
}

#[cfg(not(unix))]
fn cpu_time() -> std::time::Duration {
    std::time::Duration::ZERO
}

#[test]
fn scale_loading_and_scheduling_a_generated_universe() {
    let size = scale_size();
    let (_temp, db) = scale_graph(size);
    let store = Store::open(&db).unwrap();

    let clock = Instant::now();
    let cpu = cpu_time();
    let graph = GraphSnapshot::load(&store).unwrap();
    let (load, load_cpu) = (clock.elapsed(), cpu_time() - cpu);
    let edges: usize = graph.ids().map(|id| graph.children(id).len()).sum();
    assert_eq!(graph.len(), size);

    // Three shapes: a python rebuild, a zlib rebuild, and an ungated one.
    let mut everything = Rebuild::new("everything", "python");
    everything.settings.gated = false;
    let migrators = [
        Rebuild::new("python", "python"),
        Rebuild::new("zlib", "zlib"),
        everything,
    ];
    // Record work on every 7th member of the first migration.
    let first_plan = migrators[0].plan(&graph);
    for id in first_plan.members.iter().step_by(7) {
        let name = &graph.node(*id).name;
        store
            .record_work(&work(&migrators[0], name, WorkOutcome::Merged, 1))
            .unwrap();
    }
    let mut times = [std::time::Duration::ZERO; 3];
    let mut schedule_cpu = std::time::Duration::ZERO;
    let mut summary = Vec::new();
    for migrator in &migrators {
        let clock = Instant::now();
        let plan = migrator.plan(&graph);
        times[0] += clock.elapsed();
        let clock = Instant::now();
        let records = MigrationRecords::load(&store, migrator).unwrap();
        times[1] += clock.elapsed();
        let clock = Instant::now();
        let cpu = cpu_time();
        let s = schedule(migrator, &plan, &graph, &records, 10);
        times[2] += clock.elapsed();
        schedule_cpu += cpu_time() - cpu;
        let c = s.counts;
        assert_eq!(
            c.done()
                + c.in_pr
                + c.ready
                + c.backing_off
                + c.awaiting_parents
                + c.waiting_for_migrators
                + c.paused,
            c.members
        );
        assert_eq!(s.ready.len(), c.ready);
        summary.push(format!(
            "{}: {} members, {} ready, {} awaiting, {} done",
            migrator.name,
            c.members,
            c.ready,
            c.awaiting_parents,
            c.done()
        ));
    }
    eprintln!(
        "scale {size}: {edges} edges; snapshot load {load:?} (CPU {load_cpu:?}); for {} \
         migrations: test plans {:?}, record loads {:?}, schedules {:?} (CPU {schedule_cpu:?})",
        migrators.len(),
        times[0],
        times[1],
        times[2]
    );
    for line in summary {
        eprintln!("  {line}");
    }
}
