//! The declarative migrations of the top-level `migrators/` folder: every shipped file
//! loads, the compiled-in copy is identical to the folder, and broken files are reported
//! with their file, line and key while the other files still load.

use std::collections::BTreeMap;
use std::path::Path;

use cascade::migrators::definitions::{self, DefinitionError, DefinitionErrorKind};
use cascade::migrators::{Migrator, MigratorKind};
use cascade::pinning::Pinning;

fn folder() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrators"))
}

fn names(migrators: &[Box<dyn Migrator>]) -> Vec<(String, MigratorKind)> {
    migrators
        .iter()
        .map(|m| (m.name().to_string(), m.kind()))
        .collect()
}

/// Loads `files` (name → text) from a fresh directory.
fn load(
    files: &[(&str, &str)],
) -> (
    Vec<Box<dyn Migrator>>,
    Vec<DefinitionError>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
    let (migrators, errors) = definitions::load_dir(dir.path(), &Pinning::default());
    (migrators, errors, dir)
}

#[test]
fn every_shipped_definition_loads() {
    let (migrators, errors) = definitions::load_dir(folder(), &Pinning::default());
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        names(&migrators),
        [
            (
                "arch-linux-aarch64-ppc64le".to_string(),
                MigratorKind::Architecture
            ),
            ("arch-osx-arm64".to_string(), MigratorKind::Architecture),
            ("arch-win-arm64".to_string(), MigratorKind::Architecture),
            (
                "astropy-to-astropy-base".to_string(),
                MigratorKind::Replacement
            ),
            (
                "maintenance-rerender".to_string(),
                MigratorKind::Maintenance
            ),
            ("mpir-to-gmp".to_string(), MigratorKind::Replacement),
        ]
    );
    let arch = &migrators[0];
    assert!(arch.settings().gated && arch.settings().longterm);
    assert_eq!(arch.settings().pr_limit, 5);
    let maintenance = &migrators[4];
    assert!(!maintenance.settings().gated);
    assert_eq!(maintenance.settings().pr_limit, 3);
    assert!(!migrators[5].settings().gated);
}

#[test]
fn the_compiled_in_definitions_are_the_folder() {
    let (embedded, errors) = definitions::embedded(&Pinning::default());
    assert!(errors.is_empty(), "{errors:#?}");
    let (on_disk, _) = definitions::load_dir(folder(), &Pinning::default());
    assert_eq!(names(&embedded), names(&on_disk));
    // Every definition and data file of the folder is compiled in, byte for byte (the
    // `demo/` pinning migrations and the README are not definitions).
    let mut on_disk_files = BTreeMap::new();
    for relative in ["", "arch"] {
        for entry in fs_err::read_dir(folder().join(relative)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_file() && name != "README.md" {
                let key = if relative.is_empty() {
                    name
                } else {
                    format!("{relative}/{name}")
                };
                on_disk_files.insert(key, fs_err::read_to_string(&path).unwrap());
            }
        }
    }
    let compiled: BTreeMap<String, String> = definitions::embedded_files()
        .iter()
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect();
    assert_eq!(
        compiled.keys().collect::<Vec<_>>(),
        on_disk_files.keys().collect::<Vec<_>>(),
        "add new files of migrators/ to EMBEDDED in src/migrators/definitions/mod.rs"
    );
    assert_eq!(compiled, on_disk_files);
}

#[test]
fn a_bad_file_is_reported_with_its_line_and_the_others_still_load() {
    let (migrators, errors, dir) = load(&[
        (
            "good.yaml",
            "kind: replacement\nname: a-to-b\nold: a\nnew: b\n",
        ),
        (
            "bad.yaml",
            "kind: replacement\nname: c-to-d\nold: c\nnew: d\npr_limt: 3\npr_limit: 50\n",
        ),
    ]);
    assert_eq!(
        names(&migrators),
        [("a-to-b".to_string(), MigratorKind::Replacement)]
    );
    let rendered: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let bad = dir.path().join("bad.yaml");
    assert_eq!(
        rendered,
        [
            format!(
                "{}:5: `pr_limt`: unknown key (valid keys: automerge, description, ignored_deps_per_node, kind, longterm, name, new, old, paused, pr_limit, ramp, rationale, wait_for_migrators)",
                bad.display()
            ),
            format!("{}:6: `pr_limit`: 50 is out of range 1..=20", bad.display()),
        ]
    );
}

#[test]
fn an_unknown_kind_is_an_error_naming_the_known_ones() {
    let (migrators, errors, _dir) = load(&[("x.yaml", "name: x\nold: a\nkind: replacment\n")]);
    assert!(migrators.is_empty());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].line, Some(3));
    assert_eq!(errors[0].key.as_deref(), Some("kind"));
    assert!(matches!(
        &errors[0].kind,
        DefinitionErrorKind::UnknownKind { kind } if kind == "replacment"
    ));
    assert!(
        errors[0]
            .to_string()
            .contains("known: architecture, maintenance, replacement")
    );
}

#[test]
fn missing_keys_wrong_types_and_broken_yaml_are_located() {
    let (migrators, errors, _dir) = load(&[
        (
            "a.yaml",
            "kind: architecture\nname: arch-x\ntargets: linux_aarch64\nallowlist: nope.txt\ntitle: T\n",
        ),
        ("b.yaml", "kind: maintenance\nname: [m\n"),
        ("c.yaml", "- kind: maintenance\n"),
        ("d.yaml", "kind: maintenance\nname: Bad Name\n"),
    ]);
    assert!(migrators.is_empty());
    let summary: Vec<(String, Option<usize>, Option<String>)> = errors
        .iter()
        .map(|e| {
            (
                e.file.file_name().unwrap().to_string_lossy().to_string(),
                e.line,
                e.key.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a.yaml".to_string(), None, Some("branch".to_string())),
            ("a.yaml".to_string(), Some(3), Some("targets".to_string())),
            ("a.yaml".to_string(), Some(4), Some("allowlist".to_string())),
            ("b.yaml".to_string(), Some(2), None),
            ("c.yaml".to_string(), Some(1), None),
            ("d.yaml".to_string(), Some(2), Some("name".to_string())),
        ],
        "{errors:#?}"
    );
    assert!(matches!(errors[0].kind, DefinitionErrorKind::MissingKey));
    assert!(matches!(
        errors[3].kind,
        DefinitionErrorKind::NotYaml { .. }
    ));
    assert!(matches!(errors[4].kind, DefinitionErrorKind::NotAMapping));
}

#[test]
fn an_allowlist_with_a_bad_name_points_at_its_own_line() {
    let (migrators, errors, dir) = load(&[
        (
            "arch.yaml",
            "kind: architecture\nname: arch-x\ntargets: [linux_aarch64]\nallowlist: lists/x.txt\ntitle: T\nbranch: b\n",
        ),
        ("lists/x.txt", "# comment\nnumpy python\nNot/A/Name\n"),
    ]);
    assert!(migrators.is_empty());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].file, dir.path().join("lists/x.txt"));
    assert_eq!(errors[0].line, Some(3));
}

#[test]
fn two_files_with_one_name_keep_the_first() {
    let (migrators, errors, _dir) = load(&[
        ("a.yaml", "kind: maintenance\nname: m\n"),
        ("b.yaml", "kind: maintenance\nname: m\npr_limit: 1\n"),
    ]);
    assert_eq!(migrators.len(), 1);
    assert_eq!(migrators[0].settings().pr_limit, 5);
    assert!(matches!(
        &errors[..],
        [DefinitionError {
            kind: DefinitionErrorKind::DuplicateName { .. },
            ..
        }]
    ));
}

#[test]
fn the_engine_keys_map_onto_settings() {
    let (migrators, errors, _dir) = load(&[(
        "m.yaml",
        "kind: maintenance\nname: m\npr_limit: 7\nramp: false\npaused: true\nlongterm: true\nautomerge: true\nwait_for_migrators: [python314]\nignored_deps_per_node:\n  numpy: [python]\n",
    )]);
    assert!(errors.is_empty(), "{errors:#?}");
    let settings = migrators[0].settings();
    assert_eq!(settings.pr_limit, 7);
    assert!(!settings.ramp && settings.paused && settings.longterm && settings.automerge);
    assert!(!settings.gated);
    assert_eq!(settings.wait_for_migrators, ["python314"]);
    assert_eq!(settings.ignored_deps_per_node["numpy"], ["python"]);
}

#[test]
fn a_key_given_twice_is_an_error_at_its_second_line() {
    let (migrators, errors, _dir) = load(&[("m.yaml", "kind: maintenance\nname: a\nname: b\n")]);
    assert!(migrators.is_empty());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].line, Some(3), "{}", errors[0]);
    assert!(
        errors[0]
            .to_string()
            .contains("duplicate mapping key: name")
    );
}
