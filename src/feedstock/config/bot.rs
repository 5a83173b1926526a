//! The `bot:` section of `conda-forge.yml` (the bot's `BotConfig`, reference §7).
//!
//! The bot's schema forbids unknown keys; here they are kept (in
//! `ForgeConfig::bot_extras`) and warned about, like every other key we read around.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::WarningKind;
use super::wire::{Node, Reader};

/// `bot.automerge`: `true`, `false`, `"version"` or `"migration"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Automerge {
    /// No automerge (`false`, the default).
    #[default]
    Off,
    /// Version and migration PRs (`true`).
    All,
    /// Version PRs only.
    Version,
    /// Migration PRs only (when the migration allows automerge).
    Migration,
}

impl Automerge {
    /// True when version-update PRs get `[bot-automerge]`.
    pub fn versions(self) -> bool {
        matches!(self, Automerge::All | Automerge::Version)
    }

    /// True when migration PRs get `[bot-automerge]` (if the migration also asks).
    pub fn migrations(self) -> bool {
        matches!(self, Automerge::All | Automerge::Migration)
    }
}

/// `bot.inspection`: dependency-analysis hints or updates on version PRs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Inspection {
    /// Hint about run dependencies (schema default).
    Hint,
    /// Hint about all dependencies.
    HintAll,
    /// Hint from the source.
    HintSource,
    /// Hint from grayskull.
    HintGrayskull,
    /// Rewrite all dependencies.
    UpdateAll,
    /// Rewrite from the source.
    UpdateSource,
    /// Rewrite from grayskull.
    UpdateGrayskull,
    /// No inspection.
    Disabled,
}

/// `bot.version_updates.sources` entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionSource {
    /// CRAN.
    Cran,
    /// GitHub tags via the Atom feed.
    Github,
    /// GitHub releases.
    Githubreleases,
    /// Incremental raw-URL guessing (pharo).
    Incrementalpharawurl,
    /// libraries.io (in the schema, absent from the bot's code).
    Librariesio,
    /// npm.
    Npm,
    /// NVIDIA's redistributable JSON.
    Nvidia,
    /// PyPI.
    Pypi,
    /// Raw URL guessing.
    Rawurl,
    /// ROS distributions.
    Rosdistro,
    /// git tags (in the code, not in the schema enum).
    Gittags,
    /// crates.io (in the code, not in the schema enum).
    Cratesio,
}

/// `bot.version_updates.nvidia`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NvidiaSource {
    /// `compute_subdir`.
    pub compute_subdir: Option<String>,
    /// `json_name` (the bot defaults to the feedstock name).
    pub json_name: Option<String>,
}

/// `bot.version_updates`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VersionUpdates {
    /// Keep this fraction of versions, deterministically per version string.
    pub random_fraction_to_keep: Option<f64>,
    /// Versions to ignore.
    pub exclude: Vec<String>,
    /// Restricts and orders the sources; `None` means all.
    pub sources: Option<Vec<VersionSource>>,
    /// No version PRs at all.
    pub skip: bool,
    /// Ignore odd minor versions (`None`: not set, the bot reads false).
    pub even_odd_versions: Option<bool>,
    /// Tag allowlist for GitHub, GitHub releases and git tags.
    pub allowed_tag_globs: Option<Vec<String>>,
    /// NVIDIA source parameters.
    pub nvidia: NvidiaSource,
    /// RawURL existence check with curl instead of wget (`None`: not set).
    pub use_curl: Option<bool>,
}

/// The `bot:` section (the bot's `BotConfig`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BotConfig {
    /// Which PRs get `[bot-automerge]`.
    pub automerge: Automerge,
    /// `None` when unset: the schema's default is true, the bot's code reads false.
    pub check_solvable: Option<bool>,
    /// `None` when unset: the schema says `hint`, version PRs read `disabled`.
    pub inspection: Option<Inspection>,
    /// Extra branches that get migration PRs (values as strings: `3.10`, not `3.1`).
    pub abi_migration_branches: Vec<String>,
    /// Read run dependencies from the wheel on PyPI sources.
    pub run_deps_from_wheel: bool,
    /// Opt in to the static-library migrator.
    pub update_static_libs: bool,
    /// Allow closing conflicting bot-only PRs so they get remade (default true).
    pub remake_prs_with_conflicts: bool,
    /// Version-update settings.
    pub version_updates: VersionUpdates,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            automerge: Automerge::Off,
            check_solvable: None,
            inspection: None,
            abi_migration_branches: Vec::new(),
            run_deps_from_wheel: false,
            update_static_libs: false,
            remake_prs_with_conflicts: true,
            version_updates: VersionUpdates::default(),
        }
    }
}

impl Reader {
    pub(super) fn bot(
        &mut self,
        node: Spanned<Node>,
        extras: &mut BTreeMap<String, Value>,
    ) -> BotConfig {
        let mut bot = BotConfig::default();
        for (name, node) in self.entries("bot", node).unwrap_or_default() {
            let key = format!("bot.{name}");
            match name.as_str() {
                "automerge" => bot.automerge = self.automerge(&key, node).unwrap_or_default(),
                "check_solvable" => bot.check_solvable = self.flag(&key, node),
                "inspection" => bot.inspection = self.typed(&key, node),
                "abi_migration_branches" => {
                    bot.abi_migration_branches =
                        self.string_or_list(&key, node).unwrap_or_default();
                }
                "run_deps_from_wheel" => {
                    bot.run_deps_from_wheel = self.flag(&key, node).unwrap_or(false);
                }
                "update_static_libs" => {
                    bot.update_static_libs = self.flag(&key, node).unwrap_or(false);
                }
                "remake_prs_with_conflicts" => {
                    bot.remake_prs_with_conflicts = self.flag(&key, node).unwrap_or(true);
                }
                "version_updates" => bot.version_updates = self.version_updates(node, extras),
                _ => {
                    self.warn(&key, &node, WarningKind::UnknownKey);
                    extras.insert(key, node.value.into_value());
                }
            }
        }
        bot
    }

    fn automerge(&mut self, key: &str, node: Spanned<Node>) -> Option<Automerge> {
        let automerge = match &node.value {
            Node::Value(Value::Bool(true)) => Some(Automerge::All),
            Node::Value(Value::Bool(false) | Value::Null) => Some(Automerge::Off),
            Node::Value(Value::String(s)) if s == "version" => Some(Automerge::Version),
            Node::Value(Value::String(s)) if s == "migration" => Some(Automerge::Migration),
            _ => None,
        };
        if automerge.is_none() {
            self.invalid(key, &node, "expected true, false, `version` or `migration`");
        }
        automerge
    }

    fn version_updates(
        &mut self,
        node: Spanned<Node>,
        extras: &mut BTreeMap<String, Value>,
    ) -> VersionUpdates {
        let mut updates = VersionUpdates::default();
        let entries = self
            .entries("bot.version_updates", node)
            .unwrap_or_default();
        for (name, node) in entries {
            let key = format!("bot.version_updates.{name}");
            match name.as_str() {
                "random_fraction_to_keep" => {
                    updates.random_fraction_to_keep = self.typed(&key, node);
                }
                "exclude" => updates.exclude = self.string_or_list(&key, node).unwrap_or_default(),
                "sources" => updates.sources = self.sources(&key, node),
                "skip" => updates.skip = self.flag(&key, node).unwrap_or(false),
                "even_odd_versions" => updates.even_odd_versions = self.flag(&key, node),
                "allowed_tag_globs" => updates.allowed_tag_globs = self.string_or_list(&key, node),
                "nvidia" => updates.nvidia = self.nvidia(&key, node, extras),
                "use_curl" => updates.use_curl = self.flag(&key, node),
                _ => {
                    self.warn(&key, &node, WarningKind::UnknownKey);
                    extras.insert(key, node.value.into_value());
                }
            }
        }
        updates
    }

    /// The sources list; an unknown source is warned about and left out.
    fn sources(&mut self, key: &str, node: Spanned<Node>) -> Option<Vec<VersionSource>> {
        let names = self.string_or_list(key, node.clone())?;
        let mut sources = Vec::new();
        for name in names {
            // The bot matches source names case-insensitively (`PyPI`, `pypi`).
            match serde_json::from_value(Value::String(name.to_lowercase())) {
                Ok(source) => sources.push(source),
                Err(e) => self.invalid(key, &node, format!("source `{name}`: {e}")),
            }
        }
        Some(sources)
    }

    fn nvidia(
        &mut self,
        key: &str,
        node: Spanned<Node>,
        extras: &mut BTreeMap<String, Value>,
    ) -> NvidiaSource {
        let mut nvidia = NvidiaSource::default();
        for (name, node) in self.entries(key, node).unwrap_or_default() {
            let key = format!("{key}.{name}");
            match name.as_str() {
                "compute_subdir" => nvidia.compute_subdir = self.typed(&key, node),
                "json_name" => nvidia.json_name = self.typed(&key, node),
                _ => {
                    self.warn(&key, &node, WarningKind::UnknownKey);
                    extras.insert(key, node.value.into_value());
                }
            }
        }
        nvidia
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CiProvider, parse};
    use super::*;

    fn warnings_of(text: &str) -> Vec<(String, Option<usize>)> {
        let config = parse(text).unwrap();
        config
            .warnings()
            .iter()
            .map(|w| (w.key.clone(), w.line))
            .collect()
    }

    #[test]
    fn version_sources_are_matched_case_insensitively_like_the_bot() {
        let config =
            parse("bot:\n  version_updates:\n    sources: [PyPI, GitHubReleases]\n").unwrap();
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        assert_eq!(
            config.bot.version_updates.sources.as_deref(),
            Some(&[VersionSource::Pypi, VersionSource::Githubreleases][..])
        );
    }

    #[test]
    fn every_bot_key_is_read() {
        let text = "bot:
  automerge: version
  check_solvable: false
  inspection: update-grayskull
  abi_migration_branches: [2.14, '3.10', v1.x]
  run_deps_from_wheel: true
  update_static_libs: true
  remake_prs_with_conflicts: false
  version_updates:
    random_fraction_to_keep: 0.1
    exclude: ['08.14', 2.0]
    sources: [github, rawurl, gittags]
    skip: true
    even_odd_versions: true
    allowed_tag_globs: 'v*'
    nvidia:
      compute_subdir: linux-x86_64
      json_name: cuda
    use_curl: true
";
        let config = parse(text).unwrap();
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        let bot = &config.bot;
        assert_eq!(bot.automerge, Automerge::Version);
        assert!(bot.automerge.versions() && !bot.automerge.migrations());
        assert_eq!(bot.check_solvable, Some(false));
        assert_eq!(bot.inspection, Some(Inspection::UpdateGrayskull));
        assert_eq!(bot.abi_migration_branches, ["2.14", "3.10", "v1.x"]);
        assert!(bot.run_deps_from_wheel && bot.update_static_libs);
        assert!(!bot.remake_prs_with_conflicts);
        let updates = &bot.version_updates;
        assert_eq!(updates.random_fraction_to_keep, Some(0.1));
        assert_eq!(updates.exclude, ["08.14", "2.0"]);
        assert_eq!(
            updates.sources.as_deref(),
            Some(
                &[
                    VersionSource::Github,
                    VersionSource::Rawurl,
                    VersionSource::Gittags
                ][..]
            )
        );
        assert!(updates.skip);
        assert_eq!(updates.even_odd_versions, Some(true));
        assert_eq!(
            updates.allowed_tag_globs.as_deref(),
            Some(&["v*".to_string()][..])
        );
        assert_eq!(
            updates.nvidia.compute_subdir.as_deref(),
            Some("linux-x86_64")
        );
        assert_eq!(updates.nvidia.json_name.as_deref(), Some("cuda"));
        assert_eq!(updates.use_curl, Some(true));
    }

    #[test]
    fn automerge_accepts_booleans_and_the_two_strings() {
        let cases = [
            ("true", Automerge::All),
            ("false", Automerge::Off),
            ("version", Automerge::Version),
            ("migration", Automerge::Migration),
        ];
        for (value, expected) in cases {
            let config = parse(&format!("bot:\n  automerge: {value}\n")).unwrap();
            assert_eq!(config.bot.automerge, expected, "{value}");
        }
    }

    #[test]
    fn a_wrong_type_warns_with_key_and_line_and_the_rest_still_parses() {
        let text = "provider:\n  linux_aarch64: default\nbot:\n  automerge: sometimes\n  check_solvable: maybe\n  inspection: hint-all\n  version_updates:\n    sources: [github, nosuchsource]\n    skip: 3\ntest: always\n";
        let config = parse(text).unwrap();
        assert_eq!(
            warnings_of(text),
            [
                ("bot.automerge".to_string(), Some(4)),
                ("bot.check_solvable".to_string(), Some(5)),
                ("bot.version_updates.sources".to_string(), Some(8)),
                ("bot.version_updates.skip".to_string(), Some(9)),
                ("test".to_string(), Some(10)),
            ]
        );
        assert_eq!(config.bot.automerge, Automerge::Off);
        assert_eq!(config.bot.inspection, Some(Inspection::HintAll));
        assert_eq!(
            config.bot.version_updates.sources.as_deref(),
            Some(&[VersionSource::Github][..])
        );
        assert_eq!(config.provider["linux_aarch64"], [CiProvider::Default]);
        let shown = config.warnings()[0].to_string();
        assert!(
            shown.starts_with("conda-forge.yml:4: `bot.automerge`"),
            "{shown}"
        );
    }
}
