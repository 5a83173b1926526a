//! YAML loading that keeps every scalar as the text it was written as.
//!
//! conda-build loads variant files with a loader that turns numbers into strings
//! (`1.10` must stay `1.10`, not `1.1`), and conda-smithy loads migration files with
//! PyYAML's `BaseLoader`, where everything is a string. Both are served by one tree of
//! [`Node`]s built from yaml-rust2's event stream: scalars keep their text and whether
//! they were plain (unquoted), so a caller can still recognise YAML's `null`.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod fast;

pub(crate) use fast::{Line, build, split_line as fast_split};

/// A YAML node with string scalars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A scalar: its text, and whether it was written plain (unquoted).
    Scalar {
        /// The scalar's text.
        text: String,
        /// True when unquoted (`null`, `~` and the empty scalar then mean null).
        plain: bool,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order (a repeated key: the last one wins, as in PyYAML).
    Map(Vec<(String, Node)>),
}

impl Node {
    /// True for YAML's null (`null`, `Null`, `NULL`, `~` or nothing, unquoted).
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The scalar text, if this is a scalar.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Looks a key up in a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why a text is not loadable YAML.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (line {line})")]
pub struct YamlError {
    /// The parser's message.
    pub message: String,
    /// The 1-based line.
    pub line: usize,
}

/// Parses one YAML document into a [`Node`]; an empty document is `None`.
///
/// Variant files are nearly always plain block YAML; those are read by a line-based
/// fast path ([`fast::load`]) that gives the same tree an order of magnitude faster.
/// Anything it does not recognise goes to the full parser.
pub(crate) fn load(text: &str) -> Result<Option<Node>, YamlError> {
    if let Some(node) = fast::load(text) {
        return Ok(node);
    }
    full_load(text)
}

/// Parses with the full YAML parser (yaml-rust2).
pub(crate) fn full_load(text: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, false).map_err(|e| YamlError {
        message: e.info().to_string(),
        line: e.marker().line(),
    })?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root)
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: Vec<(usize, Node)>,
    error: Option<YamlError>,
}

enum Frame {
    Seq(usize, Vec<Node>),
    Map(usize, Vec<(String, Node)>, Option<String>),
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize, mark: Marker) {
        if anchor != 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, entries, pending)) => match pending.take() {
                None => match node {
                    Node::Scalar { text, .. } => *pending = Some(text),
                    _ => {
                        self.error.get_or_insert(YamlError {
                            message: "a mapping key is not a scalar".to_string(),
                            line: mark.line(),
                        });
                        *pending = Some(String::new());
                    }
                },
                Some(key) => {
                    entries.retain(|(k, _)| *k != key);
                    entries.push((key, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(text, style, anchor, _) => {
                let plain = matches!(style, TScalarStyle::Plain);
                self.push_value(Node::Scalar { text, plain }, anchor, mark);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(anchor, Vec::new())),
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map(anchor, Vec::new(), None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(anchor, items)) => (Node::Seq(items), anchor),
                    Some(Frame::Map(anchor, entries, _)) => (Node::Map(entries), anchor),
                    None => return,
                };
                self.push_value(node, anchor, mark);
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| n.clone())
                    .unwrap_or(Node::Scalar {
                        text: String::new(),
                        plain: true,
                    });
                self.push_value(node, 0, mark);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_text() {
        let node = load("a:\n  - 1.10\n  - '14'\nb: ~\n").unwrap().unwrap();
        let Some(Node::Seq(items)) = node.get("a") else {
            panic!("a is a list")
        };
        assert_eq!(items[0].as_str(), Some("1.10"));
        assert_eq!(items[1].as_str(), Some("14"));
        assert!(node.get("b").is_some_and(Node::is_null));
    }

    #[test]
    fn an_empty_document_is_none() {
        assert_eq!(load("# only a comment\n"), Ok(None));
    }

    #[test]
    fn broken_yaml_is_an_error_with_a_line() {
        let err = load("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line >= 1);
    }
}
