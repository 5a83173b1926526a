//! The GitHub forge's two transports on real repositories: the git CLI against bare
//! repositories reached through `file://` URLs (upstream and the bot's fork), the Git
//! Data API against the `emulate` GitHub API server, and both together
//! (`Transport::GitMirroredToApi`). Upstream is the real zlib feedstock of the corpus.
//!
//! Each test skips (with a message) when `../shared/data` is absent; the emulator tests
//! also skip when the emulator is not installed. The git-only test answers the one API
//! request it makes (does the bot's fork exist?) with wiremock.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::{CommitSpec, Forge, NewPullRequest};
use common::emulator::{BOT_TOKEN, Emulator, OWNER_TOKEN, seed};
use common::worktree::{commit_all, write_file};
use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Time};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BOT: &str = "regro-cf-autotick-bot";
/// The REST transport's checkout marker (`src/forge/github/download.rs`).
const MARKER: &str = ".cascade-tree.json";

/// Upstream zlib as a local repository with one commit, a bare copy of it standing in
/// for `conda-forge/zlib-feedstock`, and the bot's fork as a bare copy of that.
struct World {
    dir: tempfile::TempDir,
    corpus: PathBuf,
    src: Repository,
    base: Oid,
}

fn world() -> Option<World> {
    let corpus = common::shared_data("feedstocks/zlib-feedstock")?;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("src");
    common::copy_dir(&corpus, &work);
    let src = Repository::init_opts(
        &work,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    let base = commit_all(&src, "Initial feedstock\n", Time::new(1_700_000_000, 60));
    let upstream = dir.path().join("git/conda-forge/zlib-feedstock.git");
    let fork = dir.path().join(format!("git/{BOT}/zlib-feedstock.git"));
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            path_str(&work),
            path_str(&upstream),
        ],
    );
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            path_str(&upstream),
            path_str(&fork),
        ],
    );
    Some(World {
        dir,
        corpus,
        src,
        base,
    })
}

impl World {
    fn config(&self, transport: Transport, api_url: &str) -> GitHubConfig {
        let template = format!(
            "file://{}/git/{{owner}}/{{repo}}.git",
            self.dir.path().display()
        );
        GitHubConfig {
            api_url: api_url.to_owned(),
            transport,
            upstream_git_url: template.clone(),
            fork_git_url: template,
            limits: Limits {
                create_spacing_ms: 0,
                secondary_backoff_secs: 0,
                max_wait_secs: 2,
                ..Limits::default()
            },
            ..GitHubConfig::default()
        }
    }

    fn forge(&self, transport: Transport, api_url: &str) -> GitHubForge {
        GitHubForge::open(
            self.config(transport, api_url),
            &self.dir.path().join("forge"),
            &|name| (name == "CASCADE_GITHUB_TOKEN").then(|| BOT_TOKEN.to_owned()),
        )
        .unwrap()
    }

    fn workdir(&self) -> &Path {
        self.src.workdir().unwrap()
    }

    /// Commits a new build number upstream (the source repository and the bare copy).
    fn upstream_commit(&self, build: u32) -> Oid {
        let meta = self.workdir().join("recipe/meta.yaml");
        let text = fs_err::read_to_string(&meta).unwrap();
        let start = text.find("{% set build_num = ").unwrap();
        let end = start + text[start..].find("%}").unwrap() + 2;
        let edited = format!(
            "{}{{% set build_num = {build} %}}{}",
            &text[..start],
            &text[end..]
        );
        write_file(&meta, edited.as_bytes());
        let oid = commit_all(
            &self.src,
            &format!("Build number {build}\n"),
            Time::new(1_700_100_000, 60),
        );
        let upstream = self.dir.path().join("git/conda-forge/zlib-feedstock.git");
        git(self.workdir(), &["push", "-q", path_str(&upstream), "main"]);
        oid
    }

    fn fork(&self) -> Repository {
        Repository::open_bare(
            self.dir
                .path()
                .join(format!("git/{BOT}/zlib-feedstock.git")),
        )
        .unwrap()
    }
}

/// A bump of zlib's recipe: a rewritten `meta.yaml`, a new file, a deleted license.
fn bump(version: &str) -> CommitSpec {
    CommitSpec {
        writes: BTreeMap::from([
            (
                "recipe/meta.yaml".to_owned(),
                format!("# bumped\n{{% set version = \"{version}\" %}}\n"),
            ),
            (
                "recipe/migrations/zlib.yaml".to_owned(),
                format!("zlib:\n- '{version}'\n"),
            ),
        ]),
        deletes: BTreeSet::from(["LICENSE.txt".to_owned(), "no/such/file".to_owned()]),
        message: format!("MNT: zlib {version}"),
        author_name: BOT.to_owned(),
        author_email: "bot@example.org".to_owned(),
    }
}

/// The tree `spec` makes of `base`, computed here independently of the forge.
fn expected_tree(repo: &Repository, base: Oid, spec: &CommitSpec) -> Oid {
    let tree = repo.find_commit(base).unwrap().tree().unwrap();
    let mut update = TreeUpdateBuilder::new();
    for path in &spec.deletes {
        if tree.get_path(Path::new(path)).is_ok() {
            update.remove(path);
        }
    }
    for (path, text) in &spec.writes {
        update.upsert(path, repo.blob(text.as_bytes()).unwrap(), FileMode::Blob);
    }
    update.create_updated(repo, &tree).unwrap()
}

#[test]
fn the_git_transport_syncs_checkouts_and_pushes_exactly_the_commit_asked_for() {
    let Some(world) = world() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path(format!("/repos/{BOT}/zlib-feedstock")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"fork": true})),
            )
            .mount(&server),
    );
    let forge = world.forge(Transport::Git, &server.uri());
    let dest = world.dir.path().join("checkouts/zlib-feedstock");

    let first = forge.sync_checkout("zlib", &dest).unwrap();
    assert_eq!(first, world.base.to_string());
    assert_eq!(files(&dest), files(&world.corpus));

    let newer = world.upstream_commit(7);
    write_file(&dest.join("recipe/meta.yaml"), b"edited in the checkout\n");
    write_file(&dest.join("stray/notes.txt"), b"untracked\n");
    let second = forge.sync_checkout("zlib", &dest).unwrap();
    assert_eq!(second, newer.to_string());
    assert_eq!(files(&dest), files(world.workdir()));
    assert!(!dest.join("stray").exists());

    let spec = bump("1.3.2");
    let sha = forge
        .push_branch("zlib", &second, "zlib_v1.3.2_h1", &spec)
        .unwrap();
    let fork = world.fork();
    assert_eq!(
        fork.refname_to_id("refs/heads/zlib_v1.3.2_h1")
            .unwrap()
            .to_string(),
        sha
    );
    let commit = fork.find_commit(Oid::from_str(&sha).unwrap()).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [newer]);
    assert_eq!(commit.tree_id(), expected_tree(&world.src, newer, &spec));
    assert_eq!(commit.message().unwrap(), "MNT: zlib 1.3.2\n");
    assert_eq!(commit.author().name().unwrap(), BOT);

    let again = bump("1.3.3");
    let replaced = forge
        .push_branch("zlib", &second, "zlib_v1.3.2_h1", &again)
        .unwrap();
    assert_ne!(replaced, sha);
    let fork = world.fork();
    assert_eq!(
        fork.refname_to_id("refs/heads/zlib_v1.3.2_h1")
            .unwrap()
            .to_string(),
        replaced
    );
    let commit = fork.find_commit(Oid::from_str(&replaced).unwrap()).unwrap();
    assert_eq!(commit.parent_ids().collect::<Vec<_>>(), [newer]);
    assert_eq!(commit.tree_id(), expected_tree(&world.src, newer, &again));
}

/// An emulator whose `conda-forge/zlib-feedstock` holds the world's upstream history.
fn emulator_for(world: &World) -> Option<Emulator> {
    let emulator = Emulator::start(&seed(&["zlib-feedstock"]))?;
    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        world.workdir(),
        "main",
        "main",
    );
    assert_eq!(replayed, world.base.to_string());
    Some(emulator)
}

fn get(emulator: &Emulator, path: &str) -> Value {
    let (status, body) = emulator.request(BOT_TOKEN, "GET", path, None);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

#[test]
fn the_mirrored_transport_gives_the_api_fork_the_identical_commit() {
    let Some(world) = world() else { return };
    let Some(emulator) = emulator_for(&world) else {
        return;
    };
    let forge = world.forge(Transport::GitMirroredToApi, emulator.url());
    let dest = world.dir.path().join("checkouts/zlib-feedstock");
    let base = forge.sync_checkout("zlib", &dest).unwrap();
    assert_eq!(base, world.base.to_string());

    let spec = bump("1.3.2");
    let sha = forge
        .push_branch("zlib", &base, "zlib_v1.3.2_h1", &spec)
        .unwrap();
    assert_eq!(
        world
            .fork()
            .refname_to_id("refs/heads/zlib_v1.3.2_h1")
            .unwrap()
            .to_string(),
        sha
    );
    let fork_api = format!("/repos/{BOT}/zlib-feedstock/git");
    let reference = get(&emulator, &format!("{fork_api}/ref/heads/zlib_v1.3.2_h1"));
    assert_eq!(reference["object"]["sha"], sha.as_str());
    let commit = get(&emulator, &format!("{fork_api}/commits/{sha}"));
    assert_eq!(commit["parents"][0]["sha"], base.as_str());
    let tree = expected_tree(&world.src, world.base, &spec).to_string();
    assert_eq!(commit["tree"]["sha"], tree.as_str());

    let pr = forge
        .open_pr(&NewPullRequest {
            feedstock: "zlib".to_owned(),
            head: "zlib_v1.3.2_h1".to_owned(),
            base: "main".to_owned(),
            title: "zlib 1.3.2".to_owned(),
            body: "A version bump.".to_owned(),
        })
        .unwrap();
    assert_eq!(pr.head_sha, sha);

    // A second push replaces the branch on both sides.
    let replaced = forge
        .push_branch("zlib", &base, "zlib_v1.3.2_h1", &bump("1.3.3"))
        .unwrap();
    assert_ne!(replaced, sha);
    let reference = get(&emulator, &format!("{fork_api}/ref/heads/zlib_v1.3.2_h1"));
    assert_eq!(reference["object"]["sha"], replaced.as_str());
    // (emulate 0.12.2 keeps a PR's `head.sha` from its creation, so the PR is not asked.)
    let commit = get(&emulator, &format!("{fork_api}/commits/{replaced}"));
    assert_eq!(commit["parents"][0]["sha"], base.as_str());
}

#[test]
fn the_api_transport_downloads_checkouts_and_commits_through_the_git_data_api() {
    let Some(world) = world() else { return };
    let Some(emulator) = emulator_for(&world) else {
        return;
    };
    let forge = world.forge(Transport::Api, emulator.url());
    let dest = world.dir.path().join("checkouts/zlib-feedstock");

    let first = forge.sync_checkout("zlib", &dest).unwrap();
    assert_eq!(first, world.base.to_string());
    assert_eq!(files(&dest), files(&world.corpus));
    assert!(dest.join(MARKER).is_file());

    let requests = |forge: &GitHubForge| forge.stats().requests;
    let before = requests(&forge);
    assert_eq!(forge.sync_checkout("zlib", &dest).unwrap(), first);
    assert_eq!(
        requests(&forge) - before,
        1,
        "an unchanged feedstock costs one request"
    );

    let corpus_meta = fs_err::read(world.corpus.join("recipe/meta.yaml")).unwrap();
    write_file(&dest.join("recipe/meta.yaml"), b"edited in the checkout\n");
    write_file(&dest.join("stray/notes.txt"), b"untracked\n");
    let before = requests(&forge);
    assert_eq!(forge.sync_checkout("zlib", &dest).unwrap(), first);
    assert_eq!(
        fs_err::read(dest.join("recipe/meta.yaml")).unwrap(),
        corpus_meta
    );
    assert!(!dest.join("stray").exists());
    assert_eq!(
        requests(&forge) - before,
        2,
        "the head, then the one edited file's blob"
    );

    let newer = world.upstream_commit(9);
    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        world.workdir(),
        "main",
        "main",
    );
    assert_eq!(replayed, newer.to_string());
    let before = requests(&forge);
    assert_eq!(
        forge.sync_checkout("zlib", &dest).unwrap(),
        newer.to_string()
    );
    assert_eq!(files(&dest), files(world.workdir()));
    assert_eq!(
        requests(&forge) - before,
        3,
        "the head, the tree, and the one changed blob"
    );

    let newer = newer.to_string();
    let spec = bump("1.3.2");
    let sha = forge
        .push_branch("zlib", &newer, "zlib_v1.3.2_h1", &spec)
        .unwrap();
    let fork_api = format!("/repos/{BOT}/zlib-feedstock/git");
    let commit = get(&emulator, &format!("{fork_api}/commits/{sha}"));
    assert_eq!(commit["parents"][0]["sha"], newer.as_str());
    assert_eq!(commit["parents"].as_array().unwrap().len(), 1);
    let tree = expected_tree(&world.src, Oid::from_str(&newer).unwrap(), &spec).to_string();
    assert_eq!(commit["tree"]["sha"], tree.as_str());
    assert_eq!(commit["author"]["name"], BOT);
    assert_eq!(commit["message"], "MNT: zlib 1.3.2\n");
    let reference = get(&emulator, &format!("{fork_api}/ref/heads/zlib_v1.3.2_h1"));
    assert_eq!(reference["object"]["sha"], sha.as_str());

    let again = bump("1.3.3");
    let replaced = forge
        .push_branch("zlib", &newer, "zlib_v1.3.2_h1", &again)
        .unwrap();
    assert_ne!(replaced, sha);
    let reference = get(&emulator, &format!("{fork_api}/ref/heads/zlib_v1.3.2_h1"));
    assert_eq!(reference["object"]["sha"], replaced.as_str());
    let commit = get(&emulator, &format!("{fork_api}/commits/{replaced}"));
    let tree = expected_tree(&world.src, Oid::from_str(&newer).unwrap(), &again).to_string();
    assert_eq!(commit["tree"]["sha"], tree.as_str());
}

/// Relative path → bytes of every file under `dir`, `.git` and the REST marker aside.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if dir == root && (name == ".git" || name == MARKER) {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                let relative = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, fs_err::read(entry.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every corpus feedstock as a local repository with one commit (`<dir>/src/<name>`) and
/// a bare copy standing in for upstream (`<dir>/git/conda-forge/<name>.git`); the
/// feedstock directory names, sorted.
fn corpus_upstreams(dir: &Path) -> Option<Vec<String>> {
    let corpus = common::shared_data("feedstocks")?;
    let mut names: Vec<String> = fs_err::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with("-feedstock"))
        .collect();
    names.sort();
    for name in &names {
        let work = dir.join("src").join(name);
        common::copy_dir(&corpus.join(name), &work);
        let repo = Repository::init_opts(
            &work,
            git2::RepositoryInitOptions::new().initial_head("main"),
        )
        .unwrap();
        commit_all(&repo, "Initial feedstock\n", Time::new(1_700_000_000, 60));
        let bare = dir.join(format!("git/conda-forge/{name}.git"));
        git(
            dir,
            &["clone", "-q", "--bare", path_str(&work), path_str(&bare)],
        );
    }
    Some(names)
}

/// Syncs every feedstock into `checkouts`, checks each against the corpus byte for byte,
/// and returns how long it took.
fn sync_all(forge: &GitHubForge, names: &[String], checkouts: &Path) -> std::time::Duration {
    let corpus = common::shared_data("feedstocks").unwrap();
    let started = std::time::Instant::now();
    for name in names {
        let feedstock = name.trim_end_matches("-feedstock");
        forge
            .sync_checkout(feedstock, &checkouts.join(name))
            .unwrap();
    }
    let took = started.elapsed();
    let mismatched: Vec<_> = names
        .iter()
        .filter(|name| files(&checkouts.join(name)) != files(&corpus.join(name)))
        .collect();
    assert!(
        mismatched.is_empty(),
        "checkouts differing from the corpus: {mismatched:?}"
    );
    took
}

#[test]
fn every_corpus_feedstock_checks_out_byte_for_byte_over_git() {
    let dir = tempfile::tempdir().unwrap();
    let Some(names) = corpus_upstreams(dir.path()) else {
        return;
    };
    let template = format!("file://{}/git/{{owner}}/{{repo}}.git", dir.path().display());
    let config = GitHubConfig {
        api_url: "http://127.0.0.1:1".to_owned(),
        upstream_git_url: template.clone(),
        fork_git_url: template,
        ..GitHubConfig::default()
    };
    let forge = GitHubForge::open(config, &dir.path().join("forge"), &|_| {
        Some("unused".into())
    })
    .unwrap();
    let checkouts = dir.path().join("checkouts");
    let first = sync_all(&forge, &names, &checkouts);
    let again = sync_all(&forge, &names, &checkouts);
    eprintln!(
        "git transport: {} feedstocks identical to the corpus; first sync {first:.2?}, unchanged resync {again:.2?}",
        names.len()
    );
    assert_eq!(
        forge.stats().requests,
        0,
        "the git transport asks the API nothing"
    );
}

#[test]
fn every_corpus_feedstock_downloads_byte_for_byte_and_an_unchanged_one_costs_one_request() {
    let dir = tempfile::tempdir().unwrap();
    let Some(names) = corpus_upstreams(dir.path()) else {
        return;
    };
    let repos: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some(emulator) = Emulator::start(&seed(&repos)) else {
        return;
    };
    for name in &names {
        let work = dir.path().join("src").join(name);
        emulator.replay(OWNER_TOKEN, "conda-forge", name, &work, "main", "main");
    }
    let config = GitHubConfig {
        api_url: emulator.url().to_owned(),
        transport: Transport::Api,
        ..GitHubConfig::default()
    };
    let forge = GitHubForge::open(config, &dir.path().join("forge"), &|name| {
        (name == "CASCADE_GITHUB_TOKEN").then(|| BOT_TOKEN.to_owned())
    })
    .unwrap();
    let checkouts = dir.path().join("checkouts");
    let first = sync_all(&forge, &names, &checkouts);
    let downloaded = forge.stats().requests;
    let again = sync_all(&forge, &names, &checkouts);
    let resync = forge.stats().requests - downloaded;
    eprintln!(
        "API transport: {} feedstocks identical to the corpus; first sync {first:.2?} ({downloaded} requests), unchanged resync {again:.2?} ({resync} requests)",
        names.len()
    );
    assert_eq!(resync, names.len() as u64);
}
