//! conda-forge's status JSON, written by `status::site::build` from a real scenario: the
//! corpus of `../shared/data/feedstocks` imported into a local forge, the real pinning,
//! three runs of the bot with the test as the maintainers (merging, closing, setting CI,
//! breaking one recipe). Every file validates against its schema in
//! `tests/fixtures/status/` (written from reference §6.3), the schemas reject broken
//! documents, and the arrays agree with the status model and with the forge.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cascade::forge::local::{LocalForge, LocalForgeOptions, PrFilter};
use cascade::forge::{CiStatus, CommitSpec, ForgeError, PrState};
use cascade::graph::{NoReporter, Store};
use cascade::migrators::registry::{Registry, Sources};
use cascade::migrators::{GraphSnapshot, Identity};
use cascade::pinning::load_pinning;
use cascade::run::{self, RunOptions};
use cascade::status::site::{self, CfState, SiteOptions};
use cascade::status::{self, ReasonDetail, State, StatusReport};
use serde_json::Value;

/// The scenario, its report, and the site written from it.
struct Scenario {
    _dir: tempfile::TempDir,
    site: PathBuf,
    report: StatusReport,
    forge: LocalForge,
    broken: String,
    /// The open PR whose CI fails: (feedstock, URL).
    failing: (String, String),
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/status")
        .join(name);
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs_err::read_to_string(path).unwrap()).unwrap()
}

fn collect(options: &RunOptions) -> StatusReport {
    let store = Store::open(&options.db_path).unwrap();
    let graph = GraphSnapshot::load(&store).unwrap();
    let pinning_dir = options.pinning_dir.clone().unwrap();
    let pinning = load_pinning(&pinning_dir).unwrap();
    let registry = Registry::load(
        &Sources {
            pinning_dir,
            migrators_dir: None,
        },
        &pinning,
    );
    status::collect(&store, &graph, &registry, options.now).unwrap()
}

fn open_prs(forge: &LocalForge) -> Vec<cascade::forge::PullRequest> {
    forge
        .list_prs(&PrFilter {
            state: Some(PrState::Open),
            ..PrFilter::default()
        })
        .unwrap()
}

/// Merges a PR as a maintainer would; one that conflicts after an earlier merge on the
/// same feedstock stays open (the next run remakes it).
fn merge_unless_conflicting(forge: &LocalForge, number: u64) {
    match forge.merge(number) {
        Ok(_) | Err(ForgeError::MergeConflict { .. }) => {}
        Err(error) => panic!("merging PR {number}: {error}"),
    }
}

/// Builds the scenario once per test binary; `None` without `../shared`.
fn scenario() -> Option<&'static Scenario> {
    static SCENARIO: OnceLock<Option<Scenario>> = OnceLock::new();
    SCENARIO
        .get_or_init(|| {
            let feedstocks = common::shared_data("feedstocks")?;
            let pinning = common::shared_data("pinning")?;
            let dir = tempfile::tempdir().unwrap();
            let forge =
                LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
            forge.import(&feedstocks).unwrap();
            let mut options = RunOptions {
                db_path: dir.path().join("cascade.sqlite"),
                checkouts_dir: dir.path().join("checkouts"),
                pinning_dir: Some(pinning),
                migrators_dir: None,
                only: Vec::new(),
                dry_run: false,
                identity: Identity::default(),
                now: 1_780_000_000,
            };

            // Run 1, then the maintainers: merge all but two PRs; close one, fail CI on
            // the other.
            run::run(&options, &forge, &NoReporter).unwrap();
            let open = open_prs(&forge);
            assert!(open.len() >= 3, "{open:#?}");
            for (i, pr) in open.iter().enumerate() {
                match i {
                    0 => drop(forge.close(pr.number).unwrap()),
                    1 => drop(forge.set_ci(pr.number, CiStatus::Failing).unwrap()),
                    _ => merge_unless_conflicting(&forge, pr.number),
                }
            }
            // Break the recipe of python314's next feedstock in the queue: its PR fails
            // in the next run (a bot error with a message).
            options.now += 86_400;
            let report = collect(&options);
            let python = report
                .migrations
                .iter()
                .find(|m| m.name == "python314")
                .unwrap();
            let broken = python
                .nodes
                .iter()
                .filter_map(|n| match n.reason.detail {
                    ReasonDetail::Queue { position, .. } => Some((position, &n.feedstock)),
                    _ => None,
                })
                .min()
                .map(|(_, name)| name.clone())
                .unwrap();
            forge
                .commit_upstream(
                    &broken,
                    &CommitSpec {
                        writes: BTreeMap::from([(
                            "recipe/conda_build_config.yaml".to_string(),
                            "python:\n  - [unclosed\n".to_string(),
                        )]),
                        deletes: Default::default(),
                        message: "a maintainer's broken variant file".to_string(),
                        author_name: "maintainer".to_string(),
                        author_email: "m@example.org".to_string(),
                    },
                )
                .unwrap();

            // Runs 2 and 3; in between, merge every open PR but one, whose CI fails.
            run::run(&options, &forge, &NoReporter).unwrap();
            // (The one left open is alone on its feedstock: merging another PR of the
            // same feedstock would make it conflict, and the bot would close it.)
            let open = open_prs(&forge);
            let alone = |pr: &&cascade::forge::PullRequest| {
                open.iter().filter(|p| p.feedstock == pr.feedstock).count() == 1
            };
            let failing = open.iter().find(alone).unwrap().clone();
            forge.set_ci(failing.number, CiStatus::Failing).unwrap();
            for pr in open.iter().filter(|p| p.number != failing.number) {
                merge_unless_conflicting(&forge, pr.number);
            }
            options.now += 86_400;
            run::run(&options, &forge, &NoReporter).unwrap();
            options.now += 3_600;

            let report = collect(&options);
            let site = dir.path().join("site");
            site::build(&report, None, &site, &SiteOptions::default()).unwrap();
            Some(Scenario {
                _dir: dir,
                site,
                report,
                failing: (failing.feedstock.clone(), failing.url.clone()),
                forge,
                broken,
            })
        })
        .as_ref()
}

/// Validates `document` against `schema`, returning every error as text.
fn violations(schema: &Value, document: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).unwrap();
    validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn migration_files(site: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(site.join("migration_json"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn every_status_file_validates_against_its_schema() {
    let Some(s) = scenario() else {
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    let migration = fixture("migration.schema.json");
    for file in migration_files(&s.site) {
        checked += 1;
        for v in violations(&migration, &read_json(&file)) {
            failures.push(format!("{}: {v}", file.display()));
        }
    }
    let lists = fixture("status_list.schema.json");
    for name in [
        "regular_status.json",
        "longterm_status.json",
        "paused_status.json",
        "total_status.json",
    ] {
        checked += 1;
        for v in violations(&lists, &read_json(&s.site.join(name))) {
            failures.push(format!("{name}: {v}"));
        }
    }
    for (name, schema) in [
        ("closed_status.json", "closed_status.schema.json"),
        ("version_status.json", "version_status.schema.json"),
    ] {
        checked += 1;
        for v in violations(&fixture(schema), &read_json(&s.site.join(name))) {
            failures.push(format!("{name}: {v}"));
        }
    }
    eprintln!(
        "{}/{checked} status files valid ({} migrations)",
        checked - failures.len().min(checked),
        s.report.migrations.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(checked, s.report.migrations.len() + 6);
}

#[test]
fn the_schemas_reject_documents_that_break_the_format() {
    let Some(s) = scenario() else {
        return;
    };
    let schema = fixture("migration.schema.json");
    let python = read_json(&s.site.join("migration_json/python314.json"));
    assert!(violations(&schema, &python).is_empty());

    let mut missing_array = python.clone();
    missing_array.as_object_mut().unwrap().remove("bot-error");
    assert!(!violations(&schema, &missing_array).is_empty());

    let mut negative = python.clone();
    let first = python["done"][0].as_str().unwrap().to_string();
    negative["_feedstock_status"][&first]["num_descendants"] = Value::from(-1);
    assert!(!violations(&schema, &negative).is_empty());

    let mut unknown_status = python.clone();
    unknown_status["_feedstock_status"][&first]["pr_status"] = Value::from("merged");
    assert!(!violations(&schema, &unknown_status).is_empty());

    let mut bad_time = python;
    bad_time["_feedstock_status"][&first]["created_at"] = Value::from("yesterday");
    assert!(!violations(&schema, &bad_time).is_empty());

    let closed = fixture("closed_status.schema.json");
    assert!(!violations(&closed, &serde_json::json!({"x": "x is closed"})).is_empty());
    let versions = fixture("version_status.schema.json");
    assert!(!violations(&versions, &serde_json::json!({"queued": []})).is_empty());
    let lists = fixture("status_list.schema.json");
    assert!(!violations(&lists, &serde_json::json!({"x": 1})).is_empty());
}

#[test]
fn the_six_arrays_hold_every_member_once_in_its_mapped_state_and_topological_order() {
    let Some(s) = scenario() else {
        return;
    };
    let mut members = 0;
    let mut per_state: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &s.report.migrations {
        let json = read_json(&s.site.join(format!("migration_json/{}.json", m.name)));
        let position: HashMap<&str, usize> = m
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.feedstock.as_str(), i))
            .collect();
        let mut seen = BTreeSet::new();
        for state in CfState::ALL {
            let names: Vec<&str> = json[state.as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            // Topological position, then name: the model's order.
            let positions: Vec<usize> = names.iter().map(|n| position[n]).collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{} {}: {names:?}",
                m.name,
                state.as_str()
            );
            *per_state.entry(state.as_str()).or_default() += names.len();
            for name in names {
                let node = &m.nodes[position[name]];
                assert_eq!(CfState::of(node.state), Some(state), "{} {name}", m.name);
                assert!(seen.insert(name), "{} lists {name} twice", m.name);
            }
        }
        assert_eq!(seen.len(), m.nodes.len(), "{}", m.name);
        let details = json["_feedstock_status"].as_object().unwrap();
        assert_eq!(details.len(), m.nodes.len(), "{}", m.name);
        for node in &m.nodes {
            members += 1;
            let d = &details[&node.feedstock];
            let mut children = node.children.clone();
            children.sort();
            assert_eq!(d["immediate_children"], serde_json::json!(children));
            assert_eq!(d["num_descendants"], node.num_descendants);
            let expected_url = match &node.pr {
                Some(pr) if !pr.url.is_empty() => pr.url.clone(),
                _ => format!(
                    "https://github.com/conda-forge/{}-feedstock",
                    node.feedstock
                ),
            };
            assert_eq!(
                d["pr_url"],
                expected_url.as_str(),
                "{} {}",
                m.name,
                node.feedstock
            );
            let error_state = matches!(node.state, State::BotError | State::NotSolvable);
            assert_eq!(
                !d["pre_pr_migrator_status"].as_str().unwrap().is_empty(),
                error_state,
                "{} {}",
                m.name,
                node.feedstock
            );
        }
    }
    eprintln!(
        "{} migrations, {members} (migration, feedstock) entries consistent with the model: {per_state:?}",
        s.report.migrations.len()
    );
    assert!(members > 0);
}

#[test]
fn the_arrays_agree_with_the_forge_and_the_broken_recipe_is_a_bot_error() {
    let Some(s) = scenario() else {
        return;
    };
    let python = read_json(&s.site.join("migration_json/python314.json"));
    let in_array = |state: &str, name: &str| {
        python[state]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_str() == Some(name))
    };
    // The broken recipe's failure is a bot error, with the message (as HTML) beside it.
    assert!(in_array("bot-error", &s.broken), "{python:#}");
    let message = python["_feedstock_status"][&s.broken]["pre_pr_migrator_status"]
        .as_str()
        .unwrap();
    assert!(message.contains("conda_build_config.yaml"), "{message}");

    // Every open PR on the forge is `in-pr` in exactly one migration's file, with its URL.
    let files: Vec<Value> = migration_files(&s.site)
        .iter()
        .map(|f| read_json(f))
        .collect();
    let open = open_prs(&s.forge);
    assert!(!open.is_empty());
    for pr in &open {
        let holders: Vec<&Value> = files
            .iter()
            .filter(|json| {
                json["in-pr"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v.as_str() == Some(pr.feedstock.as_str()))
                    && json["_feedstock_status"][&pr.feedstock]["pr_url"] == pr.url.as_str()
            })
            .collect();
        assert_eq!(holders.len(), 1, "PR {} ({})", pr.number, pr.feedstock);
    }
    let in_pr: usize = files
        .iter()
        .map(|j| j["in-pr"].as_array().unwrap().len())
        .sum();
    assert_eq!(in_pr, open.len());

    // Failing CI shows as GitHub's `unstable`.
    let (feedstock, url) = &s.failing;
    let failing: Vec<&Value> = files
        .iter()
        .map(|j| &j["_feedstock_status"][feedstock])
        .filter(|d| d["pr_url"] == url.as_str())
        .collect();
    assert_eq!(failing.len(), 1, "{feedstock} {url}");
    assert_eq!(failing[0]["pr_status"], "unstable", "{:#}", failing[0]);
    let statuses: BTreeSet<&str> = files
        .iter()
        .flat_map(|j| j["_feedstock_status"].as_object().unwrap().values())
        .filter_map(|d| d["pr_status"].as_str())
        .collect();
    assert!(statuses.contains("unstable"), "{statuses:?}");
    assert!(statuses.contains(""), "{statuses:?}");
}

#[test]
fn the_three_lists_partition_the_total_and_no_version_data_means_empty_lists() {
    let Some(s) = scenario() else {
        return;
    };
    let total = read_json(&s.site.join("total_status.json"));
    let mut union = serde_json::Map::new();
    for name in [
        "regular_status.json",
        "longterm_status.json",
        "paused_status.json",
    ] {
        for (k, v) in read_json(&s.site.join(name)).as_object().unwrap() {
            assert!(
                union.insert(k.clone(), v.clone()).is_none(),
                "{k} in two lists"
            );
        }
    }
    assert_eq!(Value::Object(union), total);
    let names: BTreeSet<&str> = s
        .report
        .migrations
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    let listed: BTreeSet<&str> = total
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, listed);
    assert_eq!(
        total["python314"], "python314 Migration Status",
        "{total:#}"
    );
    assert_eq!(
        read_json(&s.site.join("version_status.json")),
        serde_json::json!({"queued": [], "errored": [], "errors": {}})
    );
    assert_eq!(
        read_json(&s.site.join("closed_status.json")),
        serde_json::json!({})
    );
}
