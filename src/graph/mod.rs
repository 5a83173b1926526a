//! The dependency graph of all feedstocks and its SQLite store.
//!
//! `crawl` reads the checkouts (in parallel, skipping what did not change), `build`
//! writes nodes and recomputes the derived graph in one transaction, `edges` turns
//! renders into labelled edges (dependency → dependent, with sections and platforms),
//! `topo` finds cycles and a cycle-tolerant order, and `store` holds all the SQL.
//! Rendering is the `feedstock` layer's job; this module never looks at recipe syntax.
//!
//! Entry points: [`build`] for writers, [`Store`] for readers.

mod build;
mod crawl;
mod edges;
mod error;
mod export;
mod model;
mod partial;
mod store;
mod topo;

pub use build::{BuildOptions, BuildReporter, BuildSummary, NoReporter, build};
pub use error::GraphError;
pub use export::{ExportEdge, ExportExternal, ExportNode, GraphExport};
pub use model::{EDGE_SECTIONS, Label, NodeAttributes, SectionSet};
pub use store::StoredHashCache;
pub(crate) use store::StoredNode;
pub use store::{
    AttemptError, AttemptErrorKind, AttemptRecord, CycleEdge, CycleView, DepDirection, DepView,
    NodeView, ParseErrorView, PrRef, RunRecord, Store, WorkOutcome, WorkRecord,
};
pub use store::{PrSnapshot, SnapshotCi, SnapshotMergeable, SnapshotState};
pub use store::{VersionCheck, VersionCheckStatus, VersionInput, VersionRecord};
