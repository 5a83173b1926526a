//! Errors from rendering one recipe text.
//!
//! The recipe layer does not know the file path (the caller does); every variant carries
//! the 1-based line in the recipe where that is known, so the feedstock layer can report
//! `recipe/meta.yaml:12: ...`.

/// Why a recipe did not render.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecipeError {
    /// A `# [selector]` expression could not be compiled or evaluated.
    #[error("invalid selector `{selector}`: {message}")]
    Selector {
        /// 1-based line of the selector.
        line: usize,
        /// The selector text between the brackets.
        selector: String,
        /// What went wrong.
        message: String,
    },
    /// The Jinja template failed (syntax error, undefined call, recursion limit).
    #[error("jinja: {message}")]
    Jinja {
        /// 1-based line, when the engine reports one.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// The rendered text is not valid YAML.
    #[error("yaml: {message}")]
    Yaml {
        /// 1-based line, when known.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// The YAML is valid but is not a recipe (no package name, wrong types).
    #[error("recipe: {message}")]
    Structure {
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is missing or wrong.
        message: String,
    },
    /// The recipe is larger than we are willing to render.
    #[error("recipe is {bytes} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The size found.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
}

impl RecipeError {
    /// The 1-based recipe line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            RecipeError::Selector { line, .. } => Some(*line),
            RecipeError::Jinja { line, .. }
            | RecipeError::Yaml { line, .. }
            | RecipeError::Structure { line, .. } => *line,
            RecipeError::TooLarge { .. } => None,
        }
    }
}

/// The largest recipe text either renderer accepts (real recipes are under 100 kB).
pub const MAX_RECIPE_BYTES: usize = 1 << 20;
