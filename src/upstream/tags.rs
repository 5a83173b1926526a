//! From a git tag to a version: the tag allowlist (`allowed_tag_globs`, fnmatch-style:
//! `*` also crosses `/`), the scope prefix (`sass_api/17.5.0`), a prefix read off the
//! recipe URL (`llvmorg-`), the usual `release-`/`v` prefixes, everything before the
//! first digit, pre-releases (PEP 440) and finally conda's version syntax.

use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::release::is_prerelease;

/// Prefixes the bot strips after the scope and the URL-derived prefix, tried in order.
const COMMON_PREFIXES: [&str; 5] = ["release-", "releases%2F", "v_", "v.", "v"];

/// The tag allowlist of `bot.version_updates.allowed_tag_globs`.
#[derive(Debug, Clone)]
pub(crate) struct TagFilter {
    globs: Option<GlobSet>,
}

impl TagFilter {
    /// Compiles the globs; a glob that does not compile is reported and left out (so a
    /// broken entry narrows the allowlist rather than opening it).
    pub(crate) fn new(globs: Option<&[String]>) -> (TagFilter, Vec<String>) {
        let Some(globs) = globs else {
            return (TagFilter { globs: None }, Vec::new());
        };
        let mut warnings = Vec::new();
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            match Glob::new(glob) {
                Ok(g) => {
                    builder.add(g);
                }
                Err(e) => warnings.push(format!("allowed_tag_globs: `{glob}`: {e}")),
            }
        }
        let set = builder.build().unwrap_or_else(|e| {
            warnings.push(format!("allowed_tag_globs: {e}"));
            GlobSet::empty()
        });
        (TagFilter { globs: Some(set) }, warnings)
    }

    /// True when the tag may be used.
    pub(crate) fn allows(&self, tag: &str) -> bool {
        self.globs.as_ref().is_none_or(|set| set.is_match(tag))
    }
}

/// How tag text turns into a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dashes {
    /// Keep `-` (GitHub tags and releases); conda then rejects such a version.
    Keep,
    /// `-` becomes `.` (git tags, as the bot's `GitTags` does).
    ToDots,
}

/// The version a tag names, or `None` when the tag is filtered out or names none.
pub(crate) fn tag_version(
    tag: &str,
    filter: &TagFilter,
    url_prefix: Option<&str>,
    dashes: Dashes,
) -> Option<String> {
    let tag = tag.trim();
    if !filter.allows(tag) {
        return None;
    }
    let mut text = tag.rsplit('/').next().unwrap_or(tag);
    if let Some(prefix) = url_prefix.filter(|p| !p.is_empty()) {
        text = text.strip_prefix(prefix).unwrap_or(text);
    }
    for prefix in COMMON_PREFIXES {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest;
            break;
        }
    }
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let text = text.get(start..)?;
    let version = match dashes {
        Dashes::Keep => text.to_string(),
        Dashes::ToDots => text.replace('-', "."),
    };
    // `1-4-0-rc1` is not PEP 440, its dotted form `1.4.0.rc1` is.
    if is_prerelease(text) || is_prerelease(&version) {
        return None;
    }
    rattler_conda_types::Version::from_str(&version)
        .is_ok()
        .then_some(version)
}

/// The text before the version in a GitHub download URL's tag segment:
/// `…/archive/refs/tags/example-1.2.3.tar.gz` → `example-`,
/// `…/releases/download/llvmorg-17.0.6/…` → `llvmorg-`. `None` for a plain `v` or no
/// prefix, and for URLs without the version.
pub(crate) fn url_tag_prefix(url: &str, version: &str) -> Option<String> {
    if version.is_empty() {
        return None;
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let segments: Vec<&str> = path.split('/').collect();
    let tag_segment = segments.windows(2).find_map(|w| match w {
        [marker, next] if matches!(*marker, "tags" | "download" | "archive") => {
            (!matches!(*next, "refs" | "")).then_some(*next)
        }
        _ => None,
    })?;
    let (prefix, _) = tag_segment.split_once(version)?;
    let prefix = prefix.trim_end_matches('/');
    (!prefix.is_empty() && !matches!(prefix, "v" | "V")).then(|| prefix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(tag: &str) -> Option<String> {
        tag_version(tag, &TagFilter::new(None).0, None, Dashes::Keep)
    }

    #[test]
    fn common_prefixes_are_stripped() {
        assert_eq!(plain("v1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(plain("release-2.0").as_deref(), Some("2.0"));
        assert_eq!(plain("v_3_1").as_deref(), Some("3_1"));
        assert_eq!(plain("curl-8_5_0").as_deref(), Some("8_5_0"));
        assert_eq!(plain("20240722.0").as_deref(), Some("20240722.0"));
    }

    #[test]
    fn pre_releases_and_tags_without_digits_are_dropped() {
        assert_eq!(plain("v2.0.0-rc1"), None);
        assert_eq!(plain("v3.0.0b2"), None);
        assert_eq!(plain("nightly"), None);
    }

    #[test]
    fn letters_inside_a_final_version_do_not_drop_it() {
        // The bot drops any tag containing `a` or `b` (reference §10.4.10); we don't.
        assert_eq!(plain("openssl-3.0.13").as_deref(), Some("3.0.13"));
        assert_eq!(plain("1.2.3p1").as_deref(), Some("1.2.3p1"));
    }

    #[test]
    fn a_scoped_tag_allowed_by_glob_gives_its_version() {
        let (filter, warnings) = TagFilter::new(Some(&["sass_api/*".to_string()]));
        assert!(warnings.is_empty());
        assert_eq!(
            tag_version("sass_api/17.5.0", &filter, None, Dashes::Keep).as_deref(),
            Some("17.5.0")
        );
        assert_eq!(tag_version("1.80.0", &filter, None, Dashes::Keep), None);
    }

    #[test]
    fn git_tags_turn_dashes_into_dots() {
        let filter = TagFilter::new(None).0;
        assert_eq!(
            tag_version("libtirpc-1-3-7", &filter, None, Dashes::ToDots).as_deref(),
            Some("1.3.7")
        );
        assert_eq!(
            tag_version("libtirpc-1-4-0-rc1", &filter, None, Dashes::ToDots),
            None
        );
    }

    #[test]
    fn the_url_prefix_comes_from_the_tag_segment() {
        assert_eq!(
            url_tag_prefix(
                "https://github.com/o/r/archive/refs/tags/example-1.2.3.tar.gz",
                "1.2.3"
            )
            .as_deref(),
            Some("example-")
        );
        assert_eq!(
            url_tag_prefix(
                "https://github.com/llvm/llvm-project/releases/download/llvmorg-17.0.6/llvm-project-17.0.6.src.tar.xz",
                "17.0.6"
            )
            .as_deref(),
            Some("llvmorg-")
        );
        assert_eq!(
            url_tag_prefix("https://github.com/o/r/archive/v1.2.3.tar.gz", "1.2.3"),
            None
        );
        assert_eq!(
            url_tag_prefix("https://example.com/x-1.2.3.tar.gz", "1.2.3"),
            None
        );
    }

    #[test]
    fn the_url_prefix_is_stripped_before_the_common_ones() {
        let filter = TagFilter::new(None).0;
        assert_eq!(
            tag_version("llvmorg-18.1.0", &filter, Some("llvmorg-"), Dashes::Keep).as_deref(),
            Some("18.1.0")
        );
    }
}
