//! The graph's SQLite store: all SQL of the graph lives here.
//!
//! One file (`graph-data/cascade.sqlite` by default), WAL journal, `synchronous=NORMAL`,
//! prepared cached statements, and append-only migrations ([`schema`]). A build writes
//! through a [`Writer`], which is one `IMMEDIATE` transaction: either the whole build
//! lands or none of it does. Readers use [`Store`]'s query methods and never see a
//! half-written build. Tables and columns are documented in `graph-data/README.md`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use crate::feedstock::FeedstockName;
use crate::recipe::{RecipeFormat, Section};

use super::GraphError;

mod derived;
mod hashes;
mod nodes;
mod partial;
mod prs;
mod read;
mod schema;
mod versions;
mod work;
mod write;

pub use hashes::StoredHashCache;
pub(crate) use nodes::StoredNode;
pub use prs::{PrSnapshot, SnapshotCi, SnapshotMergeable, SnapshotState};
pub use read::{CycleEdge, CycleView, DepDirection, DepView, NodeView, ParseErrorView};
pub use versions::{VersionCheck, VersionCheckStatus, VersionInput, VersionRecord};
pub use work::{
    AttemptError, AttemptErrorKind, AttemptRecord, PrRef, RunRecord, WorkOutcome, WorkRecord,
};
pub(crate) use write::{NodeRow, Snapshot, StoredFeedstock, Writer};

/// An open graph database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens an existing graph database, applying pending migrations.
    pub fn open(path: &Path) -> Result<Store, GraphError> {
        if !path.is_file() {
            return Err(GraphError::NoGraph {
                path: path.to_path_buf(),
            });
        }
        Store::connect(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
    }

    /// Opens the database at `path`, creating it (and its directory) when missing.
    pub(crate) fn open_or_create(path: &Path) -> Result<Store, GraphError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs_err::create_dir_all(parent).map_err(|source| GraphError::CreateDataDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Store::connect(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        )
    }

    fn connect(path: &Path, flags: OpenFlags) -> Result<Store, GraphError> {
        let err = |operation| sql_err(path, operation);
        let mut conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(err("open the database"))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(err("set the busy timeout"))?;
        switch_to_wal(&conn).map_err(err("switch to WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err("set synchronous=NORMAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err("enable foreign keys"))?;
        // A build rewrites hundreds of thousands of index entries in one transaction; with
        // SQLite's default 2 MiB page cache most of them miss. 64 MiB keeps the indexes hot.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(err("set the page cache size"))?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(err("keep temporary tables in memory"))?;
        match schema::migrate(&mut conn).map_err(err("migrate the schema"))? {
            schema::Migrated::Current => {}
            schema::Migrated::Newer(found) => {
                return Err(GraphError::NewerSchema {
                    path: path.to_path_buf(),
                    found,
                    known: schema::MIGRATIONS.len(),
                });
            }
        }
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads every feedstock row (without its renders) and the build generation in one
    /// read transaction. The renders are decoded later, only for the nodes a build needs;
    /// here SQLite only checks that each is valid JSON, so a corrupt row is re-read.
    pub(crate) fn snapshot(&mut self) -> Result<Snapshot, GraphError> {
        let path = self.path.clone();
        let err = |op| sql_err(&path, op);
        let tx = self
            .conn
            .transaction()
            .map_err(err("start a read transaction"))?;
        let generation: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM builds", [], |r| r.get(0))
            .map_err(err("read the build generation"))?;
        let feedstocks = tx
            .prepare_cached(
                "SELECT id, name, path, fingerprint, content_hash, removed_at IS NOT NULL,
                        json_valid(attributes), attributes_hash
                 FROM feedstocks",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok((
                        row.get(1)?,
                        StoredFeedstock {
                            id: row.get(0)?,
                            path: row.get(2)?,
                            fingerprint: row.get(3)?,
                            content_hash: row.get(4)?,
                            removed: row.get(5)?,
                            attributes_valid: row.get(6)?,
                            attributes_hash: row.get(7)?,
                        },
                    ))
                })?
                .collect()
            })
            .map_err(err("read feedstock rows"))?;
        tx.commit().map_err(err("end a read transaction"))?;
        Ok(Snapshot {
            feedstocks,
            generation,
        })
    }

    /// Starts the single transaction of a build.
    pub(crate) fn begin_build(&mut self) -> Result<Writer<'_>, GraphError> {
        Writer::begin(&mut self.conn, &self.path)
    }

    fn sql(&self, operation: &'static str) -> impl FnOnce(rusqlite::Error) -> GraphError + '_ {
        sql_err(&self.path, operation)
    }
}

/// Turns an SQLite error into a [`GraphError`] naming the database and the operation.
fn sql_err<'p>(
    path: &'p Path,
    operation: &'static str,
) -> impl FnOnce(rusqlite::Error) -> GraphError + 'p {
    move |source| GraphError::Sqlite {
        path: path.to_path_buf(),
        operation,
        source,
    }
}

/// Seconds since the Unix epoch, the unit of every `*_at` column.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A JSON array of section names, as stored in `sections` columns.
fn sections_json(sections: &[Section]) -> String {
    let names: Vec<&str> = sections.iter().map(|s| s.as_str()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_string())
}

/// Parses a stored JSON array of strings; a corrupt cell reads as empty.
fn string_list(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

impl ToSql for FeedstockName {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for FeedstockName {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        FeedstockName::new(text).map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A stored `recipe_format` cell.
fn recipe_format(text: Option<&str>) -> Option<RecipeFormat> {
    match text? {
        "v0" => Some(RecipeFormat::V0),
        "v1" => Some(RecipeFormat::V1),
        _ => None,
    }
}

/// Puts the database in WAL mode. Two processes opening a fresh database at once can
/// both ask for the switch; SQLite then answers one of them `SQLITE_BUSY` at once
/// without calling the busy handler (waiting could deadlock), so the switch is retried
/// for a while here.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mut attempts = 0;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        }) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && attempts < 300 =>
            {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            other => return other.map(drop),
        }
    }
}
