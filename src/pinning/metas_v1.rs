//! The kept output renders ("metas") of a v1 `recipe.yaml` on one platform.
//!
//! conda-smithy runs `rattler-build build --render-only` with the migrated spec as the
//! variant file and reads each output's `build_configuration.variant`: the keys that
//! output uses. `rattler_build_recipe`'s variant renderer is the same code, in process.

use std::collections::{BTreeMap, BTreeSet};

use rattler_build_jinja::Variable;
use rattler_build_recipe::stage0;
use rattler_build_recipe::variant_render::{RenderConfig, render_recipe_with_variant_config};
use rattler_build_types::NormalizedKey;
use rattler_build_variant_config::VariantConfig;
use rattler_conda_types::Subdir;

use super::cbc::VariantSpec;
use super::combine::{Matrix, Meta};

/// Why the v1 recipe could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum V1Error {
    /// rattler-build's renderer failed.
    #[error("rattler-build cannot render the recipe: {0}")]
    Render(String),
    /// A platform name rattler does not know.
    #[error("unknown platform `{0}`")]
    Platform(String),
}

/// Parses a v1 recipe once.
pub(crate) fn parse(text: &str) -> Result<stage0::Recipe, V1Error> {
    stage0::parse_recipe_or_multi_from_source(text).map_err(|e| V1Error::Render(e.to_string()))
}

fn variable(value: &str) -> Variable {
    match value {
        "true" => Variable::from(true),
        "false" => Variable::from(false),
        other => Variable::from(other),
    }
}

/// The variant file smithy hands to rattler-build: the migrated spec, with the matrix's
/// merged macOS deployment targets.
fn variant_config(
    spec: &VariantSpec,
    matrix: &Matrix<'_>,
    relevant: &dyn Fn(&str) -> bool,
) -> VariantConfig {
    let mut variants: BTreeMap<NormalizedKey, Vec<Variable>> = BTreeMap::new();
    // Keys in free dimensions are certainly unused: leaving them out keeps rattler-build's
    // per-evaluation work small.
    for (key, values) in spec
        .values
        .iter()
        .filter(|(k, _)| matrix.free_dim(k).is_none())
    {
        if !relevant(key) {
            continue;
        }
        let values = match matrix.constant.get(key.as_str()) {
            Some(one) => vec![variable(one)],
            None => values.iter().map(|v| variable(v)).collect(),
        };
        variants.insert(NormalizedKey::from(key.as_str()), values);
    }
    for (key, value) in matrix.constant.iter().filter(|(k, _)| relevant(k)) {
        variants
            .entry(NormalizedKey::from(*key))
            .or_insert_with(|| vec![variable(value)]);
    }
    let zip_keys: Vec<Vec<NormalizedKey>> = matrix
        .zip_keys
        .iter()
        .filter(|g| g.iter().all(|k| !matrix.constant.contains_key(k.as_str())))
        .map(|g| g.iter().map(|k| NormalizedKey::from(k.as_str())).collect())
        .collect();
    VariantConfig {
        zip_keys: (!zip_keys.is_empty()).then_some(zip_keys),
        variants,
    }
}

/// Renders the recipe for a platform and returns the kept metas, plus the keys any
/// output reports (the others take their values from the input variants).
pub(crate) fn metas(
    recipe: &stage0::Recipe,
    spec: &VariantSpec,
    matrix: &Matrix<'_>,
    relevant: &dyn Fn(&str) -> bool,
    subdir: &str,
    keep_noarch: bool,
) -> Result<(Vec<Meta>, BTreeSet<String>), V1Error> {
    let target: Subdir = subdir
        .parse()
        .map_err(|_| V1Error::Platform(subdir.to_string()))?;
    // smithy passes the target as rattler-build's build platform too (it renders, it
    // does not cross-compile), so `build_platform == target_platform` holds here.
    let config = RenderConfig::new()
        .with_target_platform(target)
        .with_build_platform(target);
    let variants = variant_config(spec, matrix, relevant);
    let rendered = render_recipe_with_variant_config(recipe, &variants, config)
        .map_err(|e| V1Error::Render(e.to_string()))?;
    let matrix_keys: BTreeSet<&str> = matrix.keys().collect();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut metas: Vec<Meta> = Vec::new();
    for output in &rendered {
        if output.recipe.build.skip {
            continue;
        }
        let noarch = output.recipe.build.noarch.is_some_and(|n| !n.is_none());
        if noarch && !keep_noarch {
            continue;
        }
        let mut used: BTreeSet<String> = BTreeSet::new();
        let mut wanted: Vec<(String, String)> = Vec::new();
        for (key, value) in &output.variant {
            let key = key.0.clone();
            if !matrix_keys.contains(key.as_str()) {
                continue;
            }
            // Exact `pin_subpackage` pins join rattler-build's variant (for the hash),
            // but they are not variant keys smithy sees.
            if (noarch && key == "target_platform")
                || output.pin_subpackages.keys().any(|p| p.0 == key)
            {
                continue;
            }
            wanted.push((key.clone(), value.to_string()));
            used.insert(key);
        }
        let variants: Vec<usize> = (0..matrix.rows.len())
            .filter(|v| {
                wanted
                    .iter()
                    .all(|(k, value)| matrix.value(*v, k) == Some(value.as_str()))
            })
            .collect();
        reported.extend(used.iter().cloned());
        let meta = Meta {
            variants,
            used_top: used.clone(),
            used,
            noarch,
        };
        if !metas
            .iter()
            .any(|m| m.used == meta.used && m.variants == meta.variants && m.noarch == meta.noarch)
        {
            metas.push(meta);
        }
    }
    Ok((metas, reported))
}
