//! The real forge: GitHub, through octocrab (REST and GraphQL) and the git CLI.
//!
//! Layers, bottom up: [`secret`] (credentials that never print), [`state`] (the ETag
//! cache and the budget's ledger in `github.sqlite`), [`budget`] (primary limits from the
//! headers, cascade's own create limits), [`auth`] (a token or a GitHub App
//! installation), [`api`] (every request: conditional GETs, retries, `Retry-After`,
//! secondary limits). On top: [`repos`] (listing and crawling the org's feedstocks),
//! [`prs`] (forks and PRs over REST), [`batch`] (refreshing PRs 100 at a time over
//! GraphQL), [`ci`] (a head commit's check runs and statuses), and the two transports,
//! [`git`] (the git CLI with an askpass helper) and [`gitdata`] (the Git Data API).

mod api;
mod auth;
mod batch;
mod budget;
mod ci;
mod config;
mod download;
mod git;
mod gitcli;
mod gitdata;
mod prs;
mod replay;
mod repos;
mod secret;
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use api::ApiStats;
pub use config::{AppConfig, AuthConfig, GitHubConfig, Limits, Transport};
pub use repos::CrawlSummary;
pub use secret::{Redactor, Secret};

use super::{CommitSpec, FeedstockRepo, Forge, ForgeError, NewPullRequest, PullRequest};
use api::Api;
use auth::Credentials;
use budget::Budget;
use state::State;

/// GitHub as a [`Forge`]: the `org`'s `*-feedstock` repositories, the bot's forks, PRs.
#[derive(Debug)]
pub struct GitHubForge {
    config: GitHubConfig,
    api: Api,
    /// Where the forge keeps `github.sqlite` and its git work repositories.
    dir: PathBuf,
}

impl GitHubForge {
    /// Opens the forge with its state in `dir` (created when missing), reading the
    /// credentials `config.auth` names through `env` (`std::env::var` in the CLI).
    pub fn open(
        config: GitHubConfig,
        dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<GitHubForge, ForgeError> {
        let redactor = Redactor::default();
        let credentials = Credentials::from_config(&config.auth, env, &redactor)?;
        let state = Arc::new(State::open(&dir.join("github.sqlite"))?);
        let budget = Budget::new(config.limits.clone(), Arc::clone(&state));
        let api = Api::new(&config.api_url, credentials, budget, state, redactor)?;
        Ok(GitHubForge {
            config,
            api,
            dir: dir.to_path_buf(),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    /// Requests made so far, by kind.
    pub fn stats(&self) -> ApiStats {
        self.api.stats()
    }

    /// Adds labels to a PR (the bot itself never labels; maintainers' tools do).
    pub fn add_labels(
        &self,
        feedstock: &str,
        number: u64,
        labels: &[&str],
    ) -> Result<(), ForgeError> {
        prs::add_labels(&self.api, &self.config, feedstock, number, labels)
    }

    /// Downloads `recipe/`, `conda-forge.yml` and `.ci_support/` of every feedstock of
    /// the org into `dir/<name>-feedstock/` (the layout `graph::build` reads), removing
    /// feedstocks that are gone. An unchanged feedstock costs one conditional request.
    pub fn crawl(&self, dir: &Path) -> Result<CrawlSummary, ForgeError> {
        repos::crawl(&self.api, &self.config, dir, &|_, _| {})
    }

    /// [`GitHubForge::crawl`], calling `progress(done, total)` (from several threads)
    /// as each feedstock is settled.
    pub fn crawl_with(
        &self,
        dir: &Path,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<CrawlSummary, ForgeError> {
        repos::crawl(&self.api, &self.config, dir, progress)
    }

    fn git_dir(&self) -> PathBuf {
        self.dir.join("github-git")
    }
}

impl Forge for GitHubForge {
    fn kind(&self) -> &'static str {
        "github"
    }

    fn list_feedstocks(&self) -> Result<Vec<FeedstockRepo>, ForgeError> {
        repos::list_feedstocks(&self.api, &self.config)
    }

    fn sync_checkout(&self, feedstock: &str, dest: &Path) -> Result<String, ForgeError> {
        match self.config.transport {
            Transport::Git | Transport::GitMirroredToApi => {
                git::sync_checkout(&self.api, &self.config, feedstock, dest)
            }
            Transport::Api => download::sync_checkout(&self.api, &self.config, feedstock, dest),
        }
    }

    fn push_branch(
        &self,
        feedstock: &str,
        base: &str,
        branch: &str,
        commit: &CommitSpec,
    ) -> Result<String, ForgeError> {
        prs::ensure_fork(&self.api, &self.config, feedstock)?;
        match self.config.transport {
            Transport::Git => git::push(
                &self.api,
                &self.config,
                &self.git_dir(),
                feedstock,
                base,
                branch,
                commit,
            ),
            Transport::Api => {
                gitdata::push(&self.api, &self.config, feedstock, base, branch, commit)
            }
            Transport::GitMirroredToApi => {
                let sha = git::push(
                    &self.api,
                    &self.config,
                    &self.git_dir(),
                    feedstock,
                    base,
                    branch,
                    commit,
                )?;
                gitdata::mirror(
                    &self.api,
                    &self.config,
                    &git::work_repo(&self.git_dir(), feedstock),
                    feedstock,
                    &sha,
                    branch,
                )?;
                Ok(sha)
            }
        }
    }

    fn find_open_pr(
        &self,
        feedstock: &str,
        branch: &str,
    ) -> Result<Option<PullRequest>, ForgeError> {
        prs::find_open_pr(&self.api, &self.config, feedstock, branch)
    }

    fn open_pr(&self, pr: &NewPullRequest) -> Result<PullRequest, ForgeError> {
        prs::open_pr(&self.api, &self.config, pr)
    }

    fn update_pr(
        &self,
        feedstock: &str,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, ForgeError> {
        prs::update_pr(&self.api, &self.config, feedstock, number, title, body)
    }

    fn pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        prs::pr(&self.api, &self.config, feedstock, number)
    }

    fn prs(&self, refs: &[(String, u64)]) -> Vec<Result<PullRequest, ForgeError>> {
        batch::prs(&self.api, &self.config, refs)
    }

    fn close_pr(&self, feedstock: &str, number: u64) -> Result<PullRequest, ForgeError> {
        prs::close_pr(&self.api, &self.config, feedstock, number)
    }

    fn comment(&self, feedstock: &str, number: u64, body: &str) -> Result<(), ForgeError> {
        prs::comment(&self.api, &self.config, feedstock, number, body)
    }

    fn delete_branch(&self, feedstock: &str, branch: &str) -> Result<(), ForgeError> {
        prs::delete_branch(&self.api, &self.config, feedstock, branch)
    }
}

/// `<name>-feedstock`.
fn repo_name(feedstock: &str) -> String {
    format!("{feedstock}-feedstock")
}
