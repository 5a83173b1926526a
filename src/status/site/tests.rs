//! Whole-site builds from hand-made models: what is written, where, and that nothing
//! from the data reaches a page unescaped.

use std::path::Path;

use crate::status::model::{PrInfo, ReasonCode, ReasonDetail, State};

use super::fixture::{migration, reason, report};
use super::{SiteOptions, VersionRow, VersionUpdates, build};

const EVIL: &str = "<script>alert('x')</script>";

fn read(path: &Path) -> String {
    fs_err::read_to_string(path).unwrap()
}

/// Every HTML and SVG file under `dir`, recursively.
fn markup_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(markup_files(&path));
        } else if path.extension().is_some_and(|e| e == "html" || e == "svg") {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_script_in_a_name_title_or_message_renders_inert_everywhere() {
    let mut m = migration(
        EVIL,
        &[
            ("zlib", State::Done, &[]),
            (EVIL, State::InPr, &["zlib"]),
            ("libpng", State::BotError, &[EVIL]),
        ],
    );
    m.description = Some(EVIL.to_string());
    for node in &mut m.nodes {
        node.reason.text = format!("because {EVIL}");
        if node.state == State::InPr {
            node.pr = Some(PrInfo {
                number: 7,
                url: format!("https://example.org/{EVIL}"),
                state: None,
                ci: None,
                mergeable: None,
                draft: false,
                title: EVIL.to_string(),
                created_at: Some(1_790_000_000),
                updated_at: None,
                closed_at: None,
            });
        }
        if node.state == State::BotError {
            node.last_error = Some(EVIL.to_string());
            node.reason.detail = ReasonDetail::Error {
                kind: crate::graph::AttemptErrorKind::Migrate,
                message: EVIL.to_string(),
                attempts: 2,
                last_attempt_at: 1_790_000_000,
                retry_at: None,
            };
        }
    }
    let mut r = report(vec![m]);
    r.definition_errors
        .push(crate::status::model::DefinitionError {
            file: EVIL.to_string(),
            message: EVIL.to_string(),
        });
    let versions = VersionUpdates {
        queued: vec![],
        errored: vec![VersionRow {
            feedstock: EVIL.to_string(),
            current_version: Some(EVIL.to_string()),
            new_version: EVIL.to_string(),
            attempts: 1,
            error: Some(EVIL.to_string()),
        }],
    };
    let dir = tempfile::tempdir().unwrap();
    build(&r, Some(&versions), dir.path(), &SiteOptions::default()).unwrap();

    let files = markup_files(dir.path());
    assert!(files.len() >= 7, "{files:?}");
    for file in &files {
        let text = read(file);
        assert!(
            !text.contains("<script>alert"),
            "{} carries a live script",
            file.display()
        );
    }
    // The migration page kept the name, escaped, and the table JSON cannot close its
    // script element.
    let page = read(
        &dir.path()
            .join("migrations/~3Cscript~3Ealert~28~27x~27~29~3C~2Fscript~3E.html"),
    );
    assert!(page.contains("&lt;script&gt;alert("));
    assert!(page.contains(r"\u003cscript\u003ealert("));
    // The error reaches the JSON as HTML-escaped text, as cf-scripts' field is HTML.
    let json: serde_json::Value = serde_json::from_str(&read(
        &dir.path()
            .join("migration_json/~3Cscript~3Ealert~28~27x~27~29~3C~2Fscript~3E.json"),
    ))
    .unwrap();
    assert_eq!(
        json["_feedstock_status"]["libpng"]["pre_pr_migrator_status"],
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    );
}

#[test]
fn a_second_build_removes_the_pages_of_feedstocks_that_left_and_lists_closed_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let first = report(vec![
        migration(
            "old",
            &[
                ("zlib", State::Done, &[]),
                ("bzip2", State::AwaitingPr, &[]),
            ],
        ),
        migration("new", &[("zlib", State::AwaitingPr, &[])]),
    ]);
    build(&first, None, dir.path(), &SiteOptions::default()).unwrap();
    assert!(dir.path().join("feedstocks/bzip2.html").is_file());
    assert!(dir.path().join("migrations/old.html").is_file());

    let mut second = report(vec![migration("new", &[("zlib", State::InPr, &[])])]);
    second.generated_at += 3600;
    let summary = build(&second, None, dir.path(), &SiteOptions::default()).unwrap();
    assert!(!dir.path().join("feedstocks/bzip2.html").exists());
    assert!(!dir.path().join("migrations/old.html").exists());
    assert!(!dir.path().join("migration_json/old.json").exists());
    assert_eq!(summary.removed, 4, "bzip2's page, old's page, JSON and SVG");
    let closed: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("closed_status.json"))).unwrap();
    assert_eq!(closed["old"], "old closed at 2026-09-21T15:13:20 UTC");
    let total: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("total_status.json"))).unwrap();
    assert_eq!(total, serde_json::json!({"new": "new Migration Status"}));
}

#[test]
fn the_feedstock_page_explains_the_parents_a_member_waits_for() {
    let mut m = migration(
        "python314",
        &[
            ("python", State::InPr, &[]),
            ("numpy", State::AwaitingParents, &["python"]),
        ],
    );
    if let Some(numpy) = m.nodes.iter_mut().find(|n| n.feedstock == "numpy") {
        numpy.reason = reason(ReasonCode::AwaitingParents, "waits for python");
        numpy.reason.detail = ReasonDetail::Parents {
            parents: vec![crate::status::model::ParentState {
                feedstock: "python".into(),
                state: State::InPr,
                code: ReasonCode::InPrCiFailing,
                pr_url: Some("https://example.org/python/pull/3".into()),
            }],
        };
    }
    let r = report(vec![m]);
    let dir = tempfile::tempdir().unwrap();
    let summary = build(&r, None, dir.path(), &SiteOptions::default()).unwrap();
    let page = read(&dir.path().join("feedstocks/numpy.html"));
    assert!(page.contains("Waiting for 1 parent:"), "{page}");
    assert!(page.contains(r#"<a href="../feedstocks/python.html">python</a> <span class="badge s-in-pr">in-pr</span> <code>in-pr/ci-failing</code> <a href="https://example.org/python/pull/3">PR</a>"#), "{page}");
    assert!(!dir.path().join("versions.html").exists());
    let versions: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("version_status.json"))).unwrap();
    assert_eq!(
        versions,
        serde_json::json!({"queued": [], "errored": [], "errors": {}})
    );
    assert_eq!(summary.index, dir.path().join("index.html"));
    assert!(summary.largest_page_bytes > 0);
}

#[test]
fn a_republish_rewrites_only_the_files_whose_bytes_changed() {
    let dir = tempfile::tempdir().unwrap();
    let members: &[(&str, State, &[&str])] = &[
        ("zlib", State::Done, &[]),
        ("libpng", State::AwaitingPr, &["zlib"]),
        ("freetype", State::AwaitingParents, &["libpng"]),
    ];
    let first = build(
        &report(vec![migration("m", members)]),
        None,
        dir.path(),
        &SiteOptions::default(),
    )
    .unwrap();
    assert_eq!(first.unchanged, 0);
    let again = build(
        &report(vec![migration("m", members)]),
        None,
        dir.path(),
        &SiteOptions::default(),
    )
    .unwrap();
    assert_eq!(again.unchanged, again.files);

    // libpng moves on an hour later: its page, the migration's files and the dated
    // pages change; zlib's and freetype's pages are left alone.
    let mut moved = report(vec![migration(
        "m",
        &[
            ("zlib", State::Done, &[]),
            ("libpng", State::InPr, &["zlib"]),
            ("freetype", State::AwaitingParents, &["libpng"]),
        ],
    )]);
    moved.generated_at += 3600;
    let zlib = dir.path().join("feedstocks/zlib.html");
    let before = fs_err::metadata(&zlib).unwrap().modified().unwrap();
    let third = build(&moved, None, dir.path(), &SiteOptions::default()).unwrap();
    assert_eq!(fs_err::metadata(&zlib).unwrap().modified().unwrap(), before);
    let rewritten = third.files - third.unchanged;
    // libpng's page, the migration page, its JSON and SVG, index.html, feedstocks.html.
    assert_eq!(rewritten, 6, "{third:#?}");
}

#[test]
fn version_updates_fill_the_version_page_and_version_status_json() {
    let dir = tempfile::tempdir().unwrap();
    let row = |name: &str, error: Option<&str>| VersionRow {
        feedstock: name.to_string(),
        current_version: Some("1.0".into()),
        new_version: "2.0".into(),
        attempts: u32::from(error.is_some()),
        error: error.map(str::to_string),
    };
    let versions = VersionUpdates {
        queued: vec![row("zlib", None)],
        errored: vec![row("libpng", Some("PyPI: 503"))],
    };
    let r = report(vec![migration(
        "m",
        &[("zlib", State::Done, &[]), ("libpng", State::Done, &[])],
    )]);
    build(&r, Some(&versions), dir.path(), &SiteOptions::default()).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("version_status.json"))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "queued": ["zlib"],
            "errored": ["libpng"],
            "errors": {"libpng": "PyPI: 503"}
        })
    );
    let page = read(&dir.path().join("versions.html"));
    assert!(page.contains(r#"<tr data-feedstock="libpng">"#), "{page}");
    assert!(page.contains("PyPI: 503"));
    assert!(read(&dir.path().join("index.html")).contains(r#"href="versions.html""#));
    let zlib = read(&dir.path().join("feedstocks/zlib.html"));
    assert!(zlib.contains("2.0 queued"), "{zlib}");

    // The next build without version data drops the page and empties the lists.
    build(&r, None, dir.path(), &SiteOptions::default()).unwrap();
    assert!(!dir.path().join("versions.html").exists());
    assert!(!read(&dir.path().join("index.html")).contains("versions.html\""));
}

#[test]
fn a_directory_that_never_held_a_site_loses_none_of_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("assets/their-logo.svg");
    fs_err::create_dir_all(theirs.parent().unwrap()).unwrap();
    fs_err::write(&theirs, "<svg/>").unwrap();
    let r = report(vec![migration("m", &[("zlib", State::Done, &[])])]);
    let summary = build(&r, None, dir.path(), &SiteOptions::default()).unwrap();
    assert_eq!(summary.removed, 0);
    assert!(theirs.is_file());
    // From then on the directory is a site, and what a build did not write goes.
    let summary = build(&r, None, dir.path(), &SiteOptions::default()).unwrap();
    assert_eq!(summary.removed, 1);
    assert!(!theirs.exists());
}
