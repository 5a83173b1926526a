//! The request budget: GitHub's primary limits as the responses report them, and
//! cascade's own limit on content-creating requests (per minute: wait; per hour: stop).
//!
//! The existing bot had no global budget and stopped outright on "API rate limit
//! exceeded" (reference §5.5). Here every content-creating request is admitted one at a
//! time, spaced, and logged in the forge's database, so the hourly limit holds across
//! runs; running out yields [`ForgeError::RateLimited`], which stops the run cleanly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use super::config::Limits;
use super::state::State;
use crate::forge::ForgeError;

/// Which of GitHub's primary limits a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Resource {
    /// REST.
    Core,
    /// GraphQL (points, not requests).
    Graphql,
}

impl Resource {
    fn parse(name: &str) -> Option<Resource> {
        match name {
            "core" => Some(Resource::Core),
            "graphql" => Some(Resource::Graphql),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Graphql => "graphql",
        }
    }
}

/// What GitHub last said about a primary limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reported {
    /// Requests (or points) left.
    pub remaining: u32,
    /// When it refills (Unix seconds).
    pub reset: i64,
}

/// The shared budget of one forge.
#[derive(Debug)]
pub(super) struct Budget {
    limits: Limits,
    state: Arc<State>,
    /// Serialises content-creating requests (GitHub asks for them one at a time).
    creating: Mutex<Option<i64>>,
    reported: Mutex<HashMap<Resource, Reported>>,
}

impl Budget {
    /// A budget over the forge's ledger.
    pub fn new(limits: Limits, state: Arc<State>) -> Budget {
        Budget {
            limits,
            state,
            creating: Mutex::new(None),
            reported: Mutex::new(HashMap::new()),
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Before any request: refuses when GitHub's limit for `resource` is down to the
    /// reserve and has not refilled yet.
    pub fn admit(&self, resource: Resource) -> Result<(), ForgeError> {
        let reported = self
            .reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&resource)
            .copied();
        if let Some(r) = reported
            && r.remaining <= self.limits.core_reserve
            && r.reset > now_ms() / 1000
        {
            return Err(ForgeError::RateLimited {
                message: format!(
                    "GitHub's {} limit is down to {} (reserve {})",
                    resource.as_str(),
                    r.remaining,
                    self.limits.core_reserve
                ),
                resets_at: Some(r.reset),
            });
        }
        Ok(())
    }

    /// Before a content-creating request: waits out the spacing and the per-minute
    /// window (when that is within `max_wait_secs`), refuses when the hourly budget is
    /// spent, then logs the request.
    pub fn admit_create(&self) -> Result<(), ForgeError> {
        let mut last = self.creating.lock().unwrap_or_else(|e| e.into_inner());
        let now = now_ms();
        let hour = self.state.creates_since(now - 3_600_000)?;
        let per_hour = self.limits.creates_per_hour as usize;
        if hour.len() >= per_hour {
            let frees_at = hour
                .get(hour.len() - per_hour.max(1))
                .map_or(now, |at| at + 3_600_000);
            return Err(ForgeError::RateLimited {
                message: format!(
                    "cascade's budget of {} content-creating requests per hour is spent",
                    self.limits.creates_per_hour
                ),
                resets_at: Some(frees_at / 1000),
            });
        }
        let per_minute = self.limits.creates_per_minute as usize;
        let minute: Vec<i64> = hour.into_iter().filter(|at| *at >= now - 60_000).collect();
        let mut wait_until = now;
        if minute.len() >= per_minute {
            wait_until = minute
                .get(minute.len() - per_minute.max(1))
                .map_or(now, |at| at + 60_000);
            let wait = u64::try_from(wait_until - now).unwrap_or(0);
            if wait > self.limits.max_wait_secs.saturating_mul(1000) {
                return Err(ForgeError::RateLimited {
                    message: format!(
                        "cascade's budget of {} content-creating requests per minute is spent",
                        self.limits.creates_per_minute
                    ),
                    resets_at: Some(wait_until / 1000),
                });
            }
        }
        if let Some(previous) = *last {
            let spacing = i64::try_from(self.limits.create_spacing_ms).unwrap_or(i64::MAX);
            wait_until = wait_until.max(previous.saturating_add(spacing));
        }
        let wait = u64::try_from(wait_until - now).unwrap_or(0);
        if wait > 0 {
            tracing::debug!(wait_ms = wait, "spacing content-creating requests");
            std::thread::sleep(Duration::from_millis(wait));
        }
        let at = now_ms();
        self.state.record_create(at)?;
        *last = Some(at);
        Ok(())
    }

    /// Takes in the `X-RateLimit-*` headers of a response.
    pub fn observe(&self, headers: &HeaderMap) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(remaining), Some(reset)) = (
            header("x-ratelimit-remaining").and_then(|v| v.parse::<u32>().ok()),
            header("x-ratelimit-reset").and_then(|v| v.parse::<i64>().ok()),
        ) else {
            return;
        };
        let resource = header("x-ratelimit-resource")
            .and_then(Resource::parse)
            .unwrap_or(Resource::Core);
        self.reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(resource, Reported { remaining, reset });
    }

    /// What GitHub last reported for `resource`.
    pub fn reported(&self, resource: Resource) -> Option<Reported> {
        self.reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&resource)
            .copied()
    }
}

/// Unix milliseconds now.
pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limits: Limits) -> (tempfile::TempDir, Budget) {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(State::open(&dir.path().join("github.sqlite")).unwrap());
        (dir, Budget::new(limits, state))
    }

    fn quick(per_minute: u32, per_hour: u32) -> Limits {
        Limits {
            creates_per_minute: per_minute,
            creates_per_hour: per_hour,
            create_spacing_ms: 0,
            max_wait_secs: 0,
            ..Limits::default()
        }
    }

    #[test]
    fn the_hourly_budget_stops_with_the_time_it_frees() {
        let (_dir, budget) = budget(quick(100, 3));
        for _ in 0..3 {
            budget.admit_create().unwrap();
        }
        match budget.admit_create() {
            Err(ForgeError::RateLimited { message, resets_at }) => {
                assert!(
                    message.contains("3 content-creating requests per hour"),
                    "{message}"
                );
                let in_an_hour = now_ms() / 1000 + 3600;
                assert!(resets_at.unwrap() <= in_an_hour && resets_at.unwrap() >= in_an_hour - 5);
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn a_full_minute_window_longer_than_the_longest_wait_stops() {
        let (_dir, budget) = budget(quick(2, 100));
        budget.admit_create().unwrap();
        budget.admit_create().unwrap();
        assert!(matches!(
            budget.admit_create(),
            Err(ForgeError::RateLimited { .. })
        ));
    }

    #[test]
    fn spacing_makes_creates_wait() {
        let (_dir, budget) = budget(Limits {
            create_spacing_ms: 150,
            ..quick(100, 100)
        });
        let start = std::time::Instant::now();
        budget.admit_create().unwrap();
        budget.admit_create().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(140));
    }

    #[test]
    fn a_limit_at_the_reserve_refuses_until_it_resets() {
        let (_dir, budget) = budget(Limits {
            core_reserve: 10,
            ..Limits::default()
        });
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "10".parse().unwrap());
        let reset = now_ms() / 1000 + 600;
        headers.insert("x-ratelimit-reset", reset.to_string().parse().unwrap());
        headers.insert("x-ratelimit-resource", "core".parse().unwrap());
        budget.observe(&headers);
        assert!(matches!(
            budget.admit(Resource::Core),
            Err(ForgeError::RateLimited { resets_at: Some(r), .. }) if r == reset
        ));
        assert!(budget.admit(Resource::Graphql).is_ok());
        headers.insert("x-ratelimit-remaining", "11".parse().unwrap());
        budget.observe(&headers);
        assert!(budget.admit(Resource::Core).is_ok());
    }
}
