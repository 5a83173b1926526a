//! A real local GitHub API server for the forge tests: vercel-labs `emulate` 0.12.2 on Node 22,
//! installed by `npm ci --prefix tools/gh-emulator` and started through
//! `tools/gh-emulator/serve.mjs` (see `../shared/docs/reference/github-emulators.md`).
//!
//! One [`Emulator`] is one server process on a random 127.0.0.1 port, killed on drop. Tests set
//! up state through its REST API ([`Emulator::request`]) and mirror local git history into it
//! through the Git Data API ([`Emulator::replay`]); emulate computes real git object ids, so a
//! replayed commit keeps its local SHA.

use std::cell::Cell;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// Token of `regro-cf-autotick-bot` in [`seed`] (also what emulate falls back to for an
/// unknown token: the first seeded user).
pub const BOT_TOKEN: &str = "bot_token";
/// Token of `maint`, a maintainer without write access (emulate cannot seed collaborators):
/// it can label, comment and merge (emulate's merge check is lax), not push or archive.
pub const MAINT_TOKEN: &str = "maint_token";
/// Token of the `conda-forge` owner: replaying upstream history, archiving repos.
pub const OWNER_TOKEN: &str = "conda_forge_token";

/// How long the server may take to print `READY` or answer `reset`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running emulate GitHub server on 127.0.0.1, killed on drop.
pub struct Emulator {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    url: String,
    agent: ureq::Agent,
    replayed: Cell<usize>,
    _seed: tempfile::NamedTempFile,
}

impl Emulator {
    /// Starts one with this seed (YAML text written to a temp file). Returns None — after
    /// printing "skipping: <why>" to stderr — when tools/gh-emulator/node_modules is missing
    /// and CASCADE_GITHUB_EMULATOR is not "required"; panics with a clear message
    /// (install command included) when it is required but missing.
    pub fn start(seed_yaml: &str) -> Option<Emulator> {
        let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/gh-emulator");
        let node = tools.join("node_modules/.bin/node");
        if !node.exists() || !tools.join("node_modules/emulate").is_dir() {
            let why = format!(
                "the GitHub API emulator is not installed ({} is missing); install it with \
                 `npm ci --prefix tools/gh-emulator --no-audit --no-fund`",
                node.display()
            );
            if std::env::var("CASCADE_GITHUB_EMULATOR").as_deref() == Ok("required") {
                panic!("CASCADE_GITHUB_EMULATOR=required but {why}");
            }
            eprintln!("skipping: {why}");
            return None;
        }
        let mut seed = tempfile::NamedTempFile::new().unwrap();
        seed.write_all(seed_yaml.as_bytes()).unwrap();
        let mut child = Command::new(&node)
            .arg(tools.join("serve.mjs"))
            .arg(seed.path())
            .current_dir(&tools)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", node.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        let mut emulator = Emulator {
            child,
            stdin,
            lines,
            url: String::new(),
            agent: config.into(),
            replayed: Cell::new(0),
            _seed: seed,
        };
        let ready = emulator.expect_line("READY ");
        emulator.url = ready
            .trim_end_matches('/')
            .replace("localhost", "127.0.0.1");
        Some(emulator)
    }

    /// Base URL, `http://127.0.0.1:<port>` (localhost replaced).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Back to the seed.
    pub fn reset(&mut self) {
        writeln!(self.stdin, "reset").unwrap();
        self.stdin.flush().unwrap();
        self.expect_line("RESET");
    }

    /// Blocking JSON request as `token` (Bearer) — for test setup and maintainer actions
    /// (merge, label, archive, check runs). Returns (status, body json or Null); a body that
    /// is not JSON comes back as a JSON string.
    pub fn request(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let builder = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("User-Agent", "cascade-tests");
        let sent = match body {
            Some(body) => self.agent.run(
                builder
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .unwrap(),
            ),
            None => self.agent.run(builder.body(()).unwrap()),
        };
        let mut response = sent.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    /// Replays every commit reachable from `rev` in the local git repository `repo`
    /// (a git2-openable path, bare or not) that the emulator's `owner/name` lacks, oldest
    /// first, through the Git Data API (trees with inline/base64 blobs, commits with the exact
    /// author/committer/dates/message/parents), then creates or force-updates
    /// `refs/heads/<branch>` to it. Asserts the resulting SHA equals the local one.
    pub fn replay(
        &self,
        token: &str,
        owner: &str,
        name: &str,
        repo: &Path,
        rev: &str,
        branch: &str,
    ) -> String {
        let git = git2::Repository::open(repo).unwrap();
        let tip = git.revparse_single(rev).unwrap().peel_to_commit().unwrap();
        let (api, sha) = (format!("/repos/{owner}/{name}/git"), tip.id().to_string());
        // The commits the emulator lacks: walk back from the tip, stop at ones it has.
        let mut walk = git.revwalk().unwrap();
        walk.push(tip.id()).unwrap();
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .unwrap();
        let (mut stack, mut seen) = (vec![tip], HashSet::new());
        while let Some(commit) = stack.pop() {
            if !seen.insert(commit.id()) {
                continue;
            }
            if self.exists(token, &format!("{api}/commits/{}", commit.id())) {
                walk.hide(commit.id()).unwrap();
            } else {
                stack.extend(commit.parents());
            }
        }
        for oid in walk {
            self.replay_commit(token, &api, &git, &git.find_commit(oid.unwrap()).unwrap());
        }
        let body = if self.exists(token, &format!("{api}/ref/heads/{branch}")) {
            let update = json!({"sha": sha, "force": true});
            self.send(
                token,
                "PATCH",
                &format!("{api}/refs/heads/{branch}"),
                update,
                200,
            )
        } else {
            let create = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
            self.send(token, "POST", &format!("{api}/refs"), create, 201)
        };
        assert_eq!(
            body["object"]["sha"],
            sha.as_str(),
            "{owner}/{name}: {branch} after replay"
        );
        sha
    }

    /// How many commits [`Emulator::replay`] has created so far (commits the server already
    /// had are not counted), so a test can check that a replay was incremental.
    pub fn replayed_commits(&self) -> usize {
        self.replayed.get()
    }

    /// Creates the full tree of `commit`, then the commit itself, and checks both SHAs.
    fn replay_commit(
        &self,
        token: &str,
        api: &str,
        git: &git2::Repository,
        commit: &git2::Commit<'_>,
    ) {
        let (tree, mut entries) = (commit.tree().unwrap(), Vec::new());
        tree.walk(git2::TreeWalkMode::PreOrder, |root, entry| {
            let path = format!("{root}{}", entry.name().unwrap());
            entries.extend(self.tree_entry(token, api, git, path, entry));
            git2::TreeWalkResult::Ok
        })
        .unwrap();
        let created = self.send(
            token,
            "POST",
            &format!("{api}/trees"),
            json!({"tree": entries}),
            201,
        );
        assert_eq!(
            created["sha"],
            tree.id().to_string().as_str(),
            "the tree of {}",
            commit.id()
        );
        let message = commit.message_raw().unwrap();
        assert!(
            message.ends_with('\n'),
            "commit {} has a message without a trailing newline; emulate always adds one, so it \
             cannot keep the SHA (end git2 commit messages with \\n)",
            commit.id()
        );
        let parents: Vec<String> = commit.parent_ids().map(|p| p.to_string()).collect();
        let body = json!({
            "message": message,
            "tree": tree.id().to_string(),
            "parents": parents,
            "author": identity(&commit.author()),
            "committer": identity(&commit.committer()),
        });
        let created = self.send(token, "POST", &format!("{api}/commits"), body, 201);
        assert_eq!(
            created["sha"],
            commit.id().to_string().as_str(),
            "commit {} came back with another SHA (signed commits and non-UTF-8 metadata cannot \
             be replayed)",
            commit.id()
        );
        self.replayed.set(self.replayed.get() + 1);
    }

    /// One entry of a flat `POST git/trees` list: a UTF-8 blob inline, another blob uploaded
    /// as base64 and referenced by SHA, a submodule commit; `None` for a subtree (its files
    /// come with their full paths).
    fn tree_entry(
        &self,
        token: &str,
        api: &str,
        git: &git2::Repository,
        path: String,
        entry: &git2::TreeEntry<'_>,
    ) -> Option<Value> {
        let (mode, sha) = (format!("{:06o}", entry.filemode()), entry.id().to_string());
        match entry.kind()? {
            git2::ObjectType::Commit => {
                Some(json!({"path": path, "mode": mode, "type": "commit", "sha": sha}))
            }
            git2::ObjectType::Blob => {
                let blob = git.find_blob(entry.id()).unwrap();
                if let Ok(text) = std::str::from_utf8(blob.content()) {
                    return Some(
                        json!({"path": path, "mode": mode, "type": "blob", "content": text}),
                    );
                }
                let content = base64::engine::general_purpose::STANDARD.encode(blob.content());
                let upload = json!({"content": content, "encoding": "base64"});
                self.send(token, "POST", &format!("{api}/blobs"), upload, 201);
                Some(json!({"path": path, "mode": mode, "type": "blob", "sha": sha}))
            }
            _ => None,
        }
    }

    /// Whether `GET path` answers 200.
    fn exists(&self, token: &str, path: &str) -> bool {
        self.request(token, "GET", path, None).0 == 200
    }

    /// A request that must answer `expected`; returns the body.
    fn send(&self, token: &str, method: &str, path: &str, body: Value, expected: u16) -> Value {
        let (status, answer) = self.request(token, method, path, Some(body));
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    /// The next stdout line starting with `prefix`, within [`STARTUP_TIMEOUT`].
    fn expect_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line[prefix.len()..].to_owned(),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "the GitHub API emulator printed no `{prefix}` line within {STARTUP_TIMEOUT:?}"
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the GitHub API emulator exited before `{prefix}` ({:?}); its stderr is above",
                    self.child.wait()
                ),
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A git signature as the Git Data API takes it: name, email and an RFC 3339 date that keeps
/// the commit's own UTC offset (emulate writes that offset into the commit object).
fn identity(signature: &git2::Signature<'_>) -> Value {
    let time = signature.when();
    let minutes = time.offset_minutes();
    let offset = jiff::tz::Offset::from_seconds(minutes * 60).unwrap();
    let local = offset.to_datetime(jiff::Timestamp::from_second(time.seconds()).unwrap());
    let sign = if minutes < 0 { '-' } else { '+' };
    let (hours, minutes) = (minutes.abs() / 60, minutes.abs() % 60);
    let date = format!(
        "{}{sign}{hours:02}:{minutes:02}",
        local.strftime("%Y-%m-%dT%H:%M:%S")
    );
    json!({"name": signature.name().unwrap(), "email": signature.email().unwrap(), "date": date})
}

/// A seed for the usual cast: users `regro-cf-autotick-bot` (token `bot_token`) and
/// `maint` (token `maint_token`), owner `conda-forge` (seeded as a USER — see gap G1 — so
/// `/users/conda-forge/repos` lists its repos; token `conda_forge_token`), and the given
/// feedstock repos with `auto_init: false` (empty; fill them with `replay`).
pub fn seed(feedstocks: &[&str]) -> String {
    let mut yaml = format!(
        "tokens:\n  {BOT_TOKEN}: {{ login: regro-cf-autotick-bot, scopes: [repo, user, workflow] }}\n  \
         {MAINT_TOKEN}: {{ login: maint, scopes: [repo, user] }}\n  \
         {OWNER_TOKEN}: {{ login: conda-forge, scopes: [repo, user, admin:org] }}\n\
         github:\n  users:\n    - {{ login: regro-cf-autotick-bot, name: Autotick Bot }}\n    \
         - {{ login: maint, name: A Maintainer }}\n    - {{ login: conda-forge, name: conda-forge }}\n  repos:\n"
    );
    for name in feedstocks {
        yaml.push_str(&format!(
            "    - {{ owner: conda-forge, name: \"{name}\", default_branch: main, auto_init: false }}\n"
        ));
    }
    yaml
}
