//! Reading a feedstock checkout into memory (no rendering).

use std::path::{Path, PathBuf};

use super::fingerprint::Snapshot;

use crate::recipe::RecipeFormat;

use super::config::{self, ForgeConfig};
use super::{CiSupportFile, FeedstockError, FeedstockName};

/// The recipe file of a feedstock.
#[derive(Debug, Clone)]
pub struct RecipeFile {
    /// v0 `meta.yaml` or v1 `recipe.yaml`.
    pub format: RecipeFormat,
    /// The recipe text, or where it stops being text (binary garbage).
    pub text: Result<String, NotText>,
}

/// A recipe file that is not UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not UTF-8 text (invalid byte at offset {offset})")]
pub struct NotText {
    /// The 1-based line of the first invalid byte.
    pub line: usize,
    /// The byte offset of the first invalid byte.
    pub offset: usize,
}

impl RecipeFile {
    /// The path relative to the feedstock root (`recipe/meta.yaml`).
    pub fn relative_path(&self) -> String {
        format!("recipe/{}", self.format.file_name())
    }
}

/// A feedstock checkout read into memory.
#[derive(Debug, Clone)]
pub struct Feedstock {
    /// The feedstock name (directory name without `-feedstock`).
    pub name: FeedstockName,
    /// The checkout directory.
    pub path: PathBuf,
    /// The recipe; `meta.yaml` wins when both exist, as in cf-scripts.
    pub recipe: RecipeFile,
    /// `conda-forge.yml`, typed; the default when the file is missing or broken.
    pub config: ForgeConfig,
    /// Why `conda-forge.yml` could not be read, when it could not (`conda-forge.yml:3: ...`).
    pub config_error: Option<String>,
    /// `.ci_support/*.yaml`, sorted by file name (the `migrations/` folder excluded).
    pub ci_support: Vec<CiSupportFile>,
}

/// Reads a feedstock directory named `<name>-feedstock`.
pub fn load(dir: &Path) -> Result<Feedstock, FeedstockError> {
    load_snapshot(&Snapshot::read(dir)?)
}

/// Builds the feedstock from files already read into memory.
pub fn load_snapshot(snapshot: &Snapshot) -> Result<Feedstock, FeedstockError> {
    let dir = snapshot.root();
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(FeedstockName::from_dir_name)
        .ok_or_else(|| FeedstockError::NotAFeedstockDir {
            path: dir.to_path_buf(),
        })?;
    let recipe = read_recipe(snapshot)?;
    let (config, config_error) = read_config(snapshot);
    let mut ci_support: Vec<CiSupportFile> = snapshot
        .files_in(".ci_support")
        .filter(|(name, _)| name.ends_with(".yaml"))
        .map(|(name, bytes)| CiSupportFile {
            file_name: name.to_string(),
            text: String::from_utf8_lossy(bytes).into_owned(),
        })
        .collect();
    ci_support.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(Feedstock {
        name,
        path: dir.to_path_buf(),
        recipe,
        config,
        config_error,
        ci_support,
    })
}

fn read_recipe(snapshot: &Snapshot) -> Result<RecipeFile, FeedstockError> {
    for format in [RecipeFormat::V0, RecipeFormat::V1] {
        let Some(bytes) = snapshot.file(&format!("recipe/{}", format.file_name())) else {
            continue;
        };
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let line = 1 + e
                .as_bytes()
                .iter()
                .take(offset)
                .filter(|b| **b == b'\n')
                .count();
            NotText { line, offset }
        });
        return Ok(RecipeFile { format, text });
    }
    Err(FeedstockError::MissingRecipe {
        path: snapshot.root().to_path_buf(),
    })
}

fn read_config(snapshot: &Snapshot) -> (ForgeConfig, Option<String>) {
    let Some(bytes) = snapshot.file("conda-forge.yml") else {
        return (ForgeConfig::default(), None);
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return (
            ForgeConfig::default(),
            Some("conda-forge.yml: not UTF-8 text".to_string()),
        );
    };
    match config::parse(text) {
        Ok(config) => (config, None),
        Err(err) => (
            ForgeConfig::default(),
            Some(format!("conda-forge.yml: {err}")),
        ),
    }
}
