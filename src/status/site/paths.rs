//! Where each page and file of the site lives, and the file-name-safe stems of
//! migration and feedstock names.
//!
//! A stem keeps `[A-Za-z0-9._-]` as written and spells every other byte `~XX` (hex), so
//! two names never share a stem, a stem is a valid URL path segment as it is, and no
//! name (`..`, `a/b`, `<script>`) can reach outside its directory. Real conda package
//! names and migration report names never need escaping, so their files keep their
//! names (conda-forge's `migration_json/<report_name>.json`).

use std::fmt::Write;

/// Directory of the per-migration pages.
pub(crate) const MIGRATIONS_DIR: &str = "migrations";
/// Directory of the per-feedstock pages.
pub(crate) const FEEDSTOCKS_DIR: &str = "feedstocks";
/// Directory of the site's CSS and JS.
pub(crate) const ASSETS_DIR: &str = "assets";
/// conda-forge's per-migration JSON files.
pub(crate) const MIGRATION_JSON_DIR: &str = "migration_json";
/// conda-forge's per-migration graph pictures.
pub(crate) const MIGRATION_SVG_DIR: &str = "migration_svg";

/// The file-name-safe stem of a name (see the module docs).
pub(crate) fn stem(name: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    // A leading dot would make `.` / `..` or a hidden file.
    let needs_escape = |i: usize, b: u8| !plain(b) || (i == 0 && b == b'.');
    if !name.is_empty() && !name.bytes().enumerate().any(|(i, b)| needs_escape(i, b)) {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() * 3);
    if name.is_empty() {
        out.push('~');
    }
    for (i, b) in name.bytes().enumerate() {
        if needs_escape(i, b) {
            // Writing to a String cannot fail.
            let _ = write!(out, "~{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// The page of a migration, relative to the site root.
pub(crate) fn migration_page(name: &str) -> String {
    format!("{MIGRATIONS_DIR}/{}.html", stem(name))
}

/// The page of a feedstock, relative to the site root.
pub(crate) fn feedstock_page(name: &str) -> String {
    format!("{FEEDSTOCKS_DIR}/{}.html", stem(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conda_names_keep_their_own_spelling() {
        assert_eq!(stem("python314"), "python314");
        assert_eq!(stem("libxml2-2.13_x.y"), "libxml2-2.13_x.y");
    }

    #[test]
    fn unsafe_bytes_are_spelled_in_hex_and_cannot_leave_the_directory() {
        assert_eq!(stem(".."), "~2E.");
        assert_eq!(stem("a/b"), "a~2Fb");
        assert_eq!(stem("<script>"), "~3Cscript~3E");
        assert_eq!(stem(""), "~");
        assert_eq!(stem("~"), "~7E");
        assert_ne!(stem("a~2Fb"), stem("a/b"));
    }

    #[test]
    fn pages_live_in_their_directories() {
        assert_eq!(migration_page("python314"), "migrations/python314.html");
        assert_eq!(feedstock_page("a b"), "feedstocks/a~20b.html");
    }
}
