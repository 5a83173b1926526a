//! The progress bar shown while a graph builds: the indicatif side of the library's
//! `BuildReporter`.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::graph::BuildReporter;

/// A bar on stderr counting feedstocks, naming the last one crawled. Drawn only when
/// stderr is a terminal and the caller wants it (never under `--json`).
pub(crate) struct BarReporter {
    bar: ProgressBar,
}

impl BarReporter {
    /// A bar, hidden unless `wanted` and stderr is a terminal.
    pub(crate) fn new(wanted: bool) -> BarReporter {
        let target = if wanted && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {pos}/{len} feedstocks {wide_bar} {msg}")
        {
            bar.set_style(style);
        }
        BarReporter { bar }
    }
}

impl BuildReporter for BarReporter {
    fn start(&self, total: usize) {
        self.bar
            .set_length(u64::try_from(total).unwrap_or(u64::MAX));
    }

    fn advance(&self, feedstock: &str) {
        self.bar.set_message(feedstock.to_string());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
