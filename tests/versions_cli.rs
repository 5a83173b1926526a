//! `cascade versions check` and `show` end to end: real feedstocks from
//! `../shared/data/feedstocks` built into a graph store, checked against a local axum
//! server with recorded registry answers; results, errors and attempts land in the store.
//! The opt-in live test asks PyPI itself.

#[path = "fixtures/upstream/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use cascade::upstream::SourceUrls;
use serde_json::Value;
use server::{Reply, TestServer};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feedstocks");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: {} is absent (the real feedstock corpus lives in ../shared)",
            dir.display()
        );
        None
    }
}

fn cascade() -> Command {
    let mut cmd = Command::cargo_bin("cascade").unwrap();
    cmd.env_remove("CASCADE_UPSTREAM_URLS")
        .env_remove("CASCADE_GITHUB_TOKEN")
        .env_remove("GITHUB_TOKEN");
    cmd
}

/// Copies the named feedstocks of the corpus into `into` and builds their graph.
fn build_graph(corpus: &Path, names: &[&str], into: &Path) -> PathBuf {
    let feedstocks = into.join("feedstocks");
    fs_err::create_dir_all(&feedstocks).unwrap();
    for name in names {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(corpus.join(format!("{name}-feedstock")))
            .arg(&feedstocks)
            .status()
            .unwrap();
        assert!(status.success());
    }
    let db = into.join("cascade.sqlite");
    cascade()
        .args(["graph", "build", "--feedstocks"])
        .arg(&feedstocks)
        .arg("--db")
        .arg(&db)
        .assert()
        .success();
    db
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn record<'a>(rows: &'a Value, feedstock: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["feedstock"] == feedstock)
        .unwrap_or_else(|| panic!("no row for {feedstock} in {rows}"))
}

#[test]
fn check_records_newest_versions_then_errors_and_attempts_without_forgetting() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = build_graph(&corpus, &["annotated-types", "aws-c-auth"], dir.path());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(TestServer::start());
    server.reply(
        "/pypi-api/pypi/annotated-types/json",
        Reply::fixture("pypi-annotated-types.json"),
    );
    server.reply(
        "/github-api/repos/awslabs/aws-c-auth/tags",
        Reply::fixture("github-tags-aws-c-auth.json"),
    );
    let urls = dir.path().join("urls.json");
    fs_err::write(
        &urls,
        serde_json::to_string(&SourceUrls::all_at(&server.base)).unwrap(),
    )
    .unwrap();
    // Only the sources the local server answers for: no request leaves the machine.
    let check = |extra: &[&str]| {
        cascade()
            .args(["versions", "check", "--json", "--retries", "0"])
            .args(["--source", "PyPI", "--source", "github"])
            .arg("--db")
            .arg(&db)
            .arg("--base-urls")
            .arg(&urls)
            .args(extra)
            .output()
            .unwrap()
    };
    let show = || {
        let output = cascade()
            .args(["versions", "show", "--json", "--db"])
            .arg(&db)
            .output()
            .unwrap();
        assert!(output.status.success());
        json(&output)
    };

    let first = check(&[]);
    assert_eq!(first.status.code(), Some(0), "{first:?}");
    let report = json(&first);
    assert_eq!(report["checked"], 2);
    assert_eq!(report["newer"], 2, "{report:#}");
    let rows = show();
    let at = record(&rows, "annotated-types");
    assert_eq!(at["current_version"], "0.7.0");
    assert_eq!(at["newest_version"], "0.8.0");
    assert_eq!(at["source"], "PyPI");
    assert_eq!(at["status"], "newer");
    assert_eq!(at["attempts"], 0);
    let aws = record(&rows, "aws-c-auth");
    assert_eq!(aws["newest_version"], "0.10.7", "{aws:#}");
    assert_eq!(aws["source"], "Github");

    server.reply("/pypi-api/pypi/annotated-types/json", Reply::status(500));
    for attempt in 1..=2 {
        let failed = check(&["--feedstock", "annotated-types"]);
        assert_eq!(failed.status.code(), Some(2), "{failed:?}");
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert!(
            stderr.contains("1 of 1 feedstocks could not be checked"),
            "{stderr}"
        );
        assert_eq!(json(&failed)["failed"], 1);
        let rows = show();
        let at = record(&rows, "annotated-types");
        assert_eq!(at["status"], "failed");
        assert_eq!(at["attempts"], attempt);
        assert_eq!(
            at["newest_version"], "0.8.0",
            "a failed check keeps what was found"
        );
        let error = at["error"].as_str().unwrap();
        assert!(
            error.starts_with("PyPI: GET ") && error.contains("HTTP 500"),
            "{error}"
        );
        // aws-c-auth was not asked again.
        assert_eq!(record(&rows, "aws-c-auth")["status"], "newer");
    }

    server.reply(
        "/pypi-api/pypi/annotated-types/json",
        Reply::fixture("pypi-annotated-types.json"),
    );
    let recovered = check(&["--feedstock", "annotated-types"]);
    assert_eq!(recovered.status.code(), Some(0));
    let rows = show();
    assert_eq!(record(&rows, "annotated-types")["attempts"], 0);
    assert_eq!(record(&rows, "annotated-types")["error"], Value::Null);
}

#[test]
fn an_unknown_feedstock_or_source_is_an_error_with_exit_2() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = build_graph(&corpus, &["annotated-types"], dir.path());
    let unknown = cascade()
        .args(["versions", "check", "--feedstock", "no-such-thing", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no-such-thing"));
    let source = cascade()
        .args(["versions", "check", "--source", "librariesio", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(source.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&source.stderr).contains("unknown version source"));
}

/// PyPI's newest final release of a project, computed independently of cascade: the
/// highest PEP 440 final among releases with at least one file that is not yanked.
fn newest_final_on_pypi(body: &Value) -> Option<String> {
    use std::str::FromStr;
    let releases = body["releases"].as_object()?;
    releases
        .iter()
        .filter(|(_, files)| {
            files
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["yanked"] != true))
        })
        .filter_map(|(v, _)| pep440_rs::Version::from_str(v).ok().map(|p| (p, v)))
        .filter(|(p, _)| !p.any_prerelease())
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v.clone())
}

/// Opt-in: `CASCADE_LIVE_PYPI=1 cargo test --test versions_cli -- --ignored`. Checks the
/// corpus feedstocks whose source is on PyPI against pypi.org and compares with PyPI's
/// newest final release; `CASCADE_LIVE_LIMIT=N` asks about the first N only.
#[test]
#[ignore = "asks pypi.org; opt in with CASCADE_LIVE_PYPI=1"]
fn live_pypi_feedstocks_agree_with_pypi() {
    if std::env::var("CASCADE_LIVE_PYPI").as_deref() != Ok("1") {
        eprintln!("skipping: set CASCADE_LIVE_PYPI=1 to ask pypi.org");
        return;
    }
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = Vec::new();
    for entry in fs_err::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let recipe = ["recipe/meta.yaml", "recipe/recipe.yaml"]
            .iter()
            .find_map(|r| fs_err::read_to_string(path.join(r)).ok())
            .unwrap_or_default();
        if recipe.contains("pypi.org")
            || recipe.contains("pypi.io")
            || recipe.contains("pythonhosted")
        {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            names.push(name.trim_end_matches("-feedstock").to_string());
        }
    }
    names.sort();
    if let Some(limit) = std::env::var("CASCADE_LIVE_LIMIT")
        .ok()
        .and_then(|l| l.parse().ok())
    {
        names.truncate(limit);
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let db = build_graph(&corpus, &refs, dir.path());
    let output = cascade()
        .args([
            "versions",
            "check",
            "--json",
            "--source",
            "PyPI",
            "--concurrency",
            "4",
        ])
        .args(["--per-host", "2", "--host-delay-ms", "200", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let report = json(&output);
    let mut agree = 0;
    let mut disagreements = Vec::new();
    let outcomes = report["outcomes"].as_array().unwrap();
    for outcome in outcomes {
        let name = outcome["feedstock"].as_str().unwrap();
        let url = outcome["upstream_url"].as_str().unwrap_or_default();
        let truth = fetch_json(url).and_then(|b| newest_final_on_pypi(&b));
        let ours = outcome["newest_version"].as_str().map(str::to_string);
        if truth.is_some() && truth == ours {
            agree += 1;
        } else {
            disagreements.push(format!("{name}: cascade {ours:?}, PyPI {truth:?} ({url})"));
        }
    }
    eprintln!(
        "{agree}/{} PyPI feedstocks agree with PyPI's newest final release",
        outcomes.len()
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    assert!(!outcomes.is_empty());
    assert!(agree * 100 >= outcomes.len() * 95, "{disagreements:#?}");
}

/// PyPI's JSON document at `url`, fetched with curl (independent of cascade's client).
fn fetch_json(url: &str) -> Option<Value> {
    let output = std::process::Command::new("curl")
        .args(["-fsSL", "--max-time", "30", url])
        .output()
        .ok()?;
    serde_json::from_slice(&output.stdout).ok()
}
