//! History: what past runs saw, for the burn-down and the forecast.
//!
//! There is no history table: each finished row of the store's `runs` table carries the
//! run summary JSON, whose `migrations[].counts` are the engine's counts per state of
//! that migration at the start of the run (before it opened anything). One point per
//! finished run per migration comes from there. A summary that does not parse (written
//! by another version, or cut short) is skipped, not fatal.
//!
//! Wave latencies come from the work records, on the bot's clock: a merged PR's record
//! was created by the run that opened the PR and updated by the run whose refresh saw
//! it merged — the same run that may open the children's PRs. So `updated_at −
//! created_at` is exactly what one wave of the migration took, including the wait for
//! the next run. (The forge's own open and merge times, in the PR snapshots, leave that
//! wait out, and a simulated clock would not match them.)

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::graph::{PrSnapshot, RunRecord, WorkOutcome, WorkRecord};

use super::model::HistoryPoint;

/// The part of a stored run summary history reads.
#[derive(Debug, Deserialize)]
struct SummaryWire {
    #[serde(default)]
    migrations: Vec<MigrationWire>,
}

#[derive(Debug, Deserialize)]
struct MigrationWire {
    name: String,
    counts: CountsWire,
}

/// The engine's `StateCounts` as serialized.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CountsWire {
    members: usize,
    merged: usize,
    closed_unmerged: usize,
    nothing_to_do: usize,
    in_pr: usize,
}

/// Per migration, one point per finished run, oldest first; plus the finished runs'
/// start times (the bot's cadence).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct History {
    /// Migration name → its points.
    pub points: BTreeMap<String, Vec<HistoryPoint>>,
    /// Start times of finished runs, oldest first.
    pub run_starts: Vec<i64>,
}

impl History {
    /// Reads the history out of the stored runs.
    pub(crate) fn from_runs(runs: &[RunRecord]) -> History {
        let mut history = History::default();
        let mut finished: Vec<&RunRecord> =
            runs.iter().filter(|r| r.finished_at.is_some()).collect();
        finished.sort_by_key(|r| (r.started_at, r.id));
        for run in finished {
            history.run_starts.push(run.started_at);
            let Some(summary) = run.summary.as_deref() else {
                continue;
            };
            let Ok(summary) = serde_json::from_str::<SummaryWire>(summary) else {
                tracing::debug!(run = run.id, "run summary not readable; skipped in history");
                continue;
            };
            for m in summary.migrations {
                let c = m.counts;
                let done = c.merged + c.closed_unmerged + c.nothing_to_do;
                history
                    .points
                    .entry(m.name)
                    .or_default()
                    .push(HistoryPoint {
                        run_id: run.id,
                        at: run.started_at,
                        total: c.members,
                        done,
                        in_pr: c.in_pr,
                        remaining: c.members.saturating_sub(done + c.in_pr),
                    });
            }
        }
        history
    }

    /// The gaps between consecutive runs, sorted (empty with fewer than two runs).
    pub(crate) fn run_intervals(&self) -> Vec<i64> {
        let mut gaps: Vec<i64> = self
            .run_starts
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => Some(b - a),
                _ => None,
            })
            .filter(|gap| *gap > 0)
            .collect();
        gaps.sort_unstable();
        gaps
    }
}

/// PR snapshots by (feedstock, number).
pub(crate) type Snapshots = HashMap<(String, u64), PrSnapshot>;

/// The wave latencies (seconds) of a migration's merged PRs — PR opened → merge seen
/// by the bot — sorted.
pub(crate) fn merge_latencies(work: &[WorkRecord]) -> Vec<i64> {
    let mut latencies: Vec<i64> = work
        .iter()
        .filter(|r| r.outcome == WorkOutcome::Merged && r.pr.is_some())
        .map(|r| (r.updated_at - r.created_at).max(0))
        .collect();
    latencies.sort_unstable();
    latencies
}

/// The `q`-quantile (0..=1) of sorted values, nearest rank (`None` when empty).
pub(crate) fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::PrRef;

    fn run(id: i64, started_at: i64, summary: Option<&str>, finished: bool) -> RunRecord {
        RunRecord {
            id,
            started_at,
            finished_at: finished.then_some(started_at + 10),
            summary: summary.map(str::to_string),
        }
    }

    #[test]
    fn finished_runs_give_one_point_per_migration_and_broken_summaries_are_skipped() {
        let counts = |merged: usize, in_pr: usize| {
            format!(
                r#"{{"migrations":[{{"name":"m","counts":{{"members":4,"with_work":0,"merged":{merged},"closed_unmerged":0,"nothing_to_do":1,"in_pr":{in_pr},"ready":0}}}}]}}"#
            )
        };
        let runs = vec![
            run(2, 200, Some(&counts(1, 2)), true),
            run(1, 100, Some(&counts(0, 1)), true),
            run(3, 300, Some("{not json"), true),
            run(4, 400, Some(&counts(3, 0)), false),
        ];
        let history = History::from_runs(&runs);
        let points = &history.points["m"];
        assert_eq!(points.len(), 2);
        assert_eq!(
            (
                points[0].run_id,
                points[0].done,
                points[0].in_pr,
                points[0].remaining
            ),
            (1, 1, 1, 2)
        );
        assert_eq!(
            (
                points[1].run_id,
                points[1].done,
                points[1].in_pr,
                points[1].remaining
            ),
            (2, 2, 2, 0)
        );
        assert_eq!(history.run_starts, vec![100, 200, 300]);
        assert_eq!(history.run_intervals(), vec![100, 100]);
    }

    #[test]
    fn latencies_run_from_the_opening_run_to_the_run_that_saw_the_merge() {
        let record = |feedstock: &str, pr: bool, outcome, created_at, updated_at| WorkRecord {
            migration: "m".to_string(),
            feedstock: feedstock.to_string(),
            uid_key: "{}".to_string(),
            outcome,
            pr: pr.then(|| PrRef {
                feedstock: feedstock.to_string(),
                number: 1,
            }),
            branch: None,
            reason: None,
            created_at,
            updated_at,
        };
        let work = vec![
            record("a", true, WorkOutcome::Merged, 0, 5000),
            record("b", true, WorkOutcome::Merged, 100, 400),
            record("c", true, WorkOutcome::Open, 0, 9999),
            record("d", false, WorkOutcome::NothingToDo, 0, 10),
            record("e", true, WorkOutcome::Closed, 0, 10),
        ];
        assert_eq!(merge_latencies(&work), vec![300, 5000]);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(quantile(&values, 0.5), Some(50));
        assert_eq!(quantile(&values, 0.9), Some(90));
        assert_eq!(quantile(&values, 1.0), Some(100));
        assert_eq!(quantile(&[7], 0.9), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
