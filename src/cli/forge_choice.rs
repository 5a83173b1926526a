//! Which forge a command talks to: `cascade.toml` (see [`crate::config`]) resolved
//! against the command line. Precedence, once for all commands: a flag beats the file,
//! the file beats the built-in default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::config::{Config, ForgeKind};
use crate::forge::Forge;
use crate::forge::github::{GitHubConfig, GitHubForge};
use crate::forge::local::{DEFAULT_BOT_USER, DEFAULT_ORG, LocalForge, LocalForgeOptions};

/// The forge flags of a command that talks to a forge (flattened into its `Args`).
#[derive(Debug, Args)]
pub(crate) struct ForgeChoiceArgs {
    /// The forge to talk to; overrides `forge` in the configuration file.
    #[arg(long = "forge", value_enum, value_name = "KIND")]
    kind: Option<ForgeArg>,
    /// The configuration file (default: `./cascade.toml` when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The local forge root (default: `[local] forge_dir`, else `<data-dir>/forge`).
    #[arg(long, value_name = "DIR")]
    forge_dir: Option<PathBuf>,
    /// The organisation owning the feedstocks (default: the configuration's, else
    /// `conda-forge`).
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// The bot's user name, owner of the forks and author of the commits (default: the
    /// configuration's, else `cascade-bot` locally and `regro-cf-autotick-bot` on GitHub).
    #[arg(long, value_name = "USER")]
    bot_user: Option<String>,
}

/// `--forge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ForgeArg {
    /// The local forge: bare git repositories and a PR table under the data directory.
    Local,
    /// GitHub, as `[github]` in the configuration says (token from the environment).
    Github,
}

impl From<ForgeArg> for ForgeKind {
    fn from(arg: ForgeArg) -> ForgeKind {
        match arg {
            ForgeArg::Local => ForgeKind::Local,
            ForgeArg::Github => ForgeKind::Github,
        }
    }
}

/// A forge opened for a command, and who the bot is on it.
pub(crate) struct OpenedForge {
    /// The forge.
    pub(crate) forge: Box<dyn Forge>,
    /// The bot's user name on that forge (for PR texts and commit authorship).
    pub(crate) bot_user: String,
}

/// Reads the configuration `choice` points at (or `./cascade.toml`).
pub(crate) fn load_config(explicit: Option<&Path>) -> anyhow::Result<Config> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let (config, read) = Config::discover(explicit, &cwd)?;
    if let Some(path) = read {
        tracing::debug!(path = %path.display(), forge = config.forge.as_str(), "configuration read");
    }
    Ok(config)
}

/// The GitHub settings in force: the configuration's `[github]` with `org` and
/// `bot_user` overridden by flags.
pub(crate) fn github_config(
    config: &Config,
    org: Option<&str>,
    bot_user: Option<&str>,
) -> GitHubConfig {
    let mut github = config.github.clone();
    if let Some(org) = org {
        github.org = org.to_owned();
    }
    if let Some(bot_user) = bot_user {
        github.bot_user = bot_user.to_owned();
    }
    github
}

/// Opens the GitHub forge with its state (`github.sqlite`, git work repositories) in
/// `data_dir`, reading the token from the environment variable the configuration names.
pub(crate) fn open_github(github: GitHubConfig, data_dir: &Path) -> anyhow::Result<GitHubForge> {
    let api_url = github.api_url.clone();
    GitHubForge::open(github, data_dir, &|name| std::env::var(name).ok())
        .with_context(|| format!("cannot open the GitHub forge at {api_url}"))
}

/// Opens the forge `choice` and the configuration select, with its state under
/// `data_dir`.
pub(crate) fn open(choice: &ForgeChoiceArgs, data_dir: &Path) -> anyhow::Result<OpenedForge> {
    let config = load_config(choice.config.as_deref())?;
    let kind = choice.kind.map_or(config.forge, ForgeKind::from);
    match kind {
        ForgeKind::Local => {
            let forge_dir = choice
                .forge_dir
                .clone()
                .or_else(|| config.local.forge_dir.clone())
                .unwrap_or_else(|| data_dir.join("forge"));
            let options = LocalForgeOptions {
                org: choice
                    .org
                    .clone()
                    .or_else(|| config.local.org.clone())
                    .unwrap_or_else(|| DEFAULT_ORG.to_owned()),
                bot_user: choice
                    .bot_user
                    .clone()
                    .or_else(|| config.local.bot_user.clone())
                    .unwrap_or_else(|| DEFAULT_BOT_USER.to_owned()),
            };
            let forge = LocalForge::open(&forge_dir, &options)
                .with_context(|| format!("opening the local forge in `{}`", forge_dir.display()))?;
            Ok(OpenedForge {
                forge: Box::new(forge),
                bot_user: options.bot_user,
            })
        }
        ForgeKind::Github => {
            if let Some(dir) = &choice.forge_dir {
                anyhow::bail!(
                    "--forge-dir `{}` names a local forge, but the forge is GitHub",
                    dir.display()
                );
            }
            let github = github_config(&config, choice.org.as_deref(), choice.bot_user.as_deref());
            let bot_user = github.bot_user.clone();
            let forge = open_github(github, data_dir)?;
            Ok(OpenedForge {
                forge: Box::new(forge),
                bot_user,
            })
        }
    }
}
