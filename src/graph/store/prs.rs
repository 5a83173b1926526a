//! Snapshots of the pull requests the bot opened: the last state the run loop saw of
//! each (open/merged/closed, draft, CI, mergeability, title, URL, times).
//!
//! The work records say *whether* work exists; these rows say what its PR looks like,
//! for the status site and `cascade explain` ("CI failing", "conflicts", "draft"). The
//! run loop writes one whenever it opens or refreshes a PR; the graph store cannot see
//! the forge's types, so the run loop converts into [`PrSnapshot`]. One row per
//! (feedstock, number): a later snapshot replaces the earlier one.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql, params};
use serde::{Deserialize, Serialize};

use crate::graph::GraphError;

use super::Store;

/// Open, merged, or closed without merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotState {
    /// Open (possibly a draft).
    Open,
    /// Merged.
    Merged,
    /// Closed without merging.
    Closed,
}

/// The combined CI status of the PR's head commit when the snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotCi {
    /// No CI reported yet.
    None,
    /// Running.
    Pending,
    /// Every check passed.
    Passing,
    /// At least one check failed.
    Failing,
}

/// Whether the PR could be merged as it stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotMergeable {
    /// Not computed yet.
    Unknown,
    /// Mergeable.
    Clean,
    /// Conflicts with the base branch.
    Conflicts,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The stored text (the serde name).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text,)+
                }
            }

            /// Parses [`Self::as_str`] output.
            pub fn parse(text: &str) -> Option<$ty> {
                match text {
                    $($text => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                $ty::parse(text).ok_or_else(|| {
                    FromSqlError::Other(
                        format!(concat!("unknown ", stringify!($ty), " `{}`"), text).into(),
                    )
                })
            }
        }
    };
}

text_enum!(SnapshotState { Open => "open", Merged => "merged", Closed => "closed" });
text_enum!(SnapshotCi {
    None => "none",
    Pending => "pending",
    Passing => "passing",
    Failing => "failing",
});
text_enum!(SnapshotMergeable {
    Unknown => "unknown",
    Clean => "clean",
    Conflicts => "conflicts",
});

/// The last known state of one PR, keyed by (`feedstock`, `number`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrSnapshot {
    /// The feedstock whose repository holds the PR.
    pub feedstock: String,
    /// The PR number.
    pub number: u64,
    /// Open, merged or closed.
    pub state: SnapshotState,
    /// True for a draft PR.
    pub draft: bool,
    /// CI of the head commit.
    pub ci: SnapshotCi,
    /// Mergeability.
    pub mergeable: SnapshotMergeable,
    /// The PR title.
    pub title: String,
    /// Where a person sees it.
    pub url: String,
    /// When it was opened (Unix seconds).
    pub created_at: i64,
    /// When the forge last changed it (Unix seconds).
    pub updated_at: i64,
    /// When it was merged or closed (Unix seconds).
    pub closed_at: Option<i64>,
    /// When the bot took this snapshot (Unix seconds).
    pub seen_at: i64,
}

impl PrSnapshot {
    fn read(row: &Row<'_>) -> rusqlite::Result<PrSnapshot> {
        let number: i64 = row.get(1)?;
        Ok(PrSnapshot {
            feedstock: row.get(0)?,
            number: u64::try_from(number).unwrap_or_default(),
            state: row.get(2)?,
            draft: row.get(3)?,
            ci: row.get(4)?,
            mergeable: row.get(5)?,
            title: row.get(6)?,
            url: row.get(7)?,
            created_at: row.get(8)?,
            updated_at: row.get(9)?,
            closed_at: row.get(10)?,
            seen_at: row.get(11)?,
        })
    }
}

const PR_COLUMNS: &str = "feedstock, number, state, draft, ci, mergeable, title, url, \
                          created_at, updated_at, closed_at, seen_at";

impl Store {
    /// Records (or replaces) the snapshot of one PR.
    pub fn record_pr(&self, pr: &PrSnapshot) -> Result<(), GraphError> {
        let number = i64::try_from(pr.number).unwrap_or(i64::MAX);
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO pr_snapshots ({PR_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    pr.feedstock,
                    number,
                    pr.state,
                    pr.draft,
                    pr.ci,
                    pr.mergeable,
                    pr.title,
                    pr.url,
                    pr.created_at,
                    pr.updated_at,
                    pr.closed_at,
                    pr.seen_at,
                ])
            })
            .map_err(self.sql("record a PR snapshot"))?;
        Ok(())
    }

    /// Every PR snapshot, by feedstock and number.
    pub fn pr_snapshots(&self) -> Result<Vec<PrSnapshot>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {PR_COLUMNS} FROM pr_snapshots ORDER BY feedstock, number"
            ))
            .and_then(|mut stmt| stmt.query_map([], PrSnapshot::read)?.collect())
            .map_err(self.sql("read PR snapshots"))
    }

    /// The PR snapshots of one feedstock, by number.
    pub fn pr_snapshots_on(&self, feedstock: &str) -> Result<Vec<PrSnapshot>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {PR_COLUMNS} FROM pr_snapshots WHERE feedstock = ?1 ORDER BY number"
            ))
            .and_then(|mut stmt| stmt.query_map([feedstock], PrSnapshot::read)?.collect())
            .map_err(self.sql("read PR snapshots"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(number: u64, state: SnapshotState) -> PrSnapshot {
        PrSnapshot {
            feedstock: "numpy".to_string(),
            number,
            state,
            draft: false,
            ci: SnapshotCi::Failing,
            mergeable: SnapshotMergeable::Conflicts,
            title: "Rebuild for python314 <script>".to_string(),
            url: format!("https://forge/numpy-feedstock/pull/{number}"),
            created_at: 100,
            updated_at: 200,
            closed_at: None,
            seen_at: 300,
        }
    }

    #[test]
    fn a_later_snapshot_of_the_same_pr_replaces_the_earlier_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_create(&dir.path().join("s.sqlite")).unwrap();
        store.record_pr(&snapshot(1, SnapshotState::Open)).unwrap();
        store.record_pr(&snapshot(2, SnapshotState::Open)).unwrap();
        let mut merged = snapshot(1, SnapshotState::Merged);
        merged.closed_at = Some(250);
        store.record_pr(&merged).unwrap();
        let all = store.pr_snapshots().unwrap();
        assert_eq!(all, vec![merged, snapshot(2, SnapshotState::Open)]);
        assert_eq!(store.pr_snapshots_on("numpy").unwrap().len(), 2);
        assert!(store.pr_snapshots_on("scipy").unwrap().is_empty());
    }

    #[test]
    fn stored_texts_round_trip() {
        for state in [
            SnapshotState::Open,
            SnapshotState::Merged,
            SnapshotState::Closed,
        ] {
            assert_eq!(SnapshotState::parse(state.as_str()), Some(state));
        }
        assert_eq!(SnapshotCi::parse("failing"), Some(SnapshotCi::Failing));
        assert_eq!(SnapshotMergeable::parse("dirty"), None);
    }
}
