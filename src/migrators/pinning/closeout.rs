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
//! ones (see [`merge_key_add`]); a plain replace would drop every other python version.

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
    fn keys_the_pinning_does_not_have_change_nothing() {
        let cbc = "zlib:\n  - '1'\n";
        assert_eq!(
            merge_migrator_cbc("__migrator: {}\nnewlib:\n- '1'\n", cbc),
            cbc
        );
    }
}
