//! Markup in the data stays text in a real browser. The migration table and the feedstock
//! list are built by the page's own script from embedded JSON, so reading the HTML files
//! cannot prove them inert; Chromium can. The scenario puts live markup where the bot's
//! inputs reach the site: a migration's commit message (the title of its PRs) and
//! a maintainer's variant file whose key ends up in the bot's error message. Every page is
//! loaded; the markup must not run (the global it sets stays undefined), must not load
//! (its image would be a failed request), and must read as text where it is shown.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use assert_cmd::Command;
use cascade::forge::CommitSpec;
use cascade::forge::local::{LocalForge, LocalForgeOptions};
use cascade::graph::NoReporter;
use cascade::migrators::Identity;
use cascade::run::{self, RunOptions};
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

use super::driver::{Browser, DESKTOP, PageScript, Report, Step, file_url, step};

const PYTHON314: &str = include_str!("../../migrators/demo/python314.yaml");

/// Runs if it is ever parsed as HTML: a script and an image whose load fails. Each bumps
/// `window.cascadeMarkupRan`.
pub const MARKUP: &str = "<script>window.cascadeMarkupRan=(window.cascadeMarkupRan||0)+1</script>\
                      <img src='markup-ran.png' onerror='window.cascadeMarkupRan=1'>";

struct Scenario {
    _dir: tempfile::TempDir,
    site: PathBuf,
    /// The feedstock whose variant file carries the markup (a bot error).
    broken: String,
    report: Report,
}

fn scenario() -> Option<&'static Scenario> {
    static SCENARIO: OnceLock<Option<Scenario>> = OnceLock::new();
    SCENARIO
        .get_or_init(|| {
            let browser = Browser::find()?;
            let dir = tempfile::tempdir().unwrap();
            let data = dir.path().join("data");
            let feedstocks = dir.path().join("feedstocks");
            universe::generate(
                &UniverseOptions {
                    size: 60,
                    seed: DEFAULT_SEED,
                },
                &feedstocks,
            )
            .unwrap();
            let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
            fs_err::create_dir_all(&migrations).unwrap();
            let marked = PYTHON314.replace(
                "commit_message: Rebuild for python 3.14",
                &format!("commit_message: \"Rebuild for python 3.14 {MARKUP}\""),
            );
            assert_ne!(marked, PYTHON314, "the demo migration has a commit message");
            fs_err::write(migrations.join("python314.yaml"), marked).unwrap();
            let forge =
                LocalForge::open(&data.join("forge"), &LocalForgeOptions::default()).unwrap();
            forge.import(&feedstocks).unwrap();
            let mut options = RunOptions {
                db_path: data.join("cascade.sqlite"),
                checkouts_dir: data.join("checkouts"),
                pinning_dir: None,
                migrators_dir: None,
                only: Vec::new(),
                dry_run: true,
                identity: Identity::default(),
                now: 1_790_000_000,
            };
            // The first python314 PR of the plan gets a variant file whose key is markup,
            // so its attempt fails with the key in the message.
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
                            format!("\"{MARKUP}-key\":\n  - '1'\n"),
                        )]),
                        deletes: Default::default(),
                        message: "a maintainer's variant file".to_string(),
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
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );

            let mut pages: Vec<PathBuf> = Vec::new();
            let mut stack = vec![site.clone()];
            while let Some(dir) = stack.pop() {
                for entry in fs_err::read_dir(&dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|ext| ext == "html") {
                        pages.push(path);
                    }
                }
            }
            pages.sort();
            let scripts: Vec<PageScript> = pages
                .iter()
                .map(|path| {
                    let name = path.strip_prefix(&site).unwrap().to_str().unwrap();
                    PageScript::new(name, file_url(path), DESKTOP)
                        // Every row of the migration table, not only the first thousand.
                        .step(step::eval(
                            "show-all",
                            "(() => { const more = document.querySelector('#show-more:not([hidden])'); \
                             if (more) more.click(); return Boolean(more); })()",
                        ))
                        .step(step::eval("ran", "window.cascadeMarkupRan ?? null"))
                        .step(step::eval("text", "document.body.innerText"))
                        .step(step::count("images", "img"))
                        .step(step::attributes(
                            "error-rows",
                            "#feedstocks tbody tr[data-state=\"bot-error\"]",
                            "data-feedstock",
                        ))
                        .step(Step::Texts {
                            id: "error-reasons".into(),
                            selector: "#feedstocks tbody tr[data-state=\"bot-error\"] td.reason"
                                .into(),
                            visible: false,
                        })
                })
                .collect();
            let report = browser.run(&scripts, &super::driver::screenshot_dir("escaping"));
            Some(Scenario {
                _dir: dir,
                site,
                broken,
                report,
            })
        })
        .as_ref()
}

#[test]
fn markup_in_a_commit_message_or_an_error_never_runs_or_loads_in_the_browser() {
    let Some(scenario) = scenario() else {
        return;
    };
    let mut failures = Vec::new();
    for page in &scenario.report.pages {
        failures.extend(
            page.problems()
                .into_iter()
                .map(|p| format!("{}: {p}", page.name)),
        );
        if !page.value("ran").is_null() {
            failures.push(format!("{}: the markup ran", page.name));
        }
        if page.count("images") != 0 {
            failures.push(format!("{}: an <img> element exists", page.name));
        }
    }
    eprintln!(
        "{} pages of {} checked",
        scenario.report.pages.len(),
        scenario.site.display()
    );
    assert!(scenario.report.pages.len() > 60, "every page was loaded");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn markup_in_the_data_reads_as_text_where_it_is_shown() {
    let Some(scenario) = scenario() else {
        return;
    };
    let text = |name: &str| -> String {
        let page = scenario.report.page(name);
        page.value("text").as_str().unwrap_or_default().to_string()
    };
    // The PR titles (the commit message) on the pages of feedstocks with an open PR.
    let titled = scenario
        .report
        .pages
        .iter()
        .filter(|page| page.name.starts_with("feedstocks/"))
        .filter(|page| {
            page.value("text")
                .as_str()
                .is_some_and(|text| text.contains(&format!("Rebuild for python 3.14 {MARKUP}")))
        })
        .count();
    assert!(titled > 0, "a feedstock page shows its PR title as text");
    // The error message, in the migration table (built by site.js) and on the feedstock's
    // page (rendered by cascade), with the markup as written.
    let broken = &scenario.broken;
    let migration = scenario.report.page("migrations/python314.html");
    let rows = migration.strings("error-rows");
    let reasons = migration.strings("error-reasons");
    let reason = rows
        .iter()
        .position(|name| name == broken)
        .map(|i| &reasons[i])
        .unwrap_or_else(|| panic!("a bot-error row for {broken}: {rows:?}"));
    assert!(reason.contains(MARKUP), "the reason in the table: {reason}");
    assert!(
        text(&format!("feedstocks/{broken}.html")).contains(&format!("{MARKUP}-key")),
        "the error on {broken}'s page"
    );
}
