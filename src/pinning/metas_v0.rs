//! The kept output renders ("metas") of a v0 `meta.yaml` on one platform, as conda-build
//! produces them for conda-smithy (reference §2.5–2.6).
//!
//! The recipe layer renders each distinct variant (skip, outputs, noarch, requirements);
//! which keys each output uses comes from the text scans of `used_vars.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;

use crate::recipe::{Noarch, Recipe, RecipeError, Requirements, Variant};

use super::combine::{Matrix, Meta};
use super::lines::{SelectableText, SelectorError};
use super::namespace::with_variant;
use super::sections::{output_sections, outputs_text, top_level_text};
use super::selector::Namespace;
use super::used_vars::{RequirementNames, Rules, Scan, ScanCache, script_used, used_in_meta};

/// A v0 recipe with the files conda-build scans next to it.
pub(crate) struct V0Recipe<'a> {
    /// The parsed recipe.
    pub(crate) recipe: &'a Recipe,
    /// The raw `meta.yaml` text.
    pub(crate) text: &'a str,
    /// The same text, split for selection once per rerender.
    pub(crate) selectable: &'a SelectableText,
    /// `build.sh`, when present.
    pub(crate) build_sh: Option<&'a str>,
    /// `bld.bat`, when present.
    pub(crate) bld_bat: Option<&'a str>,
    /// Output scripts by file name.
    pub(crate) scripts: &'a BTreeMap<String, String>,
    /// Release-dependent scan rules.
    pub(crate) rules: Rules,
    /// Scan results shared by the platforms.
    pub(crate) scans: &'a ScanCache,
}

/// Why a variant could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum V0Error {
    /// The recipe layer failed.
    #[error("cannot render the recipe{}", if .variant.is_empty() { String::new() } else { format!(" for {}", .variant) })]
    Render {
        /// The variant's varying values.
        variant: String,
        /// The recipe error.
        #[source]
        source: RecipeError,
    },
    /// A selector in the recipe failed.
    #[error("cannot apply the recipe's selectors")]
    Selector(#[from] SelectorError),
    /// A variant value was refused by the recipe layer.
    #[error("bad platform `{0}`")]
    Platform(String),
}

/// The recipe variant conda-build renders first (with the first input variant).
///
/// Its build platform is the target: smithy does not tell conda-build about
/// cross-compilation, so `build_platform != target_platform` selectors are false while
/// rendering (only `BUILD_PLATFORM` in the environment says otherwise).
fn variant_of(
    matrix: &Matrix<'_>,
    index: usize,
    target: rattler_conda_types::Subdir,
    reads: &dyn Fn(&str) -> bool,
) -> Variant {
    let mut variant = Variant::for_platform(target);
    for key in matrix.keys().filter(|k| reads(k)) {
        if let Some(value) = matrix.value(index, key) {
            variant.set(key, Value::String(value.to_string()));
        }
    }
    variant
}

/// conda-build builds a `noarch` recipe with one python only (the newest): every other
/// python value leaves the input variants.
pub(crate) fn reduce_noarch_python(
    input: &V0Recipe<'_>,
    matrix: &mut Matrix<'_>,
    subdir: &str,
) -> Result<(), V0Error> {
    if matrix.rows.len() < 2 || !matrix.varying.iter().any(|k| k == "python") {
        return Ok(());
    }
    let target = subdir
        .parse()
        .map_err(|_| V0Error::Platform(subdir.to_string()))?;
    // conda-build decides on the recipe parsed before any variant is applied: keys the
    // recipe tests (`noarch: python  # [use_noarch]`) are undefined there.
    let bare = Variant::for_platform(target);
    let noarch = input
        .recipe
        .render(&bare)
        .map(|r| r.noarch.is_some())
        .unwrap_or(false);
    if !noarch {
        return Ok(());
    }
    let newest = (0..matrix.rows.len())
        .filter_map(|v| matrix.value(v, "python"))
        .max_by(|a, b| {
            let version = |s: &str| s.split(' ').next().unwrap_or_default().to_string();
            super::algebra::version_cmp(&version(a), &version(b))
        })
        .map(str::to_string);
    if let Some(newest) = newest {
        matrix.retain("python", &newest);
    }
    Ok(())
}

/// Renders every distinct variant of the matrix and returns the kept metas.
pub(crate) fn metas(
    input: &V0Recipe<'_>,
    matrix: &Matrix<'_>,
    mentioned: &dyn Fn(&str) -> bool,
    platform_ns: &Namespace,
    subdir: &str,
    keep_noarch: bool,
) -> Result<Vec<Meta>, V0Error> {
    let relevant: Vec<&str> = matrix
        .varying
        .iter()
        .map(String::as_str)
        .filter(|k| input.recipe.used_variables().contains(*k))
        .collect();
    // Variants that agree on every key the recipe can read render identically.
    let mut groups: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
    for v in 0..matrix.rows.len() {
        let key: Vec<&str> = relevant
            .iter()
            .map(|k| matrix.value(v, k).unwrap_or_default())
            .collect();
        groups.entry(key).or_default().push(v);
    }
    let all_keys: BTreeSet<String> = matrix.keys().map(str::to_string).collect();
    // Keys no recipe text mentions cannot be found by a scan, nor read by a render.
    let keys: BTreeSet<String> = all_keys.iter().filter(|k| mentioned(k)).cloned().collect();
    let read_set: HashSet<&str, foldhash::fast::RandomState> = all_keys
        .iter()
        .map(String::as_str)
        .filter(|k| keys.contains(*k) || input.recipe.used_variables().contains(*k))
        .collect();
    let reads = |key: &str| read_set.contains(key);
    let mut scans: HashMap<u64, BTreeSet<String>> = HashMap::new();
    let mut selections: HashMap<Vec<bool>, Selected> = HashMap::new();
    let raw_sections = output_sections(outputs_text(input.text));
    let top_raw = top_level_text(input.text);
    let ignore_build_only_deps = vec!["python".to_string(), "numpy".to_string()];
    let target = subdir
        .parse()
        .map_err(|_| V0Error::Platform(subdir.to_string()))?;
    let mut metas: Vec<Meta> = Vec::new();
    for variants in groups.values() {
        let first = variants[0];
        let variant = variant_of(matrix, first, target, &reads);
        let values: Vec<(&str, &str)> = matrix
            .keys()
            .filter(|k| reads(k))
            .filter_map(|k| matrix.value(first, k).map(|v| (k, v)))
            .collect();
        let rendered = input
            .recipe
            .render(&variant)
            .map_err(|source| V0Error::Render {
                variant: relevant
                    .iter()
                    .map(|k| format!("{k}={}", matrix.value(first, k).unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(", "),
                source,
            })?;
        if rendered.skip {
            continue;
        }
        let ns = with_variant(platform_ns, values.iter().copied());
        let outcome = input.selectable.outcome(&ns)?;
        let parts = selections
            .entry(outcome.clone())
            .or_insert_with(|| Selected::new(input.selectable.select(&outcome)));
        let sections = &parts.sections;
        let top_selected = &parts.top;
        let windows = subdir.starts_with("win-");
        let top_script = if windows {
            input.bld_bat
        } else {
            input.build_sh
        };
        let mut outputs: Vec<(String, Option<Noarch>, &Requirements)> = Vec::new();
        if rendered.outputs.is_empty() {
            if !sections.is_empty() {
                continue; // every output is skipped
            }
            outputs.push((
                rendered.name.clone(),
                rendered.noarch,
                &rendered.requirements,
            ));
        } else {
            for output in &rendered.outputs {
                let noarch = output.noarch.or(if output.name == rendered.name {
                    rendered.noarch
                } else {
                    None
                });
                outputs.push((output.name.clone(), noarch, &output.requirements));
            }
        }
        let names = section_names(sections, &ns, &values);
        for (position, (name, noarch, requirements)) in outputs.iter().enumerate() {
            if noarch.is_some() && !keep_noarch {
                continue;
            }
            let index = names
                .iter()
                .position(|n| n == name)
                .or((names.len() == outputs.len()).then_some(position));
            let own = index
                .and_then(|i| sections.get(i))
                .map(String::as_str)
                .unwrap_or("");
            let own_raw = index
                .and_then(|i| raw_sections.get(i))
                .copied()
                .unwrap_or("");
            let is_output = *name != rendered.name;
            let names_of = |section: &[crate::recipe::Requirement]| -> BTreeSet<String> {
                section.iter().map(|r| r.name.replace('-', "_")).collect()
            };
            let reqs = RequirementNames {
                build: names_of(&requirements.build),
                host: names_of(&requirements.host),
                run: names_of(&requirements.run),
            };
            let top_text_selected = format!("{top_selected}{own}");
            let top_text_raw = format!("{top_raw}{own_raw}");
            let scan_top = Scan {
                keys: &keys,
                raw: &top_text_raw,
                selected: &top_text_selected,
                requirements: &reqs,
                ignore_build_only_deps: &ignore_build_only_deps,
                rules: input.rules,
                cache: input.scans,
            };
            let mut used_top = memo(&mut scans, &scan_top, (&outcome, index, true));
            if let Some(script) = top_script {
                used_top.extend(script_used(&keys, script, windows));
            }
            let mut used = if is_output {
                let scan = Scan {
                    keys: &keys,
                    raw: own_raw,
                    selected: own,
                    requirements: &reqs,
                    ignore_build_only_deps: &ignore_build_only_deps,
                    rules: input.rules,
                    cache: input.scans,
                };
                let mut used = memo(&mut scans, &scan, (&outcome, index, false));
                if let Some(script) = output_script(own).and_then(|s| input.scripts.get(s)) {
                    let windows_script = !script_is_shell(output_script(own).unwrap_or_default());
                    used.extend(script_used(&keys, script, windows_script));
                }
                used
            } else {
                used_top.clone()
            };
            for set in [&mut used, &mut used_top] {
                if noarch.is_none() && all_keys.contains("target_platform") {
                    set.insert("target_platform".to_string());
                }
                if all_keys.contains("channel_targets") {
                    set.insert("channel_targets".to_string());
                }
            }
            let region = if is_output {
                own.to_string()
            } else {
                top_text_selected.clone()
            };
            apply_forced_keys(&region, &mut used);
            apply_forced_keys(&top_text_selected, &mut used_top);
            metas.push(Meta {
                variants: variants.clone(),
                used,
                used_top,
                noarch: noarch.is_some(),
            });
        }
    }
    Ok(metas)
}

/// `used_in_meta`, memoised on what determines its inputs: the selector outcome, which
/// output section, top-level or own text, and the rendered requirements (variants that
/// select the same recipe lines scan the same text).
fn memo(
    cache: &mut HashMap<u64, BTreeSet<String>>,
    scan: &Scan<'_>,
    (outcome, index, top): (&[bool], Option<usize>, bool),
) -> BTreeSet<String> {
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    outcome.hash(&mut hasher);
    index.hash(&mut hasher);
    top.hash(&mut hasher);
    scan.requirements.build.hash(&mut hasher);
    scan.requirements.host.hash(&mut hasher);
    scan.requirements.run.hash(&mut hasher);
    let key = hasher.finish();
    cache
        .entry(key)
        .or_insert_with(|| used_in_meta(scan))
        .clone()
}

/// The recipe selected for one selector outcome, cut into the regions scans read.
struct Selected {
    /// Each output's section.
    sections: Vec<String>,
    /// The recipe without `outputs:`.
    top: String,
}

impl Selected {
    fn new(selected: String) -> Selected {
        Selected {
            sections: output_sections(outputs_text(&selected))
                .into_iter()
                .map(str::to_string)
                .collect(),
            top: top_level_text(&selected),
        }
    }
}

/// The names of the output sections, with `{{ var }}` resolved from the variant and
/// simple `{% set %}` statements of the recipe.
fn section_names(sections: &[String], ns: &Namespace, values: &[(&str, &str)]) -> Vec<String> {
    let _ = ns;
    sections
        .iter()
        .map(|section| {
            let line = section.lines().next().unwrap_or_default();
            let raw = line
                .split_once("name:")
                .map(|(_, n)| n.trim())
                .unwrap_or_default()
                .trim_matches(['"', '\'']);
            resolve_name(raw, values)
        })
        .collect()
}

/// Replaces `{{ key }}` with the variant's value (names built from other expressions
/// stay as written and fall back to positional matching).
fn resolve_name(raw: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let expr = rest[start + 2..start + end].trim();
        match values.iter().find(|(k, _)| *k == expr) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&rest[start..start + end + 2]),
        }
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    out
}

/// The `script:` file of an output section, if it names one.
fn output_script(section: &str) -> Option<&str> {
    section.lines().find_map(|line| {
        let t = line.trim_start();
        let value = t.strip_prefix("script:")?.trim();
        let value = value.trim_matches(['"', '\'']);
        (value.ends_with(".sh") || value.ends_with(".bat")).then_some(value)
    })
}

fn script_is_shell(name: &str) -> bool {
    name.ends_with(".sh")
}

/// `build: force_use_keys:` / `force_ignore_keys:` lists found in a region.
fn apply_forced_keys(region: &str, used: &mut BTreeSet<String>) {
    let mut mode: Option<(bool, usize)> = None;
    for line in region.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if let Some((add, list_indent)) = mode {
            if let Some(item) = t.strip_prefix("- ")
                && indent >= list_indent
            {
                let key = item.trim().to_string();
                if add {
                    used.insert(key);
                } else {
                    used.remove(&key);
                }
                continue;
            }
            mode = None;
        }
        if t == "force_use_keys:" {
            mode = Some((true, indent));
        } else if t == "force_ignore_keys:" {
            mode = Some((false, indent));
        }
    }
}
