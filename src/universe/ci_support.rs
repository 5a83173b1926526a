//! Writing `.ci_support/*.yaml` (one variant file per CI job, as conda-smithy emits them:
//! sorted keys, one list item per line, PyYAML quoting) and `conda-forge.yml`.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::recipe::RecipeFormat;

use super::model::{Compiler, Kind, Package, Plan, Platform, Role, Target};

/// Python variants of compiled packages: (`python` value, file-name part).
const PYTHONS: &[(&str, &str)] = &[
    ("3.10.* *_cpython", "python3.10.____cpython"),
    ("3.11.* *_cpython", "python3.11.____cpython"),
    ("3.12.* *_cpython", "python3.12.____cpython"),
    ("3.13.* *_cp313", "python3.13.____cp313"),
];

const DOCKER_IMAGE: &str = "quay.io/condaforge/linux-anvil-x86_64:alma9";

/// One top-level value of a variant file.
enum Value {
    /// A list of scalars, one `- item` per line.
    List(Vec<String>),
    /// Pre-formatted nested YAML (`pin_run_as_build`, `zip_keys`), lines after the key.
    Raw(String),
}

/// Every `.ci_support` file of a package: `(file name, text)`, sorted by name.
pub(crate) fn ci_support_files(plan: &Plan, package: &Package) -> Vec<(String, String)> {
    if package.is_noarch() {
        return vec![("linux_64_.yaml".to_string(), noarch_file(plan, package))];
    }
    let mut files = Vec::new();
    for platform in &package.platforms {
        if package.python_variants {
            for (python, suffix) in PYTHONS {
                let name = format!("{}_{suffix}.yaml", platform.ci_name());
                files.push((name, compiled_file(plan, package, *platform, Some(python))));
            }
        } else {
            let name = format!("{}_.yaml", platform.ci_name());
            files.push((name, compiled_file(plan, package, *platform, None)));
        }
    }
    files.sort();
    files
}

fn noarch_file(plan: &Plan, package: &Package) -> String {
    let mut keys: BTreeMap<String, Value> = BTreeMap::new();
    if package.format == RecipeFormat::V0 {
        keys.insert("cdt_name".to_string(), list(["conda"]));
    }
    channels(&mut keys);
    keys.insert("docker_image".to_string(), list([DOCKER_IMAGE]));
    if package.kind == Kind::NoarchPython {
        keys.insert("python_min".to_string(), list([plan.python_min]));
    }
    emit(&keys)
}

fn channels(keys: &mut BTreeMap<String, Value>) {
    keys.insert("channel_sources".to_string(), list(["conda-forge"]));
    keys.insert("channel_targets".to_string(), list(["conda-forge main"]));
}

fn list<const N: usize>(items: [&str; N]) -> Value {
    Value::List(items.iter().map(|s| (*s).to_string()).collect())
}

fn compiled_file(
    plan: &Plan,
    package: &Package,
    platform: Platform,
    python: Option<&str>,
) -> String {
    let mut keys: BTreeMap<String, Value> = BTreeMap::new();
    channels(&mut keys);
    keys.insert(
        "target_platform".to_string(),
        Value::List(vec![platform.subdir().to_string()]),
    );
    let has = |c: Compiler| package.compilers.contains(&c);
    let mut zipped: Vec<&str> = Vec::new();
    if platform.is_linux() {
        keys.insert("docker_image".to_string(), list([DOCKER_IMAGE]));
    }
    if platform.is_osx() {
        let target = if platform == Platform::OsxArm64 {
            "11.0"
        } else {
            "10.13"
        };
        let machine = if platform == Platform::OsxArm64 {
            "arm64-apple-darwin20.0.0"
        } else {
            "x86_64-apple-darwin13.4.0"
        };
        keys.insert("MACOSX_DEPLOYMENT_TARGET".to_string(), list([target]));
        keys.insert("MACOSX_SDK_VERSION".to_string(), list([target]));
        keys.insert("macos_machine".to_string(), list([machine]));
    }
    if !package.compilers.is_empty() {
        let (stdlib, stdlib_version) = match platform {
            Platform::Win64 => ("vs", None),
            Platform::Osx64 => ("macosx_deployment_target", Some("10.13")),
            Platform::OsxArm64 => ("macosx_deployment_target", Some("11.0")),
            _ => ("sysroot", Some("2.17")),
        };
        keys.insert("c_stdlib".to_string(), list([stdlib]));
        if let Some(version) = stdlib_version {
            keys.insert("c_stdlib_version".to_string(), list([version]));
        }
    }
    let (c, cxx, version) = match platform {
        Platform::Win64 => ("vs2022", "vs2022", None),
        p if p.is_osx() => ("clang", "clangxx", Some("18")),
        _ => ("gcc", "gxx", Some("14")),
    };
    if has(Compiler::C) {
        keys.insert("c_compiler".to_string(), list([c]));
        if let Some(version) = version {
            keys.insert("c_compiler_version".to_string(), list([version]));
            zipped.push("c_compiler_version");
        }
    }
    if has(Compiler::Cxx) {
        keys.insert("cxx_compiler".to_string(), list([cxx]));
        if let Some(version) = version {
            keys.insert("cxx_compiler_version".to_string(), list([version]));
            zipped.push("cxx_compiler_version");
        }
    }
    if has(Compiler::Fortran) {
        let (name, version) = match platform {
            Platform::Win64 => ("flang", "5"),
            _ => ("gfortran", "14"),
        };
        keys.insert("fortran_compiler".to_string(), list([name]));
        keys.insert("fortran_compiler_version".to_string(), list([version]));
        if platform != Platform::Win64 {
            zipped.push("fortran_compiler_version");
        }
    }
    if has(Compiler::Rust) {
        keys.insert("rust_compiler".to_string(), list(["rust"]));
        keys.insert("rust_compiler_version".to_string(), list(["1.85"]));
    }
    for dep in &package.host {
        let Target::Output(_) = dep.target else {
            continue;
        };
        if dep
            .selector
            .is_some_and(|s| !selector_holds(s.as_str(), platform))
        {
            continue;
        }
        let name = plan.target_name(dep.target);
        if let Some(pin) = plan.pin_of(dep.target) {
            keys.insert(name.replace('-', "_"), Value::List(vec![pin.to_string()]));
        }
    }
    if let Some(python) = python {
        keys.insert("python".to_string(), Value::List(vec![python.to_string()]));
        keys.insert(
            "pin_run_as_build".to_string(),
            Value::Raw("  python:\n    min_pin: x.x\n    max_pin: x.x\n".to_string()),
        );
    }
    if zipped.len() > 1 {
        let mut raw = String::new();
        for (i, key) in zipped.iter().enumerate() {
            let _ = writeln!(raw, "{}{key}", if i == 0 { "- - " } else { "  - " });
        }
        keys.insert("zip_keys".to_string(), Value::Raw(raw));
    }
    emit(&keys)
}

fn selector_holds(selector: &str, platform: Platform) -> bool {
    match selector {
        "win" => platform == Platform::Win64,
        "unix" => platform.is_unix(),
        "linux" => platform.is_linux(),
        "osx" => platform.is_osx(),
        _ => true,
    }
}

/// Emits keys in sorted order, PyYAML style.
fn emit(keys: &BTreeMap<String, Value>) -> String {
    let mut out = String::with_capacity(512);
    for (key, value) in keys {
        out.push_str(key);
        out.push_str(":\n");
        match value {
            Value::List(items) => {
                for item in items {
                    out.push_str("- ");
                    out.push_str(&quote(item));
                    out.push('\n');
                }
            }
            Value::Raw(raw) => out.push_str(raw),
        }
    }
    out
}

/// Quotes a scalar the way PyYAML does when it would otherwise read as a number or
/// boolean (`'14'`, `'2.17'`, `'1'`).
pub(crate) fn quote(value: &str) -> String {
    let numeric = !value.is_empty()
        && value.chars().all(|c| c.is_ascii_digit() || c == '.')
        && value.chars().filter(|c| *c == '.').count() <= 1;
    let keyword = matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "null" | "on" | "off" | "~"
    );
    if numeric || keyword {
        format!("'{value}'")
    } else {
        value.to_string()
    }
}

/// The text of `conda-forge.yml`.
pub(crate) fn conda_forge_yml(package: &Package) -> String {
    let mut out = String::with_capacity(512);
    if package.kind == Kind::Pinning {
        out.push_str("conda_build:\n  pkg_format: '2'\nconda_forge_output_validation: true\n");
        out.push_str("github:\n  branch_name: main\n  tooling_branch_name: main\n");
        out.push_str("provider:\n  linux_64: github_actions\nupload_on_branch: main\n");
        return out;
    }
    let bot_inspection = package.kind == Kind::NoarchPython && package.summary.is_multiple_of(3);
    if package.automerge || bot_inspection {
        out.push_str("bot:\n");
        if package.automerge {
            out.push_str("  automerge: true\n");
        }
        if bot_inspection {
            out.push_str("  inspection: hint-all\n");
        }
    }
    let cross: Vec<Platform> = package
        .platforms
        .iter()
        .copied()
        .filter(|p| p.is_cross_linux() || *p == Platform::OsxArm64)
        .collect();
    if !cross.is_empty() {
        out.push_str("build_platform:\n");
        for platform in &cross {
            let build = if platform.is_osx() {
                "osx_64"
            } else {
                "linux_64"
            };
            let _ = writeln!(out, "  {}: {build}", platform.ci_name());
        }
    }
    out.push_str("conda_build:\n  pkg_format: '2'\n");
    if package.format == RecipeFormat::V1 {
        out.push_str("conda_build_tool: rattler-build\n");
    }
    out.push_str("conda_forge_output_validation: true\n");
    if package.format == RecipeFormat::V1 {
        out.push_str("conda_install_tool: pixi\n");
    }
    out.push_str("github:\n  branch_name: main\n  tooling_branch_name: main\n");
    let emulated: Vec<Platform> = cross
        .iter()
        .copied()
        .filter(|p| p.is_cross_linux())
        .collect();
    if !emulated.is_empty() {
        out.push_str("provider:\n");
        for platform in &emulated {
            let _ = writeln!(out, "  {}: default", platform.ci_name());
        }
        out.push_str("test: native_and_emulated\n");
    }
    out
}

/// The universe's `conda_build_config.yaml`: compilers, Python, and every pinned package.
pub(crate) fn pinning_config(plan: &Plan) -> String {
    let mut out = String::with_capacity(64 * 1024);
    out.push_str(
        "c_compiler:\n  - gcc                        # [linux]\n  - clang                      # [osx]\n  - vs2022                     # [win]\n\
c_compiler_version:            # [unix]\n  - 14                         # [linux]\n  - 18                         # [osx]\n\
c_stdlib:\n  - sysroot                    # [linux]\n  - macosx_deployment_target   # [osx]\n  - vs                         # [win]\n\
c_stdlib_version:              # [unix]\n  - 2.17                       # [linux]\n  - 10.13                      # [osx and x86_64]\n  - 11.0                       # [osx and arm64]\n\
cxx_compiler:\n  - gxx                        # [linux]\n  - clangxx                    # [osx]\n  - vs2022                     # [win]\n\
cxx_compiler_version:          # [unix]\n  - 14                         # [linux]\n  - 18                         # [osx]\n\
fortran_compiler:\n  - gfortran                   # [unix]\n  - flang                      # [win]\n\
fortran_compiler_version:\n  - 14                         # [unix]\n  - 5                          # [win]\n\
rust_compiler:\n  - rust\nrust_compiler_version:\n  - 1.85\n\
channel_sources:\n  - conda-forge\nchannel_targets:\n  - conda-forge main\n\
docker_image:                  # [linux]\n  - quay.io/condaforge/linux-anvil-x86_64:alma9  # [linux]\n\
cdt_name:                      # [linux]\n  - conda                      # [linux]\n\n\
zip_keys:\n  -                             # [unix]\n    - c_compiler_version        # [unix]\n    - cxx_compiler_version      # [unix]\n    - fortran_compiler_version  # [unix]\n\n\
pin_run_as_build:\n  python:\n    min_pin: x.x\n    max_pin: x.x\n\n",
    );
    out.push_str("python:\n");
    for (python, _) in PYTHONS {
        let _ = writeln!(out, "  - {python}");
    }
    let _ = writeln!(out, "python_min:\n  - '{}'\n", plan.python_min);
    out.push_str("# Pinned libraries (the run_exports of each keeps dependents ABI-compatible).\n");
    let mut pins: BTreeMap<String, &str> = BTreeMap::new();
    for package in &plan.packages {
        let Some(pin) = package.pin.as_deref() else {
            continue;
        };
        for output in &package.outputs {
            if matches!(output.role, Role::Only | Role::Lib | Role::Devel) {
                pins.insert(output.name.replace('-', "_"), pin);
            }
        }
    }
    for (key, pin) in pins {
        let _ = writeln!(out, "{key}:\n  - {}", quote(pin));
    }
    out
}
