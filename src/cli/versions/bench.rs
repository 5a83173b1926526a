//! `cascade versions bench`: checks generated feedstocks against a local HTTP server (on
//! 127.0.0.1, in its own thread and runtime) that answers as PyPI, npm, the crates.io
//! index, the GitHub API and CRAN do, with bodies generated per package. Each round builds
//! a fresh checker, checks every feedstock with the given politeness settings, records the
//! outcomes in a scratch SQLite store, and verifies every newest version against the
//! generated truth. The report gives every round and the median.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use clap::Args;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::feedstock::config::VersionUpdates;
use crate::graph::Store;
use crate::upstream::{self, NoCheckReporter, SourceUrls, Target, VersionCheckStatus};

use super::super::ExitStatus;
use super::NetworkArgs;

/// The acceptance target on a 2-core machine.
const TARGET_PER_SECOND: f64 = 200.0;

/// Releases generated per package.
const RELEASES: usize = 30;

#[derive(Debug, Args)]
pub(super) struct VersionsBenchArgs {
    /// Feedstocks to check per round.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    size: usize,
    /// Rounds; the median is reported.
    #[arg(long, value_name = "N", default_value_t = 3)]
    rounds: usize,
    #[command(flatten)]
    network: NetworkArgs,
    /// Exit 1 when the median is below 200 feedstocks per second or a version is wrong.
    #[arg(long)]
    check: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Round {
    wall_ms: f64,
    per_second: f64,
    correct: usize,
    requests: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    size: usize,
    concurrency: usize,
    per_host: usize,
    host_delay_ms: u64,
    rounds: Vec<Round>,
    median_per_second: f64,
    target_per_second: f64,
    meets_target: bool,
}

/// Runs the benchmark.
pub(super) fn run(args: &VersionsBenchArgs) -> anyhow::Result<ExitStatus> {
    let universe = Universe::generate(args.size);
    let server = Server::start(universe.routes.clone())?;
    let scratch = tempfile_dir()?;
    let store = Store::open_or_create(&scratch.join("bench.sqlite"))?;
    let mut rounds = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let before = server.requests();
        let options = args.network.options(SourceUrls::all_at(&server.base), None);
        let started = Instant::now();
        let outcomes =
            upstream::check(universe.targets.clone(), options, Arc::new(NoCheckReporter))?;
        upstream::record(&store, &outcomes)?;
        let wall = started.elapsed();
        let correct = outcomes
            .iter()
            .filter(|o| {
                o.status == VersionCheckStatus::Newer
                    && universe.truth.get(&o.feedstock) == o.newest_version.as_ref()
            })
            .count();
        rounds.push(Round {
            wall_ms: wall.as_secs_f64() * 1e3,
            per_second: outcomes.len() as f64 / wall.as_secs_f64().max(1e-9),
            correct,
            requests: server.requests() - before,
        });
    }
    server.stop();
    let _ = fs_err::remove_dir_all(&scratch);
    let mut speeds: Vec<f64> = rounds.iter().map(|r| r.per_second).collect();
    speeds.sort_by(f64::total_cmp);
    let median = speeds.get(speeds.len() / 2).copied().unwrap_or(0.0);
    let all_correct = rounds.iter().all(|r| r.correct == args.size);
    let report = Report {
        size: args.size,
        concurrency: args.network.concurrency,
        per_host: args.network.per_host,
        host_delay_ms: args.network.host_delay_ms,
        rounds,
        median_per_second: median,
        target_per_second: TARGET_PER_SECOND,
        meets_target: median >= TARGET_PER_SECOND,
    };
    print_report(&report, args.json)?;
    if args.check && !(report.meets_target && all_correct) {
        return Ok(ExitStatus::CheckFailed);
    }
    Ok(ExitStatus::Success)
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, report)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "versions check of {} generated feedstocks against a local server \
         (concurrency {}, {} per host, {} ms host delay)",
        report.size, report.concurrency, report.per_host, report.host_delay_ms
    )?;
    for (i, r) in report.rounds.iter().enumerate() {
        writeln!(
            out,
            "  round {}: {:.0} ms, {:.0} feedstocks/s, {}/{} correct, {} requests",
            i + 1,
            r.wall_ms,
            r.per_second,
            r.correct,
            report.size,
            r.requests
        )?;
    }
    writeln!(
        out,
        "median: {:.0} feedstocks/s (target >= {:.0}: {})",
        report.median_per_second,
        report.target_per_second,
        if report.meets_target { "met" } else { "MISSED" }
    )?;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cascade-versions-bench-{}", std::process::id()));
    fs_err::create_dir_all(&dir)?;
    Ok(dir)
}

/// The generated feedstocks, the server's answers, and the expected newest versions.
struct Universe {
    targets: Vec<Target>,
    routes: Arc<HashMap<String, Bytes>>,
    truth: HashMap<String, String>,
}

impl Universe {
    fn generate(size: usize) -> Universe {
        let mut targets = Vec::with_capacity(size);
        let mut routes: HashMap<String, Bytes> = HashMap::new();
        let mut truth = HashMap::new();
        let mut cran_listing = String::from("<html><body><table>\n");
        for i in 0..size {
            let name = format!("pkg{i:05}");
            let versions: Vec<String> = (0..RELEASES)
                .map(|k| format!("{}.{}.{}", 1 + i % 3, k / 10, k % 10))
                .collect();
            let newest = versions.last().cloned().unwrap_or_default();
            let current = versions.first().cloned().unwrap_or_default();
            let url = match i % 20 {
                0..=7 => {
                    routes.insert(format!("/pypi-api/pypi/{name}/json"), pypi_body(&versions));
                    format!("https://pypi.org/packages/source/p/{name}/{name}-{current}.tar.gz")
                }
                8..=10 => {
                    routes.insert(format!("/npm/{name}"), npm_body(&versions, &newest));
                    format!("https://registry.npmjs.org/{name}/-/{name}-{current}.tgz")
                }
                11 | 12 => {
                    let path = upstream_index_path(&name);
                    routes.insert(
                        format!("/crates-index/{path}"),
                        crates_body(&name, &versions),
                    );
                    format!("https://crates.io/api/v1/crates/{name}/{current}/download")
                }
                13..=15 => {
                    routes.insert(
                        format!("/github-api/repos/o/{name}/tags"),
                        tags_body(&versions),
                    );
                    format!("https://github.com/o/{name}/archive/v{current}.tar.gz")
                }
                16 | 17 => {
                    routes.insert(
                        format!("/github-api/repos/o/{name}/releases"),
                        releases_body(&versions),
                    );
                    format!(
                        "https://github.com/o/{name}/releases/download/v{current}/{name}.tar.gz"
                    )
                }
                _ => {
                    cran_listing.push_str(&format!(
                        "<tr><td><a href=\"{name}_{newest}.tar.gz\">{name}_{newest}.tar.gz</a></td></tr>\n"
                    ));
                    format!("https://cran.r-project.org/src/contrib/{name}_{current}.tar.gz")
                }
            };
            truth.insert(name.clone(), newest);
            targets.push(Target {
                feedstock: name,
                version: Some(current),
                urls: vec![url],
                git_urls: Vec::new(),
                settings: VersionUpdates::default(),
            });
        }
        cran_listing.push_str("</table></body></html>\n");
        routes.insert("/cran/src/contrib/".into(), Bytes::from(cran_listing));
        routes.insert(
            "/cran/src/contrib/Archive/".into(),
            Bytes::from_static(b"<html><body><table></table></body></html>\n"),
        );
        Universe {
            targets,
            routes: Arc::new(routes),
            truth,
        }
    }
}

fn upstream_index_path(name: &str) -> String {
    format!("{}/{}/{name}", &name[..2], &name[2..4])
}

fn pypi_body(versions: &[String]) -> Bytes {
    let releases: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .map(|v| {
            (
                v.clone(),
                serde_json::json!([{"filename": format!("x-{v}.tar.gz"), "yanked": false}]),
            )
        })
        .collect();
    let last = versions.last().cloned().unwrap_or_default();
    Bytes::from(serde_json::json!({"info": {"version": last}, "releases": releases}).to_string())
}

fn npm_body(versions: &[String], latest: &str) -> Bytes {
    let map: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .map(|v| (v.clone(), serde_json::json!({"version": v})))
        .collect();
    Bytes::from(serde_json::json!({"dist-tags": {"latest": latest}, "versions": map}).to_string())
}

fn crates_body(name: &str, versions: &[String]) -> Bytes {
    let lines: Vec<String> = versions
        .iter()
        .map(|v| serde_json::json!({"name": name, "vers": v, "yanked": false}).to_string())
        .collect();
    Bytes::from(lines.join("\n"))
}

fn tags_body(versions: &[String]) -> Bytes {
    let tags: Vec<serde_json::Value> = versions
        .iter()
        .rev()
        .map(|v| serde_json::json!({"name": format!("v{v}")}))
        .collect();
    Bytes::from(serde_json::Value::Array(tags).to_string())
}

fn releases_body(versions: &[String]) -> Bytes {
    let releases: Vec<serde_json::Value> = versions
        .iter()
        .rev()
        .map(|v| serde_json::json!({"tag_name": format!("v{v}"), "draft": false, "prerelease": false}))
        .collect();
    Bytes::from(serde_json::Value::Array(releases).to_string())
}

/// The local server: a thread with its own tokio runtime, serving `routes` by path.
struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    requests: Arc<std::sync::atomic::AtomicU64>,
}

impl Server {
    fn start(routes: Arc<HashMap<String, Bytes>>) -> anyhow::Result<Server> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .context("failed to bind a local port for the benchmark server")?;
        std_listener.set_nonblocking(true)?;
        let base = format!("http://{}", std_listener.local_addr()?);
        let (stop, stopped) = oneshot::channel();
        let requests = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = Arc::clone(&requests);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to start the benchmark server's runtime")?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(std_listener, routes, counter, stopped));
        });
        Ok(Server {
            base,
            stop: Some(stop),
            thread: Some(thread),
            requests,
        })
    }

    fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    routes: Arc<HashMap<String, Bytes>>,
    requests: Arc<std::sync::atomic::AtomicU64>,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let routes = Arc::clone(&routes);
        let requests = Arc::clone(&requests);
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let body = routes.get(request.uri().path()).cloned();
                async move {
                    let response = match body {
                        Some(body) => Response::new(Full::new(body)),
                        None => {
                            let mut r = Response::new(Full::new(Bytes::from_static(b"not found")));
                            *r.status_mut() = StatusCode::NOT_FOUND;
                            r
                        }
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
