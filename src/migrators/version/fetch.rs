//! The fetcher a run hands the version migrator: owned (so it can sit behind an `Arc`
//! in a migrator), answering from a preloaded `--hash-cache` file first, then the
//! store's persistent hash cache, then — online only — the network, recording what it
//! downloads in the store.
//!
//! Offline, a URL found in neither cache counts as not existing, so the rewrite's URL
//! search goes on to its next candidate and the error lists every URL tried.

use std::sync::Mutex;

use crate::graph::Store;
use crate::recipe::HashKind;
use crate::recipe::version::{Fetch, FetchError, HashCache, HttpFetch, PypiFile};

/// Preloaded digests, the store's cache, and optionally the network.
pub struct RunFetch {
    preloaded: HashCache,
    store: Option<Mutex<Store>>,
    network: Option<HttpFetch>,
}

impl std::fmt::Debug for RunFetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunFetch")
            .field("preloaded", &self.preloaded.len())
            .field("store", &self.store.is_some())
            .field("online", &self.network.is_some())
            .finish()
    }
}

impl RunFetch {
    /// A fetcher over `preloaded`, then `store`'s hash cache (when given), then
    /// `network` (when given; `None` is offline).
    pub fn new(preloaded: HashCache, store: Option<Store>, network: Option<HttpFetch>) -> Self {
        RunFetch {
            preloaded,
            store: store.map(Mutex::new),
            network,
        }
    }

    /// The store's cached digest; a store error is logged and counts as a miss.
    fn stored(&self, url: &str, kind: HashKind) -> Option<String> {
        let store = self.store.as_ref()?.lock().ok()?;
        match store.source_digest(url, kind) {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, url, "hash cache unreadable");
                None
            }
        }
    }

    /// Records a downloaded digest in the store; a failure is logged only.
    fn remember(&self, url: &str, kind: HashKind, digest: &str) {
        self.preloaded.insert(url, kind, digest);
        let Some(store) = self.store.as_ref().and_then(|s| s.lock().ok()) else {
            return;
        };
        if let Err(err) = store.record_source_digest(url, kind, digest) {
            tracing::warn!(error = %err, url, "hash cache not written");
        }
    }
}

impl Fetch for RunFetch {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        if let Some(hit) = self.preloaded.get(url, kind) {
            return Ok(hit);
        }
        if let Some(hit) = self.stored(url, kind) {
            return Ok(hit);
        }
        let Some(network) = &self.network else {
            return Err(FetchError::NotFound {
                url: url.to_string(),
            });
        };
        let digest = network.digest(url, kind)?;
        self.remember(url, kind, &digest);
        Ok(digest)
    }

    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        self.network.as_ref()?.pypi_files(project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_answers_from_the_preloaded_cache_then_the_store_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_or_create(&dir.path().join("s.sqlite")).unwrap();
        store
            .record_source_digest("https://x/stored.tar.gz", HashKind::Sha256, "bb")
            .unwrap();
        let preloaded = HashCache::new();
        preloaded.insert("https://x/pre.tar.gz", HashKind::Sha256, "aa");
        let fetch = RunFetch::new(preloaded, Some(store), None);
        assert_eq!(
            fetch
                .digest("https://x/pre.tar.gz", HashKind::Sha256)
                .unwrap(),
            "aa"
        );
        assert_eq!(
            fetch
                .digest("https://x/stored.tar.gz", HashKind::Sha256)
                .unwrap(),
            "bb"
        );
        let missing = fetch
            .digest("https://x/missing.tar.gz", HashKind::Sha256)
            .unwrap_err();
        assert!(missing.is_not_found());
        assert!(fetch.pypi_files("x").is_none());
    }
}
