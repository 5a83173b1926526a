//! `.ci_support/*.yaml` file names and contents, byte for byte as conda-smithy writes
//! them with PyYAML (reference §2.8–2.9).
//!
//! Keys are sorted, every value is a list, `pin_run_as_build` is a nested mapping and
//! `zip_keys` a list of lists. Scalars follow PyYAML's rules: plain unless a YAML 1.1
//! reader would take them for something other than a string (then single quotes), with
//! lines folded at spaces past column 80.

use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

use super::combine::JobConfig;

/// PyYAML's `best_width`.
const WIDTH: usize = 80;

/// PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one of these is not
/// a string, so a string with this text must be quoted.
static IMPLICIT: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
        r"^(?:<<)$",
        r"^(?:~|null|Null|NULL|)$",
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        r"^(?:=)$",
    ]
    .iter()
    .map(|p| Regex::new(p).unwrap_or_else(|e| unreachable!("resolver pattern is valid: {e}")))
    .collect()
});

/// How PyYAML would write a string scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn style_of(text: &str) -> Style {
    if text.is_empty() || IMPLICIT.iter().any(|r| r.is_match(text)) {
        return Style::Single;
    }
    let chars: Vec<char> = text.chars().collect();
    let special = chars.iter().any(|c| !(c.is_ascii_graphic() || *c == ' '));
    if special {
        return Style::Double;
    }
    if text.starts_with("---") || text.starts_with("...") {
        return Style::Single;
    }
    if chars.first() == Some(&' ') || chars.last() == Some(&' ') {
        return Style::Single;
    }
    for (i, c) in chars.iter().enumerate() {
        let followed_by_space = chars.get(i + 1).is_none_or(|n| *n == ' ');
        let preceded_by_space = i == 0 || chars.get(i - 1) == Some(&' ');
        let indicator = if i == 0 {
            "#,[]{}&*!|>'\"%@`".contains(*c) || (matches!(c, '?' | ':' | '-') && followed_by_space)
        } else {
            (*c == ':' && followed_by_space) || (*c == '#' && preceded_by_space)
        };
        if indicator {
            return Style::Single;
        }
    }
    Style::Plain
}

/// Writes text word by word from `column`, breaking at single spaces once the column
/// passes the width (PyYAML `write_plain` / `write_single_quoted`).
fn fold(out: &mut String, text: &str, mut column: usize, indent: usize, quoted: bool) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    let mut spaces = false;
    let mut end = 0;
    while end <= chars.len() {
        let ch = chars.get(end).copied();
        if spaces {
            if ch != Some(' ') {
                let may_break = if quoted {
                    start != 0 && end != chars.len()
                } else {
                    true
                };
                if start + 1 == end && column > WIDTH && may_break {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent));
                    column = indent;
                } else {
                    let piece: String = chars[start..end].iter().collect();
                    column += end - start;
                    out.push_str(&piece);
                }
                start = end;
            }
        } else if (ch.is_none() || ch == Some(' ') || (quoted && ch == Some('\''))) && start < end {
            let piece: String = chars[start..end].iter().collect();
            column += end - start;
            out.push_str(&piece);
            start = end;
        }
        if quoted && ch == Some('\'') {
            out.push_str("''");
            column += 2;
            start = end + 1;
        }
        spaces = ch == Some(' ');
        end += 1;
    }
    column
}

/// Writes one scalar that starts at `column`; continuation lines get `indent` spaces.
fn scalar(out: &mut String, text: &str, column: usize, indent: usize) {
    if text == "true" || text == "false" {
        out.push_str(text);
        return;
    }
    match style_of(text) {
        Style::Plain => {
            fold(out, text, column, indent, false);
        }
        Style::Single => {
            out.push('\'');
            fold(out, text, column + 1, indent, true);
            out.push('\'');
        }
        Style::Double => {
            out.push('"');
            for c in text.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    c if c.is_ascii_graphic() || c == ' ' => out.push(c),
                    c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02X}", c as u32)),
                    c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
                    c => out.push_str(&format!("\\U{:08X}", c as u32)),
                }
            }
            out.push('"');
        }
    }
}

/// A mapping key (variant keys and package names are plain).
fn key(out: &mut String, text: &str) {
    if style_of(text) == Style::Plain {
        out.push_str(text);
    } else {
        scalar(out, text, 0, 0);
    }
    out.push(':');
}

/// The file content of one job.
pub(crate) fn render(job: &JobConfig) -> String {
    let mut entries: Vec<(&str, Entry<'_>)> = job
        .values
        .iter()
        .map(|(k, v)| (k.as_str(), Entry::List(v)))
        .collect();
    if !job.pin_run_as_build.is_empty() {
        entries.push(("pin_run_as_build", Entry::Pins));
    }
    if !job.zip_keys.is_empty() {
        entries.push(("zip_keys", Entry::Zip));
    }
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (name, entry) in entries {
        key(&mut out, name);
        match entry {
            Entry::List([]) => out.push_str(" []\n"),
            Entry::List(values) => {
                out.push('\n');
                for value in values {
                    out.push_str("- ");
                    scalar(&mut out, value, 2, 2);
                    out.push('\n');
                }
            }
            Entry::Pins => {
                out.push('\n');
                for (package, pin) in &job.pin_run_as_build {
                    out.push_str("  ");
                    key(&mut out, package);
                    out.push('\n');
                    let mut settings: Vec<(&String, &String)> = pin.iter().collect();
                    settings.sort_by(|a, b| b.0.cmp(a.0));
                    for (name, value) in settings {
                        out.push_str("    ");
                        key(&mut out, name);
                        out.push(' ');
                        scalar(&mut out, value, 6 + name.len(), 4);
                        out.push('\n');
                    }
                }
            }
            Entry::Zip => {
                out.push('\n');
                for group in &job.zip_keys {
                    for (i, k) in group.iter().enumerate() {
                        out.push_str(if i == 0 { "- - " } else { "  - " });
                        scalar(&mut out, k, 4, 4);
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

enum Entry<'a> {
    List(&'a [String]),
    Pins,
    Zip,
}

/// The longest file stem smithy keeps for a repository name of length zero, per CI
/// service: the stem, twice the repository name and the service's fixed path parts
/// must fit a Windows path. Fitted on rust-activation-feedstock (the only real case with
/// shortened names: 171 characters on GitHub Actions, 175 on Azure, for a 25-character
/// repository name); the repository name counts twice, as in the runner's
/// `<work>/<repo>/<repo>/.ci_support/<name>.yaml`.
fn stem_budget(provider: &str) -> usize {
    match provider {
        "azure" => 225,
        _ => 221,
    }
}

/// The file stem: `<target>_<key>` where the key concatenates the top-level loop
/// variables (sorted, `target_platform` excluded) with their first value; `*` and space
/// become `_` and `< > : ? * , " / | \` are dropped. A name whose Windows path would be
/// too long is cut and suffixed with a hash of the full name.
pub(crate) fn file_stem(
    target: &str,
    job: &JobConfig,
    loop_vars: &[&str],
    repo: &str,
    provider: &str,
) -> String {
    let mut key = String::new();
    for var in loop_vars {
        if *var == "target_platform" {
            continue;
        }
        key.push_str(var);
        if let Some(value) = job.values.get(*var).and_then(|v| v.first()) {
            key.push_str(value);
        }
    }
    let key: String = key
        .replace(['*', ' '], "_")
        .chars()
        .filter(|c| !"<>:?*,\"/|\\".contains(*c))
        .collect();
    let name = format!("{target}_{key}");
    let budget = stem_budget(provider).saturating_sub(2 * repo.len());
    if name.len() <= budget {
        return name;
    }
    let hash = hex::encode(Sha256::digest(name.as_bytes()));
    let keep = budget.saturating_sub(10);
    let prefix: String = name.chars().take(keep).collect();
    format!("{prefix}_h{}", &hash[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        let mut out = String::new();
        scalar(&mut out, text, 2, 2);
        out
    }

    #[test]
    fn scalars_are_quoted_like_pyyaml() {
        let cases = [
            ("14", "'14'"),
            ("2.17", "'2.17'"),
            ("*", "'*'"),
            ("0.40.1", "0.40.1"),
            ("2025.11.05", "2025.11.05"),
            ("None", "None"),
            ("x.x", "x.x"),
            ("3.12.* *_cpython", "3.12.* *_cpython"),
            ("conda-forge main", "conda-forge main"),
            (
                "quay.io/condaforge/linux-anvil-x86_64:alma10",
                "quay.io/condaforge/linux-anvil-x86_64:alma10",
            ),
            ("True", "'True'"),
            ("yes", "'yes'"),
            ("true", "true"),
            ("", "''"),
            ("a: b", "'a: b'"),
            ("1e3", "1e3"),
            ("1.0e+3", "'1.0e+3'"),
            ("?a", "?a"),
            ("a:", "'a:'"),
        ];
        for (text, want) in cases {
            assert_eq!(one(text), want, "{text}");
        }
    }

    #[test]
    fn long_plain_scalars_fold_at_spaces_past_column_80() {
        let text = format!("{} {}", "a".repeat(79), "b".repeat(10));
        assert_eq!(
            one(&text),
            format!("{}\n  {}", "a".repeat(79), "b".repeat(10))
        );
    }

    #[test]
    fn files_sort_keys_and_nest_pins_and_zips() {
        let mut job = JobConfig::default();
        job.values
            .insert("python".into(), vec!["3.12.* *_cpython".into()]);
        job.values
            .insert("is_freethreading".into(), vec!["false".into()]);
        job.values
            .insert("MACOSX_SDK_VERSION".into(), vec!["11.0".into()]);
        job.zip_keys = vec![vec!["python".into(), "is_freethreading".into()]];
        job.pin_run_as_build.insert(
            "python".into(),
            [
                ("min_pin".to_string(), "x.x".to_string()),
                ("max_pin".to_string(), "x.x".to_string()),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            render(&job),
            "MACOSX_SDK_VERSION:\n- '11.0'\nis_freethreading:\n- false\npin_run_as_build:\n  \
             python:\n    min_pin: x.x\n    max_pin: x.x\npython:\n- 3.12.* *_cpython\n\
             zip_keys:\n- - python\n  - is_freethreading\n"
        );
    }

    #[test]
    fn file_names_concatenate_loop_variables() {
        let mut job = JobConfig::default();
        job.values
            .insert("python".into(), vec!["3.14.* *_cp314t".into()]);
        job.values
            .insert("is_freethreading".into(), vec!["true".into()]);
        assert_eq!(
            file_stem(
                "osx_arm64",
                &job,
                &["is_freethreading", "python", "target_platform"],
                "numpy-feedstock",
                "azure"
            ),
            "osx_arm64_is_freethreadingtruepython3.14.____cp314t"
        );
        assert_eq!(
            file_stem(
                "linux_64",
                &job,
                &["target_platform"],
                "zlib-feedstock",
                "azure"
            ),
            "linux_64_"
        );
    }
}
