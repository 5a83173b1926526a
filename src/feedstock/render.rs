//! Rendering a feedstock's recipe once per variant and merging the renders per platform.
//!
//! Each `.ci_support/*.yaml` is one variant (reference §2.3); without `.ci_support` the
//! platforms `conda-forge.yml` implies are rendered with empty variants. Two variants of
//! one platform that agree on every key the recipe uses render identically, so only the
//! first is rendered. Every render is for the variant's own target platform — v1 recipes
//! included, unlike cf-scripts, which renders every v1 recipe as linux-64.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Mutex;

use rattler_conda_types::Subdir;
use rayon::prelude::*;
use serde::Serialize;

use crate::recipe::{Recipe, RecipeError, RenderedRecipe, Variant};

use super::{CiSupportFile, Feedstock};

/// One variant (or the whole recipe) that failed to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderFailure {
    /// The file at fault, relative to the feedstock root (`recipe/meta.yaml`).
    pub file: String,
    /// 1-based line in that file, when known.
    pub line: Option<usize>,
    /// The `.ci_support` file the render used, when the failure is per variant.
    pub variant: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for RenderFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(variant) = &self.variant {
            write!(f, " (variant {variant})")?;
        }
        Ok(())
    }
}

/// The result of rendering every variant of a feedstock.
#[derive(Debug, Clone, Default)]
pub struct FeedstockRender {
    /// Per platform (`linux-64`, ...): the union of that platform's renders.
    pub platforms: BTreeMap<String, RenderedRecipe>,
    /// Failures; the variants that did render are still in `platforms`.
    pub errors: Vec<RenderFailure>,
    /// Renders actually performed.
    pub renders: usize,
    /// Variants skipped because an identical render was already done.
    pub skipped_identical: usize,
}

impl FeedstockRender {
    /// All failures as one message (`file:line: message`, one per line), `None` when clean.
    pub fn parse_error(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        let lines: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        Some(lines.join("\n"))
    }
}

/// Parsed `.ci_support` files by their text, shared by every feedstock of one crawl:
/// most variant files are byte-identical across feedstocks (they come from the same
/// pinning), and parsing their YAML is a measurable part of a cold build.
#[derive(Debug, Default)]
pub struct VariantCache {
    parsed: Mutex<HashMap<String, Result<Variant, String>>>,
}

impl VariantCache {
    /// An empty cache.
    pub fn new() -> VariantCache {
        VariantCache::default()
    }

    fn variant(&self, file: &CiSupportFile) -> Result<Variant, String> {
        if let Some(hit) = self
            .parsed
            .lock()
            .ok()
            .and_then(|m| m.get(&file.text).cloned())
        {
            return hit;
        }
        let parsed = file.variant().map_err(|e| e.to_string());
        if let Ok(mut map) = self.parsed.lock() {
            map.insert(file.text.clone(), parsed.clone());
        }
        parsed
    }
}

/// Renders every variant of a feedstock.
pub fn render(feedstock: &Feedstock) -> FeedstockRender {
    render_with_cache(feedstock, &VariantCache::new())
}

/// Renders every variant of a feedstock, reading `.ci_support` files through `cache`.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock.name))]
pub fn render_with_cache(feedstock: &Feedstock, cache: &VariantCache) -> FeedstockRender {
    let mut out = FeedstockRender::default();
    let recipe_path = feedstock.recipe.relative_path();
    let text = match &feedstock.recipe.text {
        Ok(text) => text,
        Err(not_text) => {
            out.errors.push(RenderFailure {
                file: recipe_path,
                line: Some(not_text.line),
                variant: None,
                message: not_text.to_string(),
            });
            return out;
        }
    };
    let recipe = match Recipe::parse(feedstock.recipe.format, text) {
        Ok(recipe) => recipe,
        Err(err) => {
            out.errors.push(failure(&recipe_path, None, &err));
            return out;
        }
    };
    let mut seen = HashSet::new();
    let mut unique = Vec::new();
    for (variant_file, variant) in variants(feedstock, cache, &mut out) {
        if seen.insert(render_key(&recipe, &variant)) {
            unique.push((variant_file, variant));
        } else {
            out.skipped_identical += 1;
        }
    }
    out.renders = unique.len();
    // Variants render in parallel (a feedstock with 24 variants would otherwise keep one
    // core busy while the rest of a small crawl has finished); results merge in file order.
    let results: Vec<_> = unique
        .par_iter()
        .map(|(_, variant)| recipe.render(variant))
        .collect();
    for ((variant_file, variant), result) in unique.iter().zip(results) {
        match result {
            Ok(rendered) if rendered.skip => {}
            Ok(rendered) => {
                let platform = variant.target_platform().as_str().to_string();
                match out.platforms.get_mut(&platform) {
                    Some(merged) => merged.merge(&rendered),
                    None => {
                        out.platforms.insert(platform, rendered);
                    }
                }
            }
            Err(err) => out
                .errors
                .push(failure(&recipe_path, variant_file.as_deref(), &err)),
        }
    }
    out
}

fn failure(file: &str, variant: Option<&str>, err: &RecipeError) -> RenderFailure {
    RenderFailure {
        file: file.to_string(),
        line: err.line(),
        variant: variant.map(str::to_string),
        message: err.to_string(),
    }
}

/// The variants to render: one per `.ci_support` file, or one per implied platform.
/// Unreadable variant files are recorded as failures and left out.
fn variants(
    feedstock: &Feedstock,
    cache: &VariantCache,
    out: &mut FeedstockRender,
) -> Vec<(Option<String>, Variant)> {
    if feedstock.ci_support.is_empty() {
        return implied_platforms(feedstock)
            .into_iter()
            .map(|platform| {
                let mut variant = Variant::for_platform(platform);
                if let Some(build) = feedstock.config.build_platform_of(platform) {
                    variant.set_build_platform(build);
                }
                (None, variant)
            })
            .collect();
    }
    let mut variants = Vec::with_capacity(feedstock.ci_support.len());
    for file in &feedstock.ci_support {
        match cache.variant(file) {
            Ok(mut variant) => {
                if variant.get("build_platform").is_none()
                    && let Some(build) = feedstock
                        .config
                        .build_platform_of(variant.target_platform())
                {
                    variant.set_build_platform(build);
                }
                variants.push((Some(file.file_name.clone()), variant));
            }
            Err(err) => out.errors.push(RenderFailure {
                file: format!(".ci_support/{}", file.file_name),
                line: None,
                variant: None,
                message: err,
            }),
        }
    }
    variants
}

/// Platforms of a feedstock without `.ci_support` (reference §2.3 step 6): linux-64,
/// osx-64 and win-64, plus every `provider` key naming a platform (`linux_aarch64`).
fn implied_platforms(feedstock: &Feedstock) -> Vec<Subdir> {
    let mut platforms = vec![Subdir::Linux64, Subdir::Osx64, Subdir::Win64];
    for platform in feedstock.config.provider_platforms() {
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    platforms
}

/// What decides a render: the target platform and the values of the keys the recipe uses.
fn render_key(recipe: &Recipe, variant: &Variant) -> String {
    let mut key = format!(
        "{}\u{1f}{}",
        variant.target_platform().as_str(),
        variant.build_platform().as_str()
    );
    for name in recipe.used_variables() {
        if let Some(values) = variant.get(name) {
            key.push('\u{1f}');
            key.push_str(name);
            key.push('=');
            key.push_str(&serde_json::Value::from(values.to_vec()).to_string());
        }
    }
    key
}
