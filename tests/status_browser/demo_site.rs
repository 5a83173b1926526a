//! The scenario of the site tests: `cascade demo --size 150 --rounds 4` (offline, seeded, so
//! the same every time), its site under `<dir>/site/`, and what the store and the local forge
//! recorded — the independent account the pages are checked against.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use cascade::forge::PrState;
use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::graph::{Store, WorkOutcome};
use serde_json::Value;

use super::driver::{Browser, PageReport, file_url};

/// The six states of conda-forge's status page, in its order (reference §6.3): the values
/// of the site's `data-state` attributes and the arrays of `migration_json/<name>.json`.
pub const CF_STATES: [&str; 6] = [
    "done",
    "in-pr",
    "awaiting-pr",
    "awaiting-parents",
    "not-solvable",
    "bot-error",
];

/// The demo's pinning migration that is still running at the end: after four rounds it has
/// members done, in PR and awaiting their parents (`libxml2216`, the other one, is finished
/// and closed out by then).
pub const PYTHON314: &str = "python314";

/// The demo, run once per test binary.
pub struct DemoSite {
    /// The demo directory.
    pub dir: PathBuf,
    /// `<dir>/site`.
    pub site: PathBuf,
    /// What the demo printed.
    pub stdout: String,
}

impl DemoSite {
    /// The demo, built on first use (about half a minute in a debug build).
    pub fn get() -> &'static DemoSite {
        static DEMO: OnceLock<DemoSite> = OnceLock::new();
        DEMO.get_or_init(|| {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status_browser_demo");
            let _ = fs_err::remove_dir_all(&dir);
            let output = Command::cargo_bin("cascade")
                .unwrap()
                .args(["demo", "--size", "150", "--rounds", "4", "--dir"])
                .arg(&dir)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                output.status.success(),
                "cascade demo failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            DemoSite {
                site: dir.join("site"),
                dir,
                stdout,
            }
        })
    }

    /// A file of the site.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.site.join(relative)
    }

    /// Every HTML page of the site, relative to its root, sorted.
    pub fn pages(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in fs_err::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else if path.extension().is_some_and(|ext| ext == "html") {
                    let relative = path.strip_prefix(root).unwrap();
                    out.push(relative.to_str().unwrap().to_string());
                }
            }
        }
        let mut pages = Vec::new();
        walk(&self.site, &self.site, &mut pages);
        pages.sort();
        pages
    }

    /// The migrations the site reports (`total_status.json`), by name.
    pub fn migrations(&self) -> Vec<String> {
        let total: BTreeMap<String, Value> =
            serde_json::from_slice(&fs_err::read(self.path("total_status.json")).unwrap()).unwrap();
        total.into_keys().collect()
    }

    /// `migration_json/<name>.json`, conda-forge's file for the migration.
    pub fn migration_json(&self, migration: &str) -> Value {
        let path = self.path(&format!("migration_json/{migration}.json"));
        serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap()
    }

    /// The store of the demo run.
    pub fn store(&self) -> Store {
        Store::open(&self.dir.join("cascade.sqlite")).unwrap()
    }

    /// Every PR on the demo's forge: (feedstock, number) → its state there.
    pub fn forge_prs(&self) -> BTreeMap<(String, u64), PrState> {
        let forge =
            LocalForge::open(&self.dir.join("forge"), &LocalForgeOptions::default()).unwrap();
        forge
            .list_prs(&PrFilter::default())
            .unwrap()
            .into_iter()
            .map(|pr| ((pr.feedstock, pr.number), pr.state))
            .collect()
    }

    /// What the store's work records say of each feedstock of a migration that has any:
    /// in PR (an open record; a `bot-rerun` leaves a closed record beside it) or done
    /// (merged, closed unmerged or nothing to do).
    pub fn recorded(&self, migration: &str) -> BTreeMap<String, Recorded> {
        let mut recorded = BTreeMap::new();
        for work in self.store().work_for(migration).unwrap() {
            let this = match (work.outcome, &work.pr) {
                (WorkOutcome::Open, Some(pr)) => Recorded::InPr(pr.number),
                (WorkOutcome::Open, None) => panic!("{migration}: open work without a PR"),
                _ => Recorded::Done,
            };
            let entry = recorded.entry(work.feedstock).or_insert(this);
            if matches!(this, Recorded::InPr(_)) {
                *entry = this;
            }
        }
        recorded
    }
}

/// Where the store's work records put a feedstock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A PR is open (its number).
    InPr(u64),
    /// Merged, closed unmerged or nothing to do.
    Done,
}

/// The demo and a browser, or `None` (with a message) when the browser is missing.
pub fn demo_and_browser() -> Option<(&'static DemoSite, Browser)> {
    let browser = Browser::find()?;
    Some((DemoSite::get(), browser))
}

pub fn page_url(demo: &DemoSite, relative: &str) -> String {
    file_url(&demo.path(relative))
}

pub fn migration_page(migration: &str) -> String {
    format!("migrations/{migration}.html")
}

/// Per state, the feedstocks of a migration's conda-forge JSON.
pub fn json_states(demo: &DemoSite, migration: &str) -> BTreeMap<String, BTreeSet<String>> {
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
pub fn table_states(
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

pub fn counts(by_state: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    by_state
        .iter()
        .map(|(state, names)| (state.clone(), names.len()))
        .collect()
}
