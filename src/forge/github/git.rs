//! The git CLI transport: checkouts are fetched from `upstream_git_url` and branches are
//! pushed to `fork_git_url` by the `git` command line (as the Python bot does; no OpenSSL
//! build for libgit2's HTTPS), while commits are built in-process with git2.
//!
//! - A checkout is fetched shallowly from the remote's `HEAD` — whatever branch the
//!   server calls default, resolved by the server in the same round trip, costing no API
//!   request — then force-checked-out (detached) and cleaned of untracked files.
//! - A push goes through a bare work repository per feedstock under the forge's git
//!   directory: the base commit is fetched into it when missing, the commit is built on
//!   top of it from the [`CommitSpec`], and the branch is force-pushed to the fork.
//!
//! Credentials come from [`gitcli`](super::gitcli)'s askpass helper only: no URL, file,
//! remote or log line ever holds the token, and every message git prints is scrubbed
//! before it goes into an error.

use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Reference, Repository, RepositoryInitOptions, Signature};

use super::api::Api;
use super::config::GitHubConfig;
use super::download::MARKER;
use super::gitcli::{GitEnv, Location, clear_stale_locks, git_error, run};
use crate::forge::{CommitSpec, ForgeError};

/// Where a checkout keeps the upstream commit it was last synced to.
const UPSTREAM_REF: &str = "refs/cascade/upstream";
/// Where a work repository keeps a base commit fetched by id.
const BASE_REF: &str = "refs/cascade/base";

/// Makes `dest` a checkout of the upstream default branch (see the module docs) and
/// returns its commit id.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock, transport = "git"))]
pub(super) fn sync_checkout(
    api: &Api,
    config: &GitHubConfig,
    feedstock: &str,
    dest: &Path,
) -> Result<String, ForgeError> {
    let name = super::repo_name(feedstock);
    let url = GitHubConfig::git_url(&config.upstream_git_url, &config.org, &name);
    let upstream = format!("{}/{name}", config.org);
    let git_dir = prepare_checkout(dest)?;
    clear_stale_locks(&git_dir);
    let at = Location::Checkout {
        git_dir: &git_dir,
        work_tree: dest,
    };
    let fetch = GitEnv::for_remote(&git_dir, &url)?;
    let refspec = format!("+HEAD:{UPSTREAM_REF}");
    let args = [
        "fetch",
        "--depth",
        "1",
        "--no-tags",
        "--no-write-fetch-head",
        "--quiet",
        "--",
        url.as_str(),
        refspec.as_str(),
    ];
    run(api, &fetch, at, &args, || {
        format!(
            "fetch the default branch of `{upstream}` into `{}`",
            dest.display()
        )
    })?;
    let sha = resolve(&git_dir, UPSTREAM_REF)?.to_string();
    let local = GitEnv::local();
    let checkout = ["checkout", "--force", "--detach", "--quiet", sha.as_str()];
    run(api, &local, at, &checkout, || {
        format!("check out {sha} of `{upstream}` in `{}`", dest.display())
    })?;
    run(api, &local, at, &["clean", "-ffdxq"], || {
        format!("remove untracked files from `{}`", dest.display())
    })?;
    Ok(sha)
}

/// Commits `commit` on top of `base` in the feedstock's work repository and force-pushes
/// it to the fork as `branch`. Returns the commit id.
#[tracing::instrument(skip_all, fields(feedstock = %feedstock, branch = %branch, transport = "git"))]
pub(super) fn push(
    api: &Api,
    config: &GitHubConfig,
    git_dir: &Path,
    feedstock: &str,
    base: &str,
    branch: &str,
    commit: &CommitSpec,
) -> Result<String, ForgeError> {
    let name = super::repo_name(feedstock);
    let fork = format!("{}/{name}", config.bot_user);
    let what = format!("the commit for `{fork}:{branch}`");
    let branch_ref = branch_ref(branch)?;
    let base_oid = parse_commit_id(base, feedstock)?;
    check_paths(commit, &what)?;
    let upstream_url = GitHubConfig::git_url(&config.upstream_git_url, &config.org, &name);
    let fork_url = GitHubConfig::git_url(&config.fork_git_url, &config.bot_user, &name);
    let path = work_repo(git_dir, feedstock);
    let repo = open_or_init_bare(&path)?;
    clear_stale_locks(&path);
    ensure_base(api, &repo, &path, &upstream_url, base_oid, feedstock)?;
    let oid = build_commit(&repo, base_oid, commit, &what)?;
    repo.reference(&branch_ref, oid, true, "cascade: push")
        .map_err(|e| git_error(format!("set `{branch_ref}` in `{}`", path.display()), &e))?;
    let env = GitEnv::for_remote(&path, &fork_url)?;
    let refspec = format!("+{branch_ref}:{branch_ref}");
    let args = [
        "push",
        "--force",
        "--quiet",
        "--no-verify",
        "--",
        fork_url.as_str(),
        refspec.as_str(),
    ];
    run(api, &env, Location::Bare(&path), &args, || {
        format!("push `{branch}` to `{fork}`")
    })?;
    Ok(oid.to_string())
}

/// The bare work repository of a feedstock under the forge's git directory.
pub(super) fn work_repo(git_dir: &Path, feedstock: &str) -> PathBuf {
    git_dir.join(format!("{feedstock}-feedstock.git"))
}

/// `refs/heads/<branch>`, after checking git would accept the name.
pub(super) fn branch_ref(branch: &str) -> Result<String, ForgeError> {
    let name = format!("refs/heads/{branch}");
    if branch.is_empty() || !Reference::is_valid_name(&name) {
        return Err(ForgeError::Invalid {
            what: format!("branch name `{branch}`"),
            reason: "not a valid git branch name".to_owned(),
        });
    }
    Ok(name)
}

/// A full commit id.
pub(super) fn parse_commit_id(id: &str, feedstock: &str) -> Result<Oid, ForgeError> {
    let invalid = || ForgeError::Invalid {
        what: format!("base commit `{id}` for `{feedstock}`"),
        reason: "not a full commit id".to_owned(),
    };
    if id.len() != 40 {
        return Err(invalid());
    }
    Oid::from_str(id).map_err(|_| invalid())
}

/// Refuses writes and deletes whose paths would leave the repository or touch `.git`.
pub(super) fn check_paths(commit: &CommitSpec, what: &str) -> Result<(), ForgeError> {
    for path in commit.writes.keys().chain(commit.deletes.iter()) {
        if let Err(reason) = check_path(path) {
            return Err(ForgeError::Invalid {
                what: format!("path `{path}` in {what}"),
                reason: reason.to_owned(),
            });
        }
    }
    Ok(())
}

/// Why a repository-relative path is unacceptable, if it is: empty, absolute, with an
/// empty, `.` or `..` component, a NUL byte, or a `.git` component.
pub(super) fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("empty");
    }
    if path.starts_with('/') {
        return Err("absolute; paths are relative to the repository root");
    }
    if path.contains('\0') {
        return Err("contains a NUL byte");
    }
    for component in path.split('/') {
        match component {
            "" => return Err("has an empty component"),
            "." | ".." => return Err("has a `.` or `..` component"),
            c if c.eq_ignore_ascii_case(".git") => return Err("is inside `.git`"),
            _ => {}
        }
    }
    Ok(())
}

/// `message` as a commit message: ending in a newline, as `git commit` writes it and as
/// the Git Data API stores it, so a commit replayed there keeps its id.
pub(super) fn commit_message(message: &str) -> String {
    if message.ends_with('\n') {
        message.to_owned()
    } else {
        format!("{message}\n")
    }
}

/// The git directory of the checkout at `dest`, creating the repository when `dest` is
/// missing, empty, or a checkout the REST transport made (its files are replaced by the
/// fetch). Anything else at `dest` is left alone and refused.
fn prepare_checkout(dest: &Path) -> Result<PathBuf, ForgeError> {
    let is_empty = match fs_err::read_dir(dest) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !dest.exists(),
    };
    let context = || format!("prepare the checkout `{}`", dest.display());
    if !is_empty && dest.join(".git").exists() {
        let repo = Repository::open(dest).map_err(|e| git_error(context(), &e))?;
        let same_tree = repo
            .workdir()
            .and_then(|w| w.canonicalize().ok())
            .zip(dest.canonicalize().ok())
            .is_some_and(|(a, b)| a == b);
        if !repo.is_bare() && same_tree {
            return Ok(repo.path().to_path_buf());
        }
    } else if is_empty || dest.join(MARKER).is_file() {
        let mut options = RepositoryInitOptions::new();
        options.mkpath(true).external_template(false);
        let repo = Repository::init_opts(dest, &options).map_err(|e| git_error(context(), &e))?;
        return Ok(repo.path().to_path_buf());
    }
    Err(ForgeError::Io {
        path: dest.to_path_buf(),
        message: "exists and is not a checkout cascade made; remove it or choose another \
                  directory"
            .to_owned(),
    })
}

/// Opens the bare work repository at `path`, creating it when missing.
fn open_or_init_bare(path: &Path) -> Result<Repository, ForgeError> {
    let context = || format!("open the work repository `{}`", path.display());
    if path.exists() {
        return Repository::open_bare(path).map_err(|e| git_error(context(), &e));
    }
    let mut options = RepositoryInitOptions::new();
    options.bare(true).mkpath(true).external_template(false);
    Repository::init_opts(path, &options).map_err(|e| git_error(context(), &e))
}

/// Makes sure the work repository holds `base`: fetches the upstream default branch
/// (where a base normally is), then the commit itself by id.
fn ensure_base(
    api: &Api,
    repo: &Repository,
    path: &Path,
    upstream_url: &str,
    base: Oid,
    feedstock: &str,
) -> Result<(), ForgeError> {
    if repo.find_commit(base).is_ok() {
        return Ok(());
    }
    let env = GitEnv::for_remote(path, upstream_url)?;
    let default_branch = format!("+HEAD:{UPSTREAM_REF}");
    let by_id = format!("+{base}:{BASE_REF}");
    for refspec in [&default_branch, &by_id] {
        let args = [
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--quiet",
            "--",
            upstream_url,
            refspec.as_str(),
        ];
        let fetched = run(api, &env, Location::Bare(path), &args, || {
            format!("fetch {base} of `{feedstock}` into `{}`", path.display())
        });
        if repo.find_commit(base).is_ok() {
            return Ok(());
        }
        if refspec == &by_id {
            fetched?;
        }
    }
    Err(ForgeError::Git {
        context: format!("fetch {base} of `{feedstock}` into `{}`", path.display()),
        message: "the upstream repository does not have that commit".to_owned(),
    })
}

/// The commit `commit` describes, on top of `base`, built in memory: the base tree with
/// the writes and deletes applied (a written file keeps an executable mode; a new one is
/// `100644`; deleting a missing path is no error), author and committer both the
/// commit's author, now.
fn build_commit(
    repo: &Repository,
    base: Oid,
    commit: &CommitSpec,
    what: &str,
) -> Result<Oid, ForgeError> {
    let context = || format!("build {what} in `{}`", repo.path().display());
    let fail = |e: git2::Error| git_error(context(), &e);
    let base_commit = repo.find_commit(base).map_err(fail)?;
    let base_tree = base_commit.tree().map_err(fail)?;
    let mut update = TreeUpdateBuilder::new();
    for path in &commit.deletes {
        if base_tree.get_path(Path::new(path)).is_ok() {
            update.remove(path.as_str());
        }
    }
    for (path, text) in &commit.writes {
        let mode = match base_tree.get_path(Path::new(path)) {
            Ok(entry) if entry.filemode() == i32::from(FileMode::BlobExecutable) => {
                FileMode::BlobExecutable
            }
            _ => FileMode::Blob,
        };
        let blob = repo.blob(text.as_bytes()).map_err(fail)?;
        update.upsert(path.as_str(), blob, mode);
    }
    let tree_id = update.create_updated(repo, &base_tree).map_err(fail)?;
    let tree = repo.find_tree(tree_id).map_err(fail)?;
    let author = Signature::now(&commit.author_name, &commit.author_email).map_err(|e| {
        ForgeError::Invalid {
            what: format!("author `{} <{}>`", commit.author_name, commit.author_email),
            reason: e.message().to_owned(),
        }
    })?;
    let message = commit_message(&commit.message);
    repo.commit(None, &author, &author, &message, &tree, &[&base_commit])
        .map_err(fail)
}

/// The commit `refname` points at in the repository whose git directory is `git_dir`.
fn resolve(git_dir: &Path, refname: &str) -> Result<Oid, ForgeError> {
    let context = || format!("read `{refname}` in `{}`", git_dir.display());
    let repo = Repository::open(git_dir).map_err(|e| git_error(context(), &e))?;
    repo.revparse_single(refname)
        .and_then(|object| object.peel_to_commit())
        .map(|commit| commit.id())
        .map_err(|e| git_error(context(), &e))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::process::Command;

    use super::super::{GitHubForge, Limits};
    use super::*;

    /// `git <args>` in `dir`, which must succeed.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Jane Maintainer")
            .env("GIT_AUTHOR_EMAIL", "jane@example.org")
            .env("GIT_COMMITTER_NAME", "Jane Maintainer")
            .env("GIT_COMMITTER_EMAIL", "jane@example.org")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn write(path: &Path, text: &str) {
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }

    /// A feedstock `x` upstream (`<root>/conda-forge/x-feedstock.git`, built in
    /// `<root>/src`) and the bot's fork as a copy of it; the forge's config points at both
    /// through `file://` templates. Returns the forge and the source work tree.
    fn world(root: &Path) -> (GitHubForge, PathBuf) {
        let src = root.join("src");
        write(&src.join("recipe/meta.yaml"), "version: 1.0\n");
        write(&src.join("README.md"), "# x\n");
        write(
            &src.join(".ci_support/linux_64_.yaml"),
            "c_compiler:\n- gcc\n",
        );
        write(&src.join("build.sh"), "#!/bin/sh\nmake\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(src.join("build.sh"), std::fs::Permissions::from_mode(0o755))
                .unwrap();
        }
        git(&src, &["init", "-q", "-b", "main"]);
        git(&src, &["add", "-A"]);
        git(&src, &["commit", "-qm", "Initial feedstock"]);
        let upstream = root.join("conda-forge/x-feedstock.git");
        let fork = root.join("bot/x-feedstock.git");
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                src.to_str().unwrap(),
                upstream.to_str().unwrap(),
            ],
        );
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                upstream.to_str().unwrap(),
                fork.to_str().unwrap(),
            ],
        );
        let template = format!("file://{}/{{owner}}/{{repo}}.git", root.display());
        let config = GitHubConfig {
            api_url: "http://127.0.0.1:1".to_owned(),
            org: "conda-forge".to_owned(),
            bot_user: "bot".to_owned(),
            upstream_git_url: template.clone(),
            fork_git_url: template,
            limits: Limits {
                create_spacing_ms: 0,
                ..Limits::default()
            },
            ..GitHubConfig::default()
        };
        let env =
            |name: &str| (name == "CASCADE_GITHUB_TOKEN").then(|| "ghp_unit_test_token".to_owned());
        let forge = GitHubForge::open(config, &root.join("forge"), &env).unwrap();
        (forge, src)
    }

    fn push_upstream(src: &Path, root: &Path) -> String {
        git(src, &["add", "-A"]);
        git(src, &["commit", "-qm", "Update"]);
        let upstream = root.join("conda-forge/x-feedstock.git");
        git(src, &["push", "-q", upstream.to_str().unwrap(), "main"]);
        git(src, &["rev-parse", "HEAD"])
    }

    /// Path → (mode, blob id) of every file of a commit.
    fn files(repo: &Repository, commit: Oid) -> BTreeMap<String, (i32, Oid)> {
        let mut out = BTreeMap::new();
        let tree = repo.find_commit(commit).unwrap().tree().unwrap();
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                out.insert(
                    format!("{root}{}", entry.name().unwrap()),
                    (entry.filemode(), entry.id()),
                );
            }
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        out
    }

    fn spec(writes: &[(&str, &str)], deletes: &[&str], message: &str) -> CommitSpec {
        CommitSpec {
            writes: writes
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            deletes: deletes
                .iter()
                .map(|p| p.to_string())
                .collect::<BTreeSet<_>>(),
            message: message.to_owned(),
            author_name: "regro-cf-autotick-bot".to_owned(),
            author_email: "bot@example.org".to_owned(),
        }
    }

    #[test]
    fn a_checkout_follows_upstream_and_loses_local_edits() {
        let root = tempfile::tempdir().unwrap();
        let (forge, src) = world(root.path());
        let dest = root.path().join("checkouts/x-feedstock");
        let first = sync_checkout(&forge.api, &forge.config, "x", &dest).unwrap();
        assert_eq!(first, git(&src, &["rev-parse", "HEAD"]));
        assert_eq!(
            fs_err::read_to_string(dest.join("recipe/meta.yaml")).unwrap(),
            "version: 1.0\n"
        );
        write(&src.join("recipe/meta.yaml"), "version: 2.0\n");
        let second_upstream = push_upstream(&src, root.path());
        write(&dest.join("README.md"), "edited locally\n");
        write(&dest.join("stray/file.txt"), "untracked\n");
        let second = sync_checkout(&forge.api, &forge.config, "x", &dest).unwrap();
        assert_eq!(second, second_upstream);
        assert_eq!(
            fs_err::read_to_string(dest.join("recipe/meta.yaml")).unwrap(),
            "version: 2.0\n"
        );
        assert_eq!(
            fs_err::read_to_string(dest.join("README.md")).unwrap(),
            "# x\n"
        );
        assert!(!dest.join("stray").exists());
        let config = fs_err::read_to_string(dest.join(".git/config")).unwrap();
        assert!(!config.contains("[remote"), "{config}");
        assert!(!dest.join(".git/FETCH_HEAD").exists());
    }

    #[test]
    fn a_directory_cascade_did_not_make_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let (forge, _src) = world(root.path());
        let dest = root.path().join("somebody-elses");
        write(&dest.join("notes.txt"), "keep me\n");
        let err = sync_checkout(&forge.api, &forge.config, "x", &dest).unwrap_err();
        assert!(matches!(err, ForgeError::Io { .. }), "{err:?}");
        assert_eq!(
            fs_err::read_to_string(dest.join("notes.txt")).unwrap(),
            "keep me\n"
        );
    }

    #[test]
    fn a_push_carries_exactly_the_changes_and_a_second_push_replaces_the_branch() {
        let root = tempfile::tempdir().unwrap();
        let (forge, src) = world(root.path());
        let git_dir = root.path().join("forge/github-git");
        let base = git(&src, &["rev-parse", "HEAD"]);
        let change = spec(
            &[
                ("recipe/meta.yaml", "version: 1.1\n"),
                ("build.sh", "#!/bin/sh\nmake -j2\n"),
                ("new/file.txt", "x"),
            ],
            &["README.md", "not/there.txt"],
            "MNT: bump",
        );
        let sha = push(
            &forge.api,
            &forge.config,
            &git_dir,
            "x",
            &base,
            "bump_h1",
            &change,
        )
        .unwrap();
        let fork = Repository::open_bare(root.path().join("bot/x-feedstock.git")).unwrap();
        assert_eq!(
            fork.refname_to_id("refs/heads/bump_h1")
                .unwrap()
                .to_string(),
            sha
        );
        let commit = fork.find_commit(Oid::from_str(&sha).unwrap()).unwrap();
        assert_eq!(
            commit
                .parent_ids()
                .map(|p| p.to_string())
                .collect::<Vec<_>>(),
            std::slice::from_ref(&base)
        );
        assert_eq!(commit.message().unwrap(), "MNT: bump\n");
        assert_eq!(commit.author().name().unwrap(), "regro-cf-autotick-bot");
        assert_eq!(commit.committer().email().unwrap(), "bot@example.org");
        let before = files(&fork, Oid::from_str(&base).unwrap());
        let after = files(&fork, commit.id());
        let blob = |text: &str| Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).unwrap();
        let mut expected = before.clone();
        expected.remove("README.md");
        expected.insert(
            "recipe/meta.yaml".into(),
            (0o100644, blob("version: 1.1\n")),
        );
        expected.insert("build.sh".into(), (0o100755, blob("#!/bin/sh\nmake -j2\n")));
        expected.insert("new/file.txt".into(), (0o100644, blob("x")));
        assert_eq!(after, expected);

        let again = push(
            &forge.api,
            &forge.config,
            &git_dir,
            "x",
            &base,
            "bump_h1",
            &spec(&[("recipe/meta.yaml", "version: 1.2\n")], &[], "MNT: again"),
        )
        .unwrap();
        assert_ne!(again, sha);
        assert_eq!(
            fork.refname_to_id("refs/heads/bump_h1")
                .unwrap()
                .to_string(),
            again
        );
        let replaced = fork.find_commit(Oid::from_str(&again).unwrap()).unwrap();
        assert_eq!(replaced.parent_id(0).unwrap().to_string(), base);
        assert!(files(&fork, replaced.id()).contains_key("README.md"));

        // A newer upstream commit as base is fetched into the work repository first.
        write(&src.join("recipe/meta.yaml"), "version: 2.0\n");
        let newer = push_upstream(&src, root.path());
        let on_newer = push(
            &forge.api,
            &forge.config,
            &git_dir,
            "x",
            &newer,
            "bump_h2",
            &spec(&[("a.txt", "a\n")], &[], "MNT: on newer"),
        )
        .unwrap();
        let fork = Repository::open_bare(root.path().join("bot/x-feedstock.git")).unwrap();
        let commit = fork.find_commit(Oid::from_str(&on_newer).unwrap()).unwrap();
        assert_eq!(commit.parent_id(0).unwrap().to_string(), newer);

        let work = work_repo(&git_dir, "x");
        let config = fs_err::read_to_string(work.join("config")).unwrap();
        assert!(!config.contains("[remote"), "{config}");
        assert!(!work.join("FETCH_HEAD").exists());
    }

    #[test]
    fn bad_bases_branches_and_paths_are_refused_before_any_git_work() {
        let root = tempfile::tempdir().unwrap();
        let (forge, src) = world(root.path());
        let git_dir = root.path().join("forge/github-git");
        let base = git(&src, &["rev-parse", "HEAD"]);
        let ok = spec(&[("a", "b")], &[], "m");
        let refused = |base: &str, branch: &str, change: &CommitSpec| {
            push(
                &forge.api,
                &forge.config,
                &git_dir,
                "x",
                base,
                branch,
                change,
            )
            .unwrap_err()
        };
        assert!(matches!(
            refused("abc", "b", &ok),
            ForgeError::Invalid { .. }
        ));
        assert!(matches!(
            refused(&base, "a..b", &ok),
            ForgeError::Invalid { .. }
        ));
        assert!(matches!(
            refused(&base, "b", &spec(&[("../x", "b")], &[], "m")),
            ForgeError::Invalid { .. }
        ));
        assert!(matches!(
            refused(&base, "b", &spec(&[], &[".git/config"], "m")),
            ForgeError::Invalid { .. }
        ));
        assert!(!work_repo(&git_dir, "x").exists());
        let missing = "0123456789012345678901234567890123456789";
        assert!(matches!(refused(missing, "b", &ok), ForgeError::Git { .. }));
    }
}
