//! Errors reading a feedstock directory.

use std::io;
use std::path::PathBuf;

/// Why a feedstock directory could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedstockError {
    /// The directory name is not `<name>-feedstock` or the name is invalid.
    #[error("`{}` is not a feedstock directory (expected `<name>-feedstock`)", .path.display())]
    NotAFeedstockDir {
        /// The directory.
        path: PathBuf,
    },
    /// Neither `recipe/meta.yaml` nor `recipe/recipe.yaml` exists.
    #[error("no recipe: neither recipe/meta.yaml nor recipe/recipe.yaml exists in `{}`", .path.display())]
    MissingRecipe {
        /// The feedstock directory.
        path: PathBuf,
    },
    /// A file or directory could not be read.
    #[error("failed to read `{}`", .path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}
