//! Every migration a run knows about, loaded from where it is defined: pinning
//! migrations from the pinning's `migrations/` folder, the other kinds from the top-level
//! `migrators/` folder (or the copy compiled into the binary).
//!
//! A broken definition is reported and skipped; the rest load. Adding a migration of an
//! existing kind is one YAML file in one of those folders; adding a kind is one module
//! implementing [`Migrator`] plus one arm in `definitions.rs`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pinning::Pinning;

use super::Migrator;
use super::definitions;
use super::pinning::{PinningMigration, PinningMigrator};

/// A definition that did not load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadError {
    /// The file at fault.
    pub file: PathBuf,
    /// What is wrong, with the line when known.
    pub message: String,
}

/// Where a run's migrations come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The pinning directory (`conda_build_config.yaml`, `migrations/`, optional
    /// `migration_support/`).
    pub pinning_dir: PathBuf,
    /// The definitions folder; `None` uses the copy compiled into the binary.
    pub migrators_dir: Option<PathBuf>,
}

/// The loaded migrations, in run order: regular ones first, longterm last (as the bot),
/// each group by name.
#[derive(Default)]
pub struct Registry {
    /// The migrators.
    pub migrators: Vec<Box<dyn Migrator>>,
    /// Definitions that failed to load.
    pub errors: Vec<LoadError>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.migrators.iter().map(|m| m.name()).collect();
        f.debug_struct("Registry")
            .field("migrators", &names)
            .field("errors", &self.errors)
            .finish()
    }
}

impl Registry {
    /// Loads every migration from `sources`; `pinning` is what the run rerenders against.
    pub fn load(sources: &Sources, pinning: &Pinning) -> Registry {
        let mut registry = Registry::default();
        let migrations = sources.pinning_dir.join("migrations");
        let support = sources.pinning_dir.join("migration_support");
        if migrations.is_dir() {
            match PinningMigration::read_dir(&migrations) {
                Ok(results) => {
                    for result in results {
                        registry.add_pinning(result, &support);
                    }
                }
                Err(err) => registry.errors.push(LoadError {
                    file: migrations.clone(),
                    message: err.to_string(),
                }),
            }
        }
        let (others, errors) = match &sources.migrators_dir {
            Some(dir) => definitions::load_dir(dir, pinning),
            None => definitions::embedded(pinning),
        };
        registry
            .errors
            .extend(errors.into_iter().map(|e| LoadError {
                file: e.file.clone(),
                message: e.to_string(),
            }));
        for migrator in others {
            registry.push(migrator, Path::new("migrators"));
        }
        registry.migrators.sort_by(|a, b| {
            (a.settings().longterm, a.name()).cmp(&(b.settings().longterm, b.name()))
        });
        registry
    }

    fn add_pinning(
        &mut self,
        result: Result<PinningMigration, super::pinning::DefinitionError>,
        support: &Path,
    ) {
        let built = result.and_then(|definition| {
            let path = definition.path.clone();
            PinningMigrator::new(definition, Some(support)).map(|m| (m, path))
        });
        match built {
            Ok((migrator, path)) => self.push(Box::new(migrator), &path),
            Err(err) => self.errors.push(LoadError {
                file: support.parent().unwrap_or(support).join("migrations"),
                message: err.to_string(),
            }),
        }
    }

    fn push(&mut self, migrator: Box<dyn Migrator>, file: &Path) {
        if self.migrators.iter().any(|m| m.name() == migrator.name()) {
            self.errors.push(LoadError {
                file: file.to_path_buf(),
                message: format!(
                    "a migration named `{}` is already defined; the second is ignored",
                    migrator.name()
                ),
            });
            return;
        }
        self.migrators.push(migrator);
    }

    /// Adds a migrator built outside the definition folders (the version migrator,
    /// which needs the run's store), keeping the run order; a duplicate name is a
    /// load error and the second is ignored.
    pub fn add(&mut self, migrator: Box<dyn Migrator>) {
        let file = PathBuf::from(format!("<{}>", migrator.name()));
        self.push(migrator, &file);
        self.migrators.sort_by(|a, b| {
            (a.settings().longterm, a.name()).cmp(&(b.settings().longterm, b.name()))
        });
    }

    /// Keeps only the migrations named in `names` (all when empty); returns the names
    /// that matched nothing.
    pub fn retain(&mut self, names: &[String]) -> Vec<String> {
        if names.is_empty() {
            return Vec::new();
        }
        let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let known: BTreeSet<String> = self
            .migrators
            .iter()
            .map(|m| m.name().to_string())
            .collect();
        self.migrators.retain(|m| wanted.contains(m.name()));
        wanted
            .into_iter()
            .filter(|n| !known.contains(*n))
            .map(str::to_string)
            .collect()
    }

    /// A migrator by name.
    pub fn get(&self, name: &str) -> Option<&dyn Migrator> {
        self.migrators
            .iter()
            .find(|m| m.name() == name)
            .map(|m| m.as_ref())
    }
}
