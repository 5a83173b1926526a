//! v1 `recipe.yaml` rendering through rattler_build_recipe. Implementation in progress.

use std::collections::BTreeSet;

use super::{RecipeError, RenderedRecipe, Variant};

/// A parsed v1 recipe.
pub struct Template {
    used: BTreeSet<String>,
}

impl Template {
    /// Parses the recipe text.
    pub fn parse(_text: &str) -> Result<Template, RecipeError> {
        Ok(Template {
            used: BTreeSet::new(),
        })
    }

    /// Variant keys the recipe reads.
    pub fn used_variables(&self) -> &BTreeSet<String> {
        &self.used
    }

    /// Renders for one variant.
    pub fn render(&self, _variant: &Variant) -> Result<RenderedRecipe, RecipeError> {
        Err(RecipeError::Structure {
            line: None,
            message: "v1 rendering is not implemented yet".to_string(),
        })
    }
}
