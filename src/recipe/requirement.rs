//! One requirement line (`numpy >=1.21,<2`), with its raw text kept.
//!
//! conda accepts specs rattler's strict parser rejects (`python 3.9`, `foo >=1.0 *_cpython`),
//! so parsing is lenient, and a spec that still fails keeps its raw text and a name taken
//! the way the Python bot takes it: everything before the first space, `>`, `<`, `=`, `!`,
//! `~` or `[`, lowercased.

use std::fmt;
use std::sync::OnceLock;

use rattler_conda_types::{MatchSpec, PackageNameMatcher, ParseMatchSpecOptions, ParseStrictness};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A requirement as written after rendering.
///
/// Invariant: `name` is never empty for a requirement built by [`Requirement::parse`];
/// it is the normalized (lowercase) package name. Two requirements are equal when their
/// raw text is.
#[derive(Clone)]
pub struct Requirement {
    /// The spec text after rendering, trimmed.
    pub raw: String,
    /// The normalized package name.
    pub name: String,
    /// The parsed spec, computed on first use: a stored graph holds hundreds of
    /// thousands of requirements, and most readers only need the name.
    spec: OnceLock<Option<MatchSpec>>,
}

impl PartialEq for Requirement {
    fn eq(&self, other: &Requirement) -> bool {
        self.raw == other.raw && self.name == other.name
    }
}

impl Requirement {
    /// Parses a rendered requirement line; `None` for an empty or whitespace-only line.
    pub fn parse(raw: &str) -> Option<Requirement> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let spec = parse_spec(raw);
        let name = spec
            .as_ref()
            .and_then(|s| match &s.name {
                PackageNameMatcher::Exact(name) => Some(name.as_normalized().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| name_of_raw_spec(raw));
        if name.is_empty() {
            return None;
        }
        Some(Requirement {
            raw: raw.to_string(),
            name,
            spec: OnceLock::from(spec),
        })
    }

    /// Rebuilds a requirement from stored text without parsing the spec when the name
    /// can be read off the text exactly (no channel or namespace prefix, which only the
    /// full parser strips); the spec is then parsed on first use.
    fn from_stored(raw: &str) -> Option<Requirement> {
        let raw = raw.trim();
        if raw.contains(':') {
            return Requirement::parse(raw);
        }
        let name = name_of_raw_spec(raw);
        if name.is_empty() {
            return None;
        }
        Some(Requirement {
            raw: raw.to_string(),
            name,
            spec: OnceLock::new(),
        })
    }

    /// The spec parsed the way conda accepts it (lenient), `None` when even that fails.
    pub fn spec(&self) -> Option<&MatchSpec> {
        self.spec.get_or_init(|| parse_spec(&self.raw)).as_ref()
    }
}

fn parse_spec(raw: &str) -> Option<MatchSpec> {
    let options = ParseMatchSpecOptions::from(ParseStrictness::Lenient);
    MatchSpec::from_str(raw, options).ok()
}

/// The package name of a spec the way cf-scripts cuts it (reference §2.3 step 9).
pub fn name_of_raw_spec(raw: &str) -> String {
    let raw = raw.trim();
    let end = raw
        .find(|c: char| c.is_whitespace() || matches!(c, '>' | '<' | '=' | '!' | '~' | '['))
        .unwrap_or(raw.len());
    raw[..end].to_lowercase()
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Requirement({:?})", self.raw)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for Requirement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Requirement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Requirement::from_stored(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("empty requirement `{raw}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! name_case {
        ($($test:ident: $raw:expr => $name:expr, parsed = $parsed:expr;)*) => {$(
            #[test]
            fn $test() {
                let req = Requirement::parse($raw).expect("non-empty");
                assert_eq!(req.name, $name);
                assert_eq!(req.spec().is_some(), $parsed, "{:?}", req.raw);
            }
        )*};
    }

    name_case! {
        plain_name_parses: "numpy" => "numpy", parsed = true;
        range_spec_parses: "numpy >=1.21,<2.0a0" => "numpy", parsed = true;
        space_separated_version_is_lenient: "python 3.9" => "python", parsed = true;
        build_string_glob_parses: "python 3.12.* *_cpython" => "python", parsed = true;
        uppercase_name_is_normalized: "PyYAML >=5" => "pyyaml", parsed = true;
        compiler_stub_is_a_name: "c_compiler_stub" => "c_compiler_stub", parsed = true;
        bracket_options_parse: "libblas * *openblas" => "libblas", parsed = true;
    }

    #[test]
    fn empty_line_is_not_a_requirement() {
        assert!(Requirement::parse("   ").is_none());
    }

    #[test]
    fn unparseable_spec_keeps_raw_text_and_bot_name() {
        let req = Requirement::parse("foo >=1.0 ((garbage").expect("non-empty");
        assert_eq!(req.name, "foo");
        assert_eq!(req.raw, "foo >=1.0 ((garbage");
    }

    #[test]
    fn serde_round_trip_keeps_raw_text() {
        let req = Requirement::parse("numpy >=1.21").expect("non-empty");
        let json = serde_json::to_string(&req).expect("serialize");
        assert_eq!(json, "\"numpy >=1.21\"");
        let back: Requirement = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, req);
        assert_eq!(
            back.spec().map(ToString::to_string),
            req.spec().map(ToString::to_string)
        );
    }

    #[test]
    fn stored_specs_with_a_channel_keep_the_parsed_name() {
        let back: Requirement =
            serde_json::from_str("\"conda-forge::numpy >=1.21\"").expect("deserialize");
        assert_eq!(back.name, "numpy");
    }
}
