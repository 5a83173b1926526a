//! The HTTP side of every source: one shared reqwest client, a per-request timeout, a
//! bounded number of requests in flight per host plus a small pause after each (so a
//! thousand feedstocks on PyPI never hit it with a thousand connections), retries of
//! transient failures, and the optional GitHub token, sent only to the GitHub API host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::{Redacted, SourceError, UpstreamError};

/// A GitHub token. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct GithubToken(String);

impl GithubToken {
    /// The environment variables read, first set wins.
    pub const ENV: [&'static str; 2] = ["CASCADE_GITHUB_TOKEN", "GITHUB_TOKEN"];

    /// Wraps a token (empty text gives `None`).
    pub fn new(token: &str) -> Option<GithubToken> {
        let token = token.trim();
        (!token.is_empty()).then(|| GithubToken(token.to_string()))
    }

    /// The token from [`GithubToken::ENV`], if any.
    pub fn from_env() -> Option<GithubToken> {
        GithubToken::ENV
            .iter()
            .find_map(|name| std::env::var(name).ok().and_then(|t| GithubToken::new(&t)))
    }
}

impl std::fmt::Debug for GithubToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GithubToken(***)")
    }
}

/// How politely and how patiently requests are made.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Per-request timeout (connect + headers + body).
    pub timeout: Duration,
    /// Requests in flight per host at most.
    pub per_host: usize,
    /// Pause after each request before its host slot is released.
    pub host_delay: Duration,
    /// Extra tries after a timeout, a connection failure, a 429 or a 5xx.
    pub retries: u32,
    /// Sent as `Authorization: Bearer` to the GitHub API host only.
    pub github_token: Option<GithubToken>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(20),
            per_host: 8,
            host_delay: Duration::from_millis(10),
            retries: 1,
            github_token: None,
        }
    }
}

/// A successful answer: the body and, for paginated APIs, the `Link: rel="next"` URL.
pub(crate) struct Page {
    pub(crate) body: String,
    pub(crate) next: Option<String>,
}

/// The shared HTTP client with per-host slots.
pub(crate) struct Http {
    client: reqwest::Client,
    settings: HttpSettings,
    github_host: Option<String>,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Http {
    /// Builds the client. `github_api` decides which host gets the token.
    pub(crate) fn new(settings: HttpSettings, github_api: &str) -> Result<Http, UpstreamError> {
        // reqwest is built without a TLS provider; `main` installs ring, and library
        // callers (tests, the version migrator) get it here if they did not.
        if rustls::crypto::CryptoProvider::get_default().is_none() {
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("cascade/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|source| UpstreamError::Client { source })?;
        Ok(Http {
            client,
            github_host: host_of(github_api),
            settings,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// GETs `url`; a non-2xx status is an error.
    pub(crate) async fn get(&self, url: &str) -> Result<Page, SourceError> {
        // With `read_body` every non-2xx is an error, so `None` cannot come back.
        self.request(Method::GET, url, true).await.and_then(|r| {
            r.ok_or_else(|| SourceError::Status {
                url: Redacted::new(url),
                status: 404,
            })
        })
    }

    /// GETs `url` and decodes JSON.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, SourceError> {
        let page = self.get(url).await?;
        serde_json::from_str(&page.body).map_err(|e| SourceError::Decode {
            url: Redacted::new(url),
            message: e.to_string(),
        })
    }

    /// Whether `url` exists: HEAD (falling back to a GET whose body is not read when
    /// HEAD is refused), following redirects. Any non-2xx final status means no.
    pub(crate) async fn exists(&self, url: &str) -> Result<bool, SourceError> {
        match self.request(Method::HEAD, url, false).await {
            Ok(Some(_)) => Ok(true),
            Ok(None) => Ok(false),
            Err(SourceError::Status { status, .. }) if status == 405 || status == 403 => self
                .request(Method::GET, url, false)
                .await
                .map(|found| found.is_some()),
            Err(e) => Err(e),
        }
    }

    /// One request with retries. With `read_body`, a 2xx gives `Some(page)` and anything
    /// else an error; without, a 404/410 gives `Ok(None)` and the body is not read.
    async fn request(
        &self,
        method: Method,
        url: &str,
        read_body: bool,
    ) -> Result<Option<Page>, SourceError> {
        let mut attempt = 0;
        loop {
            let result = self.once(method.clone(), url, read_body).await;
            let transient = match &result {
                Err(SourceError::Timeout { .. } | SourceError::Request { .. }) => true,
                Err(SourceError::Status { status, .. }) => *status == 429 || *status >= 500,
                _ => false,
            };
            if !transient || attempt >= self.settings.retries {
                return result;
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(250) * attempt).await;
        }
    }

    async fn once(
        &self,
        method: Method,
        url: &str,
        read_body: bool,
    ) -> Result<Option<Page>, SourceError> {
        let redacted = || Redacted::new(url);
        let slot = self.slot(url).await;
        let mut request = self.client.request(method, url);
        if let Some(token) = &self.settings.github_token
            && self.github_host.is_some()
            && host_of(url) == self.github_host
        {
            request = request
                .bearer_auth(&token.0)
                .header(header::ACCEPT, "application/vnd.github+json");
        }
        let result = request.send().await;
        let outcome = match result {
            Err(e) => Err(self.request_error(url, e)),
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    let next = next_link(response.headers());
                    if read_body {
                        match response.text().await {
                            Ok(body) => Ok(Some(Page { body, next })),
                            Err(e) => Err(self.request_error(url, e)),
                        }
                    } else {
                        Ok(Some(Page {
                            body: String::new(),
                            next,
                        }))
                    }
                } else if !read_body && matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
                    Ok(None)
                } else {
                    Err(SourceError::Status {
                        url: redacted(),
                        status: status.as_u16(),
                    })
                }
            }
        };
        release_after(slot, self.settings.host_delay);
        outcome
    }

    fn request_error(&self, url: &str, source: reqwest::Error) -> SourceError {
        if source.is_timeout() {
            SourceError::Timeout {
                url: Redacted::new(url),
                timeout: self.settings.timeout,
            }
        } else {
            SourceError::Request {
                url: Redacted::new(url),
                cause: super::error::root_cause(&source),
                source,
            }
        }
    }

    /// Waits for a free slot on `url`'s host.
    async fn slot(&self, url: &str) -> Option<OwnedSemaphorePermit> {
        let host = host_of(url)?;
        let semaphore = {
            let mut hosts = self.hosts.lock().ok()?;
            Arc::clone(
                hosts
                    .entry(host)
                    .or_insert_with(|| Arc::new(Semaphore::new(self.settings.per_host.max(1)))),
            )
        };
        semaphore.acquire_owned().await.ok()
    }
}

/// Keeps the host slot for `delay` more, without holding up the caller.
fn release_after(slot: Option<OwnedSemaphorePermit>, delay: Duration) {
    if let Some(slot) = slot
        && !delay.is_zero()
    {
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            drop(slot);
        });
    }
}

/// `host:port` of a URL (lowercased), the key of the politeness slots.
pub(crate) fn host_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The `rel="next"` target of a `Link` header (GitHub's pagination).
fn next_link(headers: &header::HeaderMap) -> Option<String> {
    let link = headers.get(header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == r#"rel="next""#)
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_a_github_link_header() {
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::LINK,
            r#"<https://api.github.com/repositories/1/tags?page=2>; rel="next", <https://api.github.com/repositories/1/tags?page=9>; rel="last""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://api.github.com/repositories/1/tags?page=2")
        );
    }

    #[test]
    fn hosts_are_keyed_with_their_port() {
        assert_eq!(
            host_of("https://PyPI.org/pypi/x/json").as_deref(),
            Some("pypi.org:443")
        );
        assert_eq!(
            host_of("http://127.0.0.1:8080/x").as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(host_of("not a url"), None);
    }

    #[test]
    fn a_token_is_never_printed() {
        let token = GithubToken::new("ghp_secret").unwrap();
        assert_eq!(format!("{token:?}"), "GithubToken(***)");
    }
}
