//! Where feedstocks live and PRs are opened: the [`Forge`] trait the run loop talks to,
//! and its implementations — [`local`] (bare git repositories plus a PR table in SQLite,
//! the embedded default) and, later, GitHub.
//!
//! The run loop never shells out or speaks HTTP itself: it asks the forge for checkouts,
//! hands it a commit to push to the bot's fork, and opens, updates, refreshes and closes
//! PRs through it. Every method is idempotent where the real forge allows it, so a run
//! killed at any point can simply be run again.

pub mod github;
pub mod local;
mod model;

pub use model::{
    CiStatus, CommitSpec, FeedstockRepo, ForgeError, Mergeable, NewPullRequest, PrState,
    PullRequest,
};

use std::path::Path;

/// A code forge holding feedstock repositories, the bot's forks, and PRs.
pub trait Forge {
    /// A short name for logs and the store (`local`, `github`).
    fn kind(&self) -> &'static str;

    /// Every feedstock repository (name without `-feedstock`, default branch, archived).
    fn list_feedstocks(&self) -> Result<Vec<FeedstockRepo>, ForgeError>;

    /// Makes `dest` a checkout of the feedstock's default branch as it is upstream now
    /// (clone, or fetch and hard-reset an existing checkout) and returns the commit id.
    fn sync_checkout(&self, feedstock: &str, dest: &Path) -> Result<String, ForgeError>;

    /// Creates the bot's fork when missing, commits `commit` on top of `base` (a commit
    /// id of the upstream default branch) and pushes it as `branch` to the fork,
    /// replacing what was there. Returns the new commit id.
    fn push_branch(
        &self,
        feedstock: &str,
        base: &str,
        branch: &str,
        commit: &CommitSpec,
    ) -> Result<String, ForgeError>;

    /// The open PR whose head is the bot's `branch` on this feedstock, if any.
    fn find_open_pr(
        &self,
        feedstock: &str,
        branch: &str,
    ) -> Result<Option<PullRequest>, ForgeError>;

    /// Opens a PR; when an open PR with the same head exists, returns it instead.
    fn open_pr(&self, pr: &NewPullRequest) -> Result<PullRequest, ForgeError>;

    /// Replaces the title and body of an open PR.
    fn update_pr(
        &self,
        feedstock: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError>;

    /// The current state of a PR.
    fn pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError>;

    /// The current state of many PRs, one result per `(feedstock, number)` in the order
    /// asked. A forge that can batch overrides it (GitHub: one GraphQL request per 100
    /// PRs); the default asks one at a time.
    fn prs(&self, refs: &[(String, u64)]) -> Vec<Result<PullRequest, ForgeError>> {
        refs.iter()
            .map(|(feedstock, number)| self.pr(feedstock, *number))
            .collect()
    }

    /// Closes a PR without merging (a no-op when it is already closed or merged).
    fn close_pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError>;

    /// Adds a comment to a PR.
    fn comment(&self, feedstock: &str, number: u64, body: &str) -> Result<(), ForgeError>;

    /// Deletes a branch of the bot's fork (a no-op when it does not exist).
    fn delete_branch(&self, feedstock: &str, branch: &str) -> Result<(), ForgeError>;
}
