//! Fixtures shared by the integration tests.

use std::path::{Path, PathBuf};

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
