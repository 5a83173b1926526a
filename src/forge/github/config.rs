//! How cascade talks to GitHub: where, as whom, through which transport, and how politely.
//! Read from `cascade.toml`'s `[github]` table; every field has the default a conda-forge
//! deployment wants, so an empty table is a working configuration once the token is set.

use serde::Deserialize;

/// The GitHub forge's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GitHubConfig {
    /// The REST API root (`https://api.github.com`; a GitHub Enterprise or test server's
    /// otherwise). GraphQL is `<api_url>/graphql`.
    pub api_url: String,
    /// The organisation owning the feedstocks.
    pub org: String,
    /// The bot's account: owner of the forks, author of the commits.
    pub bot_user: String,
    /// How cascade authenticates.
    pub auth: AuthConfig,
    /// How branches reach the fork and checkouts are made.
    pub transport: Transport,
    /// Where upstream repositories are cloned from; `{owner}` and `{repo}` are filled in.
    /// Never holds a credential: the token reaches git through an askpass helper.
    pub upstream_git_url: String,
    /// Where the bot's forks are pushed to; same placeholders.
    pub fork_git_url: String,
    /// The request budget.
    pub limits: Limits,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            api_url: "https://api.github.com".to_owned(),
            org: "conda-forge".to_owned(),
            bot_user: "regro-cf-autotick-bot".to_owned(),
            auth: AuthConfig::default(),
            transport: Transport::Git,
            upstream_git_url: "https://github.com/{owner}/{repo}.git".to_owned(),
            fork_git_url: "https://github.com/{owner}/{repo}.git".to_owned(),
            limits: Limits::default(),
        }
    }
}

impl GitHubConfig {
    /// The git URL of `owner/repo` from a template.
    pub fn git_url(template: &str, owner: &str, repo: &str) -> String {
        template.replace("{owner}", owner).replace("{repo}", repo)
    }
}

/// Who cascade is on GitHub.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The environment variable holding a personal access token (used when `app` is not
    /// set). The token itself never appears in a file cascade reads or writes.
    pub token_env: String,
    /// Authenticate as a GitHub App installation instead.
    pub app: Option<AppConfig>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_env: "CASCADE_GITHUB_TOKEN".to_owned(),
            app: None,
        }
    }
}

/// A GitHub App installation: cascade signs a JWT with the app's key and trades it for
/// an installation token, refreshed before it expires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The app's id.
    pub app_id: u64,
    /// The installation's id (on the organisation).
    pub installation_id: u64,
    /// The environment variable holding the app's PEM private key.
    #[serde(default = "default_app_key_env")]
    pub private_key_env: String,
}

fn default_app_key_env() -> String {
    "CASCADE_GITHUB_APP_KEY".to_owned()
}

/// How commits reach the bot's fork and how checkouts are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// The git CLI: clone/fetch from `upstream_git_url`, push to `fork_git_url`.
    Git,
    /// The REST API only: checkouts are downloaded (an unchanged feedstock costs one
    /// conditional request) and commits are made with the Git Data API — no git
    /// binary, and an App's commits show as verified.
    Api,
    /// Git as above, then the same commit replayed through the Git Data API. For API
    /// servers that serve no git protocol (the emulator the tests run against).
    GitMirroredToApi,
}

/// The request budget. GitHub's primary limit is read from every response; these are
/// cascade's own, stricter limits on content-creating requests (POST, PATCH, PUT,
/// DELETE), which GitHub's secondary limits punish first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Content-creating requests per rolling minute; over it, cascade waits.
    pub creates_per_minute: u32,
    /// Content-creating requests per rolling hour; over it, the run stops cleanly.
    pub creates_per_hour: u32,
    /// The least time between two content-creating requests (GitHub asks for one second).
    pub create_spacing_ms: u64,
    /// Primary-limit requests kept in reserve: below it, the run stops.
    pub core_reserve: u32,
    /// Retries of a failed request (5xx, timeouts, secondary limits).
    pub retries: u32,
    /// The first back-off after a secondary limit without `Retry-After`, in seconds
    /// (doubled each retry, with jitter).
    pub secondary_backoff_secs: u64,
    /// The longest cascade waits in one go (a `Retry-After` or back-off); beyond it the
    /// run stops and resumes next time.
    pub max_wait_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            creates_per_minute: 80,
            creates_per_hour: 500,
            create_spacing_ms: 1000,
            core_reserve: 100,
            retries: 3,
            secondary_backoff_secs: 60,
            max_wait_secs: 300,
        }
    }
}
