//! Moving a recipe to a new upstream version, text-preserving (reference §4.4–§4.6).
//!
//! [`bump_version`] takes a recipe's text and format, the new version and a [`Fetch`]er,
//! and returns the new text: the version literal set, every source's URL checked (and its
//! template changed when the old one no longer resolves), every hash replaced by the
//! digest of the new file, and the build number back to 0. Every byte outside those
//! values stays as it was: comments, order, quoting, selectors, line endings.
//!
//! What it does, as the bot does:
//! - v0: `{% set version = "..." %}` is the version; sources are the top-level `source`
//!   mappings (a list, selector-suffixed duplicates); each is tried once per selector of
//!   its keys and of the `{% set %}` lines its URL and hash use (`v0`);
//! - v1: `context.version` is the version; sources include `if/then/else` branches (`v1`);
//! - for each source: the template rendered with the new version, else PyPI's real sdist
//!   name (online only), else every URL transform ([`transformed_urls`]) until one hashes;
//! - R packages (a CRAN URL or `cran_mirror`): `_` in the version becomes `-`;
//! - a hash held in a `{% set %}` variable or a v1 context entry is replaced there.
//!
//! Where it differs, deliberately: selector comments and quotes are kept (the bot's
//! ruamel round trip and line regexes can drop them); a source whose URL does not depend
//! on the version is left alone rather than re-downloaded; candidate URLs are tried
//! nearest-first in a fixed order (the bot iterates a set); git sources next to URL
//! sources are skipped (their `git_rev` follows the version) instead of failing the
//! rewrite; failures list every URL tried.
//!
//! Nothing here does I/O except through [`Fetch`]; the caller reads and writes files.

mod error;
mod fetch;
mod render;
mod rewrite;
mod search;
mod slots;
mod transforms;
mod v0;
mod v1;

pub use error::{Attempt, BumpError, Problem};
pub use fetch::{
    CachedFetch, Fetch, FetchError, HashCache, HashCacheError, HttpFetch, HttpOptions,
    OfflineFetch, PypiFile, StreamDigest,
};
pub use transforms::transformed_urls;

use super::edit::{EditError, set_build_number};
use super::{HashKind, RecipeFormat};
use rewrite::Syntax;

/// A recipe moved to a new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionBump {
    /// The new recipe text.
    pub text: String,
    /// The version written (the requested one, with `_` → `-` for R packages).
    pub version: String,
    /// Every source that changed, in recipe order (a PR body lists them).
    pub sources: Vec<SourceChange>,
    /// Whether a build number was reset to 0 (false when it already was 0, or when the
    /// recipe has none the bot recognises).
    pub build_number_reset: bool,
}

/// One source (under one selector) that moved to the new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceChange {
    /// 1-based line of the URL.
    pub line: usize,
    /// The selector under which it was rendered (`None`: no selector).
    pub selector: Option<String>,
    /// The URL before (rendered with the old version).
    pub old_url: String,
    /// The URL that hashed.
    pub new_url: String,
    /// The new URL template, when the old one had to change.
    pub new_template: Option<String>,
    /// The hashes replaced.
    pub hashes: Vec<HashChange>,
}

/// One hash replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashChange {
    /// The algorithm.
    pub kind: HashKind,
    /// The digest before.
    pub old: String,
    /// The digest after.
    pub new: String,
}

/// Rewrites a recipe text to `version`, hashing sources through `fetch`.
pub fn bump_version(
    format: RecipeFormat,
    text: &str,
    version: &str,
    fetch: &dyn Fetch,
) -> Result<VersionBump, BumpError> {
    let (scan, syntax) = match format {
        RecipeFormat::V0 => (v0::scan(text, version), Syntax::Braces),
        RecipeFormat::V1 => (v1::scan(text, version), Syntax::DollarBraces),
    };
    let fail = |problems| BumpError {
        version: scan.version.clone(),
        problems,
    };
    if !scan.problems.is_empty() && scan.units.is_empty() {
        return Err(fail(scan.problems));
    }
    let outcome = rewrite::run(&scan.units, syntax, fetch);
    let mut problems = scan.problems;
    problems.extend(outcome.problems);
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    if outcome.sources.is_empty() {
        return Err(fail(vec![Problem::NoChange]));
    }
    let mut edits = scan.version_edits;
    edits.extend(outcome.edits);
    let bumped = rewrite::apply(text, &edits);
    let (text, build_number_reset) = match set_build_number(format, &bumped, 0) {
        Ok(edit) => {
            let reset = !edit.changes.is_empty();
            (edit.text, reset)
        }
        Err(EditError::NoBuildNumber { .. }) => (bumped, false),
        Err(err) => {
            tracing::warn!(error = %err, "build number not reset");
            (bumped, false)
        }
    };
    Ok(VersionBump {
        text,
        version: scan.version,
        sources: outcome.sources,
        build_number_reset,
    })
}

#[cfg(test)]
mod tests;
