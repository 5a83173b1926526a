//! The store's schema as an append-only list of migrations, tracked with
//! `PRAGMA user_version` (the pattern of cargo's `src/util/sqlite.rs`).
//!
//! Rules that must stay true: an entry is never edited or removed once released, only
//! appended; `user_version` equals the number of migrations applied; all pending
//! migrations run in one exclusive transaction, so a database is never half-migrated.
//! `graph-data/README.md` documents every table and column; update it with each entry.

use rusqlite::{Connection, TransactionBehavior};

/// The migrations, oldest first. Index `i` moves a database from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: feedstocks, their parse errors and requirements, the derived graph, build history.
    r#"
    CREATE TABLE feedstocks (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        path            TEXT NOT NULL,
        fingerprint     TEXT,
        content_hash    TEXT,
        recipe_format   TEXT,
        version         TEXT,
        parse_error     TEXT,
        platforms       TEXT NOT NULL DEFAULT '[]',
        attributes      TEXT NOT NULL DEFAULT '{"platforms":{}}',
        attributes_hash TEXT,
        renders         INTEGER NOT NULL DEFAULT 0,
        parsed_at       INTEGER,
        removed_at      INTEGER,
        topo_index      INTEGER,
        cycle           INTEGER
    );
    CREATE TABLE parse_errors (
        feedstock_id INTEGER NOT NULL REFERENCES feedstocks(id),
        seq          INTEGER NOT NULL,
        file         TEXT NOT NULL,
        line         INTEGER,
        variant      TEXT,
        message      TEXT NOT NULL,
        PRIMARY KEY (feedstock_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE requirements (
        feedstock_id INTEGER NOT NULL REFERENCES feedstocks(id),
        output       TEXT,
        platform     TEXT NOT NULL,
        section      TEXT NOT NULL,
        name         TEXT NOT NULL,
        spec         TEXT NOT NULL
    );
    CREATE INDEX requirements_by_feedstock ON requirements(feedstock_id);
    CREATE INDEX requirements_by_name ON requirements(name);
    CREATE TABLE outputs (
        name         TEXT NOT NULL,
        feedstock_id INTEGER NOT NULL REFERENCES feedstocks(id),
        platforms    TEXT NOT NULL,
        PRIMARY KEY (name, feedstock_id)
    ) WITHOUT ROWID;
    CREATE INDEX outputs_by_feedstock ON outputs(feedstock_id);
    CREATE TABLE edges (
        src_id    INTEGER NOT NULL REFERENCES feedstocks(id),
        dst_id    INTEGER NOT NULL REFERENCES feedstocks(id),
        sections  TEXT NOT NULL,
        platforms TEXT NOT NULL,
        labels    TEXT NOT NULL,
        PRIMARY KEY (src_id, dst_id)
    ) WITHOUT ROWID;
    CREATE INDEX edges_by_dst ON edges(dst_id, src_id);
    CREATE TABLE externals (
        name         TEXT NOT NULL,
        feedstock_id INTEGER NOT NULL REFERENCES feedstocks(id),
        sections     TEXT NOT NULL,
        platforms    TEXT NOT NULL,
        labels       TEXT NOT NULL,
        PRIMARY KEY (name, feedstock_id)
    ) WITHOUT ROWID;
    CREATE INDEX externals_by_feedstock ON externals(feedstock_id);
    CREATE TABLE builds (
        id             INTEGER PRIMARY KEY,
        started_at     INTEGER NOT NULL,
        finished_at    INTEGER NOT NULL,
        feedstocks_dir TEXT NOT NULL,
        summary        TEXT NOT NULL
    );
    "#,
    // 2: per-feedstock noarch summary (computed from the renders at write time) and the
    // archived flag. Fingerprints and content hashes are cleared so the next build
    // re-reads every feedstock and fills the noarch columns.
    r#"
    ALTER TABLE feedstocks ADD COLUMN noarch_all INTEGER;
    ALTER TABLE feedstocks ADD COLUMN noarch_python INTEGER;
    ALTER TABLE feedstocks ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
    UPDATE feedstocks SET fingerprint = NULL, content_hash = NULL;
    "#,
    // 3: the migration engine's records: work per (migration, feedstock, uid), attempts
    // and back-off, bot-rerun requests, and the history of bot runs.
    r#"
    CREATE TABLE work (
        migration    TEXT NOT NULL,
        feedstock    TEXT NOT NULL,
        uid_key      TEXT NOT NULL,
        outcome      TEXT NOT NULL
                     CHECK (outcome IN ('open', 'merged', 'closed', 'nothing-to-do')),
        pr_feedstock TEXT,
        pr_number    INTEGER,
        branch       TEXT,
        reason       TEXT,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        PRIMARY KEY (migration, feedstock, uid_key)
    ) WITHOUT ROWID;
    CREATE INDEX work_by_feedstock ON work(feedstock);
    CREATE INDEX work_open ON work(migration, feedstock) WHERE outcome = 'open';
    CREATE TABLE attempts (
        migration       TEXT NOT NULL,
        feedstock       TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        last_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        error_kind      TEXT,
        PRIMARY KEY (migration, feedstock)
    ) WITHOUT ROWID;
    CREATE TABLE bot_reruns (
        migration    TEXT NOT NULL,
        feedstock    TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        PRIMARY KEY (migration, feedstock)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        summary     TEXT
    );
    "#,
    // 4: the last seen state of every PR the bot opened (status site, `cascade explain`).
    r#"
    CREATE TABLE pr_snapshots (
        feedstock  TEXT NOT NULL,
        number     INTEGER NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('open', 'merged', 'closed')),
        draft      INTEGER NOT NULL,
        ci         TEXT NOT NULL,
        mergeable  TEXT NOT NULL,
        title      TEXT NOT NULL,
        url        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        closed_at  INTEGER,
        seen_at    INTEGER NOT NULL,
        PRIMARY KEY (feedstock, number)
    ) WITHOUT ROWID;
    "#,
    // 5: upstream version checks (`cascade versions check`): the latest check per
    // feedstock; a failed check keeps the last version found and counts `attempts`.
    r#"
    CREATE TABLE upstream_versions (
        feedstock       TEXT PRIMARY KEY,
        current_version TEXT,
        newest_version  TEXT,
        source          TEXT,
        upstream_url    TEXT,
        status          TEXT NOT NULL
                        CHECK (status IN ('newer', 'up-to-date', 'not-found', 'failed', 'skipped')),
        checked_at      INTEGER NOT NULL,
        error           TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        source_errors   TEXT NOT NULL DEFAULT '[]'
    ) WITHOUT ROWID;
    "#,
    // 6: the persistent source hash cache of the version rewrite (`cascade version-bump
    // --db`, the version migrator): one digest per (URL, kind), only for files that exist.
    r#"
    CREATE TABLE source_hashes (
        url        TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('md5', 'sha1', 'sha256', 'sha512')),
        digest     TEXT NOT NULL,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (url, kind)
    ) WITHOUT ROWID;
    "#,
];

/// What [`migrate`] found.
pub(super) enum Migrated {
    /// The schema is current (after applying zero or more migrations).
    Current,
    /// The file is newer than this binary: `user_version` is beyond our list.
    Newer(i64),
}

/// Applies every pending migration in one exclusive transaction.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<Migrated> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let version: i64 = tx.query_row("SELECT user_version FROM pragma_user_version", [], |row| {
        row.get(0)
    })?;
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Ok(Migrated::Newer(version));
    }
    if let Some(pending) = MIGRATIONS.get(applied..)
        && !pending.is_empty()
    {
        for sql in pending {
            tx.execute_batch(sql)?;
        }
        let current = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        tx.pragma_update(None, "user_version", current)?;
    }
    tx.commit()?;
    Ok(Migrated::Current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(matches!(migrate(&mut conn).unwrap(), Migrated::Current));
        assert!(matches!(migrate(&mut conn).unwrap(), Migrated::Current));
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_database_from_a_newer_cascade_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        assert!(matches!(migrate(&mut conn).unwrap(), Migrated::Newer(999)));
    }
}
