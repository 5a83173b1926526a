//! The part of the rewrite both formats share: given the sources found in the text (as
//! [`Unit`]s with their variables), find each new URL and digest, and turn the results
//! into byte-range edits of the original text.
//!
//! A unit is one (source, selector) pair: the URL template(s) to try, mirrors first to
//! last, the hash slot(s) to overwrite, and the variables before and after the version
//! change. A unit whose URL renders the same before and after does not follow the version
//! (a fixed helper download) and is left alone.

use std::collections::{BTreeMap, HashSet};

use super::error::Problem;
use super::fetch::Fetch;
use super::render::{self, Vars};
use super::search::{self, Tried};
use super::{HashChange, SourceChange};
use crate::recipe::HashKind;

/// A byte range of the recipe text holding one value (inside its quotes when quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Slot {
    /// First byte.
    pub(super) start: usize,
    /// One past the last byte.
    pub(super) end: usize,
    /// 1-based line.
    pub(super) line: usize,
}

/// How templates are written in the recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    /// `{{ x }}` (v0).
    Braces,
    /// `${{ x }}` (v1).
    DollarBraces,
}

impl Syntax {
    /// The template as the renderer takes it (`{{ }}`).
    pub(super) fn to_jinja(self, written: &str) -> String {
        match self {
            Syntax::Braces => written.to_string(),
            Syntax::DollarBraces => written.replace("${{", "{{"),
        }
    }

    /// A `{{ }}` template as the recipe writes it.
    pub(super) fn to_recipe(self, jinja: &str) -> String {
        match self {
            Syntax::Braces => jinja.to_string(),
            Syntax::DollarBraces => jinja.replace("${{", "{{").replace("{{", "${{"),
        }
    }
}

/// One URL of a source: where it is written and its template (`{{ }}` syntax).
#[derive(Debug, Clone)]
pub(super) struct UrlSlot {
    pub(super) slot: Slot,
    pub(super) template: String,
}

/// One hash to overwrite: its kind, where its literal is written (in the source or in
/// the variable that holds it) and the old value.
#[derive(Debug, Clone)]
pub(super) struct HashSlot {
    pub(super) kind: HashKind,
    pub(super) slot: Slot,
    pub(super) old: String,
}

/// One source under one selector.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    /// The selector whose variables apply (`None`: the unselected ones).
    pub(super) selector: Option<String>,
    /// The URL and its mirrors, in the order to try.
    pub(super) urls: Vec<UrlSlot>,
    /// The hashes to overwrite (empty for a source without hash).
    pub(super) hashes: Vec<HashSlot>,
    /// The variables with the old version.
    pub(super) old_vars: Vars,
    /// The variables with the new version.
    pub(super) new_vars: Vars,
}

/// What a format's scanner found in the text.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// The version as it will be written (after R mangling).
    pub(super) version: String,
    /// Where the version is written, with its new text.
    pub(super) version_edits: Vec<Edit>,
    /// The sources to search.
    pub(super) units: Vec<Unit>,
    /// Problems found while reading; any problem fails the rewrite.
    pub(super) problems: Vec<Problem>,
}

impl Scan {
    /// A scan that stopped at a problem no source can get past.
    pub(super) fn failed(version: &str, problem: Problem) -> Scan {
        Scan {
            version: version.to_string(),
            problems: vec![problem],
            ..Scan::default()
        }
    }
}

/// A replacement of one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Edit {
    pub(super) slot: Slot,
    pub(super) text: String,
}

/// What running the units produced.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    pub(super) edits: Vec<Edit>,
    pub(super) sources: Vec<SourceChange>,
    pub(super) problems: Vec<Problem>,
}

/// Searches every unit and collects the edits. Units with the same URL slots, hash slots
/// and rendered URL are searched once.
pub(super) fn run(units: &[Unit], syntax: Syntax, fetch: &dyn Fetch) -> Outcome {
    let mut outcome = Outcome::default();
    let mut edits: BTreeMap<Slot, String> = BTreeMap::new();
    let mut done = HashSet::new();
    let mut tried = Tried::default();
    for unit in units {
        let Some(first) = unit.urls.first() else {
            continue;
        };
        let new_url = match render::render(&first.template, &unit.new_vars) {
            Ok(url) => url,
            Err(message) => {
                outcome.problems.push(Problem::BadTemplate {
                    template: syntax.to_recipe(&first.template),
                    message,
                });
                continue;
            }
        };
        let key = (
            unit.urls.iter().map(|u| u.slot).collect::<Vec<_>>(),
            unit.hashes.iter().map(|h| h.slot).collect::<Vec<_>>(),
            new_url.clone(),
        );
        if !done.insert(key) {
            continue;
        }
        let old_url = render::render(&first.template, &unit.old_vars).unwrap_or_default();
        if old_url == new_url {
            tracing::debug!(url = %new_url, "source does not follow the version");
            continue;
        }
        run_unit(
            unit,
            syntax,
            fetch,
            &mut tried,
            &mut edits,
            &mut outcome,
            old_url,
        );
    }
    outcome.edits = edits
        .into_iter()
        .map(|(slot, text)| Edit { slot, text })
        .collect();
    outcome
}

fn run_unit(
    unit: &Unit,
    syntax: Syntax,
    fetch: &dyn Fetch,
    tried: &mut Tried,
    edits: &mut BTreeMap<Slot, String>,
    outcome: &mut Outcome,
    old_url: String,
) {
    let kind = unit.hashes.first().map_or(HashKind::Sha256, |h| h.kind);
    let mut failures = Vec::new();
    for mirror in &unit.urls {
        let mut attempts = Vec::new();
        let found = search::search(
            &mirror.template,
            &unit.new_vars,
            kind,
            fetch,
            tried,
            &mut attempts,
        );
        let Some(found) = found else {
            failures.push(Problem::CouldNotHash {
                template: syntax.to_recipe(&mirror.template),
                attempts,
            });
            continue;
        };
        let new_template =
            (found.template != mirror.template).then(|| syntax.to_recipe(&found.template));
        if let Some(template) = &new_template {
            set_edit(edits, outcome, mirror.slot, template.clone());
        }
        let mut hashes = Vec::new();
        for hash in &unit.hashes {
            let digest = if hash.kind == kind {
                found.digest.clone()
            } else {
                match tried.digest(fetch, &found.url, hash.kind) {
                    Ok(digest) => digest,
                    Err(failure) => {
                        outcome.problems.push(Problem::CouldNotHash {
                            template: syntax.to_recipe(&found.template),
                            attempts: vec![failure],
                        });
                        return;
                    }
                }
            };
            set_edit(edits, outcome, hash.slot, digest.clone());
            hashes.push(HashChange {
                kind: hash.kind,
                old: hash.old.clone(),
                new: digest,
            });
        }
        outcome.sources.push(SourceChange {
            line: mirror.slot.line,
            selector: unit.selector.clone(),
            old_url,
            new_url: found.url,
            new_template,
            hashes,
        });
        return;
    }
    outcome.problems.extend(failures);
}

fn set_edit(edits: &mut BTreeMap<Slot, String>, outcome: &mut Outcome, slot: Slot, text: String) {
    match edits.get(&slot) {
        Some(existing) if *existing != text => {
            outcome
                .problems
                .push(Problem::ConflictingEdit { line: slot.line });
        }
        Some(_) => {}
        None => {
            edits.insert(slot, text);
        }
    }
}

/// Applies edits (sorted, non-overlapping) to `text`.
pub(super) fn apply(text: &str, edits: &[Edit]) -> String {
    let mut edits: Vec<&Edit> = edits.iter().collect();
    edits.sort_by_key(|e| e.slot.start);
    let mut out = String::with_capacity(text.len() + 64);
    let mut cursor = 0;
    for edit in edits {
        if edit.slot.start < cursor {
            continue;
        }
        out.push_str(text.get(cursor..edit.slot.start).unwrap_or_default());
        out.push_str(&edit.text);
        cursor = edit.slot.end;
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_templates_round_trip_between_the_two_syntaxes() {
        let written = "https://x/${{ name }}-${{ version }}.tar.gz";
        let jinja = Syntax::DollarBraces.to_jinja(written);
        assert_eq!(jinja, "https://x/{{ name }}-{{ version }}.tar.gz");
        assert_eq!(Syntax::DollarBraces.to_recipe(&jinja), written);
        assert_eq!(Syntax::DollarBraces.to_recipe(written), written);
    }

    #[test]
    fn edits_replace_only_their_slots() {
        let text = "a: 1\nb: 2\n";
        let edits = [
            Edit {
                slot: Slot {
                    start: 8,
                    end: 9,
                    line: 2,
                },
                text: "20".into(),
            },
            Edit {
                slot: Slot {
                    start: 3,
                    end: 4,
                    line: 1,
                },
                text: "10".into(),
            },
        ];
        assert_eq!(apply(text, &edits), "a: 10\nb: 20\n");
    }
}
