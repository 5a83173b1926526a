//! Upstream version checks: what `cascade versions check` found per feedstock, and the
//! node facts a check needs (current version, first source's URLs). The table keeps one
//! row per feedstock, the latest check; the version migrator reads it.
//!
//! A failed check keeps the last version found before it (a transient 500 must not make
//! the bot forget a release) and counts consecutive failures in `attempts`; a check that
//! completes resets `attempts` to 0 and replaces everything.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql, params};
use serde::{Deserialize, Serialize};

use crate::graph::GraphError;
use crate::graph::model::NodeAttributes;

use super::Store;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionCheckStatus {
    /// A version newer than the recipe's was found.
    Newer,
    /// The newest version found is not newer than the recipe's.
    UpToDate,
    /// No source applied or none offered a version; nothing failed.
    NotFound,
    /// Nothing was found and at least one source failed.
    Failed,
    /// Not checked: `bot.version_updates.skip`, or a feedstock the bot never checks.
    Skipped,
}

impl VersionCheckStatus {
    /// The stored text (`newer`, `up-to-date`, `not-found`, `failed`, `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            VersionCheckStatus::Newer => "newer",
            VersionCheckStatus::UpToDate => "up-to-date",
            VersionCheckStatus::NotFound => "not-found",
            VersionCheckStatus::Failed => "failed",
            VersionCheckStatus::Skipped => "skipped",
        }
    }

    /// Parses [`VersionCheckStatus::as_str`] output.
    pub fn parse(text: &str) -> Option<VersionCheckStatus> {
        [
            VersionCheckStatus::Newer,
            VersionCheckStatus::UpToDate,
            VersionCheckStatus::NotFound,
            VersionCheckStatus::Failed,
            VersionCheckStatus::Skipped,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl ToSql for VersionCheckStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for VersionCheckStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        VersionCheckStatus::parse(text).ok_or_else(|| {
            FromSqlError::Other(format!("unknown version check status `{text}`").into())
        })
    }
}

/// One check to record (what `upstream::check` produced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCheck {
    /// The feedstock.
    pub feedstock: String,
    /// The recipe version checked against.
    pub current_version: Option<String>,
    /// The newest upstream version found (after the feedstock's filters).
    pub newest_version: Option<String>,
    /// The source that answered (`PyPI`, `Github`, ...).
    pub source: Option<String>,
    /// The URL that source asked.
    pub upstream_url: Option<String>,
    /// How the check ended.
    pub status: VersionCheckStatus,
    /// Every source failure, one per line, when the check failed.
    pub error: Option<String>,
    /// Failures of sources tried before the one that answered, as `source: message`.
    pub source_errors: Vec<String>,
    /// When it was checked (Unix seconds).
    pub checked_at: i64,
}

/// One stored row of `upstream_versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRecord {
    /// The feedstock.
    pub feedstock: String,
    /// The recipe version at the last check.
    pub current_version: Option<String>,
    /// The newest version found by the last check that found one.
    pub newest_version: Option<String>,
    /// Its source.
    pub source: Option<String>,
    /// The URL its source asked.
    pub upstream_url: Option<String>,
    /// How the last check ended.
    pub status: VersionCheckStatus,
    /// When the last check ran.
    pub checked_at: i64,
    /// The last check's error, when it failed.
    pub error: Option<String>,
    /// Consecutive failed checks (0 after one that completed).
    pub attempts: u32,
    /// Source failures of the last check on the way to its answer.
    pub source_errors: Vec<String>,
}

const COLUMNS: &str = "feedstock, current_version, newest_version, source, upstream_url, status,
     checked_at, error, attempts, source_errors";

impl VersionRecord {
    fn read(row: &Row<'_>) -> rusqlite::Result<VersionRecord> {
        let errors: String = row.get(9)?;
        Ok(VersionRecord {
            feedstock: row.get(0)?,
            current_version: row.get(1)?,
            newest_version: row.get(2)?,
            source: row.get(3)?,
            upstream_url: row.get(4)?,
            status: row.get(5)?,
            checked_at: row.get(6)?,
            error: row.get(7)?,
            attempts: row.get(8)?,
            source_errors: serde_json::from_str(&errors).unwrap_or_default(),
        })
    }
}

/// The facts of one present feedstock a version check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInput {
    /// The feedstock.
    pub feedstock: String,
    /// Its checkout directory (for `conda-forge.yml`).
    pub path: String,
    /// The recipe version.
    pub version: Option<String>,
    /// The repository is archived.
    pub archived: bool,
    /// The last read failed to parse.
    pub parse_error: bool,
    /// The rendered URLs of the recipe's first source, over all platforms, in order.
    pub urls: Vec<String>,
    /// The first source's `git_url`, when it is a git source.
    pub git_urls: Vec<String>,
}

impl Store {
    /// Every present feedstock with what a version check needs, by name. Renders that
    /// do not decode give no URLs.
    pub fn version_inputs(&self) -> Result<Vec<VersionInput>, GraphError> {
        self.conn
            .prepare_cached(
                "SELECT name, path, version, archived, parse_error IS NOT NULL, attributes
                 FROM feedstocks WHERE removed_at IS NULL ORDER BY name",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |row| {
                    let attributes: String = row.get(5)?;
                    let (urls, git_urls) = first_source(&attributes);
                    Ok(VersionInput {
                        feedstock: row.get(0)?,
                        path: row.get(1)?,
                        version: row.get(2)?,
                        archived: row.get(3)?,
                        parse_error: row.get(4)?,
                        urls,
                        git_urls,
                    })
                })?
                .collect()
            })
            .map_err(self.sql("read version-check inputs"))
    }

    /// Records checks in one transaction (see the module doc for what a failure keeps).
    pub fn record_version_checks(&self, checks: &[VersionCheck]) -> Result<(), GraphError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(self.sql("start recording version checks"))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO upstream_versions (feedstock, current_version, newest_version,
                         source, upstream_url, status, checked_at, error, attempts, source_errors)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                             CASE WHEN ?8 IS NULL THEN 0 ELSE 1 END, ?9)
                     ON CONFLICT (feedstock) DO UPDATE SET
                         current_version = excluded.current_version,
                         status = excluded.status,
                         checked_at = excluded.checked_at,
                         error = excluded.error,
                         source_errors = excluded.source_errors,
                         attempts = CASE WHEN excluded.error IS NULL THEN 0
                                         ELSE upstream_versions.attempts + 1 END,
                         newest_version = CASE WHEN excluded.error IS NULL
                             THEN excluded.newest_version ELSE upstream_versions.newest_version END,
                         source = CASE WHEN excluded.error IS NULL
                             THEN excluded.source ELSE upstream_versions.source END,
                         upstream_url = CASE WHEN excluded.error IS NULL
                             THEN excluded.upstream_url ELSE upstream_versions.upstream_url END",
                )
                .map_err(self.sql("prepare recording version checks"))?;
            for check in checks {
                let source_errors = serde_json::to_string(&check.source_errors)
                    .map_err(|e| GraphError::Internal(format!("source errors to JSON: {e}")))?;
                stmt.execute(params![
                    check.feedstock,
                    check.current_version,
                    check.newest_version,
                    check.source,
                    check.upstream_url,
                    check.status,
                    check.checked_at,
                    check.error,
                    source_errors,
                ])
                .map_err(self.sql("record a version check"))?;
            }
        }
        tx.commit().map_err(self.sql("commit version checks"))
    }

    /// Every recorded check, by feedstock.
    pub fn version_records(&self) -> Result<Vec<VersionRecord>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM upstream_versions ORDER BY feedstock"
            ))
            .and_then(|mut stmt| stmt.query_map([], VersionRecord::read)?.collect())
            .map_err(self.sql("read version checks"))
    }

    /// The recorded check of one feedstock.
    pub fn version_record(&self, feedstock: &str) -> Result<Option<VersionRecord>, GraphError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM upstream_versions WHERE feedstock = ?1"
            ))
            .and_then(|mut stmt| {
                let mut rows = stmt.query_map([feedstock], VersionRecord::read)?;
                rows.next().transpose()
            })
            .map_err(self.sql("read a version check"))
    }
}

/// URLs and `git_url` of the first source of every platform's render, deduplicated in
/// platform-name order.
fn first_source(attributes: &str) -> (Vec<String>, Vec<String>) {
    let attributes: NodeAttributes = serde_json::from_str(attributes).unwrap_or_default();
    let mut urls: Vec<String> = Vec::new();
    let mut git_urls: Vec<String> = Vec::new();
    for render in attributes.platforms.values() {
        let Some(source) = render.sources.first() else {
            continue;
        };
        for url in &source.urls {
            if !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        if let Some(git) = &source.git_url
            && !git_urls.contains(git)
        {
            git_urls.push(git.clone());
        }
    }
    (urls, git_urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_text() {
        for status in [
            VersionCheckStatus::Newer,
            VersionCheckStatus::UpToDate,
            VersionCheckStatus::NotFound,
            VersionCheckStatus::Failed,
            VersionCheckStatus::Skipped,
        ] {
            assert_eq!(VersionCheckStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(VersionCheckStatus::parse("new"), None);
    }

    #[test]
    fn the_first_source_of_each_platform_gives_the_urls() {
        use crate::recipe::{RenderedRecipe, Source};
        let source = |urls: &[&str], git: Option<&str>| Source {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            git_url: git.map(str::to_string),
            ..Source::default()
        };
        let render = |sources: Vec<Source>| RenderedRecipe {
            name: "x".into(),
            sources,
            ..RenderedRecipe::default()
        };
        let mut attributes = NodeAttributes::default();
        attributes.platforms.insert(
            "linux-64".into(),
            render(vec![
                source(&["https://a/x-1.tar.gz", "https://m/x-1.tar.gz"], None),
                source(&["https://a/patch"], None),
            ]),
        );
        attributes.platforms.insert(
            "osx-64".into(),
            render(vec![source(&["https://a/x-1.tar.gz"], None)]),
        );
        attributes.platforms.insert(
            "win-64".into(),
            render(vec![source(&[], Some("https://g/x.git"))]),
        );
        let (urls, git) = first_source(&serde_json::to_string(&attributes).unwrap());
        assert_eq!(urls, ["https://a/x-1.tar.gz", "https://m/x-1.tar.gz"]);
        assert_eq!(git, ["https://g/x.git"]);
        assert_eq!(first_source("not json"), (vec![], vec![]));
    }
}
