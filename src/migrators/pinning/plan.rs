//! Which feedstocks a pinning migration covers and who gates whom (reference §3.3,
//! "Which packages", "Migration graph", `filter_not_in_migration`).
//!
//! One pass over the nodes decides membership; a second pass over the members' in-edges
//! trims them. Parents are taken from [`GraphSnapshot::parents`] and kept when the parent
//! is a member and the edge's sections meet the child's allowed sections: `run`, plus
//! `test` and the "bh" sections (`host` ∪ `build` with `include_build`, else `host` when
//! the child has host requirements, else `build`) for a child in the migration. That is
//! the bot's `_trim_edges_for_abi_rebuild` expressed on labelled edges: an edge exists
//! exactly when the child names one of the parent's outputs in one of its sections.
//! The bot adds the strong compiler stubs (`c_compiler_stub`, ...) a node requires to its
//! host section; `bh` and inclusion here read host the same way. (The bot also adds the
//! outputs of feedstocks flagged `strong_exports`; the graph does not record that flag.)
//! Every member is reported; every other node is listed in `excluded` with one rule (the
//! first that applies, in the bot's order), including the nodes an allowlist cuts off.

use std::collections::{BTreeSet, HashSet};

use crate::graph::SectionSet;
use crate::recipe::Section;

use super::super::migrator::{Exclusion, MigrationPlan};
use super::super::snapshot::{GraphSnapshot, NodeId, NodeInfo};
use super::PINNING_FEEDSTOCK;
use super::definition::PinningMigration;

/// The package names a migration is about (reference §3.3): `override_cbc_keys` when
/// set, else each pinned key and its `_`→`-` spelling that some feedstock of the graph
/// produces. Sorted, without duplicates.
pub(super) fn package_names(migration: &PinningMigration, graph: &GraphSnapshot) -> Vec<String> {
    let mut names = BTreeSet::new();
    if let Some(keys) = &migration.override_cbc_keys {
        names.extend(keys.iter().cloned());
    } else {
        for pin in &migration.pins {
            for candidate in [pin.key.clone(), pin.key.replace('_', "-")] {
                if !graph.producers(&candidate).is_empty() {
                    names.insert(candidate);
                }
            }
        }
    }
    names.into_iter().collect()
}

/// The compiler stubs the bot adds to `host` (and `run`) of every node that requires
/// them (`_add_run_exports_per_node`, reference §2.5), which is how `override_cbc_keys:
/// [cuda_compiler_stub]` migrations find the feedstocks that use the compiler.
const STRONG_STUBS: [&str; 6] = [
    "c_compiler_stub",
    "c_stdlib_stub",
    "c_stdlib_compiler_stub",
    "cxx_compiler_stub",
    "fortran_compiler_stub",
    "cuda_compiler_stub",
];

fn section(node: &NodeInfo, section: Section) -> Option<&BTreeSet<String>> {
    node.requirements.get(&section)
}

/// True when `name` is in the node's host section as the bot sees it: written there, or
/// a strong compiler stub required anywhere in build.
fn in_host(node: &NodeInfo, name: &str) -> bool {
    section(node, Section::Host).is_some_and(|h| h.contains(name))
        || (STRONG_STUBS.contains(&name)
            && section(node, Section::Build).is_some_and(|b| b.contains(name)))
}

/// The sections whose requirements decide inclusion ("bh").
fn bh_sections(node: &NodeInfo, include_build: bool) -> SectionSet {
    let mut set = SectionSet::default();
    let has_host = section(node, Section::Host).is_some_and(|h| !h.is_empty())
        || section(node, Section::Build)
            .is_some_and(|b| STRONG_STUBS.iter().any(|s| b.contains(*s)));
    if include_build || !has_host {
        set.insert(Section::Build);
    }
    if include_build || has_host {
        set.insert(Section::Host);
    }
    set
}

fn requires_any(node: &NodeInfo, sections: SectionSet, names: &[String]) -> bool {
    sections.iter().any(|s| {
        names.iter().any(|n| match s {
            Section::Host => in_host(node, n),
            other => section(node, other).is_some_and(|reqs| reqs.contains(n.as_str())),
        })
    })
}

fn normalize_platform(platform: &str) -> String {
    platform.replace('_', "-")
}

/// The nodes an allowlist keeps: the producers of the listed packages (or feedstocks of
/// that name), all their ancestors over every edge, and the pinning feedstock.
fn allowlist_cut(graph: &GraphSnapshot, allowlist: &BTreeSet<String>) -> Vec<bool> {
    let mut kept = vec![false; graph.len()];
    let mut stack: Vec<NodeId> = Vec::new();
    for package in allowlist {
        stack.extend_from_slice(graph.producers(package));
        stack.extend(graph.id(package));
    }
    stack.extend(graph.id(PINNING_FEEDSTOCK));
    while let Some(id) = stack.pop() {
        let Some(seen) = kept.get_mut(id.index()) else {
            continue;
        };
        if *seen {
            continue;
        }
        *seen = true;
        stack.extend(graph.parents(id).iter().map(|(p, _)| *p));
    }
    kept
}

/// Plans the migration over the graph.
pub(super) fn plan(
    migration: &PinningMigration,
    allowlist: Option<&BTreeSet<String>>,
    graph: &GraphSnapshot,
) -> MigrationPlan {
    let names = package_names(migration, graph);
    let python = names.iter().any(|n| n == "python");
    let mut pinned = vec![false; graph.len()];
    for name in &names {
        for id in graph.producers(name) {
            if let Some(slot) = pinned.get_mut(id.index()) {
                *slot = true;
            }
        }
    }
    let exclude: HashSet<&str> = migration.exclude.iter().map(String::as_str).collect();
    let platforms: HashSet<String> = migration
        .platform_allowlist
        .iter()
        .map(|p| normalize_platform(p))
        .collect();
    let kept = allowlist.map(|list| allowlist_cut(graph, list));
    let pinning = graph.id(PINNING_FEEDSTOCK);

    let mut plan = MigrationPlan {
        closeout: pinning,
        ..MigrationPlan::default()
    };
    let mut member = vec![false; graph.len()];
    for id in graph.ids() {
        let node = graph.node(id);
        if Some(id) == pinning {
            member[id.index()] = true;
            plan.members.push(id);
            continue;
        }
        let bh = bh_sections(node, migration.include_build);
        let noarch = if python {
            node.noarch.python
        } else {
            node.noarch.all
        };
        let rule = if kept
            .as_ref()
            .is_some_and(|k| !k.get(id.index()).copied().unwrap_or(false))
        {
            Some(Exclusion::NotInAllowlist)
        } else if node.archived {
            Some(Exclusion::Archived)
        } else if node.parse_error || node.recipe_format.is_none() {
            Some(Exclusion::ParseError)
        } else if !requires_any(node, bh, &names) {
            Some(Exclusion::NotAffected)
        } else if noarch && !migration.include_noarch {
            Some(Exclusion::Noarch)
        } else if exclude.contains(node.name.as_str()) {
            Some(Exclusion::ExcludedByName)
        } else if migration.exclude_pinned_pkgs && pinned[id.index()] {
            Some(Exclusion::ProducesPinnedPackage)
        } else if !platforms.is_empty()
            && !node
                .platforms
                .iter()
                .any(|p| platforms.contains(&normalize_platform(p)))
        {
            Some(Exclusion::PlatformAllowlist)
        } else {
            None
        };
        match rule {
            Some(rule) => plan.excluded.push((id, rule)),
            None => {
                member[id.index()] = true;
                plan.members.push(id);
            }
        }
    }

    for &id in &plan.members {
        if Some(id) == pinning {
            continue;
        }
        let node = graph.node(id);
        // Every member is in the migration, so test and bh edges count too.
        let mut allowed = bh_sections(node, migration.include_build);
        allowed.insert(Section::Run);
        allowed.insert(Section::Test);
        let parents: Vec<NodeId> = graph
            .parents(id)
            .iter()
            .filter(|(p, sections)| {
                member[p.index()]
                    && Some(*p) != pinning
                    && sections.iter().any(|s| allowed.contains(s))
            })
            .map(|(p, _)| *p)
            .collect();
        if !parents.is_empty() {
            plan.parents.insert(id, parents);
        }
    }
    if let Some(pinning) = pinning {
        // Every node is a parent of the pinning feedstock: it closes the migration last.
        let others: Vec<NodeId> = plan
            .members
            .iter()
            .copied()
            .filter(|m| *m != pinning)
            .collect();
        if !others.is_empty() {
            plan.parents.insert(pinning, others);
        }
    }
    plan
}
