//! The run loop end to end against the GitHub forge (issue 7, "H6"): the real corpus
//! (`../shared/data/feedstocks`) replayed into the `emulate` GitHub API server as
//! `conda-forge/<name>-feedstock`, `../shared/data/pinning` as the pinning, and
//! `cascade::run` driving the python314 migration through [`GitHubForge`] (REST and the
//! Git Data API: the emulator serves no git protocol and no GraphQL) while the test plays
//! the maintainers over the API as `maint`.
//!
//! A local-forge run of the same corpus, pinning and clock (the world of
//! `tests/run_e2e.rs`) is the reference: each GitHub run must open the PRs it opens, on
//! the same branches. Each test skips with a message when the emulator is not installed
//! or `../shared/data` is absent.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use base64::Engine;
use cascade::feedstock::Snapshot;
use cascade::forge::PrState;
use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::graph::{NoReporter, Store, WorkOutcome};
use cascade::migrators::Identity;
use cascade::pinning::{self, Compat};
use cascade::run::{self, MigrationRun, RunOptions, RunSummary, VersionNetwork, VersionOptions};
use common::emulator::{Emulator, MAINT_TOKEN, OWNER_TOKEN, seed};
use serde_json::{Value, json};

const ORG: &str = "conda-forge";
const BOT: &str = "regro-cf-autotick-bot";
const MIGRATION: &str = "python314";
const MIGRATION_FILE: &str = ".ci_support/migrations/python314.yaml";

/// The corpus as one bare git repository: one root commit per feedstock (fixed author
/// and date, so its SHA is the same in every test), built once per test binary.
struct Corpus {
    repo: tempfile::TempDir,
    /// Feedstock name (without `-feedstock`) → its commit.
    commits: BTreeMap<String, String>,
}

fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS.get_or_init(build_corpus).as_ref()
}

fn build_corpus() -> Option<Corpus> {
    let feedstocks = common::shared_data("feedstocks")?;
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init_bare(repo_dir.path()).unwrap();
    let when = git2::Time::new(1_700_000_000, 0);
    let signature = git2::Signature::new("conda-forge", "conda-forge@example.org", &when).unwrap();
    let mut commits = BTreeMap::new();
    for entry in fs_err::read_dir(&feedstocks).unwrap() {
        let path = entry.unwrap().path();
        let dir_name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(name) = dir_name.strip_suffix("-feedstock") else {
            continue;
        };
        if !path.is_dir() {
            continue;
        }
        let tree = repo.find_tree(write_tree(&repo, &path)).unwrap();
        let commit = repo
            .commit(
                None,
                &signature,
                &signature,
                "Initial feedstock\n",
                &tree,
                &[],
            )
            .unwrap();
        commits.insert(name.to_owned(), commit.to_string());
    }
    Some(Corpus {
        repo: repo_dir,
        commits,
    })
}

/// Writes a directory into the repository as a tree (executable bits kept, empty
/// directories left out, as git does).
fn write_tree(repo: &git2::Repository, dir: &Path) -> git2::Oid {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = repo.treebuilder(None).unwrap();
    for entry in fs_err::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let (path, name) = (entry.path(), entry.file_name());
        let meta = fs_err::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            let subtree = write_tree(repo, &path);
            if repo.find_tree(subtree).unwrap().len() > 0 {
                builder.insert(&name, subtree, 0o040000).unwrap();
            }
        } else if meta.file_type().is_symlink() {
            let target = fs_err::read_link(&path).unwrap();
            let blob = repo.blob(target.to_string_lossy().as_bytes()).unwrap();
            builder.insert(&name, blob, 0o120000).unwrap();
        } else {
            let blob = repo.blob(&fs_err::read(&path).unwrap()).unwrap();
            let mode = if meta.permissions().mode() & 0o111 != 0 {
                0o100755
            } else {
                0o100644
            };
            builder.insert(&name, blob, mode).unwrap();
        }
    }
    builder.write().unwrap()
}

/// Limits that never get in the way of a test (no spacing, no waiting).
fn open_limits() -> Limits {
    Limits {
        creates_per_minute: 100_000,
        creates_per_hour: 100_000,
        create_spacing_ms: 0,
        core_reserve: 0,
        secondary_backoff_secs: 0,
        max_wait_secs: 1,
        ..Limits::default()
    }
}

fn identity() -> Identity {
    Identity {
        bot_user: BOT.to_owned(),
        author_name: BOT.to_owned(),
        author_email: format!("{BOT}@users.noreply.github.com"),
        ..Identity::default()
    }
}

fn options(dir: &Path, pinning: &Path) -> RunOptions {
    RunOptions {
        db_path: dir.join("cascade.sqlite"),
        checkouts_dir: dir.join("checkouts"),
        pinning_dir: Some(pinning.to_path_buf()),
        migrators_dir: None,
        only: vec![MIGRATION.to_owned()],
        dry_run: false,
        identity: identity(),
        now: 1_780_000_000,
    }
}

/// Version PRs off: no network in these tests.
fn no_versions() -> VersionOptions {
    VersionOptions {
        enabled: false,
        hash_cache: None,
        network: VersionNetwork::Offline,
    }
}

/// The emulator holding the corpus, a state directory, and the run's options.
struct World {
    emulator: Emulator,
    dir: tempfile::TempDir,
    options: RunOptions,
    corpus: &'static Corpus,
}

impl World {
    /// Starts an emulator and replays every corpus feedstock into it.
    fn new() -> Option<World> {
        let pinning = common::shared_data("pinning")?;
        let corpus = corpus()?;
        let repos: Vec<String> = corpus
            .commits
            .keys()
            .map(|name| format!("{name}-feedstock"))
            .collect();
        let names: Vec<&str> = repos.iter().map(String::as_str).collect();
        let emulator = Emulator::start(&seed(&names))?;
        let started = Instant::now();
        for (name, commit) in &corpus.commits {
            let repo = format!("{name}-feedstock");
            let sha = emulator.replay(OWNER_TOKEN, ORG, &repo, corpus.repo.path(), commit, "main");
            assert_eq!(&sha, commit);
        }
        eprintln!(
            "seeded {} feedstocks into the emulator in {:?}",
            corpus.commits.len(),
            started.elapsed()
        );
        let dir = tempfile::tempdir().unwrap();
        let options = options(dir.path(), &pinning);
        Some(World {
            emulator,
            dir,
            options,
            corpus,
        })
    }

    /// A GitHub forge on the emulator with its state in `<dir>/<state>`.
    fn forge(&self, state: &str, limits: Limits) -> GitHubForge {
        let config = GitHubConfig {
            api_url: self.emulator.url().to_owned(),
            org: ORG.to_owned(),
            bot_user: BOT.to_owned(),
            transport: Transport::Api,
            limits,
            ..GitHubConfig::default()
        };
        let env = |name: &str| (name == "CASCADE_GITHUB_TOKEN").then(|| "bot_token".to_owned());
        GitHubForge::open(config, &self.dir.path().join(state), &env).unwrap()
    }

    /// One run through `forge`; the clock moves on an hour.
    fn run(&mut self, forge: &GitHubForge) -> RunSummary {
        let started = Instant::now();
        let before = forge.stats();
        let summary = run::run_with_versions(&self.options, &no_versions(), forge, &NoReporter)
            .unwrap_or_else(|e| panic!("run failed: {e:?}"));
        let after = forge.stats();
        eprintln!(
            "run at {}: {:?}, {} requests ({} creating, {} GraphQL, {} retries), opened {:?}, \
             stopped {:?}",
            self.options.now,
            started.elapsed(),
            after.requests - before.requests,
            after.creates - before.creates,
            after.graphql - before.graphql,
            after.retries - before.retries,
            opened(&summary),
            summary.stopped,
        );
        self.options.now += 3600;
        summary
    }

    fn store(&self) -> Store {
        Store::open(&self.options.db_path).unwrap()
    }

    fn get(&self, path: &str) -> Value {
        let (status, body) = self.emulator.request(MAINT_TOKEN, "GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Open PRs on the emulator, per feedstock (every corpus repository is asked).
    fn open_prs(&self) -> BTreeMap<String, Vec<Value>> {
        let mut open = BTreeMap::new();
        for name in self.corpus.commits.keys() {
            let path = format!("/repos/{ORG}/{name}-feedstock/pulls?state=open&per_page=100");
            let Value::Array(prs) = self.get(&path) else {
                panic!("GET {path}: not a list");
            };
            if !prs.is_empty() {
                open.insert(name.clone(), prs);
            }
        }
        open
    }

    /// The one open PR of each feedstock that has one; fails on a duplicate.
    fn single_open_prs(&self) -> BTreeMap<String, Value> {
        self.open_prs()
            .into_iter()
            .map(|(name, mut prs)| {
                assert_eq!(prs.len(), 1, "{name}: more than one open PR: {prs:#?}");
                (name, prs.remove(0))
            })
            .collect()
    }

    /// A maintainer merges a PR. emulate keeps git objects per repository, while GitHub
    /// shares them across a fork network: its merge commit on upstream points at the PR
    /// head's tree, which only the fork holds. The test then writes that tree into
    /// upstream too (same SHA), as GitHub's shared object store would have it.
    fn merge(&self, feedstock: &str, number: u64) {
        let pull = format!("/repos/{ORG}/{feedstock}-feedstock/pulls/{number}");
        let head = self.get(&pull)["head"]["sha"].as_str().unwrap().to_owned();
        let path = format!("{pull}/merge");
        let (status, body) = self
            .emulator
            .request(MAINT_TOKEN, "PUT", &path, Some(json!({})));
        assert_eq!(status, 200, "PUT {path}: {body}");
        let commit = self.get(&format!(
            "/repos/{BOT}/{feedstock}-feedstock/git/commits/{head}"
        ));
        let tree = commit["tree"]["sha"].as_str().unwrap();
        let entries: Vec<Value> = self
            .tree(BOT, feedstock, tree)
            .into_iter()
            .map(|(path, (mode, sha))| {
                let bytes = self.blob(BOT, feedstock, &sha);
                let content = String::from_utf8(bytes)
                    .unwrap_or_else(|_| panic!("{feedstock}: binary {path} in a PR"));
                json!({"path": path, "mode": mode, "type": "blob", "content": content})
            })
            .collect();
        let trees = format!("/repos/{ORG}/{feedstock}-feedstock/git/trees");
        let (status, created) =
            self.emulator
                .request(OWNER_TOKEN, "POST", &trees, Some(json!({"tree": entries})));
        assert_eq!(status, 201, "POST {trees}: {created}");
        assert_eq!(created["sha"], tree, "{feedstock}: the merged tree");
    }

    /// Path → (mode, blob SHA) of a commit's tree on `owner/<feedstock>-feedstock`.
    fn tree(
        &self,
        owner: &str,
        feedstock: &str,
        commit: &str,
    ) -> BTreeMap<String, (String, String)> {
        let listing = self.get(&format!(
            "/repos/{owner}/{feedstock}-feedstock/git/trees/{commit}?recursive=1"
        ));
        assert_ne!(listing["truncated"], true, "{feedstock}: truncated tree");
        listing["tree"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "blob")
            .map(|e| {
                let field = |k: &str| e[k].as_str().unwrap().to_owned();
                (field("path"), (field("mode"), field("sha")))
            })
            .collect()
    }

    /// A blob's bytes.
    fn blob(&self, owner: &str, feedstock: &str, sha: &str) -> Vec<u8> {
        let blob = self.get(&format!(
            "/repos/{owner}/{feedstock}-feedstock/git/blobs/{sha}"
        ));
        assert_eq!(blob["encoding"], "base64", "{blob}");
        let text: String = blob["content"]
            .as_str()
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap()
    }

    /// Whether the bot's fork still has `branch`.
    fn fork_has_branch(&self, feedstock: &str, branch: &str) -> bool {
        let path = format!("/repos/{BOT}/{feedstock}-feedstock/git/ref/heads/{branch}");
        let (status, body) = self.emulator.request(MAINT_TOKEN, "GET", &path, None);
        assert!(
            status == 200 || status == 404,
            "GET {path}: {status} {body}"
        );
        status == 200
    }

    /// The PRs the store tracks as open: feedstock → number.
    fn tracked(&self) -> BTreeMap<String, u64> {
        let mut tracked = BTreeMap::new();
        for record in self.store().open_work().unwrap() {
            let pr = record
                .pr
                .clone()
                .unwrap_or_else(|| panic!("open work without a PR: {record:?}"));
            let previous = tracked.insert(pr.feedstock.clone(), pr.number);
            assert_eq!(previous, None, "{}: two open PRs tracked", pr.feedstock);
        }
        tracked
    }

    /// The emulator's open PRs are exactly those the store tracks (no orphan, no
    /// duplicate); returns them.
    fn assert_open_prs_tracked(&self) -> BTreeMap<String, Value> {
        let open = self.single_open_prs();
        let numbers: BTreeMap<String, u64> = open
            .iter()
            .map(|(name, pr)| (name.clone(), pr["number"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            numbers,
            self.tracked(),
            "open on the emulator vs tracked in the store"
        );
        open
    }

    /// Checks one python314 PR on the emulator: head on the bot's fork, and a head tree
    /// that differs from the base only in the recipe's build number and `.ci_support/`
    /// (the migration file, which it holds with the pinning's text, and the variant files,
    /// exactly as the native rerender of the PR's own files produces them).
    fn assert_python314_pr(&self, feedstock: &str, pr: &Value, branch: &str) {
        assert_eq!(pr["head"]["ref"], branch, "{feedstock}: {pr:#}");
        assert_eq!(
            pr["head"]["label"],
            format!("{BOT}:{branch}"),
            "{feedstock}"
        );
        assert_eq!(pr["base"]["ref"], "main", "{feedstock}");
        let head_sha = pr["head"]["sha"].as_str().unwrap();
        let base = self.tree(ORG, feedstock, "main");
        let head = self.tree(BOT, feedstock, head_sha);
        let changed: BTreeSet<&String> = base
            .keys()
            .chain(head.keys())
            .filter(|path| base.get(*path) != head.get(*path))
            .collect();
        let recipe = ["recipe/recipe.yaml", "recipe/meta.yaml"]
            .into_iter()
            .find(|p| base.contains_key(*p))
            .unwrap_or_else(|| panic!("{feedstock}: no recipe"));
        for path in &changed {
            assert!(
                path.as_str() == recipe || path.starts_with(".ci_support/"),
                "{feedstock}: {path} changed"
            );
        }
        // Many corpus feedstocks already carry the migration file (then it is unchanged);
        // its content is checked below either way.
        assert!(
            changed.iter().any(|p| *p == recipe),
            "{feedstock}: {changed:?}"
        );

        let text = |owner: &str, tree: &BTreeMap<String, (String, String)>, path: &str| {
            String::from_utf8(self.blob(owner, feedstock, &tree[path].1)).unwrap()
        };
        let pinning_dir = self.options.pinning_dir.as_ref().unwrap();
        let migration = fs_err::read_to_string(pinning_dir.join("migrations/python314.yaml"));
        assert_eq!(
            text(BOT, &head, MIGRATION_FILE),
            migration.unwrap(),
            "{feedstock}"
        );
        assert_build_bumped(
            &text(ORG, &base, recipe),
            &text(BOT, &head, recipe),
            feedstock,
        );

        let files: Vec<(String, Vec<u8>)> = head
            .iter()
            .filter(|(path, _)| {
                *path == "conda-forge.yml"
                    || path.starts_with("recipe/")
                    || path.starts_with(".ci_support/")
            })
            .map(|(path, (_, sha))| (path.clone(), self.blob(BOT, feedstock, sha)))
            .collect();
        let files = Snapshot::from_files(Path::new(feedstock), files);
        let inputs =
            pinning::inputs_from_snapshot(&files, &format!("{feedstock}-feedstock")).unwrap();
        let pinning = pinning::load_pinning(pinning_dir).unwrap();
        let expected = pinning::rerender(&inputs, &pinning, Compat::default()).unwrap();
        let committed: BTreeMap<String, String> = files
            .files_in(".ci_support")
            .filter(|(name, _)| name.ends_with(".yaml"))
            .map(|(name, bytes)| (name.to_owned(), String::from_utf8_lossy(bytes).into_owned()))
            .collect();
        assert_eq!(committed, expected.files, "{feedstock}: .ci_support");
        assert!(
            committed.values().any(|text| text.contains("3.14")),
            "{feedstock}: no python 3.14 variant"
        );
    }
}

/// The same corpus, pinning and clock on a local forge (`tests/run_e2e.rs`'s world).
struct Twin {
    _dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
}

impl Twin {
    fn new() -> Option<Twin> {
        let feedstocks = common::shared_data("feedstocks")?;
        let pinning = common::shared_data("pinning")?;
        let dir = tempfile::tempdir().unwrap();
        let forge =
            LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
        forge.import(&feedstocks).unwrap();
        let options = options(dir.path(), &pinning);
        Some(Twin {
            _dir: dir,
            forge,
            options,
        })
    }

    fn run(&mut self) -> RunSummary {
        let summary =
            run::run_with_versions(&self.options, &no_versions(), &self.forge, &NoReporter)
                .unwrap();
        self.options.now += 3600;
        summary
    }

    /// Merges every open PR.
    fn merge_all(&self) {
        let filter = PrFilter {
            state: Some(PrState::Open),
            ..PrFilter::default()
        };
        for pr in self.forge.list_prs(&filter).unwrap() {
            self.forge.merge(pr.number).unwrap();
        }
    }
}

fn migration(summary: &RunSummary) -> &MigrationRun {
    summary
        .migrations
        .iter()
        .find(|m| m.name == MIGRATION)
        .unwrap_or_else(|| panic!("no {MIGRATION} in {summary:#?}"))
}

/// Feedstock → branch of the PRs a run opened.
fn opened(summary: &RunSummary) -> BTreeMap<String, String> {
    summary
        .migrations
        .iter()
        .flat_map(|m| &m.opened)
        .map(|pr| (pr.feedstock.clone(), pr.branch.clone()))
        .collect()
}

/// A run that did its whole job: not stopped, nothing failed.
fn assert_clean(summary: &RunSummary) {
    assert_eq!(summary.stopped, None, "{summary:#?}");
    assert!(
        summary.sync_failures.is_empty(),
        "{:?}",
        summary.sync_failures
    );
    assert!(
        summary.refresh.errors.is_empty(),
        "{:?}",
        summary.refresh.errors
    );
    for m in &summary.migrations {
        assert!(m.errors.is_empty(), "{}: {:?}", m.name, m.errors);
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

/// The python314 parents (in the migration graph) of `feedstock`, as the run plans them.
fn plan_parents(world: &World, feedstock: &str) -> BTreeSet<String> {
    use cascade::migrators::GraphSnapshot;
    use cascade::migrators::registry::{Registry, Sources};
    let pinning_dir = world.options.pinning_dir.clone().unwrap();
    let pinning = pinning::load_pinning(&pinning_dir).unwrap();
    let sources = Sources {
        pinning_dir,
        migrators_dir: None,
    };
    let registry = Registry::load(&sources, &pinning);
    let graph = GraphSnapshot::load(&world.store()).unwrap();
    let plan = registry.get(MIGRATION).unwrap().plan(&graph);
    let id = graph.id(feedstock).unwrap();
    plan.parents
        .get(&id)
        .into_iter()
        .flatten()
        .map(|parent| graph.node(*parent).name.clone())
        .collect()
}

#[test]
fn python314_waves_open_on_github_exactly_as_on_the_local_forge() {
    let Some(mut world) = World::new() else {
        return;
    };
    let Some(mut twin) = Twin::new() else {
        return;
    };
    let forge = world.forge("forge", open_limits());

    // Round 1: the ramp's first two PRs, as on the local forge, on the same branches.
    let first = world.run(&forge);
    eprintln!(
        "first run (137 checkouts over the API, graph build, 2 PRs): {} ms",
        first.wall_ms
    );
    assert_clean(&first);
    let m = migration(&first);
    assert_eq!(m.limit, 2, "{m:#?}");
    assert_eq!(m.opened.len(), 2, "{m:#?}");
    assert_eq!(first.checkouts, world.corpus.commits.len());
    assert_eq!(
        opened(&first),
        opened(&twin.run()),
        "first wave: GitHub vs local forge"
    );
    let wave = world.assert_open_prs_tracked();
    assert_eq!(
        wave.keys().collect::<Vec<_>>(),
        opened(&first).keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &opened(&first) {
        world.assert_python314_pr(feedstock, &wave[feedstock], branch);
    }

    // Round 2, no maintainer action: no second PR where one is open; anything new is
    // what the local forge opens too.
    let second = world.run(&forge);
    assert_clean(&second);
    assert_eq!(second.refresh.open, wave.len(), "{:?}", second.refresh);
    assert_eq!(
        opened(&second),
        opened(&twin.run()),
        "second run: GitHub vs local forge"
    );
    for feedstock in opened(&second).keys() {
        assert!(!wave.contains_key(feedstock), "{feedstock}: opened twice");
    }
    let open = world.assert_open_prs_tracked();
    assert_eq!(open.len(), wave.len() + opened(&second).len());
    for (feedstock, pr) in &wave {
        assert_eq!(open[feedstock]["number"], pr["number"], "{feedstock}");
    }

    // Maintainers merge everything; the next run records the merges, deletes the
    // branches, and opens the children's wave.
    for (feedstock, pr) in &open {
        world.merge(feedstock, pr["number"].as_u64().unwrap());
    }
    twin.merge_all();
    let third = world.run(&forge);
    assert_clean(&third);
    assert_eq!(third.refresh.merged, open.len(), "{:?}", third.refresh);
    let next = opened(&third);
    assert_eq!(
        next,
        opened(&twin.run()),
        "after the merges: GitHub vs local forge"
    );
    let work = world.store().work_for(MIGRATION).unwrap();
    for (feedstock, pr) in &open {
        let number = pr["number"].as_u64().unwrap();
        let record = work
            .iter()
            .find(|w| {
                w.pr.as_ref()
                    .is_some_and(|p| p.number == number && &p.feedstock == feedstock)
            })
            .unwrap_or_else(|| panic!("{feedstock}#{number} not recorded"));
        assert_eq!(record.outcome, WorkOutcome::Merged, "{record:?}");
        let branch = pr["head"]["ref"].as_str().unwrap();
        assert!(
            !world.fork_has_branch(feedstock, branch),
            "{feedstock}: {branch} kept"
        );
    }
    assert!(!next.is_empty(), "no next wave: {:#?}", migration(&third));
    let merged: BTreeSet<&String> = open.keys().collect();
    let children = next
        .keys()
        .filter(|f| plan_parents(&world, f).iter().any(|p| merged.contains(p)))
        .count();
    assert!(children > 0, "none of {next:?} waits on {merged:?}");
    let now_open = world.assert_open_prs_tracked();
    assert_eq!(
        now_open.keys().collect::<Vec<_>>(),
        next.keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &next {
        world.assert_python314_pr(feedstock, &now_open[feedstock], branch);
    }

    // Runs with no maintainer action until one opens nothing (the ramp's later steps
    // open what else is ready, as on the local forge); that run changed nothing: a
    // refresh and a sync, no content-creating request.
    for _ in 0..5 {
        let reference = opened(&twin.run());
        let before = forge.stats();
        let summary = world.run(&forge);
        let after = forge.stats();
        assert_clean(&summary);
        assert_eq!(opened(&summary), reference, "GitHub vs local forge");
        let open = world.assert_open_prs_tracked();
        if reference.is_empty() {
            assert_eq!(
                after.creates, before.creates,
                "an unchanged run creates nothing"
            );
            eprintln!(
                "unchanged run with {} open PRs and {} feedstocks: {} requests ({} GraphQL, \
                 {} not modified)",
                open.len(),
                world.corpus.commits.len(),
                after.requests - before.requests,
                after.graphql - before.graphql,
                after.not_modified - before.not_modified,
            );
            return;
        }
    }
    panic!("every run opened more PRs");
}

#[test]
fn a_bot_rerun_label_closes_the_pr_through_the_run_loop_and_a_fresh_one_follows() {
    let Some(mut world) = World::new() else {
        return;
    };
    let forge = world.forge("forge", open_limits());
    let first = world.run(&forge);
    assert_clean(&first);
    let (feedstock, branch) = opened(&first).into_iter().next().unwrap();
    let open = world.assert_open_prs_tracked();
    let number = open[&feedstock]["number"].as_u64().unwrap();

    let labels = format!("/repos/{ORG}/{feedstock}-feedstock/issues/{number}/labels");
    let body = json!({"labels": [run::BOT_RERUN_LABEL]});
    let (status, answer) = world
        .emulator
        .request(MAINT_TOKEN, "POST", &labels, Some(body));
    assert_eq!(status, 200, "POST {labels}: {answer}");

    let second = world.run(&forge);
    assert_clean(&second);
    assert_eq!(second.refresh.reruns, 1, "{:?}", second.refresh);
    let comments = world.get(&format!(
        "/repos/{ORG}/{feedstock}-feedstock/issues/{number}/comments"
    ));
    let said: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["body"].as_str())
        .collect();
    assert!(
        said.iter()
            .any(|c| c.starts_with("Due to the `bot-rerun` label")),
        "{said:?}"
    );
    let old = world.get(&format!(
        "/repos/{ORG}/{feedstock}-feedstock/pulls/{number}"
    ));
    assert_eq!(old["state"], "closed", "{old:#}");
    assert!(old["merged_at"].is_null(), "{old:#}");
    assert!(!world.fork_has_branch(&feedstock, &branch), "{branch} kept");

    let mut summary = second;
    if !opened(&summary).contains_key(&feedstock) {
        summary = world.run(&forge);
        assert_clean(&summary);
    }
    let fresh_branch = opened(&summary)
        .remove(&feedstock)
        .unwrap_or_else(|| panic!("{feedstock}: no fresh PR in {:#?}", migration(&summary)));
    assert_ne!(fresh_branch, branch, "the rerun's uid names a new branch");
    let open = world.assert_open_prs_tracked();
    let fresh = &open[&feedstock];
    assert_ne!(fresh["number"].as_u64(), Some(number));
    world.assert_python314_pr(&feedstock, fresh, &fresh_branch);
    let work = world.store().work_on(&feedstock).unwrap();
    let closed = work
        .iter()
        .find(|w| w.pr.as_ref().is_some_and(|p| p.number == number));
    assert_eq!(
        closed.map(|w| w.outcome),
        Some(WorkOutcome::Closed),
        "{work:#?}"
    );
    let uids: BTreeSet<&str> = work.iter().map(|w| w.uid_key.as_str()).collect();
    assert_eq!(uids.len(), 2, "{work:#?}");
}

/// A run whose hourly budget of content-creating requests runs out after `creates` of
/// them, part-way through the first wave, stops cleanly: nothing recorded as failed, no
/// PR opened that is not tracked. A forge with a fresh budget (a new state directory: the
/// hourly ledger lives in its `github.sqlite`) resumes, and the PRs then open are the
/// uninterrupted local-forge sequence cut at some point past the first wave — none
/// skipped, none twice, no orphan.
///
/// A first-wave PR currently costs 7 creating requests (fork, the base commit's tree and
/// commit replayed into the fork, tree, commit, ref, pull): 2 cuts inside the first PR's
/// fork set-up, 10 inside the second PR's push, 13 between the second PR's push and its
/// opening. Whatever the costs become, each is a cut before the wave's 2nd PR opens.
fn rate_limit_cuts_the_first_wave_after(creates: u32) {
    let Some(mut world) = World::new() else {
        return;
    };
    let Some(mut twin) = Twin::new() else {
        return;
    };
    let limited = world.forge(
        "forge-limited",
        Limits {
            creates_per_hour: creates,
            ..open_limits()
        },
    );
    let cut = world.run(&limited);
    let stopped = cut
        .stopped
        .as_ref()
        .unwrap_or_else(|| panic!("not stopped: {cut:#?}"));
    assert!(stopped.reason.contains("per hour"), "{stopped:?}");
    assert!(stopped.resets_at.is_some(), "{stopped:?}");
    assert_eq!(limited.stats().creates, u64::from(creates));
    let m = migration(&cut);
    assert!(m.errors.is_empty(), "{:?}", m.errors);
    assert!(m.opened.len() < 2, "{m:#?}");
    for attempt in world.store().attempts_for(MIGRATION).unwrap() {
        assert_eq!(attempt.last_error, None, "{attempt:?}");
    }
    let partial = world.assert_open_prs_tracked();
    assert_eq!(partial.len(), m.opened.len());

    let forge = world.forge("forge", open_limits());
    let resumed = world.run(&forge);
    assert_clean(&resumed);
    let mut all = opened(&cut);
    all.extend(opened(&resumed));
    assert_eq!(
        all.len(),
        m.opened.len() + opened(&resumed).len(),
        "opened twice"
    );

    // The uninterrupted sequence: the local forge's first two runs, in opening order.
    let sequence: Vec<(String, String)> = [twin.run(), twin.run()]
        .iter()
        .flat_map(|summary| migration(summary).opened.clone())
        .map(|pr| (pr.feedstock, pr.branch))
        .collect();
    let prefix: BTreeMap<String, String> = sequence.iter().take(all.len()).cloned().collect();
    assert_eq!(
        all, prefix,
        "cut and resumed vs the uninterrupted {sequence:?}"
    );
    assert!(all.len() >= 2, "the first wave is complete: {all:?}");
    let open = world.assert_open_prs_tracked();
    assert_eq!(
        open.keys().collect::<Vec<_>>(),
        all.keys().collect::<Vec<_>>()
    );
    for (feedstock, branch) in &all {
        world.assert_python314_pr(feedstock, &open[feedstock], branch);
    }
    for attempt in world.store().attempts_for(MIGRATION).unwrap() {
        assert_eq!(attempt.last_error, None, "{attempt:?}");
    }
}

#[test]
fn a_budget_spent_in_the_first_prs_fork_stops_the_run_and_a_fresh_forge_finishes_the_wave() {
    rate_limit_cuts_the_first_wave_after(2);
}

#[test]
fn a_budget_spent_in_the_second_prs_push_stops_the_run_and_a_fresh_forge_finishes_the_wave() {
    rate_limit_cuts_the_first_wave_after(10);
}

#[test]
fn a_budget_spent_between_push_and_pr_stops_the_run_and_a_fresh_forge_opens_no_duplicate() {
    rate_limit_cuts_the_first_wave_after(13);
}
