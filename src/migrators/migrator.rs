//! The contract every migrator fulfils, and the values it trades with the engine.
//!
//! A migrator answers three questions: which feedstocks are in the migration and which
//! of them gate which ([`Migrator::plan`]), what identifies its work on one feedstock
//! ([`Migrator::uid`]), and — pure, no I/O — what to change in one feedstock
//! ([`Migrator::change`]). Readiness, ordering, limits, back-off and PRs are the engine's
//! and the run loop's business, the same for every migrator.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::feedstock::Snapshot;
use crate::feedstock::config::ForgeConfig;
use crate::pinning::Pinning;

use super::snapshot::{GraphSnapshot, NodeId, NodeInfo};

/// The family a migrator belongs to; one module per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigratorKind {
    /// A CFEP-09 pinning/ABI migration (`MigrationYaml`).
    Pinning,
    /// A new architecture rollout (`ArchRebuild`, `OSXArm`, `WinArm64`).
    Architecture,
    /// A rerender where the committed `.ci_support` is stale.
    Maintenance,
    /// A package replacement `old → new` (`Replacement`).
    Replacement,
    /// An upstream version update.
    Version,
}

impl MigratorKind {
    /// The kebab-case name used in the store, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            MigratorKind::Pinning => "pinning",
            MigratorKind::Architecture => "architecture",
            MigratorKind::Maintenance => "maintenance",
            MigratorKind::Replacement => "replacement",
            MigratorKind::Version => "version",
        }
    }
}

/// The engine knobs of one migration, shared by every kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Nominal PRs per run before the ramp (`pr_limit`, capped at 20; default 5).
    pub pr_limit: u32,
    /// Apply the PR-limit ramp of reference §3.3 (else `pr_limit` flat).
    pub ramp: bool,
    /// Paused: planned and reported, never opens PRs.
    pub paused: bool,
    /// Longterm: reported in its own bucket, run after the others.
    pub longterm: bool,
    /// The migration allows `[bot-automerge]` (the feedstock must opt in too).
    pub automerge: bool,
    /// Gate nodes on their parents in the migration graph (false: every member is ready).
    pub gated: bool,
    /// Other migrations that must be done on a node before this one starts there.
    pub wait_for_migrators: Vec<String>,
    /// Per feedstock, parents that do not gate it.
    pub ignored_deps_per_node: BTreeMap<String, Vec<String>>,
    /// Open PRs of this migration under *older* uids a feedstock may have before the
    /// engine holds it in PR (1: one open PR per feedstock, as maintenance rerenders
    /// need; the version migrator allows 3, one per upstream version).
    pub max_open_per_node: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            pr_limit: 5,
            ramp: true,
            paused: false,
            longterm: false,
            automerge: false,
            gated: true,
            wait_for_migrators: Vec::new(),
            ignored_deps_per_node: BTreeMap::new(),
            max_open_per_node: 1,
        }
    }
}

/// Why a feedstock of the graph is not part of a migration (a machine-readable rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Exclusion {
    /// The repository is archived.
    Archived,
    /// The recipe failed to parse or render.
    ParseError,
    /// The recipe format is one this migrator does not handle.
    RecipeFormat,
    /// Nothing in its host/build (or what the migrator looks at) is affected.
    NotAffected,
    /// Every output is noarch and the migration does not include noarch.
    Noarch,
    /// Listed in the migration's `exclude`.
    ExcludedByName,
    /// It produces a pinned package (`exclude_pinned_pkgs`).
    ProducesPinnedPackage,
    /// It builds on none of the migration's `platform_allowlist`.
    PlatformAllowlist,
    /// Neither in the allowlist nor an ancestor of something in it.
    NotInAllowlist,
    /// The feedstock already has what the migration adds (e.g. the architecture).
    AlreadyMigrated {
        /// What was found.
        detail: String,
    },
}

impl Exclusion {
    /// The reason code (`excluded-by-name`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Exclusion::Archived => "archived",
            Exclusion::ParseError => "parse-error",
            Exclusion::RecipeFormat => "recipe-format",
            Exclusion::NotAffected => "not-affected",
            Exclusion::Noarch => "noarch",
            Exclusion::ExcludedByName => "excluded-by-name",
            Exclusion::ProducesPinnedPackage => "produces-pinned-package",
            Exclusion::PlatformAllowlist => "platform-allowlist",
            Exclusion::NotInAllowlist => "not-in-allowlist",
            Exclusion::AlreadyMigrated { .. } => "already-migrated",
        }
    }
}

/// A migration over the graph: its members, who gates whom, and why the rest is out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MigrationPlan {
    /// The feedstocks in the migration (sorted by id).
    pub members: Vec<NodeId>,
    /// Per member, its parents in the migration graph after edge trimming (before
    /// `ignored_deps_per_node`, which the engine applies). Members without parents may
    /// be absent.
    pub parents: BTreeMap<NodeId, Vec<NodeId>>,
    /// Feedstocks considered and left out, with the rule. Nodes that are simply
    /// irrelevant (e.g. outside an allowlist's ancestry) may be summarised rather than
    /// listed when the migrator says so in its docs.
    pub excluded: Vec<(NodeId, Exclusion)>,
    /// The node that closes the migration once every other member is done (the pinning
    /// feedstock for pinning migrations); it is also a member.
    pub closeout: Option<NodeId>,
}

impl MigrationPlan {
    /// Moves back into the members every node the plan excluded as
    /// [`Exclusion::AlreadyMigrated`] while this migration has work recorded on it
    /// (`has_work(feedstock)`): a feedstock whose architecture PR was merged now builds for
    /// that architecture, and must show as done in its migration, not as excluded.
    pub fn keep_recorded(&mut self, graph: &GraphSnapshot, has_work: impl Fn(&str) -> bool) {
        let mut kept = Vec::new();
        self.excluded.retain(|(id, rule)| {
            let keep = matches!(rule, Exclusion::AlreadyMigrated { .. })
                && has_work(&graph.node(*id).name);
            if keep {
                kept.push(*id);
            }
            !keep
        });
        if !kept.is_empty() {
            self.members.extend(kept);
            self.members.sort();
            self.members.dedup();
        }
    }
}

/// What identifies one piece of work of a migrator on one feedstock. Two attempts with
/// equal uids are the same work: a PR recorded under a uid means that work exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Uid {
    /// The migration's report name (`python314`).
    pub migration: String,
    /// The migrator implementation's version (bumped when its output changes meaning).
    pub migrator_version: u32,
    /// The migration object's version (`migration_number`), when it has one.
    pub object_version: Option<String>,
    /// Extra identity (the target version of a version update, a branch, ...).
    pub extra: BTreeMap<String, String>,
    /// Non-zero after a `bot-rerun`: the time (Unix seconds) the rerun was requested.
    pub bot_rerun: i64,
}

impl Uid {
    /// A uid with no object version and no extras.
    pub fn new(migration: &str, migrator_version: u32) -> Uid {
        Uid {
            migration: migration.to_string(),
            migrator_version,
            object_version: None,
            extra: BTreeMap::new(),
            bot_rerun: 0,
        }
    }

    /// The canonical text form stored in the database (stable JSON, keys sorted).
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses [`Uid::key`] output.
    pub fn from_key(key: &str) -> Option<Uid> {
        serde_json::from_str(key).ok()
    }
}

/// Who the bot is, and where its status pages live: what PR texts mention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The bot's user name (`regro-cf-autotick-bot`).
    pub bot_user: String,
    /// Commit author name.
    pub author_name: String,
    /// Commit author e-mail.
    pub author_email: String,
    /// Base URL of the status site; a migration's page is `<base>/?name=<migration>`.
    pub status_url: String,
}

impl Default for Identity {
    fn default() -> Self {
        Identity {
            bot_user: "cascade-bot".to_string(),
            author_name: "cascade-bot".to_string(),
            author_email: "cascade-bot@users.noreply.github.com".to_string(),
            status_url: "https://conda-forge.org/status/migration".to_string(),
        }
    }
}

/// Everything [`Migrator::change`] may look at for one feedstock. No I/O behind it.
#[derive(Debug, Clone, Copy)]
pub struct ChangeInput<'a> {
    /// The node in the graph.
    pub node: &'a NodeInfo,
    /// The feedstock's files at the base commit (`recipe/`, `conda-forge.yml`,
    /// `.ci_support/`).
    pub files: &'a Snapshot,
    /// Its parsed `conda-forge.yml` (defaults when absent).
    pub config: &'a ForgeConfig,
    /// The pinning the rerender uses.
    pub pinning: &'a Pinning,
    /// The feedstock's children in the migration graph, for the PR body.
    pub children: &'a [String],
    /// True when this node is the migration's close-out node.
    pub closeout: bool,
    /// The bot identity and links.
    pub identity: &'a Identity,
}

/// Files to write and delete, and the texts of the commit and PR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Relative path → new full content.
    pub writes: BTreeMap<String, String>,
    /// Relative paths to delete.
    pub deletes: BTreeSet<String>,
    /// The commit message.
    pub commit_message: String,
    /// The PR title.
    pub title: String,
    /// The PR body (Markdown).
    pub body: String,
    /// The branch name stem (`rebuild-python314-1-1`); the run loop appends `_h<uid hash>`.
    pub branch: String,
}

/// The outcome of [`Migrator::change`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Open (or update) a PR with these changes.
    Files(ChangeSet),
    /// The feedstock already is where the migration wants it (recorded as done).
    NothingToDo {
        /// Why, for the record and `explain`.
        reason: String,
    },
}

/// Why a change could not be computed for one feedstock; recorded on the node.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A file the migrator needs is missing.
    #[error("`{0}` is missing")]
    MissingFile(String),
    /// The recipe could not be edited.
    #[error("cannot edit `{file}`: {message}")]
    Edit {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// The native rerender failed.
    #[error("the rerender failed: {0}")]
    Rerender(String),
    /// Anything else, with a message naming the file and line when there is one.
    #[error("{0}")]
    Other(String),
}

/// One migrator. Implementations hold their parsed definition and nothing mutable.
pub trait Migrator: Send + Sync {
    /// The report name: unique among migrations, used in uids, branches, the store and
    /// the status site (`python314`, `arch-linux-aarch64-ppc64le`).
    fn name(&self) -> &str;

    /// The family.
    fn kind(&self) -> MigratorKind;

    /// The engine knobs.
    fn settings(&self) -> &Settings;

    /// The migration over the graph. Pure and fast: called every run for every migration.
    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan;

    /// The uid of this migration's work on a node (before any `bot-rerun`).
    fn uid(&self, node: &NodeInfo) -> Uid;

    /// The change for one feedstock. Pure: reads only `input`.
    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError>;
}
