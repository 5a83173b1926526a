//! A CFEP-09 migration file, typed: every `__migrator` key the bot or conda-smithy reads
//! (reference §3.3, "`__migrator` keys"), the pins, and the exact text.
//!
//! The file is read as YAML without evaluating `# [selector]` comments, as the bot does,
//! so a key written twice under different selectors counts once (the last wins). Unlike
//! the bot, an unknown `__migrator` key is an error naming the file, the line and the
//! closest known key: a typo such as `exlcude:` would otherwise silently migrate the
//! feedstocks it meant to leave out. A value of the wrong type is an error too; `null`
//! means "not set".

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::feedstock::config::patch::{Patch, PatchValue};
use crate::recipe::edit::spanned::{self, Spanned};

mod values;

use values::{Reader, closest_key};

/// Who reads a `__migrator` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyReader {
    /// The bot (planning, texts, limits).
    Bot,
    /// conda-smithy, when the rerender folds the migration into the variants.
    Smithy,
    /// Nobody: documentation or a legacy key, accepted and kept.
    Nobody,
}

/// Every `__migrator` key cascade accepts, with its reader. Anything else is an error.
pub const MIGRATOR_KEYS: &[(&str, KeyReader)] = &[
    ("kind", KeyReader::Nobody),
    ("migration_number", KeyReader::Bot),
    ("bump_number", KeyReader::Bot),
    ("build_number", KeyReader::Nobody),
    ("commit_message", KeyReader::Bot),
    ("paused", KeyReader::Bot),
    ("longterm", KeyReader::Bot),
    ("pr_limit", KeyReader::Bot),
    ("force_pr_after_solver_attempts", KeyReader::Bot),
    ("max_solver_attempts", KeyReader::Nobody),
    ("check_solvable", KeyReader::Bot),
    ("automerge", KeyReader::Bot),
    ("exclude", KeyReader::Bot),
    ("exclude_pinned_pkgs", KeyReader::Bot),
    ("include_noarch", KeyReader::Bot),
    ("include_build", KeyReader::Bot),
    ("override_cbc_keys", KeyReader::Bot),
    ("platform_allowlist", KeyReader::Bot),
    ("wait_for_migrators", KeyReader::Bot),
    ("conda_forge_yml_patches", KeyReader::Bot),
    ("ignored_deps_per_node", KeyReader::Bot),
    ("allowlist_file", KeyReader::Bot),
    ("ordering", KeyReader::Smithy),
    ("operation", KeyReader::Smithy),
    ("primary_key", KeyReader::Smithy),
    ("additional_zip_keys", KeyReader::Smithy),
    ("use_local", KeyReader::Smithy),
];

/// The bot's cap on `pr_limit` (`MAX_PR_LIMIT`).
pub const MAX_PR_LIMIT: u32 = 20;
/// The bot's default `pr_limit` (`PR_LIMIT`).
pub const DEFAULT_PR_LIMIT: u32 = 5;
/// The bot's cap and default for `force_pr_after_solver_attempts`.
pub const MAX_SOLVER_ATTEMPTS: u32 = 10;
/// After this many seconds a migration stops checking solvability unless it says
/// otherwise or is longterm (`CHECK_SOLVABLE_TIMEOUT`, 30 days).
pub const CHECK_SOLVABLE_TIMEOUT_SECS: f64 = 30.0 * 24.0 * 3600.0;

/// What a migration asks conda-smithy's variant algebra to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `key_add`: add the migration's value of `primary_key` (and its zip partners).
    KeyAdd,
    /// `key_remove`: remove it.
    KeyRemove,
}

/// The `__migrator` keys conda-smithy reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmithyKeys {
    /// `ordering`: key → allowed values, lowest first.
    pub ordering: Vec<(String, Vec<String>)>,
    /// `operation`.
    pub operation: Option<Operation>,
    /// `primary_key`.
    pub primary_key: Option<String>,
    /// `additional_zip_keys`.
    pub additional_zip_keys: Vec<String>,
    /// `use_local`: a feedstock keeps its own copy even when the pinning closes it.
    pub use_local: bool,
}

/// One pinned key of a migration (a top-level key other than `__migrator` and
/// `migrator_ts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The key (`libboost_devel`, `c_stdlib_version`).
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
}

/// A migration file, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PinningMigration {
    /// The report name: the file stem (`python314`).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The exact text, written unchanged into feedstocks.
    pub text: String,
    /// Top-level `migrator_ts`.
    pub migrator_ts: Option<f64>,
    /// The pins, in file order.
    pub pins: Vec<Pin>,
    /// The `__migrator` keys present, with their lines, in file order.
    pub keys: Vec<(String, usize)>,
    /// `kind` (documentation).
    pub kind: Option<String>,
    /// `migration_number`, as written: the uid's object version and the branch suffix.
    pub migration_number: Option<String>,
    /// `bump_number`: the build-number increment (default 1).
    pub bump_number: u64,
    /// `build_number` (legacy, read by nobody).
    pub build_number: Option<String>,
    /// `commit_message`: first line is the PR title, the rest goes into the body.
    pub commit_message: Option<String>,
    /// `paused`: planned and reported, no PRs.
    pub paused: bool,
    /// `longterm`: its own status bucket, run last, exempt from the solver timeout.
    pub longterm: bool,
    /// `pr_limit`, capped at [`MAX_PR_LIMIT`] (default [`DEFAULT_PR_LIMIT`]).
    pub pr_limit: u32,
    /// `force_pr_after_solver_attempts`, capped at [`MAX_SOLVER_ATTEMPTS`] (the default).
    pub force_pr_after_solver_attempts: u32,
    /// `max_solver_attempts` (legacy; the bot deletes it).
    pub max_solver_attempts: Option<u32>,
    /// `check_solvable` when written; see [`PinningMigration::check_solvable`].
    pub check_solvable: Option<bool>,
    /// `automerge`: PRs may get `[bot-automerge]` (if the feedstock opts in).
    pub automerge: bool,
    /// `exclude`: feedstock names left out.
    pub exclude: Vec<String>,
    /// `exclude_pinned_pkgs` (default true): leave out the feedstocks producing the pins.
    pub exclude_pinned_pkgs: bool,
    /// `include_noarch`: keep all-noarch feedstocks.
    pub include_noarch: bool,
    /// `include_build`: host ∪ build, for inclusion and for trimming edges.
    pub include_build: bool,
    /// `override_cbc_keys`: replaces the package names derived from the pins.
    pub override_cbc_keys: Option<Vec<String>>,
    /// `platform_allowlist` (`win-64` or `win_64`).
    pub platform_allowlist: Vec<String>,
    /// `wait_for_migrators`: migrations that must be closed on a node first.
    pub wait_for_migrators: Vec<String>,
    /// `conda_forge_yml_patches`, in file order.
    pub conda_forge_yml_patches: Vec<Patch>,
    /// `ignored_deps_per_node`: node → parents that do not gate it.
    pub ignored_deps_per_node: BTreeMap<String, Vec<String>>,
    /// `allowlist_file`: a file name under the `migration_support` directory.
    pub allowlist_file: Option<String>,
    /// The keys conda-smithy reads.
    pub smithy: SmithyKeys,
}

/// Why a migration file cannot be used. Each variant names the file, and the line when
/// there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The file could not be read.
    #[error("failed to read migration `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The text is not YAML.
    #[error("{}:{line}: not YAML: {message}", .path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line of the syntax error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// The top level (or `__migrator`) is not a mapping.
    #[error("{}:{line}: {what} is not a mapping", .path.display())]
    NotAMapping {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// `the top level` or `__migrator`.
        what: &'static str,
    },
    /// There is no `__migrator` block: the file is a variant file, not a migration.
    #[error("{}:{line}: no `__migrator` block: not a migration", .path.display())]
    MissingMigrator {
        /// The file.
        path: PathBuf,
        /// 1-based line of the top-level mapping.
        line: usize,
    },
    /// A `__migrator` key nobody reads: most likely a typo.
    #[error(
        "{}:{line}: unknown `__migrator` key `{key}`{}",
        .path.display(),
        .suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// 1-based line of the key.
        line: usize,
        /// The key.
        key: String,
        /// The closest known key, when one is close.
        suggestion: Option<String>,
    },
    /// A key has a value of the wrong type or an unknown value.
    #[error("{}:{line}: `{key}`: {message}", .path.display())]
    InvalidValue {
        /// The file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// The key (`__migrator.pr_limit`, `migrator_ts`).
        key: String,
        /// What was expected.
        message: String,
    },
    /// `allowlist_file` is set but cannot be read.
    #[error(
        "migration `{name}`: allowlist file `{}` cannot be read (looked in the \
         migration_support directory)",
        .path.display()
    )]
    Allowlist {
        /// The migration.
        name: String,
        /// The path looked at.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// `allowlist_file` is set but no `migration_support` directory was given.
    #[error(
        "migration `{name}` names allowlist `{file}` but no migration_support directory was given"
    )]
    NoSupportDir {
        /// The migration.
        name: String,
        /// The allowlist file name.
        file: String,
    },
}

impl PinningMigration {
    /// Parses a migration file. `name` is the file stem (the report name), `path` is
    /// used in errors only.
    pub fn parse(name: &str, path: &Path, text: &str) -> Result<PinningMigration, DefinitionError> {
        let root = spanned::parse(text).map_err(|e| DefinitionError::Yaml {
            path: path.to_path_buf(),
            line: e.line,
            message: e.message,
        })?;
        let Some(root) = root else {
            return Err(DefinitionError::MissingMigrator {
                path: path.to_path_buf(),
                line: 1,
            });
        };
        let Some(entries) = root.entries() else {
            return Err(DefinitionError::NotAMapping {
                path: path.to_path_buf(),
                line: root.pos.line,
                what: "the top level",
            });
        };
        let reader = Reader { path };
        let mut migration = PinningMigration::empty(name, path, text);
        let mut block = None;
        for (key, value) in entries {
            match key.as_str().unwrap_or_default() {
                "__migrator" => block = Some((key, value)),
                "migrator_ts" => migration.migrator_ts = reader.float("migrator_ts", value)?,
                other => {
                    migration.pins.retain(|p| p.key != other);
                    migration.pins.push(Pin {
                        key: other.to_string(),
                        line: key.pos.line,
                    });
                }
            }
        }
        let Some((key, block)) = block else {
            return Err(DefinitionError::MissingMigrator {
                path: path.to_path_buf(),
                line: root.pos.line,
            });
        };
        if block.is_null() {
            return Ok(migration);
        }
        let Some(fields) = block.entries() else {
            return Err(DefinitionError::NotAMapping {
                path: path.to_path_buf(),
                line: key.pos.line,
                what: "`__migrator`",
            });
        };
        for (key, value) in fields {
            let name = key.as_str().unwrap_or_default();
            migration.keys.retain(|(k, _)| k != name);
            migration.keys.push((name.to_string(), key.pos.line));
            migration.read_key(&reader, key, value)?;
        }
        Ok(migration)
    }

    /// Reads a migration file; the name is the file stem.
    pub fn read(path: &Path) -> Result<PinningMigration, DefinitionError> {
        let text = fs_err::read_to_string(path).map_err(|source| DefinitionError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        PinningMigration::parse(name, path, &text)
    }

    /// Reads every `*.yaml`/`*.yml` migration of a directory (the bot's `*.y*ml`), in
    /// file-name order. One result per file, so one broken file does not hide the rest.
    pub fn read_dir(
        dir: &Path,
    ) -> Result<Vec<Result<PinningMigration, DefinitionError>>, DefinitionError> {
        let entries = fs_err::read_dir(dir).map_err(|source| DefinitionError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| DefinitionError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if (name.ends_with(".yaml") || name.ends_with(".yml")) && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        Ok(paths.iter().map(|p| PinningMigration::read(p)).collect())
    }

    /// The package list of `allowlist_file`, read from `migration_support` (the pinning
    /// package's `share/conda-forge/migration_support/`): whitespace-separated names.
    /// `None` when the migration has no allowlist.
    pub fn load_allowlist(
        &self,
        migration_support: Option<&Path>,
    ) -> Result<Option<BTreeSet<String>>, DefinitionError> {
        let Some(file) = &self.allowlist_file else {
            return Ok(None);
        };
        let Some(dir) = migration_support else {
            return Err(DefinitionError::NoSupportDir {
                name: self.name.clone(),
                file: file.clone(),
            });
        };
        let path = dir.join(file);
        let text = fs_err::read_to_string(&path).map_err(|source| DefinitionError::Allowlist {
            name: self.name.clone(),
            path: path.clone(),
            source,
        })?;
        Ok(Some(text.split_whitespace().map(str::to_string).collect()))
    }

    /// Whether the solver check runs (the bot's `migration_factory`): as written, else
    /// true for longterm migrations and for migrations younger than 30 days at `now`
    /// (Unix seconds).
    pub fn check_solvable(&self, now: f64) -> bool {
        if let Some(explicit) = self.check_solvable {
            return explicit;
        }
        if self.longterm {
            return true;
        }
        self.migrator_ts
            .is_none_or(|ts| now - ts <= CHECK_SOLVABLE_TIMEOUT_SECS)
    }

    /// The first line of the commit message, else `Rebuild for <name>`.
    pub fn commit_message_or_default(&self) -> String {
        self.commit_message
            .clone()
            .unwrap_or_else(|| format!("Rebuild for {}", self.name))
    }

    fn empty(name: &str, path: &Path, text: &str) -> PinningMigration {
        PinningMigration {
            name: name.to_string(),
            path: path.to_path_buf(),
            text: text.to_string(),
            migrator_ts: None,
            pins: Vec::new(),
            keys: Vec::new(),
            kind: None,
            migration_number: None,
            bump_number: 1,
            build_number: None,
            commit_message: None,
            paused: false,
            longterm: false,
            pr_limit: DEFAULT_PR_LIMIT,
            force_pr_after_solver_attempts: MAX_SOLVER_ATTEMPTS,
            max_solver_attempts: None,
            check_solvable: None,
            automerge: false,
            exclude: Vec::new(),
            exclude_pinned_pkgs: true,
            include_noarch: false,
            include_build: false,
            override_cbc_keys: None,
            platform_allowlist: Vec::new(),
            wait_for_migrators: Vec::new(),
            conda_forge_yml_patches: Vec::new(),
            ignored_deps_per_node: BTreeMap::new(),
            allowlist_file: None,
            smithy: SmithyKeys::default(),
        }
    }

    fn read_key(
        &mut self,
        r: &Reader<'_>,
        key: &Spanned,
        value: &Spanned,
    ) -> Result<(), DefinitionError> {
        let name = key.as_str().unwrap_or_default();
        let k = format!("__migrator.{name}");
        let known = MIGRATOR_KEYS.iter().any(|(known, _)| *known == name);
        if known && value.is_null() {
            // `null` is "not set": keep the default.
            return Ok(());
        }
        match name {
            "kind" => self.kind = r.scalar(&k, value)?,
            "migration_number" => self.migration_number = r.scalar(&k, value)?,
            "bump_number" => self.bump_number = r.int(&k, value)?,
            "build_number" => self.build_number = r.scalar(&k, value)?,
            "commit_message" => self.commit_message = r.scalar(&k, value)?,
            "paused" => self.paused = r.flag(&k, value)?,
            "longterm" => self.longterm = r.flag(&k, value)?,
            "pr_limit" => {
                self.pr_limit = u32::try_from(r.int(&k, value)?)
                    .unwrap_or(MAX_PR_LIMIT)
                    .min(MAX_PR_LIMIT);
            }
            "force_pr_after_solver_attempts" => {
                self.force_pr_after_solver_attempts = u32::try_from(r.int(&k, value)?)
                    .unwrap_or(MAX_SOLVER_ATTEMPTS)
                    .min(MAX_SOLVER_ATTEMPTS);
            }
            "max_solver_attempts" => {
                self.max_solver_attempts =
                    Some(u32::try_from(r.int(&k, value)?).unwrap_or(u32::MAX));
            }
            "check_solvable" => self.check_solvable = Some(r.flag(&k, value)?),
            "automerge" => self.automerge = r.flag(&k, value)?,
            "exclude" => self.exclude = r.list(&k, value)?,
            "exclude_pinned_pkgs" => self.exclude_pinned_pkgs = r.flag(&k, value)?,
            "include_noarch" => self.include_noarch = r.flag(&k, value)?,
            "include_build" => self.include_build = r.flag(&k, value)?,
            "override_cbc_keys" => self.override_cbc_keys = Some(r.list(&k, value)?),
            "platform_allowlist" => self.platform_allowlist = r.list(&k, value)?,
            "wait_for_migrators" => self.wait_for_migrators = r.list(&k, value)?,
            "conda_forge_yml_patches" => {
                self.conda_forge_yml_patches = r
                    .map(&k, value)?
                    .iter()
                    .map(|(path, v)| Patch {
                        path: path.as_str().unwrap_or_default().to_string(),
                        value: PatchValue::from_spanned(v),
                    })
                    .collect();
            }
            "ignored_deps_per_node" => {
                let mut map = BTreeMap::new();
                for (node, parents) in r.map(&k, value)? {
                    let node = node.as_str().unwrap_or_default().to_string();
                    let list = r.list(&format!("{k}.{node}"), parents)?;
                    map.insert(node, list);
                }
                self.ignored_deps_per_node = map;
            }
            "allowlist_file" => self.allowlist_file = r.scalar(&k, value)?,
            "ordering" => {
                let mut ordering = Vec::new();
                for (key, values) in r.map(&k, value)? {
                    let key = key.as_str().unwrap_or_default().to_string();
                    let list = r.list(&format!("{k}.{key}"), values)?;
                    ordering.push((key, list));
                }
                self.smithy.ordering = ordering;
            }
            "operation" => {
                self.smithy.operation = match r.scalar(&k, value)?.as_deref() {
                    Some("key_add") => Some(Operation::KeyAdd),
                    Some("key_remove") => Some(Operation::KeyRemove),
                    _ => {
                        return Err(r.invalid(&k, value, "expected `key_add` or `key_remove`"));
                    }
                };
            }
            "primary_key" => self.smithy.primary_key = r.scalar(&k, value)?,
            "additional_zip_keys" => self.smithy.additional_zip_keys = r.list(&k, value)?,
            "use_local" => self.smithy.use_local = r.flag(&k, value)?,
            unknown => {
                return Err(DefinitionError::UnknownKey {
                    path: r.path.to_path_buf(),
                    line: key.pos.line,
                    key: unknown.to_string(),
                    suggestion: closest_key(unknown),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
