//! The Rust side of the browser harness: finds node, Chromium and playwright-core, writes
//! a script of pages and steps for `tests/browser/drive.mjs`, runs it, and reads its
//! report back as typed values. What the numbers mean is up to the tests.
//!
//! When something is missing the tests skip with a message, unless
//! `CASCADE_BROWSER_TESTS=required` (set by `.ci/run`, which installs them): then a missing
//! browser is a failure, so CI can never skip these tests silently.

#![allow(dead_code)] // a vocabulary of steps and accessors; each test uses part of it

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How long one run of the driver may take before it is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// A desktop window.
pub const DESKTOP: Viewport = Viewport {
    width: 1280,
    height: 900,
};
/// A phone held upright (an iPhone 14's CSS pixels).
pub const PHONE: Viewport = Viewport {
    width: 390,
    height: 844,
};

/// The programs a browser test needs, all found.
pub struct Browser {
    node: PathBuf,
    chromium: PathBuf,
    playwright_core: PathBuf,
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `name` on the `PATH`, or `None`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    /// The browser, or `None` after a skip message on stderr when node, Chromium or
    /// playwright-core is missing. Panics instead when `CASCADE_BROWSER_TESTS=required`.
    pub fn find() -> Option<Browser> {
        let chromium = std::env::var_os("CASCADE_CHROMIUM")
            .map(PathBuf::from)
            .or_else(|| on_path("chromium"));
        let playwright_core = manifest_dir().join(".ci/node/node_modules/playwright-core");
        let missing = match (on_path("node"), chromium) {
            (None, _) => Some("node is not on the PATH".to_string()),
            (_, None) => Some("chromium is not on the PATH (nor CASCADE_CHROMIUM)".to_string()),
            (Some(_), Some(_)) if !playwright_core.join("package.json").is_file() => Some(format!(
                "playwright-core is not installed in {}",
                playwright_core.display()
            )),
            (Some(node), Some(chromium)) => {
                return Some(Browser {
                    node,
                    chromium,
                    playwright_core,
                });
            }
        };
        let missing = missing.unwrap_or_default();
        if std::env::var("CASCADE_BROWSER_TESTS").as_deref() == Ok("required") {
            panic!("CASCADE_BROWSER_TESTS=required, but {missing}; run .ci/run to install it");
        }
        eprintln!("skipping the browser test: {missing} (`.ci/run` installs what is missing)");
        None
    }

    /// Runs `pages` in one Chromium, writing screenshots into `screenshots`, and returns the
    /// report. Panics when the driver itself fails (not when a page does: that is in the
    /// report).
    pub fn run(&self, pages: &[PageScript], screenshots: &Path) -> Report {
        let work = tempfile::tempdir().unwrap();
        let report_path = work.path().join("report.json");
        let script_path = work.path().join("script.json");
        let script = Script {
            report: &report_path,
            chromium: &self.chromium,
            playwright_core: &self.playwright_core,
            screenshots,
            pages,
        };
        fs_err::write(&script_path, serde_json::to_vec(&script).unwrap()).unwrap();
        let stderr_path = work.path().join("stderr");
        let mut child = Command::new(&self.node)
            .arg(manifest_dir().join("tests/browser/drive.mjs"))
            .arg(&script_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs_err::File::create(&stderr_path).unwrap().into_parts().0)
            .spawn()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the browser driver ran for more than {RUN_TIMEOUT:?}; killed it");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = fs_err::read_to_string(&stderr_path).unwrap_or_default();
        assert!(
            status.success(),
            "the browser driver failed ({status}):\n{stderr}"
        );
        let report: Report = serde_json::from_slice(&fs_err::read(&report_path).unwrap())
            .unwrap_or_else(|error| panic!("unreadable driver report: {error}\n{stderr}"));
        eprintln!(
            "browser: Chromium {}, {} pages in {:.1?}",
            report.browser_version,
            report.pages.len(),
            started.elapsed()
        );
        report
    }
}

/// Where a test keeps its screenshots: `target/status-screenshots/<test>/`, removed first
/// so what is there after a run is that run's (the driver creates it again).
pub fn screenshot_dir(test: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is target/tmp")
        .to_path_buf();
    let dir = target.join("status-screenshots").join(test);
    let _ = fs_err::remove_dir_all(&dir);
    dir
}

/// A `file://` URL for a local file.
pub fn file_url(path: &Path) -> String {
    let absolute = fs_err::canonicalize(path).unwrap();
    let mut url = String::from("file://");
    for byte in absolute.to_str().unwrap().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(byte as char)
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url
}

/// The local path a `file://` URL names (percent-decoded), without its query and fragment;
/// `None` for other schemes.
pub fn url_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.split(['#', '?']).next().unwrap_or_default();
    let mut bytes = Vec::new();
    let mut input = rest.bytes();
    while let Some(byte) = input.next() {
        if byte == b'%' {
            let hex: String = input.by_ref().take(2).map(char::from).collect();
            bytes.push(u8::from_str_radix(&hex, 16).ok()?);
        } else {
            bytes.push(byte);
        }
    }
    Some(PathBuf::from(String::from_utf8(bytes).ok()?))
}

#[derive(Serialize)]
struct Script<'a> {
    report: &'a Path,
    chromium: &'a Path,
    playwright_core: &'a Path,
    screenshots: &'a Path,
    pages: &'a [PageScript],
}

/// A window size in CSS pixels.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Viewport {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// One page to open and what to do on it.
#[derive(Debug, Clone, Serialize)]
pub struct PageScript {
    /// Names the page in the report.
    pub name: String,
    /// What to open.
    pub url: String,
    /// The window size.
    pub viewport: Viewport,
    /// What to do, in order; the first failing step ends the page.
    pub steps: Vec<Step>,
}

impl PageScript {
    /// A page with no steps yet.
    pub fn new(name: impl Into<String>, url: impl Into<String>, viewport: Viewport) -> Self {
        PageScript {
            name: name.into(),
            url: url.into(),
            viewport,
            steps: Vec::new(),
        }
    }

    /// Adds a step.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }
}

/// One step on a page (see `tests/browser/drive.mjs`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Step {
    /// The number of matches.
    Count {
        id: String,
        selector: String,
        visible: bool,
    },
    /// The matches' text.
    Texts {
        id: String,
        selector: String,
        visible: bool,
    },
    /// One attribute of each match.
    Attributes {
        id: String,
        selector: String,
        name: String,
        visible: bool,
    },
    /// Clicks the first match.
    Click { selector: String },
    /// Types into an input.
    Fill { selector: String, text: String },
    /// Presses a key in an element.
    Press { selector: String, key: String },
    /// Chooses an option of a `<select>`.
    Select { selector: String, value: String },
    /// Sleeps.
    Wait { ms: u64 },
    /// The page's URL once loaded.
    Url { id: String },
    /// The document's scroll width against the viewport.
    Layout { id: String },
    /// Every link, resolved.
    Links { id: String },
    /// A JS expression's JSON value.
    Eval { id: String, expression: String },
    /// A screenshot into the test's screenshot directory.
    Screenshot { file: String, full_page: bool },
}

/// Short constructors for the steps the tests use most.
pub mod step {
    use super::Step;

    /// The number of visible matches of `selector`.
    pub fn visible_count(id: &str, selector: &str) -> Step {
        Step::Count {
            id: id.into(),
            selector: selector.into(),
            visible: true,
        }
    }
    /// The number of matches of `selector`, hidden or not.
    pub fn count(id: &str, selector: &str) -> Step {
        Step::Count {
            id: id.into(),
            selector: selector.into(),
            visible: false,
        }
    }
    /// The text of the visible matches of `selector`.
    pub fn visible_texts(id: &str, selector: &str) -> Step {
        Step::Texts {
            id: id.into(),
            selector: selector.into(),
            visible: true,
        }
    }
    /// Attribute `name` of the visible matches of `selector`.
    pub fn visible_attributes(id: &str, selector: &str, name: &str) -> Step {
        Step::Attributes {
            id: id.into(),
            selector: selector.into(),
            name: name.into(),
            visible: true,
        }
    }
    /// Attribute `name` of every match of `selector`.
    pub fn attributes(id: &str, selector: &str, name: &str) -> Step {
        Step::Attributes {
            id: id.into(),
            selector: selector.into(),
            name: name.into(),
            visible: false,
        }
    }
    /// Clicks the first match of `selector`.
    pub fn click(selector: &str) -> Step {
        Step::Click {
            selector: selector.into(),
        }
    }
    /// Types `text` into the input `selector`.
    pub fn fill(selector: &str, text: &str) -> Step {
        Step::Fill {
            selector: selector.into(),
            text: text.into(),
        }
    }
    /// Chooses the option `value` of the `<select>` `selector`.
    pub fn select(selector: &str, value: &str) -> Step {
        Step::Select {
            selector: selector.into(),
            value: value.into(),
        }
    }
    /// Sleeps `ms` milliseconds.
    pub fn wait(ms: u64) -> Step {
        Step::Wait { ms }
    }
    /// The page's URL once loaded (after a click that navigates).
    pub fn url(id: &str) -> Step {
        Step::Url { id: id.into() }
    }
    /// The page's layout widths.
    pub fn layout(id: &str) -> Step {
        Step::Layout { id: id.into() }
    }
    /// Every link of the page.
    pub fn links(id: &str) -> Step {
        Step::Links { id: id.into() }
    }
    /// The JSON value of `expression`.
    pub fn eval(id: &str, expression: &str) -> Step {
        Step::Eval {
            id: id.into(),
            expression: expression.into(),
        }
    }
    /// A full-page screenshot.
    pub fn screenshot(file: &str) -> Step {
        Step::Screenshot {
            file: file.into(),
            full_page: true,
        }
    }
    /// A screenshot of what the window shows.
    pub fn window_screenshot(file: &str) -> Step {
        Step::Screenshot {
            file: file.into(),
            full_page: false,
        }
    }
}

/// What the driver saw.
#[derive(Debug, Deserialize)]
pub struct Report {
    /// Chromium's version.
    pub browser_version: String,
    /// One entry per page, in the script's order.
    pub pages: Vec<PageReport>,
}

impl Report {
    /// The page named `name`.
    pub fn page(&self, name: &str) -> &PageReport {
        self.pages
            .iter()
            .find(|page| page.name == name)
            .unwrap_or_else(|| panic!("no page `{name}` in the report"))
    }
}

/// A console message of level error.
#[derive(Debug, Deserialize)]
pub struct ConsoleError {
    /// The message.
    pub text: String,
    /// The script or resource it came from.
    pub url: Option<String>,
    /// Its line (0-based).
    pub line: Option<u64>,
}

/// A request that failed.
#[derive(Debug, Deserialize)]
pub struct FailedRequest {
    /// What was requested.
    pub url: String,
    /// Chromium's error text.
    pub error: Option<String>,
}

/// What happened on one page.
#[derive(Debug, Deserialize)]
pub struct PageReport {
    /// The name from the script.
    pub name: String,
    /// What was opened.
    pub url: String,
    /// `document.title`, once loaded.
    pub title: Option<String>,
    /// Console errors, in order.
    pub console_errors: Vec<ConsoleError>,
    /// Uncaught exceptions.
    pub page_errors: Vec<String>,
    /// Failed requests (a missing asset, a blocked network request).
    pub failed_requests: Vec<FailedRequest>,
    /// Requests for anything but local files (recorded and aborted).
    pub external_requests: Vec<String>,
    /// Step results by id.
    pub results: BTreeMap<String, Value>,
    /// The step that failed, its index and the error, when one did.
    pub failed_step: Option<Value>,
}

impl PageReport {
    /// Everything wrong with the page: console errors, exceptions, failed or external
    /// requests, a failed step. Empty for a clean page.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for error in &self.console_errors {
            problems.push(format!(
                "console error: {} ({}:{})",
                error.text,
                error.url.as_deref().unwrap_or("?"),
                error.line.unwrap_or(0)
            ));
        }
        for error in &self.page_errors {
            problems.push(format!("uncaught: {error}"));
        }
        for request in &self.failed_requests {
            problems.push(format!(
                "failed request: {} ({})",
                request.url,
                request.error.as_deref().unwrap_or("?")
            ));
        }
        for url in &self.external_requests {
            problems.push(format!("request leaves the local files: {url}"));
        }
        if let Some(step) = &self.failed_step {
            problems.push(format!("step failed: {step}"));
        }
        problems
    }

    /// Panics with every problem of the page, if it has any.
    pub fn assert_clean(&self) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "page `{}` ({}):\n  {}",
            self.name,
            self.url,
            problems.join("\n  ")
        );
    }

    fn result(&self, id: &str) -> &Value {
        self.results.get(id).unwrap_or_else(|| {
            panic!(
                "page `{}` has no result `{id}` (failed step: {:?})",
                self.name, self.failed_step
            )
        })
    }

    /// A `count` result.
    pub fn count(&self, id: &str) -> usize {
        let value = self.result(id);
        value
            .as_u64()
            .unwrap_or_else(|| panic!("`{id}` is not a count: {value}")) as usize
    }

    /// A `texts` or `attributes` result (absent attributes read as "").
    pub fn strings(&self, id: &str) -> Vec<String> {
        let value = self.result(id);
        value
            .as_array()
            .unwrap_or_else(|| panic!("`{id}` is not a list: {value}"))
            .iter()
            .map(|item| item.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Any result, as JSON.
    pub fn value(&self, id: &str) -> &Value {
        self.result(id)
    }
}
