//! The whole graph as one value, for `cascade graph export` and for other tools: JSON
//! through serde, Graphviz DOT through [`GraphExport::to_dot`]. The store fills it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::recipe::{RecipeFormat, Section};

/// The whole graph, for `cascade graph export`.
#[derive(Debug, Clone, Serialize)]
pub struct GraphExport {
    /// Feedstocks present in the last build, in topological order.
    pub nodes: Vec<ExportNode>,
    /// Edges, dependency → dependent, sorted by (source, target).
    pub edges: Vec<ExportEdge>,
    /// External dependencies and their users, sorted by (name, feedstock).
    pub externals: Vec<ExportExternal>,
}

/// A node of [`GraphExport`].
#[derive(Debug, Clone, Serialize)]
pub struct ExportNode {
    /// The feedstock.
    pub name: String,
    /// Its version.
    pub version: Option<String>,
    /// Its recipe format.
    pub recipe_format: Option<RecipeFormat>,
    /// Platforms it rendered for.
    pub platforms: Vec<String>,
    /// Position in the topological order.
    pub topo_index: Option<i64>,
    /// Index of its cycle in [`Store::cycles`](crate::graph::Store::cycles), if on one.
    pub cycle: Option<i64>,
    /// True when it has a parse error.
    pub parse_error: bool,
}

/// An edge of [`GraphExport`].
#[derive(Debug, Clone, Serialize)]
pub struct ExportEdge {
    /// The dependency.
    pub source: String,
    /// The dependent.
    pub target: String,
    /// Sections, in recipe order.
    pub sections: Vec<Section>,
    /// Union of platforms.
    pub platforms: Vec<String>,
    /// Per section, its platforms.
    pub by_section: BTreeMap<Section, Vec<String>>,
}

/// An external dependency of one feedstock.
#[derive(Debug, Clone, Serialize)]
pub struct ExportExternal {
    /// The package name no feedstock produces.
    pub name: String,
    /// The feedstock requiring it.
    pub feedstock: String,
    /// Sections it is required in.
    pub sections: Vec<Section>,
    /// Platforms it is required on.
    pub platforms: Vec<String>,
}

impl GraphExport {
    /// The graph in Graphviz DOT. Test-only edges are dashed; nodes with a parse error
    /// are red; nodes on a cycle are bold.
    pub fn to_dot(&self) -> String {
        let mut dot = String::from("digraph cascade {\n  node [shape=box];\n");
        for node in &self.nodes {
            let mut attrs = vec![format!(
                "label={}",
                dot_string(&match &node.version {
                    Some(v) => format!("{}\n{v}", node.name),
                    None => node.name.clone(),
                })
            )];
            if node.parse_error {
                attrs.push("color=red".to_string());
            }
            if node.cycle.is_some() {
                attrs.push("style=bold".to_string());
            }
            let _ = writeln!(dot, "  {} [{}];", dot_string(&node.name), attrs.join(", "));
        }
        for edge in &self.edges {
            let names: Vec<&str> = edge.sections.iter().map(|s| s.as_str()).collect();
            let mut attrs = vec![format!("label={}", dot_string(&names.join(",")))];
            if edge.sections == [Section::Test] {
                attrs.push("style=dashed".to_string());
            }
            let _ = writeln!(
                dot,
                "  {} -> {} [{}];",
                dot_string(&edge.source),
                dot_string(&edge.target),
                attrs.join(", ")
            );
        }
        dot.push_str("}\n");
        dot
    }
}

/// A DOT quoted string.
fn dot_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_strings_escape_quotes_and_newlines() {
        assert_eq!(dot_string("a\"b\nc\\"), "\"a\\\"b\\nc\\\\\"");
    }
}
