//! The version migrator: one PR per new upstream version (reference §3.6, §4.3, §4.6).
//!
//! What `cascade versions check` found (the store's `upstream_versions` table) becomes
//! a [`Target`] per feedstock: the newest upstream version, when it is newer than the
//! recipe's by conda ordering. [`VersionMigrator::load`] reads those targets, each
//! candidate's `conda-forge.yml` and recipe, and the open version PRs once per run;
//! [`Migrator::plan`] and [`Migrator::change`] then only look at what was loaded (and,
//! for the change, hash sources through the migrator's [`Fetch`]).
//!
//! Membership, as the bot's `Version.filter_not_in_migration`: a feedstock is a member
//! when its target is newer than the recipe's version and none of these rules it out —
//! archived or unparseable (`archived`, `parse-error`), no literal version variable
//! (`{% set version = ... %}` in v0, `context.version` in v1: `recipe-format`),
//! `bot.version_updates.skip`, the version in `exclude`, odd-minor under
//! `even_odd_versions`, or not drawn under `random_fraction_to_keep` (all three
//! `excluded-by-name`: the feedstock's own configuration excludes it). Feedstocks
//! without a newer version are simply not members.
//!
//! The migration is not gated: a version PR never waits for its parents. Its plan still
//! lists each member's parents among the members, so the engine, which orders ready
//! nodes by descendants in the migration graph, works on parents before their
//! children when both are ready (a parent has at least the child's descendants plus
//! the child). The uid carries the target version, so each version is its own work:
//! at most three open version PRs per feedstock (`Settings::max_open_per_node`), and a
//! failure backs off that version only (the engine keys attempts by uid extras).

mod body;
mod fetch;

pub use fetch::RunFetch;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::feedstock::config::{self, BotConfig};
use crate::graph::{GraphError, Store, WorkOutcome};
use crate::recipe::RecipeFormat;
use crate::recipe::version::{Fetch, bump_version};
use crate::upstream::{is_ignored, is_newer};

use super::migrator::{
    Change, ChangeInput, ChangeSet, Exclusion, MigrateError, MigrationPlan, Migrator, MigratorKind,
    Settings, Uid,
};
use super::snapshot::{GraphSnapshot, NodeId, NodeInfo};

/// The migration's report name, also its uid's `migration`.
pub const NAME: &str = "version";

/// The implementation's version in uids (the bot's `migrator_version` is 0).
const MIGRATOR_VERSION: u32 = 0;

/// Open version PRs a feedstock may have before no further one is opened (§3.6).
pub const MAX_OPEN_VERSION_PRS: u32 = 3;

/// The newest upstream version queued for one feedstock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The version to move to.
    pub version: String,
    /// The upstream page or API that offered it (the body links it).
    pub upstream_url: Option<String>,
    /// Which source found it (`pypi`, `github`, ...).
    pub source: Option<String>,
}

/// What is known about one feedstock with a target, read once per run.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The target.
    pub target: Target,
    /// The feedstock's `bot:` section (defaults when `conda-forge.yml` is absent or
    /// unreadable).
    pub bot: BotConfig,
    /// False when the recipe has no literal version variable the rewrite can set.
    pub has_version_variable: bool,
    /// Numbers of the feedstock's open version PRs, with the version each targets.
    pub open_prs: Vec<(u64, String)>,
    /// Its parents in the graph that have a newer upstream version queued themselves.
    pub pending_parents: Vec<Pending>,
}

/// A parent with a newer upstream version queued (the body's "Pending Dependency
/// Version Updates" table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The parent feedstock.
    pub feedstock: String,
    /// Its recipe's version.
    pub current: Option<String>,
    /// The upstream version queued for it.
    pub queued: String,
}

/// The version migrator. Holds the run's targets and a fetcher; nothing mutable.
pub struct VersionMigrator {
    settings: Settings,
    candidates: BTreeMap<String, Candidate>,
    fetch: Arc<dyn Fetch + Send + Sync>,
}

impl std::fmt::Debug for VersionMigrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionMigrator")
            .field("settings", &self.settings)
            .field("candidates", &self.candidates.len())
            .finish_non_exhaustive()
    }
}

impl VersionMigrator {
    /// The engine settings of version updates: not gated, up to 3 open PRs per
    /// feedstock, a flat `pr_limit` of 5 per run (§3.6; the migration ramp of §3.3 is
    /// for rebuild migrations, and the bot's doubling under a large backlog is not
    /// done yet).
    pub fn default_settings() -> Settings {
        Settings {
            pr_limit: 5,
            ramp: false,
            automerge: true,
            gated: false,
            max_open_per_node: MAX_OPEN_VERSION_PRS,
            ..Settings::default()
        }
    }

    /// A migrator over `candidates` (feedstock name → what is known), hashing through
    /// `fetch`.
    pub fn new(
        candidates: BTreeMap<String, Candidate>,
        fetch: Arc<dyn Fetch + Send + Sync>,
    ) -> VersionMigrator {
        VersionMigrator {
            settings: VersionMigrator::default_settings(),
            candidates,
            fetch,
        }
    }

    /// Reads the targets from the store's upstream version checks, and for each
    /// feedstock of `graph` with one: its `conda-forge.yml` and recipe (from the node's
    /// checkout) and its open version PRs.
    pub fn load(
        store: &Store,
        graph: &GraphSnapshot,
        fetch: Arc<dyn Fetch + Send + Sync>,
    ) -> Result<VersionMigrator, GraphError> {
        let mut open: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for record in store.work_for(NAME)? {
            if record.outcome != WorkOutcome::Open {
                continue;
            }
            let (Some(pr), Some(uid)) = (record.pr, Uid::from_key(&record.uid_key)) else {
                continue;
            };
            let version = uid.extra.get("version").cloned().unwrap_or_default();
            open.entry(record.feedstock)
                .or_default()
                .push((pr.number, version));
        }
        let mut candidates = BTreeMap::new();
        for record in store.version_records()? {
            let Some(version) = record.newest_version else {
                continue;
            };
            let Some(id) = graph.id(&record.feedstock) else {
                continue;
            };
            let node = graph.node(id);
            let mut open_prs = open.remove(&record.feedstock).unwrap_or_default();
            open_prs.sort();
            candidates.insert(
                record.feedstock.clone(),
                Candidate {
                    target: Target {
                        version,
                        upstream_url: record.upstream_url,
                        source: record.source,
                    },
                    bot: read_bot_config(node),
                    has_version_variable: has_version_variable(node),
                    open_prs,
                    pending_parents: Vec::new(),
                },
            );
        }
        let pending: Vec<(String, Vec<Pending>)> = candidates
            .keys()
            .filter_map(|name| Some((name.clone(), graph.id(name)?)))
            .map(|(name, id)| (name, pending_parents(graph, id, &candidates)))
            .collect();
        for (name, list) in pending {
            if let Some(candidate) = candidates.get_mut(&name) {
                candidate.pending_parents = list;
            }
        }
        Ok(VersionMigrator::new(candidates, fetch))
    }

    /// The candidate of a feedstock, if it has a target.
    pub fn candidate(&self, feedstock: &str) -> Option<&Candidate> {
        self.candidates.get(feedstock)
    }

    /// Why a feedstock with a newer target is not a member, if it is not.
    fn exclusion(&self, node: &NodeInfo, candidate: &Candidate) -> Option<Exclusion> {
        if node.archived {
            return Some(Exclusion::Archived);
        }
        if node.parse_error {
            return Some(Exclusion::ParseError);
        }
        if !candidate.has_version_variable {
            return Some(Exclusion::RecipeFormat);
        }
        let updates = &candidate.bot.version_updates;
        if updates.skip || is_ignored(updates, &candidate.target.version) {
            return Some(Exclusion::ExcludedByName);
        }
        None
    }

    /// True when the candidate's target is newer than the node's recipe version.
    fn wanted(node: &NodeInfo, candidate: &Candidate) -> bool {
        is_newer(&candidate.target.version, node.version.as_deref())
    }
}

impl Migrator for VersionMigrator {
    fn name(&self) -> &str {
        NAME
    }

    fn kind(&self) -> MigratorKind {
        MigratorKind::Version
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let mut plan = MigrationPlan::default();
        for id in graph.ids() {
            let node = graph.node(id);
            let Some(candidate) = self.candidates.get(&node.name) else {
                continue;
            };
            if !VersionMigrator::wanted(node, candidate) {
                continue;
            }
            match self.exclusion(node, candidate) {
                Some(rule) => plan.excluded.push((id, rule)),
                None => plan.members.push(id),
            }
        }
        let members: BTreeSet<NodeId> = plan.members.iter().copied().collect();
        for &id in &plan.members {
            let mut parents: Vec<NodeId> = graph
                .parents(id)
                .iter()
                .map(|(parent, _)| *parent)
                .filter(|parent| *parent != id && members.contains(parent))
                .collect();
            parents.sort_unstable();
            parents.dedup();
            if !parents.is_empty() {
                plan.parents.insert(id, parents);
            }
        }
        plan
    }

    fn uid(&self, node: &NodeInfo) -> Uid {
        let mut uid = Uid::new(NAME, MIGRATOR_VERSION);
        if let Some(candidate) = self.candidates.get(&node.name) {
            uid.extra
                .insert("version".to_string(), candidate.target.version.clone());
        }
        uid
    }

    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        let node = input.node;
        let candidate = self.candidates.get(&node.name).ok_or_else(|| {
            MigrateError::Other(format!("no upstream version is queued for `{}`", node.name))
        })?;
        let (file, format) = match node.recipe_format {
            Some(RecipeFormat::V1) => ("recipe/recipe.yaml", RecipeFormat::V1),
            _ => ("recipe/meta.yaml", RecipeFormat::V0),
        };
        let text = input
            .files
            .text(file)
            .ok_or_else(|| MigrateError::MissingFile(file.to_string()))?;
        let bump = bump_version(format, text, &candidate.target.version, &*self.fetch)
            .map_err(|err| MigrateError::Other(err.to_string()))?;
        let texts = body::Texts {
            feedstock: &node.name,
            candidate,
            bump: &bump,
            automerge: input.config.bot.automerge.versions(),
            project_url: body::project_url(text),
            identity: input.identity,
        };
        let mut writes = BTreeMap::new();
        writes.insert(file.to_string(), bump.text.clone());
        Ok(Change::Files(ChangeSet {
            writes,
            deletes: BTreeSet::new(),
            commit_message: format!("updated v{}", bump.version),
            title: texts.title(),
            body: texts.body(),
            branch: bump.version.clone(),
        }))
    }
}

/// The parents of `id` in `graph` whose own queued upstream version is newer than
/// their recipe's, by name.
fn pending_parents(
    graph: &GraphSnapshot,
    id: NodeId,
    candidates: &BTreeMap<String, Candidate>,
) -> Vec<Pending> {
    let mut pending: Vec<Pending> = graph
        .parents(id)
        .iter()
        .filter(|(parent, _)| *parent != id)
        .filter_map(|(parent, _)| {
            let node = graph.node(*parent);
            let candidate = candidates.get(&node.name)?;
            is_newer(&candidate.target.version, node.version.as_deref()).then(|| Pending {
                feedstock: node.name.clone(),
                current: node.version.clone(),
                queued: candidate.target.version.clone(),
            })
        })
        .collect();
    pending.sort_by(|a, b| a.feedstock.cmp(&b.feedstock));
    pending.dedup();
    pending
}

/// The `bot:` section of a node's `conda-forge.yml`; defaults when it is missing or does
/// not parse (the graph build reports broken files).
fn read_bot_config(node: &NodeInfo) -> BotConfig {
    fs_err::read_to_string(node.path.join("conda-forge.yml"))
        .ok()
        .and_then(|text| config::parse(&text).ok())
        .map(|c| c.bot)
        .unwrap_or_else(|| config::ForgeConfig::default().bot)
}

/// True when the node's recipe sets its version in a literal the rewrite can change:
/// `{% set version = "..." %}` in v0, a `version:` key under `context:` in v1.
fn has_version_variable(node: &NodeInfo) -> bool {
    match node.recipe_format {
        Some(RecipeFormat::V1) => fs_err::read_to_string(node.path.join("recipe/recipe.yaml"))
            .is_ok_and(|text| v1_has_context_version(&text)),
        Some(RecipeFormat::V0) => fs_err::read_to_string(node.path.join("recipe/meta.yaml"))
            .is_ok_and(|text| v0_has_version_set(&text)),
        None => false,
    }
}

/// `{% set version = ` (with optional whitespace control) on some line.
fn v0_has_version_set(text: &str) -> bool {
    text.lines().any(|line| {
        let rest = line.trim_start();
        let Some(rest) = rest.strip_prefix("{%") else {
            return false;
        };
        let rest = rest.trim_start_matches('-').trim_start();
        let Some(rest) = rest.strip_prefix("set") else {
            return false;
        };
        let rest = rest.trim_start();
        rest.strip_prefix("version")
            .is_some_and(|after| after.trim_start().starts_with('='))
    })
}

/// A top-level `context:` mapping with a `version:` key directly under it.
fn v1_has_context_version(text: &str) -> bool {
    let mut in_context = false;
    let mut indent: Option<usize> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = line.len() - trimmed.len();
        if depth == 0 {
            in_context = trimmed.starts_with("context:");
            indent = None;
            continue;
        }
        if in_context {
            let level = *indent.get_or_insert(depth);
            if depth == level && trimmed.starts_with("version:") {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests;
