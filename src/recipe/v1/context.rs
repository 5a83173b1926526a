//! The evaluation context of one v1 render: the variant's values as template variables,
//! the variant's platforms, and the compiler/stdlib stubs.
//!
//! rattler_build_jinja's `compiler('c')` reads `c_compiler`/`c_compiler_version` from the
//! Jinja configuration's variant map, not from the template variables, and renders
//! `<name>_<target_platform> <version>`. The bot renders it as `c_compiler_stub` instead
//! (reference §2.3 step 5), so graph edges to compilers are the same for v0 and v1. We get
//! the same result without touching the recipe text: the configuration's variant map holds
//! `c_compiler: c_compiler_stub` and no version, while the template variables keep the real
//! values (so `if: c_compiler == "vs2022"` still sees `vs2022`). The function then renders
//! `c_compiler_stub_<target_platform>`, which [`StubNames::rendered_names`] maps back.
//!
//! Two consequences, both deliberate: `compiler('c')` and `compiler('cxx')` stay distinct
//! on Windows (both would render `vs2022_win-64`), and `stdlib('c')` renders even when the
//! variant has no `c_stdlib` (rattler-build would fail, the bot's text substitution does
//! not). The one visible trace: a template that reads `c_compiler` directly while the
//! variant has no `c_compiler` sees `c_compiler_stub` instead of an undefined value.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use indexmap::IndexMap;
use rattler_build_jinja::{JinjaConfig, Variable};
use rattler_build_recipe::EvaluationContext;
use rattler_build_types::NormalizedKey;
use rattler_build_variant_config::compute_combinations;

use crate::recipe::{RecipeError, Variant};

/// The Jinja functions whose output we replace by a stub name.
const STUB_FUNCTIONS: [&str; 2] = ["compiler", "stdlib"];

/// The languages a recipe calls `compiler()`/`stdlib()` with, and the stub names the
/// calls render to.
///
/// Built once per recipe from its stage0 used variables: `compiler('cxx')` makes the
/// library report `cxx_compiler` and `cxx_compiler_version` as used.
#[derive(Debug, Clone, Default)]
pub(super) struct StubNames {
    /// `(variant key, stub)` pairs, e.g. `("c_compiler", "c_compiler_stub")`.
    keys: Vec<(String, String)>,
}

impl StubNames {
    /// Finds the `<lang>_compiler` / `<lang>_stdlib` keys among a recipe's used variables.
    pub(super) fn from_used_variables<'a>(used: impl IntoIterator<Item = &'a str>) -> StubNames {
        let keys = used
            .into_iter()
            .filter(|var| {
                STUB_FUNCTIONS.iter().any(|function| {
                    var.strip_suffix(function)
                        .and_then(|lang| lang.strip_suffix('_'))
                        .is_some_and(|lang| !lang.is_empty())
                })
            })
            .map(|var| (var.to_string(), format!("{var}_stub")))
            .collect();
        StubNames { keys }
    }

    /// Maps what a stubbed call renders to on `platform` back to the stub name:
    /// `c_compiler_stub_linux-64` → `c_compiler_stub`.
    pub(super) fn rendered_names(&self, platform: &str) -> HashMap<String, String> {
        self.keys
            .iter()
            .map(|(_, stub)| (format!("{stub}_{platform}"), stub.clone()))
            .collect()
    }

    /// True when `key` is a stubbed key or its `_version` companion.
    fn replaces(&self, key: &str) -> bool {
        self.keys.iter().any(|(stubbed, _)| {
            key == stubbed
                || key
                    .strip_prefix(stubbed.as_str())
                    .is_some_and(|rest| rest == "_version")
        })
    }
}

/// One combination of the values of the multi-valued variant keys a recipe uses.
pub(super) type Combination = BTreeMap<NormalizedKey, Variable>;

/// The combinations one `.ci_support` file stands for.
///
/// A file usually holds one value per key, but rattler-build feedstocks may list several
/// (pillow's `linux_64_.yaml` lists six pythons; one CI job builds them all). Like
/// rattler-build, only the keys the recipe uses are expanded, with `zip_keys` groups
/// moving together (the library's `compute_combinations`). One value everywhere gives a
/// single empty combination: the variant's first values are the whole story.
pub(super) fn combinations(
    variant: &Variant,
    used: &BTreeSet<String>,
) -> Result<Vec<Combination>, RecipeError> {
    let multi_valued = variant
        .values()
        .any(|(key, values)| values.len() > 1 && used.contains(key));
    if !multi_valued {
        return Ok(vec![Combination::new()]);
    }
    let variants: BTreeMap<NormalizedKey, Vec<Variable>> = variant
        .values()
        .map(|(key, values)| (key.into(), values.iter().map(to_variable).collect()))
        .collect();
    let zip_keys: Vec<Vec<NormalizedKey>> = variant
        .zip_keys()
        .iter()
        .map(|group| group.iter().map(|k| k.as_str().into()).collect())
        .collect();
    let used: HashSet<NormalizedKey> = used.iter().map(|k| k.as_str().into()).collect();
    compute_combinations(&variants, &zip_keys, &used).map_err(|e| RecipeError::Structure {
        line: None,
        message: format!("variant cannot be expanded: {e}"),
    })
}

/// Builds the context a stage0 recipe is evaluated with for one variant combination.
///
/// Every variant key the recipe uses is a template variable (its first value, or the
/// combination's, keeping its YAML type). Keys the recipe does not use are left out: the
/// library copies the whole context into a fresh Jinja environment for every template
/// it evaluates, so each unused key costs on every `${{ }}`, and stage0's
/// `used_variables()` is what rattler-build itself trusts to pick variant keys.
/// The target, build and host platforms come from the variant,
/// so a `win_64` variant renders with `win` true and an `osx_arm64` one with `arm64` true.
pub(super) fn evaluation_context(
    variant: &Variant,
    combination: &Combination,
    stubs: &StubNames,
    used: &BTreeSet<String>,
) -> EvaluationContext {
    let target = variant.target_platform();
    let mut variables: IndexMap<String, Variable> = IndexMap::new();
    for (key, values) in variant.values() {
        if !used.contains(key) {
            continue;
        }
        if let Some(first) = values.first() {
            variables.insert(key.to_string(), to_variable(first));
        }
    }
    for (key, value) in combination {
        variables.insert(key.normalize(), value.clone());
    }
    variables
        .entry("target_platform".to_string())
        .or_insert_with(|| Variable::from(target.to_string()));
    // The variant's build platform is the truth (the `.ci_support` key, or conda-forge.yml's
    // `build_platform` for a cross-compiled target): `build_platform != target_platform`
    // selects cross-python and friends.
    let build_platform = variant.build_platform();
    variables.insert(
        "build_platform".to_string(),
        Variable::from(build_platform.to_string()),
    );

    let mut jinja_variant = BTreeMap::new();
    for (key, value) in &variables {
        if !stubs.replaces(key) {
            jinja_variant.insert(key.as_str().into(), value.clone());
        }
    }
    for (key, stub) in &stubs.keys {
        jinja_variant.insert(key.as_str().into(), Variable::from(stub.clone()));
    }

    let config = JinjaConfig {
        target_platform: target,
        build_platform,
        host_platform: target,
        variant: jinja_variant,
        ..JinjaConfig::default()
    };
    EvaluationContext::with_variables_and_config(variables, config)
}

/// Converts a variant value to a template variable of the same type.
fn to_variable(value: &serde_json::Value) -> Variable {
    match value {
        serde_json::Value::String(s) => Variable::from(s.clone()),
        serde_json::Value::Bool(b) => Variable::from(*b),
        other => Variable::from(minijinja::Value::from(minijinja::value::Serde(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_and_stdlib_keys_become_stubs() {
        let stubs = StubNames::from_used_variables([
            "c_compiler",
            "c_compiler_version",
            "cxx_compiler",
            "c_stdlib",
            "python",
            "compiler",
        ]);
        let names = stubs.rendered_names("linux-64");
        assert_eq!(names.len(), 3);
        assert_eq!(names["c_compiler_stub_linux-64"], "c_compiler_stub");
        assert_eq!(names["cxx_compiler_stub_linux-64"], "cxx_compiler_stub");
        assert_eq!(names["c_stdlib_stub_linux-64"], "c_stdlib_stub");
    }

    #[test]
    fn stubbed_keys_include_their_version_companions() {
        let stubs = StubNames::from_used_variables(["c_compiler"]);
        assert!(stubs.replaces("c_compiler"));
        assert!(stubs.replaces("c_compiler_version"));
        assert!(!stubs.replaces("cxx_compiler"));
        assert!(!stubs.replaces("c_compiler_versions"));
    }
}
