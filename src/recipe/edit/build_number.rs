//! Bumping the build number of a recipe, changing only the digits.
//!
//! v0 (`meta.yaml`, Jinja text): the bot's three line patterns (reference §3.1), each
//! applied to every line: `number: N`, `{% set build_number = N %}` and
//! `{% set build = N %}` (the value may be quoted in the `set` forms). Unlike the bot,
//! which rewrites the whole matched line and so drops a trailing `# [selector]` or
//! comment, only the digits change.
//!
//! When none of the patterns matches, the variable that `number: {{ name }}` refers to is
//! bumped where it is set (`{% set build_num = 2 %}`, as zlib, blas and lapack write it):
//! the bot leaves such recipes unbumped.
//!
//! v1 (`recipe.yaml`, YAML): the first `context` key named `build_number`, `build` or
//! `number` whose value is a number; when there is none, `build.number` and every
//! `outputs[].build.number` that are numbers. Templated values (`${{ ... }}`) are left
//! alone: they follow the context.

use std::sync::LazyLock;

use regex::Regex;

use crate::recipe::RecipeFormat;

use super::EditError;
use super::spanned::{self, Spanned, scalar_token_end};

/// One number that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberChange {
    /// 1-based line of the number.
    pub line: usize,
    /// The value before.
    pub old: u64,
    /// The value after.
    pub new: u64,
}

/// The recipe after a build-number bump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildNumberEdit {
    /// The new recipe text: the input with only the bumped digits changed.
    pub text: String,
    /// Every number that changed, in file order (empty when `bump` is 0).
    pub changes: Vec<NumberChange>,
}

/// The v0 patterns, as the bot writes them; capture group 1 is the number.
static V0_PATTERNS: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [
        r"^\s*number:\s*([0-9]+)",
        r#"^\s*\{%\s*set build_number\s*=\s*"?([0-9]+)"?\s*%\}"#,
        r#"^\s*\{%\s*set build\s*=\s*"?([0-9]+)"?\s*%\}"#,
    ]
    .map(|p| Regex::new(p).unwrap_or_else(|_| unreachable!("static pattern")))
});

/// Adds `bump` to the build number(s) of a recipe text. Fails when the recipe has no
/// build number the bot would bump (and `bump` is not 0), or when a v1 recipe is not
/// YAML.
pub fn bump_build_number(
    format: RecipeFormat,
    text: &str,
    bump: u64,
) -> Result<BuildNumberEdit, EditError> {
    let spans = match format {
        RecipeFormat::V0 => v0_numbers(text),
        RecipeFormat::V1 => v1_numbers(text)?,
    };
    if spans.is_empty() {
        return Err(EditError::NoBuildNumber { format });
    }
    if bump == 0 {
        return Ok(BuildNumberEdit {
            text: text.to_string(),
            changes: Vec::new(),
        });
    }
    apply(text, &spans, bump)
}

/// Sets the build number(s) that [`bump_build_number`] would bump to `value` (a version
/// update resets them to 0). Fails, like a bump, when the recipe has no build number.
pub fn set_build_number(
    format: RecipeFormat,
    text: &str,
    value: u64,
) -> Result<BuildNumberEdit, EditError> {
    let spans = match format {
        RecipeFormat::V0 => v0_numbers(text),
        RecipeFormat::V1 => v1_numbers(text)?,
    };
    if spans.is_empty() {
        return Err(EditError::NoBuildNumber { format });
    }
    rewrite(text, &spans, |_| Some(value))
}

/// A number found in the text: its byte range (digits only) and line.
#[derive(Debug, Clone, Copy)]
struct NumberSpan {
    start: usize,
    end: usize,
    line: usize,
}

/// `number: {{ name }}` (possibly quoted): the variable a v0 build number is set from.
static V0_NUMBER_VAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*number:\s*["']?\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}"#)
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

/// `{% set name = N %}` for any name; group 1 is the name, group 2 the number.
static V0_SET_ANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^\s*\{%-?\s*set\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?([0-9]+)"?\s*-?%\}"#)
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

fn v0_numbers(text: &str) -> Vec<NumberSpan> {
    let spans = v0_bot_numbers(text);
    if !spans.is_empty() {
        return spans;
    }
    let vars: Vec<&str> = text
        .lines()
        .filter_map(|l| V0_NUMBER_VAR.captures(l).and_then(|c| c.get(1)))
        .map(|m| m.as_str())
        .collect();
    let mut offset = 0;
    let mut found = Vec::new();
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(c) = V0_SET_ANY.captures(line)
            && let (Some(name), Some(digits)) = (c.get(1), c.get(2))
            && vars.contains(&name.as_str())
        {
            found.push(NumberSpan {
                start: offset + digits.start(),
                end: offset + digits.end(),
                line: index + 1,
            });
        }
        offset += raw.len();
    }
    found
}

fn v0_bot_numbers(text: &str) -> Vec<NumberSpan> {
    let mut spans = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        for pattern in V0_PATTERNS.iter() {
            if let Some(digits) = pattern.captures(line).and_then(|c| c.get(1)) {
                spans.push(NumberSpan {
                    start: offset + digits.start(),
                    end: offset + digits.end(),
                    line: index + 1,
                });
                break;
            }
        }
        offset += raw.len();
    }
    spans
}

fn v1_numbers(text: &str) -> Result<Vec<NumberSpan>, EditError> {
    let root = spanned::parse(text)
        .map_err(|e| EditError::Yaml {
            line: e.line,
            message: e.message,
        })?
        .unwrap_or(Spanned {
            pos: spanned::Pos::default(),
            node: spanned::Node::Map {
                entries: Vec::new(),
                flow: false,
            },
        });
    let number = |node: &Spanned| number_span(text, node);
    if let Some(context) = root.get("context").and_then(Spanned::entries) {
        let first = context
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), Some("build_number" | "build" | "number")))
            .find_map(|(_, v)| number(v));
        if let Some(span) = first {
            return Ok(vec![span]);
        }
    }
    let mut spans = Vec::new();
    if let Some(span) = root
        .get("build")
        .and_then(|b| b.get("number"))
        .and_then(number)
    {
        spans.push(span);
    }
    if let Some(spanned::Node::Seq { items, .. }) = root.get("outputs").map(|o| &o.node) {
        spans.extend(
            items
                .iter()
                .filter_map(|o| o.get("build").and_then(|b| b.get("number")))
                .filter_map(number),
        );
    }
    Ok(spans)
}

/// The digits of a scalar that is a non-negative integer (plain or quoted).
fn number_span(text: &str, node: &Spanned) -> Option<NumberSpan> {
    let value = node.as_str()?;
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let start = node.pos.offset;
    let token = text.get(start..scalar_token_end(text, start))?;
    let digits_at = token.find(value)?;
    Some(NumberSpan {
        start: start + digits_at,
        end: start + digits_at + value.len(),
        line: node.pos.line,
    })
}

fn apply(text: &str, spans: &[NumberSpan], bump: u64) -> Result<BuildNumberEdit, EditError> {
    rewrite(text, spans, |old| old.checked_add(bump))
}

/// Replaces each number by `new(old)`; numbers that stay the same are not changes.
fn rewrite(
    text: &str,
    spans: &[NumberSpan],
    new: impl Fn(u64) -> Option<u64>,
) -> Result<BuildNumberEdit, EditError> {
    let mut spans = spans.to_vec();
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len() + 4);
    let mut changes = Vec::with_capacity(spans.len());
    let mut cursor = 0;
    for span in spans {
        let digits = text.get(span.start..span.end).unwrap_or_default();
        let old: u64 = digits.parse().map_err(|_| EditError::NotANumber {
            line: span.line,
            value: digits.to_string(),
        })?;
        let new = new(old).ok_or(EditError::NotANumber {
            line: span.line,
            value: digits.to_string(),
        })?;
        if new == old {
            continue;
        }
        out.push_str(text.get(cursor..span.start).unwrap_or_default());
        out.push_str(&new.to_string());
        cursor = span.end;
        changes.push(NumberChange {
            line: span.line,
            old,
            new,
        });
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    Ok(BuildNumberEdit { text: out, changes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bump(format: RecipeFormat, text: &str) -> String {
        bump_build_number(format, text, 1).unwrap().text
    }

    #[test]
    fn v0_number_lines_keep_their_selectors_and_comments() {
        let text = "build:\n  number: 3  # [win]\n  number: 0  # [not win]\n  skip: true\n";
        assert_eq!(
            bump(RecipeFormat::V0, text),
            "build:\n  number: 4  # [win]\n  number: 1  # [not win]\n  skip: true\n"
        );
    }

    #[test]
    fn v0_set_statements_are_bumped_with_their_quotes() {
        let text = "{% set build_number = \"7\" %}\n{% set build = 2 %}\nbuild:\n  number: {{ build_number }}\n";
        let edit = bump_build_number(RecipeFormat::V0, text, 2).unwrap();
        assert_eq!(
            edit.text,
            "{% set build_number = \"9\" %}\n{% set build = 4 %}\nbuild:\n  number: {{ build_number }}\n"
        );
        assert_eq!(edit.changes.len(), 2);
        assert_eq!(edit.changes[0].line, 1);
    }

    #[test]
    fn v0_follows_the_variable_the_build_number_is_set_from() {
        let text = "{% set build_num = 2 %}\nbuild:\n  number: {{ build_num }}\nreqs:\n  - zlib *_{{ build_num }}\n";
        assert_eq!(
            bump(RecipeFormat::V0, text),
            text.replace("build_num = 2", "build_num = 3")
        );
    }

    #[test]
    fn v0_other_number_keys_are_not_build_numbers() {
        let text = "build:\n  build_number: 3\n  - number: 2\n";
        assert!(matches!(
            bump_build_number(RecipeFormat::V0, text, 1),
            Err(EditError::NoBuildNumber { .. })
        ));
    }

    #[test]
    fn v1_context_build_number_wins_over_build_number_fields() {
        let text = "context:\n  version: 1.0\n  build: 9  # keep\n  build_number: ${{ build + 100 }}\nbuild:\n  number: ${{ build_number }}\n";
        assert_eq!(
            bump(RecipeFormat::V1, text),
            text.replace("build: 9", "build: 10")
        );
    }

    #[test]
    fn v1_build_and_output_numbers_are_bumped_together() {
        let text = "build:\n  number: '2'\noutputs:\n  - package:\n      name: a\n    build:\n      number: 2 # same\n  - package:\n      name: b\n";
        let edit = bump_build_number(RecipeFormat::V1, text, 1).unwrap();
        assert_eq!(
            edit.text,
            text.replace("'2'", "'3'")
                .replace("number: 2 #", "number: 3 #")
        );
        assert_eq!(edit.changes.len(), 2);
    }

    #[test]
    fn setting_the_build_number_resets_every_number_a_bump_would_change() {
        let text = "{% set build = 100 %}\nbuild:\n  number: {{ build }}  # [win]\n  number: 0  # [not win]\n";
        let edit = set_build_number(RecipeFormat::V0, text, 0).unwrap();
        assert_eq!(edit.text, text.replace("build = 100", "build = 0"));
        assert_eq!(edit.changes.len(), 1);
        let v1 = "context:\n  build_number: 7\nbuild:\n  number: ${{ build_number }}\n";
        let edit = set_build_number(RecipeFormat::V1, v1, 0).unwrap();
        assert_eq!(edit.text, v1.replace("7", "0"));
    }

    #[test]
    fn a_bump_of_zero_changes_nothing_but_still_needs_a_build_number() {
        let text = "build:\n  number: 5\n";
        let edit = bump_build_number(RecipeFormat::V1, text, 0).unwrap();
        assert_eq!(edit.text, text);
        assert!(edit.changes.is_empty());
    }
}
