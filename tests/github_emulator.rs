//! The GitHub API emulator harness itself (`tests/common/emulator.rs`): start, requests,
//! reset, and the Git Data API replay that keeps local commit SHAs. Each test skips (with a
//! message) when `tools/gh-emulator/node_modules` is missing, unless
//! `CASCADE_GITHUB_EMULATOR=required`.

mod common;

use std::path::Path;
use std::time::Instant;

use common::emulator::{BOT_TOKEN, Emulator, OWNER_TOKEN, seed};
use common::worktree::{commit_all, write_file};
use git2::{Oid, Repository, Signature, Time};
use serde_json::{Value, json};

/// A non-bare repository in `dir` holding a copy of the corpus feedstock `name`, with one
/// commit on `main`; `None` when `../shared/data` is absent.
fn corpus_repo(name: &str, dir: &Path) -> Option<Repository> {
    let feedstock = common::shared_data(&format!("feedstocks/{name}"))?;
    common::copy_dir(&feedstock, dir);
    let repo = Repository::init_opts(dir, git2::RepositoryInitOptions::new().initial_head("main"))
        .unwrap();
    commit_all(&repo, "Initial feedstock\n", Time::new(1_700_000_000, 60));
    Some(repo)
}

/// Edits the copied zlib recipe: build number 2 → 3.
fn bump_zlib_build_number(dir: &Path) {
    let meta = dir.join("recipe/meta.yaml");
    let text = fs_err::read_to_string(&meta).unwrap();
    let edited = text.replace("{% set build_num = 2 %}", "{% set build_num = 3 %}");
    assert_ne!(edited, text, "zlib's meta.yaml sets build_num = 2");
    write_file(&meta, edited.as_bytes());
}

/// Path → blob SHA of every file in a tree listing from `GET .../git/trees/<x>?recursive=1`.
fn remote_blobs(listing: &Value) -> Vec<(String, String)> {
    let mut blobs: Vec<_> = listing["tree"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "blob")
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_owned(),
                e["sha"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    blobs.sort();
    blobs
}

/// Path → blob SHA of every file in a local commit's tree.
fn local_blobs(repo: &Repository, commit: Oid) -> Vec<(String, String)> {
    let mut blobs = Vec::new();
    let tree = repo.find_commit(commit).unwrap().tree().unwrap();
    tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) {
            blobs.push((
                format!("{root}{}", entry.name().unwrap()),
                entry.id().to_string(),
            ));
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    blobs.sort();
    blobs
}

#[test]
fn the_bot_token_authenticates_as_the_bot() {
    let started = Instant::now();
    let Some(emulator) = Emulator::start(&seed(&[])) else {
        return;
    };
    eprintln!(
        "emulator started in {:?} at {}",
        started.elapsed(),
        emulator.url()
    );
    assert!(
        emulator.url().starts_with("http://127.0.0.1:"),
        "{}",
        emulator.url()
    );
    let (status, user) = emulator.request(BOT_TOKEN, "GET", "/user", None);
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["login"], "regro-cf-autotick-bot");
    // Resource URLs in bodies point back at this server, not at a `localhost` default.
    assert!(
        user["url"].as_str().unwrap().starts_with(emulator.url()),
        "{}",
        user["url"]
    );
}

#[test]
fn a_replayed_corpus_feedstock_keeps_its_shas_and_later_commits_replay_incrementally() {
    let Some(emulator) = Emulator::start(&seed(&["zlib-feedstock"])) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = corpus_repo("zlib-feedstock", dir.path()) else {
        return;
    };
    let first = repo.head().unwrap().target().unwrap();
    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        dir.path(),
        "main",
        "main",
    );
    assert_eq!(replayed, first.to_string());

    let path = "/repos/conda-forge/zlib-feedstock/git/trees/main?recursive=1";
    let (status, listing) = emulator.request(OWNER_TOKEN, "GET", path, None);
    assert_eq!(status, 200, "{listing}");
    let local = local_blobs(&repo, first);
    assert_eq!(local.len(), 11, "zlib-feedstock has 11 files");
    assert_eq!(remote_blobs(&listing), local);

    // A second commit: only it is missing, so only its tree and commit are created.
    bump_zlib_build_number(dir.path());
    let second = commit_all(
        &repo,
        "Bump the build number\n\nA body line.\n",
        Time::new(1_700_086_400, -300),
    );
    let created_before = emulator.replayed_commits();
    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        dir.path(),
        "HEAD",
        "main",
    );
    assert_eq!(replayed, second.to_string());
    assert_eq!(
        emulator.replayed_commits() - created_before,
        1,
        "only the new commit is sent"
    );
    let (_, listing) = emulator.request(OWNER_TOKEN, "GET", path, None);
    assert_eq!(remote_blobs(&listing), local_blobs(&repo, second));
    let commit_path = format!("/repos/conda-forge/zlib-feedstock/git/commits/{second}");
    let (status, commit) = emulator.request(OWNER_TOKEN, "GET", &commit_path, None);
    assert_eq!(status, 200, "{commit}");
    assert_eq!(commit["parents"][0]["sha"], first.to_string().as_str());
    assert_eq!(commit["message"], "Bump the build number\n\nA body line.\n");
}

#[test]
fn binary_files_executables_and_merges_replay_with_their_local_shas() {
    let Some(emulator) = Emulator::start(&seed(&["tool-feedstock"])) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init_opts(
        dir.path(),
        git2::RepositoryInitOptions::new().initial_head("main"),
    )
    .unwrap();
    write_file(
        &dir.path().join("recipe/meta.yaml"),
        b"package:\n  name: tool\n",
    );
    let base = commit_all(&repo, "Initial\n", Time::new(1_600_000_000, 330));
    // A side branch with a binary file and an executable script, merged back.
    write_file(
        &dir.path().join("recipe/logo.png"),
        &[0x89, b'P', b'N', b'G', 0, 0xff, 0xfe, 1, 2],
    );
    let script = dir.path().join("recipe/build.sh");
    write_file(&script, b"#!/bin/bash\nmake install\n");
    let mut permissions = fs_err::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs_err::set_permissions(&script, permissions).unwrap();
    let side = commit_all(&repo, "Add files\n", Time::new(1_600_000_100, 0));
    repo.reset(
        &repo.find_object(base, None).unwrap(),
        git2::ResetType::Hard,
        None,
    )
    .unwrap();
    write_file(&dir.path().join("README.md"), "Ünïcode réadme\n".as_bytes());
    let main = commit_all(&repo, "Readme\n", Time::new(1_600_000_200, -120));
    let mut index = repo
        .merge_commits(
            &repo.find_commit(main).unwrap(),
            &repo.find_commit(side).unwrap(),
            None,
        )
        .unwrap();
    let tree = repo.find_tree(index.write_tree_to(&repo).unwrap()).unwrap();
    let who = Signature::new(
        "Merger",
        "merger@example.org",
        &Time::new(1_600_000_300, 60),
    )
    .unwrap();
    let merge = repo
        .commit(
            Some("HEAD"),
            &who,
            &who,
            "Merge side\n",
            &tree,
            &[
                &repo.find_commit(main).unwrap(),
                &repo.find_commit(side).unwrap(),
            ],
        )
        .unwrap();
    let modes: Vec<i32> = {
        let tree = repo.find_commit(merge).unwrap().tree().unwrap();
        let recipe = repo
            .find_tree(tree.get_name("recipe").unwrap().id())
            .unwrap();
        recipe.iter().map(|e| e.filemode()).collect()
    };
    assert!(
        modes.contains(&0o100755),
        "the script is executable: {modes:?}"
    );

    let replayed = emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "tool-feedstock",
        dir.path(),
        "HEAD",
        "main",
    );
    assert_eq!(replayed, merge.to_string());
    let (_, listing) = emulator.request(
        OWNER_TOKEN,
        "GET",
        "/repos/conda-forge/tool-feedstock/git/trees/main?recursive=1",
        None,
    );
    assert_eq!(remote_blobs(&listing), local_blobs(&repo, merge));
    let script = listing["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "recipe/build.sh")
        .unwrap();
    assert_eq!(script["mode"], "100755", "{script}");
    // Replaying again finds nothing missing and leaves the branch where it is.
    assert_eq!(
        emulator.replay(
            OWNER_TOKEN,
            "conda-forge",
            "tool-feedstock",
            dir.path(),
            "HEAD",
            "main"
        ),
        merge.to_string()
    );
}

#[test]
fn a_fork_branch_becomes_a_pull_request_and_reset_forgets_it() {
    let Some(mut emulator) = Emulator::start(&seed(&["zlib-feedstock"])) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = corpus_repo("zlib-feedstock", dir.path()) else {
        return;
    };
    emulator.replay(
        OWNER_TOKEN,
        "conda-forge",
        "zlib-feedstock",
        dir.path(),
        "main",
        "main",
    );
    let (status, fork) = emulator.request(
        BOT_TOKEN,
        "POST",
        "/repos/conda-forge/zlib-feedstock/forks",
        Some(json!({})),
    );
    assert_eq!(status, 202, "{fork}");
    assert_eq!(fork["full_name"], "regro-cf-autotick-bot/zlib-feedstock");

    bump_zlib_build_number(dir.path());
    let head = commit_all(&repo, "MNT: rebuild\n", Time::new(1_700_100_000, 0));
    let branch = "rebuild-zlib";
    let replayed = emulator.replay(
        BOT_TOKEN,
        "regro-cf-autotick-bot",
        "zlib-feedstock",
        dir.path(),
        "HEAD",
        branch,
    );
    assert_eq!(replayed, head.to_string());

    let body = json!({"title": "Rebuild zlib", "head": format!("regro-cf-autotick-bot:{branch}"), "base": "main", "body": "A rebuild."});
    let (status, pr) = emulator.request(
        BOT_TOKEN,
        "POST",
        "/repos/conda-forge/zlib-feedstock/pulls",
        Some(body),
    );
    assert_eq!(status, 201, "{pr}");
    assert_eq!(pr["head"]["sha"], head.to_string().as_str());
    let list = format!(
        "/repos/conda-forge/zlib-feedstock/pulls?state=open&head=regro-cf-autotick-bot:{branch}"
    );
    let (status, open) = emulator.request(BOT_TOKEN, "GET", &list, None);
    assert_eq!(status, 200, "{open}");
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");

    emulator.reset();
    let (status, open) = emulator.request(BOT_TOKEN, "GET", &list, None);
    assert_eq!((status, open), (200, json!([])));
    let (status, _) = emulator.request(
        BOT_TOKEN,
        "GET",
        "/repos/regro-cf-autotick-bot/zlib-feedstock",
        None,
    );
    assert_eq!(status, 404, "the fork is gone after reset");
}

#[test]
fn a_commit_message_without_a_final_newline_is_refused_with_the_reason() {
    let Some(emulator) = Emulator::start(&seed(&["tool-feedstock"])) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    write_file(
        &dir.path().join("recipe/meta.yaml"),
        b"package:\n  name: tool\n",
    );
    // git2 writes the message byte for byte; emulate appends a newline, so the SHA would differ.
    commit_all(&repo, "No newline", Time::new(1_600_000_000, 0));
    let replay = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        emulator.replay(
            OWNER_TOKEN,
            "conda-forge",
            "tool-feedstock",
            dir.path(),
            "HEAD",
            "main",
        )
    }));
    let message = replay.expect_err("the replay must refuse");
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.contains("without a trailing newline"), "{message}");
}
