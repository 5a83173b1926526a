//! Reading a feedstock checkout and a pinning directory, and applying (or checking) a
//! rerender's result on disk.
//!
//! The rerender itself (`rerender.rs`) works on texts; this module is the only one that
//! touches the file system.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::feedstock::Snapshot;

use super::migrations::MigrationFile;
use super::platforms::{BuildTool, ForgeConfig};
use super::rerender::{FeedstockInputs, Pinning, RerenderError, RerenderOutput};

/// File-system errors, each naming its path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FilesError {
    /// Reading failed.
    #[error("failed to read `{}`", .path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Writing or deleting failed.
    #[error("failed to write `{}`", .path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A required file is missing.
    #[error("`{}` does not exist", .0.display())]
    Missing(PathBuf),
    /// `conda-forge.yml` cannot be read.
    #[error(transparent)]
    Config(#[from] RerenderError),
}

fn read(path: &Path) -> Result<String, FilesError> {
    fs_err::read_to_string(path).map_err(|source| FilesError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, FilesError> {
    if path.is_file() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

/// The `*.yaml` files of a directory, sorted by name (`None` when it does not exist).
pub fn read_yaml_dir(dir: &Path) -> Result<Option<Vec<MigrationFile>>, FilesError> {
    if !dir.is_dir() {
        return Ok(None);
    }
    let entries = fs_err::read_dir(dir).map_err(|source| FilesError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| FilesError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        if !name.ends_with(".yaml") || !path.is_file() {
            continue;
        }
        files.push(MigrationFile {
            name,
            text: read(&path)?,
            path,
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(files))
}

/// Reads a pinning directory: `conda_build_config.yaml` and `migrations/`.
pub fn load_pinning(dir: &Path) -> Result<Pinning, FilesError> {
    let cbc = dir.join("conda_build_config.yaml");
    if !cbc.is_file() {
        return Err(FilesError::Missing(cbc));
    }
    Ok(Pinning {
        cbc: read(&cbc)?,
        migrations: read_yaml_dir(&dir.join("migrations"))?,
    })
}

/// Where a feedstock keeps the inputs of a rerender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedstockLayout {
    /// The feedstock root.
    pub root: PathBuf,
    /// Where the feedstock migrations are read from (default
    /// `.ci_support/migrations`).
    pub migrations_dir: PathBuf,
}

impl FeedstockLayout {
    /// The standard layout of a checkout.
    pub fn checkout(root: &Path) -> FeedstockLayout {
        FeedstockLayout {
            root: root.to_path_buf(),
            migrations_dir: root.join(".ci_support").join("migrations"),
        }
    }
}

/// Reads a feedstock's rerender inputs.
pub fn load_feedstock(layout: &FeedstockLayout) -> Result<FeedstockInputs, FilesError> {
    let root = &layout.root;
    let forge_path = root.join("conda-forge.yml");
    let forge_yml = read_optional(&forge_path)?.unwrap_or_default();
    let forge = ForgeConfig::parse(&forge_yml).map_err(|e| FilesError::Config(e.into()))?;
    let recipe_dir = root.join(&forge.recipe_dir);
    let recipe_file = match forge.build_tool {
        BuildTool::CondaBuild => "meta.yaml",
        BuildTool::RattlerBuild => "recipe.yaml",
    };
    let recipe_path = recipe_dir.join(recipe_file);
    if !recipe_path.is_file() {
        return Err(FilesError::Missing(recipe_path));
    }
    let mut scripts = BTreeMap::new();
    if let Ok(entries) = fs_err::read_dir(&recipe_dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let script = name.ends_with(".sh") || name.ends_with(".bat");
            if script && name != "build.sh" && name != "bld.bat" && path.is_file() {
                scripts.insert(name, read(&path)?);
            }
        }
    }
    let recipe = read(&recipe_path)?;
    let directory = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
        .unwrap_or_default();
    Ok(FeedstockInputs {
        repo: repository_name(&recipe, &directory),
        forge_yml,
        recipe,
        local_cbc: read_optional(&recipe_dir.join("conda_build_config.yaml"))?,
        variants_yaml: read_optional(&recipe_dir.join("variants.yaml"))?,
        build_sh: read_optional(&recipe_dir.join("build.sh"))?,
        bld_bat: read_optional(&recipe_dir.join("bld.bat"))?,
        scripts,
        migrations: read_yaml_dir(&layout.migrations_dir)?.unwrap_or_default(),
    })
}

/// The rerender inputs of a feedstock held in memory (a [`Snapshot`] of a checkout or of
/// a git tree): what [`load_feedstock`] reads from disk, without touching the disk.
/// `repo` is the repository name used when the recipe does not declare one.
pub fn inputs_from_snapshot(
    snapshot: &Snapshot,
    repo: &str,
) -> Result<FeedstockInputs, FilesError> {
    let root = snapshot.root();
    let text = |relative: &str| -> Result<Option<String>, FilesError> {
        match snapshot.file(relative) {
            None => Ok(None),
            Some(bytes) => {
                String::from_utf8(bytes.to_vec())
                    .map(Some)
                    .map_err(|_| FilesError::Read {
                        path: root.join(relative),
                        source: io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
                    })
            }
        }
    };
    let forge_yml = text("conda-forge.yml")?.unwrap_or_default();
    let forge = ForgeConfig::parse(&forge_yml).map_err(|e| FilesError::Config(e.into()))?;
    let recipe_dir = forge.recipe_dir.trim_end_matches('/').to_string();
    let recipe_file = match forge.build_tool {
        BuildTool::CondaBuild => "meta.yaml",
        BuildTool::RattlerBuild => "recipe.yaml",
    };
    let recipe_path = format!("{recipe_dir}/{recipe_file}");
    let recipe = text(&recipe_path)?.ok_or_else(|| FilesError::Missing(root.join(&recipe_path)))?;
    let mut scripts = BTreeMap::new();
    for (name, _) in snapshot.files_in(&recipe_dir) {
        let script = name.ends_with(".sh") || name.ends_with(".bat");
        if script
            && name != "build.sh"
            && name != "bld.bat"
            && let Some(body) = text(&format!("{recipe_dir}/{name}"))?
        {
            scripts.insert(name.to_string(), body);
        }
    }
    let mut migrations = Vec::new();
    for (name, _) in snapshot.files_in(".ci_support/migrations") {
        if !name.ends_with(".yaml") {
            continue;
        }
        let relative = format!(".ci_support/migrations/{name}");
        if let Some(body) = text(&relative)? {
            migrations.push(MigrationFile {
                name: name.to_string(),
                text: body,
                path: root.join(&relative),
            });
        }
    }
    Ok(FeedstockInputs {
        repo: repository_name(&recipe, repo),
        forge_yml,
        local_cbc: text(&format!("{recipe_dir}/conda_build_config.yaml"))?,
        variants_yaml: text(&format!("{recipe_dir}/variants.yaml"))?,
        build_sh: text(&format!("{recipe_dir}/build.sh"))?,
        bld_bat: text(&format!("{recipe_dir}/bld.bat"))?,
        recipe,
        scripts,
        migrations,
    })
}

/// The repository name conda-smithy uses: `extra.feedstock-name` plus `-feedstock`,
/// else the checkout's directory name.
fn repository_name(recipe: &str, directory: &str) -> String {
    let declared = recipe.lines().find_map(|line| {
        let value = line.trim_start().strip_prefix("feedstock-name:")?;
        let value = value.split('#').next()?.trim().trim_matches(['"', '\'']);
        (!value.is_empty() && !value.contains("{{")).then(|| value.to_string())
    });
    match declared {
        Some(name) => format!("{name}-feedstock"),
        None => directory.to_string(),
    }
}

/// One difference between the committed `.ci_support` and a rerender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// The path relative to the feedstock root (`.ci_support/linux_64_.yaml`).
    pub path: String,
    /// The committed content (`None`: the file is new).
    pub old: Option<String>,
    /// The rerendered content (`None`: the file goes away).
    pub new: Option<String>,
}

/// The committed `.ci_support/*.yaml` files, by name.
pub fn committed_files(ci_support: &Path) -> Result<BTreeMap<String, String>, FilesError> {
    Ok(read_yaml_dir(ci_support)?
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.name, f.text))
        .collect())
}

/// Compares a rerender with the feedstock's committed files (variant files and
/// migrations to delete).
pub fn changes(root: &Path, output: &RerenderOutput) -> Result<Vec<FileChange>, FilesError> {
    let ci_support = root.join(".ci_support");
    let committed = committed_files(&ci_support)?;
    let mut changes = Vec::new();
    for (name, old) in &committed {
        match output.files.get(name) {
            Some(new) if new == old => {}
            new => changes.push(FileChange {
                path: format!(".ci_support/{name}"),
                old: Some(old.clone()),
                new: new.cloned(),
            }),
        }
    }
    for (name, new) in &output.files {
        if !committed.contains_key(name) {
            changes.push(FileChange {
                path: format!(".ci_support/{name}"),
                old: None,
                new: Some(new.clone()),
            });
        }
    }
    for name in output.migrations.closed() {
        let path = ci_support.join("migrations").join(name);
        changes.push(FileChange {
            path: format!(".ci_support/migrations/{name}"),
            old: read_optional(&path)?,
            new: None,
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// Writes the changes into the feedstock.
pub fn apply(root: &Path, changes: &[FileChange]) -> Result<(), FilesError> {
    let ci_support = root.join(".ci_support");
    fs_err::create_dir_all(&ci_support).map_err(|source| FilesError::Write {
        path: ci_support.clone(),
        source,
    })?;
    for change in changes {
        let path = root.join(&change.path);
        let result = match &change.new {
            Some(text) => fs_err::write(&path, text),
            None if path.exists() => fs_err::remove_file(&path),
            None => Ok(()),
        };
        result.map_err(|source| FilesError::Write { path, source })?;
    }
    Ok(())
}

/// A unified diff of the changes (`--check`).
pub fn unified_diff(changes: &[FileChange]) -> String {
    let mut out = String::new();
    for change in changes {
        let old = change.old.as_deref().unwrap_or_default();
        let new = change.new.as_deref().unwrap_or_default();
        let (from, to) = (
            if change.old.is_some() {
                format!("a/{}", change.path)
            } else {
                "/dev/null".to_string()
            },
            if change.new.is_some() {
                format!("b/{}", change.path)
            } else {
                "/dev/null".to_string()
            },
        );
        let diff = similar::TextDiff::from_lines(old, new);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&from, &to)
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_name_comes_from_feedstock_name_or_the_directory() {
        let recipe = "extra:\n  feedstock-name: arrow-cpp  # the old name\n";
        assert_eq!(repository_name(recipe, "x"), "arrow-cpp-feedstock");
        assert_eq!(
            repository_name("package: {}\n", "zlib-feedstock"),
            "zlib-feedstock"
        );
    }
}
