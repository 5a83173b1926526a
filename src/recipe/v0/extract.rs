//! Rendered, selector-filtered `meta.yaml` text → [`RenderedRecipe`].
//!
//! The YAML is read with serde-saphyr into wire types that mirror the parts of a recipe
//! the graph needs, with duplicate keys resolved last-wins (PyYAML's behaviour, and
//! normal after selector filtering) and a budget against hostile input. Scalars that
//! matter as text (versions, hashes, git revisions, specs) are read as strings, so
//! `version: 1.10` stays `"1.10"`, like conda-build's `StringifyNumbersLoader`.
//! Fields the graph does not need (`about`, `script`, ...) are never deserialized.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::wire::{Flag, OneOrMany, Scalar, last_wins_fields};

use crate::recipe::{
    HashKind, Noarch, Output, RenderedRecipe, Requirement, Requirements, RunExports, Source,
    SourceHash,
};

/// Why rendered text did not give a recipe; lines are 1-based lines of the rendered text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ExtractError {
    /// The text is not YAML, or a field has a type no recipe can have.
    Yaml {
        /// Rendered line, when known.
        line: Option<usize>,
        /// What went wrong.
        message: String,
    },
    /// The YAML is not a usable recipe (no package name, bad build number).
    Structure {
        /// Rendered line, when known.
        line: Option<usize>,
        /// What is missing or wrong.
        message: String,
    },
}

/// Parses rendered recipe text into the model.
pub(super) fn extract(text: &str) -> Result<RenderedRecipe, ExtractError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_events: 400_000,
            max_nodes: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 1,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
    };
    let wire: Option<RecipeWire> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| ExtractError::Yaml {
            line: e
                .location()
                .and_then(|l| usize::try_from(l.line()).ok())
                .filter(|l| *l > 0),
            message: without_location(&e.to_string()).to_string(),
        })?;
    let wire = wire.ok_or_else(|| structure(None, "the recipe is empty"))?;
    into_model(wire)
}

/// The parser's message without its ` at line N, column M` suffix: that position is in
/// the rendered text, and the error carries the recipe line instead.
fn without_location(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((text, position))
            if position.split(", column ").count() == 2
                && position
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b',' || b" column".contains(&b)) =>
        {
            text
        }
        _ => message,
    }
}

fn structure(line: Option<usize>, message: impl Into<String>) -> ExtractError {
    ExtractError::Structure {
        line,
        message: message.into(),
    }
}

fn line_of<T>(spanned: &Spanned<T>) -> Option<usize> {
    usize::try_from(spanned.referenced.line())
        .ok()
        .filter(|l| *l > 0)
}

fn into_model(wire: RecipeWire) -> Result<RenderedRecipe, ExtractError> {
    let package_line = wire.package.as_ref().and_then(line_of);
    let package = wire.package.map(|p| p.value).unwrap_or_default();
    let name = package
        .name
        .as_ref()
        .map(|n| n.value.text().trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            let line = package.name.as_ref().and_then(line_of).or(package_line);
            structure(line, "`package.name` is missing or empty")
        })?;
    let build = wire.build.unwrap_or_default();
    let build_number = match &build.number {
        None => None,
        Some(number) => {
            let text = number.value.text().trim();
            if text.is_empty() {
                None
            } else {
                Some(text.parse::<u64>().map_err(|_| {
                    structure(
                        line_of(number),
                        format!("`build.number` is `{text}`, not a non-negative integer"),
                    )
                })?)
            }
        }
    };
    let mut requirements = wire.requirements.unwrap_or_default().into_model();
    requirements.test = wire.test.unwrap_or_default().into_requirements();
    let mut outputs = Vec::new();
    for output in wire.outputs.unwrap_or_default().into_iter().flatten() {
        let line = line_of(&output);
        let output = output.value;
        let output_build = output.build.unwrap_or_default();
        if output_build.skip.is_some_and(|s| s.0) {
            continue;
        }
        let output_name = output
            .name
            .map(|n| n.text().trim().to_string())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| structure(line, "an output has no `name`"))?;
        let mut output_requirements = output.requirements.unwrap_or_default().into_model();
        output_requirements.test = output.test.unwrap_or_default().into_requirements();
        outputs.push(Output {
            name: output_name,
            version: output
                .version
                .map(|v| v.text().trim().to_string())
                .filter(|v| !v.is_empty()),
            requirements: output_requirements,
            noarch: noarch(&output_build),
            run_exports: output_build.run_exports.unwrap_or_default().0,
        });
    }
    let version = package
        .version
        .map(|v| v.text().trim().to_string())
        .filter(|v| !v.is_empty())
        .or_else(|| outputs.first().and_then(|o| o.version.clone()));
    Ok(RenderedRecipe {
        name,
        version,
        build_number,
        skip: build.skip.is_some_and(|s| s.0),
        noarch: noarch(&build),
        sources: wire
            .source
            .map(|s| s.0)
            .unwrap_or_default()
            .into_iter()
            .map(SourceWire::into_model)
            .collect(),
        requirements,
        run_exports: build.run_exports.clone().unwrap_or_default().0,
        outputs,
    })
}

fn noarch(build: &BuildWire) -> Option<Noarch> {
    match build
        .noarch
        .as_ref()
        .map(|n| n.text().trim().to_ascii_lowercase())
    {
        Some(n) if n == "python" => Some(Noarch::Python),
        Some(n) if n == "generic" => Some(Noarch::Generic),
        _ if build.noarch_python.is_some_and(|f| f.0) => Some(Noarch::Python),
        _ => None,
    }
}

/// The top level of `meta.yaml`, as far as the graph reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecipeWire {
    package: Option<Spanned<PackageWire>>,
    source: Option<OneOrMany<SourceWire>>,
    build: Option<BuildWire>,
    requirements: Option<RequirementsWire>,
    test: Option<TestWire>,
    outputs: Option<Vec<Option<Spanned<OutputWire>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageWire {
    name: Option<Spanned<Scalar>>,
    version: Option<Scalar>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct BuildWire {
    number: Option<Spanned<Scalar>>,
    skip: Option<Flag>,
    noarch: Option<Scalar>,
    noarch_python: Option<Flag>,
    run_exports: Option<RunExportsWire>,
}

#[derive(Debug, Default)]
struct SourceWire {
    url: Option<OneOrMany<Scalar>>,
    md5: Option<Scalar>,
    sha1: Option<Scalar>,
    sha256: Option<Scalar>,
    sha512: Option<Scalar>,
    git_url: Option<Scalar>,
    git_rev: Option<Scalar>,
    git_tag: Option<Scalar>,
    path: Option<Scalar>,
}

last_wins_fields!(SourceWire {
    url,
    md5,
    sha1,
    sha256,
    sha512,
    git_url,
    git_rev,
    git_tag,
    path
});

impl SourceWire {
    fn into_model(self) -> Source {
        let text = |s: Option<Scalar>| {
            s.map(|s| s.text().trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let hash = [
            (HashKind::Sha512, self.sha512),
            (HashKind::Sha256, self.sha256),
            (HashKind::Sha1, self.sha1),
            (HashKind::Md5, self.md5),
        ]
        .into_iter()
        .find_map(|(kind, value)| text(value).map(|value| SourceHash { kind, value }));
        Source {
            urls: self
                .url
                .map(|u| u.0)
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.text().trim().to_string())
                .filter(|u| !u.is_empty())
                .collect(),
            hash,
            git_url: text(self.git_url),
            git_rev: text(self.git_rev).or_else(|| text(self.git_tag)),
            path: text(self.path),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TestWire {
    requires: Option<OneOrMany<Scalar>>,
    requirements: Option<OneOrMany<Scalar>>,
}

impl TestWire {
    fn into_requirements(self) -> Vec<Requirement> {
        let mut specs = specs(self.requires);
        for spec in specs_of(self.requirements) {
            if !specs.iter().any(|s| s.raw == spec.raw) {
                specs.push(spec);
            }
        }
        specs
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputWire {
    name: Option<Scalar>,
    version: Option<Scalar>,
    requirements: Option<RequirementsWire>,
    test: Option<TestWire>,
    build: Option<BuildWire>,
}

fn specs(list: Option<OneOrMany<Scalar>>) -> Vec<Requirement> {
    specs_of(list).collect()
}

fn specs_of(list: Option<OneOrMany<Scalar>>) -> impl Iterator<Item = Requirement> {
    list.map(|l| l.0)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| Requirement::parse(s.text()))
}

/// `requirements:` as a mapping of sections, or a bare list (which counts as `run`).
#[derive(Debug, Default)]
struct RequirementsWire(RequirementsMap);

#[derive(Debug, Default)]
struct RequirementsMap {
    build: Option<OneOrMany<Scalar>>,
    host: Option<OneOrMany<Scalar>>,
    run: Option<OneOrMany<Scalar>>,
    run_constrained: Option<OneOrMany<Scalar>>,
}

last_wins_fields!(RequirementsMap {
    build,
    host,
    run,
    run_constrained
});

impl RequirementsWire {
    fn into_model(self) -> Requirements {
        let map = self.0;
        Requirements {
            build: specs(map.build),
            host: specs(map.host),
            run: specs(map.run),
            run_constrained: specs(map.run_constrained),
            test: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for RequirementsWire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequirementsWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of requirement sections or a list of specs")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequirementsWire::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RequirementsWire::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut run = Vec::new();
                while let Some(item) = seq.next_element::<Option<Scalar>>()? {
                    run.extend(item);
                }
                Ok(RequirementsWire(RequirementsMap {
                    run: Some(OneOrMany(run)),
                    ..RequirementsMap::default()
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RequirementsMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RequirementsWire)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `run_exports:` as a list (weak) or a mapping with `weak` / `strong`.
#[derive(Debug, Default, Clone)]
struct RunExportsWire(RunExports);

#[derive(Debug, Default)]
struct RunExportsMap {
    weak: Option<OneOrMany<Scalar>>,
    strong: Option<OneOrMany<Scalar>>,
}

last_wins_fields!(RunExportsMap { weak, strong });

fn export_texts(list: Option<OneOrMany<Scalar>>) -> Vec<String> {
    list.map(|l| l.0)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.text().trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl<'de> Deserialize<'de> for RunExportsWire {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RunExportsWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of specs or a mapping with `weak` / `strong`")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RunExportsWire::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(RunExportsWire::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut weak = Vec::new();
                while let Some(item) = seq.next_element::<Option<Scalar>>()? {
                    weak.extend(item);
                }
                Ok(RunExportsWire(RunExports {
                    weak: export_texts(Some(OneOrMany(weak))),
                    strong: Vec::new(),
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let map = RunExportsMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RunExportsWire(RunExports {
                    weak: export_texts(map.weak),
                    strong: export_texts(map.strong),
                }))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_position_is_removed_from_messages() {
        assert_eq!(
            without_location("did not find expected key at line 21, column 3"),
            "did not find expected key"
        );
        assert_eq!(without_location("no position here"), "no position here");
        assert_eq!(without_location("x at line one"), "x at line one");
    }
}
