//! The synthetic universe generator: determinism, conda-forge shapes, refusal to
//! overwrite, and the `cascade universe` command.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use cascade::universe::{self, UniverseError, UniverseOptions};

/// Every file under `root`: relative path → bytes.
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, fs_err::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn generate(size: usize, seed: u64) -> (tempfile::TempDir, universe::UniverseSummary) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("universe");
    let summary = universe::generate(&UniverseOptions { size, seed }, &out).unwrap();
    (dir, summary)
}

#[test]
fn the_same_seed_gives_a_byte_identical_tree() {
    let (a, _) = generate(400, 7);
    let (b, _) = generate(400, 7);
    let (c, _) = generate(400, 8);
    let (a, b, c) = (
        tree(&a.path().join("universe")),
        tree(&b.path().join("universe")),
        tree(&c.path().join("universe")),
    );
    assert!(a.len() > 1000, "only {} files", a.len());
    assert!(a == b, "two runs with seed 7 differ");
    assert!(a != c, "seeds 7 and 8 gave the same tree");
}

#[test]
fn a_universe_has_conda_forge_shapes() {
    let (dir, summary) = generate(2000, 1);
    let root = dir.path().join("universe");
    let feedstocks: Vec<String> = fs_err::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(feedstocks.len(), 2000);
    assert_eq!(summary.feedstocks, 2000);
    assert!(feedstocks.iter().all(|f| f.ends_with("-feedstock")));

    // v0/v1 about 70/30, a noarch-python majority, some multi-output recipes.
    let v1_share = summary.v1_recipes as f64 / 2000.0;
    assert!((0.24..0.36).contains(&v1_share), "v1 share {v1_share}");
    let noarch_share = summary.noarch_python as f64 / 2000.0;
    assert!(
        (0.5..0.62).contains(&noarch_share),
        "noarch share {noarch_share}"
    );
    assert!(
        summary.multi_output >= 50,
        "{} multi-output",
        summary.multi_output
    );
    assert!(summary.cycles.len() >= 2);

    // Each feedstock has a recipe, conda-forge.yml and at least one variant file.
    for name in &feedstocks {
        let fs = root.join(name);
        let recipes = ["recipe/meta.yaml", "recipe/recipe.yaml"]
            .iter()
            .filter(|r| fs.join(r).is_file())
            .count();
        assert_eq!(recipes, 1, "{name}");
        assert!(fs.join("conda-forge.yml").is_file(), "{name}");
        assert!(
            fs_err::read_dir(fs.join(".ci_support")).unwrap().count() >= 1,
            "{name}"
        );
    }

    // noarch python: exactly one linux_64_.yaml with python_min.
    let requests = root.join("requests-feedstock");
    assert!(
        fs_err::read_to_string(requests.join("recipe/meta.yaml"))
            .unwrap()
            .contains("noarch: python")
    );
    let ci: Vec<_> = fs_err::read_dir(requests.join(".ci_support"))
        .unwrap()
        .collect();
    assert_eq!(ci.len(), 1);
    let linux = fs_err::read_to_string(requests.join(".ci_support/linux_64_.yaml")).unwrap();
    assert!(linux.contains("python_min:\n- '3.10'\n"), "{linux}");

    // Compiled Python extensions: platforms × Python versions.
    let numpy_ci = fs_err::read_dir(root.join("numpy-feedstock/.ci_support"))
        .unwrap()
        .count();
    assert_eq!(numpy_ci, 6 * 4);
    let osx = fs_err::read_to_string(
        root.join("numpy-feedstock/.ci_support/osx_arm64_python3.12.____cpython.yaml"),
    )
    .unwrap();
    assert!(osx.contains("python:\n- 3.12.* *_cpython\n"), "{osx}");
    assert!(osx.contains("target_platform:\n- osx-arm64\n"), "{osx}");

    // Multi-output hub with selectors and pin_subpackage.
    let zlib = fs_err::read_to_string(root.join("zlib-feedstock/recipe/meta.yaml")).unwrap();
    assert!(zlib.contains("  - name: libzlib\n"));
    assert!(zlib.contains("{{ pin_subpackage('libzlib', exact=True) }}"));
    assert!(zlib.contains("- make  # [unix]"));

    // The pinning feedstock pins the hubs.
    let pinning = root.join("conda-forge-pinning-feedstock/recipe/conda_build_config.yaml");
    let cbc = fs_err::read_to_string(pinning).unwrap();
    assert!(cbc.contains("\nzlib:\n  - '1'\n"), "zlib pin missing");
    assert!(cbc.contains("\nopenssl:\n  - '3'\n"), "openssl pin missing");
}

#[test]
fn most_feedstocks_depend_on_a_few_hubs() {
    let (dir, _) = generate(3000, 5);
    let root = dir.path().join("universe");
    let mut python_users = 0;
    let mut zlib_users = 0;
    let mut total = 0;
    for entry in fs_err::read_dir(&root).unwrap() {
        let fs = entry.unwrap().path();
        let recipe = ["recipe/meta.yaml", "recipe/recipe.yaml"]
            .iter()
            .map(|r| fs.join(r))
            .find(|p| p.is_file())
            .unwrap();
        let text = fs_err::read_to_string(recipe).unwrap();
        total += 1;
        if text.lines().any(|l| l.trim_start().starts_with("- python")) {
            python_users += 1;
        }
        if text
            .lines()
            .any(|l| l.trim() == "- zlib" || l.trim() == "- libzlib")
        {
            zlib_users += 1;
        }
    }
    assert!(
        python_users * 100 / total >= 60,
        "{python_users}/{total} use python"
    );
    assert!(zlib_users >= 100, "only {zlib_users} use zlib");
}

#[test]
fn generation_refuses_a_non_empty_directory_and_a_tiny_size() {
    let dir = tempfile::tempdir().unwrap();
    fs_err::write(dir.path().join("keep.txt"), "mine").unwrap();
    let options = UniverseOptions { size: 500, seed: 1 };
    assert!(matches!(
        universe::generate(&options, dir.path()),
        Err(UniverseError::OutputNotEmpty { .. })
    ));
    let tiny = UniverseOptions { size: 3, seed: 1 };
    assert!(matches!(
        universe::generate(&tiny, &dir.path().join("new")),
        Err(UniverseError::SizeTooSmall { size: 3, .. })
    ));
    assert_eq!(
        fs_err::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn touch_bumps_the_build_number_of_the_requested_fraction() {
    let (dir, _) = generate(500, 3);
    let root = dir.path().join("universe");
    let before = tree(&root);
    let touched = universe::touch(&root, 0.01, 1).unwrap();
    assert_eq!(touched.len(), 5);
    let after = tree(&root);
    let changed: Vec<&String> = before
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(changed.len(), 5, "{changed:?}");
    for path in changed {
        assert!(path.contains("/recipe/"), "{path}");
        let old = String::from_utf8_lossy(&before[path]).into_owned();
        let new = String::from_utf8_lossy(&after[path]).into_owned();
        let diff: Vec<(&str, &str)> = old
            .lines()
            .zip(new.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(diff.len(), 1, "{path}: {diff:?}");
        assert!(diff[0].0.starts_with("  number: "), "{diff:?}");
    }
}

#[test]
fn the_cli_generates_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("u");
    let output = Command::cargo_bin("cascade")
        .unwrap()
        .args([
            "universe", "generate", "--size", "120", "--seed", "4", "--json", "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["feedstocks"], 120);
    assert_eq!(fs_err::read_dir(&out).unwrap().count(), 120);

    let again = Command::cargo_bin("cascade")
        .unwrap()
        .args(["universe", "generate", "--size", "120", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
