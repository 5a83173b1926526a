//! The migration engine's records: what work exists per (migration, feedstock, uid),
//! failed attempts and their back-off, `bot-rerun` requests, and the history of runs.
//!
//! These tables are the bot's memory between runs (the Python bot's `PRed`,
//! `pre_pr_migrator_attempts` and `pr_json`, reference §3.1, §5.3). Every write here is a
//! single short transaction, so a run killed at any point loses at most the step it was
//! in: the run loop records a PR right after opening it, and an idempotent forge makes
//! the repeated step harmless. Readers get committed rows only.
//!
//! Feedstocks are referred to by name, not row id: a record must outlive a feedstock
//! that is removed from the graph and come back when it returns.

use std::collections::BTreeMap;
use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql, params};
use serde::{Deserialize, Serialize};

use crate::graph::GraphError;

use super::Store;

/// Where one piece of work stands. Everything but [`WorkOutcome::Open`] is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkOutcome {
    /// A PR is open.
    Open,
    /// The PR was merged.
    Merged,
    /// The PR was closed without merging (the bot presumes the feedstock was rebuilt,
    /// as cf-scripts does).
    Closed,
    /// The migrator found nothing to change; no PR was opened.
    NothingToDo,
}

impl WorkOutcome {
    /// The stored text (`open`, `merged`, `closed`, `nothing-to-do`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkOutcome::Open => "open",
            WorkOutcome::Merged => "merged",
            WorkOutcome::Closed => "closed",
            WorkOutcome::NothingToDo => "nothing-to-do",
        }
    }

    /// Parses [`WorkOutcome::as_str`] output.
    pub fn parse(text: &str) -> Option<WorkOutcome> {
        match text {
            "open" => Some(WorkOutcome::Open),
            "merged" => Some(WorkOutcome::Merged),
            "closed" => Some(WorkOutcome::Closed),
            "nothing-to-do" => Some(WorkOutcome::NothingToDo),
            _ => None,
        }
    }

    /// True for every outcome but `open`: the work needs nothing more from the bot.
    pub fn is_done(self) -> bool {
        self != WorkOutcome::Open
    }
}

impl fmt::Display for WorkOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for WorkOutcome {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for WorkOutcome {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        WorkOutcome::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown work outcome `{text}`").into()))
    }
}

/// A pull request on a forge: the repository's feedstock and the PR number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PrRef {
    /// The feedstock whose repository holds the PR.
    pub feedstock: String,
    /// The PR number on the forge.
    pub number: u64,
}

/// One piece of work of a migration on a feedstock, keyed by
/// (`migration`, `feedstock`, `uid_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkRecord {
    /// The migration's report name.
    pub migration: String,
    /// The feedstock (without `-feedstock`).
    pub feedstock: String,
    /// The canonical text of the work's uid (`Uid::key` in `migrators`).
    pub uid_key: String,
    /// Where it stands.
    pub outcome: WorkOutcome,
    /// The PR, when one was opened.
    pub pr: Option<PrRef>,
    /// The branch pushed for it, when one was.
    pub branch: Option<String>,
    /// Why there was nothing to do (or any other note on the outcome).
    pub reason: Option<String>,
    /// When the record was first written (Unix seconds). Kept by later upserts.
    pub created_at: i64,
    /// When it last changed (Unix seconds).
    pub updated_at: i64,
}

impl WorkRecord {
    fn read(row: &Row<'_>) -> rusqlite::Result<WorkRecord> {
        let number: Option<i64> = row.get(5)?;
        let pr = match (row.get::<_, Option<String>>(4)?, number) {
            (Some(feedstock), Some(number)) => u64::try_from(number)
                .ok()
                .map(|number| PrRef { feedstock, number }),
            _ => None,
        };
        Ok(WorkRecord {
            migration: row.get(0)?,
            feedstock: row.get(1)?,
            uid_key: row.get(2)?,
            outcome: row.get(3)?,
            pr,
            branch: row.get(6)?,
            reason: row.get(7)?,
            created_at: row.get(8)?,
            updated_at: row.get(9)?,
        })
    }
}

const WORK_COLUMNS: &str = "migration, feedstock, uid_key, outcome, pr_feedstock, pr_number, \
                            branch, reason, created_at, updated_at";

/// What kind of failure an attempt ended in; the status page groups by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptErrorKind {
    /// The migrator could not compute the change (recipe edit, rerender).
    Migrate,
    /// The forge failed: git, push, or opening the PR.
    Forge,
    /// The solver found the migrated recipe not installable.
    NotSolvable,
    /// A bug in cascade.
    Internal,
    /// A kind this version does not know (written by a newer cascade).
    Other,
}

impl AttemptErrorKind {
    /// The stored text (`migrate`, `forge`, `not-solvable`, `internal`, `other`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptErrorKind::Migrate => "migrate",
            AttemptErrorKind::Forge => "forge",
            AttemptErrorKind::NotSolvable => "not-solvable",
            AttemptErrorKind::Internal => "internal",
            AttemptErrorKind::Other => "other",
        }
    }

    /// Parses [`AttemptErrorKind::as_str`] output; unknown text is
    /// [`AttemptErrorKind::Other`].
    pub fn parse(text: &str) -> AttemptErrorKind {
        match text {
            "migrate" => AttemptErrorKind::Migrate,
            "forge" => AttemptErrorKind::Forge,
            "not-solvable" => AttemptErrorKind::NotSolvable,
            "internal" => AttemptErrorKind::Internal,
            _ => AttemptErrorKind::Other,
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptError {
    /// The kind of failure.
    pub kind: AttemptErrorKind,
    /// The message, naming the file or request at fault.
    pub message: String,
}

/// The attempts of a migration on one feedstock.
///
/// `attempts` counts *consecutive failed* attempts: a failure adds one, a success resets
/// it to zero (cf-scripts resets its counters when a PR is opened). The engine backs off
/// `2 h × 2^min(attempts, 6)` after the last failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The migration's report name.
    pub migration: String,
    /// The feedstock.
    pub feedstock: String,
    /// Consecutive failed attempts (0 after a success).
    pub attempts: u32,
    /// When the last attempt ended (Unix seconds).
    pub last_attempt_at: i64,
    /// The last attempt's error; `None` when it succeeded.
    pub last_error: Option<AttemptError>,
}

/// One bot run: when it started and ended, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id (increasing).
    pub id: i64,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// When it finished; `None` while running, or when the run was killed.
    pub finished_at: Option<i64>,
    /// The summary JSON the run loop wrote at the end.
    pub summary: Option<String>,
}

impl Store {
    /// Inserts a work record, or updates the one with the same (migration, feedstock,
    /// uid key): outcome, PR, branch, reason and `updated_at` are replaced, `created_at`
    /// is kept. One statement, so one transaction.
    pub fn record_work(&self, record: &WorkRecord) -> Result<(), GraphError> {
        let number = record
            .pr
            .as_ref()
            .map(|pr| i64::try_from(pr.number))
            .transpose()
            .map_err(|_| GraphError::Internal(format!("PR number of {record:?} overflows")))?;
        self.conn
            .prepare_cached(
                "INSERT INTO work (migration, feedstock, uid_key, outcome, pr_feedstock,
                     pr_number, branch, reason, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (migration, feedstock, uid_key) DO UPDATE SET
                     outcome = excluded.outcome, pr_feedstock = excluded.pr_feedstock,
                     pr_number = excluded.pr_number, branch = excluded.branch,
                     reason = excluded.reason, updated_at = excluded.updated_at",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    record.migration,
                    record.feedstock,
                    record.uid_key,
                    record.outcome,
                    record.pr.as_ref().map(|pr| pr.feedstock.as_str()),
                    number,
                    record.branch,
                    record.reason,
                    record.created_at,
                    record.updated_at,
                ])
            })
            .map_err(self.sql("record work"))?;
        Ok(())
    }

    /// Every work record of a migration, by feedstock then uid key.
    pub fn work_for(&self, migration: &str) -> Result<Vec<WorkRecord>, GraphError> {
        self.work_query(
            &format!(
                "SELECT {WORK_COLUMNS} FROM work WHERE migration = ?1 ORDER BY feedstock, uid_key"
            ),
            migration,
        )
    }

    /// Every work record on a feedstock, by migration then uid key.
    pub fn work_on(&self, feedstock: &str) -> Result<Vec<WorkRecord>, GraphError> {
        self.work_query(
            &format!(
                "SELECT {WORK_COLUMNS} FROM work WHERE feedstock = ?1 ORDER BY migration, uid_key"
            ),
            feedstock,
        )
    }

    /// Every record whose PR is open, across migrations: what a PR refresh looks at.
    pub fn open_work(&self) -> Result<Vec<WorkRecord>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {WORK_COLUMNS} FROM work WHERE outcome = 'open'
                 ORDER BY migration, feedstock, uid_key"
            ))
            .and_then(|mut stmt| stmt.query_map([], WorkRecord::read)?.collect())
            .map_err(self.sql("read open work"))
    }

    /// Records whose PR was closed unmerged at or after `since` (Unix seconds): a
    /// maintainer may still label such a PR `bot-rerun` to have the work redone.
    pub fn closed_work_since(&self, since: i64) -> Result<Vec<WorkRecord>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {WORK_COLUMNS} FROM work
                 WHERE outcome = 'closed' AND pr_number IS NOT NULL AND updated_at >= ?1
                 ORDER BY migration, feedstock, uid_key"
            ))
            .and_then(|mut stmt| stmt.query_map([since], WorkRecord::read)?.collect())
            .map_err(self.sql("read recently closed work"))
    }

    fn work_query(&self, sql: &str, value: &str) -> Result<Vec<WorkRecord>, GraphError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_map([value], WorkRecord::read)?.collect())
            .map_err(self.sql("read work records"))
    }

    /// Records an attempt of `migration` on `feedstock` that ended at `now`: with an
    /// error, the count of consecutive failures grows by one; without, it is reset to 0
    /// and the error cleared.
    pub fn record_attempt(
        &self,
        migration: &str,
        feedstock: &str,
        error: Option<&AttemptError>,
        now: i64,
    ) -> Result<(), GraphError> {
        let failed = i64::from(error.is_some());
        self.conn
            .prepare_cached(
                "INSERT INTO attempts (migration, feedstock, attempts, last_attempt_at,
                     last_error, error_kind)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (migration, feedstock) DO UPDATE SET
                     attempts = CASE WHEN ?3 = 0 THEN 0 ELSE attempts + 1 END,
                     last_attempt_at = excluded.last_attempt_at,
                     last_error = excluded.last_error, error_kind = excluded.error_kind",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    migration,
                    feedstock,
                    failed,
                    now,
                    error.map(|e| e.message.as_str()),
                    error.map(|e| e.kind.as_str()),
                ])
            })
            .map_err(self.sql("record an attempt"))?;
        Ok(())
    }

    /// The attempts of a migration, by feedstock.
    pub fn attempts_for(&self, migration: &str) -> Result<Vec<AttemptRecord>, GraphError> {
        self.conn
            .prepare_cached(
                "SELECT migration, feedstock, attempts, last_attempt_at, last_error, error_kind
                 FROM attempts WHERE migration = ?1 ORDER BY feedstock",
            )
            .and_then(|mut stmt| {
                stmt.query_map([migration], |row| {
                    let message: Option<String> = row.get(4)?;
                    let kind: Option<String> = row.get(5)?;
                    Ok(AttemptRecord {
                        migration: row.get(0)?,
                        feedstock: row.get(1)?,
                        attempts: u32::try_from(row.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                        last_attempt_at: row.get(3)?,
                        last_error: message.map(|message| AttemptError {
                            kind: kind
                                .as_deref()
                                .map_or(AttemptErrorKind::Other, AttemptErrorKind::parse),
                            message,
                        }),
                    })
                })?
                .collect()
            })
            .map_err(self.sql("read attempts"))
    }

    /// Records a `bot-rerun` of `migration` on `feedstock` requested at `requested_at`
    /// (Unix seconds): the engine puts it into the node's uid, so earlier records stop
    /// matching and the work is redone. The attempt counters of the pair are reset in
    /// the same transaction, as cf-scripts does (§5.3).
    pub fn set_rerun(
        &self,
        migration: &str,
        feedstock: &str,
        requested_at: i64,
    ) -> Result<(), GraphError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(self.sql("start a transaction"))?;
        tx.prepare_cached(
            "INSERT INTO bot_reruns (migration, feedstock, requested_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (migration, feedstock) DO UPDATE SET requested_at = excluded.requested_at",
        )
        .and_then(|mut stmt| stmt.execute(params![migration, feedstock, requested_at]))
        .map_err(self.sql("record a bot-rerun"))?;
        tx.prepare_cached("DELETE FROM attempts WHERE migration = ?1 AND feedstock = ?2")
            .and_then(|mut stmt| stmt.execute(params![migration, feedstock]))
            .map_err(self.sql("reset attempts"))?;
        tx.commit().map_err(self.sql("record a bot-rerun"))
    }

    /// The latest `bot-rerun` time per feedstock of a migration.
    pub fn reruns_for(&self, migration: &str) -> Result<BTreeMap<String, i64>, GraphError> {
        self.conn
            .prepare_cached("SELECT feedstock, requested_at FROM bot_reruns WHERE migration = ?1")
            .and_then(|mut stmt| {
                stmt.query_map([migration], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(self.sql("read bot-reruns"))
    }

    /// Starts a run at `now` and returns its id.
    pub fn begin_run(&self, now: i64) -> Result<i64, GraphError> {
        self.conn
            .prepare_cached("INSERT INTO runs (started_at) VALUES (?1) RETURNING id")
            .and_then(|mut stmt| stmt.query_row([now], |row| row.get(0)))
            .map_err(self.sql("begin a run"))
    }

    /// Ends run `id` at `now` with its summary (JSON written by the run loop).
    pub fn finish_run(&self, id: i64, now: i64, summary_json: &str) -> Result<(), GraphError> {
        let changed = self
            .conn
            .prepare_cached("UPDATE runs SET finished_at = ?2, summary = ?3 WHERE id = ?1")
            .and_then(|mut stmt| stmt.execute(params![id, now, summary_json]))
            .map_err(self.sql("finish a run"))?;
        if changed == 0 {
            return Err(GraphError::Internal(format!("run {id} was never begun")));
        }
        Ok(())
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, GraphError> {
        self.conn
            .prepare_cached("SELECT id, started_at, finished_at, summary FROM runs ORDER BY id")
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    Ok(RunRecord {
                        id: row.get(0)?,
                        started_at: row.get(1)?,
                        finished_at: row.get(2)?,
                        summary: row.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(self.sql("read runs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_create(&dir.path().join("cascade.sqlite")).unwrap();
        (dir, store)
    }

    fn open_pr(feedstock: &str, number: u64, now: i64) -> WorkRecord {
        WorkRecord {
            migration: "python314".to_string(),
            feedstock: feedstock.to_string(),
            uid_key: r#"{"migration":"python314"}"#.to_string(),
            outcome: WorkOutcome::Open,
            pr: Some(PrRef {
                feedstock: feedstock.to_string(),
                number,
            }),
            branch: Some("rebuild-python314-1-1_h0a1b2c".to_string()),
            reason: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_work_record_is_upserted_and_keeps_its_creation_time() {
        let (_dir, store) = store();
        store.record_work(&open_pr("numpy", 7, 100)).unwrap();
        let mut merged = open_pr("numpy", 7, 500);
        merged.outcome = WorkOutcome::Merged;
        store.record_work(&merged).unwrap();
        let records = store.work_for("python314").unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].outcome, WorkOutcome::Merged);
        assert_eq!((records[0].created_at, records[0].updated_at), (100, 500));
        assert!(store.open_work().unwrap().is_empty());
        assert_eq!(store.work_on("numpy").unwrap(), records);
    }

    #[test]
    fn open_work_lists_open_prs_of_every_migration() {
        let (_dir, store) = store();
        store.record_work(&open_pr("numpy", 7, 100)).unwrap();
        let mut other = open_pr("scipy", 9, 100);
        other.migration = "aarch64".to_string();
        store.record_work(&other).unwrap();
        let mut nothing = open_pr("zlib", 0, 100);
        nothing.outcome = WorkOutcome::NothingToDo;
        nothing.pr = None;
        nothing.reason = Some("already rebuilt".to_string());
        store.record_work(&nothing).unwrap();
        let open: Vec<_> = store
            .open_work()
            .unwrap()
            .into_iter()
            .map(|r| (r.migration, r.feedstock, r.pr.map(|p| p.number)))
            .collect();
        assert_eq!(
            open,
            vec![
                ("aarch64".to_string(), "scipy".to_string(), Some(9)),
                ("python314".to_string(), "numpy".to_string(), Some(7)),
            ]
        );
        let zlib = store.work_on("zlib").unwrap();
        assert_eq!(zlib[0].reason.as_deref(), Some("already rebuilt"));
        assert_eq!(zlib[0].pr, None);
    }

    #[test]
    fn failed_attempts_count_up_and_a_success_resets_them() {
        let (_dir, store) = store();
        let error = AttemptError {
            kind: AttemptErrorKind::Forge,
            message: "push rejected".to_string(),
        };
        store
            .record_attempt("python314", "numpy", Some(&error), 10)
            .unwrap();
        store
            .record_attempt("python314", "numpy", Some(&error), 20)
            .unwrap();
        let attempts = store.attempts_for("python314").unwrap();
        assert_eq!(attempts[0].attempts, 2);
        assert_eq!(attempts[0].last_attempt_at, 20);
        assert_eq!(attempts[0].last_error.as_ref(), Some(&error));
        store
            .record_attempt("python314", "numpy", None, 30)
            .unwrap();
        let attempts = store.attempts_for("python314").unwrap();
        assert_eq!(
            (attempts[0].attempts, attempts[0].last_error.clone()),
            (0, None)
        );
        assert!(store.attempts_for("aarch64").unwrap().is_empty());
    }

    #[test]
    fn a_rerun_is_recorded_and_resets_the_attempts() {
        let (_dir, store) = store();
        let error = AttemptError {
            kind: AttemptErrorKind::Migrate,
            message: "recipe/meta.yaml:3: bad".to_string(),
        };
        store
            .record_attempt("python314", "numpy", Some(&error), 10)
            .unwrap();
        store.set_rerun("python314", "numpy", 1000).unwrap();
        store.set_rerun("python314", "numpy", 2000).unwrap();
        assert_eq!(
            store.reruns_for("python314").unwrap(),
            BTreeMap::from([("numpy".to_string(), 2000)])
        );
        assert!(store.attempts_for("python314").unwrap().is_empty());
    }

    #[test]
    fn runs_are_numbered_and_finished_with_their_summary() {
        let (_dir, store) = store();
        let first = store.begin_run(100).unwrap();
        let second = store.begin_run(200).unwrap();
        assert!(second > first);
        store.finish_run(first, 150, r#"{"prs":1}"#).unwrap();
        let runs = store.runs().unwrap();
        assert_eq!(runs[0].finished_at, Some(150));
        assert_eq!(runs[0].summary.as_deref(), Some(r#"{"prs":1}"#));
        assert_eq!(runs[1].finished_at, None);
        assert!(store.finish_run(99, 1, "{}").is_err());
    }

    #[test]
    fn an_unknown_outcome_in_the_store_is_an_error_not_a_guess() {
        let (_dir, store) = store();
        store.record_work(&open_pr("numpy", 7, 100)).unwrap();
        store
            .conn
            .execute_batch("PRAGMA ignore_check_constraints = ON; UPDATE work SET outcome = 'lost'")
            .unwrap();
        assert!(store.work_for("python314").is_err());
    }
}
