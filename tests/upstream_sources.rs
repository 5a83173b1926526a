//! Every upstream source against a real HTTP server on 127.0.0.1 serving recorded
//! registry answers (`tests/fixtures/upstream/`): pre-release rules, tag prefixes,
//! filters, source order, and 404 / 500 / timeouts per source.

#[path = "fixtures/upstream/server.rs"]
mod server;

use std::process::Command;
use std::time::Duration;

use cascade::feedstock::config::{VersionSource, VersionUpdates};
use cascade::upstream::{
    CheckOptions, CheckOutcome, Checker, GithubToken, HttpSettings, SourceKind, SourceUrls, Target,
    VersionCheckStatus,
};
use server::{Reply, TestServer};

fn options(server: &TestServer) -> CheckOptions {
    CheckOptions {
        urls: SourceUrls::all_at(&server.base),
        http: HttpSettings {
            timeout: Duration::from_millis(800),
            per_host: 8,
            host_delay: Duration::ZERO,
            retries: 0,
            github_token: None,
        },
        concurrency: 8,
        git_timeout: Duration::from_secs(20),
        sources: None,
    }
}

fn target(feedstock: &str, version: &str, url: &str) -> Target {
    Target {
        feedstock: feedstock.to_string(),
        version: Some(version.to_string()),
        urls: vec![url.to_string()],
        git_urls: Vec::new(),
        settings: VersionUpdates::default(),
    }
}

async fn check_with(options: CheckOptions, target: &Target) -> CheckOutcome {
    Checker::new(options).unwrap().check(target).await
}

async fn check(server: &TestServer, target: &Target) -> CheckOutcome {
    check_with(options(server), target).await
}

fn only(server: &TestServer, sources: &[SourceKind]) -> CheckOptions {
    CheckOptions {
        sources: Some(sources.to_vec()),
        ..options(server)
    }
}

const ATTRS_URL: &str = "https://pypi.io/packages/source/a/attrs/attrs-23.1.0.tar.gz";

#[tokio::test]
async fn pypi_recorded_answer_gives_the_newest_final_release() {
    let server = TestServer::start().await;
    server.reply(
        "/pypi-api/pypi/attrs/json",
        Reply::fixture("pypi-attrs.json"),
    );
    let outcome = check(&server, &target("attrs", "23.1.0", ATTRS_URL)).await;
    assert_eq!(outcome.status, VersionCheckStatus::Newer, "{outcome:?}");
    assert_eq!(outcome.newest_version.as_deref(), Some("26.1.0"));
    assert_eq!(outcome.source, Some(SourceKind::Pypi));
    assert_eq!(
        outcome.upstream_url.as_deref(),
        Some(format!("{}/pypi-api/pypi/attrs/json", server.base).as_str())
    );
}

#[tokio::test]
async fn pypi_files_pythonhosted_urls_name_the_project_by_file_name() {
    let server = TestServer::start().await;
    server.reply(
        "/pypi-api/pypi/annotated_types/json",
        Reply::fixture("pypi-annotated-types.json"),
    );
    let url = "https://files.pythonhosted.org/packages/ee/67/531ea369ba64dcff5ec9c3402f9f51bf748cec26dde048a2f973a4eea7f5/annotated_types-0.7.0.tar.gz";
    let outcome = check(&server, &target("annotated-types", "0.7.0", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("0.8.0"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn pypi_pre_releases_lose_to_finals_but_stand_when_there_is_nothing_else() {
    let server = TestServer::start().await;
    server.reply(
        "/pypi-api/pypi/mixed/json",
        Reply::ok(
            r#"{"info":{"version":"2.1.0rc1"},"releases":{"2.0.0":[{"yanked":false}],"2.1.0rc1":[{"yanked":false}],"2.2.0":[{"yanked":true}]}}"#,
        ),
    );
    server.reply(
        "/pypi-api/pypi/early/json",
        Reply::ok(r#"{"info":{"version":"0.1a2"},"releases":{"0.1a1":[{}],"0.1a2":[{}]}}"#),
    );
    let url = |n: &str| {
        format!(
            "https://pypi.org/packages/source/{0}/{n}/{n}-1.0.tar.gz",
            &n[..1]
        )
    };
    let mixed = check(&server, &target("mixed", "1.0", &url("mixed"))).await;
    assert_eq!(mixed.newest_version.as_deref(), Some("2.0.0"), "{mixed:?}");
    let early = check(&server, &target("early", "0.1a1", &url("early"))).await;
    assert_eq!(early.newest_version.as_deref(), Some("0.1a2"), "{early:?}");
}

#[tokio::test]
async fn npm_recorded_answer_skips_its_beta_and_stops_at_latest() {
    let server = TestServer::start().await;
    server.reply(
        "/npm/configurable-http-proxy",
        Reply::fixture("npm-configurable-http-proxy.json"),
    );
    let url =
        "https://registry.npmjs.org/configurable-http-proxy/-/configurable-http-proxy-4.6.1.tgz";
    let outcome = check(&server, &target("configurable-http-proxy", "4.6.1", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("5.3.0"),
        "{outcome:?}"
    );
    assert_eq!(outcome.source, Some(SourceKind::Npm));
}

#[tokio::test]
async fn npm_a_final_above_latest_is_not_proposed() {
    let server = TestServer::start().await;
    server.reply(
        "/npm/@scope%2Fpkg",
        Reply::ok(
            r#"{"dist-tags":{"latest":"1.2.0","next":"2.0.0"},"versions":{"1.1.0":{},"1.2.0":{},"2.0.0":{},"1.3.0-beta.1":{}}}"#,
        ),
    );
    let url = "https://registry.npmjs.org/@scope/pkg/-/pkg-1.1.0.tgz";
    let outcome = check(&server, &target("pkg", "1.1.0", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("1.2.0"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn crates_index_recorded_answer_gives_the_next_release() {
    let server = TestServer::start().await;
    server.reply(
        "/crates-index/wb/g-/wbg-rand",
        Reply::fixture("crates-index-wbg-rand"),
    );
    let url = "https://crates.io/api/v1/crates/wbg-rand/0.4.0/download";
    let outcome = check(&server, &target("wbg-rand", "0.4.0", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("0.4.1"),
        "{outcome:?}"
    );
    assert_eq!(outcome.source, Some(SourceKind::CratesIo));
}

#[tokio::test]
async fn crates_index_skips_yanked_pre_releases_and_a_trailing_backport() {
    let server = TestServer::start().await;
    // The recorded index of `rand` (it holds 0.10.0-rc.* and two yanked versions), with
    // three lines appended in the index's format: a yanked 0.10.5, a pre-release and a
    // backport published last. The bot would take the last line (0.9.6).
    let mut body = fs_err::read_to_string(server::fixture_path("crates-index-rand")).unwrap();
    for (vers, yanked) in [("0.10.5", true), ("0.11.0-rc.1", false), ("0.9.6", false)] {
        body.push_str(&format!(
            "{{\"name\":\"rand\",\"vers\":\"{vers}\",\"deps\":[],\"cksum\":\"00\",\"features\":{{}},\"yanked\":{yanked}}}\n"
        ));
    }
    server.reply("/crates-index/ra/nd/rand", Reply::ok(body));
    let url = "https://static.crates.io/crates/rand/rand-0.8.5.crate";
    let outcome = check(&server, &target("rand", "0.8.5", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("0.10.4"),
        "{outcome:?}"
    );
}

const AWS_URL: &str = "https://github.com/awslabs/aws-c-auth/archive/v0.10.5.tar.gz";

#[tokio::test]
async fn github_tags_follow_pagination_strip_v_and_drop_release_candidates() {
    let server = TestServer::start().await;
    let page2 = format!(
        "{}/github-api/repositories/1/tags-page-2?per_page=100&page=2",
        server.base
    );
    server.reply(
        "/github-api/repos/awslabs/aws-c-auth/tags",
        Reply::fixture("github-tags-aws-c-auth.json").header(
            "link",
            &format!("<{page2}>; rel=\"next\", <{page2}>; rel=\"last\""),
        ),
    );
    server.reply(
        "/github-api/repositories/1/tags-page-2",
        Reply::fixture("github-tags-aws-c-auth-page2.json"),
    );
    let outcome = check(&server, &target("aws-c-auth", "0.10.5", AWS_URL)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("0.12.0"),
        "{outcome:?}"
    );
    assert_eq!(outcome.source, Some(SourceKind::Github));
    assert_eq!(server.hits("/github-api/repositories/1/tags-page-2"), 1);
}

#[tokio::test]
async fn github_token_is_sent_as_a_bearer_and_never_shown_in_errors() {
    let server = TestServer::start().await;
    server.reply(
        "/github-api/repos/awslabs/aws-c-auth/tags",
        Reply::status(500),
    );
    let mut options = only(&server, &[SourceKind::Github]);
    options.http.github_token = GithubToken::new("ghp_not_a_real_token");
    let outcome = check_with(options, &target("aws-c-auth", "0.10.5", AWS_URL)).await;
    assert_eq!(outcome.status, VersionCheckStatus::Failed);
    assert_eq!(
        server.authorization_seen(),
        [Some("Bearer ghp_not_a_real_token".to_string())]
    );
    let shown = format!("{outcome:?}{}", outcome.error().unwrap());
    assert!(!shown.contains("ghp_not_a_real_token"), "{shown}");
}

#[tokio::test]
async fn github_releases_skip_drafts_and_judge_pre_releases_by_pep440_not_the_flag() {
    let server = TestServer::start().await;
    server.reply(
        "/github-api/repos/spglib/spglib/releases",
        Reply::fixture("github-releases-spglib.json"),
    );
    let url = "https://github.com/spglib/spglib/archive/v2.4.0.tar.gz";
    let outcome = check_with(
        only(&server, &[SourceKind::GithubReleases]),
        &target("spglib", "2.4.0", url),
    )
    .await;
    // v2.7.0 is a draft, v2.6.0rc1 is a PEP 440 pre-release although not flagged, and
    // v2.5.1 is flagged as a pre-release although its tag is final.
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("2.5.1"),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn allowed_tag_globs_select_scoped_tags() {
    let server = TestServer::start().await;
    server.reply(
        "/github-api/repos/sass/dart-sass/tags",
        Reply::fixture("github-tags-sass.json"),
    );
    let url = "https://github.com/sass/dart-sass/archive/sass_api/17.4.0.tar.gz";
    let mut t = target("sass-api", "17.4.0", url);
    t.settings.allowed_tag_globs = Some(vec!["sass_api/*".to_string()]);
    let outcome = check_with(only(&server, &[SourceKind::Github]), &t).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("17.5.0"),
        "{outcome:?}"
    );
    t.settings.allowed_tag_globs = Some(vec!["[0-9]*".to_string()]);
    let main_package = check_with(only(&server, &[SourceKind::Github]), &t).await;
    assert_eq!(main_package.newest_version.as_deref(), Some("1.80.0"));
}

#[tokio::test]
async fn a_tag_prefix_read_off_the_recipe_url_is_stripped() {
    let server = TestServer::start().await;
    server.reply(
        "/github-api/repos/llvm/llvm-project/tags",
        Reply::fixture("github-tags-llvm.json"),
    );
    let url = "https://github.com/llvm/llvm-project/releases/download/llvmorg-18.1.8/llvm-project-18.1.8.src.tar.xz";
    let outcome = check(&server, &target("llvmdev", "18.1.8", url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("19.1.7"),
        "{outcome:?}"
    );
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[tokio::test]
async fn git_tags_of_a_real_repository_give_the_newest_tag() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    for tag in [
        "libtirpc-1-3-6",
        "libtirpc-1-3-7",
        "libtirpc-1-4-0-rc1",
        "upstream",
    ] {
        git(dir.path(), &["tag", "-a", "-m", tag, tag]);
    }
    let server = TestServer::start().await;
    let mut t = target("libtirpc", "1.3.6", "https://example.invalid/none");
    t.urls.clear();
    t.git_urls = vec![dir.path().display().to_string()];
    let outcome = check(&server, &t).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("1.3.7"),
        "{outcome:?}"
    );
    assert_eq!(outcome.source, Some(SourceKind::GitTags));

    t.git_urls = vec![dir.path().join("missing").display().to_string()];
    let missing = check(&server, &t).await;
    assert_eq!(missing.status, VersionCheckStatus::Failed, "{missing:?}");
    assert!(
        missing.failures[0].message.contains("git ls-remote"),
        "{missing:?}"
    );
}

#[tokio::test]
async fn cran_index_gives_current_versions_and_nothing_for_archived_only_packages() {
    let server = TestServer::start().await;
    server.reply("/cran/src/contrib/", Reply::fixture("cran-contrib.html"));
    server.reply(
        "/cran/src/contrib/Archive/",
        Reply::fixture("cran-archive.html"),
    );
    let checker = Checker::new(options(&server)).unwrap();
    let abc = checker
        .check(&target(
            "r-abc",
            "2.1_3",
            "https://cran.r-project.org/src/contrib/Archive/abc/abc_2.1-3.tar.gz",
        ))
        .await;
    assert_eq!(abc.newest_version.as_deref(), Some("2.1_4"), "{abc:?}");
    assert_eq!(abc.source, Some(SourceKind::Cran));
    let old = checker
        .check(&target(
            "r-oldpkg",
            "1.0",
            "https://cran.r-project.org/src/contrib/oldpkg_1.0.tar.gz",
        ))
        .await;
    assert_eq!(old.newest_version, None, "{old:?}");
    // One index per checker, however many feedstocks.
    assert_eq!(server.hits("/cran/src/contrib/"), 1);
}

#[tokio::test]
async fn raw_url_guessing_climbs_through_the_files_that_exist() {
    let server = TestServer::start().await;
    for v in ["1.3.1", "1.3.2", "1.4.0"] {
        server.reply(&format!("/dl/zlib-{v}.tar.gz"), Reply::ok("x"));
    }
    let url = format!("{}/dl/zlib-1.3.1.tar.gz", server.base);
    let outcome = check(&server, &target("zlib", "1.3.1", &url)).await;
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("1.4.0"),
        "{outcome:?}"
    );
    assert_eq!(outcome.source, Some(SourceKind::RawUrl));
    assert_eq!(
        outcome.upstream_url.as_deref(),
        Some(format!("{}/dl/zlib-1.4.0.tar.gz", server.base).as_str())
    );
}

#[tokio::test]
async fn increment_alpha_applies_to_the_named_feedstocks_only() {
    let server = TestServer::start().await;
    server.reply("/tz/tzdata2024b.tar.gz", Reply::ok("x"));
    let url = format!("{}/tz/tzdata2024a.tar.gz", server.base);
    let sources = [SourceKind::RawUrl, SourceKind::IncrementAlphaRawUrl];
    let tzdata = check_with(only(&server, &sources), &target("tzdata", "2024a", &url)).await;
    assert_eq!(
        tzdata.newest_version.as_deref(),
        Some("2024b"),
        "{tzdata:?}"
    );
    assert_eq!(tzdata.source, Some(SourceKind::IncrementAlphaRawUrl));
    let other = check_with(only(&server, &sources), &target("other", "2024a", &url)).await;
    assert_eq!(other.newest_version, None, "{other:?}");
}

#[tokio::test]
async fn configured_sources_are_asked_in_the_users_order() {
    let server = TestServer::start().await;
    server.reply(
        "/pypi-api/pypi/attrs/json",
        Reply::fixture("pypi-attrs.json"),
    );
    let mut t = target(
        "attrs",
        "23.1.0",
        &format!("{}/mirror/attrs-23.1.0.tar.gz", server.base),
    );
    t.urls.push(ATTRS_URL.to_string());
    server.reply("/mirror/attrs-23.1.1.tar.gz", Reply::ok("x"));
    t.settings.sources = Some(vec![VersionSource::Rawurl, VersionSource::Pypi]);
    let outcome = check(&server, &t).await;
    assert_eq!(outcome.source, Some(SourceKind::RawUrl), "{outcome:?}");
    assert_eq!(outcome.newest_version.as_deref(), Some("23.1.1"));
    assert_eq!(server.hits("/pypi-api/pypi/attrs/json"), 0);
}

#[tokio::test]
async fn a_failing_source_is_recorded_and_a_later_one_answers() {
    let server = TestServer::start().await;
    server.reply("/pypi-api/pypi/attrs/json", Reply::status(500));
    server.reply(
        "/github-api/repos/python-attrs/attrs/tags",
        Reply::ok(r#"[{"name":"23.2.0"},{"name":"23.1.0"}]"#),
    );
    let mut t = target("attrs", "23.1.0", ATTRS_URL);
    t.urls
        .push("https://github.com/python-attrs/attrs/archive/23.1.0.tar.gz".to_string());
    let outcome = check_with(only(&server, &[SourceKind::Pypi, SourceKind::Github]), &t).await;
    assert_eq!(outcome.status, VersionCheckStatus::Newer, "{outcome:?}");
    assert_eq!(outcome.source, Some(SourceKind::Github));
    assert_eq!(outcome.failures.len(), 1);
    assert!(outcome.failures[0].message.contains("HTTP 500"));
    assert_eq!(outcome.error(), None);
}

#[tokio::test]
async fn filters_exclude_odd_minors_and_a_random_fraction() {
    let server = TestServer::start().await;
    server.reply(
        "/pypi-api/pypi/pkg/json",
        Reply::ok(
            r#"{"info":{"version":"3.3.0"},"releases":{"3.0.0":[{}],"3.1.0":[{}],"3.2.0":[{}],"3.2.1":[{}],"3.3.0":[{}]}}"#,
        ),
    );
    let url = "https://pypi.org/packages/source/p/pkg/pkg-3.0.0.tar.gz";
    let mut t = target("pkg", "3.0.0", url);
    t.settings.exclude = vec!["3_2_1".to_string()];
    t.settings.even_odd_versions = Some(true);
    let outcome = check(&server, &t).await;
    // 3.3.0 and 3.1.0 are odd minors; 3.2.1 is excluded as `3_2_1`.
    assert_eq!(
        outcome.newest_version.as_deref(),
        Some("3.2.0"),
        "{outcome:?}"
    );

    let mut t = target("pkg", "3.0.0", url);
    t.settings.random_fraction_to_keep = Some(0.0);
    let none_kept = check(&server, &t).await;
    assert_eq!(none_kept.newest_version, None);
    assert_eq!(none_kept.status, VersionCheckStatus::NotFound);
    t.settings.random_fraction_to_keep = Some(1.0);
    let all_kept = check(&server, &t).await;
    assert_eq!(all_kept.newest_version.as_deref(), Some("3.3.0"));
}

#[tokio::test]
async fn skip_checks_nothing_and_sends_no_request() {
    let server = TestServer::start().await;
    let mut t = target("attrs", "23.1.0", ATTRS_URL);
    t.settings.skip = true;
    let outcome = check(&server, &t).await;
    assert_eq!(outcome.status, VersionCheckStatus::Skipped);
    assert_eq!(server.total_hits(), 0);
}

/// One target per registry source, with the path its API is asked at.
fn per_source() -> Vec<(SourceKind, Target, &'static str)> {
    vec![
        (
            SourceKind::Pypi,
            target("attrs", "23.1.0", ATTRS_URL),
            "/pypi-api/pypi/attrs/json",
        ),
        (
            SourceKind::Npm,
            target(
                "chp",
                "4.6.1",
                "https://registry.npmjs.org/chp/-/chp-4.6.1.tgz",
            ),
            "/npm/chp",
        ),
        (
            SourceKind::CratesIo,
            target(
                "wbg-rand",
                "0.4.0",
                "https://crates.io/api/v1/crates/wbg-rand/0.4.0/download",
            ),
            "/crates-index/wb/g-/wbg-rand",
        ),
        (
            SourceKind::Github,
            target("aws-c-auth", "0.10.5", AWS_URL),
            "/github-api/repos/awslabs/aws-c-auth/tags",
        ),
        (
            SourceKind::GithubReleases,
            target("aws-c-auth", "0.10.5", AWS_URL),
            "/github-api/repos/awslabs/aws-c-auth/releases",
        ),
        (
            SourceKind::Cran,
            target(
                "r-abc",
                "2.1_3",
                "https://cran.r-project.org/src/contrib/abc_2.1-3.tar.gz",
            ),
            "/cran/src/contrib/",
        ),
    ]
}

#[tokio::test]
async fn every_registry_source_reports_404_500_and_timeouts_with_its_url() {
    let server = TestServer::start().await;
    for (status, expect) in [
        (Reply::status(404), "HTTP 404"),
        (Reply::status(500), "HTTP 500"),
        (Reply::slow(Duration::from_secs(3)), "no answer within"),
        (Reply::ok("<not json"), "unexpected response"),
    ] {
        for (kind, t, path) in per_source() {
            if kind == SourceKind::Cran && expect == "unexpected response" {
                continue; // an HTML listing has no JSON to get wrong
            }
            server.reply(path, status.clone());
            let outcome = check_with(only(&server, &[kind]), &t).await;
            assert_eq!(
                outcome.status,
                VersionCheckStatus::Failed,
                "{kind} {expect}: {outcome:?}"
            );
            let error = outcome.error().unwrap();
            assert!(error.contains(expect), "{kind}: {error}");
            assert!(error.contains(path), "{kind}: {error}");
            assert!(error.starts_with(kind.as_str()), "{kind}: {error}");
        }
    }
}

#[tokio::test]
async fn transient_failures_are_retried_and_a_404_is_not() {
    let server = TestServer::start().await;
    server.reply("/pypi-api/pypi/attrs/json", Reply::status(503));
    let mut options = only(&server, &[SourceKind::Pypi]);
    options.http.retries = 2;
    let outcome = check_with(options.clone(), &target("attrs", "23.1.0", ATTRS_URL)).await;
    assert_eq!(outcome.status, VersionCheckStatus::Failed);
    assert_eq!(server.hits("/pypi-api/pypi/attrs/json"), 3);
    server.reply("/pypi-api/pypi/gone/json", Reply::status(404));
    let gone = "https://pypi.org/packages/source/g/gone/gone-1.0.tar.gz";
    check_with(options, &target("gone", "1.0", gone)).await;
    assert_eq!(server.hits("/pypi-api/pypi/gone/json"), 1);
}

#[tokio::test]
async fn no_more_than_the_per_host_limit_is_in_flight() {
    let server = TestServer::start().await;
    let mut targets = Vec::new();
    for i in 0..12 {
        let name = format!("p{i}");
        server.reply(
            &format!("/pypi-api/pypi/{name}/json"),
            Reply::ok(r#"{"info":{"version":"2.0"},"releases":{"2.0":[{}]}}"#)
                .delayed(Duration::from_millis(80)),
        );
        targets.push(target(
            &name,
            "1.0",
            &format!("https://pypi.org/packages/source/p/{name}/{name}-1.0.tar.gz"),
        ));
    }
    let mut options = options(&server);
    options.concurrency = 12;
    options.http.per_host = 2;
    let checker = std::sync::Arc::new(Checker::new(options).unwrap());
    let outcomes = checker
        .check_all(
            targets,
            std::sync::Arc::new(cascade::upstream::NoCheckReporter),
        )
        .await;
    assert_eq!(outcomes.len(), 12);
    assert!(
        outcomes
            .iter()
            .all(|o| o.status == VersionCheckStatus::Newer)
    );
    assert_eq!(outcomes[3].feedstock, "p3", "outcomes keep the input order");
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn raw_url_guessing_reports_a_host_that_fails_or_does_not_answer() {
    let server = TestServer::start().await;
    server.reply("/broken/x-1.0.1.tar.gz", Reply::status(500));
    server.reply(
        "/slow/x-1.0.1.tar.gz",
        Reply::ok("x").delayed(Duration::from_secs(3)),
    );
    for (dir, expect) in [("broken", "HTTP 500"), ("slow", "no answer within")] {
        let url = format!("{}/{dir}/x-1.0.0.tar.gz", server.base);
        let outcome = check(&server, &target("x", "1.0.0", &url)).await;
        assert_eq!(outcome.status, VersionCheckStatus::Failed, "{outcome:?}");
        let error = outcome.error().unwrap();
        assert!(
            error.starts_with("RawURL: ") && error.contains(expect),
            "{error}"
        );
        // The first failure stops the guessing: no waiting out every candidate.
        assert_eq!(server.hits(&format!("/{dir}/x-1.0.1.tar.gz")), 1);
    }
}
