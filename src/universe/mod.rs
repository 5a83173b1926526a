//! Synthetic conda-forge universes: thousands of feedstocks written by cascade, with the
//! shapes real conda-forge has, for the demo, the scale benchmark and tests.
//!
//! A universe is planned first (the private `plan` module holds every random choice, drawn from
//! one ChaCha8 stream seeded by the caller) and then written in parallel; the same seed
//! and size always give a byte-identical tree. What it imitates:
//!
//! - v0 `meta.yaml` and v1 `recipe.yaml` recipes (about 70/30), with `{% set %}`,
//!   `version.split('.')`, `compiler('c')`, `stdlib('c')`, `pin_subpackage`,
//!   `pin_compatible`, `# [selector]` lines and v1 `if:`/`then:` items;
//! - a `noarch: python` majority (one `linux_64_.yaml` each) and a tail of compiled
//!   libraries, tools and Python extensions with one `.ci_support` file per platform
//!   (× Python version for extensions);
//! - multi-output recipes (`libfoo`, `libfoo-devel`, `py-foo`);
//! - hubs with real names (python, zlib, openssl, numpy, ...) and preferential
//!   attachment, so a few packages have thousands of dependents;
//! - a few deliberate cycles (two Python packages that test-depend on each other);
//! - a `conda-forge-pinning` feedstock whose `conda_build_config.yaml` pins the hubs.
//!
//! This module writes files and nothing else; rendering and graph building are other
//! layers' business.

mod ci_support;
mod error;
mod hubs;
mod meta_yaml;
mod model;
mod names;
mod plan;
mod recipe_yaml;
mod text;
mod touch;
mod write;

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

pub use error::UniverseError;
pub use touch::touch;

use model::Kind;

/// The seed used when the caller gives none.
pub const DEFAULT_SEED: u64 = 20_250_601;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct UniverseOptions {
    /// Total number of feedstocks, hubs and the pinning feedstock included.
    pub size: usize,
    /// The seed of the random stream; equal seeds give identical trees.
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Serialize)]
pub struct UniverseSummary {
    /// Feedstock directories written.
    pub feedstocks: usize,
    /// Files written.
    pub files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// Feedstocks with a v0 `meta.yaml`.
    pub v0_recipes: usize,
    /// Feedstocks with a v1 `recipe.yaml`.
    pub v1_recipes: usize,
    /// `noarch: python` feedstocks.
    pub noarch_python: usize,
    /// Feedstocks with an `outputs:` section.
    pub multi_output: usize,
    /// `.ci_support/*.yaml` files (one per CI job).
    pub ci_support_files: usize,
    /// The fixed hub feedstocks, in dependency order.
    pub hubs: Vec<String>,
    /// The deliberate cycles: pairs of feedstocks that test-depend on each other.
    pub cycles: Vec<[String; 2]>,
    /// Wall time of planning and writing, in milliseconds.
    pub wall_ms: u64,
}

/// The smallest size [`generate`] accepts: the hubs plus the pinning feedstock.
pub fn minimum_size() -> usize {
    plan::minimum_size()
}

/// Plans and writes a universe into `out`, which must be missing or empty.
pub fn generate(options: &UniverseOptions, out: &Path) -> Result<UniverseSummary, UniverseError> {
    let started = Instant::now();
    let plan = plan::plan(options.size, options.seed)?;
    prepare_output(out)?;
    let stats = write::write_all(&plan, out)?;
    let count = |f: &dyn Fn(&model::Package) -> bool| plan.packages.iter().filter(|p| f(p)).count();
    Ok(UniverseSummary {
        feedstocks: plan.packages.len(),
        files: stats.files,
        bytes: stats.bytes,
        v0_recipes: count(&|p| p.format == crate::recipe::RecipeFormat::V0),
        v1_recipes: count(&|p| p.format == crate::recipe::RecipeFormat::V1),
        noarch_python: count(&|p| p.kind == Kind::NoarchPython),
        multi_output: count(&|p| p.is_multi_output()),
        ci_support_files: stats.ci_support_files,
        hubs: plan
            .packages
            .iter()
            .filter(|p| p.hub && p.kind != Kind::Pinning)
            .map(|p| p.name.clone())
            .collect(),
        cycles: plan
            .cycles
            .iter()
            .map(|[a, b]| {
                [
                    plan.packages[*a].name.clone(),
                    plan.packages[*b].name.clone(),
                ]
            })
            .collect(),
        wall_ms: started.elapsed().as_millis() as u64,
    })
}

fn prepare_output(out: &Path) -> Result<(), UniverseError> {
    if out.exists() {
        let mut entries = fs_err::read_dir(out).map_err(|source| UniverseError::Read {
            path: out.to_path_buf(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(UniverseError::OutputNotEmpty {
                path: out.to_path_buf(),
            });
        }
    }
    fs_err::create_dir_all(out).map_err(|source| UniverseError::Write {
        path: out.to_path_buf(),
        source,
    })
}
