//! The maintenance rerender on the real corpus (`../shared/data/feedstocks` against
//! `../shared/data/pinning`): every eligible feedstock is an ungated member, feedstocks
//! whose committed `.ci_support` is what a rerender gives need nothing, and edited copies
//! of real feedstocks get exactly the files their edit changes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use cascade::feedstock::{Snapshot, config};

use cascade::migrators::{
    Change, ChangeInput, ChangeSet, GraphSnapshot, Identity, MigrateError, Migrator, definitions,
};
use cascade::pinning::{Pinning, load_pinning};

/// The corpus graph, the pinning and the shipped maintenance migration.
type Corpus = (GraphSnapshot, Pinning, Box<dyn Migrator>);

/// The [`Corpus`], made once.
fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let pinning = load_pinning(&common::shared_data("pinning")?).unwrap();
            let graph = common::corpus_graph("maintenance_migrator")?;
            let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrators"));
            let (migrators, errors) = definitions::load_dir(folder, &pinning);
            assert!(errors.is_empty(), "{errors:#?}");
            let maintenance = migrators
                .into_iter()
                .find(|m| m.name() == "maintenance-rerender")
                .unwrap();
            Some((graph, pinning, maintenance))
        })
        .as_ref()
}

fn feedstock_dir(name: &str) -> std::path::PathBuf {
    common::shared_data("feedstocks")
        .unwrap()
        .join(format!("{name}-feedstock"))
}

/// The maintenance change of a feedstock, from its files on disk or from `files`.
fn change(name: &str, files: Option<Snapshot>) -> Change {
    try_change(name, files).unwrap()
}

fn try_change(name: &str, files: Option<Snapshot>) -> Result<Change, MigrateError> {
    let (graph, pinning, maintenance) = corpus().unwrap();
    let node = graph.node(graph.id(name).unwrap());
    let files = files.unwrap_or_else(|| Snapshot::read(&node.path).unwrap());
    let config = config::parse(files.text("conda-forge.yml").unwrap_or_default()).unwrap();
    let input = ChangeInput {
        node,
        files: &files,
        config: &config,
        pinning,
        children: &[],
        closeout: false,
        identity: &Identity::default(),
    };
    maintenance.change(&input)
}

/// A copy of a real feedstock with one file's text edited.
fn edited(name: &str, path: &str, edit: impl Fn(&str) -> String) -> Snapshot {
    let dir = feedstock_dir(name);
    let original = Snapshot::read(&dir).unwrap();
    let files = original.files().map(|(p, bytes)| {
        let bytes = if p == path {
            let text = std::str::from_utf8(bytes).unwrap();
            let new = edit(text);
            assert_ne!(new, text, "the edit of {path} changed nothing");
            new.into_bytes()
        } else {
            bytes.to_vec()
        };
        (p.to_string(), bytes)
    });
    Snapshot::from_files(&dir, files)
}

/// (written paths, deleted paths) of a change that has files.
fn paths(change: Change) -> (ChangeSet, Vec<String>, Vec<String>) {
    match change {
        Change::Files(set) => {
            let writes = set.writes.keys().cloned().collect();
            let deletes = set.deletes.iter().cloned().collect();
            (set, writes, deletes)
        }
        Change::NothingToDo { reason } => panic!("nothing to do: {reason}"),
    }
}

#[test]
fn every_parsed_feedstock_is_an_ungated_member() {
    let Some((graph, _, maintenance)) = corpus() else {
        return;
    };
    let plan = maintenance.plan(graph);
    let eligible = graph
        .nodes()
        .iter()
        .filter(|n| !n.archived && !n.parse_error && n.recipe_format.is_some())
        .count();
    eprintln!(
        "maintenance plan: {} members, {} excluded",
        plan.members.len(),
        plan.excluded.len()
    );
    assert_eq!(plan.members.len(), eligible);
    assert_eq!(plan.members.len() + plan.excluded.len(), graph.len());
    assert!(plan.parents.is_empty());
    assert!(!maintenance.settings().gated);
}

#[test]
fn feedstocks_whose_ci_support_matches_the_rerender_need_nothing() {
    let Some(_) = corpus() else {
        return;
    };
    // v0 and v1 feedstocks that `cascade rerender --check` reports clean against this
    // pinning.
    for name in [
        "krb5",
        "readline",
        "fontconfig",
        "aws-c-auth",
        "c-ares",
        "pytz",
    ] {
        match change(name, None) {
            Change::NothingToDo { reason } => {
                assert!(reason.contains("up to date"), "{name}: {reason}");
            }
            Change::Files(set) => panic!("{name}: {:?} {:?}", set.writes.keys(), set.deletes),
        }
    }
}

/// Feedstocks the native rerender cannot render, with the reason (the rerender's known
/// limits; `tests/rerender_cases.rs` tracks them).
const RERENDER_FAILS: &[(&str, &str)] = &[(
    "pycparser",
    "rattler_build_recipe rejects the v1 recipe's `python 3.9` match spec, which \
     conda-smithy's rattler-build accepted",
)];

#[test]
fn the_whole_corpus_is_checked_and_only_known_rerender_failures_are_errors() {
    let Some((graph, _, maintenance)) = corpus() else {
        return;
    };
    let plan = maintenance.plan(graph);
    let clock = Instant::now();
    let mut outcomes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for id in &plan.members {
        let name = graph.node(*id).name.clone();
        let outcome = match try_change(&name, None) {
            Ok(Change::NothingToDo { .. }) => "up to date",
            Ok(Change::Files(_)) => "stale",
            Err(MigrateError::Rerender(message)) => {
                eprintln!("{name}: {message}");
                "rerender failed"
            }
            Err(other) => panic!("{name}: {other}"),
        };
        outcomes.entry(outcome).or_default().push(name);
    }
    let counts: BTreeMap<&str, usize> = outcomes.iter().map(|(k, v)| (*k, v.len())).collect();
    eprintln!(
        "maintenance over {} feedstocks in {:?}: {counts:?}; up to date: {:?}",
        plan.members.len(),
        clock.elapsed(),
        outcomes.get("up to date")
    );
    let failed = outcomes.remove("rerender failed").unwrap_or_default();
    let known: Vec<&str> = RERENDER_FAILS.iter().map(|(name, _)| *name).collect();
    assert_eq!(failed, known);
    // The same 11 that `cascade rerender --check` reports clean against this pinning.
    assert_eq!(
        outcomes["up to date"],
        [
            "aws-c-auth",
            "aws-checksums",
            "c-ares",
            "charset-normalizer",
            "conda-forge-pinning",
            "fontconfig",
            "h5py",
            "krb5",
            "packaging",
            "pytz",
            "readline",
        ]
    );
}

#[test]
fn removing_a_platform_from_conda_forge_yml_removes_exactly_its_file() {
    let Some(_) = corpus() else {
        return;
    };
    let files = edited("krb5", "conda-forge.yml", |t| {
        t.replace("  linux_riscv64: linux_64\n", "")
    });
    let (set, writes, deletes) = paths(change("krb5", Some(files)));
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(deletes, [".ci_support/linux_riscv64_.yaml"]);
    assert_eq!(
        set.title,
        format!(
            "MNT: Re-rendered with cascade {} and the current pinning",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(
        set.body
            .contains("- removed `.ci_support/linux_riscv64_.yaml`"),
        "{}",
        set.body
    );
    assert_eq!(set.branch, "maintenance-rerender");
}

#[test]
fn a_new_os_version_updates_exactly_the_linux_64_file() {
    let Some(_) = corpus() else {
        return;
    };
    let files = edited("c-ares", "conda-forge.yml", |t| {
        format!("{t}os_version:\n  linux_64: alma9\n")
    });
    let (set, writes, deletes) = paths(change("c-ares", Some(files)));
    assert_eq!(writes, [".ci_support/linux_64_.yaml"]);
    assert!(deletes.is_empty());
    let old =
        fs_err::read_to_string(feedstock_dir("c-ares").join(".ci_support/linux_64_.yaml")).unwrap();
    let new = &set.writes[".ci_support/linux_64_.yaml"];
    let changed: Vec<(&str, &str)> = old
        .lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0].1.contains("alma9"), "{changed:?}");
    assert!(set.body.contains("- updated `.ci_support/linux_64_.yaml`"));
}

#[test]
fn a_recipe_that_stops_building_on_macos_loses_exactly_its_macos_files() {
    let Some(_) = corpus() else {
        return;
    };
    let files = edited("readline", "recipe/meta.yaml", |t| {
        t.replace("skip: true  # [win]", "skip: true  # [win or osx]")
    });
    let (_, writes, deletes) = paths(change("readline", Some(files)));
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(
        deletes,
        [".ci_support/osx_64_.yaml", ".ci_support/osx_arm64_.yaml"]
    );
}

#[test]
fn the_uid_changes_with_the_pinning() {
    let Some((graph, pinning, maintenance)) = corpus() else {
        return;
    };
    let node = graph.node(graph.id("zlib").unwrap());
    let uid = maintenance.uid(node);
    let newer = Pinning {
        cbc: format!("{}\n# a new pin\n", pinning.cbc),
        migrations: pinning.migrations.clone(),
    };
    let folder = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrators"));
    let (migrators, _) = definitions::load_dir(folder, &newer);
    let again = migrators
        .iter()
        .find(|m| m.name() == "maintenance-rerender")
        .unwrap();
    assert_ne!(again.uid(node), uid);
    assert_eq!(
        uid.extra["version"],
        node.version.clone().unwrap_or_default()
    );
    assert_eq!(uid.migration, "maintenance-rerender");
}
