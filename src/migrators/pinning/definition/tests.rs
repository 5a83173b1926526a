use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<PinningMigration, DefinitionError> {
    PinningMigration::parse("m", Path::new("migrations/m.yaml"), text)
}

fn with_key(key: &str, value: &str) -> PinningMigration {
    let text = format!("__migrator:\n  {key}: {value}\nlibfoo:\n- '1'\n");
    parse(&text).unwrap_or_else(|e| panic!("{key}: {e}"))
}

/// One case per `__migrator` key: a value in the file and the check that it landed in
/// its typed field. Every key of [`MIGRATOR_KEYS`] must have a case.
type Check = fn(&PinningMigration) -> bool;

#[rustfmt::skip]
const CASES: &[(&str, &str, Check)] = &[
    ("kind", "version", |m| m.kind.as_deref() == Some("version")),
    ("migration_number", "2", |m| m.migration_number.as_deref() == Some("2")),
    ("bump_number", "0", |m| m.bump_number == 0),
    ("build_number", "1", |m| m.build_number.as_deref() == Some("1")),
    ("commit_message", "Rebuild for foo", |m| m.commit_message.as_deref() == Some("Rebuild for foo")),
    ("paused", "true", |m| m.paused),
    ("longterm", "True", |m| m.longterm),
    ("pr_limit", "50", |m| m.pr_limit == MAX_PR_LIMIT),
    ("force_pr_after_solver_attempts", "3", |m| m.force_pr_after_solver_attempts == 3),
    ("max_solver_attempts", "3", |m| m.max_solver_attempts == Some(3)),
    ("check_solvable", "false", |m| m.check_solvable == Some(false)),
    ("automerge", "true", |m| m.automerge),
    ("exclude", "[a, b]", |m| m.exclude == ["a", "b"]),
    ("exclude_pinned_pkgs", "false", |m| !m.exclude_pinned_pkgs),
    ("include_noarch", "true", |m| m.include_noarch),
    ("include_build", "true", |m| m.include_build),
    ("override_cbc_keys", "[cuda_compiler_stub]", |m| m.override_cbc_keys.as_deref() == Some(&["cuda_compiler_stub".to_string()][..])),
    ("platform_allowlist", "[win-64, osx_arm64]", |m| m.platform_allowlist == ["win-64", "osx_arm64"]),
    ("wait_for_migrators", "[python314]", |m| m.wait_for_migrators == ["python314"]),
    ("conda_forge_yml_patches", "{provider.linux_aarch64: default}", |m| m.conda_forge_yml_patches.len() == 1 && m.conda_forge_yml_patches[0].path == "provider.linux_aarch64"),
    ("ignored_deps_per_node", "{matplotlib: [pyqt]}", |m| m.ignored_deps_per_node.get("matplotlib").is_some_and(|p| p == &["pyqt"])),
    ("allowlist_file", "free-threaded-314.txt", |m| m.allowlist_file.as_deref() == Some("free-threaded-314.txt")),
    ("ordering", "{python: [3.13, 3.14]}", |m| m.smithy.ordering == [("python".to_string(), vec!["3.13".to_string(), "3.14".to_string()])]),
    ("operation", "key_add", |m| m.smithy.operation == Some(Operation::KeyAdd)),
    ("primary_key", "python", |m| m.smithy.primary_key.as_deref() == Some("python")),
    ("additional_zip_keys", "[is_freethreading]", |m| m.smithy.additional_zip_keys == ["is_freethreading"]),
    ("use_local", "true", |m| m.smithy.use_local),
];

#[test]
fn every_key_of_the_table_is_read_into_its_field() {
    for (key, _) in MIGRATOR_KEYS {
        assert!(
            CASES.iter().any(|(k, _, _)| k == key),
            "no case for `{key}`"
        );
    }
    for (key, value, check) in CASES {
        let migration = with_key(key, value);
        assert!(
            check(&migration),
            "`{key}: {value}` did not land: {migration:?}"
        );
        assert_eq!(migration.keys, [(key.to_string(), 2)], "{key}");
    }
}

#[test]
fn defaults_match_the_bot() {
    let m = parse("__migrator:\n  kind: version\nfoo:\n- 1\n").unwrap();
    assert_eq!(m.bump_number, 1);
    assert_eq!(m.pr_limit, DEFAULT_PR_LIMIT);
    assert_eq!(m.force_pr_after_solver_attempts, MAX_SOLVER_ATTEMPTS);
    assert!(m.exclude_pinned_pkgs);
    assert!(!m.include_noarch && !m.include_build && !m.paused && !m.automerge);
    assert_eq!(m.commit_message_or_default(), "Rebuild for m");
}

#[test]
fn null_values_mean_not_set() {
    let m = parse("__migrator:\n  pr_limit:\n  exclude_pinned_pkgs: ~\nfoo: [1]\n").unwrap();
    assert_eq!(m.pr_limit, DEFAULT_PR_LIMIT);
    assert!(m.exclude_pinned_pkgs);
}

#[test]
fn pins_are_the_other_top_level_keys() {
    let m = parse("migrator_ts: 12.5\n__migrator: {kind: version}\nlibboost_devel:\n- '1.90'\nlibboost_headers: ['1.90']\n").unwrap();
    let keys: Vec<&str> = m.pins.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["libboost_devel", "libboost_headers"]);
    assert_eq!(m.pins[0].line, 3);
    assert_eq!(m.migrator_ts, Some(12.5));
}

#[test]
fn an_unknown_key_names_the_file_the_line_and_the_closest_key() {
    let err = parse("__migrator:\n  kind: version\n  exlcude:\n    - foo\n").unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("migrations/m.yaml:3:"), "{message}");
    assert!(message.contains("`exlcude`"), "{message}");
    assert!(message.contains("did you mean `exclude`?"), "{message}");
}

#[test]
fn malformed_yaml_names_the_file_and_line() {
    let err = parse("__migrator:\n  kind: version\nfoo: [1, 2\nbar: 3\n").unwrap_err();
    assert!(
        matches!(err, DefinitionError::Yaml { line, .. } if line >= 3),
        "{err}"
    );
    assert!(err.to_string().starts_with("migrations/m.yaml:"), "{err}");
}

#[test]
fn a_file_without_migrator_block_is_not_a_migration() {
    let err = parse("# a variant file\nfoo:\n- 1\n").unwrap_err();
    assert!(
        matches!(err, DefinitionError::MissingMigrator { line: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("migrations/m.yaml:2"), "{err}");
    assert!(matches!(
        parse("").unwrap_err(),
        DefinitionError::MissingMigrator { .. }
    ));
}

#[test]
fn values_of_the_wrong_type_are_errors_at_their_line() {
    for (text, key) in [
        ("__migrator:\n  paused: maybe\n", "__migrator.paused"),
        ("__migrator:\n  pr_limit: -1\n", "__migrator.pr_limit"),
        ("__migrator:\n  exclude: numpy\n", "__migrator.exclude"),
        (
            "__migrator:\n  operation: key_frob\n",
            "__migrator.operation",
        ),
        ("__migrator:\n  ordering: [python]\n", "__migrator.ordering"),
        ("migrator_ts: soon\n__migrator: {}\n", "migrator_ts"),
    ] {
        let err = parse(text).unwrap_err();
        assert!(
            matches!(&err, DefinitionError::InvalidValue { key: k, .. } if k == key),
            "{text}: {err}"
        );
    }
    let err = parse("__migrator:\n  kind: version\n  paused: maybe\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("migrations/m.yaml:3: `__migrator.paused`"),
        "{err}"
    );
}

#[test]
fn check_solvable_times_out_after_thirty_days_unless_longterm_or_explicit() {
    let day = 24.0 * 3600.0;
    let plain = parse("migrator_ts: 0\n__migrator: {kind: version}\n").unwrap();
    assert!(plain.check_solvable(29.0 * day));
    assert!(!plain.check_solvable(31.0 * day));
    let longterm = parse("migrator_ts: 0\n__migrator: {longterm: true}\n").unwrap();
    assert!(longterm.check_solvable(365.0 * day));
    let explicit = parse("migrator_ts: 0\n__migrator: {check_solvable: false}\n").unwrap();
    assert!(!explicit.check_solvable(0.0));
}

#[test]
fn the_allowlist_is_read_from_the_support_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("ft.txt"), "numpy  scipy\ncython\n").unwrap();
    let m = parse("__migrator:\n  allowlist_file: ft.txt\n").unwrap();
    let list = m.load_allowlist(Some(dir.path())).unwrap().unwrap();
    assert_eq!(
        list.into_iter().collect::<Vec<_>>(),
        ["cython", "numpy", "scipy"]
    );
    assert!(matches!(
        m.load_allowlist(None),
        Err(DefinitionError::NoSupportDir { .. })
    ));
    let missing = parse("__migrator:\n  allowlist_file: nope.txt\n").unwrap();
    let err = missing.load_allowlist(Some(dir.path())).unwrap_err();
    assert!(err.to_string().contains("nope.txt"), "{err}");
}
