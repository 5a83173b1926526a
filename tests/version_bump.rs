//! `cascade version-bump` end to end on the before/after recipe pairs of
//! `tests/fixtures/version_bump/` (one directory per case), all offline: the case's
//! `hash-cache.json` maps the URLs that "exist" to their digests, and every other URL is
//! missing, so the URL search has to find the right candidate.
//!
//! A case holds `in/<meta.yaml|recipe.yaml>`, `version` (the `--to` argument), the hash
//! cache, a `README` saying what it covers, and either `out/<file>` (the expected
//! recipe, compared byte for byte) or `error.txt` (the expected stderr, exit 2, with the
//! temporary directory written `<DIR>`). `CASCADE_BLESS=1` writes a missing `error.txt`
//! from the actual output, for review.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const FIXTURES: &str = "tests/fixtures/version_bump";

/// Every case directory, sorted by name.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = fs_err::read_dir(FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
}

/// The recipe file of a case (`meta.yaml` or `recipe.yaml` under `in/`).
fn recipe_name(case: &Path) -> String {
    fs_err::read_dir(case.join("in"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n == "meta.yaml" || n == "recipe.yaml")
        .unwrap_or_else(|| panic!("{}: no recipe under in/", case.display()))
}

/// A feedstock checkout with the case's recipe, in a temporary directory.
fn checkout(case: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let feedstock = dir.path().join("case-feedstock");
    common::copy_dir(&case.join("in"), &feedstock.join("recipe"));
    (dir, feedstock)
}

fn bump(feedstock: &Path, version: &str, cache: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("cascade")
        .unwrap()
        .arg("version-bump")
        .arg(feedstock)
        .args(["--to", version, "--hash-cache"])
        .arg(cache)
        .arg("--offline")
        .args(extra)
        .output()
        .unwrap()
}

/// Runs one case; `Err` says how it failed.
fn run_case(case: &Path) -> Result<(), String> {
    let name = recipe_name(case);
    let version = fs_err::read_to_string(case.join("version")).unwrap();
    let (dir, feedstock) = checkout(case);
    let out = bump(
        &feedstock,
        version.trim(),
        &case.join("hash-cache.json"),
        &[],
    );
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&dir.path().display().to_string(), "<DIR>");
    let expected_out = case.join("out").join(&name);
    if expected_out.is_file() {
        if !out.status.success() {
            return Err(format!(
                "exit {:?}, expected 0:\n{stderr}",
                out.status.code()
            ));
        }
        let actual = fs_err::read(feedstock.join("recipe").join(&name)).unwrap();
        let expected = fs_err::read(&expected_out).unwrap();
        if actual != expected {
            let actual = String::from_utf8_lossy(&actual);
            let expected = String::from_utf8_lossy(&expected);
            let diff = similar::TextDiff::from_lines(expected.as_ref(), actual.as_ref());
            return Err(format!(
                "rewritten recipe differs (- expected, + actual):\n{}",
                diff.unified_diff()
            ));
        }
        return Ok(());
    }
    let error_file = case.join("error.txt");
    if out.status.code() != Some(2) {
        return Err(format!(
            "exit {:?}, expected 2:\n{stderr}",
            out.status.code()
        ));
    }
    let original = fs_err::read(case.join("in").join(&name)).unwrap();
    if fs_err::read(feedstock.join("recipe").join(&name)).unwrap() != original {
        return Err("a failed bump changed the recipe".to_string());
    }
    if !error_file.is_file() {
        if std::env::var_os("CASCADE_BLESS").is_some() {
            fs_err::write(&error_file, stderr.as_bytes()).unwrap();
            return Ok(());
        }
        return Err(format!("no error.txt; the output was:\n{stderr}"));
    }
    let expected = fs_err::read_to_string(&error_file).unwrap();
    if stderr != expected {
        let diff = similar::TextDiff::from_lines(expected.as_str(), stderr.as_ref());
        return Err(format!(
            "stderr differs (- expected, + actual):\n{}",
            diff.unified_diff()
        ));
    }
    Ok(())
}

#[test]
fn every_before_after_pair_is_rewritten_byte_for_byte() {
    let cases = cases();
    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run_case(case) {
            failures.push(format!("{}: {why}", case.display()));
        }
    }
    let errors = cases.iter().filter(|c| !c.join("out").is_dir()).count();
    eprintln!(
        "version-bump pairs: {}/{} passed ({} rewrites, {errors} failure reports)",
        cases.len() - failures.len(),
        cases.len(),
        cases.len() - errors,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn dry_run_prints_the_diff_and_leaves_the_recipe_alone() {
    let case = Path::new(FIXTURES).join("multisrc_selectors");
    let (_dir, feedstock) = checkout(&case);
    let out = bump(
        &feedstock,
        "2.4.1",
        &case.join("hash-cache.json"),
        &["--dry-run"],
    );
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("-{% set version = \"2.4.0\" %}\n+{% set version = \"2.4.1\" %}\n"),
        "{stdout}"
    );
    assert!(stdout.contains("+  number: 0\n"), "{stdout}");
    assert_eq!(
        fs_err::read(feedstock.join("recipe/meta.yaml")).unwrap(),
        fs_err::read(case.join("in/meta.yaml")).unwrap()
    );
}

#[test]
fn the_recipe_folder_itself_is_accepted_as_dir() {
    let case = Path::new(FIXTURES).join("onesrc");
    let (_dir, feedstock) = checkout(&case);
    let out = bump(
        &feedstock.join("recipe"),
        "2.4.1",
        &case.join("hash-cache.json"),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fs_err::read(feedstock.join("recipe/meta.yaml")).unwrap(),
        fs_err::read(case.join("out/meta.yaml")).unwrap()
    );
}

#[test]
fn a_directory_without_a_recipe_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache.json");
    fs_err::write(&cache, "{}").unwrap();
    let out = bump(dir.path(), "1.0", &cache, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no recipe in"), "{stderr}");
    assert!(
        stderr.contains(&dir.path().display().to_string()),
        "{stderr}"
    );
}

#[test]
fn a_broken_hash_cache_is_an_error_naming_the_file() {
    let case = Path::new(FIXTURES).join("onesrc");
    let (dir, feedstock) = checkout(&case);
    let cache = dir.path().join("broken.json");
    fs_err::write(&cache, "{\"https://x\": [1, 2]}").unwrap();
    let out = bump(&feedstock, "2.4.1", &cache, &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
}

#[test]
fn the_persistent_hash_cache_fills_from_the_offline_cache() {
    let case = Path::new(FIXTURES).join("multisrc_selectors");
    let (dir, feedstock) = checkout(&case);
    let db = dir.path().join("cascade.sqlite");
    let out = bump(
        &feedstock,
        "2.4.1",
        &case.join("hash-cache.json"),
        &["--db", db.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = cascade::graph::Store::open(&db).unwrap();
    assert_eq!(store.source_digest_count().unwrap(), 3);
    // A second bump back and forth needs no hash cache file: the store answers.
    let empty = dir.path().join("empty.json");
    fs_err::write(&empty, "{}").unwrap();
    fs_err::copy(
        case.join("in/meta.yaml"),
        feedstock.join("recipe/meta.yaml"),
    )
    .unwrap();
    let again = bump(&feedstock, "2.4.1", &empty, &["--db", db.to_str().unwrap()]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        fs_err::read(feedstock.join("recipe/meta.yaml")).unwrap(),
        fs_err::read(case.join("out/meta.yaml")).unwrap()
    );
}
