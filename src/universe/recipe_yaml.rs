//! Writing a v1 `recipe/recipe.yaml`: `context:`, `${{ }}` expressions, `if:`/`then:`
//! items and `tests:` lists, shaped like the rattler-build recipes on conda-forge.

use std::fmt::Write;

use super::model::{
    Compiler, Constraint, Dep, Exports, Kind, OutputSpec, Package, Plan, Platform, Role, lib_stem,
};
use super::text::{self, LICENSES, MAINTAINERS, ORGS};

/// Appends one formatted line; writing to a `String` cannot fail.
macro_rules! line {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
        $out.push('\n');
    }};
}

/// The full text of the package's `recipe.yaml`.
pub(crate) fn recipe_yaml(plan: &Plan, package: &Package) -> String {
    let mut out = String::with_capacity(2048);
    let multi = package.is_multi_output();
    let compiled = !package.is_noarch();
    line!(out, "schema_version: 1");
    line!(out);
    line!(out, "context:");
    line!(out, "  name: {}", package.name);
    line!(out, "  version: \"{}\"", package.version);
    if compiled {
        line!(out, "  major: ${{{{ (version | split('.'))[0] }}}}");
    }
    line!(out);
    if multi {
        line!(out, "recipe:");
        line!(out, "  name: ${{{{ name }}}}-split");
    } else {
        line!(out, "package:");
        line!(out, "  name: ${{{{ name|lower }}}}");
    }
    line!(out, "  version: ${{{{ version }}}}");
    line!(out);
    line!(out, "source:");
    line!(out, "  url: {}", source_url(package));
    line!(out, "  sha256: {}", package.sha256);
    line!(out);
    line!(out, "build:");
    line!(out, "  number: {}", package.build_number);
    let no_windows = compiled && !package.platforms.contains(&Platform::Win64);
    match (no_windows, package.kind == Kind::PythonExtension) {
        (true, true) => line!(out, "  skip: win or match(python, \"<3.10\")"),
        (true, false) => line!(out, "  skip: win"),
        (false, true) => line!(out, "  skip: match(python, \"<3.10\")"),
        (false, false) => {}
    }
    if package.kind == Kind::NoarchPython {
        line!(out, "  noarch: python");
    }
    if matches!(package.kind, Kind::NoarchPython | Kind::PythonExtension) {
        line!(
            out,
            "  script: ${{{{ PYTHON }}}} -m pip install . -vv --no-deps --no-build-isolation"
        );
    }
    line!(out);
    if multi {
        line!(out, "outputs:");
        for output in &package.outputs {
            multi_output(&mut out, plan, package, output);
        }
    } else {
        let exports = (package.exports, "name");
        let cross_python = package.kind == Kind::PythonExtension;
        requirements(
            &mut out,
            plan,
            package,
            "",
            cross_python,
            &package.host,
            &package.run,
            exports,
        );
        tests(&mut out, plan, package, "");
    }
    about(&mut out, package);
    out
}

fn source_url(package: &Package) -> String {
    match package.kind {
        Kind::NoarchPython | Kind::PythonExtension => format!(
            "https://pypi.org/packages/source/${{{{ name[0] }}}}/${{{{ name }}}}/{}-${{{{ version }}}}.tar.gz",
            package.name.replace('-', "_")
        ),
        _ => format!(
            "https://github.com/{}/${{{{ name }}}}/archive/v${{{{ version }}}}.tar.gz",
            ORGS.get(package.org).unwrap_or(&"upstream")
        ),
    }
}

/// Writes one requirement item (with its `if:` wrapper when it has a selector).
fn dep_item(out: &mut String, plan: &Plan, indent: &str, dep: &Dep) {
    let name = plan.target_name(dep.target);
    let spec = match &dep.constraint {
        Constraint::None => name.to_string(),
        Constraint::Literal(c) => format!("{name} {c}"),
        Constraint::PythonMinExact => format!("{name} ${{{{ python_min }}}}.*"),
        Constraint::PythonMinAtLeast => format!("{name} >=${{{{ python_min }}}}"),
        Constraint::PinCompatible => format!("${{{{ pin_compatible('{name}') }}}}"),
    };
    match dep.selector {
        None => line!(out, "{indent}- {spec}"),
        Some(selector) => {
            line!(out, "{indent}- if: {}", selector.as_str());
            line!(out, "{indent}  then: {spec}");
        }
    }
}

fn compiler_lines(out: &mut String, indent: &str, compilers: &[Compiler]) {
    for compiler in compilers {
        line!(
            out,
            "{indent}- ${{{{ compiler('{}') }}}}",
            compiler.as_str()
        );
    }
    if !compilers.is_empty() {
        line!(out, "{indent}- ${{{{ stdlib('c') }}}}");
    }
}

fn cross_python_lines(out: &mut String, indent: &str) {
    line!(out, "{indent}- if: build_platform != target_platform");
    line!(out, "{indent}  then:");
    line!(out, "{indent}    - python");
    line!(out, "{indent}    - cross-python_${{{{ target_platform }}}}");
}

fn run_exports(out: &mut String, indent: &str, exports: Exports, subpackage: &str) {
    let pin = if subpackage == "name" {
        "name".to_string()
    } else {
        format!("'{subpackage}'")
    };
    match exports {
        Exports::None => {}
        Exports::Weak => {
            line!(out, "{indent}run_exports:");
            line!(
                out,
                "{indent}  - ${{{{ pin_subpackage({pin}, upper_bound='x.x') }}}}"
            );
        }
        Exports::Strong => {
            line!(out, "{indent}run_exports:");
            line!(out, "{indent}  strong:");
            line!(
                out,
                "{indent}    - ${{{{ pin_subpackage({pin}, upper_bound='x') }}}}"
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn requirements(
    out: &mut String,
    plan: &Plan,
    package: &Package,
    indent: &str,
    cross_python: bool,
    host: &[Dep],
    run: &[Dep],
    exports: (Exports, &str),
) {
    let has_build = !package.compilers.is_empty() || !package.build.is_empty();
    if !has_build && host.is_empty() && run.is_empty() && exports.0 == Exports::None {
        return;
    }
    line!(out, "{indent}requirements:");
    let item = format!("{indent}    ");
    if has_build {
        line!(out, "{indent}  build:");
        if cross_python {
            cross_python_lines(out, &item);
        }
        compiler_lines(out, &item, &package.compilers);
        for dep in &package.build {
            dep_item(out, plan, &item, dep);
        }
    }
    for (section, deps) in [("host", host), ("run", run)] {
        if deps.is_empty() {
            continue;
        }
        line!(out, "{indent}  {section}:");
        for dep in deps {
            dep_item(out, plan, &item, dep);
        }
    }
    run_exports(out, &format!("{indent}  "), exports.0, exports.1);
    line!(out);
}

fn tests(out: &mut String, plan: &Plan, package: &Package, indent: &str) {
    line!(out, "{indent}tests:");
    match package.kind {
        Kind::NoarchPython | Kind::PythonExtension => {
            line!(out, "{indent}  - python:");
            line!(out, "{indent}      imports:");
            line!(out, "{indent}        - {}", package.module_name());
            line!(out, "{indent}      pip_check: true");
            if package.kind == Kind::NoarchPython {
                line!(out, "{indent}      python_version: ${{{{ python_min }}}}.*");
            }
        }
        Kind::Tool => {
            line!(out, "{indent}  - script:");
            line!(out, "{indent}      - ${{{{ name }}}} --version");
        }
        _ => {
            let stem = lib_stem(&package.name);
            line!(out, "{indent}  - script:");
            line!(out, "{indent}      - if: unix");
            line!(
                out,
                "{indent}        then: test -f $PREFIX/lib/lib{stem}${{SHLIB_EXT}}"
            );
            line!(out, "{indent}      - if: win");
            line!(
                out,
                "{indent}        then: if not exist %LIBRARY_BIN%\\\\{stem}.dll exit 1"
            );
        }
    }
    if !package.test.is_empty() {
        line!(out, "{indent}  - requirements:");
        line!(out, "{indent}      run:");
        for dep in &package.test {
            dep_item(out, plan, &format!("{indent}        "), dep);
        }
        line!(out, "{indent}    script:");
        line!(
            out,
            "{indent}      - pytest --pyargs {}",
            package.module_name()
        );
    }
    line!(out);
}

fn multi_output(out: &mut String, plan: &Plan, package: &Package, output: &OutputSpec) {
    let lib = package
        .outputs
        .iter()
        .find(|o| o.role == Role::Lib)
        .map_or(package.name.as_str(), |o| o.name.as_str());
    let devel = package
        .outputs
        .iter()
        .find(|o| o.role == Role::Devel)
        .map_or(lib, |o| o.name.as_str());
    line!(out, "  - package:");
    line!(out, "      name: {}", output.name);
    match output.role {
        Role::Lib | Role::Only => {
            let exports = (package.exports, output.name.as_str());
            requirements(
                out,
                plan,
                package,
                "    ",
                false,
                &package.host,
                &[],
                exports,
            );
            line!(out, "    tests:");
            line!(out, "      - package_contents:");
            line!(out, "          lib:");
            line!(out, "            - {}", lib_stem(&output.name));
        }
        Role::Devel => {
            line!(out, "    requirements:");
            line!(out, "      host:");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "    tests:");
            line!(out, "      - package_contents:");
            line!(out, "          include:");
            line!(out, "            - {}.h", lib_stem(lib));
        }
        Role::Tool => {
            line!(out, "    requirements:");
            line!(out, "      build:");
            compiler_lines(out, "        ", &package.compilers);
            line!(out, "      host:");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "    tests:");
            line!(out, "      - script:");
            line!(out, "          - {} --version", output.name);
        }
        Role::Python => {
            line!(out, "    build:");
            line!(
                out,
                "      script: ${{{{ PYTHON }}}} -m pip install ./python -vv --no-deps --no-build-isolation"
            );
            line!(out, "    requirements:");
            line!(out, "      build:");
            cross_python_lines(out, "        ");
            compiler_lines(out, "        ", &package.compilers);
            line!(out, "      host:");
            line!(out, "        - python");
            line!(out, "        - pip");
            line!(out, "        - pybind11");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{devel}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(out, "        - python");
            line!(
                out,
                "        - ${{{{ pin_subpackage('{lib}', upper_bound='x.x') }}}}"
            );
            line!(out, "    tests:");
            line!(out, "      - python:");
            line!(out, "          imports:");
            line!(out, "            - {}", package.module_name());
        }
    }
    line!(out);
}

fn about(out: &mut String, package: &Package) {
    let org = ORGS.get(package.org).unwrap_or(&"upstream");
    line!(out, "about:");
    line!(out, "  homepage: https://github.com/{org}/{}", package.name);
    line!(
        out,
        "  repository: https://github.com/{org}/{}",
        package.name
    );
    line!(
        out,
        "  license: {}",
        LICENSES.get(package.license).unwrap_or(&"MIT")
    );
    line!(out, "  license_file: LICENSE");
    line!(
        out,
        "  summary: \"{}\"",
        text::summary(package.summary, &package.name)
    );
    line!(out);
    line!(out, "extra:");
    if package.is_multi_output() {
        line!(out, "  feedstock-name: {}", package.name);
    }
    line!(out, "  recipe-maintainers:");
    for maintainer in &package.maintainers {
        line!(
            out,
            "    - {}",
            MAINTAINERS.get(*maintainer).unwrap_or(&"conda-forge/core")
        );
    }
}
