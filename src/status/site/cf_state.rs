//! The six states of conda-forge's status page, and how cascade's richer states map onto
//! them.
//!
//! conda-forge's page (and everything that scrapes its JSON) knows `done`, `in-pr`,
//! `awaiting-pr`, `awaiting-parents`, `not-solvable` and `bot-error` (reference §6.2).
//! cascade says more; the mapping keeps each richer state in the column a person
//! reading conda-forge's page would look for it:
//!
//! | cascade [`State`] | conda-forge state | why |
//! | --- | --- | --- |
//! | `done`, `done-declined`, `done-nothing-to-do` | `done` | cf-scripts calls every closed PR done, merged or not, spoofed ones included |
//! | `partial` | `done` | the bot's work on it is finished (cf-scripts would see a closed PR); the missing platforms are a maintainer's call, shown on cascade's own pages |
//! | `in-pr` (any CI / mergeability) | `in-pr` | |
//! | `awaiting-pr` (next run, PR limit, back-off, paused) | `awaiting-pr` | nothing in the graph holds it; the bot has not opened its PR yet |
//! | `awaiting-parents` (parents, close-out, `wait_for_migrators`) | `awaiting-parents` | cf-scripts also files `wait_for_migrators` nodes here |
//! | `not-solvable` | `not-solvable` | |
//! | `bot-error` | `bot-error` | |
//! | `excluded` | — | not a member of the migration graph, so in no array |

use crate::status::model::State;

/// A state of conda-forge's status page. The order is the order of its arrays and
/// colours in reference §6.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CfState {
    /// `done`.
    Done,
    /// `in-pr`.
    InPr,
    /// `awaiting-pr`.
    AwaitingPr,
    /// `awaiting-parents`.
    AwaitingParents,
    /// `not-solvable`.
    NotSolvable,
    /// `bot-error`.
    BotError,
}

impl CfState {
    /// Every state, in the order of the status page.
    pub const ALL: [CfState; 6] = [
        CfState::Done,
        CfState::InPr,
        CfState::AwaitingPr,
        CfState::AwaitingParents,
        CfState::NotSolvable,
        CfState::BotError,
    ];

    /// The array name in `migration_json/<name>.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            CfState::Done => "done",
            CfState::InPr => "in-pr",
            CfState::AwaitingPr => "awaiting-pr",
            CfState::AwaitingParents => "awaiting-parents",
            CfState::NotSolvable => "not-solvable",
            CfState::BotError => "bot-error",
        }
    }

    /// A short label for people.
    pub fn label(self) -> &'static str {
        match self {
            CfState::Done => "done",
            CfState::InPr => "in PR",
            CfState::AwaitingPr => "awaiting PR",
            CfState::AwaitingParents => "awaiting parents",
            CfState::NotSolvable => "not solvable",
            CfState::BotError => "bot error",
        }
    }

    /// The fill colour conda-forge's migration graph uses (reference §6.3).
    pub fn colour(self) -> &'static str {
        match self {
            CfState::Done => "#440154",
            CfState::InPr => "#31688e",
            CfState::AwaitingPr => "#35b779",
            CfState::AwaitingParents => "#fde725",
            CfState::NotSolvable => "#ff8c00",
            CfState::BotError => "#000000",
        }
    }

    /// A text colour readable on [`CfState::colour`].
    pub fn text_colour(self) -> &'static str {
        match self {
            CfState::Done | CfState::InPr | CfState::BotError => "#ffffff",
            CfState::AwaitingPr | CfState::AwaitingParents | CfState::NotSolvable => "#111111",
        }
    }

    /// The position in [`CfState::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Where a cascade state goes on conda-forge's page; `None` for `excluded` (see the
    /// module docs for the table).
    pub fn of(state: State) -> Option<CfState> {
        Some(match state {
            State::Done | State::DoneDeclined | State::DoneNothingToDo | State::Partial => {
                CfState::Done
            }
            State::InPr => CfState::InPr,
            State::AwaitingPr => CfState::AwaitingPr,
            State::AwaitingParents => CfState::AwaitingParents,
            State::NotSolvable => CfState::NotSolvable,
            State::BotError => CfState::BotError,
            State::Excluded => return None,
        })
    }
}

/// Every cascade state, for looking one up by its serialized name.
const STATES: [State; 10] = [
    State::Done,
    State::DoneDeclined,
    State::DoneNothingToDo,
    State::Partial,
    State::InPr,
    State::AwaitingPr,
    State::AwaitingParents,
    State::NotSolvable,
    State::BotError,
    State::Excluded,
];

/// The CSS state class (`done`, `in-pr`, ..., `excluded`) of a cascade state given by
/// its serialized name, as the templates see it; unknown names get `excluded` (grey).
pub(crate) fn class_of(state: &str) -> &'static str {
    STATES
        .iter()
        .find(|s| s.as_str() == state)
        .and_then(|s| CfState::of(*s))
        .map_or("excluded", CfState::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_done_variant_lands_in_done_and_excluded_in_no_array() {
        for state in [
            State::Done,
            State::DoneDeclined,
            State::DoneNothingToDo,
            State::Partial,
        ] {
            assert_eq!(CfState::of(state), Some(CfState::Done), "{state:?}");
        }
        assert_eq!(CfState::of(State::Excluded), None);
    }

    #[test]
    fn each_remaining_state_keeps_its_own_name() {
        for state in [
            State::InPr,
            State::AwaitingPr,
            State::AwaitingParents,
            State::NotSolvable,
            State::BotError,
        ] {
            let cf = CfState::of(state).unwrap();
            assert_eq!(cf.as_str(), state.as_str());
        }
    }

    #[test]
    fn template_classes_follow_the_mapping() {
        assert_eq!(class_of("done-declined"), "done");
        assert_eq!(class_of("awaiting-pr"), "awaiting-pr");
        assert_eq!(class_of("excluded"), "excluded");
        assert_eq!(class_of("<script>"), "excluded");
    }

    #[test]
    fn the_order_of_all_matches_the_index() {
        for (i, state) in CfState::ALL.iter().enumerate() {
            assert_eq!(state.index(), i);
        }
    }
}
