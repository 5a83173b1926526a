//! Text-preserving edits of `conda-forge.yml`: set one scalar at a key path
//! (`provider.linux_aarch64`, `build_platform.osx_arm64`, `test`) and change nothing else.
//!
//! The file is edited as text, line by line, the way rattler-build's `bump-recipe` edits
//! recipes: comments, key order, quoting, flow mappings (`provider: {win: azure}`) and line
//! endings stay as written; only the value's own token changes, or one entry is inserted.
//! A new key goes before the first greater sibling when the siblings are sorted (the
//! order conda-smithy writes), else after the last sibling. Every edit is verified by
//! parsing the old and the new text: the new document must equal the old one with exactly
//! that value set, or the edit is refused as an internal error.
//!
//! Supported shapes: block mappings at any depth, single-line flow mappings as the last
//! mapping of the path, absent keys and empty (`null`) values. Block scalars, multi-line
//! flow collections, anchors and lists on the path are refused with the line to edit by
//! hand. Patching arbitrary values (lists, nested maps) is `patch.rs`'s business.

use serde_json::Value;

/// Why an edit of `conda-forge.yml` was not made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The text (before the edit) is not YAML, or its top level is not a mapping.
    #[error("conda-forge.yml is not a YAML mapping: {message}")]
    NotAMapping {
        /// The parser's message.
        message: String,
    },
    /// The path runs through a value this editor does not rewrite.
    #[error("conda-forge.yml:{line}: cannot set `{path}`: {reason}")]
    Unsupported {
        /// The dotted path being set.
        path: String,
        /// 1-based line of the value in the way.
        line: usize,
        /// What is there.
        reason: String,
    },
    /// The edited text does not parse to the intended document (a bug in this module).
    #[error("internal error: setting `{path}` would not give the intended document: {message}")]
    Internal {
        /// The dotted path being set.
        path: String,
        /// What differed.
        message: String,
    },
}

/// Sets the scalar at `path` (`["provider", "linux_aarch64"]`) to `value`, creating the
/// missing mappings on the way. Returns the new text; it equals `text` when the value
/// was already set. `value` is written plain when YAML reads it back as the same string,
/// single-quoted otherwise.
pub fn set_scalar(text: &str, path: &[&str], value: &str) -> Result<String, EditError> {
    let dotted = path.join(".");
    let old = parse(text)?;
    let token = scalar_token(value);
    let doc = Document::new(text);
    let edit = doc
        .plan(path, &token)
        .map_err(|(line, reason)| EditError::Unsupported {
            path: dotted.clone(),
            line,
            reason,
        })?;
    let new_text = match edit {
        None => return Ok(text.to_string()),
        Some((at, remove, insert)) => {
            let mut out = String::with_capacity(text.len() + insert.len());
            out.push_str(text.get(..at).unwrap_or_default());
            out.push_str(&insert);
            out.push_str(text.get(at + remove..).unwrap_or_default());
            out
        }
    };
    let internal = |message: String| EditError::Internal {
        path: dotted.clone(),
        message,
    };
    let new = parse(&new_text).map_err(|e| internal(e.to_string()))?;
    let mut expected = old;
    set_value(&mut expected, path, Value::String(value.to_string()));
    if new != expected {
        return Err(internal(format!("got {new}, expected {expected}")));
    }
    Ok(new_text)
}

fn parse(text: &str) -> Result<Value, EditError> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    let value: Option<Value> =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| EditError::NotAMapping {
            message: e.to_string(),
        })?;
    match value {
        None | Some(Value::Null) => Ok(Value::Object(serde_json::Map::new())),
        Some(value @ Value::Object(_)) => Ok(value),
        Some(_) => Err(EditError::NotAMapping {
            message: "the top level is a scalar or a list".to_string(),
        }),
    }
}

fn set_value(doc: &mut Value, path: &[&str], leaf: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = doc;
    for key in parents {
        if !current.is_object() {
            *current = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = current else { return };
        current = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    if !current.is_object() {
        *current = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = current {
        map.insert(last.to_string(), leaf);
    }
}

/// `value` as a YAML scalar that reads back as the same string.
fn scalar_token(value: &str) -> String {
    let plain = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// A token as YAML reads it, for comparing with the wanted value (simple quoting only).
fn unquote(token: &str) -> String {
    let token = token.trim();
    if let Some(inner) = token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        inner.replace("''", "'")
    } else if let Some(inner) = token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        inner.to_string()
    } else {
        token.to_string()
    }
}

/// One physical line: its byte offset, its text without the line ending, and the offset
/// just past its line ending.
struct Line<'a> {
    start: usize,
    text: &'a str,
    end: usize,
}

impl Line<'_> {
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }

    /// Not blank, not a comment, not a document marker.
    fn is_content(&self) -> bool {
        let t = self.text.trim();
        !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
    }

    fn is_comment(&self) -> bool {
        self.text.trim_start().starts_with('#')
    }

    /// `(key, byte offset of the text after the colon)` when the line is `key: ...`.
    fn entry(&self) -> Option<(String, usize)> {
        let body = &self.text[self.indent()..];
        if body.starts_with('-') || body.starts_with('#') {
            return None;
        }
        let (key, rest) =
            if let Some(quote) = body.chars().next().filter(|c| *c == '"' || *c == '\'') {
                let close = body[1..].find(quote)? + 1;
                (&body[1..close], body[close + 1..].strip_prefix(':')?)
            } else {
                let colon = body
                    .match_indices(':')
                    .map(|(i, _)| i)
                    .find(|i| matches!(body[i + 1..].chars().next(), None | Some(' ' | '\t')))?;
                (&body[..colon], &body[colon + 1..])
            };
        let after = self.text.len() - rest.len();
        Some((key.trim().to_string(), after))
    }
}

/// The value part of an entry line: its token (comment stripped) and where it starts.
fn value_token(text: &str, after_colon: usize) -> (usize, &str) {
    let rest = &text[after_colon..];
    let lead = rest.len() - rest.trim_start().len();
    let rest = &rest[lead..];
    let end = if rest.starts_with('\'') || rest.starts_with('"') {
        let quote = rest.chars().next().unwrap_or('"');
        rest[1..].find(quote).map_or(rest.len(), |i| i + 2)
    } else {
        rest.match_indices('#')
            .map(|(i, _)| i)
            .find(|i| *i == 0 || rest[..*i].ends_with([' ', '\t']))
            .unwrap_or(rest.len())
    };
    (after_colon + lead, rest[..end].trim_end())
}

/// An edit: replace `remove` bytes at `at` with the text.
type Splice = (usize, usize, String);
/// Why the path cannot be edited: the 1-based line and the reason.
type Refusal = (usize, String);

struct Document<'a> {
    text: &'a str,
    lines: Vec<Line<'a>>,
    eol: &'static str,
    unit: usize,
}

impl<'a> Document<'a> {
    fn new(text: &'a str) -> Document<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        for piece in text.split_inclusive('\n') {
            let body = piece.strip_suffix('\n').unwrap_or(piece);
            let body = body.strip_suffix('\r').unwrap_or(body);
            lines.push(Line {
                start,
                text: body,
                end: start + piece.len(),
            });
            start += piece.len();
        }
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let unit = lines
            .iter()
            .filter(|l| l.is_content() && l.entry().is_some())
            .map(Line::indent)
            .filter(|i| *i > 0)
            .min()
            .unwrap_or(2);
        Document {
            text,
            lines,
            eol,
            unit,
        }
    }

    /// The splice that sets `path` to `token`, or `None` when it already has that value.
    fn plan(&self, path: &[&str], token: &str) -> Result<Option<Splice>, Refusal> {
        let mut range = 0..self.lines.len();
        let mut indent = range
            .clone()
            .find(|i| self.lines[*i].is_content())
            .map_or(0, |i| self.lines[i].indent());
        for (depth, key) in path.iter().enumerate() {
            let rest = &path[depth..];
            let Some(i) = self.find(range.clone(), indent, key) else {
                return Ok(Some(self.insert(range, indent, rest, token)));
            };
            let line = &self.lines[i];
            let (_, after) = line.entry().unwrap_or_default();
            let (at, value) = value_token(line.text, after);
            let block_end = self.block_end(i, indent);
            let children = (i + 1..block_end).find(|j| self.lines[*j].is_content());
            let number = i + 1;
            if depth + 1 == path.len() {
                return match value {
                    "" if children.is_some() => {
                        Err((number, "the value is a mapping or a list".to_string()))
                    }
                    "" => Ok(Some((line.start + after, 0, format!(" {token}")))),
                    v if v.starts_with(['{', '[', '|', '>', '&', '*', '!']) => {
                        Err((number, format!("the value `{v}` is not a plain scalar")))
                    }
                    v if unquote(v) == unquote(token) => Ok(None),
                    v => Ok(Some((line.start + at, v.len(), token.to_string()))),
                };
            }
            match value {
                "" => match children {
                    None => {
                        let nested = self.nested(&path[depth + 1..], indent + self.unit, token);
                        return Ok(Some(self.after(i, nested)));
                    }
                    Some(first) if self.lines[first].entry().is_some() => {
                        indent = self.lines[first].indent();
                        range = i + 1..block_end;
                    }
                    Some(first) => {
                        return Err((first + 1, format!("`{key}` is not a mapping")));
                    }
                },
                v if v.starts_with('{') && depth + 2 == path.len() => {
                    return self
                        .flow(line, at, v, path[depth + 1], token)
                        .map_err(|reason| (number, reason));
                }
                v => {
                    return Err((number, format!("`{key}` is `{v}`, not a block mapping")));
                }
            }
        }
        Ok(None)
    }

    /// The last entry `key` at exactly `indent` in `range` (the one YAML keeps).
    fn find(&self, range: std::ops::Range<usize>, indent: usize, key: &str) -> Option<usize> {
        range.rev().find(|i| {
            let line = &self.lines[*i];
            line.is_content()
                && line.indent() == indent
                && line.entry().is_some_and(|(k, _)| k == key)
        })
    }

    /// The line after the block of the entry at `i`.
    fn block_end(&self, i: usize, indent: usize) -> usize {
        (i + 1..self.lines.len())
            .find(|j| {
                let line = &self.lines[*j];
                line.is_content()
                    && (line.indent() < indent
                        || (line.indent() == indent && !line.text.trim_start().starts_with('-')))
            })
            .unwrap_or(self.lines.len())
    }

    /// Lines for `path` (nested mappings ending in the scalar) at `indent`.
    fn nested(&self, path: &[&str], indent: usize, token: &str) -> String {
        let mut out = String::new();
        for (depth, key) in path.iter().enumerate() {
            let pad = " ".repeat(indent + depth * self.unit);
            let key = scalar_token(key);
            if depth + 1 == path.len() {
                out.push_str(&format!("{pad}{key}: {token}{}", self.eol));
            } else {
                out.push_str(&format!("{pad}{key}:{}", self.eol));
            }
        }
        out
    }

    /// Inserts `path[0]` (and what is below it) into the mapping at `indent` in `range`.
    fn insert(
        &self,
        range: std::ops::Range<usize>,
        indent: usize,
        path: &[&str],
        token: &str,
    ) -> Splice {
        let text = self.nested(path, indent, token);
        let entries: Vec<(String, usize)> = range
            .clone()
            .filter(|i| self.lines[*i].is_content() && self.lines[*i].indent() == indent)
            .filter_map(|i| self.lines[i].entry().map(|(k, _)| (k, i)))
            .collect();
        let sorted = entries.windows(2).all(|w| w[0].0 <= w[1].0);
        let next = entries
            .iter()
            .find(|(k, _)| k.as_str() > path[0])
            .filter(|_| sorted);
        if let Some(&(_, mut i)) = next {
            // Keep the comment lines right above the next key with that key.
            while i > range.start && self.lines[i - 1].is_comment() {
                i -= 1;
            }
            return (self.lines[i].start, 0, text);
        }
        let last = range.clone().rev().find(|i| self.lines[*i].is_content());
        match last {
            Some(i) => self.after(i, text),
            None if self.text.is_empty() || self.text.ends_with('\n') => (self.text.len(), 0, text),
            None => (self.text.len(), 0, format!("{}{text}", self.eol)),
        }
    }

    /// Inserts `text` after line `i`, giving that line an ending first when it is the
    /// last line of a file that does not end with one.
    fn after(&self, i: usize, text: String) -> Splice {
        let line = &self.lines[i];
        if line.end == line.start + line.text.len() {
            (line.end, 0, format!("{}{text}", self.eol))
        } else {
            (line.end, 0, text)
        }
    }

    /// Sets `key` inside the single-line flow mapping `value` (starting at byte `at`).
    fn flow(
        &self,
        line: &Line<'_>,
        at: usize,
        value: &str,
        key: &str,
        token: &str,
    ) -> Result<Option<Splice>, String> {
        let inner = value
            .strip_prefix('{')
            .and_then(|v| v.strip_suffix('}'))
            .ok_or_else(|| "the flow mapping spans several lines".to_string())?;
        if inner.contains(['{', '[', '"', '\'']) {
            return Err("the flow mapping has nested or quoted values".to_string());
        }
        let base = line.start + at + 1;
        // (key, start of the entry's text, end of the entry's text), offsets into `inner`.
        let mut entries = Vec::new();
        let mut offset = 0;
        for part in inner.split(',') {
            let lead = part.len() - part.trim_start().len();
            let trimmed = part.trim();
            if !trimmed.is_empty() {
                let name = trimmed.split(':').next().unwrap_or_default().trim();
                entries.push((name, offset + lead, offset + lead + trimmed.len()));
            }
            offset += part.len() + 1;
        }
        if let Some((_, start, end)) = entries.iter().rev().find(|(k, _, _)| *k == key) {
            let entry = &inner[*start..*end];
            let colon = entry.find(':').unwrap_or(entry.len());
            let current = entry.get(colon + 1..).unwrap_or_default().trim();
            if unquote(current) == unquote(token) {
                return Ok(None);
            }
            let from = base + start + colon.min(entry.len());
            return Ok(Some((
                from,
                end - start - colon.min(entry.len()),
                format!(": {token}"),
            )));
        }
        let new = format!("{}: {token}", scalar_token(key));
        let sorted = entries.windows(2).all(|w| w[0].0 <= w[1].0);
        let next = entries.iter().find(|(k, _, _)| *k > key).filter(|_| sorted);
        Ok(Some(match (next, entries.last()) {
            (Some((_, start, _)), _) => (base + start, 0, format!("{new}, ")),
            (None, Some((_, _, end))) => (base + end, 0, format!(", {new}")),
            (None, None) => (base, inner.len(), new),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(text: &str, path: &str, value: &str) -> String {
        let path: Vec<&str> = path.split('.').collect();
        set_scalar(text, &path, value).unwrap()
    }

    #[test]
    fn a_missing_key_goes_into_a_sorted_block_mapping_in_order() {
        let text = "build_platform:\n  linux_ppc64le: linux_64\nconda_build:\n  pkg_format: '2'\nprovider:\n  linux_ppc64le: default  # keep\n  osx_arm64: default\ntest: native_and_emulated\n";
        assert_eq!(
            set(text, "provider.linux_aarch64", "default"),
            "build_platform:\n  linux_ppc64le: linux_64\nconda_build:\n  pkg_format: '2'\nprovider:\n  linux_aarch64: default\n  linux_ppc64le: default  # keep\n  osx_arm64: default\ntest: native_and_emulated\n"
        );
    }

    #[test]
    fn a_missing_mapping_is_created_between_sorted_top_level_keys() {
        let text = "# header\nbuild_platform:\n  osx_arm64: osx_64\n\n# the conda-build options\nconda_build:\n  pkg_format: '2'\ntest: native\n";
        assert_eq!(
            set(text, "provider.linux_aarch64", "default"),
            "# header\nbuild_platform:\n  osx_arm64: osx_64\n\n# the conda-build options\nconda_build:\n  pkg_format: '2'\nprovider:\n  linux_aarch64: default\ntest: native\n"
        );
    }

    #[test]
    fn unsorted_mappings_get_the_new_key_at_their_end() {
        let text = "build_platform:\n  osx_arm64: osx_64\n  linux_aarch64: linux_64\nconda_install_tool: pixi\nconda_build_tool: rattler-build\n";
        assert_eq!(
            set(text, "build_platform.win_arm64", "win_64"),
            "build_platform:\n  osx_arm64: osx_64\n  linux_aarch64: linux_64\n  win_arm64: win_64\nconda_install_tool: pixi\nconda_build_tool: rattler-build\n"
        );
        assert_eq!(
            set(text, "test", "native_and_emulated"),
            "build_platform:\n  osx_arm64: osx_64\n  linux_aarch64: linux_64\nconda_install_tool: pixi\nconda_build_tool: rattler-build\ntest: native_and_emulated\n"
        );
    }

    #[test]
    fn flow_mappings_keep_their_style() {
        assert_eq!(
            set(
                "provider: {linux_aarch64: azure, win: azure}\n",
                "provider.linux_ppc64le",
                "default"
            ),
            "provider: {linux_aarch64: azure, linux_ppc64le: default, win: azure}\n"
        );
        assert_eq!(
            set(
                "build_platform: {osx_arm64: osx_64}  # cross\n",
                "build_platform.win_arm64",
                "win_64"
            ),
            "build_platform: {osx_arm64: osx_64, win_arm64: win_64}  # cross\n"
        );
        assert_eq!(
            set("provider: {}\n", "provider.linux_aarch64", "default"),
            "provider: {linux_aarch64: default}\n"
        );
        assert_eq!(
            set(
                "provider: {linux_aarch64: azure}\n",
                "provider.linux_aarch64",
                "default"
            ),
            "provider: {linux_aarch64: default}\n"
        );
    }

    #[test]
    fn an_existing_value_is_replaced_in_place_and_an_equal_one_is_left_alone() {
        let text = "test: native  # only native\nprovider:\n  linux_aarch64: 'default'\n";
        assert_eq!(
            set(text, "test", "native_and_emulated"),
            "test: native_and_emulated  # only native\nprovider:\n  linux_aarch64: 'default'\n"
        );
        assert_eq!(set(text, "provider.linux_aarch64", "default"), text);
    }

    #[test]
    fn empty_files_values_and_files_without_a_final_newline_are_handled() {
        assert_eq!(set("", "test", "native"), "test: native\n");
        assert_eq!(
            set(
                "github:\n  branch_name: main",
                "provider.osx_arm64",
                "default"
            ),
            "github:\n  branch_name: main\nprovider:\n  osx_arm64: default\n"
        );
        assert_eq!(
            set("provider:\ntest: all\n", "provider.osx_arm64", "default"),
            "provider:\n  osx_arm64: default\ntest: all\n"
        );
        assert_eq!(set("test:\n", "test", "native"), "test: native\n");
    }

    #[test]
    fn windows_line_endings_are_kept() {
        assert_eq!(
            set(
                "provider:\r\n  win: azure\r\n",
                "provider.linux_aarch64",
                "default"
            ),
            "provider:\r\n  linux_aarch64: default\r\n  win: azure\r\n"
        );
    }

    #[test]
    fn values_that_are_not_mappings_are_refused_with_their_line() {
        let err = set_scalar("a: 1\nprovider: azure\n", &["provider", "x"], "y").unwrap_err();
        assert!(
            matches!(&err, EditError::Unsupported { line: 2, .. }),
            "{err}"
        );
        let err = set_scalar("provider:\n  - azure\n", &["provider", "x"], "y").unwrap_err();
        assert!(
            matches!(&err, EditError::Unsupported { line: 2, .. }),
            "{err}"
        );
        let err = set_scalar("- a\n", &["test"], "y").unwrap_err();
        assert!(matches!(err, EditError::NotAMapping { .. }));
    }

    #[test]
    fn ambiguous_values_are_quoted() {
        assert_eq!(set("", "x", "1.10"), "x: '1.10'\n");
        assert_eq!(set("", "x", "yes"), "x: 'yes'\n");
    }

    #[test]
    fn every_real_conda_forge_yml_takes_the_architecture_edits() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feedstocks");
        if !root.is_dir() {
            eprintln!("skipping: {} is absent", root.display());
            return;
        }
        let edits: [(&[&str], &str); 4] = [
            (&["provider", "linux_aarch64"], "default"),
            (&["provider", "linux_ppc64le"], "default"),
            (&["build_platform", "win_arm64"], "win_64"),
            (&["test"], "native_and_emulated"),
        ];
        let (mut edited, mut failures) = (0, Vec::new());
        for entry in fs_err::read_dir(&root).unwrap() {
            let Ok(text) = fs_err::read_to_string(entry.unwrap().path().join("conda-forge.yml"))
            else {
                continue;
            };
            for (path, value) in edits {
                match set_scalar(&text, path, value) {
                    // Only the edited key differs: at most one line replaced (the value,
                    // or a last line that gains its line break) and two added.
                    Ok(new) => {
                        let diff = similar::TextDiff::from_lines(&text, &new);
                        let count =
                            |tag| diff.iter_all_changes().filter(|c| c.tag() == tag).count();
                        let (removed, added) = (
                            count(similar::ChangeTag::Delete),
                            count(similar::ChangeTag::Insert),
                        );
                        assert!(removed <= 1 && added <= removed + 2, "{text}\n=>\n{new}");
                        edited += 1;
                    }
                    Err(e) => failures.push(e.to_string()),
                }
            }
        }
        eprintln!(
            "conda-forge.yml edits: {edited}/{}",
            edited + failures.len()
        );
        assert!(failures.is_empty(), "{failures:#?}");
        assert_eq!(edited, 137 * 4);
    }
}
