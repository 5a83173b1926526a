//! A database written by cascade's first schema is migrated in place: the engine's
//! tables appear, fingerprints are cleared, and the next build fills the noarch
//! columns by re-reading every feedstock once.

use std::path::Path;

use cascade::graph::Store;
use cascade::migrators::GraphSnapshot;

use super::{build, small_universe};

/// The schema of cascade's first release (migration 1), verbatim.
const SCHEMA_V1: &str = r#"
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
"#;

/// The columns of each version-1 table, as that release wrote them.
const V1_TABLES: &[(&str, &str)] = &[
    (
        "feedstocks",
        "id, name, path, fingerprint, content_hash, recipe_format, version, parse_error, \
         platforms, attributes, attributes_hash, renders, parsed_at, removed_at, topo_index, \
         cycle",
    ),
    (
        "parse_errors",
        "feedstock_id, seq, file, line, variant, message",
    ),
    (
        "requirements",
        "feedstock_id, output, platform, section, name, spec",
    ),
    ("outputs", "name, feedstock_id, platforms"),
    ("edges", "src_id, dst_id, sections, platforms, labels"),
    (
        "externals",
        "name, feedstock_id, sections, platforms, labels",
    ),
    (
        "builds",
        "id, started_at, finished_at, feedstocks_dir, summary",
    ),
];

/// Writes a graph database of schema version 1 at `db`: the version-1 tables, filled
/// with the rows a current build of `feedstocks` produces (built aside, then copied
/// column by column), with fingerprints as a version-1 build would have left them.
fn version_one_database(feedstocks: &Path, db: &Path) {
    let current = db.with_file_name("current.sqlite");
    build(feedstocks, &current);
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(SCHEMA_V1).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS current", [current.to_str().unwrap()])
        .unwrap();
    for (table, columns) in V1_TABLES {
        conn.execute_batch(&format!(
            "INSERT INTO main.{table} ({columns}) SELECT {columns} FROM current.{table}"
        ))
        .unwrap();
    }
    conn.execute_batch(
        "DETACH DATABASE current;
         UPDATE feedstocks SET fingerprint = 'v1-fingerprint', content_hash = 'v1-hash';
         PRAGMA user_version = 1;",
    )
    .unwrap();
}

#[test]
fn a_version_one_database_is_migrated_and_the_next_build_fills_the_noarch_columns() {
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    small_universe(&feedstocks);
    let db = root.path().join("cascade.sqlite");
    version_one_database(&feedstocks, &db);

    let store = Store::open(&db).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 3, "migrated to {version}");
    let stale: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM feedstocks WHERE fingerprint IS NOT NULL
                 OR content_hash IS NOT NULL OR noarch_all IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        stale, 0,
        "migration 2 clears fingerprints; noarch is unknown"
    );
    // Before the next build the snapshot loads, with noarch unknown (false).
    let graph = GraphSnapshot::load(&store).unwrap();
    assert_eq!(graph.len(), 5);
    assert!(!graph.node(graph.id("purepy").unwrap()).noarch.all);
    // The new tables work.
    assert!(store.work_for("m").unwrap().is_empty());
    drop(store);

    let summary = build(&feedstocks, &db);
    assert_eq!(summary.parsed, 5, "every feedstock is re-read once");
    let store = Store::open(&db).unwrap();
    let graph = GraphSnapshot::load(&store).unwrap();
    assert!(graph.node(graph.id("purepy").unwrap()).noarch.all);
    assert!(!graph.node(graph.id("ext").unwrap()).noarch.python);
    let again = build(&feedstocks, &db);
    assert_eq!((again.parsed, again.unchanged), (0, 5));
}
