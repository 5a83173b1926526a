//! Reading a feedstock checkout into memory (no rendering).

use std::path::{Path, PathBuf};

use crate::recipe::RecipeFormat;

use super::config::{self, ForgeConfig};
use super::{CiSupportFile, FeedstockError, FeedstockName};

/// The recipe file of a feedstock.
#[derive(Debug, Clone)]
pub struct RecipeFile {
    /// v0 `meta.yaml` or v1 `recipe.yaml`.
    pub format: RecipeFormat,
    /// The recipe text, or why it is not text: binary garbage gets a message naming the
    /// line of the first invalid byte.
    pub text: Result<String, String>,
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
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(FeedstockName::from_dir_name)
        .ok_or_else(|| FeedstockError::NotAFeedstockDir {
            path: dir.to_path_buf(),
        })?;
    let recipe = read_recipe(dir)?;
    let (config, config_error) = read_config(dir)?;
    let ci_support = read_ci_support(dir)?;
    Ok(Feedstock {
        name,
        path: dir.to_path_buf(),
        recipe,
        config,
        config_error,
        ci_support,
    })
}

fn read_recipe(dir: &Path) -> Result<RecipeFile, FeedstockError> {
    for format in [RecipeFormat::V0, RecipeFormat::V1] {
        let path = dir.join("recipe").join(format.file_name());
        if !path.is_file() {
            continue;
        }
        let bytes = fs_err::read(&path).map_err(|source| FeedstockError::Read {
            path: path.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let line = 1 + e
                .as_bytes()
                .iter()
                .take(valid)
                .filter(|b| **b == b'\n')
                .count();
            format!("line {line}: not UTF-8 text (invalid byte at offset {valid})")
        });
        return Ok(RecipeFile { format, text });
    }
    Err(FeedstockError::MissingRecipe {
        path: dir.to_path_buf(),
    })
}

fn read_config(dir: &Path) -> Result<(ForgeConfig, Option<String>), FeedstockError> {
    let path = dir.join("conda-forge.yml");
    if !path.is_file() {
        return Ok((ForgeConfig::default(), None));
    }
    let bytes = fs_err::read(&path).map_err(|source| FeedstockError::Read {
        path: path.clone(),
        source,
    })?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok((
            ForgeConfig::default(),
            Some("conda-forge.yml: not UTF-8 text".to_string()),
        ));
    };
    Ok(match config::parse(&text) {
        Ok(config) => (config, None),
        Err(err) => (
            ForgeConfig::default(),
            Some(format!("conda-forge.yml: {err}")),
        ),
    })
}

fn read_ci_support(dir: &Path) -> Result<Vec<CiSupportFile>, FeedstockError> {
    let ci_dir = dir.join(".ci_support");
    if !ci_dir.is_dir() {
        return Ok(Vec::new());
    }
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FeedstockError::Read { path, source }
    };
    let mut files = Vec::new();
    for entry in fs_err::read_dir(&ci_dir).map_err(read_err(&ci_dir))? {
        let entry = entry.map_err(read_err(&ci_dir))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !file_name.ends_with(".yaml") || !path.is_file() {
            continue;
        }
        let bytes = fs_err::read(&path).map_err(read_err(&path))?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        files.push(CiSupportFile { file_name, text });
    }
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(files)
}
