//! Which variant keys a v0 recipe can read: the over-approximation behind
//! `Template::used_variables`.
//!
//! Every identifier in a Jinja tag or a selector counts (except attribute names after
//! `.`, keyword-argument names and `set`/`for` targets), plus the keys conda-build derives names from:
//! `compiler('c')` reads `c_compiler` and `c_compiler_version`, `stdlib('c')` reads
//! `c_stdlib` and `c_stdlib_version`, `py`/`py3k`/`PY_VER` read `python`, `np` reads
//! `numpy`, and `target_platform` and `build_platform` are always read. Missing a key
//! would merge renders that differ, so when in doubt a name is included.

use std::collections::BTreeSet;

use super::tags::{Token, TokenKind, tokens};

/// Names that read the `python` variant key. (`PYTHON`, `SP_DIR` and `STDLIB_DIR` are
/// paths, which render as their own names, so they read nothing.)
const PYTHON_NAMES: [&str; 6] = ["py", "py3k", "py2k", "PY_VER", "PY3K", "CONDA_PY"];
/// Names that read the `numpy` variant key.
const NUMPY_NAMES: [&str; 3] = ["np", "NPY_VER", "CONDA_NPY"];
/// Names that read the `perl` variant key.
const PERL_NAMES: [&str; 1] = ["pl"];
/// Names that read the `lua` variant key.
const LUA_NAMES: [&str; 2] = ["lua", "luajit"];

/// Adds the variables one expression (a tag's inside or a selector) reads to `used`.
pub(super) fn collect(expr: &str, used: &mut BTreeSet<String>) {
    let toks = tokens(expr);
    for (i, tok) in toks.iter().enumerate() {
        if tok.kind != TokenKind::Ident {
            continue;
        }
        let name = tok.text(expr);
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let next = toks.get(i + 1);
        if prev.is_some_and(|p| is_punct(p, expr, ".")) {
            continue;
        }
        let is_keyword_argument = next.is_some_and(|n| is_punct(n, expr, "="))
            && prev.is_some_and(|p| is_punct(p, expr, ",") || is_punct(p, expr, "("));
        let is_assignment_target = prev
            .is_some_and(|p| p.kind == TokenKind::Ident && matches!(p.text(expr), "set" | "for"));
        if is_keyword_argument || is_assignment_target {
            continue;
        }
        if matches!(name, "compiler" | "stdlib")
            && next.is_some_and(|n| is_punct(n, expr, "("))
            && let Some(arg) = toks.get(i + 2).filter(|t| t.kind == TokenKind::Str)
        {
            let lang = unquote(arg.text(expr));
            used.insert(format!("{lang}_{name}"));
            used.insert(format!("{lang}_{name}_version"));
        }
        derived(name, used);
        used.insert(name.to_string());
    }
}

/// Keys every render reads whatever the recipe says.
pub(super) fn always(used: &mut BTreeSet<String>) {
    used.insert("target_platform".to_string());
    used.insert("build_platform".to_string());
}

/// The variant key a derived namespace name comes from.
fn derived(name: &str, used: &mut BTreeSet<String>) {
    let is_py_flag = name
        .strip_prefix("py")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
    if is_py_flag || PYTHON_NAMES.contains(&name) {
        used.insert("python".to_string());
    }
    if NUMPY_NAMES.contains(&name) {
        used.insert("numpy".to_string());
    }
    if PERL_NAMES.contains(&name) {
        used.insert("perl".to_string());
    }
    if LUA_NAMES.contains(&name) {
        used.insert("lua".to_string());
    }
}

fn is_punct(tok: &Token, source: &str, text: &str) -> bool {
    tok.kind == TokenKind::Punct && tok.text(source) == text
}

fn unquote(literal: &str) -> &str {
    let inner = literal.get(1..).unwrap_or("");
    inner.strip_suffix(['"', '\'']).unwrap_or(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(expr: &str) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        collect(expr, &mut set);
        set
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn compiler_call_reads_compiler_keys() {
        assert_eq!(
            used(" compiler('c') "),
            set(&["compiler", "c_compiler", "c_compiler_version"])
        );
    }

    #[test]
    fn stdlib_call_reads_stdlib_keys() {
        assert_eq!(
            used("stdlib(\"c\")"),
            set(&["stdlib", "c_stdlib", "c_stdlib_version"])
        );
    }

    #[test]
    fn attribute_names_and_keyword_names_are_not_reads() {
        assert_eq!(
            used("pin_subpackage(name ~ version.split('.')[0], max_pin='x')"),
            set(&["pin_subpackage", "name", "version"])
        );
    }

    #[test]
    fn py_selector_reads_python() {
        assert_eq!(used("win and py<39"), set(&["win", "and", "py", "python"]));
        assert!(used("py312").contains("python"));
    }

    #[test]
    fn equality_is_not_a_keyword_argument() {
        assert!(used("cuda_compiler_version == 'None'").contains("cuda_compiler_version"));
    }

    #[test]
    fn set_target_is_not_a_read_but_its_value_is() {
        assert_eq!(
            used(" set mpi = mpi or 'nompi' "),
            set(&["set", "mpi", "or"])
        );
        assert_eq!(used(" set v = 1 "), set(&["set"]));
        assert_eq!(used(" for x in libs "), set(&["for", "in", "libs"]));
    }
}
