//! Bad input to a run is recorded where it belongs and the rest of the run goes on: a
//! malformed migration file and one with an unknown `__migrator` key are reported with
//! their file and line, the good migrations still run; a feedstock whose rerender fails
//! gets the error on its node (and backs off), and the other feedstocks get their PRs.

use std::collections::BTreeMap;
use std::path::Path;

use cascade::forge::CommitSpec;
use cascade::forge::local::{LocalForge, LocalForgeOptions};
use cascade::graph::{AttemptErrorKind, NoReporter, Store};
use cascade::migrators::Identity;
use cascade::run::{self, RunOptions};
use cascade::universe::{self, DEFAULT_SEED, UniverseOptions};

const PYTHON314: &str = include_str!("../migrators/demo/python314.yaml");

const MALFORMED: &str = "__migrator:\n  commit_message: [unclosed\nzlib:\n- '2'\n";

const TYPO: &str = "\
migrator_ts: 1764000000
__migrator:
    commit_message: Rebuild for openssl 4
    pr_limt: 3
openssl:
- '4'
";

fn setup(dir: &Path) -> (LocalForge, RunOptions) {
    let feedstocks = dir.join("feedstocks");
    universe::generate(
        &UniverseOptions {
            size: 80,
            seed: DEFAULT_SEED,
        },
        &feedstocks,
    )
    .unwrap();
    let migrations = feedstocks.join("conda-forge-pinning-feedstock/recipe/migrations");
    fs_err::create_dir_all(&migrations).unwrap();
    fs_err::write(migrations.join("python314.yaml"), PYTHON314).unwrap();
    fs_err::write(migrations.join("broken.yaml"), MALFORMED).unwrap();
    fs_err::write(migrations.join("openssl4.yaml"), TYPO).unwrap();
    let forge = LocalForge::open(&dir.join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();
    let options = RunOptions {
        db_path: dir.join("cascade.sqlite"),
        checkouts_dir: dir.join("checkouts"),
        pinning_dir: None,
        migrators_dir: None,
        only: Vec::new(),
        dry_run: false,
        identity: Identity::default(),
        now: 1_790_000_000,
    };
    (forge, options)
}

#[test]
fn broken_definitions_and_a_failing_rerender_are_recorded_and_the_rest_proceeds() {
    let tmp = tempfile::tempdir().unwrap();
    let (forge, mut options) = setup(tmp.path());

    // A dry run shows which python314 PRs come first; break the first one's rerender.
    options.dry_run = true;
    let plan = run::run(&options, &forge, &NoReporter).unwrap();
    let python = plan
        .migrations
        .iter()
        .find(|m| m.name == "python314")
        .unwrap();
    assert_eq!(python.opened.len(), 2, "{python:#?}");
    let victim = python.opened[0].feedstock.clone();
    let healthy = python.opened[1].feedstock.clone();
    forge
        .commit_upstream(
            &victim,
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

    options.dry_run = false;
    let summary = run::run(&options, &forge, &NoReporter).unwrap();

    // Both broken definitions are reported with file and line; nothing else is lost.
    let errors: Vec<String> = summary
        .definition_errors
        .iter()
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("broken.yaml:") && e.contains("YAML")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("openssl4.yaml:4") && e.contains("pr_limt")),
        "{errors:#?}"
    );
    assert!(summary.migrations.iter().all(|m| m.name != "openssl4"));

    // The failing feedstock has its error recorded; the others got their PRs.
    let python = summary
        .migrations
        .iter()
        .find(|m| m.name == "python314")
        .unwrap();
    assert_eq!(python.errors.len(), 1, "{python:#?}");
    assert_eq!(python.errors[0].0, victim);
    assert!(
        python.errors[0].1.contains("conda_build_config.yaml"),
        "{:?}",
        python.errors[0]
    );
    assert_eq!(python.opened.len(), 2, "{python:#?}");
    assert!(python.opened.iter().any(|p| p.feedstock == healthy));
    assert!(python.opened.iter().all(|p| p.feedstock != victim));

    let store = Store::open(&options.db_path).unwrap();
    let attempts = store.attempts_for("python314").unwrap();
    let failed = attempts.iter().find(|a| a.feedstock == victim).unwrap();
    assert_eq!(failed.attempts, 1);
    let error = failed.last_error.as_ref().unwrap();
    assert_eq!(error.kind, AttemptErrorKind::Migrate);
    assert!(
        error.message.contains("line 2") || error.message.contains("line 3"),
        "{error:?}"
    );

    // The next run leaves it in back-off instead of failing on it again.
    options.now += 600;
    let next = run::run(&options, &forge, &NoReporter).unwrap();
    let python = next
        .migrations
        .iter()
        .find(|m| m.name == "python314")
        .unwrap();
    assert_eq!(python.counts.backing_off, 1, "{:?}", python.counts);
    assert!(python.errors.is_empty(), "{python:#?}");
}
