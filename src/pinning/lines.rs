//! Selector lines (`text  # [expr]`): splitting a line into content and selector the way
//! conda-build's regex does, and applying selectors to a whole text (reference §2.2).
//!
//! The expression language itself lives in `selector.rs`; texts read for many platforms
//! are split once in `prepared.rs`.

use std::collections::HashMap;

use super::selector::{Compiled, Namespace};

/// The end of a `[...]` group starting at `open`: the first `]` after at least one
/// character, with no `[` in between.
fn close_bracket(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b']' if i > open + 1 => return Some(i),
            b']' | b'[' => return None,
            _ => i += 1,
        }
    }
    None
}

/// conda-build's selector pattern `(.+?)\s*(#.*)?\[([^\[\]]+)\](?(2)[^\(\)]*)$`,
/// matched by hand: the shortest content, optional whitespace, then either a comment
/// holding the last `[...]` that only parenthesis-free text follows, or a `[...]` that
/// ends the line. Returns (content end, selector start, selector end).
fn match_selector(line: &str) -> Option<(usize, usize, usize)> {
    let bytes = line.as_bytes();
    let n = bytes.len();
    for p in 1..n {
        if !line.is_char_boundary(p) {
            continue;
        }
        let mut q = p;
        while q < n && bytes[q].is_ascii_whitespace() {
            q += 1;
        }
        match bytes.get(q) {
            Some(b'#') => {
                for open in (q + 1..n).rev() {
                    if bytes[open] != b'[' {
                        continue;
                    }
                    if let Some(end) = close_bracket(bytes, open)
                        && !bytes[end + 1..].iter().any(|c| matches!(c, b'(' | b')'))
                    {
                        return Some((p, open + 1, end));
                    }
                }
            }
            Some(b'[') => {
                if let Some(end) = close_bracket(bytes, q)
                    && end == n - 1
                {
                    return Some((p, q + 1, end));
                }
            }
            _ => {}
        }
    }
    None
}

/// One line split into its content and selector expression (if any).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SplitLine<'a> {
    /// The line without the selector comment (a trailing quote is kept).
    pub(crate) content: std::borrow::Cow<'a, str>,
    /// The selector expression.
    pub(crate) selector: Option<&'a str>,
}

/// Splits a line as conda-build's `_split_line_selector` does. Comment lines and blank
/// lines have no selector.
pub(crate) fn split_line(line: &str) -> SplitLine<'_> {
    let line = line.trim_end();
    let plain = SplitLine {
        content: std::borrow::Cow::Borrowed(line),
        selector: None,
    };
    if line.is_empty() || line.trim_start().starts_with('#') {
        return plain;
    }
    if !(line.contains('[') && line.contains(']')) {
        return plain;
    }
    let Some((content_end, start, end)) = match_selector(line) else {
        return plain;
    };
    let mut content = line[..content_end].to_string();
    let selector = &line[start..end];
    if let Some(quote) = line.chars().last().filter(|c| *c == '\'' || *c == '"') {
        content.push(quote);
    }
    SplitLine {
        content: std::borrow::Cow::Owned(content),
        selector: Some(selector),
    }
}

/// Applies selectors to a text (conda-build `select_lines`): a line whose selector is false
/// is dropped, a true one loses its selector comment, other lines stay. Evaluation errors
/// name the expression.
pub(crate) fn select_lines(text: &str, ns: &Namespace) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(text.len());
    let mut cache: HashMap<&str, bool> = HashMap::new();
    for (index, line) in text.lines().enumerate() {
        let split = split_line(line);
        let keep = match split.selector {
            None => true,
            Some(selector) => match cache.get(selector) {
                Some(keep) => *keep,
                None => {
                    let keep = ns.eval(selector).map_err(|message| SelectorError {
                        line: index + 1,
                        selector: selector.to_string(),
                        message,
                    })?;
                    cache.insert(selector, keep);
                    keep
                }
            },
        };
        if keep {
            out.push_str(&split.content);
            out.push('\n');
        }
    }
    Ok(out)
}

/// A text whose selector lines are split and compiled once, to be selected for many
/// namespaces: [`SelectableText::select`] of an [`SelectableText::outcome`] is
/// `select_lines(text, ns)`.
#[derive(Debug)]
pub(crate) struct SelectableText {
    /// Each line without its selector, and the index of its selector.
    lines: Vec<(String, Option<usize>)>,
    /// Distinct selectors: text, first line, compiled form.
    selectors: Vec<(String, usize, Compiled)>,
}

impl SelectableText {
    /// Splits a text.
    pub(crate) fn new(text: &str) -> SelectableText {
        let mut selectors: Vec<(String, usize, Compiled)> = Vec::new();
        let mut lines = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let split = split_line(line);
            let selector = split.selector.map(|s| {
                selectors
                    .iter()
                    .position(|(known, _, _)| known == s)
                    .unwrap_or_else(|| {
                        selectors.push((s.to_string(), index + 1, Compiled::new(s)));
                        selectors.len() - 1
                    })
            });
            lines.push((split.content.into_owned(), selector));
        }
        SelectableText { lines, selectors }
    }

    /// Which selectors hold in `ns`.
    pub(crate) fn outcome(&self, ns: &Namespace) -> Result<Vec<bool>, SelectorError> {
        self.selectors
            .iter()
            .map(|(text, line, compiled)| {
                ns.eval_compiled(compiled).map_err(|message| SelectorError {
                    line: *line,
                    selector: text.clone(),
                    message,
                })
            })
            .collect()
    }

    /// The text with the lines an outcome rejects dropped.
    pub(crate) fn select(&self, outcome: &[bool]) -> String {
        let mut out = String::new();
        for (content, selector) in &self.lines {
            if selector.is_none_or(|s| outcome.get(s).copied().unwrap_or(false)) {
                out.push_str(content);
                out.push('\n');
            }
        }
        out
    }
}

/// A selector that could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: selector `[{selector}]` cannot be evaluated: {message}")]
pub struct SelectorError {
    /// The 1-based line of the selector.
    pub line: usize,
    /// The selector expression.
    pub selector: String,
    /// What went wrong.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinning::selector::PyValue;

    #[test]
    fn a_selectable_text_selects_like_select_lines() {
        let text = "a:\n  - 1  # [linux]\n  - 2  # [win]\n  - 3  # [linux]\n# c [win]\n";
        let prepared = SelectableText::new(text);
        let ns = linux64();
        let outcome = prepared.outcome(&ns).unwrap();
        assert_eq!(outcome.len(), 2);
        assert_eq!(prepared.select(&outcome), select_lines(text, &ns).unwrap());
    }

    fn linux64() -> Namespace {
        let mut ns = Namespace::default();
        ns.set("linux", PyValue::Bool(true));
        ns.set("win", PyValue::Bool(false));
        ns
    }

    #[test]
    fn lines_split_like_conda_build() {
        assert_eq!(split_line("  - 14   # [linux]").selector, Some("linux"));
        assert_eq!(split_line("  - 14   # [linux]").content, "  - 14");
        assert_eq!(
            split_line("  - gcc # comment [linux] trailing").selector,
            Some("linux")
        );
        assert_eq!(split_line("# [linux]").selector, None);
        assert_eq!(split_line("key: value").selector, None);
        assert_eq!(split_line("  - x  # [a] (b)").selector, None);
        assert_eq!(split_line("a [b] # [c]").selector, Some("c"));
        assert_eq!(split_line("a [b] # [c]").content, "a [b]");
        assert_eq!(split_line("  - '1.2'  # [osx]'").content, "  - '1.2''");
        assert_eq!(split_line("x: [1, 2]").content, "x:");
    }

    #[test]
    fn false_selectors_drop_their_lines() {
        let text = "a:\n  - 1  # [linux]\n  - 2  # [win]\n";
        assert_eq!(select_lines(text, &linux64()).as_deref(), Ok("a:\n  - 1\n"));
    }
}
