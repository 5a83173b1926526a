//! Pinning (CFEP-09) migrations on real data: every migration file of
//! `../shared/data/pinning/migrations`, planned over the graph of the real corpus
//! (`../shared/data/feedstocks`, built once per test binary), change sets for real v0
//! and v1 feedstocks rerendered natively, build-number edits over every real recipe,
//! and close-outs into the real pinning. Every test skips with a message when
//! `../shared` is absent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Instant;

use cascade::feedstock::{self, Snapshot};
use cascade::graph::SectionSet;
use cascade::migrators::pinning::{
    DefinitionError, MIGRATOR_KEYS, MIGRATOR_VERSION, Operation, PINNING_FEEDSTOCK,
    PinningMigration, PinningMigrator,
};
use cascade::migrators::{
    Change, ChangeInput, ChangeSet, Exclusion, GraphSnapshot, Identity, MigrationPlan, Migrator,
    NodeId, NodeInfo,
};
use cascade::pinning::{self, Compat, Pinning};
use cascade::recipe::edit::bump_build_number;
use cascade::recipe::{Recipe, RecipeFormat};

use common::shared_data;

/// Every `.yaml` migration file of the real pinning, parsed.
fn migrations() -> Option<Vec<PinningMigration>> {
    let dir = shared_data("pinning/migrations")?;
    let results = PinningMigration::read_dir(&dir).unwrap();
    Some(results.into_iter().map(|r| r.unwrap()).collect())
}

fn migration(name: &str) -> Option<PinningMigration> {
    let dir = shared_data("pinning/migrations")?;
    Some(PinningMigration::read(&dir.join(format!("{name}.yaml"))).unwrap())
}

fn migrator(name: &str) -> Option<PinningMigrator> {
    Some(PinningMigrator::new(migration(name)?, None).unwrap())
}

fn real_pinning() -> Option<Pinning> {
    Some(pinning::load_pinning(&shared_data("pinning")?).unwrap())
}

/// The graph of the real corpus, built once per test binary.
fn graph() -> Option<&'static GraphSnapshot> {
    static GRAPH: OnceLock<Option<GraphSnapshot>> = OnceLock::new();
    GRAPH
        .get_or_init(|| common::corpus_graph("pinning_migrator"))
        .as_ref()
}

fn name_of(graph: &GraphSnapshot, id: NodeId) -> &str {
    &graph.node(id).name
}

fn members(graph: &GraphSnapshot, plan: &MigrationPlan) -> BTreeSet<String> {
    plan.members
        .iter()
        .map(|id| name_of(graph, *id).to_string())
        .collect()
}

fn rule(graph: &GraphSnapshot, plan: &MigrationPlan, name: &str) -> Option<Exclusion> {
    let id = graph.id(name)?;
    plan.excluded
        .iter()
        .find(|(n, _)| *n == id)
        .map(|(_, r)| r.clone())
}

fn parents(graph: &GraphSnapshot, plan: &MigrationPlan, name: &str) -> BTreeSet<String> {
    let Some(id) = graph.id(name) else {
        return BTreeSet::new();
    };
    plan.parents
        .get(&id)
        .into_iter()
        .flatten()
        .map(|p| name_of(graph, *p).to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// Checks what every plan must satisfy: each node is a member or excluded, exactly
/// once; parents are members; the pinning feedstock closes out.
fn assert_consistent(graph: &GraphSnapshot, plan: &MigrationPlan) {
    let mut seen = vec![0u8; graph.len()];
    for id in plan
        .members
        .iter()
        .chain(plan.excluded.iter().map(|(id, _)| id))
    {
        seen[id.index()] += 1;
    }
    assert!(seen.iter().all(|c| *c == 1), "every node exactly once");
    let member: BTreeSet<NodeId> = plan.members.iter().copied().collect();
    for (child, parents) in &plan.parents {
        assert!(member.contains(child));
        assert!(parents.iter().all(|p| member.contains(p) && p != child));
    }
    assert_eq!(plan.closeout, graph.id(PINNING_FEEDSTOCK));
    assert!(member.contains(&graph.id(PINNING_FEEDSTOCK).unwrap()));
}

#[test]
fn every_real_migration_file_parses_with_its_keys_typed() {
    let (Some(all), Some(dir)) = (migrations(), shared_data("pinning/migrations")) else {
        return;
    };
    assert_eq!(all.len(), 22);
    let known: BTreeSet<&str> = MIGRATOR_KEYS.iter().map(|(k, _)| *k).collect();
    for m in &all {
        assert!(m.keys.iter().all(|(k, _)| known.contains(k.as_str())));
        assert_eq!(m.path.file_stem().unwrap().to_str(), Some(m.name.as_str()));
    }
    let text = fs_err::read_to_string(dir.join("example.exyaml")).unwrap();
    let example = PinningMigration::parse("example", &dir.join("example.exyaml"), &text).unwrap();
    assert_eq!(example.kind.as_deref(), Some("version"));
    assert_eq!(example.bump_number, 1);
    assert_eq!(example.pins[0].key, "boost_cpp");

    let python = all.iter().find(|m| m.name == "python314").unwrap();
    assert_eq!(
        python.commit_message.as_deref(),
        Some("Rebuild for python 3.14")
    );
    assert_eq!(python.migration_number.as_deref(), Some("1"));
    assert!(python.longterm && !python.paused && !python.exclude_pinned_pkgs);
    assert_eq!(python.pr_limit, 5);
    assert_eq!(python.max_solver_attempts, Some(3));
    assert!(python.exclude.contains(&"pyarrow".to_string()));
    assert_eq!(python.ignored_deps_per_node["matplotlib"], ["pyqt"]);
    assert_eq!(python.smithy.operation, Some(Operation::KeyAdd));
    assert_eq!(python.smithy.primary_key.as_deref(), Some("python"));
    assert_eq!(
        python.smithy.ordering[0].1.last().unwrap(),
        "3.14.* *_cp314"
    );
    let pins: Vec<&str> = python.pins.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(pins, ["python", "is_python_min"]);
    assert_eq!(python.migrator_ts, Some(1724712607.0));

    let threaded = all.iter().find(|m| m.name == "python314t").unwrap();
    assert_eq!(
        threaded.allowlist_file.as_deref(),
        Some("free-threaded-314.txt")
    );
    assert_eq!(threaded.wait_for_migrators, ["python314"]);
    assert_eq!(threaded.pr_limit, 20);
    assert_eq!(
        threaded.smithy.additional_zip_keys,
        ["is_freethreading", "is_abi3"]
    );

    let tegra = all.iter().find(|m| m.name == "arm_variant_type").unwrap();
    assert!(
        tegra
            .commit_message
            .as_deref()
            .unwrap()
            .starts_with("Build for NVIDIA Tegra")
    );
    assert_eq!(
        tegra.wait_for_migrators,
        ["cuda129", "aarch64 and ppc64le addition"]
    );
    assert_eq!(tegra.check_solvable, Some(false));
    let cuda = all.iter().find(|m| m.name == "cuda118").unwrap();
    assert_eq!(cuda.migration_number.as_deref(), Some("1"));
    assert_eq!(cuda.build_number.as_deref(), Some("1"));
    assert_eq!(
        cuda.override_cbc_keys.as_deref(),
        Some(&["cuda_compiler_stub".to_string()][..])
    );
    let flang = all.iter().find(|m| m.name == "flang21").unwrap();
    assert_eq!(flang.platform_allowlist, ["win-64"]);
    assert!(flang.exclude.len() > 100);
    let aws = all
        .iter()
        .find(|m| m.name == "aws_c_startofaugust26")
        .unwrap();
    assert!(aws.automerge && !aws.exclude_pinned_pkgs);
}

#[test]
fn bad_migration_files_are_errors_naming_the_file_and_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "typo.yaml",
            "__migrator:\n  kind: version\n  pr_limt: 3\nfoo:\n- 1\n",
            ":3:",
            "pr_limt",
        ),
        (
            "broken.yaml",
            "__migrator:\n  kind: version\nfoo: [1,\n",
            ":",
            "not YAML",
        ),
        (
            "variant.yaml",
            "# no migrator\nfoo:\n- 1\n",
            ":2:",
            "__migrator",
        ),
    ];
    for (file, text, _, _) in &cases {
        fs_err::write(dir.path().join(file), text).unwrap();
    }
    fs_err::write(
        dir.path().join("good.yaml"),
        "__migrator: {kind: version}\nfoo: [1]\n",
    )
    .unwrap();
    let results = PinningMigration::read_dir(dir.path()).unwrap();
    assert_eq!(results.len(), 4);
    let good = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(good, 1, "one bad file does not hide the others");
    for (file, _, line, word) in cases {
        let err = PinningMigration::read(&dir.path().join(file)).unwrap_err();
        let message = err.to_string();
        let path = dir.path().join(file).display().to_string();
        assert!(message.starts_with(&format!("{path}{line}")), "{message}");
        assert!(message.contains(word), "{message}");
    }
    let err = PinningMigration::read(&dir.path().join("typo.yaml")).unwrap_err();
    assert!(
        matches!(&err, DefinitionError::UnknownKey { line: 3, suggestion: Some(s), .. } if s == "pr_limit"),
        "{err}"
    );
}

#[test]
fn python314_plan_over_the_corpus() {
    let (Some(graph), Some(m)) = (graph(), migrator("python314")) else {
        return;
    };
    let plan = m.plan(graph);
    assert_consistent(graph, &plan);
    let members = members(graph, &plan);
    for name in [
        "numpy",
        "scipy",
        "pandas",
        "matplotlib",
        "cython",
        "cffi",
        "pyyaml",
        "conda-forge-pinning",
    ] {
        assert!(members.contains(name), "{name} is a member");
    }
    assert_eq!(
        rule(graph, &plan, "python"),
        Some(Exclusion::ExcludedByName)
    );
    assert_eq!(
        rule(graph, &plan, "pyarrow"),
        Some(Exclusion::ExcludedByName)
    );
    assert_eq!(rule(graph, &plan, "six"), Some(Exclusion::Noarch));
    assert_eq!(rule(graph, &plan, "requests"), Some(Exclusion::Noarch));
    assert_eq!(rule(graph, &plan, "zlib"), Some(Exclusion::NotAffected));
    assert_eq!(rule(graph, &plan, "openssl"), Some(Exclusion::NotAffected));
    // scipy builds against numpy and cython (host); python itself is not a member.
    let scipy = parents(graph, &plan, "scipy");
    assert!(
        scipy.contains("numpy") && scipy.contains("cython"),
        "{scipy:?}"
    );
    assert!(!scipy.contains("python"));
    // The pinning feedstock waits for every other member.
    let pinning = parents(graph, &plan, PINNING_FEEDSTOCK);
    assert_eq!(pinning.len(), members.len() - 1);
    assert_eq!(m.package_names(graph), ["python"]);
}

#[test]
fn version_pin_plans_over_the_corpus() {
    let Some(graph) = graph() else { return };
    let plan_of = |name: &str| {
        let plan = migrator(name).unwrap().plan(graph);
        assert_consistent(graph, &plan);
        plan
    };
    let libffi = plan_of("libffi37");
    assert_eq!(
        members(graph, &libffi),
        set(&["cffi", "conda-forge-pinning", "python"])
    );
    assert_eq!(parents(graph, &libffi, "cffi"), set(&["python"]));
    assert_eq!(rule(graph, &libffi, "libffi"), Some(Exclusion::NotAffected));

    let giflib = plan_of("giflib6");
    assert_eq!(
        members(graph, &giflib),
        set(&["conda-forge-pinning", "libwebp"])
    );

    let hdf5 = plan_of("hdf52");
    assert_eq!(
        members(graph, &hdf5),
        set(&["conda-forge-pinning", "h5py", "libnetcdf", "netcdf4"])
    );
    assert!(parents(graph, &hdf5, "netcdf4").contains("libnetcdf"));

    let boost = plan_of("libboost190");
    assert_eq!(
        members(graph, &boost),
        set(&["arrow-cpp", "conda-forge-pinning", "thrift-cpp"])
    );
    assert_eq!(
        rule(graph, &boost, "boost"),
        Some(Exclusion::ProducesPinnedPackage)
    );

    // exclude_pinned_pkgs: false keeps the producers of the pins.
    let aws = plan_of("aws_c_startofaugust26");
    let aws_members = members(graph, &aws);
    for name in [
        "aws-c-cal",
        "aws-c-io",
        "aws-crt-cpp",
        "aws-sdk-cpp",
        "arrow-cpp",
    ] {
        assert!(aws_members.contains(name), "{name}");
    }
    // aws-c-common pins nothing itself: not affected, even though it is pinned.
    assert_eq!(
        rule(graph, &aws, "aws-c-common"),
        Some(Exclusion::NotAffected)
    );
    assert!(parents(graph, &aws, "aws-c-io").contains("aws-c-cal"));

    // Compiler stubs count as host; platform allowlist and exclusions by name.
    let flang = plan_of("flang21");
    assert!(members(graph, &flang).contains("scipy"));
    assert_eq!(
        rule(graph, &flang, "lapack"),
        Some(Exclusion::ExcludedByName)
    );
    let cuda = plan_of("cuda130");
    assert!(members(graph, &cuda).contains("arrow-cpp"));
}

#[test]
fn an_allowlist_keeps_the_listed_packages_and_their_ancestors() {
    let (Some(graph), Some(m)) = (graph(), migration("python314t")) else {
        return;
    };
    let support = tempfile::tempdir().unwrap();
    fs_err::write(support.path().join("free-threaded-314.txt"), "numpy\n").unwrap();
    assert!(PinningMigrator::new(m.clone(), None).is_err());
    let migrator = PinningMigrator::new(m, Some(support.path())).unwrap();
    let plan = migrator.plan(graph);
    assert_consistent(graph, &plan);
    assert!(members(graph, &plan).contains("numpy"));
    assert!(
        members(graph, &plan).contains("cython"),
        "an ancestor of numpy"
    );
    assert_eq!(rule(graph, &plan, "scipy"), Some(Exclusion::NotInAllowlist));
    assert_eq!(
        rule(graph, &plan, "matplotlib"),
        Some(Exclusion::NotInAllowlist)
    );
    assert_eq!(
        rule(graph, &plan, "python"),
        Some(Exclusion::ExcludedByName)
    );
}

/// The corpus graph copied until it has at least `target` nodes; copies share output
/// names (so the pins select in every copy) and keep their edges among themselves.
fn replicated(graph: &GraphSnapshot, target: usize) -> GraphSnapshot {
    let n = graph.len();
    let copies = target.div_ceil(n);
    let mut nodes: Vec<NodeInfo> = Vec::with_capacity(n * copies);
    let mut edges: Vec<(NodeId, NodeId, SectionSet)> = Vec::new();
    for copy in 0..copies {
        let base = u32::try_from(copy * n).unwrap();
        for id in graph.ids() {
            let mut node = graph.node(id).clone();
            if copy > 0 {
                node.name = format!("{}-{copy}", node.name);
            }
            nodes.push(node);
            for (parent, sections) in graph.parents(id) {
                edges.push((NodeId(base + parent.0), NodeId(base + id.0), *sections));
            }
        }
    }
    GraphSnapshot::from_parts(nodes, edges)
}

#[test]
fn planning_every_real_migration_over_25000_nodes_is_fast() {
    let (Some(graph), Some(all)) = (graph(), migrations()) else {
        return;
    };
    let big = replicated(graph, 25_000);
    let support = tempfile::tempdir().unwrap();
    fs_err::write(
        support.path().join("free-threaded-314.txt"),
        "numpy scipy\n",
    )
    .unwrap();
    let migrators: Vec<PinningMigrator> = all
        .into_iter()
        .map(|m| PinningMigrator::new(m, Some(support.path())).unwrap())
        .collect();
    let start = Instant::now();
    let mut members = 0;
    for m in &migrators {
        members += m.plan(&big).members.len();
    }
    let elapsed = start.elapsed();
    eprintln!(
        "planned {} migrations over {} nodes in {elapsed:?} ({members} members)",
        migrators.len(),
        big.len()
    );
    assert!(members > 1000);
    // Well under a second in release; debug builds get head room.
    let limit = if cfg!(debug_assertions) { 10.0 } else { 1.0 };
    assert!(elapsed.as_secs_f64() < limit, "{elapsed:?}");
}

/// A real feedstock's files, without the given migration file and without the
/// `.ci_support` files whose name contains `marker` (its state before the migration).
fn before_migration(name: &str, migration: &str, marker: Option<&str>) -> Option<Snapshot> {
    let dir = shared_data("feedstocks")?.join(format!("{name}-feedstock"));
    let snapshot = Snapshot::read(&dir).unwrap();
    let file = format!(".ci_support/migrations/{migration}.yaml");
    let keep = |path: &str| {
        path != file
            && !marker.is_some_and(|m| path.starts_with(".ci_support/") && path.contains(m))
    };
    Some(Snapshot::from_files(
        &dir,
        snapshot
            .files()
            .filter(|(p, _)| keep(p))
            .map(|(p, b)| (p.to_string(), b.to_vec())),
    ))
}

fn change_of(
    graph: &GraphSnapshot,
    migrator: &PinningMigrator,
    feedstock: &str,
    files: &Snapshot,
    pinning: &Pinning,
    children: &[String],
) -> Change {
    let loaded = feedstock::load_snapshot(files).unwrap();
    let node = graph.node(graph.id(feedstock).unwrap());
    let identity = Identity::default();
    let input = ChangeInput {
        node,
        files,
        config: &loaded.config,
        pinning,
        children,
        closeout: feedstock == PINNING_FEEDSTOCK,
        identity: &identity,
    };
    migrator.change(&input).unwrap()
}

fn files_of(change: Change) -> ChangeSet {
    match change {
        Change::Files(set) => set,
        Change::NothingToDo { reason } => panic!("nothing to do: {reason}"),
    }
}

/// Applies a change set to a snapshot.
fn applied(files: &Snapshot, set: &ChangeSet) -> Snapshot {
    let mut map: BTreeMap<String, Vec<u8>> = files
        .files()
        .map(|(p, b)| (p.to_string(), b.to_vec()))
        .collect();
    for path in &set.deletes {
        map.remove(path);
    }
    for (path, text) in &set.writes {
        map.insert(path.clone(), text.clone().into_bytes());
    }
    Snapshot::from_files(files.root(), map)
}

/// The build-number bump a recipe edit made: (old, new) of its first change.
fn bumped(format: RecipeFormat, old: &str, new: &str) -> bool {
    let expected = bump_build_number(format, old, 1).unwrap();
    expected.text == new && !expected.changes.is_empty()
}

#[test]
fn python314_change_sets_for_real_v0_and_v1_feedstocks() {
    let (Some(graph), Some(pinning), Some(m)) = (graph(), real_pinning(), migrator("python314"))
    else {
        return;
    };
    for (feedstock, recipe, format) in [
        ("scipy", "recipe/meta.yaml", RecipeFormat::V0),
        ("numpy", "recipe/recipe.yaml", RecipeFormat::V1),
        ("pandas", "recipe/recipe.yaml", RecipeFormat::V1),
    ] {
        let files = before_migration(feedstock, "python314", Some("3.14.____cp314.yaml")).unwrap();
        assert!(files.files().all(|(p, _)| !p.contains("cp314.yaml")));
        let children = vec!["a".to_string(), "b".to_string()];
        let set = files_of(change_of(graph, &m, feedstock, &files, &pinning, &children));
        assert_eq!(
            set.writes[".ci_support/migrations/python314.yaml"],
            m.definition().text,
            "{feedstock}: the migration file, byte for byte"
        );
        let old = files.text(recipe).unwrap();
        assert!(
            bumped(format, old, &set.writes[recipe]),
            "{feedstock}: build number +1"
        );
        let new_variant = set
            .writes
            .iter()
            .find(|(p, _)| {
                p.starts_with(".ci_support/linux_64_") && p.contains("3.14.____cp314.yaml")
            })
            .unwrap_or_else(|| panic!("{feedstock}: no linux_64 python 3.14 variant"));
        assert!(
            new_variant.1.contains("- 3.14.* *_cp314\n"),
            "{}",
            new_variant.1
        );
        assert_eq!(set.commit_message, "Rebuild for python 3.14");
        assert_eq!(set.title, "Rebuild for python 3.14");
        assert_eq!(
            set.branch,
            format!("rebuild-python314-{MIGRATOR_VERSION}-1")
        );
        assert!(set.body.contains("/?name=python314)"), "{}", set.body);
        assert!(set.body.contains("- a\n- b\n"), "{}", set.body);

        // Once applied, the feedstock is where the migration wants it.
        let after = applied(&files, &set);
        match change_of(graph, &m, feedstock, &after, &pinning, &children) {
            Change::NothingToDo { .. } => {}
            Change::Files(again) => panic!(
                "{feedstock}: a second run changes {:?}",
                again
                    .writes
                    .keys()
                    .filter(|p| !p.starts_with("recipe/"))
                    .collect::<Vec<_>>()
            ),
        }
    }
}

#[test]
fn a_version_pin_change_set_rerenders_the_new_pin() {
    let (Some(graph), Some(pinning), Some(m)) = (graph(), real_pinning(), migrator("giflib6"))
    else {
        return;
    };
    let files = before_migration("libwebp", "giflib6", None).unwrap();
    let set = files_of(change_of(graph, &m, "libwebp", &files, &pinning, &[]));
    let linux = &set.writes[".ci_support/linux_64_.yaml"];
    assert!(linux.contains("giflib:\n- '6'\n"), "{linux}");
    assert!(bumped(
        RecipeFormat::V0,
        files.text("recipe/meta.yaml").unwrap(),
        &set.writes["recipe/meta.yaml"]
    ));
    assert_eq!(set.commit_message, "Rebuild for giflib 6");
    assert!(set.deletes.is_empty());
}

#[test]
fn conda_forge_yml_patches_are_applied_and_missing_paths_reported() {
    let (Some(graph), Some(pinning), Some(base)) = (graph(), real_pinning(), migration("giflib6"))
    else {
        return;
    };
    let text = base.text.replace(
        "  migration_number: 1\n",
        "  migration_number: 1\n  conda_forge_yml_patches:\n    bot.automerge: true\n    nowhere.at.all: 1\n",
    );
    let definition = PinningMigration::parse("giflib6", &base.path, &text).unwrap();
    let m = PinningMigrator::new(definition, None).unwrap();
    let files = before_migration("libwebp", "giflib6", None).unwrap();
    let old = files
        .text("conda-forge.yml")
        .unwrap_or_default()
        .to_string();
    let set = files_of(change_of(graph, &m, "libwebp", &files, &pinning, &[]));
    let new = &set.writes["conda-forge.yml"];
    let config = cascade::feedstock::config::parse(new).unwrap();
    assert!(config.bot.automerge.migrations());
    // Only the patched key changed.
    let added: Vec<&str> = new
        .lines()
        .filter(|l| !old.lines().any(|o| o == *l))
        .collect();
    assert!(
        added
            .iter()
            .all(|l| l.contains("automerge") || l.trim() == "bot:"),
        "{added:?}"
    );
    assert!(
        set.body.contains("patch `nowhere.at.all` skipped"),
        "{}",
        set.body
    );
}

#[test]
fn build_number_bumps_on_every_real_recipe_change_only_the_digits() {
    let Some(dir) = shared_data("feedstocks") else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in fs_err::read_dir(&dir).unwrap() {
        let root = entry.unwrap().path();
        for format in [RecipeFormat::V0, RecipeFormat::V1] {
            let path = root.join("recipe").join(format.file_name());
            let Ok(text) = fs_err::read_to_string(&path) else {
                continue;
            };
            checked += 1;
            let edit = match bump_build_number(format, &text, 1) {
                Ok(edit) => edit,
                Err(e) => {
                    failures.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let old: Vec<&str> = text.split('\n').collect();
            let new: Vec<&str> = edit.text.split('\n').collect();
            assert_eq!(old.len(), new.len(), "{}", path.display());
            let changed: BTreeSet<usize> = edit.changes.iter().map(|c| c.line).collect();
            for (i, (a, b)) in old.iter().zip(&new).enumerate() {
                if a == b {
                    continue;
                }
                assert!(changed.contains(&(i + 1)), "{}:{}", path.display(), i + 1);
                let strip = |s: &str| {
                    s.chars()
                        .filter(|c| !c.is_ascii_digit())
                        .collect::<String>()
                };
                assert_eq!(strip(a), strip(b), "{}:{}", path.display(), i + 1);
            }
            assert!(edit.changes.iter().all(|c| c.new == c.old + 1));
            assert!(
                Recipe::parse(format, &edit.text).is_ok(),
                "{}",
                path.display()
            );
        }
    }
    eprintln!(
        "build numbers bumped: {}/{checked}",
        checked - failures.len()
    );
    assert_eq!(checked, 137);
    assert!(failures.is_empty(), "{failures:#?}");
}

fn pinning_feedstock_with(migration: &PinningMigration) -> Option<Snapshot> {
    let dir = shared_data("feedstocks")?.join("conda-forge-pinning-feedstock");
    let snapshot = Snapshot::read(&dir).unwrap();
    let extra = (
        format!("recipe/migrations/{}.yaml", migration.name),
        migration.text.clone().into_bytes(),
    );
    Some(Snapshot::from_files(
        &dir,
        snapshot
            .files()
            .map(|(p, b)| (p.to_string(), b.to_vec()))
            .chain([extra]),
    ))
}

#[test]
fn closing_out_giflib6_replaces_only_the_giflib_pin() {
    let (Some(graph), Some(pinning), Some(m)) = (graph(), real_pinning(), migrator("giflib6"))
    else {
        return;
    };
    let files = pinning_feedstock_with(m.definition()).unwrap();
    let set = files_of(change_of(
        graph,
        &m,
        PINNING_FEEDSTOCK,
        &files,
        &pinning,
        &[],
    ));
    assert_eq!(set.commit_message, "Close out migration for giflib6");
    assert_eq!(set.deletes, set_of(&["recipe/migrations/giflib6.yaml"]));
    let old = files.text("recipe/conda_build_config.yaml").unwrap();
    let new = &set.writes["recipe/conda_build_config.yaml"];
    assert_eq!(
        new,
        &old.replace("giflib:\n  - 5.2\n", "giflib:\n  - '6'\n"),
        "only giflib's block changes"
    );
    assert!(
        !set.writes.keys().any(|p| p.ends_with("meta.yaml")),
        "no build bump"
    );
}

fn set_of(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

#[test]
fn closing_out_python314_keeps_every_feedstock_render() {
    let (Some(graph), Some(pinning), Some(m)) = (graph(), real_pinning(), migrator("python314"))
    else {
        return;
    };
    let files = pinning_feedstock_with(m.definition()).unwrap();
    let set = files_of(change_of(
        graph,
        &m,
        PINNING_FEEDSTOCK,
        &files,
        &pinning,
        &[],
    ));
    let merged = &set.writes["recipe/conda_build_config.yaml"];
    assert!(
        merged.contains("  - 3.14.* *_cp314  # [not (win and arm64)]\n"),
        "{merged}"
    );
    let old = files.text("recipe/conda_build_config.yaml").unwrap();
    assert_eq!(
        merged.lines().count(),
        old.lines().count() + 2,
        "two lines added"
    );
    // The closed pinning renders every python feedstock exactly as pinning + migration.
    let closed = Pinning {
        cbc: merged.clone(),
        migrations: pinning.migrations.clone().map(|all| {
            all.into_iter()
                .filter(|f| f.name != "python314.yaml")
                .collect()
        }),
    };
    for feedstock in ["numpy", "scipy", "cffi", "matplotlib", "pandas"] {
        let with = shared_data("feedstocks")
            .unwrap()
            .join(format!("{feedstock}-feedstock"));
        let with = Snapshot::read(&with).unwrap();
        let without = before_migration(feedstock, "python314", None).unwrap();
        let repo = format!("{feedstock}-feedstock");
        let before = pinning::rerender(
            &pinning::inputs_from_snapshot(&with, &repo).unwrap(),
            &pinning,
            Compat::default(),
        )
        .unwrap();
        let after = pinning::rerender(
            &pinning::inputs_from_snapshot(&without, &repo).unwrap(),
            &closed,
            Compat::default(),
        )
        .unwrap();
        assert_eq!(
            before.files.keys().collect::<Vec<_>>(),
            after.files.keys().collect::<Vec<_>>(),
            "{feedstock}"
        );
        for (name, text) in &before.files {
            assert_eq!(text, &after.files[name], "{feedstock}: {name}");
        }
    }
}

#[test]
fn a_close_out_that_would_drop_other_platforms_is_refused() {
    let (Some(graph), Some(pinning)) = (graph(), real_pinning()) else {
        return;
    };
    let support = tempfile::tempdir().unwrap();
    fs_err::write(support.path().join("free-threaded-314.txt"), "numpy\n").unwrap();
    for name in ["go_macos", "python314t"] {
        let m = PinningMigrator::new(migration(name).unwrap(), Some(support.path())).unwrap();
        let files = pinning_feedstock_with(m.definition()).unwrap();
        let loaded = feedstock::load_snapshot(&files).unwrap();
        let identity = Identity::default();
        let input = ChangeInput {
            node: graph.node(graph.id(PINNING_FEEDSTOCK).unwrap()),
            files: &files,
            config: &loaded.config,
            pinning: &pinning,
            children: &[],
            closeout: true,
            identity: &identity,
        };
        let err = m.change(&input).unwrap_err().to_string();
        assert!(
            err.contains("by hand") && err.contains(name),
            "{name}: {err}"
        );
    }
}
