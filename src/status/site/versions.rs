//! The version-updates page's data, from the upstream checks the store keeps
//! (`upstream_versions`, written by `cascade versions check`) and, when the registry
//! has a version migration, that migration's states.
//!
//! cf-scripts (reference §6.3) calls a feedstock *queued* when it has a newer valid
//! version and no failed attempt, *errored* otherwise. cascade has two places a version
//! update can fail, and both count as errored here:
//! - the upstream check itself failed (`status = failed`; the message lists every
//!   source's failure) — the bot cannot know whether there is a new version;
//! - the version migration failed on a feedstock with a newer version (`bot-error` in
//!   the migration; its reason text is the message).
//!
//! Newer versions whose migration is done or in PR are neither: they are being
//! delivered or were.

use std::collections::HashMap;

use crate::graph::{VersionCheckStatus, VersionRecord};
use crate::migrators::MigratorKind;
use crate::status::model::{NodeStatus, State, StatusReport};

use super::{VersionRow, VersionUpdates};

/// Builds the page's data; `None` when the store has no version check at all (the page
/// is then left out, and `version_status.json` has empty lists).
pub fn version_updates(records: &[VersionRecord], report: &StatusReport) -> Option<VersionUpdates> {
    if records.is_empty() {
        return None;
    }
    let migration_node: HashMap<&str, &NodeStatus> = report
        .migrations
        .iter()
        .filter(|m| m.kind == MigratorKind::Version)
        .flat_map(|m| m.nodes.iter())
        .map(|n| (n.feedstock.as_str(), n))
        .collect();
    let mut updates = VersionUpdates::default();
    for record in records {
        let row = |error: Option<String>| VersionRow {
            feedstock: record.feedstock.clone(),
            current_version: record.current_version.clone(),
            new_version: record.newest_version.clone().unwrap_or_default(),
            attempts: record.attempts,
            error,
        };
        match record.status {
            VersionCheckStatus::Failed => {
                let message = record
                    .error
                    .clone()
                    .unwrap_or_else(|| "the upstream check failed".to_string());
                updates
                    .errored
                    .push(row(Some(format!("upstream check: {message}"))));
            }
            VersionCheckStatus::Newer => match migration_node.get(record.feedstock.as_str()) {
                Some(node) if node.state.is_done() || node.state == State::InPr => {}
                Some(node) if node.state == State::BotError => {
                    let message = node.last_error.clone().unwrap_or(node.reason.text.clone());
                    updates.errored.push(VersionRow {
                        attempts: node.attempts,
                        ..row(Some(message))
                    });
                }
                _ => updates.queued.push(row(None)),
            },
            VersionCheckStatus::UpToDate
            | VersionCheckStatus::NotFound
            | VersionCheckStatus::Skipped => {}
        }
    }
    Some(updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::site::fixture::report;

    fn record(name: &str, status: VersionCheckStatus, error: Option<&str>) -> VersionRecord {
        VersionRecord {
            feedstock: name.to_string(),
            current_version: Some("1.0".into()),
            newest_version: Some("2.0".into()),
            source: Some("PyPI".into()),
            upstream_url: None,
            status,
            checked_at: 1_790_000_000,
            error: error.map(str::to_string),
            attempts: u32::from(error.is_some()),
            source_errors: Vec::new(),
        }
    }

    #[test]
    fn newer_versions_are_queued_and_failed_checks_errored() {
        let records = [
            record("a", VersionCheckStatus::Newer, None),
            record("b", VersionCheckStatus::Failed, Some("PyPI: 500")),
            record("c", VersionCheckStatus::UpToDate, None),
        ];
        let updates = version_updates(&records, &report(Vec::new())).unwrap();
        assert_eq!(updates.queued.len(), 1);
        assert_eq!(updates.queued[0].feedstock, "a");
        assert_eq!(updates.queued[0].new_version, "2.0");
        assert_eq!(updates.errored.len(), 1);
        assert_eq!(
            updates.errored[0].error.as_deref(),
            Some("upstream check: PyPI: 500")
        );
    }

    #[test]
    fn no_checks_means_no_version_page() {
        assert_eq!(version_updates(&[], &report(Vec::new())), None);
    }
}
