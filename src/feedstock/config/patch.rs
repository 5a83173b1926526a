//! `conda_forge_yml_patches`: dotted-path edits of `conda-forge.yml` (the bot's
//! `_patch_dict`, reference §3.3) that keep every byte outside the changed value.
//!
//! A patch `{"a.b": value}` sets key `b` of the mapping at `a`. The last key is added
//! when missing; a `null` value deletes it. A path whose parent does not exist (or is not
//! a mapping) is not an error: the patch is skipped and reported as a [`PatchWarning`],
//! which the migrator puts in the PR body. Values are written in block style at the
//! indentation of their neighbours (flow style inside a flow mapping). After each patch
//! the text is parsed again and the value read back; a mismatch is a bug
//! ([`PatchError::Internal`]), never a silently wrong file.

use std::fmt;

use crate::recipe::edit::spanned::{self, Lines, Node, Spanned, scalar_token_end};

/// A YAML value of a patch, with scalars kept as written (`1.10` stays `1.10`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchValue {
    /// YAML's null: as the whole value of a patch it deletes the key.
    Null,
    /// A scalar.
    Scalar {
        /// Its text.
        text: String,
        /// True when it was written unquoted (so `true` stays a boolean and `'true'` a
        /// string).
        plain: bool,
    },
    /// A sequence.
    List(Vec<PatchValue>),
    /// A mapping, in order.
    Map(Vec<(String, PatchValue)>),
}

impl PatchValue {
    /// Converts a parsed node (null scalars become [`PatchValue::Null`]).
    pub(crate) fn from_spanned(node: &Spanned) -> PatchValue {
        if node.is_null() {
            return PatchValue::Null;
        }
        match &node.node {
            Node::Scalar { text, plain } => PatchValue::Scalar {
                text: text.clone(),
                plain: *plain,
            },
            Node::Seq { items, .. } => {
                PatchValue::List(items.iter().map(PatchValue::from_spanned).collect())
            }
            Node::Map { entries, .. } => PatchValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap_or_default().to_string(),
                            PatchValue::from_spanned(v),
                        )
                    })
                    .collect(),
            ),
        }
    }
}

/// One patch: a dotted key path and the value to put there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The dotted path (`provider.linux_aarch64`).
    pub path: String,
    /// The value (`Null` deletes the key).
    pub value: PatchValue,
}

/// A patch that was skipped because its path does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchWarning {
    /// The patch's dotted path.
    pub path: String,
    /// The first key of the path that is missing or not a mapping.
    pub missing: String,
}

impl fmt::Display for PatchWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conda-forge.yml: patch `{}` skipped: `{}` is not a mapping in the file",
            self.path, self.missing
        )
    }
}

/// `conda-forge.yml` after the patches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchOutcome {
    /// The new text.
    pub text: String,
    /// Patches skipped because their path does not exist.
    pub warnings: Vec<PatchWarning>,
}

/// Why patches could not be applied at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// The file is not YAML.
    #[error("conda-forge.yml:{line}: not YAML: {message}")]
    NotYaml {
        /// 1-based line of the syntax error.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// The top level is not a mapping.
    #[error("conda-forge.yml: the top level is not a mapping")]
    NotAMapping,
    /// The edit did not produce the intended value (a bug in this module).
    #[error("internal error patching conda-forge.yml at `{path}`: {message}")]
    Internal {
        /// The patch's path.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Applies `patches` in order to the text of `conda-forge.yml` (empty when the file is
/// missing).
pub fn apply_patches(text: &str, patches: &[Patch]) -> Result<PatchOutcome, PatchError> {
    let mut text = text.to_string();
    let mut warnings = Vec::new();
    for patch in patches {
        match apply_one(&text, patch)? {
            Applied::Text(new) => {
                verify(&new, patch)?;
                text = new;
            }
            Applied::Missing(missing) => warnings.push(PatchWarning {
                path: patch.path.clone(),
                missing,
            }),
        }
    }
    Ok(PatchOutcome { text, warnings })
}

enum Applied {
    Text(String),
    Missing(String),
}

fn parse_root(text: &str) -> Result<Option<Spanned>, PatchError> {
    let root = spanned::parse(text).map_err(|e| PatchError::NotYaml {
        line: e.line,
        message: e.message,
    })?;
    match root {
        Some(root) if root.is_null() => Ok(None),
        Some(root) if root.entries().is_none() => Err(PatchError::NotAMapping),
        other => Ok(other),
    }
}

fn apply_one(text: &str, patch: &Patch) -> Result<Applied, PatchError> {
    let root = parse_root(text)?;
    let segments: Vec<&str> = patch.path.split('.').collect();
    let Some((last, parents)) = segments.split_last() else {
        return Ok(Applied::Missing(patch.path.clone()));
    };
    let mut parent = root.as_ref();
    for segment in parents {
        match parent.and_then(|p| p.get(segment)) {
            Some(child) if child.entries().is_some() => parent = Some(child),
            _ => return Ok(Applied::Missing((*segment).to_string())),
        }
    }
    let lines = Lines::new(text);
    match parent {
        None => Ok(Applied::Text(insert_top_level(text, last, &patch.value))),
        Some(map) if !map.is_block_collection() => Ok(Applied::Text(rewrite_flow_map(
            text,
            map,
            last,
            &patch.value,
        ))),
        Some(map) => Ok(Applied::Text(edit_block_map(
            text,
            &lines,
            map,
            last,
            &patch.value,
        ))),
    }
}

/// Adds a key to a document with no mapping yet (empty, or only comments).
fn insert_top_level(text: &str, key: &str, value: &PatchValue) -> String {
    if *value == PatchValue::Null {
        return text.to_string();
    }
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&entry_text(key, value, 0));
    out.push('\n');
    out
}

fn edit_block_map(
    text: &str,
    lines: &Lines<'_>,
    map: &Spanned,
    key: &str,
    value: &PatchValue,
) -> String {
    let entries = map.entries().unwrap_or_default();
    let indent = entries.first().map_or(0, |(k, _)| k.pos.col);
    match map.entry(key) {
        Some((k, v)) => {
            let last_line = lines.block_last_line(k.pos.line, k.pos.col);
            if *value == PatchValue::Null {
                let (start, end) = (lines.start(k.pos.line), lines.end(last_line));
                return splice(text, start, end, "");
            }
            let after_colon = colon_end(text, k).unwrap_or(k.pos.offset);
            let inline = last_line == k.pos.line && v.pos.line == k.pos.line && !v.is_null();
            let end = if inline {
                match &v.node {
                    Node::Scalar { .. } => scalar_token_end(text, v.pos.offset),
                    _ => flow_end(text, v.pos.offset),
                }
            } else {
                lines.start(last_line) + lines.text(last_line).len()
            };
            let child_indent = match &v.node {
                Node::Map {
                    entries,
                    flow: false,
                } => entries.first().map_or(k.pos.col + 2, |(ck, _)| ck.pos.col),
                Node::Seq { flow: false, .. } if v.pos.line > k.pos.line => v.pos.col,
                _ => k.pos.col + 2,
            };
            splice(text, after_colon, end, &value_text(value, child_indent))
        }
        None if *value == PatchValue::Null => text.to_string(),
        None => {
            let last_line = entries.last().map_or(lines.count(), |(k, _)| {
                lines.block_last_line(k.pos.line, k.pos.col)
            });
            let at = lines.end(last_line);
            let mut insert = String::new();
            if at > 0 && !text[..at].ends_with('\n') {
                insert.push('\n');
            }
            insert.push_str(&entry_text(key, value, indent));
            insert.push('\n');
            splice(text, at, at, &insert)
        }
    }
}

/// Rewrites a whole flow mapping (`{a: 1}`) with the key set or removed.
fn rewrite_flow_map(text: &str, map: &Spanned, key: &str, value: &PatchValue) -> String {
    let PatchValue::Map(mut entries) = PatchValue::from_spanned(map) else {
        return text.to_string();
    };
    match entries.iter().position(|(k, _)| k == key) {
        Some(i) if *value == PatchValue::Null => {
            entries.remove(i);
        }
        Some(i) => {
            if let Some(slot) = entries.get_mut(i) {
                slot.1 = value.clone();
            }
        }
        None if *value == PatchValue::Null => {}
        None => entries.push((key.to_string(), value.clone())),
    }
    let start = map.pos.offset;
    let end = flow_end(text, start);
    splice(text, start, end, &flow_text(&PatchValue::Map(entries)))
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = String::with_capacity(text.len() + with.len());
    out.push_str(text.get(..start).unwrap_or_default());
    out.push_str(with);
    out.push_str(text.get(end..).unwrap_or_default());
    out
}

/// The byte offset just past the `:` that follows a mapping key.
fn colon_end(text: &str, key: &Spanned) -> Option<usize> {
    let start = key.pos.offset;
    let rest = text.get(start..)?;
    let skip = if rest.starts_with(['\'', '"']) {
        scalar_token_end(text, start) - start
    } else {
        0
    };
    let line_end = rest.find('\n').unwrap_or(rest.len());
    let search = rest.get(skip..line_end)?;
    let colon = search
        .char_indices()
        .find(|(i, c)| {
            *c == ':'
                && search
                    .get(i + 1..)
                    .is_none_or(|after| after.is_empty() || after.starts_with([' ', '\t', '\r']))
        })
        .map(|(i, _)| i)?;
    Some(start + skip + colon + 1)
}

/// The byte offset just past the bracket closing the flow collection at `start`.
fn flow_end(text: &str, start: usize) -> usize {
    let Some(rest) = text.get(start..) else {
        return text.len();
    };
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return start + i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// `key: value` (possibly several lines), indented by `indent`, without a final newline.
fn entry_text(key: &str, value: &PatchValue, indent: usize) -> String {
    format!(
        "{}{}:{}",
        " ".repeat(indent),
        scalar_text(key, true, false),
        value_text(value, indent + 2)
    )
}

/// What follows a key's colon: ` scalar`, or a newline and a block at `indent`.
fn value_text(value: &PatchValue, indent: usize) -> String {
    match value {
        PatchValue::Map(entries) if !entries.is_empty() => {
            format!("\n{}", block_text(value, indent))
        }
        PatchValue::List(items) if !items.is_empty() => {
            format!("\n{}", block_text(value, indent))
        }
        other => format!(" {}", flow_text(other)),
    }
}

/// A non-empty map or list in block style at `indent`, without a final newline.
fn block_text(value: &PatchValue, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        PatchValue::Map(entries) => entries
            .iter()
            .map(|(k, v)| entry_text(k, v, indent))
            .collect::<Vec<_>>()
            .join("\n"),
        PatchValue::List(items) => items
            .iter()
            .map(|item| match item {
                PatchValue::Map(entries) if !entries.is_empty() => {
                    let block = block_text(item, indent + 2);
                    format!("{pad}- {}", block.trim_start_matches(' '))
                }
                other => format!("{pad}- {}", flow_text(other)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        other => format!("{pad}{}", flow_text(other)),
    }
}

/// A value on one line (flow style for collections).
fn flow_text(value: &PatchValue) -> String {
    match value {
        PatchValue::Null => "null".to_string(),
        PatchValue::Scalar { text, plain } => scalar_text(text, *plain, true),
        PatchValue::List(items) => format!(
            "[{}]",
            items.iter().map(flow_text).collect::<Vec<_>>().join(", ")
        ),
        PatchValue::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar_text(k, true, true), flow_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A scalar as YAML: plain when it was plain and stays unambiguous here, else quoted
/// (single quotes, or double quotes when it holds control characters).
fn scalar_text(text: &str, plain: bool, in_flow: bool) -> String {
    let flow_unsafe = in_flow && text.contains([',', '[', ']', '{', '}']);
    let unsafe_plain = text.is_empty()
        || text.starts_with([
            ' ', '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"',
            '%', '@', '`',
        ])
        || text.ends_with([' ', ':'])
        || text.contains(": ")
        || text.contains(" #")
        || text.contains(['\n', '\r', '\t']);
    let safe = !unsafe_plain || is_plain_special(text);
    if plain && !flow_unsafe && safe {
        return text.to_string();
    }
    if text.chars().any(char::is_control) {
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        return out;
    }
    format!("'{}'", text.replace('\'', "''"))
}

/// Plain scalars that look unsafe but were plain in the source and mean themselves
/// (`-1`, `-` alone is not one of them).
fn is_plain_special(text: &str) -> bool {
    text.len() > 1 && text.starts_with('-') && text[1..].parse::<f64>().is_ok()
}

/// Reads the patched value back and compares it with the patch.
fn verify(text: &str, patch: &Patch) -> Result<(), PatchError> {
    let internal = |message: String| PatchError::Internal {
        path: patch.path.clone(),
        message,
    };
    let root = parse_root(text).map_err(|e| internal(format!("the result does not parse: {e}")))?;
    let mut node = root.as_ref();
    let segments: Vec<&str> = patch.path.split('.').collect();
    for segment in &segments {
        node = node.and_then(|n| n.get(segment));
    }
    let found = node.map(PatchValue::from_spanned);
    let expected = match &patch.value {
        PatchValue::Null => None,
        other => Some(other.clone()),
    };
    if found == expected {
        Ok(())
    } else {
        Err(internal(format!(
            "read back {found:?}, expected {expected:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(text: &str) -> PatchValue {
        PatchValue::Scalar {
            text: text.to_string(),
            plain: true,
        }
    }

    fn patch(path: &str, value: PatchValue) -> Patch {
        Patch {
            path: path.to_string(),
            value,
        }
    }

    fn apply(text: &str, patches: &[Patch]) -> PatchOutcome {
        apply_patches(text, patches).unwrap()
    }

    #[test]
    fn an_existing_scalar_changes_and_its_comment_stays() {
        let text = "# head\nbot:\n  automerge: false  # why\nprovider:\n  linux_64: azure\n";
        let out = apply(text, &[patch("bot.automerge", scalar("true"))]);
        assert_eq!(
            out.text,
            text.replace("automerge: false", "automerge: true")
        );
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn a_missing_key_is_added_at_the_indentation_of_its_siblings() {
        let text =
            "provider:\n    linux_64: azure\n    # note\nbuild_platform:\n  osx_arm64: osx_64\n";
        let out = apply(text, &[patch("provider.linux_aarch64", scalar("default"))]);
        assert_eq!(
            out.text,
            "provider:\n    linux_64: azure\n    linux_aarch64: default\n    # note\nbuild_platform:\n  osx_arm64: osx_64\n"
        );
    }

    #[test]
    fn a_missing_parent_is_a_warning_not_an_error() {
        let text = "bot:\n  automerge: true\n";
        let out = apply(text, &[patch("azure.settings.pool", scalar("x"))]);
        assert_eq!(out.text, text);
        assert_eq!(out.warnings[0].missing, "azure");
        assert!(out.warnings[0].to_string().contains("azure.settings.pool"));
    }

    #[test]
    fn null_deletes_a_key_with_its_block() {
        let text = "a: 1\nos_version:\n  linux_64: cos7\n  linux_aarch64: cos7\nb: 2\n";
        let out = apply(text, &[patch("os_version", PatchValue::Null)]);
        assert_eq!(out.text, "a: 1\nb: 2\n");
    }

    #[test]
    fn a_block_value_replaces_a_scalar_and_vice_versa() {
        let text = "noarch_platforms:\n- linux_64\n- win_64\nx: 1\n";
        let out = apply(
            text,
            &[
                patch("x", PatchValue::List(vec![scalar("a"), scalar("1.10")])),
                patch("noarch_platforms", scalar("linux_64")),
            ],
        );
        assert_eq!(
            out.text,
            "noarch_platforms: linux_64\nx:\n  - a\n  - 1.10\n"
        );
    }

    #[test]
    fn flow_mappings_are_rewritten_in_flow_style() {
        let text = "provider: {linux_64: azure}  # keep\n";
        let out = apply(text, &[patch("provider.win_64", scalar("default"))]);
        assert_eq!(
            out.text,
            "provider: {linux_64: azure, win_64: default}  # keep\n"
        );
    }

    #[test]
    fn quoted_strings_stay_strings_and_empty_files_get_keys() {
        let out = apply(
            "",
            &[patch(
                "github",
                PatchValue::Map(vec![(
                    "branch_name".to_string(),
                    PatchValue::Scalar {
                        text: "true".to_string(),
                        plain: false,
                    },
                )]),
            )],
        );
        assert_eq!(out.text, "github:\n  branch_name: 'true'\n");
    }

    #[test]
    fn a_file_that_is_not_a_mapping_is_an_error() {
        assert_eq!(
            apply_patches("- a\n", &[patch("a", scalar("1"))]),
            Err(PatchError::NotAMapping)
        );
        assert!(matches!(
            apply_patches("a: [\n", &[patch("a", scalar("1"))]),
            Err(PatchError::NotYaml { .. })
        ));
    }
}
