//! Running the git command line: where it runs, what environment it gets, and how its
//! failures become errors (stderr scrubbed of every credential).
//!
//! How the token reaches git without being written anywhere: git asks a small helper
//! script (`GIT_ASKPASS`) for the user name and password, and the script answers from
//! environment variables that only that one git process (and its children) receives. The script holds no credential; the URL holds none either; credential
//! helpers are switched off so git never stores what it was told.
//!
//! [`GitEnv`] decides, per remote URL, whether git gets the token at all: over `https`,
//! and over plain `http` only to the loopback interface (local test servers). Any other
//! scheme (`file://`, a path, `ssh`) runs without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use super::api::Api;
use crate::forge::ForgeError;

/// A lock file older than this was left behind by a killed process.
const STALE_LOCK: Duration = Duration::from_secs(600);

/// The file name of the helper, inside the git directory of the repository it serves.
const SCRIPT_NAME: &str = "cascade-askpass";

/// The helper itself. git calls it with its prompt (`Username for '…': ` or
/// `Password for '…': `) as the only argument and reads the answer from stdout.
const SCRIPT: &str = "#!/bin/sh
# cascade's git askpass helper. It holds no credential: it answers git's prompts from
# the environment of the one git command cascade runs.
case \"$1\" in
[Uu]sername*) printf '%s\\n' \"${CASCADE_GIT_USERNAME-x-access-token}\" ;;
*) printf '%s\\n' \"${CASCADE_GIT_PASSWORD-}\" ;;
esac
";

/// The environment variable carrying the token to the helper.
const PASSWORD_VAR: &str = "CASCADE_GIT_PASSWORD";
/// The environment variable carrying the user name (GitHub takes any name with a token;
/// `x-access-token` is what App installation tokens document).
const USERNAME_VAR: &str = "CASCADE_GIT_USERNAME";

/// Environment variables of the calling process that would redirect or reconfigure a
/// git command cascade runs (they are set inside git hooks, for example).
const INHERITED_GIT_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "SSH_ASKPASS",
];

/// Whether git may be given the token for a remote URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Credentials {
    /// `https://`, or `http://` to the loopback interface: git gets the token through
    /// the helper.
    Token,
    /// Anything else (`file://`, a local path, `ssh://`): git gets nothing and never
    /// prompts.
    None,
}

impl Credentials {
    /// What a remote URL gets. A URL that carries credentials of its own
    /// (`https://user:secret@host/…`) is refused: credentials never go into URLs.
    pub(super) fn for_url(url: &str) -> Result<Credentials, ForgeError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Ok(Credentials::None);
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let scheme = scheme.to_ascii_lowercase();
        if matches!(scheme.as_str(), "http" | "https") && authority.contains('@') {
            return Err(ForgeError::Invalid {
                what: "git URL template".to_owned(),
                reason: "holds a user name or credential; the token reaches git through an \
                         askpass helper, never through the URL"
                    .to_owned(),
            });
        }
        let host = authority
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(authority, |(host, _)| host);
        let loopback = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
        Ok(match scheme.as_str() {
            "https" => Credentials::Token,
            "http" if loopback => Credentials::Token,
            _ => Credentials::None,
        })
    }
}

/// The environment of one git command.
pub(super) struct GitEnv {
    /// The helper script, when git gets the token.
    script: Option<PathBuf>,
}

impl GitEnv {
    /// The environment for talking to `url` from the repository whose git directory is
    /// `git_dir` (the helper is written there, once, when `url` gets the token).
    pub(super) fn for_remote(git_dir: &Path, url: &str) -> Result<GitEnv, ForgeError> {
        let script = match Credentials::for_url(url)? {
            Credentials::Token => Some(ensure_script(git_dir)?),
            Credentials::None => None,
        };
        Ok(GitEnv { script })
    }

    /// An environment for a command that talks to no remote.
    pub(super) fn local() -> GitEnv {
        GitEnv { script: None }
    }

    /// A `git` command (its arguments follow): no prompts, no credential helpers, no
    /// inherited git variables, and — when the remote gets it — the token in this
    /// child's environment only, for the helper to print.
    pub(super) fn command(&self, api: &Api) -> Result<Command, ForgeError> {
        let mut command = Command::new("git");
        command
            // An empty value resets the list: no helper reads or stores credentials.
            .args(["-c", "credential.helper="])
            .args(["-c", "core.askPass="])
            // A stalled transfer fails instead of hanging the run.
            .args([
                "-c",
                "http.lowSpeedLimit=1000",
                "-c",
                "http.lowSpeedTime=60",
            ])
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env_remove(PASSWORD_VAR)
            .env_remove(USERNAME_VAR);
        for var in INHERITED_GIT_VARS {
            command.env_remove(var);
        }
        match &self.script {
            Some(script) => {
                let token = api.token()?;
                command
                    .env("GIT_ASKPASS", script)
                    .env(USERNAME_VAR, "x-access-token")
                    .env(PASSWORD_VAR, token.expose());
            }
            // Empty: git skips askpass and, with prompts off, fails instead of asking.
            None => {
                command.env("GIT_ASKPASS", "");
            }
        }
        Ok(command)
    }
}

/// Writes the helper into `git_dir` unless it is already there as written, owner-only
/// (0700). It is replaced atomically, so a concurrent git never runs half a script.
fn ensure_script(git_dir: &Path) -> Result<PathBuf, ForgeError> {
    let path = git_dir.join(SCRIPT_NAME);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| ForgeError::Io {
            path,
            message: e.to_string(),
        }
    };
    if let Ok(existing) = fs_err::read(&path)
        && existing == SCRIPT.as_bytes()
        && is_owner_only_executable(&path)
    {
        return Ok(path);
    }
    let temporary = git_dir.join(format!("{SCRIPT_NAME}.{}.tmp", std::process::id()));
    fs_err::write(&temporary, SCRIPT).map_err(io(&temporary))?;
    set_owner_only_executable(&temporary).map_err(io(&temporary))?;
    fs_err::rename(&temporary, &path).map_err(io(&path))?;
    Ok(path)
}

#[cfg(unix)]
fn is_owner_only_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 == 0o700)
}

#[cfg(unix)]
fn set_owner_only_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn is_owner_only_executable(_path: &Path) -> bool {
    true
}

#[cfg(not(unix))]
fn set_owner_only_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Where a git command runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Location<'a> {
    /// A bare repository.
    Bare(&'a Path),
    /// A checkout: its git directory and work tree.
    Checkout {
        git_dir: &'a Path,
        work_tree: &'a Path,
    },
}

/// Runs `git <args>` at `at`, returning stdout. A failure becomes
/// [`ForgeError::Git`] with `context()` and git's scrubbed stderr.
pub(super) fn run(
    api: &Api,
    env: &GitEnv,
    at: Location<'_>,
    args: &[&str],
    context: impl Fn() -> String,
) -> Result<String, ForgeError> {
    let mut command = env.command(api)?;
    match at {
        Location::Bare(git_dir) => {
            command.arg("--git-dir").arg(git_dir).current_dir(git_dir);
        }
        Location::Checkout { git_dir, work_tree } => {
            command
                .arg("--git-dir")
                .arg(git_dir)
                .arg("--work-tree")
                .arg(work_tree)
                .current_dir(work_tree);
        }
    }
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let redactor = api.redactor();
    tracing::debug!(git = %redactor.scrub(&args.join(" ")), "running git");
    let output = command.output().map_err(|e| ForgeError::Git {
        context: redactor.scrub(&context()),
        message: format!("cannot run `git`: {e}"),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr = stderr.trim();
        let message = if stderr.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            stderr.to_owned()
        };
        return Err(ForgeError::Git {
            context: redactor.scrub(&context()),
            message: redactor.scrub(&message),
        });
    }
    Ok(redactor.scrub(&String::from_utf8_lossy(&output.stdout)))
}

/// A libgit2 error as [`ForgeError::Git`].
pub(super) fn git_error(context: String, err: &git2::Error) -> ForgeError {
    ForgeError::Git {
        context,
        message: err.message().to_owned(),
    }
}

/// Removes lock files a killed git left in `git_dir` (they would fail every later
/// command there); fresh ones belong to a git that is still running and stay.
pub(super) fn clear_stale_locks(git_dir: &Path) {
    for name in ["index.lock", "shallow.lock", "HEAD.lock", "config.lock"] {
        let path = git_dir.join(name);
        let stale = fs_err::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|at| {
                SystemTime::now()
                    .duration_since(at)
                    .is_ok_and(|age| age > STALE_LOCK)
            });
        if stale {
            tracing::warn!(lock = %path.display(), "removing a stale git lock file");
            let _ = fs_err::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_http_get_the_token() {
        for (url, expected) in [
            ("https://github.com/o/r.git", Credentials::Token),
            ("HTTPS://github.com/o/r.git", Credentials::Token),
            ("http://127.0.0.1:8080/o/r.git", Credentials::Token),
            ("http://localhost/o/r.git", Credentials::Token),
            ("http://[::1]:9/o/r.git", Credentials::Token),
            ("http://github.com/o/r.git", Credentials::None),
            ("http://127.0.0.1.evil.example/o/r.git", Credentials::None),
            ("file:///srv/git/o/r.git", Credentials::None),
            ("/srv/git/o/r.git", Credentials::None),
            ("ssh://git@github.com/o/r.git", Credentials::None),
        ] {
            assert_eq!(Credentials::for_url(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn urls_carrying_credentials_are_refused() {
        for url in [
            "https://ghp_secret@github.com/o/r.git",
            "https://x-access-token:ghp_secret@github.com/o/r.git",
            "http://u:p@127.0.0.1:1/o/r.git",
        ] {
            let err = Credentials::for_url(url).unwrap_err();
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn the_helper_is_written_once_owner_only_and_holds_no_credential() {
        let dir = tempfile::tempdir().unwrap();
        let path = ensure_script(dir.path()).unwrap();
        assert_eq!(fs_err::read_to_string(&path).unwrap(), SCRIPT);
        assert!(is_owner_only_executable(&path));
        let before = fs_err::metadata(&path).unwrap().modified().unwrap();
        assert_eq!(ensure_script(dir.path()).unwrap(), path);
        assert_eq!(fs_err::metadata(&path).unwrap().modified().unwrap(), before);
        let leftovers: Vec<_> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, [SCRIPT_NAME]);
    }

    #[test]
    fn the_helper_answers_both_prompts_from_its_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = ensure_script(dir.path()).unwrap();
        let ask = |prompt: &str| {
            let out = Command::new(&path)
                .arg(prompt)
                .env(PASSWORD_VAR, "ghp_from_the_environment")
                .env(USERNAME_VAR, "x-access-token")
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        assert_eq!(
            ask("Username for 'https://github.com': "),
            "x-access-token\n"
        );
        assert_eq!(
            ask("Password for 'https://x-access-token@github.com': "),
            "ghp_from_the_environment\n"
        );
    }
}
