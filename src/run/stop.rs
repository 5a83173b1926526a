//! Stopping a run early: a spent rate limit (any [`ForgeError::stops_run`]) ends the
//! forge work of the whole run, not just of the feedstock that met it.
//!
//! Every step of the run that talks to the forge returns a [`Flow`] next to what it did:
//! `Continue` to go on, `Break(Stopped)` to skip everything that is left. The node being
//! worked on when the limit struck is not recorded as failed (no attempt error, no
//! back-off): it simply was not reached, and the next run, whose branch names are the
//! same, pushes and opens what is missing. What was recorded before the stop stays: each
//! step commits its own transaction.

use std::ops::ControlFlow;

use serde::Serialize;

use crate::forge::ForgeError;

/// Why a run stopped before its work was done; the next run resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    /// The forge's error, as displayed.
    pub reason: String,
    /// When the limit refills (Unix seconds), when the forge said.
    pub resets_at: Option<i64>,
}

impl Stopped {
    /// The stop a forge error calls for; `None` for an error that concerns one feedstock
    /// only (recorded on it, and the run goes on).
    pub fn from_forge(err: &ForgeError) -> Option<Stopped> {
        if !err.stops_run() {
            return None;
        }
        let resets_at = match err {
            ForgeError::RateLimited { resets_at, .. } => *resets_at,
            _ => None,
        };
        Some(Stopped {
            reason: err.to_string(),
            resets_at,
        })
    }
}

/// Whether a run goes on after a step (`Continue`) or stops now (`Break`).
pub type Flow = ControlFlow<Stopped>;

/// Go on.
pub(super) const GO_ON: Flow = ControlFlow::Continue(());

/// The flow after a forge error: `Break` when it stops the run, else `Continue` with the
/// error handed to `otherwise` (which records it where it belongs).
pub(super) fn stop_or<E>(
    err: ForgeError,
    otherwise: impl FnOnce(ForgeError) -> Result<(), E>,
) -> Result<Flow, E> {
    match Stopped::from_forge(&err) {
        Some(stopped) => {
            tracing::warn!(reason = %stopped.reason, "the forge refuses more work; stopping the run");
            Ok(ControlFlow::Break(stopped))
        }
        None => otherwise(err).map(|()| GO_ON),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limit_stops_the_run_with_its_reset_time() {
        let err = ForgeError::RateLimited {
            message: "GitHub core limit".to_string(),
            resets_at: Some(1_780_000_000),
        };
        let stopped = Stopped::from_forge(&err).unwrap();
        assert_eq!(stopped.resets_at, Some(1_780_000_000));
        assert!(stopped.reason.contains("GitHub core limit"), "{stopped:?}");
    }

    #[test]
    fn other_forge_errors_do_not_stop_the_run() {
        for err in [
            ForgeError::Refused("no".to_string()),
            ForgeError::Auth("bad token".to_string()),
            ForgeError::NoSuchFeedstock("zlib".to_string()),
        ] {
            assert_eq!(Stopped::from_forge(&err), None, "{err}");
        }
    }

    #[test]
    fn stop_or_records_only_errors_that_do_not_stop() {
        let mut recorded = Vec::new();
        let flow = stop_or(ForgeError::Refused("no".to_string()), |err| {
            recorded.push(err.to_string());
            Ok::<(), ()>(())
        });
        assert_eq!(flow, Ok(GO_ON));
        let limited = ForgeError::RateLimited {
            message: "budget".to_string(),
            resets_at: None,
        };
        let flow = stop_or(limited, |err| {
            recorded.push(err.to_string());
            Ok::<(), ()>(())
        });
        assert!(matches!(flow, Ok(ControlFlow::Break(_))), "{flow:?}");
        assert_eq!(recorded.len(), 1, "{recorded:?}");
    }
}
