//! The stored records one migration's schedule depends on, and their per-run index.

use std::collections::{BTreeMap, HashMap};

use crate::graph::{AttemptRecord, GraphError, Store, WorkRecord};
use crate::migrators::migrator::{Migrator, Uid};
use crate::migrators::snapshot::NodeInfo;

/// What the store knows about one migration: its work, attempts and `bot-rerun`
/// requests, plus the work of the migrations it waits for (`wait_for_migrators`).
///
/// Loaded with [`MigrationRecords::load`], or built by hand in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationRecords {
    /// Work records of this migration (any uid).
    pub work: Vec<WorkRecord>,
    /// Attempt records of this migration.
    pub attempts: Vec<AttemptRecord>,
    /// `bot-rerun` time per feedstock.
    pub reruns: BTreeMap<String, i64>,
    /// Work records of the migrations named in `wait_for_migrators` (any uid).
    pub waited_for: Vec<WorkRecord>,
}

impl MigrationRecords {
    /// True when this migration has any work recorded on the feedstock (any uid).
    pub fn has_work_on(&self, feedstock: &str) -> bool {
        self.work.iter().any(|r| r.feedstock == feedstock)
    }

    /// Reads a migration's records (and those of the migrations it waits for).
    pub fn load(store: &Store, migrator: &dyn Migrator) -> Result<MigrationRecords, GraphError> {
        let name = migrator.name();
        let mut waited_for = Vec::new();
        for other in &migrator.settings().wait_for_migrators {
            waited_for.extend(store.work_for(other)?);
        }
        Ok(MigrationRecords {
            work: store.work_for(name)?,
            attempts: store.attempts_for(name)?,
            reruns: store.reruns_for(name)?,
            waited_for,
        })
    }
}

/// The `feedstock` key under which attempts of the work `uid` are recorded: the
/// feedstock's name, plus `@` and the uid's extra values when it has any
/// (`numpy@2.3.1` for the version update to 2.3.1). Back-off thus applies per piece of
/// work: a failed version update does not hold back the next upstream version, while
/// migrations whose uid has no extras keep one counter per feedstock.
pub fn attempt_key(feedstock: &str, uid: &Uid) -> String {
    if uid.extra.is_empty() {
        return feedstock.to_string();
    }
    let extras: Vec<&str> = uid.extra.values().map(String::as_str).collect();
    format!("{feedstock}@{}", extras.join(","))
}

/// Whether a node's records of one waited-for migration let it go.
#[derive(Debug, Clone, Copy)]
struct Waited {
    all_done: bool,
}

/// The records of one migration, indexed by feedstock for one scheduling pass.
pub(super) struct Index<'a> {
    work: HashMap<&'a str, Vec<&'a WorkRecord>>,
    attempts: HashMap<&'a str, &'a AttemptRecord>,
    reruns: &'a BTreeMap<String, i64>,
    waited: HashMap<(&'a str, &'a str), Waited>,
}

impl<'a> Index<'a> {
    /// Indexes `records` of `migration` (records of other migrations are ignored).
    pub(super) fn new(migration: &str, records: &'a MigrationRecords) -> Index<'a> {
        let mut work: HashMap<&str, Vec<&WorkRecord>> = HashMap::new();
        for record in records.work.iter().filter(|r| r.migration == migration) {
            work.entry(record.feedstock.as_str())
                .or_default()
                .push(record);
        }
        let attempts = records
            .attempts
            .iter()
            .filter(|a| a.migration == migration)
            .map(|a| (a.feedstock.as_str(), a))
            .collect();
        let mut waited: HashMap<(&str, &str), Waited> = HashMap::new();
        for record in &records.waited_for {
            let entry = waited
                .entry((record.migration.as_str(), record.feedstock.as_str()))
                .or_insert(Waited { all_done: true });
            entry.all_done &= record.outcome.is_done();
        }
        Index {
            work,
            attempts,
            reruns: &records.reruns,
            waited,
        }
    }

    /// True when the feedstock has any record of this migration (whatever its uid).
    pub(super) fn has_work(&self, feedstock: &str) -> bool {
        self.work.contains_key(feedstock)
    }

    /// The node's current uid: the migrator's, with the `bot-rerun` time if one was
    /// requested.
    pub(super) fn current_uid(&self, migrator: &dyn Migrator, node: &NodeInfo) -> Uid {
        let mut uid = migrator.uid(node);
        if let Some(&at) = self.reruns.get(&node.name) {
            uid.bot_rerun = at;
        }
        uid
    }

    /// The record of the feedstock under `uid` (the latest updated one, should several
    /// keys spell the same uid differently).
    pub(super) fn matching(&self, feedstock: &str, uid: &Uid) -> Option<&'a WorkRecord> {
        let records = self.work.get(feedstock)?;
        let key = uid.key();
        records
            .iter()
            .copied()
            .filter(|r| r.uid_key == key || Uid::from_key(&r.uid_key).as_ref() == Some(uid))
            .max_by_key(|r| r.updated_at)
    }

    /// The feedstock's latest open PR of this migration under another uid, when it has
    /// at least `max_open` of them (work whose uid moved on while its PRs are still
    /// open: one such PR holds a maintenance rerender, three hold version updates).
    pub(super) fn open_under_other_uid(
        &self,
        feedstock: &str,
        max_open: u32,
    ) -> Option<&'a WorkRecord> {
        let open: Vec<&'a WorkRecord> = self
            .work
            .get(feedstock)?
            .iter()
            .copied()
            .filter(|r| r.outcome == crate::graph::WorkOutcome::Open)
            .collect();
        if open.len() < usize::try_from(max_open.max(1)).unwrap_or(usize::MAX) {
            return None;
        }
        open.into_iter().max_by_key(|r| r.updated_at)
    }

    /// The attempts of the feedstock's work under `uid` (see [`attempt_key`]).
    pub(super) fn attempts(&self, feedstock: &str, uid: &Uid) -> Option<&'a AttemptRecord> {
        self.attempts
            .get(attempt_key(feedstock, uid).as_str())
            .copied()
    }

    /// True when `migration` is done on the feedstock: it has a record there and every
    /// one of them is done (cf-scripts: a `PRed` entry exists and all are closed).
    pub(super) fn waited_done(&self, migration: &str, feedstock: &str) -> bool {
        self.waited
            .get(&(migration, feedstock))
            .is_some_and(|w| w.all_done)
    }
}
