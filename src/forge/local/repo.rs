//! The git side of the local forge, all through git2 (libgit2): bare repositories,
//! commits built in memory from a base tree plus writes and deletes, local fetches between
//! the upstream repositories and the bot's forks, checkouts, and merges.
//!
//! Nothing here knows about PR rows; `LocalForge` decides what to do and this module does
//! the git work, with every error naming the repository it happened in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::build::{CheckoutBuilder, TreeUpdateBuilder};
use git2::{
    Commit, ErrorCode, FetchOptions, FileMode, Oid, Reference, Repository, RepositoryInitOptions,
    Signature, Tree,
};

use crate::forge::{CommitSpec, ForgeError, Mergeable};

/// Result of git work, with the context that names the repository.
pub(crate) trait GitContext<T> {
    /// Wraps a libgit2 error with what was being done.
    fn git(self, context: impl FnOnce() -> String) -> Result<T, ForgeError>;
}

impl<T> GitContext<T> for Result<T, git2::Error> {
    fn git(self, context: impl FnOnce() -> String) -> Result<T, ForgeError> {
        self.map_err(|err| ForgeError::Git {
            context: context(),
            message: err.message().to_string(),
        })
    }
}

/// `refs/heads/<branch>`, after checking git would accept the name.
pub(crate) fn branch_ref(branch: &str) -> Result<String, ForgeError> {
    let name = format!("refs/heads/{branch}");
    if branch.is_empty() || !Reference::is_valid_name(&name) {
        return Err(ForgeError::Invalid {
            what: format!("branch name `{branch}`"),
            reason: "not a valid git branch name".to_string(),
        });
    }
    Ok(name)
}

/// Opens a bare repository of the forge.
pub(crate) fn open(path: &Path) -> Result<Repository, ForgeError> {
    Repository::open_bare(path).git(|| format!("open `{}`", path.display()))
}

/// Creates an empty bare repository whose `HEAD` names `default_branch` (or re-initializes
/// an existing one, which keeps its contents).
pub(crate) fn init_bare(path: &Path, default_branch: &str) -> Result<Repository, ForgeError> {
    init(path, default_branch, Bare::Yes)
}

/// Whether a repository has a working tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bare {
    Yes,
    No,
}

/// `git init` without the system's template directory: its hook samples are a dozen
/// files per repository that nobody runs (libgit2 runs no hooks).
fn init(path: &Path, head: &str, bare: Bare) -> Result<Repository, ForgeError> {
    let mut options = RepositoryInitOptions::new();
    options
        .bare(bare == Bare::Yes)
        .mkpath(true)
        .external_template(false)
        .initial_head(head);
    Repository::init_opts(path, &options).git(|| format!("create `{}`", path.display()))
}

/// The commit a branch points at, or `None` when the branch does not exist.
pub(crate) fn branch_tip(repo: &Repository, branch: &str) -> Result<Option<Oid>, ForgeError> {
    let name = branch_ref(branch)?;
    match repo.refname_to_id(&name) {
        Ok(oid) => Ok(Some(oid)),
        Err(err) if err.code() == ErrorCode::NotFound => Ok(None),
        Err(err) => Err(err).git(|| format!("read `{name}` in `{}`", repo.path().display())),
    }
}

/// Runs a git operation that writes references, again while another writer (a thread or
/// a process) holds the lock file of a reference it needs: libgit2 fails at once with
/// `Locked` instead of waiting. Gives up after about two seconds.
fn retry_locked<T>(
    mut operation: impl FnMut() -> Result<T, git2::Error>,
) -> Result<T, git2::Error> {
    let mut attempt = 0u64;
    loop {
        match operation() {
            Err(err) if is_lock_contention(&err) && attempt < 200 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(1 + attempt % 20));
            }
            result => return result,
        }
    }
}

/// A reference's lock file is held by another writer. libgit2 reports that as `Locked`
/// from reference writes but as a generic error from a fetch's ref updates, hence the
/// message test.
fn is_lock_contention(err: &git2::Error) -> bool {
    err.code() == ErrorCode::Locked
        || err.message().contains("failed to lock file")
        || err.message().contains("failed to create locked file")
}

/// Points `refname` at `oid` unconditionally.
pub(crate) fn set_ref(
    repo: &Repository,
    refname: &str,
    oid: Oid,
    message: &str,
) -> Result<(), ForgeError> {
    retry_locked(|| repo.reference(refname, oid, true, message))
        .git(|| format!("set `{refname}` in `{}`", repo.path().display()))?;
    Ok(())
}

/// Moves `refname` from `old` to `new`, failing when someone moved it in between (a
/// compare-and-swap, so concurrent maintainers never lose each other's commits).
pub(crate) fn move_ref(
    repo: &Repository,
    refname: &str,
    old: Oid,
    new: Oid,
    message: &str,
) -> Result<(), ForgeError> {
    retry_locked(|| repo.reference_matching(refname, new, true, old, message))
        .git(|| format!("move `{refname}` in `{}`", repo.path().display()))?;
    Ok(())
}

/// Copies `refspec` (`+refs/heads/x:refs/...`) from the repository at `from` into `repo`.
pub(crate) fn fetch(repo: &Repository, from: &Path, refspec: &str) -> Result<(), ForgeError> {
    let context = || {
        format!(
            "fetch `{refspec}` from `{}` into `{}`",
            from.display(),
            repo.path().display()
        )
    };
    let url = from.to_str().ok_or_else(|| ForgeError::Invalid {
        what: format!("repository path `{}`", from.display()),
        reason: "not valid UTF-8".to_string(),
    })?;
    let mut remote = repo.remote_anonymous(url).git(context)?;
    retry_locked(|| {
        // FETCH_HEAD is one file per repository: concurrent fetches would contend for it.
        let mut options = FetchOptions::new();
        options.update_fetchhead(false);
        remote.fetch(&[refspec], Some(&mut options), None)
    })
    .git(context)
}

/// Makes sure `oid` exists in `repo`, fetching `branch` of `from` when it does not.
pub(crate) fn ensure_commit(
    repo: &Repository,
    oid: Oid,
    from: &Path,
    branch: &str,
) -> Result<(), ForgeError> {
    if repo.find_commit(oid).is_ok() {
        return Ok(());
    }
    let name = branch_ref(branch)?;
    fetch(repo, from, &format!("+{name}:{name}"))?;
    repo.find_commit(oid).map(drop).git(|| {
        format!(
            "find commit {oid} (not on `{branch}` of `{}`)",
            from.display()
        )
    })
}

/// Opens the fork at `fork`, creating it first when missing: a bare repository holding
/// the upstream default branch. Creating it twice at once (two processes making their
/// first push to one feedstock) is harmless: initialization and the fetch are both
/// idempotent.
pub(crate) fn ensure_fork(
    upstream: &Path,
    fork: &Path,
    default_branch: &str,
) -> Result<Repository, ForgeError> {
    if fork.exists() {
        return open(fork);
    }
    let repo = init_bare(fork, default_branch)?;
    let name = branch_ref(default_branch)?;
    fetch(&repo, upstream, &format!("+{name}:{name}"))?;
    Ok(repo)
}

/// The signature of an author, `now`.
pub(crate) fn signature(name: &str, email: &str) -> Result<Signature<'static>, ForgeError> {
    Signature::now(name, email).map_err(|err| ForgeError::Invalid {
        what: format!("author `{name} <{email}>`"),
        reason: err.message().to_string(),
    })
}

/// Builds the tree of `base` with `change`'s writes and deletes applied, in memory: the
/// blobs go to the object database, no working directory is involved. A written file
/// keeps its mode (an executable script stays executable); a new one is `100644`.
/// Deleting a path that does not exist is not an error.
pub(crate) fn changed_tree(
    repo: &Repository,
    base: &Tree<'_>,
    change: &CommitSpec,
    what: &str,
) -> Result<Oid, ForgeError> {
    let mut update = TreeUpdateBuilder::new();
    for path in change.deletes.iter() {
        check_path(path, what)?;
        if base.get_path(Path::new(path)).is_ok() {
            update.remove(path.as_str());
        }
    }
    for (path, text) in &change.writes {
        check_path(path, what)?;
        let mode = match base.get_path(Path::new(path)) {
            Ok(entry) if entry.filemode() == i32::from(FileMode::BlobExecutable) => {
                FileMode::BlobExecutable
            }
            _ => FileMode::Blob,
        };
        let blob = repo
            .blob(text.as_bytes())
            .git(|| format!("write `{path}` for {what}"))?;
        update.upsert(path.as_str(), blob, mode);
    }
    update
        .create_updated(repo, base)
        .git(|| format!("build the tree for {what}"))
}

/// Refuses paths that would leave the repository or touch `.git`.
fn check_path(path: &str, what: &str) -> Result<(), ForgeError> {
    let bad = |reason: &str| ForgeError::Invalid {
        what: format!("path `{path}` in {what}"),
        reason: reason.to_string(),
    };
    if path.is_empty() {
        return Err(bad("empty"));
    }
    if path.starts_with('/') {
        return Err(bad("absolute; paths are relative to the repository root"));
    }
    if path.contains('\0') {
        return Err(bad("contains a NUL byte"));
    }
    for component in path.split('/') {
        match component {
            "" => return Err(bad("has an empty component")),
            "." | ".." => return Err(bad("has a `.` or `..` component")),
            c if c.eq_ignore_ascii_case(".git") => return Err(bad("writes inside `.git`")),
            _ => {}
        }
    }
    Ok(())
}

/// Runs `write` with the repository's new objects kept in memory, then stores the ones it
/// asks to keep as one pack file: an import writes hundreds of blobs, and one pack costs
/// a handful of file operations where loose objects cost a directory and a file each.
/// When `write` returns `(value, false)` nothing reaches the disk.
pub(crate) fn in_one_pack<T, E: From<ForgeError>>(
    repo: &Repository,
    write: impl FnOnce() -> Result<(T, bool), E>,
) -> Result<T, E> {
    let context = || format!("write a pack in `{}`", repo.path().display());
    let odb = repo.odb().git(context)?;
    let mempack = odb.add_new_mempack_backend(1000).git(context)?;
    let (value, keep) = write()?;
    if keep {
        let mut pack = git2::Buf::new();
        mempack.dump(repo, &mut pack).git(context)?;
        let mut writer = odb.packwriter().git(context)?;
        std::io::Write::write_all(&mut writer, &pack).map_err(|err| ForgeError::Git {
            context: context(),
            message: err.to_string(),
        })?;
        writer.commit().git(context)?;
    }
    mempack.reset().git(context)?;
    Ok(value)
}

/// Commits `tree` with `parents`, without moving any reference.
pub(crate) fn commit(
    repo: &Repository,
    author: &Signature<'_>,
    committer: &Signature<'_>,
    message: &str,
    tree: Oid,
    parents: &[&Commit<'_>],
) -> Result<Oid, ForgeError> {
    let context = || format!("commit in `{}`", repo.path().display());
    let tree = repo.find_tree(tree).git(context)?;
    repo.commit(None, author, committer, message, &tree, parents)
        .git(context)
}

/// Writes the files under `dir` (recursively, `.git` excluded) as a tree. Returns `None`
/// for a directory with no files at all (git has no empty trees in commits).
pub(crate) fn tree_from_dir(repo: &Repository, dir: &Path) -> Result<Option<Oid>, ForgeError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |err: std::io::Error| ForgeError::Io {
            path,
            message: err.to_string(),
        }
    };
    let mut entries: BTreeMap<String, (PathBuf, std::fs::FileType)> = BTreeMap::new();
    for entry in fs_err::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(ForgeError::Invalid {
                what: format!("file name `{}`", path.display()),
                reason: "not valid UTF-8".to_string(),
            });
        };
        if name == ".git" {
            continue;
        }
        let kind = entry.file_type().map_err(io(&path))?;
        entries.insert(name, (path, kind));
    }
    let mut builder = repo
        .treebuilder(None)
        .git(|| format!("build the tree of `{}`", dir.display()))?;
    let mut any = false;
    for (name, (path, kind)) in entries {
        let (oid, mode) = if kind.is_dir() {
            match tree_from_dir(repo, &path)? {
                Some(oid) => (oid, FileMode::Tree),
                None => continue,
            }
        } else if kind.is_symlink() {
            let target = fs_err::read_link(&path).map_err(io(&path))?;
            let target = target.as_os_str().as_encoded_bytes().to_vec();
            let oid = repo
                .blob(&target)
                .git(|| format!("store `{}`", path.display()))?;
            (oid, FileMode::Link)
        } else {
            let bytes = fs_err::read(&path).map_err(io(&path))?;
            let oid = repo
                .blob(&bytes)
                .git(|| format!("store `{}`", path.display()))?;
            let metadata = fs_err::metadata(&path).map_err(io(&path))?;
            (oid, file_mode(&metadata))
        };
        builder
            .insert(&name, oid, i32::from(mode))
            .git(|| format!("add `{}` to its tree", path.display()))?;
        any = true;
    }
    if !any {
        return Ok(None);
    }
    builder
        .write()
        .map(Some)
        .git(|| format!("write the tree of `{}`", dir.display()))
}

#[cfg(unix)]
fn file_mode(metadata: &std::fs::Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o111 != 0 {
        FileMode::BlobExecutable
    } else {
        FileMode::Blob
    }
}

#[cfg(not(unix))]
fn file_mode(_metadata: &std::fs::Metadata) -> FileMode {
    FileMode::Blob
}

/// Makes `dest` a checkout of `branch` of the repository at `upstream`. A missing or
/// empty `dest` becomes a new repository with `upstream` as `origin`; an existing checkout
/// gets `origin` pointed at `upstream`. Then: fetch into `refs/remotes/origin/<branch>`,
/// point the local `<branch>` and `HEAD` at it, and check it out by force, removing
/// untracked and ignored files, so the tree holds exactly the upstream files (plus
/// `.git`). Returns the commit checked out.
pub(crate) fn sync_checkout(upstream: &Path, branch: &str, dest: &Path) -> Result<Oid, ForgeError> {
    let local = branch_ref(branch)?;
    let is_empty_dir = match fs_err::read_dir(dest) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !dest.exists(),
    };
    let url = upstream.to_str().ok_or_else(|| ForgeError::Invalid {
        what: format!("repository path `{}`", upstream.display()),
        reason: "not valid UTF-8".to_string(),
    })?;
    let context = || {
        format!(
            "check out `{branch}` of `{}` into `{}`",
            upstream.display(),
            dest.display()
        )
    };
    let repo = if is_empty_dir {
        init(dest, branch, Bare::No)?
    } else {
        match Repository::open(dest) {
            Ok(repo) if !repo.is_bare() => repo,
            _ => {
                return Err(ForgeError::Io {
                    path: dest.to_path_buf(),
                    message: "exists and is not a git checkout; remove it or choose another \
                              directory"
                        .to_string(),
                });
            }
        }
    };
    match repo.find_remote("origin") {
        Ok(remote) if remote.url().ok() == Some(url) => {}
        Ok(_) => repo.remote_set_url("origin", url).git(context)?,
        Err(_) => drop(repo.remote("origin", url).git(context)?),
    }
    let tracking = format!("refs/remotes/origin/{branch}");
    {
        let mut remote = repo.find_remote("origin").git(context)?;
        let mut options = FetchOptions::new();
        options.update_fetchhead(false);
        remote
            .fetch(&[format!("+{local}:{tracking}")], Some(&mut options), None)
            .git(context)?;
    }
    let oid = repo.refname_to_id(&tracking).git(context)?;
    // A raw reference write, because libgit2 refuses to force-create the branch HEAD is on.
    repo.reference(&local, oid, true, "cascade: sync with upstream")
        .git(context)?;
    repo.set_head(&local).git(context)?;
    let mut checkout = CheckoutBuilder::new();
    checkout.force().remove_untracked(true).remove_ignored(true);
    repo.checkout_head(Some(&mut checkout)).git(context)?;
    Ok(oid)
}

/// Whether `head` merges into `base` without conflicts.
pub(crate) fn mergeability(
    repo: &Repository,
    base: Oid,
    head: Oid,
) -> Result<Mergeable, ForgeError> {
    let context = || {
        format!(
            "test-merge {head} into {base} in `{}`",
            repo.path().display()
        )
    };
    if base == head || repo.graph_descendant_of(head, base).git(context)? {
        return Ok(Mergeable::Clean);
    }
    let base_commit = repo.find_commit(base).git(context)?;
    let head_commit = repo.find_commit(head).git(context)?;
    match repo.merge_commits(&base_commit, &head_commit, None) {
        Ok(index) if index.has_conflicts() => Ok(Mergeable::Dirty),
        Ok(_) => Ok(Mergeable::Clean),
        // Unrelated histories have no merge base: GitHub refuses those as well.
        Err(err) if err.code() == ErrorCode::NotFound => Ok(Mergeable::Dirty),
        Err(err) => Err(err).git(context),
    }
}

/// How [`merge`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergeOutcome {
    /// The base branch was moved to the head.
    FastForward(Oid),
    /// A merge commit was made on the base branch.
    MergeCommit(Oid),
    /// The head was already part of the base branch; nothing moved.
    AlreadyMerged(Oid),
    /// The head conflicts with the base branch; nothing moved.
    Conflict,
}

/// Merges `head` into the branch `refname` (currently at `base`): fast-forward when
/// possible, else a merge commit from `merge_trees`, else [`MergeOutcome::Conflict`].
pub(crate) fn merge(
    repo: &Repository,
    refname: &str,
    base: Oid,
    head: Oid,
    committer: &Signature<'_>,
    message: &str,
) -> Result<MergeOutcome, ForgeError> {
    let context = || {
        format!(
            "merge {head} into `{refname}` of `{}`",
            repo.path().display()
        )
    };
    if base == head || repo.graph_descendant_of(base, head).git(context)? {
        return Ok(MergeOutcome::AlreadyMerged(base));
    }
    if repo.graph_descendant_of(head, base).git(context)? {
        move_ref(repo, refname, base, head, message)?;
        return Ok(MergeOutcome::FastForward(head));
    }
    let base_commit = repo.find_commit(base).git(context)?;
    let head_commit = repo.find_commit(head).git(context)?;
    let ancestor = match repo.merge_base(base, head) {
        Ok(oid) => oid,
        Err(err) if err.code() == ErrorCode::NotFound => return Ok(MergeOutcome::Conflict),
        Err(err) => return Err(err).git(context),
    };
    let ancestor_tree = repo
        .find_commit(ancestor)
        .and_then(|commit| commit.tree())
        .git(context)?;
    let base_tree = base_commit.tree().git(context)?;
    let head_tree = head_commit.tree().git(context)?;
    let mut index = repo
        .merge_trees(&ancestor_tree, &base_tree, &head_tree, None)
        .git(context)?;
    if index.has_conflicts() {
        return Ok(MergeOutcome::Conflict);
    }
    let tree = index.write_tree_to(repo).git(context)?;
    let oid = commit(
        repo,
        committer,
        committer,
        message,
        tree,
        &[&base_commit, &head_commit],
    )?;
    move_ref(repo, refname, base, oid, message)?;
    Ok(MergeOutcome::MergeCommit(oid))
}

/// Deletes `refs/heads/<branch>` of the repository at `path`; a missing repository or
/// branch is not an error.
pub(crate) fn delete_branch(path: &Path, branch: &str) -> Result<(), ForgeError> {
    let name = branch_ref(branch)?;
    if !path.exists() {
        return Ok(());
    }
    let repo = open(path)?;
    match repo.find_reference(&name) {
        Ok(mut reference) => retry_locked(|| reference.delete())
            .git(|| format!("delete `{name}` in `{}`", path.display())),
        Err(err) if err.code() == ErrorCode::NotFound => Ok(()),
        Err(err) => Err(err).git(|| format!("read `{name}` in `{}`", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_leaving_the_repository_are_refused() {
        for path in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            ".git/config",
            "a/.GIT/x",
        ] {
            assert!(check_path(path, "a test").is_err(), "{path:?} was accepted");
        }
        for path in ["recipe/meta.yaml", ".ci_support/linux_64_.yaml", "a.b/c..d"] {
            assert!(check_path(path, "a test").is_ok(), "{path:?} was refused");
        }
    }

    #[test]
    fn invalid_branch_names_are_refused() {
        for branch in ["", "a..b", "a b", "x~1", "a/", "a.lock"] {
            assert!(branch_ref(branch).is_err(), "{branch:?} was accepted");
        }
        assert_eq!(
            branch_ref("rebuild_h1a2b3c").unwrap(),
            "refs/heads/rebuild_h1a2b3c"
        );
    }
}
