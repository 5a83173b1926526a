//! The crates.io sparse index (`GET {crates_index}/<tier>/<name>`, one JSON object per
//! line). Applies to recipe URLs on `crates.io` or `static.crates.io`.
//!
//! Unlike the bot, which takes the last line (reference §10.4.11), yanked versions and
//! semver pre-releases are skipped and the newest remaining version wins: the index is in
//! publication order, so the last line can be a backport (`0.8.8` after `0.10.0`).

use serde::Deserialize;

use super::check::{Checker, Listing};
use super::error::{Redacted, SourceError};

#[derive(Deserialize)]
struct Entry {
    vers: String,
    #[serde(default)]
    yanked: bool,
}

/// The crate a recipe URL downloads.
pub(crate) fn crate_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    let host = host.to_ascii_lowercase();
    if host != "crates.io" && !host.ends_with(".crates.io") {
        return None;
    }
    let mut segments = path.split(['?', '#']).next()?.split('/');
    segments.find(|s| *s == "crates")?;
    segments
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The sparse-index path of a crate: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
pub(crate) fn index_path(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    if !name.is_ascii() {
        return None;
    }
    Some(match name.len() {
        0 => return None,
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    })
}

/// The index's answer, or `None` when no recipe URL is on crates.io.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
) -> Result<Option<Listing>, SourceError> {
    let Some((name, path)) = urls
        .iter()
        .find_map(|u| crate_of(u).and_then(|n| index_path(&n).map(|p| (n, p))))
    else {
        return Ok(None);
    };
    let url = format!("{}/{path}", checker.urls().crates_index);
    let page = checker.http().get(&url).await?;
    let mut versions = Vec::new();
    for (number, line) in page.body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = serde_json::from_str(line).map_err(|e| SourceError::Decode {
            url: Redacted::new(&url),
            message: format!("line {}: {e} (crate `{name}`)", number + 1),
        })?;
        if entry.yanked || is_semver_prerelease(&entry.vers) {
            continue;
        }
        versions.push(entry.vers);
    }
    Ok(Some(Listing { versions, url }))
}

/// crates.io versions are semver: a pre-release has a `-…` part.
fn is_semver_prerelease(version: &str) -> bool {
    semver::Version::parse(version).is_ok_and(|v| !v.pre.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_come_from_api_and_static_download_urls() {
        assert_eq!(
            crate_of("https://crates.io/api/v1/crates/wbg-rand/0.4.0/download").as_deref(),
            Some("wbg-rand")
        );
        assert_eq!(
            crate_of("https://static.crates.io/crates/rand/rand-0.8.5.crate").as_deref(),
            Some("rand")
        );
        assert_eq!(crate_of("https://github.com/crates/x"), None);
    }

    #[test]
    fn index_paths_follow_the_length_tiers() {
        assert_eq!(index_path("a").as_deref(), Some("1/a"));
        assert_eq!(index_path("ab").as_deref(), Some("2/ab"));
        assert_eq!(index_path("abc").as_deref(), Some("3/a/abc"));
        assert_eq!(index_path("Wbg-Rand").as_deref(), Some("wb/g-/wbg-rand"));
    }

    #[test]
    fn semver_pre_releases_are_recognised() {
        assert!(is_semver_prerelease("0.10.0-rc.9"));
        assert!(!is_semver_prerelease("0.10.0"));
        assert!(!is_semver_prerelease("0.10.0+build.1"));
    }
}
