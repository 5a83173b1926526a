//! What counts as a release and which one is newest. Pre-releases are judged by PEP 440
//! (`pep440_rs`), the ordering is conda's (`rattler_conda_types::Version`): neither is
//! written by hand here.

use std::str::FromStr;

use rattler_conda_types::Version;

/// True when `version` parses as PEP 440 and is a pre- or dev release (`1.0rc1`,
/// `2.0.0-beta.1`, `1.0.dev3`). Text that is not PEP 440 is not a pre-release (as the
/// bot's `GithubReleases` judges it): a date tag or `1.2.3p1` stays a candidate.
pub fn is_prerelease(version: &str) -> bool {
    pep440_rs::Version::from_str(version.trim()).is_ok_and(|v| v.any_prerelease())
}

/// The newest of `versions` by conda ordering; text that conda cannot parse is skipped.
pub fn newest<'a>(versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    versions
        .into_iter()
        .filter_map(|v| Version::from_str(v).ok().map(|parsed| (parsed, v)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

/// True when `candidate` is newer than `current` by conda ordering. An unparseable
/// `current` (or none) makes any parseable candidate newer.
pub fn is_newer(candidate: &str, current: Option<&str>) -> bool {
    let Ok(candidate) = Version::from_str(candidate) else {
        return false;
    };
    match current.map(Version::from_str) {
        Some(Ok(current)) => candidate > current,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_pre_and_dev_releases_are_pre_releases() {
        for v in [
            "1.0rc1",
            "2.0.0-beta.1",
            "1.0.dev3",
            "3.0a1",
            "2.0.0-alpha",
            "1.1.0.rc2",
        ] {
            assert!(is_prerelease(v), "{v}");
        }
    }

    #[test]
    fn finals_post_releases_and_non_pep440_text_are_not() {
        for v in [
            "1.0",
            "1.0.post1",
            "2024.01.02",
            "1.2.3p1",
            "r2023",
            "9.4.0-1",
        ] {
            assert!(!is_prerelease(v), "{v}");
        }
    }

    #[test]
    fn newest_follows_conda_ordering_not_text_order() {
        assert_eq!(newest(["0.9.5", "0.10.0", "0.8.8"]), Some("0.10.0"));
        assert_eq!(newest(["1.0", "1.0.post1"]), Some("1.0.post1"));
        assert_eq!(newest(["not a version!", "1.0"]), Some("1.0"));
        assert_eq!(newest([]), None);
    }

    #[test]
    fn is_newer_compares_by_conda_version() {
        assert!(is_newer("1.10", Some("1.9")));
        assert!(!is_newer("1.9", Some("1.10")));
        assert!(!is_newer("1.9", Some("1.9")));
        assert!(is_newer("1.0", None));
    }
}
