//! A variant file read once and selected for many platforms.
//!
//! A rerender reads the pinning (and the local config and each migration) once per
//! platform, with a different selector outcome each time. A [`Prepared`] text splits its
//! lines, compiles each distinct selector and breaks the block YAML into logical lines
//! once; selecting it for a platform then evaluates each selector once and builds the
//! tree from the kept lines. The result is exactly `load(select_lines(text, ns))`: when
//! the text (or the kept subset) is outside the fast YAML subset, that is what runs.

use super::lines::{SelectorError, select_lines, split_line};
use super::load::{Line, Node, YamlError, build, fast_split, load};
use super::selector::{Compiled, Namespace};

/// Why a prepared text could not be loaded for a platform.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PreparedError {
    /// A selector failed.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// The selected text is not YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
}

/// One selector and the first line it appears on (for errors).
#[derive(Debug)]
struct Selector {
    text: String,
    line: usize,
    compiled: Compiled,
}

/// A text ready to be selected for many namespaces.
#[derive(Debug)]
pub(crate) struct Prepared {
    text: String,
    /// Logical lines with the index of their selector; `None` when the text is outside
    /// the fast subset (every selection then takes the slow path).
    lines: Option<Vec<(Line, Option<usize>)>>,
    selectors: Vec<Selector>,
}

impl Prepared {
    /// Splits and compiles a text.
    pub(crate) fn new(text: &str) -> Prepared {
        let mut selectors: Vec<Selector> = Vec::new();
        let mut lines: Option<Vec<(Line, Option<usize>)>> = Some(Vec::new());
        let mut logical = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let split = split_line(raw);
            let selector =
                split.selector.map(
                    |s| match selectors.iter().position(|known| known.text == s) {
                        Some(i) => i,
                        None => {
                            selectors.push(Selector {
                                text: s.to_string(),
                                line: index + 1,
                                compiled: Compiled::new(s),
                            });
                            selectors.len() - 1
                        }
                    },
                );
            let Some(out) = lines.as_mut() else {
                continue;
            };
            logical.clear();
            if fast_split(&split.content, &mut logical).is_none() {
                lines = None;
                continue;
            }
            out.extend(logical.drain(..).map(|l| (l, selector)));
        }
        Prepared {
            text: text.to_string(),
            lines,
            selectors,
        }
    }

    /// The text selected for `ns` and loaded: `load(select_lines(text, ns))`.
    pub(crate) fn load(&self, ns: &Namespace) -> Result<Option<Node>, PreparedError> {
        let mut keep = Vec::with_capacity(self.selectors.len());
        for selector in &self.selectors {
            let value = ns
                .eval_compiled(&selector.compiled)
                .map_err(|message| SelectorError {
                    line: selector.line,
                    selector: selector.text.clone(),
                    message,
                })?;
            keep.push(value);
        }
        if let Some(lines) = &self.lines {
            let kept: Vec<&Line> = lines
                .iter()
                .filter(|(_, s)| s.is_none_or(|s| keep.get(s).copied().unwrap_or(false)))
                .map(|(l, _)| l)
                .collect();
            if let Some(node) = build(&kept) {
                return Ok(node);
            }
        }
        let selected = select_lines(&self.text, ns)?;
        Ok(load(&selected)?)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::pinning::namespace::{SmithyEnv, platform_namespace};

    /// Every pinning and migration of the data set, for several platforms: the prepared
    /// path gives what selecting and parsing the text gives.
    #[test]
    fn prepared_texts_load_like_selecting_then_parsing() {
        let root = Path::new("../shared/data/rerender-cases/pinning");
        if !root.is_dir() {
            eprintln!("skipping: ../shared/data is absent");
            return;
        }
        let platforms = [
            ("linux-64", "linux-64", true),
            ("linux-aarch64", "linux-64", false),
            ("osx-arm64", "osx-64", false),
            ("win-64", "win-64", true),
        ];
        let mut checked = 0;
        let mut snapshots: Vec<_> = fs_err::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        snapshots.sort();
        for snapshot in snapshots.iter().step_by(7) {
            let mut files = vec![snapshot.join("conda_build_config.yaml")];
            for entry in fs_err::read_dir(snapshot.join("migrations")).unwrap() {
                files.push(entry.unwrap().path());
            }
            for file in files {
                let text = fs_err::read_to_string(&file).unwrap();
                let prepared = Prepared::new(&text);
                for (subdir, build, cuda) in platforms {
                    let env = SmithyEnv {
                        build_platform: build.to_string(),
                        default_linux_version: None,
                        cuda_enabled: cuda,
                    };
                    let ns = platform_namespace(subdir, &env);
                    let slow = select_lines(&text, &ns)
                        .map_err(|e| e.to_string())
                        .and_then(|t| load(&t).map_err(|e| e.to_string()));
                    let fast = prepared.load(&ns).map_err(|e| e.to_string());
                    assert_eq!(fast, slow, "{} on {subdir}", file.display());
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "checked {checked}");
    }
}
