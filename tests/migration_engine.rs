//! The migration engine over real stores: the graph snapshot loaded from SQLite, work
//! records written and read back through a real file, the engine scheduling on the real
//! corpus graph; a version-1 database migrated in place (`schema`) and a scale run
//! (`scale`).

mod common;
#[path = "migration_engine/scale.rs"]
mod scale;
#[path = "migration_engine/schema.rs"]
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use cascade::graph::{
    self, AttemptError, AttemptErrorKind, BuildOptions, NoReporter, PrRef, Store, WorkOutcome,
    WorkRecord,
};
use cascade::migrators::{
    Change, ChangeInput, DoneKind, GraphSnapshot, MigrateError, MigrationPlan, MigrationRecords,
    Migrator, MigratorKind, NodeId, NodeInfo, NodeState, Settings, Uid, schedule,
};
use cascade::recipe::Section;

/// A migration of every node that has `package` in host or build, gated on the graph's
/// host/build/run edges among members (the shape of a pinning migration).
struct Rebuild {
    name: String,
    package: String,
    settings: Settings,
    closeout: Option<String>,
}

impl Rebuild {
    fn new(name: &str, package: &str) -> Rebuild {
        Rebuild {
            name: name.to_string(),
            package: package.to_string(),
            settings: Settings::default(),
            closeout: None,
        }
    }

    fn wants(&self, node: &NodeInfo) -> bool {
        !node.archived
            && !node.parse_error
            && (node.section(Section::Host).any(|r| r == self.package)
                || node.section(Section::Build).any(|r| r == self.package))
    }
}

impl Migrator for Rebuild {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> MigratorKind {
        MigratorKind::Pinning
    }
    fn settings(&self) -> &Settings {
        &self.settings
    }
    fn plan(&self, graph: &GraphSnapshot) -> MigrationPlan {
        let closeout = self.closeout.as_deref().and_then(|n| graph.id(n));
        let members: Vec<NodeId> = graph
            .ids()
            .filter(|&id| self.wants(graph.node(id)) || Some(id) == closeout)
            .collect();
        let mut is_member = vec![false; graph.len()];
        for id in &members {
            is_member[id.index()] = true;
        }
        let mut parents = BTreeMap::new();
        for &id in &members {
            let list: Vec<NodeId> = graph
                .parents(id)
                .iter()
                .filter(|(p, sections)| {
                    is_member[p.index()]
                        && [Section::Build, Section::Host, Section::Run]
                            .iter()
                            .any(|s| sections.contains(*s))
                })
                .map(|(p, _)| *p)
                .collect();
            if !list.is_empty() {
                parents.insert(id, list);
            }
        }
        MigrationPlan {
            members,
            parents,
            excluded: Vec::new(),
            closeout,
        }
    }
    fn uid(&self, _node: &NodeInfo) -> Uid {
        Uid::new(&self.name, 1)
    }
    fn change(&self, _input: &ChangeInput<'_>) -> Result<Change, MigrateError> {
        Ok(Change::NothingToDo {
            reason: "test migrator".to_string(),
        })
    }
}

/// Writes a v1 feedstock rendered for `platforms` (`linux_64`, ...).
fn feedstock(root: &Path, name: &str, body: &str, platforms: &[&str]) {
    let dir = root.join(format!("{name}-feedstock"));
    fs_err::create_dir_all(dir.join("recipe")).unwrap();
    fs_err::create_dir_all(dir.join(".ci_support")).unwrap();
    fs_err::write(
        dir.join("recipe/recipe.yaml"),
        format!("schema_version: 1\n\npackage:\n  name: {name}\n  version: \"1.0\"\n\n{body}"),
    )
    .unwrap();
    for platform in platforms {
        fs_err::write(
            dir.join(format!(".ci_support/{platform}_.yaml")),
            format!("target_platform:\n- {}\n", platform.replace('_', "-")),
        )
        .unwrap();
    }
}

/// A small universe: `python`, a compiled `lib`, `ext` (python + lib in host), a
/// `noarch: python` package `purepy`, and a generic noarch `data`.
fn small_universe(root: &Path) {
    let both = ["linux_64", "osx_64"];
    feedstock(root, "python", "build:\n  number: 0\n", &both);
    feedstock(root, "lib", "build:\n  number: 0\n", &both);
    feedstock(
        root,
        "ext",
        "requirements:\n  host:\n    - python\n    - lib\n  run:\n    - python\n",
        &both,
    );
    feedstock(
        root,
        "purepy",
        "build:\n  noarch: python\nrequirements:\n  host:\n    - python\n  run:\n    - python\n    - ext\n",
        &["linux_64"],
    );
    feedstock(root, "data", "build:\n  noarch: generic\n", &["linux_64"]);
}

fn build(feedstocks: &Path, db: &Path) -> graph::BuildSummary {
    graph::build(
        &BuildOptions {
            feedstocks_dir: feedstocks.to_path_buf(),
            db_path: db.to_path_buf(),
        },
        &NoReporter,
    )
    .unwrap()
}

fn names(graph: &GraphSnapshot, ids: impl IntoIterator<Item = NodeId>) -> Vec<String> {
    ids.into_iter()
        .map(|id| graph.node(id).name.clone())
        .collect()
}

#[test]
fn the_snapshot_loads_nodes_requirements_noarch_and_edges_from_the_store() {
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    small_universe(&feedstocks);
    let db = root.path().join("cascade.sqlite");
    build(&feedstocks, &db);
    let store = Store::open(&db).unwrap();
    store.set_archived("lib", true).unwrap();
    let graph = GraphSnapshot::load(&store).unwrap();

    assert_eq!(
        names(&graph, graph.ids()),
        vec!["data", "ext", "lib", "purepy", "python"]
    );
    let ext = graph.node(graph.id("ext").unwrap());
    assert_eq!(ext.outputs, vec!["ext"]);
    assert_eq!(
        ext.section(Section::Host).collect::<Vec<_>>(),
        vec!["lib", "python"]
    );
    assert_eq!(ext.platforms, vec!["linux-64", "osx-64"]);
    assert!(ext.path.ends_with("ext-feedstock"));
    assert!(!ext.noarch.all && !ext.noarch.python);
    let purepy = graph.node(graph.id("purepy").unwrap());
    assert!(purepy.noarch.all && purepy.noarch.python);
    let data = graph.node(graph.id("data").unwrap());
    assert!(data.noarch.all && data.noarch.python);
    let lib = graph.node(graph.id("lib").unwrap());
    assert!(lib.archived && !lib.noarch.all && lib.noarch.python);

    let parents = |name: &str| -> Vec<(String, Vec<Section>)> {
        graph
            .parents(graph.id(name).unwrap())
            .iter()
            .map(|(p, s)| (graph.node(*p).name.clone(), s.iter().collect()))
            .collect()
    };
    assert_eq!(
        parents("ext"),
        vec![
            ("lib".to_string(), vec![Section::Host]),
            ("python".to_string(), vec![Section::Host, Section::Run]),
        ]
    );
    assert_eq!(
        names(&graph, graph.producers("python").iter().copied()),
        vec!["python"]
    );
    assert_eq!(graph.children(graph.id("ext").unwrap()).len(), 1);
}

#[test]
fn removed_feedstocks_leave_the_snapshot_and_archived_survives_a_rebuild() {
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    small_universe(&feedstocks);
    let db = root.path().join("cascade.sqlite");
    build(&feedstocks, &db);
    Store::open(&db).unwrap().set_archived("ext", true).unwrap();
    fs_err::remove_dir_all(feedstocks.join("data-feedstock")).unwrap();
    build(&feedstocks, &db);

    let store = Store::open(&db).unwrap();
    let graph = GraphSnapshot::load(&store).unwrap();
    assert_eq!(graph.id("data"), None);
    assert_eq!(graph.len(), 4);
    assert!(graph.node(graph.id("ext").unwrap()).archived);
    assert!(store.set_archived("nonexistent", true).is_err());
}

fn pr(feedstock: &str, number: u64) -> Option<PrRef> {
    Some(PrRef {
        feedstock: feedstock.to_string(),
        number,
    })
}

fn work(migrator: &Rebuild, feedstock: &str, outcome: WorkOutcome, now: i64) -> WorkRecord {
    WorkRecord {
        migration: migrator.name.clone(),
        feedstock: feedstock.to_string(),
        uid_key: migrator.uid(&NodeInfo::default()).key(),
        outcome,
        pr: pr(feedstock, 1),
        branch: Some(format!("rebuild-{}-1-", migrator.name)),
        reason: None,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn a_migration_advances_as_records_are_written_to_a_real_store() {
    let root = tempfile::tempdir().unwrap();
    let feedstocks = root.path().join("feedstocks");
    small_universe(&feedstocks);
    let db = root.path().join("cascade.sqlite");
    build(&feedstocks, &db);
    let store = Store::open(&db).unwrap();
    let graph = GraphSnapshot::load(&store).unwrap();
    let migrator = Rebuild::new("python-rebuild", "python");
    let plan = migrator.plan(&graph);
    assert_eq!(names(&graph, plan.members.clone()), vec!["ext", "purepy"]);
    let state = |store: &Store, now: i64| {
        let records = MigrationRecords::load(store, &migrator).unwrap();
        let s = schedule(&migrator, &plan, &graph, &records, now);
        let named: BTreeMap<String, NodeState> = s
            .states
            .iter()
            .map(|(id, st)| (graph.node(*id).name.clone(), st.clone()))
            .collect();
        (s, named)
    };

    let (first, states) = state(&store, 1000);
    assert_eq!(states["ext"], NodeState::Ready);
    assert!(matches!(
        states["purepy"],
        NodeState::AwaitingParents { .. }
    ));
    assert_eq!((first.limit, first.counts.with_work), (2, 0));
    assert_eq!(first.ready[0].uid, Uid::new("python-rebuild", 1));

    // A failed attempt backs off; then a PR is opened and recorded.
    let error = AttemptError {
        kind: AttemptErrorKind::Forge,
        message: "push to local://conda-forge/ext-feedstock failed".to_string(),
    };
    store
        .record_attempt("python-rebuild", "ext", Some(&error), 1000)
        .unwrap();
    let (_, states) = state(&store, 2000);
    assert_eq!(
        states["ext"],
        NodeState::BackingOff {
            until: 1000 + 4 * 3600,
            attempts: 1
        }
    );
    store
        .record_attempt("python-rebuild", "ext", None, 20_000)
        .unwrap();
    store
        .record_work(&work(&migrator, "ext", WorkOutcome::Open, 20_000))
        .unwrap();
    let (_, states) = state(&store, 20_001);
    assert_eq!(states["ext"], NodeState::InPr { pr: pr("ext", 1) });
    assert_eq!(store.open_work().unwrap().len(), 1);

    // Merged: the child is released.
    store
        .record_work(&work(&migrator, "ext", WorkOutcome::Merged, 30_000))
        .unwrap();
    let (third, states) = state(&store, 30_001);
    assert_eq!(states["ext"], NodeState::Done(DoneKind::Merged));
    assert_eq!(states["purepy"], NodeState::Ready);
    assert_eq!(third.counts.done(), 1);
    assert!(store.open_work().unwrap().is_empty());

    // A bot-rerun on ext makes it ready again under a new uid, and gates purepy again.
    store.set_rerun("python-rebuild", "ext", 40_000).unwrap();
    let (fourth, states) = state(&store, 40_001);
    assert_eq!(states["ext"], NodeState::Ready);
    assert!(matches!(
        states["purepy"],
        NodeState::AwaitingParents { .. }
    ));
    assert_eq!(fourth.ready[0].uid.bot_rerun, 40_000);

    let run = store.begin_run(1).unwrap();
    store.finish_run(run, 2, r#"{"opened":1}"#).unwrap();
    assert_eq!(store.runs().unwrap()[0].finished_at, Some(2));
}

fn corpus_graph(root: &Path) -> Option<PathBuf> {
    let feedstocks = common::shared_data("feedstocks")?;
    let db = root.join("cascade.sqlite");
    build(&feedstocks, &db);
    Some(db)
}

#[test]
fn the_real_corpus_loads_with_its_noarch_packages_and_schedules_a_python_rebuild() {
    let root = tempfile::tempdir().unwrap();
    let Some(db) = corpus_graph(root.path()) else {
        return;
    };
    let store = Store::open(&db).unwrap();
    let clock = Instant::now();
    let graph = GraphSnapshot::load(&store).unwrap();
    eprintln!(
        "corpus snapshot: {} nodes in {:?}",
        graph.len(),
        clock.elapsed()
    );
    assert_eq!(graph.len(), 137);
    let edges: usize = graph.ids().map(|id| graph.children(id).len()).sum();
    assert_eq!(edges, 656);

    let noarch = |name: &str| graph.node(graph.id(name).unwrap()).noarch;
    for name in ["certifi", "jinja2", "wheel", "pip", "setuptools"] {
        assert!(noarch(name).all && noarch(name).python, "{name}");
    }
    assert!(noarch("tzdata").all, "tzdata is noarch: generic");
    assert!(!noarch("numpy").all && !noarch("numpy").python);
    assert!(!noarch("zlib").all && noarch("zlib").python);
    let numpy = graph.node(graph.id("numpy").unwrap());
    assert!(numpy.section(Section::Host).any(|r| r == "python"));
    assert!(numpy.outputs.contains(&"numpy".to_string()));

    let mut migrator = Rebuild::new("python-rebuild", "python");
    migrator.closeout = Some("conda-forge-pinning".to_string());
    let plan = migrator.plan(&graph);
    let s = schedule(&migrator, &plan, &graph, &MigrationRecords::default(), 0);
    let counts = s.counts;
    eprintln!("corpus python rebuild: {counts:?}, limit {}", s.limit);
    assert_eq!(
        counts.ready + counts.awaiting_parents,
        counts.members,
        "with no records every member is ready or awaiting parents"
    );
    assert_eq!(s.limit, 2);
    // python is a member (python in build, for cross-compiling) and the root every
    // other member waits for; numpy waits for members it depends on, e.g. cython; the
    // pinning feedstock waits for everyone; zlib has no python and is not a member.
    let state = |name: &str| s.state(graph.id(name).unwrap()).cloned();
    assert_eq!(state("python"), Some(NodeState::Ready));
    assert_eq!(names(&graph, s.ready.iter().map(|r| r.id)), vec!["python"]);
    assert!(s.ready[0].descendants > 50);
    assert_eq!(state("zlib"), None);
    match state("conda-forge-pinning") {
        Some(NodeState::AwaitingParents { parents }) => {
            assert_eq!(parents.len(), counts.members - 1)
        }
        other => panic!("pinning is {other:?}"),
    }
    match state("numpy") {
        Some(NodeState::AwaitingParents { parents }) => {
            assert!(names(&graph, parents).contains(&"cython".to_string()))
        }
        other => panic!("numpy is {other:?}"),
    }
    // Every ready node has no member parent outside its own cycle.
    for ready in &s.ready {
        assert!(
            plan.parents
                .get(&ready.id)
                .is_none_or(|ps| ps
                    .iter()
                    .all(|p| graph.node(*p).cycle.is_some() || !plan.members.contains(p))),
            "{} is ready with parents",
            graph.node(ready.id).name
        );
    }
    let order: Vec<u32> = s.ready.iter().map(|r| r.descendants).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]));
}
