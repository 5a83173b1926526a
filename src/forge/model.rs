//! The values the [`Forge`](super::Forge) trait trades: repositories, PRs, commits, errors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A feedstock repository on the forge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedstockRepo {
    /// The feedstock name, without `-feedstock`.
    pub name: String,
    /// Its default branch (`main`).
    pub default_branch: String,
    /// Archived repositories are read-only and never migrated.
    pub archived: bool,
}

/// Open, merged, or closed without merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrState {
    /// Open (possibly draft).
    Open,
    /// Merged.
    Merged,
    /// Closed without merging.
    Closed,
}

impl PrState {
    /// `open`, `merged` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "open",
            PrState::Merged => "merged",
            PrState::Closed => "closed",
        }
    }

    /// Parses [`PrState::as_str`] output.
    pub fn parse(text: &str) -> Option<PrState> {
        match text {
            "open" => Some(PrState::Open),
            "merged" => Some(PrState::Merged),
            "closed" => Some(PrState::Closed),
            _ => None,
        }
    }
}

/// The combined CI status of a PR's head commit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CiStatus {
    /// No CI reported yet.
    #[default]
    None,
    /// Running.
    Pending,
    /// Every check passed.
    Passing,
    /// At least one check failed.
    Failing,
}

impl CiStatus {
    /// `none`, `pending`, `passing` or `failing` (the serde names).
    pub fn as_str(self) -> &'static str {
        match self {
            CiStatus::None => "none",
            CiStatus::Pending => "pending",
            CiStatus::Passing => "passing",
            CiStatus::Failing => "failing",
        }
    }

    /// Parses [`CiStatus::as_str`] output.
    pub fn parse(text: &str) -> Option<CiStatus> {
        match text {
            "none" => Some(CiStatus::None),
            "pending" => Some(CiStatus::Pending),
            "passing" => Some(CiStatus::Passing),
            "failing" => Some(CiStatus::Failing),
            _ => None,
        }
    }
}

/// Whether a PR can be merged as it stands (GitHub's `mergeable_state`, simplified).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mergeable {
    /// Not computed yet.
    #[default]
    Unknown,
    /// Mergeable.
    Clean,
    /// Conflicts with the base branch.
    Dirty,
}

impl Mergeable {
    /// `unknown`, `clean` or `dirty` (the serde names).
    pub fn as_str(self) -> &'static str {
        match self {
            Mergeable::Unknown => "unknown",
            Mergeable::Clean => "clean",
            Mergeable::Dirty => "dirty",
        }
    }

    /// Parses [`Mergeable::as_str`] output.
    pub fn parse(text: &str) -> Option<Mergeable> {
        match text {
            "unknown" => Some(Mergeable::Unknown),
            "clean" => Some(Mergeable::Clean),
            "dirty" => Some(Mergeable::Dirty),
            _ => None,
        }
    }
}

/// A pull request as the forge reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The feedstock (repository name without `-feedstock`).
    pub feedstock: String,
    /// The PR number.
    pub number: u64,
    /// The head branch on the bot's fork.
    pub head: String,
    /// The base branch upstream.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body (Markdown).
    pub body: String,
    /// Open, merged or closed.
    pub state: PrState,
    /// A maintainer turned it into a draft.
    pub draft: bool,
    /// Label names, sorted.
    pub labels: BTreeSet<String>,
    /// CI status of the head commit.
    pub ci: CiStatus,
    /// Mergeability.
    pub mergeable: Mergeable,
    /// Someone other than the bot (or the linter) committed to the head branch: the bot
    /// never closes such a PR for its conflicts (reference §5.2), a maintainer is on it.
    #[serde(default)]
    pub other_committers: bool,
    /// The head commit id.
    pub head_sha: String,
    /// Where a human looks at it (a URL, or a `local://` reference).
    pub url: String,
    /// Created (Unix seconds).
    pub created_at: i64,
    /// Last changed (Unix seconds).
    pub updated_at: i64,
    /// Merged or closed (Unix seconds).
    pub closed_at: Option<i64>,
}

/// A PR to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    /// The feedstock.
    pub feedstock: String,
    /// The head branch on the bot's fork.
    pub head: String,
    /// The base branch upstream.
    pub base: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// A commit to make on top of a base commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitSpec {
    /// Relative path → new content.
    pub writes: BTreeMap<String, String>,
    /// Relative paths to delete.
    pub deletes: BTreeSet<String>,
    /// The commit message.
    pub message: String,
    /// Author name.
    pub author_name: String,
    /// Author e-mail.
    pub author_email: String,
}

/// Why a forge operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// No such feedstock repository.
    #[error("feedstock repository `{0}` not found")]
    NoSuchFeedstock(String),
    /// No such PR.
    #[error("PR #{number} not found{}", on_feedstock(.feedstock))]
    NoSuchPr {
        /// The feedstock (empty when looked up by number alone).
        feedstock: String,
        /// The number.
        number: u64,
    },
    /// The repository is archived (read-only).
    #[error("`{0}` is archived and read-only")]
    Archived(String),
    /// A git operation failed.
    #[error("git: {context}: {message}")]
    Git {
        /// What was being done, naming the repository.
        context: String,
        /// libgit2's message.
        message: String,
    },
    /// The forge's own database failed.
    #[error("forge database `{}`: {context}: {message}", .path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        context: String,
        /// SQLite's message.
        message: String,
    },
    /// File system trouble, naming the path.
    #[error("`{}`: {message}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The request was refused (rate limit, permissions...); worth retrying later.
    #[error("refused by the forge: {0}")]
    Refused(String),
    /// A PR operation that needs an open PR met a merged or closed one.
    #[error("PR #{number} on `{feedstock}` is {}, not open", .state.as_str())]
    NotOpen {
        /// The feedstock.
        feedstock: String,
        /// The PR number.
        number: u64,
        /// Its actual state.
        state: PrState,
    },
    /// The PR's head does not merge cleanly into its base branch; nothing was changed
    /// upstream (its `mergeable` is now [`Mergeable::Dirty`]).
    #[error("PR #{number} on `{feedstock}` conflicts with `{base}`; refusing to merge")]
    MergeConflict {
        /// The feedstock.
        feedstock: String,
        /// The PR number.
        number: u64,
        /// The base branch it conflicts with.
        base: String,
    },
    /// A branch that must exist does not.
    #[error("branch `{branch}` not found in `{repo}`")]
    NoSuchBranch {
        /// The repository (`<owner>/<name>-feedstock`).
        repo: String,
        /// The branch name.
        branch: String,
    },
    /// The forge's rate limit, or cascade's own budget for content-creating requests, is
    /// spent. Nothing half-done is left behind: the run stops here, records what it did,
    /// and the next run picks the work up again.
    #[error("rate limit reached: {message}{}", resets_hint(.resets_at))]
    RateLimited {
        /// What ran out (``GitHub core limit``, ``cascade's budget of 500 creates per hour``).
        message: String,
        /// When it refills (Unix seconds), when known.
        resets_at: Option<i64>,
    },
    /// Credentials are missing or were refused. Never contains the credential itself.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Any other failure of the forge's API, naming the request.
    #[error("{context}: {}{message}", status_prefix(.status))]
    Api {
        /// The request (``GET /repos/conda-forge/zlib-feedstock/pulls/12``).
        context: String,
        /// The HTTP status, when a response came back.
        status: Option<u16>,
        /// The forge's message, with any credential removed.
        message: String,
    },
    /// An argument was rejected before anything was changed: a bad name, a path leaving
    /// the repository, an empty label.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was rejected, naming it (``path `../x` in the commit for `zlib` ``).
        what: String,
        /// Why.
        reason: String,
    },
}

impl ForgeError {
    /// True when the whole run should stop now and resume next time (a spent rate limit),
    /// rather than record a failure on one feedstock and go on.
    pub fn stops_run(&self) -> bool {
        matches!(self, ForgeError::RateLimited { .. })
    }
}

/// `; resets at <UTC time>` for [`ForgeError::RateLimited`].
fn resets_hint(resets_at: &Option<i64>) -> String {
    match resets_at.and_then(|at| jiff::Timestamp::from_second(at).ok()) {
        Some(at) => format!("; resets at {}", at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        None => String::new(),
    }
}

/// `HTTP <status>: ` for [`ForgeError::Api`].
fn status_prefix(status: &Option<u16>) -> String {
    match status {
        Some(status) => format!("HTTP {status}: "),
        None => String::new(),
    }
}

/// ` on `<feedstock>`` for [`ForgeError::NoSuchPr`], nothing when the lookup was by
/// number alone.
fn on_feedstock(feedstock: &str) -> String {
    if feedstock.is_empty() {
        String::new()
    } else {
        format!(" on `{feedstock}`")
    }
}
