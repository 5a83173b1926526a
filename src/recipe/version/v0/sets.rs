//! The `{% set %}` lines of a `meta.yaml`: where they are, their literals and selectors,
//! and the variables they define under one selector.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use minijinja::Value;
use rattler_conda_types::Subdir;
use regex::Regex;

use crate::recipe::Variant;
use crate::recipe::version::render::{self, Vars};
use crate::recipe::version::rewrite::Slot;
use crate::recipe::version::slots::selector_of;

/// `{% set name = expr %}`; group 1 the name, group 2 the expression.
static SET_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*\{%-?\s*set\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*-?%\}")
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

/// A literal that is not quoted but still a version (`{% set version = 1.2 %}`).
static BARE_LITERAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9][0-9A-Za-z._+-]*$").unwrap_or_else(|_| unreachable!("static pattern"))
});

/// `{{ var }}` and nothing else.
static SINGLE_VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

/// One `{% set %}` line.
#[derive(Debug, Clone)]
pub(super) struct SetLine {
    /// 1-based line.
    pub(super) line: usize,
    pub(super) name: String,
    pub(super) expression: String,
    pub(super) selector: Option<String>,
    /// Where the literal value is written, when the expression is a literal.
    pub(super) literal: Option<Slot>,
    /// Whether that literal is quoted.
    pub(super) quoted: bool,
}

/// Every `{% set %}` line, in order.
pub(super) fn set_lines(text: &str) -> Vec<SetLine> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (index, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(caps) = SET_LINE.captures(line)
            && let (Some(name), Some(expr), Some(whole)) = (caps.get(1), caps.get(2), caps.get(0))
        {
            let expression = expr.as_str();
            let (literal, quoted) = literal_of(expression, offset + expr.start(), index + 1);
            out.push(SetLine {
                line: index + 1,
                name: name.as_str().to_string(),
                expression: expression.to_string(),
                selector: line.get(whole.end()..).and_then(selector_of),
                literal,
                quoted,
            });
        }
        offset += raw.len();
    }
    out
}

/// The slot of a literal expression (`"1.2"`, `'1.2'`, `1.2`) and whether it is quoted.
fn literal_of(expression: &str, start: usize, line: usize) -> (Option<Slot>, bool) {
    let bytes = expression.as_bytes();
    for quote in [b'"', b'\''] {
        if bytes.len() >= 2
            && bytes.first() == Some(&quote)
            && bytes.last() == Some(&quote)
            && !bytes
                .get(1..bytes.len() - 1)
                .is_some_and(|inner| inner.contains(&quote))
        {
            let slot = Slot {
                start: start + 1,
                end: start + expression.len() - 1,
                line,
            };
            return (Some(slot), true);
        }
    }
    if BARE_LITERAL.is_match(expression) {
        let slot = Slot {
            start,
            end: start + expression.len(),
            line,
        };
        return (Some(slot), false);
    }
    (None, false)
}

/// The variables a unit's templates read, and every variable those are set from.
pub(super) fn referenced(templates: &[&str], sets: &[SetLine]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut queue: Vec<String> = templates
        .iter()
        .flat_map(|t| render::variables_of(t).unwrap_or_default())
        .collect();
    while let Some(name) = queue.pop() {
        if !out.insert(name.clone()) {
            continue;
        }
        for set in sets.iter().filter(|s| s.name == name) {
            queue.extend(render::variables_of_expression(&set.expression));
        }
    }
    out
}

/// The variables under `selector`: the `set` lines without selector (unless this
/// selector sets the same name) and those with exactly this selector, in file order.
/// `version` replaces the literal of `version`'s own lines. Also returns the variables
/// whose expression failed, with its line and message.
pub(super) fn context(
    sets: &[SetLine],
    selector: Option<&str>,
    version: Option<&str>,
) -> (Vars, BTreeMap<String, (usize, String)>) {
    let mut vars = Vars::new();
    let mut failed = BTreeMap::new();
    let mut applied: Vec<(String, String)> = Vec::new();
    for set in sets {
        let applies = match (&set.selector, selector) {
            (None, None) => true,
            (None, Some(sel)) => !sets
                .iter()
                .any(|o| o.name == set.name && o.selector.as_deref() == Some(sel)),
            (Some(own), Some(sel)) => own == sel,
            (Some(_), None) => false,
        };
        if !applies {
            continue;
        }
        let expression = match version {
            Some(version) if set.name == "version" && set.literal.is_some() => {
                format!("{version:?}")
            }
            _ => set.expression.clone(),
        };
        let value = render::eval(&expression, &vars)
            .or_else(|err| with_recipe_renderer(&applied, &set.name, &expression).ok_or(err));
        applied.push((set.name.clone(), expression));
        match value {
            Ok(value) => {
                failed.remove(&set.name);
                vars.insert(set.name.clone(), value);
            }
            Err(message) => {
                vars.remove(&set.name);
                failed.insert(set.name.clone(), (set.line, message));
            }
        }
    }
    (vars, failed)
}

/// Evaluates `{% set name = expression %}` after the `applied` ones with the recipe
/// renderer itself, for the Jinja this module's small environment lacks (`"%03d" % x`).
/// The value comes back as text.
fn with_recipe_renderer(
    applied: &[(String, String)],
    name: &str,
    expression: &str,
) -> Option<Value> {
    let mut text = String::new();
    for (applied_name, applied_expression) in applied {
        text.push_str(&format!(
            "{{% set {applied_name} = {applied_expression} %}}\n"
        ));
    }
    text.push_str(&format!(
        "{{% set {name} = {expression} %}}\npackage:\n  name: probe\n  version: \"{{{{ {name} }}}}\"\n"
    ));
    let template = crate::recipe::v0::Template::parse(&text).ok()?;
    let rendered = template
        .render(&Variant::for_platform(Subdir::Linux64))
        .ok()?;
    rendered.version.map(Value::from)
}

/// The literal a hash written as `{{ var }}` comes from: `var`'s quoted `set` for this
/// selector, else its unselected one.
pub(super) fn hash_variable_slot(
    sets: &[SetLine],
    written: &str,
    selector: Option<&str>,
) -> Option<Slot> {
    let name = SINGLE_VARIABLE.captures(written.trim())?.get(1)?.as_str();
    let quoted = |s: &&SetLine| s.name == name && s.quoted && s.literal.is_some();
    let chosen = sets
        .iter()
        .filter(quoted)
        .rev()
        .find(|s| s.selector.is_some() && s.selector.as_deref() == selector)
        .or_else(|| sets.iter().filter(quoted).find(|s| s.selector.is_none()))?;
    chosen.literal
}
