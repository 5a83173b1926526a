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
//! Adding a migration of an existing kind is one YAML file (plus its allowlist, if any)
//! for [`load_dir`], and one line in the compiled-in table for [`embedded`] (a test
//! fails until it is there). Adding a kind is one module with a
//! `from_definition(Common, &mut Fields)` constructor and one arm in `build` below. The
//! folder is compiled into the binary so that cascade runs from a fresh clone anywhere.

mod fields;

use std::path::{Component, Path, PathBuf};

use crate::feedstock::config::ForgeConfig;
use crate::pinning::Pinning;

pub(crate) use fields::Fields;

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
        include_str!("../../../migrators/arch-aarch64-ppc64le.yaml"),
    ),
    (
        "arch-osx-arm64.yaml",
        include_str!("../../../migrators/arch-osx-arm64.yaml"),
    ),
    (
        "arch-win-arm64.yaml",
        include_str!("../../../migrators/arch-win-arm64.yaml"),
    ),
    (
        "maintenance.yaml",
        include_str!("../../../migrators/maintenance.yaml"),
    ),
    (
        "mpir-to-gmp.yaml",
        include_str!("../../../migrators/mpir-to-gmp.yaml"),
    ),
    (
        "astropy-to-astropy-base.yaml",
        include_str!("../../../migrators/astropy-to-astropy-base.yaml"),
    ),
    (
        "arch/arch_rebuild.txt",
        include_str!("../../../migrators/arch/arch_rebuild.txt"),
    ),
    (
        "arch/osx_arm64.txt",
        include_str!("../../../migrators/arch/osx_arm64.txt"),
    ),
    (
        "arch/win_arm64.txt",
        include_str!("../../../migrators/arch/win_arm64.txt"),
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

/// The compiled-in copy of the `migrators/` folder: (path relative to the folder, text),
/// the definitions and the data files they name.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    EMBEDDED
}

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
            max_open_per_node: defaults.max_open_per_node,
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
