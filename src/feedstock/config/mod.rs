//! `conda-forge.yml`, typed: the keys that decide platforms (`provider`, `build_platform`,
//! `noarch_platforms`, `os_version`, `test`) and the whole `bot:` section (reference §7).
//!
//! Parsing has two stages. The wire form is the YAML tree with the line of every mapping
//! value (`wire::Node`); the domain form is [`ForgeConfig`]. Real files carry legacy and
//! misspelled keys, so nothing below the top level fails the parse: a key of the wrong
//! type or with an unknown value becomes a [`ConfigWarning`] naming the key and its line,
//! and everything else is still read. A key that neither cascade nor conda-smithy knows is
//! kept in `extras` and warned about; keys conda-smithy knows but cascade does not use
//! (`github`, `conda_build`, ...) are kept without a warning. Only a file that is not
//! YAML, or whose top level is not a mapping, is an error.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rattler_conda_types::Subdir;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_saphyr::Spanned;

mod bot;
pub mod edit;
pub mod patch;
mod wire;

pub use bot::{Automerge, BotConfig, Inspection, NvidiaSource, VersionSource, VersionUpdates};
use wire::{Node, Reader, line_of};

/// Top-level keys conda-smithy defines that cascade keeps but does not interpret.
#[rustfmt::skip]
const SMITHY_KEYS: &[&str] = &[
    "appveyor", "azure", "build_with_mambabuild", "channel_priority", "channels", "choco",
    "circle", "clone_depth", "conda_build", "conda_build_tool",
    "conda_forge_output_validation", "conda_install_tool", "conda_solver", "config_version",
    "docker", "drone", "exclusive_config_file", "github", "github_actions",
    "idle_timeout_minutes", "linter", "matrix", "package", "private_upload", "recipe_dir",
    "remote_ci_setup", "secrets", "shellcheck", "skip_render", "templates", "timeout_minutes",
    "travis", "upload_on_branch", "woodpecker", "workflow_settings",
];

/// Legacy top-level keys the bot's `CondaForgeYAMLCleanup` removes or rewrites.
const LEGACY_KEYS: &[&str] = &[
    "compiler_stack",
    "max_py_ver",
    "max_r_ver",
    "min_py_ver",
    "min_r_ver",
    "test_on_native_only",
];

/// `conda-forge.yml` is not something we can read at all.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not YAML.
    #[error("not YAML{}: {message}", at_line(*line))]
    NotYaml {
        /// 1-based line of the syntax error, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// The top level is a scalar or a list, not a mapping.
    #[error("the top level is not a mapping{}", at_line(*line))]
    NotAMapping {
        /// 1-based line of the top-level node, when known.
        line: Option<usize>,
    },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// Something in `conda-forge.yml` that cascade read around.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigWarning {
    /// The dotted key path, e.g. `bot.automerge`.
    pub key: String,
    /// 1-based line of the value, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: WarningKind,
}

/// Why a key produced a warning.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WarningKind {
    /// Neither cascade nor conda-smithy knows the key; it is kept in `extras`.
    UnknownKey,
    /// A legacy key the bot's cleanup migrator removes or rewrites; kept in `extras`.
    LegacyKey,
    /// The value has the wrong type or an unknown value; the key keeps its default.
    Invalid {
        /// What was expected and what was found.
        message: String,
    },
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "conda-forge.yml:{line}: ")?;
        } else {
            f.write_str("conda-forge.yml: ")?;
        }
        match &self.kind {
            WarningKind::UnknownKey => write!(f, "unknown key `{}` (kept, not used)", self.key),
            WarningKind::LegacyKey => write!(f, "legacy key `{}` (the bot removes it)", self.key),
            WarningKind::Invalid { message } => write!(f, "`{}`: {message}", self.key),
        }
    }
}

/// A CI service a platform is built on (`provider:` values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CiProvider {
    /// `default`: the platform's default service.
    Default,
    /// `azure`.
    Azure,
    /// `github_actions`.
    GithubActions,
    /// `native`: a native runner (travis for ppc64le/s390x).
    Native,
    /// `emulated`: the default service, emulated.
    Emulated,
    /// `travis` (deprecated).
    Travis,
    /// `circle` (deprecated).
    Circle,
    /// `appveyor` (deprecated).
    Appveyor,
    /// `drone` (deprecated).
    Drone,
    /// `woodpecker` (deprecated).
    Woodpecker,
    /// Any other service name, e.g. a cirun runner label.
    Other(String),
}

impl CiProvider {
    fn parse(name: &str) -> CiProvider {
        match name {
            "default" => CiProvider::Default,
            "azure" => CiProvider::Azure,
            "github_actions" => CiProvider::GithubActions,
            "native" => CiProvider::Native,
            "emulated" => CiProvider::Emulated,
            "travis" => CiProvider::Travis,
            "circle" => CiProvider::Circle,
            "appveyor" => CiProvider::Appveyor,
            "drone" => CiProvider::Drone,
            "woodpecker" => CiProvider::Woodpecker,
            other => CiProvider::Other(other.to_string()),
        }
    }
}

/// `test:`: which builds run their tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestMode {
    /// Every build (smithy's default).
    All,
    /// Native builds only.
    Native,
    /// Native and emulated builds, not cross-compiled ones.
    NativeAndEmulated,
}

/// The parsed `conda-forge.yml`. An absent or empty file is [`ForgeConfig::default`].
///
/// Platform keys stay as written (`linux_aarch64`, or an alias such as `win`);
/// [`ForgeConfig::provider_platforms`] and [`ForgeConfig::build_platform_of`] resolve them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForgeConfig {
    /// `provider`: platform key → CI services (empty: the platform is disabled).
    pub provider: BTreeMap<String, Vec<CiProvider>>,
    /// `build_platform`: target platform key → build platform key (`osx_arm64: osx_64`).
    pub build_platform: BTreeMap<String, String>,
    /// `noarch_platforms` (a single string is a one-element list).
    pub noarch_platforms: Vec<String>,
    /// `os_version`: linux platform key → image family (`alma9`), `None` for null.
    pub os_version: BTreeMap<String, Option<String>>,
    /// `test`, when set.
    pub test: Option<TestMode>,
    /// The `bot:` section.
    pub bot: BotConfig,
    /// Every top-level key cascade does not model, as written (also legacy and unknown keys).
    pub extras: BTreeMap<String, Value>,
    /// Unknown keys of the `bot:` section (the bot's schema forbids them), by dotted path.
    pub bot_extras: BTreeMap<String, Value>,
    warnings: Vec<ConfigWarning>,
}

impl ForgeConfig {
    /// What was read around: unknown and legacy keys, values of the wrong type.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// Platforms named by `provider` keys with an architecture, such as `linux_aarch64`
    /// (aliases like `win` name no single platform).
    pub fn provider_platforms(&self) -> Vec<Subdir> {
        self.provider
            .keys()
            .filter_map(|k| platform_of_key(k))
            .collect()
    }

    /// The platform `target` is built on, when `build_platform` says it is cross-compiled
    /// (`osx_arm64: osx_64` → `Some(osx-64)` for osx-arm64).
    pub fn build_platform_of(&self, target: Subdir) -> Option<Subdir> {
        self.build_platform
            .iter()
            .find(|(key, _)| platform_of_key(key) == Some(target))
            .and_then(|(_, build)| platform_of_key(build))
    }
}

/// `linux_aarch64` → linux-aarch64.
fn platform_of_key(key: &str) -> Option<Subdir> {
    Subdir::from_str(&key.replacen('_', "-", 1)).ok()
}

/// Parses `conda-forge.yml` text. Fails only when the text is not YAML or its top level
/// is not a mapping; see [`ForgeConfig::warnings`] for everything else.
pub fn parse(text: &str) -> Result<ForgeConfig, ConfigError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    let root: Option<Spanned<Node>> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| ConfigError::NotYaml {
            line: e.location().and_then(|l| usize::try_from(l.line()).ok()),
            message: e.to_string(),
        })?;
    let Some(root) = root else {
        return Ok(ForgeConfig::default());
    };
    match root.value {
        Node::Map(entries) => Ok(Reader::default().forge_config(entries)),
        Node::Value(Value::Null) => Ok(ForgeConfig::default()),
        Node::Value(_) => Err(ConfigError::NotAMapping {
            line: line_of(&root),
        }),
    }
}

impl Reader {
    fn forge_config(mut self, entries: Vec<(String, Spanned<Node>)>) -> ForgeConfig {
        let mut config = ForgeConfig::default();
        for (key, node) in entries {
            match key.as_str() {
                "provider" => config.provider = self.provider(node),
                "build_platform" => {
                    config.build_platform = self.typed(&key, node).unwrap_or_default();
                }
                "noarch_platforms" => {
                    config.noarch_platforms = self.string_or_list(&key, node).unwrap_or_default();
                }
                "os_version" => config.os_version = self.typed(&key, node).unwrap_or_default(),
                "test" => config.test = self.typed(&key, node),
                "bot" => config.bot = self.bot(node, &mut config.bot_extras),
                _ => {
                    if LEGACY_KEYS.contains(&key.as_str()) {
                        self.warn(&key, &node, WarningKind::LegacyKey);
                    } else if !SMITHY_KEYS.contains(&key.as_str()) {
                        self.warn(&key, &node, WarningKind::UnknownKey);
                    }
                    config.extras.insert(key, node.value.into_value());
                }
            }
        }
        config.warnings = self.warnings;
        config
    }

    fn provider(&mut self, node: Spanned<Node>) -> BTreeMap<String, Vec<CiProvider>> {
        let mut providers = BTreeMap::new();
        for (platform, node) in self.entries("provider", node).unwrap_or_default() {
            let services = match node.value.clone().into_value() {
                Value::Null | Value::Bool(false) => Some(Vec::new()),
                Value::String(name) => Some(vec![CiProvider::parse(&name)]),
                Value::Array(items) => items
                    .iter()
                    .map(|item| item.as_str().map(CiProvider::parse))
                    .collect(),
                _ => None,
            };
            match services {
                Some(services) => {
                    providers.insert(platform, services);
                }
                None => self.invalid(
                    &format!("provider.{platform}"),
                    &node,
                    "expected a service name, a list of names, null or false",
                ),
            }
        }
        providers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_comment_only_files_are_the_default_config() {
        for text in ["", "\n", "# nothing here\n", "---\n", "~\n"] {
            let config = parse(text).unwrap();
            assert_eq!(config, ForgeConfig::default(), "{text:?}");
            assert!(config.bot.remake_prs_with_conflicts);
        }
    }

    #[test]
    fn non_yaml_and_non_mappings_are_errors_with_a_line() {
        let err = parse("bot:\n  automerge: [true\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::NotYaml { line: Some(_), .. }),
            "{err}"
        );
        let err = parse("- a\n- b\n").unwrap_err();
        assert_eq!(err, ConfigError::NotAMapping { line: Some(1) });
        assert!(parse("just a string\n").is_err());
    }

    #[test]
    fn platform_keys_are_typed() {
        let text = "provider:\n  linux_aarch64: default\n  linux_ppc64le: [azure, native]\n  win: azure\n  osx_64: null\n  linux_s390x: false\n  osx_arm64: cirun-macos-m1\nbuild_platform:\n  osx_arm64: osx_64\n  linux_aarch64: linux_64\nnoarch_platforms: osx_64\nos_version:\n  linux_64: alma9\n  linux_aarch64: null\ntest: native_and_emulated\n";
        let config = parse(text).unwrap();
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        assert_eq!(config.provider["linux_aarch64"], [CiProvider::Default]);
        assert_eq!(
            config.provider["linux_ppc64le"],
            [CiProvider::Azure, CiProvider::Native]
        );
        assert!(config.provider["osx_64"].is_empty());
        assert!(config.provider["linux_s390x"].is_empty());
        assert_eq!(
            config.provider["osx_arm64"],
            [CiProvider::Other("cirun-macos-m1".to_string())]
        );
        let mut platforms = config.provider_platforms();
        platforms.sort_by_key(|p| p.as_str());
        assert_eq!(
            platforms,
            [
                Subdir::LinuxAarch64,
                Subdir::LinuxPpc64le,
                Subdir::LinuxS390X,
                Subdir::Osx64,
                Subdir::OsxArm64
            ]
        );
        assert_eq!(
            config.build_platform_of(Subdir::OsxArm64),
            Some(Subdir::Osx64)
        );
        assert_eq!(config.build_platform_of(Subdir::Linux64), None);
        assert_eq!(config.noarch_platforms, ["osx_64"]);
        assert_eq!(config.os_version["linux_64"].as_deref(), Some("alma9"));
        assert_eq!(config.os_version["linux_aarch64"], None);
        assert_eq!(config.test, Some(TestMode::NativeAndEmulated));
    }

    #[test]
    fn unknown_and_legacy_keys_are_kept_and_warned_about() {
        let text = "github:\n  branch_name: main\nmy_own_key: 1\ncompiler_stack: comp7\nbot:\n  autmerge: true\n  version_updates:\n    sorces: [pypi]\n";
        let config = parse(text).unwrap();
        let kinds: Vec<(&str, &WarningKind)> = config
            .warnings()
            .iter()
            .map(|w| (w.key.as_str(), &w.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("my_own_key", &WarningKind::UnknownKey),
                ("compiler_stack", &WarningKind::LegacyKey),
                ("bot.autmerge", &WarningKind::UnknownKey),
                ("bot.version_updates.sorces", &WarningKind::UnknownKey),
            ]
        );
        assert_eq!(config.extras["my_own_key"], serde_json::json!(1));
        assert_eq!(config.extras["github"]["branch_name"], "main");
        assert_eq!(config.bot_extras["bot.autmerge"], serde_json::json!(true));
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let config = parse("bot:\n  automerge: true\n  automerge: false\n").unwrap();
        assert_eq!(config.bot.automerge, Automerge::Off);
    }

    #[test]
    fn every_real_conda_forge_yml_parses() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feedstocks");
        if !root.is_dir() {
            eprintln!("skipping: {} is absent", root.display());
            return;
        }
        let mut parsed = 0;
        let mut failures = Vec::new();
        let mut warnings = Vec::new();
        let mut with_bot = 0;
        for entry in fs_err::read_dir(&root).unwrap() {
            let path = entry.unwrap().path().join("conda-forge.yml");
            let Ok(text) = fs_err::read_to_string(&path) else {
                continue;
            };
            match parse(&text) {
                Ok(config) => {
                    parsed += 1;
                    if config.bot != BotConfig::default() {
                        with_bot += 1;
                    }
                    let name = path
                        .parent()
                        .unwrap()
                        .file_name()
                        .unwrap()
                        .to_string_lossy();
                    warnings.extend(config.warnings().iter().map(|w| format!("{name}: {w}")));
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
        eprintln!(
            "conda-forge.yml: {parsed}/{} parsed, {with_bot} with a non-default bot section, {} warnings",
            parsed + failures.len(),
            warnings.len()
        );
        for warning in &warnings {
            eprintln!("  {warning}");
        }
        assert_eq!(parsed, 137);
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
