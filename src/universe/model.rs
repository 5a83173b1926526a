//! The planned universe: every feedstock as data, before any text is written.
//!
//! The plan holds every random choice; the emitters (`meta_yaml`, `recipe_yaml`,
//! `ci_support`) are pure functions of it. That split keeps generation deterministic even
//! though files are written in parallel.

use crate::recipe::RecipeFormat;

/// How a package exports itself to packages that link it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exports {
    /// No `run_exports`.
    None,
    /// Weak `run_exports` (the usual shared-library pin).
    Weak,
    /// Strong `run_exports` (also lands in `run` when used from `build`).
    Strong,
}

/// What sort of feedstock a package is; decides its recipe shape and its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A compiled command-line tool or build tool (`cmake`, `ninja`): per platform.
    Tool,
    /// A compiled C/C++ library with one output: per platform.
    Library,
    /// A compiled library split into outputs (`libfoo`, `libfoo-devel`, `py-foo`, ...).
    MultiOutput,
    /// A compiled Python extension: per platform × Python version.
    PythonExtension,
    /// A `noarch: python` package: one `linux_64_.yaml` variant.
    NoarchPython,
    /// The `conda-forge-pinning` feedstock (noarch generic, no dependencies).
    Pinning,
}

/// A compiler a recipe asks for with `compiler('...')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Compiler {
    C,
    Cxx,
    Fortran,
    Rust,
}

impl Compiler {
    /// The argument of `compiler(...)`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Compiler::C => "c",
            Compiler::Cxx => "cxx",
            Compiler::Fortran => "fortran",
            Compiler::Rust => "rust",
        }
    }
}

/// A target platform a compiled feedstock builds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Platform {
    Linux64,
    LinuxAarch64,
    LinuxPpc64le,
    Osx64,
    OsxArm64,
    Win64,
}

impl Platform {
    /// The `.ci_support` file-name prefix (`linux_aarch64`).
    pub(crate) fn ci_name(self) -> &'static str {
        match self {
            Platform::Linux64 => "linux_64",
            Platform::LinuxAarch64 => "linux_aarch64",
            Platform::LinuxPpc64le => "linux_ppc64le",
            Platform::Osx64 => "osx_64",
            Platform::OsxArm64 => "osx_arm64",
            Platform::Win64 => "win_64",
        }
    }

    /// The conda subdir (`linux-aarch64`), the value of `target_platform`.
    pub(crate) fn subdir(self) -> &'static str {
        match self {
            Platform::Linux64 => "linux-64",
            Platform::LinuxAarch64 => "linux-aarch64",
            Platform::LinuxPpc64le => "linux-ppc64le",
            Platform::Osx64 => "osx-64",
            Platform::OsxArm64 => "osx-arm64",
            Platform::Win64 => "win-64",
        }
    }

    /// True for the two Linux architectures that build on `linux_64` (emulated or cross).
    pub(crate) fn is_cross_linux(self) -> bool {
        matches!(self, Platform::LinuxAarch64 | Platform::LinuxPpc64le)
    }

    /// True for Linux and macOS.
    pub(crate) fn is_unix(self) -> bool {
        self != Platform::Win64
    }

    /// True for Linux.
    pub(crate) fn is_linux(self) -> bool {
        matches!(
            self,
            Platform::Linux64 | Platform::LinuxAarch64 | Platform::LinuxPpc64le
        )
    }

    /// True for macOS.
    pub(crate) fn is_osx(self) -> bool {
        matches!(self, Platform::Osx64 | Platform::OsxArm64)
    }
}

/// A platform condition on one requirement line: `# [win]` in v0, `if: win` in v1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selector {
    Win,
    Unix,
    Linux,
    Osx,
}

impl Selector {
    /// The selector expression, the same in both formats.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Selector::Win => "win",
            Selector::Unix => "unix",
            Selector::Linux => "linux",
            Selector::Osx => "osx",
        }
    }

    /// Parses the few selectors the hub table uses.
    pub(crate) fn parse(text: &str) -> Option<Selector> {
        Some(match text {
            "win" => Selector::Win,
            "unix" => Selector::Unix,
            "linux" => Selector::Linux,
            "osx" => Selector::Osx,
            _ => return None,
        })
    }
}

/// Names one output of one planned package. Dense indices into [`Plan::packages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct OutputRef {
    pub package: u32,
    pub output: u8,
}

/// What a dependency points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An output of a feedstock in the universe (becomes a graph edge).
    Output(OutputRef),
    /// A package no feedstock in the universe produces (`cmake-no-system`, `__osx`).
    External(&'static str),
}

/// The version part of a requirement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Constraint {
    /// Just the name.
    None,
    /// A literal constraint written after the name (`>=1.2`).
    Literal(String),
    /// `python {{ python_min }}` (v0) / `python ${{ python_min }}.*` (v1): host and test.
    PythonMinExact,
    /// `python >={{ python_min }}`: run of a noarch package.
    PythonMinAtLeast,
    /// `{{ pin_compatible('numpy') }}`.
    PinCompatible,
}

/// One requirement line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dep {
    pub target: Target,
    pub constraint: Constraint,
    pub selector: Option<Selector>,
}

impl Dep {
    /// A plain dependency on an output of the universe.
    pub(crate) fn on(output: OutputRef) -> Dep {
        Dep {
            target: Target::Output(output),
            constraint: Constraint::None,
            selector: None,
        }
    }
}

/// The role of one output of a multi-output feedstock; decides its requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The only output: the recipe has no `outputs:` section.
    Only,
    /// A shared library with `run_exports` pinning itself.
    Lib,
    /// Headers and CMake files: runs with the first `Lib` output pinned exactly.
    Devel,
    /// A command-line tool linked against the first `Lib` output.
    Tool,
    /// Python bindings built per Python version.
    Python,
}

/// One output of a planned feedstock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputSpec {
    pub name: String,
    pub role: Role,
}

/// One planned feedstock.
#[derive(Debug, Clone)]
pub(crate) struct Package {
    /// The feedstock name (`<name>-feedstock`).
    pub name: String,
    pub kind: Kind,
    pub format: RecipeFormat,
    pub version: String,
    pub build_number: u32,
    /// 64 hex digits.
    pub sha256: String,
    /// Never empty; a single-output recipe has one `Role::Only` output named `name`.
    pub outputs: Vec<OutputSpec>,
    pub compilers: Vec<Compiler>,
    pub build: Vec<Dep>,
    pub host: Vec<Dep>,
    pub run: Vec<Dep>,
    pub test: Vec<Dep>,
    /// Platforms with a `.ci_support` file; `[Linux64]` for noarch packages.
    pub platforms: Vec<Platform>,
    /// True when variants multiply by Python version.
    pub python_variants: bool,
    /// True when the package is pinned in the universe's `conda_build_config.yaml`.
    pub pin: Option<String>,
    /// How the package exports itself to packages that link it.
    pub exports: Exports,
    /// True for the fixed hub packages.
    pub hub: bool,
    /// Index into the license table.
    pub license: usize,
    /// Indices into the maintainer table.
    pub maintainers: Vec<usize>,
    /// Index into the upstream organisation table.
    pub org: usize,
    /// Index into the summary phrase table.
    pub summary: usize,
    /// `bot: automerge: true` in `conda-forge.yml`.
    pub automerge: bool,
}

impl Package {
    /// True for `noarch: python` and the pinning (one linux variant, no compilers).
    pub(crate) fn is_noarch(&self) -> bool {
        matches!(self.kind, Kind::NoarchPython | Kind::Pinning)
    }

    /// True when the recipe has an `outputs:` section.
    pub(crate) fn is_multi_output(&self) -> bool {
        self.outputs.iter().any(|o| o.role != Role::Only)
    }

    /// The importable module name of a Python package (`foo-utils` → `foo_utils`).
    pub(crate) fn module_name(&self) -> String {
        let name = self
            .outputs
            .iter()
            .find(|o| o.role == Role::Python)
            .map_or(self.name.as_str(), |o| o.name.as_str());
        name.trim_start_matches("py-").replace(['-', '.'], "_")
    }
}

/// The whole planned universe.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Hubs first, then generated packages, the pinning last.
    pub packages: Vec<Package>,
    /// The deliberate cycles, as pairs of package indices that test-depend on each other.
    pub cycles: Vec<[usize; 2]>,
    /// The `python_min` every noarch package uses.
    pub python_min: &'static str,
}

impl Plan {
    /// The name of an output.
    pub(crate) fn output_name(&self, output: OutputRef) -> &str {
        self.packages
            .get(output.package as usize)
            .and_then(|p| p.outputs.get(usize::from(output.output)))
            .map_or("", |o| o.name.as_str())
    }

    /// The requirement name a dependency is written with.
    pub(crate) fn target_name(&self, target: Target) -> &str {
        match target {
            Target::Output(output) => self.output_name(output),
            Target::External(name) => name,
        }
    }

    /// The pin of the package an output belongs to, when it is pinned.
    pub(crate) fn pin_of(&self, target: Target) -> Option<&str> {
        match target {
            Target::Output(output) => self
                .packages
                .get(output.package as usize)
                .and_then(|p| p.pin.as_deref()),
            Target::External(_) => None,
        }
    }
}

/// A library name without its `lib` prefix (`libfoo` → `foo`), for file names in
/// generated tests; a bare `lib` stays as it is.
pub(super) fn lib_stem(name: &str) -> &str {
    name.strip_prefix("lib")
        .filter(|s| !s.is_empty())
        .unwrap_or(name)
}
