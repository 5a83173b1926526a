//! Planning a universe: which feedstocks exist, what each depends on, which variants
//! each builds. All randomness lives here, drawn from one ChaCha8 stream in a fixed order.
//!
//! Dependencies use preferential attachment (a package is chosen with probability
//! proportional to how often it was chosen before, plus the hubs' head start), so the
//! in-degree has conda-forge's heavy tail. Packages only depend on packages planned before
//! them, so the graph is acyclic except for the deliberate test-dependency cycles added
//! at the end.

mod kinds;

use std::collections::HashMap;

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::recipe::RecipeFormat;

use super::UniverseError;
use super::hubs::{HUBS, split_entry};
use super::model::{
    Constraint, Dep, Exports, Kind, OutputRef, OutputSpec, Package, Plan, Platform, Role, Selector,
    Target,
};
use super::names::NameGenerator;
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
