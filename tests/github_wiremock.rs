//! The GitHub forge against answers the API emulator cannot give: GraphQL batches, the
//! combined commit status, GitHub's 422 for a duplicate PR, 401, 403 limits (primary,
//! secondary, `Retry-After`), conditional GETs answered 304, conflicted PRs. A wiremock
//! server serves the recorded bodies of `tests/fixtures/github/` (see its README).
//!
//! Wiremock runs on its own tokio runtime; the forge is blocking (it has a runtime of its
//! own) and is always called from the plain test thread.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cascade::forge::github::{GitHubConfig, GitHubForge, Limits, Transport};
use cascade::forge::{
    CiStatus, Forge, ForgeError, Mergeable, NewPullRequest, PrState, PullRequest,
};
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghp_wiremock_test_token_0123456789";
const PR_PATH: &str = "/repos/conda-forge/zlib-feedstock/pulls/1347";
const HEAD_SHA: &str = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

/// A wiremock server and the runtime it runs on, with the forge's state directory.
struct Server {
    rt: Runtime,
    server: MockServer,
    dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let rt = Runtime::new().unwrap();
        let server = rt.block_on(MockServer::start());
        Server {
            rt,
            server,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn mount(&self, mock: Mock) {
        self.rt.block_on(mock.mount(&self.server));
    }

    /// The forge as `bot_user`, with quick limits and the given tweaks.
    fn forge_with(&self, bot_user: &str, limits: Limits) -> GitHubForge {
        let config = GitHubConfig {
            api_url: self.server.uri(),
            bot_user: bot_user.to_owned(),
            transport: Transport::Api,
            upstream_git_url: "file:///nonexistent/{owner}/{repo}.git".to_owned(),
            fork_git_url: "file:///nonexistent/{owner}/{repo}.git".to_owned(),
            limits,
            ..GitHubConfig::default()
        };
        GitHubForge::open(config, self.dir.path(), &|name| {
            (name == "CASCADE_GITHUB_TOKEN").then(|| TOKEN.to_owned())
        })
        .unwrap()
    }

    fn forge(&self) -> GitHubForge {
        self.forge_with("regro-cf-autotick-bot", quick_limits())
    }

    /// Every request the server received so far.
    fn received(&self) -> Vec<Request> {
        self.rt
            .block_on(self.server.received_requests())
            .unwrap_or_default()
    }

    /// How many requests of `verb` on `route` arrived.
    fn count(&self, verb: &str, route: &str) -> usize {
        self.received()
            .iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == route)
            .count()
    }
}

fn quick_limits() -> Limits {
    Limits {
        create_spacing_ms: 0,
        secondary_backoff_secs: 0,
        max_wait_secs: 2,
        ..Limits::default()
    }
}

fn fixture(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/github", name]
        .iter()
        .collect();
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The recorded PR, with `extra` fields replaced.
fn pull_request(extra: Value) -> Value {
    let mut pr = fixture("pull_request.json");
    for (key, value) in extra.as_object().unwrap() {
        pr[key] = value.clone();
    }
    pr
}

/// The check runs and combined status of the recorded PR's head, upstream.
fn mount_ci(server: &Server, runs: Value, status: Value) {
    let commit = format!("/repos/conda-forge/zlib-feedstock/commits/{HEAD_SHA}");
    server.mount(
        Mock::given(method("GET"))
            .and(path(format!("{commit}/check-runs")))
            .respond_with(ResponseTemplate::new(200).set_body_json(runs)),
    );
    server.mount(
        Mock::given(method("GET"))
            .and(path(format!("{commit}/status")))
            .respond_with(ResponseTemplate::new(200).set_body_json(status)),
    );
}

/// Check runs with every run set to `status`/`conclusion`.
fn check_runs(status: &str, conclusion: Option<&str>) -> Value {
    let mut runs = fixture("check_runs.json");
    for run in runs["check_runs"].as_array_mut().unwrap() {
        run["status"] = json!(status);
        run["conclusion"] = json!(conclusion);
    }
    runs
}

/// The combined status with no statuses (what GitHub answers for a commit nobody
/// reported on: `pending`, total 0).
fn no_statuses() -> Value {
    let mut status = fixture("combined_status_success.json");
    status["state"] = json!("pending");
    status["statuses"] = json!([]);
    status["total_count"] = json!(0);
    status
}

/// Answers the batch query: for the i-th PR asked (`$n<i>`, `$k<i>`), the recorded node
/// shaped by [`shape`], a null repository for `gone-feedstock`, a null PR for number 999
/// (with GitHub's NOT_FOUND error beside the data).
struct GraphqlPrs {
    calls: AtomicUsize,
    sizes: std::sync::Mutex<Vec<usize>>,
}

impl Respond for GraphqlPrs {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let query = body["query"].as_str().unwrap();
        assert!(!query.contains("feedstock"), "names are variables: {query}");
        let variables = body["variables"].as_object().unwrap();
        let mut data = serde_json::Map::new();
        let mut errors = Vec::new();
        let mut i = 0;
        while let Some(number) = variables.get(&format!("k{i}")).and_then(Value::as_u64) {
            let repo = variables[&format!("n{i}")].as_str().unwrap();
            let answer = if repo == "gone-feedstock" {
                Value::Null
            } else if number == 999 {
                let mut error = fixture("graphql_not_found_error.json");
                error["path"] = json!([format!("p{i}"), "pullRequest"]);
                errors.push(error);
                json!({ "pullRequest": null })
            } else {
                json!({ "pullRequest": shape(number) })
            };
            data.insert(format!("p{i}"), answer);
            i += 1;
        }
        self.sizes.lock().unwrap().push(i);
        let mut answer = json!({ "data": data });
        if !errors.is_empty() {
            answer["errors"] = json!(errors);
        }
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

/// The recorded GraphQL node for PR `number`: 1 merged, 2 closed, 3 draft, 4 conflicting
/// with a maintainer's commit, 5 conflicting with the bot's commits only, 6..=9 other
/// roll-up states, 10 no CI; every other number open, mergeable and green.
fn shape(number: u64) -> Value {
    let mut node = fixture("graphql_pull_request.json");
    node["number"] = json!(number);
    node["headRefName"] = json!(format!("branch-{number}"));
    let rollup = |state: Value| json!({"nodes": [{"commit": {"statusCheckRollup": state}}]});
    match number {
        1 => {
            node["state"] = json!("MERGED");
            node["mergedAt"] = json!("2024-01-03T00:00:00Z");
            node["closedAt"] = json!("2024-01-03T00:00:00Z");
        }
        2 => {
            node["state"] = json!("CLOSED");
            node["closedAt"] = json!("2024-01-04T00:00:00Z");
        }
        3 => node["isDraft"] = json!(true),
        4 => {
            node["mergeable"] = json!("CONFLICTING");
            node["all"]["nodes"]
                .as_array_mut()
                .unwrap()
                .push(json!({"commit": {"author": {"name": "Jane", "user": {"login": "jane"}}, "committer": {"user": {"login": "web-flow"}}}}));
        }
        5 => node["mergeable"] = json!("CONFLICTING"),
        6 => node["last"] = rollup(json!({"state": "FAILURE"})),
        7 => node["last"] = rollup(json!({"state": "PENDING"})),
        8 => node["last"] = rollup(json!({"state": "ERROR"})),
        9 => node["last"] = rollup(json!({"state": "EXPECTED"})),
        10 => node["last"] = rollup(Value::Null),
        _ => {}
    }
    node
}

fn graphql_server() -> (Server, Arc<GraphqlPrs>) {
    let server = Server::start();
    let responder = Arc::new(GraphqlPrs {
        calls: AtomicUsize::new(0),
        sizes: std::sync::Mutex::new(Vec::new()),
    });
    server.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(SharedResponder(Arc::clone(&responder))),
    );
    (server, responder)
}

/// Lets the test keep a handle on a responder wiremock owns.
struct SharedResponder<R>(Arc<R>);

impl<R: Respond> Respond for SharedResponder<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

fn refs(count: u64) -> Vec<(String, u64)> {
    (1..=count).map(|n| (format!("pkg{n}"), n)).collect()
}

#[test]
fn a_batch_of_250_prs_takes_three_graphql_requests_and_maps_every_state() {
    let (server, responder) = graphql_server();
    let forge = server.forge();
    let mut asked = refs(250);
    asked[149] = ("gone".to_owned(), 150);
    asked[199] = ("pkg200".to_owned(), 999);
    let answers = forge.prs(&asked);

    assert_eq!(answers.len(), 250);
    assert_eq!(responder.calls.load(Ordering::SeqCst), 3);
    assert_eq!(*responder.sizes.lock().unwrap(), [100, 100, 50]);
    assert_eq!(server.received().len(), 3);
    let stats = forge.stats();
    assert_eq!((stats.requests, stats.graphql, stats.creates), (3, 3, 0));

    let pr = |i: usize| -> &PullRequest { answers[i].as_ref().unwrap() };
    assert_eq!(pr(0).state, PrState::Merged);
    assert_eq!(pr(0).closed_at, Some(1_704_240_000));
    assert_eq!(pr(1).state, PrState::Closed);
    assert!(pr(2).draft);
    assert_eq!(pr(2).state, PrState::Open);
    assert_eq!(
        (pr(3).mergeable, pr(3).other_committers),
        (Mergeable::Dirty, true)
    );
    assert_eq!(
        (pr(4).mergeable, pr(4).other_committers),
        (Mergeable::Dirty, false)
    );
    let ci: Vec<CiStatus> = (5..10).map(|i| pr(i).ci).collect();
    assert_eq!(
        ci,
        [
            CiStatus::Failing,
            CiStatus::Pending,
            CiStatus::Failing,
            CiStatus::Pending,
            CiStatus::None
        ]
    );
    let typical = pr(42);
    assert_eq!(typical.feedstock, "pkg43");
    assert_eq!(typical.number, 43);
    assert_eq!(typical.head, "branch-43");
    assert_eq!(typical.head_sha, HEAD_SHA);
    assert_eq!(typical.ci, CiStatus::Passing);
    assert_eq!(typical.mergeable, Mergeable::Clean);
    assert!(typical.labels.contains("bug"));
    assert!(matches!(&answers[149], Err(ForgeError::NoSuchFeedstock(name)) if name == "gone"));
    assert!(matches!(
        &answers[199],
        Err(ForgeError::NoSuchPr { number: 999, feedstock }) if feedstock == "pkg200"
    ));
    assert_eq!(answers.iter().filter(|a| a.is_err()).count(), 2);
}

#[test]
fn a_spent_graphql_limit_stops_the_whole_batch_after_one_request() {
    let server = Server::start();
    server.mount(
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("graphql_rate_limited.json")),
            ),
    );
    let forge = server.forge();
    let answers = forge.prs(&refs(250));
    assert_eq!(answers.len(), 250);
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Err(err @ ForgeError::RateLimited { .. }) if err.stops_run()))
    );
    assert_eq!(
        server.received().len(),
        1,
        "no other chunk and no REST fallback was sent"
    );
}

#[test]
fn a_failing_combined_status_fails_green_check_runs() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    mount_ci(
        &server,
        fixture("check_runs.json"),
        fixture("combined_status_failure.json"),
    );
    let pr = server.forge().pr("zlib", 1347).unwrap();
    assert_eq!(pr.ci, CiStatus::Failing);
    assert_eq!(pr.state, PrState::Open);
    assert_eq!(pr.head, "new-topic");
    assert_eq!(pr.base, "master");
    assert_eq!(pr.head_sha, HEAD_SHA);
    assert_eq!(pr.mergeable, Mergeable::Clean);
    assert_eq!(pr.url, "https://github.com/octocat/Hello-World/pull/1347");
    assert_eq!(pr.created_at, 1_296_068_472);
    assert!(pr.labels.contains("bug"));
}

#[test]
fn a_pending_combined_status_holds_back_green_check_runs() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    let mut pending = fixture("combined_status_success.json");
    pending["state"] = json!("pending");
    mount_ci(&server, fixture("check_runs.json"), pending);
    assert_eq!(
        server.forge().pr("zlib", 1347).unwrap().ci,
        CiStatus::Pending
    );
}

#[test]
fn green_runs_with_no_statuses_pass_and_queued_runs_are_pending() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    assert_eq!(
        server.forge().pr("zlib", 1347).unwrap().ci,
        CiStatus::Passing
    );

    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    mount_ci(&server, check_runs("queued", None), no_statuses());
    assert_eq!(
        server.forge().pr("zlib", 1347).unwrap().ci,
        CiStatus::Pending
    );
}

#[test]
fn a_dirty_pr_is_asked_for_its_commits_and_sees_other_committers() {
    let dirty = pull_request(json!({"mergeable": false, "mergeable_state": "dirty"}));
    let commits = format!("{PR_PATH}/commits");
    // Only the bot (here `octocat`) committed: not someone else's PR.
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(dirty.clone())),
    );
    server.mount(Mock::given(method("GET")).and(path(&commits)).respond_with(
        ResponseTemplate::new(200).set_body_json(fixture("pull_request_commits.json")),
    ));
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    let pr = server
        .forge_with("octocat", quick_limits())
        .pr("zlib", 1347)
        .unwrap();
    assert_eq!(
        (pr.mergeable, pr.other_committers),
        (Mergeable::Dirty, false)
    );
    assert_eq!(server.count("GET", &commits), 1);

    // A maintainer's commits (with `web-flow` and empty accounts beside them).
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(dirty)),
    );
    server.mount(
        Mock::given(method("GET")).and(path(&commits)).respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture("pull_request_commits_empty_author_object.json")),
        ),
    );
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    let pr = server.forge().pr("zlib", 1347).unwrap();
    assert_eq!(
        (pr.mergeable, pr.other_committers),
        (Mergeable::Dirty, true)
    );

    // A clean PR costs no commits request.
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    assert!(!server.forge().pr("zlib", 1347).unwrap().other_committers);
    assert_eq!(server.count("GET", &commits), 0);
}

#[test]
fn a_422_already_exists_on_open_returns_the_pr_found_by_its_head() {
    let server = Server::start();
    let list = "/repos/conda-forge/zlib-feedstock/pulls";
    // Nothing open at the first look; the PR (opened meanwhile) at the second.
    server.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(query_param("head", "octocat:new-topic"))
            .and(query_param("state", "open"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .up_to_n_times(1)
            .with_priority(1),
    );
    server.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .and(query_param("head", "octocat:new-topic"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(fixture("pull_requests_list.json")),
            ),
    );
    server.mount(Mock::given(method("POST")).and(path(list)).respond_with(
        ResponseTemplate::new(422).set_body_json(fixture("pull_request_already_exists.json")),
    ));
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    let forge = server.forge_with("octocat", quick_limits());
    let pr = forge
        .open_pr(&NewPullRequest {
            feedstock: "zlib".to_owned(),
            head: "new-topic".to_owned(),
            base: "master".to_owned(),
            title: "Amazing new feature".to_owned(),
            body: "Please pull these awesome changes in!".to_owned(),
        })
        .unwrap();
    assert_eq!(pr.number, 1347);
    assert_eq!(pr.state, PrState::Open);
    assert_eq!(pr.ci, CiStatus::Passing);
    assert_eq!(server.count("POST", list), 1);
    assert_eq!(server.count("GET", list), 2);
    let posted: Value = serde_json::from_slice(
        &server
            .received()
            .into_iter()
            .find(|r| r.method.as_str() == "POST")
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(posted["head"], "octocat:new-topic");
    assert_eq!(posted["maintainer_can_modify"], true);
}

#[test]
fn opening_a_pr_on_an_archived_feedstock_says_archived() {
    let server = Server::start();
    let list = "/repos/conda-forge/zlib-feedstock/pulls";
    server.mount(
        Mock::given(method("GET"))
            .and(path(list))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([]))),
    );
    server.mount(Mock::given(method("POST")).and(path(list)).respond_with(
        ResponseTemplate::new(403).set_body_json(fixture("repository_archived.json")),
    ));
    let err = server
        .forge()
        .open_pr(&NewPullRequest {
            feedstock: "zlib".to_owned(),
            head: "b".to_owned(),
            base: "main".to_owned(),
            title: "t".to_owned(),
            body: "b".to_owned(),
        })
        .unwrap_err();
    assert!(
        matches!(&err, ForgeError::Archived(name) if name == "zlib-feedstock"),
        "{err:?}"
    );
}

/// A PR GET that first answers `first` (once), then the recorded PR.
fn flaky_pr_server(first: ResponseTemplate) -> Server {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(first)
            .up_to_n_times(1)
            .with_priority(1),
    );
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(json!({})))),
    );
    mount_ci(&server, fixture("check_runs.json"), no_statuses());
    server
}

#[test]
fn a_403_with_retry_after_one_second_is_retried_once() {
    let server = flaky_pr_server(
        ResponseTemplate::new(403)
            .insert_header("retry-after", "1")
            .set_body_json(fixture("secondary_rate_limit.json")),
    );
    let forge = server.forge();
    let started = Instant::now();
    let pr = forge.pr("zlib", 1347).unwrap();
    assert_eq!(pr.number, 1347);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(forge.stats().retries, 1);
    assert_eq!(server.count("GET", PR_PATH), 2);
}

#[test]
fn a_retry_after_longer_than_the_longest_wait_stops_the_run() {
    let server = flaky_pr_server(
        ResponseTemplate::new(403)
            .insert_header("retry-after", "120")
            .set_body_json(fixture("secondary_rate_limit.json")),
    );
    let forge = server.forge();
    let err = forge.pr("zlib", 1347).unwrap_err();
    let ForgeError::RateLimited {
        resets_at: Some(at),
        ..
    } = &err
    else {
        panic!("expected RateLimited, got {err:?}");
    };
    assert!((now() + 115..=now() + 121).contains(at), "{at}");
    assert!(err.stops_run());
    assert_eq!(server.count("GET", PR_PATH), 1);
}

#[test]
fn a_secondary_limit_without_retry_after_backs_off_and_retries() {
    let server = flaky_pr_server(
        ResponseTemplate::new(403).set_body_json(fixture("secondary_rate_limit.json")),
    );
    let forge = server.forge_with(
        "regro-cf-autotick-bot",
        Limits {
            secondary_backoff_secs: 1,
            ..quick_limits()
        },
    );
    let started = Instant::now();
    assert_eq!(forge.pr("zlib", 1347).unwrap().number, 1347);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(forge.stats().retries, 1);
    assert_eq!(server.count("GET", PR_PATH), 2);
}

#[test]
fn a_spent_primary_limit_stops_the_run_and_sends_nothing_more() {
    let reset = now() + 3600;
    let server = flaky_pr_server(
        ResponseTemplate::new(403)
            .insert_header("x-ratelimit-limit", "5000")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .insert_header("x-ratelimit-resource", "core")
            .set_body_json(fixture("rate_limit_exceeded.json")),
    );
    let forge = server.forge();
    let err = forge.pr("zlib", 1347).unwrap_err();
    assert!(
        matches!(err, ForgeError::RateLimited { resets_at: Some(at), .. } if at == reset),
        "{err:?}"
    );
    // The next request is refused before it is sent.
    assert!(matches!(
        forge.pr("zlib", 1347),
        Err(ForgeError::RateLimited { .. })
    ));
    assert_eq!(server.count("GET", PR_PATH), 1);
}

#[test]
fn a_401_is_an_auth_error_without_the_token() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET")).and(path(PR_PATH)).respond_with(
            ResponseTemplate::new(401).set_body_json(fixture("bad_credentials.json")),
        ),
    );
    let err = server.forge().pr("zlib", 1347).unwrap_err();
    assert!(matches!(err, ForgeError::Auth(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    let sent = &server.received()[0];
    assert_eq!(
        sent.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {TOKEN}")
    );
}

/// Answers 304 when the request carries the ETag it hands out, else 200 with `body` and
/// that ETag.
struct Conditional {
    etag: String,
    body: Value,
}

impl Respond for Conditional {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let sent = request
            .headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok());
        if sent == Some(self.etag.as_str()) {
            ResponseTemplate::new(304).insert_header("etag", self.etag.as_str())
        } else {
            ResponseTemplate::new(200)
                .insert_header("etag", self.etag.as_str())
                .set_body_json(self.body.clone())
        }
    }
}

#[test]
fn an_etagged_pr_answered_304_the_second_time_is_the_same_pr() {
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(Conditional {
                etag: "\"pr-1347\"".to_owned(),
                body: pull_request(json!({})),
            }),
    );
    mount_ci(
        &server,
        fixture("check_runs.json"),
        fixture("combined_status_success.json"),
    );
    let forge = server.forge();
    let first = forge.pr("zlib", 1347).unwrap();
    assert_eq!(forge.stats().not_modified, 0);
    let second = forge.pr("zlib", 1347).unwrap();
    assert_eq!(second, first);
    assert_eq!(forge.stats().not_modified, 1);
    let conditional = server
        .received()
        .iter()
        .filter(|r| r.url.path() == PR_PATH && r.headers.get("if-none-match").is_some())
        .count();
    assert_eq!(conditional, 1);
}

/// The REST answers for PR `n` of feedstock `pkg<n>` and its head's CI, all ETag'd.
struct PerPr;

impl Respond for PerPr {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let route = request.url.path().to_owned();
        let etag = format!("\"{}\"", route.replace('/', "_"));
        let body = if route.ends_with("/check-runs") {
            fixture_cached("check_runs")
        } else if route.ends_with("/status") {
            fixture_cached("status")
        } else {
            let number: u64 = route.rsplit('/').next().unwrap().parse().unwrap();
            let mut pr = fixture_cached("pr");
            pr["number"] = json!(number);
            pr
        };
        Conditional { etag, body }.respond(request)
    }
}

/// The three bodies [`PerPr`] serves, parsed once.
fn fixture_cached(which: &str) -> Value {
    static BODIES: std::sync::OnceLock<BTreeMap<&'static str, Value>> = std::sync::OnceLock::new();
    BODIES.get_or_init(|| {
        BTreeMap::from([
            ("pr", pull_request(json!({}))),
            ("check_runs", fixture("check_runs.json")),
            ("status", fixture("combined_status_success.json")),
        ])
    })[which]
        .clone()
}

#[test]
fn refreshing_a_thousand_prs_costs_at_most_fifteen_requests_and_unchanged_ones_cost_no_quota() {
    // The batch: 1,000 tracked PRs in 10 GraphQL requests.
    let (server, _responder) = graphql_server();
    let forge = server.forge();
    let started = Instant::now();
    // Numbers past the special cases of `shape` (and not 999): all open and green.
    let tracked: Vec<(String, u64)> = (1001..=2000).map(|n| (format!("pkg{n}"), n)).collect();
    let answers = forge.prs(&tracked);
    let batch_time = started.elapsed();
    assert_eq!(answers.len(), 1000);
    for ((feedstock, number), answer) in tracked.iter().zip(&answers) {
        let pr = answer.as_ref().unwrap();
        assert_eq!(
            (&pr.feedstock, pr.number, pr.ci),
            (feedstock, *number, CiStatus::Passing)
        );
    }
    let sent = server.received().len();
    assert!(sent <= 15, "{sent} requests");
    assert_eq!(forge.stats().requests, sent as u64);
    eprintln!("1,000 PRs refreshed in {sent} requests, {batch_time:?}");

    // One by one over REST, twice: the second pass is answered by 304s only.
    let server = Server::start();
    server.mount(
        Mock::given(method("GET"))
            .and(path_regex(r"^/repos/conda-forge/pkg\d+-feedstock/(pulls/\d+|commits/[0-9a-f]+/(check-runs|status))$"))
            .and(header("accept", "application/vnd.github+json"))
            .respond_with(PerPr),
    );
    let forge = server.forge();
    let pass = || {
        let before = forge.stats();
        let started = Instant::now();
        for (feedstock, number) in refs(1000) {
            let pr = forge.pr(&feedstock, number).unwrap();
            assert_eq!((pr.number, pr.ci), (number, CiStatus::Passing));
        }
        let after = forge.stats();
        (
            after.requests - before.requests,
            after.not_modified - before.not_modified,
            started.elapsed(),
        )
    };
    let (first, first_304, first_time) = pass();
    let (second, second_304, second_time) = pass();
    eprintln!(
        "REST: first pass {first} requests ({first_304} 304s) in {first_time:?}, \
         second pass {second} requests ({second_304} 304s) in {second_time:?}"
    );
    assert_eq!(first, 3000);
    assert_eq!(first_304, 0);
    assert_eq!(second, 3000);
    assert_eq!(second_304, second, "every GET of the second pass was a 304");
    assert_eq!(forge.stats().creates, 0);
}

#[test]
fn an_answer_quoting_the_token_is_redacted_in_the_error() {
    let server = Server::start();
    let comments = "/repos/conda-forge/zlib-feedstock/issues/1347/comments";
    let echo = json!({"message": format!("Resource not accessible with token {TOKEN}")});
    server.mount(
        Mock::given(method("POST"))
            .and(path(comments))
            .respond_with(ResponseTemplate::new(403).set_body_json(echo)),
    );
    let garbled = pull_request(json!({"number": format!("#{TOKEN}")}));
    server.mount(
        Mock::given(method("GET"))
            .and(path(PR_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(garbled)),
    );
    let forge = server.forge();
    let refused = forge.comment("zlib", 1347, "hello").unwrap_err();
    assert!(
        matches!(
            refused,
            ForgeError::Api {
                status: Some(403),
                ..
            }
        ),
        "{refused:?}"
    );
    let unexpected = forge.pr("zlib", 1347).unwrap_err();
    for err in [refused, unexpected] {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(TOKEN), "{text}");
        assert!(text.contains("***"), "{text}");
    }
}
