//! Hashing over HTTP(S): a streamed GET whose body goes chunk by chunk into the digest.
//!
//! Redirects are followed (GitHub archives and PyPI's `packages/source` URLs redirect).
//! Compressed transfer encodings are *not* decoded: the digest must be of the bytes the
//! server stores, and servers that label a `.tar.gz` `Content-Encoding: gzip` would
//! otherwise hash the tarball inside it. 404 and 410 mean "does not exist"; any other
//! failure is reported as such, so the caller can tell a missing file from a flaky server.

use std::time::Duration;

use reqwest::header::ACCEPT;
use serde::Deserialize;

use super::digest::StreamDigest;
use super::{Fetch, FetchError, PypiFile};
use crate::recipe::HashKind;

/// Limits and endpoints of [`HttpFetch`].
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Time allowed for one whole download (the bot allows 120 s).
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// The largest file hashed; larger ones are an error, not a silent truncation.
    pub max_bytes: u64,
    /// The PEP 691 simple index (`https://pypi.org/simple`), configurable for tests.
    pub pypi_index: String,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            max_bytes: 4 << 30,
            pypi_index: "https://pypi.org/simple".to_string(),
        }
    }
}

/// Downloads and hashes over HTTP(S). Owns a small tokio runtime, so it is called from
/// plain (non-async) code; from async code, call it inside `spawn_blocking`.
#[derive(Debug)]
pub struct HttpFetch {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    options: HttpOptions,
}

impl HttpFetch {
    /// A fetcher with the given limits.
    pub fn new(options: HttpOptions) -> Result<HttpFetch, FetchError> {
        // reqwest is built without a default TLS provider; installing ring twice is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("cascade/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .no_gzip()
            .build()
            .map_err(|source| FetchError::Client { source })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| FetchError::Runtime { source })?;
        Ok(HttpFetch {
            client,
            runtime,
            options,
        })
    }

    async fn download(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        let transfer = |source| FetchError::Transfer {
            url: url.to_string(),
            source,
        };
        let mut response = self.client.get(url).send().await.map_err(transfer)?;
        check_status(url, response.status())?;
        let limit = self.options.max_bytes;
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut digest = StreamDigest::new(kind);
        let mut total: u64 = 0;
        while let Some(chunk) = response.chunk().await.map_err(transfer)? {
            total = total.saturating_add(chunk.len() as u64);
            if total > limit {
                return Err(too_large());
            }
            digest.update(&chunk);
        }
        tracing::debug!(url, bytes = total, kind = kind.as_str(), "hashed");
        Ok(digest.finish())
    }

    async fn pypi_index(&self, project: &str) -> Result<Vec<PypiFile>, FetchError> {
        let url = format!(
            "{}/{}/",
            self.options.pypi_index.trim_end_matches('/'),
            normalise_project(project)
        );
        let transfer = |source| FetchError::Transfer {
            url: url.clone(),
            source,
        };
        let response = self
            .client
            .get(&url)
            .header(ACCEPT, "application/vnd.pypi.simple.v1+json")
            .send()
            .await
            .map_err(transfer)?;
        check_status(&url, response.status())?;
        let base = response.url().clone();
        let body = response.bytes().await.map_err(transfer)?;
        let index: SimpleIndex =
            serde_json::from_slice(&body).map_err(|source| FetchError::PypiIndex {
                url: url.clone(),
                source,
            })?;
        Ok(index
            .files
            .into_iter()
            .map(|file| PypiFile {
                url: base.join(&file.url).map(String::from).unwrap_or(file.url),
                filename: file.filename,
            })
            .collect())
    }
}

/// PEP 691: the parts of a project page the rewrite reads.
#[derive(Debug, Deserialize)]
struct SimpleIndex {
    files: Vec<SimpleFile>,
}

#[derive(Debug, Deserialize)]
struct SimpleFile {
    filename: String,
    url: String,
}

/// PEP 503 name normalisation: runs of `-`, `_`, `.` become `-`, lowercased.
fn normalise_project(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

fn check_status(url: &str, status: reqwest::StatusCode) -> Result<(), FetchError> {
    if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
        return Err(FetchError::NotFound {
            url: url.to_string(),
        });
    }
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    Ok(())
}

impl Fetch for HttpFetch {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        self.runtime.block_on(self.download(url, kind))
    }

    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        Some(self.runtime.block_on(self.pypi_index(project)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_project_names_are_normalised_as_pep_503_says() {
        assert_eq!(normalise_project("Dash_Extensions"), "dash-extensions");
        assert_eq!(normalise_project("zope.interface"), "zope-interface");
        assert_eq!(normalise_project("a-_.b"), "a-b");
    }
}
