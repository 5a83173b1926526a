//! YAML read with the position of every node, for edits that change only the bytes they
//! mean to change.
//!
//! yaml-rust2 reports where each node starts (line, column, character index); this module
//! turns its event stream into a tree whose nodes carry that start as a byte offset, plus
//! whether a collection is written in flow style (`{...}`, `[...]`). Scalars keep their
//! text and whether they were plain, so YAML's untyped scalars (`1.10`, `yes`) are never
//! reinterpreted. Where a block value *ends* is a question of lines, answered by
//! [`Lines`]. Comments are not in the tree: callers that rewrite a span keep everything
//! outside it, comments included.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a node starts in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    /// Byte offset into the source text.
    pub(crate) offset: usize,
    /// 1-based line.
    pub(crate) line: usize,
    /// 0-based column, in characters.
    pub(crate) col: usize,
}

/// A YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    /// The start of the node (for an empty scalar: where the parser put it).
    pub(crate) pos: Pos,
    /// The node.
    pub(crate) node: Node,
}

/// A YAML node with string scalars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A scalar: its text, and whether it was written plain (unquoted, not a block
    /// scalar).
    Scalar {
        /// The scalar's value.
        text: String,
        /// True when written plain.
        plain: bool,
    },
    /// A sequence.
    Seq {
        /// The items.
        items: Vec<Spanned>,
        /// Written as `[...]`.
        flow: bool,
    },
    /// A mapping, in file order (repeated keys are all kept; lookups take the last).
    Map {
        /// Key and value of each entry.
        entries: Vec<(Spanned, Spanned)>,
        /// Written as `{...}`.
        flow: bool,
    },
}

impl Spanned {
    /// True for YAML's null (`null`, `Null`, `NULL`, `~` or nothing, unquoted).
    pub(crate) fn is_null(&self) -> bool {
        matches!(&self.node, Node::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The scalar text, if this is a scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.node {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub(crate) fn entries(&self) -> Option<&[(Spanned, Spanned)]> {
        match &self.node {
            Node::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The entry of a key in a mapping (the last one when the key repeats).
    pub(crate) fn entry(&self, key: &str) -> Option<&(Spanned, Spanned)> {
        self.entries()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
    }

    /// The value of a key in a mapping (the last one when the key repeats).
    pub(crate) fn get(&self, key: &str) -> Option<&Spanned> {
        self.entry(key).map(|(_, v)| v)
    }

    /// True for a block (not flow) mapping or sequence.
    pub(crate) fn is_block_collection(&self) -> bool {
        matches!(
            &self.node,
            Node::Seq { flow: false, .. } | Node::Map { flow: false, .. }
        )
    }
}

/// Why a text is not loadable YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line})")]
pub(crate) struct SpannedError {
    /// The parser's message.
    pub(crate) message: String,
    /// The 1-based line.
    pub(crate) line: usize,
}

/// Parses one YAML document; an empty document is `None`.
pub(crate) fn parse(text: &str) -> Result<Option<Spanned>, SpannedError> {
    let mut builder = Builder {
        offsets: CharOffsets::new(text),
        text,
        stack: Vec::new(),
        root: None,
        anchors: Vec::new(),
        error: None,
    };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| SpannedError {
        message: e.info().to_string(),
        line: e.marker().line(),
    })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root)
}

/// Character index → byte offset (yaml-rust2 counts characters).
struct CharOffsets {
    /// Byte offset of each character that is not ASCII-only prefix; empty when the text
    /// is ASCII, where both counts agree.
    table: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        let table = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        CharOffsets {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, index: usize) -> usize {
        if self.table.is_empty() {
            index.min(self.len)
        } else {
            self.table.get(index).copied().unwrap_or(self.len)
        }
    }
}

struct Builder<'a> {
    offsets: CharOffsets,
    text: &'a str,
    stack: Vec<Frame>,
    root: Option<Spanned>,
    anchors: Vec<(usize, Spanned)>,
    error: Option<SpannedError>,
}

enum Frame {
    Seq {
        anchor: usize,
        pos: Pos,
        items: Vec<Spanned>,
    },
    Map {
        anchor: usize,
        pos: Pos,
        entries: Vec<(Spanned, Spanned)>,
        key: Option<Spanned>,
    },
}

impl Builder<'_> {
    fn pos(&self, mark: Marker) -> Pos {
        Pos {
            offset: self.offsets.byte(mark.index()),
            line: mark.line(),
            col: mark.col(),
        }
    }

    fn starts_with(&self, pos: Pos, c: char) -> bool {
        self.text
            .get(pos.offset..)
            .is_some_and(|rest| rest.starts_with(c))
    }

    fn push(&mut self, node: Spanned, anchor: usize) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => {
                    if !matches!(node.node, Node::Scalar { .. }) {
                        self.error.get_or_insert(SpannedError {
                            message: "a mapping key is not a scalar".to_string(),
                            line: node.pos.line,
                        });
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let pos = self.pos(mark);
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let plain = matches!(style, TScalarStyle::Plain);
                self.push(
                    Spanned {
                        pos,
                        node: Node::Scalar { text, plain },
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq {
                anchor,
                pos,
                items: Vec::new(),
            }),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map {
                anchor,
                pos,
                entries: Vec::new(),
                key: None,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { anchor, pos, items }) => {
                        let flow = self.starts_with(pos, '[');
                        (
                            Spanned {
                                pos,
                                node: Node::Seq { items, flow },
                            },
                            anchor,
                        )
                    }
                    Some(Frame::Map {
                        anchor,
                        pos,
                        entries,
                        ..
                    }) => {
                        let flow = self.starts_with(pos, '{');
                        (
                            Spanned {
                                pos,
                                node: Node::Map { entries, flow },
                            },
                            anchor,
                        )
                    }
                    None => return,
                };
                self.push(node, anchor);
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or(Spanned {
                        pos,
                        node: Node::Scalar {
                            text: String::new(),
                            plain: true,
                        },
                    });
                self.push(node, 0);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// The lines of a text with their byte ranges, for finding where block values end.
#[derive(Debug, Clone)]
pub(crate) struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the start of each line; one extra entry for the end of the text.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// Indexes the lines of `text`.
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        if starts.last() != Some(&text.len()) {
            starts.push(text.len());
        }
        Lines { text, starts }
    }

    /// Number of lines.
    pub(crate) fn count(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The byte offset where 1-based line `line` starts (the end of the text past the
    /// last line).
    pub(crate) fn start(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The byte offset just past the newline of 1-based line `line`.
    pub(crate) fn end(&self, line: usize) -> usize {
        self.start(line + 1)
    }

    /// The text of 1-based line `line`, without its line break.
    pub(crate) fn text(&self, line: usize) -> &'a str {
        let (start, end) = (self.start(line), self.end(line));
        self.text
            .get(start..end)
            .unwrap_or_default()
            .trim_end_matches(['\n', '\r'])
    }

    /// True when the line holds nothing but blanks or a comment.
    pub(crate) fn is_blank_or_comment(&self, line: usize) -> bool {
        let t = self.text(line).trim_start();
        t.is_empty() || t.starts_with('#')
    }

    /// The indentation (leading spaces) of a line.
    pub(crate) fn indent(&self, line: usize) -> usize {
        self.text(line).len() - self.text(line).trim_start_matches(' ').len()
    }

    /// The last line of a block entry whose key sits at (`line`, `col`): every following
    /// line indented deeper than `col`, or a `-` item at exactly `col` (an indentless
    /// sequence), belongs to it; trailing blank and comment lines do not.
    pub(crate) fn block_last_line(&self, line: usize, col: usize) -> usize {
        let mut last = line;
        for next in line + 1..=self.count() {
            if self.is_blank_or_comment(next) {
                continue;
            }
            let indent = self.indent(next);
            let text = self.text(next).trim_start();
            let item = text == "-" || text.starts_with("- ");
            if indent > col || (indent == col && item) {
                last = next;
            } else {
                break;
            }
        }
        last
    }
}

/// The byte range of the scalar token that starts at `start` on its line: a quoted
/// string up to its closing quote, else a plain scalar up to a ` #` comment or the end
/// of the line, trailing blanks excluded. Only for single-line scalars.
pub(crate) fn scalar_token_end(text: &str, start: usize) -> usize {
    let rest = text.get(start..).unwrap_or_default();
    let line = rest.split(['\n', '\r']).next().unwrap_or_default();
    let mut chars = line.char_indices();
    match chars.next() {
        Some((_, '\'')) => {
            // `''` is an escaped quote inside a single-quoted scalar.
            let bytes = line.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes.get(i) == Some(&b'\'') {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return start + i + 1;
                }
                i += 1;
            }
            start + line.len()
        }
        Some((_, '"')) => {
            let mut escaped = false;
            for (i, c) in chars {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    return start + i + 1;
                }
            }
            start + line.len()
        }
        _ => {
            let mut end = line.len();
            let mut prev_blank = false;
            for (i, c) in line.char_indices() {
                if c == '#' && prev_blank {
                    end = i;
                    break;
                }
                prev_blank = c == ' ' || c == '\t';
            }
            start + line[..end].trim_end().len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_know_their_byte_offsets_even_after_multibyte_text() {
        let text = "a: \"é\"\nb:\n  c: 12  # note\n";
        let root = parse(text).unwrap().unwrap();
        let c = root.get("b").unwrap().get("c").unwrap();
        assert_eq!(c.as_str(), Some("12"));
        assert_eq!(&text[c.pos.offset..c.pos.offset + 2], "12");
        assert_eq!(c.pos.line, 3);
        assert_eq!(scalar_token_end(text, c.pos.offset), c.pos.offset + 2);
    }

    #[test]
    fn flow_collections_are_recognised() {
        let root = parse("a: {x: 1}\nb: [1, 2]\nc:\n  - 1\n").unwrap().unwrap();
        assert!(!root.get("a").unwrap().is_block_collection());
        assert!(!root.get("b").unwrap().is_block_collection());
        assert!(root.get("c").unwrap().is_block_collection());
    }

    #[test]
    fn a_block_entry_ends_before_trailing_comments_and_the_next_key() {
        let text = "a:\n  b: 1\n\n  c:\n  - 2\n  # trailing\nd: 3\n";
        let lines = Lines::new(text);
        assert_eq!(lines.block_last_line(1, 0), 5);
        assert_eq!(lines.block_last_line(4, 2), 5);
        assert_eq!(lines.block_last_line(7, 0), 7);
    }

    #[test]
    fn quoted_scalar_tokens_end_at_their_closing_quote() {
        let text = "x: 'it''s' # c\ny: \"a\\\"b\"\n";
        assert_eq!(&text[3..scalar_token_end(text, 3)], "'it''s'");
        assert_eq!(&text[18..scalar_token_end(text, 18)], "\"a\\\"b\"");
    }

    #[test]
    fn broken_yaml_is_an_error_with_a_line() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1, "{err}");
    }
}
