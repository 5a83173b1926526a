//! The text patch behind lenient spec parsing of v1 recipes (see `Template::render`).

/// Appends `.*` after the last `}}` of a 1-based line, when nothing but a comment follows
/// it: `- python ${{ python_min }}  # min` becomes `- python ${{ python_min }}.*  # min`.
/// `None` when the line does not exist or does not end in a template.
pub(super) fn append_glob_to_line(text: &str, line: usize) -> Option<String> {
    let index = line.checked_sub(1)?;
    let mut lines: Vec<&str> = text.split('\n').collect();
    let original = *lines.get(index)?;
    let end = original.rfind("}}")? + 2;
    let (head, tail) = original.split_at(end);
    let rest = tail.trim_start();
    if !(rest.is_empty() || rest.starts_with('#') || rest == "\r") {
        return None;
    }
    let patched = format!("{head}.*{tail}");
    if let Some(slot) = lines.get_mut(index) {
        *slot = &patched;
        return Some(lines.join("\n"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_template_gets_the_glob() {
        let text = "a:\n  - python ${{ python_min }}  # min\n";
        assert_eq!(
            append_glob_to_line(text, 2).as_deref(),
            Some("a:\n  - python ${{ python_min }}.*  # min\n")
        );
    }

    #[test]
    fn a_line_with_text_after_the_template_is_left_alone() {
        assert_eq!(append_glob_to_line("- foo ${{ v }} bar\n", 1), None);
        assert_eq!(append_glob_to_line("- foo\n", 1), None);
        assert_eq!(append_glob_to_line("- foo\n", 9), None);
        assert_eq!(append_glob_to_line("- foo\n", 0), None);
    }
}
