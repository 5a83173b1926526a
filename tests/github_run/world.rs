//! The world of `tests/github_run.rs`: the corpus replayed into the emulator, the
//! GitHub forge over it, the run's options, the maintainers' actions over the API, and
//! the local-forge twin every GitHub run is compared with.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use base64::Engine;
use cascade::forge::PrState;
use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::graph::{NoReporter, Store};
use cascade::migrators::Identity;
use cascade::run::{self, MigrationRun, RunOptions, RunSummary, VersionNetwork, VersionOptions};
use serde_json::{Value, json};

use crate::common;
use crate::common::emulator::{Emulator, MAINT_TOKEN, OWNER_TOKEN, seed};

pub(crate) const ORG: &str = "conda-forge";
pub(crate) const BOT: &str = "regro-cf-autotick-bot";
pub(crate) const MIGRATION: &str = "python314";

/// The corpus as one bare git repository: one root commit per feedstock (fixed author
/// and date, so its SHA is the same in every test), built once per test binary.
pub(crate) struct Corpus {
    pub(crate) repo: tempfile::TempDir,
    /// Feedstock name (without `-feedstock`) → its commit.
    pub(crate) commits: BTreeMap<String, String>,
}

pub(crate) fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS.get_or_init(build_corpus).as_ref()
}

pub(crate) fn build_corpus() -> Option<Corpus> {
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
pub(crate) fn write_tree(repo: &git2::Repository, dir: &Path) -> git2::Oid {
    use std::os::unix::fs::PermissionsExt;
    let mut builder = repo.treebuilder(None).unwrap();
    for entry in fs_err::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let (path, name) = (entry.path(), entry.file_name());
        let meta = fs_err::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            let subtree = write_tree(repo, &path);
            if !repo.find_tree(subtree).unwrap().is_empty() {
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
pub(crate) fn open_limits() -> Limits {
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

pub(crate) fn identity() -> Identity {
    Identity {
        bot_user: BOT.to_owned(),
        author_name: BOT.to_owned(),
        author_email: format!("{BOT}@users.noreply.github.com"),
        ..Identity::default()
    }
}

pub(crate) fn options(dir: &Path, pinning: &Path) -> RunOptions {
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
pub(crate) fn no_versions() -> VersionOptions {
    VersionOptions {
        enabled: false,
        hash_cache: None,
        network: VersionNetwork::Offline,
    }
}

/// The emulator holding the corpus, a state directory, and the run's options.
pub(crate) struct World {
    pub(crate) emulator: Emulator,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) options: RunOptions,
    pub(crate) corpus: &'static Corpus,
}

impl World {
    /// Starts an emulator and replays every corpus feedstock into it.
    pub(crate) fn new() -> Option<World> {
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
    pub(crate) fn forge(&self, state: &str, limits: Limits) -> GitHubForge {
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
    pub(crate) fn run(&mut self, forge: &GitHubForge) -> RunSummary {
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

    pub(crate) fn store(&self) -> Store {
        Store::open(&self.options.db_path).unwrap()
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        let (status, body) = self.emulator.request(MAINT_TOKEN, "GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Open PRs on the emulator, per feedstock (every corpus repository is asked).
    pub(crate) fn open_prs(&self) -> BTreeMap<String, Vec<Value>> {
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
    pub(crate) fn single_open_prs(&self) -> BTreeMap<String, Value> {
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
    pub(crate) fn merge(&self, feedstock: &str, number: u64) {
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
    pub(crate) fn tree(
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
    pub(crate) fn blob(&self, owner: &str, feedstock: &str, sha: &str) -> Vec<u8> {
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
    pub(crate) fn fork_has_branch(&self, feedstock: &str, branch: &str) -> bool {
        let path = format!("/repos/{BOT}/{feedstock}-feedstock/git/ref/heads/{branch}");
        let (status, body) = self.emulator.request(MAINT_TOKEN, "GET", &path, None);
        assert!(
            status == 200 || status == 404,
            "GET {path}: {status} {body}"
        );
        status == 200
    }

    /// The PRs the store tracks as open: feedstock → number.
    pub(crate) fn tracked(&self) -> BTreeMap<String, u64> {
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
    pub(crate) fn assert_open_prs_tracked(&self) -> BTreeMap<String, Value> {
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
}

/// The same corpus, pinning and clock on a local forge (`tests/run_e2e.rs`'s world).
pub(crate) struct Twin {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) forge: LocalForge,
    pub(crate) options: RunOptions,
}

impl Twin {
    pub(crate) fn new() -> Option<Twin> {
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

    pub(crate) fn run(&mut self) -> RunSummary {
        let summary =
            run::run_with_versions(&self.options, &no_versions(), &self.forge, &NoReporter)
                .unwrap();
        self.options.now += 3600;
        summary
    }

    /// Merges every open PR.
    pub(crate) fn merge_all(&self) {
        let filter = PrFilter {
            state: Some(PrState::Open),
            ..PrFilter::default()
        };
        for pr in self.forge.list_prs(&filter).unwrap() {
            self.forge.merge(pr.number).unwrap();
        }
    }
}

pub(crate) fn migration(summary: &RunSummary) -> &MigrationRun {
    summary
        .migrations
        .iter()
        .find(|m| m.name == MIGRATION)
        .unwrap_or_else(|| panic!("no {MIGRATION} in {summary:#?}"))
}

/// Feedstock → branch of the PRs a run opened.
pub(crate) fn opened(summary: &RunSummary) -> BTreeMap<String, String> {
    summary
        .migrations
        .iter()
        .flat_map(|m| &m.opened)
        .map(|pr| (pr.feedstock.clone(), pr.branch.clone()))
        .collect()
}

/// A run that did its whole job: not stopped, nothing failed.
pub(crate) fn assert_clean(summary: &RunSummary) {
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
