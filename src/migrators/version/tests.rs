//! Membership rules, uids and texts on constructed graphs, hashing offline from an
//! in-memory hash cache.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::feedstock::Snapshot;
use crate::feedstock::config::{Automerge, ForgeConfig};
use crate::graph::SectionSet;
use crate::migrators::migrator::Identity;
use crate::pinning::Pinning;
use crate::recipe::HashKind;
use crate::recipe::version::{FetchError, HashCache};

/// An owned offline fetcher over a cache (what `OfflineFetch` does, without the borrow).
struct Offline(HashCache);

impl Fetch for Offline {
    fn digest(&self, url: &str, kind: HashKind) -> Result<String, FetchError> {
        self.0.get(url, kind).ok_or_else(|| FetchError::NotFound {
            url: url.to_string(),
        })
    }
}

const META: &str = "{% set version = \"1.0\" %}\n\npackage:\n  name: foo\n  version: {{ version }}\n\nsource:\n  url: https://example.org/foo-{{ version }}.tar.gz\n  sha256: 0000000000000000000000000000000000000000000000000000000000000000\n\nbuild:\n  number: 3\n";
const NEW_URL: &str = "https://example.org/foo-1.2.tar.gz";
const NEW_SHA: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn node(name: &str, version: &str) -> NodeInfo {
    NodeInfo {
        name: name.to_string(),
        recipe_format: Some(RecipeFormat::V0),
        version: Some(version.to_string()),
        outputs: vec![name.to_string()],
        ..NodeInfo::default()
    }
}

fn candidate(version: &str) -> Candidate {
    Candidate {
        target: Target {
            version: version.to_string(),
            upstream_url: Some("https://pypi.org/pypi/foo/json".to_string()),
            source: Some("pypi".to_string()),
        },
        bot: ForgeConfig::default().bot,
        has_version_variable: true,
        open_prs: Vec::new(),
        pending_parents: Vec::new(),
    }
}

fn migrator(candidates: Vec<(&str, Candidate)>) -> VersionMigrator {
    let cache = HashCache::new();
    cache.insert(NEW_URL, HashKind::Sha256, NEW_SHA);
    VersionMigrator::new(
        candidates
            .into_iter()
            .map(|(n, c)| (n.to_string(), c))
            .collect(),
        Arc::new(Offline(cache)),
    )
}

fn names(graph: &GraphSnapshot, ids: &[NodeId]) -> Vec<String> {
    ids.iter().map(|id| graph.node(*id).name.clone()).collect()
}

#[test]
fn members_are_feedstocks_with_a_newer_version_that_no_rule_excludes() {
    let graph = GraphSnapshot::from_parts(
        vec![
            node("newer", "1.0"),
            node("same", "1.0"),
            node("older", "2.0"),
            node("skipped", "1.0"),
            node("excluded", "1.0"),
            node("odd", "1.0"),
            node("novar", "1.0"),
            node("untracked", "1.0"),
        ],
        std::iter::empty(),
    );
    let mut skipped = candidate("1.2");
    skipped.bot.version_updates.skip = true;
    let mut excluded = candidate("1.2");
    excluded.bot.version_updates.exclude = vec!["1.2".to_string()];
    let mut odd = candidate("1.3");
    odd.bot.version_updates.even_odd_versions = Some(true);
    let mut novar = candidate("1.2");
    novar.has_version_variable = false;
    let m = migrator(vec![
        ("newer", candidate("1.2")),
        ("same", candidate("1.0")),
        ("older", candidate("1.2")),
        ("skipped", skipped),
        ("excluded", excluded),
        ("odd", odd),
        ("novar", novar),
    ]);
    let plan = m.plan(&graph);
    assert_eq!(names(&graph, &plan.members), vec!["newer"]);
    let rules: Vec<(String, &str)> = plan
        .excluded
        .iter()
        .map(|(id, rule)| (graph.node(*id).name.clone(), rule.code()))
        .collect();
    assert_eq!(
        rules,
        vec![
            ("skipped".to_string(), "excluded-by-name"),
            ("excluded".to_string(), "excluded-by-name"),
            ("odd".to_string(), "excluded-by-name"),
            ("novar".to_string(), "recipe-format"),
        ]
    );
}

#[test]
fn parents_among_members_are_listed_so_they_are_worked_on_first() {
    let graph = GraphSnapshot::from_parts(
        vec![node("lib", "1.0"), node("app", "1.0"), node("other", "1.0")],
        [
            (NodeId(0), NodeId(1), SectionSet::default()),
            (NodeId(2), NodeId(1), SectionSet::default()),
        ],
    );
    let m = migrator(vec![("lib", candidate("1.2")), ("app", candidate("1.2"))]);
    let plan = m.plan(&graph);
    assert_eq!(plan.parents.get(&NodeId(1)), Some(&vec![NodeId(0)]));
    assert!(!m.settings().gated);
    let schedule = crate::migrators::schedule(
        &m,
        &plan,
        &graph,
        &crate::migrators::MigrationRecords::default(),
        0,
    );
    assert_eq!(
        schedule
            .ready
            .iter()
            .map(|r| graph.node(r.id).name.as_str())
            .collect::<Vec<_>>(),
        vec!["lib", "app"]
    );
}

#[test]
fn the_uid_carries_the_target_version() {
    let m = migrator(vec![("foo", candidate("1.2"))]);
    let uid = m.uid(&node("foo", "1.0"));
    assert_eq!(uid.migration, "version");
    assert_eq!(uid.extra.get("version").map(String::as_str), Some("1.2"));
}

fn change(m: &VersionMigrator, config: &ForgeConfig) -> Result<Change, MigrateError> {
    let files = Snapshot::from_files(
        Path::new("/nowhere"),
        [("recipe/meta.yaml".to_string(), META.as_bytes().to_vec())],
    );
    let node = node("foo", "1.0");
    let pinning = Pinning::default();
    m.change(&ChangeInput {
        node: &node,
        files: &files,
        config,
        pinning: &pinning,
        children: &[],
        closeout: false,
        identity: &Identity::default(),
    })
}

#[test]
fn the_change_bumps_version_hash_and_build_number_with_the_bots_texts() {
    let mut c = candidate("1.2");
    c.open_prs = vec![(4, "1.1".to_string())];
    c.pending_parents = vec![Pending {
        feedstock: "bar".to_string(),
        current: Some("0.1".to_string()),
        queued: "0.2".to_string(),
    }];
    let m = migrator(vec![("foo", c)]);
    let Change::Files(set) = change(&m, &ForgeConfig::default()).unwrap() else {
        panic!("expected files");
    };
    let text = &set.writes["recipe/meta.yaml"];
    assert!(text.contains("{% set version = \"1.2\" %}"));
    assert!(text.contains(NEW_SHA));
    assert!(text.contains("number: 0"));
    assert_eq!(set.title, "foo v1.2");
    assert_eq!(set.commit_message, "updated v1.2");
    assert_eq!(set.branch, "1.2");
    assert!(set.body.contains("Closes: #4"));
    assert!(set.body.contains(NEW_URL));
    assert!(set.body.contains(&format!("sha256: `{NEW_SHA}`")));
    assert!(set.body.contains("https://pypi.org/pypi/foo/json"));
    assert!(set.body.contains("| bar | 0.1 | 0.2 |"));
}

#[test]
fn automerge_true_or_version_puts_the_slug_in_the_title() {
    let m = migrator(vec![("foo", candidate("1.2"))]);
    for (automerge, slug) in [
        (Automerge::All, true),
        (Automerge::Version, true),
        (Automerge::Migration, false),
        (Automerge::Off, false),
    ] {
        let mut config = ForgeConfig::default();
        config.bot.automerge = automerge;
        let Change::Files(set) = change(&m, &config).unwrap() else {
            panic!("expected files");
        };
        assert_eq!(set.title.starts_with("[bot-automerge] foo v1.2"), slug);
    }
}

#[test]
fn a_url_that_does_not_hash_is_an_error_naming_it() {
    let m = migrator(vec![("foo", candidate("1.3"))]);
    let err = change(&m, &ForgeConfig::default()).unwrap_err().to_string();
    assert!(err.contains("with version '1.3'"), "{err}");
    assert!(
        err.contains("not found: https://example.org/foo-1.3.tar.gz"),
        "{err}"
    );
}

#[test]
fn version_variables_are_recognised_in_both_formats() {
    assert!(v0_has_version_set("{% set version = \"1\" %}\n"));
    assert!(v0_has_version_set("{%- set  version=\"1\" -%}\n"));
    assert!(!v0_has_version_set("{% set versions = \"1\" %}\n"));
    assert!(!v0_has_version_set("package:\n  version: 1.0\n"));
    assert!(v1_has_context_version(
        "context:\n  name: x\n  version: \"1.0\"\npackage:\n  version: ${{ version }}\n"
    ));
    assert!(!v1_has_context_version(
        "context:\n  name: x\npackage:\n  version: 1.0\n"
    ));
}

#[test]
fn the_checklist_links_the_recipes_repository_before_its_home_page() {
    let v0 = "about:\n  home: https://urllib3.readthedocs.io/\n  dev_url: https://github.com/urllib3/urllib3  # [unix]\n";
    assert_eq!(
        body::project_url(v0).as_deref(),
        Some("https://github.com/urllib3/urllib3")
    );
    let v1 = "about:\n  homepage: \"http://python-requests.org\"\n";
    assert_eq!(
        body::project_url(v1).as_deref(),
        Some("http://python-requests.org")
    );
    assert_eq!(body::project_url("about:\n  home: ${{ url }}\n"), None);
}
