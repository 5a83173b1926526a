//! The GitHub forge's forks, PRs and CI status against a real local GitHub API server (the
//! `emulate` emulator, `tests/common/emulator.rs`), with the real zlib feedstock as upstream
//! history. Each test skips (with a message) when the emulator is not installed or
//! `../shared/data` is absent.
//!
//! Branches reach the bot's fork through the forge's own push (the Git Data API transport)
//! or, where a test needs a commit it made itself, through [`Emulator::replay`].

mod common;

use std::collections::{BTreeMap, BTreeSet};

use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::{CiStatus, CommitSpec, Forge, ForgeError, Mergeable, NewPullRequest, PrState};
use common::emulator::{BOT_TOKEN, Emulator, MAINT_TOKEN, OWNER_TOKEN, seed};
use common::worktree::write_file;
use git2::{Oid, Repository, Signature, Time};
use serde_json::json;

const BOT: &str = "regro-cf-autotick-bot";

/// An emulator seeded with an empty `conda-forge/zlib-feedstock`, and a local repository
/// holding the corpus zlib feedstock as one commit on `main`, replayed upstream. `None`
/// (the test skips) when either the emulator or the data is missing.
struct Upstream {
    emulator: Emulator,
    repo: Repository,
    base: Oid,
    dir: tempfile::TempDir,
}

fn upstream() -> Option<Upstream> {
    let feedstock = common::shared_data("feedstocks/zlib-feedstock")?;
    let emulator = Emulator::start(&seed(&["zlib-feedstock"]))?;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("zlib");
    common::copy_dir(&feedstock, &work);
    let repo = Repository::init_opts(
        &work,
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    let base = commit(&repo, "HEAD", &[], "Initial feedstock\n", "Jane Maintainer");
    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        &work,
        "main",
        "main",
    );
    assert_eq!(replayed, base.to_string());
    Some(Upstream {
        emulator,
        repo,
        base,
        dir,
    })
}

impl Upstream {
    /// The forge as the bot, against this emulator; its state lives in the temp dir.
    fn forge(&self) -> GitHubForge {
        let config = GitHubConfig {
            api_url: self.emulator.url().to_owned(),
            transport: Transport::Api,
            // Never reached with the API transport; kept local so nothing leaves the machine.
            upstream_git_url: "file:///nonexistent/{owner}/{repo}.git".to_owned(),
            fork_git_url: "file:///nonexistent/{owner}/{repo}.git".to_owned(),
            limits: Limits {
                create_spacing_ms: 0,
                secondary_backoff_secs: 0,
                max_wait_secs: 2,
                ..Limits::default()
            },
            ..GitHubConfig::default()
        };
        GitHubForge::open(config, &self.dir.path().join("forge"), &|name| {
            (name == "CASCADE_GITHUB_TOKEN").then(|| BOT_TOKEN.to_owned())
        })
        .unwrap()
    }

    /// A commit by the bot on `branch` (on top of upstream `main`) changing the build
    /// number to `build`, replayed to the bot's fork. Returns its SHA.
    fn branch(&self, branch: &str, build: u32) -> String {
        let meta = self.repo.workdir().unwrap().join("recipe/meta.yaml");
        let text = fs_err::read_to_string(&meta).unwrap();
        let start = text.find("{% set build_num = ").unwrap();
        let end = start + text[start..].find("%}").unwrap() + 2;
        let edited = format!(
            "{}{{% set build_num = {build} %}}{}",
            &text[..start],
            &text[end..]
        );
        write_file(&meta, edited.as_bytes());
        let base = self.repo.find_commit(self.base).unwrap();
        let message = format!("Rebuild with build number {build}\n");
        let sha = commit(
            &self.repo,
            &format!("refs/heads/{branch}"),
            &[&base],
            &message,
            BOT,
        );
        let replayed = self.emulator.replay(
            BOT_TOKEN,
            BOT,
            "zlib-feedstock",
            self.repo.workdir().unwrap(),
            branch,
            branch,
        );
        assert_eq!(replayed, sha.to_string());
        replayed
    }

    /// `GET` through the emulator as the bot (test-side inspection).
    fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.emulator.request(BOT_TOKEN, "GET", path, None)
    }
}

/// Commits the whole work tree to `reference` with these parents, at a fixed time.
fn commit(
    repo: &Repository,
    reference: &str,
    parents: &[&git2::Commit<'_>],
    message: &str,
    author: &str,
) -> Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let when = Time::new(1_700_000_000, 0);
    let signature = Signature::new(
        author,
        &format!("{}@users.noreply.github.com", author.replace(' ', "")),
        &when,
    )
    .unwrap();
    repo.commit(
        Some(reference),
        &signature,
        &signature,
        message,
        &tree,
        parents,
    )
    .unwrap()
}

fn new_pr(branch: &str, title: &str) -> NewPullRequest {
    NewPullRequest {
        feedstock: "zlib".to_owned(),
        head: branch.to_owned(),
        base: "main".to_owned(),
        title: title.to_owned(),
        body: "Rebuild for the new build number.".to_owned(),
    }
}

/// A change for `push_branch` (which also makes sure the fork exists).
fn probe_commit() -> CommitSpec {
    CommitSpec {
        writes: BTreeMap::from([("recipe/probe.txt".to_owned(), "probe\n".to_owned())]),
        deletes: BTreeSet::new(),
        message: "Probe\n".to_owned(),
        author_name: BOT.to_owned(),
        author_email: format!("{BOT}@users.noreply.github.com"),
    }
}

#[test]
fn a_pr_is_opened_once_updated_commented_labelled_and_seen_merged() {
    let Some(up) = upstream() else {
        return;
    };
    let forge = up.forge();

    // The fork is made by the forge's first push.
    assert_eq!(up.get(&format!("/repos/{BOT}/zlib-feedstock")).0, 404);
    let pushed = forge
        .push_branch("zlib", &up.base.to_string(), "probe", &probe_commit())
        .unwrap();
    let (status, fork) = up.get(&format!("/repos/{BOT}/zlib-feedstock"));
    assert_eq!(status, 200, "{fork}");
    assert_eq!(fork["fork"], true);
    let (_, probe) = up.get(&format!("/repos/{BOT}/zlib-feedstock/git/ref/heads/probe"));
    assert_eq!(probe["object"]["sha"], pushed.as_str());

    let head_sha = up.branch("rebuild-zlib", 3);
    assert_eq!(forge.find_open_pr("zlib", "rebuild-zlib").unwrap(), None);
    let opened = forge
        .open_pr(&new_pr("rebuild-zlib", "Rebuild zlib"))
        .unwrap();
    assert_eq!(opened.state, PrState::Open);
    assert_eq!(opened.head, "rebuild-zlib");
    assert_eq!(opened.base, "main");
    assert_eq!(opened.head_sha, head_sha);
    assert_eq!(opened.title, "Rebuild zlib");
    assert_eq!(opened.ci, CiStatus::None);
    assert!(
        opened.url.ends_with(&format!(
            "/conda-forge/zlib-feedstock/pull/{}",
            opened.number
        )),
        "{}",
        opened.url
    );
    assert!(opened.created_at > 1_700_000_000);

    // Opening again (a re-run) finds the same PR; GitHub holds exactly one.
    let again = forge
        .open_pr(&new_pr("rebuild-zlib", "Rebuild zlib"))
        .unwrap();
    assert_eq!(again.number, opened.number);
    let (_, all) = up.get("/repos/conda-forge/zlib-feedstock/pulls?state=all");
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert_eq!(
        forge
            .find_open_pr("zlib", "rebuild-zlib")
            .unwrap()
            .unwrap()
            .number,
        opened.number
    );

    let updated = forge
        .update_pr("zlib", opened.number, "Rebuild zlib (2)", "New body")
        .unwrap();
    assert_eq!(updated.title, "Rebuild zlib (2)");
    assert_eq!(updated.body, "New body");
    assert_eq!(
        forge.pr("zlib", opened.number).unwrap().title,
        "Rebuild zlib (2)"
    );

    forge
        .comment("zlib", opened.number, "Hi from the bot")
        .unwrap();
    let (_, comments) = up.get(&format!(
        "/repos/conda-forge/zlib-feedstock/issues/{}/comments",
        opened.number
    ));
    let comments = comments.as_array().unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0]["body"], "Hi from the bot");
    assert_eq!(comments[0]["user"]["login"], BOT);

    forge
        .add_labels("zlib", opened.number, &["bot-rerun"])
        .unwrap();
    let labelled = forge.pr("zlib", opened.number).unwrap();
    assert_eq!(labelled.labels, BTreeSet::from(["bot-rerun".to_owned()]));
    assert_eq!(labelled.mergeable, Mergeable::Clean);
    assert!(!labelled.other_committers);

    // A failed check run on the head commit (it lives on the fork) fails the PR.
    let check = json!({"name": "linux_64", "head_sha": head_sha, "status": "completed", "conclusion": "failure"});
    let (status, body) = up.emulator.request(
        BOT_TOKEN,
        "POST",
        &format!("/repos/{BOT}/zlib-feedstock/check-runs"),
        Some(check),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        forge.pr("zlib", opened.number).unwrap().ci,
        CiStatus::Failing
    );

    // A maintainer merges it.
    let merge = format!(
        "/repos/conda-forge/zlib-feedstock/pulls/{}/merge",
        opened.number
    );
    let (status, body) = up
        .emulator
        .request(MAINT_TOKEN, "PUT", &merge, Some(json!({})));
    assert_eq!(status, 200, "{body}");
    let merged = forge.pr("zlib", opened.number).unwrap();
    assert_eq!(merged.state, PrState::Merged);
    assert!(merged.closed_at.is_some());
    assert!(matches!(
        forge.update_pr("zlib", opened.number, "x", "y"),
        Err(ForgeError::NotOpen {
            state: PrState::Merged,
            ..
        })
    ));
    assert_eq!(
        forge.close_pr("zlib", opened.number).unwrap().state,
        PrState::Merged
    );
    assert_eq!(forge.find_open_pr("zlib", "rebuild-zlib").unwrap(), None);

    // Settling deletes the fork branch; a second delete is a no-op.
    forge.delete_branch("zlib", "rebuild-zlib").unwrap();
    let (status, _) = up.get(&format!(
        "/repos/{BOT}/zlib-feedstock/git/ref/heads/rebuild-zlib"
    ));
    assert_eq!(status, 404);
    forge.delete_branch("zlib", "rebuild-zlib").unwrap();
}

#[test]
fn a_pr_is_closed_once_and_missing_things_are_named() {
    let Some(up) = upstream() else {
        return;
    };
    let forge = up.forge();
    // Pushed by the forge itself this time: fork → push → open.
    let pushed = forge
        .push_branch("zlib", &up.base.to_string(), "close-me", &probe_commit())
        .unwrap();
    let pr = forge.open_pr(&new_pr("close-me", "To be closed")).unwrap();
    assert_eq!(pr.head_sha, pushed);
    let closed = forge.close_pr("zlib", pr.number).unwrap();
    assert_eq!(closed.state, PrState::Closed);
    assert!(closed.closed_at.is_some());
    let creates = forge.stats().creates;
    assert_eq!(
        forge.close_pr("zlib", pr.number).unwrap().state,
        PrState::Closed
    );
    assert_eq!(
        forge.stats().creates,
        creates,
        "closing a closed PR sends nothing"
    );
    assert_eq!(forge.find_open_pr("zlib", "close-me").unwrap(), None);
    assert!(matches!(
        forge.update_pr("zlib", pr.number, "x", "y"),
        Err(ForgeError::NotOpen {
            state: PrState::Closed,
            ..
        })
    ));
    // Work reopened on the same branch gets a new PR; the closed one stays closed.
    let reopened = forge.open_pr(&new_pr("close-me", "Again")).unwrap();
    assert_ne!(reopened.number, pr.number);
    assert_eq!(reopened.state, PrState::Open);
    let found = forge.find_open_pr("zlib", "close-me").unwrap().unwrap();
    assert_eq!(found.number, reopened.number);
    assert_eq!(forge.pr("zlib", pr.number).unwrap().state, PrState::Closed);

    assert!(matches!(
        forge.pr("zlib", 999),
        Err(ForgeError::NoSuchPr { number: 999, .. })
    ));
    assert!(matches!(
        forge.push_branch("nope", &up.base.to_string(), "x", &probe_commit()),
        Err(ForgeError::NoSuchFeedstock(name)) if name == "nope"
    ));
    assert!(matches!(
        forge.find_open_pr("nope", "x"),
        Err(ForgeError::NoSuchFeedstock(_))
    ));

    // The emulator has no GraphQL: the batch refresh falls back to REST, per PR.
    let answers = forge.prs(&[("zlib".to_owned(), pr.number), ("zlib".to_owned(), 999)]);
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].as_ref().unwrap().state, PrState::Closed);
    assert!(matches!(
        answers[1],
        Err(ForgeError::NoSuchPr { number: 999, .. })
    ));
}

#[test]
fn check_runs_roll_up_into_pending_and_passing() {
    let Some(up) = upstream() else {
        return;
    };
    let forge = up.forge();
    forge
        .push_branch("zlib", &up.base.to_string(), "probe", &probe_commit())
        .unwrap();
    let sha = up.branch("ci", 5);
    let pr = forge.open_pr(&new_pr("ci", "CI")).unwrap();
    let runs = format!("/repos/{BOT}/zlib-feedstock/check-runs");
    let create = |body: serde_json::Value| {
        let (status, answer) = up.emulator.request(BOT_TOKEN, "POST", &runs, Some(body));
        assert_eq!(status, 201, "{answer}");
        answer["id"].as_u64().unwrap()
    };
    let linux = create(
        json!({"name": "linux_64", "head_sha": sha, "status": "completed", "conclusion": "success"}),
    );
    assert_eq!(forge.pr("zlib", pr.number).unwrap().ci, CiStatus::Passing);
    let osx = create(json!({"name": "osx_64", "head_sha": sha, "status": "in_progress"}));
    assert_eq!(forge.pr("zlib", pr.number).unwrap().ci, CiStatus::Pending);
    let finish = json!({"status": "completed", "conclusion": "skipped"});
    let (status, answer) =
        up.emulator
            .request(BOT_TOKEN, "PATCH", &format!("{runs}/{osx}"), Some(finish));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(forge.pr("zlib", pr.number).unwrap().ci, CiStatus::Passing);
    let fail = json!({"status": "completed", "conclusion": "timed_out"});
    let (status, answer) =
        up.emulator
            .request(BOT_TOKEN, "PATCH", &format!("{runs}/{linux}"), Some(fail));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(forge.pr("zlib", pr.number).unwrap().ci, CiStatus::Failing);
}
