//! `forge.sqlite`: the local forge's repository table, PR table and PR comments.
//!
//! All queries of the local forge live here; the tables are created by `schema`. Every
//! write is one short `IMMEDIATE` transaction, so several processes (a run and a
//! maintainer's `cascade forge pr merge`) can share the file; WAL mode and a busy timeout
//! keep them from failing on each other's locks.
//!
//! PR numbers come from one `AUTOINCREMENT` sequence over all repositories, so a number
//! alone names a PR (`cascade forge pr merge 7`) and is never reused, even after the row
//! of the newest PR is gone. At most one open PR exists per (org, feedstock, head owner,
//! head branch): a partial UNIQUE index enforces what [`Db::open_pr`] checks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use serde::Serialize;

use super::schema;
use crate::forge::{CiStatus, FeedstockRepo, ForgeError, Mergeable, PrState, PullRequest};

/// The columns of `prs` in the order [`pr_from_row`] reads them.
const PR_COLUMNS: &str = "number, org, feedstock, head_owner, head, base, title, body, state, \
     draft, labels, ci, mergeable, head_sha, merge_sha, created_at, updated_at, closed_at";

/// A comment on a PR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrComment {
    /// Who wrote it (the bot user for comments made through the `Forge` trait).
    pub author: String,
    /// The text (Markdown).
    pub body: String,
    /// When (Unix seconds).
    pub created_at: i64,
}

/// Which PRs [`LocalForge::list_prs`](super::LocalForge::list_prs) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrFilter {
    /// Only PRs in this state; every state when `None`.
    pub state: Option<PrState>,
    /// Only PRs on this feedstock; every feedstock when `None`.
    pub feedstock: Option<String>,
}

/// A PR row: the trait's [`PullRequest`] plus what only the local forge needs.
#[derive(Debug, Clone)]
pub(crate) struct PrRecord {
    /// The PR as the trait reports it.
    pub(crate) pr: PullRequest,
    /// The organisation of the upstream repository.
    pub(crate) org: String,
    /// The owner of the fork holding the head branch.
    pub(crate) head_owner: String,
    /// The commit the merge made (or the head, for a fast-forward); set once merged.
    pub(crate) merge_sha: Option<String>,
}

/// A PR to insert (what [`Db::open_pr`] needs beyond the trait's `NewPullRequest`).
pub(crate) struct PrInsert<'a> {
    pub(crate) org: &'a str,
    pub(crate) feedstock: &'a str,
    pub(crate) head_owner: &'a str,
    pub(crate) head: &'a str,
    pub(crate) base: &'a str,
    pub(crate) title: &'a str,
    pub(crate) body: &'a str,
    pub(crate) head_sha: &'a str,
    pub(crate) now: i64,
}

/// The forge database. The connection sits behind a mutex so the forge is `Sync` (the
/// run loop syncs checkouts from several threads); each call holds it only briefly.
pub(crate) struct Db {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating when missing) and migrates `path`.
    pub(crate) fn open(path: &Path) -> Result<Db, ForgeError> {
        let err = |context: &str| db_error(path, context);
        let mut conn = Connection::open(path).map_err(err("open"))?;
        conn.busy_timeout(Duration::from_secs(30))
            .map_err(err("set the busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err("set synchronous"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err("enable foreign keys"))?;
        schema::migrate(&mut conn, path)?;
        Ok(Db {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written row (every write is
        // a transaction), so a poisoned lock is safe to take over.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn err(&self, context: &str) -> impl FnOnce(rusqlite::Error) -> ForgeError + use<> {
        db_error(&self.path, context)
    }

    /// Records a repository (keeps the existing row when there is one). Returns whether
    /// a row was added.
    pub(crate) fn add_repo(
        &self,
        org: &str,
        name: &str,
        default_branch: &str,
        now: i64,
    ) -> Result<bool, ForgeError> {
        let added = self
            .conn()
            .execute(
                "INSERT OR IGNORE INTO repos (org, name, default_branch, archived, created_at)
                 VALUES (?1, ?2, ?3, 0, ?4)",
                params![org, name, default_branch, now],
            )
            .map_err(self.err(&format!("record repository `{org}/{name}`")))?;
        Ok(added > 0)
    }

    /// One repository.
    pub(crate) fn repo(&self, org: &str, name: &str) -> Result<Option<FeedstockRepo>, ForgeError> {
        self.conn()
            .query_row(
                "SELECT name, default_branch, archived FROM repos WHERE org = ?1 AND name = ?2",
                params![org, name],
                repo_from_row,
            )
            .optional()
            .map_err(self.err(&format!("read repository `{org}/{name}`")))
    }

    /// Every repository of `org`, by name.
    pub(crate) fn repos(&self, org: &str) -> Result<Vec<FeedstockRepo>, ForgeError> {
        let conn = self.conn();
        let context = format!("list the repositories of `{org}`");
        let mut stmt = conn
            .prepare(
                "SELECT name, default_branch, archived FROM repos WHERE org = ?1 ORDER BY name",
            )
            .map_err(self.err(&context))?;
        let rows = stmt
            .query_map(params![org], repo_from_row)
            .map_err(self.err(&context))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.err(&context))
    }

    /// Sets a repository's archived flag. Returns whether the repository exists.
    pub(crate) fn set_archived(
        &self,
        org: &str,
        name: &str,
        archived: bool,
    ) -> Result<bool, ForgeError> {
        let changed = self
            .conn()
            .execute(
                "UPDATE repos SET archived = ?3 WHERE org = ?1 AND name = ?2",
                params![org, name, archived],
            )
            .map_err(self.err(&format!("archive `{org}/{name}`")))?;
        Ok(changed > 0)
    }

    /// The open PR with this head, or a new one. Returns the row and whether it is new.
    pub(crate) fn open_pr(&self, new: &PrInsert<'_>) -> Result<(PrRecord, bool), ForgeError> {
        let context = format!(
            "open a PR on `{}/{}` from `{}:{}`",
            new.org, new.feedstock, new.head_owner, new.head
        );
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err(&context))?;
        let existing = tx
            .query_row(
                &format!(
                    "SELECT {PR_COLUMNS} FROM prs WHERE org = ?1 AND feedstock = ?2
                     AND head_owner = ?3 AND head = ?4 AND state = 'open'"
                ),
                params![new.org, new.feedstock, new.head_owner, new.head],
                pr_from_row,
            )
            .optional()
            .map_err(self.err(&context))?;
        if let Some(existing) = existing {
            return Ok((existing, false));
        }
        tx.execute(
            "INSERT INTO prs (org, feedstock, head_owner, head, base, title, body, state,
                              head_sha, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?9)",
            params![
                new.org,
                new.feedstock,
                new.head_owner,
                new.head,
                new.base,
                new.title,
                new.body,
                new.head_sha,
                new.now
            ],
        )
        .map_err(self.err(&context))?;
        let number = tx.last_insert_rowid();
        let record = tx
            .query_row(
                &format!("SELECT {PR_COLUMNS} FROM prs WHERE number = ?1"),
                params![number],
                pr_from_row,
            )
            .map_err(self.err(&context))?;
        tx.commit().map_err(self.err(&context))?;
        Ok((record, true))
    }

    /// The open PR of `org/feedstock` whose head is `head_owner:head`.
    pub(crate) fn open_pr_for_head(
        &self,
        org: &str,
        feedstock: &str,
        head_owner: &str,
        head: &str,
    ) -> Result<Option<PrRecord>, ForgeError> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {PR_COLUMNS} FROM prs WHERE org = ?1 AND feedstock = ?2
                     AND head_owner = ?3 AND head = ?4 AND state = 'open'"
                ),
                params![org, feedstock, head_owner, head],
                pr_from_row,
            )
            .optional()
            .map_err(self.err(&format!(
                "find the open PR of `{org}/{feedstock}` from `{head_owner}:{head}`"
            )))
    }

    /// A PR by number.
    pub(crate) fn pr(&self, number: u64) -> Result<Option<PrRecord>, ForgeError> {
        self.conn()
            .query_row(
                &format!("SELECT {PR_COLUMNS} FROM prs WHERE number = ?1"),
                params![sql_number(number)],
                pr_from_row,
            )
            .optional()
            .map_err(self.err(&format!("read PR #{number}")))
    }

    /// The PRs of `org` that pass `filter`, by number.
    pub(crate) fn prs(&self, org: &str, filter: &PrFilter) -> Result<Vec<PullRequest>, ForgeError> {
        let conn = self.conn();
        let context = format!("list the PRs of `{org}`");
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {PR_COLUMNS} FROM prs WHERE org = ?1
                 AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR feedstock = ?3)
                 ORDER BY number"
            ))
            .map_err(self.err(&context))?;
        let state = filter.state.map(PrState::as_str);
        let rows = stmt
            .query_map(params![org, state, filter.feedstock], pr_from_row)
            .map_err(self.err(&context))?;
        rows.map(|row| row.map(|record| record.pr))
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.err(&context))
    }

    /// Reads PR `number`, lets `change` edit it, and writes every mutable field back,
    /// all in one transaction. `change` may refuse with an error (nothing is written).
    pub(crate) fn update_pr(
        &self,
        number: u64,
        change: impl FnOnce(&mut PrRecord) -> Result<(), ForgeError>,
    ) -> Result<PrRecord, ForgeError> {
        let context = format!("update PR #{number}");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.err(&context))?;
        let mut record = tx
            .query_row(
                &format!("SELECT {PR_COLUMNS} FROM prs WHERE number = ?1"),
                params![sql_number(number)],
                pr_from_row,
            )
            .optional()
            .map_err(self.err(&context))?
            .ok_or_else(|| ForgeError::NoSuchPr {
                feedstock: String::new(),
                number,
            })?;
        change(&mut record)?;
        let pr = &record.pr;
        let labels = labels_json(&pr.labels);
        tx.execute(
            "UPDATE prs SET title = ?2, body = ?3, state = ?4, draft = ?5, labels = ?6,
                 ci = ?7, mergeable = ?8, head_sha = ?9, merge_sha = ?10, updated_at = ?11,
                 closed_at = ?12
             WHERE number = ?1",
            params![
                sql_number(number),
                pr.title,
                pr.body,
                pr.state.as_str(),
                pr.draft,
                labels,
                pr.ci.as_str(),
                pr.mergeable.as_str(),
                pr.head_sha,
                record.merge_sha,
                pr.updated_at,
                pr.closed_at
            ],
        )
        .map_err(self.err(&context))?;
        tx.commit().map_err(self.err(&context))?;
        Ok(record)
    }

    /// Adds a comment to PR `number`.
    pub(crate) fn add_comment(
        &self,
        number: u64,
        author: &str,
        body: &str,
        now: i64,
    ) -> Result<(), ForgeError> {
        self.conn()
            .execute(
                "INSERT INTO comments (pr_number, author, body, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![sql_number(number), author, body, now],
            )
            .map_err(self.err(&format!("comment on PR #{number}")))?;
        Ok(())
    }

    /// The comments of PR `number`, oldest first.
    pub(crate) fn comments(&self, number: u64) -> Result<Vec<PrComment>, ForgeError> {
        let conn = self.conn();
        let context = format!("read the comments of PR #{number}");
        let mut stmt = conn
            .prepare(
                "SELECT author, body, created_at FROM comments WHERE pr_number = ?1 ORDER BY id",
            )
            .map_err(self.err(&context))?;
        let rows = stmt
            .query_map(params![sql_number(number)], |row| {
                Ok(PrComment {
                    author: row.get(0)?,
                    body: row.get(1)?,
                    created_at: row.get(2)?,
                })
            })
            .map_err(self.err(&context))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(self.err(&context))
    }
}

pub(super) fn db_error(
    path: &Path,
    context: &str,
) -> impl FnOnce(rusqlite::Error) -> ForgeError + use<> {
    let path = path.to_path_buf();
    let context = context.to_string();
    move |source| ForgeError::Database {
        path,
        context,
        message: source.to_string(),
    }
}

/// PR numbers are SQLite rowids (positive `i64`); a larger `u64` matches no row.
fn sql_number(number: u64) -> i64 {
    i64::try_from(number).unwrap_or(-1)
}

fn labels_json(labels: &BTreeSet<String>) -> String {
    serde_json::to_string(labels).unwrap_or_else(|_| "[]".to_string())
}

fn repo_from_row(row: &Row<'_>) -> rusqlite::Result<FeedstockRepo> {
    Ok(FeedstockRepo {
        name: row.get(0)?,
        default_branch: row.get(1)?,
        archived: row.get(2)?,
    })
}

/// A text column that must hold one of a fixed set of words.
fn parsed<T>(row: &Row<'_>, index: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("unexpected value `{text}`").into(),
        )
    })
}

fn pr_from_row(row: &Row<'_>) -> rusqlite::Result<PrRecord> {
    let number: i64 = row.get(0)?;
    let org: String = row.get(1)?;
    let feedstock: String = row.get(2)?;
    let labels: String = row.get(10)?;
    let labels: BTreeSet<String> = serde_json::from_str(&labels).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, e.into())
    })?;
    let number = u64::try_from(number).unwrap_or_default();
    Ok(PrRecord {
        pr: PullRequest {
            url: pr_url(&org, &feedstock, number),
            feedstock,
            number,
            head: row.get(4)?,
            base: row.get(5)?,
            title: row.get(6)?,
            body: row.get(7)?,
            state: parsed(row, 8, PrState::parse)?,
            draft: row.get(9)?,
            labels,
            ci: parsed(row, 11, CiStatus::parse)?,
            mergeable: parsed(row, 12, Mergeable::parse)?,
            // The local forge's PR branches are written by the bot alone.
            other_committers: false,
            head_sha: row.get(13)?,
            created_at: row.get(15)?,
            updated_at: row.get(16)?,
            closed_at: row.get(17)?,
        },
        org,
        head_owner: row.get(3)?,
        merge_sha: row.get(14)?,
    })
}

/// `local://<org>/<name>-feedstock/pull/<n>`.
pub(crate) fn pr_url(org: &str, feedstock: &str, number: u64) -> String {
    format!("local://{org}/{feedstock}-feedstock/pull/{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert<'a>(head: &'a str, now: i64) -> PrInsert<'a> {
        PrInsert {
            org: "conda-forge",
            feedstock: "zlib",
            head_owner: "cascade-bot",
            head,
            base: "main",
            title: "title",
            body: "body",
            head_sha: "0000000000000000000000000000000000000000",
            now,
        }
    }

    #[test]
    fn a_second_open_pr_with_the_same_head_returns_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("forge.sqlite")).unwrap();
        let (first, created) = db.open_pr(&insert("a", 1)).unwrap();
        assert!(created);
        let (again, created) = db.open_pr(&insert("a", 2)).unwrap();
        assert!(!created);
        assert_eq!(again.pr.number, first.pr.number);
        let (other, _) = db.open_pr(&insert("b", 3)).unwrap();
        assert_eq!(other.pr.number, first.pr.number + 1);
    }

    #[test]
    fn the_unique_index_rejects_a_second_open_row_for_one_head() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("forge.sqlite")).unwrap();
        db.open_pr(&insert("a", 1)).unwrap();
        let conn = db.conn();
        let duplicate = conn.execute(
            "INSERT INTO prs (org, feedstock, head_owner, head, base, title, body, state,
                              head_sha, created_at, updated_at)
             VALUES ('conda-forge', 'zlib', 'cascade-bot', 'a', 'main', 't', 'b', 'open',
                     'x', 1, 1)",
            [],
        );
        assert!(duplicate.is_err());
        let closed = conn.execute(
            "INSERT INTO prs (org, feedstock, head_owner, head, base, title, body, state,
                              head_sha, created_at, updated_at)
             VALUES ('conda-forge', 'zlib', 'cascade-bot', 'a', 'main', 't', 'b', 'closed',
                     'x', 1, 1)",
            [],
        );
        assert!(closed.is_ok());
    }

    #[test]
    fn a_newer_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forge.sqlite");
        drop(Db::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = Db::open(&path).err().unwrap();
        assert!(
            err.to_string().contains("newer than this cascade knows"),
            "{err}"
        );
    }

    #[test]
    fn numbers_are_not_reused_after_the_newest_row_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("forge.sqlite")).unwrap();
        let (first, _) = db.open_pr(&insert("a", 1)).unwrap();
        db.conn()
            .execute(
                "DELETE FROM prs WHERE number = ?1",
                [first.pr.number as i64],
            )
            .unwrap();
        let (second, _) = db.open_pr(&insert("a", 2)).unwrap();
        assert_eq!(second.pr.number, first.pr.number + 1);
    }
}
