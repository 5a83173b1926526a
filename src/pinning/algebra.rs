//! CFEP-9 variant algebra: `variant_add(left, migration)` (conda-smithy
//! `variant_algebra.py`, reference §1.5).
//!
//! Plain keys merge element-wise taking the newer version (migrations never downgrade),
//! or by an explicit `ordering`; `primary_key` carries a zip group's partners along;
//! `key_add` / `key_remove` add or remove whole zipped tuples.

use std::cmp::Ordering;
use std::str::FromStr;

use rattler_conda_types::Version;

use super::cbc::VariantSpec;
use super::migrations::{Migration, Operation};

/// Compares two values in conda version order after smithy's normalisation (spaces
/// become `.`, `*` becomes `1`); values that are not versions compare as text.
pub(crate) fn version_cmp(a: &str, b: &str) -> Ordering {
    let norm = |s: &str| s.replace(' ', ".").replace('*', "1");
    match (Version::from_str(&norm(a)), Version::from_str(&norm(b))) {
        (Ok(va), Ok(vb)) => va.cmp(&vb),
        _ => a.cmp(b),
    }
}

/// The position of a value in an explicit ordering.
fn position(ordering: &[String], key: &str, value: &str) -> Result<usize, String> {
    ordering
        .iter()
        .position(|o| o == value)
        .ok_or_else(|| format!("value `{value}` of `{key}` is not in its `ordering` {ordering:?}"))
}

/// Merges two lists of one key (`variant_key_add`): by `ordering` when given (union of
/// positions, the last N kept), else element-wise by version with the tail appended.
fn key_merge(
    key: &str,
    left: &[String],
    right: &[String],
    ordering: Option<&Vec<String>>,
) -> Result<Vec<String>, String> {
    if let Some(ordering) = ordering {
        let mut positions = Vec::new();
        for value in left.iter().chain(right) {
            let p = position(ordering, key, value)?;
            if !positions.contains(&p) {
                positions.push(p);
            }
        }
        positions.sort_unstable();
        let keep = left.len().max(right.len());
        let skip = positions.len().saturating_sub(keep);
        return Ok(positions
            .into_iter()
            .skip(skip)
            .filter_map(|p| ordering.get(p).cloned())
            .collect());
    }
    let common = left.len().min(right.len());
    let mut out: Vec<String> = left
        .iter()
        .zip(right)
        .map(|(l, r)| {
            if version_cmp(l, r) == Ordering::Less {
                r.clone()
            } else {
                l.clone()
            }
        })
        .collect();
    for list in [left, right] {
        if list.len() > common {
            out.extend_from_slice(&list[common..]);
        }
    }
    Ok(out)
}

/// Folds one migration into the spec.
pub(crate) fn variant_add(left: VariantSpec, right: &Migration) -> Result<VariantSpec, String> {
    match right.operation {
        Some(Operation::KeyAdd) => return key_add(left, right),
        Some(Operation::KeyRemove) => return key_remove(left, right),
        None => {}
    }
    let mut out = left;
    // pin_run_as_build: union, the migration wins per package.
    for (package, pin) in &right.spec.pin_run_as_build {
        out.pin_run_as_build.insert(package.clone(), pin.clone());
    }
    for (key, values) in &right.spec.extend {
        let entry = out.extend.entry(key.clone()).or_default();
        for v in values {
            if !entry.contains(v) {
                entry.push(v.clone());
            }
        }
    }
    if !right.spec.zip_keys.is_empty() {
        out.zip_keys = if out.zip_keys.is_empty() {
            right.spec.zip_keys.clone()
        } else {
            merge_zip_keys(&out.zip_keys, &right.spec.zip_keys)
        };
    }
    // primary_key: its partners follow the positions kept for it.
    let mut handled: Vec<String> = Vec::new();
    if let Some(primary) = right.primary_key.as_deref()
        && let (Some(l), Some(r)) = (out.values.get(primary), right.spec.values.get(primary))
    {
        let (l, r) = (l.clone(), r.clone());
        let merged = key_merge(primary, &l, &r, right.ordering.get(primary))?;
        let joined: Vec<&String> = l.iter().chain(&r).collect();
        let picks: Vec<usize> = merged
            .iter()
            .filter_map(|v| joined.iter().position(|j| *j == v))
            .collect();
        let group: Vec<String> = out
            .zip_keys
            .iter()
            .chain(&right.spec.zip_keys)
            .find(|g| g.iter().any(|k| k == primary))
            .cloned()
            .unwrap_or_default();
        for key in group.iter().filter(|k| k.as_str() != primary) {
            let lk = out.values.get(key).cloned().unwrap_or_default();
            let rk = right.spec.values.get(key).cloned().unwrap_or_default();
            let joined: Vec<String> = lk.into_iter().chain(rk).collect();
            let picked: Vec<String> = picks
                .iter()
                .filter_map(|p| joined.get(*p).cloned())
                .collect();
            out.values.insert(key.clone(), picked);
            handled.push(key.clone());
        }
        out.values.insert(primary.to_string(), merged);
        handled.push(primary.to_string());
    }
    for (key, values) in &right.spec.values {
        if handled.contains(key) {
            continue;
        }
        let merged = match out.values.get(key) {
            None => values.clone(),
            Some(current) => key_merge(key, current, values, right.ordering.get(key))?,
        };
        out.values.insert(key.clone(), merged);
    }
    Ok(out)
}

/// Merges zip groups: each right group (largest first) replaces a left group (largest
/// first) that is a subset of it; unmatched groups of both sides stay. Groups end up
/// sorted, and the list sorted by (length, keys).
fn merge_zip_keys(left: &[Vec<String>], right: &[Vec<String>]) -> Vec<Vec<String>> {
    let mut lefts: Vec<Vec<String>> = left.to_vec();
    let mut rights: Vec<Vec<String>> = right.to_vec();
    lefts.sort_by_key(|g| std::cmp::Reverse(g.len()));
    rights.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let mut used_left = vec![false; lefts.len()];
    let mut result: Vec<Vec<String>> = Vec::new();
    for group in &rights {
        if let Some(i) = lefts
            .iter()
            .enumerate()
            .position(|(i, l)| !used_left[i] && l.iter().all(|k| group.contains(k)))
        {
            used_left[i] = true;
        }
        result.push(group.clone());
    }
    for (i, group) in lefts.into_iter().enumerate() {
        if !used_left[i] && !result.contains(&group) {
            result.push(group);
        }
    }
    for group in &mut result {
        group.sort();
        group.dedup();
    }
    result.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    result.dedup();
    result
}

/// The zip group holding `key`, or a one-key group.
fn group_with(spec: &VariantSpec, key: &str) -> Vec<String> {
    spec.group_of(key)
        .cloned()
        .unwrap_or_else(|| vec![key.to_string()])
}

/// `operation: key_add`.
fn key_add(left: VariantSpec, right: &Migration) -> Result<VariantSpec, String> {
    let primary = right
        .primary_key
        .as_deref()
        .ok_or("`key_add` needs a `primary_key`")?;
    let Some(new_values) = right.spec.values.get(primary) else {
        return Ok(left);
    };
    let mut out = left;
    let length =
        out.values.get(primary).map(Vec::len).ok_or_else(|| {
            format!("`key_add` on `{primary}`, which the pinning does not define")
        })?;
    // Extend (or create) the zip group with the additional keys, broadcasting them.
    let mut newly_zipped: Vec<String> = Vec::new();
    if !right.additional_zip_keys.is_empty() {
        let index = match out
            .zip_keys
            .iter()
            .position(|g| g.iter().any(|k| k == primary))
        {
            Some(i) => i,
            None => {
                out.zip_keys.push(vec![primary.to_string()]);
                out.zip_keys.len() - 1
            }
        };
        for key in &right.additional_zip_keys {
            if out.zip_keys.get(index).is_some_and(|g| g.contains(key)) {
                continue;
            }
            let current = out.values.get(key).cloned().unwrap_or_default();
            if current.len() != 1 {
                return Err(format!(
                    "`additional_zip_keys` entry `{key}` must have exactly one value before \
                     it is zipped with `{primary}`, it has {}",
                    current.len()
                ));
            }
            out.values
                .insert(key.clone(), vec![current[0].clone(); length]);
            if let Some(group) = out.zip_keys.get_mut(index) {
                group.push(key.clone());
            }
            newly_zipped.push(key.clone());
        }
    }
    let group = group_with(&out, primary);
    for key in &group {
        if !right.spec.values.contains_key(key) {
            return Err(format!(
                "`key_add` on `{primary}` must give a value for every key zipped with it; \
                 `{key}` is missing"
            ));
        }
    }
    let mut rows: Vec<Vec<String>> = (0..length)
        .map(|i| {
            group
                .iter()
                .map(|k| {
                    out.values
                        .get(k)
                        .and_then(|v| v.get(i))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    for i in 0..new_values.len() {
        let row: Vec<String> = group
            .iter()
            .map(|k| {
                right
                    .spec
                    .values
                    .get(k)
                    .and_then(|v| v.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    let primary_index = group.iter().position(|k| k == primary).unwrap_or(0);
    let ordering = right.ordering.get(primary);
    let mut failure = None;
    rows.sort_by(|a, b| {
        let (x, y) = (&a[primary_index], &b[primary_index]);
        match ordering {
            Some(o) => match (position(o, primary, x), position(o, primary, y)) {
                (Ok(px), Ok(py)) => px.cmp(&py),
                (Err(e), _) | (_, Err(e)) => {
                    failure.get_or_insert(e);
                    Ordering::Equal
                }
            },
            None => version_cmp(x, y),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    for (column, key) in group.iter().enumerate() {
        out.values.insert(
            key.clone(),
            rows.iter().map(|r| r[column].clone()).collect(),
        );
    }
    for (key, order) in &right.ordering {
        if key == primary || newly_zipped.contains(key) || group.contains(key) {
            continue;
        }
        if let (Some(l), Some(r)) = (out.values.get(key), right.spec.values.get(key)) {
            let merged = key_merge(key, l, r, Some(order))?;
            out.values.insert(key.clone(), merged);
        }
    }
    Ok(out)
}

/// `operation: key_remove`.
fn key_remove(left: VariantSpec, right: &Migration) -> Result<VariantSpec, String> {
    let primary = right
        .primary_key
        .as_deref()
        .ok_or("`key_remove` needs a `primary_key`")?;
    let Some(remove) = right.spec.values.get(primary) else {
        return Ok(left);
    };
    let mut out = left;
    let Some(current) = out.values.get(primary).cloned() else {
        return Ok(out);
    };
    let keep: Vec<bool> = current.iter().map(|v| !remove.contains(v)).collect();
    for key in group_with(&out, primary) {
        if let Some(values) = out.values.get_mut(&key) {
            let kept: Vec<String> = values
                .iter()
                .zip(keep.iter().chain(std::iter::repeat(&true)))
                .filter(|(_, k)| **k)
                .map(|(v, _)| v.clone())
                .collect();
            *values = kept;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinning::cbc::load_plain_spec;

    fn spec(text: &str) -> VariantSpec {
        load_plain_spec(text).unwrap()
    }

    fn migration(text: &str) -> Migration {
        Migration::from_selected(text, "m.yaml".into()).unwrap()
    }

    fn values(spec: &VariantSpec, key: &str) -> Vec<String> {
        spec.get(key).unwrap_or_default().to_vec()
    }

    #[test]
    fn version_migrations_take_the_newer_value_and_never_downgrade() {
        let left = spec("orc: [2.3.0]\nc_stdlib_version:\n  - '12.0'\n");
        let out = variant_add(
            left,
            &migration("orc: [2.3.1]\nc_stdlib_version:\n  - '11.0'\n"),
        )
        .unwrap();
        assert_eq!(values(&out, "orc"), ["2.3.1"]);
        assert_eq!(values(&out, "c_stdlib_version"), ["12.0"]);
    }

    #[test]
    fn an_ordering_keeps_the_last_entries() {
        let left = spec("cuda_compiler_version: [None, '12.6']\n");
        let m = migration(
            "__migrator:\n  ordering:\n    cuda_compiler_version: ['12.6', None, '12.9']\n\
             cuda_compiler_version: ['12.9']\n",
        );
        let out = variant_add(left, &m).unwrap();
        assert_eq!(values(&out, "cuda_compiler_version"), ["None", "12.9"]);
    }

    #[test]
    fn key_add_appends_a_zipped_tuple_and_broadcasts_new_partners() {
        let left = spec(
            "python: ['3.12.* *_cpython', '3.13.* *_cp313']\nis_python_min: [true, false]\n\
             is_freethreading: [false]\nzip_keys: [[python, is_python_min]]\n",
        );
        let m = migration(
            "__migrator:\n  operation: key_add\n  primary_key: python\n  additional_zip_keys: [is_freethreading]\n\
             python: ['3.14.* *_cp314t']\nis_python_min: [false]\nis_freethreading: [true]\n",
        );
        let out = variant_add(left, &m).unwrap();
        assert_eq!(
            values(&out, "python"),
            ["3.12.* *_cpython", "3.13.* *_cp313", "3.14.* *_cp314t"]
        );
        assert_eq!(values(&out, "is_freethreading"), ["false", "false", "true"]);
        assert_eq!(
            out.zip_keys,
            vec![vec!["python", "is_python_min", "is_freethreading"]]
        );
    }

    #[test]
    fn key_add_without_every_zipped_key_is_an_error() {
        let left =
            spec("python: ['3.12']\nis_python_min: [true]\nzip_keys: [[python, is_python_min]]\n");
        let m = migration(
            "__migrator:\n  operation: key_add\n  primary_key: python\npython: ['3.14']\n",
        );
        assert!(variant_add(left, &m).unwrap_err().contains("is_python_min"));
    }

    #[test]
    fn key_remove_drops_the_value_and_its_partners() {
        let left = spec(
            "python: ['3.9', '3.10']\nis_python_min: [true, false]\nzip_keys: [[python, is_python_min]]\n",
        );
        let m = migration(
            "__migrator:\n  operation: key_remove\n  primary_key: python\npython: ['3.9']\n",
        );
        let out = variant_add(left, &m).unwrap();
        assert_eq!(values(&out, "python"), ["3.10"]);
        assert_eq!(values(&out, "is_python_min"), ["false"]);
    }
}
