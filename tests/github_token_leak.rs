//! The token never leaves the places it is meant for (issue 7's acceptance: "the token
//! never appears in logs, errors, PR bodies or git remotes on disk").
//!
//! - git gets it only through the askpass helper: a local smart-HTTP server (`git
//!   http-backend` behind a Basic-auth gate) serves the upstream and the fork, and a
//!   fetch and a push succeed only when git sends exactly `x-access-token:<token>`,
//!   while no URL it asked for holds the token;
//! - a push or fetch over HTTPS to a refusing address fails with an error that names the
//!   repository but not the token;
//! - after all that, no file under the forge's directory, the checkouts or the served
//!   repositories holds it (`.git/config`, reflogs, `FETCH_HEAD`, `github.sqlite`, ...);
//! - an API that echoes the `Authorization` header into its error bodies (wiremock;
//!   401, 404, 422, 500) produces errors and TRACE-level logs without the token, and the
//!   body cascade sends to `POST /pulls` does not hold it either.
//!
//! Nothing here needs `../shared/data` or the emulator: the repositories are made here.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use base64::Engine;
use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::{CommitSpec, Forge, NewPullRequest};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The token every forge here holds: distinctive, so any leak is found by a plain search.
const TOKEN: &str = "ghp_LEAKCANARY0123456789abcdefghijklmnopqr";
const BOT: &str = "regro-cf-autotick-bot";

// ---------------------------------------------------------------------------------------
// Log capture: one global TRACE subscriber writing into a buffer, for every test here.

fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    static INSTALL: Once = Once::new();
    let buffer = BUFFER.get_or_init(|| Arc::new(Mutex::new(Vec::new())));
    INSTALL.call_once(|| {
        let sink = Arc::clone(buffer);
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .init();
    });
    buffer
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured_logs() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

/// Neither the error's `Display` nor its `Debug` holds the token.
fn assert_clean(what: &str, err: &impl std::fmt::Debug, display: &str) {
    let debug = format!("{err:?}");
    assert!(
        !display.contains(TOKEN),
        "{what}: the token is in the error: {display}"
    );
    assert!(
        !debug.contains(TOKEN),
        "{what}: the token is in the error: {debug}"
    );
}

/// No file under `dirs` holds the token.
fn assert_no_file_holds_the_token(dirs: &[&Path]) -> usize {
    fn walk(dir: &Path, seen: &mut usize) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(&entry.path(), seen);
            } else if kind.is_file() {
                *seen += 1;
                let bytes = fs_err::read(entry.path()).unwrap();
                let found = bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes());
                assert!(!found, "`{}` holds the token", entry.path().display());
            }
        }
    }
    let mut seen = 0;
    for dir in dirs {
        if dir.exists() {
            walk(dir, &mut seen);
        }
    }
    seen
}

// ---------------------------------------------------------------------------------------
// Repositories: a feedstock `x` upstream and the bot's fork, as bare repositories under
// `<root>/git/<owner>/x-feedstock.git`.

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

/// Makes the repositories; returns the upstream head.
fn repositories(root: &Path) -> String {
    let src = root.join("src");
    fs_err::create_dir_all(src.join("recipe")).unwrap();
    fs_err::write(src.join("recipe/meta.yaml"), "package:\n  name: x\n").unwrap();
    fs_err::write(src.join("conda-forge.yml"), "{}\n").unwrap();
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "Initial feedstock"]);
    let upstream = root.join("git/conda-forge/x-feedstock.git");
    let fork = root.join(format!("git/{BOT}/x-feedstock.git"));
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
    git(&src, &["rev-parse", "HEAD"])
}

fn config(api_url: &str, upstream: &str, fork: &str, transport: Transport) -> GitHubConfig {
    GitHubConfig {
        api_url: api_url.to_owned(),
        transport,
        upstream_git_url: upstream.to_owned(),
        fork_git_url: fork.to_owned(),
        limits: Limits {
            create_spacing_ms: 0,
            secondary_backoff_secs: 0,
            max_wait_secs: 1,
            retries: 1,
            ..Limits::default()
        },
        ..GitHubConfig::default()
    }
}

fn forge(config: GitHubConfig, dir: &Path) -> GitHubForge {
    GitHubForge::open(config, dir, &|name| {
        (name == "CASCADE_GITHUB_TOKEN").then(|| TOKEN.to_owned())
    })
    .unwrap()
}

fn change() -> CommitSpec {
    CommitSpec {
        writes: BTreeMap::from([(
            "recipe/meta.yaml".to_owned(),
            "package:\n  name: x\n# bumped\n".to_owned(),
        )]),
        deletes: Default::default(),
        message: "MNT: bump".to_owned(),
        author_name: BOT.to_owned(),
        author_email: "bot@example.org".to_owned(),
    }
}

/// A wiremock API that says the bot's fork of `x` exists (all `push_branch` asks first).
fn fork_exists_api(runtime: &tokio::runtime::Runtime) -> MockServer {
    let server = runtime.block_on(MockServer::start());
    runtime.block_on(
        Mock::given(method("GET"))
            .and(path(format!("/repos/{BOT}/x-feedstock")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"fork": true})),
            )
            .mount(&server),
    );
    server
}

// ---------------------------------------------------------------------------------------
// A smart-HTTP git server behind Basic auth: `git http-backend` as CGI, reached only with
// the right credentials; every request is recorded.

#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    authorization: Option<String>,
}

struct GitServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn git_server(project_root: PathBuf) -> GitServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (log, halt) = (Arc::clone(&seen), Arc::clone(&stop));
    std::thread::spawn(move || {
        while !halt.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => serve(stream, &project_root, &log),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    GitServer { port, seen, stop }
}

fn expected_authorization() -> String {
    let pair = format!("x-access-token:{TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn serve(stream: TcpStream, project_root: &Path, log: &Mutex<Vec<Seen>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let authorization = headers.get("authorization").cloned();
    log.lock().unwrap().push(Seen {
        request_line: request_line.trim_end().to_owned(),
        authorization: authorization.clone(),
    });
    let mut stream = stream;
    if authorization.as_deref() != Some(expected_authorization().as_str()) {
        let _ = stream.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cascade-test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    let body = read_body(&mut reader, &headers);
    let mut parts = request_line.split_whitespace();
    let (verb, target) = (parts.next().unwrap_or("GET"), parts.next().unwrap_or("/"));
    let (path_info, query) = target.split_once('?').unwrap_or((target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env("GIT_PROJECT_ROOT", project_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", verb)
        .env("PATH_INFO", path_info)
        .env("QUERY_STRING", query)
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (header, var) in [
        ("content-type", "CONTENT_TYPE"),
        ("git-protocol", "GIT_PROTOCOL"),
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(value) = headers.get(header) {
            cgi.env(var, value);
        }
    }
    let mut child = cgi.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let output = child.wait_with_output().unwrap();
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, payload) = match split {
        Some((at, len)) => (
            String::from_utf8_lossy(&out[..at]).into_owned(),
            &out[at + len..],
        ),
        None => (String::new(), &out[..]),
    };
    let mut status = "200 OK".to_owned();
    let mut response = Vec::new();
    let mut extra = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                status = value.trim().to_owned()
            }
            Some(_) => extra.push_str(&format!("{}\r\n", line.trim_end())),
            None => {}
        }
    }
    response.extend_from_slice(
        format!(
            "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
            payload.len()
        )
        .as_bytes(),
    );
    response.extend_from_slice(payload);
    let _ = stream.write_all(&response);
}

fn read_body(reader: &mut BufReader<TcpStream>, headers: &BTreeMap<String, String>) -> Vec<u8> {
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).unwrap();
            let size =
                usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).unwrap();
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = headers
        .get("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        body.resize(length, 0);
        reader.read_exact(&mut body).unwrap();
    }
    body
}

// ---------------------------------------------------------------------------------------

#[test]
fn git_gets_the_token_from_the_askpass_helper_and_never_writes_it_down() {
    logs();
    let root = tempfile::tempdir().unwrap();
    let base = repositories(root.path());
    let server = git_server(root.path().join("git"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = fork_exists_api(&runtime);
    let url = format!("http://127.0.0.1:{}/{{owner}}/{{repo}}.git", server.port);
    let forge_dir = root.path().join("forge");
    let forge = forge(config(&api.uri(), &url, &url, Transport::Git), &forge_dir);
    let checkouts = root.path().join("checkouts");

    let synced = forge
        .sync_checkout("x", &checkouts.join("x-feedstock"))
        .unwrap();
    assert_eq!(synced, base);
    let pushed = forge.push_branch("x", &base, "bump_h1", &change()).unwrap();
    let fork = root.path().join(format!("git/{BOT}/x-feedstock.git"));
    assert_eq!(git(&fork, &["rev-parse", "refs/heads/bump_h1"]), pushed);

    let seen = server.seen.lock().unwrap().clone();
    let authorized: Vec<_> = seen.iter().filter(|s| s.authorization.is_some()).collect();
    assert!(
        authorized
            .iter()
            .any(|s| s.request_line.contains("git-upload-pack"))
            && authorized
                .iter()
                .any(|s| s.request_line.contains("git-receive-pack")),
        "both the fetch and the push authenticated: {seen:?}"
    );
    for request in &seen {
        assert!(
            !request.request_line.contains(TOKEN),
            "a URL held the token: {request:?}"
        );
        if let Some(authorization) = &request.authorization {
            assert_eq!(authorization, &expected_authorization(), "{request:?}");
        }
    }
    let files = assert_no_file_holds_the_token(&[&forge_dir, &checkouts, &root.path().join("git")]);
    assert!(files > 20, "only {files} files were searched");
    assert!(!captured_logs().contains(TOKEN), "the token is in the logs");
}

#[test]
fn a_refused_https_fetch_or_push_fails_without_the_token_in_the_error() {
    logs();
    let root = tempfile::tempdir().unwrap();
    let base = repositories(root.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = fork_exists_api(&runtime);
    let local = format!(
        "file://{}/git/{{owner}}/{{repo}}.git",
        root.path().display()
    );
    let refusing = "https://127.0.0.1:1/{owner}/{repo}.git";
    let forge_dir = root.path().join("forge");
    let checkouts = root.path().join("checkouts");

    let fetching = forge(
        config(&api.uri(), refusing, refusing, Transport::Git),
        &forge_dir,
    );
    let err = fetching
        .sync_checkout("x", &checkouts.join("x-feedstock"))
        .unwrap_err();
    assert_clean("https fetch", &err, &err.to_string());
    assert!(err.to_string().contains("conda-forge/x-feedstock"), "{err}");
    drop(fetching);

    let pushing = forge(
        config(&api.uri(), &local, refusing, Transport::Git),
        &forge_dir,
    );
    let err = pushing
        .push_branch("x", &base, "bump_h1", &change())
        .unwrap_err();
    assert_clean("https push", &err, &err.to_string());
    assert!(
        err.to_string().contains(&format!("{BOT}/x-feedstock")),
        "{err}"
    );

    // A URL template that carries a credential is refused before git runs.
    let leaky = format!("https://x-access-token:{TOKEN}@github.com/{{owner}}/{{repo}}.git");
    let refused = forge(
        config(&api.uri(), &local, &leaky, Transport::Git),
        &forge_dir,
    );
    let err = refused
        .push_branch("x", &base, "bump_h2", &change())
        .unwrap_err();
    assert_clean("a URL with a credential", &err, &err.to_string());

    assert_no_file_holds_the_token(&[&forge_dir, &checkouts]);
    let logs = captured_logs();
    assert!(logs.contains("running git"), "the capture works: {logs}");
    assert!(!logs.contains(TOKEN), "the token is in the logs");
}

/// Answers with `status` and a body quoting the request's `Authorization` header, as a
/// careless proxy or a debugging server might.
struct Echo(u16);

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        let message = if self.0 == 422 {
            format!("Reference already exists (you sent {authorization})")
        } else {
            format!("refused; you sent `{authorization}`")
        };
        ResponseTemplate::new(self.0).set_body_json(serde_json::json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
        }))
    }
}

#[test]
fn api_answers_that_echo_the_token_leave_no_trace_of_it() {
    logs();
    let root = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let base = "1111111111111111111111111111111111111111";
    let tree = "2222222222222222222222222222222222222222";
    let identity = serde_json::json!({"name": "Jane", "email": "j@example.org", "date": "2024-01-01T00:00:00Z"});
    let mounts =
        vec![
            // A checkout of `x`: the head answers 500 (retried, then an error).
            Mock::given(method("GET"))
                .and(path("/repos/conda-forge/x-feedstock/commits/HEAD"))
                .respond_with(Echo(500)),
            // Of `y`: 401.
            Mock::given(method("GET"))
                .and(path("/repos/conda-forge/y-feedstock/commits/HEAD"))
                .respond_with(Echo(401)),
            // Of `z`: the head is fine, its tree answers 404.
            Mock::given(method("GET"))
                .and(path("/repos/conda-forge/z-feedstock/commits/HEAD"))
                .respond_with(ResponseTemplate::new(200).set_body_json(
                    serde_json::json!({"sha": base, "commit": {"tree": {"sha": tree}}}),
                )),
            Mock::given(method("GET"))
                .and(path_regex("^/repos/conda-forge/z-feedstock/git/trees/.*"))
                .respond_with(Echo(404)),
            // A REST push to the fork of `x`: every step works until the branch, which
            // exists (422) and then cannot be moved (404).
            Mock::given(method("GET"))
                .and(path(format!("/repos/{BOT}/x-feedstock")))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(serde_json::json!({"fork": true})),
                ),
            Mock::given(method("GET"))
                .and(path(format!("/repos/{BOT}/x-feedstock/git/commits/{base}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                    "sha": base, "tree": {"sha": tree}, "parents": [], "message": "Initial\n",
                    "author": identity, "committer": identity,
                }))),
            Mock::given(method("GET"))
                .and(path(format!("/repos/{BOT}/x-feedstock/git/trees/{tree}")))
                .respond_with(ResponseTemplate::new(200).set_body_json(
                    serde_json::json!({"sha": tree, "tree": [], "truncated": false}),
                )),
            Mock::given(method("POST"))
                .and(path(format!("/repos/{BOT}/x-feedstock/git/trees")))
                .respond_with(ResponseTemplate::new(201).set_body_json(
                    serde_json::json!({"sha": "3333333333333333333333333333333333333333"}),
                )),
            Mock::given(method("POST"))
                .and(path(format!("/repos/{BOT}/x-feedstock/git/commits")))
                .respond_with(ResponseTemplate::new(201).set_body_json(
                    serde_json::json!({"sha": "4444444444444444444444444444444444444444"}),
                )),
            Mock::given(method("POST"))
                .and(path(format!("/repos/{BOT}/x-feedstock/git/refs")))
                .respond_with(Echo(422)),
            Mock::given(method("PATCH"))
                .and(path_regex(format!(
                    "^/repos/{BOT}/x-feedstock/git/refs/heads/.*"
                )))
                .respond_with(Echo(404)),
            // Opening a PR: none is open yet, and the create fails.
            Mock::given(method("GET"))
                .and(path("/repos/conda-forge/x-feedstock/pulls"))
                .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([]))),
            Mock::given(method("POST"))
                .and(path("/repos/conda-forge/x-feedstock/pulls"))
                .respond_with(Echo(500)),
        ];
    for mock in mounts {
        runtime.block_on(mock.mount(&server));
    }
    let unused = "file:///nonexistent/{owner}/{repo}.git";
    let forge_dir = root.path().join("forge");
    let checkouts = root.path().join("checkouts");
    let forge = forge(
        config(&server.uri(), unused, unused, Transport::Api),
        &forge_dir,
    );

    let mut errors = Vec::new();
    for feedstock in ["x", "y", "z"] {
        let dest = checkouts.join(format!("{feedstock}-feedstock"));
        errors.push(forge.sync_checkout(feedstock, &dest).unwrap_err());
    }
    errors.push(
        forge
            .push_branch("x", base, "bump_h1", &change())
            .unwrap_err(),
    );
    for err in &errors {
        assert_clean("an echoing API", err, &err.to_string());
    }
    let statuses: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
    assert!(statuses[0].contains("500"), "{statuses:?}");
    assert!(
        matches!(errors[1], cascade::forge::ForgeError::Auth(_)),
        "{statuses:?}"
    );
    assert!(statuses[2].contains("404"), "{statuses:?}");
    assert!(statuses[3].contains("404"), "{statuses:?}");

    // The run loop reports failures in PR texts; what it is handed is already clean.
    let body = format!("cascade could not finish:\n\n```\n{}\n```", errors[3]);
    let err = forge
        .open_pr(&NewPullRequest {
            feedstock: "x".to_owned(),
            head: "bump_h1".to_owned(),
            base: "main".to_owned(),
            title: "MNT: bump".to_owned(),
            body,
        })
        .unwrap_err();
    assert_clean("opening a PR", &err, &err.to_string());

    let received = runtime.block_on(server.received_requests()).unwrap();
    let pulls: Vec<_> = received
        .iter()
        .filter(|r| {
            r.method.as_str() == "POST" && r.url.path() == "/repos/conda-forge/x-feedstock/pulls"
        })
        .collect();
    assert_eq!(pulls.len(), 1, "the PR was asked for once");
    for request in &received {
        let body = String::from_utf8_lossy(&request.body);
        assert!(
            !request.url.as_str().contains(TOKEN),
            "a URL held the token: {}",
            request.url
        );
        assert!(
            !body.contains(TOKEN),
            "{} {} sent the token: {body}",
            request.method,
            request.url
        );
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        assert_eq!(
            authorization,
            Some(format!("Bearer {TOKEN}").as_str()),
            "the token is where it belongs"
        );
    }
    assert!(String::from_utf8_lossy(&pulls[0].body).contains("cascade could not finish"));

    assert_no_file_holds_the_token(&[&forge_dir, &checkouts]);
    let logs = captured_logs();
    assert!(
        logs.contains("retrying after a pause"),
        "the capture works: {logs}"
    );
    assert!(!logs.contains(TOKEN), "the token is in the logs");
}
