//! When a migration may finish, and who holds it up.
//!
//! **Forecast.** A migration advances in waves: a member's PR can only open after its
//! parents are done, so the longest chain of not-done members (the critical path, `W`
//! waves) bounds it from below. One wave costs what a merged PR of this migration took
//! from the run that opened it to the run that saw it merged (which is also the run that
//! opens the children's PRs): `L50/L90` over the merged PRs. The bot's throughput bounds
//! it too: `R` members still need a PR, each run opens at most `limit`, and runs come
//! every `I50/I90` (the observed gaps between runs):
//!
//! ```text
//! P50 = now + max(W × L50, ceil(R / limit) × I50)
//! P90 = now + max(W × L90, ceil(R / limit) × I90)
//! ```
//!
//! Latencies are pooled over waves (every merged PR is one observed wave); open PRs on
//! the chain count as whole waves (a conservative choice). There is no estimate — with
//! the reason — for a paused migration, before any PR of the migration was merged, or
//! with fewer than two finished runs (no cadence); numbers are never invented.
//!
//! **Blockers.** Not-done members ranked by the not-done members that transitively
//! depend on them (what they hold back), most first, ties by name; at most
//! [`BLOCKERS_LISTED`].

use super::history::quantile;
use super::model::{Blocker, Forecast, NodeStatus, StateCounts};

/// How many blockers a migration lists.
pub const BLOCKERS_LISTED: usize = 50;

/// What the forecast of one migration is computed from.
pub(crate) struct ForecastInputs<'a> {
    pub paused: bool,
    pub counts: &'a StateCounts,
    pub limit: u32,
    /// The critical chain's members, root first.
    pub critical_chain: Vec<String>,
    /// Wave latencies of merged PRs (opened → merge seen), sorted.
    pub latencies: &'a [i64],
    /// Gaps between runs, sorted.
    pub run_intervals: &'a [i64],
    /// When the last member was done.
    pub last_done: Option<i64>,
    pub now: i64,
}

/// The forecast of one migration.
pub(crate) fn forecast(input: &ForecastInputs<'_>) -> Forecast {
    let c = input.counts;
    let done = c.done + c.done_declined + c.done_nothing_to_do + c.partial;
    if done == c.total {
        return Forecast::Finished {
            at: input.last_done.filter(|_| c.total > 0),
        };
    }
    let waves = u32::try_from(input.critical_chain.len()).unwrap_or(u32::MAX);
    let none = |reason: &str| Forecast::NoEstimate {
        reason: reason.to_string(),
        critical_path: waves,
    };
    if input.paused {
        return none("the migration is paused: it opens no PRs until it is resumed");
    }
    let (Some(l50), Some(l90)) = (
        quantile(input.latencies, 0.5),
        quantile(input.latencies, 0.9),
    ) else {
        return none(
            "no PR of this migration has been merged yet, so there is no open-to-merge \
             latency to extrapolate from",
        );
    };
    let (Some(i50), Some(i90)) = (
        quantile(input.run_intervals, 0.5),
        quantile(input.run_intervals, 0.9),
    ) else {
        return none("fewer than two bot runs are recorded, so the bot's cadence is unknown");
    };
    let need_pr = c.total.saturating_sub(done + c.in_pr);
    let runs = i64::try_from(need_pr.div_ceil(input.limit.max(1) as usize)).unwrap_or(i64::MAX);
    let w = i64::from(waves);
    let eta = |latency: i64, interval: i64| {
        let by_waves = w.saturating_mul(latency);
        let by_throughput = runs.saturating_mul(interval);
        input.now.saturating_add(by_waves.max(by_throughput))
    };
    Forecast::Estimate {
        p50: eta(l50, i50),
        p90: eta(l90, i90).max(eta(l50, i50)),
        critical_path: waves,
        critical_chain: input.critical_chain.clone(),
        latency_p50: l50,
        latency_p90: l90,
        samples: input.latencies.len(),
    }
}

/// The blocker ranking: `held_back[i]` belongs to `nodes[i]`.
pub(crate) fn blockers(nodes: &[NodeStatus], held_back: &[u32]) -> Vec<Blocker> {
    let mut list: Vec<Blocker> = nodes
        .iter()
        .zip(held_back)
        .filter(|(node, held)| !node.state.is_done() && **held > 0)
        .map(|(node, held)| Blocker {
            feedstock: node.feedstock.clone(),
            state: node.state,
            code: node.reason.code,
            held_back: *held,
            pr_url: node
                .pr
                .as_ref()
                .map(|p| p.url.clone())
                .filter(|u| !u.is_empty()),
        })
        .collect();
    list.sort_by(|a, b| {
        b.held_back
            .cmp(&a.held_back)
            .then_with(|| a.feedstock.cmp(&b.feedstock))
    });
    list.truncate(BLOCKERS_LISTED);
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;
    const DAY: i64 = 24 * HOUR;

    fn counts(total: usize, done: usize, in_pr: usize) -> StateCounts {
        StateCounts {
            total,
            done,
            in_pr,
            ..StateCounts::default()
        }
    }

    fn inputs<'a>(
        counts: &'a StateCounts,
        latencies: &'a [i64],
        intervals: &'a [i64],
        chain: usize,
    ) -> ForecastInputs<'a> {
        ForecastInputs {
            paused: false,
            counts,
            limit: 2,
            critical_chain: (0..chain).map(|i| format!("n{i}")).collect(),
            latencies,
            run_intervals: intervals,
            last_done: Some(5),
            now: 1_000_000,
        }
    }

    #[test]
    fn the_critical_path_dominates_when_waves_are_long() {
        let c = counts(10, 4, 1);
        let latencies = [DAY, 2 * DAY, 3 * DAY, 10 * DAY];
        let intervals = [HOUR, HOUR, 2 * HOUR];
        let Forecast::Estimate {
            p50,
            p90,
            critical_path,
            samples,
            ..
        } = forecast(&inputs(&c, &latencies, &intervals, 3))
        else {
            panic!("expected an estimate");
        };
        assert_eq!(critical_path, 3);
        assert_eq!(samples, 4);
        // Median wave 2 days (nearest rank); 3 waves.
        assert_eq!(p50, 1_000_000 + 3 * 2 * DAY);
        // P90: a wave of 10 days.
        assert_eq!(p90, 1_000_000 + 3 * 10 * DAY);
    }

    #[test]
    fn throughput_dominates_when_many_members_wait_behind_a_small_limit() {
        // 100 members need a PR, 2 per run, one run a day: 50 days; one short wave.
        let c = counts(101, 0, 1);
        let latencies = [HOUR];
        let intervals = [DAY];
        let Forecast::Estimate { p50, .. } = forecast(&inputs(&c, &latencies, &intervals, 1))
        else {
            panic!("expected an estimate");
        };
        assert_eq!(p50, 1_000_000 + 50 * DAY);
    }

    #[test]
    fn without_merges_or_runs_there_is_no_estimate_and_the_reason_says_why() {
        let c = counts(3, 0, 1);
        let Forecast::NoEstimate {
            reason,
            critical_path,
        } = forecast(&inputs(&c, &[], &[HOUR], 2))
        else {
            panic!("expected no estimate");
        };
        assert!(reason.contains("no PR of this migration has been merged"));
        assert_eq!(critical_path, 2);
        let Forecast::NoEstimate { reason, .. } = forecast(&inputs(&c, &[HOUR], &[], 2)) else {
            panic!("expected no estimate");
        };
        assert!(reason.contains("fewer than two bot runs"));
        let mut paused = inputs(&c, &[HOUR], &[HOUR], 2);
        paused.paused = true;
        assert!(matches!(forecast(&paused), Forecast::NoEstimate { .. }));
    }

    #[test]
    fn a_migration_with_every_member_done_is_finished() {
        let c = counts(3, 3, 0);
        assert_eq!(
            forecast(&inputs(&c, &[], &[], 0)),
            Forecast::Finished { at: Some(5) }
        );
    }
}
