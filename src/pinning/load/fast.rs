//! A line-based reader for the block YAML that variant files are written in: mappings and
//! sequences by indentation, plain and quoted one-line scalars, comments.
//!
//! It returns `None` for anything else (flow collections, block scalars, anchors, tags,
//! multi-line scalars, tabs, documents markers, odd indentation) so the caller can use
//! the full parser; when it returns a tree, the tree is the one the full parser builds.
//! The cross-check over every variant file of the data set lives in the tests below.

use std::collections::HashSet;

use super::Node;

/// One meaningful line: its indentation and what it holds.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    indent: usize,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// `key:` with an optional scalar.
    Entry(String, Option<Node>),
    /// `-` with an optional scalar (a nested line follows when it is `- key: v` or `- - x`).
    Item(Option<Node>),
}

/// Reads a document, or `None` when it is not in the supported subset.
pub(super) fn load(text: &str) -> Option<Option<Node>> {
    let mut lines = Vec::new();
    for raw in text.split('\n') {
        split_line(raw, &mut lines)?;
    }
    let refs: Vec<&Line> = lines.iter().collect();
    build(&refs)
}

/// Builds the document from logical lines (`None`: not in the supported subset).
pub(crate) fn build(lines: &[&Line]) -> Option<Option<Node>> {
    let Some(first) = lines.first() else {
        return Some(None);
    };
    let mut pos = 0;
    let node = block(lines, &mut pos, first.indent)?;
    (pos == lines.len()).then_some(Some(node))
}

/// Splits one source line (without its selector) into logical lines; nothing for a
/// blank or comment line, `None` when it is outside the supported subset.
pub(crate) fn split_line(line: &str, out: &mut Vec<Line>) -> Option<()> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let content = line.trim_start_matches(' ');
    if content.is_empty() || content.starts_with('#') {
        return Some(());
    }
    if content.starts_with('\t') || content.starts_with("---") || content.starts_with("...") {
        return None;
    }
    split(line.len() - content.len(), content, out)
}

/// Splits one line (or the rest of an item line) into logical lines.
fn split(indent: usize, content: &str, out: &mut Vec<Line>) -> Option<()> {
    if content == "-" || content.starts_with("- ") {
        let rest = content.get(1..).unwrap_or_default();
        let after = rest.trim_start_matches(' ');
        if after.is_empty() || after.starts_with('#') {
            out.push(Line {
                indent,
                kind: Kind::Item(None),
            });
            return Some(());
        }
        let inner = indent + 1 + (rest.len() - after.len());
        if after == "-" || after.starts_with("- ") || entry_key(after).is_some() {
            out.push(Line {
                indent,
                kind: Kind::Item(None),
            });
            return split(inner, after, out);
        }
        out.push(Line {
            indent,
            kind: Kind::Item(Some(scalar(after)?)),
        });
        return Some(());
    }
    let (key, rest) = entry_key(content)?;
    let rest = rest.trim_start_matches(' ');
    let value = if rest.is_empty() || rest.starts_with('#') {
        None
    } else {
        Some(scalar(rest)?)
    };
    out.push(Line {
        indent,
        kind: Kind::Entry(key.to_string(), value),
    });
    Some(())
}

/// `key:` at the start of `content` (a plain key made of name characters), and the text
/// after the colon.
fn entry_key(content: &str) -> Option<(&str, &str)> {
    let end = content.find(':')?;
    let key = &content[..end];
    let rest = &content[end + 1..];
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    (valid && (rest.is_empty() || rest.starts_with(' '))).then_some((key, rest))
}

/// A one-line scalar with an optional trailing comment.
fn scalar(text: &str) -> Option<Node> {
    let first = text.chars().next()?;
    match first {
        '\'' => {
            let mut value = String::new();
            let mut chars = text[1..].char_indices();
            loop {
                let (i, c) = chars.next()?;
                if c == '\'' {
                    if text[1 + i + 1..].starts_with('\'') {
                        value.push('\'');
                        chars.next();
                        continue;
                    }
                    return after_quote(&text[1 + i + 1..], value);
                }
                value.push(c);
            }
        }
        '"' => {
            let end = text[1..].find('"')? + 1;
            let value = &text[1..end];
            if value.contains('\\') {
                return None;
            }
            after_quote(&text[end + 1..], value.to_string())
        }
        '[' | '{' | '|' | '>' | '&' | '*' | '!' | '%' | '@' | '`' | ',' | ']' | '}' => None,
        '?' | ':' | '-' if text[1..].is_empty() || text[1..].starts_with(' ') => None,
        _ => {
            let end = text.find(" #").unwrap_or(text.len());
            let value = text[..end].trim_end_matches(' ');
            if value.contains(": ") || value.ends_with(':') || value.contains('\t') {
                return None;
            }
            Some(Node::Scalar {
                text: value.to_string(),
                plain: true,
            })
        }
    }
}

/// What may follow a closing quote: nothing, or a comment.
fn after_quote(rest: &str, value: String) -> Option<Node> {
    let trimmed = rest.trim_start_matches(' ');
    let ok = trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len());
    ok.then_some(Node::Scalar {
        text: value,
        plain: false,
    })
}

/// A block (sequence or mapping) whose lines start at `indent`.
fn block(lines: &[&Line], pos: &mut usize, indent: usize) -> Option<Node> {
    match lines.get(*pos)?.kind {
        Kind::Item(_) => sequence(lines, pos, indent),
        Kind::Entry(..) => mapping(lines, pos, indent),
    }
}

/// The value below a `key:` or `-` with nothing after it.
fn child(lines: &[&Line], pos: &mut usize, parent: usize, mapping_value: bool) -> Option<Node> {
    match lines.get(*pos) {
        Some(next) if next.indent > parent => {
            let indent = next.indent;
            block(lines, pos, indent)
        }
        // An indentless sequence: `key:` then `- item` at the key's column.
        Some(next)
            if mapping_value && next.indent == parent && matches!(next.kind, Kind::Item(_)) =>
        {
            sequence(lines, pos, parent)
        }
        _ => Some(Node::Scalar {
            text: String::new(),
            plain: true,
        }),
    }
}

fn sequence(lines: &[&Line], pos: &mut usize, indent: usize) -> Option<Node> {
    let mut items = Vec::new();
    while let Some(line) = lines.get(*pos) {
        if line.indent != indent {
            break;
        }
        let Kind::Item(value) = &line.kind else {
            break;
        };
        *pos += 1;
        items.push(match value {
            Some(v) => v.clone(),
            None => child(lines, pos, indent, false)?,
        });
    }
    match lines.get(*pos) {
        Some(next) if next.indent > indent => None,
        _ => Some(Node::Seq(items)),
    }
}

fn mapping(lines: &[&Line], pos: &mut usize, indent: usize) -> Option<Node> {
    let mut entries: Vec<(String, Node)> = Vec::new();
    let mut seen: HashSet<&str, foldhash::fast::RandomState> = HashSet::default();
    while let Some(line) = lines.get(*pos) {
        if line.indent != indent {
            break;
        }
        let Kind::Entry(key, value) = &line.kind else {
            break;
        };
        *pos += 1;
        let node = match value {
            Some(v) => v.clone(),
            None => child(lines, pos, indent, true)?,
        };
        // A repeated key: the last one wins (checked only when it can repeat).
        if !seen.insert(key.as_str()) {
            entries.retain(|(k, _)| k != key);
        }
        entries.push((key.clone(), node));
    }
    match lines.get(*pos) {
        Some(next) if next.indent > indent => None,
        _ => Some(Node::Map(entries)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::full_load;
    use super::*;

    #[test]
    fn block_yaml_reads_like_the_full_parser() {
        let text = "a:\n  - 1.10  # [linux]\n  - '14'\nb: x\nzip_keys:\n- - a\n  - b\n-\n  - c\n  - d\n\
                    pin_run_as_build:\n  python:\n    min_pin: x.x\n    max_pin: x.x\nc:\nd: 'it''s' # c\n";
        assert_eq!(load(text), Some(full_load(text).unwrap()));
    }

    #[test]
    fn anything_else_goes_to_the_full_parser() {
        for text in [
            "a: [1, 2]\n",
            "a: |\n  text\n",
            "a: &x 1\nb: *x\n",
            "a:\n  plain\n  continued\n",
            "a: \"esc\\\"aped\"\n",
            "---\na: 1\n",
        ] {
            assert_eq!(load(text), None, "{text}");
        }
    }

    /// Every variant and migration file of the data set, raw: the fast path either
    /// declines or agrees with the full parser.
    #[test]
    fn every_variant_file_of_the_data_set_reads_like_the_full_parser() {
        let root = Path::new("../shared/data/rerender-cases");
        if !root.is_dir() {
            eprintln!("skipping: ../shared/data is absent");
            return;
        }
        let mut files = Vec::new();
        for dir in ["pinning", "cases"] {
            collect(&root.join(dir), &mut files);
        }
        let (mut fast, mut total) = (0, 0);
        for file in files {
            let text = fs_err::read_to_string(&file).unwrap();
            let Ok(full) = full_load(&text) else {
                continue;
            };
            total += 1;
            if let Some(node) = load(&text) {
                fast += 1;
                assert_eq!(node, full, "{}", file.display());
            }
        }
        eprintln!("fast path read {fast}/{total} files");
        assert!(fast * 2 > total, "the fast path should cover most files");
    }

    fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml")
                && !path.to_string_lossy().contains("/expected/")
            {
                out.push(path);
            }
        }
    }
}
