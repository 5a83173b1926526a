//! PyPI's JSON API (`GET {pypi}/pypi/<name>/json`).
//!
//! Applies to recipe URLs on `pypi.io`, `pypi.org`, `pypi.python.org` and
//! `files.pythonhosted.org`. The candidates are every release with at least one file
//! that is not yanked; PEP 440 pre-releases are dropped unless every release is one
//! (then the pre-releases stand, as in the bot).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check::{Checker, Listing};
use super::error::SourceError;
use super::release::is_prerelease;

const HOSTS: [&str; 4] = [
    "pypi.python.org",
    "pypi.org",
    "pypi.io",
    "files.pythonhosted.org",
];

#[derive(Deserialize)]
struct Project {
    info: Info,
    #[serde(default)]
    releases: Option<BTreeMap<String, Vec<File>>>,
}

#[derive(Deserialize)]
struct Info {
    version: String,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    yanked: bool,
}

/// The PyPI project a recipe URL downloads from, if it is a PyPI URL.
pub(crate) fn project_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let (host, path) = rest.split_once('/')?;
    if !HOSTS.contains(&host.to_ascii_lowercase().as_str()) {
        return None;
    }
    let segments: Vec<&str> = path.split(['?', '#']).next()?.split('/').collect();
    if let ["packages", "source", _, name, ..] = segments.as_slice() {
        return Some((*name).to_string());
    }
    // files.pythonhosted.org/packages/<h>/<h>/<hash>/<name>-<version>.tar.gz
    let file = segments.last()?;
    let stem = strip_archive_extension(file)?;
    let (name, _) = stem.rsplit_once('-')?;
    (!name.is_empty()).then(|| name.to_string())
}

fn strip_archive_extension(file: &str) -> Option<&str> {
    [".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
}

/// PyPI's answer for `target`, or `None` when no recipe URL is on PyPI.
pub(crate) async fn versions(
    checker: &Checker,
    urls: &[String],
) -> Result<Option<Listing>, SourceError> {
    let Some(project) = urls.iter().find_map(|u| project_of(u)) else {
        return Ok(None);
    };
    let url = format!("{}/pypi/{project}/json", checker.urls().pypi);
    let body: Project = checker.http().get_json(&url).await?;
    Ok(Some(Listing {
        versions: candidates(body),
        url,
    }))
}

fn candidates(project: Project) -> Vec<String> {
    let released: Vec<String> = match project.releases {
        Some(releases) => releases
            .into_iter()
            .filter(|(_, files)| !files.is_empty() && files.iter().any(|f| !f.yanked))
            .map(|(version, _)| version)
            .collect(),
        None => Vec::new(),
    };
    let released = if released.is_empty() {
        vec![project.info.version.trim().to_string()]
    } else {
        released
    };
    let finals: Vec<String> = released
        .iter()
        .filter(|v| !is_prerelease(v))
        .cloned()
        .collect();
    if finals.is_empty() { released } else { finals }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_comes_from_the_source_path_or_the_file_name() {
        for (url, want) in [
            (
                "https://pypi.io/packages/source/a/attrs/attrs-23.1.0.tar.gz",
                Some("attrs"),
            ),
            (
                "https://pypi.org/packages/source/a/annotated-types/annotated_types-0.7.0.tar.gz",
                Some("annotated-types"),
            ),
            (
                "https://files.pythonhosted.org/packages/ab/cd/0123/atlas_schema-0.4.0.tar.gz",
                Some("atlas_schema"),
            ),
            ("https://github.com/o/r/archive/v1.tar.gz", None),
        ] {
            assert_eq!(project_of(url).as_deref(), want, "{url}");
        }
    }

    fn project(json: &str) -> Project {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn pre_releases_are_dropped_while_a_final_exists() {
        let p = project(
            r#"{"info":{"version":"2.0"},"releases":{"1.0":[{"yanked":false}],"2.0":[{}],"2.1rc1":[{}]}}"#,
        );
        assert_eq!(candidates(p), ["1.0", "2.0"]);
    }

    #[test]
    fn only_pre_releases_are_kept_when_there_is_nothing_else() {
        let p = project(r#"{"info":{"version":"0.1a1"},"releases":{"0.1a1":[{}],"0.1a2":[{}]}}"#);
        assert_eq!(candidates(p), ["0.1a1", "0.1a2"]);
    }

    #[test]
    fn yanked_and_empty_releases_are_not_candidates() {
        let p = project(
            r#"{"info":{"version":"1.0"},"releases":{"1.0":[{}],"1.1":[{"yanked":true}],"1.2":[]}}"#,
        );
        assert_eq!(candidates(p), ["1.0"]);
    }
}
