//! The status site in headless Chromium (issue 6): the demo's pages load with no console
//! errors, a known scenario shows the expected rows per state, filtering and sorting work,
//! the graph view renders; screenshots are kept under `target/status-screenshots/`.
//!
//! The scenario is `cascade demo --size 150 --rounds 4` (`demo_site`); the rows per state
//! are checked against what the store and the local forge recorded, not only against the
//! site's own JSON. The browser is driven by `tests/browser/drive.mjs` (playwright-core);
//! `driver` is its Rust side and `harness` proves it on pages written here, broken ones
//! included. Without node, Chromium or playwright-core the tests skip with a message;
//! `.ci/run` installs them and sets `CASCADE_BROWSER_TESTS=required`, so CI never skips.

#[path = "status_browser/demo_site.rs"]
mod demo_site;
#[path = "status_browser/driver.rs"]
mod driver;
#[path = "status_browser/harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};

use cascade::forge::PrState;
use cascade::graph::WorkOutcome;
use demo_site::{CF_STATES, DemoSite, PYTHON314, Recorded};
use driver::{Browser, DESKTOP, PHONE, PageReport, PageScript, file_url, step, url_path};

/// The demo and a browser, or `None` (with a message) when the browser is missing.
fn demo_and_browser() -> Option<(&'static DemoSite, Browser)> {
    let browser = Browser::find()?;
    Some((DemoSite::get(), browser))
}

fn page_url(demo: &DemoSite, relative: &str) -> String {
    file_url(&demo.path(relative))
}

fn migration_page(migration: &str) -> String {
    format!("migrations/{migration}.html")
}

/// Per state, the feedstocks of a migration's conda-forge JSON.
fn json_states(demo: &DemoSite, migration: &str) -> BTreeMap<String, BTreeSet<String>> {
    let json = demo.migration_json(migration);
    CF_STATES
        .iter()
        .map(|state| {
            let names = json[*state]
                .as_array()
                .unwrap_or_else(|| panic!("{migration}.json has no `{state}` array"))
                .iter()
                .map(|name| name.as_str().unwrap().to_string())
                .collect();
            (state.to_string(), names)
        })
        .collect()
}

/// Per state, the feedstocks of a page's table (`ids`: the ids of the state and feedstock
/// attribute results).
fn table_states(
    page: &PageReport,
    states: &str,
    feedstocks: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_state: BTreeMap<String, BTreeSet<String>> = CF_STATES
        .iter()
        .map(|state| (state.to_string(), BTreeSet::new()))
        .collect();
    for (state, feedstock) in page
        .strings(states)
        .into_iter()
        .zip(page.strings(feedstocks))
    {
        by_state.entry(state).or_default().insert(feedstock);
    }
    by_state
}

fn counts(by_state: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    by_state
        .iter()
        .map(|(state, names)| (state.clone(), names.len()))
        .collect()
}

#[test]
fn the_demo_prints_the_path_of_its_site() {
    let Some((demo, _)) = demo_and_browser() else {
        return;
    };
    let index = demo.path("index.html");
    assert!(index.is_file(), "{} was written", index.display());
    assert!(
        demo.stdout.contains(index.to_str().unwrap()),
        "the demo names {}:\n{}",
        index.display(),
        demo.stdout
    );
}

#[test]
fn every_page_of_the_demo_site_loads_with_no_console_errors_and_no_broken_links() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let pages = demo.pages();
    let feedstock_pages = pages
        .iter()
        .filter(|p| p.starts_with("feedstocks/"))
        .count();
    for expected in ["index.html", "feedstocks.html"] {
        assert!(
            pages.iter().any(|p| p == expected),
            "{expected} in {pages:?}"
        );
    }
    let migrations = demo.migrations();
    assert!(migrations.iter().any(|m| m == PYTHON314), "{migrations:?}");
    for migration in &migrations {
        let page = migration_page(migration);
        assert!(pages.contains(&page), "{page} in {pages:?}");
    }
    assert_eq!(
        feedstock_pages, 150,
        "one page per feedstock of the universe"
    );

    let scripts: Vec<PageScript> = pages
        .iter()
        .map(|relative| {
            PageScript::new(relative, page_url(demo, relative), DESKTOP)
                .step(step::links("links"))
                .step(step::attributes(
                    "migration-states",
                    "#feedstock-migrations tbody tr",
                    "data-state",
                ))
                .step(step::attributes(
                    "migration-names",
                    "#feedstock-migrations tbody tr",
                    "data-migration",
                ))
        })
        .collect();
    let report = browser.run(&scripts, &driver::screenshot_dir("every-page"));

    let mut failures = Vec::new();
    let mut links_checked = 0;
    for page in &report.pages {
        for problem in page.problems() {
            failures.push(format!("{}: {problem}", page.name));
        }
        for link in page.strings("links") {
            if let Some(path) = url_path(&link) {
                links_checked += 1;
                if !path.exists() {
                    failures.push(format!("{}: broken link {link}", page.name));
                }
            }
        }
    }
    // Each feedstock page agrees with each migration's JSON on the feedstock's state.
    let states: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = migrations
        .iter()
        .map(|migration| (migration.as_str(), json_states(demo, migration)))
        .collect();
    let mut rows_checked = 0;
    for page in report
        .pages
        .iter()
        .filter(|p| p.name.starts_with("feedstocks/"))
    {
        let feedstock = page.name["feedstocks/".len()..].trim_end_matches(".html");
        for (state, migration) in page
            .strings("migration-states")
            .into_iter()
            .zip(page.strings("migration-names"))
        {
            let Some(by_state) = states.get(migration.as_str()) else {
                continue;
            };
            rows_checked += 1;
            if state == "excluded" {
                // Not a member: in none of the migration's arrays.
                if let Some((array, _)) = by_state.iter().find(|(_, n)| n.contains(feedstock)) {
                    failures.push(format!(
                        "{}: {migration} is `excluded` here but `{array}` in {migration}.json",
                        page.name
                    ));
                }
            } else if !by_state
                .get(&state)
                .is_some_and(|names| names.contains(feedstock))
            {
                failures.push(format!(
                    "{}: {migration} is `{state}` here but not in {migration}.json",
                    page.name
                ));
            }
        }
    }
    let clean = report
        .pages
        .iter()
        .filter(|page| page.problems().is_empty())
        .count();
    eprintln!(
        "{clean}/{} pages clean; {links_checked} local links checked; \
         {rows_checked} feedstock-page rows agree with the migration JSON",
        report.pages.len()
    );
    assert!(rows_checked > 150, "{rows_checked} feedstock-page rows");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn each_migration_page_shows_the_rows_per_state_the_store_and_the_forge_record() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let migrations = demo.migrations();
    let scripts: Vec<PageScript> = migrations
        .iter()
        .map(|migration| {
            let rows = "#feedstocks tbody tr";
            PageScript::new(
                migration,
                page_url(demo, &migration_page(migration)),
                DESKTOP,
            )
            .step(step::eval(
                "show-all",
                "(() => { const more = document.querySelector('#show-more:not([hidden])'); \
                     if (more) more.click(); return Boolean(more); })()",
            ))
            .step(step::attributes("states", rows, "data-state"))
            .step(step::attributes("feedstocks", rows, "data-feedstock"))
            .step(step::visible_count("visible", rows))
            .step(step::visible_texts(
                "pr",
                "#feedstocks tbody tr td:nth-child(4)",
            ))
            .step(step::attributes(
                "figure-states",
                "#figures [data-state]",
                "data-state",
            ))
            .step(step::attributes(
                "figure-counts",
                "#figures [data-state]",
                "data-count",
            ))
        })
        .collect();
    let report = browser.run(&scripts, &driver::screenshot_dir("rows-per-state"));
    let forge = demo.forge_prs();
    // Every migration is checked and every disagreement listed before the test fails.
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    for migration in &migrations {
        let page = report.page(migration);
        let problems = page.problems();
        check(problems.is_empty(), format!("{migration}: {problems:?}"));
        let rows = table_states(page, "states", "feedstocks");
        let total: usize = rows.values().map(BTreeSet::len).sum();
        let visible = page.count("visible");
        check(
            visible == total,
            format!("{migration}: {visible} of {total} rows shown"),
        );
        let row_count = page.strings("states").len();
        check(
            row_count == total,
            format!("{migration}: {row_count} rows for {total} feedstocks"),
        );

        // The page and conda-forge's JSON hold the same feedstocks in the same states.
        let json = json_states(demo, migration);
        check(
            rows == json,
            format!("{migration}: page {rows:?}\n  vs JSON {json:?}"),
        );

        // The figures above the table count the rows.
        let figures: BTreeMap<String, usize> = page
            .strings("figure-states")
            .into_iter()
            .zip(page.strings("figure-counts"))
            .map(|(state, count)| (state, count.parse().unwrap()))
            .collect();
        check(
            figures == counts(&rows),
            format!(
                "{migration}: figures {figures:?} vs rows {:?}",
                counts(&rows)
            ),
        );

        // The store's account. Open work is in PR, whatever uid it was opened under (one
        // open PR per migration and feedstock). A done row has done work (merged, closed
        // unmerged or nothing to do) on record — though not every such record makes a done
        // row: work under an older uid (a maintenance rerender's previous pinning) is
        // history, not progress. python314's uid only moves on a bot-rerun, which leaves
        // an open record, so there done rows and done records are the same feedstocks.
        let recorded = demo.recorded(migration);
        let done: BTreeSet<String> = recorded
            .iter()
            .filter(|(_, r)| **r == Recorded::Done)
            .map(|(name, _)| name.clone())
            .collect();
        let open: BTreeSet<(String, u64)> = recorded
            .iter()
            .filter_map(|(name, r)| match r {
                Recorded::InPr(number) => Some((name.clone(), *number)),
                Recorded::Done => None,
            })
            .collect();
        let unrecorded: BTreeSet<&String> = rows["done"].difference(&done).collect();
        check(
            unrecorded.is_empty(),
            format!("{migration}: done rows without done work in the store: {unrecorded:?}"),
        );
        if migration == PYTHON314 {
            check(
                rows["done"] == done,
                format!(
                    "{migration}: done rows {:?} vs done work in the store {done:?}",
                    rows["done"]
                ),
            );
        }
        let page_prs: BTreeSet<(String, u64)> = page
            .strings("states")
            .iter()
            .zip(page.strings("feedstocks"))
            .zip(page.strings("pr"))
            .filter(|((state, _), _)| *state == "in-pr")
            .map(|((_, feedstock), pr)| {
                (feedstock, pr.trim_start_matches('#').parse().unwrap_or(0))
            })
            .collect();
        check(
            page_prs == open,
            format!("{migration}: in-pr rows {page_prs:?} vs open in the store {open:?}"),
        );
        for pr in &page_prs {
            check(
                forge.contains_key(pr),
                format!("{migration}: {pr:?} is not a PR on the forge"),
            );
        }
        eprintln!("{migration}: {:?}", counts(&rows));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The scenario is far enough along to exercise the table: four rounds of the bot
    // merged python314 PRs, left others open and kept children waiting on their parents.
    let python = json_states(demo, PYTHON314);
    for state in ["done", "in-pr", "awaiting-parents"] {
        assert!(!python[state].is_empty(), "{PYTHON314} has `{state}` rows");
    }
    // The site shows what the bot knew at its last run: maintainers merged some of the
    // PRs after it, and the forge already says so (the next run's refresh will).
    let merged_since = python["in-pr"]
        .iter()
        .filter(|name| {
            forge
                .iter()
                .any(|((feedstock, _), state)| feedstock == *name && *state == PrState::Merged)
        })
        .count();
    eprintln!(
        "{PYTHON314}: {merged_since} in-pr rows whose feedstock has a merged PR on the forge"
    );
}

#[test]
#[ignore = "status core files a feedstock whose architecture PR was merged under `excluded` \
            (already-migrated) instead of `done`, so an arch migration never shows progress; \
            cf-scripts counts it done (reference §3.7: the filter only makes it unbuildable; \
            §6.2: a closed PR is done). Reported to the status-core owner."]
fn a_merged_architecture_pr_shows_as_done_on_its_migration_page() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let rows = "#feedstocks tbody tr";
    let arch: Vec<String> = demo
        .migrations()
        .into_iter()
        .filter(|m| m.starts_with("arch-"))
        .collect();
    let scripts: Vec<PageScript> = arch
        .iter()
        .map(|m| {
            PageScript::new(m, page_url(demo, &migration_page(m)), DESKTOP)
                .step(step::attributes("states", rows, "data-state"))
                .step(step::attributes("feedstocks", rows, "data-feedstock"))
        })
        .collect();
    let report = browser.run(&scripts, &driver::screenshot_dir("arch-done"));
    let mut merged_somewhere = 0;
    for migration in &arch {
        let page = report.page(migration);
        page.assert_clean();
        let done = &table_states(page, "states", "feedstocks")["done"];
        let merged: BTreeSet<String> = demo
            .store()
            .work_for(migration)
            .unwrap()
            .into_iter()
            .filter(|work| work.outcome == WorkOutcome::Merged)
            .map(|work| work.feedstock)
            .collect();
        merged_somewhere += merged.len();
        let missing: Vec<&String> = merged.difference(done).collect();
        assert!(
            missing.is_empty(),
            "{migration}: merged but not done on the page: {missing:?}"
        );
    }
    assert!(merged_somewhere > 0, "the demo merged architecture PRs");
}

#[test]
fn typing_a_name_into_the_filter_leaves_only_the_rows_that_match() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let json = json_states(demo, PYTHON314);
    // A name that is also part of other names, so the filter has something to sort out.
    let all: Vec<&String> = json.values().flatten().collect();
    let needle = all
        .iter()
        .filter(|name| name.len() >= 3)
        .map(|name| &name[..3])
        .max_by_key(|prefix| (all.iter().filter(|n| n.contains(prefix)).count(), *prefix))
        .unwrap()
        .to_string();
    let exact = json["in-pr"]
        .iter()
        .next()
        .expect("python314 has an open PR")
        .clone();
    let rows = "#feedstocks tbody tr";
    let script = PageScript::new(
        "filter",
        page_url(demo, &migration_page(PYTHON314)),
        DESKTOP,
    )
    .step(step::attributes("all-names", rows, "data-feedstock"))
    .step(step::visible_texts(
        "all-haystacks",
        "#feedstocks tbody tr td:nth-child(3)",
    ))
    .step(step::fill("#filter", &needle))
    .step(step::visible_attributes("needle", rows, "data-feedstock"))
    .step(step::screenshot("filtered.png"))
    .step(step::fill("#filter", &exact))
    .step(step::visible_attributes("exact", rows, "data-feedstock"))
    .step(step::fill("#filter", "no-feedstock-is-called-this"))
    .step(step::visible_count("nothing", rows))
    .step(step::fill("#filter", ""))
    .step(step::select("#state-filter", "in-pr"))
    .step(step::visible_attributes("in-pr-states", rows, "data-state"))
    .step(step::select("#state-filter", ""))
    .step(step::visible_count("cleared", rows));
    let report = browser.run(&[script], &driver::screenshot_dir("filter"));
    let page = report.page("filter");
    page.assert_clean();

    // The filter matches the name or the reason (code and text), case-insensitively.
    let names = page.strings("all-names");
    let reasons = page.strings("all-haystacks");
    let expected: BTreeSet<String> = names
        .iter()
        .zip(&reasons)
        .filter(|(name, reason)| format!("{name} {reason}").to_lowercase().contains(&needle))
        .map(|(name, _)| name.clone())
        .collect();
    let shown: BTreeSet<String> = page.strings("needle").into_iter().collect();
    assert_eq!(shown, expected, "rows matching `{needle}`");
    assert!(
        shown.len() > 1 && shown.len() < names.len(),
        "`{needle}` matches some rows, not all: {shown:?}"
    );
    assert_eq!(
        page.strings("exact"),
        std::slice::from_ref(&exact),
        "rows matching `{exact}`"
    );
    assert_eq!(page.count("nothing"), 0);

    let in_pr = page.strings("in-pr-states");
    assert_eq!(
        in_pr.len(),
        json["in-pr"].len(),
        "the state filter shows the in-pr rows"
    );
    assert!(in_pr.iter().all(|state| state == "in-pr"), "{in_pr:?}");
    assert_eq!(
        page.count("cleared"),
        names.len(),
        "clearing shows every row again"
    );
}

#[test]
fn clicking_a_header_sorts_the_rows_and_a_second_click_reverses_them() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let rows = "#feedstocks tbody tr";
    let names = "#feedstocks tbody tr td:nth-child(1)";
    let descendants = "#feedstocks tbody tr td:nth-child(6)";
    let header = |key: &str| format!("#feedstocks thead th[data-key=\"{key}\"]");
    let script = PageScript::new("sort", page_url(demo, &migration_page(PYTHON314)), DESKTOP)
        .step(step::visible_texts(
            "levels",
            "#feedstocks tbody tr td:nth-child(7)",
        ))
        .step(step::visible_texts("names-by-level", names))
        .step(step::click(&header("descendants")))
        .step(step::visible_texts("names-desc", names))
        .step(step::visible_texts("descendants-desc", descendants))
        .step(step::attributes(
            "sort-desc",
            &header("descendants"),
            "aria-sort",
        ))
        .step(step::screenshot("sorted-by-descendants.png"))
        .step(step::click(&header("descendants")))
        .step(step::visible_texts("names-asc", names))
        .step(step::visible_texts("descendants-asc", descendants))
        .step(step::attributes(
            "sort-asc",
            &header("descendants"),
            "aria-sort",
        ))
        .step(step::click(&header("name")))
        .step(step::visible_texts("names-by-name", names))
        .step(step::click(&header("state")))
        .step(step::visible_attributes(
            "states-by-state",
            rows,
            "data-state",
        ));
    let report = browser.run(&[script], &driver::screenshot_dir("sort"));
    let page = report.page("sort");
    page.assert_clean();

    let numbers = |id: &str| -> Vec<u64> {
        page.strings(id)
            .iter()
            .map(|n| n.parse().unwrap())
            .collect()
    };
    let pairs = |numbers_id: &str, names_id: &str| -> Vec<(u64, String)> {
        numbers(numbers_id)
            .into_iter()
            .zip(page.strings(names_id))
            .collect()
    };

    // The page opens sorted by topological level, then name.
    let by_level = pairs("levels", "names-by-level");
    let mut expected = by_level.clone();
    expected.sort();
    assert_eq!(by_level, expected, "the opening order");

    // Descendants: most first, ties by name; then fewest first.
    let desc = pairs("descendants-desc", "names-desc");
    let mut expected = desc.clone();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert_eq!(desc, expected, "sorted by descendants, most first");
    assert!(desc.first().unwrap().0 > desc.last().unwrap().0, "{desc:?}");
    assert_eq!(page.strings("sort-desc"), ["descending"]);
    let asc = pairs("descendants-asc", "names-asc");
    let mut expected = asc.clone();
    expected.sort();
    assert_eq!(asc, expected, "sorted by descendants, fewest first");
    assert_eq!(page.strings("sort-asc"), ["ascending"]);

    let by_name = page.strings("names-by-name");
    let mut expected = by_name.clone();
    expected.sort();
    assert_eq!(by_name, expected, "sorted by name");
    assert_ne!(
        by_name,
        page.strings("names-by-level"),
        "the click changed the order"
    );

    // States in the order of conda-forge's page.
    let ranks: Vec<usize> = page
        .strings("states-by-state")
        .iter()
        .map(|state| CF_STATES.iter().position(|s| s == state).unwrap())
        .collect();
    assert!(ranks.is_sorted(), "sorted by state: {ranks:?}");
}

#[test]
fn the_graph_view_draws_every_member_in_its_state_and_links_to_its_page() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let nodes = "#graph svg.migration-graph a[data-feedstock]";
    let json = json_states(demo, PYTHON314);
    let target = json["awaiting-parents"].iter().next().unwrap().clone();
    let script = PageScript::new("graph", page_url(demo, &migration_page(PYTHON314)), DESKTOP)
        .step(step::count("svgs", "#graph svg.migration-graph"))
        .step(step::attributes("node-names", nodes, "data-feedstock"))
        .step(step::attributes("node-states", nodes, "data-state"))
        .step(step::attributes(
            "node-fills",
            "#graph svg.migration-graph a[data-feedstock] rect",
            "fill",
        ))
        .step(step::visible_count("visible-nodes", nodes))
        .step(step::eval(
            "size",
            "(() => { const r = document.querySelector('#graph svg').getBoundingClientRect(); \
             return [r.width, r.height]; })()",
        ))
        .step(step::screenshot("python314-graph.png"))
        .step(step::click(&format!(
            "{nodes}[data-feedstock=\"{target}\"]"
        )))
        .step(step::url("after-click"));
    let report = browser.run(&[script], &driver::screenshot_dir("graph"));
    let page = report.page("graph");
    page.assert_clean();
    assert_eq!(page.count("svgs"), 1);

    // 150 feedstocks: small enough that every member is drawn as its own node, in the
    // state the table and the JSON give it.
    let drawn = table_states(page, "node-states", "node-names");
    assert_eq!(drawn, json, "graph nodes per state vs the JSON");
    let total: usize = json.values().map(BTreeSet::len).sum();
    assert_eq!(page.count("visible-nodes"), total);

    // Colours: one per state, the same for every node in it, distinct across states.
    let mut colours: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (state, fill) in page
        .strings("node-states")
        .into_iter()
        .zip(page.strings("node-fills"))
    {
        colours
            .entry(state)
            .or_default()
            .insert(fill.to_lowercase());
    }
    for (state, fills) in &colours {
        assert_eq!(
            fills.len(),
            1,
            "`{state}` nodes share one colour: {fills:?}"
        );
    }
    let distinct: BTreeSet<&String> = colours.values().flatten().collect();
    assert_eq!(
        distinct.len(),
        colours.len(),
        "states differ in colour: {colours:?}"
    );

    let size = page.value("size");
    assert!(
        size[0].as_f64().unwrap() > 100.0 && size[1].as_f64().unwrap() > 100.0,
        "{size}"
    );

    let after = page.value("after-click").as_str().unwrap().to_string();
    assert!(
        after.ends_with(&format!("/feedstocks/{target}.html")),
        "a node links to its feedstock page: {after}"
    );
}

#[test]
fn the_index_links_each_migration_and_its_counts_land_on_filtered_rows() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let json = json_states(demo, PYTHON314);
    let card = "article.card[data-migration=\"python314\"]";
    let index = page_url(demo, "index.html");
    let scripts = [
        PageScript::new("cards", &index, DESKTOP)
            .step(step::attributes(
                "migrations",
                "article.card",
                "data-migration",
            ))
            .step(step::click(&format!("{card} h3 a")))
            .step(step::url("after-click"))
            .step(step::attributes(
                "heading",
                "h1[data-migration]",
                "data-migration",
            )),
        PageScript::new("count-link", &index, DESKTOP)
            .step(step::click(&format!(
                "{card} .counts a[href$=\"#state=in-pr\"]"
            )))
            .step(step::url("after-click"))
            .step(step::visible_attributes(
                "states",
                "#feedstocks tbody tr",
                "data-state",
            )),
    ];
    let report = browser.run(&scripts, &driver::screenshot_dir("index"));
    let cards = report.page("cards");
    cards.assert_clean();
    let listed: BTreeSet<String> = cards.strings("migrations").into_iter().collect();
    let migrations: BTreeSet<String> = demo.migrations().into_iter().collect();
    assert_eq!(
        listed, migrations,
        "one card per migration of total_status.json"
    );
    let after = cards.value("after-click").as_str().unwrap();
    assert!(after.ends_with("/migrations/python314.html"), "{after}");
    assert_eq!(cards.strings("heading"), ["python314"]);

    let landed = report.page("count-link");
    landed.assert_clean();
    let after = landed.value("after-click").as_str().unwrap();
    assert!(
        after.ends_with("/migrations/python314.html#state=in-pr"),
        "{after}"
    );
    let states = landed.strings("states");
    assert_eq!(
        states.len(),
        json["in-pr"].len(),
        "only the in-pr rows: {states:?}"
    );
    assert!(states.iter().all(|state| state == "in-pr"), "{states:?}");
}

#[test]
fn the_feedstock_list_filters_by_name() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let items = "#feedstock-list li[data-feedstock]";
    let script = PageScript::new("list", page_url(demo, "feedstocks.html"), DESKTOP)
        .step(step::attributes("all", items, "data-feedstock"))
        .step(step::fill("#filter", "lib"))
        .step(step::visible_attributes("lib", items, "data-feedstock"));
    let report = browser.run(&[script], &driver::screenshot_dir("feedstock-list"));
    let page = report.page("list");
    page.assert_clean();
    let all = page.strings("all");
    assert_eq!(all.len(), 150);
    let expected: Vec<&String> = all.iter().filter(|name| name.contains("lib")).collect();
    let shown = page.strings("lib");
    assert_eq!(shown.iter().collect::<Vec<_>>(), expected);
    assert!(!shown.is_empty() && shown.len() < all.len(), "{shown:?}");
}

#[test]
fn every_page_type_fits_a_phone_and_is_kept_as_a_screenshot_at_both_widths() {
    let Some((demo, browser)) = demo_and_browser() else {
        return;
    };
    let in_pr = json_states(demo, PYTHON314)["in-pr"]
        .iter()
        .next()
        .unwrap()
        .clone();
    let mut targets = vec![
        ("index".to_string(), "index.html".to_string()),
        ("feedstocks".to_string(), "feedstocks.html".to_string()),
        (
            format!("feedstock-{in_pr}"),
            format!("feedstocks/{in_pr}.html"),
        ),
    ];
    for migration in demo.migrations() {
        let page = migration_page(&migration);
        targets.push((format!("migration-{migration}"), page));
    }
    if demo.path("versions.html").is_file() {
        targets.push(("versions".to_string(), "versions.html".to_string()));
    }
    let mut scripts = Vec::new();
    for (name, relative) in &targets {
        for (width, viewport) in [("desktop", DESKTOP), ("phone", PHONE)] {
            scripts.push(
                PageScript::new(
                    format!("{name}-{width}"),
                    page_url(demo, relative),
                    viewport,
                )
                .step(step::layout("layout"))
                .step(step::screenshot(&format!("{name}-{width}.png"))),
            );
        }
    }
    let dir = driver::screenshot_dir("pages");
    let report = browser.run(&scripts, &dir);
    let mut failures = Vec::new();
    for page in &report.pages {
        failures.extend(
            page.problems()
                .into_iter()
                .map(|p| format!("{}: {p}", page.name)),
        );
        let layout = page.value("layout");
        let (scroll, viewport) = (&layout["scroll_width"], &layout["viewport_width"]);
        if scroll.as_u64() > viewport.as_u64() {
            failures.push(format!(
                "{}: the page is {scroll}px wide in a {viewport}px window",
                page.name
            ));
        }
        let shot = dir.join(format!("{}.png", page.name));
        if !fs_err::read(&shot).is_ok_and(|bytes| bytes.starts_with(b"\x89PNG")) {
            failures.push(format!(
                "{}: no screenshot at {}",
                page.name,
                shot.display()
            ));
        }
    }
    eprintln!("screenshots in {}", dir.display());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
