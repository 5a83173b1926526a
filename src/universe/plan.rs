//! Planning a universe: which feedstocks exist, what each depends on, which variants
//! each builds. All randomness lives here, drawn from one ChaCha8 stream in a fixed order.
//!
//! Dependencies use preferential attachment (a package is chosen with probability
//! proportional to how often it was chosen before, plus the hubs' head start), so the
//! in-degree has conda-forge's heavy tail. Packages only depend on packages planned before
//! them, so the graph is acyclic except for the deliberate test-dependency cycles added
//! at the end.

use std::collections::HashMap;

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::recipe::RecipeFormat;

use super::UniverseError;
use super::hubs::{HUBS, split_entry};
use super::model::{
    Compiler, Constraint, Dep, Exports, Kind, OutputRef, OutputSpec, Package, Plan, Platform, Role,
    Selector, Target,
};
use super::names::{NameGenerator, NameStyle};
use super::text::{LICENSES, MAINTAINERS, ORGS, SUMMARIES};

/// The name of the pinning feedstock every universe ends with.
pub(crate) const PINNING: &str = "conda-forge-pinning";

/// The `python_min` of every noarch recipe.
const PYTHON_MIN: &str = "3.10";

/// The smallest universe: every hub, the pinning, and nothing else.
pub(crate) fn minimum_size() -> usize {
    HUBS.len() + 1
}

/// Plans a universe of exactly `size` feedstocks.
pub(crate) fn plan(size: usize, seed: u64) -> Result<Plan, UniverseError> {
    if size < minimum_size() {
        return Err(UniverseError::SizeTooSmall {
            size,
            minimum: minimum_size(),
        });
    }
    let mut planner = Planner::new(seed);
    planner.add_hubs();
    let generated = size - minimum_size();
    for _ in 0..generated {
        planner.add_generated();
    }
    let cycles = planner.add_cycles(size);
    planner.add_pinning();
    Ok(Plan {
        packages: planner.packages,
        cycles,
        python_min: PYTHON_MIN,
    })
}

struct Planner {
    rng: ChaCha8Rng,
    packages: Vec<Package>,
    by_name: HashMap<String, OutputRef>,
    /// Preferential-attachment tickets: libraries other packages link against.
    link_pool: Vec<OutputRef>,
    /// Tickets for Python run dependencies.
    python_pool: Vec<OutputRef>,
    /// Tickets for generated build tools (code generators and the like).
    tool_pool: Vec<OutputRef>,
    names: NameGenerator,
}

impl Planner {
    fn new(seed: u64) -> Planner {
        let mut reserved: Vec<&str> = HUBS.iter().map(|h| h.name).collect();
        reserved.extend(HUBS.iter().flat_map(|h| h.outputs.iter().map(|(n, _)| *n)));
        reserved.push(PINNING);
        Planner {
            rng: ChaCha8Rng::seed_from_u64(seed),
            packages: Vec::new(),
            by_name: HashMap::new(),
            link_pool: Vec::new(),
            python_pool: Vec::new(),
            tool_pool: Vec::new(),
            names: NameGenerator::new(reserved),
        }
    }

    /// The output a hub name denotes; an external name if the table lost it (a test
    /// guards against that).
    fn core(&self, name: &'static str) -> Target {
        self.by_name
            .get(name)
            .map_or(Target::External(name), |o| Target::Output(*o))
    }

    fn core_dep(&self, name: &'static str) -> Dep {
        Dep {
            target: self.core(name),
            constraint: Constraint::None,
            selector: None,
        }
    }

    fn entry_dep(&self, entry: &'static str) -> Dep {
        let (name, selector) = split_entry(entry);
        Dep {
            target: self
                .by_name
                .get(name)
                .map_or(Target::External(name), |o| Target::Output(*o)),
            constraint: Constraint::None,
            selector: selector.and_then(Selector::parse),
        }
    }

    fn push(&mut self, package: Package) -> u32 {
        let index = self.packages.len() as u32;
        for (i, output) in package.outputs.iter().enumerate() {
            self.by_name.insert(
                output.name.clone(),
                OutputRef {
                    package: index,
                    output: i as u8,
                },
            );
        }
        self.packages.push(package);
        index
    }

    fn base(&mut self, name: String, kind: Kind, format: RecipeFormat, version: String) -> Package {
        let rng = &mut self.rng;
        let maintainers = (0..rng.random_range(1..=4))
            .map(|_| rng.random_range(0..MAINTAINERS.len()))
            .collect();
        let build_number = match rng.random_range(0..100) {
            0..60 => 0,
            60..85 => 1,
            85..95 => 2,
            _ => rng.random_range(3..=6),
        };
        let mut digest = [0u8; 32];
        rng.fill(&mut digest);
        Package {
            outputs: vec![OutputSpec {
                name: name.clone(),
                role: Role::Only,
            }],
            name,
            kind,
            format,
            version,
            build_number,
            sha256: hex::encode(digest),
            compilers: Vec::new(),
            build: Vec::new(),
            host: Vec::new(),
            run: Vec::new(),
            test: Vec::new(),
            platforms: vec![Platform::Linux64],
            python_variants: false,
            pin: None,
            exports: Exports::None,
            hub: false,
            license: rng.random_range(0..LICENSES.len()),
            maintainers,
            org: rng.random_range(0..ORGS.len()),
            summary: rng.random_range(0..SUMMARIES.len()),
            automerge: rng.random_bool(0.15),
        }
    }

    fn add_hubs(&mut self) {
        for hub in HUBS {
            let mut package = self.base(
                hub.name.to_string(),
                hub.kind,
                hub.format,
                hub.version.to_string(),
            );
            package.hub = true;
            if !hub.outputs.is_empty() {
                package.outputs = hub
                    .outputs
                    .iter()
                    .map(|(name, role)| OutputSpec {
                        name: (*name).to_string(),
                        role: *role,
                    })
                    .collect();
            }
            package.compilers = hub.compilers.to_vec();
            package.build = hub.build.iter().map(|e| self.entry_dep(e)).collect();
            package.host = hub.host.iter().map(|e| self.entry_dep(e)).collect();
            package.run = hub.run.iter().map(|e| self.entry_dep(e)).collect();
            package.pin = hub.pin.map(str::to_string);
            package.exports = hub.exports;
            match hub.kind {
                Kind::NoarchPython => self.python_basics(&mut package, false),
                Kind::PythonExtension => {
                    package.platforms = all_platforms(true);
                    package.python_variants = true;
                    self.extension_basics(&mut package);
                }
                _ => package.platforms = all_platforms(hub.windows),
            }
            let index = self.push(package);
            let preferred = self.preferred_link_output(index);
            for _ in 0..hub.link_weight {
                self.link_pool.push(preferred);
            }
            for _ in 0..hub.python_weight {
                self.python_pool.push(OutputRef {
                    package: index,
                    output: 0,
                });
            }
        }
    }

    /// The output a dependent links against: the `Devel` output, else the first.
    fn preferred_link_output(&self, package: u32) -> OutputRef {
        let output = self
            .packages
            .get(package as usize)
            .and_then(|p| p.outputs.iter().position(|o| o.role == Role::Devel))
            .unwrap_or(0);
        OutputRef {
            package,
            output: output as u8,
        }
    }

    /// python in host/run/test, pip in test (when pip exists and is not this package).
    fn python_basics(&self, package: &mut Package, generated: bool) {
        let python = self.core("python");
        package.host.insert(
            0,
            Dep {
                target: python,
                constraint: Constraint::PythonMinExact,
                selector: None,
            },
        );
        package.run.insert(
            0,
            Dep {
                target: python,
                constraint: Constraint::PythonMinAtLeast,
                selector: None,
            },
        );
        if generated {
            package.host.insert(1, self.core_dep("pip"));
        }
        if self.by_name.contains_key("pip") && package.name != "pip" {
            package.test.push(self.core_dep("pip"));
        }
        package.test.push(Dep {
            target: python,
            constraint: Constraint::PythonMinExact,
            selector: None,
        });
    }

    /// python in host and run; `pin_compatible('numpy')` in run when numpy is in host.
    fn extension_basics(&self, package: &mut Package) {
        let python = self.core_dep("python");
        package.host.insert(0, python.clone());
        package.run.insert(0, python);
        let numpy = self.core("numpy");
        if package.host.iter().any(|d| d.target == numpy) {
            package.run.insert(
                1,
                Dep {
                    target: numpy,
                    constraint: Constraint::PinCompatible,
                    selector: None,
                },
            );
        }
    }

    fn random_version(&mut self) -> String {
        let rng = &mut self.rng;
        let major = match rng.random_range(0..10) {
            0..3 => 0,
            3..6 => 1,
            6..8 => 2,
            _ => rng.random_range(3..=24),
        };
        format!(
            "{major}.{}.{}",
            rng.random_range(0..30),
            rng.random_range(0..15)
        )
    }

    fn random_format(&mut self) -> RecipeFormat {
        if self.rng.random_bool(0.3) {
            RecipeFormat::V1
        } else {
            RecipeFormat::V0
        }
    }

    /// A heavy-tailed dependency count.
    fn dep_count(&mut self, table: &[usize]) -> usize {
        table[self.rng.random_range(0..table.len())]
    }

    /// Draws up to `count` outputs of distinct packages from a pool, preferentially.
    fn pick(&mut self, pool: PoolKind, count: usize) -> Vec<OutputRef> {
        let mut picked: Vec<OutputRef> = Vec::new();
        let len = self.pool(pool).len();
        if len == 0 {
            return picked;
        }
        for _ in 0..count * 4 {
            if picked.len() == count {
                break;
            }
            let slot = self.rng.random_range(0..len);
            let candidate = self.pool(pool)[slot];
            if !picked.iter().any(|p| p.package == candidate.package) {
                picked.push(candidate);
            }
        }
        for chosen in &picked {
            self.pool_mut(pool).push(*chosen);
        }
        picked
    }

    fn pool(&self, pool: PoolKind) -> &Vec<OutputRef> {
        match pool {
            PoolKind::Link => &self.link_pool,
            PoolKind::Python => &self.python_pool,
            PoolKind::Tool => &self.tool_pool,
        }
    }

    fn pool_mut(&mut self, pool: PoolKind) -> &mut Vec<OutputRef> {
        match pool {
            PoolKind::Link => &mut self.link_pool,
            PoolKind::Python => &mut self.python_pool,
            PoolKind::Tool => &mut self.tool_pool,
        }
    }

    fn add_generated(&mut self) {
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

    /// Adds `want` cycles: a generated noarch package `a` gains a test dependency on a
    /// generated noarch package `b` that already needs `a` at run time.
    fn add_cycles(&mut self, size: usize) -> Vec<[usize; 2]> {
        let want = (size / 1000).max(2);
        let mut cycles: Vec<[usize; 2]> = Vec::new();
        let candidates: Vec<usize> = (0..self.packages.len())
            .filter(|i| self.packages[*i].kind == Kind::NoarchPython && !self.packages[*i].hub)
            .collect();
        if candidates.is_empty() {
            return cycles;
        }
        let start = self.rng.random_range(0..candidates.len());
        let mut used = vec![false; self.packages.len()];
        for step in 0..candidates.len() {
            if cycles.len() == want {
                break;
            }
            let b = candidates[(start + step) % candidates.len()];
            let partner = self.packages[b]
                .run
                .iter()
                .find_map(|dep| match dep.target {
                    Target::Output(o) => {
                        let a = o.package as usize;
                        let p = &self.packages[a];
                        (p.kind == Kind::NoarchPython && !p.hub && !used[a]).then_some(a)
                    }
                    Target::External(_) => None,
                });
            let Some(a) = partner else { continue };
            if used[b] {
                continue;
            }
            used[a] = true;
            used[b] = true;
            self.packages[a].test.push(Dep::on(OutputRef {
                package: b as u32,
                output: 0,
            }));
            cycles.push([a, b]);
        }
        cycles
    }

    fn add_pinning(&mut self) {
        let mut package = self.base(
            PINNING.to_string(),
            Kind::Pinning,
            RecipeFormat::V0,
            "2025.06.01.00.00.00".to_string(),
        );
        package.build_number = 0;
        package.hub = true;
        package.automerge = false;
        self.push(package);
    }
}

#[derive(Clone, Copy)]
enum PoolKind {
    Link,
    Python,
    Tool,
}

fn external(name: &'static str) -> Dep {
    Dep {
        target: Target::External(name),
        constraint: Constraint::None,
        selector: None,
    }
}

fn all_platforms(windows: bool) -> Vec<Platform> {
    let mut platforms = vec![
        Platform::Linux64,
        Platform::LinuxAarch64,
        Platform::LinuxPpc64le,
        Platform::Osx64,
        Platform::OsxArm64,
    ];
    if windows {
        platforms.push(Platform::Win64);
    }
    platforms
}

/// `1.4` (major.minor) or `1` (major only; `0.x` libraries always pin the minor).
fn pin_of_version(version: &str, major_only: bool) -> String {
    let mut parts = version.split('.');
    let major = parts.next().unwrap_or("0");
    let minor = parts.next().unwrap_or("0");
    if major_only && major != "0" {
        major.to_string()
    } else {
        format!("{major}.{minor}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_has_exactly_the_requested_size_with_the_pinning_last() {
        let plan = plan(400, 1).unwrap();
        assert_eq!(plan.packages.len(), 400);
        assert_eq!(plan.packages.last().unwrap().name, PINNING);
    }

    #[test]
    fn every_hub_dependency_resolves_to_a_feedstock() {
        let plan = plan(minimum_size(), 3).unwrap();
        for package in &plan.packages {
            for dep in package
                .build
                .iter()
                .chain(&package.host)
                .chain(&package.run)
            {
                if let Target::External(name) = dep.target {
                    panic!("{} has unresolved hub dependency {name}", package.name);
                }
            }
        }
    }

    #[test]
    fn too_small_a_universe_is_refused() {
        assert!(matches!(
            plan(5, 0),
            Err(UniverseError::SizeTooSmall { size: 5, .. })
        ));
    }

    #[test]
    fn dependencies_point_backwards_except_for_the_cycles() {
        let plan = plan(2000, 9).unwrap();
        assert!(plan.cycles.len() >= 2);
        for (index, package) in plan.packages.iter().enumerate() {
            for dep in package
                .build
                .iter()
                .chain(&package.host)
                .chain(&package.run)
            {
                if let Target::Output(o) = dep.target {
                    assert!((o.package as usize) < index, "{}", package.name);
                }
            }
        }
        for [a, b] in &plan.cycles {
            let depends = |x: usize, y: usize| {
                let p = &plan.packages[x];
                p.run
                    .iter()
                    .chain(&p.test)
                    .any(|d| matches!(d.target, Target::Output(o) if o.package as usize == y))
            };
            assert!(depends(*a, *b) && depends(*b, *a));
        }
    }

    #[test]
    fn the_mix_is_mostly_noarch_python_with_a_v0_majority() {
        let plan = plan(5000, 11).unwrap();
        let total = plan.packages.len() as f64;
        let noarch = plan
            .packages
            .iter()
            .filter(|p| p.kind == Kind::NoarchPython)
            .count() as f64;
        let v1 = plan
            .packages
            .iter()
            .filter(|p| p.format == RecipeFormat::V1)
            .count() as f64;
        assert!(
            (0.50..0.62).contains(&(noarch / total)),
            "{}",
            noarch / total
        );
        assert!((0.25..0.35).contains(&(v1 / total)), "{}", v1 / total);
    }
}
