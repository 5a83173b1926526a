//! The data behind a migration page's feedstock table, embedded in the page as JSON and
//! turned into rows by `status-site/assets/site.js`.
//!
//! A migration can have every feedstock of conda-forge as a member (the maintenance
//! rerender has 25,000), and one HTML row per member would break the 2 MB page budget
//! and make the browser build 25,000 rows before the page is usable. So the rows travel
//! as compact arrays and the script renders the first thousand that match the filter:
//! repeated strings (states, reason codes, CI) are indices into `strings`; the reason
//! column holds a short detail built from the reason's structured facts (the full
//! sentence is on the feedstock's page); a PR URL of the usual shape
//! `<pr_base><name>-feedstock/pull/<number>` is the number 1 instead of the URL.
//!
//! Row layout (mirrored in `site.js`): `[name, state, code, detail, PR number (0:
//! none), PR url (0: none, 1: the usual shape, else the URL), CI (index; 0: none),
//! descendants, level]`, plus the file stem as a tenth element when it differs from the
//! name. `state` indexes cascade's state, whose conda-forge state is `cf[state]`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Value, json};

use crate::status::model::{MigrationStatus, NodeStatus, ReasonCode, ReasonDetail};

use super::cf_state::CfState;
use super::dates;
use super::escape::json_for_script;
use super::paths;

/// Characters of a note kept in a table cell.
const DETAIL_CHARS: usize = 120;
/// Characters of an error message kept in a table cell: errors are few and are what a
/// reader of the table looks for, so they keep more (the full text is on the feedstock
/// page).
const ERROR_CHARS: usize = 600;
/// Parents named in a cell before "+N more".
const PARENTS_NAMED: usize = 3;

/// Interns the repeated strings of the rows; index 0 is the empty string.
struct Strings {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Strings {
    fn new() -> Strings {
        Strings {
            list: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }

    fn id(&mut self, text: &str) -> usize {
        if let Some(&id) = self.index.get(text) {
            return id;
        }
        let id = self.list.len();
        self.list.push(text.to_string());
        self.index.insert(text.to_string(), id);
        id
    }
}

#[derive(Serialize)]
struct TableData {
    feedstock_base: &'static str,
    pr_base: String,
    state_order: Vec<&'static str>,
    strings: Vec<String>,
    /// conda-forge state of each string that is a cascade state (by index).
    cf: BTreeMap<usize, &'static str>,
    rows: Vec<Value>,
}

/// The serde name of a reason code (`awaiting-pr/pr-limit`).
pub(crate) fn code_str(code: ReasonCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let mut out: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        out.pop();
        out.push('…');
    }
    out
}

/// The reason column: the few facts that distinguish this member from others with the
/// same code.
fn detail(node: &NodeStatus) -> String {
    match &node.reason.detail {
        ReasonDetail::Queue {
            position, ready, ..
        } => format!("queue {position}/{ready}"),
        ReasonDetail::Backoff {
            until,
            attempts,
            message,
        } => clip(
            &format!(
                "retry {} after {attempts} failure{}: {message}",
                dates::human(*until),
                if *attempts == 1 { "" } else { "s" }
            ),
            ERROR_CHARS,
        ),
        ReasonDetail::Parents { parents } => {
            let names: Vec<&str> = parents
                .iter()
                .take(PARENTS_NAMED)
                .map(|p| p.feedstock.as_str())
                .collect();
            let more = parents.len().saturating_sub(PARENTS_NAMED);
            if more > 0 {
                format!("waits for {} +{more} more", names.join(", "))
            } else {
                format!("waits for {}", names.join(", "))
            }
        }
        ReasonDetail::Migrations { names } => format!("waits for {}", names.join(", ")),
        ReasonDetail::Error { message, .. } => clip(message, ERROR_CHARS),
        ReasonDetail::Exclusion { rule, .. } => rule.clone(),
        ReasonDetail::Platforms { missing, .. } => format!("missing {}", missing.join(", ")),
        ReasonDetail::Done { note, .. } => note
            .as_deref()
            .map(|n| clip(n, DETAIL_CHARS))
            .unwrap_or_default(),
        ReasonDetail::Pr { .. } => String::new(),
        ReasonDetail::None => clip(&node.reason.text, DETAIL_CHARS),
    }
}

/// The prefix most PR URLs share before `<name>-feedstock/pull/<number>`.
fn pr_base(migration: &MigrationStatus) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for node in &migration.nodes {
        let Some(pr) = &node.pr else { continue };
        let tail = format!("{}-feedstock/pull/{}", node.feedstock, pr.number);
        if let Some(base) = pr.url.strip_suffix(tail.as_str()) {
            *counts.entry(base).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(base, _)| base.to_string())
        .unwrap_or_default()
}

/// The table's JSON, escaped for a `<script type="application/json">` element.
pub(crate) fn table_json(migration: &MigrationStatus) -> String {
    let mut strings = Strings::new();
    let mut cf = BTreeMap::new();
    let pr_base = pr_base(migration);
    let mut rows = Vec::with_capacity(migration.nodes.len());
    for node in &migration.nodes {
        let Some(state) = CfState::of(node.state) else {
            continue;
        };
        let state_id = strings.id(node.state.as_str());
        cf.insert(state_id, state.as_str());
        let (number, url, ci) = match &node.pr {
            Some(pr) => {
                let usual = format!("{pr_base}{}-feedstock/pull/{}", node.feedstock, pr.number);
                let url = if pr.url.is_empty() {
                    json!(0)
                } else if !pr_base.is_empty() && pr.url == usual {
                    json!(1)
                } else {
                    json!(pr.url)
                };
                (
                    pr.number,
                    url,
                    pr.ci.map_or(0, |ci| strings.id(ci.as_str())),
                )
            }
            None => (0, json!(0), 0),
        };
        let mut row = vec![
            json!(node.feedstock),
            json!(state_id),
            json!(strings.id(&code_str(node.reason.code))),
            json!(detail(node)),
            json!(number),
            url,
            json!(ci),
            json!(node.num_descendants),
            json!(node.level),
        ];
        let stem = paths::stem(&node.feedstock);
        if stem != node.feedstock {
            row.push(json!(stem));
        }
        rows.push(Value::Array(row));
    }
    let data = TableData {
        feedstock_base: "../feedstocks/",
        pr_base,
        state_order: CfState::ALL.iter().map(|s| s.as_str()).collect(),
        strings: strings.list,
        cf,
        rows,
    };
    // Serializing plain data into a String cannot fail.
    json_for_script(&serde_json::to_string(&data).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::model::{ParentState, PrInfo, State};
    use crate::status::site::fixture::migration;

    fn pr(number: u64, url: &str) -> PrInfo {
        PrInfo {
            number,
            url: url.to_string(),
            state: None,
            ci: None,
            mergeable: None,
            draft: false,
            title: String::new(),
            created_at: None,
            updated_at: None,
            closed_at: None,
        }
    }

    fn data(m: &MigrationStatus) -> Value {
        serde_json::from_str(&table_json(m)).unwrap()
    }

    #[test]
    fn usual_pr_urls_shrink_to_one_and_others_stay_whole() {
        let mut m = migration(
            "m",
            &[
                ("a", State::InPr, &[]),
                ("b", State::InPr, &[]),
                ("c", State::Done, &[]),
            ],
        );
        m.nodes[0].pr = Some(pr(4, "https://github.com/conda-forge/a-feedstock/pull/4"));
        m.nodes[1].pr = Some(pr(9, "https://github.com/conda-forge/b-feedstock/pull/9"));
        m.nodes[2].pr = Some(pr(2, "https://elsewhere.example/c/2"));
        let d = data(&m);
        assert_eq!(d["pr_base"], "https://github.com/conda-forge/");
        assert_eq!(d["rows"][0][4], 4);
        assert_eq!(d["rows"][0][5], 1);
        assert_eq!(d["rows"][2][5], "https://elsewhere.example/c/2");
    }

    #[test]
    fn each_row_says_its_state_and_the_facts_that_distinguish_it() {
        let mut m = migration(
            "m",
            &[
                ("zlib", State::AwaitingPr, &[]),
                ("a b", State::AwaitingParents, &[]),
            ],
        );
        m.nodes[0].reason.detail = ReasonDetail::Queue {
            position: 7,
            limit: 2,
            ready: 40,
        };
        m.nodes[1].reason.detail = ReasonDetail::Parents {
            parents: ["p", "q", "r", "s", "t"]
                .iter()
                .map(|p| ParentState {
                    feedstock: p.to_string(),
                    state: State::InPr,
                    code: ReasonCode::InPrCiPending,
                    pr_url: None,
                })
                .collect(),
        };
        let d = data(&m);
        let strings = d["strings"].as_array().unwrap();
        let row = &d["rows"][0];
        assert_eq!(strings[row[1].as_u64().unwrap() as usize], "awaiting-pr");
        assert_eq!(d["cf"][row[1].to_string()], "awaiting-pr");
        assert_eq!(row[3], "queue 7/40");
        let other = &d["rows"][1];
        assert_eq!(other[3], "waits for p, q, r +2 more");
        assert_eq!(other[9], "a~20b", "the stem follows when it differs");
        assert_eq!(row.as_array().unwrap().len(), 9);
    }

    #[test]
    fn long_messages_are_clipped_with_an_ellipsis() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
