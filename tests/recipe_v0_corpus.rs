//! Conformance of v0 `meta.yaml` rendering over the real corpus in
//! `../shared/data/feedstocks`: every v0 recipe renders for every one of its
//! `.ci_support` variants, and spot checks derived by reading the recipes hold.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use cascade::recipe::{Recipe, RecipeFormat, RenderedRecipe, Section, Variant};
use rattler_conda_types::Subdir;

fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feedstocks");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: ../shared/data/feedstocks is absent (a clone without shared data)");
        None
    }
}

/// The platform a `.ci_support` file name starts with (`linux_aarch64_...` → linux-aarch64).
fn platform_of(file_name: &str) -> Subdir {
    let mut parts = file_name.split('_');
    let os = parts.next().unwrap_or("linux");
    let arch = parts.next().unwrap_or("64");
    Subdir::from_str(&format!("{os}-{arch}")).unwrap_or(Subdir::Linux64)
}

/// Every variant of a feedstock: one per `.ci_support/*.yaml`, or linux-64, osx-64 and
/// win-64 without `.ci_support`.
fn variants(feedstock: &Path) -> Vec<(String, Variant)> {
    let dir = feedstock.join(".ci_support");
    let mut files: Vec<PathBuf> = match fs_err::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    if files.is_empty() {
        return [Subdir::Linux64, Subdir::Osx64, Subdir::Win64]
            .into_iter()
            .map(|s| (s.as_str().to_string(), Variant::for_platform(s)))
            .collect();
    }
    files
        .into_iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = fs_err::read_to_string(&path).unwrap();
            let variant = Variant::from_ci_support(&text, platform_of(&name))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, variant)
        })
        .collect()
}

fn v0_feedstocks(corpus: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs_err::read_dir(corpus)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("recipe/meta.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn parse(feedstock: &Path) -> Recipe {
    let text = fs_err::read_to_string(feedstock.join("recipe/meta.yaml")).unwrap();
    Recipe::parse(RecipeFormat::V0, &text).unwrap()
}

#[test]
fn every_v0_recipe_renders_for_every_variant() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    let mut total = 0;
    let mut recipes = 0;
    for feedstock in v0_feedstocks(&corpus) {
        recipes += 1;
        let name = feedstock
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = fs_err::read_to_string(feedstock.join("recipe/meta.yaml")).unwrap();
        let recipe = match Recipe::parse(RecipeFormat::V0, &text) {
            Ok(recipe) => recipe,
            Err(e) => {
                let count = variants(&feedstock).len();
                total += count;
                failures.push(format!("{name}: parse: line {:?}: {e}", e.line()));
                continue;
            }
        };
        for (file, variant) in variants(&feedstock) {
            total += 1;
            if let Err(e) = recipe.render(&variant) {
                failures.push(format!("{name} [{file}]: line {:?}: {e}", e.line()));
            }
        }
    }
    eprintln!(
        "v0 corpus: {}/{total} (recipe, variant) renders passed over {recipes} recipes",
        total - failures.len()
    );
    for failure in &failures {
        eprintln!("  {failure}");
    }
    assert!(recipes >= 80, "expected the 90 v0 recipes, found {recipes}");
    assert!(failures.is_empty(), "{} renders failed", failures.len());
}

/// Renders one feedstock for the `.ci_support` file whose name starts with `prefix`.
fn render(name: &str, prefix: &str) -> Option<RenderedRecipe> {
    let corpus = corpus()?;
    let feedstock = corpus.join(format!("{name}-feedstock"));
    let recipe = parse(&feedstock);
    let (file, variant) = variants(&feedstock)
        .into_iter()
        .find(|(file, _)| file.starts_with(prefix))
        .unwrap_or_else(|| panic!("{name}: no variant starting with {prefix}"));
    Some(
        recipe
            .render(&variant)
            .unwrap_or_else(|e| panic!("{name} [{file}]: {e}")),
    )
}

fn output<'a>(recipe: &'a RenderedRecipe, name: &str) -> &'a cascade::recipe::Output {
    recipe
        .outputs
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| {
            let names: Vec<_> = recipe.outputs.iter().map(|o| &o.name).collect();
            panic!("no output {name}; have {names:?}")
        })
}

fn names(reqs: &cascade::recipe::Requirements, section: Section) -> Vec<&str> {
    reqs.names(section).into_iter().collect()
}
