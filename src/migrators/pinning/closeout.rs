//! Closing a migration out: its pins move into the pinning feedstock's
//! `recipe/conda_build_config.yaml` (the bot's `merge_migrator_cbc`, reference §3.3).
//!
//! The merge works on lines, as the bot's does: a top-level key is a line starting with a
//! word character; the migration's lines are grouped by key (list items written at
//! column 0 are indented by two spaces, the pinning's style), and every block of the
//! pinning whose key the migration defines is replaced by the migration's block. A block
//! is its key line and the indented or `-` lines under it. Deliberate differences from
//! the bot, all about lines that are not part of any value:
//! - comments and blank lines at column 0 between blocks are kept (the bot drops those
//!   that follow a replaced block);
//! - the migration's lines before its first key, and its `__migrator` and `migrator_ts`
//!   blocks, are never merged (the bot would merge leading comments into the pinning's
//!   header);
//! - the file's final newline is kept.
//!
//! For `key_add` migrations the pinning keeps its values and gains the migration's new
//! ones ([`merge_key_add`]); a plain replace, as the bot does, would drop every other
//! python version.

use std::collections::HashMap;

/// A top-level key line: starts with a word character (the bot's `\w` or `_`).
fn key_of(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if first.is_alphanumeric() || first == '_' {
        line.split_whitespace().next()
    } else {
        None
    }
}

/// Lines that continue the block above them.
fn continues_block(line: &str) -> bool {
    line.starts_with([' ', '\t', '-'])
}

/// The migration's blocks by key token (`python:`), each with its lines.
pub(super) fn migration_blocks(migration: &str) -> HashMap<String, Vec<String>> {
    let mut blocks: HashMap<String, Vec<String>> = HashMap::new();
    let mut current: Option<String> = None;
    for line in migration.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(key) = key_of(line) {
            current = Some(key.to_string());
        }
        let Some(key) = &current else {
            continue;
        };
        let line = if line.starts_with('-') {
            format!("  {line}")
        } else {
            line.to_string()
        };
        blocks.entry(key.clone()).or_default().push(line);
    }
    blocks.remove("__migrator:");
    blocks.remove("migrator_ts:");
    blocks
}

/// The migration's keys whose key line carries a `# [selector]`: replacing the
/// pinning's block by such a block would drop the values of every other platform
/// (`c_stdlib_version:  # [osx]` would erase the linux baseline), so a close-out refuses
/// them.
pub(super) fn selector_keys(migration: &str) -> Vec<String> {
    let mut keys: Vec<String> = migration_blocks(migration)
        .into_iter()
        .filter(|(_, lines)| lines.first().is_some_and(|l| l.contains("# [")))
        .map(|(key, _)| key.trim_end_matches(':').to_string())
        .collect();
    keys.sort();
    keys
}

/// Replaces every block of `cbc` whose key the migration defines by the migration's
/// block.
pub(crate) fn merge_migrator_cbc(migration: &str, cbc: &str) -> String {
    let blocks = migration_blocks(migration);
    let mut out: Vec<&str> = Vec::new();
    let mut replacing = false;
    for line in cbc.lines() {
        if let Some(key) = key_of(line) {
            match blocks.get(key) {
                Some(block) => {
                    out.extend(block.iter().map(String::as_str));
                    replacing = true;
                }
                None => {
                    out.push(line);
                    replacing = false;
                }
            }
        } else if replacing && continues_block(line) {
            continue;
        } else {
            replacing = false;
            out.push(line);
        }
    }
    let mut merged = out.join("\n");
    if cbc.ends_with('\n') {
        merged.push('\n');
    }
    merged
}

/// One `- value  # [selector]` line of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    /// The value as written (quotes kept).
    raw: String,
    /// The value without quotes, for comparisons.
    value: String,
    selector: Option<String>,
}

fn parse_item(line: &str) -> Option<Item> {
    let rest = line.trim_start().strip_prefix('-')?;
    let (value, comment) = match rest.find(" #") {
        Some(at) => (&rest[..at], Some(&rest[at + 2..])),
        None => (rest, None),
    };
    let selector = comment.and_then(|c| {
        let c = c.trim();
        c.strip_prefix('[')
            .and_then(|c| c.strip_suffix(']'))
            .map(|c| c.trim().to_string())
    });
    Some(Item {
        raw: value.trim().to_string(),
        value: value.trim().trim_matches(['\'', '"']).to_string(),
        selector,
    })
}

/// The key of a block's first line (`python:` → `python`).
fn bare_key(token: &str) -> &str {
    token.trim_end_matches(':')
}

/// The groups of the pinning's `zip_keys` (selectors ignored), as key lists.
fn zip_groups(cbc: &str) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut inside = false;
    for line in cbc.lines() {
        if key_of(line).is_some() {
            inside = key_of(line) == Some("zip_keys:");
            continue;
        }
        if !inside || line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if let Some(item) = parse_item(line) {
            if item.value.is_empty() {
                groups.push(Vec::new());
            } else if indent > 2 {
                if let Some(group) = groups.last_mut() {
                    group.push(item.value);
                }
            } else {
                let flow = item.value.trim_matches(['[', ']']);
                groups.push(flow.split(',').map(|k| k.trim().to_string()).collect());
            }
        }
    }
    groups
}

/// Why a `key_add` close-out cannot be done by lines.
pub(super) type ManualReason = String;

/// Closes out a `key_add` migration: each new value of the primary key (and the values
/// of its zip partners at the same position) is appended to the pinning's blocks,
/// guarded by a selector that excludes the platforms where the pinning already has that
/// value (`3.14.* *_cp314  # [not (win and arm64)]`). The blocks keep every existing
/// value, so every feedstock renders the variants it had with the migration applied.
///
/// Refused (the close-out is then done by hand) when the migration has
/// `additional_zip_keys` (the pinning's `zip_keys` would change), when a migration key
/// is not zipped with the primary key in the pinning, when a key appears in the
/// pinning more than once or not at all, or when the keys' value counts differ.
pub(super) fn merge_key_add(
    migration: &str,
    cbc: &str,
    primary_key: &str,
    additional_zip_keys: &[String],
) -> Result<String, ManualReason> {
    if !additional_zip_keys.is_empty() {
        return Err("it adds zip keys to the pinning".to_string());
    }
    let blocks = migration_blocks(migration);
    let mut keys: Vec<&str> = blocks.keys().map(|k| bare_key(k)).collect();
    keys.sort_unstable();
    let items_of = |key: &str| -> Vec<Item> {
        blocks
            .get(&format!("{key}:"))
            .map(|lines| lines.iter().skip(1).filter_map(|l| parse_item(l)).collect())
            .unwrap_or_default()
    };
    let primary = items_of(primary_key);
    if primary.is_empty() {
        return Err(format!(
            "it has no values for its primary key `{primary_key}`"
        ));
    }
    let groups = zip_groups(cbc);
    let group = groups.iter().find(|g| g.iter().any(|k| k == primary_key));
    for key in &keys {
        if *key != primary_key && !group.is_some_and(|g| g.iter().any(|k| k == key)) {
            return Err(format!(
                "`{key}` is not zipped with `{primary_key}` in the pinning"
            ));
        }
        if items_of(key).len() != primary.len() {
            return Err(format!(
                "`{key}` and `{primary_key}` have different value counts"
            ));
        }
    }
    // Where each key's block ends in the pinning (the line after its last item).
    let lines: Vec<&str> = cbc.lines().collect();
    let mut block_end: HashMap<&str, usize> = HashMap::new();
    let mut existing: Vec<Item> = Vec::new();
    let mut current: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        if let Some(token) = key_of(line) {
            let key = bare_key(token);
            current = keys.iter().copied().find(|k| *k == key);
            if let Some(key) = current
                && (block_end.insert(key, i + 1).is_some() || line.contains('#'))
            {
                return Err(format!(
                    "`{key}` is written more than once or under a selector in the pinning"
                ));
            }
            continue;
        }
        if let Some(key) = current
            && continues_block(line)
        {
            if let Some(item) = parse_item(line) {
                block_end.insert(key, i + 1);
                if key == primary_key {
                    existing.push(item);
                }
            }
        } else if !continues_block(line) {
            current = None;
        }
    }
    let mut appended: HashMap<usize, Vec<String>> = HashMap::new();
    for (index, new) in primary.iter().enumerate() {
        let guards: Vec<&str> = existing
            .iter()
            .filter(|e| e.value == new.value)
            .map(|e| e.selector.as_deref())
            .collect::<Option<Vec<&str>>>()
            .unwrap_or_default();
        let everywhere = existing
            .iter()
            .any(|e| e.value == new.value && e.selector.is_none());
        if everywhere {
            continue;
        }
        for key in &keys {
            let Some(item) = items_of(key).into_iter().nth(index) else {
                continue;
            };
            let Some(end) = block_end.get(key).copied() else {
                return Err(format!("the pinning has no `{key}` block"));
            };
            let guard = (!guards.is_empty()).then(|| format!("not ({})", guards.join(" or ")));
            let selector = match (&item.selector, guard) {
                (None, None) => None,
                (Some(own), None) => Some(own.clone()),
                (None, Some(guard)) => Some(guard),
                (Some(own), Some(guard)) => Some(format!("({own}) and {guard}")),
            };
            let line = match selector {
                None => format!("  - {}", item.raw),
                Some(selector) => format!("  - {}  # [{selector}]", item.raw),
            };
            appended.entry(end).or_default().push(line);
        }
    }
    let mut out: Vec<&str> = Vec::with_capacity(lines.len() + appended.len());
    for (i, line) in lines.iter().enumerate() {
        out.push(line);
        if let Some(extra) = appended.get(&(i + 1)) {
            out.extend(extra.iter().map(String::as_str));
        }
    }
    let mut merged = out.join("\n");
    if cbc.ends_with('\n') {
        merged.push('\n');
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_pin_replaces_the_pinning_block_and_keeps_its_neighbours() {
        let cbc = "gflags:\n  - '2.3'\ngiflib:\n  - 5.2\n# about glew\nglew:\n  - '2.3'\n";
        let migration = "__migrator:\n  build_number: 1\n  kind: version\ngiflib:\n- '6'\nmigrator_ts: 1786540391.1731453\n";
        assert_eq!(
            merge_migrator_cbc(migration, cbc),
            "gflags:\n  - '2.3'\ngiflib:\n  - '6'\n# about glew\nglew:\n  - '2.3'\n"
        );
    }

    #[test]
    fn migration_comments_before_the_first_key_are_not_merged() {
        let cbc = "# header\nhdf5:\n  - 1.14.6\n";
        let migration =
            "# why\n__migrator:\n  kind: version\n# HDF5 notes\nhdf5:\n- '2'\n- '1.14.6'\n";
        assert_eq!(
            merge_migrator_cbc(migration, cbc),
            "# header\nhdf5:\n  - '2'\n  - '1.14.6'\n"
        );
    }

    #[test]
    fn key_add_appends_guarded_values_to_the_zipped_blocks() {
        let cbc = "zip_keys:\n  -\n    - python\n    - is_python_min\npython:\n  - 3.13.* *_cp313     # [not win]\n  - 3.14.* *_cp314     # [win]\nis_python_min:\n  - true\nnumpy:\n  - 2\n";
        let migration = "migrator_ts: 1\n__migrator:\n    operation: key_add\n    primary_key: python\npython:\n- 3.14.* *_cp314\n# zip partners\nis_python_min:\n- false\n";
        assert_eq!(
            merge_key_add(migration, cbc, "python", &[]).unwrap(),
            "zip_keys:\n  -\n    - python\n    - is_python_min\npython:\n  - 3.13.* *_cp313     # [not win]\n  - 3.14.* *_cp314     # [win]\n  - 3.14.* *_cp314  # [not (win)]\nis_python_min:\n  - true\n  - false  # [not (win)]\nnumpy:\n  - 2\n"
        );
    }

    #[test]
    fn key_add_refuses_keys_outside_the_primary_keys_zip() {
        let cbc = "zip_keys:\n  - [python, is_python_min]\npython:\n  - 3.13\nnumpy:\n  - 2\n";
        let migration = "__migrator: {}\npython:\n- 3.14\nnumpy:\n- 3\n";
        let err = merge_key_add(migration, cbc, "python", &[]).unwrap_err();
        assert!(err.contains("`numpy` is not zipped"), "{err}");
        assert!(merge_key_add(migration, cbc, "python", &["is_abi3".to_string()]).is_err());
    }

    #[test]
    fn keys_under_a_selector_are_found() {
        let migration =
            "__migrator: {}\nc_stdlib_version:   # [osx]\n  - 12.0  # [osx]\ngiflib:\n- '6'\n";
        assert_eq!(selector_keys(migration), ["c_stdlib_version"]);
    }

    #[test]
    fn keys_the_pinning_does_not_have_change_nothing() {
        let cbc = "zlib:\n  - '1'\n";
        assert_eq!(
            merge_migrator_cbc("__migrator: {}\nnewlib:\n- '1'\n", cbc),
            cbc
        );
    }
}
