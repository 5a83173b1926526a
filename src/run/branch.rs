//! From a migrator's change set to what the forge receives: the branch name, the commit,
//! and the diff `--dry-run` prints.
//!
//! Branch names are deterministic: the stem the migrator chose plus `_h` and six hex
//! digits of the uid's hash. The Python bot appends random hex, so a run killed between
//! push and PR creation leaves an orphan branch and the retry opens a second PR; here the
//! retry pushes to the same branch and finds the PR already open.

use sha2::{Digest, Sha256};

use crate::feedstock::Snapshot;
use crate::forge::CommitSpec;
use crate::migrators::{ChangeSet, Identity, Uid};
use crate::pinning::{FileChange, unified_diff};

/// The branch for a change set under a uid (`rebuild-python314-1-1_h3fa9c2`).
pub fn branch_name(change: &ChangeSet, uid: &Uid) -> String {
    let digest = Sha256::digest(uid.key().as_bytes());
    let stem = if change.branch.is_empty() {
        "cascade"
    } else {
        change.branch.as_str()
    };
    format!("{stem}_h{}", &hex::encode(digest)[..6])
}

/// The commit the forge makes for a change set.
pub fn commit_spec(change: &ChangeSet, identity: &Identity) -> CommitSpec {
    CommitSpec {
        writes: change.writes.clone(),
        deletes: change.deletes.clone(),
        message: change.commit_message.clone(),
        author_name: identity.author_name.clone(),
        author_email: identity.author_email.clone(),
    }
}

/// A unified diff of a change set against the files it applies to.
pub fn diff(change: &ChangeSet, files: &Snapshot) -> String {
    let old = |path: &str| files.text(path).map(str::to_string);
    let mut changes: Vec<FileChange> = change
        .writes
        .iter()
        .filter(|(path, new)| old(path).as_deref() != Some(new.as_str()))
        .map(|(path, new)| FileChange {
            path: path.clone(),
            old: old(path),
            new: Some(new.clone()),
        })
        .collect();
    changes.extend(change.deletes.iter().map(|path| FileChange {
        path: path.clone(),
        old: old(path),
        new: None,
    }));
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    unified_diff(&changes)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_branch_is_the_stem_plus_a_stable_uid_hash() {
        let change = ChangeSet {
            branch: "rebuild-python314-1-1".to_string(),
            ..ChangeSet::default()
        };
        let uid = Uid::new("python314", 1);
        let first = branch_name(&change, &uid);
        assert!(first.starts_with("rebuild-python314-1-1_h"), "{first}");
        assert_eq!(first.len(), "rebuild-python314-1-1_h".len() + 6);
        assert_eq!(first, branch_name(&change, &uid));
        let rerun = Uid {
            bot_rerun: 1_700_000_000,
            ..uid
        };
        assert_ne!(first, branch_name(&change, &rerun));
    }

    #[test]
    fn the_diff_shows_writes_and_deletes_but_not_unchanged_files() {
        let files = Snapshot::from_files(
            Path::new("/x"),
            [
                ("recipe/meta.yaml".to_string(), b"number: 0\n".to_vec()),
                (".ci_support/old.yaml".to_string(), b"a: 1\n".to_vec()),
                ("conda-forge.yml".to_string(), b"{}\n".to_vec()),
            ],
        );
        let mut change = ChangeSet::default();
        change
            .writes
            .insert("recipe/meta.yaml".to_string(), "number: 1\n".to_string());
        change
            .writes
            .insert("conda-forge.yml".to_string(), "{}\n".to_string());
        change.deletes.insert(".ci_support/old.yaml".to_string());
        let diff = diff(&change, &files);
        assert!(diff.contains("-number: 0\n+number: 1\n"), "{diff}");
        assert!(diff.contains("+++ /dev/null"), "{diff}");
        assert!(!diff.contains("conda-forge.yml"), "{diff}");
    }
}
