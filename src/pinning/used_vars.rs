//! Which variant keys a v0 `meta.yaml` output "uses", the way conda-build decides it
//! (reference §2.6): by scanning recipe text line by line, not by looking at a parse tree.
//!
//! The text scanned for an output is its own section of `outputs:` (an output named
//! like the package, and a recipe without outputs, also get the top level). Selector
//! comments are scanned in the raw text; Jinja uses, bare requirement lines and `{% if %}`
//! conditions in the text after the variant's selectors are applied. Keys found only in
//! the `requirements:` block are then dropped when they only appear in `run`, or only in
//! `build` while listed in `ignore_build_only_deps`.
//!
//! v1 recipes are not handled here: rattler-build reports their used keys per output.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// A key is a word made of these characters.
fn is_word(c: char) -> bool {
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

/// `{ compiler('lang') ...}` / `{ stdlib('lang') ...}` somewhere in the line.
fn calls_function(line: &str, function: &str, lang: &str) -> bool {
    let mut search = line;
    while let Some(i) = search.find('{') {
        let after = search[i + 1..].trim_start();
        if let Some(args) = after
            .strip_prefix(function)
            .and_then(|r| r.strip_prefix('('))
            && let Some(quote) = args.chars().next().filter(|c| *c == '\'' || *c == '"')
            && let Some(tail) = args[1..].strip_prefix(lang)
            && tail.starts_with(['\'', '"'])
        {
            let _ = quote;
            let tail = &tail[1..];
            let close = tail.find('}');
            let open = tail.find('{');
            if close.is_some_and(|c| open.is_none_or(|o| c < o)) {
                return true;
            }
        }
        search = &search[i + 1..];
    }
    false
}

/// conda-build's older `variant_regex` (before conda-smithy 3.39): the key right after
/// `{` (or `pin_x('`) followed by anything but quotes up to `}}`, so `{{ python_min }}`
/// counts for `python` and `pin_subpackage('key', ...)` does not count.
fn classic_jinja_use(line: &str, key: &str) -> bool {
    let mut search = line;
    while let Some(i) = search.find('{') {
        let after = search[i + 1..].trim_start();
        let candidates = [
            Some(after),
            after.strip_prefix("pin_").and_then(|rest| {
                let name_end = rest
                    .find(|c: char| !c.is_ascii_lowercase())
                    .unwrap_or(rest.len());
                rest[name_end..]
                    .strip_prefix('(')
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix(['\'', '"']))
            }),
        ];
        for candidate in candidates.into_iter().flatten() {
            if let Some(tail) = candidate.strip_prefix(key)
                && let Some(end) = tail.find("}}")
                && !tail[..end].contains(['\'', '"'])
            {
                return true;
            }
        }
        search = &search[i + 1..];
    }
    false
}

/// `{{ key }}`, `{{ key|filter }}`, `{{ key ~ ... }}`, or a pin function whose first
/// argument is the key (`{{ pin_subpackage('key' ...) }}`).
fn jinja_use(line: &str, key: &str) -> bool {
    let mut search = line;
    while let Some(i) = search.find('{') {
        let after = search[i + 1..].trim_start();
        let candidate = match after.strip_prefix("pin_") {
            Some(rest) => {
                let name_end = rest
                    .find(|c: char| !c.is_ascii_lowercase())
                    .unwrap_or(rest.len());
                rest[name_end..]
                    .strip_prefix('(')
                    .map(str::trim_start)
                    .and_then(|r| r.strip_prefix(['\'', '"']))
            }
            None => Some(after),
        };
        if let Some(tail) = candidate.and_then(|c| c.strip_prefix(key))
            && !tail.starts_with(is_word)
            && tail.contains("}}")
        {
            return true;
        }
        search = &search[i + 1..];
    }
    false
}

/// A bare requirement line `  - key` (with `_`/`-` interchangeable), optionally followed
/// by a comment or selector.
fn requirement_use(line: &str, key: &str) -> bool {
    let trimmed = line.trim_start();
    if trimmed.len() == line.len() {
        return false;
    }
    let Some(rest) = trimmed.strip_prefix('-') else {
        return false;
    };
    let name = rest.trim_start();
    if name.len() == rest.len() {
        return false;
    }
    let mut chars = name.chars();
    for k in key.chars() {
        match chars.next() {
            Some(c) if c == k || (k == '_' && c == '-') => {}
            _ => return false,
        }
    }
    let tail = chars.as_str();
    let spaces = tail.trim_start();
    spaces.is_empty() || (spaces.len() < tail.len() && spaces.starts_with(['[', '#']))
}

/// `{% if/elif ... key ... %}`, `{% for ... in ... key ... %}`, and a `{% set %}` whose
/// value ends with the key.
fn statement_use(line: &str, key: &str) -> bool {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(pos) = line.get(from..).and_then(|s| s.find("{%")) {
        let at = from + pos;
        from = at + 2;
        if at > 0 && bytes.get(at - 1) == Some(&b'{') {
            continue;
        }
        let body = line[at + 2..].trim_start();
        let rest = if let Some(r) = body
            .strip_prefix("elif")
            .or_else(|| body.strip_prefix("if"))
        {
            r
        } else if let Some(r) = body.strip_prefix("for ") {
            match r.find(" in ") {
                Some(i) => &r[i + 4..],
                None => continue,
            }
        } else if let Some(r) = body.strip_prefix("set ") {
            // `{% set x = "...key" %}`: the key ends the assigned value (a quote may
            // follow). `{% set blas_impl = "openblas" %}` uses `openblas`,
            // `{% set cuda_enabled = cuda_compiler_version != "None" %}` does not use
            // `cuda_compiler`.
            let Some((_, value)) = r.split_once('=') else {
                continue;
            };
            let Some(end) = value.find("%}") else {
                continue;
            };
            let value = value[..end]
                .trim_end()
                .trim_end_matches(['"', '\'', '-'])
                .trim_end();
            if value.ends_with(key) {
                return true;
            }
            continue;
        } else {
            continue;
        };
        let mut search = rest;
        while let Some(i) = search.find(key) {
            let tail = &search[i + key.len()..];
            if let Some(p) = tail.find('%')
                && tail[p..].starts_with("%}")
            {
                return true;
            }
            search = &search[i + 1..];
        }
    }
    false
}

/// `[ ... key ... ]` selector comment: the key as a whole word followed by `=`, space,
/// `<`, `>`, `!` or `]` (conda-build's `selector_regex`).
fn selector_use(line: &str, key: &str) -> bool {
    let Some(special) = line.find(['#', '[']) else {
        return false;
    };
    let bracket = if line[special..].starts_with('#') {
        let after = &line[special + 1..];
        let mut chars = after.chars();
        if !chars.next().is_some_and(char::is_whitespace) {
            return false;
        }
        if !chars.as_str().starts_with('[') {
            return false;
        }
        special + 1 + (after.len() - chars.as_str().len())
    } else {
        if !line[..special].ends_with(char::is_whitespace) {
            return false;
        }
        special
    };
    let inside = &line[bracket + 1..];
    let end = inside.find(']').map_or(inside.len(), |e| e + 1);
    let window = &inside[..end];
    let mut search_from = 0;
    while let Some(i) = window.get(search_from..).and_then(|w| w.find(key)) {
        let at = search_from + i;
        let before_ok = window[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after = window[at + key.len()..].chars().next();
        if before_ok && after.is_some_and(|c| c == '=' || c.is_whitespace() || "<>!]".contains(c)) {
            return true;
        }
        search_from = at + 1;
    }
    false
}

/// Variations of the scan between conda-build releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rules {
    /// Use the pre-2025 Jinja pattern (see [`classic_jinja_use`]).
    pub(crate) classic_jinja: bool,
}

/// conda-build's `find_used_variables_in_text`: the candidate keys used in `text`. With
/// `selectors_only`, only selector comments count (the raw-text pass).
pub(crate) fn find_used(
    keys: &BTreeSet<String>,
    text: &str,
    selectors_only: bool,
    rules: Rules,
) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let lines: Vec<&str> = text.lines().collect();
    let dashless = text.replace('-', "_");
    for key in keys {
        let lang = if selectors_only {
            None
        } else {
            language_of(key)
        };
        let anywhere =
            dashless.contains(key.as_str()) || lang.is_some_and(|(_, lang)| text.contains(lang));
        if !anywhere {
            continue;
        }
        let hit = lines.iter().any(|line| {
            if let Some((function, lang)) = lang {
                if (line.contains(key.as_str()) || line.contains(lang))
                    && calls_function(line, function, lang)
                {
                    return true;
                }
                if !line.contains(key.as_str()) {
                    return false;
                }
            } else if !line.contains(key.as_str()) && !line.replace('-', "_").contains(key.as_str())
            {
                return false;
            }
            if selectors_only {
                selector_use(line, key)
            } else {
                let jinja = if rules.classic_jinja {
                    classic_jinja_use(line, key)
                } else {
                    jinja_use(line, key)
                };
                jinja || requirement_use(line, key) || statement_use(line, key)
            }
        });
        if hit {
            used.insert(key.clone());
        }
    }
    if (used.contains("c_compiler") || used.contains("cxx_compiler") || used.contains("c_stdlib"))
        && keys.contains("CONDA_BUILD_SYSROOT")
    {
        used.insert("CONDA_BUILD_SYSROOT".to_string());
    }
    if !selectors_only && text.contains("{{ cdt(") {
        for key in keys.iter().filter(|k| k.starts_with("cdt_")) {
            used.insert(key.clone());
        }
    }
    used
}

/// `c_compiler_version` → (`compiler`, `c`); `c_stdlib` → (`stdlib`, `c`).
fn language_of(key: &str) -> Option<(&'static str, &str)> {
    let base = key.strip_suffix("_version").unwrap_or(key);
    if let Some(lang) = base.strip_suffix("_compiler") {
        return Some(("compiler", lang));
    }
    base.strip_suffix("_stdlib").map(|lang| ("stdlib", lang))
}

/// Keys a build script uses: `$key` / `${key}` in `build.sh` lines (the first `$` of the
/// line, followed by the key and a space, `|` or `}`), `%key%` in `bld.bat`.
pub(crate) fn script_used(
    keys: &BTreeSet<String>,
    script: &str,
    windows: bool,
) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for key in keys {
        let hit = if windows {
            script.contains(&format!("%{key}%"))
        } else {
            script.lines().any(|line| {
                let Some(i) = line.find('$') else {
                    return false;
                };
                let rest = &line[i + 1..];
                let rest = rest.strip_prefix('{').unwrap_or(rest);
                rest.strip_prefix(key.as_str())
                    .is_some_and(|t| t.is_empty() || t.starts_with([' ', '|', '}']))
            })
        };
        if hit {
            used.insert(key.clone());
        }
    }
    used
}

/// Which keys a recipe (with its build scripts) can use at all: those its texts mention
/// (with `-` read as `_`), compiler and stdlib keys whose language they name, and the
/// keys scans add on their own (`CONDA_BUILD_SYSROOT`, `cdt_*`). Every other key is
/// certainly unused, which lets the rerender skip it everywhere.
///
/// The answers for a whole universe of keys come from one Aho-Corasick pass over the
/// texts; keys outside the universe are searched one by one.
#[derive(Debug)]
pub(crate) struct Mentions {
    texts: Vec<String>,
    dashless: Vec<String>,
    /// The answer for every key of the universe.
    known: HashMap<String, bool, foldhash::fast::RandomState>,
}

impl Mentions {
    /// Prepares the texts and answers for every key of `universe`.
    pub(crate) fn new(texts: &[&str], universe: impl IntoIterator<Item = String>) -> Mentions {
        let patterns: Vec<String> = universe.into_iter().collect();
        let dashless: Vec<String> = texts.iter().map(|t| t.replace('-', "_")).collect();
        let mut found = vec![false; patterns.len()];
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .build(&patterns);
        if let Ok(automaton) = automaton {
            for text in &dashless {
                for hit in automaton.find_overlapping_iter(text) {
                    if let Some(f) = found.get_mut(hit.pattern().as_usize()) {
                        *f = true;
                    }
                }
            }
        }
        let mut mentions = Mentions {
            texts: texts.iter().map(|t| t.to_string()).collect(),
            dashless,
            known: HashMap::default(),
        };
        for (key, found) in patterns.into_iter().zip(found) {
            let known = found || mentions.special(&key);
            mentions.known.insert(key, known);
        }
        mentions
    }

    /// Compiler/stdlib keys whose language is named, and keys scans add by themselves.
    fn special(&self, key: &str) -> bool {
        let lang = language_of(key).map(|(_, lang)| lang);
        lang.is_some_and(|l| self.texts.iter().any(|t| t.contains(l)))
            || key == "CONDA_BUILD_SYSROOT"
            || key.starts_with("cdt_")
    }

    /// True when the key can be used.
    pub(crate) fn mentions(&self, key: &str) -> bool {
        match self.known.get(key) {
            Some(known) => *known,
            None => self.dashless.iter().any(|t| t.contains(key)) || self.special(key),
        }
    }
}

/// The top-level keys of variant files (`key:` at the start of a line): the universe of
/// keys a rerender can meet.
pub(crate) fn declared_keys(texts: &[&str]) -> HashSet<String> {
    let mut keys = HashSet::new();
    for text in texts {
        for line in text.lines() {
            let end = line
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(line.len());
            if end > 0 && line[end..].starts_with(':') {
                keys.insert(line[..end].to_string());
            }
        }
    }
    keys
}

/// Requirement names of one rendered package, by section, for `trim_build_only_deps`.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequirementNames {
    /// `build` names, `-` read as `_`.
    pub(crate) build: BTreeSet<String>,
    /// `host` names.
    pub(crate) host: BTreeSet<String>,
    /// `run` names.
    pub(crate) run: BTreeSet<String>,
}

/// Everything conda-build looks at for one output meta.
pub(crate) struct Scan<'a> {
    /// Candidate keys (every ordinary key of the variant).
    pub(crate) keys: &'a BTreeSet<String>,
    /// The raw text of the scanned region (selectors not applied).
    pub(crate) raw: &'a str,
    /// The same region with the variant's selectors applied.
    pub(crate) selected: &'a str,
    /// The rendered requirements of the meta.
    pub(crate) requirements: &'a RequirementNames,
    /// `ignore_build_only_deps`.
    pub(crate) ignore_build_only_deps: &'a [String],
    /// Release-dependent scan rules.
    pub(crate) rules: Rules,
    /// Results shared by every platform of a rerender.
    pub(crate) cache: &'a ScanCache,
}

/// Results of [`find_used`] by (keys, text, pass): the raw recipe text is the same on
/// every platform, and selected texts often are, so most scans are asked for many times.
#[derive(Debug, Default)]
pub(crate) struct ScanCache(Mutex<HashMap<u64, BTreeSet<String>>>);

impl ScanCache {
    /// [`find_used`], remembered.
    pub(crate) fn find_used(
        &self,
        keys: &BTreeSet<String>,
        text: &str,
        selectors_only: bool,
        rules: Rules,
    ) -> BTreeSet<String> {
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        keys.hash(&mut hasher);
        text.hash(&mut hasher);
        selectors_only.hash(&mut hasher);
        rules.classic_jinja.hash(&mut hasher);
        let id = hasher.finish();
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(&id) {
            return found.clone();
        }
        let found = find_used(keys, text, selectors_only, rules);
        lock().insert(id, found.clone());
        found
    }
}

/// conda-build's `_get_used_vars_meta_yaml`.
pub(crate) fn used_in_meta(scan: &Scan<'_>) -> BTreeSet<String> {
    let cache = scan.cache;
    let mut all = cache.find_used(scan.keys, scan.raw, true, scan.rules);
    all.extend(cache.find_used(scan.keys, scan.selected, false, scan.rules));
    let reqs = cache.find_used(
        scan.keys,
        requirements_text(scan.selected),
        false,
        scan.rules,
    );
    let reqs_kept: BTreeSet<String> = reqs
        .iter()
        .filter(|dep| {
            let r = scan.requirements;
            if r.run.contains(*dep) {
                r.build.contains(*dep) || r.host.contains(*dep)
            } else {
                !(r.build.contains(*dep)
                    && !r.host.contains(*dep)
                    && scan.ignore_build_only_deps.contains(dep))
            }
        })
        .cloned()
        .collect();
    all.retain(|k| !reqs.contains(k) || reqs_kept.contains(k));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn jinja_uses_require_the_key_to_end_at_a_non_identifier() {
        let k = keys(&["python", "python_min", "zlib"]);
        let used = find_used(
            &k,
            "    - python {{ python_min }}\n",
            false,
            Rules::default(),
        );
        assert_eq!(used, keys(&["python_min"]));
        let used = find_used(
            &k,
            "    - {{ pin_subpackage('zlib', exact=True) }}\n",
            false,
            Rules::default(),
        );
        assert_eq!(used, keys(&["zlib"]));
    }

    #[test]
    fn the_classic_pattern_ignores_pin_functions_and_word_ends() {
        let k = keys(&["python", "zlib"]);
        let classic = Rules {
            classic_jinja: true,
        };
        let text =
            "    - python {{ python_min }}\n    - {{ pin_subpackage('zlib', max_pin='x') }}\n";
        assert_eq!(find_used(&k, text, false, classic), keys(&["python"]));
    }

    #[test]
    fn bare_requirement_lines_use_the_key_with_dashes_or_underscores() {
        let k = keys(&["libjpeg_turbo", "zlib", "sqlite"]);
        let text = "    - libjpeg-turbo\n    - zlib 1.2\n    - sqlite *\n";
        assert_eq!(
            find_used(&k, text, false, Rules::default()),
            keys(&["libjpeg_turbo"])
        );
    }

    #[test]
    fn compilers_and_stdlib_mark_their_keys() {
        let k = keys(&[
            "c_compiler",
            "c_compiler_version",
            "c_stdlib_version",
            "cxx_compiler",
        ]);
        let text = "    - {{ compiler('c') }}\n    - {{ stdlib(\"c\") }}\n";
        assert_eq!(
            find_used(&k, text, false, Rules::default()),
            keys(&["c_compiler", "c_compiler_version", "c_stdlib_version"])
        );
    }

    #[test]
    fn selector_comments_count_in_the_raw_pass() {
        let k = keys(&["cuda_compiler_version_min", "cuda_compiler_version"]);
        let text =
            "# [cuda_compiler_version_min]\n  skip: true  # [cuda_compiler_version != \"None\"]\n";
        assert_eq!(find_used(&k, text, true, Rules::default()), k);
    }

    #[test]
    fn conditionals_use_their_keys() {
        let k = keys(&["mpi", "blas_impl"]);
        assert_eq!(
            find_used(
                &k,
                "{% if mpi != 'nompi' %}\n{%- if blas_impl %}\n",
                false,
                Rules::default()
            ),
            keys(&["mpi"])
        );
    }

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

    #[test]
    fn build_scripts_use_dollar_keys() {
        let k = keys(&["mpi", "cuda_compiler_version"]);
        let script = "if [[ \"$mpi\" ]]; then\necho ${cuda_compiler_version}\n";
        assert_eq!(
            script_used(&k, script, false),
            keys(&["cuda_compiler_version"])
        );
    }
}
