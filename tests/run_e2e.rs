//! The run loop end to end on the real corpus: `../shared/data/feedstocks` imported into a
//! local forge, `../shared/data/pinning` as the pinning, migrations driven through several
//! runs while the test plays the maintainers (merging, closing, labelling).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cascade::feedstock::{FeedstockName, Snapshot};
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{PrState, PullRequest};
use cascade::graph::{NoReporter, Store, WorkOutcome};
use cascade::migrators::registry::{Registry, Sources};
use cascade::migrators::{GraphSnapshot, Identity, MigrationPlan};
use cascade::pinning::{self, Compat};
use cascade::run::{self, MigrationRun, RunOptions, RunSummary};

struct World {
    _dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
}

fn world(only: &[&str]) -> Option<World> {
    let feedstocks = common::shared_data("feedstocks")?;
    let pinning = common::shared_data("pinning")?;
    let dir = tempfile::tempdir().unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();
    let options = RunOptions {
        db_path: dir.path().join("cascade.sqlite"),
        checkouts_dir: dir.path().join("checkouts"),
        pinning_dir: Some(pinning),
        migrators_dir: None,
        only: only.iter().map(|s| s.to_string()).collect(),
        dry_run: false,
        identity: Identity::default(),
        now: 1_780_000_000,
    };
    Some(World {
        _dir: dir,
        forge,
        options,
    })
}

impl World {
    fn run(&mut self) -> RunSummary {
        let summary = run::run(&self.options, &self.forge, &NoReporter).unwrap();
        self.options.now += 3600;
        summary
    }

    fn store(&self) -> Store {
        Store::open(&self.options.db_path).unwrap()
    }

    fn open_prs(&self) -> Vec<PullRequest> {
        self.forge
            .list_prs(&PrFilter {
                state: Some(PrState::Open),
                ..PrFilter::default()
            })
            .unwrap()
    }

    /// The migration's plan over the current graph, as the run computed it.
    fn plan(&self, name: &str) -> (GraphSnapshot, MigrationPlan) {
        let pinning_dir = self.options.pinning_dir.clone().unwrap();
        let pinning = pinning::load_pinning(&pinning_dir).unwrap();
        let registry = Registry::load(
            &Sources {
                pinning_dir,
                migrators_dir: None,
            },
            &pinning,
        );
        let graph = GraphSnapshot::load(&self.store()).unwrap();
        let plan = registry.get(name).unwrap().plan(&graph);
        (graph, plan)
    }

    /// A file of the bot's fork at a branch.
    fn fork_file(&self, feedstock: &str, branch: &str, path: &str) -> Option<String> {
        let name = FeedstockName::new(feedstock).unwrap();
        read_blob(
            &self.forge.fork_path(&name),
            &format!("refs/heads/{branch}"),
            path,
        )
    }

    /// Every file of the bot's fork at a branch under `recipe/`, `.ci_support/` and
    /// `conda-forge.yml`, as a snapshot.
    fn fork_snapshot(&self, feedstock: &str, branch: &str) -> Snapshot {
        let name = FeedstockName::new(feedstock).unwrap();
        let repo = git2::Repository::open_bare(self.forge.fork_path(&name)).unwrap();
        let tree = repo
            .find_reference(&format!("refs/heads/{branch}"))
            .unwrap()
            .peel_to_tree()
            .unwrap();
        let mut files = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let path = format!("{dir}{}", entry.name().unwrap_or_default());
            let relevant = path == "conda-forge.yml"
                || path.starts_with("recipe/")
                || path.starts_with(".ci_support/");
            if relevant && let Ok(blob) = entry.to_object(&repo).and_then(|o| o.peel_to_blob()) {
                files.push((path, blob.content().to_vec()));
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        Snapshot::from_files(Path::new(feedstock), files)
    }

    fn upstream_file(&self, feedstock: &str, path: &str) -> Option<String> {
        let name = FeedstockName::new(feedstock).unwrap();
        read_blob(&self.forge.upstream_path(&name), "refs/heads/main", path)
    }
}

fn read_blob(repo: &Path, reference: &str, path: &str) -> Option<String> {
    let repo = git2::Repository::open_bare(repo).ok()?;
    let tree = repo.find_reference(reference).ok()?.peel_to_tree().ok()?;
    let entry = tree.get_path(Path::new(path)).ok()?;
    let blob = entry.to_object(&repo).ok()?.peel_to_blob().ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

fn migration<'a>(summary: &'a RunSummary, name: &str) -> &'a MigrationRun {
    summary
        .migrations
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no migration {name}"))
}

/// The recipe file of a feedstock's fork branch and its upstream version.
fn recipe_path(world: &World, feedstock: &str) -> &'static str {
    if world
        .upstream_file(feedstock, "recipe/recipe.yaml")
        .is_some()
    {
        "recipe/recipe.yaml"
    } else {
        "recipe/meta.yaml"
    }
}

/// Asserts the one changed recipe line raises a build number by one.
fn assert_build_bumped(old: &str, new: &str, feedstock: &str) {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    assert_eq!(old_lines.len(), new_lines.len(), "{feedstock}: line count");
    let changed: Vec<(&str, &str)> = old_lines
        .iter()
        .zip(&new_lines)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(changed.len(), 1, "{feedstock}: {changed:?}");
    let number = |line: &str| -> u64 {
        let digits: String = line
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    let (a, b) = changed[0];
    assert!(
        a.contains("build") || a.contains("number"),
        "{feedstock}: {a}"
    );
    assert_eq!(number(b), number(a) + 1, "{feedstock}: {a} -> {b}");
}

/// Checks one python314 PR's contents: the migration file, the build bump, and
/// `.ci_support` exactly as the native rerender of the migrated files produces it.
fn assert_python314_pr(world: &World, pr: &PullRequest, migration_text: &str) {
    let feedstock = pr.feedstock.as_str();
    if feedstock == "conda-forge-pinning" {
        assert_closeout_pr(world, pr);
        return;
    }
    assert_eq!(
        world
            .fork_file(feedstock, &pr.head, ".ci_support/migrations/python314.yaml")
            .as_deref(),
        Some(migration_text),
        "{feedstock}: the migration file"
    );
    let recipe = recipe_path(world, feedstock);
    let old = world.upstream_file(feedstock, recipe).unwrap();
    let new = world.fork_file(feedstock, &pr.head, recipe).unwrap();
    assert_build_bumped(&old, &new, feedstock);

    let committed = assert_rerendered(world, pr);
    assert!(
        committed.values().any(|text| text.contains("3.14")),
        "{feedstock}: no python 3.14 variant in {:?}",
        committed.keys()
    );
}

/// The PR's `.ci_support` is exactly what the native rerender of the PR's own files
/// against the run's pinning produces; returns those files.
fn assert_rerendered(world: &World, pr: &PullRequest) -> BTreeMap<String, String> {
    let feedstock = pr.feedstock.as_str();
    let files = world.fork_snapshot(feedstock, &pr.head);
    let inputs = pinning::inputs_from_snapshot(&files, &format!("{feedstock}-feedstock")).unwrap();
    let pinning = pinning::load_pinning(world.options.pinning_dir.as_ref().unwrap()).unwrap();
    let expected = pinning::rerender(&inputs, &pinning, Compat::default()).unwrap();
    let committed: BTreeMap<String, String> = files
        .files_in(".ci_support")
        .filter(|(name, _)| name.ends_with(".yaml"))
        .map(|(name, bytes)| {
            (
                name.to_string(),
                String::from_utf8_lossy(bytes).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        committed.keys().collect::<Vec<_>>(),
        expected.files.keys().collect::<Vec<_>>(),
        "{feedstock}: .ci_support file names"
    );
    assert_eq!(
        committed, expected.files,
        "{feedstock}: .ci_support contents"
    );
    committed
}

/// Merges every open PR and runs again, until nothing is open or `rounds` is reached;
/// checks each PR with `check` first. Returns the last summary.
fn merge_until_done(
    world: &mut World,
    name: &str,
    rounds: usize,
    check: &dyn Fn(&World, &PullRequest),
) -> RunSummary {
    let mut summary = world.run();
    for _ in 0..rounds {
        let open = world.open_prs();
        if open.is_empty() {
            break;
        }
        for pr in &open {
            check(world, pr);
            world.forge.merge(pr.number).unwrap();
        }
        summary = world.run();
        let m = migration(&summary, name);
        assert_opened_only_ready(world, m);
        assert!(m.opened.len() as u32 <= m.limit);
    }
    summary
}

/// The close-out PR merges the migration's pins into the pinning feedstock's
/// `conda_build_config.yaml`, and comes only after every other member has work.
fn assert_closeout_pr(world: &World, pr: &PullRequest) {
    assert!(pr.title.contains("python314"), "{}", pr.title);
    let path = "recipe/conda_build_config.yaml";
    let old = world.upstream_file(&pr.feedstock, path).unwrap();
    let new = world.fork_file(&pr.feedstock, &pr.head, path).unwrap();
    let unconditional_314 = |cbc: &str| {
        cbc.lines().any(|l| {
            l.trim_start().starts_with("- 3.14.* *_cp314") && !l.contains("[win and arm64]")
        })
    };
    assert!(!unconditional_314(&old));
    let python_block: String = new
        .lines()
        .skip_while(|l| !l.starts_with("python:"))
        .take(10)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(unconditional_314(&new), "{python_block}");
    let (graph, plan) = world.plan("python314");
    let with_work: BTreeSet<String> = world
        .store()
        .work_for("python314")
        .unwrap()
        .into_iter()
        .map(|w| w.feedstock)
        .collect();
    for member in &plan.members {
        let name = &graph.node(*member).name;
        assert!(with_work.contains(name), "close-out before {name} had work");
    }
}

/// Every PR opened in a run is for a member whose parents in the plan are all done.
fn assert_opened_only_ready(world: &World, run: &MigrationRun) {
    let (graph, plan) = world.plan(&run.name);
    let done: BTreeSet<String> = world
        .store()
        .work_for(&run.name)
        .unwrap()
        .into_iter()
        .filter(|w| w.outcome.is_done())
        .map(|w| w.feedstock)
        .collect();
    for pr in &run.opened {
        let id = graph.id(&pr.feedstock).unwrap();
        for parent in plan.parents.get(&id).into_iter().flatten() {
            let parent_node = graph.node(*parent);
            let same_cycle =
                parent_node.cycle.is_some() && parent_node.cycle == graph.node(id).cycle;
            let parent = &parent_node.name;
            let ignored = parent == "pyqt" && pr.feedstock == "matplotlib";
            assert!(
                done.contains(parent) || same_cycle || ignored,
                "{} opened while its parent {parent} is not done",
                pr.feedstock
            );
        }
    }
    let descendants: Vec<u32> = run.opened.iter().map(|p| p.descendants).collect();
    let mut sorted = descendants.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(descendants, sorted, "opened in order of descendants");
}

#[test]
fn python314_opens_waves_in_topological_order_within_the_ramp() {
    let Some(mut world) = world(&["python314"]) else {
        return;
    };
    let migration_text = fs_err::read_to_string(
        world
            .options
            .pinning_dir
            .as_ref()
            .unwrap()
            .join("migrations/python314.yaml"),
    )
    .unwrap();

    // Round 1: nothing has work yet, so the ramp allows min(2, pr_limit).
    let first = world.run();
    let m = migration(&first, "python314");
    assert_eq!(m.limit, 2);
    assert_eq!(m.opened.len(), 2, "{m:#?}");
    assert!(m.counts.awaiting_parents > 0, "{m:#?}");
    assert_opened_only_ready(&world, m);
    let open = world.open_prs();
    assert_eq!(open.len(), 2);
    for pr in &open {
        assert_python314_pr(&world, pr, &migration_text);
        assert!(pr.body.contains("?name=python314"), "{}", pr.body);
    }

    // A second run with nothing merged opens nothing new and duplicates nothing.
    let again = world.run();
    assert!(migration(&again, "python314").opened.len() <= 5);
    let before: BTreeSet<(String, String)> = world
        .open_prs()
        .into_iter()
        .map(|p| (p.feedstock, p.head))
        .collect();
    assert_eq!(before.len(), world.open_prs().len(), "no duplicate heads");

    // Maintainers merge everything, closing one PR unmerged; waves follow.
    let mut seen_formats = BTreeSet::new();
    let mut closed_unmerged: Option<String> = None;
    for round in 0..8 {
        let open = world.open_prs();
        if open.is_empty() {
            break;
        }
        for pr in &open {
            assert_python314_pr(&world, pr, &migration_text);
            seen_formats.insert(recipe_path(&world, &pr.feedstock));
            if closed_unmerged.is_none() && round == 1 {
                world.forge.close(pr.number).unwrap();
                closed_unmerged = Some(pr.feedstock.clone());
            } else {
                world.forge.merge(pr.number).unwrap();
            }
        }
        let summary = world.run();
        let m = migration(&summary, "python314");
        assert_opened_only_ready(&world, m);
        assert!(m.opened.len() as u32 <= m.limit);
        if round >= 1 {
            assert!(
                m.limit >= 5,
                "the ramp grows once there is work: {}",
                m.limit
            );
        }
    }
    assert!(
        seen_formats.contains("recipe/meta.yaml") && seen_formats.contains("recipe/recipe.yaml"),
        "PRs on v0 and v1 recipes: {seen_formats:?}"
    );

    // The closed PR is recorded as closed-unmerged, distinct from merged, and counts as
    // done for its children.
    let closed = closed_unmerged.unwrap();
    let work = world.store().work_for("python314").unwrap();
    let record = work.iter().find(|w| w.feedstock == closed).unwrap();
    assert_eq!(record.outcome, WorkOutcome::Closed);
    let summary = world.run();
    let m = migration(&summary, "python314");
    assert!(m.counts.closed_unmerged >= 1, "{:?}", m.counts);
    assert!(m.counts.merged >= 10, "{:?}", m.counts);
}

#[test]
fn an_architecture_migration_adds_the_platforms_and_their_variant_files() {
    let name = "arch-linux-aarch64-ppc64le";
    let Some(mut world) = world(&[name]) else {
        return;
    };
    let check = |world: &World, pr: &PullRequest| {
        let feedstock = pr.feedstock.as_str();
        let old = world
            .upstream_file(feedstock, "conda-forge.yml")
            .unwrap_or_default();
        let new = world
            .fork_file(feedstock, &pr.head, "conda-forge.yml")
            .unwrap();
        assert_ne!(old, new, "{feedstock}: conda-forge.yml unchanged");
        // The corpus members already build for aarch64; ppc64le is what they lack.
        assert!(
            new.contains("linux_ppc64le: default"),
            "{feedstock}:\n{new}"
        );
        let recipe = recipe_path(world, feedstock);
        assert_eq!(
            world.upstream_file(feedstock, recipe),
            world.fork_file(feedstock, &pr.head, recipe),
            "{feedstock}: architecture PRs do not bump the build number"
        );
        let files = assert_rerendered(world, pr);
        assert!(
            files.keys().any(|f| f.starts_with("linux_ppc64le_")),
            "{feedstock}: {:?}",
            files.keys()
        );
        assert!(pr.title.contains("aarch64"), "{}", pr.title);
    };
    let first = world.run();
    let m = migration(&first, name);
    assert!(m.counts.members >= 2, "{m:#?}");
    assert_eq!(m.opened.len() as u32, m.limit.min(m.counts.ready as u32));
    assert_opened_only_ready(&world, m);
    for pr in world.open_prs() {
        check(&world, &pr);
    }
    let last = merge_until_done(&mut world, name, 4, &check);
    let m = migration(&last, name);
    // Merged feedstocks now build for the new platforms; they stay members, done.
    assert_eq!(m.counts.done(), m.counts.members, "{:?}", m.counts);
    assert!(m.counts.merged >= 2, "{:?}", m.counts);
    let work = world.store().work_for(name).unwrap();
    assert!(work.iter().all(|w| w.outcome.is_done()), "{work:#?}");
}

#[test]
fn a_maintenance_rerender_brings_stale_ci_support_up_to_date_without_a_build_bump() {
    let name = "maintenance-rerender";
    let Some(mut world) = world(&[name]) else {
        return;
    };
    let check = |world: &World, pr: &PullRequest| {
        let feedstock = pr.feedstock.as_str();
        for path in ["conda-forge.yml", recipe_path(world, feedstock)] {
            assert_eq!(
                world.upstream_file(feedstock, path),
                world.fork_file(feedstock, &pr.head, path),
                "{feedstock}: {path} must not change"
            );
        }
        let files = assert_rerendered(world, pr);
        let upstream: BTreeMap<String, String> = world
            .fork_snapshot(feedstock, "main")
            .files_in(".ci_support")
            .map(|(n, b)| (n.to_string(), String::from_utf8_lossy(b).into_owned()))
            .collect();
        assert_ne!(files, upstream, "{feedstock}: a PR that changes nothing");
    };
    let first = world.run();
    let m = migration(&first, name);
    assert_eq!(m.counts.members, 137);
    assert_eq!(m.opened.len(), 2, "{m:#?}");
    for pr in world.open_prs() {
        check(&world, &pr);
    }
    let last = merge_until_done(&mut world, name, 2, &check);
    let m = migration(&last, name);
    assert!(m.counts.merged >= 5, "{:?}", m.counts);
    // Merged feedstocks are up to date: a fresh look finds nothing to do there.
    let work = world.store().work_for(name).unwrap();
    assert!(work.iter().all(|w| w.outcome != WorkOutcome::Closed));
}
