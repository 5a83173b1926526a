//! A copy of a stage0 recipe holding only what the shared model reads, so the library's
//! own stage1 evaluation has less to do for every variant.
//!
//! The model needs the package name and version, `build.number`/`skip`/`noarch`, the
//! sources, the requirements (with run_exports), the tests' requirements and `pip_check`,
//! and the outputs with their staging/cache inheritance. The library evaluates the whole
//! recipe: `about` (licenses), `extra`, every other `build` field (the `files`,
//! `prefix_detection` and `dynamic_linking` globs are compiled to regexes on every
//! render), build and test scripts, test files and imports. The trimmed copy is built
//! once per recipe by resetting those fields to their defaults, and is then evaluated by
//! the library exactly like the full recipe: `context:`, conditionals, output inheritance
//! and staging caches all stay the library's.
//!
//! What the trimmed copy keeps is evaluated with the same context, so the model is the
//! same; the one difference is that an error in a dropped field (an undefined variable
//! in a test script, say) no longer fails the render. `tests/recipe_v1_corpus.rs`
//! checks the two evaluations give equal models for every real (feedstock, variant).

use rattler_build_recipe::stage0::{
    About, Build, Conditional, ConditionalList, Extra, Item, MultiOutputRecipe, NestedItemList,
    Output, Recipe, Script, SingleOutputRecipe, StagingBuild, TestType, Value,
};

/// The recipe with only the fields the model reads.
pub(super) fn recipe(recipe: &Recipe) -> Recipe {
    match recipe {
        Recipe::SingleOutput(single) => Recipe::SingleOutput(Box::new(single_output(single))),
        Recipe::MultiOutput(multi) => Recipe::MultiOutput(Box::new(multi_output(multi))),
    }
}

fn single_output(recipe: &SingleOutputRecipe) -> SingleOutputRecipe {
    SingleOutputRecipe {
        schema_version: recipe.schema_version,
        context: recipe.context.clone(),
        package: recipe.package.clone(),
        build: build(&recipe.build),
        requirements: recipe.requirements.clone(),
        about: About::default(),
        extra: Extra::default(),
        source: recipe.source.clone(),
        tests: tests(&recipe.tests),
    }
}

fn multi_output(recipe: &MultiOutputRecipe) -> MultiOutputRecipe {
    MultiOutputRecipe {
        schema_version: recipe.schema_version,
        context: recipe.context.clone(),
        recipe: recipe.recipe.clone(),
        source: recipe.source.clone(),
        build: build(&recipe.build),
        about: About::default(),
        extra: Extra::default(),
        tests: tests(&recipe.tests),
        outputs: recipe.outputs.iter().map(output).collect(),
    }
}

fn output(output: &Output) -> Output {
    match output {
        Output::Package(package) => {
            let mut package = package.clone();
            package.build = build(&package.build);
            package.about = About::default();
            package.tests = tests(&package.tests);
            Output::Package(package)
        }
        Output::Staging(staging) => {
            let mut staging = staging.clone();
            staging.build = StagingBuild::default();
            Output::Staging(staging)
        }
    }
}

/// `build` with only `number`, `skip` and `noarch`: what the model and the library's
/// skip short-cut read.
fn build(build: &Build) -> Build {
    Build {
        number: build.number.clone(),
        noarch: build.noarch.clone(),
        skip: build.skip.clone(),
        ..Build::default()
    }
}

/// The tests with only their requirements (command tests) and `pip_check` (python
/// tests). Conditionals stay, so their conditions are still evaluated; concrete tests
/// of kinds the model ignores are dropped. A templated test item (an error in the
/// library) is kept as it is.
fn tests(tests: &ConditionalList<TestType>) -> ConditionalList<TestType> {
    ConditionalList::new(tests.iter().filter_map(test_item).collect())
}

fn test_item(item: &Item<TestType>) -> Option<Item<TestType>> {
    match item {
        Item::Conditional(conditional) => Some(Item::Conditional(Conditional {
            condition: conditional.condition.clone(),
            then: nested(&conditional.then),
            else_value: conditional.else_value.as_ref().map(nested),
            condition_span: conditional.condition_span,
        })),
        Item::Value(value) => match value.as_concrete() {
            Some(test) => {
                let test = test_needed(test)?;
                Some(Item::Value(Value::new_concrete(
                    test,
                    value.span().copied(),
                )))
            }
            None => Some(item.clone()),
        },
    }
}

fn nested(items: &NestedItemList<TestType>) -> NestedItemList<TestType> {
    NestedItemList::new(items.iter().filter_map(test_item).collect())
}

/// The part of one test the model reads, or `None` for a kind it ignores.
fn test_needed(test: &TestType) -> Option<TestType> {
    match test {
        TestType::Python { python } => {
            let mut python = python.clone();
            python.imports = Default::default();
            python.python_version = None;
            Some(TestType::Python { python })
        }
        TestType::Commands(commands) => {
            let mut commands = commands.clone();
            commands.script = Script::default();
            commands.files = None;
            Some(TestType::Commands(commands))
        }
        TestType::Perl { .. }
        | TestType::R { .. }
        | TestType::Ruby { .. }
        | TestType::Downstream(_)
        | TestType::PackageContents { .. } => None,
    }
}
