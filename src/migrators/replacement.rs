//! Package replacements (reference §3.8, the bot's `Replacement`): suggest depending on
//! `new` instead of `old` (`mpir` → `gmp`, `astropy` → `astropy-base`).
//!
//! Members are the feedstocks whose `build`, `host`, `run` or test requirements name
//! `old`; they are not gated on one another (a replacement does not need the parents
//! rebuilt first). Everything else is `NotAffected`.
//!
//! The change rewrites the package name on every requirement-list line matching the bot's
//! `\s*-\s*(old)(\s+|$)` from the start of the line, in `meta.yaml` and `recipe.yaml`
//! alike, changing only the name: a version constraint, a `# [selector]` or a comment
//! after it stays (the bot's `str.replace` rewrote every occurrence on the line).
//! Commented-out lines are left alone. Then the build number is bumped by one and the
//! feedstock is rerendered. `NothingToDo` when no line matched: the name comes from a
//! Jinja expression, a v1 `if:` branch or a `pin_compatible`, which need a person.

use std::collections::BTreeMap;

use regex::Regex;

use crate::recipe::edit::bump_build_number;
use crate::recipe::{RecipeFormat, Section};

use super::definitions::{Common, Fields, pr_footer, pr_title};
use super::maintenance::rerender_changes;
use super::migrator::{
    Change, ChangeInput, ChangeSet, Exclusion, MigrateError, MigrationPlan, Migrator, MigratorKind,
    Settings, Uid,
};
use super::snapshot::{GraphSnapshot, NodeInfo};

/// The bot's `Replacement.migrator_version`; it is part of the branch name.
const MIGRATOR_VERSION: u32 = 0;

/// The sections whose requirements make a feedstock a member.
const SECTIONS: [Section; 4] = [Section::Build, Section::Host, Section::Run, Section::Test];

/// One `old → new` replacement.
#[derive(Debug, Clone)]
pub struct Replacement {
    name: String,
    settings: Settings,
    old: String,
    new: String,
    rationale: Option<String>,
    /// `^\s*-\s*(old)(\s|$)`.
    pattern: Regex,
}

impl Replacement {
    /// A replacement of `old` by `new`; `rationale` goes into the PR body.
    pub fn new(
        name: &str,
        settings: Settings,
        old: &str,
        new: &str,
        rationale: Option<&str>,
    ) -> Replacement {
        let pattern = Regex::new(&format!(r"^\s*-\s*({})(\s|$)", regex::escape(old)))
            .unwrap_or_else(|_| unreachable!("an escaped name is a valid pattern"));
        Replacement {
            name: name.to_string(),
            settings,
            old: old.to_string(),
            new: new.to_string(),
            rationale: rationale.map(str::to_string),
            pattern,
        }
    }

    /// Reads `old`, `new` and `rationale`. Not gated by default.
    pub(crate) fn from_definition(common: Common, fields: &mut Fields<'_>) -> Option<Replacement> {
        let package = |fields: &mut Fields<'_>, key: &'static str| {
            let name: String = fields.require(key)?;
            let valid = !name.is_empty()
                && name.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
                });
            if !valid {
                fields.invalid(key, format!("`{name}` is not a package name"));
            }
            valid.then_some(name)
        };
        let old = package(fields, "old");
        let new = package(fields, "new");
        let rationale: Option<String> = fields.take("rationale");
        let (old, new) = (old?, new?);
        if old == new {
            fields.invalid("new", format!("`{new}` replaces itself"));
            return None;
        }
        let settings = common.settings(Settings {
            gated: false,
            ..Settings::default()
        });
        Some(Replacement::new(
            &common.name,
            settings,
            &old,
            &new,
            rationale.as_deref(),
        ))
    }

    /// The recipe with `old` replaced on every requirement line, or `None` when no line
    /// names it.
    pub fn replace_in(&self, recipe: &str) -> Option<String> {
        let mut out = String::with_capacity(recipe.len());
        let mut replaced = false;
        for line in recipe.split_inclusive('\n') {
            let name = (!line.trim_start().starts_with('#'))
                .then(|| self.pattern.captures(line))
                .flatten()
                .and_then(|c| c.get(1));
            match name {
                Some(name) => {
                    out.push_str(&line[..name.start()]);
                    out.push_str(&self.new);
                    out.push_str(&line[name.end()..]);
                    replaced = true;
                }
                None => out.push_str(line),
            }
        }
        replaced.then_some(out)
    }

    fn body(&self, input: &ChangeInput<'_>, files: &str) -> String {
        let rationale = self
            .rationale
            .as_deref()
            .map(|r| format!("{}\n\n", r.trim_end()))
            .unwrap_or_default();
        format!(
            "I noticed that this recipe depends on `{old}` instead of `{new}`. {rationale}\
             This PR makes this change and bumps the build number.\n\n\
             Notes and instructions for merging this PR:\n\
             1. Make sure that the recipe can indeed only depend on `{new}`.\n\
             2. Please merge the PR only after the tests have passed.\n\
             3. Feel free to push to the bot's branch to update this PR if needed.\n\n\
             Files:\n\n{files}\n{footer}",
            old = self.old,
            new = self.new,
            footer = pr_footer(input.identity, &self.name),
        )
    }
}

/// The recipe file of a feedstock, relative to its root.
fn recipe_path(input: &ChangeInput<'_>) -> Result<(RecipeFormat, String), MigrateError> {
    let dir = input
        .config
        .extras
        .get("recipe_dir")
        .and_then(|v| v.as_str())
        .unwrap_or("recipe")
        .trim_end_matches('/');
    let formats = match input.node.recipe_format {
        Some(format) => vec![format],
        None => vec![RecipeFormat::V0, RecipeFormat::V1],
    };
    formats
        .into_iter()
        .map(|f| (f, format!("{dir}/{}", f.file_name())))
        .find(|(_, path)| input.files.file(path).is_some())
        .ok_or_else(|| MigrateError::MissingFile(format!("{dir}/meta.yaml or {dir}/recipe.yaml")))
}

impl Migrator for Replacement {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> MigratorKind {
        MigratorKind::Replacement
    }

    fn settings(&self) -> &Settings {
        &self.settings
    }

    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let mut plan = MigrationPlan::default();
        for id in graph.ids() {
            let node = graph.node(id);
            let exclusion = if node.archived {
                Exclusion::Archived
            } else if node.parse_error {
                Exclusion::ParseError
            } else if SECTIONS
                .iter()
                .any(|s| node.section(*s).any(|r| r == self.old))
            {
                plan.members.push(id);
                continue;
            } else {
                Exclusion::NotAffected
            };
            plan.excluded.push((id, exclusion));
        }
        plan
    }

    fn uid(&self, _node: &NodeInfo) -> Uid {
        Uid::new(&self.name, MIGRATOR_VERSION)
    }

    fn change(&self, input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        let (format, path) = recipe_path(input)?;
        let recipe = input.files.text(&path).ok_or_else(|| MigrateError::Edit {
            file: path.clone(),
            message: "not UTF-8 text".to_string(),
        })?;
        let Some(replaced) = self.replace_in(recipe) else {
            return Ok(Change::NothingToDo {
                reason: format!(
                    "no requirement line of `{path}` names `{}` (it may come from a \
                     template expression)",
                    self.old
                ),
            });
        };
        let bumped = bump_build_number(format, &replaced, 1).map_err(|e| MigrateError::Edit {
            file: path.clone(),
            message: e.to_string(),
        })?;
        let rerendered = rerender_changes(input, &[(&path, &bumped.text)])?;
        let mut list = format!("- updated `{path}`\n");
        list.push_str(&rerendered.markdown());
        let title = format!("Suggestion: depend on {} instead of {}", self.new, self.old);
        let mut set = ChangeSet {
            writes: BTreeMap::from([(path.clone(), bumped.text)]),
            commit_message: format!("use {} instead of {}", self.new, self.old),
            title: pr_title(&self.settings, input.config, &title),
            body: self.body(input, &list),
            branch: format!("{}-to-{}-migration-{MIGRATOR_VERSION}", self.old, self.new),
            ..ChangeSet::default()
        };
        rerendered.apply_to(&mut set);
        Ok(Change::Files(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedstock::Snapshot;

    fn mpir() -> Replacement {
        Replacement::new("mpir-to-gmp", Settings::default(), "mpir", "gmp", None)
    }

    #[test]
    fn only_the_package_name_changes_on_requirement_lines() {
        let recipe = "requirements:\n  host:\n    - mpir  # [win]\n    - mpir >=3.0\n    -   mpir\n    - mpirical\n    # - mpir\n  run:\n    - {{ pin_compatible('mpir') }}\n    - mpir\r\n";
        assert_eq!(
            mpir().replace_in(recipe).unwrap(),
            "requirements:\n  host:\n    - gmp  # [win]\n    - gmp >=3.0\n    -   gmp\n    - mpirical\n    # - mpir\n  run:\n    - {{ pin_compatible('mpir') }}\n    - gmp\r\n"
        );
    }

    #[test]
    fn a_recipe_without_the_old_name_on_a_list_line_is_left_alone() {
        assert_eq!(mpir().replace_in("about:\n  summary: not mpir\n"), None);
        assert_eq!(mpir().replace_in("    - libmpir\n"), None);
    }

    #[test]
    fn names_with_regex_characters_are_matched_literally() {
        let r = Replacement::new("x", Settings::default(), "a.b", "c", None);
        assert_eq!(r.replace_in("  - axb\n"), None);
        assert_eq!(r.replace_in("  - a.b\n").unwrap(), "  - c\n");
    }

    /// A feedstock whose `.ci_support` is what a rerender of it gives.
    fn feedstock(
        format: RecipeFormat,
        recipe: &str,
        pinning: &crate::pinning::Pinning,
    ) -> Snapshot {
        let root = std::path::Path::new("/nowhere/foo-feedstock");
        let forge_yml = match format {
            RecipeFormat::V0 => "",
            RecipeFormat::V1 => "conda_build_tool: rattler-build\n",
        };
        let mut files = vec![
            ("conda-forge.yml".to_string(), forge_yml.as_bytes().to_vec()),
            (
                format!("recipe/{}", format.file_name()),
                recipe.as_bytes().to_vec(),
            ),
        ];
        let snapshot = Snapshot::from_files(root, files.clone());
        let inputs = crate::pinning::inputs_from_snapshot(&snapshot, "foo-feedstock").unwrap();
        let output = crate::pinning::rerender(&inputs, pinning, Default::default()).unwrap();
        for (name, text) in output.files {
            files.push((format!(".ci_support/{name}"), text.into_bytes()));
        }
        Snapshot::from_files(root, files)
    }

    fn change_of(format: RecipeFormat, recipe: &str) -> ChangeSet {
        let pinning = crate::pinning::Pinning {
            cbc: "c_compiler:\n  - gcc  # [linux]\n  - clang  # [osx]\n  - vs2022  # [win]\nmpir:\n  - '3.0'\ngmp:\n  - '6'\n".to_string(),
            migrations: None,
        };
        let files = feedstock(format, recipe, &pinning);
        let config =
            crate::feedstock::config::parse(files.text("conda-forge.yml").unwrap()).unwrap();
        let node = NodeInfo {
            name: "foo".to_string(),
            recipe_format: Some(format),
            ..NodeInfo::default()
        };
        let input = ChangeInput {
            node: &node,
            files: &files,
            config: &config,
            pinning: &pinning,
            children: &[],
            closeout: false,
            identity: &crate::migrators::Identity::default(),
        };
        match mpir().change(&input).unwrap() {
            Change::Files(set) => set,
            Change::NothingToDo { reason } => panic!("{reason}"),
        }
    }

    fn assert_replaced(set: &ChangeSet, recipe_path: &str, expected_recipe: &str) {
        assert_eq!(set.writes[recipe_path], expected_recipe);
        let variants: Vec<&String> = set
            .writes
            .keys()
            .filter(|p| p.starts_with(".ci_support/"))
            .collect();
        assert_eq!(
            variants,
            [
                ".ci_support/linux_64_.yaml",
                ".ci_support/osx_64_.yaml",
                ".ci_support/win_64_.yaml"
            ]
        );
        for path in variants {
            let text = &set.writes[path];
            assert!(
                text.contains("gmp:\n- '6'\n") && !text.contains("mpir"),
                "{path}: {text}"
            );
        }
        assert_eq!(set.title, "Suggestion: depend on gmp instead of mpir");
        assert_eq!(set.commit_message, "use gmp instead of mpir");
        assert_eq!(set.branch, "mpir-to-gmp-migration-0");
        assert!(set.deletes.is_empty());
    }

    #[test]
    fn a_v0_recipe_gets_gmp_a_bumped_build_number_and_a_rerender() {
        let recipe = "package:\n  name: foo\n  version: 1.0\nbuild:\n  number: 2\nrequirements:\n  build:\n    - {{ compiler('c') }}\n  host:\n    - mpir\n  run:\n    - mpir  # [win]\n";
        let set = change_of(RecipeFormat::V0, recipe);
        assert_replaced(
            &set,
            "recipe/meta.yaml",
            "package:\n  name: foo\n  version: 1.0\nbuild:\n  number: 3\nrequirements:\n  build:\n    - {{ compiler('c') }}\n  host:\n    - gmp\n  run:\n    - gmp  # [win]\n",
        );
    }

    #[test]
    fn a_v1_recipe_gets_gmp_a_bumped_build_number_and_a_rerender() {
        let recipe = "context:\n  version: \"1.0\"\npackage:\n  name: foo\n  version: ${{ version }}\nbuild:\n  number: 0\nrequirements:\n  build:\n    - ${{ compiler('c') }}\n  host:\n    - mpir\n  run:\n    - if: win\n      then: mpir\n    - mpir\n";
        let set = change_of(RecipeFormat::V1, recipe);
        assert_replaced(
            &set,
            "recipe/recipe.yaml",
            "context:\n  version: \"1.0\"\npackage:\n  name: foo\n  version: ${{ version }}\nbuild:\n  number: 1\nrequirements:\n  build:\n    - ${{ compiler('c') }}\n  host:\n    - gmp\n  run:\n    - if: win\n      then: mpir\n    - gmp\n",
        );
    }
}
