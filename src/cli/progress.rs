//! The progress bars of long commands: one way to make a bar that is drawn only where a
//! person watches, and the indicatif side of the library's `BuildReporter`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::graph::BuildReporter;

/// A bar on stderr counting feedstocks, naming the last one crawled. Drawn only when
/// stderr is a terminal and the caller wants it (never under `--json`).
pub(crate) struct BarReporter {
    bar: ProgressBar,
}

/// The template of a bar counting feedstocks and naming the last one.
pub(crate) const FEEDSTOCKS: &str = "{spinner} {pos}/{len} feedstocks {wide_bar} {msg}";

/// A bar on stderr in `template`'s style, hidden unless `wanted` (never under `--json`)
/// and stderr is a terminal.
pub(crate) fn bar(wanted: bool, template: &str) -> ProgressBar {
    let target = if wanted && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(None, target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Sets a bar's length from a count.
pub(crate) fn set_length(bar: &ProgressBar, total: usize) {
    bar.set_length(u64::try_from(total).unwrap_or(u64::MAX));
}

impl BarReporter {
    /// A bar, hidden unless `wanted` and stderr is a terminal.
    pub(crate) fn new(wanted: bool) -> BarReporter {
        BarReporter {
            bar: bar(wanted, FEEDSTOCKS),
        }
    }
}

impl BuildReporter for BarReporter {
    fn start(&self, total: usize) {
        set_length(&self.bar, total);
    }

    fn advance(&self, feedstock: &str) {
        self.bar.set_message(feedstock.to_string());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
