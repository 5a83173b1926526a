//! The status site end to end: a generated universe through the local forge and the bot
//! (a migration whose commit message carries a script, a maintainer's variant file whose
//! key carries one), then `cascade status build` from the command line. Nothing from the
//! data runs as a script, every relative link resolves, the pages show the model's
//! counts; a migration beyond the drawing limit is aggregated and the page stays small.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use cascade::forge::CommitSpec;
use cascade::forge::local::{LocalForge, LocalForgeOptions};
use cascade::graph::{self, BuildOptions, NoReporter, Store};
use cascade::migrators::registry::{Registry, Sources};
use cascade::migrators::{GraphSnapshot, Identity};
use cascade::pinning::load_pinning;
use cascade::run::{self, RunOptions};
use cascade::status::site::{self, SiteOptions};
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};
use serde_json::Value;

const PYTHON314: &str = include_str!("../migrators/demo/python314.yaml");
/// What must never run.
const SCRIPT: &str = "<script>alert(1)</script>";

struct Scenario {
    _dir: tempfile::TempDir,
    data: PathBuf,
    site: PathBuf,
    /// The feedstock whose variant file was broken.
    broken: String,
    /// What `cascade status build` printed.
    stdout: String,
}

/// The scenario, built once per test binary.
fn scenario() -> &'static Scenario {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    SCENARIO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let feedstocks = dir.path().join("feedstocks");
        universe::generate(
            &UniverseOptions {
                size: 80,
                seed: DEFAULT_SEED,
            },
            &feedstocks,
        )
        .unwrap();
        let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
        fs_err::create_dir_all(&migrations).unwrap();
        let evil = PYTHON314.replace(
            "commit_message: Rebuild for python 3.14",
            &format!("commit_message: \"Rebuild for python 3.14 {SCRIPT}\""),
        );
        assert_ne!(evil, PYTHON314);
        fs_err::write(migrations.join("python314.yaml"), evil).unwrap();
        let forge = LocalForge::open(&data.join("forge"), &LocalForgeOptions::default()).unwrap();
        forge.import(&feedstocks).unwrap();
        let mut options = RunOptions {
            db_path: data.join("cascade.sqlite"),
            checkouts_dir: data.join("checkouts"),
            pinning_dir: None,
            migrators_dir: None,
            only: Vec::new(),
            dry_run: false,
            identity: Identity::default(),
            now: 1_790_000_000,
        };
        // Which python314 PR comes first: break its variant file with a key that is
        // markup, so the recorded error message carries it.
        options.dry_run = true;
        let plan = run::run(&options, &forge, &NoReporter).unwrap();
        let python = plan
            .migrations
            .iter()
            .find(|m| m.name == "python314")
            .unwrap();
        let broken = python.opened[0].feedstock.clone();
        forge
            .commit_upstream(
                &broken,
                &CommitSpec {
                    writes: BTreeMap::from([(
                        "recipe/conda_build_config.yaml".to_string(),
                        format!("\"{SCRIPT}-key\":\n  - '1'\n"),
                    )]),
                    deletes: Default::default(),
                    message: "a maintainer's broken variant file".to_string(),
                    author_name: "maintainer".to_string(),
                    author_email: "m@example.org".to_string(),
                },
            )
            .unwrap();
        options.dry_run = false;
        for _ in 0..2 {
            run::run(&options, &forge, &NoReporter).unwrap();
            options.now += 86_400;
        }
        let site = dir.path().join("site");
        let output = Command::cargo_bin("cascade")
            .unwrap()
            .args(["status", "build", "--data-dir"])
            .arg(&data)
            .arg("--out")
            .arg(&site)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Scenario {
            _dir: dir,
            data,
            site,
            broken,
            stdout,
        }
    })
}

/// Every file under `dir` with one of `extensions`, recursively.
fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path, extensions));
        } else if path
            .extension()
            .is_some_and(|e| extensions.iter().any(|x| e == *x))
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> String {
    fs_err::read_to_string(path).unwrap()
}

#[test]
fn a_script_in_a_commit_message_or_an_error_message_renders_inert_on_every_page() {
    let s = scenario();
    let pages = files(&s.site, &["html", "svg"]);
    assert!(pages.len() > 80, "{}", pages.len());
    for page in &pages {
        let text = read(page);
        assert!(
            !text.contains("<script>alert"),
            "{} carries a live script",
            page.display()
        );
        // The only scripts are the site's own: JSON data and the local assets.
        for tag in text.match_indices("<script").map(|(i, _)| &text[i..]) {
            assert!(
                tag.starts_with(r#"<script type="application/json""#)
                    || tag.starts_with(r#"<script src="../assets/"#)
                    || tag.starts_with(r#"<script src="assets/"#),
                "{}: {}",
                page.display(),
                &tag[..tag.len().min(80)]
            );
        }
    }
    // The texts did reach the pages, escaped: the PR title on a feedstock page, the
    // error on the broken feedstock's page and in the migration's table data.
    let titled = pages
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("feedstocks")))
        .filter(|p| {
            read(p).contains("Rebuild for python 3.14 &lt;script&gt;alert(1)&lt;/script&gt;")
        })
        .count();
    assert!(titled > 0, "no feedstock page shows the PR title");
    let broken = read(&s.site.join(format!("feedstocks/{}.html", s.broken)));
    assert!(
        broken.contains("&lt;script&gt;alert(1)&lt;/script&gt;-key"),
        "{broken}"
    );
    let migration = read(&s.site.join("migrations/python314.html"));
    assert!(migration.contains(r"\u003cscript\u003ealert(1)\u003c/script\u003e-key"));
}

/// `href`/`src` values of a page, entity-decoded.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].replace("&amp;", "&").replace("&#39;", "'"));
            }
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_site_resolves_to_a_written_file() {
    let s = scenario();
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in files(&s.site, &["html"]) {
        let dir = page.parent().unwrap();
        for link in links(&read(&page)) {
            if link.starts_with('#') || link.starts_with("https://") || link.starts_with("local://")
            {
                continue;
            }
            assert!(
                !link.contains("://") && !link.starts_with('/'),
                "{}: a link that does not work from file:// or another host: {link}",
                page.display()
            );
            let path = link.split('#').next().unwrap();
            checked += 1;
            if !dir.join(path).is_file() {
                broken.push(format!("{} -> {link}", page.display()));
            }
        }
    }
    eprintln!("{checked} relative links checked, {} broken", broken.len());
    assert!(checked > 500, "{checked}");
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_pages_show_the_counts_of_the_conda_forge_json() {
    let s = scenario();
    let total: Value = serde_json::from_str(&read(&s.site.join("total_status.json"))).unwrap();
    let index = read(&s.site.join("index.html"));
    for name in total.as_object().unwrap().keys() {
        assert!(
            index.contains(&format!(r#"data-migration="{name}""#)),
            "{name} is not on the index"
        );
        let json: Value =
            serde_json::from_str(&read(&s.site.join(format!("migration_json/{name}.json"))))
                .unwrap();
        let page = read(&s.site.join(format!("migrations/{name}.html")));
        let mut members = 0;
        for state in site::CfState::ALL {
            let count = json[state.as_str()].as_array().unwrap().len();
            members += count;
            assert!(
                page.contains(&format!(
                    r#"data-state="{}" data-count="{count}""#,
                    state.as_str()
                )),
                "{name}: {} should show {count}",
                state.as_str()
            );
        }
        // The table's data has one row per member.
        let start = page.find(r#"id="feedstock-data">"#).unwrap() + 20;
        let end = start + page[start..].find("</script>").unwrap();
        let data: Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(data["rows"].as_array().unwrap().len(), members, "{name}");
    }
    assert!(s.stdout.contains("index: "), "{}", s.stdout);
    assert!(
        s.stdout
            .contains(&s.site.join("index.html").display().to_string())
    );
}

#[test]
fn a_second_build_into_the_same_directory_rewrites_it_and_closes_nothing() {
    let s = scenario();
    let out = s.site.parent().unwrap().join("site-again");
    for _ in 0..2 {
        Command::cargo_bin("cascade")
            .unwrap()
            .args(["status", "build", "--json", "--data-dir"])
            .arg(&s.data)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
    }
    let closed: Value = serde_json::from_str(&read(&out.join("closed_status.json"))).unwrap();
    assert_eq!(closed, serde_json::json!({}));
    assert_eq!(
        files(&out, &["html"]).len(),
        files(&s.site, &["html"]).len()
    );
}

#[test]
fn status_build_without_a_store_fails_and_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("cascade")
        .unwrap()
        .args(["status", "build", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("site"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("pinning"), "{stderr}");
    assert!(!dir.path().join("site").exists());
}

#[test]
fn a_migration_beyond_the_drawing_limit_is_aggregated_and_its_page_stays_small() {
    // 400 feedstocks, no run: every feedstock is a member of the maintenance rerender.
    let dir = tempfile::tempdir().unwrap();
    let feedstocks = dir.path().join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 400,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let db = dir.path().join("cascade.sqlite");
    graph::build(
        &BuildOptions {
            feedstocks_dir: feedstocks.clone(),
            db_path: db.clone(),
        },
        &NoReporter,
    )
    .unwrap();
    let pinning_dir = feedstocks.join("conda-forge-pinning-feedstock/recipe");
    let pinning = load_pinning(&pinning_dir).unwrap();
    let registry = Registry::load(
        &Sources {
            pinning_dir,
            migrators_dir: None,
        },
        &pinning,
    );
    let store = Store::open(&db).unwrap();
    let report = cascade::status::collect(
        &store,
        &GraphSnapshot::load(&store).unwrap(),
        &registry,
        1_790_000_000,
    )
    .unwrap();
    let big = report
        .migrations
        .iter()
        .find(|m| m.nodes.len() > 300)
        .expect("a migration with more than 300 members");
    let out = dir.path().join("site");
    let summary = site::build(&report, None, &out, &SiteOptions::default()).unwrap();
    let page = read(&out.join(format!("migrations/{}.html", big.name)));
    let drawn = page.matches("<rect x=").count() - page.matches("data-aggregate=").count();
    assert!(page.contains("data-aggregate="), "no aggregate box");
    assert!(drawn <= 120, "{drawn} nodes drawn (the frontier limit)");
    assert!(page.contains(&format!(
        "{} members are counted in boxes",
        big.nodes.len() - drawn
    )));
    eprintln!(
        "{}: {} members, {drawn} drawn; largest page {} ({} bytes)",
        big.name,
        big.nodes.len(),
        summary.largest_page.display(),
        summary.largest_page_bytes
    );
    assert!(summary.largest_page_bytes < 2_000_000);
}
