//! Which sources are asked, in which order, and which of a source's versions survive
//! the feedstock's `bot.version_updates` settings (reference §4.1, §4.3).
//!
//! Order: the bot's `all_version_sources()` order, or `version_updates.sources` in the
//! user's order. The first source that answers with a version wins. Then `exclude`,
//! `even_odd_versions` and `random_fraction_to_keep` filter the winner's versions and
//! the newest remaining one (conda ordering) is the result. The bot applies those three
//! to the single chosen version, so an excluded newest version means "nothing new"
//! there; here the next-newest version that passes is proposed instead.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::feedstock::config::{VersionSource, VersionUpdates};

use super::error::UpstreamError;

/// An upstream version source cascade implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SourceKind {
    /// PyPI's JSON API.
    #[serde(rename = "PyPI")]
    Pypi,
    /// CRAN's package listings.
    #[serde(rename = "CRAN")]
    Cran,
    /// The crates.io sparse index.
    #[serde(rename = "CratesIO")]
    CratesIo,
    /// The npm registry.
    #[serde(rename = "NPM")]
    Npm,
    /// GitHub tags (REST API).
    #[serde(rename = "Github")]
    Github,
    /// GitHub releases (REST API).
    #[serde(rename = "GithubReleases")]
    GithubReleases,
    /// `git ls-remote --tags` of the recipe's `git_url`.
    #[serde(rename = "GitTags")]
    GitTags,
    /// Guessing the next version in the source URL.
    #[serde(rename = "RawURL")]
    RawUrl,
    /// Guessing, with letter suffixes bumped too (five named feedstocks only).
    #[serde(rename = "IncrementAlphaRawURL")]
    IncrementAlphaRawUrl,
}

impl SourceKind {
    /// The default order (the bot's, without its NVIDIA and ROSDistro sources).
    pub const DEFAULT_ORDER: [SourceKind; 9] = [
        SourceKind::Pypi,
        SourceKind::Cran,
        SourceKind::CratesIo,
        SourceKind::Npm,
        SourceKind::Github,
        SourceKind::GithubReleases,
        SourceKind::GitTags,
        SourceKind::RawUrl,
        SourceKind::IncrementAlphaRawUrl,
    ];

    /// The bot's name of the source (`PyPI`, `GithubReleases`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Pypi => "PyPI",
            SourceKind::Cran => "CRAN",
            SourceKind::CratesIo => "CratesIO",
            SourceKind::Npm => "NPM",
            SourceKind::Github => "Github",
            SourceKind::GithubReleases => "GithubReleases",
            SourceKind::GitTags => "GitTags",
            SourceKind::RawUrl => "RawURL",
            SourceKind::IncrementAlphaRawUrl => "IncrementAlphaRawURL",
        }
    }

    /// Parses a name case-insensitively (`pypi`, `PyPI`, `rawurl`, ...).
    pub fn parse(name: &str) -> Result<SourceKind, UpstreamError> {
        SourceKind::DEFAULT_ORDER
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UpstreamError::UnknownSource {
                name: name.to_string(),
                known: SourceKind::DEFAULT_ORDER
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The source a `conda-forge.yml` entry names; `None` for the ones cascade does not
    /// implement (NVIDIA, ROSDistro, librariesio).
    pub fn from_config(source: VersionSource) -> Option<SourceKind> {
        Some(match source {
            VersionSource::Pypi => SourceKind::Pypi,
            VersionSource::Cran => SourceKind::Cran,
            VersionSource::Cratesio => SourceKind::CratesIo,
            VersionSource::Npm => SourceKind::Npm,
            VersionSource::Github => SourceKind::Github,
            VersionSource::Githubreleases => SourceKind::GithubReleases,
            VersionSource::Gittags => SourceKind::GitTags,
            VersionSource::Rawurl => SourceKind::RawUrl,
            VersionSource::Incrementalpharawurl => SourceKind::IncrementAlphaRawUrl,
            VersionSource::Nvidia | VersionSource::Rosdistro | VersionSource::Librariesio => {
                return None;
            }
        })
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sources to ask for one feedstock, in order, with a note per configured source
/// that cascade cannot ask. `forced` (from the command line) replaces both the default
/// and the feedstock's own list.
pub fn source_order(
    settings: &VersionUpdates,
    forced: Option<&[SourceKind]>,
) -> (Vec<SourceKind>, Vec<String>) {
    if let Some(forced) = forced {
        return (forced.to_vec(), Vec::new());
    }
    let Some(configured) = &settings.sources else {
        return (SourceKind::DEFAULT_ORDER.to_vec(), Vec::new());
    };
    let mut order = Vec::new();
    let mut notes = Vec::new();
    for source in configured {
        match SourceKind::from_config(*source) {
            Some(kind) if !order.contains(&kind) => order.push(kind),
            Some(_) => {}
            None => notes.push(format!(
                "version source `{}` is not implemented; skipped",
                serde_json::to_value(source)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            )),
        }
    }
    (order, notes)
}

/// `-` and `_` read as `.` (the bot's `is_version_ignored`).
fn dotted(version: &str) -> String {
    version.replace(['-', '_'], ".")
}

/// True when `bot.version_updates` rules `version` out: listed in `exclude` (compared
/// with `-`/`_` read as `.` on both sides), an odd minor under `even_odd_versions`, or
/// not drawn under `random_fraction_to_keep`.
pub fn is_ignored(settings: &VersionUpdates, version: &str) -> bool {
    let v = dotted(version);
    if settings
        .exclude
        .iter()
        .any(|e| e == version || dotted(e) == v)
    {
        return true;
    }
    if settings.even_odd_versions == Some(true)
        && v.split('.')
            .nth(1)
            .and_then(|minor| minor.parse::<u64>().ok())
            .is_some_and(|minor| minor % 2 == 1)
    {
        return true;
    }
    if let Some(fraction) = settings.random_fraction_to_keep
        && draw(version) >= fraction
    {
        return true;
    }
    false
}

/// A number in [0, 1) fixed by the version string (`-` read as `.`, as the bot seeds
/// Python's `random` with): the same version is always kept or always dropped.
pub fn draw(version: &str) -> f64 {
    let seed: [u8; 32] = Sha256::digest(version.replace('-', ".").as_bytes()).into();
    ChaCha8Rng::from_seed(seed).random::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_unknown_names_are_errors() {
        assert_eq!(SourceKind::parse("pypi").unwrap(), SourceKind::Pypi);
        assert_eq!(SourceKind::parse("RAWURL").unwrap(), SourceKind::RawUrl);
        assert_eq!(
            SourceKind::parse("incrementalpharawurl").unwrap(),
            SourceKind::IncrementAlphaRawUrl
        );
        let err = SourceKind::parse("libraries.io").unwrap_err().to_string();
        assert!(
            err.contains("PyPI") && err.contains("libraries.io"),
            "{err}"
        );
    }

    #[test]
    fn configured_sources_keep_the_user_order_and_unimplemented_ones_are_noted() {
        let settings = VersionUpdates {
            sources: Some(vec![
                VersionSource::Rawurl,
                VersionSource::Nvidia,
                VersionSource::Github,
            ]),
            ..VersionUpdates::default()
        };
        let (order, notes) = source_order(&settings, None);
        assert_eq!(order, [SourceKind::RawUrl, SourceKind::Github]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("nvidia"), "{notes:?}");
        let (order, _) = source_order(&VersionUpdates::default(), None);
        assert_eq!(order, SourceKind::DEFAULT_ORDER);
        let (order, _) = source_order(&settings, Some(&[SourceKind::Pypi]));
        assert_eq!(order, [SourceKind::Pypi]);
    }

    #[test]
    fn exclude_matches_with_dashes_and_underscores_read_as_dots() {
        let settings = VersionUpdates {
            exclude: vec!["08.14".into(), "1_2_3".into()],
            ..VersionUpdates::default()
        };
        assert!(is_ignored(&settings, "08.14"));
        assert!(is_ignored(&settings, "08-14"));
        assert!(is_ignored(&settings, "1.2.3"));
        assert!(!is_ignored(&settings, "8.14"));
    }

    #[test]
    fn even_odd_versions_drops_odd_minors_only() {
        let settings = VersionUpdates {
            even_odd_versions: Some(true),
            ..VersionUpdates::default()
        };
        assert!(is_ignored(&settings, "3.41.0"));
        assert!(!is_ignored(&settings, "3.42.1"));
        assert!(!is_ignored(&settings, "3"));
        let off = VersionUpdates {
            even_odd_versions: Some(false),
            ..VersionUpdates::default()
        };
        assert!(!is_ignored(&off, "3.41.0"));
    }

    #[test]
    fn random_fraction_is_deterministic_per_version_and_keeps_about_that_share() {
        assert_eq!(draw("1.2.3"), draw("1.2.3"));
        assert_eq!(draw("1.2-3"), draw("1.2.3"));
        let settings = VersionUpdates {
            random_fraction_to_keep: Some(0.1),
            ..VersionUpdates::default()
        };
        let kept = (0..2000)
            .filter(|i| !is_ignored(&settings, &format!("1.{i}.0")))
            .count();
        assert!((120..=280).contains(&kept), "kept {kept} of 2000");
    }
}
