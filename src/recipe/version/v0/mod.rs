//! Finding the version, sources, URLs and hashes of a v0 `meta.yaml` in its text.
//!
//! `meta.yaml` is Jinja, not YAML, so it is read twice: `{% set %}` lines by a line
//! pattern (with their `# [selector]`), and the YAML structure from a *masked* copy of the
//! text of the same byte length, in which every `{{ ... }}` is replaced by `x`s and every
//! `{% ... %}` / `{# ... #}` by blanks. Node positions in the masked copy are positions in
//! the recipe, so values are read and replaced in the original text, and nothing else
//! moves.
//!
//! Selectors follow the bot (reference §4.4 step 5): a source is tried once per selector
//! found on its keys or on the `{% set %}` lines of the variables its URL and hash use,
//! plus once without a selector; each time the URL, hash and variables written for that
//! selector win over the unselected ones.

mod mask;
mod sets;

use std::collections::BTreeSet;

use super::error::Problem;
use super::render;
use super::rewrite::{Edit, HashSlot, Scan, Slot, Unit, UrlSlot};
use super::slots::{scalar_slot, selector_of, slot_text};
use crate::recipe::HashKind;
use crate::recipe::edit::spanned::{self, Node, Spanned};
use mask::mask;
use sets::{SetLine, context, hash_variable_slot, referenced, set_lines};

/// One entry of a source (a `url:` or a hash key) with the selector of its line.
#[derive(Debug, Clone)]
struct Entry<T> {
    selector: Option<String>,
    value: T,
}

/// One `source` mapping.
#[derive(Debug, Default)]
struct SourceBlock {
    line: usize,
    selector: Option<String>,
    urls: Vec<Entry<Vec<UrlSlot>>>,
    hashes: Vec<Entry<(HashKind, Slot)>>,
    vcs: bool,
    path: bool,
}

/// Reads a `meta.yaml` text for a rewrite to `requested`.
pub(super) fn scan(text: &str, requested: &str) -> Scan {
    let sets = set_lines(text);
    let masked = mask(text);
    let lines: Vec<&str> = text.split('\n').collect();
    let root = match spanned::parse(&masked) {
        Ok(root) => root,
        Err(err) => {
            return Scan::failed(
                requested,
                Problem::NotYaml {
                    line: err.line,
                    message: err.message,
                },
            );
        }
    };
    let mut problems = Vec::new();
    let sources = match &root {
        Some(root) => source_blocks(text, &masked, &lines, root, &mut problems),
        None => Vec::new(),
    };
    if !sources.is_empty() && sources.iter().all(|s| s.vcs && s.urls.is_empty()) {
        return Scan::failed(requested, Problem::GitUrlOnly);
    }
    let is_r = sources
        .iter()
        .flat_map(|s| s.urls.iter().flat_map(|e| e.value.iter()))
        .any(|u| is_r_text(&u.template))
        || sets.iter().any(|s| is_r_text(&s.expression));
    let version = if is_r {
        requested.replace("_", "-")
    } else {
        requested.to_string()
    };
    let version_sets: Vec<&SetLine> = sets
        .iter()
        .filter(|s| s.name == "version" && s.literal.is_some())
        .collect();
    if version_sets.is_empty() {
        return Scan::failed(&version, Problem::NoVersionVariable);
    }
    if sources.is_empty() {
        return Scan::failed(&version, Problem::NoSources);
    }
    let version_edits = version_sets
        .iter()
        .filter_map(|s| {
            s.literal.map(|slot| Edit {
                slot,
                text: if s.quoted {
                    version.clone()
                } else {
                    format!("\"{version}\"")
                },
            })
        })
        .collect();
    // A mapping without url, git or path is a fragment whose keys other selectors
    // complete (`- fn: x  # [win]` before a shared `url:`); it only fails the rewrite
    // when no source has a URL at all.
    if let Some(bare) = sources
        .iter()
        .find(|s| s.urls.is_empty() && !s.vcs && !s.path)
        && sources.iter().all(|s| s.urls.is_empty())
    {
        return Scan::failed(&version, Problem::NoUrl { line: bare.line });
    }
    let mut units = Vec::new();
    for source in &sources {
        source_units(text, &sets, source, &version, &mut units, &mut problems);
    }
    Scan {
        version,
        version_edits,
        units,
        problems,
    }
}

fn is_r_text(text: &str) -> bool {
    text.contains("cran.r-project.org/src/contrib") || text.contains("cran_mirror")
}

/// Every top-level `source` mapping (a `source` list contributes each of its mappings).
fn source_blocks(
    text: &str,
    masked: &str,
    lines: &[&str],
    root: &Spanned,
    problems: &mut Vec<Problem>,
) -> Vec<SourceBlock> {
    let mut out = Vec::new();
    let Some(entries) = root.entries() else {
        return out;
    };
    for (key, value) in entries.iter().filter(|(k, _)| k.as_str() == Some("source")) {
        let selector = line_selector(lines, key.pos.line);
        let maps: Vec<&Spanned> = match &value.node {
            Node::Map { .. } => vec![value],
            Node::Seq { items, .. } => items.iter().filter(|i| i.entries().is_some()).collect(),
            Node::Scalar { .. } => Vec::new(),
        };
        for map in maps {
            out.push(source_block(
                text,
                masked,
                lines,
                map,
                selector.clone(),
                problems,
            ));
        }
    }
    out
}

fn line_selector(lines: &[&str], line: usize) -> Option<String> {
    lines
        .get(line.saturating_sub(1))
        .and_then(|l| selector_of(l.trim_end_matches('\r')))
}

fn source_block(
    text: &str,
    masked: &str,
    lines: &[&str],
    map: &Spanned,
    selector: Option<String>,
    problems: &mut Vec<Problem>,
) -> SourceBlock {
    let mut block = SourceBlock {
        line: map.pos.line,
        selector,
        ..SourceBlock::default()
    };
    for (key, value) in map.entries().unwrap_or_default() {
        let Some(name) = key.as_str() else { continue };
        let selector = line_selector(lines, key.pos.line);
        match name {
            "url" => {
                let nodes: Vec<&Spanned> = match &value.node {
                    Node::Scalar { .. } if !value.is_null() => vec![value],
                    Node::Seq { items, .. } => items.iter().collect(),
                    _ => Vec::new(),
                };
                let mut slots = Vec::new();
                for node in nodes.into_iter().filter(|n| n.as_str().is_some()) {
                    match scalar_slot(text, masked, node) {
                        Ok(slot) => slots.push(UrlSlot {
                            slot,
                            template: slot_text(text, slot).to_string(),
                        }),
                        Err(problem) => problems.push(problem),
                    }
                }
                if !slots.is_empty() {
                    block.urls.push(Entry {
                        selector,
                        value: slots,
                    });
                }
            }
            "git_url" | "hg_url" | "svn_url" => block.vcs = true,
            "path" => block.path = true,
            other => {
                if let Some(kind) = HashKind::parse(other)
                    && value.as_str().is_some()
                {
                    match scalar_slot(text, masked, value) {
                        Ok(slot) => block.hashes.push(Entry {
                            selector,
                            value: (kind, slot),
                        }),
                        Err(problem) => problems.push(problem),
                    }
                }
            }
        }
    }
    block
}

/// The units of one source: one per selector that changes its URL, hash or variables.
fn source_units(
    text: &str,
    sets: &[SetLine],
    source: &SourceBlock,
    version: &str,
    units: &mut Vec<Unit>,
    problems: &mut Vec<Problem>,
) {
    if source.urls.is_empty() {
        return;
    }
    let templates: Vec<&str> = source
        .urls
        .iter()
        .flat_map(|e| e.value.iter().map(|u| u.template.as_str()))
        .chain(source.hashes.iter().map(|h| slot_text(text, h.value.1)))
        .collect();
    let used = referenced(&templates, sets);
    let mut selectors: Vec<Option<String>> = vec![None];
    let candidates = std::iter::once(source.selector.clone())
        .chain(source.urls.iter().map(|e| e.selector.clone()))
        .chain(source.hashes.iter().map(|e| e.selector.clone()))
        .chain(
            sets.iter()
                .filter(|s| used.contains(&s.name))
                .map(|s| s.selector.clone()),
        );
    for candidate in candidates {
        if !selectors.contains(&candidate) {
            selectors.push(candidate);
        }
    }
    let selector_defined: BTreeSet<&str> = sets
        .iter()
        .filter(|s| s.selector.is_some())
        .map(|s| s.name.as_str())
        .collect();
    for selector in &selectors {
        if let Some(unit) = unit_for(
            text,
            sets,
            source,
            selector.as_deref(),
            version,
            &selector_defined,
            problems,
        ) {
            units.push(unit);
        }
    }
}

fn pick<'a, T>(entries: &'a [Entry<T>], selector: Option<&str>) -> Option<&'a Entry<T>> {
    entries
        .iter()
        .rev()
        .find(|e| e.selector.is_some() && e.selector.as_deref() == selector)
        .or_else(|| entries.iter().rev().find(|e| e.selector.is_none()))
}

fn unit_for(
    text: &str,
    sets: &[SetLine],
    source: &SourceBlock,
    selector: Option<&str>,
    version: &str,
    selector_defined: &BTreeSet<&str>,
    problems: &mut Vec<Problem>,
) -> Option<Unit> {
    let urls = pick(&source.urls, selector)?;
    let mut hashes: Vec<&Entry<(HashKind, Slot)>> = Vec::new();
    for kind in [
        HashKind::Sha256,
        HashKind::Sha512,
        HashKind::Sha1,
        HashKind::Md5,
    ] {
        let of_kind: Vec<Entry<(HashKind, Slot)>> = source
            .hashes
            .iter()
            .filter(|e| e.value.0 == kind)
            .cloned()
            .collect();
        if of_kind.is_empty() {
            continue;
        }
        match pick(&of_kind, selector) {
            Some(chosen) => {
                if let Some(original) = source.hashes.iter().find(|e| e.value.1 == chosen.value.1) {
                    hashes.push(original);
                }
            }
            // Only selector-specific hashes of this kind, none for this selector: the
            // selector units cover them.
            None if selector.is_none() => return None,
            None => {}
        }
    }
    let (new_vars, failed) = context(sets, selector, Some(version));
    let (old_vars, _) = context(sets, selector, None);
    let hash_texts: Vec<&str> = hashes.iter().map(|h| slot_text(text, h.value.1)).collect();
    let templates = urls
        .value
        .iter()
        .map(|u| u.template.as_str())
        .chain(hash_texts.iter().copied());
    let mut missing = BTreeSet::new();
    for template in templates {
        match render::missing_variables(template, &new_vars) {
            Ok(names) => missing.extend(names),
            Err(message) => {
                problems.push(Problem::BadTemplate {
                    template: template.to_string(),
                    message,
                });
                return None;
            }
        }
    }
    if !missing.is_empty() {
        if selector.is_none()
            && missing
                .iter()
                .all(|m| selector_defined.contains(m.as_str()))
        {
            return None;
        }
        for variable in missing {
            problems.push(match failed.get(&variable) {
                Some((line, message)) => Problem::UnevaluatedVariable {
                    variable,
                    line: *line,
                    message: message.clone(),
                },
                None => Problem::MissingVariable {
                    variable,
                    selector: selector.map(str::to_string),
                },
            });
        }
        return None;
    }
    let mut hash_slots = Vec::new();
    for hash in hashes {
        let (kind, slot) = hash.value;
        let written = slot_text(text, slot);
        let target = if written.contains("{{") {
            hash_variable_slot(sets, written, selector)
        } else {
            Some(slot)
        };
        let Some(target) = target else {
            problems.push(Problem::HashNotEditable {
                line: slot.line,
                value: written.to_string(),
            });
            return None;
        };
        hash_slots.push(HashSlot {
            kind,
            slot: target,
            old: slot_text(text, target).to_string(),
        });
    }
    Some(Unit {
        selector: selector.map(str::to_string),
        urls: urls.value.clone(),
        hashes: hash_slots,
        old_vars,
        new_vars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_offsets_and_lines() {
        let text = "{% set v = \"1\" %}\nurl: https://x/{{ v }}.tgz  # [win]\n{# c #}\n";
        let masked = mask(text);
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked.lines().count(), text.lines().count());
        assert!(masked.starts_with("                 \nurl: https://x/xxxxxxx.tgz"));
    }

    #[test]
    fn set_lines_know_their_literals_and_selectors() {
        let text = "{% set version = \"1.0\" %}\n{%- set sha = 'ab' -%}  # [win]\n{% set n = version.split('.')[0] %}\n{% set b = 2 %}\n";
        let sets = set_lines(text);
        assert_eq!(sets.len(), 4);
        assert_eq!(slot_text(text, sets[0].literal.unwrap()), "1.0");
        assert!(sets[0].quoted);
        assert_eq!(sets[1].selector.as_deref(), Some("win"));
        assert_eq!(slot_text(text, sets[1].literal.unwrap()), "ab");
        assert!(sets[2].literal.is_none());
        assert_eq!(slot_text(text, sets[3].literal.unwrap()), "2");
        assert!(!sets[3].quoted);
    }

    #[test]
    fn selector_specific_variables_override_the_unselected_ones() {
        let text = "{% set plat = \"linux\" %}\n{% set plat = \"win\" %}  # [win]\n{% set f = plat + '.zip' %}\n";
        let sets = set_lines(text);
        let (vars, _) = context(&sets, Some("win"), None);
        assert_eq!(render::text(&vars["f"]), "win.zip");
        let (vars, _) = context(&sets, None, None);
        assert_eq!(render::text(&vars["f"]), "linux.zip");
    }
}
