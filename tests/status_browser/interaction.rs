//! Using the demo's pages: typing into the filter, choosing a state, clicking headers, the
//! graph view and its links, the index's links into filtered tables, the feedstock list.

use std::collections::{BTreeMap, BTreeSet};

use super::demo_site::{
    CF_STATES, PYTHON314, demo_and_browser, json_states, migration_page, page_url, table_states,
};
use super::driver::{self, DESKTOP, PageScript, step};

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
