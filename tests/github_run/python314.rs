//! What a python314 PR on the emulator must hold, and the migration plan's view of a
//! feedstock's parents.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cascade::feedstock::Snapshot;
use cascade::migrators::GraphSnapshot;
use cascade::migrators::registry::{Registry, Sources};
use cascade::pinning::{self, Compat};
use serde_json::Value;

use crate::world::{BOT, MIGRATION, ORG, World};

const MIGRATION_FILE: &str = ".ci_support/migrations/python314.yaml";

impl World {
    /// Checks one python314 PR on the emulator: head on the bot's fork, and a head tree
    /// that differs from the base only in the recipe's build number and `.ci_support/`
    /// (the migration file, which it holds with the pinning's text, and the variant files,
    /// exactly as the native rerender of the PR's own files produces them).
    pub(crate) fn assert_python314_pr(&self, feedstock: &str, pr: &Value, branch: &str) {
        assert_eq!(pr["head"]["ref"], branch, "{feedstock}: {pr:#}");
        assert_eq!(
            pr["head"]["label"],
            format!("{BOT}:{branch}"),
            "{feedstock}"
        );
        assert_eq!(pr["base"]["ref"], "main", "{feedstock}");
        let head_sha = pr["head"]["sha"].as_str().unwrap();
        let base = self.tree(ORG, feedstock, "main");
        let head = self.tree(BOT, feedstock, head_sha);
        let changed: BTreeSet<&String> = base
            .keys()
            .chain(head.keys())
            .filter(|path| base.get(*path) != head.get(*path))
            .collect();
        let recipe = ["recipe/recipe.yaml", "recipe/meta.yaml"]
            .into_iter()
            .find(|p| base.contains_key(*p))
            .unwrap_or_else(|| panic!("{feedstock}: no recipe"));
        for path in &changed {
            assert!(
                path.as_str() == recipe || path.starts_with(".ci_support/"),
                "{feedstock}: {path} changed"
            );
        }
        // Many corpus feedstocks already carry the migration file (then it is unchanged);
        // its content is checked below either way.
        assert!(
            changed.iter().any(|p| *p == recipe),
            "{feedstock}: {changed:?}"
        );

        let text = |owner: &str, tree: &BTreeMap<String, (String, String)>, path: &str| {
            String::from_utf8(self.blob(owner, feedstock, &tree[path].1)).unwrap()
        };
        let pinning_dir = self.options.pinning_dir.as_ref().unwrap();
        let migration = fs_err::read_to_string(pinning_dir.join("migrations/python314.yaml"));
        assert_eq!(
            text(BOT, &head, MIGRATION_FILE),
            migration.unwrap(),
            "{feedstock}"
        );
        assert_build_bumped(
            &text(ORG, &base, recipe),
            &text(BOT, &head, recipe),
            feedstock,
        );

        let files: Vec<(String, Vec<u8>)> = head
            .iter()
            .filter(|(path, _)| {
                *path == "conda-forge.yml"
                    || path.starts_with("recipe/")
                    || path.starts_with(".ci_support/")
            })
            .map(|(path, (_, sha))| (path.clone(), self.blob(BOT, feedstock, sha)))
            .collect();
        let files = Snapshot::from_files(Path::new(feedstock), files);
        let inputs =
            pinning::inputs_from_snapshot(&files, &format!("{feedstock}-feedstock")).unwrap();
        let pinning = pinning::load_pinning(pinning_dir).unwrap();
        let expected = pinning::rerender(&inputs, &pinning, Compat::default()).unwrap();
        let committed: BTreeMap<String, String> = files
            .files_in(".ci_support")
            .filter(|(name, _)| name.ends_with(".yaml"))
            .map(|(name, bytes)| (name.to_owned(), String::from_utf8_lossy(bytes).into_owned()))
            .collect();
        assert_eq!(committed, expected.files, "{feedstock}: .ci_support");
        assert!(
            committed.values().any(|text| text.contains("3.14")),
            "{feedstock}: no python 3.14 variant"
        );
    }
}

/// Asserts the one changed recipe line raises a build number by one.
pub(crate) fn assert_build_bumped(old: &str, new: &str, feedstock: &str) {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    assert_eq!(old_lines.len(), new_lines.len(), "{feedstock}: line count");
    let changed: Vec<(&str, &str)> = old_lines
        .iter()
        .zip(&new_lines)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(changed.len(), 1, "{feedstock}: {changed:?}");
    let number = |line: &str| -> u64 {
        let digits: String = line
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    let (a, b) = changed[0];
    assert!(
        a.contains("build") || a.contains("number"),
        "{feedstock}: {a}"
    );
    assert_eq!(number(b), number(a) + 1, "{feedstock}: {a} -> {b}");
}

/// The python314 parents (in the migration graph) of `feedstock`, as the run plans them.
pub(crate) fn plan_parents(world: &World, feedstock: &str) -> BTreeSet<String> {
    let pinning_dir = world.options.pinning_dir.clone().unwrap();
    let pinning = pinning::load_pinning(&pinning_dir).unwrap();
    let sources = Sources {
        pinning_dir,
        migrators_dir: None,
    };
    let registry = Registry::load(&sources, &pinning);
    let graph = GraphSnapshot::load(&world.store()).unwrap();
    let plan = registry.get(MIGRATION).unwrap().plan(&graph);
    let id = graph.id(feedstock).unwrap();
    plan.parents
        .get(&id)
        .into_iter()
        .flatten()
        .map(|parent| graph.node(*parent).name.clone())
        .collect()
}
