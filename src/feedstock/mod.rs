//! One feedstock on disk: its recipe, `conda-forge.yml` and `.ci_support/` variants, and
//! the per-platform render of its recipe.
//!
//! This layer reads files and drives the recipe renderer; it knows nothing of the graph or
//! the store. A feedstock that cannot be rendered is still a feedstock: failures come back
//! as data ([`RenderFailure`]) so the caller can record them on the node and carry on.

mod ci_support;
pub mod config;
mod error;
mod fingerprint;
mod load;
mod name;
mod render;

pub use ci_support::{CiSupportFile, platform_of_ci_support_file};
pub use error::FeedstockError;
pub use fingerprint::{ContentHash, Fingerprint, Snapshot, content_hash, fingerprint};
pub use load::{Feedstock, NotText, RecipeFile, load, load_snapshot};
pub use name::{FeedstockName, InvalidFeedstockName};
pub use render::{FeedstockRender, RenderFailure, VariantCache, render, render_with_cache};
