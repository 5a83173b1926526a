//! Escaping for the two places the site writes markup by hand instead of through
//! minijinja's autoescape: SVG text and attributes, and JSON embedded in a `<script>`
//! element. Everything else reaches HTML through the templates, which escape.

use std::borrow::Cow;

/// Escapes `& < > " '` so the text is inert in XML/HTML text and quoted attributes.
pub(crate) fn xml(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Makes serialized JSON safe inside `<script type="application/json">`: `<`, `>` and
/// `&` only occur inside JSON strings, where `\u003c` and friends mean the same, so no
/// `</script>` or `<!--` can end the element early. U+2028/U+2029 are escaped too, for
/// old JavaScript parsers.
pub(crate) fn json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_entities() {
        assert_eq!(
            xml(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
        assert!(matches!(xml("numpy"), Cow::Borrowed("numpy")));
    }

    #[test]
    fn embedded_json_cannot_close_its_script_element_and_still_parses() {
        let value = serde_json::json!({"name": "</script><script>alert(1)</script>&"});
        let safe = json_for_script(&value.to_string());
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }
}
