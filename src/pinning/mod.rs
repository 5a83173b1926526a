//! Pinning and the native rerender of `.ci_support/` (reference `rerender.md`).
//!
//! This module owns everything between a feedstock's inputs and the variant files
//! conda-smithy would write: `conda_build_config.yaml` parsing with per-platform line
//! selectors (`selector`, `cbc`), migration files and the CFEP-9 variant algebra
//! (`migrations`, `algebra`), the platforms `conda-forge.yml` enables (`platforms`),
//! which keys a recipe uses (`used_vars`, `metas_v0`, `metas_v1`), the variant matrix and
//! its collapse into CI jobs (`combine`), and PyYAML-exact output (`emit`).
//!
//! It leaves recipe rendering to `recipe` (v0) and to rattler-build's library (v1), and
//! the CI pipeline files (GitHub Actions / Azure matrices, scripts, README) to others.

mod algebra;
mod cbc;
mod combine;
mod emit;
mod files;
mod lines;
mod load;
mod mentions;
mod metas_v0;
mod metas_v1;
mod migrations;
mod namespace;
mod platforms;
mod prepared;
mod rerender;
mod sections;
mod selector;
mod used_vars;

pub use cbc::{SpecError, VariantSpec};
pub use files::{
    FeedstockLayout, FileChange, FilesError, apply, changes, committed_files, inputs_from_snapshot,
    load_feedstock, load_pinning, read_yaml_dir, unified_diff,
};
pub use lines::SelectorError;
pub use load::YamlError;
pub use metas_v0::V0Error;
pub use metas_v1::V1Error;
pub use migrations::{MigrationAction, MigrationError, MigrationFile, Resolution};
pub use platforms::{BuildTool, ForgeConfig, ForgeConfigError, Target};
pub use rerender::{Compat, FeedstockInputs, Pinning, RerenderError, RerenderOutput, rerender};
