//! Migrators: what a migration changes, where, and in which order.
//!
//! [`Migrator`] is the contract (plan over the graph, uid, pure change set). The engine
//! (`engine`) turns plans plus recorded outcomes into ready, ordered, limited work, the
//! same for every kind. One module per kind: `pinning` (CFEP-09 migration files),
//! `arch` (architecture rollouts), `maintenance` (stale `.ci_support` rerenders),
//! `replacement` (`old → new` packages). Declarative definitions of the non-pinning
//! migrations live as YAML in the top-level `migrators/` folder.

pub mod arch;
pub mod definitions;
mod engine;
pub mod maintenance;
mod migrator;
pub mod pinning;
pub mod registry;
pub mod replacement;
mod snapshot;
pub mod version;

pub use engine::{
    BACKOFF_BASE_SECONDS, BACKOFF_MAX_EXPONENT, Condensation, DoneKind, MAX_PR_LIMIT,
    MigrationRecords, NodeState, ReadyNode, Schedule, StateCounts, attempt_key, pr_limit, retry_at,
    schedule,
};

pub use migrator::{
    Change, ChangeInput, ChangeSet, Exclusion, Identity, MigrateError, MigrationPlan, Migrator,
    MigratorKind, Settings, Uid,
};
pub use snapshot::{GraphSnapshot, NoarchSummary, NodeId, NodeInfo};
