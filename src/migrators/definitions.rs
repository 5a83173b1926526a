//! Declarative migrations: one YAML file per migration in the top-level `migrators/`
//! folder (architecture rollouts, the maintenance rerender, package replacements), read
//! into [`Migrator`]s.
//!
//! A file is a mapping with `kind` and `name`, the engine keys every kind shares, and the
//! keys of its kind:
//!
//! ```yaml
//! kind: replacement          # which module reads the rest
//! name: mpir-to-gmp          # the report name: unique, [a-z0-9][a-z0-9._-]*
//! description: ...           # free text, for people
//! pr_limit: 5                # 1..=20, PRs per run before the ramp
//! ramp: true                 # apply the PR-limit ramp
//! paused: false              # planned and reported, never opens PRs
//! longterm: false            # reported in its own bucket, run after the others
//! automerge: false           # the migration allows `[bot-automerge]`
//! wait_for_migrators: []     # migrations that must be done on a node first
//! ignored_deps_per_node: {}  # feedstock -> parents that do not gate it
//! old: mpir                  # ... and the kind's own keys
//! new: gmp
//! ```
//!
//! Whether a kind gates nodes on their parents is the kind's decision, not the file's.
//! Every problem is a [`DefinitionError`] naming the file, the line and the key; an
//! unknown key is an error listing the valid ones (these files are ours, unlike
//! `conda-forge.yml`), and one bad file does not stop the others from loading.
//!
//! Adding a migration of an existing kind is one YAML file (plus its allowlist, if any).
//! Adding a kind is one module with a `from_definition(Common, &mut Fields)` constructor
//! and one arm in [`build`]. The folder is also compiled into the binary ([`embedded`])
//! so that cascade runs from a fresh clone anywhere; a test keeps the two identical.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::feedstock::config::ForgeConfig;
use crate::pinning::Pinning;

use super::arch::Architecture;
use super::maintenance::Maintenance;
use super::migrator::{Identity, Migrator, Settings};
use super::replacement::Replacement;

/// The largest `pr_limit` a definition may ask for (the bot's `MAX_PR_LIMIT`).
const MAX_PR_LIMIT: u32 = 20;

/// The shipped `migrators/` folder, compiled in: (path relative to the folder, text).
const EMBEDDED: &[(&str, &str)] = &[
    (
        "arch-aarch64-ppc64le.yaml",
        include_str!("../../migrators/arch-aarch64-ppc64le.yaml"),
    ),
    (
        "arch-osx-arm64.yaml",
        include_str!("../../migrators/arch-osx-arm64.yaml"),
    ),
    (
        "arch-win-arm64.yaml",
        include_str!("../../migrators/arch-win-arm64.yaml"),
    ),
    (
        "maintenance.yaml",
        include_str!("../../migrators/maintenance.yaml"),
    ),
    (
        "mpir-to-gmp.yaml",
        include_str!("../../migrators/mpir-to-gmp.yaml"),
    ),
    (
        "astropy-to-astropy-base.yaml",
        include_str!("../../migrators/astropy-to-astropy-base.yaml"),
    ),
    (
        "arch/arch_rebuild.txt",
        include_str!("../../migrators/arch/arch_rebuild.txt"),
    ),
    (
        "arch/osx_arm64.txt",
        include_str!("../../migrators/arch/osx_arm64.txt"),
    ),
    (
        "arch/win_arm64.txt",
        include_str!("../../migrators/arch/win_arm64.txt"),
    ),
];

/// One problem with one definition file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{kind}", .file.display(), line_suffix(*.line), key_prefix(.key.as_deref()))]
pub struct DefinitionError {
    /// The file at fault (`migrators/x.yaml`; for the compiled-in set, the path it has in
    /// the repository).
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key at fault, when there is one.
    pub key: Option<String>,
    /// What is wrong.
    pub kind: DefinitionErrorKind,
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn key_prefix(key: Option<&str>) -> String {
    key.map(|k| format!("`{k}`: ")).unwrap_or_default()
}

/// Why a definition file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionErrorKind {
    /// The file (or the folder) could not be read.
    #[error("cannot read: {message}")]
    Read {
        /// The I/O error.
        message: String,
    },
    /// The text is not YAML.
    #[error("not YAML: {message}")]
    NotYaml {
        /// The parser's message.
        message: String,
    },
    /// The top level is not a mapping.
    #[error("the top level must be a mapping of keys")]
    NotAMapping,
    /// A required key is absent.
    #[error("missing required key")]
    MissingKey,
    /// A key no part of the definition reads.
    #[error("unknown key (valid keys: {})", .valid.join(", "))]
    UnknownKey {
        /// Every key the file's kind accepts.
        valid: Vec<String>,
    },
    /// A value of the wrong type or out of range.
    #[error("{message}")]
    Invalid {
        /// What was expected and what was found.
        message: String,
    },
    /// `kind` names no migrator family.
    #[error("unknown kind `{kind}` (known: architecture, maintenance, replacement)")]
    UnknownKind {
        /// The kind written.
        kind: String,
    },
    /// Two files define the same `name`.
    #[error("the name `{name}` is also defined in `{}`", .other.display())]
    DuplicateName {
        /// The name.
        name: String,
        /// The file that defined it first.
        other: PathBuf,
    },
}

/// Loads every `*.yaml` / `*.yml` file directly inside `dir` (sub-folders hold allowlists
/// and other data and are not definitions). `pinning` is the pinning the run rerenders
/// against; the maintenance migrator's uids depend on it.
///
/// Returns the migrators that loaded, in file-name order, and an error for every
/// problem found; a file with any error yields no migrator.
pub fn load_dir(dir: &Path, pinning: &Pinning) -> (Vec<Box<dyn Migrator>>, Vec<DefinitionError>) {
    load(&Folder::Disk(dir), pinning)
}

/// The definitions shipped with cascade (the repository's `migrators/` folder as it was
/// when cascade was built), for runs without that folder.
pub fn embedded(pinning: &Pinning) -> (Vec<Box<dyn Migrator>>, Vec<DefinitionError>) {
    load(&Folder::Embedded, pinning)
}

/// A definition file: its name relative to the folder, and its text or why it could not
/// be read.
type SourceFile = (String, Result<String, String>);

/// Where definition files and the files they name come from.
enum Folder<'a> {
    Disk(&'a Path),
    Embedded,
}

impl Folder<'_> {
    fn display_path(&self, relative: &str) -> PathBuf {
        match self {
            Folder::Disk(dir) => dir.join(relative),
            Folder::Embedded => Path::new("migrators").join(relative),
        }
    }

    /// The definition files: (relative name, text or read error), sorted by name.
    fn definitions(&self) -> Result<Vec<SourceFile>, DefinitionError> {
        let mut files = match self {
            Folder::Embedded => EMBEDDED
                .iter()
                .filter(|(name, _)| is_definition(name))
                .map(|(name, text)| (name.to_string(), Ok(text.to_string())))
                .collect(),
            Folder::Disk(dir) => {
                let entries = fs_err::read_dir(dir).map_err(|e| DefinitionError {
                    file: dir.to_path_buf(),
                    line: None,
                    key: None,
                    kind: DefinitionErrorKind::Read {
                        message: e.to_string(),
                    },
                })?;
                let mut files = Vec::new();
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                        continue;
                    };
                    if is_definition(name) && path.is_file() {
                        let text = fs_err::read_to_string(&path).map_err(|e| e.to_string());
                        files.push((name.to_string(), text));
                    }
                }
                files
            }
        };
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files)
    }

    /// A data file a definition names, relative to the folder.
    fn read(&self, relative: &str) -> Result<String, String> {
        let path = Path::new(relative);
        let inside = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return Err("must be a relative path inside the definitions folder".to_string());
        }
        match self {
            Folder::Disk(dir) => fs_err::read_to_string(dir.join(path)).map_err(|e| e.to_string()),
            Folder::Embedded => EMBEDDED
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| format!("`{relative}` is not among the compiled-in files")),
        }
    }
}

fn is_definition(name: &str) -> bool {
    !name.contains('/') && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn load(folder: &Folder<'_>, pinning: &Pinning) -> (Vec<Box<dyn Migrator>>, Vec<DefinitionError>) {
    let files = match folder.definitions() {
        Ok(files) => files,
        Err(error) => return (Vec::new(), vec![error]),
    };
    let mut migrators: Vec<(PathBuf, Box<dyn Migrator>)> = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in files {
        let file = folder.display_path(&name);
        let text = match text {
            Ok(text) => text,
            Err(message) => {
                errors.push(DefinitionError {
                    file,
                    line: None,
                    key: None,
                    kind: DefinitionErrorKind::Read { message },
                });
                continue;
            }
        };
        match parse_one(folder, file.clone(), &text, pinning) {
            Ok(migrator) => {
                if let Some((other, _)) =
                    migrators.iter().find(|(_, m)| m.name() == migrator.name())
                {
                    errors.push(DefinitionError {
                        file,
                        line: None,
                        key: Some("name".to_string()),
                        kind: DefinitionErrorKind::DuplicateName {
                            name: migrator.name().to_string(),
                            other: other.clone(),
                        },
                    });
                } else {
                    migrators.push((file, migrator));
                }
            }
            Err(mut file_errors) => errors.append(&mut file_errors),
        }
    }
    (migrators.into_iter().map(|(_, m)| m).collect(), errors)
}

/// Parses one definition text (`file` is only used in errors).
fn parse_one(
    folder: &Folder<'_>,
    file: PathBuf,
    text: &str,
    pinning: &Pinning,
) -> Result<Box<dyn Migrator>, Vec<DefinitionError>> {
    let mut fields = Fields::parse(folder, file, text).map_err(|e| vec![e])?;
    let kind: Option<String> = fields.require("kind");
    let common = Common::read(&mut fields);
    let migrator = match (kind, common) {
        (Some(kind), Some(common)) => build(&kind, common, &mut fields, pinning),
        // Without a kind the valid keys are unknown: report only what is wrong already.
        (None, _) => {
            fields.ignore_rest();
            None
        }
        (Some(_), None) => None,
    };
    fields.finish()?;
    migrator.ok_or_else(|| vec![fields.internal()])
}

/// The one place that knows every kind: `kind` → the module that reads the rest.
fn build(
    kind: &str,
    common: Common,
    fields: &mut Fields<'_>,
    pinning: &Pinning,
) -> Option<Box<dyn Migrator>> {
    match kind {
        "architecture" => {
            Architecture::from_definition(common, fields).map(|m| Box::new(m) as Box<dyn Migrator>)
        }
        "maintenance" => Maintenance::from_definition(common, fields, pinning)
            .map(|m| Box::new(m) as Box<dyn Migrator>),
        "replacement" => {
            Replacement::from_definition(common, fields).map(|m| Box::new(m) as Box<dyn Migrator>)
        }
        other => {
            fields.fail(
                "kind",
                DefinitionErrorKind::UnknownKind {
                    kind: other.to_string(),
                },
            );
            fields.ignore_rest();
            None
        }
    }
}

/// The keys every kind shares, read; each kind applies them over its own defaults.
#[derive(Debug, Clone)]
pub(crate) struct Common {
    /// The report name.
    pub(crate) name: String,
    /// Free text for people.
    pub(crate) description: Option<String>,
    pr_limit: Option<u32>,
    ramp: Option<bool>,
    paused: Option<bool>,
    longterm: Option<bool>,
    automerge: Option<bool>,
    wait_for_migrators: Option<Vec<String>>,
    ignored_deps_per_node: Option<std::collections::BTreeMap<String, Vec<String>>>,
}

impl Common {
    fn read(fields: &mut Fields<'_>) -> Option<Common> {
        let name: Option<String> = fields.require("name");
        let name = name.filter(|name| {
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && name.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                });
            if !valid {
                fields.invalid(
                    "name",
                    format!("`{name}` must match [a-z0-9][a-z0-9._-]* (it becomes a branch name)"),
                );
            }
            valid
        });
        let pr_limit = fields.take::<u32>("pr_limit").filter(|limit| {
            let valid = (1..=MAX_PR_LIMIT).contains(limit);
            if !valid {
                fields.invalid(
                    "pr_limit",
                    format!("{limit} is out of range 1..={MAX_PR_LIMIT}"),
                );
            }
            valid
        });
        let common = Common {
            description: fields.take("description"),
            pr_limit,
            ramp: fields.take("ramp"),
            paused: fields.take("paused"),
            longterm: fields.take("longterm"),
            automerge: fields.take("automerge"),
            wait_for_migrators: fields.take("wait_for_migrators"),
            ignored_deps_per_node: fields.take("ignored_deps_per_node"),
            name: name?,
        };
        Some(common)
    }

    /// The kind's defaults with the file's values on top.
    pub(crate) fn settings(&self, defaults: Settings) -> Settings {
        Settings {
            pr_limit: self.pr_limit.unwrap_or(defaults.pr_limit),
            ramp: self.ramp.unwrap_or(defaults.ramp),
            paused: self.paused.unwrap_or(defaults.paused),
            longterm: self.longterm.unwrap_or(defaults.longterm),
            automerge: self.automerge.unwrap_or(defaults.automerge),
            gated: defaults.gated,
            wait_for_migrators: self
                .wait_for_migrators
                .clone()
                .unwrap_or(defaults.wait_for_migrators),
            ignored_deps_per_node: self
                .ignored_deps_per_node
                .clone()
                .unwrap_or(defaults.ignored_deps_per_node),
        }
    }
}

/// The last paragraphs of every PR these migrations open: how to get the PR redone, and
/// where the migration's status page is.
pub(crate) fn pr_footer(identity: &Identity, migration: &str) -> String {
    format!(
        "If this PR was opened in error or needs to be updated, please add the `bot-rerun` \
         label to this PR. The bot will close this PR and schedule another one. If you do \
         not have permissions to add this label, you can use the phrase \
         <code>@<space/>conda-forge-admin, please rerun bot</code> in a PR comment to have \
         the `conda-forge-admin` add it for you.\n\n\
         <sub>This PR was created by {bot} (cascade {version}). Migration status: \
         {url}/?name={migration}</sub>\n",
        bot = identity.bot_user,
        version = env!("CARGO_PKG_VERSION"),
        url = identity.status_url.trim_end_matches('/'),
    )
}

/// The PR title: `[bot-automerge] ` first when the migration allows automerge and the
/// feedstock opts in to it for migrations.
pub(crate) fn pr_title(settings: &Settings, config: &ForgeConfig, title: &str) -> String {
    if settings.automerge && config.bot.automerge.migrations() {
        format!("[bot-automerge] {title}")
    } else {
        title.to_string()
    }
}

/// The keys of one definition file with their lines, handed out one by one. Whatever no
/// one asked for is an unknown key; every problem is collected, not just the first.
pub(crate) struct Fields<'a> {
    folder: &'a Folder<'a>,
    file: PathBuf,
    entries: Vec<Field>,
    asked: Vec<&'static str>,
    errors: Vec<DefinitionError>,
}

struct Field {
    key: String,
    line: Option<usize>,
    value: Value,
    taken: bool,
}

impl<'a> Fields<'a> {
    fn parse(
        folder: &'a Folder<'a>,
        file: PathBuf,
        text: &str,
    ) -> Result<Fields<'a>, DefinitionError> {
        let error = |line: Option<usize>, kind| DefinitionError {
            file: file.clone(),
            line,
            key: None,
            kind,
        };
        let root: Option<Spanned<TopLevel>> = serde_saphyr::from_str(text).map_err(|e| {
            error(
                e.location().and_then(|l| usize::try_from(l.line()).ok()),
                DefinitionErrorKind::NotYaml {
                    message: e.to_string(),
                },
            )
        })?;
        let entries = match root.map(|r| r.value) {
            Some(TopLevel::Map(entries)) => entries,
            None | Some(TopLevel::Other) => {
                return Err(error(Some(1), DefinitionErrorKind::NotAMapping));
            }
        };
        Ok(Fields {
            folder,
            file,
            entries: entries
                .into_iter()
                .map(|(key, value)| Field {
                    line: usize::try_from(key.referenced.line())
                        .ok()
                        .filter(|l| *l > 0),
                    key: key.value,
                    value: value.value,
                    taken: false,
                })
                .collect(),
            asked: Vec::new(),
            errors: Vec::new(),
        })
    }

    /// The value of an optional key, typed; `None` when absent or invalid (recorded).
    pub(crate) fn take<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        self.asked.push(key);
        let index = self.entries.iter().position(|f| f.key == key)?;
        let field = &mut self.entries[index];
        field.taken = true;
        match serde_json::from_value::<T>(field.value.clone()) {
            Ok(value) => Some(value),
            Err(e) => {
                let message = format!("{e} (found {})", field.value);
                self.invalid(key, message);
                None
            }
        }
    }

    /// The value of a required key; a missing key is recorded.
    pub(crate) fn require<T: DeserializeOwned>(&mut self, key: &'static str) -> Option<T> {
        let present = self.entries.iter().any(|f| f.key == key);
        if !present {
            self.asked.push(key);
            self.fail(key, DefinitionErrorKind::MissingKey);
            return None;
        }
        self.take(key)
    }

    /// Records an invalid value of `key`.
    pub(crate) fn invalid(&mut self, key: &str, message: String) {
        self.fail(key, DefinitionErrorKind::Invalid { message });
    }

    fn fail(&mut self, key: &str, kind: DefinitionErrorKind) {
        let line = self
            .entries
            .iter()
            .find(|f| f.key == key)
            .and_then(|f| f.line);
        self.errors.push(DefinitionError {
            file: self.file.clone(),
            line,
            key: Some(key.to_string()),
            kind,
        });
    }

    /// A data file named by `key` (relative to the definitions folder), or `None` with
    /// the problem recorded. Errors inside the data file are reported against it with
    /// [`Fields::data_error`].
    pub(crate) fn read_data(&mut self, key: &'static str, relative: &str) -> Option<String> {
        match self.folder.read(relative) {
            Ok(text) => Some(text),
            Err(message) => {
                self.invalid(key, format!("cannot read `{relative}`: {message}"));
                None
            }
        }
    }

    /// Records a problem at a line of a data file named by the definition.
    pub(crate) fn data_error(&mut self, relative: &str, line: usize, message: String) {
        self.errors.push(DefinitionError {
            file: self.folder.display_path(relative),
            line: Some(line),
            key: None,
            kind: DefinitionErrorKind::Invalid { message },
        });
    }

    /// Marks every key as read: the kind is unknown, so no key is "unknown".
    fn ignore_rest(&mut self) {
        for field in &mut self.entries {
            field.taken = true;
        }
    }

    /// Every problem, unknown keys included; `Ok` when there is none.
    fn finish(&mut self) -> Result<(), Vec<DefinitionError>> {
        let mut valid: Vec<String> = self.asked.iter().map(|k| k.to_string()).collect();
        valid.sort();
        valid.dedup();
        for field in self.entries.iter().filter(|f| !f.taken) {
            self.errors.push(DefinitionError {
                file: self.file.clone(),
                line: field.line,
                key: Some(field.key.clone()),
                kind: DefinitionErrorKind::UnknownKey {
                    valid: valid.clone(),
                },
            });
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }

    /// A kind constructor returned nothing without recording why (a bug in that kind).
    fn internal(&self) -> DefinitionError {
        DefinitionError {
            file: self.file.clone(),
            line: None,
            key: None,
            kind: DefinitionErrorKind::Invalid {
                message: "internal error: the definition was rejected without a reason".to_string(),
            },
        }
    }
}

/// The top level of a definition file: a mapping whose keys remember their line, or
/// anything else (an error).
enum TopLevel {
    Map(Vec<(Spanned<String>, Spanned<Value>)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel, D::Error> {
        deserializer.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Spanned<Value>>()?;
            entries.push((key, value));
        }
        Ok(TopLevel::Map(entries))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(TopLevel::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::Other)
    }
}
