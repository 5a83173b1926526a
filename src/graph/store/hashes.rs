//! The persistent source hash cache: the digest of every source URL the version rewrite
//! has downloaded, so a URL is downloaded once per store, not once per attempt.
//!
//! Only files that exist are cached (a missing file may appear later, and a 404 costs
//! little). Digests of published release archives do not change; a URL whose content
//! does change (a moving "latest" link) would keep its first digest, which is why the
//! rewrite only ever asks about URLs with the new version in them.

use rusqlite::{OptionalExtension, params};

use crate::graph::GraphError;
use crate::recipe::HashKind;
use crate::recipe::version::{Fetch, FetchError, PypiFile};

use super::{Store, unix_now};

impl Store {
    /// The cached digest of `url`, if it was hashed before.
    pub fn source_digest(&self, url: &str, kind: HashKind) -> Result<Option<String>, GraphError> {
        self.conn
            .prepare_cached("SELECT digest FROM source_hashes WHERE url = ?1 AND kind = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![url, kind.as_str()], |row| row.get(0))
                    .optional()
            })
            .map_err(self.sql("read a cached source digest"))
    }

    /// Records the digest of `url` (replacing an older one).
    pub fn record_source_digest(
        &self,
        url: &str,
        kind: HashKind,
        digest: &str,
    ) -> Result<(), GraphError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO source_hashes (url, kind, digest, fetched_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| stmt.execute(params![url, kind.as_str(), digest, unix_now()]))
            .map_err(self.sql("record a source digest"))?;
        Ok(())
    }

    /// Number of cached digests.
    pub fn source_digest_count(&self) -> Result<u64, GraphError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM source_hashes", [], |row| {
                row.get::<_, i64>(0)
            })
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(self.sql("count cached source digests"))
    }
}

/// The store's hash cache in front of another fetcher: cached digests are answered from
/// the store, new ones are fetched and recorded. A store error never fails a hash: it
/// is logged and the fetcher answers.
pub struct StoredHashCache<'a> {
    store: &'a Store,
    inner: &'a dyn Fetch,
}

impl std::fmt::Debug for StoredHashCache<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredHashCache")
            .field("store", self.store)
            .finish_non_exhaustive()
    }
}

impl<'a> StoredHashCache<'a> {
    /// `store`'s cache in front of `inner`.
    pub fn new(store: &'a Store, inner: &'a dyn Fetch) -> StoredHashCache<'a> {
        StoredHashCache { store, inner }
    }
}

impl Fetch for StoredHashCache<'_> {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        match self.store.source_digest(url, kind) {
            Ok(Some(digest)) => return Ok(digest),
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %err, url, "hash cache unreadable"),
        }
        let digest = self.inner.digest(url, kind)?;
        if let Err(err) = self.store.record_source_digest(url, kind, &digest) {
            tracing::warn!(error = %err, url, "hash cache not written");
        }
        Ok(digest)
    }

    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        self.inner.pypi_files(project)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Answers every URL with a digest of its name and counts the calls.
    struct Counting(Cell<usize>);

    impl Fetch for Counting {
        fn digest(&self, url: &str, _kind: HashKind) -> Result<String, FetchError> {
            self.0.set(self.0.get() + 1);
            if url.ends_with("missing") {
                return Err(FetchError::NotFound {
                    url: url.to_string(),
                });
            }
            Ok(format!("{:x}", url.len()))
        }
    }

    #[test]
    fn a_digest_is_fetched_once_and_then_read_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cascade.sqlite");
        let inner = Counting(Cell::new(0));
        {
            let store = Store::open_or_create(&path).unwrap();
            let cached = StoredHashCache::new(&store, &inner);
            assert_eq!(
                cached.digest("https://x/a.tgz", HashKind::Sha256).unwrap(),
                "f"
            );
            assert!(
                cached
                    .digest("https://x/missing", HashKind::Sha256)
                    .is_err()
            );
        }
        let store = Store::open(&path).unwrap();
        let cached = StoredHashCache::new(&store, &inner);
        assert_eq!(
            cached.digest("https://x/a.tgz", HashKind::Sha256).unwrap(),
            "f"
        );
        assert_eq!(inner.0.get(), 2, "the second ask came from the store");
        assert_eq!(
            store.source_digest_count().unwrap(),
            1,
            "misses are not cached"
        );
        assert_eq!(
            store
                .source_digest("https://x/a.tgz", HashKind::Md5)
                .unwrap(),
            None
        );
    }
}
