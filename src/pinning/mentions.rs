//! Which variant keys a recipe can use at all, answered for a whole key universe at once.

use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::used_vars::language_of;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_mentioned_as_substrings_with_dashes_read_as_underscores() {
        let recipe = "requirements:\n  host:\n    - libjpeg-turbo\n    - {{ compiler('c') }}\n";
        let universe = ["libjpeg_turbo", "zlib", "c_compiler_version", "python"].map(String::from);
        let mentions = Mentions::new(&[recipe], universe);
        assert!(mentions.mentions("libjpeg_turbo"));
        assert!(mentions.mentions("c_compiler_version"));
        assert!(!mentions.mentions("zlib"));
        assert!(!mentions.mentions("python"));
        // Outside the universe: searched directly.
        assert!(mentions.mentions("host"));
    }

    #[test]
    fn only_top_level_keys_are_declared() {
        let keys = declared_keys(&["a:\n  b: 1\nc: [1]\n# d:\n"]);
        assert_eq!(keys, ["a", "c"].map(String::from).into());
    }
}
