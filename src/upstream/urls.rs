//! Where each source's API lives. Every base URL can be overridden, so tests (and
//! mirrors) point the sources at another server; the recipe URLs that decide *whether* a
//! source applies are never rewritten.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::UpstreamError;

/// The environment variable holding a JSON object of base-URL overrides.
pub const BASE_URLS_ENV: &str = "CASCADE_UPSTREAM_URLS";

/// Base URLs of the registry APIs, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceUrls {
    /// PyPI's JSON API: `{pypi}/pypi/<name>/json`.
    pub pypi: String,
    /// The npm registry: `{npm}/<name>`.
    pub npm: String,
    /// The crates.io sparse index: `{crates_index}/<tier>/<name>`.
    pub crates_index: String,
    /// The GitHub REST API: `{github_api}/repos/<owner>/<repo>/tags`.
    pub github_api: String,
    /// A CRAN mirror: `{cran}/src/contrib/` and `{cran}/src/contrib/Archive/`.
    pub cran: String,
}

impl Default for SourceUrls {
    fn default() -> Self {
        SourceUrls {
            pypi: "https://pypi.org".into(),
            npm: "https://registry.npmjs.org".into(),
            crates_index: "https://index.crates.io".into(),
            github_api: "https://api.github.com".into(),
            cran: "https://cran.r-project.org".into(),
        }
    }
}

impl SourceUrls {
    /// Every source at one server (`http://127.0.0.1:port`): PyPI at `/pypi`-style paths
    /// under `{base}/pypi`, npm under `{base}/npm`, and so on. What the tests and the
    /// benchmark use.
    pub fn all_at(base: &str) -> SourceUrls {
        let base = base.trim_end_matches('/');
        SourceUrls {
            pypi: format!("{base}/pypi-api"),
            npm: format!("{base}/npm"),
            crates_index: format!("{base}/crates-index"),
            github_api: format!("{base}/github-api"),
            cran: format!("{base}/cran"),
        }
    }

    /// Parses a JSON object of overrides; missing keys keep their defaults.
    pub fn from_json(text: &str, origin: &str) -> Result<SourceUrls, UpstreamError> {
        let urls: SourceUrls =
            serde_json::from_str(text).map_err(|source| UpstreamError::ParseBaseUrls {
                origin: origin.to_string(),
                source,
            })?;
        Ok(urls.trimmed())
    }

    /// Reads [`SourceUrls::from_json`] from a file.
    pub fn from_file(path: &Path) -> Result<SourceUrls, UpstreamError> {
        let text = fs_err::read_to_string(path).map_err(|source| UpstreamError::ReadBaseUrls {
            path: path.to_path_buf(),
            source,
        })?;
        SourceUrls::from_json(&text, &format!("`{}`", path.display()))
    }

    /// The file if given, else [`BASE_URLS_ENV`] if set, else the public registries.
    pub fn resolve(file: Option<&Path>) -> Result<SourceUrls, UpstreamError> {
        if let Some(path) = file {
            return SourceUrls::from_file(path);
        }
        match std::env::var(BASE_URLS_ENV) {
            Ok(text) if !text.trim().is_empty() => {
                SourceUrls::from_json(&text, &format!("${BASE_URLS_ENV}"))
            }
            _ => Ok(SourceUrls::default()),
        }
    }

    fn trimmed(mut self) -> SourceUrls {
        for url in [
            &mut self.pypi,
            &mut self.npm,
            &mut self.crates_index,
            &mut self.github_api,
            &mut self.cran,
        ] {
            let trimmed = url.trim_end_matches('/').len();
            url.truncate(trimmed);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_override_keeps_the_other_defaults() {
        let urls = SourceUrls::from_json(r#"{"pypi": "http://127.0.0.1:9/"}"#, "test").unwrap();
        assert_eq!(urls.pypi, "http://127.0.0.1:9");
        assert_eq!(urls.npm, SourceUrls::default().npm);
    }

    #[test]
    fn an_unknown_key_is_an_error_that_names_its_origin() {
        let err = SourceUrls::from_json(r#"{"pipy": "x"}"#, "`urls.json`").unwrap_err();
        assert!(err.to_string().contains("`urls.json`"), "{err}");
    }
}
