//! The local forge: cascade's embedded default [`Forge`], with no network and no token.
//! It imitates what GitHub does for the bot (forks, branches, PRs, merges) with bare git
//! repositories on disk and a PR table in SQLite.
//!
//! # Layout under the forge root (the CLI's default is `graph-data/forge`)
//!
//! ```text
//! <root>/forge.sqlite                     repositories, PRs, PR comments (see `prs`)
//! <root>/<org>/<name>-feedstock.git       upstream repositories, bare (org: `conda-forge`)
//! <root>/<bot>/<name>-feedstock.git       the bot's forks, bare (bot: `cascade-bot`),
//!                                         created on the first push by cloning upstream
//! ```
//!
//! A repository exists for the forge when it has a row in `forge.sqlite` (name, default
//! branch, archived); [`LocalForge::import`] creates both. PR heads live on the forks; as
//! on GitHub, the upstream repository gets a copy of each open PR's head as
//! `refs/pull/<n>/head`, which is what mergeability is computed from and what a merge
//! merges. All git work goes through git2: no `git` binary is needed.
//!
//! The [`Forge`] trait is what the run loop uses. The maintainer's side (merge, close,
//! labels, CI status, draft, pushes to the default branch) are inherent methods here,
//! used by `cascade forge ...` and by tests to play the humans and the CI around the bot.
//!
//! Concurrency: the forge is `Sync`. Every database write is one short transaction and
//! branch moves on upstream default branches are compare-and-swap, so a run and a
//! maintainer's command may work on the same forge at the same time.

mod import;
mod maintain;
mod prs;
mod repo;
mod schema;

pub use import::{ImportSummary, SkippedEntry};
pub use prs::{PrComment, PrFilter};

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use git2::{Oid, Repository};

use self::prs::{Db, PrInsert, PrRecord};
use self::repo::GitContext;
use super::{
    CiStatus, CommitSpec, FeedstockRepo, Forge, ForgeError, Mergeable, NewPullRequest, PrState,
    PullRequest,
};
use crate::feedstock::FeedstockName;

/// The organisation holding the upstream repositories unless told otherwise.
pub const DEFAULT_ORG: &str = "conda-forge";
/// The bot's user (owner of the forks) unless told otherwise.
pub const DEFAULT_BOT_USER: &str = "cascade-bot";

/// Who merges, imports and pushes upstream on the maintainers' behalf.
const MAINTAINER_NAME: &str = "cascade forge";
const MAINTAINER_EMAIL: &str = "forge@cascade.invalid";

/// Whose repositories a [`LocalForge`] serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalForgeOptions {
    /// The organisation of the upstream repositories (`conda-forge`).
    pub org: String,
    /// The bot's user: owner of the forks and author of comments (`cascade-bot`).
    pub bot_user: String,
}

impl Default for LocalForgeOptions {
    fn default() -> Self {
        LocalForgeOptions {
            org: DEFAULT_ORG.to_string(),
            bot_user: DEFAULT_BOT_USER.to_string(),
        }
    }
}

/// A forge of bare git repositories and a PR table under one root directory, seen as
/// one organisation and one bot user. See the module docs for the layout.
pub struct LocalForge {
    root: PathBuf,
    org: String,
    bot_user: String,
    db: Db,
}

impl std::fmt::Debug for LocalForge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalForge")
            .field("root", &self.root)
            .field("org", &self.org)
            .field("bot_user", &self.bot_user)
            .finish_non_exhaustive()
    }
}

impl LocalForge {
    /// Opens the forge at `root`, creating the directory and its database when missing.
    pub fn open(root: &Path, options: &LocalForgeOptions) -> Result<LocalForge, ForgeError> {
        check_owner(&options.org, "organisation")?;
        check_owner(&options.bot_user, "bot user")?;
        let io = |err: std::io::Error| ForgeError::Io {
            path: root.to_path_buf(),
            message: err.to_string(),
        };
        fs_err::create_dir_all(root).map_err(io)?;
        // Absolute, because repository paths double as fetch URLs.
        let root = fs_err::canonicalize(root).map_err(io)?;
        let db = Db::open(&root.join("forge.sqlite"))?;
        Ok(LocalForge {
            root,
            org: options.org.clone(),
            bot_user: options.bot_user.clone(),
            db,
        })
    }

    /// The forge root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The organisation of the upstream repositories.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// The bot's user.
    pub fn bot_user(&self) -> &str {
        &self.bot_user
    }

    /// `<root>/<org>/<name>-feedstock.git`.
    pub fn upstream_path(&self, name: &FeedstockName) -> PathBuf {
        self.root
            .join(&self.org)
            .join(format!("{}.git", name.dir_name()))
    }

    /// `<root>/<bot user>/<name>-feedstock.git`.
    pub fn fork_path(&self, name: &FeedstockName) -> PathBuf {
        self.repo_path(&self.bot_user, name)
    }

    fn repo_path(&self, owner: &str, name: &FeedstockName) -> PathBuf {
        self.root
            .join(owner)
            .join(format!("{}.git", name.dir_name()))
    }

    /// The validated name and the row of a feedstock of this forge's organisation.
    fn feedstock(&self, feedstock: &str) -> Result<(FeedstockName, FeedstockRepo), ForgeError> {
        let no_such = || ForgeError::NoSuchFeedstock(feedstock.to_string());
        let name = FeedstockName::new(feedstock).map_err(|_| no_such())?;
        let repo = self.db.repo(&self.org, feedstock)?.ok_or_else(no_such)?;
        Ok((name, repo))
    }

    /// A feedstock that may be written to.
    fn writable_feedstock(
        &self,
        feedstock: &str,
    ) -> Result<(FeedstockName, FeedstockRepo), ForgeError> {
        let (name, repo) = self.feedstock(feedstock)?;
        if repo.archived {
            return Err(ForgeError::Archived(format!(
                "{}/{}",
                self.org,
                name.dir_name()
            )));
        }
        Ok((name, repo))
    }

    /// PR `number` of this organisation, whatever its feedstock.
    fn record(&self, number: u64) -> Result<PrRecord, ForgeError> {
        match self.db.pr(number)? {
            Some(record) if record.org == self.org => Ok(record),
            _ => Err(ForgeError::NoSuchPr {
                feedstock: String::new(),
                number,
            }),
        }
    }

    /// PR `number`, which must belong to `feedstock`.
    fn record_on(&self, feedstock: &str, number: u64) -> Result<PrRecord, ForgeError> {
        match self.db.pr(number)? {
            Some(record) if record.org == self.org && record.pr.feedstock == feedstock => {
                Ok(record)
            }
            _ => Err(ForgeError::NoSuchPr {
                feedstock: feedstock.to_string(),
                number,
            }),
        }
    }

    /// Brings an open PR up to date with its head branch and its base: copies the fork's
    /// head into the upstream `refs/pull/<n>/head` (a new head commit resets the CI
    /// status, as a push does on GitHub) and recomputes `mergeable`. Merged and closed
    /// PRs are returned as stored.
    fn refresh(&self, record: PrRecord) -> Result<PrRecord, ForgeError> {
        if record.pr.state != PrState::Open {
            return Ok(record);
        }
        let name = FeedstockName::new(record.pr.feedstock.as_str())
            .map_err(|_| ForgeError::NoSuchFeedstock(record.pr.feedstock.clone()))?;
        let upstream = repo::open(&self.upstream_path(&name))?;
        let head = self.sync_pr_head(&upstream, &name, &record)?;
        let base = repo::branch_tip(&upstream, &record.pr.base)?;
        let mergeable = match (base, head) {
            (Some(base), Some(head)) => repo::mergeability(&upstream, base, head)?,
            _ => Mergeable::Unknown,
        };
        let head_sha = head.map_or_else(|| record.pr.head_sha.clone(), |oid| oid.to_string());
        if head_sha == record.pr.head_sha && mergeable == record.pr.mergeable {
            return Ok(record);
        }
        self.db.update_pr(record.pr.number, |stored| {
            if stored.pr.state != PrState::Open {
                return Ok(());
            }
            if stored.pr.head_sha != head_sha {
                stored.pr.head_sha = head_sha;
                stored.pr.ci = CiStatus::None;
                stored.pr.updated_at = now();
            }
            stored.pr.mergeable = mergeable;
            Ok(())
        })
    }

    /// Copies the head branch of an open PR from its fork into the upstream
    /// `refs/pull/<n>/head` and returns that commit. When the branch is gone from the
    /// fork, the last copied head is used; `None` when there is none.
    fn sync_pr_head(
        &self,
        upstream: &Repository,
        name: &FeedstockName,
        record: &PrRecord,
    ) -> Result<Option<Oid>, ForgeError> {
        let pull_ref = format!("refs/pull/{}/head", record.pr.number);
        let fork_path = self.repo_path(&record.head_owner, name);
        let tip = if fork_path.exists() {
            repo::branch_tip(&repo::open(&fork_path)?, &record.pr.head)?
        } else {
            None
        };
        let Some(tip) = tip else {
            return Ok(upstream.refname_to_id(&pull_ref).ok());
        };
        if upstream.refname_to_id(&pull_ref).ok() == Some(tip) {
            return Ok(Some(tip));
        }
        if upstream.find_commit(tip).is_ok() {
            repo::set_ref(upstream, &pull_ref, tip, "cascade: PR head")?;
        } else {
            let head_ref = repo::branch_ref(&record.pr.head)?;
            repo::fetch(upstream, &fork_path, &format!("+{head_ref}:{pull_ref}"))?;
        }
        Ok(Some(upstream.refname_to_id(&pull_ref).git(|| {
            format!("read `{pull_ref}` in `{}`", upstream.path().display())
        })?))
    }
}

impl Forge for LocalForge {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn list_feedstocks(&self) -> Result<Vec<FeedstockRepo>, ForgeError> {
        self.db.repos(&self.org)
    }

    fn sync_checkout(&self, feedstock: &str, dest: &Path) -> Result<String, ForgeError> {
        let (name, repo) = self.feedstock(feedstock)?;
        let oid = repo::sync_checkout(&self.upstream_path(&name), &repo.default_branch, dest)?;
        Ok(oid.to_string())
    }

    fn push_branch(
        &self,
        feedstock: &str,
        base: &str,
        branch: &str,
        commit: &CommitSpec,
    ) -> Result<String, ForgeError> {
        let (name, repo) = self.writable_feedstock(feedstock)?;
        let branch_ref = repo::branch_ref(branch)?;
        let base_oid = Oid::from_str(base).map_err(|_| ForgeError::Invalid {
            what: format!("base commit `{base}` for `{feedstock}`"),
            reason: "not a commit id".to_string(),
        })?;
        let upstream_path = self.upstream_path(&name);
        let fork_path = self.fork_path(&name);
        let fork = repo::ensure_fork(&upstream_path, &fork_path, &repo.default_branch)?;
        repo::ensure_commit(&fork, base_oid, &upstream_path, &repo.default_branch)?;
        let what = format!("the commit for `{}:{branch}`", self.bot_user);
        let base_commit = fork
            .find_commit(base_oid)
            .git(|| format!("read {base_oid} in `{}`", fork_path.display()))?;
        let base_tree = base_commit
            .tree()
            .git(|| format!("read the tree of {base_oid} in `{}`", fork_path.display()))?;
        let tree = repo::changed_tree(&fork, &base_tree, commit, &what)?;
        let author = repo::signature(&commit.author_name, &commit.author_email)?;
        let oid = repo::commit(
            &fork,
            &author,
            &author,
            &commit.message,
            tree,
            &[&base_commit],
        )?;
        repo::set_ref(&fork, &branch_ref, oid, "cascade: push")?;
        Ok(oid.to_string())
    }

    fn find_open_pr(
        &self,
        feedstock: &str,
        branch: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        self.feedstock(feedstock)?;
        self.db
            .open_pr_for_head(&self.org, feedstock, &self.bot_user, branch)?
            .map(|record| self.refresh(record).map(|record| record.pr))
            .transpose()
    }

    fn open_pr(&self, pr: &NewPullRequest) -> Result<PullRequest, ForgeError> {
        let (name, _) = self.writable_feedstock(&pr.feedstock)?;
        let upstream = repo::open(&self.upstream_path(&name))?;
        if repo::branch_tip(&upstream, &pr.base)?.is_none() {
            return Err(ForgeError::NoSuchBranch {
                repo: format!("{}/{}", self.org, name.dir_name()),
                branch: pr.base.clone(),
            });
        }
        let fork_path = self.fork_path(&name);
        let head = if fork_path.exists() {
            repo::branch_tip(&repo::open(&fork_path)?, &pr.head)?
        } else {
            None
        };
        let Some(head) = head else {
            return Err(ForgeError::NoSuchBranch {
                repo: format!("{}/{}", self.bot_user, name.dir_name()),
                branch: pr.head.clone(),
            });
        };
        let head_sha = head.to_string();
        let (record, _created) = self.db.open_pr(&PrInsert {
            org: &self.org,
            feedstock: &pr.feedstock,
            head_owner: &self.bot_user,
            head: &pr.head,
            base: &pr.base,
            title: &pr.title,
            body: &pr.body,
            head_sha: &head_sha,
            now: now(),
        })?;
        Ok(self.refresh(record)?.pr)
    }

    fn update_pr(
        &self,
        feedstock: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError> {
        self.record_on(feedstock, number)?;
        let record = self.db.update_pr(number, |stored| {
            if stored.pr.title != title || stored.pr.body != body {
                stored.pr.title = title.to_string();
                stored.pr.body = body.to_string();
                stored.pr.updated_at = now();
            }
            Ok(())
        })?;
        Ok(record.pr)
    }

    fn pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        let record = self.record_on(feedstock, number)?;
        Ok(self.refresh(record)?.pr)
    }

    fn close_pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        self.record_on(feedstock, number)?;
        Ok(self.db.update_pr(number, close)?.pr)
    }

    fn comment(&self, feedstock: &str, number: u64, body: &str) -> Result<(), ForgeError> {
        self.record_on(feedstock, number)?;
        self.db.add_comment(number, &self.bot_user, body, now())
    }

    fn delete_branch(&self, feedstock: &str, branch: &str) -> Result<(), ForgeError> {
        let (name, _) = self.feedstock(feedstock)?;
        repo::delete_branch(&self.fork_path(&name), branch)
    }
}

/// Closes an open PR (merged and closed PRs stay as they are).
fn close(stored: &mut PrRecord) -> Result<(), ForgeError> {
    if stored.pr.state == PrState::Open {
        let now = now();
        stored.pr.state = PrState::Closed;
        stored.pr.closed_at = Some(now);
        stored.pr.updated_at = now;
    }
    Ok(())
}

/// Owner names become directory names: GitHub's characters only, never `.` first.
fn check_owner(owner: &str, what: &str) -> Result<(), ForgeError> {
    let valid = !owner.is_empty()
        && owner.len() <= 100
        && !owner.starts_with('.')
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(ForgeError::Invalid {
            what: format!("{what} `{owner}`"),
            reason: "use letters, digits, `-`, `_` and `.`".to_string(),
        })
    }
}

/// Unix seconds now.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}
