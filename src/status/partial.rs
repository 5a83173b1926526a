//! "Partial": a pinning migration that reached a feedstock on some platforms only.
//!
//! The definition, from files the feedstock's checkout has:
//! - the migration file is committed: `.ci_support/migrations/<migration>.yaml` exists
//!   (the migration's PR put it there, or a maintainer did);
//! - its pinned keys are `__migrator.primary_key` when the file names one, else the
//!   file's top-level keys other than `__migrator`, `migrator_ts`, `zip_keys` and
//!   `pin_run_as_build`, each with the new values; a key written under a `# [selector]`
//!   line is left out (status does not evaluate selectors, so it cannot tell which
//!   platforms the key is meant for);
//! - a platform is *concerned* when one of its `.ci_support/*.yaml` variant files has one
//!   of those keys (and, when `__migrator.platform_allowlist` is set, it is listed
//!   there), and *migrated* when one of its files has one of the new values for such a
//!   key;
//! - the feedstock is partial when at least one concerned platform is migrated and at
//!   least one is not (e.g. `python314` merged, but the recipe skips Python 3.14 on
//!   Windows, so `win-64`'s files still list only older Pythons).
//!
//! Known imprecision: an abi3 feedstock built once per platform against `python_min`
//! looks partial in a Python migration when one platform's minimum is the new Python
//! (`win-arm64` starts at 3.14). On the real feedstocks under `../shared/data`, 3 of the
//! 91 committed migration files are partial (`cryptography` and `pydantic-core` lack
//! free-threaded 3.14 on some Linux platforms), that one included.
//!
//! A migration whose `__migrator.operation` is `key_remove` removes values rather than
//! adding them and is never partial. Checked only for members the engine calls done
//! (merged or nothing to do): before that the checkout does not have the migration.
//! A missing or unreadable checkout means "not partial": status never fails on it.
//! Architecture rollouts could be partial too (a recipe skipping one of the targets),
//! but the `Migrator` trait does not expose a rollout's targets, so they are not
//! checked yet.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::feedstock::platform_of_ci_support_file;
use crate::recipe::{Variant, value_to_string};

/// Keys of a migration file that are not pins.
const NOT_PINS: [&str; 4] = ["__migrator", "migrator_ts", "zip_keys", "pin_run_as_build"];

/// The platforms a migration reached and did not reach on one feedstock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// Concerned platforms that have a new value.
    pub migrated: Vec<String>,
    /// Concerned platforms that do not.
    pub missing: Vec<String>,
}

/// Variant files read per checkout, so a feedstock in many migrations is read once.
#[derive(Debug, Default)]
pub(crate) struct CiSupportCache {
    variants: HashMap<PathBuf, Vec<(String, Variant)>>,
}

impl CiSupportCache {
    /// The split of `migration` on the checkout at `dir`, when it is partial.
    pub(crate) fn partial(&mut self, dir: &Path, migration: &str) -> Option<Split> {
        let file = dir
            .join(".ci_support")
            .join("migrations")
            .join(format!("{migration}.yaml"));
        let text = fs_err::read_to_string(&file).ok()?;
        let Pins { keys, allowlist } = pins(&text)?;
        let variants = self
            .variants
            .entry(dir.to_path_buf())
            .or_insert_with(|| read_variants(dir));
        let concerned: Vec<&(String, Variant)> = variants
            .iter()
            .filter(|(platform, _)| {
                allowlist
                    .as_ref()
                    .is_none_or(|list| list.contains(platform))
            })
            .collect();
        split(&keys, &concerned)
    }
}

/// What a migration file pins, for the partial check.
struct Pins {
    /// Pinned key → its new values.
    keys: BTreeMap<String, BTreeSet<String>>,
    /// `__migrator.platform_allowlist`, normalized to `os-arch`.
    allowlist: Option<BTreeSet<String>>,
}

/// The pinned keys of a migration file with their new values (`None` for a file that
/// does not parse, removes keys, or pins nothing usable).
fn pins(text: &str) -> Option<Pins> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    let root: Value = serde_saphyr::from_str_with_options(text, options).ok()?;
    let Value::Object(map) = root else {
        return None;
    };
    let migrator = map.get("__migrator");
    let setting = |key: &str| migrator.and_then(|m| m.get(key));
    if setting("operation").and_then(Value::as_str) == Some("key_remove") {
        return None;
    }
    let primary = setting("primary_key")
        .and_then(Value::as_str)
        .map(str::to_string);
    let allowlist = setting("platform_allowlist")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|p| value_to_string(p).replace('_', "-"))
                .collect::<BTreeSet<String>>()
        })
        .filter(|list| !list.is_empty());
    let selected = keys_under_selectors(text);
    let keys: BTreeMap<String, BTreeSet<String>> = map
        .into_iter()
        .filter(|(key, _)| !NOT_PINS.contains(&key.as_str()) && !selected.contains(key))
        .filter(|(key, _)| primary.as_ref().is_none_or(|p| p == key))
        .map(|(key, value)| {
            let values = match value {
                Value::Array(items) => items.iter().map(value_to_string).collect(),
                Value::Null => BTreeSet::new(),
                other => BTreeSet::from([value_to_string(&other)]),
            };
            (key, values)
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    (!keys.is_empty()).then_some(Pins { keys, allowlist })
}

/// The top-level keys whose line or value lines carry a `# [selector]`.
fn keys_under_selectors(text: &str) -> BTreeSet<String> {
    let mut selected = BTreeSet::new();
    let mut current: Option<&str> = None;
    for line in text.lines() {
        let starts_key = !line.starts_with([' ', '\t', '-', '#']) && !line.trim().is_empty();
        if starts_key {
            current = line.split_once(':').map(|(key, _)| key.trim());
        }
        if let Some(key) = current
            && line
                .split_once('#')
                .is_some_and(|(_, comment)| comment.trim_start().starts_with('['))
        {
            selected.insert(key.to_string());
        }
    }
    selected
}

/// Every readable variant file of a checkout with its platform.
fn read_variants(dir: &Path) -> Vec<(String, Variant)> {
    let Ok(entries) = fs_err::read_dir(dir.join(".ci_support")) else {
        return Vec::new();
    };
    let mut variants = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || !entry.path().is_file() {
            continue;
        }
        let Some(fallback) = platform_of_ci_support_file(&name) else {
            continue;
        };
        let Ok(text) = fs_err::read_to_string(entry.path()) else {
            continue;
        };
        if let Ok(variant) = Variant::from_ci_support(&text, fallback) {
            variants.push((variant.target_platform().to_string(), variant));
        }
    }
    variants
}

/// The split of the platforms, when it is partial.
fn split(
    pins: &BTreeMap<String, BTreeSet<String>>,
    variants: &[&(String, Variant)],
) -> Option<Split> {
    // Per concerned platform: migrated or not.
    let mut platforms: BTreeMap<&str, bool> = BTreeMap::new();
    for &(platform, variant) in variants {
        for (key, new) in pins {
            let Some(values) = variant.get(key) else {
                continue;
            };
            let has_new = values.iter().any(|v| new.contains(&value_to_string(v)));
            let migrated = platforms.entry(platform.as_str()).or_insert(false);
            *migrated |= has_new;
        }
    }
    let (migrated, missing): (Vec<_>, Vec<_>) = platforms.into_iter().partition(|(_, m)| *m);
    if migrated.is_empty() || missing.is_empty() {
        return None;
    }
    Some(Split {
        migrated: migrated.into_iter().map(|(p, _)| p.to_string()).collect(),
        missing: missing.into_iter().map(|(p, _)| p.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }

    const MIGRATION: &str = "__migrator:\n  build_number: 1\n  kind: version\n  \
                             migration_number: 1\nmigrator_ts: 1.0\npython:\n- 3.14.* _cp314\n";

    #[test]
    fn a_platform_whose_files_lack_the_new_value_makes_the_feedstock_partial() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, ".ci_support/migrations/python314.yaml", MIGRATION);
        write(
            d,
            ".ci_support/linux_64_python3.13.yaml",
            "python:\n- 3.13.* _cp313\n",
        );
        write(
            d,
            ".ci_support/linux_64_python3.14.yaml",
            "python:\n- 3.14.* _cp314\n",
        );
        write(
            d,
            ".ci_support/win_64_python3.13.yaml",
            "python:\n- 3.13.* _cp313\n",
        );
        write(d, ".ci_support/osx_64_.yaml", "c_compiler:\n- clang\n");
        let split = CiSupportCache::default().partial(d, "python314").unwrap();
        assert_eq!(split.migrated, vec!["linux-64"]);
        assert_eq!(split.missing, vec!["win-64"]);
    }

    #[test]
    fn every_concerned_platform_migrated_is_not_partial() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, ".ci_support/migrations/python314.yaml", MIGRATION);
        write(
            d,
            ".ci_support/linux_64_python3.14.yaml",
            "python:\n- 3.14.* _cp314\n",
        );
        write(
            d,
            ".ci_support/win_64_python3.14.yaml",
            "python:\n- 3.14.* _cp314\n",
        );
        assert_eq!(CiSupportCache::default().partial(d, "python314"), None);
    }

    #[test]
    fn without_the_migration_file_or_with_key_remove_nothing_is_partial() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            ".ci_support/linux_64_python3.14.yaml",
            "python:\n- 3.14.* _cp314\n",
        );
        write(
            d,
            ".ci_support/win_64_python3.13.yaml",
            "python:\n- 3.13.* _cp313\n",
        );
        assert_eq!(CiSupportCache::default().partial(d, "python314"), None);
        write(
            d,
            ".ci_support/migrations/python314.yaml",
            "__migrator:\n  operation: key_remove\npython:\n- 3.14.* _cp314\n",
        );
        assert_eq!(CiSupportCache::default().partial(d, "python314"), None);
        assert_eq!(
            CiSupportCache::default().partial(Path::new("/nonexistent"), "x"),
            None
        );
    }

    #[test]
    fn keys_under_selectors_and_platforms_outside_the_allowlist_are_not_concerned() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(
            d,
            ".ci_support/migrations/flang21.yaml",
            "__migrator:\n  platform_allowlist:\n    - win-64\nfortran_compiler_version:\n- 21\n",
        );
        write(
            d,
            ".ci_support/linux_64_.yaml",
            "fortran_compiler_version:\n- '14'\n",
        );
        write(
            d,
            ".ci_support/win_64_.yaml",
            "fortran_compiler_version:\n- '21'\n",
        );
        assert_eq!(CiSupportCache::default().partial(d, "flang21"), None);
        write(
            d,
            ".ci_support/migrations/abseil.yaml",
            "libabseil:\n- 2026\nc_stdlib_version:   # [osx]\n  - 11.0  # [osx]\n",
        );
        write(
            d,
            ".ci_support/osx_64_.yaml",
            "c_stdlib_version:\n- '11.0'\nlibabseil:\n- '2025'\n",
        );
        write(
            d,
            ".ci_support/linux_aarch64_.yaml",
            "libabseil:\n- '2025'\n",
        );
        assert_eq!(CiSupportCache::default().partial(d, "abseil"), None);
        assert_eq!(
            keys_under_selectors(
                "a:\n- 1\nb:  # [osx]\n  - 2\nc:\n  - 3  # [win]\nd:\n- 4 # note\n"
            ),
            BTreeSet::from(["b".to_string(), "c".to_string()])
        );
    }

    #[test]
    fn real_feedstocks_with_committed_migrations_are_classified_without_error() {
        let root = Path::new("../shared/data/feedstocks");
        if !root.is_dir() {
            eprintln!("skipping: {} is absent", root.display());
            return;
        }
        let mut cache = CiSupportCache::default();
        let mut checked = 0;
        let mut partial = Vec::new();
        for entry in fs_err::read_dir(root).unwrap().flatten() {
            let migrations = entry.path().join(".ci_support").join("migrations");
            let Ok(files) = fs_err::read_dir(&migrations) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                let Some(stem) = name.strip_suffix(".yaml") else {
                    continue;
                };
                checked += 1;
                if let Some(split) = cache.partial(&entry.path(), stem) {
                    assert!(!split.migrated.is_empty() && !split.missing.is_empty());
                    let feedstock = entry.file_name().to_string_lossy().into_owned();
                    partial.push((feedstock, stem.to_string(), split));
                }
            }
        }
        partial.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        eprintln!(
            "{} of {checked} committed migrations are partial",
            partial.len()
        );
        // cryptography builds free-threaded Python 3.14 everywhere but linux-aarch64.
        let cryptography = partial
            .iter()
            .find(|(f, m, _)| f == "cryptography-feedstock" && m == "python314t")
            .map(|(_, _, split)| split.missing.clone());
        assert_eq!(cryptography, Some(vec!["linux-aarch64".to_string()]));
        assert!(checked > 0);
    }
}
