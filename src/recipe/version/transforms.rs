//! URL template transforms: the candidate URLs tried when a source's template, rendered
//! with the new version, does not download (reference §4.4 `gen_transformed_urls`, tests
//! §8.6).
//!
//! Seven mungers, each a function from a template to a few rewritten templates:
//! - the `{{ version }}`, `{{ name }}` and `{{ name[0] }}` spellings normalised to
//!   `{{ x }}` (`{{x}}`, `{{x }}`, and ruamel's `<{x}}` / `<<{x}}`);
//! - `v{{ version` ↔ `{{ version`;
//! - the GitHub swap between `/releases/download/v{{ version }}/` and `/archive/`, adding or
//!   removing the `{{ name }}-` that release assets carry and archives do not;
//! - PyPI file-name forms: `{{ name }}` ↔ its `replace`/`lower` filter forms (PEP 625
//!   sdists are named `name_with_underscores`, often lowercased), and a literal project
//!   name ↔ `{{ name }}` and its normalised spellings;
//! - the archive extension among `.tar.gz .zip .tar .tar.bz2 .tar.xz .tgz`.
//!
//! [`transformed_urls`] returns the closure of the template under all mungers, without
//! duplicates, nearest first: the template itself, then every template one munger away,
//! then two, and so on. The bot iterates a Python set (no order); a breadth-first order
//! tries the smallest change first, and the munger order (normalise, `v`, GitHub, PyPI,
//! extension) prefers keeping the archive format.

use std::collections::{HashSet, VecDeque};

/// The archive extensions the extension munger swaps among.
pub(super) const EXTENSIONS: [&str; 6] = [".tar.gz", ".zip", ".tar", ".tar.bz2", ".tar.xz", ".tgz"];

/// The most templates one closure may produce (the mungers are finite, so this only
/// guards against a pathological template).
const MAX_TEMPLATES: usize = 2_000;

type Munger = fn(&str) -> Vec<String>;

/// The mungers in the order their results are tried.
const MUNGERS: [Munger; 7] = [
    version_spelling,
    name_spelling,
    initial_spelling,
    v_prefix,
    github,
    pypi_name,
    extension,
];

/// Every template reachable from `template` through the mungers, the template itself
/// first, then by number of munger steps.
pub fn transformed_urls(template: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut order = Vec::new();
    let mut queue = VecDeque::from([template.to_string()]);
    seen.insert(template.to_string());
    while let Some(url) = queue.pop_front() {
        order.push(url.clone());
        for munger in MUNGERS {
            for next in munger(&url) {
                if seen.len() >= MAX_TEMPLATES {
                    return order.into_iter().chain(queue).collect();
                }
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
    }
    order
}

fn version_spelling(url: &str) -> Vec<String> {
    spelling(url, "version")
}

fn name_spelling(url: &str) -> Vec<String> {
    spelling(url, "name")
}

fn initial_spelling(url: &str) -> Vec<String> {
    spelling(url, "name[0]")
}

/// `{{field}}`, `{{field }}`, `<{field}}` and `<<{field}}` (ruamel's jinja2 mode writes the
/// last two) become `{{ field }}`.
fn spelling(url: &str, field: &str) -> Vec<String> {
    let new = format!("{{{{ {field} }}}}");
    let mut out = Vec::new();
    for space in ["", " "] {
        let current = format!("<{{{field}{space}}}}}");
        let doubled = format!("<<{{{field}{space}}}}}");
        if url.contains(&current) && !url.contains(&doubled) {
            out.push(url.replace(&current, &new));
        }
    }
    for space in ["", " "] {
        let doubled = format!("<<{{{field}{space}}}}}");
        if url.contains(&doubled) {
            out.push(url.replace(&doubled, &new));
        }
    }
    for space in ["", " "] {
        let braces = format!("{{{{{field}{space}}}}}");
        if url.contains(&braces) {
            out.push(url.replace(&braces, &new));
        }
    }
    out
}

/// `v{{ version` ↔ `{{ version`.
fn v_prefix(url: &str) -> Vec<String> {
    const WITH_V: &str = "v{{ v";
    const WITHOUT_V: &str = "{{ v";
    let mut out = Vec::new();
    if url.contains(WITH_V) {
        out.push(url.replace(WITH_V, WITHOUT_V));
    }
    if url.contains(WITHOUT_V) && !url.contains(WITH_V) {
        out.push(url.replace(WITHOUT_V, WITH_V));
    }
    out
}

/// GitHub release assets ↔ tag archives.
fn github(url: &str) -> Vec<String> {
    const RELEASE: &str = "/releases/download/v{{ version }}/";
    const ARCHIVE: &str = "/archive/";
    const NAME: &str = "{{ name }}-";
    if !url.contains("github.com") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if url.contains(RELEASE) {
        let archive = url.replace(RELEASE, ARCHIVE);
        let named = format!("{ARCHIVE}{NAME}");
        if archive.contains(&named) {
            out.push(archive.replace(&named, ARCHIVE));
        }
        out.push(archive);
    } else if let Some(at) = url.find(ARCHIVE) {
        let (head, tail) = url.split_at(at);
        let rest = tail.get(ARCHIVE.len()..).unwrap_or_default();
        let rest = rest.strip_prefix("refs/tags/").unwrap_or(rest);
        out.push(format!("{head}{RELEASE}{rest}"));
        if !rest.starts_with(NAME) {
            out.push(format!("{head}{RELEASE}{NAME}{rest}"));
        }
    }
    out
}

/// The spellings of a PyPI project name in an sdist file name: as written, with `-` or
/// `.` turned into `_` (PEP 625), and lowercased.
pub(super) const NAME_FORMS: [&str; 6] = [
    "{{ name | replace('-', '_') }}",
    "{{ name | replace('_', '-') }}",
    "{{ name | replace('.', '_') }}",
    "{{ name | lower }}",
    "{{ name | lower | replace('-', '_') }}",
    "{{ name | lower | replace('.', '_') }}",
];

/// Other spellings of name forms found in recipes; each goes back to `{{ name }}`.
const NAME_SPELLINGS: [&str; 10] = [
    "{{ name|replace('-', '_') }}",
    "{{ name.replace('-', '_') }}",
    "{{ name|replace('-','_') }}",
    "{{ name|replace('_', '-') }}",
    "{{ name.replace('_', '-') }}",
    "{{ name|replace('_','-') }}",
    "{{ name|replace('.', '_') }}",
    "{{ name.replace('.', '_') }}",
    "{{ name|lower }}",
    "{{ name.lower() }}",
];

/// Whether a template downloads from PyPI.
pub(super) fn is_pypi(url: &str) -> bool {
    [
        "pypi.io",
        "pypi.org",
        "pypi.python.org",
        "files.pythonhosted.org",
    ]
    .iter()
    .any(|host| url.contains(host))
}

/// PyPI sdist name forms, in the file name (the last path segment) only.
fn pypi_name(url: &str) -> Vec<String> {
    if !is_pypi(url) {
        return Vec::new();
    }
    let Some((base, file)) = url.rsplit_once('/') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |file: String| out.push(format!("{base}/{file}"));
    if file.contains("{{ name }}") {
        for form in NAME_FORMS {
            push(file.replace("{{ name }}", form));
        }
        return out;
    }
    for spelling in NAME_FORMS.iter().chain(NAME_SPELLINGS.iter()) {
        if file.contains(spelling) {
            push(file.replace(spelling, "{{ name }}"));
            return out;
        }
    }
    // A literal project name before `-{{ version }}`: the template form and the PEP 625
    // spellings of the literal.
    if let Some(at) = file.find("-{{ version }}")
        && let Some(literal) = file.get(..at)
        && !literal.is_empty()
        && !literal.contains("{{")
    {
        let rest = file.get(at..).unwrap_or_default();
        let normalised: String = literal
            .chars()
            .map(|c| if matches!(c, '-' | '.') { '_' } else { c })
            .collect();
        for name in [
            "{{ name }}".to_string(),
            normalised.clone(),
            literal.to_lowercase(),
            normalised.to_lowercase(),
        ] {
            if name != literal {
                push(format!("{name}{rest}"));
            }
        }
    }
    out
}

/// Swaps the archive extension.
fn extension(url: &str) -> Vec<String> {
    let Some(old) = EXTENSIONS.iter().find(|ext| url.ends_with(*ext)) else {
        return Vec::new();
    };
    let stem = url.get(..url.len() - old.len()).unwrap_or_default();
    EXTENSIONS
        .iter()
        .filter(|ext| *ext != old)
        .map(|ext| format!("{stem}{ext}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn set(template: &str) -> BTreeSet<String> {
        transformed_urls(template).into_iter().collect()
    }

    fn expected(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_bare_version_gains_spaces_and_a_v_prefix() {
        assert_eq!(
            set("{{version}}"),
            expected(&["{{version}}", "{{ version }}", "v{{ version }}"])
        );
        assert_eq!(
            set("<{version}}"),
            expected(&["<{version}}", "{{ version }}", "v{{ version }}"])
        );
        assert_eq!(
            set("<<{version}}"),
            expected(&["<<{version}}", "{{ version }}", "v{{ version }}"])
        );
    }

    #[test]
    fn mixed_name_and_version_spellings_give_six_templates() {
        assert_eq!(
            set("{{name}}{{version}}"),
            expected(&[
                "{{name}}{{version}}",
                "{{ name }}{{version}}",
                "{{name}}{{ version }}",
                "{{ name }}{{ version }}",
                "{{name}}v{{ version }}",
                "{{ name }}v{{ version }}",
            ])
        );
    }

    #[test]
    fn an_archive_name_gives_all_six_extensions() {
        assert_eq!(
            set("blah.tar.gz"),
            expected(&[
                "blah.tar.gz",
                "blah.zip",
                "blah.tar",
                "blah.tar.bz2",
                "blah.tar.xz",
                "blah.tgz"
            ])
        );
    }

    #[test]
    fn extensions_times_v_prefix_give_twelve() {
        let all = set("blah-{{ version }}.tar.gz");
        assert_eq!(all.len(), 12, "{all:?}");
        assert!(all.contains("blah-v{{ version }}.tgz"));
        assert!(all.contains("blah-{{ version }}.zip"));
    }

    #[test]
    fn the_template_itself_comes_first_and_single_steps_before_double() {
        let order = transformed_urls("blah-v{{ version }}.zip");
        assert_eq!(order[0], "blah-v{{ version }}.zip");
        let one = order
            .iter()
            .position(|u| u == "blah-{{ version }}.zip")
            .unwrap();
        let two = order
            .iter()
            .position(|u| u == "blah-{{ version }}.tar.gz")
            .unwrap();
        assert!(one < two);
    }

    #[test]
    fn a_github_release_asset_becomes_a_tag_archive() {
        let all = set(
            "https://github.com/o/r/releases/download/v{{ version }}/{{ name }}-{{ version }}.tar.gz",
        );
        assert!(all.contains("https://github.com/o/r/archive/v{{ version }}.tar.gz"));
        assert!(all.contains("https://github.com/o/r/archive/{{ name }}-{{ version }}.tar.gz"));
        let back = set("https://github.com/o/r/archive/v{{ version }}.tar.gz");
        assert!(back.contains(
            "https://github.com/o/r/releases/download/v{{ version }}/{{ name }}-{{ version }}.tar.gz"
        ));
    }

    #[test]
    fn github_mungers_leave_other_hosts_alone() {
        assert!(github("https://gitlab.com/o/r/archive/v{{ version }}.tar.gz").is_empty());
    }

    #[test]
    fn pypi_templates_gain_the_pep_625_name_forms() {
        let all = set(
            "https://pypi.io/packages/source/{{ name[0] }}/{{ name }}/{{ name }}-{{ version }}.tar.gz",
        );
        assert!(all.contains(
            "https://pypi.io/packages/source/{{ name[0] }}/{{ name }}/{{ name | replace('-', '_') }}-{{ version }}.tar.gz"
        ));
        assert!(all.contains(
            "https://pypi.io/packages/source/{{ name[0] }}/{{ name }}/{{ name | lower | replace('-', '_') }}-{{ version }}.tar.gz"
        ));
        let back = set(
            "https://pypi.io/packages/source/d/dash/{{ name|replace('-', '_') }}-{{ version }}.tar.gz",
        );
        assert!(
            back.contains("https://pypi.io/packages/source/d/dash/{{ name }}-{{ version }}.tar.gz")
        );
    }

    #[test]
    fn a_literal_pypi_project_name_gains_its_template_and_normalised_forms() {
        let all = set("https://pypi.org/packages/source/P/PyYAML/PyYAML-{{ version }}.tar.gz");
        assert!(
            all.contains(
                "https://pypi.org/packages/source/P/PyYAML/{{ name }}-{{ version }}.tar.gz"
            )
        );
        assert!(
            all.contains("https://pypi.org/packages/source/P/PyYAML/pyyaml-{{ version }}.tar.gz")
        );
        let dotted = set(
            "https://pypi.org/packages/source/z/zope.interface/zope.interface-{{ version }}.tar.gz",
        );
        assert!(dotted.contains(
            "https://pypi.org/packages/source/z/zope.interface/zope_interface-{{ version }}.tar.gz"
        ));
    }

    #[test]
    fn non_pypi_urls_get_no_name_forms() {
        assert!(pypi_name("https://example.org/{{ name }}-{{ version }}.tar.gz").is_empty());
    }
}
