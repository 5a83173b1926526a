//! Copying existing commits into the bot's fork through the Git Data API with their ids
//! unchanged: same trees, same parents, same author, committer, dates (offsets included)
//! and message. GitHub computes real object ids, so an exact copy has the exact id — and
//! each copy is checked, tree and commit, before the next builds on it.
//!
//! Two sources: a local repository ([`from_local`]: the git transport's work repository,
//! for [`Transport::GitMirroredToApi`](super::Transport)), and the upstream repository on
//! the same server ([`from_upstream`]: a base commit a fork without a shared object
//! network lacks). Only commits the fork does not have are sent, oldest first; a tree is
//! sent as the difference to its first parent's tree.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use git2::{Commit, ObjectType, Oid, Repository, Sort, TreeWalkMode, TreeWalkResult};
use serde_json::{Value, json};

use super::api::Api;
use super::gitdata::{
    GitCommit, Identity, NewCommit, RepoPath, TreeFile, create_blob, create_commit, create_tree,
    get_commit, read_blob, tree_files,
};
use crate::forge::ForgeError;

/// Every file of a tree, by full path (directories are implied).
type Flat = BTreeMap<String, TreeFile>;

/// Sends every commit reachable from `tip` in the repository at `path` that `fork` lacks.
pub(super) fn from_local(
    api: &Api,
    fork: &RepoPath,
    path: &Path,
    tip: Oid,
) -> Result<(), ForgeError> {
    let context = || format!("replay {tip} of `{}` into `{fork}`", path.display());
    let fail = |e: git2::Error| ForgeError::Git {
        context: context(),
        message: e.message().to_owned(),
    };
    let repo = Repository::open(path).map_err(fail)?;
    let mut walk = repo.revwalk().map_err(fail)?;
    walk.push(tip).map_err(fail)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(fail)?;
    let (mut stack, mut seen) = (vec![tip], HashSet::new());
    while let Some(oid) = stack.pop() {
        if !seen.insert(oid) {
            continue;
        }
        if get_commit(api, fork, &oid.to_string())?.is_some() {
            walk.hide(oid).map_err(fail)?;
        } else {
            stack.extend(repo.find_commit(oid).map_err(fail)?.parent_ids());
        }
    }
    let mut sent = 0usize;
    for oid in walk {
        let commit = oid.and_then(|oid| repo.find_commit(oid)).map_err(fail)?;
        send_local_commit(api, fork, &repo, &commit)?;
        sent += 1;
    }
    tracing::debug!(%fork, %tip, sent, "replayed local commits into the fork");
    Ok(())
}

/// Copies the upstream commit `sha` (and its ancestors `fork` lacks) into `fork`;
/// returns it as the fork now has it.
pub(super) fn from_upstream(
    api: &Api,
    upstream: &RepoPath,
    fork: &RepoPath,
    sha: &str,
) -> Result<GitCommit, ForgeError> {
    // Depth first; a commit is sent after all its parents.
    let mut commits: HashMap<String, GitCommit> = HashMap::new();
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(sha.to_owned(), false)];
    while let Some((current, parents_done)) = stack.pop() {
        if parents_done {
            order.push(current);
            continue;
        }
        if !seen.insert(current.clone()) || get_commit(api, fork, &current)?.is_some() {
            continue;
        }
        let commit = get_commit(api, upstream, &current)?.ok_or_else(|| ForgeError::Api {
            context: upstream.api(&format!("/git/commits/{current}")),
            status: Some(404),
            message: format!("neither `{fork}` nor `{upstream}` has commit {current}"),
        })?;
        stack.push((current.clone(), true));
        stack.extend(commit.parents.iter().map(|p| (p.sha.clone(), false)));
        commits.insert(current, commit);
    }
    for current in &order {
        if let Some(commit) = commits.get(current) {
            copy_upstream_commit(api, upstream, fork, commit, &commits)?;
        }
    }
    tracing::debug!(%fork, %upstream, sha, copied = order.len(), "copied upstream commits into the fork");
    match commits.remove(sha) {
        Some(commit) => Ok(commit),
        None => get_commit(api, fork, sha)?.ok_or_else(|| ForgeError::Api {
            context: fork.api(&format!("/git/commits/{sha}")),
            status: Some(404),
            message: "the commit is still missing after the copy".to_owned(),
        }),
    }
}

/// Sends one local commit whose parents the fork already has.
fn send_local_commit(
    api: &Api,
    fork: &RepoPath,
    repo: &Repository,
    commit: &Commit<'_>,
) -> Result<(), ForgeError> {
    let fail = |e: git2::Error| ForgeError::Git {
        context: format!("read commit {} in `{}`", commit.id(), repo.path().display()),
        message: e.message().to_owned(),
    };
    let tree = commit.tree().map_err(fail)?;
    let files = flatten(repo, &tree).map_err(fail)?;
    let parent = match commit.parent(0) {
        Ok(parent) => {
            let parent_tree = parent.tree().map_err(fail)?;
            let parent_files = flatten(repo, &parent_tree).map_err(fail)?;
            Some((parent_tree.id().to_string(), parent_files))
        }
        Err(_) => None,
    };
    let mut bytes = |sha: &str| -> Result<Vec<u8>, ForgeError> {
        let oid = Oid::from_str(sha).map_err(fail)?;
        Ok(repo.find_blob(oid).map_err(fail)?.content().to_vec())
    };
    let parent = parent.as_ref().map(|(sha, files)| (sha.as_str(), files));
    send_tree(
        api,
        fork,
        parent,
        &files,
        &tree.id().to_string(),
        &mut bytes,
    )?;
    let invalid = |what: &str| ForgeError::Invalid {
        what: format!("commit {} in `{}`", commit.id(), repo.path().display()),
        reason: format!("its {what} is not UTF-8; the Git Data API cannot reproduce it"),
    };
    let message = commit
        .message_raw()
        .ok()
        .ok_or_else(|| invalid("message"))?;
    let new = NewCommit {
        message: message.to_owned(),
        tree: tree.id().to_string(),
        parents: commit.parent_ids().map(|p| p.to_string()).collect(),
        author: identity(&commit.author()).ok_or_else(|| invalid("author"))?,
        committer: identity(&commit.committer()).ok_or_else(|| invalid("committer"))?,
    };
    let sent = create_commit(api, fork, &new)?;
    check_same(fork, "commit", &commit.id().to_string(), &sent)
}

/// Copies one upstream commit whose parents the fork already has.
fn copy_upstream_commit(
    api: &Api,
    upstream: &RepoPath,
    fork: &RepoPath,
    commit: &GitCommit,
    known: &HashMap<String, GitCommit>,
) -> Result<(), ForgeError> {
    let files = tree_files(api, upstream, &commit.tree.sha)?;
    let parent = match commit.parents.first() {
        Some(first) => {
            let parent = match known.get(&first.sha) {
                Some(parent) => parent.clone(),
                None => get_commit(api, fork, &first.sha)?.ok_or_else(|| ForgeError::Api {
                    context: fork.api(&format!("/git/commits/{}", first.sha)),
                    status: Some(404),
                    message: "a parent of a copied commit is missing".to_owned(),
                })?,
            };
            let parent_files = tree_files(api, upstream, &parent.tree.sha)?;
            Some((parent.tree.sha, parent_files))
        }
        None => None,
    };
    let mut bytes = |sha: &str| read_blob(api, upstream, sha);
    let parent = parent.as_ref().map(|(sha, files)| (sha.as_str(), files));
    send_tree(api, fork, parent, &files, &commit.tree.sha, &mut bytes)?;
    let new = NewCommit {
        message: commit.message.clone(),
        tree: commit.tree.sha.clone(),
        parents: commit.parents.iter().map(|p| p.sha.clone()).collect(),
        author: commit.author.clone(),
        committer: commit.committer.clone(),
    };
    let sent = create_commit(api, fork, &new)?;
    check_same(fork, "commit", &commit.sha, &sent)
}

/// Creates the tree `files` (id `expected`) in `fork`, as changes to the parent's tree
/// when there is one; when that comes out different (a server that treats a change
/// differently), once more in full.
fn send_tree(
    api: &Api,
    fork: &RepoPath,
    parent: Option<(&str, &Flat)>,
    files: &Flat,
    expected: &str,
    bytes: &mut dyn FnMut(&str) -> Result<Vec<u8>, ForgeError>,
) -> Result<(), ForgeError> {
    if let Some((parent_tree, parent_files)) = parent {
        let mut entries = Vec::new();
        for (path, item) in files {
            if parent_files.get(path) != Some(item) {
                entries.push(entry(api, fork, path, item, bytes)?);
            }
        }
        for (path, item) in parent_files {
            if !files.contains_key(path) {
                let kind = if item.mode == "160000" {
                    "commit"
                } else {
                    "blob"
                };
                entries.push(json!({"path": path, "mode": item.mode, "type": kind, "sha": null}));
            }
        }
        let sent = create_tree(api, fork, Some(parent_tree), &entries)?;
        if sent == expected {
            return Ok(());
        }
        tracing::debug!(%fork, expected, sent, "a tree sent as changes came out different; sending it in full");
    }
    let mut entries = Vec::new();
    for (path, item) in files {
        entries.push(entry(api, fork, path, item, bytes)?);
    }
    let sent = create_tree(api, fork, None, &entries)?;
    check_same(fork, "tree", expected, &sent)
}

/// One tree entry to send: text inline, other bytes uploaded as a blob first.
fn entry(
    api: &Api,
    fork: &RepoPath,
    path: &str,
    item: &TreeFile,
    bytes: &mut dyn FnMut(&str) -> Result<Vec<u8>, ForgeError>,
) -> Result<Value, ForgeError> {
    if item.mode == "160000" {
        return Ok(json!({"path": path, "mode": item.mode, "type": "commit", "sha": item.sha}));
    }
    let content = bytes(&item.sha)?;
    match String::from_utf8(content) {
        Ok(text) => Ok(json!({"path": path, "mode": item.mode, "type": "blob", "content": text})),
        Err(binary) => {
            let sent = create_blob(api, fork, binary.as_bytes())?;
            check_same(fork, "blob", &item.sha, &sent)?;
            Ok(json!({"path": path, "mode": item.mode, "type": "blob", "sha": item.sha}))
        }
    }
}

/// The files of a local tree.
fn flatten(repo: &Repository, tree: &git2::Tree<'_>) -> Result<Flat, git2::Error> {
    let mut files = Flat::new();
    let mut bad_name = false;
    tree.walk(TreeWalkMode::PreOrder, |root, entry| {
        let Ok(name) = entry.name() else {
            bad_name = true;
            return TreeWalkResult::Abort;
        };
        if matches!(entry.kind(), Some(ObjectType::Blob | ObjectType::Commit)) {
            let item = TreeFile {
                mode: format!("{:06o}", entry.filemode()),
                sha: entry.id().to_string(),
            };
            files.insert(format!("{root}{name}"), item);
        }
        TreeWalkResult::Ok
    })?;
    if bad_name {
        return Err(git2::Error::from_str(&format!(
            "a path in tree {} of `{}` is not UTF-8",
            tree.id(),
            repo.path().display()
        )));
    }
    Ok(files)
}

/// A signature as the Git Data API takes it, keeping the commit's own UTC offset (the
/// server writes that offset into the commit object). `None` when it is not UTF-8.
fn identity(signature: &git2::Signature<'_>) -> Option<Identity> {
    let time = signature.when();
    let minutes = time.offset_minutes();
    let offset = jiff::tz::Offset::from_seconds(minutes.checked_mul(60)?).ok()?;
    let at = jiff::Timestamp::from_second(time.seconds()).ok()?;
    let local = offset.to_datetime(at);
    let sign = if minutes < 0 { '-' } else { '+' };
    let (hours, minutes) = (minutes.abs() / 60, minutes.abs() % 60);
    Some(Identity {
        name: signature.name().ok()?.to_owned(),
        email: signature.email().ok()?.to_owned(),
        date: format!(
            "{}{sign}{hours:02}:{minutes:02}",
            local.strftime("%Y-%m-%dT%H:%M:%S")
        ),
    })
}

/// Fails when the server made `sent` where the copy should have made `expected`.
fn check_same(fork: &RepoPath, what: &str, expected: &str, sent: &str) -> Result<(), ForgeError> {
    if expected == sent {
        return Ok(());
    }
    Err(ForgeError::Api {
        context: fork.api(&format!("/git/{what}s")),
        status: None,
        message: format!(
            "copying {what} {expected} produced {sent}: the copy is not exact (signed \
             commits, and dates whose offset the server does not keep, cannot be copied)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_keep_the_commit_offset() {
        let when = git2::Time::new(1_700_000_000, -330);
        let signature = git2::Signature::new("Jane", "jane@example.org", &when).unwrap();
        let identity = identity(&signature).unwrap();
        assert_eq!(identity.date, "2023-11-14T16:43:20-05:30");
        let utc = git2::Signature::new("Jane", "j@e", &git2::Time::new(0, 0)).unwrap();
        assert_eq!(identity_date(&utc), "1970-01-01T00:00:00+00:00");
    }

    fn identity_date(signature: &git2::Signature<'_>) -> String {
        identity(signature).unwrap().date
    }
}
