//! The local forge through its public API: real bare git repositories in temporary
//! directories, a real `forge.sqlite`, real feedstocks from `../shared/data/feedstocks`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cascade::feedstock::FeedstockName;
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{
    CiStatus, CommitSpec, Forge, ForgeError, Mergeable, NewPullRequest, PrState, PullRequest,
};
use cascade::graph::{BuildOptions, NoReporter, build};

/// Every file under `dir` (relative path → bytes), `.git` excluded.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                out.insert(relative.into_owned(), fs_err::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn write(path: &Path, text: &str) {
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

/// A forge with two small hand-made feedstocks imported, `alpha` and `beta`.
struct Fixture {
    dir: tempfile::TempDir,
    forge: LocalForge,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let checkouts = dir.path().join("checkouts");
        for name in ["alpha", "beta"] {
            let feedstock = checkouts.join(format!("{name}-feedstock"));
            write(
                &feedstock.join("recipe/meta.yaml"),
                &format!(
                    "package:\n  name: {name}\n  version: 1.0\n\nbuild:\n  number: 0\n\nabout:\n  summary: the {name} library\n"
                ),
            );
            write(&feedstock.join("conda-forge.yml"), "provider: {}\n");
            write(&feedstock.join("README.md"), &format!("# {name}\n"));
        }
        let forge =
            LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
        let summary = forge.import(&checkouts).unwrap();
        assert_eq!(summary.created, ["alpha", "beta"]);
        Fixture { dir, forge }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The current commit of a feedstock's default branch (through a fresh checkout).
    fn upstream_tip(&self, feedstock: &str) -> String {
        let dest = tempfile::tempdir().unwrap();
        self.forge
            .sync_checkout(feedstock, &dest.path().join("c"))
            .unwrap()
    }

    /// Pushes `writes` on top of the current default branch as `branch` and opens a PR.
    fn pr_with(&self, feedstock: &str, branch: &str, writes: &[(&str, &str)]) -> PullRequest {
        let base = self.upstream_tip(feedstock);
        self.forge
            .push_branch(feedstock, &base, branch, &commit(writes, "bot change"))
            .unwrap();
        self.forge
            .open_pr(&new_pr(feedstock, branch, "Rebuild"))
            .unwrap()
    }
}

fn commit(writes: &[(&str, &str)], message: &str) -> CommitSpec {
    CommitSpec {
        writes: writes
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect(),
        deletes: BTreeSet::new(),
        message: message.to_string(),
        author_name: "cascade-bot".to_string(),
        author_email: "cascade-bot@users.noreply.github.com".to_string(),
    }
}

fn maintainer(writes: &[(&str, &str)]) -> CommitSpec {
    CommitSpec {
        author_name: "A Maintainer".to_string(),
        author_email: "maintainer@example.org".to_string(),
        ..commit(writes, "maintainer change")
    }
}

fn new_pr(feedstock: &str, head: &str, title: &str) -> NewPullRequest {
    NewPullRequest {
        feedstock: feedstock.to_string(),
        head: head.to_string(),
        base: "main".to_string(),
        title: title.to_string(),
        body: "body".to_string(),
    }
}

#[test]
fn every_real_feedstock_imports_and_checks_out_byte_identical() {
    let Some(data) = common::shared_data("feedstocks") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    let started = std::time::Instant::now();
    let summary = forge.import(&data).unwrap();
    let import_time = started.elapsed();
    let expected: Vec<String> = fs_err::read_dir(&data)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix("-feedstock").map(str::to_string)
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(summary.created, expected);
    assert_eq!(summary.imported(), 137);
    let skipped: Vec<String> = summary
        .skipped
        .iter()
        .map(|entry| {
            entry
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(skipped, ["MANIFEST.tsv", "README.md"]);
    assert_eq!(forge.list_feedstocks().unwrap().len(), 137);

    let checkouts = dir.path().join("checkouts");
    let started = std::time::Instant::now();
    let mut identical = 0;
    for name in &expected {
        let dest = checkouts.join(format!("{name}-feedstock"));
        forge.sync_checkout(name, &dest).unwrap();
        let source = data.join(format!("{name}-feedstock"));
        assert_eq!(files(&dest), files(&source), "{name} differs");
        identical += 1;
    }
    eprintln!(
        "{identical}/{} real feedstocks byte-identical after import + checkout \
         (import {import_time:?}, checkouts {:?})",
        expected.len(),
        started.elapsed()
    );

    let again = forge.import(&data).unwrap();
    assert_eq!(again.unchanged.len(), 137);
    assert!(again.created.is_empty() && again.updated.is_empty());

    // The checkouts (with their `.git`) crawl into the same graph as the source data.
    let graph_of = |feedstocks: &Path, db: &str| {
        let options = BuildOptions {
            feedstocks_dir: feedstocks.to_path_buf(),
            db_path: dir.path().join(db),
        };
        build(&options, &NoReporter).unwrap()
    };
    let from_forge = graph_of(&checkouts, "graph-of-checkouts.sqlite");
    let from_data = graph_of(&data, "graph-of-data.sqlite");
    assert_eq!(from_forge.nodes, 137);
    assert_eq!(
        (
            from_forge.edges,
            from_forge.external_dependencies,
            from_forge.parse_errors
        ),
        (
            from_data.edges,
            from_data.external_dependencies,
            from_data.parse_errors
        )
    );
}

#[test]
fn a_hand_made_directory_imports_files_modes_and_skips_what_is_not_a_feedstock() {
    let dir = tempfile::tempdir().unwrap();
    let checkouts = dir.path().join("checkouts");
    let feedstock = checkouts.join("tiny-feedstock");
    write(
        &feedstock.join("recipe/meta.yaml"),
        "package:\n  name: tiny\n",
    );
    write(
        &feedstock.join("recipe/build.sh"),
        "#!/bin/sh\nmake install\n",
    );
    write(
        &feedstock.join(".ci_support/linux_64_.yaml"),
        "c_compiler:\n- gcc\n",
    );
    write(&feedstock.join(".git/HEAD"), "ref: refs/heads/main\n");
    fs_err::create_dir_all(feedstock.join("empty")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let script = feedstock.join("recipe/build.sh");
        fs_err::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("build.sh", feedstock.join("recipe/bld.sh")).unwrap();
    }
    write(&checkouts.join("notes-feedstock.txt"), "a file\n");
    write(&checkouts.join("docs/index.md"), "not a feedstock\n");
    fs_err::create_dir_all(checkouts.join("empty-feedstock")).unwrap();
    fs_err::create_dir_all(checkouts.join("bad name-feedstock/recipe")).unwrap();
    write(
        &checkouts.join("bad name-feedstock/recipe/meta.yaml"),
        "x\n",
    );

    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    let summary = forge.import(&checkouts).unwrap();
    assert_eq!(summary.created, ["tiny"]);
    let skipped: BTreeMap<String, String> = summary
        .skipped
        .iter()
        .map(|entry| {
            let name = entry
                .path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, entry.reason.clone())
        })
        .collect();
    assert_eq!(
        skipped.keys().collect::<Vec<_>>(),
        [
            "bad name-feedstock",
            "docs",
            "empty-feedstock",
            "notes-feedstock.txt"
        ]
    );
    assert!(skipped["empty-feedstock"].contains("no files"));
    assert!(skipped["bad name-feedstock"].contains("invalid feedstock name"));
    assert!(skipped["notes-feedstock.txt"].contains("not a directory"));
    // A skipped checkout leaves no repository behind.
    assert!(
        !dir.path()
            .join("forge/conda-forge/empty-feedstock.git")
            .exists()
    );

    let dest = dir.path().join("out/tiny-feedstock");
    forge.sync_checkout("tiny", &dest).unwrap();
    let expected: BTreeMap<String, Vec<u8>> = files(&feedstock)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(".git/"))
        .collect();
    assert_eq!(files(&dest), expected);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| fs_err::metadata(path).unwrap().permissions().mode();
        assert_ne!(mode(&dest.join("recipe/build.sh")) & 0o111, 0);
        assert_eq!(mode(&dest.join("recipe/meta.yaml")) & 0o111, 0);
        let link = fs_err::read_link(dest.join("recipe/bld.sh")).unwrap();
        assert_eq!(link, Path::new("build.sh"));
    }

    write(
        &feedstock.join("recipe/meta.yaml"),
        "package:\n  name: tiny2\n",
    );
    let again = forge.import(&checkouts).unwrap();
    assert_eq!(again.updated, ["tiny"]);
    forge.sync_checkout("tiny", &dest).unwrap();
    assert_eq!(
        fs_err::read_to_string(dest.join("recipe/meta.yaml")).unwrap(),
        "package:\n  name: tiny2\n"
    );
}

#[test]
fn importing_a_missing_directory_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    let missing = dir.path().join("nowhere");
    let err = forge.import(&missing).unwrap_err();
    assert!(matches!(err, ForgeError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn sync_checkout_resets_local_edits_and_removes_untracked_files() {
    let fx = Fixture::new();
    let dest = fx.path("work/alpha-feedstock");
    let first = fx.forge.sync_checkout("alpha", &dest).unwrap();
    write(&dest.join("recipe/meta.yaml"), "edited locally\n");
    write(&dest.join("recipe/leftover.patch"), "untracked\n");
    let second = fx.forge.sync_checkout("alpha", &dest).unwrap();
    assert_eq!(first, second);
    assert!(!dest.join("recipe/leftover.patch").exists());
    assert!(
        fs_err::read_to_string(dest.join("recipe/meta.yaml"))
            .unwrap()
            .starts_with("package:")
    );

    let pushed = fx
        .forge
        .commit_upstream("alpha", &maintainer(&[("README.md", "# alpha, v2\n")]))
        .unwrap();
    let third = fx.forge.sync_checkout("alpha", &dest).unwrap();
    assert_eq!(third, pushed);
    assert_eq!(
        fs_err::read_to_string(dest.join("README.md")).unwrap(),
        "# alpha, v2\n"
    );
}

#[test]
fn sync_checkout_refuses_a_directory_that_is_not_a_checkout() {
    let fx = Fixture::new();
    let dest = fx.path("work/alpha-feedstock");
    write(&dest.join("precious.txt"), "keep me\n");
    let err = fx.forge.sync_checkout("alpha", &dest).unwrap_err();
    assert!(err.to_string().contains("not a git checkout"), "{err}");
    assert!(dest.join("precious.txt").exists());
    let err = fx.forge.sync_checkout("nope", &dest).unwrap_err();
    assert!(matches!(err, ForgeError::NoSuchFeedstock(ref name) if name == "nope"));
}

#[test]
fn opening_the_same_pr_twice_returns_the_first() {
    let fx = Fixture::new();
    let pr = fx.pr_with("alpha", "rebuild_h1", &[("recipe/meta.yaml", "changed\n")]);
    assert_eq!(pr.state, PrState::Open);
    assert_eq!(
        pr.url,
        format!("local://conda-forge/alpha-feedstock/pull/{}", pr.number)
    );
    assert_eq!(pr.mergeable, Mergeable::Clean);
    assert_eq!(pr.ci, CiStatus::None);
    let again = fx
        .forge
        .open_pr(&new_pr("alpha", "rebuild_h1", "Another title"))
        .unwrap();
    assert_eq!(again.number, pr.number);
    assert_eq!(again.title, "Rebuild");
    let found = fx
        .forge
        .find_open_pr("alpha", "rebuild_h1")
        .unwrap()
        .unwrap();
    assert_eq!(found.number, pr.number);
    assert_eq!(fx.forge.find_open_pr("alpha", "other").unwrap(), None);
    assert_eq!(fx.forge.list_prs(&PrFilter::default()).unwrap().len(), 1);

    // Numbers are global: a PR on another feedstock takes the next one.
    let other = fx.pr_with("beta", "rebuild_h1", &[("README.md", "b\n")]);
    assert_eq!(other.number, pr.number + 1);
    let on_beta = PrFilter {
        feedstock: Some("beta".to_string()),
        ..PrFilter::default()
    };
    assert_eq!(fx.forge.list_prs(&on_beta).unwrap(), vec![other]);
}

#[test]
fn concurrent_openers_of_one_head_get_one_pr() {
    let fx = Fixture::new();
    let base = fx.upstream_tip("alpha");
    fx.forge
        .push_branch("alpha", &base, "race", &commit(&[("x", "1\n")], "m"))
        .unwrap();
    let root = fx.forge.root().to_path_buf();
    let numbers: BTreeSet<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let root = root.clone();
                scope.spawn(move || {
                    let forge = LocalForge::open(&root, &LocalForgeOptions::default()).unwrap();
                    forge.open_pr(&new_pr("alpha", "race", "t")).unwrap().number
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(numbers.len(), 1, "{numbers:?}");
}

#[test]
fn push_branch_commits_writes_and_deletes_on_the_base_with_the_given_author() {
    let fx = Fixture::new();
    let base = fx.upstream_tip("alpha");
    let mut spec = commit(
        &[
            ("recipe/meta.yaml", "new recipe\n"),
            (".ci_support/new.yaml", "a: 1\n"),
        ],
        "MNT: rebuild",
    );
    spec.deletes.insert("README.md".to_string());
    spec.deletes.insert("not/there".to_string());
    let sha = fx.forge.push_branch("alpha", &base, "b1", &spec).unwrap();
    // The fork exists now, with the branch on it; upstream is untouched.
    let name = FeedstockName::new("alpha").unwrap();
    let fork = git2::Repository::open_bare(fx.forge.fork_path(&name)).unwrap();
    let head = fork
        .find_commit(fork.refname_to_id("refs/heads/b1").unwrap())
        .unwrap();
    assert_eq!(head.id().to_string(), sha);
    assert_eq!(head.parent_id(0).unwrap().to_string(), base);
    assert_eq!(head.author().name().unwrap(), "cascade-bot");
    assert_eq!(head.message().unwrap(), "MNT: rebuild");
    let tree = head.tree().unwrap();
    assert!(tree.get_path(Path::new("README.md")).is_err());
    assert!(tree.get_path(Path::new(".ci_support/new.yaml")).is_ok());
    assert_eq!(fx.upstream_tip("alpha"), base);

    // Pushing again replaces the branch; an open PR follows it and its CI resets.
    let pr = fx.forge.open_pr(&new_pr("alpha", "b1", "t")).unwrap();
    fx.forge.set_ci(pr.number, CiStatus::Passing).unwrap();
    let replaced = fx
        .forge
        .push_branch("alpha", &base, "b1", &commit(&[("x", "2\n")], "again"))
        .unwrap();
    let pr = fx.forge.pr("alpha", pr.number).unwrap();
    assert_eq!(pr.head_sha, replaced);
    assert_eq!(pr.ci, CiStatus::None);
}

#[test]
fn push_branch_rejects_bad_paths_bad_bases_and_archived_repositories() {
    let fx = Fixture::new();
    let base = fx.upstream_tip("alpha");
    let err = fx
        .forge
        .push_branch("alpha", &base, "b", &commit(&[("../escape", "x")], "m"))
        .unwrap_err();
    assert!(err.to_string().contains("../escape"), "{err}");
    let err = fx
        .forge
        .push_branch("alpha", "not-a-sha", "b", &commit(&[("a", "x")], "m"))
        .unwrap_err();
    assert!(err.to_string().contains("not-a-sha"), "{err}");
    let err = fx
        .forge
        .push_branch("alpha", &base, "bad..branch", &commit(&[("a", "x")], "m"))
        .unwrap_err();
    assert!(err.to_string().contains("bad..branch"), "{err}");

    fx.forge.set_archived("alpha", true).unwrap();
    let err = fx
        .forge
        .push_branch("alpha", &base, "b", &commit(&[("a", "x")], "m"))
        .unwrap_err();
    assert!(matches!(err, ForgeError::Archived(_)), "{err:?}");
    let repos = fx.forge.list_feedstocks().unwrap();
    assert!(
        repos
            .iter()
            .any(|repo| repo.name == "alpha" && repo.archived)
    );
}

#[test]
fn merging_a_pr_on_the_current_base_fast_forwards() {
    let fx = Fixture::new();
    let pr = fx.pr_with("alpha", "ff", &[("recipe/meta.yaml", "bumped\n")]);
    let merged = fx.forge.merge(pr.number).unwrap();
    assert_eq!(merged.state, PrState::Merged);
    assert!(merged.closed_at.is_some());
    assert_eq!(fx.upstream_tip("alpha"), pr.head_sha);
    let dest = fx.path("after/alpha-feedstock");
    fx.forge.sync_checkout("alpha", &dest).unwrap();
    assert_eq!(
        fs_err::read_to_string(dest.join("recipe/meta.yaml")).unwrap(),
        "bumped\n"
    );
    let err = fx.forge.merge(pr.number).unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::NotOpen {
                state: PrState::Merged,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn merging_after_the_base_moved_makes_a_merge_commit() {
    let fx = Fixture::new();
    let pr = fx.pr_with("alpha", "mc", &[("recipe/meta.yaml", "bot edit\n")]);
    let moved = fx
        .forge
        .commit_upstream("alpha", &maintainer(&[("README.md", "maintainer edit\n")]))
        .unwrap();
    assert_eq!(
        fx.forge.pr("alpha", pr.number).unwrap().mergeable,
        Mergeable::Clean
    );
    fx.forge.merge(pr.number).unwrap();
    let tip = fx.upstream_tip("alpha");
    let name = FeedstockName::new("alpha").unwrap();
    let upstream = git2::Repository::open_bare(fx.forge.upstream_path(&name)).unwrap();
    let merge = upstream
        .find_commit(git2::Oid::from_str(&tip).unwrap())
        .unwrap();
    let parents: Vec<String> = merge.parent_ids().map(|id| id.to_string()).collect();
    assert_eq!(parents, [moved, pr.head_sha.clone()]);
    assert!(
        merge
            .message()
            .unwrap()
            .starts_with(&format!("Merge pull request #{}", pr.number))
    );
    let dest = fx.path("after/alpha-feedstock");
    fx.forge.sync_checkout("alpha", &dest).unwrap();
    assert_eq!(
        fs_err::read_to_string(dest.join("recipe/meta.yaml")).unwrap(),
        "bot edit\n"
    );
    assert_eq!(
        fs_err::read_to_string(dest.join("README.md")).unwrap(),
        "maintainer edit\n"
    );
}

#[test]
fn a_conflicting_merge_is_refused_and_marks_the_pr_dirty() {
    let fx = Fixture::new();
    let pr = fx.pr_with(
        "alpha",
        "conflict",
        &[("recipe/meta.yaml", "bot version\n")],
    );
    let moved = fx
        .forge
        .commit_upstream(
            "alpha",
            &maintainer(&[("recipe/meta.yaml", "maintainer version\n")]),
        )
        .unwrap();
    assert_eq!(
        fx.forge.pr("alpha", pr.number).unwrap().mergeable,
        Mergeable::Dirty
    );
    let err = fx.forge.merge(pr.number).unwrap_err();
    assert!(matches!(err, ForgeError::MergeConflict { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("#{}", pr.number)),
        "{err}"
    );
    assert_eq!(fx.upstream_tip("alpha"), moved);
    let listed = fx.forge.list_prs(&PrFilter::default()).unwrap();
    assert_eq!(listed[0].state, PrState::Open);
    assert_eq!(listed[0].mergeable, Mergeable::Dirty);

    // The bot remakes the branch on the new base: clean again, and mergeable.
    fx.forge
        .push_branch(
            "alpha",
            &moved,
            "conflict",
            &commit(&[("recipe/meta.yaml", "redone\n")], "m"),
        )
        .unwrap();
    assert_eq!(
        fx.forge.pr("alpha", pr.number).unwrap().mergeable,
        Mergeable::Clean
    );
    fx.forge.merge(pr.number).unwrap();
}

#[test]
fn closing_a_pr_is_final_and_frees_its_head_for_a_new_pr() {
    let fx = Fixture::new();
    let pr = fx.pr_with("beta", "c", &[("README.md", "x\n")]);
    let closed = fx.forge.close_pr("beta", pr.number).unwrap();
    assert_eq!(closed.state, PrState::Closed);
    assert!(closed.closed_at.is_some());
    assert_eq!(fx.forge.close(pr.number).unwrap(), closed);
    let err = fx.forge.merge(pr.number).unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::NotOpen {
                state: PrState::Closed,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fx.forge.find_open_pr("beta", "c").unwrap(), None);
    let reopened = fx.forge.open_pr(&new_pr("beta", "c", "again")).unwrap();
    assert_ne!(reopened.number, pr.number);
    let closed_only = PrFilter {
        state: Some(PrState::Closed),
        ..PrFilter::default()
    };
    assert_eq!(fx.forge.list_prs(&closed_only).unwrap(), vec![closed]);
    // The PR is not on another feedstock.
    let err = fx.forge.pr("alpha", pr.number).unwrap_err();
    assert!(matches!(err, ForgeError::NoSuchPr { .. }), "{err:?}");
}

#[test]
fn labels_ci_draft_title_and_comments_are_recorded() {
    let fx = Fixture::new();
    let pr = fx.pr_with("alpha", "l", &[("README.md", "x\n")]);
    fx.forge.label(pr.number, "bot-rerun").unwrap();
    fx.forge.label(pr.number, "automerge").unwrap();
    fx.forge.label(pr.number, "automerge").unwrap();
    let pr2 = fx.forge.unlabel(pr.number, "automerge").unwrap();
    assert_eq!(pr2.labels, BTreeSet::from(["bot-rerun".to_string()]));
    assert!(fx.forge.label(pr.number, "  ").is_err());

    assert_eq!(
        fx.forge.set_ci(pr.number, CiStatus::Failing).unwrap().ci,
        CiStatus::Failing
    );
    assert!(fx.forge.set_draft(pr.number, true).unwrap().draft);
    let updated = fx
        .forge
        .update_pr("alpha", pr.number, "New title", "New body")
        .unwrap();
    assert_eq!(
        (updated.title.as_str(), updated.body.as_str()),
        ("New title", "New body")
    );

    fx.forge.comment("alpha", pr.number, "first").unwrap();
    fx.forge.comment("alpha", pr.number, "second").unwrap();
    let comments = fx.forge.comments(pr.number).unwrap();
    let bodies: Vec<&str> = comments.iter().map(|c| c.body.as_str()).collect();
    assert_eq!(bodies, ["first", "second"]);
    assert!(comments.iter().all(|c| c.author == "cascade-bot"));

    let stored = fx.forge.pr("alpha", pr.number).unwrap();
    assert_eq!(stored.ci, CiStatus::Failing);
    assert!(stored.draft);
    assert_eq!(stored.labels.len(), 1);
    assert!(fx.forge.comments(999).is_err());
}

#[test]
fn deleting_a_branch_removes_it_from_the_fork_only() {
    let fx = Fixture::new();
    let pr = fx.pr_with("alpha", "gone", &[("README.md", "x\n")]);
    fx.forge.delete_branch("alpha", "gone").unwrap();
    fx.forge.delete_branch("alpha", "gone").unwrap();
    fx.forge.delete_branch("beta", "never-pushed").unwrap();
    let name = FeedstockName::new("alpha").unwrap();
    let fork = git2::Repository::open_bare(fx.forge.fork_path(&name)).unwrap();
    assert!(fork.refname_to_id("refs/heads/gone").is_err());
    // The open PR keeps its last head (as GitHub keeps refs/pull/<n>/head).
    assert_eq!(
        fx.forge.pr("alpha", pr.number).unwrap().head_sha,
        pr.head_sha
    );
    fx.forge.close_pr("alpha", pr.number).unwrap();
    let err = fx.forge.open_pr(&new_pr("alpha", "gone", "t")).unwrap_err();
    assert!(
        matches!(err, ForgeError::NoSuchBranch { ref branch, .. } if branch == "gone"),
        "{err:?}"
    );
}

#[test]
fn unknown_feedstocks_and_prs_are_named_in_errors() {
    let fx = Fixture::new();
    let err = fx.forge.pr_by_number(42).unwrap_err();
    assert_eq!(err.to_string(), "PR #42 not found");
    let err = fx.forge.pr("alpha", 42).unwrap_err();
    assert_eq!(err.to_string(), "PR #42 not found on `alpha`");
    let err = fx.forge.merge(42).unwrap_err();
    assert!(err.to_string().contains("#42"), "{err}");
    let err = fx
        .forge
        .commit_upstream("gamma", &maintainer(&[("a", "b")]))
        .unwrap_err();
    assert!(err.to_string().contains("gamma"), "{err}");
    let err = fx.forge.open_pr(&new_pr("../etc", "x", "t")).unwrap_err();
    assert!(matches!(err, ForgeError::NoSuchFeedstock(_)), "{err:?}");
    let bad = LocalForgeOptions {
        org: "../up".to_string(),
        ..LocalForgeOptions::default()
    };
    let err = LocalForge::open(&fx.path("forge"), &bad).unwrap_err();
    assert!(err.to_string().contains("../up"), "{err}");
}

#[test]
fn checkouts_sync_in_parallel_through_a_shared_forge() {
    fn shared<T: Sync + Send>(_: &T) {}
    let fx = Fixture::new();
    shared(&fx.forge);
    let forge: &(dyn Forge + Sync) = &fx.forge;
    let dirs: Vec<PathBuf> = (0..6)
        .map(|i| fx.path(&format!("parallel/{i}/alpha-feedstock")))
        .collect();
    let tips: BTreeSet<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|dir| scope.spawn(move || forge.sync_checkout("alpha", dir).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(tips.len(), 1);
    for dir in &dirs {
        assert!(dir.join("recipe/meta.yaml").is_file());
    }
}
