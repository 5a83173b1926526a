//! The REST transport: no git binary, no git protocol — checkouts are downloaded
//! ([`download`](super::download)) and commits are made on the fork with the Git Data
//! API (a tree on top of the base tree, a commit, a branch), so an App's commits show as
//! verified and an API server that speaks no git (the emulator) still gets branches.
//!
//! This module also holds what the Git Data API calls share: the lean bodies cascade
//! reads, [`tree_listing`] and [`tree_files`], [`create_tree`], [`create_commit`] and
//! [`set_branch`].
//! [`replay`](super::replay) copies existing commits into the fork with them.

use std::collections::BTreeMap;
use std::path::Path;

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::api::{Api, Reply, encode_path};
use super::config::GitHubConfig;
use super::git::{branch_ref, check_paths, commit_message, parse_commit_id};
use super::replay;
use crate::forge::{CommitSpec, ForgeError};

/// Commits `commit` on top of `base` in the bot's fork through the Git Data API and
/// points `branch` at it (created, or force-moved). Returns the commit id.
///
/// When the fork lacks `base` (GitHub forks share their network's objects, so only a
/// server without fork networks gets here), it is copied from upstream first, with its
/// id verified.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock, branch = %branch, transport = "api"))]
pub(super) fn push(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    base: &str,
    branch: &str,
    commit: &CommitSpec,
) -> Result<String, ForgeError> {
    let name = super::repo_name(feedstock);
    let fork = RepoPath::new(&config.bot_user, &name);
    let upstream = RepoPath::new(&config.org, &name);
    let what = format!("the commit for `{fork}:{branch}`");
    branch_ref(branch)?;
    parse_commit_id(base, feedstock)?;
    check_paths(commit, &what)?;
    let base_commit = match get_commit(api, &fork, base)? {
        Some(found) => found,
        None => replay::from_upstream(api, &upstream, &fork, base)?,
    };
    let listing: BTreeMap<String, TreeEntry> = tree_listing(api, &fork, &base_commit.tree.sha)?
        .into_iter()
        .map(|entry| (entry.path.clone(), entry))
        .collect();
    let mut entries = Vec::new();
    for path in &commit.deletes {
        if let Some(entry) = listing.get(path) {
            entries
                .push(json!({"path": path, "mode": entry.mode, "type": entry.kind, "sha": null}));
        }
    }
    for (path, text) in &commit.writes {
        let existing = listing.get(path).filter(|e| e.kind == "blob");
        let mode = match existing {
            Some(entry) if entry.mode == "100755" => "100755",
            _ => "100644",
        };
        let unchanged =
            existing.is_some_and(|e| e.mode == mode && e.sha == blob_id(text.as_bytes()));
        if !unchanged {
            entries.push(json!({"path": path, "mode": mode, "type": "blob", "content": text}));
        }
    }
    let tree = create_tree(api, &fork, Some(&base_commit.tree.sha), &entries)?;
    let now = Identity::now(&commit.author_name, &commit.author_email);
    let new = NewCommit {
        message: commit_message(&commit.message),
        tree,
        parents: vec![base.to_owned()],
        author: now.clone(),
        committer: now,
    };
    let sha = create_commit(api, &fork, &new)?;
    set_branch(api, &fork, branch, &sha)?;
    Ok(sha)
}

/// Replays the local commit `sha` of the repository at `repo` (and every ancestor the
/// fork lacks) into the bot's fork with identical ids, then points `branch` at it.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock, branch = %branch))]
pub(super) fn mirror(
    api: &Api,
    config: &GitHubConfig,
    repo: &Path,
    feedstock: &str,
    sha: &str,
    branch: &str,
) -> Result<(), ForgeError> {
    let fork = RepoPath::new(&config.bot_user, &super::repo_name(feedstock));
    branch_ref(branch)?;
    let tip = parse_commit_id(sha, feedstock)?;
    replay::from_local(api, &fork, repo, tip)?;
    set_branch(api, &fork, branch, sha)
}

/// `owner/name` of a repository, as API paths use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RepoPath(String);

impl RepoPath {
    /// `owner/name`.
    pub(super) fn new(owner: &str, name: &str) -> RepoPath {
        RepoPath(format!("{owner}/{name}"))
    }

    /// `/repos/<owner>/<name><rest>`.
    pub(super) fn api(&self, rest: &str) -> String {
        format!("/repos/{}{rest}", self.0)
    }
}

impl std::fmt::Display for RepoPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `{"sha": …}` (a tree or parent reference).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct ShaRef {
    /// The object id.
    pub sha: String,
}

/// A commit as `GET git/commits/{sha}` returns it (the fields cascade reads).
#[derive(Debug, Clone, Deserialize)]
pub(super) struct GitCommit {
    /// The commit id.
    pub sha: String,
    /// Its tree.
    pub tree: ShaRef,
    /// Its parents.
    pub parents: Vec<ShaRef>,
    /// The message.
    pub message: String,
    /// Author.
    pub author: Identity,
    /// Committer.
    pub committer: Identity,
}

/// An author or committer as the Git Data API reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Identity {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// RFC 3339; the offset written is the offset stored in the commit object.
    pub date: String,
}

impl Identity {
    /// `name <email>`, now, in UTC.
    pub(super) fn now(name: &str, email: &str) -> Identity {
        Identity {
            name: name.to_owned(),
            email: email.to_owned(),
            date: jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        }
    }
}

/// A commit to create.
#[derive(Debug, Clone, Serialize)]
pub(super) struct NewCommit {
    /// The message (ending in a newline).
    pub message: String,
    /// The tree id.
    pub tree: String,
    /// Parent ids.
    pub parents: Vec<String>,
    /// Author.
    pub author: Identity,
    /// Committer.
    pub committer: Identity,
}

/// One entry of a tree listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct TreeEntry {
    /// Path from the repository root.
    pub path: String,
    /// `100644`, `100755`, `120000`, `040000` or `160000`.
    pub mode: String,
    /// `blob`, `tree` or `commit`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The object id.
    pub sha: String,
}

#[derive(Deserialize)]
struct TreeReply {
    sha: String,
    tree: Vec<TreeEntry>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct Created {
    sha: String,
}

/// An immutable object (a tree, a blob): never conditional, never cached, so the
/// store does not fill with every file of every feedstock.
pub(super) fn get_once(api: &Api, path: &str) -> Result<Reply, ForgeError> {
    api.get_immutable(path)
}

/// The commit `sha` of `repo`, or `None` when the repository does not have it.
pub(super) fn get_commit(
    api: &Api,
    repo: &RepoPath,
    sha: &str,
) -> Result<Option<GitCommit>, ForgeError> {
    let reply = api.get(&repo.api(&format!("/git/commits/{sha}")))?;
    match reply.status {
        404 | 422 => Ok(None),
        _ => reply.json().map(Some),
    }
}

/// One file (or submodule) of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TreeFile {
    /// `100644`, `100755`, `120000` or `160000`.
    pub mode: String,
    /// The blob or submodule commit id.
    pub sha: String,
}

/// Every file and submodule of the tree `tree` of `repo`, by full path (directories are
/// implied).
pub(super) fn tree_files(
    api: &Api,
    repo: &RepoPath,
    tree: &str,
) -> Result<BTreeMap<String, TreeFile>, ForgeError> {
    Ok(tree_listing(api, repo, tree)?
        .into_iter()
        .filter(|entry| entry.kind == "blob" || entry.kind == "commit")
        .map(|entry| {
            let file = TreeFile {
                mode: entry.mode,
                sha: entry.sha,
            };
            (entry.path, file)
        })
        .collect())
}

/// Every entry (blobs, trees, submodules) under the tree `tree` of `repo`, with full
/// paths. A listing GitHub truncates (over 100,000 entries or 7 MB) is read again one
/// directory at a time.
pub(super) fn tree_listing(
    api: &Api,
    repo: &RepoPath,
    tree: &str,
) -> Result<Vec<TreeEntry>, ForgeError> {
    let recursive = repo.api(&format!("/git/trees/{tree}?recursive=1"));
    let reply: TreeReply = get_once(api, &recursive)?.json()?;
    if !reply.truncated {
        return Ok(reply.tree);
    }
    tracing::debug!(%repo, tree, "the recursive listing was truncated; listing directory by directory");
    let mut entries = Vec::new();
    let mut pending = vec![(String::new(), reply.sha)];
    while let Some((prefix, sha)) = pending.pop() {
        let path = repo.api(&format!("/git/trees/{sha}"));
        let level: TreeReply = get_once(api, &path)?.json()?;
        for mut entry in level.tree {
            entry.path = format!("{prefix}{}", entry.path);
            if entry.kind == "tree" {
                pending.push((format!("{}/", entry.path), entry.sha.clone()));
            }
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

#[derive(Deserialize)]
struct Blob {
    content: String,
    #[serde(default)]
    encoding: String,
}

/// The bytes of the blob `sha` of `repo`, checked against the id.
pub(super) fn read_blob(api: &Api, repo: &RepoPath, sha: &str) -> Result<Vec<u8>, ForgeError> {
    use base64::Engine;
    let reply = get_once(api, &repo.api(&format!("/git/blobs/{sha}")))?;
    let blob: Blob = reply.json()?;
    let bad = |message: String| ForgeError::Api {
        context: reply.context.clone(),
        status: Some(reply.status),
        message,
    };
    let bytes = if blob.encoding == "base64" {
        let compact: String = blob.content.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| bad(format!("the blob is not valid base64: {e}")))?
    } else {
        blob.content.into_bytes()
    };
    if blob_id(&bytes) != sha {
        return Err(bad(format!("the content does not hash to {sha}")));
    }
    Ok(bytes)
}

/// `POST git/trees`: `entries` on top of `base` (or alone). Returns the tree id.
pub(super) fn create_tree(
    api: &Api,
    repo: &RepoPath,
    base: Option<&str>,
    entries: &[Value],
) -> Result<String, ForgeError> {
    let mut body = json!({ "tree": entries });
    if let Some(base) = base {
        body["base_tree"] = json!(base);
    }
    let reply = api.send(Method::POST, &repo.api("/git/trees"), Some(&body))?;
    Ok(reply.json::<Created>()?.sha)
}

/// `POST git/commits`. Returns the commit id.
pub(super) fn create_commit(
    api: &Api,
    repo: &RepoPath,
    commit: &NewCommit,
) -> Result<String, ForgeError> {
    let body = serde_json::to_value(commit).map_err(|e| ForgeError::Invalid {
        what: format!("a commit for `{repo}`"),
        reason: e.to_string(),
    })?;
    let reply = api.send(Method::POST, &repo.api("/git/commits"), Some(&body))?;
    Ok(reply.json::<Created>()?.sha)
}

/// `POST git/blobs` with base64 content (for bytes that are not UTF-8). Returns the id.
pub(super) fn create_blob(api: &Api, repo: &RepoPath, bytes: &[u8]) -> Result<String, ForgeError> {
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD.encode(bytes);
    let body = json!({"content": content, "encoding": "base64"});
    let reply = api.send(Method::POST, &repo.api("/git/blobs"), Some(&body))?;
    Ok(reply.json::<Created>()?.sha)
}

/// Points `refs/heads/<branch>` of `repo` at `sha`: created, or — when it exists —
/// force-moved.
pub(super) fn set_branch(
    api: &Api,
    repo: &RepoPath,
    branch: &str,
    sha: &str,
) -> Result<(), ForgeError> {
    let name = branch_ref(branch)?;
    let create = json!({"ref": name, "sha": sha});
    let reply = api.send(Method::POST, &repo.api("/git/refs"), Some(&create))?;
    let encoded = encode_path(branch);
    let result = if reply.status == 422
        && reply
            .message()
            .to_ascii_lowercase()
            .contains("already exists")
    {
        let update = json!({"sha": sha, "force": true});
        let path = repo.api(&format!("/git/refs/heads/{encoded}"));
        let reply = api.send(Method::PATCH, &path, Some(&update))?;
        reply.json::<Value>().map(drop)
    } else {
        reply.json::<Value>().map(drop)
    };
    api.invalidate(&repo.api(&format!("/git/ref/heads/{encoded}")))?;
    result
}

/// The git blob id of `bytes` (`sha1("blob <len>\0" + bytes)`), as hex.
pub(super) fn blob_id(bytes: &[u8]) -> String {
    git2::Oid::hash_object(git2::ObjectType::Blob, bytes)
        .map(|oid| oid.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_git_blob_ids() {
        // `printf 'version: 3.0\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"version: 3.0\n"),
            "a3ea086e467dee1ff96851c8fcc785535a581467"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
