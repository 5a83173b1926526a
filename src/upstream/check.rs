//! Checking feedstocks: the [`Checker`] asks each feedstock's sources in order (first
//! answer wins, failures are collected), filters the answer by the feedstock's
//! settings, and reports the newest version. Many feedstocks run concurrently under one
//! semaphore; each host additionally gets at most a few requests at a time (`fetch`).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, instrument, warn};

use crate::feedstock::config::VersionUpdates;
use crate::graph::VersionCheckStatus;

use super::cran::{self, CranIndex};
use super::error::{SourceError, UpstreamError};
use super::fetch::{Http, HttpSettings};
use super::github::{self, GithubListing};
use super::next_version::AlphaBump;
use super::raw_url::{self, ALPHA_FEEDSTOCKS};
use super::release::{is_newer, newest};
use super::select::{SourceKind, is_ignored, source_order};
use super::tags::TagFilter;
use super::urls::SourceUrls;
use super::{crates, git_tags, npm, pypi};

/// What a check needs to know about one feedstock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// The feedstock name (`zlib`).
    pub feedstock: String,
    /// The recipe's current version.
    pub version: Option<String>,
    /// The rendered URLs of the recipe's first source (mirrors, and per-platform URLs).
    pub urls: Vec<String>,
    /// The `git_url` of the recipe's first source, when it is a git source.
    pub git_urls: Vec<String>,
    /// `bot.version_updates` of its `conda-forge.yml`.
    pub settings: VersionUpdates,
}

/// The versions one source offers (pre-releases already handled) and the URL asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listing {
    pub(crate) versions: Vec<String>,
    pub(crate) url: String,
}

/// One source failing for one feedstock, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFailure {
    /// The source.
    pub source: SourceKind,
    /// The error, with its URL (credentials redacted).
    pub message: String,
}

/// The result of checking one feedstock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The feedstock.
    pub feedstock: String,
    /// The recipe's version at check time.
    pub current_version: Option<String>,
    /// The newest upstream version after the feedstock's filters.
    pub newest_version: Option<String>,
    /// The source that answered.
    pub source: Option<SourceKind>,
    /// The URL that source asked (API endpoint, repository, or the guessed download).
    pub upstream_url: Option<String>,
    /// The summary.
    pub status: VersionCheckStatus,
    /// Sources that failed on the way (also when a later source answered).
    pub failures: Vec<SourceFailure>,
    /// Notes: unimplemented configured sources, bad tag globs.
    pub notes: Vec<String>,
}

impl CheckOutcome {
    /// The error to record: every failure, one per line, when nothing was found.
    pub fn error(&self) -> Option<String> {
        (self.status == VersionCheckStatus::Failed).then(|| {
            self.failures
                .iter()
                .map(|f| format!("{}: {}", f.source, f.message))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}

/// Observes a batch check (the CLI draws a progress bar with it).
pub trait CheckReporter: Send + Sync {
    /// The batch starts with `total` feedstocks.
    fn start(&self, total: usize);
    /// One feedstock is done.
    fn checked(&self, outcome: &CheckOutcome);
    /// The batch is done.
    fn finish(&self);
}

/// A reporter that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCheckReporter;

impl CheckReporter for NoCheckReporter {
    fn start(&self, _total: usize) {}
    fn checked(&self, _outcome: &CheckOutcome) {}
    fn finish(&self) {}
}

/// Settings of a check run.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Where the registry APIs are.
    pub urls: SourceUrls,
    /// HTTP timeouts, politeness, retries and the GitHub token.
    pub http: HttpSettings,
    /// Feedstocks checked at the same time.
    pub concurrency: usize,
    /// Timeout of one `git ls-remote`.
    pub git_timeout: Duration,
    /// Ask only these sources, in this order, instead of each feedstock's own list.
    pub sources: Option<Vec<SourceKind>>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            urls: SourceUrls::default(),
            http: HttpSettings::default(),
            concurrency: 16,
            git_timeout: Duration::from_secs(30),
            sources: None,
        }
    }
}

/// Checks feedstocks against their upstream sources. Cheap to share: one HTTP client
/// and one CRAN index per checker.
pub struct Checker {
    http: Http,
    urls: SourceUrls,
    git_timeout: Duration,
    concurrency: usize,
    sources: Option<Vec<SourceKind>>,
    cran: OnceCell<Result<Arc<CranIndex>, String>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").field("urls", &self.urls).finish()
    }
}

impl Checker {
    /// Builds the HTTP client (needs a rustls crypto provider installed, as `main` does).
    pub fn new(options: CheckOptions) -> Result<Checker, UpstreamError> {
        Ok(Checker {
            http: Http::new(options.http, &options.urls.github_api)?,
            urls: options.urls,
            git_timeout: options.git_timeout,
            concurrency: options.concurrency.max(1),
            sources: options.sources,
            cran: OnceCell::new(),
        })
    }

    pub(crate) fn http(&self) -> &Http {
        &self.http
    }

    pub(crate) fn urls(&self) -> &SourceUrls {
        &self.urls
    }

    /// The CRAN index, fetched on first use; a failure is remembered for the run.
    pub(crate) async fn cran_index(&self) -> Result<Arc<CranIndex>, SourceError> {
        let cell = self
            .cran
            .get_or_init(|| async { cran::fetch_index(self).await.map_err(|e| e.to_string()) })
            .await;
        cell.clone().map_err(|message| SourceError::Decode {
            url: super::error::Redacted::new(&format!("{}/src/contrib/", self.urls.cran)),
            message: format!("CRAN index unavailable: {message}"),
        })
    }

    /// Checks one feedstock.
    #[instrument(skip_all, fields(feedstock = %target.feedstock))]
    pub async fn check(&self, target: &Target) -> CheckOutcome {
        let mut outcome = CheckOutcome {
            feedstock: target.feedstock.clone(),
            current_version: target.version.clone(),
            newest_version: None,
            source: None,
            upstream_url: None,
            status: VersionCheckStatus::NotFound,
            failures: Vec::new(),
            notes: Vec::new(),
        };
        if target.settings.skip || target.feedstock == "ca-policy-lcg" {
            outcome.status = VersionCheckStatus::Skipped;
            return outcome;
        }
        let (order, notes) = source_order(&target.settings, self.sources.as_deref());
        outcome.notes = notes;
        let (filter, glob_notes) = TagFilter::new(target.settings.allowed_tag_globs.as_deref());
        outcome.notes.extend(glob_notes);
        for kind in order {
            match self.ask(kind, target, &filter).await {
                Ok(None) => debug!(source = %kind, "does not apply"),
                Ok(Some(listing)) if listing.versions.is_empty() => {
                    debug!(source = %kind, url = %listing.url, "no version");
                }
                Ok(Some(listing)) => {
                    debug!(source = %kind, versions = listing.versions.len(), "answered");
                    let kept = listing
                        .versions
                        .iter()
                        .filter(|v| !is_ignored(&target.settings, v))
                        .map(String::as_str);
                    outcome.newest_version = newest(kept).map(str::to_string);
                    outcome.source = Some(kind);
                    outcome.upstream_url = Some(listing.url);
                    break;
                }
                Err(e) => {
                    // Recorded in the outcome; a later source may still answer.
                    debug!(source = %kind, "failed: {e}");
                    outcome.failures.push(SourceFailure {
                        source: kind,
                        message: e.to_string(),
                    });
                }
            }
        }
        outcome.status = match (&outcome.newest_version, outcome.source) {
            (Some(v), _) if is_newer(v, target.version.as_deref()) => VersionCheckStatus::Newer,
            (Some(_), _) => VersionCheckStatus::UpToDate,
            (None, Some(_)) => VersionCheckStatus::NotFound,
            (None, None) if outcome.failures.is_empty() => VersionCheckStatus::NotFound,
            (None, None) => VersionCheckStatus::Failed,
        };
        outcome
    }

    async fn ask(
        &self,
        kind: SourceKind,
        target: &Target,
        filter: &TagFilter,
    ) -> Result<Option<Listing>, SourceError> {
        let urls = &target.urls;
        let current = target.version.as_deref();
        match kind {
            SourceKind::Pypi => pypi::versions(self, urls).await,
            SourceKind::Cran => cran::versions(self, urls).await,
            SourceKind::CratesIo => crates::versions(self, urls).await,
            SourceKind::Npm => npm::versions(self, urls).await,
            SourceKind::Github => {
                github::versions(self, urls, current, filter, GithubListing::Tags).await
            }
            SourceKind::GithubReleases => {
                github::versions(self, urls, current, filter, GithubListing::Releases).await
            }
            SourceKind::GitTags => {
                git_tags::versions(&target.git_urls, filter, self.git_timeout).await
            }
            SourceKind::RawUrl => raw_url::versions(self, urls, current, AlphaBump::Digits).await,
            SourceKind::IncrementAlphaRawUrl => {
                if !ALPHA_FEEDSTOCKS.contains(&target.feedstock.as_str()) {
                    return Ok(None);
                }
                raw_url::versions(self, urls, current, AlphaBump::Letters).await
            }
        }
    }

    /// Checks every target, at most `concurrency` at a time; outcomes come back in the
    /// order of `targets`.
    pub async fn check_all(
        self: &Arc<Self>,
        targets: Vec<Target>,
        reporter: Arc<dyn CheckReporter>,
    ) -> Vec<CheckOutcome> {
        reporter.start(targets.len());
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let total = targets.len();
        for (index, target) in targets.into_iter().enumerate() {
            let checker = Arc::clone(self);
            let permits = Arc::clone(&permits);
            let reporter = Arc::clone(&reporter);
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.ok();
                let outcome = checker.check(&target).await;
                reporter.checked(&outcome);
                (index, outcome)
            });
        }
        let mut slots: Vec<Option<CheckOutcome>> = vec![None; total];
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, outcome)) => {
                    if let Some(slot) = slots.get_mut(index) {
                        *slot = Some(outcome);
                    }
                }
                Err(e) => warn!("a check task ended abnormally: {e}"),
            }
        }
        reporter.finish();
        slots.into_iter().flatten().collect()
    }
}

/// Checks `targets` on a fresh tokio runtime: the blocking entry point for callers
/// outside async code (the CLI, the version migrator).
pub fn check(
    targets: Vec<Target>,
    options: CheckOptions,
    reporter: Arc<dyn CheckReporter>,
) -> Result<Vec<CheckOutcome>, UpstreamError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| UpstreamError::Runtime { source })?;
    runtime.block_on(async move {
        let checker = Arc::new(Checker::new(options)?);
        Ok(checker.check_all(targets, reporter).await)
    })
}
