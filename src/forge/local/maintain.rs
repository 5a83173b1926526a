//! The maintainers' and CI's side of the local forge: what people do to PRs and default
//! branches on GitHub, which the bot only observes. `cascade forge pr ...` and the tests
//! use these; the run loop never does.

use git2::Oid;

use super::prs::PrRecord;
use super::repo::{self, GitContext, MergeOutcome};
use super::{LocalForge, MAINTAINER_EMAIL, MAINTAINER_NAME, PrComment, PrFilter, close, now};
use crate::forge::{CiStatus, CommitSpec, ForgeError, Mergeable, PrState, PullRequest};

impl LocalForge {
    /// PR `number` (of any feedstock of this organisation), refreshed like
    /// [`Forge::pr`](crate::forge::Forge::pr).
    pub fn pr_by_number(&self, number: u64) -> Result<PullRequest, ForgeError> {
        let record = self.record(number)?;
        Ok(self.refresh(record)?.pr)
    }

    /// The PRs passing `filter`, by number, as stored: `mergeable` is not recomputed
    /// (use [`LocalForge::pr_by_number`] for that).
    pub fn list_prs(&self, filter: &PrFilter) -> Result<Vec<PullRequest>, ForgeError> {
        self.db.prs(&self.org, filter)
    }

    /// The comments on PR `number`, oldest first.
    pub fn comments(&self, number: u64) -> Result<Vec<PrComment>, ForgeError> {
        self.record(number)?;
        self.db.comments(number)
    }

    /// Merges PR `number` into its base branch upstream: a fast-forward when the base
    /// has not moved since the head was made, else a merge commit (from git2's tree
    /// merge). A conflicting PR is refused with [`ForgeError::MergeConflict`], nothing
    /// moves upstream, and the PR is marked [`Mergeable::Dirty`]. A head that is already
    /// part of the base (a merge interrupted before its row was written) just marks the
    /// PR merged.
    pub fn merge(&self, number: u64) -> Result<PullRequest, ForgeError> {
        let record = self.record(number)?;
        let (name, _) = self.writable_feedstock(&record.pr.feedstock)?;
        let record = self.refresh(record)?;
        require_open(&record)?;
        let upstream_path = self.upstream_path(&name);
        let upstream = repo::open(&upstream_path)?;
        let head = Oid::from_str(&record.pr.head_sha).git(|| {
            format!(
                "read the head of PR #{number} in `{}`",
                upstream_path.display()
            )
        })?;
        let base_ref = repo::branch_ref(&record.pr.base)?;
        let base = repo::branch_tip(&upstream, &record.pr.base)?.ok_or_else(|| {
            ForgeError::NoSuchBranch {
                repo: format!("{}/{}", self.org, name.dir_name()),
                branch: record.pr.base.clone(),
            }
        })?;
        let committer = repo::signature(MAINTAINER_NAME, MAINTAINER_EMAIL)?;
        let message = format!(
            "Merge pull request #{number} from {}/{}\n\n{}\n",
            record.head_owner, record.pr.head, record.pr.title
        );
        let merged = match repo::merge(&upstream, &base_ref, base, head, &committer, &message)? {
            MergeOutcome::Conflict => {
                self.db.update_pr(number, |stored| {
                    stored.pr.mergeable = Mergeable::Dirty;
                    Ok(())
                })?;
                return Err(ForgeError::MergeConflict {
                    feedstock: record.pr.feedstock,
                    number,
                    base: record.pr.base,
                });
            }
            MergeOutcome::FastForward(oid)
            | MergeOutcome::MergeCommit(oid)
            | MergeOutcome::AlreadyMerged(oid) => oid,
        };
        let record = self.db.update_pr(number, |stored| {
            let now = now();
            stored.pr.state = PrState::Merged;
            stored.pr.mergeable = Mergeable::Clean;
            stored.pr.closed_at = Some(now);
            stored.pr.updated_at = now;
            stored.merge_sha = Some(merged.to_string());
            Ok(())
        })?;
        Ok(record.pr)
    }

    /// Closes PR `number` without merging (a no-op when it is not open).
    pub fn close(&self, number: u64) -> Result<PullRequest, ForgeError> {
        self.record(number)?;
        Ok(self.db.update_pr(number, close)?.pr)
    }

    /// Adds a label (a no-op when it is there already).
    pub fn label(&self, number: u64, label: &str) -> Result<PullRequest, ForgeError> {
        let label = check_label(label)?;
        self.change(number, |stored| stored.pr.labels.insert(label.to_string()))
    }

    /// Removes a label (a no-op when it is not there).
    pub fn unlabel(&self, number: u64, label: &str) -> Result<PullRequest, ForgeError> {
        let label = check_label(label)?;
        self.change(number, |stored| stored.pr.labels.remove(label))
    }

    /// Sets the CI status of the PR's current head commit (a later push resets it to
    /// [`CiStatus::None`]).
    pub fn set_ci(&self, number: u64, status: CiStatus) -> Result<PullRequest, ForgeError> {
        self.change(number, |stored| {
            let changed = stored.pr.ci != status;
            stored.pr.ci = status;
            changed
        })
    }

    /// Turns an open PR into a draft or back into ready for review.
    pub fn set_draft(&self, number: u64, draft: bool) -> Result<PullRequest, ForgeError> {
        self.record(number)?;
        let record = self.db.update_pr(number, |stored| {
            require_open(stored)?;
            if stored.pr.draft != draft {
                stored.pr.draft = draft;
                stored.pr.updated_at = now();
            }
            Ok(())
        })?;
        Ok(record.pr)
    }

    /// Commits `commit` on top of the feedstock's default branch upstream, as a maintainer
    /// pushing to `main` would, and returns the new commit id. Open PRs may become dirty.
    pub fn commit_upstream(
        &self,
        feedstock: &str,
        commit: &CommitSpec,
    ) -> Result<String, ForgeError> {
        let (name, repo) = self.writable_feedstock(feedstock)?;
        let path = self.upstream_path(&name);
        let upstream = repo::open(&path)?;
        let refname = repo::branch_ref(&repo.default_branch)?;
        let tip = repo::branch_tip(&upstream, &repo.default_branch)?.ok_or_else(|| {
            ForgeError::NoSuchBranch {
                repo: format!("{}/{}", self.org, name.dir_name()),
                branch: repo.default_branch.clone(),
            }
        })?;
        let context = || format!("read `{refname}` of `{}`", path.display());
        let parent = upstream.find_commit(tip).git(context)?;
        let base_tree = parent.tree().git(context)?;
        let what = format!("the commit to `{}/{}`", self.org, name.dir_name());
        let tree = repo::changed_tree(&upstream, &base_tree, commit, &what)?;
        let author = repo::signature(&commit.author_name, &commit.author_email)?;
        let oid = repo::commit(
            &upstream,
            &author,
            &author,
            &commit.message,
            tree,
            &[&parent],
        )?;
        repo::move_ref(&upstream, &refname, tip, oid, "cascade: maintainer push")?;
        Ok(oid.to_string())
    }

    /// Archives a repository (read-only: no pushes, PRs or merges) or unarchives it.
    pub fn set_archived(&self, feedstock: &str, archived: bool) -> Result<(), ForgeError> {
        self.feedstock(feedstock)?;
        self.db.set_archived(&self.org, feedstock, archived)?;
        Ok(())
    }

    /// Applies `edit` to PR `number`; `edit` says whether it changed anything, which
    /// decides whether `updated_at` moves.
    fn change(
        &self,
        number: u64,
        edit: impl FnOnce(&mut PrRecord) -> bool,
    ) -> Result<PullRequest, ForgeError> {
        self.record(number)?;
        let record = self.db.update_pr(number, |stored| {
            if edit(stored) {
                stored.pr.updated_at = now();
            }
            Ok(())
        })?;
        Ok(record.pr)
    }
}

fn require_open(record: &PrRecord) -> Result<(), ForgeError> {
    if record.pr.state == PrState::Open {
        Ok(())
    } else {
        Err(ForgeError::NotOpen {
            feedstock: record.pr.feedstock.clone(),
            number: record.pr.number,
            state: record.pr.state,
        })
    }
}

fn check_label(label: &str) -> Result<&str, ForgeError> {
    let trimmed = label.trim();
    if trimmed.is_empty() || trimmed.len() > 100 || trimmed.contains(['\n', '\r']) {
        return Err(ForgeError::Invalid {
            what: format!("label `{label}`"),
            reason: "labels are 1 to 100 characters on one line".to_string(),
        });
    }
    Ok(trimmed)
}
