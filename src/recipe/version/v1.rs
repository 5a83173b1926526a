//! Finding the version, sources, URLs and hashes of a v1 `recipe.yaml` (reference §4.5).
//!
//! The recipe is YAML, read with node positions. The version is `context.version` (a
//! literal); the other context entries are evaluated in order, as rattler-build does,
//! and are the variables URL templates render with. Sources are the `source` mapping or
//! list, with `if:`/`then:`/`else:` branches walked into: every branch is a source to
//! update, since each holds its own URL and hash. A hash written as `${{ var }}` is
//! overwritten in the context entry `var`.

use std::sync::LazyLock;

use minijinja::Value;
use regex::Regex;

use super::error::Problem;
use super::render::{self, Vars};
use super::rewrite::{Edit, HashSlot, Scan, Slot, Syntax, Unit, UrlSlot};
use super::slots::{scalar_slot, slot_text};
use crate::recipe::HashKind;
use crate::recipe::edit::spanned::{self, Node, Spanned};

/// `${{ expr }}` and nothing else; group 1 the expression.
static WHOLE_EXPRESSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\$\{\{(.*)\}\}$").unwrap_or_else(|_| unreachable!("static pattern"))
});

/// `${{ var }}` and nothing else.
static SINGLE_VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

/// One `context` entry.
#[derive(Debug)]
struct ContextEntry<'a> {
    name: String,
    node: &'a Spanned,
    /// The value's slot, for scalars.
    slot: Option<Slot>,
}

/// Reads a `recipe.yaml` text for a rewrite to `requested`.
pub(super) fn scan(text: &str, requested: &str) -> Scan {
    let root = match spanned::parse(text) {
        Ok(Some(root)) => root,
        Ok(None) => return Scan::failed(requested, Problem::NoContextVersion),
        Err(err) => {
            return Scan::failed(
                requested,
                Problem::NotYaml {
                    line: err.line,
                    message: err.message,
                },
            );
        }
    };
    let mut problems = Vec::new();
    let context: Vec<ContextEntry> = root
        .get("context")
        .and_then(Spanned::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str()?.to_string();
            let slot = v.as_str().and_then(|_| scalar_slot(text, text, v).ok());
            Some(ContextEntry {
                name,
                node: v,
                slot,
            })
        })
        .collect();
    let mut leaves = Vec::new();
    if let Some(source) = root.get("source") {
        walk(source, &mut leaves);
    }
    let has_url = |leaf: &&Spanned| leaf.get("url").is_some_and(|u| !u.is_null());
    if !leaves.is_empty() && leaves.iter().all(|l| !has_url(l) && l.get("git").is_some()) {
        return Scan::failed(requested, Problem::GitUrlOnly);
    }
    let is_r = leaves
        .iter()
        .filter_map(|l| l.get("url"))
        .any(|u| mentions_cran(text, u))
        || context.iter().any(|c| mentions_cran(text, c.node));
    let version = if is_r {
        requested.replace("_", "-")
    } else {
        requested.to_string()
    };
    let Some(version_slot) = context
        .iter()
        .find(|c| c.name == "version")
        .and_then(|c| c.slot)
        .filter(|slot| !slot_text(text, *slot).contains("${{"))
    else {
        return Scan::failed(&version, Problem::NoContextVersion);
    };
    if leaves.is_empty() {
        return Scan::failed(&version, Problem::NoSources);
    }
    let new_vars = evaluate(text, &context, Some(&version));
    let old_vars = evaluate(text, &context, None);
    let mut units = Vec::new();
    for leaf in leaves {
        if let Some(unit) = leaf_unit(text, &context, leaf, &new_vars, &old_vars, &mut problems) {
            units.push(unit);
        }
    }
    Scan {
        version: version.clone(),
        version_edits: vec![Edit {
            slot: version_slot,
            text: version,
        }],
        units,
        problems,
    }
}

fn mentions_cran(text: &str, node: &Spanned) -> bool {
    let written = match &node.node {
        Node::Scalar { .. } => scalar_slot(text, text, node)
            .map(|s| slot_text(text, s).to_string())
            .unwrap_or_default(),
        Node::Seq { items, .. } => items
            .iter()
            .filter_map(|i| scalar_slot(text, text, i).ok())
            .map(|s| slot_text(text, s).to_string())
            .collect::<Vec<_>>()
            .join(" "),
        Node::Map { .. } => String::new(),
    };
    written.contains("cran.r-project.org/src/contrib") || written.contains("cran_mirror")
}

/// Collects the source mappings, walking into `if`/`then`/`else`.
fn walk<'a>(node: &'a Spanned, out: &mut Vec<&'a Spanned>) {
    match &node.node {
        Node::Seq { items, .. } => items.iter().for_each(|i| walk(i, out)),
        Node::Map { .. } if node.get("if").is_some() => {
            for branch in ["then", "else"] {
                if let Some(b) = node.get(branch) {
                    walk(b, out);
                }
            }
        }
        Node::Map { .. } => out.push(node),
        Node::Scalar { .. } => {}
    }
}

/// The context evaluated in order; `version` replaces `context.version`. Entries that do
/// not evaluate are left out (a URL using one reports it missing).
fn evaluate(text: &str, context: &[ContextEntry], version: Option<&str>) -> Vars {
    let mut vars = Vars::new();
    for entry in context {
        let Some(slot) = entry.slot else { continue };
        let written = slot_text(text, slot);
        let plain = matches!(entry.node.node, Node::Scalar { plain: true, .. });
        let value = if entry.name == "version" {
            Ok(Value::from(version.unwrap_or(written)))
        } else if let Some(expr) = WHOLE_EXPRESSION
            .captures(written)
            .and_then(|c| c.get(1))
            .filter(|e| !e.as_str().contains("}}"))
        {
            render::eval(expr.as_str(), &vars)
        } else if written.contains("${{") {
            render::render(&Syntax::DollarBraces.to_jinja(written), &vars).map(Value::from)
        } else if plain && let Ok(number) = written.parse::<i64>() {
            Ok(Value::from(number))
        } else {
            Ok(Value::from(written))
        };
        match value {
            Ok(value) => {
                vars.insert(entry.name.clone(), value);
            }
            Err(message) => {
                tracing::debug!(variable = %entry.name, %message, "context entry does not evaluate");
                vars.remove(&entry.name);
            }
        }
    }
    vars
}

fn leaf_unit(
    text: &str,
    context: &[ContextEntry],
    leaf: &Spanned,
    new_vars: &Vars,
    old_vars: &Vars,
    problems: &mut Vec<Problem>,
) -> Option<Unit> {
    let url_nodes: Vec<&Spanned> = match leaf.get("url").map(|u| &u.node) {
        Some(Node::Scalar { .. }) => leaf.get("url").into_iter().collect(),
        Some(Node::Seq { items, .. }) => items.iter().collect(),
        _ => {
            if leaf.get("git").is_none() && leaf.get("path").is_none() {
                problems.push(Problem::NoUrl {
                    line: leaf.pos.line,
                });
            }
            return None;
        }
    };
    let mut urls = Vec::new();
    for node in url_nodes
        .into_iter()
        .filter(|n| n.as_str().is_some() && !n.is_null())
    {
        match scalar_slot(text, text, node) {
            Ok(slot) => urls.push(UrlSlot {
                slot,
                template: Syntax::DollarBraces.to_jinja(slot_text(text, slot)),
            }),
            Err(problem) => problems.push(problem),
        }
    }
    if urls.is_empty() {
        return None;
    }
    let mut hashes = Vec::new();
    for kind in [HashKind::Sha256, HashKind::Md5] {
        let Some(node) = leaf.get(kind.as_str()).filter(|n| n.as_str().is_some()) else {
            continue;
        };
        let slot = match scalar_slot(text, text, node) {
            Ok(slot) => slot,
            Err(problem) => {
                problems.push(problem);
                return None;
            }
        };
        let written = slot_text(text, slot);
        let target = if written.contains("${{") {
            SINGLE_VARIABLE
                .captures(written.trim())
                .and_then(|c| c.get(1))
                .and_then(|name| context.iter().rev().find(|c| c.name == name.as_str()))
                .and_then(|c| c.slot)
                .filter(|s| !slot_text(text, *s).contains("${{"))
        } else {
            Some(slot)
        };
        let Some(target) = target else {
            problems.push(Problem::HashNotEditable {
                line: slot.line,
                value: written.to_string(),
            });
            return None;
        };
        hashes.push(HashSlot {
            kind,
            slot: target,
            old: slot_text(text, target).to_string(),
        });
    }
    let mut missing = std::collections::BTreeSet::new();
    for url in &urls {
        match render::missing_variables(&url.template, new_vars) {
            Ok(names) => missing.extend(names),
            Err(message) => {
                problems.push(Problem::BadTemplate {
                    template: Syntax::DollarBraces.to_recipe(&url.template),
                    message,
                });
                return None;
            }
        }
    }
    if !missing.is_empty() {
        problems.extend(
            missing
                .into_iter()
                .map(|variable| Problem::MissingVariable {
                    variable,
                    selector: None,
                }),
        );
        return None;
    }
    Some(Unit {
        selector: None,
        urls,
        hashes,
        old_vars: old_vars.clone(),
        new_vars: new_vars.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_entries_evaluate_in_order_with_types() {
        let text = "context:\n  name: Foo\n  version: \"1.2.3\"\n  major: ${{ version.split('.')[0] }}\n  build: 3\n  lower: ${{ name | lower }}-x\n";
        let root = spanned::parse(text).unwrap().unwrap();
        let context: Vec<ContextEntry> = root
            .get("context")
            .unwrap()
            .entries()
            .unwrap()
            .iter()
            .map(|(k, v)| ContextEntry {
                name: k.as_str().unwrap().to_string(),
                node: v,
                slot: scalar_slot(text, text, v).ok(),
            })
            .collect();
        let vars = evaluate(text, &context, Some("2.0.0"));
        assert_eq!(render::text(&vars["major"]), "2");
        assert_eq!(vars["build"], Value::from(3));
        assert_eq!(render::text(&vars["lower"]), "foo-x");
    }
}
