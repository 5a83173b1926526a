//! CRAN: one index per check, scraped from the `src/contrib/` listing (current
//! packages with their versions) and the `src/contrib/Archive/` listing (packages that
//! only have archived versions, which give no version), as the bot does.
//!
//! Applies to recipe URLs containing `cran.r-project.org/src/contrib`. CRAN's `-` in
//! versions becomes `_` (conda-forge's R convention: `1.2-3` → `1.2_3`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::check::{Checker, Listing};
use super::error::SourceError;

/// Lowercased package name → `(name as listed, version)`; archived-only packages have
/// no version.
pub(crate) type CranIndex = HashMap<String, (String, Option<String>)>;

static LINK: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"<td><a href="([^"]+)">([^<]+)</a></td>"#).ok());

/// The CRAN package a recipe URL downloads.
pub(crate) fn package_of(url: &str) -> Option<String> {
    let (_, path) = url.split_once("cran.r-project.org/src/contrib/")?;
    let path = path.split(['?', '#']).next()?;
    if let Some(rest) = path.strip_prefix("Archive/") {
        return rest
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string);
    }
    let file = path.rsplit('/').next()?;
    let stem = file.strip_suffix(".tar.gz")?;
    stem.rsplit_once('_').map(|(name, _)| name.to_string())
}

/// Builds the index from the two listings' HTML.
pub(crate) fn parse_index(contrib: &str, archive: &str) -> CranIndex {
    let mut index = CranIndex::new();
    let Some(link) = LINK.as_ref() else {
        return index;
    };
    for caps in link.captures_iter(contrib) {
        let (Some(href), Some(text)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if href.as_str() != text.as_str() {
            continue;
        }
        let Some(stem) = href.as_str().strip_suffix(".tar.gz") else {
            continue;
        };
        if let Some((name, version)) = stem.rsplit_once('_') {
            index.insert(
                name.to_ascii_lowercase(),
                (name.to_string(), Some(version.to_string())),
            );
        }
    }
    for caps in link.captures_iter(archive) {
        let (Some(href), Some(text)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let Some(name) = href.as_str().strip_suffix('/') else {
            continue;
        };
        if href.as_str() != text.as_str() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        index
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| (name.to_string(), None));
    }
    index
}

/// Fetches both listings (once per [`Checker`]).
pub(crate) async fn fetch_index(checker: &Checker) -> Result<Arc<CranIndex>, SourceError> {
    let base = &checker.urls().cran;
    let contrib = checker.http().get(&format!("{base}/src/contrib/")).await?;
    let archive = checker
        .http()
        .get(&format!("{base}/src/contrib/Archive/"))
        .await?;
    Ok(Arc::new(parse_index(&contrib.body, &archive.body)))
}

/// CRAN's answer, or `None` when no recipe URL is on CRAN.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
) -> Result<Option<Listing>, SourceError> {
    let Some(package) = urls.iter().find_map(|u| package_of(u)) else {
        return Ok(None);
    };
    let index = checker.cran_index().await?;
    let versions = index
        .get(&package.to_ascii_lowercase())
        .and_then(|(_, v)| v.as_ref())
        .map(|v| vec![v.replace('-', "_")])
        .unwrap_or_default();
    Ok(Some(Listing {
        versions,
        url: format!("{}/src/contrib/", checker.urls().cran),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_come_from_current_and_archive_urls() {
        assert_eq!(
            package_of("https://cran.r-project.org/src/contrib/ggplot2_3.4.4.tar.gz").as_deref(),
            Some("ggplot2")
        );
        assert_eq!(
            package_of(
                "https://cran.r-project.org/src/contrib/Archive/data.table/data.table_1.14.8.tar.gz"
            )
            .as_deref(),
            Some("data.table")
        );
        assert_eq!(
            package_of("https://example.org/src/contrib/x_1.tar.gz"),
            None
        );
    }

    #[test]
    fn the_index_reads_versions_and_archive_only_packages() {
        let contrib = r#"<tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="A3_1.0.0.tar.gz">A3_1.0.0.tar.gz</a></td><td align="right">2015-08-16 23:05  </td><td align="right"> 42K</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/compressed.gif" alt="[   ]"></td><td><a href="abc_2.1-4.tar.gz">abc_2.1-4.tar.gz</a></td><td align="right">2022-05-19 08:20  </td><td align="right">4.2M</td><td>&nbsp;</td></tr>"#;
        let archive = r#"<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="A3/">A3/</a></td><td align="right">2013-02-07 10:00  </td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="Gone/">Gone/</a></td><td align="right">2013-02-07 10:00  </td><td align="right">  - </td><td>&nbsp;</td></tr>"#;
        let index = parse_index(contrib, archive);
        assert_eq!(index["a3"], ("A3".to_string(), Some("1.0.0".to_string())));
        assert_eq!(index["abc"].1.as_deref(), Some("2.1-4"));
        assert_eq!(index["gone"], ("Gone".to_string(), None));
    }
}
