//! Template-level behaviour: selectors, Jinja idioms and extraction together.

use rattler_conda_types::Subdir;

use super::*;

fn variant(text: &str, platform: Subdir) -> Variant {
    Variant::from_ci_support(text, platform).unwrap()
}

fn render(recipe: &str, platform: Subdir) -> Result<RenderedRecipe, RecipeError> {
    Template::parse(recipe)?.render(&variant("{}\n", platform))
}

#[test]
fn minimal_recipe_renders() {
    let r = render("package:\n  name: foo\n  version: 1.10\n", Subdir::Linux64).unwrap();
    assert_eq!(r.name, "foo");
    assert_eq!(r.version.as_deref(), Some("1.10"));
}
