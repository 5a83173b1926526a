//! The status site in headless Chromium (issue 6): the demo's pages load with no console
//! errors, a known scenario shows the expected rows per state, filtering and sorting work,
//! the graph view renders; screenshots are kept under `target/status-screenshots/`.
//!
//! The browser is driven by `tests/browser/drive.mjs` (playwright-core); `driver` is its
//! Rust side and `harness` proves it on pages written here, broken ones included. Without
//! node, Chromium or playwright-core the tests skip with a message; `.ci/run` installs them
//! and sets `CASCADE_BROWSER_TESTS=required`, so CI never skips.

#[path = "status_browser/driver.rs"]
mod driver;
#[path = "status_browser/harness.rs"]
mod harness;
