//! Template-level behaviour: selectors, Jinja idioms, extraction and errors together.

use rattler_conda_types::Subdir;

use super::*;
use crate::recipe::{HashKind, Noarch, Section};

fn variant(text: &str, platform: Subdir) -> Variant {
    Variant::from_ci_support(text, platform).unwrap()
}

fn render_with(
    recipe: &str,
    variant_text: &str,
    platform: Subdir,
) -> Result<RenderedRecipe, RecipeError> {
    Template::parse(recipe)?.render(&variant(variant_text, platform))
}

fn render(recipe: &str, platform: Subdir) -> Result<RenderedRecipe, RecipeError> {
    render_with(recipe, "{}\n", platform)
}

fn raws(reqs: &[crate::recipe::Requirement]) -> Vec<&str> {
    reqs.iter().map(|r| r.raw.as_str()).collect()
}

const PKG: &str = "package:\n  name: foo\n  version: 1.0\n";

/// Renders `PKG` + `body` on a platform and returns the top-level requirements of a section.
fn section(body: &str, variant_text: &str, platform: Subdir, section: Section) -> Vec<String> {
    let r = render_with(&format!("{PKG}{body}"), variant_text, platform).unwrap();
    r.requirements
        .section(section)
        .iter()
        .map(|q| q.raw.clone())
        .collect()
}

macro_rules! run_case {
    ($($test:ident: $body:expr, $variant:expr, $platform:expr => $expected:expr;)*) => {$(
        #[test]
        fn $test() {
            let body = format!("requirements:\n  run:\n{}", $body);
            let got = section(&body, $variant, $platform, Section::Run);
            let expected: Vec<&str> = $expected;
            assert_eq!(got, expected);
        }
    )*};
}

run_case! {
    win_selector_is_dropped_on_linux: "    - a  # [win]\n    - b\n", "{}\n", Subdir::Linux64 => vec!["b"];
    win_selector_is_kept_on_windows: "    - a  # [win]\n    - b\n", "{}\n", Subdir::Win64 => vec!["a", "b"];
    aarch64_only_dependency: "    - a  # [aarch64]\n", "{}\n", Subdir::LinuxAarch64 => vec!["a"];
    aarch64_only_dependency_absent_on_x86: "    - a  # [aarch64]\n", "{}\n", Subdir::Linux64 => Vec::<&str>::new();
    py_selector_reads_the_python_variant: "    - old  # [py<311]\n    - new  # [py>=311]\n", "python:\n- 3.12.* *_cpython\n", Subdir::Linux64 => vec!["new"];
    py_selector_with_an_old_python: "    - old  # [py<311]\n", "python:\n- '3.10'\n", Subdir::Linux64 => vec!["old"];
    unknown_selector_name_is_false: "    - a  # [no_such_key]\n    - b  # [not no_such_key]\n", "{}\n", Subdir::Linux64 => vec!["b"];
    variant_key_selector_compares_strings: "    - cuda  # [cuda_compiler_version != \"None\"]\n", "cuda_compiler_version:\n- None\n", Subdir::Linux64 => Vec::<&str>::new();
    variant_key_selector_with_a_cuda_version: "    - cuda  # [cuda_compiler_version != \"None\"]\n", "cuda_compiler_version:\n- '12.9'\n", Subdir::Linux64 => vec!["cuda"];
    boolean_variant_key_selector: "    - ft  # [is_freethreading]\n", "is_freethreading:\n- true\n", Subdir::Linux64 => vec!["ft"];
    compiler_renders_a_stub: "    - {{ compiler('c') }}\n    - {{ stdlib('c') }}\n", "{}\n", Subdir::Linux64 => vec!["c_compiler_stub", "c_stdlib_stub"];
    pin_subpackage_renders_the_name: "    - {{ pin_subpackage('libfoo', max_pin='x.x') }}\n", "{}\n", Subdir::Linux64 => vec!["libfoo"];
    variant_value_renders_in_jinja: "    - python {{ python }}\n", "python:\n- 3.12.* *_cpython\n", Subdir::Linux64 => vec!["python 3.12.* *_cpython"];
    target_platform_renders_in_jinja: "    - ld_impl_{{ target_platform }}  # [linux]\n", "{}\n", Subdir::LinuxAarch64 => vec!["ld_impl_linux-aarch64"];
    undefined_variable_renders_empty_and_is_skipped: "    - {{ nothing }}\n    - a\n    -\n", "{}\n", Subdir::Linux64 => vec!["a"];
    number_requirement_becomes_text: "    - 7\n    - 1.10\n", "{}\n", Subdir::Linux64 => vec!["7", "1.10"];
    selector_on_a_set_line_applies_to_the_set: "{% set dep = 'linux-dep' %}  # [linux]\n{% set dep = 'win-dep' %}  # [win]\n    - {{ dep }}\n", "{}\n", Subdir::Win64 => vec!["win-dep"];
    percent_formatting_works_in_set: "{% set lib = 'python%s' % py %}\n    - {{ lib }}\n", "python:\n- '3.12'\n", Subdir::Linux64 => vec!["python312"];
    jinja_in_a_comment_line_is_not_rendered: "    # {{ broken(\n    - a\n", "{}\n", Subdir::Linux64 => vec!["a"];
    for_loop_expands_lines: "{% for x in ['a', 'b'] %}\n    - {{ x }}\n{% endfor %}\n", "{}\n", Subdir::Linux64 => vec!["a", "b"];
    int_filter_of_a_version_is_zero: "    - a  # [linux]\n{% if '1.2.3'|int == 0 %}\n    - zero\n{% endif %}\n", "{}\n", Subdir::Linux64 => vec!["a", "zero"];
    selector_in_rendered_text_is_applied: "    - {{ 'x  # [win]' }}\n    - y\n", "{}\n", Subdir::Linux64 => vec!["y"];
    uppercase_variant_key_is_converted_to_int: "    - omp  # [USE_OPENMP == 1]\n", "USE_OPENMP:\n- '1'\n", Subdir::Linux64 => vec!["omp"];
}

#[test]
fn bare_requirements_list_counts_as_run() {
    let got = section(
        "requirements:\n  - a\n  - b >=1\n",
        "{}\n",
        Subdir::Linux64,
        Section::Run,
    );
    assert_eq!(got, ["a", "b >=1"]);
}

#[test]
fn test_requires_and_requirements_are_unioned() {
    let r = render(
        &format!(
            "{PKG}test:\n  requires:\n    - pytest\n    - a\n  requirements:\n    - a\n    - b\n"
        ),
        Subdir::Linux64,
    )
    .unwrap();
    assert_eq!(raws(&r.requirements.test), ["pytest", "a", "b"]);
}

#[test]
fn duplicate_keys_after_selection_take_the_last_value() {
    let recipe =
        format!("{PKG}build:\n  skip: true  # [win]\n  skip: false  # [linux]\n  number: 3\n");
    assert!(render(&recipe, Subdir::Win64).unwrap().skip);
    let linux = render(&recipe, Subdir::Linux64).unwrap();
    assert!(!linux.skip);
    assert_eq!(linux.build_number, Some(3));
}

#[test]
fn build_number_may_be_a_quoted_string() {
    let r = render(&format!("{PKG}build:\n  number: '12'\n"), Subdir::Linux64).unwrap();
    assert_eq!(r.build_number, Some(12));
}

#[test]
fn non_numeric_build_number_is_a_structure_error_at_its_line() {
    let err = render(&format!("{PKG}build:\n  number: abc\n"), Subdir::Linux64).unwrap_err();
    assert!(matches!(err, RecipeError::Structure { .. }), "{err}");
    assert_eq!(err.line(), Some(5));
}

#[test]
fn sources_as_a_list_keep_order_urls_and_the_strongest_hash() {
    let recipe = format!(
        "{PKG}source:\n  - url:\n      - https://a/x.tgz\n      - https://b/x.tgz\n    md5: 0123\n    sha256: abcd\n  - git_url: https://github.com/x/y\n    git_rev: 1.10\n  - path: ../src\n"
    );
    let r = render(&recipe, Subdir::Linux64).unwrap();
    assert_eq!(r.sources.len(), 3);
    assert_eq!(r.sources[0].urls, ["https://a/x.tgz", "https://b/x.tgz"]);
    let hash = r.sources[0].hash.as_ref().unwrap();
    assert_eq!((hash.kind, hash.value.as_str()), (HashKind::Sha256, "abcd"));
    assert_eq!(
        r.sources[1].git_url.as_deref(),
        Some("https://github.com/x/y")
    );
    assert_eq!(r.sources[1].git_rev.as_deref(), Some("1.10"));
    assert_eq!(r.sources[2].path.as_deref(), Some("../src"));
}

#[test]
fn single_source_mapping_with_md5_only() {
    let r = render(
        &format!("{PKG}source:\n  url: https://a/x.tgz\n  md5: 0123\n"),
        Subdir::Linux64,
    )
    .unwrap();
    let hash = r.sources[0].hash.as_ref().unwrap();
    assert_eq!(hash.kind, HashKind::Md5);
}

#[test]
fn run_exports_list_is_weak_and_mapping_splits_weak_and_strong() {
    let r = render(
        &format!("{PKG}build:\n  run_exports:\n    - {{{{ pin_subpackage('foo') }}}}\n"),
        Subdir::Linux64,
    )
    .unwrap();
    assert_eq!(r.run_exports.weak, ["foo"]);
    let r = render(
        &format!("{PKG}build:\n  run_exports:\n    weak:\n      - a\n    strong:\n      - b\n"),
        Subdir::Linux64,
    )
    .unwrap();
    assert_eq!(r.run_exports.weak, ["a"]);
    assert_eq!(r.run_exports.strong, ["b"]);
    assert!(r.has_strong_exports());
}

#[test]
fn outputs_carry_requirements_tests_exports_and_noarch() {
    let recipe = "package:\n  name: split\n  version: 2.0\nbuild:\n  noarch_python: true\noutputs:\n  - name: libfoo\n    version: 2.0.1\n    build:\n      run_exports:\n        - libfoo\n    requirements:\n      host:\n        - zlib\n    test:\n      requires:\n        - pkg-config\n  - name: foo-win  # [win]\n  - name: py-foo\n    build:\n      noarch: python\n    requirements:\n      - python\n      - libfoo\n  - name: skipped\n    build:\n      skip: true\n";
    let r = render(recipe, Subdir::Linux64).unwrap();
    assert_eq!(r.noarch, Some(Noarch::Python));
    let names: Vec<&str> = r.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["libfoo", "py-foo"]);
    let lib = &r.outputs[0];
    assert_eq!(lib.version.as_deref(), Some("2.0.1"));
    assert_eq!(lib.run_exports.weak, ["libfoo"]);
    assert_eq!(raws(&lib.requirements.host), ["zlib"]);
    assert_eq!(raws(&lib.requirements.test), ["pkg-config"]);
    let py = &r.outputs[1];
    assert_eq!(py.noarch, Some(Noarch::Python));
    assert_eq!(raws(&py.requirements.run), ["python", "libfoo"]);
}

#[test]
fn version_falls_back_to_the_first_output() {
    let r = render(
        "package:\n  name: split\noutputs:\n  - name: a\n    version: 3.1\n  - name: b\n    version: 4\n",
        Subdir::Linux64,
    )
    .unwrap();
    assert_eq!(r.version.as_deref(), Some("3.1"));
}

#[test]
fn missing_package_name_is_a_structure_error_at_the_package_line() {
    let err = render(
        "build:\n  number: 0\npackage:\n  version: 1\n",
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Structure { .. }), "{err}");
    assert_eq!(err.line(), Some(4));
}

#[test]
fn output_without_a_name_is_a_structure_error() {
    let err = render(&format!("{PKG}outputs:\n  - version: 1\n"), Subdir::Linux64).unwrap_err();
    assert!(matches!(err, RecipeError::Structure { .. }), "{err}");
}

#[test]
fn empty_recipe_is_a_structure_error() {
    let err = render("# only a comment\n", Subdir::Linux64).unwrap_err();
    assert!(matches!(err, RecipeError::Structure { .. }), "{err}");
}

#[test]
fn broken_selector_is_an_error_at_its_line_when_parsing() {
    let err = Template::parse(&format!(
        "{PKG}requirements:\n  run:\n    - a  # [linux and (]\n"
    ))
    .unwrap_err();
    assert!(matches!(err, RecipeError::Selector { .. }), "{err}");
    assert_eq!(err.line(), Some(6));
}

#[test]
fn failing_selector_evaluation_is_an_error_at_its_line() {
    let err = render(
        &format!("{PKG}requirements:\n  run:\n    - a  # [int('x') > 1]\n"),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Selector { .. }), "{err}");
    assert_eq!(err.line(), Some(6));
}

#[test]
fn jinja_syntax_error_points_at_its_line() {
    let err = render(
        &format!("{PKG}build:\n  number: {{{{ 1 + }}}}\n"),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err}");
    assert_eq!(err.line(), Some(5));
}

#[test]
fn undefined_function_is_a_jinja_error_at_its_line() {
    let err = render(
        &format!("{PKG}\n\nabout:\n  x: {{{{ no_such() }}}}\n"),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err}");
    assert_eq!(err.line(), Some(7));
}

#[test]
fn macro_recursion_is_an_error_not_a_crash() {
    let err = render(
        &format!(
            "{{% macro f() %}}{{{{ f() }}}}{{% endmacro %}}\n{PKG}about:\n  x: {{{{ f() }}}}\n"
        ),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err}");
}

#[test]
fn runaway_output_is_an_error() {
    let err = render(
        &format!(
            "{PKG}{{% for i in range(100000) %}}{{% for j in range(1000) %}}xxxxxxxxxxxxxxxx{{% endfor %}}{{% endfor %}}\n"
        ),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err}");
}

#[test]
fn yaml_error_after_a_loop_points_at_the_recipe_line() {
    // The loop renders three lines from one, so rendered and recipe lines differ.
    let recipe = format!(
        "{PKG}requirements:\n  run:\n{{% for x in ['a', 'b', 'c'] %}}\n    - {{{{ x }}}}\n{{% endfor %}}\nabout: [unclosed\n"
    );
    let err = render(&recipe, Subdir::Linux64).unwrap_err();
    assert!(matches!(err, RecipeError::Yaml { .. }), "{err}");
    assert_eq!(err.line(), Some(9));
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let garbage: String = (0u32..4000)
        .map(|i| char::from_u32((i * 7919) % 0x2FFF).unwrap_or('\u{fffd}'))
        .collect();
    let _ = Template::parse(&garbage).and_then(|t| t.render(&variant("{}\n", Subdir::Linux64)));
}

#[test]
fn alias_bomb_is_stopped_by_the_budget() {
    let mut recipe = format!("{PKG}a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 0..8 {
        let prev = if level == 0 {
            "a".to_string()
        } else {
            format!("l{}", level - 1)
        };
        recipe.push_str(&format!(
            "l{level}: &l{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    assert!(render(&recipe, Subdir::Linux64).is_err());
}

#[test]
fn multi_megabyte_recipe_renders() {
    let mut recipe = format!("{PKG}requirements:\n  run:\n");
    for i in 0..100_000 {
        recipe.push_str(&format!("    - dep{i}  # [linux]\n"));
    }
    assert!(recipe.len() > 2_000_000);
    let r = render(&recipe, Subdir::Linux64).unwrap();
    assert_eq!(r.requirements.run.len(), 100_000);
}

#[test]
fn used_variables_cover_jinja_selectors_and_implicit_keys() {
    let t = Template::parse(&format!(
        "{{% set v = mpi or 'nompi' %}}\n{PKG}requirements:\n  build:\n    - {{{{ compiler('cxx') }}}}\n  run:\n    - a  # [py<312 and blas_impl == 'mkl']\n"
    ))
    .unwrap();
    let used = t.used_variables();
    for key in [
        "mpi",
        "cxx_compiler",
        "cxx_compiler_version",
        "python",
        "blas_impl",
        "target_platform",
        "build_platform",
    ] {
        assert!(used.contains(key), "{key} missing from {used:?}");
    }
    assert!(!used.contains("numpy"));
    assert!(!used.contains("v"), "a set target is not a read: {used:?}");
}

#[test]
fn renders_that_share_a_selector_outcome_share_the_compiled_template() {
    let t = Template::parse(&format!(
        "{PKG}requirements:\n  run:\n    - python {{{{ python }}}}\n    - a  # [win]\n"
    ))
    .unwrap();
    let a = t
        .render(&variant("python:\n- '3.11'\n", Subdir::Linux64))
        .unwrap();
    let b = t
        .render(&variant("python:\n- '3.12'\n", Subdir::Linux64))
        .unwrap();
    assert_eq!(raws(&a.requirements.run), ["python 3.11"]);
    assert_eq!(raws(&b.requirements.run), ["python 3.12"]);
    assert_eq!(t.env.templates().count(), 1);
    t.render(&variant("{}\n", Subdir::Win64)).unwrap();
    assert_eq!(t.env.templates().count(), 2);
}

#[test]
fn include_of_a_file_finds_nothing() {
    let err = render(
        &format!("{PKG}{{% include '/etc/passwd' %}}\n"),
        Subdir::Linux64,
    )
    .unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err}");
}

#[test]
fn template_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
}

#[test]
fn windows_vc_defaults_to_14_so_the_python_skip_selector_is_false() {
    let recipe = format!("{PKG}build:\n  skip: true  # [win and int(float(vc)) < 14]\n");
    let r = render_with(&recipe, "python:\n- '3.14'\n", Subdir::Win64).unwrap();
    assert!(!r.skip);
    let r = render_with(&recipe, "vc:\n- '9'\n", Subdir::Win64).unwrap();
    assert!(r.skip);
}

#[test]
fn repeated_keys_in_sources_and_sections_take_the_last_value() {
    let recipe = format!(
        "{PKG}source:\n  url: https://a/x.tgz\n  sha256: first\n  sha256: second\nrequirements:\n  host:\n    - a\n  host:\n    - b\n  run:\n    - c\nbuild:\n  number: 1\n  number: 2\n  run_exports:\n    weak:\n      - x\n    weak:\n      - y\n"
    );
    let r = render(&recipe, Subdir::Linux64).unwrap();
    assert_eq!(r.sources[0].hash.as_ref().unwrap().value, "second");
    assert_eq!(raws(&r.requirements.host), ["b"]);
    assert_eq!(raws(&r.requirements.run), ["c"]);
    assert_eq!(r.build_number, Some(2));
    assert_eq!(r.run_exports.weak, ["y"]);
}

#[test]
fn repeated_keys_in_outputs_and_the_package_take_the_last_value() {
    let recipe = "package:\n  name: a\n  name: b\n  version: 1\n  version: 2\noutputs:\n  - name: x\n    requirements:\n      - p\n    requirements:\n      run:\n        - q\n    build:\n      noarch: generic\n      noarch: python\n";
    let r = render(recipe, Subdir::Linux64).unwrap();
    assert_eq!((r.name.as_str(), r.version.as_deref()), ("b", Some("2")));
    assert_eq!(raws(&r.outputs[0].requirements.run), ["q"]);
    assert_eq!(r.outputs[0].noarch, Some(Noarch::Python));
}

#[test]
fn selector_text_in_errors_is_clipped() {
    let line = format!("x: {}[", "[a]".repeat(1000));
    let huge = format!("{PKG}{line}  # [linux and (]\n");
    let err = Template::parse(&huge).unwrap_err();
    let RecipeError::Selector { selector, .. } = &err else {
        panic!("{err}");
    };
    assert!(selector.chars().count() <= 121, "{} chars", selector.len());
}

#[test]
fn identical_rendered_text_is_read_once() {
    let t = Template::parse(&format!(
        "{PKG}requirements:\n  run:\n    - futures  # [py<310]\n    - six\n"
    ))
    .unwrap();
    let a = t
        .render(&variant("python:\n- '3.11'\n", Subdir::Linux64))
        .unwrap();
    let b = t
        .render(&variant("python:\n- '3.12'\n", Subdir::Linux64))
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(t.extracted.lock().unwrap().len(), 1);
    let old = t
        .render(&variant("python:\n- '3.9'\n", Subdir::Linux64))
        .unwrap();
    assert_eq!(raws(&old.requirements.run), ["futures", "six"]);
    assert_eq!(t.extracted.lock().unwrap().len(), 2);
}

#[test]
fn nested_loops_that_print_nothing_run_out_of_fuel() {
    let recipe = format!(
        "{PKG}{{% for a in range(100000) %}}{{% for b in range(100000) %}}{{% endfor %}}{{% endfor %}}\n"
    );
    let err = render(&recipe, Subdir::Linux64).unwrap_err();
    assert!(matches!(err, RecipeError::Jinja { .. }), "{err:?}");
    assert!(err.to_string().contains("fuel"), "{err}");
}
