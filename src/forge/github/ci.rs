//! The CI status of a PR's head commit: its check runs (GitHub Actions, Azure Pipelines'
//! app, the linter) and its combined commit status (services that still post statuses),
//! rolled up into one [`CiStatus`].
//!
//! Both lists are conditional GETs, so asking about an unchanged commit again costs no
//! quota. They are asked of the upstream repository — on GitHub a fork's commits are
//! visible through its parent — and of the fork only when upstream does not know the
//! commit (the API emulator keeps no fork network, gap G3 of the emulator reference).

use serde::Deserialize;

use super::api::encode;
use super::api::{Api, Reply};
use crate::forge::{CiStatus, ForgeError};

/// Check-run conclusions that fail a PR.
const FAILING_CONCLUSIONS: &[&str] = &[
    "failure",
    "timed_out",
    "cancelled",
    "action_required",
    "startup_failure",
];

/// Check-run conclusions that pass (a skipped or neutral run passes nothing by itself,
/// but it does not hold a PR back either).
const PASSING_CONCLUSIONS: &[&str] = &["success", "neutral", "skipped"];

/// `GET /repos/{owner}/{repo}/commits/{sha}/check-runs`, the fields read.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CheckRuns {
    #[serde(default)]
    check_runs: Vec<CheckRun>,
}

/// One check run.
#[derive(Debug, Deserialize)]
struct CheckRun {
    /// `queued`, `in_progress`, `completed` (and `waiting`, `requested`, `pending`).
    status: String,
    /// Set once completed.
    #[serde(default)]
    conclusion: Option<String>,
}

/// `GET /repos/{owner}/{repo}/commits/{sha}/status`, the fields read.
#[derive(Debug, Deserialize)]
pub(super) struct CombinedStatus {
    /// `failure`, `error`, `pending` or `success`; `pending` also when there are no
    /// statuses at all.
    state: String,
    #[serde(default)]
    statuses: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    total_count: Option<u64>,
}

impl CombinedStatus {
    fn has_statuses(&self) -> bool {
        self.total_count.unwrap_or(self.statuses.len() as u64) > 0
    }
}

/// Where a head commit may be found: `owner/repo` upstream, then the fork.
#[derive(Debug, Clone, Copy)]
pub(super) struct CommitHome<'a> {
    /// `conda-forge/zlib-feedstock`.
    pub upstream: &'a str,
    /// `regro-cf-autotick-bot/zlib-feedstock`, when the head lives on a fork.
    pub fork: Option<&'a str>,
}

/// The rolled-up CI status of commit `sha`.
pub(super) fn status(api: &Api, home: CommitHome<'_>, sha: &str) -> Result<CiStatus, ForgeError> {
    let sha = encode(sha);
    let runs: CheckRuns =
        first_found(api, home, &format!("commits/{sha}/check-runs?per_page=100"))?
            .unwrap_or_default();
    let combined: Option<CombinedStatus> =
        first_found(api, home, &format!("commits/{sha}/status"))?;
    Ok(rollup(&runs, combined.as_ref()))
}

/// The body of `GET /repos/<repo>/<tail>` from the first repository of `home` that knows
/// the commit; `None` when neither does (404, or 422 "No commit found").
fn first_found<T: serde::de::DeserializeOwned>(
    api: &Api,
    home: CommitHome<'_>,
    tail: &str,
) -> Result<Option<T>, ForgeError> {
    for repo in std::iter::once(home.upstream).chain(home.fork) {
        let reply = api.get(&format!("/repos/{}/{tail}", encode_repo(repo)))?;
        if not_here(&reply) {
            continue;
        }
        return reply.json().map(Some);
    }
    Ok(None)
}

fn not_here(reply: &Reply) -> bool {
    matches!(reply.status, 404 | 422)
}

/// `owner/repo` with each half percent-encoded.
fn encode_repo(full_name: &str) -> String {
    match full_name.split_once('/') {
        Some((owner, repo)) => format!("{}/{}", encode(owner), encode(repo)),
        None => encode(full_name),
    }
}

/// The rules, worst first: any failed run or a failing combined state fails the PR; any
/// run still going, or a pending combined state that has statuses, makes it pending; a
/// run or status that passed with nothing else makes it passing; nothing at all is none.
fn rollup(runs: &CheckRuns, combined: Option<&CombinedStatus>) -> CiStatus {
    let combined = combined.filter(|c| c.has_statuses());
    let run_failed = runs.check_runs.iter().any(|run| {
        run.status == "completed"
            && run
                .conclusion
                .as_deref()
                .is_some_and(|c| FAILING_CONCLUSIONS.contains(&c))
    });
    let status_failed = combined.is_some_and(|c| matches!(c.state.as_str(), "failure" | "error"));
    if run_failed || status_failed {
        return CiStatus::Failing;
    }
    let run_going = runs.check_runs.iter().any(|run| run.status != "completed");
    let status_going = combined.is_some_and(|c| c.state == "pending");
    if run_going || status_going {
        return CiStatus::Pending;
    }
    let run_passed = runs.check_runs.iter().any(|run| {
        run.conclusion
            .as_deref()
            .is_some_and(|c| PASSING_CONCLUSIONS.contains(&c))
    });
    let status_passed = combined.is_some_and(|c| c.state == "success");
    if run_passed || status_passed {
        CiStatus::Passing
    } else {
        CiStatus::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(list: &[(&str, Option<&str>)]) -> CheckRuns {
        CheckRuns {
            check_runs: list
                .iter()
                .map(|(status, conclusion)| CheckRun {
                    status: (*status).to_owned(),
                    conclusion: conclusion.map(str::to_owned),
                })
                .collect(),
        }
    }

    fn combined(state: &str, count: u64) -> CombinedStatus {
        CombinedStatus {
            state: state.to_owned(),
            statuses: Vec::new(),
            total_count: Some(count),
        }
    }

    macro_rules! rollup_cases {
        ($($name:ident: $runs:expr, $combined:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(rollup(&runs($runs), $combined.as_ref()), $want);
            }
        )*};
    }

    rollup_cases! {
        nothing_reported_is_none: &[], None::<CombinedStatus> => CiStatus::None;
        an_empty_pending_combined_status_is_none: &[], Some(combined("pending", 0)) => CiStatus::None;
        a_pending_combined_status_with_statuses_is_pending: &[], Some(combined("pending", 2)) => CiStatus::Pending;
        one_successful_run_passes: &[("completed", Some("success"))], None::<CombinedStatus> => CiStatus::Passing;
        skipped_and_neutral_runs_pass: &[("completed", Some("skipped")), ("completed", Some("neutral"))], None::<CombinedStatus> => CiStatus::Passing;
        a_queued_run_beside_a_success_is_pending: &[("completed", Some("success")), ("queued", None)], None::<CombinedStatus> => CiStatus::Pending;
        a_failed_run_beats_a_running_one: &[("in_progress", None), ("completed", Some("failure"))], None::<CombinedStatus> => CiStatus::Failing;
        a_timed_out_run_fails: &[("completed", Some("timed_out"))], None::<CombinedStatus> => CiStatus::Failing;
        a_cancelled_run_fails: &[("completed", Some("cancelled"))], None::<CombinedStatus> => CiStatus::Failing;
        a_run_awaiting_action_fails: &[("completed", Some("action_required"))], None::<CombinedStatus> => CiStatus::Failing;
        a_run_that_never_started_fails: &[("completed", Some("startup_failure"))], None::<CombinedStatus> => CiStatus::Failing;
        a_stale_run_alone_is_none: &[("completed", Some("stale"))], None::<CombinedStatus> => CiStatus::None;
        a_failing_combined_status_fails_green_runs: &[("completed", Some("success"))], Some(combined("failure", 1)) => CiStatus::Failing;
        an_erroring_combined_status_fails: &[], Some(combined("error", 1)) => CiStatus::Failing;
        a_successful_combined_status_alone_passes: &[], Some(combined("success", 3)) => CiStatus::Passing;
        a_pending_status_holds_back_green_runs: &[("completed", Some("success"))], Some(combined("pending", 1)) => CiStatus::Pending;
    }

    #[test]
    fn combined_statuses_without_a_total_count_are_counted() {
        let body = r#"{"state":"pending","statuses":[{"state":"pending","context":"ci"}]}"#;
        let parsed: CombinedStatus = serde_json::from_str(body).unwrap();
        assert!(parsed.has_statuses());
        assert_eq!(rollup(&runs(&[]), Some(&parsed)), CiStatus::Pending);
    }

    #[test]
    fn repository_names_are_encoded_half_by_half() {
        assert_eq!(
            encode_repo("conda-forge/zlib-feedstock"),
            "conda-forge/zlib-feedstock"
        );
        assert_eq!(encode_repo("a b/c?d"), "a%20b/c%3Fd");
    }
}
