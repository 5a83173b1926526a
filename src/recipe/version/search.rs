//! Finding the new URL of one source and its digest (reference §4.4 step 6,
//! `_get_new_url_tmpl_and_hash`).
//!
//! In order: the template as written, rendered with the new version; the real sdist name
//! from PyPI's index (when the fetcher can ask PyPI); every transformed template
//! ([`transformed_urls`]). The first URL that hashes wins. Each distinct URL is fetched at
//! most once per rewrite, and every failure is kept for the report.

use std::collections::{HashMap, HashSet};

use super::error::Attempt;
use super::fetch::{Fetch, PypiFile};
use super::render::{self, Vars};
use super::transforms::{self, EXTENSIONS, transformed_urls};
use crate::recipe::HashKind;

/// The URL that hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    /// The template that produced it (`{{ }}` syntax; equal to the input when unchanged).
    pub(super) template: String,
    /// The rendered URL.
    pub(super) url: String,
    /// Its digest.
    pub(super) digest: String,
}

/// What the searches of one rewrite remember: each (URL, kind) is fetched once.
#[derive(Debug, Default)]
pub(super) struct Tried {
    results: HashMap<(String, HashKind), Result<String, Attempt>>,
}

impl Tried {
    /// The digest of `url`, fetched on first use.
    pub(super) fn digest(
        &mut self,
        fetch: &dyn Fetch,
        url: &str,
        kind: HashKind,
    ) -> Result<String, Attempt> {
        self.results
            .entry((url.to_string(), kind))
            .or_insert_with(|| {
                fetch.digest(url, kind).map_err(|err| {
                    tracing::debug!(%url, error = %err, "candidate did not hash");
                    Attempt::from(&err)
                })
            })
            .clone()
    }
}

/// Searches for the new URL of `template` rendered with `vars`. Failures are appended
/// to `attempts`.
pub(super) fn search(
    template: &str,
    vars: &Vars,
    kind: HashKind,
    fetch: &dyn Fetch,
    tried: &mut Tried,
    attempts: &mut Vec<Attempt>,
) -> Option<Found> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut attempt = |candidate: &str, url: String, attempts: &mut Vec<Attempt>| {
        if !seen.insert(url.clone()) {
            return None;
        }
        match tried.digest(fetch, &url, kind) {
            Ok(digest) => Some(Found {
                template: candidate.to_string(),
                url,
                digest,
            }),
            Err(failure) => {
                attempts.push(failure);
                None
            }
        }
    };
    if let Ok(url) = render::render(template, vars)
        && url != template
        && let Some(found) = attempt(template, url, attempts)
    {
        return Some(found);
    }
    if transforms::is_pypi(template)
        && let Some(found) = from_pypi_index(template, vars, fetch, attempts, &mut attempt)
    {
        return Some(found);
    }
    for candidate in transformed_urls(template).into_iter().skip(1) {
        let Ok(url) = render::render(&candidate, vars) else {
            continue;
        };
        if let Some(found) = attempt(&candidate, url, attempts) {
            return Some(found);
        }
    }
    None
}

/// The PyPI fallback: asks the index for the sdist of the new version and builds the
/// template from its real file name, preferring a `{{ name }}` form.
fn from_pypi_index(
    template: &str,
    vars: &Vars,
    fetch: &dyn Fetch,
    attempts: &mut Vec<Attempt>,
    attempt: &mut impl FnMut(&str, String, &mut Vec<Attempt>) -> Option<Found>,
) -> Option<Found> {
    let version = vars.get("version").map(render::text)?;
    for project in project_candidates(template, vars) {
        let files = match fetch.pypi_files(&project)? {
            Ok(files) => files,
            Err(err) => {
                attempts.push(Attempt::from(&err));
                continue;
            }
        };
        let Some((file, prefix, ext)) = sdist_of(&files, &version) else {
            continue;
        };
        if let Some((base, _)) = template.rsplit_once('/')
            && base.contains("/packages/source/")
        {
            let name = name_form(&prefix, vars).unwrap_or(prefix.clone());
            let candidate = format!("{base}/{name}-{{{{ version }}}}{ext}");
            if let Ok(url) = render::render(&candidate, vars)
                && let Some(found) = attempt(&candidate, url, attempts)
            {
                return Some(found);
            }
        }
        if let Some(found) = attempt(&file.url, file.url.clone(), attempts) {
            return Some(found);
        }
    }
    None
}

/// Project names to ask PyPI about: from the URL path, the file name, and `name`.
fn project_candidates(template: &str, vars: &Vars) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let rendered = render::render(template, vars).unwrap_or_default();
    if let Some(rest) = rendered.split("/packages/source/").nth(1)
        && let Some(project) = rest.split('/').nth(1)
    {
        out.push(project.to_string());
    }
    if let Some(version) = vars.get("version").map(render::text)
        && let Some(file) = rendered.rsplit('/').next()
        && let Some(at) = file.find(&format!("-{version}"))
        && let Some(prefix) = file.get(..at)
    {
        out.push(prefix.to_string());
    }
    if let Some(name) = vars.get("name").map(render::text) {
        out.push(name);
    }
    let mut seen = HashSet::new();
    out.retain(|p| !p.is_empty() && seen.insert(p.to_lowercase()));
    out
}

/// The sdist of `version` among a project's files: the file, its name prefix and its
/// extension.
fn sdist_of<'a>(files: &'a [PypiFile], version: &str) -> Option<(&'a PypiFile, String, String)> {
    files.iter().find_map(|file| {
        let ext = EXTENSIONS
            .iter()
            .filter(|ext| **ext != ".tar")
            .find(|ext| file.filename.ends_with(*ext))?;
        let stem = file.filename.strip_suffix(ext)?;
        let prefix = stem.strip_suffix(&format!("-{version}"))?;
        Some((file, prefix.to_string(), (*ext).to_string()))
    })
}

/// The simplest `{{ name }}` form that renders to `prefix`.
fn name_form(prefix: &str, vars: &Vars) -> Option<String> {
    std::iter::once("{{ name }}")
        .chain(transforms::NAME_FORMS)
        .find(|form| render::render(form, vars).ok().as_deref() == Some(prefix))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use minijinja::Value;

    use super::*;
    use crate::recipe::version::fetch::{HashCache, OfflineFetch};

    fn vars(name: &str, version: &str) -> Vars {
        Vars::from([
            ("name".to_string(), Value::from(name)),
            ("version".to_string(), Value::from(version)),
        ])
    }

    #[test]
    fn the_rendered_template_wins_when_it_hashes() {
        let cache = HashCache::new();
        cache.insert("https://x/a-2.tar.gz", HashKind::Sha256, "aa");
        let mut attempts = Vec::new();
        let found = search(
            "https://x/{{ name }}-{{ version }}.tar.gz",
            &vars("a", "2"),
            HashKind::Sha256,
            &OfflineFetch::new(&cache),
            &mut Tried::default(),
            &mut attempts,
        )
        .unwrap();
        assert_eq!(found.template, "https://x/{{ name }}-{{ version }}.tar.gz");
        assert!(attempts.is_empty());
    }

    #[test]
    fn a_transformed_template_is_found_and_the_misses_are_recorded() {
        let cache = HashCache::new();
        cache.insert("https://x/a-v2.zip", HashKind::Sha256, "bb");
        let mut attempts = Vec::new();
        let found = search(
            "https://x/{{ name }}-{{ version }}.tar.gz",
            &vars("a", "2"),
            HashKind::Sha256,
            &OfflineFetch::new(&cache),
            &mut Tried::default(),
            &mut attempts,
        )
        .unwrap();
        assert_eq!(found.template, "https://x/{{ name }}-v{{ version }}.zip");
        assert_eq!(found.digest, "bb");
        assert_eq!(attempts[0].to_string(), "not found: https://x/a-2.tar.gz");
        assert!(attempts.iter().all(|a| a.not_found));
    }

    #[test]
    fn the_sdist_of_a_version_is_found_among_a_projects_files() {
        let files = [
            PypiFile {
                filename: "dash_extensions-0.1.11-py3-none-any.whl".into(),
                url: "u1".into(),
            },
            PypiFile {
                filename: "dash_extensions-0.1.11.tar.gz".into(),
                url: "u2".into(),
            },
        ];
        let (file, prefix, ext) = sdist_of(&files, "0.1.11").unwrap();
        assert_eq!(
            (file.url.as_str(), prefix.as_str(), ext.as_str()),
            ("u2", "dash_extensions", ".tar.gz")
        );
        assert_eq!(
            name_form("dash_extensions", &vars("dash-extensions", "0.1.11")).as_deref(),
            Some("{{ name | replace('-', '_') }}")
        );
    }
}
