//! Crawling a directory of feedstock checkouts (`<name>-feedstock/`) in parallel.
//!
//! Per checkout, the cheapest test that settles it wins: an unchanged fingerprint means
//! nothing is read; a changed fingerprint with an unchanged content hash means only the
//! fingerprint is updated; otherwise the feedstock is loaded and rendered. A checkout
//! that cannot be read or rendered yields failures as data, never an error: one broken
//! feedstock must not stop the crawl.

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use regex::Regex;

use crate::feedstock::{
    self, ContentHash, FeedstockError, FeedstockName, Fingerprint, RenderFailure, Snapshot,
    VariantCache,
};
use crate::recipe::RecipeFormat;

use super::GraphError;
use super::build::BuildReporter;
use super::model::NodeAttributes;

/// A `<name>-feedstock` directory found in the feedstocks directory.
#[derive(Debug, Clone)]
pub(crate) struct Checkout {
    /// The feedstock name.
    pub(crate) name: FeedstockName,
    /// The directory.
    pub(crate) path: PathBuf,
}

/// What the store knew about a checkout at the last build.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Known<'a> {
    /// The stored fingerprint.
    pub(crate) fingerprint: Option<&'a str>,
    /// The stored content hash.
    pub(crate) content_hash: Option<&'a str>,
}

/// The outcome of crawling one checkout.
#[derive(Debug)]
pub(crate) enum Crawled {
    /// The fingerprint matches the store: nothing was read.
    Unchanged,
    /// Files were touched but their content is identical: only the fingerprint changed.
    Touched(Fingerprint),
    /// The checkout was (re-)read and rendered.
    Read(Box<ReadFeedstock>),
}

/// A checkout read and rendered.
#[derive(Debug, Default)]
pub(crate) struct ReadFeedstock {
    /// The fingerprint, when the files could be listed.
    pub(crate) fingerprint: Option<Fingerprint>,
    /// The content hash, when the files could be read.
    pub(crate) content_hash: Option<ContentHash>,
    /// The recipe format, when there is a recipe.
    pub(crate) format: Option<RecipeFormat>,
    /// The renders that succeeded.
    pub(crate) attributes: NodeAttributes,
    /// Every failure: unreadable files, a broken `conda-forge.yml`, failed renders.
    pub(crate) errors: Vec<RenderFailure>,
    /// Renders performed.
    pub(crate) renders: usize,
    /// Variants skipped as identical to one already rendered.
    pub(crate) skipped_identical: usize,
}

/// Lists the `<name>-feedstock` directories of `dir`, sorted by name. Other entries
/// (files, directories without the suffix) are ignored.
pub(crate) fn list_checkouts(dir: &Path) -> Result<Vec<Checkout>, GraphError> {
    let list_err = |source| GraphError::ListFeedstocks {
        path: dir.to_path_buf(),
        source,
    };
    let mut checkouts = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(list_err)? {
        let entry = entry.map_err(list_err)?;
        let path = entry.path();
        let Some(name) = entry
            .file_name()
            .to_str()
            .and_then(FeedstockName::from_dir_name)
        else {
            tracing::debug!(path = %path.display(), "not a feedstock checkout, skipped");
            continue;
        };
        if path.is_dir() {
            checkouts.push(Checkout { name, path });
        }
    }
    checkouts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(checkouts)
}

/// Crawls every checkout in parallel; the result is in the order of `checkouts`.
pub(crate) fn crawl(
    checkouts: &[Checkout],
    known: &HashMap<&str, Known<'_>>,
    reporter: &dyn BuildReporter,
) -> Vec<Crawled> {
    let variants = VariantCache::new();
    checkouts
        .par_iter()
        .map(|checkout| {
            let known = known
                .get(checkout.name.as_str())
                .copied()
                .unwrap_or_default();
            let crawled = crawl_one(checkout, known, &variants);
            reporter.advance(checkout.name.as_str());
            crawled
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(feedstock = %checkout.name))]
fn crawl_one(checkout: &Checkout, known: Known<'_>, variants: &VariantCache) -> Crawled {
    let mut read = ReadFeedstock::default();
    match feedstock::fingerprint(&checkout.path) {
        Ok(fingerprint) => {
            if known.fingerprint == Some(fingerprint.as_str()) {
                return Crawled::Unchanged;
            }
            read.fingerprint = Some(fingerprint);
        }
        Err(err) => read.errors.push(failure_of(&checkout.path, &err)),
    }
    // One read of every relevant file serves both the content hash and the load.
    let snapshot = match Snapshot::read(&checkout.path) {
        Ok(snapshot) => snapshot,
        Err(err) => {
            read.errors.push(failure_of(&checkout.path, &err));
            return Crawled::Read(Box::new(read));
        }
    };
    let hash = snapshot.content_hash();
    if known.content_hash == Some(hash.as_str())
        && let Some(fingerprint) = read.fingerprint.take()
    {
        tracing::debug!("touched but unchanged");
        return Crawled::Touched(fingerprint);
    }
    read.content_hash = Some(hash);
    tracing::debug!("reading");
    match feedstock::load_snapshot(&snapshot) {
        Ok(loaded) => {
            read.format = Some(loaded.recipe.format);
            if let Some(message) = &loaded.config_error {
                read.errors.push(config_failure(message));
            }
            let render = feedstock::render_with_cache(&loaded, variants);
            read.attributes.platforms = render.platforms;
            read.errors.extend(render.errors);
            read.renders = render.renders;
            read.skipped_identical = render.skipped_identical;
        }
        Err(err) => read.errors.push(failure_of(&checkout.path, &err)),
    }
    Crawled::Read(Box::new(read))
}

/// A feedstock-level failure as a recorded failure, with the file relative to the
/// checkout and the whole error chain as the message.
fn failure_of(root: &Path, err: &FeedstockError) -> RenderFailure {
    let file = match err {
        FeedstockError::MissingRecipe { .. } => "recipe".to_string(),
        FeedstockError::Read { path, .. } => path
            .strip_prefix(root)
            .map_or_else(|_| path.display().to_string(), |p| p.display().to_string()),
        _ => ".".to_string(),
    };
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    RenderFailure {
        file,
        line: None,
        variant: None,
        message,
    }
}

/// A `conda-forge.yml` failure (`conda-forge.yml: <yaml error>`), with the line the YAML
/// parser names, when it names one.
fn config_failure(message: &str) -> RenderFailure {
    let message = message
        .strip_prefix("conda-forge.yml:")
        .map_or(message, str::trim_start);
    RenderFailure {
        file: "conda-forge.yml".to_string(),
        line: line_in_message(message),
        variant: None,
        message: message.to_string(),
    }
}

/// The first `line N` in a parser message.
fn line_in_message(message: &str) -> Option<usize> {
    let re = Regex::new(r"\bline (\d+)").ok()?;
    re.captures(message)?.get(1)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_failures_keep_the_yaml_line() {
        let failure = config_failure("conda-forge.yml: invalid mapping at line 3 column 5");
        assert_eq!(failure.file, "conda-forge.yml");
        assert_eq!(failure.line, Some(3));
        assert_eq!(failure.message, "invalid mapping at line 3 column 5");
    }

    #[test]
    fn listing_skips_entries_that_are_not_feedstock_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("b-feedstock")).unwrap();
        fs_err::create_dir_all(dir.path().join("a-feedstock")).unwrap();
        fs_err::create_dir_all(dir.path().join("docs")).unwrap();
        fs_err::write(dir.path().join("c-feedstock"), "a file").unwrap();
        let names: Vec<String> = list_checkouts(dir.path())
            .unwrap()
            .into_iter()
            .map(|c| c.name.to_string())
            .collect();
        assert_eq!(names, vec!["a", "b"]);
    }
}
