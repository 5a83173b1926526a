//! Source hashing over real HTTP: an axum server on 127.0.0.1 serves generated source
//! archives, redirects, errors, a slow body and a PEP 691 index; [`HttpFetch`] streams
//! them into SHA-256, SHA-1 and MD5 (checked against digests computed here with the
//! RustCrypto crates directly), and `cascade version-bump` runs online against it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use cascade::recipe::version::{Fetch, FetchError, HttpFetch, HttpOptions};
use cascade::recipe::{HashKind, RecipeFormat};
use rand::{RngCore, SeedableRng};
use sha2::Digest;

/// What the server answers for one path.
#[derive(Clone)]
enum Reply {
    /// 200 with these bytes and extra headers.
    Bytes(Vec<u8>, Vec<(&'static str, &'static str)>),
    /// An error status.
    Status(u16),
    /// 302 to another path.
    Redirect(String),
    /// 200 after a delay longer than any test's timeout.
    Slow(Duration),
}

/// A real HTTP server on 127.0.0.1 in its own thread and runtime.
struct Server {
    base: String,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start() -> Server {
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let (r, h) = (Arc::clone(&replies), Arc::clone(&hits));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new().fallback(move |uri: Uri| {
                    let (replies, hits) = (Arc::clone(&r), Arc::clone(&h));
                    async move { answer(&replies, &hits, uri).await }
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx.recv().unwrap();
        Server {
            base: format!("http://{addr}"),
            replies,
            hits,
        }
    }

    fn reply(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_string(), reply);
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

async fn answer(
    replies: &Mutex<HashMap<String, Reply>>,
    hits: &Mutex<Vec<String>>,
    uri: Uri,
) -> Response {
    let path = uri.path().to_string();
    hits.lock().unwrap().push(path.clone());
    let reply = replies.lock().unwrap().get(&path).cloned();
    let response = Response::builder();
    match reply {
        None => response.status(404).body(Body::empty()),
        Some(Reply::Status(code)) => response.status(code).body(Body::from("error")),
        Some(Reply::Redirect(to)) => response
            .status(StatusCode::FOUND)
            .header(header::LOCATION, to)
            .body(Body::empty()),
        Some(Reply::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            response.status(200).body(Body::from("late"))
        }
        Some(Reply::Bytes(bytes, headers)) => {
            let mut response = response.status(200);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(bytes))
        }
    }
    .unwrap()
}

/// A generated "source archive": deterministic bytes from a seed, several MiB so the
/// body arrives in many chunks.
fn archive(seed: u64, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rand_chacha::ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

fn fetcher() -> HttpFetch {
    HttpFetch::new(HttpOptions {
        timeout: Duration::from_secs(2),
        ..HttpOptions::default()
    })
    .unwrap()
}

#[test]
fn a_streamed_download_hashes_to_the_sha256_sha1_and_md5_of_its_bytes() {
    let server = Server::start();
    let bytes = archive(1, 5 << 20);
    server.reply("/src/pkg-1.0.tar.gz", Reply::Bytes(bytes.clone(), vec![]));
    let fetch = fetcher();
    let url = server.url("/src/pkg-1.0.tar.gz");
    assert_eq!(
        fetch.digest(&url, HashKind::Sha256).unwrap(),
        hex::encode(sha2::Sha256::digest(&bytes))
    );
    assert_eq!(
        fetch.digest(&url, HashKind::Sha1).unwrap(),
        hex::encode(sha1::Sha1::digest(&bytes))
    );
    assert_eq!(
        fetch.digest(&url, HashKind::Md5).unwrap(),
        hex::encode(md5::Md5::digest(&bytes))
    );
}

#[test]
fn a_gzip_content_encoding_is_not_decoded_before_hashing() {
    let server = Server::start();
    // Not gzip at all: a client that decoded it would fail or hash something else.
    let bytes = archive(2, 100_000);
    server.reply(
        "/src/labelled.tar.gz",
        Reply::Bytes(bytes.clone(), vec![("content-encoding", "gzip")]),
    );
    let digest = fetcher()
        .digest(&server.url("/src/labelled.tar.gz"), HashKind::Sha256)
        .unwrap();
    assert_eq!(digest, hex::encode(sha2::Sha256::digest(&bytes)));
}

#[test]
fn redirects_are_followed_to_the_file() {
    let server = Server::start();
    let bytes = archive(3, 10_000);
    server.reply(
        "/archive/v2.tar.gz",
        Reply::Redirect("/codeload/v2.tar.gz".into()),
    );
    server.reply("/codeload/v2.tar.gz", Reply::Bytes(bytes.clone(), vec![]));
    let digest = fetcher()
        .digest(&server.url("/archive/v2.tar.gz"), HashKind::Sha256)
        .unwrap();
    assert_eq!(digest, hex::encode(sha2::Sha256::digest(&bytes)));
}

#[test]
fn missing_files_erroring_servers_slow_bodies_and_huge_files_fail_distinctly() {
    let server = Server::start();
    server.reply("/gone", Reply::Status(410));
    server.reply("/broken", Reply::Status(500));
    server.reply("/slow", Reply::Slow(Duration::from_secs(10)));
    server.reply("/huge", Reply::Bytes(archive(4, 3000), vec![]));
    let fetch = fetcher();
    let err = fetch
        .digest(&server.url("/missing"), HashKind::Sha256)
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(
        err.to_string(),
        format!("not found: {}", server.url("/missing"))
    );
    assert!(
        fetch
            .digest(&server.url("/gone"), HashKind::Sha256)
            .unwrap_err()
            .is_not_found()
    );
    assert!(matches!(
        fetch
            .digest(&server.url("/broken"), HashKind::Sha256)
            .unwrap_err(),
        FetchError::Status { status: 500, .. }
    ));
    let started = std::time::Instant::now();
    assert!(matches!(
        fetch
            .digest(&server.url("/slow"), HashKind::Sha256)
            .unwrap_err(),
        FetchError::Transfer { .. }
    ));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "the timeout did not cut it"
    );
    let small = HttpFetch::new(HttpOptions {
        max_bytes: 1000,
        ..HttpOptions::default()
    })
    .unwrap();
    assert!(matches!(
        small
            .digest(&server.url("/huge"), HashKind::Sha256)
            .unwrap_err(),
        FetchError::TooLarge { limit: 1000, .. }
    ));
}

/// A v0 recipe whose source lives on the test server.
fn recipe(server: &Server, template_path: &str) -> String {
    format!(
        "{{% set name = \"dash-extensions\" %}}\n{{% set version = \"0.1.10\" %}}\n\npackage:\n  name: {{{{ name }}}}\n  version: {{{{ version }}}}\n\nsource:\n  url: {}{template_path}\n  sha256: {}\n\nbuild:\n  number: 3\n",
        server.base,
        "0".repeat(64)
    )
}

#[test]
fn the_pypi_index_gives_the_real_sdist_name_when_no_transform_finds_it() {
    let server = Server::start();
    let bytes = archive(5, 200_000);
    // A name no transform produces; the index knows it (with a relative file URL).
    server.reply(
        "/simple/dash-extensions/",
        Reply::Bytes(
            br#"{"meta": {"api-version": "1.1"}, "name": "dash-extensions", "files": [
                {"filename": "Dash.Extensions-0.1.10.tar.gz", "url": "../../files/old.tar.gz", "hashes": {}},
                {"filename": "Dash.Extensions-0.1.11-py3-none-any.whl", "url": "../../files/x.whl", "hashes": {}},
                {"filename": "Dash.Extensions-0.1.11.tar.gz", "url": "../../files/Dash.Extensions-0.1.11.tar.gz", "hashes": {}}
            ]}"#
            .to_vec(),
            vec![("content-type", "application/vnd.pypi.simple.v1+json")],
        ),
    );
    server.reply(
        "/pypi.org/packages/source/d/dash-extensions/Dash.Extensions-0.1.11.tar.gz",
        Reply::Bytes(bytes.clone(), vec![]),
    );
    let text = recipe(
        &server,
        "/pypi.org/packages/source/{{ name[0] }}/{{ name }}/{{ name }}-{{ version }}.tar.gz",
    );
    let fetch = HttpFetch::new(HttpOptions {
        pypi_index: server.url("/simple"),
        ..HttpOptions::default()
    })
    .unwrap();
    let bump =
        cascade::recipe::version::bump_version(RecipeFormat::V0, &text, "0.1.11", &fetch).unwrap();
    let expected = text
        .replace("\"0.1.10\"", "\"0.1.11\"")
        .replace(
            "{{ name }}/{{ name }}-{{ version }}",
            "{{ name }}/Dash.Extensions-{{ version }}",
        )
        .replace(&"0".repeat(64), &hex::encode(sha2::Sha256::digest(&bytes)))
        .replace("number: 3", "number: 0");
    assert_eq!(bump.text, expected);
    assert_eq!(server.hits("/simple/dash-extensions/"), 1);

    // Where the source directory does not serve it, the index's own file URL is used.
    let other = Server::start();
    other.reply(
        "/simple/dash-extensions/",
        server.replies.lock().unwrap()["/simple/dash-extensions/"].clone(),
    );
    other.reply(
        "/files/Dash.Extensions-0.1.11.tar.gz",
        Reply::Bytes(bytes.clone(), vec![]),
    );
    let text = recipe(
        &other,
        "/pypi.org/packages/source/{{ name[0] }}/{{ name }}/{{ name }}-{{ version }}.tar.gz",
    );
    let fetch = HttpFetch::new(HttpOptions {
        pypi_index: other.url("/simple"),
        ..HttpOptions::default()
    })
    .unwrap();
    let bump =
        cascade::recipe::version::bump_version(RecipeFormat::V0, &text, "0.1.11", &fetch).unwrap();
    assert!(
        bump.text.contains(&format!(
            "  url: {}\n",
            other.url("/files/Dash.Extensions-0.1.11.tar.gz")
        )),
        "{}",
        bump.text
    );
}

#[test]
fn version_bump_online_hashes_the_new_release_and_fills_the_store() {
    let server = Server::start();
    let bytes = archive(6, 1 << 20);
    server.reply(
        "/rel/tool-2.0.0.tar.xz",
        Reply::Bytes(bytes.clone(), vec![]),
    );
    server.reply("/rel/tool-2.0.0.tar.gz", Reply::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let recipe_dir = dir.path().join("tool-feedstock/recipe");
    fs_err::create_dir_all(&recipe_dir).unwrap();
    let text = format!(
        "{{% set version = \"1.9.0\" %}}\npackage:\n  name: tool\n  version: {{{{ version }}}}\nsource:\n  url: {}/rel/tool-{{{{ version }}}}.tar.gz  # [unix]\n  sha256: {}  # [unix]\nbuild:\n  number: 1\n",
        server.base,
        "0".repeat(64)
    );
    fs_err::write(recipe_dir.join("meta.yaml"), &text).unwrap();
    let db = dir.path().join("cascade.sqlite");
    let run = |extra: &[&str]| {
        Command::cargo_bin("cascade")
            .unwrap()
            .args([
                "version-bump",
                "--to",
                "2.0.0",
                "--db",
                db.to_str().unwrap(),
            ])
            .arg(dir.path().join("tool-feedstock"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = hex::encode(sha2::Sha256::digest(&bytes));
    assert_eq!(
        fs_err::read_to_string(recipe_dir.join("meta.yaml")).unwrap(),
        text.replace("\"1.9.0\"", "\"2.0.0\"")
            .replace("{{ version }}.tar.gz", "{{ version }}.tar.xz")
            .replace(&"0".repeat(64), &digest)
            .replace("number: 1", "number: 0")
    );
    assert_eq!(server.hits("/rel/tool-2.0.0.tar.xz"), 1);
    let store = cascade::graph::Store::open(&db).unwrap();
    assert_eq!(
        store
            .source_digest(&server.url("/rel/tool-2.0.0.tar.xz"), HashKind::Sha256)
            .unwrap(),
        Some(digest)
    );
    // Again from the original text: the digest comes from the store, not the server.
    fs_err::write(recipe_dir.join("meta.yaml"), &text).unwrap();
    let again = run(&["--dry-run"]);
    assert!(again.status.success());
    assert_eq!(server.hits("/rel/tool-2.0.0.tar.xz"), 1);
    assert!(Path::new(&recipe_dir.join("meta.yaml")).is_file());
}

#[test]
fn an_online_failure_names_each_url_and_why() {
    let server = Server::start();
    server.reply("/rel/x-2.tar.gz", Reply::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let recipe_dir = dir.path().join("recipe");
    fs_err::create_dir_all(&recipe_dir).unwrap();
    fs_err::write(
        recipe_dir.join("meta.yaml"),
        format!(
            "{{% set version = \"1\" %}}\npackage:\n  name: x\n  version: {{{{ version }}}}\nsource:\n  url: {}/rel/x-{{{{ version }}}}.tar.gz\n  sha256: {}\n",
            server.base,
            "0".repeat(64)
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("cascade")
        .unwrap()
        .args(["version-bump", "--to", "2"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "\n   failed: HTTP 503: {}/rel/x-2.tar.gz\n",
            server.base
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("\n   not found: {}/rel/x-2.zip\n", server.base)),
        "{stderr}"
    );
}
