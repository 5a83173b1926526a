//! Where values are written: the byte range of a YAML scalar's content, and the
//! `# [selector]` comment of a line.

use std::sync::LazyLock;

use regex::Regex;

use super::error::Problem;
use super::rewrite::Slot;
use crate::recipe::edit::spanned::{Spanned, scalar_token_end};

/// conda-build's selector comment: `# [expr]` at the end of a line (text without
/// parentheses may follow the bracket).
static SELECTOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)#.*\[([^\[\]]+)\][^()\[\]]*$")
        .unwrap_or_else(|_| unreachable!("static pattern"))
});

/// The selector of a line, trimmed (`None` without one).
pub(super) fn selector_of(line: &str) -> Option<String> {
    SELECTOR
        .captures(line)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The content slot of a single-line scalar node: inside its quotes when quoted.
/// `token_text` decides where the token ends (the masked text for v0, whose Jinja
/// cannot end a token early); it has the same byte offsets as the recipe text.
pub(super) fn scalar_slot(recipe: &str, token_text: &str, node: &Spanned) -> Result<Slot, Problem> {
    let start = node.pos.offset;
    let line = node.pos.line;
    let end = scalar_token_end(token_text, start);
    let token = recipe.get(start..end).unwrap_or_default();
    if token.starts_with(['|', '>']) {
        return Err(Problem::ValueNotEditable { line });
    }
    let quoted = token.len() >= 2
        && ((token.starts_with('"') && token.ends_with('"'))
            || (token.starts_with('\'') && token.ends_with('\'')));
    Ok(if quoted {
        Slot {
            start: start + 1,
            end: end - 1,
            line,
        }
    } else {
        Slot { start, end, line }
    })
}

/// The text of a slot.
pub(super) fn slot_text(recipe: &str, slot: Slot) -> &str {
    recipe.get(slot.start..slot.end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_read_from_trailing_comments() {
        assert_eq!(selector_of("  url: a  # [win]").as_deref(), Some("win"));
        assert_eq!(
            selector_of("  sha256: b  # [osx and arm64] note").as_deref(),
            Some("osx and arm64")
        );
        assert_eq!(selector_of("  url: https://x/#frag"), None);
        assert_eq!(selector_of("  url: a"), None);
    }
}
