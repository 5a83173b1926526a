//! `# [selector]` lines, the way conda-build handles them (`metadata.select_lines`).
//!
//! conda-build applies selectors twice: its Jinja loader (`FilteredLoader`) filters the
//! raw recipe text before rendering, so a selector on a `{% set %}` line decides whether
//! the set runs, and `metadata.parse` filters the rendered text again. Both passes keep
//! one output line per input line (a dropped line becomes empty), so line numbers of the
//! first pass are those of the recipe.
//!
//! Selector expressions are Python; minijinja's expression language covers what recipes
//! write (`and`/`or`/`not`, comparisons, `in`, method calls, `int(float(vc))`), with
//! `is None` translated. A name the namespace lacks reads as `False`, as conda-build's
//! `eval_selector` substitutes it.

use std::sync::LazyLock;

use fancy_regex::Regex;
use minijinja::value::{Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Expression, UndefinedBehavior, Value};

use super::tags::{TokenKind, tokens};

/// conda-build's selector regex (`metadata.sel_pat`): content, an optional `#` comment,
/// and `[selector]` at the end. conda-build applies it with `re.match`, hence the `^`
/// (without it every start position is tried, which is quadratic on long lines). The
/// conditional group needs fancy-regex.
const SELECTOR_PATTERN: &str = r"^(.+?)\s*(#.*)?\[([^\[\]]+)\](?(2)[^\(\)]*)$";

static SELECTOR_RE: LazyLock<Regex> = LazyLock::new(|| {
    fancy_regex::RegexBuilder::new(SELECTOR_PATTERN)
        .backtrack_limit(1_000_000)
        .build()
        .expect("the selector pattern is a valid fancy-regex")
});

/// The environment selector expressions compile in: Python builtins selectors call,
/// and Python string methods.
static SELECTOR_ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_debug(false);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("int", py_int);
    env.add_function("float", py_float);
    env.add_function("str", py_str);
    env.add_function("bool", |value: Value| value.is_true());
    env.add_function("len", |value: Value| value.len().unwrap_or(0));
    env
});

/// A line split at its selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SplitLine {
    /// The line without the selector comment (plus a trailing quote the line ended in).
    pub(super) content: String,
    /// The selector expression between the brackets.
    pub(super) selector: String,
}

/// Splits one (right-trimmed) line at its selector; `Ok(None)` when it has none.
/// `Err` only when the regex gives up on a pathological line.
pub(super) fn split_line(line: &str) -> Result<Option<SplitLine>, String> {
    if !(line.contains('[') && line.contains(']')) {
        return Ok(None);
    }
    let trailing_quote = line.chars().last().filter(|c| *c == '\'' || *c == '"');
    let captures = SELECTOR_RE.captures(line).map_err(|e| e.to_string())?;
    Ok(captures.and_then(|caps| {
        let mut content = caps.get(1)?.as_str().to_string();
        content.extend(trailing_quote);
        let selector = caps.get(3)?.as_str().to_string();
        Some(SplitLine { content, selector })
    }))
}

/// The most characters of a selector (or offending line) an error repeats.
const MAX_ERROR_TEXT: usize = 120;

/// Text for an error message, cut to [`MAX_ERROR_TEXT`] characters.
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_ERROR_TEXT) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// True for a line conda-build blanks before anything else: a full-line comment.
pub(super) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// One compiled selector expression.
pub(super) struct Selector {
    /// The expression as written.
    pub(super) text: String,
    expr: Expression<'static, 'static>,
}

impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Selector").field(&self.text).finish()
    }
}

impl Selector {
    /// Compiles a selector; the error is minijinja's syntax message.
    pub(super) fn compile(text: &str) -> Result<Selector, String> {
        let python = pythonic_to_jinja(text);
        let expr = match SELECTOR_ENV.compile_expression_owned(python.clone()) {
            Ok(expr) => expr,
            // Python reads `a, b` as a tuple; Jinja needs the parentheses.
            Err(err) if python.contains(',') => SELECTOR_ENV
                .compile_expression_owned(format!("({python})"))
                .map_err(|_| describe(&err))?,
            Err(err) => return Err(describe(&err)),
        };
        Ok(Selector {
            text: text.to_string(),
            expr,
        })
    }

    /// Evaluates the selector in a namespace scope (see `Namespace::selector_scope`).
    pub(super) fn eval(&self, scope: &Value) -> Result<bool, String> {
        self.expr
            .eval(scope.clone())
            .map(|v| v.is_true())
            .map_err(|e| describe(&e))
    }
}

/// A minijinja error as one line of text (its detail included).
pub(super) fn describe(err: &Error) -> String {
    match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    }
}

/// Translates the Python-only spellings recipes use: `is None` / `is not None`.
fn pythonic_to_jinja(text: &str) -> String {
    let toks = tokens(text);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (i, tok) in toks.iter().enumerate() {
        let follows_is = i >= 1
            && (toks[i - 1].text(text) == "is"
                || (i >= 2 && toks[i - 1].text(text) == "not" && toks[i - 2].text(text) == "is"));
        if tok.kind == TokenKind::Ident && tok.text(text) == "None" && follows_is {
            out.push_str(text.get(at..tok.span.start).unwrap_or(""));
            out.push_str("none");
            at = tok.span.end;
        }
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// A failed selector in the second pass (over rendered text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RenderedSelectorError {
    /// 0-based line in the rendered text.
    pub(super) line: usize,
    /// The selector text.
    pub(super) selector: String,
    /// What went wrong.
    pub(super) message: String,
}

/// conda-build's second `select_lines` pass over rendered text: lines whose selector
/// is false become empty, selector comments are removed. `None` when nothing changed.
pub(super) fn select_rendered(
    text: &str,
    scope: &Value,
) -> Result<Option<String>, RenderedSelectorError> {
    if !text.contains('[') {
        return Ok(None);
    }
    let mut changed = false;
    let mut lines: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if !is_comment(line) {
            let fail = |selector: &str, message: String| RenderedSelectorError {
                line: index,
                selector: clip(selector),
                message,
            };
            if let Some(split) = split_line(line.trim_end()).map_err(|m| fail(line, m))? {
                let selector =
                    Selector::compile(&split.selector).map_err(|m| fail(&split.selector, m))?;
                let keep = selector.eval(scope).map_err(|m| fail(&split.selector, m))?;
                changed = true;
                lines.push(if keep {
                    split.content.into()
                } else {
                    "".into()
                });
                continue;
            }
        }
        lines.push(line.into());
    }
    Ok(changed.then(|| lines.join("\n")))
}

/// Python's `int()`: ints stay, floats truncate, numeric strings parse, anything else
/// is an error (as `ValueError` stops conda-build).
fn py_int(value: Value, _base: Rest<Value>) -> Result<Value, Error> {
    if let Some(i) = value.as_i64() {
        return Ok(Value::from(i));
    }
    match value.kind() {
        ValueKind::Bool => Ok(Value::from(i64::from(value.is_true()))),
        ValueKind::Number => f64::try_from(value.clone())
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| Value::from(f.trunc() as i64))
            .ok_or_else(|| invalid(&value, "int")),
        _ => value
            .as_str()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .map(Value::from)
            .ok_or_else(|| invalid(&value, "int")),
    }
}

/// Python's `float()`.
fn py_float(value: Value) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(value.clone())
            .map(Value::from)
            .or_else(|_| Ok(Value::from(f64::from(u8::from(value.is_true()))))),
        _ => value
            .as_str()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(Value::from)
            .ok_or_else(|| invalid(&value, "float")),
    }
}

/// Python's `str()`; an undefined name is `False` in a selector, so it prints `False`.
fn py_str(value: Value) -> String {
    match value.kind() {
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.to_string(),
        ValueKind::None => "None".to_string(),
        ValueKind::Undefined => "False".to_string(),
        _ => value.to_string(),
    }
}

fn invalid(value: &Value, function: &str) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("invalid literal for {function}(): {value:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! split_case {
        ($($test:ident: $line:expr => $expected:expr;)*) => {$(
            #[test]
            fn $test() {
                let got = split_line($line).unwrap().map(|s| (s.content, s.selector));
                let expected: Option<(&str, &str)> = $expected;
                assert_eq!(got, expected.map(|(c, s)| (c.to_string(), s.to_string())));
            }
        )*};
    }

    split_case! {
        compiler_line_splits: "    - {{ compiler('cxx') }}  # [not win]" => Some(("    - {{ compiler('cxx') }}", "not win"));
        skip_line_splits: "  skip: true  # [win and py<39]" => Some(("  skip: true", "win and py<39"));
        url_fragment_is_eaten_like_conda_build: "  url: https://example.com/x.tar.gz#sha256=abc  # [linux]" => Some(("  url: https://example.com/x.tar.gz", "linux"));
        markdown_link_is_not_a_selector: "    - foo  # see [docs](https://x) for why" => None;
        selector_without_hash_is_a_selector: "  - foo [win]" => Some(("  - foo", "win"));
        trailing_quote_is_kept: "  summary: \"a  # [win]\"" => Some(("  summary: \"a\"", "win"));
        plain_line_has_no_selector: "  - python >=3.8" => None;
        set_line_splits: "{% set x = 1 %}  # [win]" => Some(("{% set x = 1 %}", "win"));
    }

    fn scope(pairs: &[(&str, Value)]) -> Value {
        let names: std::collections::BTreeMap<String, Value> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        // The namespace scope lives in `namespace`; a plain map is enough here except
        // for the undefined-is-false rule, tested there.
        Value::from(names)
    }

    macro_rules! eval_case {
        ($($test:ident: $selector:expr => $expected:expr;)*) => {$(
            #[test]
            fn $test() {
                let ctx = scope(&[
                    ("linux", Value::from(true)),
                    ("win", Value::from(false)),
                    ("py", Value::from(312)),
                    ("vc", Value::from("14.3")),
                    ("python", Value::from("3.13.* *_cp313t")),
                    ("blas_impl", Value::from("openblas")),
                    ("cuda_compiler_version", Value::from("None")),
                    ("USE_OPENMP", Value::from(1)),
                    ("x", Value::from(())),
                ]);
                let selector = Selector::compile($selector).unwrap();
                assert_eq!(selector.eval(&ctx).unwrap(), $expected, "{}", $selector);
            }
        )*};
    }

    eval_case! {
        not_win_on_linux_is_true: "not win" => true;
        python_comparison_on_py: "py<311" => false;
        int_of_float_of_vc: "linux and int(float(vc)) < 15" => true;
        membership_in_str_of_python: "('cp313t' in str(python)) or ('cp314t' in str(python))" => true;
        string_method_on_a_variant_value: "(blas_impl or '').startswith('nvpl')" => false;
        not_in_a_tuple: "cuda_compiler_version not in (\"None\", \"11.8\")" => false;
        numeric_variant_equals_one: "USE_OPENMP == 1" => true;
        python_is_none_is_translated: "x is None" => true;
        python_is_not_none_is_translated: "x is not None" => false;
    }

    #[test]
    fn broken_selector_does_not_compile() {
        assert!(Selector::compile("linux and (").is_err());
        assert!(Selector::compile("win )").is_err());
    }

    #[test]
    fn int_of_garbage_is_an_evaluation_error() {
        let selector = Selector::compile("int('abc') > 1").unwrap();
        assert!(selector.eval(&scope(&[])).is_err());
    }

    #[test]
    fn second_pass_drops_false_lines_and_keeps_line_count() {
        let ctx = scope(&[("win", Value::from(false)), ("linux", Value::from(true))]);
        let text = "a:\n  - x  # [win]\n  - y  # [linux]\n  - z\n";
        let out = select_rendered(text, &ctx).unwrap().unwrap();
        assert_eq!(out, "a:\n\n  - y\n  - z\n");
    }

    #[test]
    fn second_pass_without_selectors_changes_nothing() {
        let ctx = scope(&[]);
        assert_eq!(select_rendered("a: 1\nb: [c]  # d\n", &ctx).unwrap(), None);
    }

    #[test]
    fn flow_list_at_line_end_is_a_tuple_selector_like_in_conda_build() {
        // Python evaluates `[1, 2]` as the selector `1, 2`: a non-empty tuple, so the
        // line is kept without its list.
        let ctx = scope(&[]);
        assert_eq!(
            select_rendered("a: [1, 2]\nb: 1", &ctx).unwrap().as_deref(),
            Some("a:\nb: 1")
        );
    }

    #[test]
    fn second_pass_reports_the_rendered_line_of_a_broken_selector() {
        let ctx = scope(&[]);
        let err = select_rendered("a: 1\nb: 2  # [linux and (]\n", &ctx).unwrap_err();
        assert_eq!(err.line, 1);
    }
}
