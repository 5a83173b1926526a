//! The harness on pages written here, before it is trusted with the site: the numbers it
//! reads off a clean page are right, and every kind of broken page (a console error, an
//! uncaught exception, a missing asset, a request to the network, a step that finds
//! nothing) is reported as a problem. One browser run serves every test of this module.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::driver::{Browser, DESKTOP, PHONE, PageReport, PageScript, Report, file_url, step};

/// A table of four feedstocks with a filter box and a sortable header, filtered and sorted
/// by a few lines of script the way a status page would.
const CLEAN_PAGE: &str = r##"<!doctype html>
<html><head><meta charset="utf-8"><title>clean</title>
<link rel="stylesheet" href="style.css"></head>
<body>
<input id="filter" type="search">
<table id="nodes"><thead><tr><th>feedstock</th><th id="by-descendants">descendants</th></tr></thead>
<tbody>
<tr data-feedstock="zlib" data-state="done"><td>zlib</td><td>40</td></tr>
<tr data-feedstock="numpy" data-state="in-pr"><td>numpy</td><td>300</td></tr>
<tr data-feedstock="zlib-ng" data-state="awaiting-pr"><td>zlib-ng</td><td>2</td></tr>
<tr data-feedstock="scipy" data-state="awaiting-parents"><td>scipy</td><td>120</td></tr>
</tbody></table>
<p><a href="other.html">another page</a></p>
<script>
const rows = () => [...document.querySelectorAll("#nodes tbody tr")];
document.getElementById("filter").addEventListener("input", (event) => {
  for (const row of rows()) row.hidden = !row.dataset.feedstock.includes(event.target.value);
});
document.getElementById("by-descendants").addEventListener("click", () => {
  const body = document.querySelector("#nodes tbody");
  rows()
    .sort((a, b) => Number(b.cells[1].textContent) - Number(a.cells[1].textContent))
    .forEach((row) => body.appendChild(row));
});
</script>
</body></html>
"##;

fn broken_page(title: &str, body: &str) -> String {
    format!("<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>")
}

/// The pages written for this module and what the browser made of them.
struct Fixture {
    report: Report,
    screenshots: PathBuf,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let browser = Browser::find()?;
            let dir = tempfile::tempdir().unwrap().keep();
            let write = |name: &str, text: &str| {
                let path = dir.join(name);
                fs_err::write(&path, text).unwrap();
                file_url(&path)
            };
            write("style.css", "table { border-collapse: collapse; }");
            write("other.html", &broken_page("other", "<p>hi</p>"));
            let clean = write("clean.html", CLEAN_PAGE);
            let console = write(
                "console.html",
                &broken_page(
                    "console",
                    "<script>console.error('the data is wrong')</script>",
                ),
            );
            let exception = write(
                "exception.html",
                &broken_page("exception", "<script>null.nodes.length</script>"),
            );
            let asset = write(
                "asset.html",
                &broken_page("asset", "<img src=\"missing.svg\" alt=\"\">"),
            );
            let network = write(
                "network.html",
                &broken_page(
                    "network",
                    "<script src=\"https://cdn.example.org/chart.js\"></script>",
                ),
            );
            let markup = write(
                "markup.html",
                &broken_page("markup", &format!("<p>{}</p>", super::escaping::MARKUP)),
            );
            let screenshots = super::driver::screenshot_dir("harness");
            let pages = vec![
                PageScript::new("clean", &clean, DESKTOP)
                    .step(step::count("rows", "#nodes tbody tr"))
                    .step(step::attributes("states", "#nodes tbody tr", "data-state"))
                    .step(step::fill("#filter", "zlib"))
                    .step(step::visible_count("filtered", "#nodes tbody tr"))
                    .step(step::count("filtered-all", "#nodes tbody tr"))
                    .step(step::visible_texts(
                        "filtered-names",
                        "#nodes tbody tr td:first-child",
                    ))
                    .step(step::fill("#filter", ""))
                    .step(step::click("#by-descendants"))
                    .step(step::visible_texts(
                        "sorted-names",
                        "#nodes tbody tr td:first-child",
                    ))
                    .step(step::links("links"))
                    .step(step::eval("title-by-eval", "document.title"))
                    .step(step::screenshot("clean-desktop.png")),
                PageScript::new("clean-phone", &clean, PHONE)
                    .step(step::layout("layout"))
                    .step(step::screenshot("clean-phone.png")),
                PageScript::new("no-such-element", &clean, DESKTOP)
                    .step(step::click("#no-such-button"))
                    .step(step::count("after", "tr")),
                PageScript::new("console", &console, DESKTOP),
                PageScript::new("exception", &exception, DESKTOP),
                PageScript::new("asset", &asset, DESKTOP),
                PageScript::new("network", &network, DESKTOP),
                PageScript::new("markup", &markup, DESKTOP)
                    .step(step::eval("ran", "window.cascadeMarkupRan ?? null"))
                    .step(step::count("images", "img")),
                // The same tab as the broken pages before it.
                PageScript::new("clean-again", &clean, DESKTOP)
                    .step(step::count("rows", "#nodes tbody tr")),
            ];
            let report = browser.run(&pages, &screenshots);
            Some(Fixture {
                report,
                screenshots,
            })
        })
        .as_ref()
}

fn page(name: &str) -> Option<&'static PageReport> {
    Some(fixture()?.report.page(name))
}

#[test]
fn the_harness_reads_rows_states_and_links_off_a_clean_page() {
    let Some(page) = page("clean") else { return };
    page.assert_clean();
    assert_eq!(page.title.as_deref(), Some("clean"));
    assert_eq!(page.count("rows"), 4);
    assert_eq!(
        page.strings("states"),
        ["done", "in-pr", "awaiting-pr", "awaiting-parents"]
    );
    let links = page.strings("links");
    assert_eq!(links.len(), 1);
    assert!(links[0].starts_with("file://") && links[0].ends_with("/other.html"));
    assert_eq!(page.value("title-by-eval"), "clean");
}

#[test]
fn the_harness_sees_typing_in_the_filter_hide_rows() {
    let Some(page) = page("clean") else { return };
    assert_eq!(page.count("filtered"), 2, "zlib and zlib-ng stay visible");
    assert_eq!(
        page.count("filtered-all"),
        4,
        "the hidden rows are still there"
    );
    assert_eq!(page.strings("filtered-names"), ["zlib", "zlib-ng"]);
}

#[test]
fn the_harness_sees_a_click_on_a_header_reorder_rows() {
    let Some(page) = page("clean") else { return };
    assert_eq!(
        page.strings("sorted-names"),
        ["numpy", "scipy", "zlib", "zlib-ng"]
    );
}

#[test]
fn the_harness_keeps_screenshots_at_desktop_and_phone_widths() {
    let Some(fixture) = fixture() else { return };
    for file in ["clean-desktop.png", "clean-phone.png"] {
        let bytes = fs_err::read(fixture.screenshots.join(file)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{file} is a PNG");
        // The IHDR chunk holds the width: a full-page shot is as wide as the viewport.
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        let expected = if file.contains("phone") {
            PHONE.width
        } else {
            DESKTOP.width
        };
        assert_eq!(width, expected, "{file}");
    }
    let layout = fixture.report.page("clean-phone").value("layout");
    assert_eq!(layout["viewport_width"], PHONE.width);
    assert_eq!(layout["scroll_width"], PHONE.width, "{layout}");
}

#[test]
fn a_page_that_logs_a_console_error_is_not_clean() {
    let Some(page) = page("console") else { return };
    let problems = page.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("the data is wrong"), "{problems:?}");
}

#[test]
fn a_page_that_throws_is_not_clean() {
    let Some(page) = page("exception") else {
        return;
    };
    assert_eq!(page.page_errors.len(), 1, "{:?}", page.page_errors);
    assert!(
        page.page_errors[0].contains("nodes"),
        "{:?}",
        page.page_errors
    );
    assert!(!page.problems().is_empty());
}

#[test]
fn a_page_with_a_missing_asset_is_not_clean() {
    let Some(page) = page("asset") else { return };
    assert_eq!(page.failed_requests.len(), 1, "{:?}", page.failed_requests);
    assert!(page.failed_requests[0].url.ends_with("/missing.svg"));
    assert!(!page.problems().is_empty());
}

#[test]
fn a_page_that_reaches_for_the_network_is_not_clean_and_is_blocked() {
    let Some(page) = page("network") else { return };
    assert_eq!(page.external_requests, ["https://cdn.example.org/chart.js"]);
    assert!(
        page.failed_requests
            .iter()
            .any(|request| request.url == "https://cdn.example.org/chart.js"),
        "the request was aborted: {:?}",
        page.failed_requests
    );
    assert!(!page.problems().is_empty());
}

#[test]
fn a_step_that_finds_nothing_fails_its_page_and_stops_it() {
    let Some(fixture) = fixture() else { return };
    let page = fixture.report.page("no-such-element");
    let failed = page.failed_step.as_ref().expect("the click failed");
    assert_eq!(failed["index"], 0);
    assert!(failed["error"].as_str().unwrap().contains("no-such-button"));
    assert!(
        !page.results.contains_key("after"),
        "later steps did not run"
    );
    assert!(!page.problems().is_empty());
    // The run went on: the page after it in the script was opened as usual.
    let names: Vec<&str> = fixture
        .report
        .pages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let next = names
        .iter()
        .position(|name| *name == "no-such-element")
        .unwrap()
        + 1;
    assert_eq!(names[next], "console");
    assert_eq!(
        fixture.report.page("console").title.as_deref(),
        Some("console")
    );
}

#[test]
fn a_broken_page_does_not_spill_its_errors_onto_the_next_page_in_the_tab() {
    let Some(page) = page("clean-again") else {
        return;
    };
    page.assert_clean();
    assert_eq!(page.count("rows"), 4);
}

#[test]
fn the_markup_of_the_escaping_tests_is_seen_when_it_is_live() {
    let Some(page) = page("markup") else {
        return;
    };
    assert_eq!(
        page.value("ran"),
        1,
        "the script ran (the image's handler too)"
    );
    assert_eq!(page.count("images"), 1);
    assert!(
        page.failed_requests
            .iter()
            .any(|request| request.url.ends_with("/markup-ran.png")),
        "{:?}",
        page.failed_requests
    );
}
