//! The regions of a `meta.yaml` conda-build scans for an output: the `outputs:` section,
//! each output's own section, the rest of the recipe, the first `requirements:` block.
//! conda-build finds them with regular expressions over the text; these functions do the
//! same by lines.

/// A key is a word made of these characters.
pub(crate) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `outputs:` section: from the first line starting with `outputs:` to the end.
pub(crate) fn outputs_text(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("outputs:") {
            return text.get(offset..).unwrap_or_default();
        }
        offset += line.len();
    }
    ""
}

/// True for a line that starts an output (`  - name:` / `  - type:`); `colon` requires
/// the colon after the keyword (the start pattern does, the stop pattern does not).
fn starts_output(line: &str, colon: bool) -> bool {
    let rest = line.trim_start_matches(' ');
    if rest.len() == line.len() {
        return false;
    }
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let after = rest.trim_start_matches(' ');
    if after.len() == rest.len() {
        return false;
    }
    ["name", "type"]
        .iter()
        .any(|k| match after.strip_prefix(k) {
            Some(tail) => !colon || tail.starts_with(':'),
            None => false,
        })
}

/// The sections of each output in `outputs:` text, in order (conda-build's `output_re`):
/// a section runs from its `- name:` line to the next output, the next top-level key, or
/// the end.
pub(crate) fn output_sections(outputs: &str) -> Vec<&str> {
    let mut sections = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in outputs.split_inclusive('\n') {
        let stops = line.starts_with(is_word) || starts_output(line, false);
        if let Some(s) = start
            && stops
            && offset > s
        {
            sections.push(outputs.get(s..offset).unwrap_or_default());
            start = None;
        }
        if start.is_none() && starts_output(line, true) {
            start = Some(offset);
        }
        offset += line.len();
    }
    if let Some(s) = start {
        sections.push(outputs.get(s..).unwrap_or_default());
    }
    sections
}

/// The recipe without its `outputs:` section (what every output scanned "top level"
/// sees, before its own section is appended).
///
/// conda-build removes the (stripped) `outputs:` text from the (right-stripped) recipe;
/// since that text runs to the end, what remains is everything before it.
pub(crate) fn top_level_text(text: &str) -> String {
    let outputs = outputs_text(text);
    if outputs.trim().is_empty() {
        return text.trim_end().to_string();
    }
    text[..text.len() - outputs.len()].to_string()
}

/// The first `requirements:` block of a text (conda-build's `reqs_re`): it ends at the
/// next top-level key, the next output, or the end.
pub(crate) fn requirements_text(text: &str) -> &str {
    let Some(start) = text.find("requirements:") else {
        return "";
    };
    let rest = text.get(start..).unwrap_or_default();
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if i > 0 {
            let stops = line.starts_with(is_word) || {
                let t = line.trim_start();
                t.len() < line.len()
                    && t.strip_prefix('-').is_some_and(|r| {
                        r.starts_with(char::is_whitespace)
                            && (r[1..].starts_with("name") || r[1..].starts_with("type"))
                    })
            };
            if stops {
                return rest.get(..offset).unwrap_or_default();
            }
        }
        offset += line.len();
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sections_split_at_each_name() {
        let text = "package:\n  name: a\noutputs:\n  - name: x\n    requirements:\n      - y\n  - name: z\nabout:\n  home: h\n";
        let outputs = outputs_text(text);
        let sections = output_sections(outputs);
        assert_eq!(
            sections,
            [
                "  - name: x\n    requirements:\n      - y\n",
                "  - name: z\n"
            ]
        );
        assert_eq!(top_level_text(text), "package:\n  name: a\n");
    }

    #[test]
    fn requirements_block_stops_at_the_next_top_level_key() {
        let text = "requirements:\n  host:\n    - zlib\ntest:\n  requires:\n    - pytest\n";
        assert_eq!(
            requirements_text(text),
            "requirements:\n  host:\n    - zlib\n"
        );
    }
}
