//! The generated (non-hub) packages: one builder per kind, each drawing its name,
//! dependencies and platforms from the planner's random stream and attachment pools.

use rand::Rng;

use crate::universe::model::{
    Compiler, Constraint, Dep, Exports, Kind, OutputRef, OutputSpec, Package, Platform, Role,
    Selector, Target,
};
use crate::universe::names::NameStyle;

use super::{Planner, PoolKind, external, pin_of_version};

impl Planner {
    pub(super) fn add_generated(&mut self) {
        match self.rng.random_range(0..100) {
            0..57 => self.add_noarch_python(),
            57..67 => self.add_extension(),
            67..87 => self.add_library(false),
            87..92 => self.add_library(true),
            _ => self.add_tool(),
        }
    }

    fn add_noarch_python(&mut self) {
        let name = self.names.next(&mut self.rng, NameStyle::Python);
        let (format, version) = (self.random_format(), self.random_version());
        let mut package = self.base(name, Kind::NoarchPython, format, version);
        package.host = self.python_backend(false);
        let count = self.dep_count(&[0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 7]);
        for output in self.pick(PoolKind::Python, count) {
            let mut dep = Dep::on(output);
            if self.rng.random_bool(0.3) {
                let floor = self.packages[output.package as usize]
                    .version
                    .split('.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".");
                dep.constraint = Constraint::Literal(format!(">={floor}"));
            }
            package.run.push(dep);
        }
        self.python_basics(&mut package, true);
        if self.rng.random_bool(0.5) {
            package.test.push(self.core_dep("pytest"));
        }
        let index = self.push(package);
        self.python_pool.push(OutputRef {
            package: index,
            output: 0,
        });
    }

    /// The build backend in host: setuptools, hatchling, flit-core, setuptools_scm, or
    /// one no feedstock of the universe provides (poetry-core, pdm-backend).
    fn python_backend(&mut self, compiled: bool) -> Vec<Dep> {
        let roll = self.rng.random_range(0..100);
        let names: &[&'static str] = match (compiled, roll) {
            (false, 0..45) => &["setuptools"],
            (false, 45..65) => &["hatchling"],
            (false, 65..75) => &["flit-core"],
            (false, 75..85) => &["setuptools", "setuptools_scm"],
            (false, 85..95) => &["poetry-core"],
            (false, _) => &["pdm-backend"],
            (true, 0..50) => &["setuptools"],
            (true, 50..70) => &["setuptools", "cython"],
            (true, 70..85) => &["meson-python", "cython"],
            (true, _) => &["setuptools", "pybind11"],
        };
        names.iter().map(|n| self.core_dep(n)).collect()
    }

    fn add_extension(&mut self) {
        let name = self.names.next(&mut self.rng, NameStyle::Python);
        let (format, version) = (self.random_format(), self.random_version());
        let mut package = self.base(name, Kind::PythonExtension, format, version);
        package.python_variants = true;
        package.compilers = vec![Compiler::C];
        let rust = self.rng.random_bool(0.1);
        if rust {
            package.compilers.push(Compiler::Rust);
            package.build.push(external("cargo-bundle-licenses"));
            package.host.push(external("maturin"));
        } else {
            if self.rng.random_bool(0.5) {
                package.compilers.push(Compiler::Cxx);
            }
            package.host.push(self.core_dep("pip"));
            package.host.extend(self.python_backend(true));
        }
        if self.rng.random_bool(0.35) {
            package.host.push(self.core_dep("numpy"));
        }
        let links = self.dep_count(&[0, 0, 1, 1, 2]);
        let linked = self.pick(PoolKind::Link, links);
        package.host.extend(linked.into_iter().map(Dep::on));
        let count = self.dep_count(&[0, 0, 1, 1, 2, 3]);
        let run = self.pick(PoolKind::Python, count);
        package.run.extend(run.into_iter().map(Dep::on));
        self.extension_basics(&mut package);
        if self.rng.random_bool(0.4) {
            package.test.push(self.core_dep("pytest"));
        }
        package.platforms = self.platforms_for(&mut package);
        let index = self.push(package);
        self.python_pool.push(OutputRef {
            package: index,
            output: 0,
        });
    }

    fn add_library(&mut self, multi_output: bool) {
        let style = if multi_output {
            NameStyle::Tool
        } else {
            NameStyle::Library
        };
        let mut name = self.names.next(&mut self.rng, style);
        while multi_output
            && ["lib", "py-"].iter().any(|prefix| {
                self.names.is_taken(&format!("{prefix}{name}"))
                    || self.names.is_taken(&format!("{prefix}{name}-devel"))
            })
        {
            name = self.names.next(&mut self.rng, style);
        }
        let (format, version) = (self.random_format(), self.random_version());
        let kind = if multi_output {
            Kind::MultiOutput
        } else {
            Kind::Library
        };
        let mut package = self.base(name.clone(), kind, format, version.clone());
        package.compilers = vec![Compiler::C];
        if self.rng.random_bool(0.55) {
            package.compilers.push(Compiler::Cxx);
        }
        if self.rng.random_bool(0.05) {
            package.compilers.push(Compiler::Fortran);
        }
        package.build = match self.rng.random_range(0..100) {
            0..50 => vec![self.core_dep("cmake"), self.core_dep("ninja")],
            50..85 => vec![
                self.entry_dep("make [unix]"),
                self.core_dep("pkg-config"),
                Dep {
                    selector: Some(Selector::Unix),
                    ..external("libtool")
                },
            ],
            _ => vec![
                self.core_dep("meson"),
                self.core_dep("ninja"),
                self.core_dep("pkg-config"),
            ],
        };
        if self.rng.random_bool(0.08) {
            let tools = self.pick(PoolKind::Tool, 1);
            package.build.extend(tools.into_iter().map(Dep::on));
        }
        let count = self.dep_count(&[0, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8]);
        let linked = self.pick(PoolKind::Link, count);
        package.host.extend(linked.into_iter().map(Dep::on));
        if self.rng.random_bool(0.05) {
            package.host.push(Dep {
                selector: Some(Selector::Osx),
                ..self.core_dep("llvm-openmp")
            });
        }
        if multi_output || self.rng.random_bool(0.85) {
            package.exports = Exports::Weak;
        }
        if self
            .rng
            .random_bool(0.35 + if multi_output { 0.15 } else { 0.0 })
        {
            package.pin = Some(pin_of_version(&version, self.rng.random_bool(0.5)));
        }
        if multi_output {
            self.names.reserve(&format!("lib{name}"));
            self.names.reserve(&format!("lib{name}-devel"));
            package.outputs = vec![
                OutputSpec {
                    name: format!("lib{name}"),
                    role: Role::Lib,
                },
                OutputSpec {
                    name: format!("lib{name}-devel"),
                    role: Role::Devel,
                },
            ];
            if self.rng.random_bool(0.6) {
                self.names.reserve(&format!("py-{name}"));
                package.outputs.push(OutputSpec {
                    name: format!("py-{name}"),
                    role: Role::Python,
                });
                package.python_variants = true;
            }
        }
        package.platforms = self.platforms_for(&mut package);
        let index = self.push(package);
        let preferred = self.preferred_link_output(index);
        self.link_pool.push(preferred);
        if let Some(python) = self.packages[index as usize]
            .outputs
            .iter()
            .position(|o| o.role == Role::Python)
        {
            self.python_pool.push(OutputRef {
                package: index,
                output: python as u8,
            });
        }
    }

    fn add_tool(&mut self) {
        let name = self.names.next(&mut self.rng, NameStyle::Tool);
        let (format, version) = (self.random_format(), self.random_version());
        let mut package = self.base(name, Kind::Tool, format, version);
        if self.rng.random_bool(0.25) {
            package.compilers = vec![Compiler::C, Compiler::Rust];
            package.build.push(external("cargo-bundle-licenses"));
        } else {
            package.compilers = vec![Compiler::C, Compiler::Cxx];
            package.build.push(self.core_dep("cmake"));
            package.build.push(self.entry_dep("make [unix]"));
        }
        let count = self.dep_count(&[0, 1, 1, 2]);
        let linked = self.pick(PoolKind::Link, count);
        package.host.extend(linked.into_iter().map(Dep::on));
        package.platforms = self.platforms_for(&mut package);
        let index = self.push(package);
        self.tool_pool.push(OutputRef {
            package: index,
            output: 0,
        });
    }

    /// Draws the platforms of a compiled package, limited to what its host dependencies
    /// build for. A Unix-only dependency of a package that keeps Windows gets a `unix`
    /// selector instead, as real recipes do.
    fn platforms_for(&mut self, package: &mut Package) -> Vec<Platform> {
        let mut wanted = vec![Platform::Linux64];
        if self.rng.random_bool(0.6) {
            wanted.push(Platform::LinuxAarch64);
            if self.rng.random_bool(0.75) {
                wanted.push(Platform::LinuxPpc64le);
            }
        }
        if self.rng.random_bool(0.85) {
            wanted.extend([Platform::Osx64, Platform::OsxArm64]);
        }
        let windows = self.rng.random_bool(0.7);
        let keep_windows_with_selector = self.rng.random_bool(0.5);
        if windows {
            wanted.push(Platform::Win64);
        }
        for dep in package.host.iter_mut().chain(package.run.iter_mut()) {
            let Target::Output(output) = dep.target else {
                continue;
            };
            let Some(provider) = self.packages.get(output.package as usize) else {
                continue;
            };
            if provider.is_noarch() || dep.selector.is_some() {
                continue;
            }
            if !provider.platforms.contains(&Platform::Win64) && wanted.contains(&Platform::Win64) {
                if keep_windows_with_selector {
                    dep.selector = Some(Selector::Unix);
                } else {
                    wanted.retain(|p| *p != Platform::Win64);
                }
            }
            wanted.retain(|p| *p == Platform::Win64 || provider.platforms.contains(p));
        }
        if !wanted.contains(&Platform::Linux64) {
            wanted.insert(0, Platform::Linux64);
        }
        wanted
    }
}
