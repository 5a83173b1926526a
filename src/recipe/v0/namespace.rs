//! The names a v0 recipe sees for one variant: conda-build's selector namespace
//! (`metadata.ns_cfg`) and, on top of it, the Jinja context (`environ.get_dict`).
//!
//! conda-build evaluates `# [selector]` lines against `ns_cfg`: platform flags (`linux`,
//! `win`, `aarch64`, ...), `py` as an int (`312`), `np`, and every variant key with
//! numeric strings turned into ints and `"true"`/`"false"` into booleans. The Jinja
//! context is the same namespace plus `environ.get_dict`: `PYTHON`, `PY_VER`,
//! `SHLIB_EXT`, ..., with build paths replaced by their own key name (as cf-scripts does),
//! and the raw variant values for keys that are not all upper case.
//!
//! Like conda-build, a variant is read on top of conda-build's default variant
//! (`variants.get_default_variant`): `python`, `numpy`, `perl`, `lua`, `r_base` and the
//! platform's default compilers, including `vc` on Windows, so `# [win and vc<14]` sees
//! `vc = 14` even when `.ci_support` does not list `vc`.
//!
//! Nothing here reads the real process environment or the file system.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object};

use crate::recipe::Variant;

use super::jinja::{empty_environ, os_module};

/// The Python conda-build would assume when a variant has no `python` key.
const DEFAULT_PYTHON: &str = "3.12";
/// The numpy conda-build would assume when a variant has no `numpy` key.
const DEFAULT_NUMPY: &str = "1.26";
/// The perl conda-build would assume when a variant has no `perl` key.
const DEFAULT_PERL: &str = "5.26.2";
/// The lua conda-build would assume when a variant has no `lua` key.
const DEFAULT_LUA: &str = "5";

/// conda-build's default variant for a platform, under which a variant's own values
/// are read; the compilers follow `variants._get_default_compilers`.
fn default_variant(plat: &str, python: &str) -> [(&'static str, String); 11] {
    let minor = PythonVersion::parse(python).map_or(12, |p| p.py);
    let (c, cxx, fortran, vc) = if plat.starts_with("win-") {
        let (compiler, vc) = match minor {
            27 => ("vs2008", "9"),
            33 | 34 => ("vs2010", "10"),
            _ => ("vs2017", "14"),
        };
        (compiler, compiler, "gfortran", Some(vc))
    } else if plat.starts_with("osx-") {
        ("clang", "clangxx", "gfortran", None)
    } else {
        ("gcc", "gxx", "gfortran", None)
    };
    let r_base = if plat.starts_with("win-") {
        "3.4"
    } else {
        "3.5"
    };
    [
        ("python", DEFAULT_PYTHON.to_string()),
        ("numpy", DEFAULT_NUMPY.to_string()),
        ("perl", DEFAULT_PERL.to_string()),
        ("lua", DEFAULT_LUA.to_string()),
        ("r_base", r_base.to_string()),
        ("cpu_optimization_target", "nocona".to_string()),
        ("target_platform", plat.to_string()),
        ("c_compiler", c.to_string()),
        ("cxx_compiler", cxx.to_string()),
        ("fortran_compiler", fortran.to_string()),
        ("vc", vc.unwrap_or_default().to_string()),
    ]
}

/// The variant's first value of every key over conda-build's default variant.
fn effective_values(variant: &Variant) -> BTreeMap<String, serde_json::Value> {
    let target = variant.target_platform();
    let plat = target.as_str();
    let python = variant
        .first_str("python")
        .unwrap_or_else(|| DEFAULT_PYTHON.to_string());
    let mut values: BTreeMap<String, serde_json::Value> = default_variant(plat, &python)
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.to_string(), serde_json::Value::String(value)))
        .collect();
    for (key, all) in variant.values() {
        let first = all.first().cloned().unwrap_or(serde_json::Value::Null);
        values.insert(key.to_string(), first);
    }
    values
}

/// Machines conda-build exposes as selector flags (`plat.endswith("-" + machine)`).
const MACHINES: [&str; 8] = [
    "armv6l", "armv7l", "arm64", "aarch64", "ppc64", "ppc64le", "riscv64", "s390x",
];

/// Functions selectors may call (Python builtins); never shadowed by the
/// undefined-is-false rule.
pub(super) const SELECTOR_FUNCTIONS: [&str; 5] = ["int", "float", "str", "bool", "len"];

/// Build-time paths of `environ.get_dict`: cf-scripts replaces each absolute path by its
/// own key name, so `{{ PYTHON }} -m pip install .` renders `PYTHON -m pip install .`.
const PATH_VARIABLES: [&str; 16] = [
    "PREFIX",
    "BUILD_PREFIX",
    "SYS_PREFIX",
    "SYS_PYTHON",
    "SRC_DIR",
    "RECIPE_DIR",
    "PYTHON",
    "SP_DIR",
    "STDLIB_DIR",
    "LIBRARY_PREFIX",
    "LIBRARY_BIN",
    "LIBRARY_INC",
    "LIBRARY_LIB",
    "SCRIPTS",
    "PERL",
    "LUA",
];

/// Names to values; fixed names are not allocated.
type Names = BTreeMap<Cow<'static, str>, Value>;

/// conda-build's `pyXY` selector flags with the `py` value each stands for.
const PY_FLAGS: [(&str, i64); 19] = [
    ("py26", 26),
    ("py27", 27),
    ("py33", 33),
    ("py34", 34),
    ("py35", 35),
    ("py36", 36),
    ("py37", 37),
    ("py38", 38),
    ("py39", 39),
    ("py310", 310),
    ("py311", 311),
    ("py312", 312),
    ("py313", 313),
    ("py314", 314),
    ("py315", 315),
    ("py316", 316),
    ("py317", 317),
    ("py318", 318),
    ("py319", 319),
];

/// The selector namespace of one variant, shared (not copied) by the selector scope and
/// the Jinja scope built from it.
#[derive(Debug, Clone)]
pub(super) struct Namespace {
    names: Arc<Names>,
    values: BTreeMap<String, serde_json::Value>,
    python: PythonVersion,
}

/// The parts of the `python` variant value conda-build derives names from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PythonVersion {
    major: String,
    minor: String,
    /// `int(major + minor)`: 312 for 3.12.
    py: i64,
}

impl PythonVersion {
    /// Parses `"3.12.* *_cpython"` (or `"3.12"`) the way `ns_cfg` does.
    fn parse(python: &str) -> Option<PythonVersion> {
        let version = python.split(' ').next()?;
        let mut parts = version.split('.');
        let major = parts.next()?.trim();
        let minor = parts.next()?.trim();
        let py = format!("{major}{minor}").parse::<i64>().ok()?;
        Some(PythonVersion {
            major: major.to_string(),
            minor: minor.to_string(),
            py,
        })
    }
}

impl Namespace {
    /// Builds conda-build's `ns_cfg` for a variant.
    pub(super) fn new(variant: &Variant) -> Namespace {
        let values = effective_values(variant);
        let text_of = |key: &str, default: &str| {
            values
                .get(key)
                .map(crate::recipe::value_to_string)
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| default.to_string())
        };
        let mut names: Names = values
            .iter()
            .map(|(key, value)| (Cow::Owned(key.clone()), selector_value(value)))
            .collect();
        let target = variant.target_platform();
        let plat = target.as_str();
        let mut flag = |name: &'static str, on: bool| {
            names.insert(Cow::Borrowed(name), Value::from(on));
        };
        flag("linux", plat.starts_with("linux-"));
        flag("linux32", plat == "linux-32");
        flag("linux64", plat == "linux-64");
        flag("arm", plat.starts_with("linux-arm"));
        flag("osx", plat.starts_with("osx-"));
        flag("emscripten", plat.starts_with("emscripten-"));
        flag("wasi", plat.starts_with("wasi-"));
        flag(
            "unix",
            ["linux-", "osx-", "emscripten-"]
                .iter()
                .any(|p| plat.starts_with(p)),
        );
        flag("win", plat.starts_with("win-"));
        flag("win32", plat == "win-32");
        flag("win64", plat == "win-64");
        flag("x86", plat.ends_with("-32") || plat.ends_with("-64"));
        flag("x86_64", plat.ends_with("-64"));
        flag("nomkl", false);
        for machine in MACHINES {
            let on = plat
                .strip_suffix(machine)
                .is_some_and(|rest| rest.ends_with('-'));
            flag(machine, on);
        }
        let python = PythonVersion::parse(&text_of("python", DEFAULT_PYTHON))
            .or_else(|| PythonVersion::parse(DEFAULT_PYTHON))
            .unwrap_or(PythonVersion {
                major: "3".to_string(),
                minor: "12".to_string(),
                py: 312,
            });
        flag("py3k", python.major == "3");
        flag("py2k", python.major == "2");
        for (name, py) in PY_FLAGS {
            flag(name, python.py == py);
        }
        let lua = text_of("lua", DEFAULT_LUA);
        flag("luajit", lua.starts_with('2'));
        names.insert(Cow::Borrowed("lua"), Value::from(lua));
        names.insert(Cow::Borrowed("py"), Value::from(python.py));
        names.insert(Cow::Borrowed("target_platform"), Value::from(plat));
        names.insert(
            Cow::Borrowed("build_platform"),
            Value::from(variant.build_platform().as_str()),
        );
        names.insert(Cow::Borrowed("os"), os_module());
        names.insert(Cow::Borrowed("environ"), empty_environ());
        let numpy = text_of("numpy", DEFAULT_NUMPY);
        let np: String = numpy.split('.').take(2).collect();
        names.insert(
            Cow::Borrowed("np"),
            Value::from(np.trim().parse::<i64>().unwrap_or(0)),
        );
        let perl = text_of("perl", DEFAULT_PERL);
        names.insert(Cow::Borrowed("pl"), Value::from(perl));
        Namespace {
            names: Arc::new(names),
            values,
            python,
        }
    }

    /// The namespace as a selector evaluation context: unknown names are `False`, as
    /// conda-build's `eval_selector` rewrites them.
    pub(super) fn selector_scope(&self) -> Value {
        Value::from_object(SelectorScope {
            names: Arc::clone(&self.names),
        })
    }

    /// The Jinja context of a render: `environ.get_dict`'s variables and the variant's
    /// own values for keys that are not all upper case, over the namespace.
    pub(super) fn jinja_context(&self, variant: &Variant) -> Value {
        let mut own = Names::new();
        let mut text = |name: &'static str, value: &str| {
            own.insert(Cow::Borrowed(name), Value::from(value));
        };
        for name in PATH_VARIABLES {
            text(name, name);
        }
        let target = variant.target_platform();
        let plat = target.as_str();
        let arch = plat.split_once('-').map(|(_, arch)| arch).unwrap_or(plat);
        text("CONDA_BUILD", "1");
        text("CONDA_BUILD_STATE", "RENDER");
        text("PYTHONNOUSERSITE", "1");
        text("SUBDIR", plat);
        text("ARCH", arch);
        let shlib = if plat.starts_with("win-") {
            ".dll"
        } else if plat.starts_with("osx-") {
            ".dylib"
        } else {
            ".so"
        };
        text("SHLIB_EXT", shlib);
        if plat.starts_with("osx-") {
            text("OSX_ARCH", if arch == "arm64" { "arm64" } else { "x86_64" });
        }
        let python = &self.python;
        text("PY_VER", &format!("{}.{}", python.major, python.minor));
        text("CONDA_PY", &python.py.to_string());
        text("PY3K", if python.major == "3" { "1" } else { "0" });
        let numpy = self
            .values
            .get("numpy")
            .map(crate::recipe::value_to_string)
            .unwrap_or_else(|| DEFAULT_NUMPY.to_string());
        let npy_ver: Vec<&str> = numpy.split('.').take(2).collect();
        text("NPY_VER", &npy_ver.join("."));
        let np = self.names.get("np").and_then(Value::as_i64).unwrap_or(0);
        text("CONDA_NPY", &np.to_string());
        text("NPY_DISTUTILS_APPEND_FLAGS", "1");
        for (key, value) in &self.values {
            if key.to_uppercase() != *key {
                own.insert(Cow::Owned(key.clone()), json_to_value(value));
            }
        }
        Value::from_object(JinjaScope {
            own,
            names: Arc::clone(&self.names),
        })
    }
}

/// Selector context: the namespace, with every other name (except the builtin
/// functions) reading as `False`.
#[derive(Debug)]
struct SelectorScope {
    names: Arc<Names>,
}

impl Object for SelectorScope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match self.names.get(name) {
            Some(value) => Some(value.clone()),
            None if SELECTOR_FUNCTIONS.contains(&name) => None,
            None => Some(Value::from(false)),
        }
    }
}

/// Jinja context: the render's own variables over the shared namespace.
#[derive(Debug)]
struct JinjaScope {
    own: Names,
    names: Arc<Names>,
}

impl Object for JinjaScope {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        self.own.get(name).or_else(|| self.names.get(name)).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys: BTreeSet<&str> = self
            .own
            .keys()
            .chain(self.names.keys())
            .map(|k| k.as_ref())
            .collect();
        Enumerator::Values(keys.into_iter().map(Value::from).collect())
    }
}

/// A variant value as the selector namespace holds it: conda-build turns numeric
/// strings into ints and `"true"`/`"false"` into booleans.
fn selector_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::String(s) => {
            let lower = s.to_ascii_lowercase();
            if lower == "true" {
                Value::from(true)
            } else if lower == "false" {
                Value::from(false)
            } else if let Ok(n) = s.trim().parse::<i64>() {
                Value::from(n)
            } else {
                Value::from(s.as_str())
            }
        }
        other => json_to_value(other),
    }
}

/// Converts a YAML-derived JSON value into a template value, keeping its type.
pub(super) fn json_to_value(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => items.iter().map(json_to_value).collect(),
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_value(v)))
                .collect::<BTreeMap<String, Value>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rattler_conda_types::Subdir;

    fn variant(text: &str, platform: Subdir) -> Variant {
        Variant::from_ci_support(text, platform).unwrap()
    }

    fn get(ns: &Namespace, name: &str) -> Value {
        ns.names.get(name).cloned().unwrap_or(Value::UNDEFINED)
    }

    #[test]
    fn python_build_string_gives_py_as_an_int() {
        let ns = Namespace::new(&variant("python:\n- 3.12.* *_cpython\n", Subdir::Linux64));
        assert_eq!(get(&ns, "py"), Value::from(312));
        assert_eq!(get(&ns, "py312"), Value::from(true));
        assert_eq!(get(&ns, "py311"), Value::from(false));
        assert_eq!(get(&ns, "py3k"), Value::from(true));
    }

    #[test]
    fn platform_flags_follow_conda_build() {
        let ns = Namespace::new(&variant("{}\n", Subdir::LinuxAarch64));
        assert_eq!(get(&ns, "linux"), Value::from(true));
        assert_eq!(get(&ns, "aarch64"), Value::from(true));
        assert_eq!(get(&ns, "x86_64"), Value::from(false));
        assert_eq!(get(&ns, "unix"), Value::from(true));
        let ns = Namespace::new(&variant("{}\n", Subdir::OsxArm64));
        assert_eq!(get(&ns, "arm64"), Value::from(true));
        assert_eq!(get(&ns, "osx"), Value::from(true));
        assert_eq!(get(&ns, "x86"), Value::from(false));
        let ns = Namespace::new(&variant("{}\n", Subdir::Win64));
        assert_eq!(get(&ns, "win64"), Value::from(true));
        assert_eq!(get(&ns, "x86_64"), Value::from(true));
        assert_eq!(get(&ns, "unix"), Value::from(false));
    }

    #[test]
    fn numeric_and_boolean_strings_are_converted_for_selectors() {
        let ns = Namespace::new(&variant(
            "USE_OPENMP:\n- '1'\nflag:\n- 'True'\nname:\n- openblas\n",
            Subdir::Linux64,
        ));
        assert_eq!(get(&ns, "USE_OPENMP"), Value::from(1));
        assert_eq!(get(&ns, "flag"), Value::from(true));
        assert_eq!(get(&ns, "name"), Value::from("openblas"));
    }

    #[test]
    fn windows_defaults_to_vc_14_like_conda_build() {
        let ns = Namespace::new(&variant("python:\n- '3.12'\n", Subdir::Win64));
        assert_eq!(get(&ns, "vc"), Value::from(14));
        assert_eq!(get(&ns, "c_compiler"), Value::from("vs2017"));
        let ns = Namespace::new(&variant("{}\n", Subdir::Linux64));
        assert_eq!(get(&ns, "vc"), Value::UNDEFINED);
        assert_eq!(get(&ns, "c_compiler"), Value::from("gcc"));
    }

    #[test]
    fn variant_values_override_the_defaults() {
        let ns = Namespace::new(&variant("c_compiler:\n- clang\n", Subdir::Linux64));
        assert_eq!(get(&ns, "c_compiler"), Value::from("clang"));
    }

    #[test]
    fn numpy_two_part_version_gives_np() {
        let ns = Namespace::new(&variant("numpy:\n- '2.0'\n", Subdir::Linux64));
        assert_eq!(get(&ns, "np"), Value::from(20));
        let ns = Namespace::new(&variant("{}\n", Subdir::Linux64));
        assert_eq!(get(&ns, "np"), Value::from(126));
    }

    #[test]
    fn jinja_context_keeps_raw_values_for_lower_case_keys() {
        let v = variant(
            "c_compiler_version:\n- '14'\nUSE_OPENMP:\n- '1'\n",
            Subdir::Linux64,
        );
        let ns = Namespace::new(&v);
        let ctx = ns.jinja_context(&v);
        assert_eq!(
            ctx.get_attr("c_compiler_version").unwrap(),
            Value::from("14")
        );
        assert_eq!(ctx.get_attr("USE_OPENMP").unwrap(), Value::from(1));
        assert_eq!(ctx.get_attr("PYTHON").unwrap(), Value::from("PYTHON"));
        assert_eq!(ctx.get_attr("SHLIB_EXT").unwrap(), Value::from(".so"));
        assert_eq!(ctx.get_attr("PY_VER").unwrap(), Value::from("3.12"));
    }
}
