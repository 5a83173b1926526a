//! The demo's maintainers: between two runs of the bot they look at the open PRs, CI
//! reports on each, and they merge most green ones, close a few unmerged, and now and
//! then ask for a `bot-rerun`. Seeded, so a demo is reproducible.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::forge::local::{LocalForge, PrFilter};
use crate::forge::{CiStatus, ForgeError, PrState};

/// What the maintainers did in one round.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Round {
    /// PRs merged.
    pub merged: usize,
    /// PRs closed without merging.
    pub closed: usize,
    /// PRs labelled `bot-rerun`.
    pub reruns: usize,
    /// PRs left open (CI red, or not looked at yet).
    pub left_open: usize,
}

/// How the maintainers behave.
#[derive(Debug, Clone, Copy)]
pub(super) struct Habits {
    /// Chance that CI passes on a PR.
    pub ci_passes: f64,
    /// Chance that a green PR gets merged this round.
    pub merge: f64,
    /// Chance that a PR is closed unmerged ("not needed here").
    pub close: f64,
    /// Chance that a red PR gets the `bot-rerun` label.
    pub rerun: f64,
}

impl Default for Habits {
    fn default() -> Self {
        Habits {
            ci_passes: 0.9,
            merge: 0.75,
            close: 0.04,
            rerun: 0.3,
        }
    }
}

/// Plays one round of maintainers over every open PR, in number order.
pub(super) fn play(forge: &LocalForge, habits: Habits, seed: u64) -> Result<Round, ForgeError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut round = Round::default();
    let open = forge.list_prs(&PrFilter {
        state: Some(PrState::Open),
        ..PrFilter::default()
    })?;
    for pr in open {
        if pr.ci == CiStatus::None || pr.ci == CiStatus::Pending {
            let status = if rng.random_bool(habits.ci_passes) {
                CiStatus::Passing
            } else {
                CiStatus::Failing
            };
            forge.set_ci(pr.number, status)?;
        }
        let pr = forge.pr_by_number(pr.number)?;
        if rng.random_bool(habits.close) {
            forge.close(pr.number)?;
            round.closed += 1;
        } else if pr.ci == CiStatus::Passing && rng.random_bool(habits.merge) {
            match forge.merge(pr.number) {
                Ok(_) => round.merged += 1,
                // A conflicted PR stays open; the bot remakes it on its next run.
                Err(_) => round.left_open += 1,
            }
        } else if pr.ci == CiStatus::Failing && rng.random_bool(habits.rerun) {
            forge.label(pr.number, crate::run::BOT_RERUN_LABEL)?;
            round.reruns += 1;
        } else {
            round.left_open += 1;
        }
    }
    Ok(round)
}
