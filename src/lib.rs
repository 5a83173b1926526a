//! cascade: a migration bot engine for conda-forge-sized package ecosystems.
//!
//! The crate crawls feedstocks into a dependency graph stored in SQLite and (in later
//! layers) runs migrators over it. Dependencies point one way:
//! `cli` → `graph` → (`pinning`, `feedstock`) → `recipe`.

#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod feedstock;
pub mod forge;
pub mod graph;
pub mod migrators;
pub mod pinning;
pub mod recipe;
pub mod run;
pub mod status;
pub mod universe;
pub mod upstream;
