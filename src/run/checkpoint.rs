//! Numbered points of a run where it may die, for the crash-safety tests.
//!
//! The run loop calls [`reached`] after every step that changes something outside the
//! process (a push, a PR created or closed, a store write). When the environment variable
//! `CASCADE_KILL_AT_CHECKPOINT=N` is set, the N-th checkpoint sends the process SIGKILL —
//! the same signal an out-of-memory killer or a cancelled CI job delivers, with no chance
//! to clean up. Tests use it to prove that a rerun after a kill at any step opens no
//! duplicate PR and leaves the store consistent. Without the variable this is a counter.

use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the checkpoint to die at.
pub const KILL_AT_ENV: &str = "CASCADE_KILL_AT_CHECKPOINT";

static REACHED: AtomicU64 = AtomicU64::new(0);

/// Marks a checkpoint; dies here when the environment says so. `what` names the step
/// in the trace log.
pub fn reached(what: &str) {
    let n = REACHED.fetch_add(1, Ordering::SeqCst) + 1;
    tracing::trace!(checkpoint = n, what, "checkpoint");
    let target = std::env::var(KILL_AT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    if target == Some(n) {
        die();
    }
}

/// How many checkpoints this process has passed.
pub fn count() -> u64 {
    REACHED.load(Ordering::SeqCst)
}

#[cfg(unix)]
fn die() {
    // SAFETY: kill(2) on our own pid with a valid signal number has no memory effects.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn die() {
    std::process::abort();
}
