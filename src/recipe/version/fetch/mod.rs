//! Source hashing: what the rewrite asks of the outside world.
//!
//! [`Fetch`] is the one question the version rewrite has: "what is the digest of the file
//! at this URL?" (and, optionally, "which files does PyPI list for this project?"). The
//! rewrite never does I/O itself. Implementations:
//! - [`HttpFetch`]: streams the download over HTTP(S) and hashes it chunk by chunk;
//! - [`OfflineFetch`]: answers from a [`HashCache`] only; a URL missing from it does not
//!   exist (the `--offline` mode and the tests);
//! - [`CachedFetch`]: a [`HashCache`] in front of another fetcher (the `--hash-cache` file
//!   without `--offline`). The graph store adds a persistent cache on top of any of them.

mod cache;
mod digest;
mod http;

use std::fmt;

pub use cache::{CachedFetch, HashCache, HashCacheError, OfflineFetch};
pub use digest::StreamDigest;
pub use http::{HttpFetch, HttpOptions};

use crate::recipe::HashKind;

/// Answers digests of source URLs. Implementations are synchronous: the rewrite is plain
/// CPU work around a few downloads, and callers that run on tokio call it through
/// `spawn_blocking`.
pub trait Fetch {
    /// The lowercase hex digest of the file at `url`. A URL that does not exist is
    /// [`FetchError::NotFound`].
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError>;

    /// The files PyPI lists for `project` (its simple index), or `None` when this
    /// fetcher cannot ask PyPI (offline). The rewrite uses it to find the real sdist
    /// name when the recipe's template no longer matches it.
    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        let _ = project;
        None
    }
}

impl<F: Fetch + ?Sized> Fetch for &F {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        (**self).digest(url, kind)
    }

    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        (**self).pypi_files(project)
    }
}

/// One file of a PyPI project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PypiFile {
    /// The file name (`dash_extensions-0.1.11.tar.gz`).
    pub filename: String,
    /// Where it downloads from.
    pub url: String,
}

/// Why a URL did not hash.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server says the file does not exist (404/410), or the offline cache does not
    /// know the URL.
    #[error("not found: {url}")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// The server answered with another error status.
    #[error("HTTP {status}: {url}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The request or the transfer failed (DNS, TLS, reset, timeout).
    #[error("could not download {url}")]
    Transfer {
        /// The URL.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The file is larger than the configured limit.
    #[error("{url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The HTTP client could not be built.
    #[error("could not start the HTTP client")]
    Client {
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The async runtime for downloads could not be started.
    #[error("could not start the download runtime")]
    Runtime {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// PyPI's index answer is not the JSON of PEP 691.
    #[error("PyPI index `{url}` is not PEP 691 JSON")]
    PypiIndex {
        /// The index URL.
        url: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
}

impl FetchError {
    /// The URL the error is about.
    pub fn url(&self) -> Option<&str> {
        match self {
            FetchError::NotFound { url }
            | FetchError::Status { url, .. }
            | FetchError::Transfer { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::PypiIndex { url, .. } => Some(url),
            FetchError::Client { .. } | FetchError::Runtime { .. } => None,
        }
    }

    /// True when the file does not exist (as opposed to a failed transfer).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }
}

/// The error with its causes on one line (`could not download X: timed out`).
pub(crate) struct Chain<'a>(pub(crate) &'a dyn std::error::Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
