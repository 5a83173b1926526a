//! The in-memory hash cache: `{"<url>": {"sha256": "<hex>", ...}}`, as the
//! `--hash-cache` file holds it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Fetch, FetchError, PypiFile};
use crate::recipe::HashKind;

/// Digests by URL and kind. A URL in the cache exists; its digests are trusted.
#[derive(Debug, Default)]
pub struct HashCache {
    entries: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

/// Why a hash-cache file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashCacheError {
    /// The file could not be read.
    #[error("failed to read the hash cache `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a JSON object of objects of strings.
    #[error("the hash cache `{}` is not a JSON object mapping URLs to {{\"sha256\": \"...\"}} objects", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A digest is not hex, or names an unknown hash kind.
    #[error("the hash cache `{}` has an invalid {kind} digest for `{url}`", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The URL.
        url: String,
        /// The key under the URL.
        kind: String,
    },
}

impl HashCache {
    /// An empty cache.
    pub fn new() -> HashCache {
        HashCache::default()
    }

    /// Reads a cache file. Digests are lowercased; an unknown kind or a non-hex digest is
    /// an error naming the URL.
    pub fn load(path: &Path) -> Result<HashCache, HashCacheError> {
        let text = fs_err::read_to_string(path).map_err(|source| HashCacheError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let raw: BTreeMap<String, BTreeMap<String, String>> =
            serde_json::from_str(&text).map_err(|source| HashCacheError::Parse {
                path: path.to_path_buf(),
                source,
            })?;
        let cache = HashCache::new();
        for (url, digests) in raw {
            for (kind, digest) in digests {
                let valid = HashKind::parse(&kind).is_some()
                    && !digest.is_empty()
                    && digest.bytes().all(|b| b.is_ascii_hexdigit());
                if !valid {
                    return Err(HashCacheError::Invalid {
                        path: path.to_path_buf(),
                        url,
                        kind,
                    });
                }
                if let Some(kind) = HashKind::parse(&kind) {
                    cache.insert(&url, kind, &digest.to_ascii_lowercase());
                }
            }
        }
        Ok(cache)
    }

    /// The cached digest of `url`, if any.
    pub fn get(&self, url: &str, kind: HashKind) -> Option<String> {
        let entries = self.entries.lock().ok()?;
        entries.get(url)?.get(kind.as_str()).cloned()
    }

    /// Remembers a digest.
    pub fn insert(&self, url: &str, kind: HashKind, digest: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries
                .entry(url.to_string())
                .or_default()
                .insert(kind.as_str().to_string(), digest.to_string());
        }
    }

    /// The cache as the JSON the file holds (URLs and kinds sorted).
    pub fn to_json(&self) -> String {
        let entries = self.entries.lock().map(|e| e.clone()).unwrap_or_default();
        serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "{}".to_string())
    }

    /// Number of URLs in the cache.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// True when the cache knows no URL.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Answers from a [`HashCache`] only: no network. A URL the cache does not know is
/// [`FetchError::NotFound`], so the URL search moves on to the next candidate.
#[derive(Debug)]
pub struct OfflineFetch<'a> {
    cache: &'a HashCache,
}

impl<'a> OfflineFetch<'a> {
    /// Offline answers from `cache`.
    pub fn new(cache: &'a HashCache) -> OfflineFetch<'a> {
        OfflineFetch { cache }
    }
}

impl Fetch for OfflineFetch<'_> {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        self.cache
            .get(url, kind)
            .ok_or_else(|| FetchError::NotFound {
                url: url.to_string(),
            })
    }
}

/// A [`HashCache`] in front of another fetcher: cached digests are answered at once,
/// new ones are fetched and remembered.
pub struct CachedFetch<'a> {
    cache: &'a HashCache,
    inner: &'a dyn Fetch,
}

impl std::fmt::Debug for CachedFetch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedFetch")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl<'a> CachedFetch<'a> {
    /// `cache` in front of `inner`.
    pub fn new(cache: &'a HashCache, inner: &'a dyn Fetch) -> CachedFetch<'a> {
        CachedFetch { cache, inner }
    }
}

impl Fetch for CachedFetch<'_> {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        if let Some(hit) = self.cache.get(url, kind) {
            return Ok(hit);
        }
        let digest = self.inner.digest(url, kind)?;
        self.cache.insert(url, kind, &digest);
        Ok(digest)
    }

    fn pypi_files(&self, project: &str) -> Option<Result<Vec<PypiFile>, FetchError>> {
        self.inner.pypi_files(project)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_maps_urls_to_digests_and_unknown_urls_are_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        fs_err::write(
            &path,
            r#"{"https://x/a.tar.gz": {"sha256": "ABCDEF", "md5": "00"}}"#,
        )
        .unwrap();
        let cache = HashCache::load(&path).unwrap();
        let offline = OfflineFetch::new(&cache);
        assert_eq!(
            offline
                .digest("https://x/a.tar.gz", HashKind::Sha256)
                .unwrap(),
            "abcdef"
        );
        assert_eq!(
            offline.digest("https://x/a.tar.gz", HashKind::Md5).unwrap(),
            "00"
        );
        let err = offline
            .digest("https://x/b.tar.gz", HashKind::Sha256)
            .unwrap_err();
        assert_eq!(err.to_string(), "not found: https://x/b.tar.gz");
        assert!(offline.pypi_files("x").is_none());
    }

    #[test]
    fn a_cache_file_with_a_bad_digest_names_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.json");
        fs_err::write(&path, r#"{"https://x/a": {"sha256": "not hex"}}"#).unwrap();
        let err = HashCache::load(&path).unwrap_err();
        assert!(err.to_string().contains("https://x/a"), "{err}");
        fs_err::write(&path, "[1]").unwrap();
        assert!(matches!(
            HashCache::load(&path).unwrap_err(),
            HashCacheError::Parse { .. }
        ));
    }

    #[test]
    fn a_cached_fetch_remembers_what_its_inner_fetcher_found() {
        let backing = HashCache::new();
        backing.insert("u", HashKind::Sha256, "aa");
        let inner = OfflineFetch::new(&backing);
        let front = HashCache::new();
        let cached = CachedFetch::new(&front, &inner);
        assert_eq!(cached.digest("u", HashKind::Sha256).unwrap(), "aa");
        assert_eq!(front.get("u", HashKind::Sha256).as_deref(), Some("aa"));
        assert!(cached.digest("v", HashKind::Sha256).is_err());
    }
}
