//! Version PRs through the run loop: real corpus feedstocks (`idna`, `requests`, `six`:
//! v1 recipes; `urllib3`: a v0 PyPI noarch recipe; `packaging` with
//! `bot.version_updates.skip`) imported into a local forge, upstream versions recorded
//! in a real store as `cascade versions check` records them, and sources hashed offline
//! from a `--hash-cache` file. The test plays upstream: it releases versions between
//! runs and checks the PRs, their diffs and bodies, and the recorded errors.

mod common;
#[path = "fixtures/upstream/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::path::Path;

use cascade::feedstock::FeedstockName;
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{PrState, PullRequest};
use cascade::graph::{NoReporter, Store, VersionCheck, VersionCheckStatus};
use cascade::migrators::Identity;
use cascade::run::{self, MigrationRun, RunOptions, RunSummary, VersionNetwork, VersionOptions};
use cascade::upstream::SourceUrls;
use server::{Reply, TestServer};

const FEEDSTOCKS: &[&str] = &["idna", "packaging", "requests", "six", "urllib3"];

struct World {
    dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
    versions: VersionOptions,
    hashes: BTreeMap<String, String>,
}

fn world() -> Option<World> {
    let corpus = common::shared_data("feedstocks")?;
    let pinning = common::shared_data("pinning")?;
    let dir = tempfile::tempdir().unwrap();
    let feedstocks = dir.path().join("feedstocks");
    for name in FEEDSTOCKS {
        common::copy_dir(
            &corpus.join(format!("{name}-feedstock")),
            &feedstocks.join(format!("{name}-feedstock")),
        );
    }
    skip_version_updates(&feedstocks.join("packaging-feedstock/conda-forge.yml"));
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();
    let options = RunOptions {
        db_path: dir.path().join("cascade.sqlite"),
        checkouts_dir: dir.path().join("checkouts"),
        pinning_dir: Some(pinning),
        migrators_dir: None,
        only: vec!["version".to_string()],
        dry_run: false,
        identity: Identity::default(),
        now: 1_780_000_000,
    };
    let versions = VersionOptions {
        enabled: true,
        hash_cache: Some(dir.path().join("hashes.json")),
        network: VersionNetwork::Offline,
    };
    fs_err::write(dir.path().join("hashes.json"), "{}").unwrap();
    // A first run builds the graph (and the store) and finds no upstream version yet,
    // as the bot's graph exists before `cascade versions check` fills in versions.
    let first = run::run_with_versions(&options, &versions, &forge, &NoReporter).unwrap();
    assert!(version_run(&first).opened.is_empty());
    Some(World {
        dir,
        forge,
        options,
        versions,
        hashes: BTreeMap::new(),
    })
}

/// Adds `bot.version_updates.skip: true` to a `conda-forge.yml`.
fn skip_version_updates(path: &Path) {
    let text = fs_err::read_to_string(path).unwrap_or_default();
    let skip = "  version_updates:\n    skip: true\n";
    let edited = if let Some(rest) = text.strip_prefix("bot:\n") {
        format!("bot:\n{skip}{rest}")
    } else if text.contains("\nbot:\n") {
        text.replacen("\nbot:\n", &format!("\nbot:\n{skip}"), 1)
    } else {
        format!("{text}bot:\n{skip}")
    };
    fs_err::write(path, edited).unwrap();
}

/// A 64-hex digest standing for the archive at `url`.
fn digest_of(url: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(url.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pypi_url(name: &str, version: &str) -> String {
    let first = &name[..1];
    format!("https://pypi.org/packages/source/{first}/{name}/{name}-{version}.tar.gz")
}

impl World {
    fn store(&self) -> Store {
        Store::open(&self.options.db_path).unwrap()
    }

    /// Upstream releases `version` of `feedstock`; its sdist hashes when `hashes`.
    fn release(&mut self, feedstock: &str, current: &str, version: &str, hashes: bool) {
        let url = pypi_url(feedstock, version);
        if hashes {
            let digest = digest_of(&url);
            self.hashes.insert(url, digest);
        }
        self.store()
            .record_version_checks(&[VersionCheck {
                feedstock: feedstock.to_string(),
                current_version: Some(current.to_string()),
                newest_version: Some(version.to_string()),
                source: Some("pypi".to_string()),
                upstream_url: Some(format!("https://pypi.org/pypi/{feedstock}/json")),
                status: VersionCheckStatus::Newer,
                error: None,
                source_errors: Vec::new(),
                checked_at: self.options.now,
            }])
            .unwrap();
    }

    fn run(&mut self) -> RunSummary {
        let cache: BTreeMap<&String, BTreeMap<&str, &String>> = self
            .hashes
            .iter()
            .map(|(url, digest)| (url, BTreeMap::from([("sha256", digest)])))
            .collect();
        fs_err::write(
            self.dir.path().join("hashes.json"),
            serde_json::to_string(&cache).unwrap(),
        )
        .unwrap();
        let summary =
            run::run_with_versions(&self.options, &self.versions, &self.forge, &NoReporter)
                .unwrap();
        self.options.now += 3600;
        summary
    }

    fn open_prs(&self, feedstock: &str) -> Vec<PullRequest> {
        let mut prs: Vec<PullRequest> = self
            .forge
            .list_prs(&PrFilter {
                state: Some(PrState::Open),
                ..PrFilter::default()
            })
            .unwrap()
            .into_iter()
            .filter(|pr| pr.feedstock == feedstock)
            .collect();
        prs.sort_by_key(|pr| pr.number);
        prs
    }

    /// A file of the bot's fork at a branch.
    fn fork_file(&self, feedstock: &str, branch: &str, path: &str) -> String {
        let name = FeedstockName::new(feedstock).unwrap();
        let repo = git2::Repository::open_bare(self.forge.fork_path(&name)).unwrap();
        let tree = repo
            .find_reference(&format!("refs/heads/{branch}"))
            .unwrap()
            .peel_to_tree()
            .unwrap();
        let entry = tree.get_path(Path::new(path)).unwrap();
        let blob = entry.to_object(&repo).unwrap().peel_to_blob().unwrap();
        String::from_utf8_lossy(blob.content()).into_owned()
    }
}

fn version_run(summary: &RunSummary) -> &MigrationRun {
    summary
        .migrations
        .iter()
        .find(|m| m.name == "version")
        .unwrap_or_else(|| panic!("no version migration in {summary:#?}"))
}

fn opened(run: &MigrationRun) -> Vec<&str> {
    run.opened.iter().map(|p| p.feedstock.as_str()).collect()
}

fn recipe_of(feedstock: &str) -> &'static str {
    if feedstock == "urllib3" {
        "recipe/meta.yaml"
    } else {
        "recipe/recipe.yaml"
    }
}

#[test]
fn version_prs_follow_upstream_releases_through_the_run_loop() {
    let Some(mut world) = world() else {
        return;
    };
    world.release("idna", "3.18", "3.19", true);
    world.release("urllib3", "2.6.3", "2.7.0", true);
    world.release("requests", "2.33.1", "2.34.0", true);
    world.release("six", "1.17.0", "1.18.0", true);
    world.release("packaging", "0", "999.0", true);

    // Run 1: a PR per version, parents before their child; nothing for the skipped one.
    let summary = world.run();
    let version = version_run(&summary);
    assert!(version.errors.is_empty(), "{:#?}", version.errors);
    let order = opened(version);
    assert_eq!(order.len(), 4, "{order:?}");
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
    assert!(
        at("idna") < at("requests") && at("urllib3") < at("requests"),
        "{order:?}"
    );
    assert!(!order.contains(&"packaging"));
    assert_eq!(version.excluded.get("excluded-by-name"), Some(&1));

    for (feedstock, old, new) in [
        ("idna", "3.18", "3.19"),
        ("urllib3", "2.6.3", "2.7.0"),
        ("requests", "2.33.1", "2.34.0"),
        ("six", "1.17.0", "1.18.0"),
    ] {
        let prs = world.open_prs(feedstock);
        assert_eq!(prs.len(), 1, "{feedstock}: {prs:#?}");
        let pr = &prs[0];
        let recipe = world.fork_file(feedstock, &pr.head, recipe_of(feedstock));
        assert!(
            recipe.contains(new) && !recipe.contains(&format!("\"{old}\"")),
            "{recipe}"
        );
        let digest = digest_of(&pypi_url(feedstock, new));
        assert!(recipe.contains(&digest), "{feedstock}: {recipe}");
        assert!(recipe.contains("number: 0"), "{feedstock}: {recipe}");
        assert!(pr.head.starts_with(&format!("{new}_h")), "{}", pr.head);
        assert!(pr.body.contains(&pypi_url(feedstock, new)), "{}", pr.body);
        assert!(
            pr.body.contains(&format!("sha256: `{digest}`")),
            "{}",
            pr.body
        );
        assert!(
            pr.body
                .contains(&format!("https://pypi.org/pypi/{feedstock}/json"))
        );
        assert!(!pr.body.contains("Closes: #"), "{}", pr.body);
        // Every one of these recipes names its GitHub repository.
        assert!(
            pr.body.contains("see [upstream](https://github.com/"),
            "{}",
            pr.body
        );
    }
    // The automerge slug follows `bot.automerge` (six has `automerge: true`).
    assert_eq!(
        world.open_prs("six")[0].title,
        "[bot-automerge] six v1.18.0"
    );
    assert_eq!(world.open_prs("idna")[0].title, "idna v3.19");
    // requests waits on idna's and urllib3's own updates.
    let requests = &world.open_prs("requests")[0].body;
    assert!(
        requests.contains("Pending Dependency Version Updates"),
        "{requests}"
    );
    assert!(requests.contains("| idna | 3.18 | 3.19 |"), "{requests}");
    assert!(
        requests.contains("| urllib3 | 2.6.3 | 2.7.0 |"),
        "{requests}"
    );

    // Run 2: nothing new upstream, nothing new opened.
    let summary = world.run();
    assert!(version_run(&summary).opened.is_empty());

    // Run 3: idna releases again: a second PR that closes the first; urllib3 releases
    // a version whose sdist does not exist: the error lists every URL tried.
    let first_idna = world.open_prs("idna")[0].number;
    world.release("idna", "3.18", "3.20", true);
    world.release("urllib3", "2.6.3", "2.8.0", false);
    let summary = world.run();
    let version = version_run(&summary);
    assert_eq!(opened(version), vec!["idna"]);
    let idna = world.open_prs("idna");
    assert_eq!(idna.len(), 2);
    assert_eq!(idna[1].title, "idna v3.20");
    assert!(
        idna[1].body.contains(&format!("Closes: #{first_idna}")),
        "{}",
        idna[1].body
    );
    let (feedstock, message) = &version.errors[0];
    assert_eq!(feedstock, "urllib3");
    assert!(message.contains("with version '2.8.0'"), "{message}");
    assert!(
        message.contains(&format!("not found: {}", pypi_url("urllib3", "2.8.0"))),
        "{message}"
    );
    let attempts = world.store().attempts_for("version").unwrap();
    let failed = attempts
        .iter()
        .find(|a| a.feedstock == "urllib3@2.8.0")
        .unwrap();
    assert_eq!(failed.attempts, 1);

    // Run 4: urllib3 backs off that version; no second try, no new error.
    let summary = world.run();
    let version = version_run(&summary);
    assert!(version.errors.is_empty(), "{:#?}", version.errors);
    assert_eq!(version.counts.backing_off, 1);

    // Run 5: a newer urllib3 is new work, not held by the failed one's back-off.
    world.release("urllib3", "2.6.3", "2.8.1", true);
    let summary = world.run();
    assert_eq!(opened(version_run(&summary)), vec!["urllib3"]);
    let urllib3 = world.open_prs("urllib3");
    assert_eq!(urllib3.len(), 2);
    assert!(
        urllib3[1]
            .body
            .contains(&format!("Closes: #{}", urllib3[0].number))
    );
}

#[test]
fn at_most_three_version_prs_are_open_per_feedstock() {
    let Some(mut world) = world() else {
        return;
    };
    for version in ["3.19", "3.20", "3.21"] {
        world.release("idna", "3.18", version, true);
        let summary = world.run();
        assert_eq!(opened(version_run(&summary)), vec!["idna"], "{version}");
    }
    world.release("idna", "3.18", "3.22", true);
    let summary = world.run();
    let version = version_run(&summary);
    assert!(version.opened.is_empty());
    assert_eq!(version.counts.in_pr, 1);
    assert_eq!(world.open_prs("idna").len(), 3);
}

/// `cascade` without the environment that could point it elsewhere.
fn cascade() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("cascade").unwrap();
    cmd.env_remove("CASCADE_UPSTREAM_URLS")
        .env_remove("CASCADE_GITHUB_TOKEN")
        .env_remove("GITHUB_TOKEN");
    cmd
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn versions_check_then_an_offline_run_opens_the_version_pr_from_the_command_line() {
    let Some(corpus) = common::shared_data("feedstocks") else {
        return;
    };
    let Some(pinning) = common::shared_data("pinning") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let feedstocks = dir.path().join("feedstocks");
    common::copy_dir(
        &corpus.join("annotated-types-feedstock"),
        &feedstocks.join("annotated-types-feedstock"),
    );
    let data = dir.path().join("data");
    cascade()
        .args(["forge", "--forge-dir"])
        .arg(data.join("forge"))
        .arg("import")
        .arg(&feedstocks)
        .assert()
        .success();
    let url = "https://pypi.org/packages/source/a/annotated-types/annotated_types-0.8.0.tar.gz";
    let hashes = dir.path().join("hashes.json");
    fs_err::write(
        &hashes,
        serde_json::json!({ url: { "sha256": digest_of(url) } }).to_string(),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        cascade()
            .args(["run", "--json", "--migrator", "version", "--offline"])
            .arg("--data-dir")
            .arg(&data)
            .arg("--pinning")
            .arg(&pinning)
            .arg("--hash-cache")
            .arg(&hashes)
            .args(extra)
            .output()
            .unwrap()
    };
    // The first run builds the graph; no version is known yet.
    let first = stdout_json(&run(&[]));
    assert_eq!(first["migrations"][0]["name"], "version");
    assert_eq!(
        first["migrations"][0]["opened"].as_array().unwrap().len(),
        0
    );

    // `versions check` against a local server with PyPI's recorded answer (0.8.0).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    server.reply(
        "/pypi-api/pypi/annotated-types/json",
        Reply::fixture("pypi-annotated-types.json"),
    );
    let urls = dir.path().join("urls.json");
    fs_err::write(
        &urls,
        serde_json::to_string(&SourceUrls::all_at(&server.base)).unwrap(),
    )
    .unwrap();
    cascade()
        .args([
            "versions",
            "check",
            "--json",
            "--retries",
            "0",
            "--source",
            "PyPI",
        ])
        .arg("--db")
        .arg(data.join("cascade.sqlite"))
        .arg("--base-urls")
        .arg(&urls)
        .assert()
        .success();

    let second = stdout_json(&run(&[]));
    let opened = &second["migrations"][0]["opened"];
    assert_eq!(opened.as_array().unwrap().len(), 1, "{second:#}");
    assert_eq!(opened[0]["title"], "[bot-automerge] annotated-types v0.8.0");

    // `--no-versions` leaves the version migrator out of the run.
    let off = run(&["--no-versions"]);
    assert!(!off.status.success());
    assert!(
        String::from_utf8_lossy(&off.stderr).contains("unknown migration(s): version"),
        "{off:?}"
    );
}
