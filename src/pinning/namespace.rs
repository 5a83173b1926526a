//! The selector namespace of a target platform (conda-build `ns_cfg`, reference §2.2):
//! OS and architecture flags, the environment conda-smithy sets before rendering, and,
//! inside a recipe, the variant's values.

use super::selector::{Namespace, PyValue};

/// Machines conda-build exposes as flags (`plat.endswith("-" + machine)`).
const MACHINES: [&str; 11] = [
    "armv6l", "armv7l", "aarch64", "arm64", "ppc64", "ppc64le", "s390x", "riscv64", "wasm32", "z",
    "sparc",
];

/// The environment conda-smithy exports while rendering one platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SmithyEnv {
    /// `BUILD_PLATFORM` (`linux-64`).
    pub(crate) build_platform: String,
    /// `DEFAULT_LINUX_VERSION`, when `os_version` sets one.
    pub(crate) default_linux_version: Option<String>,
    /// `CF_CUDA_ENABLED=True` when the recipe uses the CUDA compiler.
    pub(crate) cuda_enabled: bool,
}

/// The namespace for variant files of a platform (no variant values yet).
pub(crate) fn platform_namespace(subdir: &str, env: &SmithyEnv) -> Namespace {
    let mut ns = Namespace::default();
    let flag = |ns: &mut Namespace, name: &str, on: bool| ns.set(name, PyValue::Bool(on));
    let os = subdir.split('-').next().unwrap_or_default();
    flag(&mut ns, "linux", os == "linux");
    flag(&mut ns, "linux32", subdir == "linux-32");
    flag(&mut ns, "linux64", subdir == "linux-64");
    flag(&mut ns, "arm", subdir.starts_with("linux-arm"));
    flag(&mut ns, "osx", os == "osx");
    flag(
        &mut ns,
        "unix",
        matches!(os, "linux" | "osx" | "emscripten"),
    );
    flag(&mut ns, "win", os == "win");
    flag(&mut ns, "win32", subdir == "win-32");
    flag(&mut ns, "win64", subdir == "win-64");
    flag(
        &mut ns,
        "x86",
        subdir.ends_with("-32") || subdir.ends_with("-64"),
    );
    flag(&mut ns, "x86_64", subdir.ends_with("-64"));
    for other in ["zos", "emscripten", "wasi", "freebsd"] {
        flag(&mut ns, other, os == other);
    }
    for machine in MACHINES {
        flag(&mut ns, machine, subdir.ends_with(&format!("-{machine}")));
    }
    ns.set("nomkl", PyValue::Bool(false));
    // conda-build's `build_platform` is the target while smithy renders (it is not told
    // about cross-compilation); the real build platform is only in `BUILD_PLATFORM`.
    ns.set("build_platform", PyValue::Str(subdir.to_string()));
    ns.set_env("BUILD_PLATFORM", &env.build_platform);
    ns.set_env("CONFIG_VERSION", "2");
    if let Some(version) = &env.default_linux_version {
        ns.set_env("DEFAULT_LINUX_VERSION", version);
    }
    if env.cuda_enabled {
        ns.set_env("CF_CUDA_ENABLED", "True");
    }
    set_python(&mut ns, "3.12");
    ns.set("np", PyValue::Int(126));
    ns.set("pl", PyValue::Str("5.26.2".to_string()));
    ns.set("lua", PyValue::Str("5".to_string()));
    ns.set("luajit", PyValue::Bool(false));
    ns
}

/// Sets `py`, `py3k`, `py2k` and the `pyXY` flags from a python variant value.
fn set_python(ns: &mut Namespace, python: &str) {
    let version = python.split(' ').next().unwrap_or_default();
    let mut parts = version.split('.');
    let (Some(major), Some(minor)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(py) = format!("{major}{minor}").parse::<i64>() else {
        return;
    };
    ns.set("py", PyValue::Int(py));
    ns.set("py3k", PyValue::Bool(major == "3"));
    ns.set("py2k", PyValue::Bool(major == "2"));
    for flag in [26, 27, 33, 34, 35, 36] {
        ns.set(&format!("py{flag}"), PyValue::Bool(py == flag));
    }
}

/// Adds a variant's values to a platform namespace (numbers become ints, `true`/`false`
/// booleans), as conda-build does when it applies a recipe's selectors per variant.
pub(crate) fn with_variant<'a>(
    base: &Namespace,
    values: impl Iterator<Item = (&'a str, &'a str)>,
) -> Namespace {
    let mut ns = base.clone();
    for (key, value) in values {
        match key {
            "python" => set_python(&mut ns, value),
            "numpy" => {
                let digits: String = value.split('.').take(2).collect();
                if let Ok(np) = digits.parse::<i64>() {
                    ns.set("np", PyValue::Int(np));
                }
            }
            _ => {}
        }
        if !ns.contains(key) || key == "target_platform" {
            ns.set(key, PyValue::from_variant_value(value));
        }
    }
    ns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_compiled_targets_see_their_build_platform() {
        let env = SmithyEnv {
            build_platform: "linux-64".to_string(),
            ..SmithyEnv::default()
        };
        let ns = platform_namespace("linux-aarch64", &env);
        assert_eq!(ns.eval("aarch64 and not x86_64"), Ok(true));
        assert_eq!(
            ns.eval(r#"os.environ.get("BUILD_PLATFORM") == "linux-64""#),
            Ok(true)
        );
    }

    #[test]
    fn variant_values_are_typed_for_selectors() {
        let env = SmithyEnv::default();
        let base = platform_namespace("osx-arm64", &env);
        let ns = with_variant(
            &base,
            [("python", "3.12.* *_cpython"), ("use_noarch", "True")].into_iter(),
        );
        assert_eq!(ns.eval("py >= 310 and use_noarch and arm64"), Ok(true));
    }
}
