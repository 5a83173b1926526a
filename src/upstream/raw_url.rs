//! Raw-URL guessing (`RawURL`, and `IncrementAlphaRawURL` for the feedstocks whose
//! versions end in a letter): candidates from [`next_versions`], substituted into the
//! rendered source URLs, checked for existence (HEAD, GET when HEAD is refused). The
//! first candidate that exists is taken and the climb goes on from it, at most
//! [`MAX_CLIMBS`] times (reference §4.2).
//!
//! The bot re-renders the recipe per candidate; cascade substitutes the version in the
//! rendered URL instead, in three spellings (`1.2.3`, `1_2_3`, `1-2-3`), plus a path
//! segment equal to the old `major.minor` (`/sources/glib/2.78/glib-2.78.1.tar.xz`).
//! It only checks existence and does not download and hash the candidate.

use super::check::{Checker, Listing};
use super::error::SourceError;
use super::next_version::{AlphaBump, next_versions};

/// Climbs after the first hit, at most.
pub const MAX_CLIMBS: usize = 10;

/// The feedstocks `IncrementAlphaRawURL` applies to (the bot's list).
pub(crate) const ALPHA_FEEDSTOCKS: [&str; 5] = ["openssl", "tzcode", "tzdata", "jpeg", "cddlib"];

/// `url` with `old` replaced by `new` in the spellings the URL uses; `None` when the URL
/// does not contain the old version in any spelling.
pub fn substitute(url: &str, old: &str, new: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut seen: Vec<String> = Vec::new();
    for sep in [".", "_", "-"] {
        let old_s = old.replace('.', sep);
        if seen.contains(&old_s) {
            continue;
        }
        let new_s = new.replace('.', sep);
        let base = out.as_deref().unwrap_or(url);
        if base.contains(&old_s) {
            out = Some(base.replace(&old_s, &new_s));
        }
        seen.push(old_s);
    }
    let mut url = out?;
    if let (Some(old_mm), Some(new_mm)) = (major_minor(old), major_minor(new))
        && old_mm != new_mm
    {
        url = url.replace(&format!("/{old_mm}/"), &format!("/{new_mm}/"));
    }
    Some(url)
}

/// `2.78` of `2.78.1`; `None` for fewer than three dot components.
fn major_minor(version: &str) -> Option<String> {
    let parts: Vec<&str> = version.split('.').collect();
    match parts.as_slice() {
        [major, minor, _, ..] => Some(format!("{major}.{minor}")),
        _ => None,
    }
}

/// The guessing answer, or `None` when there is no version or no URL containing it.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
    current: Option<&str>,
    alpha: AlphaBump,
) -> Result<Option<Listing>, SourceError> {
    let Some(current) = current.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    // The first URL that holds the version; mirrors of it are not probed again.
    let Some(first) = urls
        .iter()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .find(|u| substitute(u, current, current).is_some())
    else {
        return Ok(None);
    };
    let mut best = current.to_string();
    for _ in 0..=MAX_CLIMBS {
        let mut found = None;
        for candidate in next_versions(&best, alpha) {
            let Some(url) = substitute(first, current, &candidate) else {
                continue;
            };
            // A host that does not answer will not answer the next candidate either:
            // `?` stops instead of waiting out every timeout.
            if checker.http().exists(&url).await? {
                found = Some(candidate);
                break;
            }
        }
        match found {
            Some(candidate) => best = candidate,
            None => break,
        }
    }
    if best == current {
        return Ok(Some(Listing {
            versions: Vec::new(),
            url: first.clone(),
        }));
    }
    let url = substitute(first, current, &best).unwrap_or_else(|| first.clone());
    Ok(Some(Listing {
        versions: vec![best],
        url,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_substituted_in_the_spelling_the_url_uses() {
        assert_eq!(
            substitute("https://x.org/zlib-1.3.1.tar.gz", "1.3.1", "1.3.2").as_deref(),
            Some("https://x.org/zlib-1.3.2.tar.gz")
        );
        assert_eq!(
            substitute(
                "https://x.org/1.84.0/boost_1_84_0.tar.bz2",
                "1.84.0",
                "1.85.0"
            )
            .as_deref(),
            Some("https://x.org/1.85.0/boost_1_85_0.tar.bz2")
        );
        assert_eq!(
            substitute(
                "https://x.org/curl-8_5_0/curl-8.5.0.tar.xz",
                "8.5.0",
                "8.6.0"
            )
            .as_deref(),
            Some("https://x.org/curl-8_6_0/curl-8.6.0.tar.xz")
        );
        assert_eq!(
            substitute("https://x.org/latest.tar.gz", "1.0", "1.1"),
            None
        );
    }

    #[test]
    fn a_major_minor_directory_follows_a_minor_bump() {
        assert_eq!(
            substitute(
                "https://download.gnome.org/sources/glib/2.78/glib-2.78.1.tar.xz",
                "2.78.1",
                "2.80.0"
            )
            .as_deref(),
            Some("https://download.gnome.org/sources/glib/2.80/glib-2.80.0.tar.xz")
        );
    }
}
