//! `cascade rerender` end to end: writing mode (adds, changes and deletes variant files,
//! deletes closed migrations), `--check`, and bad input (clear errors, exit 2, or an empty
//! and explained result, never a panic).

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const CASES: &str = "../shared/data/rerender-cases";

use common::copy_dir;

/// A feedstock checkout built from a rerender case (inputs, the migrations it found, and
/// the expected `.ci_support`), plus its pinning directory.
fn case_checkout(name: &str) -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    let case = Path::new(CASES).join("cases").join(name);
    if !case.is_dir() {
        eprintln!("skipping: {} is absent (no ../shared data)", case.display());
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&fs_err::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let pinning = Path::new(CASES).join(json["pinning_dir"].as_str().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let feedstock = dir.path().join(name);
    fs_err::create_dir_all(&feedstock).unwrap();
    fs_err::copy(
        case.join("conda-forge.yml"),
        feedstock.join("conda-forge.yml"),
    )
    .unwrap();
    copy_dir(&case.join("recipe"), &feedstock.join("recipe"));
    copy_dir(
        &case.join("expected").join(".ci_support"),
        &feedstock.join(".ci_support"),
    );
    copy_dir(
        &case.join("migrations-before"),
        &feedstock.join(".ci_support").join("migrations"),
    );
    Some((dir, feedstock, pinning))
}

fn cascade(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::cargo_bin("cascade")
        .unwrap()
        .arg("rerender")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn rerender_restores_changed_added_and_deleted_files_and_removes_closed_migrations() {
    let Some((_dir, feedstock, pinning)) = case_checkout("arrow-cpp-feedstock") else {
        return;
    };
    let ci = feedstock.join(".ci_support");
    let expected_linux = fs_err::read_to_string(ci.join("linux_ppc64le_.yaml")).unwrap();
    let expected_osx = fs_err::read_to_string(ci.join("osx_64_.yaml")).unwrap();
    fs_err::remove_file(ci.join("linux_ppc64le_.yaml")).unwrap();
    fs_err::write(ci.join("osx_64_.yaml"), "orc:\n- 2.3.0\n").unwrap();
    fs_err::write(ci.join("win_32_.yaml"), "stale: true\n").unwrap();
    let closed = ci.join("migrations").join("libgoogle_cloud37.yaml");
    assert!(closed.is_file());

    let check = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
        "--check".as_ref(),
    ]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stderr));
    let diff = text(&check.stdout);
    assert!(
        diff.contains("+++ b/.ci_support/linux_ppc64le_.yaml"),
        "{diff}"
    );
    assert!(diff.contains("--- a/.ci_support/win_32_.yaml"), "{diff}");
    assert!(
        diff.contains("--- a/.ci_support/migrations/libgoogle_cloud37.yaml"),
        "{diff}"
    );
    assert!(closed.is_file(), "--check must not change anything");

    let write = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert!(write.status.success(), "{}", text(&write.stderr));
    assert!(text(&write.stdout).contains("libgoogle_cloud37.yaml: closed upstream"));
    assert_eq!(
        fs_err::read_to_string(ci.join("linux_ppc64le_.yaml")).unwrap(),
        expected_linux
    );
    assert_eq!(
        fs_err::read_to_string(ci.join("osx_64_.yaml")).unwrap(),
        expected_osx
    );
    assert!(!ci.join("win_32_.yaml").exists());
    assert!(!closed.exists());
    assert!(ci.join("migrations").join("orc231.yaml").is_file());

    let again = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
        "--check".as_ref(),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
}

/// A minimal feedstock in a temporary directory.
fn tiny_feedstock(meta: &str, forge: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let feedstock = dir.path().join("tiny-feedstock");
    fs_err::create_dir_all(feedstock.join("recipe")).unwrap();
    fs_err::write(feedstock.join("recipe").join("meta.yaml"), meta).unwrap();
    fs_err::write(feedstock.join("conda-forge.yml"), forge).unwrap();
    let pinning = dir.path().join("pinning");
    fs_err::create_dir_all(pinning.join("migrations")).unwrap();
    fs_err::write(
        pinning.join("conda_build_config.yaml"),
        "c_compiler:\n  - gcc  # [linux]\n  - clang  # [osx]\n  - vs2022  # [win]\n\
         zlib:\n  - 1\nchannel_sources:\n  - conda-forge\nchannel_targets:\n  - conda-forge main\n\
         docker_image:\n  - quay.io/condaforge/linux-anvil-x86_64:alma10  # [linux]\n",
    )
    .unwrap();
    (dir, feedstock, pinning)
}

const META: &str = "package:\n  name: tiny\n  version: 1.0\nrequirements:\n  build:\n    - {{ compiler('c') }}\n  host:\n    - zlib\n";

#[test]
fn a_tiny_feedstock_gets_one_file_per_default_platform() {
    let (_dir, feedstock, pinning) = tiny_feedstock(META, "");
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let linux =
        fs_err::read_to_string(feedstock.join(".ci_support").join("linux_64_.yaml")).unwrap();
    assert_eq!(
        linux,
        "c_compiler:\n- gcc\nchannel_sources:\n- conda-forge\nchannel_targets:\n- conda-forge main\n\
         docker_image:\n- quay.io/condaforge/linux-anvil-x86_64:alma10\ntarget_platform:\n- linux-64\n\
         zlib:\n- '1'\n"
    );
    assert!(feedstock.join(".ci_support").join("osx_64_.yaml").is_file());
    assert!(feedstock.join(".ci_support").join("win_64_.yaml").is_file());
}

#[test]
fn an_unknown_pinning_key_is_a_clear_error() {
    let (_dir, feedstock, pinning) = tiny_feedstock(META, "");
    fs_err::write(
        pinning.join("conda_build_config.yaml"),
        "libjpeg-turbo:\n  - 3\n",
    )
    .unwrap();
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("libjpeg-turbo") && err.contains("pinning conda_build_config.yaml"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_malformed_migration_file_is_a_clear_error_naming_it() {
    let (_dir, feedstock, pinning) = tiny_feedstock(META, "");
    let migrations = feedstock.join(".ci_support").join("migrations");
    fs_err::create_dir_all(&migrations).unwrap();
    fs_err::write(
        migrations.join("broken.yaml"),
        "migrator_ts: [1\n__migrator: {\n",
    )
    .unwrap();
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("broken.yaml"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unknown_migration_operation_is_a_clear_error() {
    let (_dir, feedstock, pinning) = tiny_feedstock(META, "");
    let migrations = feedstock.join(".ci_support").join("migrations");
    fs_err::create_dir_all(&migrations).unwrap();
    let text_ = "__migrator:\n  operation: key_multiply\n  primary_key: zlib\n  use_local: true\nzlib:\n  - 2\n";
    fs_err::write(migrations.join("odd.yaml"), text_).unwrap();
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("odd.yaml") && err.contains("key_multiply"),
        "{err}"
    );
}

#[test]
fn a_recipe_that_skips_every_platform_gives_no_files_and_says_why() {
    let meta = "package:\n  name: tiny\n  version: 1.0\nbuild:\n  skip: true\n";
    let (_dir, feedstock, pinning) = tiny_feedstock(meta, "");
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("0 variant files"), "{stdout}");
    for platform in ["linux_64", "osx_64", "win_64"] {
        assert!(
            stdout.contains(&format!("{platform}: no files")),
            "{stdout}"
        );
    }
}

#[test]
fn a_broken_conda_forge_yml_or_missing_recipe_is_an_error_not_a_panic() {
    let (_dir, feedstock, pinning) = tiny_feedstock(META, "provider: [unclosed\n");
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("conda-forge.yml"),
        "{}",
        text(&out.stderr)
    );

    let (_dir, feedstock, pinning) = tiny_feedstock(META, "");
    fs_err::remove_file(feedstock.join("recipe").join("meta.yaml")).unwrap();
    let out = cascade(&[
        feedstock.as_os_str(),
        "--pinning".as_ref(),
        pinning.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("meta.yaml"),
        "{}",
        text(&out.stderr)
    );
}
