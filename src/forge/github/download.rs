//! The REST transport's checkout: the upstream default branch downloaded into a
//! directory through the API, file by file, touching only what changed.
//!
//! One conditional `GET commits/HEAD` says which commit the default branch is at (the
//! server resolves `HEAD`, so no separate request asks for the branch's name). The
//! checkout remembers what it holds in [`MARKER`] (a dot-file that `Snapshot::read` and
//! the graph crawl never look at): the commit, and each file's mode, blob id, size and
//! modification time. When the commit is unchanged and every file still matches, that
//! one request is the whole cost. Otherwise the tree is listed once and only blobs whose
//! id differs from the file on disk are downloaded; files the tree no longer has are
//! removed. Every path from the server is checked before it touches the disk, and
//! nothing is written through a symbolic link.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::api::Api;
use super::config::GitHubConfig;
use super::git::check_path;
use super::gitdata::{RepoPath, ShaRef, TreeFile, blob_id, read_blob, tree_files};
use crate::forge::ForgeError;

/// What a REST checkout holds, at its root.
pub(super) const MARKER: &str = ".cascade-tree.json";

/// `MARKER`'s content.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Marker {
    /// The commit the checkout holds.
    commit: String,
    /// Path → what was written there.
    files: BTreeMap<String, FileState>,
}

/// One file as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileState {
    /// `100644`, `100755`, `120000` (a symbolic link) or `160000` (a submodule, an
    /// empty directory as git leaves it).
    mode: String,
    /// The blob (or submodule commit) id.
    sha: String,
    /// Size on disk when written.
    size: u64,
    /// Modification time when written, nanoseconds since the epoch.
    mtime: u64,
}

#[derive(Deserialize)]
struct HeadCommit {
    sha: String,
    commit: HeadDetails,
}

#[derive(Deserialize)]
struct HeadDetails {
    tree: ShaRef,
}

/// Makes `dest` hold exactly the upstream default branch's files (a `.git` directory at
/// its root is left alone) and returns the commit id.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock, transport = "api"))]
pub(super) fn sync_checkout(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    dest: &Path,
) -> Result<String, ForgeError> {
    let repo = RepoPath::new(&config.org, &super::repo_name(feedstock));
    let reply = api.get(&repo.api("/commits/HEAD"))?;
    let head: HeadCommit = match reply.status {
        404 => return Err(ForgeError::NoSuchFeedstock(feedstock.to_owned())),
        _ => reply.json()?,
    };
    let marker = read_marker(dest);
    let wanted: BTreeMap<String, TreeFile> = if marker.commit == head.sha {
        marker
            .files
            .iter()
            .map(|(path, state)| {
                let want = TreeFile {
                    mode: state.mode.clone(),
                    sha: state.sha.clone(),
                };
                (path.clone(), want)
            })
            .collect()
    } else {
        tree_files(api, &repo, &head.commit.tree.sha)?
    };
    for path in wanted.keys() {
        check_path(path)
            .and_then(|()| {
                if path == MARKER {
                    Err("is the name of cascade's checkout marker")
                } else {
                    Ok(())
                }
            })
            .map_err(|reason| ForgeError::Invalid {
                what: format!("path `{path}` in the tree of `{repo}` at {}", head.sha),
                reason: reason.to_owned(),
            })?;
    }
    fs_err::create_dir_all(dest).map_err(io_error(dest))?;
    let mut written = Marker {
        commit: head.sha.clone(),
        files: BTreeMap::new(),
    };
    let mut downloads = 0usize;
    for (path, want) in &wanted {
        let target = dest.join(path);
        let state = match matching_state(&target, want, marker.files.get(path))? {
            Some(state) => state,
            None => {
                downloads += 1;
                materialize(api, &repo, dest, path, want)?
            }
        };
        written.files.insert(path.clone(), state);
    }
    let keep: BTreeSet<&str> = wanted.keys().map(String::as_str).collect();
    let removed = remove_extras(dest, dest, &keep)?;
    if written.commit != marker.commit || written.files != marker.files {
        write_marker(dest, &written)?;
    }
    tracing::debug!(%repo, commit = %head.sha, downloads, removed, "synced a REST checkout");
    Ok(head.sha)
}

/// The checkout's marker; an empty one when it is missing or unreadable (everything is
/// then checked against the tree).
fn read_marker(dest: &Path) -> Marker {
    fs_err::read(dest.join(MARKER))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn write_marker(dest: &Path, marker: &Marker) -> Result<(), ForgeError> {
    let path = dest.join(MARKER);
    let bytes = serde_json::to_vec(marker).map_err(|e| ForgeError::Io {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomically(&path, &bytes)
}

/// The state of the file at `target` when it already is what `want` says; `None` when
/// it must be (re)written. A file whose size and time match what was written (`known`)
/// is trusted without being read again, as git's index does.
fn matching_state(
    target: &Path,
    want: &TreeFile,
    known: Option<&FileState>,
) -> Result<Option<FileState>, ForgeError> {
    let Ok(meta) = fs_err::symlink_metadata(target) else {
        return Ok(None);
    };
    let file_type = meta.file_type();
    let matches = match want.mode.as_str() {
        "160000" => file_type.is_dir(),
        "120000" => {
            file_type.is_symlink()
                && fs_err::read_link(target)
                    .is_ok_and(|to| blob_id(to.as_os_str().as_encoded_bytes()) == want.sha)
        }
        mode => {
            let executable = mode == "100755";
            if !file_type.is_file() || is_executable(&meta) != executable {
                false
            } else if known.is_some_and(|k| {
                k.sha == want.sha
                    && k.mode == want.mode
                    && k.size == meta.len()
                    && k.mtime == mtime(&meta)
            }) {
                true
            } else {
                fs_err::read(target).is_ok_and(|bytes| blob_id(&bytes) == want.sha)
            }
        }
    };
    Ok(matches.then(|| state_of(want, &meta)))
}

/// Downloads `want` and writes it at `path` under `dest`.
fn materialize(
    api: &Api,
    repo: &RepoPath,
    dest: &Path,
    path: &str,
    want: &TreeFile,
) -> Result<FileState, ForgeError> {
    let target = dest.join(path);
    prepare_parents(dest, path)?;
    if want.mode == "160000" {
        clear(&target, Keep::Directory)?;
        fs_err::create_dir_all(&target).map_err(io_error(&target))?;
    } else {
        let bytes = read_blob(api, repo, &want.sha)?;
        clear(&target, Keep::Nothing)?;
        if want.mode == "120000" {
            write_symlink(&target, &bytes)?;
        } else {
            write_atomically(&target, &bytes)?;
            set_executable(&target, want.mode == "100755")?;
        }
    }
    let meta = fs_err::symlink_metadata(&target).map_err(io_error(&target))?;
    Ok(state_of(want, &meta))
}

/// Makes every directory above `path` (relative to `dest`) a real directory: a file or a
/// symbolic link in the way is removed first, so no write ever leaves `dest`.
fn prepare_parents(dest: &Path, path: &str) -> Result<(), ForgeError> {
    let mut current = dest.to_path_buf();
    let mut components: Vec<&str> = path.split('/').collect();
    components.pop();
    for component in components {
        current.push(component);
        match fs_err::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_dir() => continue,
            Ok(_) => clear(&current, Keep::Nothing)?,
            Err(_) => {}
        }
        fs_err::create_dir(&current).map_err(io_error(&current))?;
    }
    Ok(())
}

/// What [`clear`] may leave in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Remove whatever is there.
    Nothing,
    /// Leave a real directory.
    Directory,
}

/// Removes what is at `target` (a file, a symbolic link, or a directory tree).
fn clear(target: &Path, keep: Keep) -> Result<(), ForgeError> {
    let Ok(meta) = fs_err::symlink_metadata(target) else {
        return Ok(());
    };
    if meta.file_type().is_dir() {
        if keep == Keep::Directory {
            return Ok(());
        }
        fs_err::remove_dir_all(target).map_err(io_error(target))
    } else {
        fs_err::remove_file(target).map_err(io_error(target))
    }
}

/// Removes files and symbolic links under `dir` that `keep` does not list, and the
/// directories left empty; `.git` and the marker at the root stay. Returns how many
/// entries went.
fn remove_extras(root: &Path, dir: &Path, keep: &BTreeSet<&str>) -> Result<usize, ForgeError> {
    let mut removed = 0;
    for entry in fs_err::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let path = entry.path();
        let relative = relative_path(root, &path);
        if dir == root && (relative == ".git" || relative == MARKER) {
            continue;
        }
        let file_type = entry.file_type().map_err(io_error(&path))?;
        if keep.contains(relative.as_str()) {
            continue;
        }
        if file_type.is_dir() {
            removed += remove_extras(root, &path, keep)?;
            let empty = fs_err::read_dir(&path)
                .map_err(io_error(&path))?
                .next()
                .is_none();
            if empty {
                fs_err::remove_dir(&path).map_err(io_error(&path))?;
                removed += 1;
            }
        } else {
            fs_err::remove_file(&path).map_err(io_error(&path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// `path` relative to `root`, `/`-separated.
fn relative_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a
/// reader never sees half a file and a read-only file in the way is no obstacle.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ForgeError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.cascade-{}.tmp", std::process::id()));
    fs_err::write(&temporary, bytes).map_err(io_error(&temporary))?;
    fs_err::rename(&temporary, path).map_err(io_error(path))
}

#[cfg(unix)]
fn write_symlink(target: &Path, to: &[u8]) -> Result<(), ForgeError> {
    use std::os::unix::ffi::OsStrExt;
    let to = Path::new(std::ffi::OsStr::from_bytes(to));
    fs_err::os::unix::fs::symlink(to, target).map_err(io_error(target))
}

#[cfg(not(unix))]
fn write_symlink(target: &Path, to: &[u8]) -> Result<(), ForgeError> {
    // Without symbolic links, git writes the link's target as a plain file.
    write_atomically(target, to)
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// Gives the file git's mode: executable (`100755`) or not (`100644`).
#[cfg(unix)]
pub(super) fn set_executable(path: &Path, executable: bool) -> Result<(), ForgeError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io_error(path))
}

/// Without Unix permissions there is no mode to give.
#[cfg(not(unix))]
pub(super) fn set_executable(_path: &Path, _executable: bool) -> Result<(), ForgeError> {
    Ok(())
}

fn mtime(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn state_of(want: &TreeFile, meta: &std::fs::Metadata) -> FileState {
    FileState {
        mode: want.mode.clone(),
        sha: want.sha.clone(),
        size: meta.len(),
        mtime: mtime(meta),
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ForgeError + use<> {
    let path: PathBuf = path.to_path_buf();
    move |e| ForgeError::Io {
        path,
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(mode: &str, content: &[u8]) -> TreeFile {
        TreeFile {
            mode: mode.to_owned(),
            sha: blob_id(content),
        }
    }

    #[cfg(unix)]
    #[test]
    fn writes_never_go_through_a_symbolic_link() {
        let root = tempfile::tempdir().unwrap();
        let (dest, outside) = (root.path().join("dest"), root.path().join("outside"));
        fs_err::create_dir_all(&dest).unwrap();
        fs_err::create_dir_all(&outside).unwrap();
        fs_err::os::unix::fs::symlink(&outside, dest.join("recipe")).unwrap();
        prepare_parents(&dest, "recipe/meta.yaml").unwrap();
        let recipe = fs_err::symlink_metadata(dest.join("recipe")).unwrap();
        assert!(recipe.file_type().is_dir());
        write_atomically(&dest.join("recipe/meta.yaml"), b"x").unwrap();
        assert_eq!(fs_err::read_dir(&outside).unwrap().count(), 0);
    }

    #[test]
    fn files_the_tree_lacks_go_but_git_and_the_marker_stay() {
        let dest = tempfile::tempdir().unwrap();
        let dest = dest.path();
        for path in [
            "recipe/meta.yaml",
            "recipe/old.patch",
            "gone/deep/file",
            ".git/config",
            MARKER,
            "keep.txt",
        ] {
            let path = dest.join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(&path, "x").unwrap();
        }
        let keep = BTreeSet::from(["recipe/meta.yaml", "keep.txt"]);
        assert_eq!(remove_extras(dest, dest, &keep).unwrap(), 4);
        assert!(dest.join("recipe/meta.yaml").is_file());
        assert!(dest.join("keep.txt").is_file());
        assert!(!dest.join("recipe/old.patch").exists());
        assert!(!dest.join("gone").exists());
        assert!(dest.join(".git/config").is_file());
        assert!(dest.join(MARKER).is_file());
    }

    #[test]
    fn a_file_matches_when_its_content_and_mode_do() {
        let dest = tempfile::tempdir().unwrap();
        let path = dest.path().join("build.sh");
        write_atomically(&path, b"#!/bin/sh\n").unwrap();
        set_executable(&path, false).unwrap();
        let plain = want("100644", b"#!/bin/sh\n");
        let state = matching_state(&path, &plain, None).unwrap().unwrap();
        assert_eq!(state.sha, plain.sha);
        assert!(
            matching_state(&path, &want("100644", b"other\n"), None)
                .unwrap()
                .is_none()
        );
        if cfg!(unix) {
            assert!(
                matching_state(&path, &want("100755", b"#!/bin/sh\n"), None)
                    .unwrap()
                    .is_none()
            );
        }
        assert!(
            matching_state(&dest.path().join("missing"), &plain, None)
                .unwrap()
                .is_none()
        );
        // A recorded size and time are trusted without reading the file again.
        let recorded = FileState {
            sha: blob_id(b"recorded\n"),
            ..state
        };
        let claimed = want("100644", b"recorded\n");
        assert!(
            matching_state(&path, &claimed, Some(&recorded))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn a_file_is_replaced_even_when_read_only_and_a_directory_gives_way() {
        let dest = tempfile::tempdir().unwrap();
        let file = dest.path().join("LICENSE.txt");
        fs_err::write(&file, "old").unwrap();
        let mut permissions = fs_err::metadata(&file).unwrap().permissions();
        permissions.set_readonly(true);
        fs_err::set_permissions(&file, permissions).unwrap();
        write_atomically(&file, b"new").unwrap();
        assert_eq!(fs_err::read_to_string(&file).unwrap(), "new");
        let dir = dest.path().join("was-a-dir");
        fs_err::create_dir_all(dir.join("inner")).unwrap();
        clear(&dir, Keep::Nothing).unwrap();
        write_atomically(&dir, b"now a file").unwrap();
        assert!(dir.is_file());
    }
}
