//! The sandboxed Jinja environment v0 recipes render in: conda-build's context functions
//! as the bot stubs them, Python string methods (minijinja-contrib `pycompat`), and the
//! few Jinja2 behaviours minijinja lacks (`int`/`float` filters that fall back to 0,
//! `'%s' % x` formatting through [`super::percent`]).
//!
//! Sandboxed means: no process environment (`environ` and `os.environ` are empty), no
//! file access (`load_*` functions return empty data, includes resolve to nothing).

use std::sync::{Arc, LazyLock};

use minijinja::value::{Object, ObjectRepr, Rest, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior, Value};

use super::clock::datetime_module;
use super::percent::PERCENT_FILTER;

/// The CRAN mirror conda-build's `cran_mirror` context variable holds.
const CRAN_MIRROR: &str = "https://cran.r-project.org";

/// The environment every recipe template starts from; cloning it is cheap (its tables
/// are behind `Arc`s).
static BASE: LazyLock<Environment<'static>> = LazyLock::new(build_base);

/// A fresh recipe environment: the base plus a template loader.
pub(super) fn recipe_environment<F>(loader: F) -> Environment<'static>
where
    F: Fn(&str) -> Result<Option<String>, Error> + Send + Sync + 'static,
{
    let mut env = BASE.clone();
    env.set_loader(loader);
    env
}

/// The most Jinja instructions one render may run. Real recipes need a few thousand;
/// a hostile recipe with nested loops that print nothing stops here instead of hanging
/// the crawl (the output cap and recursion limit do not catch it).
const FUEL: u64 = 2_000_000;

fn build_base() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_debug(false);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("compiler", |lang: Value| {
        format!("{}_compiler_stub", text(&lang))
    });
    env.add_function("stdlib", |lang: Value| {
        format!("{}_stdlib_stub", text(&lang))
    });
    env.add_function("pin_subpackage", first_argument);
    env.add_function("pin_compatible", first_argument);
    env.add_function("cdt", |_args: Rest<ValueOrKwargs>| "cdt_stub");
    env.add_function("load_setup_py_data", empty_data);
    env.add_function("load_file_regex", empty_data);
    env.add_function("load_file_data", empty_data);
    env.add_function("load_str_data", empty_data);
    env.add_global("cran_mirror", CRAN_MIRROR);
    env.add_global("datetime", datetime_module());
    env.add_global("environ", empty_environ());
    env.add_global("os", os_module());
    env.add_filter("int", int_filter);
    env.add_filter("float", float_filter);
    env.add_filter(PERCENT_FILTER, super::percent::percent_format);
    env
}

/// A value as text the way Jinja prints it (`none` and undefined print empty).
pub(super) fn text(value: &Value) -> String {
    if value.is_undefined() || value.is_none() {
        String::new()
    } else {
        value.to_string()
    }
}

/// `pin_subpackage(name, ...)` / `pin_compatible(name, ...)`: the bare name. Any other
/// arguments, keyword or not, are accepted and ignored.
fn first_argument(args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    for arg in args.iter().map(|a| &**a) {
        if arg.is_kwargs() {
            if let Ok(name) = arg.get_attr("name")
                && !name.is_undefined()
            {
                return Ok(Value::from(text(&name)));
            }
            continue;
        }
        return Ok(Value::from(text(arg)));
    }
    Err(Error::new(
        ErrorKind::MissingArgument,
        "expected a package name",
    ))
}

/// Jinja2's `int` filter: the integer value, or `default` (0) when there is none.
fn int_filter(value: Value, default: Option<Value>) -> Value {
    let fallback = default.unwrap_or(Value::from(0));
    if let Some(i) = value.as_i64() {
        return Value::from(i);
    }
    if let Ok(f) = f64::try_from(value.clone())
        && f.is_finite()
    {
        return Value::from(f.trunc() as i64);
    }
    match value.as_str().map(str::trim) {
        Some(s) => s
            .parse::<i64>()
            .ok()
            .or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
            .map(Value::from)
            .unwrap_or(fallback),
        None => fallback,
    }
}

/// Jinja2's `float` filter: the float value, or `default` (0.0) when there is none.
fn float_filter(value: Value, default: Option<Value>) -> Value {
    let fallback = default.unwrap_or(Value::from(0.0));
    if value.as_str().is_none()
        && let Ok(f) = f64::try_from(value.clone())
    {
        return Value::from(f);
    }
    match value.as_str().map(str::trim) {
        Some(s) => s.parse::<f64>().map(Value::from).unwrap_or(fallback),
        None => fallback,
    }
}

/// `load_setup_py_data()` and friends: an empty mapping whose items read as `""`,
/// like cf-scripts' `defaultdict(lambda: "")`.
fn empty_data(_args: Rest<ValueOrKwargs>) -> Value {
    Value::from_object(EmptyData)
}

/// The empty result of a `load_*` function.
#[derive(Debug)]
struct EmptyData;

impl Object for EmptyData {
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        Some(Value::from(""))
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Empty
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        Ok(match method {
            "get" => args.get(1).cloned().unwrap_or(Value::from(())),
            "keys" | "values" | "items" => Value::from(Vec::<Value>::new()),
            _ => Value::from(""),
        })
    }
}

/// `environ` / `os.environ`: always empty; `environ.get(key, default)` gives `default`.
pub(super) fn empty_environ() -> Value {
    Value::from_object(EmptyEnviron)
}

/// The sandboxed process environment.
#[derive(Debug)]
struct EmptyEnviron;

impl Object for EmptyEnviron {
    fn get_value(self: &Arc<Self>, _key: &Value) -> Option<Value> {
        None
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Empty
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => Ok(args.get(1).cloned().unwrap_or(Value::from(()))),
            "keys" | "values" | "items" => Ok(Value::from(Vec::<Value>::new())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// The `os` module as far as recipes use it: `os.environ`, `os.sep`, `os.pathsep`,
/// `os.path.join`, `os.getenv`.
pub(super) fn os_module() -> Value {
    Value::from_object(OsModule)
}

/// A sandboxed `os` module.
#[derive(Debug)]
struct OsModule;

impl Object for OsModule {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "environ" => empty_environ(),
            "sep" => Value::from("/"),
            "pathsep" => Value::from(":"),
            "linesep" => Value::from("\n"),
            "name" => Value::from("posix"),
            "path" => Value::from_object(OsPath),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "getenv" => Ok(args.get(1).cloned().unwrap_or(Value::from(()))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<module 'os'>")
    }
}

/// A sandboxed `os.path`: string operations only, every file test is false.
#[derive(Debug)]
struct OsPath;

impl Object for OsPath {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "sep" => Some(Value::from("/")),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let first = args.first().map(text).unwrap_or_default();
        Ok(match method {
            "join" => {
                let mut joined = String::new();
                for part in args.iter().map(text) {
                    if part.starts_with('/') {
                        joined = part;
                    } else {
                        if !joined.is_empty() && !joined.ends_with('/') {
                            joined.push('/');
                        }
                        joined.push_str(&part);
                    }
                }
                Value::from(joined)
            }
            "basename" => Value::from(first.rsplit('/').next().unwrap_or_default()),
            "dirname" => Value::from(first.rsplit_once('/').map(|(d, _)| d).unwrap_or("")),
            "exists" | "isfile" | "isdir" | "islink" => Value::from(false),
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        })
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<module 'os.path'>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str) -> String {
        let env = recipe_environment(|_| Ok(None));
        let ctx = minijinja::context! { version => "1.22.4" };
        env.render_str(source, ctx).unwrap()
    }

    macro_rules! jinja_case {
        ($($test:ident: $source:expr => $expected:expr;)*) => {$(
            #[test]
            fn $test() {
                assert_eq!(render($source), $expected);
            }
        )*};
    }

    jinja_case! {
        split_index_reads_the_major_version: "{{ version.split('.')[0] }}" => "1";
        split_slice_join_reads_major_minor: "{{ version.split('.')[:2]|join('.') }}" => "1.22";
        replace_method_works: "{{ version.replace('.', '_') }}" => "1_22_4";
        str_join_method_works: "{{ '.'.join(version.split('.')[0:2]) }}" => "1.22";
        os_environ_get_gives_the_default: "{{ os.environ.get('CPU_COUNT', '1') }}" => "1";
        environ_get_without_default_is_empty: "{{ environ.get('FOO') }}|{{ environ.FOO }}" => "None|";
        compiler_gives_a_stub: "{{ compiler('c') }} {{ compiler(\"cxx\") }}" => "c_compiler_stub cxx_compiler_stub";
        stdlib_gives_a_stub: "{{ stdlib('c') }}" => "c_stdlib_stub";
        pin_subpackage_accepts_any_keywords: "{{ pin_subpackage('libfoo', max_pin='x.x', exact=True) }}" => "libfoo";
        pin_compatible_gives_the_name: "{{ pin_compatible('numpy', upper_bound='3') }}" => "numpy";
        pin_subpackage_with_keyword_name: "{{ pin_subpackage(name='libbar') }}" => "libbar";
        cdt_gives_a_stub: "{{ cdt('mesa-libgl-devel') }}" => "cdt_stub";
        setup_py_data_get_gives_the_default: "{% set data = load_setup_py_data() %}{{ data.get('version', version) }}" => "1.22.4";
        file_regex_result_is_empty: "{{ load_file_regex(load_file='x', regex_pattern='y').group(1) }}|" => "|";
        int_filter_of_a_dotted_version_is_zero: "{{ version|int }}" => "0";
        int_filter_of_a_float_string_truncates: "{{ '3.12'|int }}" => "3";
        int_filter_of_digits_parses: "{{ '17'|int + 1 }}" => "18";
        float_filter_of_garbage_is_zero: "{{ 'x'|float }}" => "0.0";
        undefined_prints_empty: "{{ nothing }}|{{ nothing.attr }}|{{ nothing['x'] }}" => "||";
        undefined_is_false_in_if: "{% if nothing %}yes{% else %}no{% endif %}" => "no";
        os_sep_join_builds_paths: "{{ os.sep.join(['a', 'b']) ~ os.pathsep }}" => "a/b:";
        os_path_join_builds_paths: "{{ os.path.join('a', 'b') }}" => "a/b";
        str_format_works: "{{ 'v{}'.format(version) }}" => "v1.22.4";
        cran_mirror_is_defined: "{{ cran_mirror }}" => "https://cran.r-project.org";
        startswith_works: "{{ version.startswith('1.') }}" => "True";
        lower_filter_and_index: "{{ 'Foo'|lower }}-{{ 'Foo'[0] }}" => "foo-F";
    }

    #[test]
    fn undefined_function_is_an_error() {
        let env = recipe_environment(|_| Ok(None));
        assert!(env.render_str("{{ no_such_function() }}", ()).is_err());
    }

    #[test]
    fn recursion_is_an_error_not_a_crash() {
        let env = recipe_environment(|_| Ok(None));
        let source = "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}";
        assert!(env.render_str(source, ()).is_err());
    }

    #[test]
    fn include_finds_no_file() {
        let env = recipe_environment(|_| Ok(None));
        assert!(env.render_str("{% include '/etc/passwd' %}", ()).is_err());
    }
}
