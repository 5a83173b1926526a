//! A variant: the key → value assignment one render of a recipe runs under.
//!
//! Each `.ci_support/*.yaml` file of a feedstock is one variant (reference §2.3). Values
//! keep their YAML type (`is_freethreading: false` is a boolean, not the truthy string
//! `"false"`), because selectors and `${{ }}` expressions test them.

use std::collections::BTreeMap;
use std::str::FromStr;

use rattler_conda_types::Subdir;
use serde_json::Value;

/// Errors reading a variant file.
#[derive(Debug, thiserror::Error)]
pub enum VariantError {
    /// The file is not YAML, or not a mapping at the top.
    #[error("variant file is not a YAML mapping: {message}")]
    NotAMapping {
        /// The parser's message (with line and column when known).
        message: String,
    },
    /// `target_platform` names no known conda subdir.
    #[error("unknown target_platform `{value}`")]
    UnknownPlatform {
        /// The value found.
        value: String,
    },
}

/// One variant: a target platform plus every variant key with its values.
///
/// Invariant: `target_platform` is never `noarch`; a noarch recipe is rendered for a real
/// platform, as conda-build does.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    target_platform: Subdir,
    build_platform: Subdir,
    values: BTreeMap<String, Vec<Value>>,
    zip_keys: Vec<Vec<String>>,
    pin_run_as_build: BTreeMap<String, Value>,
}

impl Variant {
    /// An empty variant for one platform: what a feedstock without `.ci_support` renders with.
    pub fn for_platform(target_platform: Subdir) -> Variant {
        Variant {
            target_platform,
            build_platform: target_platform,
            values: BTreeMap::new(),
            zip_keys: Vec::new(),
            pin_run_as_build: BTreeMap::new(),
        }
    }

    /// Reads a `.ci_support/*.yaml` file. `fallback` is the platform from the file name,
    /// used when the file has no `target_platform` key.
    pub fn from_ci_support(text: &str, fallback: Subdir) -> Result<Variant, VariantError> {
        let options = serde_saphyr::options! {
            duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        };
        let root: Value = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            VariantError::NotAMapping {
                message: e.to_string(),
            }
        })?;
        let Value::Object(map) = root else {
            return Err(VariantError::NotAMapping {
                message: "top level is not a mapping".to_string(),
            });
        };
        let mut variant = Variant::for_platform(fallback);
        for (key, value) in map {
            match key.as_str() {
                "zip_keys" => variant.zip_keys = parse_zip_keys(&value),
                "pin_run_as_build" => {
                    if let Value::Object(pins) = value {
                        variant.pin_run_as_build = pins.into_iter().collect();
                    }
                }
                _ => {
                    let values = match value {
                        Value::Array(items) => items,
                        Value::Null => Vec::new(),
                        other => vec![other],
                    };
                    variant.values.insert(key, values);
                }
            }
        }
        if let Some(platform) = variant.first_str("target_platform") {
            variant.target_platform =
                Subdir::from_str(&platform).map_err(|_| VariantError::UnknownPlatform {
                    value: platform.clone(),
                })?;
        }
        variant.build_platform = match variant.first_str("build_platform") {
            Some(platform) => {
                Subdir::from_str(&platform).map_err(|_| VariantError::UnknownPlatform {
                    value: platform.clone(),
                })?
            }
            None => variant.target_platform,
        };
        Ok(variant)
    }

    /// The platform packages are built for.
    pub fn target_platform(&self) -> Subdir {
        self.target_platform
    }

    /// The platform the build runs on (differs when cross-compiling).
    pub fn build_platform(&self) -> Subdir {
        self.build_platform
    }

    /// Sets the build platform: a feedstock's `conda-forge.yml` `build_platform` map says
    /// which platforms are cross-compiled, and `.ci_support` files do not repeat it.
    pub fn set_build_platform(&mut self, platform: Subdir) {
        self.build_platform = platform;
    }

    /// Sets a key to a single value (used by tests and the universe generator).
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        self.values.insert(key.into(), vec![value]);
    }

    /// Every value of a key.
    pub fn get(&self, key: &str) -> Option<&[Value]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// The first value of a key: what a single-job variant renders with.
    pub fn first(&self, key: &str) -> Option<&Value> {
        self.values.get(key).and_then(|v| v.first())
    }

    /// The first value of a key as text (numbers and booleans are formatted).
    pub fn first_str(&self, key: &str) -> Option<String> {
        self.first(key).map(value_to_string)
    }

    /// Every key with its values (excluding `zip_keys` and `pin_run_as_build`).
    pub fn values(&self) -> impl Iterator<Item = (&str, &[Value])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The `zip_keys` groups.
    pub fn zip_keys(&self) -> &[Vec<String>] {
        &self.zip_keys
    }

    /// The `pin_run_as_build` table.
    pub fn pin_run_as_build(&self) -> &BTreeMap<String, Value> {
        &self.pin_run_as_build
    }
}

/// Formats a scalar variant value as conda-build would when it substitutes it into text.
pub fn value_to_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn parse_zip_keys(value: &Value) -> Vec<Vec<String>> {
    let Value::Array(groups) = value else {
        return Vec::new();
    };
    groups
        .iter()
        .filter_map(|group| match group {
            Value::Array(keys) => Some(
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMPY_LINUX: &str = "c_compiler:\n- gcc\nc_compiler_version:\n- '14'\nis_freethreading:\n- false\npin_run_as_build:\n  python:\n    min_pin: x.x\n    max_pin: x.x\npython:\n- 3.12.* *_cpython\ntarget_platform:\n- linux-64\nzip_keys:\n- - python\n  - is_freethreading\n";

    #[test]
    fn ci_support_file_reads_typed_values() {
        let v = Variant::from_ci_support(NUMPY_LINUX, Subdir::Osx64).expect("parses");
        assert_eq!(v.target_platform(), Subdir::Linux64);
        assert_eq!(v.first("is_freethreading"), Some(&Value::Bool(false)));
        assert_eq!(v.first_str("c_compiler_version").as_deref(), Some("14"));
        assert_eq!(v.first_str("python").as_deref(), Some("3.12.* *_cpython"));
        assert_eq!(
            v.zip_keys(),
            &[vec!["python".to_string(), "is_freethreading".to_string()]]
        );
        assert!(v.pin_run_as_build().contains_key("python"));
    }

    #[test]
    fn missing_target_platform_uses_the_file_name_platform() {
        let v =
            Variant::from_ci_support("python:\n- '3.12'\n", Subdir::LinuxAarch64).expect("parses");
        assert_eq!(v.target_platform(), Subdir::LinuxAarch64);
    }

    #[test]
    fn non_mapping_is_an_error() {
        assert!(Variant::from_ci_support("- a\n- b\n", Subdir::Linux64).is_err());
    }
}
