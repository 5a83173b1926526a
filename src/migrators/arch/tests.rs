//! The architecture plan on small constructed graphs: the cut to the allowlist and its
//! ancestors, plucking, exclusions and gating. The real corpus is in
//! `tests/arch_migrator.rs`.

use super::*;
use crate::migrators::NoarchSummary;

/// A node: name, outputs, platforms, all-noarch.
fn node(name: &str, outputs: &[&str], platforms: &[&str], noarch: bool) -> NodeInfo {
    NodeInfo {
        name: name.to_string(),
        outputs: outputs.iter().map(|o| o.to_string()).collect(),
        platforms: platforms.iter().map(|p| p.to_string()).collect(),
        noarch: NoarchSummary {
            all: noarch,
            python: noarch,
        },
        ..NodeInfo::default()
    }
}

fn sections(list: &[Section]) -> SectionSet {
    let mut set = SectionSet::default();
    for s in list {
        set.insert(*s);
    }
    set
}

fn migrator(build: Build, allowlist: &[&str]) -> Architecture {
    Architecture {
        name: "arch-test".to_string(),
        description: None,
        settings: Settings::default(),
        targets: vec![
            Target::parse("linux_aarch64").unwrap(),
            Target::parse("linux_ppc64le").unwrap(),
        ],
        build,
        test: None,
        allowlist: allowlist.iter().map(|s| s.to_string()).collect(),
        title: "T".to_string(),
        branch: "b".to_string(),
        contact: None,
    }
}

fn names(graph: &GraphSnapshot, ids: &[NodeId]) -> Vec<String> {
    ids.iter().map(|id| graph.node(*id).name.clone()).collect()
}

/// Graph (dependency → dependent):
/// zlib →host lib →host app; lib →run pure(noarch) →run app; perl →build lib;
/// old(archived) →host app; done(has both arches) →host app; other stands alone;
/// cmake →build app.
fn graph() -> GraphSnapshot {
    let linux = ["linux-64"];
    let mut archived = node("old", &["old"], &linux, false);
    archived.archived = true;
    let nodes = vec![
        node("zlib", &["zlib", "libzlib"], &linux, false),
        node("lib", &["lib"], &linux, false),
        node("pure", &["pure"], &linux, true),
        node("app", &["app-bin", "app-py"], &linux, false),
        node("perl", &["perl"], &linux, false),
        archived,
        node(
            "done",
            &["done"],
            &["linux-64", "linux-aarch64", "linux-ppc64le"],
            false,
        ),
        node("other", &["other"], &linux, false),
        node("cmake", &["cmake"], &linux, false),
    ];
    let id = |i: u32| NodeId(i);
    let edges = vec![
        (id(0), id(1), sections(&[Section::Host])),
        (id(1), id(3), sections(&[Section::Host])),
        (id(1), id(2), sections(&[Section::Run])),
        (id(2), id(3), sections(&[Section::Run])),
        (id(4), id(1), sections(&[Section::Build])),
        (id(5), id(3), sections(&[Section::Host])),
        (id(6), id(3), sections(&[Section::Host])),
        (id(8), id(3), sections(&[Section::Build])),
    ];
    GraphSnapshot::from_parts(nodes, edges)
}

#[test]
fn a_native_rollout_takes_the_allowlist_and_every_ancestor() {
    let graph = graph();
    let plan = migrator(
        Build::Native {
            provider: "default".to_string(),
        },
        &["app-py"],
    )
    .plan(&graph);
    assert_eq!(
        names(&graph, &plan.members),
        ["zlib", "lib", "app", "cmake"]
    );
    let excluded: Vec<(String, &str)> = plan
        .excluded
        .iter()
        .map(|(id, e)| (graph.node(*id).name.clone(), e.code()))
        .collect();
    assert_eq!(
        excluded,
        [
            ("pure".to_string(), "noarch"),
            ("perl".to_string(), "excluded-by-name"),
            ("old".to_string(), "archived"),
            ("done".to_string(), "already-migrated"),
            ("other".to_string(), "not-in-allowlist"),
        ]
    );
}

#[test]
fn gating_passes_through_plucked_nodes_but_not_through_done_or_archived_ones() {
    let graph = graph();
    let plan = migrator(
        Build::Native {
            provider: "default".to_string(),
        },
        &["app"],
    )
    .plan(&graph);
    let parents: Vec<(String, Vec<String>)> = plan
        .parents
        .iter()
        .map(|(id, p)| (graph.node(*id).name.clone(), names(&graph, p)))
        .collect();
    // app: lib directly and through the noarch `pure`; cmake by its build edge; not the
    // archived `old`, not `done`, which already builds for both targets.
    assert_eq!(
        parents,
        [
            ("lib".to_string(), vec!["zlib".to_string()]),
            (
                "app".to_string(),
                vec!["lib".to_string(), "cmake".to_string()]
            ),
        ]
    );
}

#[test]
fn a_cross_rollout_ignores_build_and_test_edges() {
    let graph = graph();
    let plan = migrator(
        Build::Cross {
            from: Target::parse("linux_64").unwrap(),
        },
        &["app"],
    )
    .plan(&graph);
    // cmake (build only) and perl (build of lib) are not needed on the target.
    assert_eq!(names(&graph, &plan.members), ["zlib", "lib", "app"]);
    let cmake = graph.id("cmake").unwrap();
    assert!(plan.excluded.contains(&(cmake, Exclusion::NotInAllowlist)));
}

#[test]
fn a_build_edge_to_a_stub_counts_for_a_cross_rollout() {
    let mut app = node("app", &["app"], &["linux-64"], false);
    app.requirements.insert(
        Section::Build,
        ["cdt_stub".to_string()].into_iter().collect(),
    );
    let graph = GraphSnapshot::from_parts(
        vec![node("cdt", &["cdt_stub"], &["linux-64"], false), app],
        [(NodeId(0), NodeId(1), sections(&[Section::Build]))],
    );
    let plan = migrator(
        Build::Cross {
            from: Target::parse("linux_64").unwrap(),
        },
        &["app"],
    )
    .plan(&graph);
    // The stub feedstock is in the cut (so the edge counted) and then plucked by name.
    assert_eq!(names(&graph, &plan.members), ["app"]);
    assert_eq!(plan.excluded, [(NodeId(0), Exclusion::ExcludedByName)]);
}

#[test]
fn a_feedstock_with_only_one_of_the_targets_is_still_a_member() {
    let nodes = vec![node(
        "half",
        &["half"],
        &["linux-64", "linux-aarch64"],
        false,
    )];
    let graph = GraphSnapshot::from_parts(nodes, []);
    let plan = migrator(
        Build::Native {
            provider: "default".to_string(),
        },
        &["half"],
    )
    .plan(&graph);
    assert_eq!(plan.members, [NodeId(0)]);
}

#[test]
fn feedstocks_that_do_not_build_where_the_rollout_starts_are_left_out() {
    let nodes = vec![
        node("unix-only", &["unix-only"], &["linux-64", "osx-64"], false),
        node("app", &["app"], &["linux-64", "win-64"], false),
        node("mac-only", &["mac-only"], &["osx-64"], false),
    ];
    let graph = GraphSnapshot::from_parts(
        nodes,
        [
            (NodeId(0), NodeId(1), sections(&[Section::Host])),
            (NodeId(2), NodeId(1), sections(&[Section::Host])),
        ],
    );
    let mut win = migrator(
        Build::Cross {
            from: Target::parse("win_64").unwrap(),
        },
        &["app"],
    );
    win.targets = vec![Target::parse("win_arm64").unwrap()];
    let plan = win.plan(&graph);
    assert_eq!(plan.members, [NodeId(1)]);
    assert!(plan.parents.is_empty());
    assert!(
        plan.excluded
            .contains(&(NodeId(0), Exclusion::PlatformAllowlist))
    );
    let native = migrator(
        Build::Native {
            provider: "default".to_string(),
        },
        &["app"],
    );
    let plan = native.plan(&graph);
    assert_eq!(plan.members, [NodeId(0), NodeId(1)]);
    assert!(
        plan.excluded
            .contains(&(NodeId(2), Exclusion::PlatformAllowlist))
    );
}

#[test]
fn conda_forge_yml_decides_what_is_built_missing_or_switched_off() {
    let target = Target::parse("linux_aarch64").unwrap();
    let config = |text: &str| crate::feedstock::config::parse(text).unwrap();
    let state = |text: &str| Architecture::configured(&config(text), &target);
    assert_eq!(state(""), Configured::Missing);
    assert_eq!(
        state("provider: {linux_aarch64: default}\n"),
        Configured::Built
    );
    assert_eq!(
        state("build_platform: {linux_aarch64: linux_64}\n"),
        Configured::Built
    );
    assert_eq!(
        state("provider: {linux_aarch64: null}\n"),
        Configured::Disabled {
            key: "linux_aarch64".to_string()
        }
    );
    // An identity build_platform builds nothing by itself.
    assert_eq!(
        state("build_platform: {linux_aarch64: linux_aarch64}\n"),
        Configured::Missing
    );
}
