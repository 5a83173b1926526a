//! The schema of `forge.sqlite`: an append-only list of migrations tracked by
//! `PRAGMA user_version`, as in the graph store. A file with a higher version than this
//! cascade knows is refused rather than guessed at. The tables are documented in
//! `graph-data/README.md`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::prs::db_error;
use crate::forge::ForgeError;

/// The schema, one entry per version. Append only; never edit an entry.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE repos (
    org            TEXT NOT NULL,
    name           TEXT NOT NULL,
    default_branch TEXT NOT NULL,
    archived       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (org, name)
);
CREATE TABLE prs (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    org         TEXT NOT NULL,
    feedstock   TEXT NOT NULL,
    head_owner  TEXT NOT NULL,
    head        TEXT NOT NULL,
    base        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'merged', 'closed')),
    draft       INTEGER NOT NULL DEFAULT 0,
    labels      TEXT NOT NULL DEFAULT '[]',
    ci          TEXT NOT NULL DEFAULT 'none',
    mergeable   TEXT NOT NULL DEFAULT 'unknown',
    head_sha    TEXT NOT NULL,
    merge_sha   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_at   INTEGER
);
CREATE UNIQUE INDEX prs_one_open_per_head
    ON prs (org, feedstock, head_owner, head) WHERE state = 'open';
CREATE INDEX prs_by_feedstock ON prs (org, feedstock);
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    pr_number  INTEGER NOT NULL REFERENCES prs (number),
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_pr ON comments (pr_number, id);
"#];

/// Applies the migrations `conn` has not seen, each in an exclusive transaction.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), ForgeError> {
    let err = |context: &str| db_error(path, context);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Exclusive)
        .map_err(err("begin the schema migration"))?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(err("read the schema version"))?;
    let known = MIGRATIONS.len();
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > known {
        return Err(ForgeError::Database {
            path: path.to_path_buf(),
            context: "check the schema version".to_string(),
            message: format!(
                "schema version {version} is newer than this cascade knows ({known}); \
                 refusing to touch it"
            ),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(sql)
            .map_err(err(&format!("apply schema migration {}", index + 1)))?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        tx.pragma_update(None, "user_version", version)
            .map_err(err("set the schema version"))?;
    }
    tx.commit().map_err(err("commit the schema migration"))
}
