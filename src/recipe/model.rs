//! The rendered recipe model: what one render of a recipe for one variant yields.
//!
//! Both v0 `meta.yaml` and v1 `recipe.yaml` renders end up here, so everything above
//! `recipe` (feedstock merging, the graph, migrators) never looks at recipe syntax.
//! Requirement specs keep their raw text; the parsed [`MatchSpec`] is an addition, not a
//! replacement, because real recipes carry specs conda accepts but rattler cannot parse.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::requirement::Requirement;

/// Which recipe format a feedstock uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RecipeFormat {
    /// conda-build `recipe/meta.yaml`: Jinja text with `# [selector]` line comments.
    #[serde(rename = "v0")]
    V0,
    /// rattler-build `recipe/recipe.yaml`: YAML with `${{ }}` and `if/then/else`.
    #[serde(rename = "v1")]
    V1,
}

impl RecipeFormat {
    /// The short name used in the store and in JSON output (`v0` / `v1`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecipeFormat::V0 => "v0",
            RecipeFormat::V1 => "v1",
        }
    }

    /// The file name of the recipe inside `recipe/`.
    pub fn file_name(self) -> &'static str {
        match self {
            RecipeFormat::V0 => "meta.yaml",
            RecipeFormat::V1 => "recipe.yaml",
        }
    }
}

impl fmt::Display for RecipeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requirements section. Edges are labelled with these so migrators can trim by section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// `requirements.build`: tools that run on the build machine (compilers, cmake).
    Build,
    /// `requirements.host`: libraries linked against, the target's Python.
    Host,
    /// `requirements.run`.
    Run,
    /// `requirements.run_constrained` (v1: `run_constraints`): never an edge.
    RunConstrained,
    /// Test requirements: v0 `test.requires`/`test.requirements`, v1 `tests[].requirements`.
    Test,
}

impl Section {
    /// Every section, in the order they appear in a recipe.
    pub const ALL: [Section; 5] = [
        Section::Build,
        Section::Host,
        Section::Run,
        Section::RunConstrained,
        Section::Test,
    ];

    /// The snake-case name used in the store and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Build => "build",
            Section::Host => "host",
            Section::Run => "run",
            Section::RunConstrained => "run_constrained",
            Section::Test => "test",
        }
    }

    /// Parses the name written by [`Section::as_str`].
    pub fn parse(name: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The requirement lists of one package (top level or one output), by section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requirements {
    /// `build` requirements.
    pub build: Vec<Requirement>,
    /// `host` requirements.
    pub host: Vec<Requirement>,
    /// `run` requirements.
    pub run: Vec<Requirement>,
    /// `run_constrained` requirements.
    pub run_constrained: Vec<Requirement>,
    /// Test requirements.
    pub test: Vec<Requirement>,
}

impl Requirements {
    /// The list for one section.
    pub fn section(&self, section: Section) -> &[Requirement] {
        match section {
            Section::Build => &self.build,
            Section::Host => &self.host,
            Section::Run => &self.run,
            Section::RunConstrained => &self.run_constrained,
            Section::Test => &self.test,
        }
    }

    /// The mutable list for one section.
    pub fn section_mut(&mut self, section: Section) -> &mut Vec<Requirement> {
        match section {
            Section::Build => &mut self.build,
            Section::Host => &mut self.host,
            Section::Run => &mut self.run,
            Section::RunConstrained => &mut self.run_constrained,
            Section::Test => &mut self.test,
        }
    }

    /// Appends every requirement of `other` not already present (by raw text).
    pub fn merge(&mut self, other: &Requirements) {
        for section in Section::ALL {
            let mine = self.section_mut(section);
            for req in other.section(section) {
                if !mine.iter().any(|r| r.raw == req.raw) {
                    mine.push(req.clone());
                }
            }
        }
    }

    /// The distinct package names of one section.
    pub fn names(&self, section: Section) -> BTreeSet<&str> {
        self.section(section)
            .iter()
            .map(|r| r.name.as_str())
            .collect()
    }

    /// True when no section holds anything.
    pub fn is_empty(&self) -> bool {
        Section::ALL.iter().all(|s| self.section(*s).is_empty())
    }
}

/// How a package is `noarch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noarch {
    /// `noarch: python`.
    Python,
    /// `noarch: generic`.
    Generic,
}

/// `run_exports` of a package: specs its dependents receive automatically.
///
/// A bare list in a recipe is `weak`. Strong exports also reach the dependents' `run`
/// when the package is in their `build` section (reference §2.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunExports {
    /// Exports added when the package is in `host`.
    pub weak: Vec<String>,
    /// Exports added when the package is in `build` or `host`.
    pub strong: Vec<String>,
}

impl RunExports {
    /// True when there are no exports.
    pub fn is_empty(&self) -> bool {
        self.weak.is_empty() && self.strong.is_empty()
    }

    /// Adds the exports of `other` not already present.
    pub fn merge(&mut self, other: &RunExports) {
        for spec in &other.weak {
            if !self.weak.contains(spec) {
                self.weak.push(spec.clone());
            }
        }
        for spec in &other.strong {
            if !self.strong.contains(spec) {
                self.strong.push(spec.clone());
            }
        }
    }
}

/// The hash algorithm of a source checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashKind {
    /// MD5 (legacy recipes).
    Md5,
    /// SHA-1 (legacy recipes).
    Sha1,
    /// SHA-256: what conda-forge requires today.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl HashKind {
    /// The recipe key (`sha256`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
            HashKind::Sha512 => "sha512",
        }
    }

    /// Parses a recipe key.
    pub fn parse(key: &str) -> Option<HashKind> {
        match key {
            "md5" => Some(HashKind::Md5),
            "sha1" => Some(HashKind::Sha1),
            "sha256" => Some(HashKind::Sha256),
            "sha512" => Some(HashKind::Sha512),
            _ => None,
        }
    }
}

/// A source checksum as written in the recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceHash {
    /// The algorithm.
    pub kind: HashKind,
    /// The hex digest as written (lowercased is not assumed).
    pub value: String,
}

/// One `source:` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Download URLs; several are mirrors of the same file.
    pub urls: Vec<String>,
    /// The checksum, strongest first when a recipe gives several.
    pub hash: Option<SourceHash>,
    /// A git repository to clone instead of a URL.
    pub git_url: Option<String>,
    /// The git revision/tag for `git_url`.
    pub git_rev: Option<String>,
    /// A local path source (`path:`).
    pub path: Option<String>,
}

/// One output of a (possibly multi-output) recipe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// The package name the output produces.
    pub name: String,
    /// The output's own version when it differs from the recipe's.
    pub version: Option<String>,
    /// The output's requirements.
    pub requirements: Requirements,
    /// The output's run_exports.
    pub run_exports: RunExports,
    /// `noarch` of this output.
    pub noarch: Option<Noarch>,
}

/// One render of a recipe for one variant (or several merged renders of one platform).
///
/// Invariant: `requirements` holds the top level only; each output holds its own.
/// A recipe without `outputs:` has an empty `outputs` list and produces `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RenderedRecipe {
    /// `package.name` (v1: `package.name`, or `recipe.name` for multi-output recipes).
    pub name: String,
    /// `package.version` (falls back to the first output's version).
    pub version: Option<String>,
    /// `build.number`.
    pub build_number: Option<u64>,
    /// True when `build.skip` is true for this variant: conda-build and conda-smithy drop
    /// the variant (no package is built for it).
    pub skip: bool,
    /// Top-level `build.noarch`.
    pub noarch: Option<Noarch>,
    /// Every source entry, in recipe order.
    pub sources: Vec<Source>,
    /// Top-level requirements.
    pub requirements: Requirements,
    /// Top-level run_exports.
    pub run_exports: RunExports,
    /// Outputs, in recipe order.
    pub outputs: Vec<Output>,
}

impl RenderedRecipe {
    /// The package names this recipe produces (reference §2.3 step 10).
    ///
    /// With outputs: their names, plus the top-level name when the top level has run
    /// requirements (an implicit metapackage). Otherwise just the top-level name.
    pub fn output_names(&self) -> BTreeSet<&str> {
        if self.outputs.is_empty() {
            return BTreeSet::from([self.name.as_str()]);
        }
        let mut names: BTreeSet<&str> = self.outputs.iter().map(|o| o.name.as_str()).collect();
        if !self.requirements.run.is_empty() {
            names.insert(self.name.as_str());
        }
        names
    }

    /// The union of the top-level requirements and every output's requirements.
    pub fn all_requirements(&self) -> Requirements {
        let mut all = self.requirements.clone();
        for output in &self.outputs {
            all.merge(&output.requirements);
        }
        all
    }

    /// True when any part of the recipe has strong run_exports.
    pub fn has_strong_exports(&self) -> bool {
        !self.run_exports.strong.is_empty()
            || self
                .outputs
                .iter()
                .any(|o| !o.run_exports.strong.is_empty())
    }

    /// Merges another render of the same recipe (another variant of the same platform)
    /// into this one: requirements, exports, sources and outputs are unioned.
    pub fn merge(&mut self, other: &RenderedRecipe) {
        self.requirements.merge(&other.requirements);
        self.run_exports.merge(&other.run_exports);
        if self.version.is_none() {
            self.version.clone_from(&other.version);
        }
        if self.build_number.is_none() {
            self.build_number = other.build_number;
        }
        for source in &other.sources {
            if !self.sources.contains(source) {
                self.sources.push(source.clone());
            }
        }
        for output in &other.outputs {
            match self.outputs.iter_mut().find(|o| o.name == output.name) {
                Some(mine) => {
                    mine.requirements.merge(&output.requirements);
                    mine.run_exports.merge(&output.run_exports);
                }
                None => self.outputs.push(output.clone()),
            }
        }
    }
}
