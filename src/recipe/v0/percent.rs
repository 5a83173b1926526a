//! Python `%`-formatting (`'%03d' % minor`, `"python%s" % py`) for recipe Jinja.
//!
//! Jinja2 evaluates `%` with Python semantics, so a string on the left formats; minijinja
//! only knows the numeric remainder. Recipes in the corpus (boost, sqlite) use the string
//! form, so before compiling we rewrite `<string literal> % <operand>` inside Jinja tags
//! into `<string literal>|PERCENT_FILTER(<operand>)`. A filter binds tighter than `%`
//! and `~`, which keeps Python's precedence for these forms. The rewrite never adds or
//! removes a newline, so template line numbers stay those of the recipe.

use std::borrow::Cow;

use minijinja::formatting::{FormatStyle, format};
use minijinja::{Error, Value};

use super::tags::{Token, TokenKind, tag_regions, tokens};

/// The internal filter name the rewrite calls.
pub(super) const PERCENT_FILTER: &str = "cascade_percent_format";

/// Rewrites every `'literal' % operand` inside Jinja tags. Nested uses are handled by
/// repeating the pass a few times.
pub(super) fn rewrite(source: &str) -> Cow<'_, str> {
    let mut current = Cow::Borrowed(source);
    for _ in 0..8 {
        match rewrite_once(&current) {
            Some(next) => current = Cow::Owned(next),
            None => break,
        }
    }
    current
}

fn rewrite_once(source: &str) -> Option<String> {
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for region in tag_regions(source) {
        let Some(inner) = source.get(region.clone()) else {
            continue;
        };
        let toks = tokens(inner);
        let mut idx = 1;
        while idx < toks.len() {
            let is_percent = toks[idx].kind == TokenKind::Punct && toks[idx].text(inner) == "%";
            if is_percent
                && toks[idx - 1].kind == TokenKind::Str
                && let Some(last) = operand_end(inner, &toks, idx + 1)
            {
                let operand = inner
                    .get(toks[idx + 1].span.start..toks[last].span.end)
                    .unwrap_or("");
                edits.push((
                    region.start + toks[idx].span.start,
                    region.start + toks[last].span.end,
                    format!("|{PERCENT_FILTER}({operand})"),
                ));
                idx = last + 1;
                continue;
            }
            idx += 1;
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(source.len() + edits.len() * 32);
    let mut at = 0;
    for (start, end, replacement) in edits {
        out.push_str(source.get(at..start)?);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(source.get(at..)?);
    Some(out)
}

/// The index of the last token of the operand starting at `first`: an optional sign, a
/// primary (name, literal or bracketed group) and its postfixes (`.attr`, `[i]`, `(...)`,
/// `|filter(...)`).
fn operand_end(src: &str, toks: &[Token], first: usize) -> Option<usize> {
    let punct = |i: usize, text: &str| {
        toks.get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text(src) == text)
    };
    let mut i = first;
    if punct(i, "-") || punct(i, "+") {
        i += 1;
    }
    let primary = toks.get(i)?;
    let mut last = match primary.kind {
        TokenKind::Ident | TokenKind::Number | TokenKind::Str => i,
        TokenKind::Punct if matches!(primary.text(src), "(" | "[" | "{") => {
            matching_close(src, toks, i)?
        }
        TokenKind::Punct => return None,
    };
    loop {
        let next = last + 1;
        if punct(next, ".")
            && toks
                .get(next + 1)
                .is_some_and(|t| t.kind == TokenKind::Ident)
        {
            last = next + 1;
        } else if punct(next, "[") || punct(next, "(") {
            last = matching_close(src, toks, next)?;
        } else if punct(next, "|")
            && toks
                .get(next + 1)
                .is_some_and(|t| t.kind == TokenKind::Ident)
        {
            last = next + 1;
            if punct(last + 1, "(") {
                last = matching_close(src, toks, last + 1)?;
            }
        } else {
            return Some(last);
        }
    }
}

/// The index of the bracket closing the one at `open`.
fn matching_close(src: &str, toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open) {
        if tok.kind != TokenKind::Punct {
            continue;
        }
        match tok.text(src) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The filter behind the rewrite: `fmt % args` with Python's printf rules. A sequence
/// (Python tuple) supplies one argument per item.
pub(super) fn percent_format(fmt: String, args: Value) -> Result<String, Error> {
    let items: Vec<Value> = match args.kind() {
        minijinja::value::ValueKind::Seq => args.try_iter()?.collect(),
        _ => vec![args],
    };
    format(FormatStyle::Printf, &fmt, &items)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! rewrite_case {
        ($($test:ident: $source:expr => $expected:expr;)*) => {$(
            #[test]
            fn $test() {
                let expected = $expected.replace("PF", PERCENT_FILTER);
                assert_eq!(rewrite($source), expected);
            }
        )*};
    }

    rewrite_case! {
        simple_name_operand_is_rewritten: "{% set x = \"python%s\" % py %}" => "{% set x = \"python%s\" |PF(py) %}";
        operand_stops_at_a_closing_paren: "{{ ((\"%03d\" % minor)|string) }}" => "{{ ((\"%03d\" |PF(minor))|string) }}";
        tuple_operand_is_kept_whole: "{{ '%s-%s' % (a, b) }}" => "{{ '%s-%s' |PF((a, b)) }}";
        postfix_chain_belongs_to_the_operand: "{{ '%s' % x.split('.')[0]|int ~ 'y' }}" => "{{ '%s' |PF(x.split('.')[0]|int) ~ 'y' }}";
        numeric_modulo_is_untouched: "{{ 7 % 2 }}" => "{{ 7 % 2 }}";
        text_outside_tags_is_untouched: "a: '%s' % x" => "a: '%s' % x";
        nested_formatting_is_rewritten_inside_out: "{{ '%s' % ('%d' % n) }}" => "{{ '%s' |PF(('%d' |PF(n))) }}";
    }

    #[test]
    fn rewritten_templates_format_like_python() {
        let mut env = minijinja::Environment::new();
        env.add_filter(PERCENT_FILTER, percent_format);
        let source = rewrite(
            "{% set v = \"%03d\" % 40 %}{{ '3' ~ v ~ ('%03d' % 200) }} {{ 'python%s' % 312 }} {{ '%s-%s' % ('a', 'b') }}",
        );
        assert_eq!(
            env.render_str(&source, ()).unwrap(),
            "3040200 python312 a-b"
        );
    }
}
