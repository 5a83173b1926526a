//! Crawling a GitHub organisation into feedstock checkouts (`GitHubForge::crawl`, `cascade
//! graph build --github`), against a real local GitHub API server (the `emulate` emulator,
//! `tests/common/emulator.rs`) holding real corpus feedstocks as git history. What the
//! emulator lacks (ETags and 304s, rate limits, refused credentials) is served by wiremock
//! from GitHub's documented bodies (`tests/fixtures/github-crawl/`).
//!
//! Emulator tests skip (with a message) when the emulator is not installed or
//! `../shared/data` is absent.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use cascade::forge::github::{CrawlSummary, GitHubConfig, GitHubForge, Limits};
use cascade::forge::{Forge, ForgeError};
use common::emulator::{BOT_TOKEN, Emulator, OWNER_TOKEN, seed};
use common::worktree::commit_all;
use git2::{Repository, Signature, Time};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The corpus feedstocks pushed upstream (v0 and v1 recipes); `libffi` gets archived.
const FEEDSTOCKS: &[&str] = &["bzip2", "libffi", "zlib", "zstd"];
const ARCHIVED: &str = "libffi";

/// What the crawl keeps of a repository, and what it must not fetch.
fn is_crawled(path: &str) -> bool {
    path == "conda-forge.yml" || path.starts_with("recipe/") || path.starts_with(".ci_support/")
}

/// An emulator whose `conda-forge` owns the corpus feedstocks (one commit each), an empty
/// `broken-feedstock` (no branch at all), an unrelated repository, with `libffi` archived;
/// plus the local repositories the history came from.
struct Org {
    emulator: Emulator,
    repos: BTreeMap<String, Repository>,
    dir: tempfile::TempDir,
}

fn org() -> Option<Org> {
    let corpus = common::shared_data("feedstocks")?;
    let mut names: Vec<String> = FEEDSTOCKS
        .iter()
        .map(|f| format!("{f}-feedstock"))
        .collect();
    names.push("broken-feedstock".to_owned());
    names.push("conda-forge.github.io".to_owned());
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let emulator = Emulator::start(&seed(&name_refs))?;
    let dir = tempfile::tempdir().unwrap();
    let mut repos = BTreeMap::new();
    for feedstock in FEEDSTOCKS {
        let work = dir.path().join("upstream").join(feedstock);
        common::copy_dir(&corpus.join(format!("{feedstock}-feedstock")), &work);
        let repo = Repository::init_opts(
            &work,
            git2::RepositoryInitOptions::new().initial_head("main"),
        )
        .unwrap();
        let head = commit_all(&repo, "Initial feedstock\n", Time::new(1_700_000_000, 0));
        let replayed = emulator.replay(
            OWNER_TOKEN,
            "conda-forge",
            &format!("{feedstock}-feedstock"),
            &work,
            "main",
            "main",
        );
        assert_eq!(replayed, head.to_string());
        repos.insert((*feedstock).to_owned(), repo);
    }
    let (status, body) = emulator.request(
        OWNER_TOKEN,
        "PATCH",
        &format!("/repos/conda-forge/{ARCHIVED}-feedstock"),
        Some(json!({"archived": true})),
    );
    assert_eq!(status, 200, "{body}");
    Some(Org {
        emulator,
        repos,
        dir,
    })
}

/// Writes a file of a work tree (the copied corpus files are read-only).
fn write(path: &Path, content: &str) {
    if path.exists() {
        fs_err::remove_file(path).unwrap();
    }
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, content).unwrap();
}

/// Path → bytes of every crawled file in a commit of a local repository.
fn committed_files(repo: &Repository) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        let path = format!("{root}{}", entry.name().unwrap());
        if entry.kind() == Some(git2::ObjectType::Blob) && is_crawled(&path) {
            let blob = repo.find_blob(entry.id()).unwrap();
            files.insert(path, blob.content().to_vec());
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    files
}

/// How many distinct contents the crawled files of a repository's head have.
fn distinct_blobs(repo: &Repository) -> usize {
    let files = committed_files(repo);
    let contents: std::collections::BTreeSet<&Vec<u8>> = files.values().collect();
    contents.len()
}

/// Path → bytes of every file under a checkout directory.
fn files_on_disk(checkout: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_str().unwrap();
                files.insert(relative.to_owned(), fs_err::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(checkout, checkout, &mut files);
    files
}

/// Limits for tests: no spacing, short waits.
fn test_limits() -> Limits {
    Limits {
        create_spacing_ms: 0,
        secondary_backoff_secs: 0,
        max_wait_secs: 2,
        retries: 1,
        ..Limits::default()
    }
}

/// The bot's forge against `api_url`, state in `state_dir`.
fn forge(api_url: &str, state_dir: &Path) -> GitHubForge {
    let config = GitHubConfig {
        api_url: api_url.to_owned(),
        limits: test_limits(),
        ..GitHubConfig::default()
    };
    GitHubForge::open(config, state_dir, &|name| {
        (name == "CASCADE_GITHUB_TOKEN").then(|| BOT_TOKEN.to_owned())
    })
    .unwrap()
}

impl Org {
    fn forge(&self) -> GitHubForge {
        forge(self.emulator.url(), &self.dir.path().join("state"))
    }

    fn crawl_dir(&self) -> PathBuf {
        self.dir.path().join("crawl")
    }

    /// Asserts that every feedstock's checkout holds exactly the crawled files of its
    /// upstream head.
    fn assert_checkouts_match_upstream(&self) {
        for (feedstock, repo) in &self.repos {
            let checkout = self.crawl_dir().join(format!("{feedstock}-feedstock"));
            let expected = committed_files(repo);
            assert!(expected.contains_key("conda-forge.yml"), "{feedstock}");
            assert_eq!(files_on_disk(&checkout), expected, "{feedstock}");
        }
    }
}

/// The list costs two requests on the emulator: the org route (404, the owner is a user
/// there) and one page of the user route.
const LIST_REQUESTS: u64 = 2;

#[test]
fn a_crawl_fetches_only_recipe_config_and_ci_support_and_a_second_costs_one_request_each() {
    let Some(org) = org() else { return };
    let forge = org.forge();

    let listed = forge.list_feedstocks().unwrap();
    let names: Vec<&str> = listed.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["broken", "bzip2", "libffi", "zlib", "zstd"]);
    assert!(listed.iter().all(|r| r.default_branch == "main"));
    let archived: Vec<&str> = listed
        .iter()
        .filter(|r| r.archived)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(archived, [ARCHIVED]);

    let first = forge.crawl(&org.crawl_dir()).unwrap();
    assert_eq!(first.listed, 5);
    assert_eq!(first.updated, FEEDSTOCKS);
    assert_eq!(first.archived, [ARCHIVED]);
    assert_eq!(first.unchanged, 0);
    assert_eq!(first.stopped, None);
    // The empty repository has no `main`: an error for it alone, the crawl goes on.
    assert_eq!(first.errors.len(), 1, "{:?}", first.errors);
    assert_eq!(first.errors[0].0, "broken");
    assert!(first.errors[0].1.contains("main"), "{:?}", first.errors);
    assert!(!org.crawl_dir().join("broken-feedstock").exists());
    org.assert_checkouts_match_upstream();
    let files: usize = org.repos.values().map(|r| committed_files(r).len()).sum();
    assert_eq!(first.files_written, files);
    // List, then per feedstock a head and a tree, plus one request per distinct blob (a
    // content at two paths is downloaded once).
    let heads = 5;
    let trees = FEEDSTOCKS.len() as u64;
    let blobs: usize = org.repos.values().map(distinct_blobs).sum();
    assert_eq!(
        first.requests,
        LIST_REQUESTS + heads + trees + blobs as u64,
        "{first:?}"
    );

    let second = forge.crawl(&org.crawl_dir()).unwrap();
    assert_eq!(second.unchanged, FEEDSTOCKS.len());
    assert!(second.updated.is_empty(), "{second:?}");
    assert_eq!(second.files_written, 0);
    assert_eq!(second.requests, LIST_REQUESTS + heads, "{second:?}");
    org.assert_checkouts_match_upstream();

    // A fresh forge (no ETag cache, as in a new process) still trusts the recorded heads.
    let fresh = forge_with_fresh_state(&org);
    let third = fresh.crawl(&org.crawl_dir()).unwrap();
    assert_eq!(third.unchanged, FEEDSTOCKS.len());
    assert_eq!(third.requests, LIST_REQUESTS + heads);
}

fn forge_with_fresh_state(org: &Org) -> GitHubForge {
    forge(org.emulator.url(), &org.dir.path().join("other-state"))
}

#[test]
fn a_feedstock_changed_upstream_is_the_only_one_fetched_again_and_only_its_changed_files() {
    let Some(org) = org() else { return };
    let forge = org.forge();
    forge.crawl(&org.crawl_dir()).unwrap();

    // Upstream: edit the recipe, add a patch, drop a platform.
    let repo = &org.repos["zlib"];
    let work = repo.workdir().unwrap().to_path_buf();
    let meta = work.join("recipe/meta.yaml");
    let text = fs_err::read_to_string(&meta).unwrap();
    write(&meta, &format!("{text}\n# rebuilt\n"));
    write(&work.join("recipe/patches/fix.patch"), "--- a\n+++ b\n");
    fs_err::remove_file(work.join(".ci_support/win_64_.yaml")).unwrap();
    write(&work.join("README.md"), "not crawled\n");
    let head = commit_all(repo, "Rebuild\n", Time::new(1_700_000_100, 0));
    let replayed = org.emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        &work,
        "main",
        "main",
    );
    assert_eq!(replayed, head.to_string());

    let summary = forge.crawl(&org.crawl_dir()).unwrap();
    assert_eq!(summary.updated, ["zlib"]);
    assert_eq!(summary.unchanged, FEEDSTOCKS.len() - 1);
    assert_eq!(summary.files_written, 2, "{summary:?}");
    assert_eq!(summary.files_deleted, 1, "{summary:?}");
    // List, five heads, one tree, two blobs: unchanged files are not downloaded again.
    assert_eq!(summary.requests, LIST_REQUESTS + 5 + 1 + 2, "{summary:?}");
    org.assert_checkouts_match_upstream();
    let checkout = org.crawl_dir().join("zlib-feedstock");
    assert!(!checkout.join(".ci_support/win_64_.yaml").exists());
    assert!(!checkout.join("README.md").exists());
}

#[test]
fn checkouts_of_feedstocks_no_longer_listed_are_removed_and_the_rest_build_a_graph() {
    let Some(org) = org() else { return };
    let stray = org.crawl_dir().join("gone-feedstock/recipe");
    fs_err::create_dir_all(&stray).unwrap();
    fs_err::write(stray.join("meta.yaml"), "package: {name: gone}\n").unwrap();
    fs_err::create_dir_all(org.crawl_dir().join("notes")).unwrap();

    let summary = org.forge().crawl(&org.crawl_dir()).unwrap();
    assert_eq!(summary.removed, ["gone"]);
    assert!(!org.crawl_dir().join("gone-feedstock").exists());
    assert!(
        org.crawl_dir().join("notes").is_dir(),
        "only *-feedstock directories are the crawl's"
    );

    // The crawl state beside the checkouts is not taken for a feedstock.
    let db = org.dir.path().join("cascade.sqlite");
    let built = cascade::graph::build(
        &cascade::graph::BuildOptions {
            feedstocks_dir: org.crawl_dir(),
            db_path: db,
        },
        &cascade::graph::NoReporter,
    )
    .unwrap();
    assert_eq!(built.nodes, FEEDSTOCKS.len());
}

/// `cascade` with a clean environment apart from what the test sets.
fn cascade(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("cascade").unwrap();
    command
        .current_dir(cwd)
        .env_remove("CASCADE_GITHUB_TOKEN")
        .env_remove("CASCADE_LOG");
    command
}

/// A `cascade.toml` pointing at `api_url` with test limits.
fn write_config(path: &Path, api_url: &str) {
    fs_err::write(
        path,
        format!(
            "[github]\napi_url = \"{api_url}\"\n\n[github.limits]\ncreate_spacing_ms = 0\n\
             secondary_backoff_secs = 0\nmax_wait_secs = 2\nretries = 1\n"
        ),
    )
    .unwrap();
}

#[test]
fn graph_build_github_crawls_the_org_and_builds_its_graph_with_archived_marked() {
    let Some(org) = org() else { return };
    let work = org.dir.path().join("cli");
    fs_err::create_dir_all(&work).unwrap();
    write_config(&work.join("cascade.toml"), org.emulator.url());

    let output = cascade(&work)
        .env("CASCADE_GITHUB_TOKEN", BOT_TOKEN)
        .args([
            "graph",
            "build",
            "--github",
            "conda-forge",
            "--db",
            "data/cascade.sqlite",
            "--json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["nodes"], FEEDSTOCKS.len());
    assert_eq!(json["crawl"]["listed"], 5);
    assert_eq!(json["crawl"]["updated"].as_array().unwrap().len(), 4);
    assert_eq!(json["crawl"]["errors"][0][0], "broken");
    // The crawl went beside the database, with the forge's state.
    assert!(
        work.join("data/github-feedstocks/zlib-feedstock/recipe/meta.yaml")
            .is_file()
    );
    assert!(work.join("data/github.sqlite").is_file());

    let store = cascade::graph::Store::open(&work.join("data/cascade.sqlite")).unwrap();
    let snapshot = cascade::migrators::GraphSnapshot::load(&store).unwrap();
    let archived: Vec<&str> = snapshot
        .nodes()
        .iter()
        .filter(|n| n.archived)
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(archived, [ARCHIVED]);

    // Text output, second time: nothing fetched again.
    let output = cascade(&work)
        .env("CASCADE_GITHUB_TOKEN", BOT_TOKEN)
        .args(["graph", "build", "--github", "conda-forge"])
        .args(["--db", "data/cascade.sqlite"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("crawled 5 feedstocks into data/github-feedstocks: 4 unchanged, 0 updated"),
        "{stdout}"
    );
    assert!(stdout.contains("error on broken:"), "{stdout}");
    assert!(stdout.contains("graph built in"), "{stdout}");
}

// --- wiremock: what the emulator cannot do -------------------------------------------------

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github-crawl")
        .join(name);
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

/// A 200 with GitHub's rate-limit headers (and an ETag when given).
fn ok(body: &Value, etag: Option<&str>) -> ResponseTemplate {
    let mut response = ResponseTemplate::new(200)
        .set_body_json(body)
        .insert_header("x-ratelimit-limit", "5000")
        .insert_header("x-ratelimit-remaining", "4990")
        .insert_header("x-ratelimit-reset", "4102444800")
        .insert_header("x-ratelimit-resource", "core");
    if let Some(etag) = etag {
        response = response.insert_header("etag", etag);
    }
    response
}

/// A one-feedstock org (`zlib-feedstock`, one file) served from GitHub's documented bodies.
struct Served {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    head: String,
    blob_content: Vec<u8>,
}

fn served() -> Served {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let (head, blob_content) = mount_org(&runtime, &server);
    Served {
        runtime,
        server,
        head,
        blob_content,
    }
}

/// The org's list page.
fn org_repos() -> Value {
    let mut repos = fixture("org_repos.json");
    repos[0]["name"] = json!("zlib-feedstock");
    repos[0]["default_branch"] = json!("main");
    repos
}

/// Mounts the one-feedstock org: list and head with ETags (a matching `If-None-Match` gets
/// a 304), tree and blob expected once each. Returns the head and the file's content.
fn mount_org(runtime: &tokio::runtime::Runtime, server: &MockServer) -> (String, Vec<u8>) {
    use base64::Engine;
    let reference = fixture("git_ref.json");
    let head = reference["object"]["sha"].as_str().unwrap().to_owned();
    let mut blob = fixture("git_blob.json");
    let blob_content = base64::engine::general_purpose::STANDARD
        .decode(blob["content"].as_str().unwrap())
        .unwrap();
    let blob_sha = git2::Oid::hash_object(git2::ObjectType::Blob, &blob_content)
        .unwrap()
        .to_string();
    blob["sha"] = json!(blob_sha);
    let mut tree = fixture("git_tree.json");
    tree["tree"][0]["path"] = json!("recipe/meta.yaml");
    tree["tree"][0]["sha"] = json!(blob_sha);
    tree["truncated"] = json!(false);

    let repo = "/repos/conda-forge/zlib-feedstock";
    let mocks = [
        Mock::given(method("GET"))
            .and(path("/orgs/conda-forge/repos"))
            .and(header("if-none-match", "\"repos-1\""))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1),
        Mock::given(method("GET"))
            .and(path("/orgs/conda-forge/repos"))
            .respond_with(ok(&org_repos(), Some("\"repos-1\""))),
        Mock::given(method("GET"))
            .and(path(format!("{repo}/git/ref/heads/main")))
            .and(header("if-none-match", "\"head-1\""))
            .respond_with(ResponseTemplate::new(304))
            .with_priority(1),
        Mock::given(method("GET"))
            .and(path(format!("{repo}/git/ref/heads/main")))
            .respond_with(ok(&reference, Some("\"head-1\""))),
        Mock::given(method("GET"))
            .and(path(format!("{repo}/git/trees/{head}")))
            .respond_with(ok(&tree, Some("\"tree\"")))
            .expect(1),
        Mock::given(method("GET"))
            .and(path(format!("{repo}/git/blobs/{blob_sha}")))
            .respond_with(ok(&blob, Some("\"blob\"")))
            .expect(1),
    ];
    for mock in mocks {
        runtime.block_on(mock.mount(server));
    }
    (head, blob_content)
}

#[test]
fn an_unchanged_list_page_and_head_answered_304_cost_no_quota_and_nothing_else() {
    let served = served();
    let state = tempfile::tempdir().unwrap();
    let crawl_dir = state.path().join("crawl");
    let forge = forge(&served.server.uri(), &state.path().join("state"));

    let first = forge.crawl(&crawl_dir).unwrap();
    assert_eq!(first.updated, ["zlib"]);
    assert_eq!((first.requests, first.not_modified), (4, 0), "{first:?}");
    let meta = crawl_dir.join("zlib-feedstock/recipe/meta.yaml");
    assert_eq!(fs_err::read(&meta).unwrap(), served.blob_content);
    let state_file: Value =
        serde_json::from_str(&fs_err::read_to_string(crawl_dir.join(".crawl-state.json")).unwrap())
            .unwrap();
    assert_eq!(state_file["heads"]["zlib"], served.head.as_str());

    let before = forge.stats();
    let second: CrawlSummary = forge.crawl(&crawl_dir).unwrap();
    let after = forge.stats();
    assert_eq!(second.unchanged, 1);
    assert_eq!((second.requests, second.not_modified), (2, 2), "{second:?}");
    assert_eq!(after.not_modified - before.not_modified, 2);
    assert_eq!(after.requests - before.requests, 2);
    // The tree and the blob were asked for once (the mocks' `expect(1)`), and not cached:
    // content-addressed answers never enter the conditional-request cache.
    served.runtime.block_on(served.server.verify());
}

#[test]
fn a_spent_rate_limit_stops_the_crawl_cleanly_and_the_next_crawl_resumes() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/orgs/conda-forge/repos"))
            .respond_with(ok(&org_repos(), None))
            .mount(&server),
    );
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path("/repos/conda-forge/zlib-feedstock/git/ref/heads/main"))
            .respond_with(
                ResponseTemplate::new(403)
                    .set_body_json(json!({
                        "message": "API rate limit exceeded for user ID 1.",
                        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                    }))
                    .insert_header("x-ratelimit-limit", "5000")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", "4102444800"),
            )
            .mount(&server),
    );
    let state = tempfile::tempdir().unwrap();
    let crawl_dir = state.path().join("crawl");
    let summary = forge(&server.uri(), &state.path().join("state"))
        .crawl(&crawl_dir)
        .unwrap();
    let stopped = summary.stopped.as_deref().unwrap_or_default();
    assert!(stopped.contains("rate limit"), "{summary:?}");
    assert_eq!(summary.skipped, 1);
    assert!(
        summary.updated.is_empty() && summary.errors.is_empty(),
        "{summary:?}"
    );
    assert!(!crawl_dir.join("zlib-feedstock").exists());

    // After the reset (a later run, so a new process): the crawl picks the work up.
    runtime.block_on(server.reset());
    let (_, content) = mount_org(&runtime, &server);
    let resumed = forge(&server.uri(), &state.path().join("later"))
        .crawl(&crawl_dir)
        .unwrap();
    assert_eq!(resumed.updated, ["zlib"], "{resumed:?}");
    assert_eq!(resumed.stopped, None);
    let meta = crawl_dir.join("zlib-feedstock/recipe/meta.yaml");
    assert_eq!(fs_err::read(meta).unwrap(), content);
}

#[test]
fn refused_credentials_exit_with_the_auth_code_and_never_print_the_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest",
                "status": "401"
            })))
            .mount(&server),
    );
    let work = tempfile::tempdir().unwrap();
    write_config(&work.path().join("cascade.toml"), &server.uri());
    let token = "ghp_a_secret_token_that_must_not_leak_0123";
    let output = cascade(work.path())
        .env("CASCADE_GITHUB_TOKEN", token)
        .args([
            "graph",
            "build",
            "--github",
            "conda-forge",
            "--db",
            "d/c.sqlite",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stdout}{stderr}");
    assert!(stderr.contains("Bad credentials"), "{stderr}");
    assert!(!stdout.contains(token) && !stderr.contains(token));
    let err = forge(&server.uri(), &work.path().join("s"))
        .crawl(&work.path().join("c"))
        .unwrap_err();
    assert!(matches!(err, ForgeError::Auth(_)), "{err:?}");
}

// --- the whole corpus ---------------------------------------------------------------------

/// Every `<name>-feedstock` directory of the corpus, sorted.
fn corpus_feedstocks(corpus: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(corpus)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("-feedstock"))
        .collect();
    names.sort();
    names
}

#[test]
fn the_whole_corpus_crawled_from_github_builds_the_same_graph_as_the_corpus_itself() {
    let Some(corpus) = common::shared_data("feedstocks") else {
        return;
    };
    let names = corpus_feedstocks(&corpus);
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some(emulator) = Emulator::start(&seed(&name_refs)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in &names {
        let work = dir.path().join("upstream").join(name);
        common::copy_dir(&corpus.join(name), &work);
        let repo = Repository::init_opts(
            &work,
            git2::RepositoryInitOptions::new().initial_head("main"),
        )
        .unwrap();
        let mut index = repo.index().unwrap();
        // FORCE: a feedstock's own .gitignore must not hide corpus files.
        index
            .add_all(["*"], git2::IndexAddOption::FORCE, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let who = Signature::new("Jane Maintainer", "jane@example.org", &Time::new(1, 0)).unwrap();
        repo.commit(Some("HEAD"), &who, &who, "Corpus\n", &tree, &[])
            .unwrap();
        emulator.replay(OWNER_TOKEN, "conda-forge", name, &work, "main", "main");
    }

    let forge = forge(emulator.url(), &dir.path().join("state"));
    let started = std::time::Instant::now();
    let first = forge.crawl(&dir.path().join("crawl")).unwrap();
    let first_time = started.elapsed();
    assert_eq!(first.updated.len(), names.len(), "{:?}", first.errors);
    let started = std::time::Instant::now();
    let second = forge.crawl(&dir.path().join("crawl")).unwrap();
    let second_time = started.elapsed();
    assert_eq!(second.unchanged, names.len());
    // The org route's 404, then the user route in pages of 100.
    let list_requests = 1 + names.len().div_ceil(100) as u64;
    assert_eq!(second.requests, list_requests + names.len() as u64);
    eprintln!(
        "{} feedstocks: first crawl {} requests in {first_time:.2?}, second {} requests in {second_time:.2?}",
        names.len(),
        first.requests,
        second.requests
    );

    let build = |feedstocks_dir: PathBuf, db: &str| {
        let db_path = dir.path().join(db);
        let summary = cascade::graph::build(
            &cascade::graph::BuildOptions {
                feedstocks_dir,
                db_path: db_path.clone(),
            },
            &cascade::graph::NoReporter,
        )
        .unwrap();
        let store = cascade::graph::Store::open(&db_path).unwrap();
        let snapshot = cascade::migrators::GraphSnapshot::load(&store).unwrap();
        let nodes: Vec<String> = snapshot
            .nodes()
            .iter()
            .map(|n| {
                // The pinning feedstock's version is the time of rendering.
                let version = (n.name != "conda-forge-pinning").then_some(&n.version);
                format!(
                    "{} {:?} {:?} {:?} {:?} {}",
                    n.name, version, n.platforms, n.outputs, n.requirements, n.parse_error
                )
            })
            .collect();
        let mut summary = summary;
        (summary.wall_ms, summary.crawl_ms) = (0, 0);
        (summary, nodes)
    };
    let (from_github, github_nodes) = build(dir.path().join("crawl"), "github.sqlite3");
    let (from_corpus, corpus_nodes) = build(corpus, "corpus.sqlite3");
    assert_eq!(from_github, from_corpus);
    let differing: Vec<(&String, &String)> = github_nodes
        .iter()
        .zip(&corpus_nodes)
        .filter(|(a, b)| a != b)
        .collect();
    assert!(differing.is_empty(), "{differing:#?}");
    assert_eq!(github_nodes.len(), corpus_nodes.len());
}
