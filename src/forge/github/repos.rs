//! Listing the org's `*-feedstock` repositories, and crawling them into a directory of
//! checkouts laid out as `graph::build` reads them: `<dir>/<name>-feedstock/` holding
//! `recipe/`, `conda-forge.yml` and `.ci_support/` — nothing else is fetched.
//!
//! What a crawl costs: the list pages, then one conditional request per feedstock for
//! the head of its default branch (a 304 when nothing was pushed, free of quota). Only a
//! feedstock whose head moved costs more: its tree (one request) and the blobs whose git
//! SHA differs from the file already on disk. The head each checkout holds is kept in
//! `<dir>/.crawl-state.json`, outside every checkout (the graph build ignores it).
//!
//! One broken feedstock never stops the crawl: its error is collected in the summary and
//! its old files stay. A spent rate limit stops the crawl cleanly (what was fetched is
//! kept and recorded; the next crawl resumes), and refused credentials end it with
//! [`ForgeError::Auth`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::api::{Api, encode, encode_path};
use super::config::GitHubConfig;
use super::download::set_executable;
use super::git::check_path;
use super::gitdata::{RepoPath, blob_id, read_blob, tree_listing};
use super::repo_name;
use crate::forge::{FeedstockRepo, ForgeError};

/// The file in the crawl directory recording the head commit each checkout holds.
pub(super) const STATE_FILE: &str = ".crawl-state.json";

/// Feedstocks fetched at once. GitHub tolerates parallel reads (it is concurrent
/// *creates* that trip secondary limits); the crawl is bound by round trips, not CPU.
const CONCURRENCY: usize = 8;

/// The state file is rewritten after this many updated feedstocks, so a killed first
/// crawl of a large org does not fetch every tree again.
const SAVE_EVERY: usize = 200;

/// What a crawl did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    /// Feedstocks listed (archived ones included).
    pub listed: usize,
    /// The feedstocks listed, as listed (for the caller to mark archived ones; not in
    /// the JSON summary).
    #[serde(skip)]
    pub repos: Vec<FeedstockRepo>,
    /// Feedstocks whose checkout already held the head of the default branch.
    pub unchanged: usize,
    /// Feedstocks fetched (new or changed), sorted.
    pub updated: Vec<String>,
    /// Checkouts deleted because their feedstock is no longer listed, sorted.
    pub removed: Vec<String>,
    /// Listed feedstocks that are archived (crawled like the others), sorted.
    pub archived: Vec<String>,
    /// Feedstocks that failed, with the error (their previous files, if any, stay).
    pub errors: Vec<(String, String)>,
    /// Feedstocks not visited because the crawl stopped.
    pub skipped: usize,
    /// Why the crawl stopped early (a spent rate limit); the next crawl resumes.
    pub stopped: Option<String>,
    /// Files downloaded and written.
    pub files_written: usize,
    /// Files deleted because they vanished upstream.
    pub files_deleted: usize,
    /// HTTP requests the crawl made (list pages included).
    pub requests: u64,
    /// Of those, answered 304 Not Modified (free of quota).
    pub not_modified: u64,
}

/// A repository as the list endpoints return it (only what the crawl reads).
#[derive(Debug, Deserialize)]
struct RepoWire {
    name: String,
    default_branch: Option<String>,
    #[serde(default)]
    archived: bool,
}

/// Every `*-feedstock` repository of `config.org`, sorted by name. The org route
/// answers 404 for a user account (and on the test emulator), so the user route is
/// tried then.
pub(super) fn list_feedstocks(
    api: &Api,
    config: &GitHubConfig,
) -> Result<Vec<FeedstockRepo>, ForgeError> {
    let owner = encode(&config.org);
    let org_route = format!("/orgs/{owner}/repos?per_page=100&type=all");
    let repos: Vec<RepoWire> = match api.get_all(&org_route) {
        Err(ForgeError::Api {
            status: Some(404), ..
        }) => api.get_all(&format!("/users/{owner}/repos?per_page=100"))?,
        listed => listed?,
    };
    let mut feedstocks: Vec<FeedstockRepo> = repos
        .into_iter()
        .filter_map(|repo| {
            let name = repo.name.strip_suffix("-feedstock")?;
            (!name.is_empty()).then(|| FeedstockRepo {
                name: name.to_owned(),
                default_branch: repo.default_branch.unwrap_or_else(|| "main".to_owned()),
                archived: repo.archived,
            })
        })
        .collect();
    feedstocks.sort_by(|a, b| a.name.cmp(&b.name));
    feedstocks.dedup_by(|a, b| a.name == b.name);
    Ok(feedstocks)
}

/// Crawls every feedstock of the org into `dir` (see the module docs), calling
/// `progress(done, total)` as feedstocks are settled, from several threads.
pub(super) fn crawl(
    api: &Api,
    config: &GitHubConfig,
    dir: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CrawlSummary, ForgeError> {
    let before = api.stats();
    let repos = list_feedstocks(api, config)?;
    fs_err::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let mut state = CrawlState::load(dir);
    let listed: BTreeSet<&str> = repos.iter().map(|r| r.name.as_str()).collect();
    state.heads.retain(|name, _| listed.contains(name.as_str()));
    let mut summary = CrawlSummary {
        listed: repos.len(),
        archived: repos
            .iter()
            .filter(|r| r.archived)
            .map(|r| r.name.clone())
            .collect(),
        removed: remove_unlisted(dir, &listed)?,
        ..CrawlSummary::default()
    };
    let crawl = Crawl {
        api,
        org: &config.org,
        dir,
        repos: &repos,
        state: Mutex::new(state),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        updates: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        outcomes: Mutex::new(Vec::with_capacity(repos.len())),
        progress,
    };
    std::thread::scope(|scope| {
        for _ in 0..CONCURRENCY.min(repos.len()) {
            scope.spawn(|| crawl.work());
        }
    });
    let Crawl {
        state, outcomes, ..
    } = crawl;
    let state = state.into_inner().unwrap_or_else(|e| e.into_inner());
    state.save(dir)?;
    summary.repos = repos.clone();
    let mut outcomes = outcomes.into_inner().unwrap_or_else(|e| e.into_inner());
    outcomes.sort_by_key(|(index, _)| *index);
    let mut auth = None;
    for (index, outcome) in outcomes {
        let name = repos.get(index).map(|r| r.name.clone()).unwrap_or_default();
        match outcome {
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Updated { written, deleted } => {
                summary.updated.push(name);
                summary.files_written += written;
                summary.files_deleted += deleted;
            }
            Outcome::Failed(error @ ForgeError::Auth(_)) => auth = Some(error),
            Outcome::Failed(error) if error.stops_run() => {
                summary.stopped = Some(error.to_string());
                summary.skipped += 1;
            }
            Outcome::Failed(error) => summary.errors.push((name, error.to_string())),
        }
    }
    if let Some(error) = auth {
        return Err(error);
    }
    summary.skipped += repos.len().saturating_sub(crawl_visited(&summary));
    let after = api.stats();
    summary.requests = after.requests - before.requests;
    summary.not_modified = after.not_modified - before.not_modified;
    tracing::info!(?summary, "crawl finished");
    Ok(summary)
}

/// Feedstocks the summary accounts for (the rest were never visited).
fn crawl_visited(summary: &CrawlSummary) -> usize {
    summary.unchanged + summary.updated.len() + summary.errors.len() + summary.skipped
}

/// Deletes the `<name>-feedstock` directories of `dir` whose feedstock is not listed.
fn remove_unlisted(dir: &Path, listed: &BTreeSet<&str>) -> Result<Vec<String>, ForgeError> {
    let mut removed = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(|e| io_error(dir, &e))? {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
        let file_name = entry.file_name();
        let Some(name) = file_name
            .to_str()
            .and_then(|n| n.strip_suffix("-feedstock"))
        else {
            continue;
        };
        let path = entry.path();
        let is_dir = fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        if is_dir && !listed.contains(name) {
            fs_err::remove_dir_all(&path).map_err(|e| io_error(&path, &e))?;
            removed.push(name.to_owned());
        }
    }
    removed.sort();
    Ok(removed)
}

/// The heads the checkouts of a crawl directory hold.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CrawlState {
    /// Feedstock name → the commit its checkout was last fully written from.
    heads: BTreeMap<String, String>,
}

impl CrawlState {
    /// The recorded state; missing or unreadable means nothing is known (every
    /// feedstock's tree is fetched again, but files already right are not).
    fn load(dir: &Path) -> CrawlState {
        let path = dir.join(STATE_FILE);
        let Ok(text) = fs_err::read_to_string(&path) else {
            return CrawlState::default();
        };
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "unreadable crawl state, starting afresh");
            CrawlState::default()
        })
    }

    /// Writes the state (to a temporary file renamed over the old one).
    fn save(&self, dir: &Path) -> Result<(), ForgeError> {
        let path = dir.join(STATE_FILE);
        let temporary = dir.join(format!("{STATE_FILE}.tmp"));
        let text = serde_json::to_string_pretty(self).map_err(|e| ForgeError::Io {
            path: path.clone(),
            message: e.to_string(),
        })?;
        fs_err::write(&temporary, text).map_err(|e| io_error(&temporary, &e))?;
        fs_err::rename(&temporary, &path).map_err(|e| io_error(&path, &e))
    }
}

/// How one feedstock went.
#[derive(Debug)]
enum Outcome {
    /// Its checkout already held the head.
    Unchanged,
    /// Its checkout was brought to the head.
    Updated {
        /// Files downloaded.
        written: usize,
        /// Files deleted.
        deleted: usize,
    },
    /// It failed; its previous files stay.
    Failed(ForgeError),
}

/// One crawl shared by its worker threads.
struct Crawl<'a> {
    api: &'a Api,
    org: &'a str,
    dir: &'a Path,
    repos: &'a [FeedstockRepo],
    state: Mutex<CrawlState>,
    next: AtomicUsize,
    done: AtomicUsize,
    /// Checkouts updated so far (the state is saved every [`SAVE_EVERY`]).
    updates: AtomicUsize,
    /// Set when a limit or the credentials make every further request pointless.
    stop: AtomicBool,
    outcomes: Mutex<Vec<(usize, Outcome)>>,
    progress: &'a (dyn Fn(usize, usize) + Sync),
}

impl Crawl<'_> {
    /// Takes feedstocks off the shared list until it is empty or the crawl stops.
    fn work(&self) {
        while !self.stop.load(Ordering::Relaxed) {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(repo) = self.repos.get(index) else {
                return;
            };
            let known = self.lock_state().heads.get(&repo.name).cloned();
            let outcome = match self.sync(repo, known.as_deref()) {
                Ok((outcome, head)) => {
                    if matches!(outcome, Outcome::Updated { .. }) {
                        self.record(&repo.name, head);
                    }
                    outcome
                }
                Err(error) => {
                    if error.stops_run() || matches!(error, ForgeError::Auth(_)) {
                        self.stop.store(true, Ordering::Relaxed);
                    } else {
                        tracing::warn!(feedstock = %repo.name, %error, "crawl failed");
                    }
                    Outcome::Failed(error)
                }
            };
            self.outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((index, outcome));
            let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
            (self.progress)(done, self.repos.len());
        }
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, CrawlState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a checkout's new head, saving the state now and then.
    fn record(&self, name: &str, head: String) {
        let mut state = self.lock_state();
        state.heads.insert(name.to_owned(), head);
        let updates = self.updates.fetch_add(1, Ordering::Relaxed) + 1;
        if updates.is_multiple_of(SAVE_EVERY)
            && let Err(error) = state.save(self.dir)
        {
            tracing::warn!(%error, "could not save the crawl state (saved again at the end)");
        }
    }

    /// Brings one checkout to the head of its default branch; returns the head.
    #[tracing::instrument(skip_all, fields(feedstock = %repo.name))]
    fn sync(
        &self,
        repo: &FeedstockRepo,
        known: Option<&str>,
    ) -> Result<(Outcome, String), ForgeError> {
        let repo_name = repo_name(&repo.name);
        let upstream = RepoPath::new(&encode(self.org), &encode(&repo_name));
        let head = head_commit(self.api, &upstream, &repo.default_branch)?;
        let checkout = self.dir.join(&repo_name);
        if known == Some(head.as_str()) && checkout.is_dir() {
            return Ok((Outcome::Unchanged, head));
        }
        let files = crawled_files(self.api, &upstream, &head)?;
        let (written, deleted) = write_checkout(self.api, &upstream, &checkout, &files)?;
        tracing::debug!(head, written, deleted, "checkout updated");
        Ok((Outcome::Updated { written, deleted }, head))
    }
}

/// `GET git/ref/heads/<branch>` as the API returns it.
#[derive(Debug, Deserialize)]
struct RefWire {
    object: RefObject,
}

#[derive(Debug, Deserialize)]
struct RefObject {
    sha: String,
}

/// The head commit of `branch` (one conditional request: a 304 when nothing moved).
fn head_commit(api: &Api, upstream: &RepoPath, branch: &str) -> Result<String, ForgeError> {
    let reply = api.get(&upstream.api(&format!("/git/ref/heads/{}", encode_path(branch))))?;
    if reply.status == 404 || reply.status == 409 {
        // 409: "Git Repository is empty."
        return Err(ForgeError::NoSuchBranch {
            repo: upstream.to_string(),
            branch: branch.to_owned(),
        });
    }
    let head: RefWire = reply.json()?;
    if !is_sha(&head.object.sha) {
        return Err(ForgeError::Api {
            context: reply.context,
            status: Some(reply.status),
            message: "the branch does not point at a commit id".to_owned(),
        });
    }
    Ok(head.object.sha)
}

/// A file the crawl keeps, at a validated relative path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CrawledFile {
    path: String,
    sha: String,
    executable: bool,
}

/// Whether the crawl keeps the file at `path` (relative to the repository root).
fn is_crawled(path: &str) -> bool {
    path == "conda-forge.yml" || path.starts_with("recipe/") || path.starts_with(".ci_support/")
}

/// The files of `commit` the crawl keeps, from one recursive tree listing (a commit id
/// names its root tree).
fn crawled_files(
    api: &Api,
    upstream: &RepoPath,
    commit: &str,
) -> Result<Vec<CrawledFile>, ForgeError> {
    let mut files = Vec::new();
    for entry in tree_listing(api, upstream, commit)? {
        if entry.kind != "blob" || !is_crawled(&entry.path) {
            continue;
        }
        if !matches!(entry.mode.as_str(), "100644" | "100755") {
            // A symlink could point out of the checkout; the graph reads no such file.
            tracing::debug!(
                path = entry.path,
                mode = entry.mode,
                "not a regular file, skipped"
            );
            continue;
        }
        if let Err(reason) = check_path(&entry.path) {
            return Err(ForgeError::Invalid {
                what: format!(
                    "path `{}` in the tree of {upstream} at {commit}",
                    entry.path
                ),
                reason: reason.to_owned(),
            });
        }
        if !is_sha(&entry.sha) {
            return Err(ForgeError::Invalid {
                what: format!("blob id of `{}` in {upstream} at {commit}", entry.path),
                reason: format!("`{}` is not a SHA-1", entry.sha),
            });
        }
        files.push(CrawledFile {
            executable: entry.mode == "100755",
            path: entry.path,
            sha: entry.sha,
        });
    }
    Ok(files)
}

/// Makes the crawled part of `checkout` exactly `files`: downloads what differs from
/// disk, deletes what vanished. Returns (written, deleted).
fn write_checkout(
    api: &Api,
    upstream: &RepoPath,
    checkout: &Path,
    files: &[CrawledFile],
) -> Result<(usize, usize), ForgeError> {
    // What is on disk already, by blob id: a file that moved, or the same content at two
    // paths, is copied rather than downloaded again.
    let mut on_disk: HashMap<String, PathBuf> = HashMap::new();
    for root in ["conda-forge.yml", "recipe", ".ci_support"] {
        collect_files(&checkout.join(root), &mut |path| {
            if let Some(sha) = on_disk_sha(path) {
                on_disk.entry(sha).or_insert_with(|| path.to_path_buf());
            }
        });
    }
    let mut written = 0;
    for file in files {
        let path = checkout.join(&file.path);
        if on_disk_sha(&path).as_deref() == Some(file.sha.as_str()) {
            set_executable(&path, file.executable)?;
            continue;
        }
        // The copy's source may have been overwritten meanwhile: check it again.
        let local = on_disk
            .get(&file.sha)
            .and_then(|source| fs_err::read(source).ok())
            .filter(|bytes| blob_id(bytes) == file.sha);
        let bytes = match local {
            Some(bytes) => bytes,
            None => read_blob(api, upstream, &file.sha)?,
        };
        write_file(&path, &bytes, file.executable)?;
        on_disk.insert(file.sha.clone(), path);
        written += 1;
    }
    let keep: BTreeSet<PathBuf> = files.iter().map(|f| checkout.join(&f.path)).collect();
    let mut deleted = 0;
    let config = checkout.join("conda-forge.yml");
    if !keep.contains(&config) && fs_err::symlink_metadata(&config).is_ok() {
        remove_path(&config)?;
        deleted += 1;
    }
    for root in ["recipe", ".ci_support"] {
        deleted += prune(&checkout.join(root), &keep)?;
    }
    Ok((written, deleted))
}

/// Calls `found` with every regular file at or under `path` (symbolic links are not
/// followed); unreadable directories are skipped.
fn collect_files(path: &Path, found: &mut dyn FnMut(&Path)) {
    let Ok(metadata) = fs_err::symlink_metadata(path) else {
        return;
    };
    if metadata.is_file() {
        found(path);
    } else if metadata.is_dir()
        && let Ok(entries) = fs_err::read_dir(path)
    {
        for entry in entries.flatten() {
            collect_files(&entry.path(), found);
        }
    }
}

/// Deletes every file under `dir` not in `keep`, and directories left empty (`dir`
/// included). Returns the files deleted.
fn prune(dir: &Path, keep: &BTreeSet<PathBuf>) -> Result<usize, ForgeError> {
    let Ok(metadata) = fs_err::symlink_metadata(dir) else {
        return Ok(0);
    };
    if !metadata.is_dir() {
        if keep.contains(dir) {
            return Ok(0);
        }
        remove_path(dir)?;
        return Ok(1);
    }
    let mut deleted = 0;
    for entry in fs_err::read_dir(dir).map_err(|e| io_error(dir, &e))? {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
        deleted += prune(&entry.path(), keep)?;
    }
    let empty = fs_err::read_dir(dir)
        .map_err(|e| io_error(dir, &e))?
        .next()
        .is_none();
    if empty {
        fs_err::remove_dir(dir).map_err(|e| io_error(dir, &e))?;
    }
    Ok(deleted)
}

/// Removes a file or a whole directory.
fn remove_path(path: &Path) -> Result<(), ForgeError> {
    let is_dir = fs_err::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let removed = if is_dir {
        fs_err::remove_dir_all(path)
    } else {
        fs_err::remove_file(path)
    };
    removed.map_err(|e| io_error(path, &e))
}

/// Writes a downloaded file, replacing whatever is at `path` (a read-only file, a
/// directory where a file now is, a symlink).
fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), ForgeError> {
    if fs_err::symlink_metadata(path).is_ok() {
        remove_path(path)?;
    }
    if let Some(parent) = path.parent() {
        // A file where a directory must now be goes first.
        let mut ancestor = Some(parent);
        while let Some(dir) = ancestor {
            if fs_err::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
                remove_path(dir)?;
                break;
            }
            ancestor = dir.parent();
        }
        fs_err::create_dir_all(parent).map_err(|e| io_error(parent, &e))?;
    }
    fs_err::write(path, bytes).map_err(|e| io_error(path, &e))?;
    set_executable(path, executable)
}

/// The git blob id of the regular file at `path`, if there is one.
fn on_disk_sha(path: &Path) -> Option<String> {
    let metadata = fs_err::symlink_metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    fs_err::read(path).ok().map(|bytes| blob_id(&bytes))
}

/// Forty lowercase hex digits (a SHA-1 object id).
fn is_sha(text: &str) -> bool {
    text.len() == 40
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn io_error(path: &Path, error: &std::io::Error) -> ForgeError {
    ForgeError::Io {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recipe_config_and_ci_support_are_crawled() {
        assert!(is_crawled("recipe/meta.yaml"));
        assert!(is_crawled("recipe/patches/fix.patch"));
        assert!(is_crawled("conda-forge.yml"));
        assert!(is_crawled(".ci_support/migrations/python313.yaml"));
        assert!(!is_crawled("README.md"));
        assert!(!is_crawled("recipes/meta.yaml"));
        assert!(!is_crawled(".github/workflows/ci.yml"));
        assert!(!is_crawled("conda-forge.yml.bak"));
    }

    #[test]
    fn pruning_deletes_what_vanished_and_empty_directories() {
        let dir = tempfile::tempdir().unwrap();
        let recipe = dir.path().join("recipe");
        fs_err::create_dir_all(recipe.join("patches")).unwrap();
        fs_err::write(recipe.join("meta.yaml"), "a").unwrap();
        fs_err::write(recipe.join("patches/old.patch"), "b").unwrap();
        let keep: BTreeSet<PathBuf> = [recipe.join("meta.yaml")].into_iter().collect();
        assert_eq!(prune(&recipe, &keep).unwrap(), 1);
        assert!(recipe.join("meta.yaml").is_file());
        assert!(!recipe.join("patches").exists());
        assert_eq!(prune(&recipe, &BTreeSet::new()).unwrap(), 1);
        assert!(!recipe.exists());
    }

    #[test]
    fn a_written_file_replaces_a_directory_and_keeps_git_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recipe/build.sh");
        fs_err::create_dir_all(path.join("stale")).unwrap();
        write_file(&path, b"#!/bin/sh\n", true).unwrap();
        assert_eq!(on_disk_sha(&path), Some(blob_id(b"#!/bin/sh\n")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs_err::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn an_unreadable_state_file_means_nothing_is_known() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join(STATE_FILE), "{not json").unwrap();
        assert!(CrawlState::load(dir.path()).heads.is_empty());
        let mut state = CrawlState::default();
        state.heads.insert("zlib".into(), "a".repeat(40));
        state.save(dir.path()).unwrap();
        assert_eq!(CrawlState::load(dir.path()).heads, state.heads);
    }
}
