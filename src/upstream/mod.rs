//! Upstream version discovery: which release of each feedstock's software is the newest
//! (reference §4.1–§4.3).
//!
//! Sources (`pypi`, `npm`, `crates`, `github` for tags and releases, `git_tags`, `cran`,
//! `raw_url` guessing with [`next_versions`]) each say whether they apply to a
//! feedstock's first source URL and, if so, list its releases; pre-releases are judged by
//! PEP 440, versions ordered by conda's rules. `select` decides the order of sources and
//! applies `bot.version_updates`; `check` runs many feedstocks concurrently with per-host
//! politeness (`fetch`). Every registry's base URL is configurable ([`SourceUrls`]).
//!
//! This module never opens PRs or edits recipes: the version migrator reads
//! [`check`]'s outcomes, or the store rows [`record`] wrote (`upstream_versions`).
//!
//! Entry points: [`check`] (blocking) or [`Checker`] (async) for a list of [`Target`]s;
//! [`targets_from_store`] and [`record`] for the graph store.

mod check;
mod cran;
mod crates;
mod error;
mod fetch;
mod git_tags;
mod github;
mod next_version;
mod npm;
mod pypi;
mod raw_url;
mod release;
mod select;
mod tags;
mod targets;
mod urls;

pub use check::{
    CheckOptions, CheckOutcome, CheckReporter, Checker, NoCheckReporter, SourceFailure, Target,
    check,
};
pub use error::{Redacted, SourceError, UpstreamError};
pub use fetch::{GithubToken, HttpSettings};
pub use next_version::{AlphaBump, next_versions};
pub use raw_url::{MAX_CLIMBS, substitute};
pub use release::{is_newer, is_prerelease, newest};
pub use select::{SourceKind, draw, is_ignored, source_order};
pub use targets::{Selection, Targets, record, targets_from_store, to_record};
pub use urls::{BASE_URLS_ENV, SourceUrls};

pub use crate::graph::VersionCheckStatus;
