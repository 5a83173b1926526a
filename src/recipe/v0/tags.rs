//! A small lexer for the Jinja parts of a recipe: where the `{{ }}` and `{% %}` tags are,
//! and the tokens of the expressions inside them (or of a selector).
//!
//! It only has to be good enough to find identifiers and `'...' % x` formatting; the
//! real parsing is minijinja's. It never fails: unterminated tags and strings simply end
//! at the end of the text.

use std::ops::Range;

/// The kind of one expression token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A name: `version`, `compiler`, `and`.
    Ident,
    /// A quoted string literal, quotes included.
    Str,
    /// A number literal.
    Number,
    /// Any operator or bracket; the text says which.
    Punct,
}

/// One token with its byte range in the text it was lexed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    /// What the token is.
    pub(super) kind: TokenKind,
    /// Where it is.
    pub(super) span: Range<usize>,
}

impl Token {
    /// The token's text.
    pub(super) fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.span.clone()).unwrap_or("")
    }
}

/// The byte ranges of the insides of every `{{ ... }}` and `{% ... %}` tag (without
/// the delimiters and whitespace-control markers). Comments and `{% raw %}` blocks are
/// skipped.
pub(super) fn tag_regions(source: &str) -> Vec<Range<usize>> {
    let bytes = source.as_bytes();
    let mut regions = Vec::new();
    let mut i = 0;
    let mut in_raw = false;
    while i + 1 < bytes.len() {
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let close: &[u8] = match bytes[i + 1] {
            b'{' => b"}}",
            b'%' => b"%}",
            b'#' => {
                i = find(bytes, i + 2, b"#}").map_or(bytes.len(), |end| end + 2);
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let mut start = i + 2;
        if matches!(bytes.get(start), Some(b'-' | b'+' | b'~')) {
            start += 1;
        }
        let end = scan_to_close(bytes, start, close);
        let mut inner_end = end;
        if inner_end > start && matches!(bytes.get(inner_end - 1), Some(b'-' | b'+' | b'~')) {
            inner_end -= 1;
        }
        let statement = close == b"%}";
        let keyword = source
            .get(start..inner_end)
            .and_then(|inner| inner.split_whitespace().next())
            .unwrap_or("");
        if in_raw {
            if statement && keyword == "endraw" {
                in_raw = false;
            }
        } else if statement && keyword == "raw" {
            in_raw = true;
        } else {
            regions.push(start..inner_end);
        }
        i = (end + 2).min(bytes.len());
    }
    regions
}

/// The index of the closing delimiter, skipping string literals; the text length when
/// the tag is not closed.
fn scan_to_close(bytes: &[u8], from: usize, close: &[u8]) -> usize {
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') => i = skip_string(bytes, i, quote),
            _ if bytes[i..].starts_with(close) => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index just past a string literal starting at `start` (backslash escapes honoured).
fn skip_string(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Two-character operators, so that `==` is not read as `=` (a keyword argument).
const TWO_CHAR_OPS: [&[u8]; 6] = [b"==", b"!=", b"<=", b">=", b"//", b"**"];

/// Tokens of one expression (or statement) text.
pub(super) fn tokens(expr: &str) -> Vec<Token> {
    let bytes = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        let kind = if b.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            TokenKind::Ident
        } else if b.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
                i += 1;
            }
            if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
            }
            TokenKind::Number
        } else if b == b'"' || b == b'\'' {
            i = skip_string(bytes, i, b);
            TokenKind::Str
        } else {
            let two = bytes.get(i..i + 2);
            i += if two.is_some_and(|t| TWO_CHAR_OPS.contains(&t)) {
                2
            } else {
                // Step over a whole UTF-8 character.
                expr.get(i..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8)
            };
            TokenKind::Punct
        };
        out.push(Token {
            kind,
            span: start..i.min(bytes.len()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(source: &str) -> Vec<&str> {
        tag_regions(source)
            .into_iter()
            .map(|r| &source[r])
            .collect()
    }

    fn texts(expr: &str) -> Vec<&str> {
        tokens(expr).iter().map(|t| t.text(expr)).collect()
    }

    #[test]
    fn regions_cover_expressions_and_statements() {
        assert_eq!(
            regions("a {{ x }} b {%- set y = 1 -%} {# c {{ z }} #}"),
            vec![" x ", " set y = 1 "]
        );
    }

    #[test]
    fn closing_delimiter_inside_a_string_does_not_end_the_tag() {
        assert_eq!(regions("{{ '}}' ~ x }}"), vec![" '}}' ~ x "]);
    }

    #[test]
    fn raw_blocks_are_skipped() {
        assert_eq!(regions("{% raw %}{{ x }}{% endraw %}{{ y }}"), vec![" y "]);
    }

    #[test]
    fn unterminated_tag_runs_to_the_end() {
        assert_eq!(regions("{{ x"), vec![" x"]);
    }

    #[test]
    fn tokens_split_operators_strings_and_names() {
        assert_eq!(
            texts("pin_subpackage('a' ~ b, exact=True) == 1.5"),
            vec![
                "pin_subpackage",
                "(",
                "'a'",
                "~",
                "b",
                ",",
                "exact",
                "=",
                "True",
                ")",
                "==",
                "1.5"
            ]
        );
    }

    #[test]
    fn non_ascii_punctuation_is_one_token() {
        assert_eq!(texts("x ≠ y"), vec!["x", "≠", "y"]);
    }
}
