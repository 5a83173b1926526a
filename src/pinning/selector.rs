//! Line selectors (`text  # [expr]`) as conda-build evaluates them (reference §2.2).
//!
//! conda-build hands `expr` to Python's `eval` with a namespace of platform flags,
//! `os.environ` and (inside a recipe) the variant's values. Variant files and recipes only
//! use a small part of Python, so this module carries a small interpreter for it:
//! `and`/`or`/`not`, comparisons (chained, `in`, `not in`, `is`), tuple and list literals,
//! strings, numbers, `os.environ.get(...)`, and a few string methods. An unknown name is
//! `False`, as conda-build makes it. Anything else is an error naming the expression.

use std::collections::HashMap;

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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Str(String),
    Int(i64),
    Float(f64),
    Op(&'static str),
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "end of expression".to_string(),
        Some(Token::Name(n)) => n.clone(),
        Some(Token::Str(s)) => format!("{s:?}"),
        Some(Token::Int(i)) => i.to_string(),
        Some(Token::Float(f)) => f.to_string(),
        Some(Token::Op(op)) => (*op).to_string(),
    }
}

const OPERATORS: [&str; 14] = [
    "==", "!=", "<=", ">=", "<", ">", "(", ")", "[", "]", ",", ".", "+", "-",
];

fn tokenize(expr: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            tokens.push(Token::Name(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            if let Ok(int) = text.parse::<i64>() {
                tokens.push(Token::Int(int));
            } else {
                let float = text
                    .parse::<f64>()
                    .map_err(|_| format!("bad number `{text}`"))?;
                tokens.push(Token::Float(float));
            }
        } else if c == '"' || c == '\'' {
            let mut text = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err("unterminated string".to_string()),
                    Some(&q) if q == c => break,
                    Some('\\') => {
                        if let Some(&next) = chars.get(i + 1) {
                            text.push(next);
                        }
                        i += 2;
                        continue;
                    }
                    Some(&other) => text.push(other),
                }
                i += 1;
            }
            i += 1;
            tokens.push(Token::Str(text));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("unexpected character `{c}`"))?;
            tokens.push(Token::Op(op));
            i += op.len();
        }
    }
    Ok(tokens)
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

/// Python's `str()` of a value.
fn to_text(value: &PyValue) -> String {
    match value {
        PyValue::None => "None".to_string(),
        PyValue::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        PyValue::Int(i) => i.to_string(),
        PyValue::Float(f) => format!("{f:?}"),
        PyValue::Str(s) => s.clone(),
        other => format!("{other:?}"),
    }
}

fn builtin(name: &str, args: &[PyValue]) -> Result<PyValue, String> {
    let [arg] = args else {
        return Err(format!("{name}() takes one argument"));
    };
    let bad = || format!("{name}() cannot convert {arg:?}");
    Ok(match name {
        "str" => PyValue::Str(to_text(arg)),
        "bool" => PyValue::Bool(arg.truthy()),
        "len" => match arg {
            PyValue::Str(s) => PyValue::Int(s.chars().count() as i64),
            PyValue::Seq(items) => PyValue::Int(items.len() as i64),
            _ => return Err(bad()),
        },
        "int" => match arg {
            PyValue::Int(i) => PyValue::Int(*i),
            PyValue::Bool(b) => PyValue::Int(i64::from(*b)),
            PyValue::Float(f) => PyValue::Int(f.trunc() as i64),
            PyValue::Str(s) => PyValue::Int(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
        _ => match arg {
            PyValue::Int(i) => PyValue::Float(*i as f64),
            PyValue::Bool(b) => PyValue::Float(f64::from(u8::from(*b))),
            PyValue::Float(f) => PyValue::Float(*f),
            PyValue::Str(s) => PyValue::Float(s.trim().parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        },
    })
}

fn call(target: PyValue, args: Vec<PyValue>, ns: &Namespace) -> Result<PyValue, String> {
    if let PyValue::Builtin(name) = target {
        return builtin(name, &args);
    }
    let PyValue::Method(receiver, method) = target else {
        return Err(format!("{target:?} is not callable"));
    };
    match (*receiver, method.as_str()) {
        (PyValue::Environ, "get") => {
            let key = match args.first() {
                Some(PyValue::Str(k)) => k,
                _ => return Err("os.environ.get needs a string key".to_string()),
            };
            Ok(match ns.environ.get(key) {
                Some(v) => PyValue::Str(v.clone()),
                None => args.get(1).cloned().unwrap_or(PyValue::None),
            })
        }
        (PyValue::Str(s), "startswith" | "endswith") => {
            let prefixes: Vec<String> = match args.first() {
                Some(PyValue::Str(p)) => vec![p.clone()],
                Some(PyValue::Seq(items)) => items
                    .iter()
                    .filter_map(|i| match i {
                        PyValue::Str(p) => Some(p.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => return Err(format!("{method} needs a string")),
            };
            let hit = prefixes.iter().any(|p| {
                if method == "startswith" {
                    s.starts_with(p.as_str())
                } else {
                    s.ends_with(p.as_str())
                }
            });
            Ok(PyValue::Bool(hit))
        }
        (PyValue::Str(s), "lower") => Ok(PyValue::Str(s.to_lowercase())),
        (PyValue::Str(s), "upper") => Ok(PyValue::Str(s.to_uppercase())),
        (PyValue::Str(s), "strip") => Ok(PyValue::Str(s.trim().to_string())),
        (receiver, method) => Err(format!("unsupported call `{method}` on {receiver:?}")),
    }
}

fn subscript(target: PyValue, index: PyValue, ns: &Namespace) -> Result<PyValue, String> {
    match (target, index) {
        (PyValue::Environ, PyValue::Str(key)) => ns
            .environ
            .get(&key)
            .map(|v| PyValue::Str(v.clone()))
            .ok_or_else(|| format!("environment variable `{key}` is not set")),
        (PyValue::Seq(items), PyValue::Int(i)) => {
            let index = if i < 0 { items.len() as i64 + i } else { i };
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i).cloned())
                .ok_or_else(|| "index out of range".to_string())
        }
        (PyValue::Str(s), PyValue::Int(i)) => {
            let chars: Vec<char> = s.chars().collect();
            let index = if i < 0 { chars.len() as i64 + i } else { i };
            usize::try_from(index)
                .ok()
                .and_then(|i| chars.get(i))
                .map(|c| PyValue::Str(c.to_string()))
                .ok_or_else(|| "index out of range".to_string())
        }
        (target, index) => Err(format!("cannot index {target:?} with {index:?}")),
    }
}

fn number(value: &PyValue) -> Option<f64> {
    match value {
        PyValue::Bool(b) => Some(f64::from(u8::from(*b))),
        PyValue::Int(i) => Some(*i as f64),
        PyValue::Float(f) => Some(*f),
        _ => None,
    }
}

fn compare(left: &PyValue, op: &str, right: &PyValue) -> Result<bool, String> {
    match op {
        "in" | "not in" => {
            let found = match right {
                PyValue::Seq(items) => items.iter().any(|i| equal(left, i)),
                PyValue::Str(hay) => match left {
                    PyValue::Str(needle) => hay.contains(needle.as_str()),
                    _ => return Err(format!("`in <string>` needs a string, not {left:?}")),
                },
                _ => return Err(format!("cannot test membership in {right:?}")),
            };
            Ok(found == (op == "in"))
        }
        "==" => Ok(equal(left, right)),
        "!=" => Ok(!equal(left, right)),
        _ => {
            let ordering = match (left, right) {
                (PyValue::Str(a), PyValue::Str(b)) => a.cmp(b),
                _ => {
                    let (Some(a), Some(b)) = (number(left), number(right)) else {
                        return Err(format!("cannot order {left:?} and {right:?}"));
                    };
                    a.partial_cmp(&b)
                        .ok_or_else(|| "cannot order NaN".to_string())?
                }
            };
            Ok(match op {
                "<" => ordering.is_lt(),
                ">" => ordering.is_gt(),
                "<=" => ordering.is_le(),
                _ => ordering.is_ge(),
            })
        }
    }
}

fn equal(left: &PyValue, right: &PyValue) -> bool {
    match (number(left), number(right)) {
        (Some(a), Some(b)) => a == b,
        _ => left == right,
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
