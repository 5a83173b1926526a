//! Writing a planned universe to disk, one feedstock per rayon task.

use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;

use crate::recipe::RecipeFormat;

use super::UniverseError;
use super::ci_support::{ci_support_files, conda_forge_yml, pinning_config};
use super::meta_yaml::meta_yaml;
use super::model::{Kind, Package, Plan};
use super::recipe_yaml::recipe_yaml;
use super::text::FEEDSTOCK_LICENSE;

/// Files and bytes written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WriteStats {
    pub files: usize,
    pub bytes: u64,
    pub ci_support_files: usize,
}

/// Every file of one feedstock: `(path relative to the feedstock root, content)`.
pub(crate) fn feedstock_files(plan: &Plan, package: &Package) -> Vec<(String, Cow<'static, str>)> {
    let mut files: Vec<(String, Cow<'static, str>)> = Vec::with_capacity(8);
    let recipe = match package.format {
        RecipeFormat::V0 => meta_yaml(plan, package),
        RecipeFormat::V1 => recipe_yaml(plan, package),
    };
    files.push((
        format!("recipe/{}", package.format.file_name()),
        Cow::Owned(recipe),
    ));
    if package.kind == Kind::Pinning {
        files.push((
            "recipe/conda_build_config.yaml".to_string(),
            Cow::Owned(pinning_config(plan)),
        ));
    }
    files.push((
        "conda-forge.yml".to_string(),
        Cow::Owned(conda_forge_yml(package)),
    ));
    files.push(("LICENSE.txt".to_string(), Cow::Borrowed(FEEDSTOCK_LICENSE)));
    for (name, text) in ci_support_files(plan, package) {
        files.push((format!(".ci_support/{name}"), Cow::Owned(text)));
    }
    files
}

/// Writes every feedstock of the plan under `out` (which must exist).
pub(crate) fn write_all(plan: &Plan, out: &Path) -> Result<WriteStats, UniverseError> {
    plan.packages
        .par_iter()
        .map(|package| write_feedstock(plan, package, out))
        .try_reduce(WriteStats::default, |a, b| {
            Ok(WriteStats {
                files: a.files + b.files,
                bytes: a.bytes + b.bytes,
                ci_support_files: a.ci_support_files + b.ci_support_files,
            })
        })
}

fn write_feedstock(
    plan: &Plan,
    package: &Package,
    out: &Path,
) -> Result<WriteStats, UniverseError> {
    let root = out.join(format!("{}-feedstock", package.name));
    for sub in ["recipe", ".ci_support"] {
        let dir = root.join(sub);
        fs_err::create_dir_all(&dir)
            .map_err(|source| UniverseError::Write { path: dir, source })?;
    }
    let mut stats = WriteStats::default();
    for (relative, content) in feedstock_files(plan, package) {
        let path = root.join(&relative);
        fs_err::write(&path, content.as_bytes())
            .map_err(|source| UniverseError::Write { path, source })?;
        stats.files += 1;
        stats.bytes += content.len() as u64;
        if relative.starts_with(".ci_support/") {
            stats.ci_support_files += 1;
        }
    }
    Ok(stats)
}
