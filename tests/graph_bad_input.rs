//! Broken feedstocks next to good ones (`tests/fixtures/broken/`): each broken one ends as
//! a recorded parse error naming the file (and the line, where the tools know it), the
//! good ones build their graph, and nothing panics.
//!
//! The fixtures: `goodlib` (v1), `goodapp` (v1, host-requires goodlib), `goodtool` (v0,
//! requires goodlib), and one feedstock per kind of breakage. A 10 MB recipe is generated
//! into the temporary copy (not committed).

use std::collections::BTreeMap;
use std::path::Path;

use cascade::graph::{self, BuildOptions, DepDirection, NoReporter, ParseErrorView, Store};

fn fixtures() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/broken"
    ))
}

fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs_err::write(&target, fs_err::read(entry.path()).unwrap()).unwrap();
        }
    }
}

/// A 10 MB v0 recipe: valid-looking YAML padded with comment lines.
fn write_huge_recipe(feedstocks: &Path) {
    let dir = feedstocks.join("huge-recipe-feedstock");
    fs_err::create_dir_all(dir.join("recipe")).unwrap();
    fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
    fs_err::write(
        dir.join(".ci_support/linux_64_.yaml"),
        "target_platform:\n- linux-64\n",
    )
    .unwrap();
    let mut text = String::from("package:\n  name: huge-recipe\n  version: \"1.0\"\n");
    let filler = "# padding padding padding padding padding padding padding padding padding\n";
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(filler);
    }
    fs_err::write(dir.join("recipe/meta.yaml"), text).unwrap();
}

struct Built {
    _feedstocks: tempfile::TempDir,
    _data: tempfile::TempDir,
    store: Store,
    errors: BTreeMap<String, Vec<ParseErrorView>>,
}

fn build_fixtures() -> Built {
    let feedstocks = tempfile::tempdir().unwrap();
    copy_dir(fixtures(), feedstocks.path());
    write_huge_recipe(feedstocks.path());
    let data = tempfile::tempdir().unwrap();
    let options = BuildOptions {
        feedstocks_dir: feedstocks.path().to_path_buf(),
        db_path: data.path().join("cascade.sqlite"),
    };
    let summary = graph::build(&options, &NoReporter).expect("a build with broken input succeeds");
    eprintln!("{summary:?}");
    let store = Store::open(&options.db_path).unwrap();
    let mut errors: BTreeMap<String, Vec<ParseErrorView>> = BTreeMap::new();
    for error in store.errors().unwrap() {
        eprintln!(
            "{}: {}:{:?}: {}",
            error.feedstock, error.file, error.line, error.message
        );
        errors
            .entry(error.feedstock.clone())
            .or_default()
            .push(error);
    }
    Built {
        _feedstocks: feedstocks,
        _data: data,
        store,
        errors,
    }
}

/// The expected failure of a broken feedstock.
struct Expected {
    feedstock: &'static str,
    /// The file the error must name.
    file: &'static str,
    /// The lines the error must point into; `None` when no line is knowable (a missing
    /// file, a size limit) or the message carries it.
    lines: Option<std::ops::RangeInclusive<usize>>,
}

const fn expect(
    feedstock: &'static str,
    file: &'static str,
    lines: Option<std::ops::RangeInclusive<usize>>,
) -> Expected {
    Expected {
        feedstock,
        file,
        lines,
    }
}

const BROKEN: &[Expected] = &[
    expect("invalid-yaml", "recipe/meta.yaml", Some(7..=8)),
    expect("invalid-v1-yaml", "recipe/recipe.yaml", Some(9..=10)),
    expect("undefined-jinja", "recipe/meta.yaml", Some(3..=3)),
    expect("invalid-selector", "recipe/meta.yaml", Some(7..=7)),
    expect("jinja-recursion", "recipe/meta.yaml", None),
    expect("missing-recipe", "recipe", None),
    expect("binary-garbage", "recipe/meta.yaml", None),
    expect("huge-recipe", "recipe/meta.yaml", None),
    expect("broken-config", "conda-forge.yml", Some(3..=4)),
];

#[test]
fn every_broken_feedstock_is_a_node_with_a_recorded_parse_error() {
    let built = build_fixtures();
    let mut wrong = Vec::new();
    for Expected {
        feedstock: name,
        file,
        lines,
    } in BROKEN
    {
        let node = built.store.node(name).unwrap();
        let Some(node) = node else {
            wrong.push(format!("{name}: no node"));
            continue;
        };
        if node.parse_error.is_none() {
            wrong.push(format!("{name}: no parse_error recorded"));
        }
        let errors = built
            .errors
            .get(*name)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some(error) = errors.iter().find(|e| e.file == *file) else {
            wrong.push(format!("{name}: no error on `{file}` in {errors:?}"));
            continue;
        };
        if let Some(lines) = lines {
            match error.line {
                Some(line) if lines.contains(&line) => {}
                other => wrong.push(format!(
                    "{name}: error line {other:?}, expected {lines:?}: {}",
                    error.message
                )),
            }
        }
    }
    eprintln!(
        "broken feedstocks recorded as expected: {}/{}",
        BROKEN.len() - wrong.len(),
        BROKEN.len()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// conda-build treats a name it does not know in a selector as `False` (its
/// `eval_selector` retries with the name replaced), and the v0 renderer does the same, so
/// a typo such as `# [linxu]` silently drops the line. cascade should at least record
/// it; that needs a warnings channel from the renderer up to the node.
#[test]
#[ignore = "the v0 renderer treats unknown selector names as False, as conda-build does; no warning reaches the graph yet"]
fn an_unknown_selector_name_is_recorded_on_its_line() {
    let built = build_fixtures();
    let errors = built
        .errors
        .get("unknown-selector")
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert!(
        errors
            .iter()
            .any(|e| e.file == "recipe/meta.yaml" && e.line == Some(7)),
        "{errors:?}"
    );
}

#[test]
fn good_feedstocks_build_their_graph_next_to_broken_ones() {
    let built = build_fixtures();
    for good in ["goodlib", "goodapp", "goodtool"] {
        assert!(
            !built.errors.contains_key(good),
            "{good} has errors: {:?}",
            built.errors.get(good)
        );
    }
    let dependents: Vec<String> = built
        .store
        .deps("goodlib", DepDirection::Dependents, Some(1))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(
        dependents.contains(&"goodapp".to_string()),
        "{dependents:?}"
    );
    assert!(
        dependents.contains(&"goodtool".to_string()),
        "{dependents:?}"
    );
}

#[test]
fn a_broken_config_still_renders_the_recipe() {
    let built = build_fixtures();
    let node = built.store.node("broken-config").unwrap().unwrap();
    assert_eq!(node.version.as_deref(), Some("3.1"));
    let deps: Vec<String> = built
        .store
        .deps("broken-config", DepDirection::Dependencies, Some(1))
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(deps, vec!["goodlib".to_string()]);
}

#[test]
fn binary_garbage_reports_the_line_of_the_first_bad_byte() {
    let built = build_fixtures();
    let errors = &built.errors["binary-garbage"];
    assert!(
        errors.iter().any(|e| e.line == Some(3)
            && e.file == "recipe/meta.yaml"
            && e.message.contains("UTF-8")),
        "{errors:?}"
    );
}
