//! Errors of the graph layer: crawling the feedstocks directory and the SQLite store.
//!
//! A feedstock that does not parse is *not* an error here: it is recorded on its node and
//! the build carries on. These variants are the failures that stop a build or a query.

use std::io;
use std::path::PathBuf;

/// Why a graph build or a store query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// The feedstocks directory could not be listed.
    #[error("failed to list feedstocks in `{}`", .path.display())]
    ListFeedstocks {
        /// The directory given as `--feedstocks`.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The directory that should hold the database could not be created.
    #[error("failed to create the data directory `{}`", .path.display())]
    CreateDataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// There is no graph database at the path (nothing has been built yet).
    #[error("no graph database at `{}` (run `cascade graph build` first)", .path.display())]
    NoGraph {
        /// The database path.
        path: PathBuf,
    },
    /// The database was written by a newer cascade with migrations this one lacks.
    #[error(
        "graph database `{}` has schema version {found}, newer than the {known} this cascade knows",
        .path.display()
    )]
    NewerSchema {
        /// The database path.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The number of migrations compiled in.
        known: usize,
    },
    /// An SQLite operation failed.
    #[error("graph database `{}`: failed to {operation}", .path.display())]
    Sqlite {
        /// The database path.
        path: PathBuf,
        /// What we were doing, e.g. `write feedstock rows`.
        operation: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored render model (the `attributes` JSON of a feedstock) could not be decoded.
    #[error("graph database `{}`: the stored attributes of feedstock `{feedstock}` are corrupt", .path.display())]
    CorruptAttributes {
        /// The database path.
        path: PathBuf,
        /// The feedstock whose row is corrupt.
        feedstock: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Other builds kept committing while this one crawled.
    #[error(
        "graph database `{}`: other builds committed during each of {attempts} crawls; try again",
        .path.display()
    )]
    ConcurrentBuilds {
        /// The database path.
        path: PathBuf,
        /// Crawls attempted.
        attempts: usize,
    },
    /// A name that is not a feedstock in the graph.
    #[error("unknown feedstock `{name}`")]
    UnknownFeedstock {
        /// The name asked for.
        name: String,
    },
    /// A bug in cascade, not a problem with the input.
    #[error("internal error (a bug in cascade): {0}")]
    Internal(String),
}
