//! The architecture rollouts of `migrators/` on the real corpus
//! (`../shared/data/feedstocks`, built into a graph once per test binary): the plans of
//! all three rollouts, named feedstocks' states and gates, and change sets on real v0 and
//! v1 feedstocks (exact `conda-forge.yml` edit, the new platform's `.ci_support` files).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use cascade::feedstock::{Snapshot, config};

use cascade::migrators::{
    Change, ChangeInput, ChangeSet, GraphSnapshot, Identity, MigrationPlan, Migrator, definitions,
};
use cascade::pinning::{Pinning, load_pinning};

/// The corpus graph and the pinning, made once.
fn corpus() -> Option<&'static (GraphSnapshot, Pinning)> {
    static CORPUS: OnceLock<Option<(GraphSnapshot, Pinning)>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let pinning = load_pinning(&common::shared_data("pinning")?).unwrap();
            let graph = common::corpus_graph("arch_migrator")?;
            Some((graph, pinning))
        })
        .as_ref()
}

/// The shipped migration of that name.
fn shipped(name: &str, pinning: &Pinning) -> Box<dyn Migrator> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrators"));
    let (migrators, errors) = definitions::load_dir(dir, pinning);
    assert!(errors.is_empty(), "{errors:#?}");
    migrators.into_iter().find(|m| m.name() == name).unwrap()
}

fn member_names(graph: &GraphSnapshot, plan: &MigrationPlan) -> Vec<String> {
    plan.members
        .iter()
        .map(|id| graph.node(*id).name.clone())
        .collect()
}

/// Feedstock name → the exclusion's reason code (members: `member`).
fn states(graph: &GraphSnapshot, plan: &MigrationPlan) -> BTreeMap<String, &'static str> {
    let mut states: BTreeMap<String, &'static str> = plan
        .excluded
        .iter()
        .map(|(id, e)| (graph.node(*id).name.clone(), e.code()))
        .collect();
    for id in &plan.members {
        states.insert(graph.node(*id).name.clone(), "member");
    }
    states
}

fn parents(graph: &GraphSnapshot, plan: &MigrationPlan, name: &str) -> Vec<String> {
    let id = graph.id(name).unwrap();
    plan.parents
        .get(&id)
        .into_iter()
        .flatten()
        .map(|p| graph.node(*p).name.clone())
        .collect()
}

fn summary(graph: &GraphSnapshot, plan: &MigrationPlan) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for state in states(graph, plan).values() {
        *counts.entry(*state).or_default() += 1;
    }
    counts
}

/// The change of `migration` on a feedstock, from its files on disk or from `files`.
fn change(migration: &dyn Migrator, name: &str, files: Option<Snapshot>) -> Change {
    let (graph, pinning) = corpus().unwrap();
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
    migration.change(&input).unwrap()
}

fn files(change: Change) -> ChangeSet {
    match change {
        Change::Files(set) => set,
        Change::NothingToDo { reason } => panic!("nothing to do: {reason}"),
    }
}

/// The feedstock's files with `conda-forge.yml` replaced and some files left out.
fn edited(name: &str, forge_yml: &str, drop: &str) -> Snapshot {
    let dir = common::shared_data("feedstocks")
        .unwrap()
        .join(format!("{name}-feedstock"));
    let original = Snapshot::read(&dir).unwrap();
    let files = original
        .files()
        .filter(|(path, _)| !path.starts_with(drop))
        .map(|(path, bytes)| {
            let bytes = if path == "conda-forge.yml" {
                forge_yml.as_bytes().to_vec()
            } else {
                bytes.to_vec()
            };
            (path.to_string(), bytes)
        });
    Snapshot::from_files(&dir, files)
}

fn original_forge_yml(name: &str) -> String {
    let dir = common::shared_data("feedstocks").unwrap();
    fs_err::read_to_string(dir.join(format!("{name}-feedstock/conda-forge.yml"))).unwrap()
}

fn new_files(set: &ChangeSet, prefix: &str) -> Vec<String> {
    set.writes
        .keys()
        .filter(|p| p.starts_with(prefix))
        .cloned()
        .collect()
}

#[test]
fn the_aarch64_rollout_finds_the_feedstocks_still_missing_ppc64le() {
    let Some((graph, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-linux-aarch64-ppc64le", pinning);
    let clock = Instant::now();
    let plan = migration.plan(graph);
    eprintln!(
        "aarch64/ppc64le plan in {:?}: {:?}",
        clock.elapsed(),
        summary(graph, &plan)
    );
    assert_eq!(
        member_names(graph, &plan),
        ["cryptography", "hdf5", "polars"]
    );
    let states = states(graph, &plan);
    for (name, state) in [
        ("numpy", "already-migrated"),
        ("python", "already-migrated"),
        ("zlib", "already-migrated"),
        ("perl", "excluded-by-name"),
        ("six", "noarch"),
        ("setuptools", "noarch"),
        ("conda-forge-pinning", "not-in-allowlist"),
    ] {
        assert_eq!(states[name], state, "{name}");
    }
    assert_eq!(states.len(), graph.len());
    // Their parents all build for both targets already: nothing gates them.
    assert!(plan.parents.is_empty(), "{:?}", plan.parents);
}

#[test]
fn the_win_arm64_rollout_gates_numpy_on_its_blas_lapack_and_cython() {
    let Some((graph, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-win-arm64", pinning);
    let plan = migration.plan(graph);
    eprintln!("win-arm64 plan: {:?}", summary(graph, &plan));
    let states = states(graph, &plan);
    for (name, state) in [
        ("numpy", "member"),
        ("pandas", "member"),
        ("lxml", "member"),
        ("openblas", "member"),
        ("python", "already-migrated"),
        ("libxml2", "already-migrated"),
        ("zlib", "already-migrated"),
        // Linux/macOS only: python's union of requirements names them, Windows does not.
        ("ncurses", "platform-allowlist"),
        ("readline", "platform-allowlist"),
        ("scipy", "not-in-allowlist"),
    ] {
        assert_eq!(states[name], state, "{name}");
    }
    assert_eq!(parents(graph, &plan, "numpy"), ["blas", "cython", "lapack"]);
    assert_eq!(parents(graph, &plan, "pandas"), ["cython", "numpy"]);
    assert_eq!(parents(graph, &plan, "lxml"), ["cython", "libxslt"]);
    // A cross build only needs host and run on the target: cmake, a build tool of many
    // members, gates none of them.
    let cmake = graph.id("cmake").unwrap();
    assert!(plan.parents.values().all(|p| !p.contains(&cmake)));
}

#[test]
fn the_osx_arm64_rollout_is_already_complete_on_the_corpus() {
    let Some((graph, pinning)) = corpus() else {
        return;
    };
    let plan = shipped("arch-osx-arm64", pinning).plan(graph);
    let counts = summary(graph, &plan);
    eprintln!("osx-arm64 plan: {counts:?}");
    assert!(plan.members.is_empty());
    assert_eq!(states(graph, &plan)["numpy"], "already-migrated");
}

#[test]
fn win_arm64_on_a_v0_feedstock_adds_the_build_platform_and_its_variant_file() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-win-arm64", pinning);
    let set = files(change(migration.as_ref(), "giflib", None));
    let before = original_forge_yml("giflib");
    assert_eq!(
        set.writes["conda-forge.yml"],
        before.replace(
            "build_platform: {osx_arm64: osx_64}",
            "build_platform: {osx_arm64: osx_64, win_arm64: win_64}"
        )
    );
    assert_eq!(
        new_files(&set, ".ci_support/win_arm64"),
        [".ci_support/win_arm64_.yaml"]
    );
    let variant = &set.writes[".ci_support/win_arm64_.yaml"];
    assert!(
        variant.contains("target_platform:\n- win-arm64\n"),
        "{variant}"
    );
    assert_eq!(set.title, "Support Windows ARM64 platform");
    assert_eq!(set.branch, "bot-pr_arm64_win");
    assert!(
        set.body.contains("@conda-forge/help-win-arm64"),
        "{}",
        set.body
    );
    assert!(
        set.body.contains("- added `.ci_support/win_arm64_.yaml`"),
        "{}",
        set.body
    );
}

#[test]
fn win_arm64_on_a_v1_feedstock_appends_to_its_block_mapping() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-win-arm64", pinning);
    let set = files(change(migration.as_ref(), "numpy", None));
    let before = original_forge_yml("numpy");
    assert_eq!(
        set.writes["conda-forge.yml"],
        before.replace(
            "  linux_ppc64le: linux_64\n",
            "  linux_ppc64le: linux_64\n  win_arm64: win_64\n"
        )
    );
    assert_eq!(
        new_files(&set, ".ci_support/win_arm64"),
        [
            ".ci_support/win_arm64_is_freethreadingfalsepython3.14.____cp314.yaml",
            ".ci_support/win_arm64_is_freethreadingtruepython3.14.____cp314t.yaml",
        ]
    );
}

#[test]
fn aarch64_on_a_v0_feedstock_without_it_adds_the_provider_and_native_files() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-linux-aarch64-ppc64le", pinning);
    let before = original_forge_yml("zlib").replace("  linux_aarch64: linux_64\n", "");
    let set = files(change(
        migration.as_ref(),
        "zlib",
        Some(edited("zlib", &before, ".ci_support/linux_aarch64")),
    ));
    assert_eq!(
        set.writes["conda-forge.yml"],
        format!("{before}provider:\n  linux_aarch64: default\n")
    );
    assert_eq!(
        new_files(&set, ".ci_support/linux_aarch64"),
        [".ci_support/linux_aarch64_.yaml"]
    );
    let variant = &set.writes[".ci_support/linux_aarch64_.yaml"];
    assert!(
        variant.contains("target_platform:\n- linux-aarch64\n"),
        "{variant}"
    );
    // Native: the aarch64 image, not the x86_64 one a cross build uses.
    assert!(variant.contains("linux-anvil-aarch64"), "{variant}");
    assert!(set.body.contains("gains `linux-aarch64`"), "{}", set.body);
}

#[test]
fn aarch64_on_a_v1_feedstock_without_it_adds_the_provider_and_native_files() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-linux-aarch64-ppc64le", pinning);
    let before = original_forge_yml("snappy").replace("  linux_aarch64: linux_64\n", "");
    let set = files(change(
        migration.as_ref(),
        "snappy",
        Some(edited("snappy", &before, ".ci_support/linux_aarch64")),
    ));
    assert_eq!(
        set.writes["conda-forge.yml"],
        format!("{before}provider:\n  linux_aarch64: default\n")
    );
    assert_eq!(
        new_files(&set, ".ci_support/linux_aarch64"),
        [".ci_support/linux_aarch64_.yaml"]
    );
}

#[test]
fn ppc64le_is_added_to_real_feedstocks_that_lack_only_it() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-linux-aarch64-ppc64le", pinning);
    // v1, unsorted provider block: appended at its end.
    let set = files(change(migration.as_ref(), "polars", None));
    assert_eq!(
        set.writes["conda-forge.yml"],
        original_forge_yml("polars").replace(
            "  win_64: github_actions\n",
            "  win_64: github_actions\n  linux_ppc64le: default\n"
        )
    );
    assert_eq!(new_files(&set, ".ci_support/linux_ppc64le").len(), 3);
    // v0, sorted provider block: in order.
    let set = files(change(migration.as_ref(), "hdf5", None));
    assert_eq!(
        set.writes["conda-forge.yml"],
        original_forge_yml("hdf5").replace(
            "  linux_aarch64: default\n",
            "  linux_aarch64: default\n  linux_ppc64le: default\n"
        )
    );
    assert_eq!(
        new_files(&set, ".ci_support/linux_ppc64le"),
        [
            ".ci_support/linux_ppc64le_mpimpich.yaml",
            ".ci_support/linux_ppc64le_mpinompi.yaml",
            ".ci_support/linux_ppc64le_mpiopenmpi.yaml",
        ]
    );
}

#[test]
fn a_feedstock_whose_config_already_has_the_targets_needs_nothing() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-linux-aarch64-ppc64le", pinning);
    // cryptography configures both (its committed files predate ppc64le).
    match change(migration.as_ref(), "cryptography", None) {
        Change::NothingToDo { reason } => assert!(reason.contains("already configures")),
        Change::Files(set) => panic!("{:?}", set.writes.keys()),
    }
    // A maintainer switched aarch64 off: kept.
    let before = original_forge_yml("zlib").replace("  linux_aarch64: linux_64\n", "");
    let files = edited(
        "zlib",
        &format!("{before}provider:\n  linux_aarch64: false\n"),
        ".ci_support/linux_aarch64",
    );
    match change(migration.as_ref(), "zlib", Some(files)) {
        Change::NothingToDo { reason } => {
            assert!(reason.contains("`provider.linux_aarch64`"), "{reason}");
        }
        Change::Files(set) => panic!("{:?}", set.writes.keys()),
    }
    let win = shipped("arch-win-arm64", pinning);
    match change(win.as_ref(), "zlib", None) {
        Change::NothingToDo { reason } => assert!(reason.contains("already configures")),
        Change::Files(set) => panic!("{:?}", set.writes.keys()),
    }
}

#[test]
fn a_platform_the_recipe_skips_gets_no_pr() {
    let Some((_, pinning)) = corpus() else {
        return;
    };
    let migration = shipped("arch-win-arm64", pinning);
    // ncurses builds for linux and macOS only.
    match change(migration.as_ref(), "ncurses", None) {
        Change::NothingToDo { reason } => {
            assert!(reason.contains("builds nothing for win-arm64"), "{reason}");
        }
        Change::Files(set) => panic!("{:?}", set.writes.keys()),
    }
}
