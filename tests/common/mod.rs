//! Fixtures shared by the integration tests.
//!
//! Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod emulator;
pub mod worktree;

/// A directory of the real conda-forge data beside the project (`../shared/data/<relative>`),
/// or `None` with a message on stderr when it is absent (a fresh clone without
/// `../shared`), so the calling test can return early and count as skipped.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(relative);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} is absent (a clone without ../shared)",
            dir.display()
        );
        None
    }
}

/// Copies a directory tree (a feedstock or a rerender case) so a test can change it.
pub fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The graph of the real corpus (`../shared/data/feedstocks`) as the migrators see it,
/// built into `CARGO_TARGET_TMPDIR/<tag>/` (one directory per test binary, so binaries
/// running in parallel do not share a database); `None` with a message when the data is
/// absent. Callers keep it in a `OnceLock` so it is built once per binary.
pub fn corpus_graph(tag: &str) -> Option<cascade::migrators::GraphSnapshot> {
    use cascade::graph::{self, BuildOptions, NoReporter, Store};
    let feedstocks_dir = shared_data("feedstocks")?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(tag);
    let _ = fs_err::remove_dir_all(&dir);
    let db_path = dir.join("cascade.sqlite");
    let options = BuildOptions {
        feedstocks_dir,
        db_path: db_path.clone(),
    };
    graph::build(&options, &NoReporter).unwrap();
    Some(cascade::migrators::GraphSnapshot::load(&Store::open(&db_path).unwrap()).unwrap())
}
