//! What selector values can do: builtin functions (`int`, `str`, ...), method calls
//! (`os.environ.get`, `str.startswith`), subscripts and comparisons, with Python's rules.

use super::{Namespace, PyValue};

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

pub(super) fn call(target: PyValue, args: Vec<PyValue>, ns: &Namespace) -> Result<PyValue, String> {
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

pub(super) fn subscript(
    target: PyValue,
    index: PyValue,
    ns: &Namespace,
) -> Result<PyValue, String> {
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

pub(super) fn compare(left: &PyValue, op: &str, right: &PyValue) -> Result<bool, String> {
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
