//! The data behind a migration page's feedstock table, embedded in the page as JSON and
//! turned into rows by `status-site/assets/site.js`.
//!
//! A migration can have every feedstock of conda-forge as a member (the maintenance
//! rerender has 25,000), and one HTML row per member would break the 2 MB page budget
//! and make the browser build 25,000 rows before the page is usable. So the rows travel
//! as compact arrays — repeated strings (states, reason codes, CI) through a string
//! table — and the script renders the first thousand that match the filter.
//!
//! Row layout (mirrored in `site.js`): `[name, stem or null when equal to the name,
//! state, detail, reason code, reason text, PR number, PR url, CI, descendants, level]`
//! where state, detail, reason code and CI are indices into `strings`.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::status::model::{MigrationStatus, ReasonCode};

use super::cf_state::CfState;
use super::escape::json_for_script;
use super::paths;

/// Interns the repeated strings of the rows.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    index: HashMap<String, usize>,
}

impl Strings {
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
    state_order: Vec<&'static str>,
    strings: Vec<String>,
    rows: Vec<Value>,
}

/// The serde name of a reason code (`awaiting-pr/pr-limit`).
pub(crate) fn code_str(code: ReasonCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The table's JSON, escaped for a `<script type="application/json">` element.
pub(crate) fn table_json(migration: &MigrationStatus) -> String {
    let mut strings = Strings::default();
    let mut rows = Vec::with_capacity(migration.nodes.len());
    for node in &migration.nodes {
        let Some(state) = CfState::of(node.state) else {
            continue;
        };
        let stem = paths::stem(&node.feedstock);
        let stem = (stem != node.feedstock).then_some(stem);
        let (number, url, ci) = match &node.pr {
            Some(pr) => (
                Some(pr.number),
                (!pr.url.is_empty()).then(|| pr.url.clone()),
                pr.ci.map(|ci| strings.id(ci.as_str())),
            ),
            None => (None, None, None),
        };
        rows.push(json!([
            node.feedstock,
            stem,
            strings.id(state.as_str()),
            strings.id(node.state.as_str()),
            strings.id(&code_str(node.reason.code)),
            node.reason.text,
            number,
            url,
            ci,
            node.num_descendants,
            node.level,
        ]));
    }
    let data = TableData {
        feedstock_base: "../feedstocks/",
        state_order: CfState::ALL.iter().map(|s| s.as_str()).collect(),
        strings: strings.list,
        rows,
    };
    // Serializing plain data into a String cannot fail.
    json_for_script(&serde_json::to_string(&data).unwrap_or_default())
}
