//! Text-preserving recipe edits: change the tokens an edit is about and keep every other
//! byte (comments, selectors, quoting, order, line endings).
//!
//! [`bump_build_number`] serves migrations that rebuild a feedstock. The YAML reader with
//! node positions (`spanned`) is shared with other text-preserving editors of the crate
//! (`conda-forge.yml` patches), which is why it lives here, below them.

mod build_number;
pub(crate) mod spanned;

pub use build_number::{BuildNumberEdit, NumberChange, bump_build_number, set_build_number};

use crate::recipe::RecipeFormat;

/// Why a recipe could not be edited. The recipe layer does not know the file path; the
/// caller adds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// Nothing in the recipe is a build number the bot would bump.
    #[error("no build number found ({} patterns)", .format.as_str())]
    NoBuildNumber {
        /// The recipe format searched.
        format: RecipeFormat,
    },
    /// A build number is not a number we can add to.
    #[error("line {line}: build number `{value}` cannot be bumped")]
    NotANumber {
        /// 1-based line.
        line: usize,
        /// The text found.
        value: String,
    },
    /// A v1 recipe is not YAML.
    #[error("line {line}: not YAML: {message}")]
    Yaml {
        /// 1-based line of the syntax error.
        line: usize,
        /// The parser's message.
        message: String,
    },
}
