//! `conda_build_config.yaml` files: loading one (selectors applied, every scalar a
//! string) and combining several with conda-build's rules (reference §2.2–2.3).
//!
//! A [`VariantSpec`] is what conda-build calls a "combined spec": every ordinary key maps
//! to a list of string values, plus the three special keys (`zip_keys`,
//! `pin_run_as_build` and the other `extend_keys`). Migrations (`migrations.rs`) fold into
//! it, and `combine.rs` explodes it into variants.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::lines::SelectorError;
use super::load::{Node, YamlError, load};
use super::prepared::{Prepared, PreparedError};
use super::selector::Namespace;

/// Keys whose values are merged, not replaced, when files combine (conda-build's
/// `DEFAULT_VARIANTS["extend_keys"]`).
pub(crate) const DEFAULT_EXTEND_KEYS: [&str; 4] = [
    "pin_run_as_build",
    "ignore_version",
    "ignore_build_only_deps",
    "extend_keys",
];

/// Errors loading or combining variant files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A selector could not be evaluated.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The text is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(#[from] YamlError),
    /// The top level is not a mapping.
    #[error("the top level is not a mapping of variant keys")]
    NotAMapping,
    /// A key that conda-build rejects (it contains `-`, or is not a string).
    #[error("invalid variant key `{key}`: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A value of a shape conda-build cannot use for this key.
    #[error("key `{key}`: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Keys zipped together have lists of different lengths.
    #[error("zipped keys {group:?} have different lengths ({lengths:?})")]
    ZipLength {
        /// The group.
        group: Vec<String>,
        /// The lengths found.
        lengths: Vec<usize>,
    },
}

/// An insertion-ordered map from variant keys, with a fast hasher (the pinning has ~300
/// keys and every platform of every rerender builds several of these).
pub(crate) type KeyMap<V> = IndexMap<String, V, foldhash::fast::RandomState>;

/// A combined variant spec: key → values (all strings), zip groups, pins and the other
/// extend keys. Keys keep the order in which they were first defined.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantSpec {
    /// Ordinary keys.
    pub(crate) values: KeyMap<Vec<String>>,
    /// `zip_keys` groups (keys inside a group keep their written order).
    pub(crate) zip_keys: Vec<Vec<String>>,
    /// `pin_run_as_build`: package → pin settings (`min_pin`, `max_pin`).
    pub(crate) pin_run_as_build: IndexMap<String, IndexMap<String, String>>,
    /// The other extend keys (`ignore_version`, `ignore_build_only_deps`,
    /// `extend_keys`, and any a file declares) with list values.
    pub(crate) extend: KeyMap<Vec<String>>,
}

impl VariantSpec {
    /// The values of an ordinary key.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }

    /// Every ordinary key with its values, in definition order.
    pub fn values(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The zip groups.
    pub fn zip_keys(&self) -> &[Vec<String>] {
        &self.zip_keys
    }

    /// The zip group a key belongs to.
    pub(crate) fn group_of(&self, key: &str) -> Option<&Vec<String>> {
        self.zip_keys.iter().find(|g| g.iter().any(|k| k == key))
    }

    /// True when nothing is defined.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.zip_keys.is_empty()
            && self.pin_run_as_build.is_empty()
            && self.extend.is_empty()
    }

    /// The extend keys in effect: the defaults plus those this spec declares.
    fn extend_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = DEFAULT_EXTEND_KEYS.iter().map(|k| k.to_string()).collect();
        for key in self.extend.get("extend_keys").into_iter().flatten() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    }
}

/// Loads one variant file for a platform: selectors applied, scalars kept as strings,
/// empty keys dropped (conda-build `parse_config_file`).
#[cfg(test)]
pub(crate) fn load_spec(text: &str, ns: &Namespace) -> Result<VariantSpec, SpecError> {
    let selected = super::lines::select_lines(text, ns)?;
    match load(&selected)? {
        None => Ok(VariantSpec::default()),
        Some(node) => spec_from_node(node),
    }
}

/// Loads a prepared variant file for a platform (the same result as [`load_spec`]).
pub(crate) fn load_prepared(text: &Prepared, ns: &Namespace) -> Result<VariantSpec, SpecError> {
    let node = text.load(ns).map_err(|e| match e {
        PreparedError::Selector(e) => SpecError::Selector(e),
        PreparedError::Yaml(e) => SpecError::Yaml(e),
    })?;
    match node {
        None => Ok(VariantSpec::default()),
        Some(node) => spec_from_node(node),
    }
}

/// Loads a variant file without line selectors (rattler-build's `variants.yaml`).
pub fn load_plain_spec(text: &str) -> Result<VariantSpec, SpecError> {
    match load(text)? {
        None => Ok(VariantSpec::default()),
        Some(node) => spec_from_node(node),
    }
}

/// Converts a loaded mapping (without `__migrator` / `migrator_ts`) into a spec.
pub(crate) fn spec_from_node(node: Node) -> Result<VariantSpec, SpecError> {
    let declared_extend: Vec<String> = node.get("extend_keys").map(scalars).unwrap_or_default();
    let entries = match node {
        Node::Map(entries) => entries,
        other if other.is_null() => return Ok(VariantSpec::default()),
        _ => return Err(SpecError::NotAMapping),
    };
    let mut spec = VariantSpec::default();
    for (key, value) in entries {
        if is_empty(&value) {
            continue;
        }
        if key.contains('-') {
            return Err(SpecError::InvalidKey {
                key,
                reason: "variant keys use `_`, not `-` (write `libjpeg_turbo` for \
                         `libjpeg-turbo`)"
                    .to_string(),
            });
        }
        match key.as_str() {
            "zip_keys" => spec.zip_keys = zip_groups(&key, &value)?,
            "pin_run_as_build" => spec.pin_run_as_build = pins(&key, &value)?,
            _ if DEFAULT_EXTEND_KEYS.contains(&key.as_str()) || declared_extend.contains(&key) => {
                spec.extend.insert(key, into_scalars(value));
            }
            _ => {
                if matches!(value, Node::Map(_)) {
                    return Err(SpecError::BadValue {
                        key,
                        reason: "a mapping is only allowed for `pin_run_as_build` and \
                                 declared `extend_keys`"
                            .to_string(),
                    });
                }
                let values = into_scalars(value);
                if !values.is_empty() {
                    spec.values.insert(key, values);
                }
            }
        }
    }
    Ok(spec)
}

/// [`scalars`], taking the strings out of the node.
fn into_scalars(node: Node) -> Vec<String> {
    match node {
        Node::Scalar { .. } if node.is_null() => Vec::new(),
        Node::Scalar { text, .. } => vec![text],
        Node::Seq(items) => items
            .into_iter()
            .filter(|i| !i.is_null())
            .filter_map(|i| match i {
                Node::Scalar { text, .. } => Some(text),
                _ => None,
            })
            .collect(),
        Node::Map(_) => Vec::new(),
    }
}

/// conda-build's `trim_empty_keys`: `None`, `""`, `[]` and `{}` are empty.
fn is_empty(node: &Node) -> bool {
    match node {
        Node::Scalar { text, .. } => text.is_empty() || node.is_null(),
        Node::Seq(items) => items.is_empty(),
        Node::Map(entries) => entries.is_empty(),
    }
}

/// The scalar items of a value (a lone scalar is a one-item list; nulls are skipped).
pub(crate) fn scalars(node: &Node) -> Vec<String> {
    match node {
        Node::Scalar { text, .. } if !node.is_null() => vec![text.clone()],
        Node::Scalar { .. } => Vec::new(),
        Node::Seq(items) => items
            .iter()
            .filter(|i| !i.is_null())
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Node::Map(_) => Vec::new(),
    }
}

pub(crate) fn zip_groups(key: &str, node: &Node) -> Result<Vec<Vec<String>>, SpecError> {
    let Node::Seq(items) = node else {
        return Err(SpecError::BadValue {
            key: key.to_string(),
            reason: "zip_keys must be a list of lists of keys".to_string(),
        });
    };
    if items.iter().all(|i| matches!(i, Node::Scalar { .. })) {
        let group = scalars(node);
        return Ok(if group.is_empty() {
            vec![]
        } else {
            vec![group]
        });
    }
    let mut groups = Vec::new();
    for item in items {
        match item {
            Node::Seq(_) => {
                let group = scalars(item);
                if !group.is_empty() {
                    groups.push(group);
                }
            }
            _ if item.is_null() => {}
            _ => {
                return Err(SpecError::BadValue {
                    key: key.to_string(),
                    reason: "zip_keys mixes keys and groups".to_string(),
                });
            }
        }
    }
    Ok(groups)
}

fn pins(key: &str, node: &Node) -> Result<IndexMap<String, IndexMap<String, String>>, SpecError> {
    let Node::Map(entries) = node else {
        return Err(SpecError::BadValue {
            key: key.to_string(),
            reason: "pin_run_as_build must map package names to pin settings".to_string(),
        });
    };
    let mut pins = IndexMap::new();
    for (package, settings) in entries {
        let mut pin = IndexMap::new();
        if let Node::Map(items) = settings {
            for (name, value) in items {
                if let Some(text) = value.as_str() {
                    pin.insert(name.clone(), text.to_string());
                }
            }
        }
        pins.insert(package.clone(), pin);
    }
    Ok(pins)
}

/// conda-build's internal defaults for a target subdir (`get_default_variant`): the lowest
/// layer of every combination. `target_platform` and the `pin_run_as_build` entry for
/// python in every `.ci_support` file come from here.
pub fn internal_defaults(subdir: &str) -> VariantSpec {
    let mut spec = VariantSpec::default();
    let mut set = |key: &str, value: &str| {
        spec.values.insert(key.to_string(), vec![value.to_string()]);
    };
    set("python", "3.12");
    set("numpy", "1.26");
    set("perl", "5.26.2");
    set("lua", "5");
    set("r_base", "3.5");
    set("cpu_optimization_target", "nocona");
    set("cran_mirror", "https://cran.r-project.org");
    set("target_platform", subdir);
    let os = subdir.split('-').next().unwrap_or_default();
    let compilers: &[(&str, &str)] = match os {
        "linux" => &[("c", "gcc"), ("cxx", "gxx"), ("fortran", "gfortran")],
        "osx" => &[("c", "clang"), ("cxx", "clangxx"), ("fortran", "gfortran")],
        "win" => &[
            ("c", "vs2017"),
            ("cxx", "vs2017"),
            ("vc", "14"),
            ("fortran", "gfortran"),
        ],
        "emscripten" => &[
            ("c", "emscripten"),
            ("cxx", "emscripten"),
            ("fortran", "gfortran"),
        ],
        _ => &[],
    };
    for (lang, compiler) in compilers {
        set(&format!("{lang}_compiler"), compiler);
    }
    let pin = |min: &str, max: &str| {
        IndexMap::from([
            ("min_pin".to_string(), min.to_string()),
            ("max_pin".to_string(), max.to_string()),
        ])
    };
    spec.pin_run_as_build
        .insert("python".to_string(), pin("x.x", "x.x"));
    spec.pin_run_as_build
        .insert("r-base".to_string(), pin("x.x", "x.x"));
    spec.extend.insert("ignore_version".to_string(), Vec::new());
    spec.extend.insert(
        "ignore_build_only_deps".to_string(),
        vec!["python".to_string(), "numpy".to_string()],
    );
    spec
}

/// Combines specs, lowest priority first, with conda-build's rules (`combine_specs`).
pub fn combine(specs: Vec<VariantSpec>) -> Result<VariantSpec, SpecError> {
    let mut out = VariantSpec::default();
    // zip_keys of every file are known before any value is merged.
    for spec in &specs {
        for group in &spec.zip_keys {
            if !out.zip_keys.contains(group) {
                out.zip_keys.push(group.clone());
            }
        }
    }
    for spec in specs {
        let extend_keys = spec.extend_keys();
        // The lengths this file gives to zipped keys (the only keys merging looks across).
        let zipped_here: HashMap<String, usize> = spec
            .values
            .iter()
            .filter(|(k, _)| out.group_of(k).is_some())
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        for (package, pin) in spec.pin_run_as_build {
            let entry = out.pin_run_as_build.entry(package).or_default();
            for (k, v) in pin {
                entry.insert(k, v);
            }
        }
        for (key, values) in spec.extend {
            let entry = out.extend.entry(key).or_default();
            for value in values {
                if !entry.contains(&value) {
                    entry.push(value);
                }
            }
        }
        for (key, values) in spec.values {
            if extend_keys.contains(&key) {
                let entry = out.extend.entry(key).or_default();
                for value in values {
                    if !entry.contains(&value) {
                        entry.push(value);
                    }
                }
                continue;
            }
            merge_key(&mut out, &zipped_here, key, values)?;
        }
    }
    Ok(out)
}

/// Merges one key of a file into `out`, keeping zip groups consistent (reference §2.3).
/// `zipped_here` holds the lengths the file gives to its zipped keys.
fn merge_key(
    out: &mut VariantSpec,
    zipped_here: &HashMap<String, usize>,
    key: String,
    values: Vec<String>,
) -> Result<(), SpecError> {
    let Some(group) = out.group_of(&key).cloned() else {
        out.values.insert(key, values);
        return Ok(());
    };
    if group.iter().all(|k| zipped_here.contains_key(k)) {
        let lengths: Vec<usize> = group
            .iter()
            .filter_map(|k| zipped_here.get(k).copied())
            .collect();
        if lengths.iter().any(|l| *l != values.len()) {
            return Err(SpecError::ZipLength { group, lengths });
        }
        out.values.insert(key, values);
        return Ok(());
    }
    let Some(current) = out.values.get(&key) else {
        // A partially given group key that no earlier file defined is ignored.
        return Ok(());
    };
    let same_length = group
        .iter()
        .filter(|k| **k != key)
        .filter_map(|k| out.values.get(k))
        .all(|v| v.len() == values.len());
    if same_length {
        out.values.insert(key, values);
        return Ok(());
    }
    if values.iter().all(|v| current.contains(v)) {
        // A subset selection: conda-build would filter variants by it later; smithy never
        // applies that filter to the local CBC, so it has no effect here.
        return Ok(());
    }
    Err(SpecError::BadValue {
        key,
        reason: format!(
            "it is zipped with {group:?} but its {} value(s) neither match the group's \
             length nor select a subset of the existing values",
            values.len()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinning::selector::PyValue;

    fn linux() -> Namespace {
        let mut ns = Namespace::default();
        ns.set("linux", PyValue::Bool(true));
        ns
    }

    #[test]
    fn values_are_strings_and_selectors_apply() {
        let text = "c_compiler_version:\n  - 14  # [linux]\n  - 19  # [osx]\nnumpy: 1.10\n";
        let spec = load_spec(text, &linux()).unwrap();
        assert_eq!(
            spec.get("c_compiler_version"),
            Some(&["14".to_string()][..])
        );
        assert_eq!(spec.get("numpy"), Some(&["1.10".to_string()][..]));
    }

    #[test]
    fn empty_keys_are_dropped() {
        let spec = load_spec("a:\nb:\n  - \nc: ''\nd: x\n", &linux()).unwrap();
        assert_eq!(spec.values().map(|(k, _)| k).collect::<Vec<_>>(), ["d"]);
    }

    #[test]
    fn flow_lists_read_as_selectors_like_conda_build_does() {
        // `key: [1, 2]` ends in `[...]`: conda-build takes it for a selector (a true
        // tuple) and keeps `key:` alone, so the key is empty and dropped.
        let spec = load_spec("a: [1, 2]\nb:\n  - 3\n", &linux()).unwrap();
        assert_eq!(spec.get("a"), None);
        assert_eq!(spec.get("b"), Some(&["3".to_string()][..]));
    }

    #[test]
    fn dashed_keys_are_rejected() {
        let err = load_spec("libjpeg-turbo: 3\n", &linux()).unwrap_err();
        assert!(matches!(err, SpecError::InvalidKey { .. }), "{err}");
    }

    #[test]
    fn a_local_config_replaces_zipped_keys_of_equal_length() {
        let pinning = load_plain_spec(
            "c_compiler_version: [14]\ncxx_compiler_version: [14]\nfortran_compiler_version: [14]\n\
             zip_keys: [[c_compiler_version, cxx_compiler_version, fortran_compiler_version]]\n",
        )
        .unwrap();
        let local =
            load_plain_spec("c_compiler_version: [21]\ncxx_compiler_version: [21]\n").unwrap();
        let combined = combine(vec![pinning, local]).unwrap();
        assert_eq!(
            combined.get("c_compiler_version"),
            Some(&["21".to_string()][..])
        );
        assert_eq!(
            combined.get("fortran_compiler_version"),
            Some(&["14".to_string()][..])
        );
    }

    #[test]
    fn zipped_keys_of_different_lengths_in_one_file_are_an_error() {
        let spec = load_plain_spec("a: [1, 2]\nb: [1]\nzip_keys: [[a, b]]\n").unwrap();
        assert!(matches!(
            combine(vec![spec]),
            Err(SpecError::ZipLength { .. })
        ));
    }

    #[test]
    fn pins_merge_per_package() {
        let defaults = internal_defaults("linux-64");
        let pinning = load_spec(
            "pin_run_as_build:\n  vlfeat:\n    max_pin: x.x.x\n",
            &linux(),
        )
        .unwrap();
        let combined = combine(vec![defaults, pinning]).unwrap();
        assert!(combined.pin_run_as_build.contains_key("python"));
        assert!(combined.pin_run_as_build.contains_key("vlfeat"));
    }
}
