//! Stage1 recipes (what rattler_build_recipe evaluates to) → the shared recipe model.
//!
//! Specs are re-parsed with [`Requirement::parse`] from their rendered text, so v0 and v1
//! requirements carry the same lenient parse. `pin_subpackage` becomes a real spec when
//! the pinned output is rendered alongside (its version is known); otherwise, and for
//! `pin_compatible` (whose version comes from the solved host environment), the bare
//! package name.

use std::collections::HashMap;

use rattler_build_recipe::Stage1Recipe;
use rattler_build_recipe::stage1::requirements::RunExports as Stage1RunExports;
use rattler_build_recipe::stage1::source::GitRev;
use rattler_build_recipe::stage1::{Dependency, Source as Stage1Source, TestType};
use rattler_conda_types::{NoArchType, VersionWithSource};

use crate::recipe::{
    HashKind, Noarch, Output, Requirement, Requirements, RunExports, Source, SourceHash,
};

/// What a dependency needs to be written as text: sibling versions and stub names.
pub(super) struct SpecWriter<'a> {
    /// Version of every output rendered for this variant, by normalized name.
    pub(super) versions: HashMap<String, &'a VersionWithSource>,
    /// `c_compiler_stub_linux-64` → `c_compiler_stub` (see `context::StubNames`).
    pub(super) stubs: HashMap<String, String>,
}

impl SpecWriter<'_> {
    /// The rendered text of one dependency.
    fn text(&self, dependency: &Dependency) -> String {
        match dependency {
            Dependency::Spec(spec) => {
                if let Some(name) = spec.name.as_exact()
                    && let Some(stub) = self.stubs.get(name.as_normalized())
                {
                    return stub.clone();
                }
                spec.to_string()
            }
            Dependency::PinSubpackage(pin) => {
                let pin = &pin.pin_subpackage;
                let name = pin.name.as_normalized();
                let Some(version) = self.versions.get(name) else {
                    return name.to_string();
                };
                if pin.args.exact {
                    return format!("{name} =={version}");
                }
                pin.apply(version, "")
                    .map(|spec| spec.to_string())
                    .unwrap_or_else(|_| name.to_string())
            }
            Dependency::PinCompatible(pin) => pin.pin_compatible.name.as_normalized().to_string(),
        }
    }

    /// Parses a dependency list into requirements, in order.
    fn requirements(&self, dependencies: &[Dependency]) -> Vec<Requirement> {
        dependencies
            .iter()
            .filter_map(|d| Requirement::parse(&self.text(d)))
            .collect()
    }

    /// The requirements of one stage1 recipe, test requirements included.
    pub(super) fn all_requirements(&self, recipe: &Stage1Recipe) -> Requirements {
        let reqs = &recipe.requirements;
        Requirements {
            build: self.requirements(&reqs.build),
            host: self.requirements(&reqs.host),
            run: self.requirements(&reqs.run),
            run_constrained: self.requirements(&reqs.run_constraints),
            test: self.test_requirements(&recipe.tests),
        }
    }

    /// `tests[].requirements.{run,build}`, plus `pip` for a python test whose `pip_check`
    /// is unset or true (reference §2.3 step 9). Duplicates are dropped.
    fn test_requirements(&self, tests: &[TestType]) -> Vec<Requirement> {
        let mut out: Vec<Requirement> = Vec::new();
        let mut push = |req: Requirement| {
            if !out.iter().any(|r| r.raw == req.raw) {
                out.push(req);
            }
        };
        for test in tests {
            match test {
                TestType::Commands(commands) => {
                    let reqs = &commands.requirements;
                    for dep in reqs.run.iter().chain(&reqs.build) {
                        if let Some(req) = Requirement::parse(&self.text(dep)) {
                            push(req);
                        }
                    }
                }
                TestType::Python { python } if python.pip_check => {
                    if let Some(req) = Requirement::parse("pip") {
                        push(req);
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The weak and strong run_exports of a recipe.
    pub(super) fn run_exports(&self, exports: &Stage1RunExports) -> RunExports {
        RunExports {
            weak: exports.weak.iter().map(|d| self.text(d)).collect(),
            strong: exports.strong.iter().map(|d| self.text(d)).collect(),
        }
    }

    /// One output of a multi-output recipe.
    pub(super) fn output(&self, recipe: &Stage1Recipe) -> Output {
        Output {
            name: recipe.package.name.as_normalized().to_string(),
            version: Some(recipe.package.version.to_string()),
            requirements: self.all_requirements(recipe),
            run_exports: self.run_exports(&recipe.requirements.run_exports),
            noarch: noarch(recipe.build.noarch),
        }
    }
}

/// The model's noarch kind.
pub(super) fn noarch(kind: Option<NoArchType>) -> Option<Noarch> {
    let kind = kind?;
    if kind.is_python() {
        Some(Noarch::Python)
    } else if kind.is_generic() {
        Some(Noarch::Generic)
    } else {
        None
    }
}

/// One evaluated source entry.
pub(super) fn source(source: &Stage1Source) -> Source {
    match source {
        Stage1Source::Url(url) => Source {
            urls: url.url.iter().map(ToString::to_string).collect(),
            hash: source_hash(url.sha256.as_ref(), url.md5.as_ref()),
            ..Source::default()
        },
        Stage1Source::Git(git) => Source {
            git_url: Some(git.url.to_string()),
            git_rev: match &git.rev {
                GitRev::Branch(name) | GitRev::Tag(name) | GitRev::Commit(name) => {
                    Some(name.clone())
                }
                GitRev::Head => None,
            },
            ..Source::default()
        },
        Stage1Source::Path(path) => Source {
            path: Some(path.path.display().to_string()),
            hash: source_hash(path.sha256.as_ref(), path.md5.as_ref()),
            ..Source::default()
        },
    }
}

/// The strongest checksum given (sha256 over md5).
fn source_hash<S: AsRef<[u8]>, M: AsRef<[u8]>>(
    sha256: Option<&S>,
    md5: Option<&M>,
) -> Option<SourceHash> {
    match (sha256, md5) {
        (Some(digest), _) => Some(SourceHash {
            kind: HashKind::Sha256,
            value: hex::encode(digest),
        }),
        (None, Some(digest)) => Some(SourceHash {
            kind: HashKind::Md5,
            value: hex::encode(digest),
        }),
        (None, None) => None,
    }
}
