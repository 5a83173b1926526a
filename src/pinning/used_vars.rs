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

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use super::sections::{is_word, requirements_text};

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
pub(crate) fn language_of(key: &str) -> Option<(&'static str, &str)> {
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
    fn build_scripts_use_dollar_keys() {
        let k = keys(&["mpi", "cuda_compiler_version"]);
        let script = "if [[ \"$mpi\" ]]; then\necho ${cuda_compiler_version}\n";
        assert_eq!(
            script_used(&k, script, false),
            keys(&["cuda_compiler_version"])
        );
    }
}
