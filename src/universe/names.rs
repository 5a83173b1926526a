//! Made-up package names that look like conda-forge's: `pykorvex`, `libdalmira`,
//! `tamsol-utils`. Unique within one universe and deterministic from the random stream.

use std::collections::HashSet;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "zen", "tor", "vex", "qua", "bel", "dor", "fin", "gal", "hex", "jun",
    "kor", "lum", "mar", "nex", "ori", "pol", "quin", "rus", "sol", "tam", "ul", "vor", "wex",
    "yar", "zo", "ash", "bri", "cor", "dal", "eno", "fyr", "gri", "hal", "isk", "jor", "kel",
    "lin", "mos", "nor", "oth", "pim", "ren", "sar", "tiv", "umb", "val",
];

const PYTHON_SUFFIXES: &[&str] = &[
    "", "", "", "", "-utils", "-client", "-core", "-plugin", "-cli",
];
const LIBRARY_SUFFIXES: &[&str] = &["", "", "", "", "-cpp", "-c", "kit"];

/// The family a name is drawn for; each has conda-forge's usual spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameStyle {
    /// Python packages: `korvex`, `pykorvex`, `korvex-utils`.
    Python,
    /// C/C++ libraries: `libdalmira`, `dalmira-cpp`.
    Library,
    /// Compiled command-line tools: `dalmira`.
    Tool,
}

/// Hands out unique names. Names already taken (the hubs) are never produced again.
pub(crate) struct NameGenerator {
    taken: HashSet<String>,
}

impl NameGenerator {
    /// A generator that avoids `reserved` (and every name it hands out).
    pub(crate) fn new<'a>(reserved: impl IntoIterator<Item = &'a str>) -> NameGenerator {
        NameGenerator {
            taken: reserved.into_iter().map(str::to_string).collect(),
        }
    }

    /// A fresh name in the given style.
    pub(crate) fn next(&mut self, rng: &mut ChaCha8Rng, style: NameStyle) -> String {
        let mut attempt = 0usize;
        loop {
            attempt += 1;
            let mut stem = String::new();
            let syllables = if attempt < 4 {
                rng.random_range(2..=3)
            } else {
                4
            };
            for _ in 0..syllables {
                stem.push_str(SYLLABLES[rng.random_range(0..SYLLABLES.len())]);
            }
            let mut name = match style {
                NameStyle::Python => {
                    let prefix = if rng.random_bool(0.15) { "py" } else { "" };
                    let suffix = PYTHON_SUFFIXES[rng.random_range(0..PYTHON_SUFFIXES.len())];
                    format!("{prefix}{stem}{suffix}")
                }
                NameStyle::Library => {
                    let prefix = if rng.random_bool(0.5) { "lib" } else { "" };
                    let suffix = LIBRARY_SUFFIXES[rng.random_range(0..LIBRARY_SUFFIXES.len())];
                    format!("{prefix}{stem}{suffix}")
                }
                NameStyle::Tool => stem,
            };
            if attempt > 16 {
                name.push_str(&attempt.to_string());
            }
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }

    /// Marks extra names (the outputs of a multi-output feedstock) as taken.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    /// True when the name is already in use.
    pub(crate) fn is_taken(&self, name: &str) -> bool {
        self.taken.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn names_are_unique_and_valid_feedstock_names() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut names = NameGenerator::new(["zlib", "numpy"]);
        let mut seen = HashSet::new();
        for i in 0..30_000 {
            let style = [NameStyle::Python, NameStyle::Library, NameStyle::Tool][i % 3];
            let name = names.next(&mut rng, style);
            assert!(
                crate::feedstock::FeedstockName::new(name.clone()).is_ok(),
                "{name}"
            );
            assert!(seen.insert(name.clone()), "duplicate {name}");
            assert!(name != "zlib" && name != "numpy");
        }
    }
}
