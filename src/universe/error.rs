//! Errors from generating or touching a synthetic universe.

use std::io;
use std::path::PathBuf;

/// Why a universe could not be generated or modified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UniverseError {
    /// The requested size cannot hold the fixed hub feedstocks plus the pinning feedstock.
    #[error(
        "a universe needs at least {minimum} feedstocks (the hubs and the pinning), got {size}"
    )]
    SizeTooSmall {
        /// The size asked for.
        size: usize,
        /// The smallest size that works.
        minimum: usize,
    },
    /// The output directory exists and is not empty; generation never overwrites.
    #[error("output directory `{}` is not empty", .path.display())]
    OutputNotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// A file or directory could not be written.
    #[error("failed to write `{}`", .path.display())]
    Write {
        /// The path being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file or directory could not be read.
    #[error("failed to read `{}`", .path.display())]
    Read {
        /// The path being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A recipe chosen for a touch has no top-level `build: number:` line to bump.
    #[error("recipe `{}` has no top-level build number to bump", .path.display())]
    NoBuildNumber {
        /// The recipe file.
        path: PathBuf,
    },
    /// The fraction of feedstocks to touch is not in `0.0..=1.0`.
    #[error("fraction {fraction} is not between 0 and 1")]
    InvalidFraction {
        /// The fraction given.
        fraction: f64,
    },
}
