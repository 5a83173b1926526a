//! Line selectors (`text  # [expr]`) as conda-build evaluates them (reference §2.2).
//!
//! conda-build hands `expr` to Python's `eval` with a namespace of platform flags,
//! `os.environ` and (inside a recipe) the variant's values. Variant files and recipes only
//! use a small part of Python, so this module carries a small interpreter for it:
//! `and`/`or`/`not`, comparisons (chained, `in`, `not in`, `is`), tuple and list literals,
//! strings, numbers, `os.environ.get(...)`, and a few string methods. An unknown name is
//! `False`, as conda-build makes it. Anything else is an error naming the expression.

use std::collections::HashMap;

mod ops;
mod tokens;

use ops::{call, compare, subscript};
use tokens::{Token, describe, tokenize};

/// A value of the selector language (a tiny subset of Python's).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string.
    Str(String),
    /// A tuple or list literal.
    Seq(Vec<PyValue>),
    /// The `os` module.
    Os,
    /// `os.environ`.
    Environ,
    /// A bound method waiting for its call (`"x".startswith`, `os.environ.get`).
    Method(Box<PyValue>, String),
    /// A builtin function (`int`, `float`, `str`, `bool`, `len`).
    Builtin(&'static str),
}

impl PyValue {
    /// Python truthiness.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            PyValue::None => false,
            PyValue::Bool(b) => *b,
            PyValue::Int(i) => *i != 0,
            PyValue::Float(f) => *f != 0.0,
            PyValue::Str(s) => !s.is_empty(),
            PyValue::Seq(items) => !items.is_empty(),
            PyValue::Os | PyValue::Environ | PyValue::Method(..) | PyValue::Builtin(_) => true,
        }
    }

    /// Converts a variant value the way conda-build's `ns_cfg` does: integers become
    /// ints, `true`/`false` (any case) booleans, everything else stays a string.
    pub(crate) fn from_variant_value(value: &str) -> PyValue {
        if let Ok(i) = value.trim().parse::<i64>() {
            return PyValue::Int(i);
        }
        match value.to_ascii_lowercase().as_str() {
            "true" => PyValue::Bool(true),
            "false" => PyValue::Bool(false),
            _ => PyValue::Str(value.to_string()),
        }
    }
}

/// The names a selector can read: platform flags, environment and variant values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Namespace {
    names: HashMap<String, PyValue>,
    environ: HashMap<String, String>,
}

impl Namespace {
    /// Sets a name.
    pub(crate) fn set(&mut self, name: &str, value: PyValue) {
        self.names.insert(name.to_string(), value);
    }

    /// Sets an environment variable (visible through `os.environ` and as a bare name).
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.environ.insert(name.to_string(), value.to_string());
        self.names
            .insert(name.to_string(), PyValue::Str(value.to_string()));
    }

    /// True when the name is defined.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// Evaluates a selector expression to a boolean.
    pub(crate) fn eval(&self, expr: &str) -> Result<bool, String> {
        self.eval_tokens(&tokenize(expr)?)
    }

    /// Evaluates a compiled selector.
    pub(crate) fn eval_compiled(&self, selector: &Compiled) -> Result<bool, String> {
        match &selector.0 {
            Ok(tokens) => self.eval_tokens(tokens),
            Err(message) => Err(message.clone()),
        }
    }

    fn eval_tokens(&self, tokens: &[Token]) -> Result<bool, String> {
        let mut parser = Parser {
            tokens,
            pos: 0,
            ns: self,
        };
        let mut value = parser.expr()?;
        // `a, b` is a tuple, as Python's `eval` reads it (a flow list `key: [a, b]` in a
        // variant file is therefore a selector, as conda-build treats it).
        if parser.peek_op(",") {
            let mut items = vec![value];
            while parser.peek_op(",") {
                parser.pos += 1;
                if parser.pos == tokens.len() {
                    break;
                }
                items.push(parser.expr()?);
            }
            value = PyValue::Seq(items);
        }
        if parser.pos != tokens.len() {
            return Err(format!("unexpected `{}`", describe(tokens.get(parser.pos))));
        }
        Ok(value.truthy())
    }
}

/// A selector tokenized once, to be evaluated for many platforms and variants.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compiled(Result<Vec<Token>, String>);

impl Compiled {
    /// Tokenizes an expression (a bad one fails when evaluated, as in conda-build).
    pub(crate) fn new(expr: &str) -> Compiled {
        Compiled(tokenize(expr))
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    ns: &'a Namespace,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_name(&self, name: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if n == name)
    }

    fn peek_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token::Op(o)) if *o == op)
    }

    fn expect_op(&mut self, op: &str) -> Result<(), String> {
        if self.peek_op(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{op}`, found `{}`",
                describe(self.peek())
            ))
        }
    }

    fn expr(&mut self) -> Result<PyValue, String> {
        let mut left = self.and_expr()?;
        while self.peek_name("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            if !left.truthy() {
                left = right;
            }
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<PyValue, String> {
        let mut left = self.not_expr()?;
        while self.peek_name("and") {
            self.pos += 1;
            let right = self.not_expr()?;
            if left.truthy() {
                left = right;
            }
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<PyValue, String> {
        if self.peek_name("not") {
            self.pos += 1;
            let value = self.not_expr()?;
            return Ok(PyValue::Bool(!value.truthy()));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<PyValue, String> {
        let first = self.sum()?;
        let mut left = first.clone();
        let mut result: Option<bool> = None;
        let tokens = self.tokens;
        loop {
            let op = match tokens.get(self.pos) {
                Some(Token::Op(op)) if matches!(*op, "==" | "!=" | "<" | ">" | "<=" | ">=") => {
                    self.pos += 1;
                    (*op).to_string()
                }
                Some(Token::Name(n)) if n == "in" => {
                    self.pos += 1;
                    "in".to_string()
                }
                Some(Token::Name(n)) if n == "is" => {
                    self.pos += 1;
                    if self.peek_name("not") {
                        self.pos += 1;
                        "!=".to_string()
                    } else {
                        "==".to_string()
                    }
                }
                Some(Token::Name(n))
                    if n == "not"
                        && matches!(tokens.get(self.pos + 1), Some(Token::Name(m)) if m == "in") =>
                {
                    self.pos += 2;
                    "not in".to_string()
                }
                _ => break,
            };
            let right = self.sum()?;
            let holds = compare(&left, &op, &right)?;
            result = Some(result.unwrap_or(true) && holds);
            left = right;
        }
        Ok(match result {
            None => first,
            Some(b) => PyValue::Bool(b),
        })
    }

    fn sum(&mut self) -> Result<PyValue, String> {
        let mut left = self.unary()?;
        while self.peek_op("+") {
            self.pos += 1;
            let right = self.unary()?;
            left = match (left, right) {
                (PyValue::Str(a), PyValue::Str(b)) => PyValue::Str(a + &b),
                (PyValue::Int(a), PyValue::Int(b)) => PyValue::Int(a.saturating_add(b)),
                (a, b) => return Err(format!("cannot add {a:?} and {b:?}")),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<PyValue, String> {
        if self.peek_op("-") {
            self.pos += 1;
            return match self.unary()? {
                PyValue::Int(i) => Ok(PyValue::Int(-i)),
                PyValue::Float(f) => Ok(PyValue::Float(-f)),
                other => Err(format!("cannot negate {other:?}")),
            };
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<PyValue, String> {
        let mut value = self.atom()?;
        loop {
            if self.peek_op(".") {
                self.pos += 1;
                let Some(Token::Name(attr)) = self.peek().cloned() else {
                    return Err("expected a name after `.`".to_string());
                };
                self.pos += 1;
                value = match (value, attr.as_str()) {
                    (PyValue::Os, "environ") => PyValue::Environ,
                    (target, _) => PyValue::Method(Box::new(target), attr),
                };
            } else if self.peek_op("(") {
                self.pos += 1;
                let args = self.arguments(")")?;
                value = call(value, args, self.ns)?;
            } else if self.peek_op("[") {
                self.pos += 1;
                let index = self.expr()?;
                self.expect_op("]")?;
                value = subscript(value, index, self.ns)?;
            } else {
                return Ok(value);
            }
        }
    }

    fn arguments(&mut self, close: &str) -> Result<Vec<PyValue>, String> {
        let mut args = Vec::new();
        while !self.peek_op(close) {
            args.push(self.expr()?);
            if !self.peek_op(",") {
                break;
            }
            self.pos += 1;
        }
        self.expect_op(close)?;
        Ok(args)
    }

    fn atom(&mut self) -> Result<PyValue, String> {
        let token = self
            .peek()
            .cloned()
            .ok_or_else(|| "unexpected end of expression".to_string())?;
        self.pos += 1;
        match token {
            Token::Str(s) => {
                // Adjacent string literals concatenate.
                let mut s = s;
                while let Some(Token::Str(next)) = self.peek() {
                    s.push_str(next);
                    self.pos += 1;
                }
                Ok(PyValue::Str(s))
            }
            Token::Int(i) => Ok(PyValue::Int(i)),
            Token::Float(f) => Ok(PyValue::Float(f)),
            Token::Name(name) => Ok(match name.as_str() {
                "True" => PyValue::Bool(true),
                "False" => PyValue::Bool(false),
                "None" => PyValue::None,
                "os" if !self.ns.contains("os") => PyValue::Os,
                "environ" if !self.ns.contains("environ") => PyValue::Environ,
                builtin @ ("int" | "float" | "str" | "bool" | "len")
                    if self.peek_op("(") && !self.ns.contains(builtin) =>
                {
                    PyValue::Builtin(match builtin {
                        "int" => "int",
                        "float" => "float",
                        "str" => "str",
                        "bool" => "bool",
                        _ => "len",
                    })
                }
                _ => self
                    .ns
                    .names
                    .get(&name)
                    .cloned()
                    .unwrap_or(PyValue::Bool(false)),
            }),
            Token::Op("(") => {
                if self.peek_op(")") {
                    self.pos += 1;
                    return Ok(PyValue::Seq(Vec::new()));
                }
                let first = self.expr()?;
                if self.peek_op(")") {
                    self.pos += 1;
                    return Ok(first);
                }
                self.expect_op(",")?;
                let mut items = vec![first];
                items.extend(self.arguments(")")?);
                Ok(PyValue::Seq(items))
            }
            Token::Op("[") => Ok(PyValue::Seq(self.arguments("]")?)),
            other => Err(format!("unexpected `{}`", describe(Some(&other)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux64() -> Namespace {
        let mut ns = Namespace::default();
        ns.set("linux", PyValue::Bool(true));
        ns.set("x86_64", PyValue::Bool(true));
        ns.set("win", PyValue::Bool(false));
        ns.set_env("BUILD_PLATFORM", "linux-64");
        ns.set("cuda_compiler_version", PyValue::from_variant_value("None"));
        ns
    }

    #[test]
    fn platform_flags_and_boolean_operators_evaluate() {
        let ns = linux64();
        assert_eq!(ns.eval("linux and not win"), Ok(true));
        assert_eq!(ns.eval("not (win and arm64)"), Ok(true));
        assert_eq!(ns.eval("win or osx"), Ok(false));
    }

    #[test]
    fn environment_lookups_use_their_default_when_unset() {
        let ns = linux64();
        assert_eq!(
            ns.eval(r#"os.environ.get("BUILD_PLATFORM", "").startswith("linux-")"#),
            Ok(true)
        );
        assert_eq!(
            ns.eval(r#"os.environ.get("DEFAULT_LINUX_VERSION", "alma10") in ("alma8", "ubi8")"#),
            Ok(false)
        );
        assert_eq!(
            ns.eval(r#"os.environ.get("CF_CUDA_ENABLED", "False") == "True""#),
            Ok(false)
        );
    }

    #[test]
    fn or_returns_an_operand_like_python() {
        let ns = linux64();
        assert_eq!(
            ns.eval(r#"(cuda_compiler_version or "None").startswith("12")"#),
            Ok(false)
        );
        assert_eq!(ns.eval(r#"cuda_compiler_version != "None""#), Ok(false));
    }

    #[test]
    fn builtins_convert_like_python() {
        let mut ns = linux64();
        ns.set("vc", PyValue::from_variant_value("14"));
        ns.set("python", PyValue::from_variant_value("3.14.* *_cp314t"));
        assert_eq!(ns.eval("int(float(vc)) < 14"), Ok(false));
        assert_eq!(ns.eval("'cp314t' in str(python)"), Ok(true));
    }

    #[test]
    fn unknown_names_are_false() {
        assert_eq!(linux64().eval("cuda_compiler_version_min"), Ok(false));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(linux64().eval("linux and (").is_err());
        assert!(linux64().eval("1 < 'a'").is_err());
        assert!(linux64().eval("@").is_err());
    }
}
