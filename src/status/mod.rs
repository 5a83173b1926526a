//! Status: where every (migration, feedstock) stands and why, how fast each migration
//! moves, and who holds it up.
//!
//! [`model`] is the data the site, `cascade explain` and the conda-forge-compatible JSON
//! are made from. This module computes it from the store and the registry; rendering
//! the site is `site`'s job (written against [`model`] only).

mod classify;
mod collect;
mod explain;
mod forecast;
mod history;
pub mod model;
mod partial;
mod shape;
pub mod site;

pub use collect::collect;
pub use explain::{
    AttemptView, ExplainError, Explanation, Membership, MigrationTrace, QueueView, RecordView,
    VersionUpdate, explain,
};
pub use forecast::BLOCKERS_LISTED;

pub use model::{
    Blocker, Bucket, DefinitionError, Edge, ExcludedNode, FeedstockMigration, FeedstockStatus,
    Forecast, HistoryPoint, MigrationStatus, NodeStatus, ParentState, PrInfo, Progress, Reason,
    ReasonCode, ReasonDetail, State, StateCounts, StatusReport,
};
