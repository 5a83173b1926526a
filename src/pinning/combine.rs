//! The variant matrix of one platform: exploding a combined spec into variants
//! (reference §2.4), then collapsing the variants the recipe keeps into per-job configs
//! (§2.7).
//!
//! Most of the pinning's ~300 keys have a single value, so a [`Matrix`] stores those once
//! and keeps per-variant rows only for keys that can vary. A variant is an index into
//! the rows.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;

use super::algebra::version_cmp;
use super::cbc::VariantSpec;

/// Keys that are never loop variables or explodable values.
const SPECIAL: [&str; 4] = [
    "pin_run_as_build",
    "zip_keys",
    "ignore_version",
    "extend_keys",
];

/// All variants of a platform.
#[derive(Debug, Clone)]
pub(crate) struct Matrix<'a> {
    /// Keys with one value in every variant (borrowed from the spec; the pinning has
    /// ~300 of them).
    pub(crate) constant: IndexMap<&'a str, Cow<'a, str>, foldhash::fast::RandomState>,
    /// Keys that take their value from the row.
    pub(crate) varying: Vec<String>,
    /// One row per variant: values of `varying`, in order.
    pub(crate) rows: Vec<Vec<String>>,
    /// Zip groups of the spec (keys present in the spec only).
    pub(crate) zip_keys: Vec<Vec<String>>,
    /// Dimensions no output can use: not multiplied into the rows. Each is its keys and
    /// its rows; every variant stands for all of them.
    pub(crate) free: Vec<(Vec<String>, Vec<Vec<String>>)>,
}

impl<'a> Matrix<'a> {
    /// Explodes a spec (conda-build `dict_of_lists_to_list_of_dicts`): every key is a
    /// dimension, a zip group is one dimension of zipped rows (cut to the shortest list,
    /// as Python's `zip` does).
    ///
    /// Dimensions without a `relevant` key are kept aside ([`Matrix::free`]): the
    /// pinning has many multi-valued keys a recipe never uses, and multiplying them out
    /// would only make more identical variants.
    pub(crate) fn explode(spec: &'a VariantSpec, relevant: &dyn Fn(&str) -> bool) -> Matrix<'a> {
        let mut constant = IndexMap::default();
        let mut dims: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
        let zip_keys: Vec<Vec<String>> = spec
            .zip_keys
            .iter()
            .map(|g| {
                g.iter()
                    .filter(|k| spec.values.contains_key(*k))
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .filter(|g: &Vec<String>| !g.is_empty())
            .collect();
        let mut zipped: BTreeSet<&str> = BTreeSet::new();
        for group in &zip_keys {
            let lists: Vec<&Vec<String>> =
                group.iter().filter_map(|k| spec.values.get(k)).collect();
            let len = lists.iter().map(|l| l.len()).min().unwrap_or(0);
            if len == 1 {
                for k in group {
                    if let Some((key, list)) = spec.values.get_key_value(k.as_str()) {
                        constant.insert(key.as_str(), Cow::Borrowed(list[0].as_str()));
                    }
                }
            } else {
                let rows = (0..len)
                    .map(|i| lists.iter().map(|l| l[i].clone()).collect())
                    .collect();
                dims.push((group.clone(), rows));
            }
            zipped.extend(group.iter().map(String::as_str));
        }
        for (key, values) in &spec.values {
            if zipped.contains(key.as_str()) || SPECIAL.contains(&key.as_str()) {
                continue;
            }
            match values.as_slice() {
                [one] => {
                    constant.insert(key.as_str(), Cow::Borrowed(one.as_str()));
                }
                many => dims.push((
                    vec![key.clone()],
                    many.iter().map(|v| vec![v.clone()]).collect(),
                )),
            }
        }
        let (dims, free): (Vec<_>, Vec<_>) = dims
            .into_iter()
            .partition(|(keys, _)| keys.iter().any(|k| relevant(k)));
        let varying: Vec<String> = dims.iter().flat_map(|(k, _)| k.iter().cloned()).collect();
        let mut rows: Vec<Vec<String>> = vec![Vec::new()];
        for (_, dim_rows) in &dims {
            let mut next = Vec::with_capacity(rows.len() * dim_rows.len());
            for row in &rows {
                for dim_row in dim_rows {
                    let mut r = row.clone();
                    r.extend(dim_row.iter().cloned());
                    next.push(r);
                }
            }
            rows = next;
        }
        Matrix {
            constant,
            varying,
            rows,
            zip_keys,
            free,
        }
    }

    /// The free dimension holding a key: (its keys, its rows).
    pub(crate) fn free_dim(&self, key: &str) -> Option<&(Vec<String>, Vec<Vec<String>>)> {
        self.free
            .iter()
            .find(|(keys, _)| keys.iter().any(|k| k == key))
    }

    /// The value of a key in a variant.
    pub(crate) fn value(&self, variant: usize, key: &str) -> Option<&str> {
        if let Some(v) = self.constant.get(key) {
            return Some(v.as_ref());
        }
        if let Some(column) = self.varying.iter().position(|k| k == key) {
            return self.rows.get(variant)?.get(column).map(String::as_str);
        }
        let (keys, rows) = self.free_dim(key)?;
        let column = keys.iter().position(|k| k == key)?;
        rows.first()?.get(column).map(String::as_str)
    }

    /// Every ordinary key.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.constant
            .keys()
            .copied()
            .chain(self.varying.iter().map(String::as_str))
            .chain(
                self.free
                    .iter()
                    .flat_map(|(k, _)| k.iter().map(String::as_str)),
            )
    }

    /// Keys whose value differs between variants (conda-build `get_vars(loop_only)`).
    pub(crate) fn loop_vars(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (column, key) in self.varying.iter().enumerate() {
            if let Some(first) = self.rows.first().and_then(|r| r.get(column))
                && self.rows.iter().any(|r| r.get(column) != Some(first))
            {
                out.insert(key.clone());
            }
        }
        for (keys, rows) in &self.free {
            for (column, key) in keys.iter().enumerate() {
                if rows.iter().any(|r| r.get(column) != rows[0].get(column)) {
                    out.insert(key.clone());
                }
            }
        }
        out
    }

    /// Keeps only the variants whose `key` has `value` (noarch python reduction).
    pub(crate) fn retain(&mut self, key: &str, value: &str) {
        if let Some(column) = self.varying.iter().position(|k| k == key) {
            self.rows
                .retain(|r| r.get(column).is_some_and(|v| v == value));
        }
    }

    /// Merges the macOS deployment target into every variant: with S =
    /// `c_stdlib_version`, M = `MACOSX_DEPLOYMENT_TARGET` (default S) and K =
    /// `MACOSX_SDK_VERSION` (default S), S = M = max(S, M) and K = max(K, S).
    pub(crate) fn merge_macos_targets(&mut self) {
        const S: &str = "c_stdlib_version";
        const M: &str = "MACOSX_DEPLOYMENT_TARGET";
        const K: &str = "MACOSX_SDK_VERSION";
        if self.value(0, S).is_none() {
            return;
        }
        let all_constant = [S, M, K]
            .iter()
            .all(|k| !self.varying.iter().any(|v| v == k));
        let compute = |s: Option<&str>, m: Option<&str>, k: Option<&str>| {
            let s = s.or(m).unwrap_or_default().to_string();
            let m = m.map_or(s.clone(), str::to_string);
            let s = max_version(&s, &m);
            let k = k.map_or(s.clone(), str::to_string);
            let k = max_version(&k, &s);
            [s.clone(), s, k]
        };
        if all_constant {
            let values = compute(
                self.constant.get(S).map(|v| v.as_ref()),
                self.constant.get(M).map(|v| v.as_ref()),
                self.constant.get(K).map(|v| v.as_ref()),
            );
            for (key, value) in [S, M, K].iter().zip(values) {
                self.constant.insert(key, Cow::Owned(value));
            }
            return;
        }
        // Some of them vary: make all three per-row.
        for key in [S, M, K] {
            if let Some(value) = self.constant.shift_remove(key) {
                self.varying.push(key.to_string());
                for row in &mut self.rows {
                    row.push(value.to_string());
                }
            } else if !self.varying.iter().any(|v| v == key) {
                self.varying.push(key.to_string());
                for row in &mut self.rows {
                    row.push(String::new());
                }
            }
        }
        let columns: Vec<usize> = [S, M, K]
            .iter()
            .filter_map(|k| self.varying.iter().position(|v| v == k))
            .collect();
        for row in &mut self.rows {
            let get = |c: usize| row.get(c).filter(|v| !v.is_empty()).map(String::as_str);
            let values = compute(get(columns[0]), get(columns[1]), get(columns[2]));
            for (c, value) in columns.iter().zip(values) {
                if let Some(slot) = row.get_mut(*c) {
                    *slot = value;
                }
            }
        }
    }
}

fn max_version(a: &str, b: &str) -> String {
    if version_cmp(a, b) == Ordering::Less {
        b.to_string()
    } else {
        a.to_string()
    }
}

/// One kept output render ("meta"): the variants it stands for, and its used keys.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// The variants (indices into the matrix) this meta was rendered for.
    pub(crate) variants: Vec<usize>,
    /// Keys it uses (its own scan).
    pub(crate) used: BTreeSet<String>,
    /// Keys it uses when scanned "top level".
    pub(crate) used_top: BTreeSet<String>,
    /// True for a noarch output.
    pub(crate) noarch: bool,
}

/// A job's config: key → values, plus the trimmed zip groups and pins.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct JobConfig {
    /// Ordinary keys, values in file order.
    pub(crate) values: BTreeMap<String, Vec<String>>,
    /// Zip groups that survived trimming.
    pub(crate) zip_keys: Vec<Vec<String>>,
    /// `pin_run_as_build` entries that survived trimming.
    pub(crate) pin_run_as_build: BTreeMap<String, IndexMap<String, String>>,
}

/// What collapsing needs besides the matrix and the metas.
pub(crate) struct CollapseInput<'a> {
    /// The matrix.
    pub(crate) matrix: &'a Matrix<'a>,
    /// The kept metas.
    pub(crate) metas: &'a [Meta],
    /// Every key any meta uses, plus always-kept keys.
    pub(crate) all_used: &'a BTreeSet<String>,
    /// The top-level loop variables (jobs split on these).
    pub(crate) top_level: &'a BTreeSet<String>,
    /// Keys whose used values come from the input (v1: keys no output reports).
    pub(crate) from_input: &'a BTreeSet<String>,
    /// The spec's `pin_run_as_build`.
    pub(crate) pins: &'a IndexMap<String, IndexMap<String, String>>,
}

/// A zip group after collapsing: its keys and distinct rows.
#[derive(Debug, Clone)]
struct Group {
    keys: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Collapses the kept variants into per-job configs (steps 1–5 of reference §2.7).
pub(crate) fn collapse(input: &CollapseInput<'_>) -> Vec<JobConfig> {
    let matrix = input.matrix;
    let used_variants: BTreeSet<usize> = input
        .metas
        .iter()
        .flat_map(|m| m.variants.iter().copied())
        .collect();
    let all_variants: Vec<usize> = (0..matrix.rows.len()).collect();
    let source = |key: &str| -> Vec<usize> {
        if input.from_input.contains(key) || used_variants.is_empty() {
            all_variants.clone()
        } else {
            used_variants.iter().copied().collect()
        }
    };
    let present: Vec<&str> = matrix
        .keys()
        .filter(|k| input.all_used.contains(*k))
        .collect();
    // Zip groups restricted to present keys; groups of one key dissolve.
    let mut groups: Vec<Group> = Vec::new();
    let mut in_group: BTreeSet<&str> = BTreeSet::new();
    for group in &matrix.zip_keys {
        let keys: Vec<String> = group
            .iter()
            .filter(|k| present.contains(&k.as_str()))
            .cloned()
            .collect();
        if keys.len() < 2 {
            continue;
        }
        let mut rows: Vec<Vec<String>> = Vec::new();
        if let Some((free_keys, free_rows)) = matrix.free_dim(&keys[0]) {
            let columns: Vec<usize> = keys
                .iter()
                .filter_map(|k| free_keys.iter().position(|f| f == k))
                .collect();
            for free_row in free_rows {
                let row: Vec<String> = columns.iter().map(|c| free_row[*c].clone()).collect();
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        } else {
            for v in source(&keys[0]) {
                let row: Vec<String> = keys
                    .iter()
                    .map(|k| matrix.value(v, k).unwrap_or_default().to_string())
                    .collect();
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        in_group.extend(group.iter().map(String::as_str));
        groups.push(Group { keys, rows });
    }
    let mut singles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for key in &present {
        if groups.iter().any(|g| g.keys.iter().any(|k| k == key)) {
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        if let Some((free_keys, free_rows)) = matrix.free_dim(key) {
            let column = free_keys.iter().position(|f| f == key).unwrap_or(0);
            for row in free_rows {
                if let Some(value) = row.get(column)
                    && !values.contains(value)
                {
                    values.push(value.clone());
                }
            }
        } else {
            for v in source(key) {
                if let Some(value) = matrix.value(v, key)
                    && !values.iter().any(|x| x == value)
                {
                    values.push(value.to_string());
                }
            }
        }
        singles.insert((*key).to_string(), values);
    }
    let pins: BTreeMap<String, IndexMap<String, String>> = input
        .pins
        .iter()
        .filter(|(package, _)| present.contains(&package.replace('-', "_").as_str()))
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    // Split into jobs along the top-level loop variables.
    let mut jobs: Vec<(BTreeMap<String, String>, JobConfig)> = vec![(
        BTreeMap::new(),
        JobConfig {
            values: BTreeMap::new(),
            zip_keys: groups.iter().map(|g| g.keys.clone()).collect(),
            pin_run_as_build: pins,
        },
    )];
    for (key, values) in &singles {
        if input.top_level.contains(key) {
            let mut next = Vec::new();
            for (loops, job) in &jobs {
                for value in values {
                    let mut loops = loops.clone();
                    loops.insert(key.clone(), value.clone());
                    let mut job = job.clone();
                    job.values.insert(key.clone(), vec![value.clone()]);
                    next.push((loops, job));
                }
            }
            jobs = next;
        } else {
            for (_, job) in &mut jobs {
                job.values.insert(key.clone(), values.clone());
            }
        }
    }
    for group in &groups {
        let loop_columns: Vec<usize> = group
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| input.top_level.contains(*k))
            .map(|(i, _)| i)
            .collect();
        let mut tuples: Vec<Vec<&String>> = Vec::new();
        for row in &group.rows {
            let t: Vec<&String> = loop_columns.iter().map(|c| &row[*c]).collect();
            if !tuples.contains(&t) {
                tuples.push(t);
            }
        }
        let mut next = Vec::new();
        for (loops, job) in &jobs {
            for tuple in &tuples {
                let rows: Vec<&Vec<String>> = group
                    .rows
                    .iter()
                    .filter(|r| loop_columns.iter().zip(tuple).all(|(c, v)| &&r[*c] == v))
                    .collect();
                let mut loops = loops.clone();
                for (c, v) in loop_columns.iter().zip(tuple) {
                    loops.insert(group.keys[*c].clone(), (*v).clone());
                }
                let mut job = job.clone();
                for (column, key) in group.keys.iter().enumerate() {
                    job.values.insert(
                        key.clone(),
                        rows.iter().map(|r| r[column].clone()).collect(),
                    );
                }
                next.push((loops, job));
            }
        }
        jobs = next;
    }
    // Drop jobs no kept meta renders.
    jobs.into_iter()
        .filter(|(loops, _)| {
            let loops: Vec<(&String, &String)> = loops
                .iter()
                .filter(|(k, _)| k.as_str() != "target_platform")
                .collect();
            loops.is_empty()
                || input.metas.iter().any(|meta| {
                    meta.variants.iter().any(|v| {
                        loops
                            .iter()
                            .all(|(k, value)| matrix.value(*v, k) == Some(value.as_str()))
                    })
                })
        })
        .map(|(_, job)| job)
        .collect()
}

/// Sorts a job's values for the file: zipped keys by their tuples, other lists as text.
pub(crate) fn sort_values(job: &mut JobConfig) {
    let zipped: BTreeSet<String> = job.zip_keys.iter().flatten().cloned().collect();
    for (key, values) in &mut job.values {
        if !zipped.contains(key) {
            values.sort();
            values.dedup();
        }
    }
    job.zip_keys.sort();
    for group in &job.zip_keys {
        let len = group
            .iter()
            .filter_map(|k| job.values.get(k).map(Vec::len))
            .min()
            .unwrap_or(0);
        let mut rows: Vec<Vec<String>> = (0..len)
            .map(|i| {
                group
                    .iter()
                    .map(|k| {
                        job.values
                            .get(k)
                            .and_then(|v| v.get(i))
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        rows.sort();
        rows.dedup();
        for (column, key) in group.iter().enumerate() {
            job.values.insert(
                key.clone(),
                rows.iter().map(|r| r[column].clone()).collect(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pinning::cbc::load_plain_spec;

    fn matrix(text: &str) -> Matrix<'static> {
        // Tests only: the spec lives as long as the test process.
        let spec: &'static VariantSpec = Box::leak(Box::new(load_plain_spec(text).unwrap()));
        Matrix::explode(spec, &|_| true)
    }

    #[test]
    fn zip_groups_are_one_dimension() {
        let m = matrix(
            "python: [a, b]\nflag:\n  - x\n  - y\nnumpy:\n  - 1\n  - 2\nzip_keys:\n  - - python\n    - flag\n",
        );
        assert_eq!(m.rows.len(), 4);
        assert_eq!(
            m.loop_vars(),
            ["flag", "numpy", "python"].map(String::from).into()
        );
    }

    #[test]
    fn macos_targets_follow_the_stdlib() {
        let mut m = matrix("c_stdlib_version: ['11.0']\nMACOSX_SDK_VERSION:\n  - '10.13'\n");
        m.merge_macos_targets();
        assert_eq!(m.value(0, "MACOSX_DEPLOYMENT_TARGET"), Some("11.0"));
        assert_eq!(m.value(0, "MACOSX_SDK_VERSION"), Some("11.0"));
    }

    #[test]
    fn a_key_used_by_every_output_splits_jobs_and_others_stay_whole() {
        let m = matrix(
            "python: ['3.10', '3.11']\nnumpy:\n  - '1'\n  - '2'\ntarget_platform:\n  - linux-64\n",
        );
        let metas = vec![Meta {
            variants: (0..m.rows.len()).collect(),
            used: ["python", "numpy"].map(String::from).into(),
            used_top: ["python"].map(String::from).into(),
            noarch: false,
        }];
        let all_used: BTreeSet<String> = ["python", "numpy", "target_platform"]
            .map(String::from)
            .into();
        let top: BTreeSet<String> = ["python", "target_platform"].map(String::from).into();
        let jobs = collapse(&CollapseInput {
            matrix: &m,
            metas: &metas,
            all_used: &all_used,
            top_level: &top,
            from_input: &BTreeSet::new(),
            pins: &IndexMap::new(),
        });
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].values["numpy"], ["1", "2"]);
    }
}
