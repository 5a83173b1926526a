//! The wire form of `conda-forge.yml`: the YAML tree with the line of every mapping value,
//! and the [`Reader`] that turns its values into typed ones, collecting warnings.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::{ConfigWarning, WarningKind};

/// The wire form: a YAML node whose mapping values remember their line.
#[derive(Debug, Clone)]
pub(super) enum Node {
    /// A mapping, keys as text (a `2.14:` key becomes `"2.14"`), in file order.
    Map(Vec<(String, Spanned<Node>)>),
    /// Anything else.
    Value(Value),
}

impl Node {
    pub(super) fn into_value(self) -> Value {
        match self {
            Node::Value(value) => value,
            Node::Map(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, v.value.into_value()))
                    .collect(),
            ),
        }
    }
}

pub(super) fn line_of<T>(spanned: &Spanned<T>) -> Option<usize> {
    usize::try_from(spanned.referenced.line())
        .ok()
        .filter(|l| *l > 0)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Value(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Value(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Value(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Value(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Value(Value::from(v)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Value(Value::Null))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Value(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Node::Value(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Spanned<Node>)> = Vec::new();
        while let Some(key) = map.next_key::<Value>()? {
            let key = match key {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let value = map.next_value::<Spanned<Node>>()?;
            entries.retain(|(k, _)| *k != key);
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// Converts the wire tree to the domain type, collecting warnings.
#[derive(Default)]
pub(super) struct Reader {
    pub(super) warnings: Vec<ConfigWarning>,
}
impl Reader {
    pub(super) fn warn(&mut self, key: &str, node: &Spanned<Node>, kind: WarningKind) {
        self.warnings.push(ConfigWarning {
            key: key.to_string(),
            line: line_of(node),
            kind,
        });
    }

    pub(super) fn invalid(&mut self, key: &str, node: &Spanned<Node>, message: impl Into<String>) {
        let message = message.into();
        self.warn(key, node, WarningKind::Invalid { message });
    }

    /// Deserializes one value, or warns and returns `None`.
    pub(super) fn typed<T: DeserializeOwned>(
        &mut self,
        key: &str,
        node: Spanned<Node>,
    ) -> Option<T> {
        let value = node.value.clone().into_value();
        match serde_json::from_value(value) {
            Ok(typed) => Some(typed),
            Err(e) => {
                self.invalid(key, &node, e.to_string());
                None
            }
        }
    }

    /// The entries of a mapping value, or a warning.
    pub(super) fn entries(
        &mut self,
        key: &str,
        node: Spanned<Node>,
    ) -> Option<Vec<(String, Spanned<Node>)>> {
        match node.value {
            Node::Map(entries) => Some(entries),
            Node::Value(Value::Null) => Some(Vec::new()),
            Node::Value(_) => {
                self.invalid(key, &node, "expected a mapping");
                None
            }
        }
    }
    /// A string or a list of scalars, as strings (`2.14` stays `2.14`).
    pub(super) fn string_or_list(&mut self, key: &str, node: Spanned<Node>) -> Option<Vec<String>> {
        let scalar = |value: &Value| match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let list = match &node.value {
            Node::Value(Value::Array(items)) => items.iter().map(scalar).collect(),
            Node::Value(Value::Null) => Some(Vec::new()),
            Node::Value(value) => scalar(value).map(|s| vec![s]),
            Node::Map(_) => None,
        };
        if list.is_none() {
            self.invalid(key, &node, "expected a string or a list of strings");
        }
        list
    }

    pub(super) fn flag(&mut self, key: &str, node: Spanned<Node>) -> Option<bool> {
        self.typed(key, node)
    }
}
