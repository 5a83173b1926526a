//! How fast a migration goes: the PR-limit ramp (reference §3.3) and the retry back-off
//! after a failed attempt (§3.1). Both are pure functions of counts and times.

use crate::graph::AttemptRecord;

/// The most PRs a migration may open in one run, whatever its `pr_limit` says.
pub const MAX_PR_LIMIT: u32 = 20;

/// The base of the retry back-off: two hours.
pub const BACKOFF_BASE_SECONDS: i64 = 2 * 60 * 60;

/// The back-off doubles per failed attempt up to this exponent (2 h × 2^6 = 128 h).
pub const BACKOFF_MAX_EXPONENT: u32 = 6;

/// PRs to open this run, from the nominal limit and how far the migration has come.
///
/// `with_work` (`n`) is the number of members with a record under their current uid, in
/// any state; `members` (`T`) the size of the migration. With `ramp`, the breakpoints
/// `[0, 10, T/10, T/4, T/2, 3T/4, T]` (integer division) are sorted, and the first one
/// with `n ≤ b` picks, by its position, one of `[min(2, L), L, 2L, 1.75L, 1.5L, 1.25L, L]`
/// (each truncated and capped at [`MAX_PR_LIMIT`]), where `L` is `nominal` capped at
/// [`MAX_PR_LIMIT`]. So a migration starts with 2 PRs, proves itself over the first 10,
/// speeds up to 2L and slows down towards the end. Without `ramp` the limit is `L`.
pub fn pr_limit(nominal: u32, ramp: bool, with_work: usize, members: usize) -> u32 {
    let l = nominal.min(MAX_PR_LIMIT);
    if !ramp {
        return l;
    }
    let scaled = |factor_x4: u32| (l * factor_x4 / 4).min(MAX_PR_LIMIT);
    let limits = [l.min(2), l, scaled(8), scaled(7), scaled(6), scaled(5), l];
    let mut breakpoints = [
        0,
        10,
        members / 10,
        members / 4,
        members / 2,
        3 * members / 4,
        members,
    ];
    breakpoints.sort_unstable();
    breakpoints
        .iter()
        .zip(limits)
        .find(|(b, _)| with_work <= **b)
        .map_or(l, |(_, limit)| limit)
}

/// When a node whose last attempt failed may be tried again (Unix seconds): the last
/// attempt plus `2 h × 2^min(attempts, 6)`. `None` when the last attempt succeeded or
/// none failed.
pub fn retry_at(attempt: &AttemptRecord) -> Option<i64> {
    if attempt.attempts == 0 || attempt.last_error.is_none() {
        return None;
    }
    let factor = 1i64 << attempt.attempts.min(BACKOFF_MAX_EXPONENT);
    Some(
        attempt
            .last_attempt_at
            .saturating_add(BACKOFF_BASE_SECONDS * factor),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{AttemptError, AttemptErrorKind};

    #[test]
    fn the_ramp_starts_at_two_and_speeds_up_past_ten_prs() {
        // T = 1000: breakpoints 0, 10, 100, 250, 500, 750, 1000.
        let cases = [
            (0, 2),
            (1, 5),
            (10, 5),
            (11, 10),
            (100, 10),
            (101, 8),
            (250, 8),
            (251, 7),
            (500, 7),
            (501, 6),
            (750, 6),
            (751, 5),
            (1000, 5),
        ];
        for (n, limit) in cases {
            assert_eq!(pr_limit(5, true, n, 1000), limit, "n = {n}");
        }
    }

    #[test]
    fn the_ramp_is_capped_at_twenty() {
        assert_eq!(pr_limit(15, true, 50, 1000), 20);
        assert_eq!(pr_limit(50, true, 5, 1000), 20);
        assert_eq!(pr_limit(50, false, 5, 1000), 20);
        assert_eq!(pr_limit(1, true, 0, 1000), 1);
    }

    #[test]
    fn a_small_migration_uses_the_sorted_breakpoints_by_position() {
        // T = 40: breakpoints sorted 0, 4, 10, 10, 20, 30, 40.
        assert_eq!(pr_limit(5, true, 3, 40), 5);
        assert_eq!(pr_limit(5, true, 5, 40), 10);
        assert_eq!(pr_limit(5, true, 11, 40), 7);
        assert_eq!(pr_limit(5, true, 40, 40), 5);
    }

    #[test]
    fn without_the_ramp_the_limit_is_flat() {
        assert_eq!(pr_limit(5, false, 0, 1000), 5);
        assert_eq!(pr_limit(5, false, 500, 1000), 5);
    }

    fn failed(attempts: u32, at: i64) -> AttemptRecord {
        AttemptRecord {
            migration: "m".to_string(),
            feedstock: "f".to_string(),
            attempts,
            last_attempt_at: at,
            last_error: Some(AttemptError {
                kind: AttemptErrorKind::Forge,
                message: "push failed".to_string(),
            }),
        }
    }

    #[test]
    fn the_back_off_doubles_per_failure_up_to_128_hours() {
        let hour = 3600;
        assert_eq!(retry_at(&failed(1, 0)), Some(4 * hour));
        assert_eq!(retry_at(&failed(2, 0)), Some(8 * hour));
        assert_eq!(retry_at(&failed(6, 0)), Some(128 * hour));
        assert_eq!(retry_at(&failed(40, 100)), Some(100 + 128 * hour));
    }

    #[test]
    fn a_successful_last_attempt_has_no_back_off() {
        let mut ok = failed(0, 10);
        ok.last_error = None;
        assert_eq!(retry_at(&ok), None);
    }
}
