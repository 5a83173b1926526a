//! Rendering source URL templates with a recipe's variables.
//!
//! The bot renders a URL template with the recipe's `{% set %}` variables (v0) or its
//! `context` (v1), nothing else: no variant, no environment. This module holds that small
//! Jinja world: a sandboxed minijinja environment with Python string methods, the
//! `cran_mirror` conda-build provides, empty `environ`/`os.environ`, and the filters
//! rattler-build adds that URL templates use (`split`). Templates are always in `{{ }}`
//! syntax here; v1's `${{ }}` is converted by the caller.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior, Value};

/// conda-build's `cran_mirror`.
pub(super) const CRAN_MIRROR: &str = "https://cran.r-project.org";

/// Variables by name.
pub(super) type Vars = BTreeMap<String, Value>;

/// Names every template can use without the recipe defining them.
const GLOBALS: [&str; 3] = ["cran_mirror", "environ", "os"];

/// The most Jinja instructions one evaluation may run (URL templates need a handful).
const FUEL: u64 = 100_000;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_global("cran_mirror", CRAN_MIRROR);
    let empty = || Value::from(BTreeMap::<String, Value>::new());
    env.add_global("environ", empty());
    env.add_global(
        "os",
        Value::from(BTreeMap::from([("environ".to_string(), empty())])),
    );
    env.add_filter("split", split_filter);
    env
});

/// rattler-build's `split` filter: `"1.2.3" | split('.')`.
fn split_filter(value: String, sep: Option<String>) -> Vec<String> {
    match sep {
        Some(sep) if !sep.is_empty() => value.split(sep.as_str()).map(str::to_string).collect(),
        _ => value.split_whitespace().map(str::to_string).collect(),
    }
}

/// Renders a template; `Err` carries minijinja's message.
pub(super) fn render(template: &str, vars: &Vars) -> Result<String, String> {
    ENV.render_str(template, vars).map_err(|e| describe(&e))
}

/// Evaluates a Jinja expression (the right-hand side of `{% set x = ... %}`).
pub(super) fn eval(expression: &str, vars: &Vars) -> Result<Value, String> {
    ENV.compile_expression(expression)
        .and_then(|e| e.eval(vars))
        .map_err(|e| describe(&e))
}

/// The variables a template reads that neither `vars` nor the globals define, or the
/// parse error of a template that is not Jinja.
pub(super) fn missing_variables(template: &str, vars: &Vars) -> Result<BTreeSet<String>, String> {
    Ok(variables_of(template)?
        .into_iter()
        .filter(|name| !vars.contains_key(name) && !GLOBALS.contains(&name.as_str()))
        .collect())
}

/// The top-level variables a template reads.
pub(super) fn variables_of(template: &str) -> Result<BTreeSet<String>, String> {
    let compiled = ENV.template_from_str(template).map_err(|e| describe(&e))?;
    Ok(compiled.undeclared_variables(false).into_iter().collect())
}

/// The variables an expression reads.
pub(super) fn variables_of_expression(expression: &str) -> BTreeSet<String> {
    variables_of(&format!("{{{{ {expression} }}}}")).unwrap_or_default()
}

/// A value as the text Jinja prints.
pub(super) fn text(value: &Value) -> String {
    if value.is_undefined() || value.is_none() {
        String::new()
    } else {
        value.to_string()
    }
}

fn describe(err: &minijinja::Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn url_templates_render_with_python_string_methods() {
        let v = vars(&[("name", "Dash-Ext"), ("version", "1.2.3")]);
        assert_eq!(
            render(
                "{{ name[0] }}/{{ name | lower | replace('-', '_') }}-{{ version.split('.')[0] }}",
                &v
            )
            .unwrap(),
            "D/dash_ext-1"
        );
        assert_eq!(
            render("{{ cran_mirror }}/src/contrib", &v).unwrap(),
            "https://cran.r-project.org/src/contrib"
        );
    }

    #[test]
    fn an_undefined_variable_is_an_error_and_is_reported_missing() {
        let v = vars(&[("version", "1")]);
        assert!(render("{{ nope }}-{{ version }}", &v).is_err());
        let missing = missing_variables("{{ nope }}-{{ version }}-{{ cran_mirror }}", &v).unwrap();
        assert_eq!(missing.into_iter().collect::<Vec<_>>(), ["nope"]);
    }

    #[test]
    fn set_expressions_evaluate_against_earlier_variables() {
        let v = vars(&[("version", "1.2.3")]);
        let value = eval("version.replace('.', '_')", &v).unwrap();
        assert_eq!(text(&value), "1_2_3");
        assert_eq!(text(&eval("environ.get('X', 'd')", &v).unwrap()), "d");
        assert_eq!(text(&eval("(version | split('.'))[1]", &v).unwrap()), "2");
    }
}
