//! A migration too large to draw node by node: the maintenance rerender of a
//! 400-feedstock universe (every feedstock is a member) through `cascade universe
//! generate`, `cascade graph build` and `cascade status build`, before any run. The graph
//! view draws the frontier and counts the rest in boxes, and a box is a link that
//! filters the table to its level and state.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

use super::driver::{self, Browser, DESKTOP, PHONE, PageScript, file_url, step};

const SIZE: usize = 400;
const MIGRATION: &str = "maintenance-rerender";

/// Runs the `cascade` binary and insists that it succeeds.
fn cascade(args: &[&OsStr]) {
    let output = Command::cargo_bin("cascade")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cascade {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The site of a fresh universe of `SIZE` feedstocks, under `dir`.
fn large_site(dir: &Path) -> PathBuf {
    let universe = dir.join("universe");
    let data = dir.join("data");
    let db = data.join("cascade.sqlite");
    let pinning = universe.join("conda-forge-pinning-feedstock/recipe");
    let site = dir.join("site");
    let size = SIZE.to_string();
    let arg = OsStr::new;
    cascade(&[
        arg("universe"),
        arg("generate"),
        arg("--size"),
        arg(&size),
        arg("--out"),
        universe.as_os_str(),
    ]);
    fs_err::create_dir_all(&data).unwrap();
    cascade(&[
        arg("graph"),
        arg("build"),
        arg("--feedstocks"),
        universe.as_os_str(),
        arg("--db"),
        db.as_os_str(),
    ]);
    cascade(&[
        arg("status"),
        arg("build"),
        arg("--data-dir"),
        data.as_os_str(),
        arg("--pinning"),
        pinning.as_os_str(),
        arg("--out"),
        site.as_os_str(),
    ]);
    site
}

#[test]
fn a_large_migration_draws_its_frontier_counts_the_rest_and_a_box_filters_the_table() {
    let Some(browser) = Browser::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = large_site(dir.path());
    let url = file_url(&site.join(format!("migrations/{MIGRATION}.html")));
    let rows = "#feedstocks tbody tr";
    let graph = "#graph svg.migration-graph";
    let script = PageScript::new("large", &url, DESKTOP)
        .step(step::count("rows", rows))
        .step(step::attributes("row-states", rows, "data-state"))
        .step(step::count("nodes", &format!("{graph} a[data-feedstock]")))
        .step(step::attributes(
            "box-states",
            &format!("{graph} a[data-aggregate]"),
            "data-aggregate",
        ))
        .step(step::attributes(
            "box-levels",
            &format!("{graph} a[data-aggregate]"),
            "data-level",
        ))
        .step(step::visible_texts(
            "box-texts",
            &format!("{graph} a[data-aggregate] text"),
        ))
        .step(step::eval(
            "scrolled",
            "(() => { document.getElementById('graph').scrollIntoView(); return true; })()",
        ))
        .step(step::window_screenshot("large-graph.png"))
        .step(step::click(&format!("{graph} a[data-aggregate]")))
        .step(step::url("after-click"))
        .step(step::visible_attributes(
            "filtered-states",
            rows,
            "data-state",
        ))
        .step(step::visible_texts(
            "filtered-levels",
            "#feedstocks tbody tr td:nth-child(7)",
        ));
    let phone = PageScript::new("large-phone", &url, PHONE)
        .step(step::layout("layout"))
        .step(step::window_screenshot("large-phone.png"));
    let report = browser.run(&[script, phone], &driver::screenshot_dir("large"));
    let page = report.page("large");
    page.assert_clean();

    // Every feedstock is a member, waiting for its first rerender PR, all in the table.
    assert_eq!(page.count("rows"), SIZE);
    assert!(
        page.strings("row-states")
            .iter()
            .all(|s| s == "awaiting-pr")
    );

    // The drawing: some members as nodes, the rest counted in boxes, none lost.
    let drawn = page.count("nodes");
    let boxes = page.strings("box-texts");
    assert!(
        !boxes.is_empty(),
        "a migration of {SIZE} members is aggregated"
    );
    assert!(drawn > 0 && drawn < SIZE, "{drawn} nodes drawn");
    let counted: usize = boxes
        .iter()
        .map(|text| {
            let count = text.split_whitespace().next().unwrap_or_default();
            count
                .parse::<usize>()
                .unwrap_or_else(|_| panic!("a box says how many: `{text}`"))
        })
        .sum();
    assert_eq!(drawn + counted, SIZE, "drawn {drawn} + counted {counted}");

    // The first box links into the table, filtered to its level and state.
    let (state, level) = (
        page.strings("box-states")[0].clone(),
        page.strings("box-levels")[0].clone(),
    );
    let after = page.value("after-click").as_str().unwrap();
    assert!(
        after.ends_with(&format!("#state={state}&level={level}")),
        "{after}"
    );
    let states: BTreeSet<String> = page.strings("filtered-states").into_iter().collect();
    let levels: BTreeSet<String> = page.strings("filtered-levels").into_iter().collect();
    assert_eq!(states, BTreeSet::from([state]));
    assert_eq!(levels, BTreeSet::from([level]));
    assert!(!page.strings("filtered-states").is_empty());

    let phone = report.page("large-phone");
    phone.assert_clean();
    let layout = phone.value("layout");
    assert!(
        layout["scroll_width"].as_u64() <= layout["viewport_width"].as_u64(),
        "the page fits a phone: {layout}"
    );
}
