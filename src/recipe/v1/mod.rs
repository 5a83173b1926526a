//! v1 `recipe.yaml` rendering through rattler_build_recipe.
//!
//! The library does the work: its stage0 parser reads the recipe once (keeping `${{ }}`
//! templates and `if/then/else` items), and its stage1 evaluation resolves it for one
//! variant: `context:`, conditionals, outputs, staging outputs and their inheritance,
//! `build.skip`. This module only chooses the evaluation context (the variant's own
//! target platform and every variant key, see `context.rs`) and maps the stage1 result
//! onto the shared [`RenderedRecipe`] model (see `convert.rs`).
//!
//! Unlike the Python bot, which renders every v1 recipe as linux-64, each variant is
//! rendered for its own `target_platform`, so a `win_64` variant sees `win` selectors.

use std::collections::{BTreeSet, HashMap};

use rattler_build_recipe::stage0::evaluate::{evaluate_source, evaluate_value_to_string};
use rattler_build_recipe::stage0::{self, MultiOutputRecipe, SingleOutputRecipe};
use rattler_build_recipe::{Evaluate, EvaluationContext, ParseError, Stage1Recipe};

use super::{RecipeError, RenderedRecipe, Source, Variant};

mod context;
mod convert;
mod lenient;
mod trim;

use context::StubNames;
use convert::SpecWriter;

/// A v1 recipe parsed once (stage0), ready to render for many variants.
pub struct Template {
    text: String,
    /// The recipe as written.
    recipe: stage0::Recipe,
    /// What every render evaluates: [`trim::recipe`] of `recipe`.
    lean: Lean,
    used: BTreeSet<String>,
    stubs: StubNames,
}

/// The trimmed recipe and the variant keys it reads (a subset of the recipe's): keys
/// read only by dropped fields need not be expanded or put in the context.
struct Lean {
    recipe: stage0::Recipe,
    used: BTreeSet<String>,
}

/// Which stage0 recipe a render evaluates.
#[derive(Debug, Clone, Copy)]
enum Evaluation {
    /// The trimmed copy ([`trim`]): what [`Template::render`] uses.
    Lean,
    /// The recipe as written, every section evaluated by the library.
    Full,
}

impl Template {
    /// Parses the recipe text into the library's stage0 model. Fails when the text is
    /// not YAML or not a v1 recipe (unknown or missing keys, malformed conditionals).
    pub fn parse(text: &str) -> Result<Template, RecipeError> {
        let recipe = stage0::parse_recipe_or_multi_from_source(text).map_err(recipe_error)?;
        let mut used: BTreeSet<String> = recipe.used_variables().into_iter().collect();
        used.insert("target_platform".to_string());
        let stubs = StubNames::from_used_variables(used.iter().map(String::as_str));
        let lean_recipe = trim::recipe(&recipe);
        let mut lean_used: BTreeSet<String> = lean_recipe.used_variables().into_iter().collect();
        lean_used.insert("target_platform".to_string());
        Ok(Template {
            text: text.to_string(),
            recipe,
            lean: Lean {
                recipe: lean_recipe,
                used: lean_used,
            },
            used,
            stubs,
        })
    }

    /// The variant keys the recipe reads (the library's stage0 `used_variables()`), plus
    /// `target_platform`, which decides every platform selector.
    pub fn used_variables(&self) -> &BTreeSet<String> {
        &self.used
    }

    /// Renders the recipe for one variant, on the variant's target platform.
    ///
    /// When the variant lists several values for keys the recipe uses, every
    /// combination is rendered and the renders are merged (requirements unioned, as the
    /// bot merges what `rattler-build --render-only` prints for one `.ci_support` file).
    /// The result is skipped only when every combination is.
    pub fn render(&self, variant: &Variant) -> Result<RenderedRecipe, RecipeError> {
        self.render_with(variant, Evaluation::Lean)
    }

    /// Renders like [`Template::render`], but has the library evaluate every section of
    /// the recipe as written (about, build globs, scripts...) instead of the trimmed
    /// copy. Kept to prove the two give the same model; not for production use.
    #[doc(hidden)]
    pub fn render_full_evaluation(&self, variant: &Variant) -> Result<RenderedRecipe, RecipeError> {
        self.render_with(variant, Evaluation::Full)
    }

    fn render_with(
        &self,
        variant: &Variant,
        evaluation: Evaluation,
    ) -> Result<RenderedRecipe, RecipeError> {
        match self.render_strict(variant, evaluation) {
            Err(err) => self.render_lenient(variant, evaluation, err, 0),
            ok => ok,
        }
    }

    /// Renders with the library's own spec parsing, which is strict.
    fn render_strict(
        &self,
        variant: &Variant,
        evaluation: Evaluation,
    ) -> Result<RenderedRecipe, RecipeError> {
        let (recipe, used) = match evaluation {
            Evaluation::Lean => (&self.lean.recipe, &self.lean.used),
            Evaluation::Full => (&self.recipe, &self.used),
        };
        let mut merged: Option<RenderedRecipe> = None;
        let mut skipped: Option<RenderedRecipe> = None;
        for combination in context::combinations(variant, used)? {
            let rendered = self.render_combination(recipe, used, variant, &combination)?;
            match (&mut merged, rendered.skip) {
                (_, true) => {
                    skipped.get_or_insert(rendered);
                }
                (Some(merged), false) => merged.merge(&rendered),
                (None, false) => merged = Some(rendered),
            }
        }
        merged.or(skipped).ok_or_else(|| RecipeError::Structure {
            line: None,
            message: "the variant expands to no combination".to_string(),
        })
    }

    /// Retries a render that failed on a bare-version spec such as `python 3.9` (what
    /// `python ${{ python_min }}` renders to). conda reads such a spec as `3.9.*`
    /// (conda-build's `ensure_valid_spec`), but the library parses rendered specs strictly
    /// with no way to relax it, so the failing line gets the `.*` conda would add and the
    /// recipe is parsed again. Any other error, or a line we cannot patch, is returned.
    fn render_lenient(
        &self,
        variant: &Variant,
        evaluation: Evaluation,
        err: RecipeError,
        depth: usize,
    ) -> Result<RenderedRecipe, RecipeError> {
        const MAX_PATCHED_LINES: usize = 32;
        let is_bare_version = err.to_string().contains("missing range specifier");
        let patched = match (is_bare_version, err.line()) {
            (true, Some(line)) if depth < MAX_PATCHED_LINES => {
                lenient::append_glob_to_line(&self.text, line)
            }
            _ => None,
        };
        let Some(patched) = patched else {
            return Err(err);
        };
        let template = Template::parse(&patched)?;
        match template.render_strict(variant, evaluation) {
            Err(next) => template.render_lenient(variant, evaluation, next, depth + 1),
            ok => ok,
        }
    }

    /// Renders one combination of the variant's values.
    fn render_combination(
        &self,
        recipe: &stage0::Recipe,
        used: &BTreeSet<String>,
        variant: &Variant,
        combination: &context::Combination,
    ) -> Result<RenderedRecipe, RecipeError> {
        let context = context::evaluation_context(variant, combination, &self.stubs, used);
        let stubs = self
            .stubs
            .rendered_names(&variant.target_platform().to_string());
        match recipe {
            stage0::Recipe::SingleOutput(recipe) => render_single(recipe, &context, stubs),
            stage0::Recipe::MultiOutput(recipe) => render_multi(recipe, &context, stubs),
        }
    }
}

/// A recipe with a top-level `package:`: the model's top level is that package.
fn render_single(
    recipe: &SingleOutputRecipe,
    context: &EvaluationContext,
    stubs: HashMap<String, String>,
) -> Result<RenderedRecipe, RecipeError> {
    let stage1 = recipe.evaluate(context).map_err(recipe_error)?;
    let name = stage1.package.name.as_normalized().to_string();
    let writer = SpecWriter {
        versions: HashMap::from([(name.clone(), &stage1.package.version)]),
        stubs,
    };
    Ok(RenderedRecipe {
        name,
        version: Some(stage1.package.version.to_string()),
        build_number: stage1.build.number,
        skip: stage1.build.skip,
        noarch: convert::noarch(stage1.build.noarch),
        sources: stage1.source.iter().map(convert::source).collect(),
        requirements: writer.all_requirements(&stage1),
        run_exports: writer.run_exports(&stage1.requirements.run_exports),
        outputs: Vec::new(),
    })
}

/// A recipe with `recipe:` and `outputs:`: no top-level package, one model output per
/// package output the variant does not skip. Staging outputs are not packages; their
/// requirements reach the outputs that inherit from them through the library.
fn render_multi(
    recipe: &MultiOutputRecipe,
    context: &EvaluationContext,
    stubs: HashMap<String, String>,
) -> Result<RenderedRecipe, RecipeError> {
    let outputs: Vec<Stage1Recipe> = recipe.evaluate(context).map_err(recipe_error)?;
    let (scope, _) = context
        .with_context(&recipe.context)
        .map_err(recipe_error)?;

    let name = match &recipe.recipe.name {
        Some(value) => Some(evaluate_value_to_string(value, &scope).map_err(recipe_error)?),
        None => scope.get("name").map(ToString::to_string),
    }
    .or_else(|| {
        outputs
            .first()
            .map(|o| o.package.name.as_normalized().to_string())
    })
    .ok_or_else(|| RecipeError::Structure {
        line: None,
        message: "multi-output recipe has no `recipe.name`, no context `name` and no output"
            .to_string(),
    })?;
    let version = match &recipe.recipe.version {
        Some(value) => Some(evaluate_value_to_string(value, &scope).map_err(recipe_error)?),
        None => outputs.first().map(|o| o.package.version.to_string()),
    };

    let mut sources: Vec<Source> = Vec::new();
    let mut add_source = |source: Source| {
        if !sources.contains(&source) {
            sources.push(source);
        }
    };
    for item in recipe.source.iter() {
        for source in evaluate_source(item, &scope).map_err(recipe_error)? {
            add_source(convert::source(&source));
        }
    }
    for output in &outputs {
        let caches = output.staging_caches.iter().flat_map(|c| c.source.iter());
        for source in caches.chain(output.source.iter()) {
            add_source(convert::source(source));
        }
    }

    let writer = SpecWriter {
        versions: outputs
            .iter()
            .map(|o| {
                (
                    o.package.name.as_normalized().to_string(),
                    &o.package.version,
                )
            })
            .collect(),
        stubs,
    };
    Ok(RenderedRecipe {
        name,
        version,
        build_number: outputs.first().and_then(|o| o.build.number),
        skip: outputs.is_empty(),
        noarch: None,
        sources,
        requirements: Default::default(),
        run_exports: Default::default(),
        outputs: outputs.iter().map(|o| writer.output(o)).collect(),
    })
}

/// Maps a library error to ours, with the 1-based recipe line of its span.
fn recipe_error(error: ParseError) -> RecipeError {
    let message = error.to_string();
    let line = match &error {
        ParseError::IoError { .. } => None,
        ParseError::Generic { span, .. }
        | ParseError::MissingField { span, .. }
        | ParseError::TypeMismatch { span, .. }
        | ParseError::InvalidValue { span, .. }
        | ParseError::JinjaError { span, .. }
        | ParseError::InvalidConditional { span, .. } => span.start().map(|m| m.line()),
    };
    match error {
        ParseError::JinjaError { .. } => RecipeError::Jinja { line, message },
        ParseError::Generic { message: ref m, .. } if m.starts_with("Failed to parse YAML") => {
            RecipeError::Yaml { line, message }
        }
        _ => RecipeError::Structure { line, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::Section;
    use rattler_conda_types::Subdir;
    use serde_json::json;

    fn variant(platform: Subdir, values: &[(&str, serde_json::Value)]) -> Variant {
        let mut variant = Variant::for_platform(platform);
        for (key, value) in values {
            variant.set(*key, value.clone());
        }
        variant
    }

    fn render(text: &str, variant: &Variant) -> RenderedRecipe {
        Template::parse(text).unwrap().render(variant).unwrap()
    }

    fn names(reqs: &crate::recipe::Requirements, section: Section) -> Vec<&str> {
        reqs.section(section)
            .iter()
            .map(|r| r.raw.as_str())
            .collect()
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let cases = [
            "",
            "[]",
            "package: 5",
            "package:\n  name: a\n",
            "package:\n  name: a\n  version: 1\nrequirements:\n  host:\n    - python 3.9\n",
            "package:\n  name: a\n  version: 1\nrequirements:\n  host:\n    - ${{ pin_subpackage() }}\n",
            "package:\n  name: a\n  version: 1\nrequirements:\n  host:\n    - ${{ compiler() }}\n",
            "package:\n  name: a\n  version: 1\nrequirements:\n  host:\n    - if: [\n      then: b\n",
            "package:\n  name: ${{ nope }}\n  version: 1\n",
            "recipe:\n  name: a\n  version: 1\noutputs: []\n",
            "recipe:\n  name: a\noutputs:\n  - package:\n      name: b\n",
            "outputs:\n  - package:\n      name: b\n      version: 1\n    inherit: missing\n",
            "package:\n  name: a\n  version: 1\nbuild:\n  skip: win and (\n",
            "context:\n  a: ${{ a }}\npackage:\n  name: x\n  version: ${{ a }}\n",
            "package:\n  name: a\n  version: 1\nsource:\n  url: not a url\n  sha256: 12\n",
        ];
        let v = variant(Subdir::Linux64, &[]);
        for text in cases {
            let result = std::panic::catch_unwind(|| {
                Template::parse(text).and_then(|t| t.render(&v)).map(|_| ())
            });
            assert!(result.is_ok(), "panicked on {text:?}");
            assert!(result.unwrap().is_err(), "{text:?} rendered");
        }
    }

    #[test]
    fn errors_point_at_the_recipe_line() {
        let text = "package:\n  name: a\n  version: 1\nrequirements:\n  host:\n    - ${{ nope }}\n";
        let err = Template::parse(text)
            .unwrap()
            .render(&variant(Subdir::Linux64, &[]))
            .unwrap_err();
        assert!(matches!(err, RecipeError::Jinja { .. }), "{err:?}");
        assert_eq!(err.line(), Some(6));
        let err = Template::parse("package:\n  name: a\n  bogus: 1\n")
            .err()
            .unwrap();
        assert_eq!(err.line(), Some(3), "{err}");
    }

    const COMPILERS: &str = "package:
  name: a
  version: 1.0
requirements:
  build:
    - ${{ compiler('c') }}
    - ${{ compiler('cxx') }}
    - ${{ stdlib('c') }}
    - if: c_compiler == 'vs2022'
      then: msvc-marker
    - if: win
      then: m2-base
      else: make
";

    #[test]
    fn compilers_render_as_stubs_even_when_windows_uses_one_compiler_for_c_and_cxx() {
        let win = variant(
            Subdir::Win64,
            &[
                ("c_compiler", json!("vs2022")),
                ("cxx_compiler", json!("vs2022")),
                ("c_compiler_version", json!("19.4")),
                ("c_stdlib", json!("vs")),
            ],
        );
        let r = render(COMPILERS, &win);
        assert_eq!(
            names(&r.requirements, Section::Build),
            [
                "c_compiler_stub",
                "cxx_compiler_stub",
                "c_stdlib_stub",
                "msvc-marker",
                "m2-base"
            ]
        );
    }

    #[test]
    fn compilers_render_as_stubs_without_any_variant_key() {
        let r = render(COMPILERS, &variant(Subdir::LinuxAarch64, &[]));
        assert_eq!(
            names(&r.requirements, Section::Build),
            [
                "c_compiler_stub",
                "cxx_compiler_stub",
                "c_stdlib_stub",
                "make"
            ]
        );
    }

    #[test]
    fn used_variables_include_target_platform_and_compiler_keys() {
        let template = Template::parse(COMPILERS).unwrap();
        let used = template.used_variables();
        for key in [
            "target_platform",
            "c_compiler",
            "cxx_compiler",
            "c_stdlib",
            "win",
        ] {
            assert!(used.contains(key), "{key} missing from {used:?}");
        }
    }

    #[test]
    fn every_used_combination_of_a_multi_valued_variant_is_rendered() {
        let text = "package:
  name: a
  version: 1.0
requirements:
  host:
    - python
    - if: match(python, '<3.12')
      then: tomli
    - if: is_freethreading
      then: python-freethreading
";
        let yaml = "python:\n- 3.11.* *_cpython\n- 3.13.* *_cp313t\nis_freethreading:\n- false\n- true\nzip_keys:\n- - python\n  - is_freethreading\n";
        let v = Variant::from_ci_support(yaml, Subdir::Linux64).unwrap();
        let r = render(text, &v);
        assert_eq!(
            names(&r.requirements, Section::Host),
            ["python", "tomli", "python-freethreading"]
        );
    }

    #[test]
    fn a_cross_compiled_variant_sees_its_build_platform() {
        let text = "package:
  name: a
  version: 1.0
requirements:
  build:
    - if: build_platform != target_platform
      then: cross-python_${{ target_platform }}
";
        let mut cross = variant(Subdir::OsxArm64, &[]);
        cross.set_build_platform(Subdir::Osx64);
        let r = render(text, &cross);
        assert_eq!(
            names(&r.requirements, Section::Build),
            ["cross-python_osx-arm64"]
        );
        let native = render(text, &variant(Subdir::OsxArm64, &[]));
        assert!(native.requirements.build.is_empty());
    }

    #[test]
    fn a_skipped_variant_is_marked_skip() {
        let text = "package:\n  name: a\n  version: 1.0\nbuild:\n  skip: win\n";
        assert!(render(text, &variant(Subdir::Win64, &[])).skip);
        assert!(!render(text, &variant(Subdir::Osx64, &[])).skip);
    }

    #[test]
    fn pins_render_as_specs_or_bare_names() {
        let text = "recipe:
  name: split
  version: 2.3.4
outputs:
  - package:
      name: liba
    requirements:
      host:
        - ${{ pin_compatible('numpy', upper_bound='x.x') }}
      run_exports:
        - ${{ pin_subpackage('liba', upper_bound='x.x') }}
  - package:
      name: a-tools
      version: 0.1
    requirements:
      run:
        - ${{ pin_subpackage('liba', exact=True) }}
        - ${{ pin_subpackage('not-built-here') }}
    tests:
      - python:
          imports: [a]
          pip_check: false
      - script: a --help
        requirements:
          build: [cmake]
          run: [pytest]
";
        let r = render(text, &variant(Subdir::Linux64, &[]));
        assert_eq!(r.name, "split");
        assert_eq!(r.version.as_deref(), Some("2.3.4"));
        let [liba, tools] = r.outputs.as_slice() else {
            panic!("{:?}", r.outputs)
        };
        assert_eq!(names(&liba.requirements, Section::Host), ["numpy"]);
        assert_eq!(liba.run_exports.weak, ["liba >=2.3.4,<2.4.0a0"]);
        assert_eq!(
            names(&tools.requirements, Section::Run),
            ["liba ==2.3.4", "not-built-here"]
        );
        assert_eq!(tools.version.as_deref(), Some("0.1"));
        assert_eq!(
            names(&tools.requirements, Section::Test),
            ["pytest", "cmake"]
        );
    }

    #[test]
    fn templates_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Template>();
    }
}
