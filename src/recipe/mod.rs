//! Recipe rendering: v0 `meta.yaml` and v1 `recipe.yaml` into one [`RenderedRecipe`] model.
//!
//! This module knows recipe syntax and nothing about feedstocks, graphs or pinning files.
//! Callers parse the text once into a [`Recipe`], ask which variant keys it uses (so
//! identical renders can be skipped), and render it per [`Variant`]. Errors are
//! [`RecipeError`]s that point at the line the user would edit.

use std::collections::BTreeSet;

pub mod edit;
mod error;
mod model;
mod requirement;
pub mod v0;
pub mod v1;
mod variant;
pub mod version;

pub use error::{MAX_RECIPE_BYTES, RecipeError};
pub use model::{
    HashKind, Noarch, Output, RecipeFormat, RenderedRecipe, Requirements, RunExports, Section,
    Source, SourceHash,
};
pub use requirement::{Requirement, name_of_raw_spec};
pub use variant::{Variant, VariantError, value_to_string};

/// A recipe parsed once, ready to render for many variants.
pub enum Recipe {
    /// A v0 `meta.yaml`.
    V0(Box<v0::Template>),
    /// A v1 `recipe.yaml`.
    V1(v1::Template),
}

impl Recipe {
    /// Parses recipe text of the given format. Fails only on errors that no variant can
    /// fix (the text is too large, the v1 YAML does not parse); per-variant failures
    /// come from [`Recipe::render`].
    pub fn parse(format: RecipeFormat, text: &str) -> Result<Recipe, RecipeError> {
        if text.len() > MAX_RECIPE_BYTES {
            return Err(RecipeError::TooLarge {
                bytes: text.len(),
                limit: MAX_RECIPE_BYTES,
            });
        }
        Ok(match format {
            RecipeFormat::V0 => Recipe::V0(Box::new(v0::Template::parse(text)?)),
            RecipeFormat::V1 => Recipe::V1(v1::Template::parse(text)?),
        })
    }

    /// The recipe's format.
    pub fn format(&self) -> RecipeFormat {
        match self {
            Recipe::V0(_) => RecipeFormat::V0,
            Recipe::V1(_) => RecipeFormat::V1,
        }
    }

    /// The variant keys whose values can change the render. Two variants of the same
    /// target platform that agree on all of them render identically.
    pub fn used_variables(&self) -> &BTreeSet<String> {
        match self {
            Recipe::V0(t) => t.used_variables(),
            Recipe::V1(t) => t.used_variables(),
        }
    }

    /// Renders the recipe for one variant.
    pub fn render(&self, variant: &Variant) -> Result<RenderedRecipe, RecipeError> {
        match self {
            Recipe::V0(t) => t.render(variant),
            Recipe::V1(t) => t.render(variant),
        }
    }
}
