//! Errors of upstream version discovery. A [`SourceError`] is one source failing for one
//! feedstock (recorded, and the next source is tried); an [`UpstreamError`] stops a whole
//! check (no HTTP client, no runtime, an unreadable base-URL file).
//!
//! URLs are shown through [`Redacted`], which drops credentials in the authority part;
//! tokens travel only in headers and never appear here.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A URL as shown in errors and logs: `user:password@` is replaced by `***@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    /// Wraps a URL for display.
    pub fn new(url: &str) -> Redacted {
        Redacted(redact(url))
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_string(),
    }
}

/// One source failing for one feedstock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The request could not be sent or its body not read (DNS, refused, reset, TLS).
    #[error("GET {url}: {cause}")]
    Request {
        /// The URL requested.
        url: Redacted,
        /// The innermost cause (`Connection refused (os error 111)`), which reqwest's own
        /// message hides behind "error sending request".
        cause: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// No complete answer within the timeout.
    #[error("GET {url}: no answer within {}s", .timeout.as_secs_f32())]
    Timeout {
        /// The URL requested.
        url: Redacted,
        /// The per-request timeout.
        timeout: Duration,
    },
    /// The server answered with a status other than 2xx.
    #[error("GET {url}: HTTP {status}")]
    Status {
        /// The URL requested.
        url: Redacted,
        /// The HTTP status code.
        status: u16,
    },
    /// The body is not what the source's API returns.
    #[error("GET {url}: unexpected response: {message}")]
    Decode {
        /// The URL requested.
        url: Redacted,
        /// What did not fit.
        message: String,
    },
    /// `git ls-remote` could not be started.
    #[error("git ls-remote --tags {url}: cannot run git")]
    SpawnGit {
        /// The repository.
        url: Redacted,
        /// Why the process did not start.
        #[source]
        source: std::io::Error,
    },
    /// `git ls-remote` failed or timed out.
    #[error("git ls-remote --tags {url}: {message}")]
    Git {
        /// The repository.
        url: Redacted,
        /// git's stderr (last line), or the timeout.
        message: String,
    },
}

/// A check that could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpstreamError {
    /// The HTTP client could not be built (TLS provider missing, bad settings).
    #[error("cannot build the HTTP client")]
    Client {
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// The tokio runtime could not be started.
    #[error("cannot start the async runtime")]
    Runtime {
        /// What tokio reported.
        #[source]
        source: std::io::Error,
    },
    /// A base-URL file could not be read.
    #[error("cannot read the base-URL file `{}`", .path.display())]
    ReadBaseUrls {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// A base-URL file or variable is not the expected JSON object.
    #[error("invalid base URLs in {origin}")]
    ParseBaseUrls {
        /// The file or environment variable.
        origin: String,
        /// What serde reported.
        #[source]
        source: serde_json::Error,
    },
    /// A source name that cascade does not know.
    #[error("unknown version source `{name}` (known: {known})")]
    UnknownSource {
        /// The name given.
        name: String,
        /// The names accepted.
        known: String,
    },
}

/// The innermost message of an error chain.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_url_are_redacted() {
        assert_eq!(
            Redacted::new("https://bot:s3cret@example.com/a@b.tar.gz").as_str(),
            "https://***@example.com/a@b.tar.gz"
        );
        assert_eq!(
            Redacted::new("https://example.com/x?a=b@c").as_str(),
            "https://example.com/x?a=b@c"
        );
        assert_eq!(Redacted::new("not a url").as_str(), "not a url");
    }
}
