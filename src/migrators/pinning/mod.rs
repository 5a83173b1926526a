//! Pinning migrations (CFEP-09, the bot's `MigrationYaml`, reference §3.3): a migration
//! file of the pinning's `migrations/` folder rebuilds every feedstock that builds
//! against one of its pins, parents first, then closes out on the pinning feedstock.
//!
//! - `definition`: the file, typed ([`PinningMigration`]); unknown `__migrator` keys are
//!   errors.
//! - `plan`: members, trimmed parents and exclusions over a [`GraphSnapshot`].
//! - `change`: the migration file, `conda_forge_yml_patches`, the build-number bump and
//!   the native rerender of one feedstock, or the close-out (`closeout`) on the pinning
//!   feedstock.
//! - `texts`: commit message, PR title and body, branch.
//!
//! Readiness, `wait_for_migrators`, `ignored_deps_per_node`, limits and retries are the
//! engine's ([`Settings`] carries them); reading the pinning and applying change sets is
//! the run loop's.

mod change;
mod closeout;
mod definition;
mod plan;
mod texts;

use std::collections::BTreeSet;
use std::path::Path;

pub use definition::{
    CHECK_SOLVABLE_TIMEOUT_SECS, DEFAULT_PR_LIMIT, DefinitionError, KeyReader, MAX_PR_LIMIT,
    MAX_SOLVER_ATTEMPTS, MIGRATOR_KEYS, Operation, Pin, PinningMigration, SmithyKeys,
};

use super::migrator::{
    Change, ChangeInput, MigrateError, MigrationPlan, Migrator, MigratorKind, Settings, Uid,
};
use super::snapshot::{GraphSnapshot, NodeInfo};

/// The name of the pinning feedstock, the close-out node of every pinning migration.
pub const PINNING_FEEDSTOCK: &str = "conda-forge-pinning";

/// The version of this migrator's output; part of every uid and branch. Bump it when
/// the change set of an unchanged migration file changes meaning.
pub const MIGRATOR_VERSION: u32 = 1;

/// A pinning migration ready to plan and run: its definition, its allowlist (read once)
/// and its engine settings.
#[derive(Debug, Clone)]
pub struct PinningMigrator {
    definition: PinningMigration,
    allowlist: Option<BTreeSet<String>>,
    settings: Settings,
}

impl PinningMigrator {
    /// Builds the migrator. `migration_support` is the directory `allowlist_file` names
    /// a file of (the pinning's `migration_support/`); it is only read when the
    /// migration has an allowlist, and then a missing directory or file is an error.
    pub fn new(
        definition: PinningMigration,
        migration_support: Option<&Path>,
    ) -> Result<PinningMigrator, DefinitionError> {
        let allowlist = definition.load_allowlist(migration_support)?;
        let settings = Settings {
            pr_limit: definition.pr_limit,
            ramp: true,
            paused: definition.paused,
            longterm: definition.longterm,
            automerge: definition.automerge,
            gated: true,
            wait_for_migrators: definition.wait_for_migrators.clone(),
            ignored_deps_per_node: definition.ignored_deps_per_node.clone(),
            max_open_per_node: 1,
        };
        Ok(PinningMigrator {
            definition,
            allowlist,
            settings,
        })
    }

    /// The parsed migration file.
    pub fn definition(&self) -> &PinningMigration {
        &self.definition
    }

    /// The allowlist's packages, when the migration has one.
    pub fn allowlist(&self) -> Option<&BTreeSet<String>> {
        self.allowlist.as_ref()
    }

    /// The package names the migration selects on, over this graph (for `explain`).
    pub fn package_names(&self, graph: &GraphSnapshot) -> Vec<String> {
        plan::package_names(&self.definition, graph)
    }
}

impl Migrator for PinningMigrator {
    fn name(&self) -> &str {
        &self.definition.name
    }

    fn kind(&self) -> MigratorKind {
        MigratorKind::Pinning
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        plan::plan(&self.definition, self.allowlist.as_ref(), graph)
    }

    fn uid(&self, _node: &NodeInfo) -> Uid {
        let mut uid = Uid::new(&self.definition.name, MIGRATOR_VERSION);
        uid.object_version = self.definition.migration_number.clone();
        uid
    }

    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        change::change(&self.definition, input)
    }
}
