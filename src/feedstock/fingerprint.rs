//! Change detection for a feedstock: a cheap metadata fingerprint, then a content hash.
//!
//! The files that matter are everything under `recipe/`, `conda-forge.yml` and everything
//! under `.ci_support/`. The fingerprint lists (path, size, mtime) and costs one `stat` per
//! file; the content hash reads every byte. A build re-parses a feedstock only when its
//! content hash changed, and computes the hash only when the fingerprint changed.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sha2::{Digest, Sha256};

use super::FeedstockError;

/// A digest of the (path, size, mtime) of every relevant file. Equal fingerprints mean
/// the feedstock is unchanged for all practical purposes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint(String);

/// The sha256 (hex) of the relevant files' paths and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ContentHash(String);

impl Fingerprint {
    /// Wraps a stored fingerprint.
    pub fn from_stored(value: String) -> Fingerprint {
        Fingerprint(value)
    }

    /// The fingerprint as text, for the store.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ContentHash {
    /// Wraps a stored hash.
    pub fn from_stored(value: String) -> ContentHash {
        ContentHash(value)
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Computes the metadata fingerprint of a feedstock directory.
pub fn fingerprint(dir: &Path) -> Result<Fingerprint, FeedstockError> {
    let mut hasher = Sha256::new();
    for (relative, _path, meta) in relevant_files(dir)? {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hasher.update(relative.as_bytes());
        hasher.update([0]);
        hasher.update(meta.len().to_le_bytes());
        hasher.update(mtime.to_le_bytes());
    }
    Ok(Fingerprint(hex::encode(hasher.finalize())))
}

/// Computes the content hash of a feedstock directory (reads every relevant file).
pub fn content_hash(dir: &Path) -> Result<ContentHash, FeedstockError> {
    Ok(Snapshot::read(dir)?.content_hash())
}

/// Every relevant file of a feedstock, read into memory once: the content hash and the
/// loaded [`Feedstock`](super::Feedstock) both come from it, so a changed feedstock is
/// read from disk once, not once per question.
#[derive(Debug, Clone)]
pub struct Snapshot {
    root: PathBuf,
    /// Relative `/`-separated path → bytes, sorted by path.
    files: Vec<(String, Vec<u8>)>,
}

impl Snapshot {
    /// Reads every relevant file under `dir`.
    pub fn read(dir: &Path) -> Result<Snapshot, FeedstockError> {
        let mut files = Vec::new();
        for (relative, path, _meta) in relevant_files(dir)? {
            let bytes = fs_err::read(&path).map_err(|source| FeedstockError::Read {
                path: path.clone(),
                source,
            })?;
            files.push((relative, bytes));
        }
        Ok(Snapshot {
            root: dir.to_path_buf(),
            files,
        })
    }

    /// A snapshot from files already in memory (a git tree, a test), keyed by relative
    /// `/`-separated path. Later duplicates of a path win.
    pub fn from_files(root: &Path, files: impl IntoIterator<Item = (String, Vec<u8>)>) -> Snapshot {
        let files: std::collections::BTreeMap<String, Vec<u8>> = files.into_iter().collect();
        Snapshot {
            root: root.to_path_buf(),
            files: files.into_iter().collect(),
        }
    }

    /// Every file as (relative path, bytes), sorted by path.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// One file as UTF-8 text; `None` when it is missing or not text.
    pub fn text(&self, relative: &str) -> Option<&str> {
        self.file(relative)
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The directory the snapshot was read from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bytes of one file, by relative path (`recipe/meta.yaml`).
    pub fn file(&self, relative: &str) -> Option<&[u8]> {
        self.files
            .binary_search_by(|(path, _)| path.as_str().cmp(relative))
            .ok()
            .and_then(|i| self.files.get(i))
            .map(|(_, bytes)| bytes.as_slice())
    }

    /// The files directly inside a relative directory (`.ci_support`), as (name, bytes).
    pub fn files_in<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.files.iter().filter_map(move |(path, bytes)| {
            let name = path.strip_prefix(dir)?.strip_prefix('/')?;
            (!name.contains('/')).then_some((name, bytes.as_slice()))
        })
    }

    /// The sha256 of the files' paths and bytes.
    pub fn content_hash(&self) -> ContentHash {
        let mut hasher = Sha256::new();
        for (relative, bytes) in &self.files {
            hasher.update(relative.as_bytes());
            hasher.update([0]);
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        ContentHash(hex::encode(hasher.finalize()))
    }
}

/// The relevant files, sorted by relative path (`/`-separated).
fn relevant_files(dir: &Path) -> Result<Vec<RelevantFile>, FeedstockError> {
    let mut files = Vec::new();
    let config = dir.join("conda-forge.yml");
    match fs_err::metadata(&config) {
        Ok(meta) if meta.is_file() => files.push(("conda-forge.yml".to_string(), config, meta)),
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(FeedstockError::Read {
                path: config,
                source,
            });
        }
    }
    for sub in ["recipe", ".ci_support"] {
        walk(&dir.join(sub), sub, &mut files)?;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// A relevant file: its `/`-separated path relative to the feedstock, its full path and
/// its metadata (taken from the directory entry, one `stat` per file).
type RelevantFile = (String, PathBuf, Metadata);

fn walk(dir: &Path, prefix: &str, out: &mut Vec<RelevantFile>) -> Result<(), FeedstockError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FeedstockError::Read { path, source }
    };
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(());
        }
        Err(source) => return Err(read_err(dir)(source)),
    };
    for entry in entries {
        let entry = entry.map_err(read_err(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}/{name}");
        let file_type = entry.file_type().map_err(read_err(&path))?;
        if file_type.is_dir() {
            walk(&path, &relative, out)?;
        } else if file_type.is_file() {
            let meta = entry.metadata().map_err(read_err(&path))?;
            out.push((relative, path, meta));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feedstock() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        fs_err::create_dir_all(dir.path().join("recipe")).expect("mkdir");
        fs_err::write(dir.path().join("recipe/meta.yaml"), "package: {name: a}\n").expect("write");
        fs_err::write(dir.path().join("conda-forge.yml"), "{}\n").expect("write");
        dir
    }

    #[test]
    fn content_hash_changes_with_recipe_bytes() {
        let dir = feedstock();
        let before = content_hash(dir.path()).expect("hash");
        fs_err::write(dir.path().join("recipe/meta.yaml"), "package: {name: b}\n").expect("write");
        assert_ne!(before, content_hash(dir.path()).expect("hash"));
    }

    #[test]
    fn files_outside_the_relevant_set_do_not_count() {
        let dir = feedstock();
        let before = content_hash(dir.path()).expect("hash");
        let fp = fingerprint(dir.path()).expect("fingerprint");
        fs_err::write(dir.path().join("README.md"), "docs").expect("write");
        assert_eq!(before, content_hash(dir.path()).expect("hash"));
        assert_eq!(fp, fingerprint(dir.path()).expect("fingerprint"));
    }

    #[test]
    fn a_new_ci_support_file_changes_the_fingerprint() {
        let dir = feedstock();
        let before = fingerprint(dir.path()).expect("fingerprint");
        fs_err::create_dir_all(dir.path().join(".ci_support")).expect("mkdir");
        fs_err::write(dir.path().join(".ci_support/linux_64_.yaml"), "a: [b]\n").expect("write");
        assert_ne!(before, fingerprint(dir.path()).expect("fingerprint"));
    }
}
