//! From the graph store to check targets, and from outcomes back into the store.
//!
//! The store holds the renders (version, first source's URLs); the feedstock's
//! `bot.version_updates` settings are read from `conda-forge.yml` in its checkout, which
//! is where the last graph build found it. A checkout that is gone or a file that does
//! not parse gives the default settings and a note.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::feedstock::config;
use crate::graph::{GraphError, Store, VersionCheck, VersionInput};

use super::check::{CheckOutcome, Target};

/// Which feedstocks to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every present feedstock that is not archived and did parse (the bot's
    /// `include_node`).
    All,
    /// These feedstocks, whatever their state.
    Named(Vec<String>),
}

/// Targets read from the store, plus names asked for that the store does not have.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// What to check, by name.
    pub targets: Vec<Target>,
    /// Names in [`Selection::Named`] with no present feedstock.
    pub unknown: Vec<String>,
    /// `conda-forge.yml` files that could not be read or parsed, as `feedstock: reason`.
    pub notes: Vec<String>,
}

/// Builds the targets of `selection` from the store (blocking: reads files).
pub fn targets_from_store(store: &Store, selection: &Selection) -> Result<Targets, GraphError> {
    let inputs = store.version_inputs()?;
    let mut out = Targets::default();
    let chosen: Vec<VersionInput> = match selection {
        Selection::All => inputs
            .into_iter()
            .filter(|i| !i.archived && !i.parse_error)
            .collect(),
        Selection::Named(names) => {
            let mut chosen = Vec::new();
            for name in names {
                match inputs.iter().find(|i| &i.feedstock == name) {
                    Some(input) => chosen.push(input.clone()),
                    None => out.unknown.push(name.clone()),
                }
            }
            chosen
        }
    };
    for input in chosen {
        let settings = match read_settings(Path::new(&input.path)) {
            Ok(settings) => settings,
            Err(reason) => {
                out.notes.push(format!("{}: {reason}", input.feedstock));
                config::VersionUpdates::default()
            }
        };
        out.targets.push(Target {
            feedstock: input.feedstock,
            version: input.version,
            urls: input.urls,
            git_urls: input.git_urls,
            settings,
        });
    }
    Ok(out)
}

/// `bot.version_updates` of a checkout; a missing `conda-forge.yml` means defaults.
fn read_settings(checkout: &Path) -> Result<config::VersionUpdates, String> {
    let file = checkout.join("conda-forge.yml");
    if !file.exists() {
        if checkout.is_dir() {
            return Ok(config::VersionUpdates::default());
        }
        return Err(format!(
            "checkout `{}` not found; default version settings used",
            checkout.display()
        ));
    }
    let text = fs_err::read_to_string(&file).map_err(|e| e.to_string())?;
    config::parse(&text)
        .map(|c| c.bot.version_updates)
        .map_err(|e| format!("`{}`: {e}; default version settings used", file.display()))
}

/// The store row of an outcome, stamped `checked_at`.
pub fn to_record(outcome: &CheckOutcome, checked_at: i64) -> VersionCheck {
    VersionCheck {
        feedstock: outcome.feedstock.clone(),
        current_version: outcome.current_version.clone(),
        newest_version: outcome.newest_version.clone(),
        source: outcome.source.map(|s| s.as_str().to_string()),
        upstream_url: outcome.upstream_url.clone(),
        status: outcome.status,
        error: outcome.error(),
        source_errors: outcome
            .failures
            .iter()
            .map(|f| format!("{}: {}", f.source, f.message))
            .collect(),
        checked_at,
    }
}

/// Records outcomes in the store in one transaction, stamped now.
pub fn record(store: &Store, outcomes: &[CheckOutcome]) -> Result<(), GraphError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let records: Vec<VersionCheck> = outcomes.iter().map(|o| to_record(o, now)).collect();
    store.record_version_checks(&records)
}
