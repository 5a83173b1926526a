//! The GitHub forge's own small database (`github.sqlite`): the conditional-request cache
//! (ETag and Last-Modified with the body they validate, so a 304 answers from here at no
//! quota) and the ledger of content-creating requests, so the hourly budget holds across
//! runs and processes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::forge::ForgeError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS conditional (
    key TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    body BLOB NOT NULL,
    fetched_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS creates (
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS creates_at ON creates(at_ms);
";

/// A validator and the body it validates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cached {
    /// The `ETag` the server sent.
    pub etag: Option<String>,
    /// The `Last-Modified` the server sent.
    pub last_modified: Option<String>,
    /// The body of the 200 response.
    pub body: Vec<u8>,
}

/// The database, one connection behind a lock (requests are few; SQLite is not the
/// bottleneck here, the network is).
#[derive(Debug)]
pub(super) struct State {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl State {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<State, ForgeError> {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(|e| ForgeError::Io {
                path: parent.to_path_buf(),
                message: e.to_string(),
            })?;
        }
        let fail = |context: &str, e: rusqlite::Error| ForgeError::Database {
            path: path.to_path_buf(),
            context: context.to_owned(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(|e| fail("opening", e))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        )
        .map_err(|e| fail("setting pragmas", e))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| fail("creating the schema", e))?;
        Ok(State {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn fail(&self, context: &str, e: rusqlite::Error) -> ForgeError {
        ForgeError::Database {
            path: self.path.clone(),
            context: context.to_owned(),
            message: e.to_string(),
        }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached validator and body for `key` (a request path).
    pub fn cached(&self, key: &str) -> Result<Option<Cached>, ForgeError> {
        self.conn()
            .query_row(
                "SELECT etag, last_modified, body FROM conditional WHERE key = ?1",
                params![key],
                |row| {
                    Ok(Cached {
                        etag: row.get(0)?,
                        last_modified: row.get(1)?,
                        body: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.fail("reading the conditional cache", e))
    }

    /// Remembers a 200 response's validator and body.
    pub fn store(&self, key: &str, cached: &Cached, now: i64) -> Result<(), ForgeError> {
        self.conn()
            .execute(
                "INSERT INTO conditional (key, etag, last_modified, body, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(key) DO UPDATE SET etag = ?2, last_modified = ?3, body = ?4, fetched_at = ?5",
                params![key, cached.etag, cached.last_modified, cached.body, now],
            )
            .map(drop)
            .map_err(|e| self.fail("writing the conditional cache", e))
    }

    /// Forgets `key` (its resource changed through cascade itself).
    pub fn forget(&self, key: &str) -> Result<(), ForgeError> {
        self.conn()
            .execute("DELETE FROM conditional WHERE key = ?1", params![key])
            .map(drop)
            .map_err(|e| self.fail("clearing the conditional cache", e))
    }

    /// Content-creating requests made since `since_ms` (Unix milliseconds), oldest first.
    pub fn creates_since(&self, since_ms: i64) -> Result<Vec<i64>, ForgeError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT at_ms FROM creates WHERE at_ms >= ?1 ORDER BY at_ms")
            .map_err(|e| self.fail("reading the budget ledger", e))?;
        let rows = stmt
            .query_map(params![since_ms], |row| row.get::<_, i64>(0))
            .map_err(|e| self.fail("reading the budget ledger", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.fail("reading the budget ledger", e))
    }

    /// Records a content-creating request at `at_ms`, dropping entries older than an
    /// hour before it.
    pub fn record_create(&self, at_ms: i64) -> Result<(), ForgeError> {
        let conn = self.conn();
        conn.execute("INSERT INTO creates (at_ms) VALUES (?1)", params![at_ms])
            .map_err(|e| self.fail("writing the budget ledger", e))?;
        conn.execute(
            "DELETE FROM creates WHERE at_ms < ?1",
            params![at_ms - 3_600_000],
        )
        .map(drop)
        .map_err(|e| self.fail("pruning the budget ledger", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_bodies_and_the_ledger_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("github.sqlite");
        {
            let state = State::open(&path).unwrap();
            let cached = Cached {
                etag: Some("\"abc\"".into()),
                last_modified: None,
                body: b"{}".to_vec(),
            };
            state.store("/repos/o/r", &cached, 1).unwrap();
            state.record_create(10_000).unwrap();
            state.record_create(3_700_000).unwrap();
        }
        let state = State::open(&path).unwrap();
        assert_eq!(
            state.cached("/repos/o/r").unwrap().unwrap().etag.as_deref(),
            Some("\"abc\"")
        );
        // the first entry is more than an hour older than the second: pruned
        assert_eq!(state.creates_since(0).unwrap(), vec![3_700_000]);
        state.forget("/repos/o/r").unwrap();
        assert!(state.cached("/repos/o/r").unwrap().is_none());
    }
}
