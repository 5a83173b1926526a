//! `cascade.toml`: which forge the bot talks to and how to reach it.
//!
//! The file is optional: without it cascade uses the local forge, as before. It is
//! read from `--config FILE`, else from `./cascade.toml` when that exists. Every table
//! refuses unknown keys, and a mistake is reported with the file, line and column
//! (`cascade.toml:7:1: unknown field `api_ur`, expected one of ...`). Command-line
//! flags override what the file says (`--forge github`), in `src/cli/`.
//!
//! Secrets never live here: `[github.auth]` names the environment variable holding
//! the token (or the App's key), never the token itself.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::forge::github::GitHubConfig;

/// The file name looked up in the working directory.
pub const DEFAULT_FILE: &str = "cascade.toml";

/// The settings of `cascade.toml`, every key defaulted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The forge a run uses.
    pub forge: ForgeKind,
    /// The GitHub forge (`[github]`, with `[github.auth]`, `[github.auth.app]` and
    /// `[github.limits]`).
    pub github: GitHubConfig,
    /// The local forge (`[local]`).
    pub local: LocalConfig,
}

/// Which forge a run talks to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForgeKind {
    /// Bare git repositories and a PR table on disk (the default; offline).
    #[default]
    Local,
    /// GitHub (or a server speaking its API), configured by `[github]`.
    Github,
}

impl ForgeKind {
    /// `local` or `github`, as written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::Local => "local",
            ForgeKind::Github => "github",
        }
    }
}

/// The local forge's settings; each unset key falls back to the command line's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// The forge's directory (default: `<data-dir>/forge`). A relative path is relative
    /// to the working directory, as on the command line.
    pub forge_dir: Option<PathBuf>,
    /// The organisation owning the feedstock repositories.
    pub org: Option<String>,
    /// The bot's user name (owner of the forks, author of the commits).
    pub bot_user: Option<String>,
}

/// A `cascade.toml` that could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (a `--config` file that does not exist, say).
    #[error("failed to read the configuration `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, or holds an unknown key or a value of the wrong type.
    #[error("{}{}: {message}", .path.display(), location(*.line, *.column))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the mistake, when TOML could point at it.
        line: Option<usize>,
        /// The 1-based column (in characters).
        column: Option<usize>,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// `:line:column`, or nothing when unknown.
fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

impl Config {
    /// Parses the text of `path` (the path names the file in errors only).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|error| {
            let (line, column) = error
                .span()
                .map(|span| line_column(text, span.start))
                .map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ConfigError::Invalid {
                path: path.to_path_buf(),
                line,
                column,
                message: error.message().trim_end().to_owned(),
            }
        })
    }

    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = fs_err::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// The configuration in force: `explicit` (`--config FILE`, which must exist), else
    /// `cwd/cascade.toml` when present, else the defaults. Returns the file read, if any.
    pub fn discover(
        explicit: Option<&Path>,
        cwd: &Path,
    ) -> Result<(Config, Option<PathBuf>), ConfigError> {
        if let Some(path) = explicit {
            return Ok((Config::load(path)?, Some(path.to_path_buf())));
        }
        let default = cwd.join(DEFAULT_FILE);
        if default.is_file() {
            return Ok((Config::load(&default)?, Some(default)));
        }
        Ok((Config::default(), None))
    }
}

/// The 1-based line and character column of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::github::Transport;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("cascade.toml"))
    }

    #[test]
    fn an_empty_file_is_the_local_forge_with_github_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.forge, ForgeKind::Local);
        assert_eq!(config.github.org, "conda-forge");
        assert_eq!(config.github.auth.token_env, "CASCADE_GITHUB_TOKEN");
        assert_eq!(config.github.limits.creates_per_hour, 500);
    }

    #[test]
    fn tables_override_only_the_keys_they_name() {
        let config = parse(
            "forge = \"github\"\n[github]\norg = \"my-org\"\ntransport = \"git-mirrored-to-api\"\n\
             [github.limits]\ncreates_per_minute = 10\n[local]\nbot_user = \"me\"\n",
        )
        .unwrap();
        assert_eq!(config.forge, ForgeKind::Github);
        assert_eq!(config.github.org, "my-org");
        assert_eq!(config.github.bot_user, "regro-cf-autotick-bot");
        assert_eq!(config.github.transport, Transport::GitMirroredToApi);
        assert_eq!(config.github.limits.creates_per_minute, 10);
        assert_eq!(config.github.limits.creates_per_hour, 500);
        assert_eq!(config.local.bot_user.as_deref(), Some("me"));
        assert_eq!(config.local.org, None);
    }

    #[test]
    fn an_unknown_key_is_refused_at_its_line_and_column() {
        let error = parse("[github]\norg = \"x\"\n  api_ur = \"http://x\"\n").unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("cascade.toml:3:3: "), "{text}");
        assert!(text.contains("api_ur"), "{text}");
    }

    #[test]
    fn a_wrong_forge_kind_names_the_value() {
        let text = parse("forge = \"gitlab\"\n").unwrap_err().to_string();
        assert!(text.starts_with("cascade.toml:1:9: "), "{text}");
        assert!(text.contains("gitlab"), "{text}");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_column("é = 1\nab", 7), (2, 1));
        assert_eq!(line_column("é = 1\nab", 8), (2, 2));
        assert_eq!(line_column("é", 2), (1, 2));
    }

    #[test]
    fn a_missing_explicit_file_is_an_error_and_a_missing_default_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        assert!(matches!(
            Config::discover(Some(&missing), dir.path()),
            Err(ConfigError::Read { .. })
        ));
        let (config, read) = Config::discover(None, dir.path()).unwrap();
        assert_eq!((config, read), (Config::default(), None));
        fs_err::write(dir.path().join(DEFAULT_FILE), "forge = \"github\"\n").unwrap();
        let (config, read) = Config::discover(None, dir.path()).unwrap();
        assert_eq!(config.forge, ForgeKind::Github);
        assert_eq!(read, Some(dir.path().join(DEFAULT_FILE)));
    }
}
