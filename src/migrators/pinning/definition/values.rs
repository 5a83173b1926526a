//! Typed reads of `__migrator` values: each error names the file, the line and the key.

use std::path::Path;

use crate::recipe::edit::spanned::{Node, Spanned};

use super::{DefinitionError, MIGRATOR_KEYS};

/// Typed reads of YAML values, with errors naming the file and line.
pub(super) struct Reader<'a> {
    pub(super) path: &'a Path,
}

impl Reader<'_> {
    pub(super) fn invalid(&self, key: &str, value: &Spanned, message: &str) -> DefinitionError {
        DefinitionError::InvalidValue {
            path: self.path.to_path_buf(),
            line: value.pos.line,
            key: key.to_string(),
            message: message.to_string(),
        }
    }

    pub(super) fn scalar(
        &self,
        key: &str,
        value: &Spanned,
    ) -> Result<Option<String>, DefinitionError> {
        if value.is_null() {
            return Ok(None);
        }
        value
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| self.invalid(key, value, "expected a single value"))
    }

    pub(super) fn flag(&self, key: &str, value: &Spanned) -> Result<bool, DefinitionError> {
        match &value.node {
            Node::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(true),
                "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                    Ok(false)
                }
                _ => Err(self.invalid(key, value, "expected true or false")),
            },
            _ => Err(self.invalid(key, value, "expected true or false")),
        }
    }

    pub(super) fn int(&self, key: &str, value: &Spanned) -> Result<u64, DefinitionError> {
        value
            .as_str()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| self.invalid(key, value, "expected a non-negative integer"))
    }

    pub(super) fn float(&self, key: &str, value: &Spanned) -> Result<Option<f64>, DefinitionError> {
        if value.is_null() {
            return Ok(None);
        }
        value
            .as_str()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(Some)
            .ok_or_else(|| self.invalid(key, value, "expected a number"))
    }

    pub(super) fn list(&self, key: &str, value: &Spanned) -> Result<Vec<String>, DefinitionError> {
        if value.is_null() {
            return Ok(Vec::new());
        }
        let Node::Seq { items, .. } = &value.node else {
            return Err(self.invalid(key, value, "expected a list"));
        };
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.invalid(key, item, "expected a list of single values"))
            })
            .collect()
    }

    pub(super) fn map<'v>(
        &self,
        key: &str,
        value: &'v Spanned,
    ) -> Result<&'v [(Spanned, Spanned)], DefinitionError> {
        if value.is_null() {
            return Ok(&[]);
        }
        value
            .entries()
            .ok_or_else(|| self.invalid(key, value, "expected a mapping"))
    }
}

/// The known key closest to a typo (edit distance at most 3), for the error message.
pub(super) fn closest_key(unknown: &str) -> Option<String> {
    MIGRATOR_KEYS
        .iter()
        .map(|(k, _)| (edit_distance(unknown, k), *k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| k.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let value = (prev + cost).min(above + 1).min(left + 1);
            prev = above;
            if let Some(slot) = row.get_mut(j + 1) {
                *slot = value;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}
