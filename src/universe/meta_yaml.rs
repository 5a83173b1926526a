//! Writing a v0 `recipe/meta.yaml`: Jinja `{% set %}` lines, `{{ compiler('c') }}`,
//! `{{ pin_subpackage(...) }}` and `# [selector]` comments, shaped like real feedstocks.

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

/// The full text of the package's `meta.yaml`.
pub(crate) fn meta_yaml(plan: &Plan, package: &Package) -> String {
    if package.kind == Kind::Pinning {
        return pinning_meta_yaml(package);
    }
    let mut out = String::with_capacity(2048);
    let multi = package.is_multi_output();
    let compiled = !package.is_noarch();
    line!(out, "{{% set name = \"{}\" %}}", package.name);
    line!(out, "{{% set version = \"{}\" %}}", package.version);
    if compiled {
        line!(out, "{{% set major = version.split('.')[0] %}}");
    }
    line!(out);
    line!(out, "package:");
    if multi {
        line!(out, "  name: {{{{ name }}}}-split");
    } else {
        line!(out, "  name: {{{{ name|lower }}}}");
    }
    line!(out, "  version: {{{{ version }}}}");
    line!(out);
    line!(out, "source:");
    line!(out, "  url: {}", source_url(package));
    line!(out, "  sha256: {}", package.sha256);
    line!(out);
    line!(out, "build:");
    line!(out, "  number: {}", package.build_number);
    if compiled && !package.platforms.contains(&Platform::Win64) {
        line!(out, "  skip: true  # [win]");
    }
    if package.kind == Kind::PythonExtension {
        line!(out, "  skip: true  # [py<310]");
    }
    if package.kind == Kind::NoarchPython {
        line!(out, "  noarch: python");
    }
    if matches!(package.kind, Kind::NoarchPython | Kind::PythonExtension) {
        line!(
            out,
            "  script: {{{{ PYTHON }}}} -m pip install . -vv --no-deps --no-build-isolation"
        );
    }
    if !multi {
        run_exports(&mut out, "  ", package.exports, "name");
    }
    line!(out);
    let cross_python = package.kind == Kind::PythonExtension;
    requirements(
        &mut out,
        plan,
        package,
        "",
        cross_python,
        &package.host,
        &package.run,
    );
    if multi {
        line!(out, "outputs:");
        for output in &package.outputs {
            multi_output(&mut out, plan, package, output);
        }
    } else {
        test_section(&mut out, plan, package, "");
    }
    about(&mut out, package);
    out
}

fn source_url(package: &Package) -> String {
    match package.kind {
        Kind::NoarchPython | Kind::PythonExtension => "https://pypi.org/packages/source/{{ name[0] }}/{{ name }}/{{ name.replace('-', '_') }}-{{ version }}.tar.gz".to_string(),
        _ => format!(
            "https://github.com/{}/{{{{ name }}}}/archive/v{{{{ version }}}}.tar.gz",
            ORGS.get(package.org).unwrap_or(&"upstream")
        ),
    }
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
                "{indent}  - {{{{ pin_subpackage({pin}, max_pin='x.x') }}}}"
            );
        }
        Exports::Strong => {
            line!(out, "{indent}run_exports:");
            line!(out, "{indent}  strong:");
            line!(
                out,
                "{indent}    - {{{{ pin_subpackage({pin}, max_pin='x') }}}}"
            );
        }
    }
}

fn dep_line(plan: &Plan, dep: &Dep) -> String {
    let name = plan.target_name(dep.target);
    let mut text = match &dep.constraint {
        Constraint::None => name.to_string(),
        Constraint::Literal(c) => format!("{name} {c}"),
        Constraint::PythonMinExact => format!("{name} {{{{ python_min }}}}"),
        Constraint::PythonMinAtLeast => format!("{name} >={{{{ python_min }}}}"),
        Constraint::PinCompatible => format!("{{{{ pin_compatible('{name}') }}}}"),
    };
    if let Some(selector) = dep.selector {
        let _ = write!(text, "  # [{}]", selector.as_str());
    }
    text
}

fn compiler_lines(out: &mut String, indent: &str, compilers: &[Compiler]) {
    for compiler in compilers {
        line!(out, "{indent}- {{{{ compiler('{}') }}}}", compiler.as_str());
    }
    if !compilers.is_empty() {
        line!(out, "{indent}- {{{{ stdlib('c') }}}}");
    }
}

fn cross_python_lines(out: &mut String, indent: &str) {
    line!(
        out,
        "{indent}- python                                 # [build_platform != target_platform]"
    );
    line!(
        out,
        "{indent}- cross-python_{{{{ target_platform }}}}     # [build_platform != target_platform]"
    );
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
) {
    let has_build = !package.compilers.is_empty() || !package.build.is_empty();
    if !has_build && host.is_empty() && run.is_empty() {
        return;
    }
    line!(out, "{indent}requirements:");
    if has_build {
        line!(out, "{indent}  build:");
        let item = format!("{indent}    ");
        if cross_python {
            cross_python_lines(out, &item);
        }
        compiler_lines(out, &item, &package.compilers);
        for dep in &package.build {
            line!(out, "{item}- {}", dep_line(plan, dep));
        }
    }
    for (section, deps) in [("host", host), ("run", run)] {
        if deps.is_empty() {
            continue;
        }
        line!(out, "{indent}  {section}:");
        for dep in deps {
            line!(out, "{indent}    - {}", dep_line(plan, dep));
        }
    }
    line!(out);
}

/// The stem a library's files are named after: `libfoo` → `foo`.
fn test_section(out: &mut String, plan: &Plan, package: &Package, indent: &str) {
    line!(out, "{indent}test:");
    match package.kind {
        Kind::NoarchPython | Kind::PythonExtension => {
            line!(out, "{indent}  imports:");
            line!(out, "{indent}    - {}", package.module_name());
            line!(out, "{indent}  commands:");
            line!(out, "{indent}    - pip check");
        }
        Kind::Tool => {
            line!(out, "{indent}  commands:");
            line!(out, "{indent}    - {{{{ name }}}} --version");
        }
        _ => {
            let stem = lib_stem(&package.name);
            line!(out, "{indent}  commands:");
            line!(
                out,
                "{indent}    - test -f $PREFIX/lib/lib{stem}${{SHLIB_EXT}}  # [unix]"
            );
            line!(
                out,
                "{indent}    - test -f $PREFIX/lib/lib{stem}.so.{{{{ major }}}}  # [linux]"
            );
            line!(
                out,
                "{indent}    - if not exist %LIBRARY_BIN%\\{stem}.dll exit 1  # [win]"
            );
        }
    }
    if !package.test.is_empty() {
        line!(out, "{indent}  requires:");
        for dep in &package.test {
            line!(out, "{indent}    - {}", dep_line(plan, dep));
        }
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
    line!(out, "  - name: {}", output.name);
    match output.role {
        Role::Lib | Role::Only => {
            if package.exports != Exports::None {
                line!(out, "    build:");
                run_exports(out, "      ", package.exports, &output.name);
            }
            requirements(out, plan, package, "    ", false, &package.host, &[]);
            let stem = lib_stem(&output.name);
            line!(out, "    test:");
            line!(out, "      commands:");
            line!(
                out,
                "        - test -f $PREFIX/lib/lib{stem}${{SHLIB_EXT}}  # [unix]"
            );
            line!(
                out,
                "        - if not exist %LIBRARY_BIN%\\{stem}.dll exit 1  # [win]"
            );
        }
        Role::Devel => {
            line!(out, "    requirements:");
            line!(out, "      host:");
            line!(
                out,
                "        - {{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(
                out,
                "        - {{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "    test:");
            line!(out, "      commands:");
            line!(
                out,
                "        - test -f $PREFIX/include/{}.h  # [unix]",
                lib_stem(lib)
            );
        }
        Role::Tool => {
            line!(out, "    requirements:");
            line!(out, "      build:");
            compiler_lines(out, "        ", &package.compilers);
            line!(out, "      host:");
            line!(
                out,
                "        - {{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(
                out,
                "        - {{{{ pin_subpackage('{lib}', exact=True) }}}}"
            );
            line!(out, "    test:");
            line!(out, "      commands:");
            line!(out, "        - {} --version", output.name);
        }
        Role::Python => {
            line!(
                out,
                "    script: {{{{ PYTHON }}}} -m pip install ./python -vv --no-deps --no-build-isolation"
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
                "        - {{{{ pin_subpackage('{devel}', exact=True) }}}}"
            );
            line!(out, "      run:");
            line!(out, "        - python");
            line!(
                out,
                "        - {{{{ pin_subpackage('{lib}', max_pin='x.x') }}}}"
            );
            line!(out, "    test:");
            line!(out, "      imports:");
            line!(out, "        - {}", package.module_name());
        }
    }
    line!(out);
}

fn about(out: &mut String, package: &Package) {
    let org = ORGS.get(package.org).unwrap_or(&"upstream");
    line!(out, "about:");
    line!(out, "  home: https://github.com/{org}/{}", package.name);
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
    line!(out, "  dev_url: https://github.com/{org}/{}", package.name);
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

fn pinning_meta_yaml(package: &Package) -> String {
    let mut out = String::with_capacity(1024);
    line!(out, "{{% set version = \"{}\" %}}", package.version);
    line!(out);
    line!(out, "package:");
    line!(out, "  name: {}", package.name);
    line!(out, "  version: {{{{ version }}}}");
    line!(out);
    line!(out, "source:");
    line!(out, "  path: .");
    line!(out);
    line!(out, "build:");
    line!(out, "  number: {}", package.build_number);
    line!(out, "  noarch: generic");
    line!(out, "  script:");
    line!(
        out,
        "    - cp conda_build_config.yaml $PREFIX                          # [unix]"
    );
    line!(
        out,
        "    - mkdir -p $PREFIX/share/conda-forge/migrations               # [unix]"
    );
    line!(
        out,
        "    - echo \"This package can't be built on windows\"               # [win]"
    );
    line!(
        out,
        "    - exit 1                                                      # [win]"
    );
    line!(out);
    line!(out, "test:");
    line!(out, "  commands:");
    line!(
        out,
        "    - test -f $PREFIX/conda_build_config.yaml                     # [unix]"
    );
    line!(out);
    line!(out, "about:");
    line!(
        out,
        "  summary: The baseline versions of software for the synthetic ecosystem"
    );
    line!(out, "  license: BSD-3-Clause");
    line!(out, "  license_file: LICENSE.txt");
    line!(out);
    line!(out, "extra:");
    line!(out, "  recipe-maintainers:");
    line!(out, "    - conda-forge/core");
    out
}
