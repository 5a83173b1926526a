//! The four hand-checked feedstocks of `../shared/data/ci-support-examples/`: `cascade
//! rerender --check` must find their committed `.ci_support/*.yaml` byte-identical.
//!
//! Each test assembles a feedstock checkout in a temporary directory (the example's
//! `conda-forge.yml`, `recipe/` and `.ci_support/`) and runs the real binary on it.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const EXAMPLES: &str = "../shared/data/ci-support-examples";

use common::copy_dir;

/// A checkout of the example; `inputs` is where `conda-forge.yml` and `recipe/` come from
/// (the example itself, or pillow's `at-rerender-commit/`).
fn checkout(example: &str, inputs: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let root = Path::new(EXAMPLES).join(example);
    if !root.is_dir() {
        eprintln!("skipping: {} is absent (no ../shared data)", root.display());
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let feedstock = dir.path().join(example);
    let source = root.join(inputs);
    fs_err::create_dir_all(&feedstock).unwrap();
    fs_err::copy(
        source.join("conda-forge.yml"),
        feedstock.join("conda-forge.yml"),
    )
    .unwrap();
    copy_dir(&source.join("recipe"), &feedstock.join("recipe"));
    copy_dir(&root.join(".ci_support"), &feedstock.join(".ci_support"));
    Some((dir, feedstock))
}

fn check(example: &str, inputs: &str) {
    let Some((_dir, feedstock)) = checkout(example, inputs) else {
        return;
    };
    let pinning = Path::new(EXAMPLES)
        .join(example)
        .join("pinning-at-rerender");
    let output = Command::cargo_bin("cascade")
        .unwrap()
        .arg("rerender")
        .arg(&feedstock)
        .arg("--pinning")
        .arg(&pinning)
        .arg("--check")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{example} differs:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn zlib_rerenders_byte_identically() {
    check("zlib-feedstock", ".");
}

#[test]
fn numpy_rerenders_byte_identically() {
    check("numpy-feedstock", ".");
}

#[test]
fn arrow_cpp_rerenders_byte_identically() {
    check("arrow-cpp-feedstock", ".");
}

#[test]
fn pillow_at_its_rerender_commit_rerenders_byte_identically() {
    check("pillow-feedstock", "at-rerender-commit");
}

#[test]
fn pillow_head_is_stale_and_check_reports_the_predicted_diff() {
    let Some((_dir, feedstock)) = checkout("pillow-feedstock", ".") else {
        return;
    };
    let pinning = Path::new(EXAMPLES)
        .join("pillow-feedstock")
        .join("pinning-at-rerender");
    let output = Command::cargo_bin("cascade")
        .unwrap()
        .arg("rerender")
        .arg(&feedstock)
        .arg("--pinning")
        .arg(&pinning)
        .arg("--check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&output.stdout);
    // The README's prediction: zlib gives way to zlib_ng, and the now cross-compiled
    // aarch64/ppc64le jobs run the x86_64 image.
    assert!(diff.contains("+zlib_ng:"), "{diff}");
    assert!(diff.contains("-zlib:"), "{diff}");
    assert!(
        diff.contains("+- quay.io/condaforge/linux-anvil-x86_64:alma9"),
        "{diff}"
    );
}
