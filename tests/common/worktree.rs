//! Work trees the GitHub tests build from corpus feedstocks: writing files into copied
//! (read-only) trees and committing them with git2 at fixed times, so SHAs are
//! reproducible.

use std::path::Path;

use git2::{Oid, Repository, Signature, Time};

/// Writes a file of a work tree, creating its directory; the copied corpus files are
/// read-only, so an existing one is made writable first.
pub fn write_file(path: &Path, content: &[u8]) {
    if path.exists() {
        let mut permissions = fs_err::metadata(path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        fs_err::set_permissions(path, permissions).unwrap();
    }
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, content).unwrap();
}

/// Stages the whole work tree (deletions included) and commits it on HEAD as "Jane
/// Maintainer" at `when`.
pub fn commit_all(repo: &Repository, message: &str, when: Time) -> Oid {
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"], None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let author = Signature::new("Jane Maintainer", "jane@example.org", &when).unwrap();
    let parent = repo.head().ok().map(|h| h.peel_to_commit().unwrap());
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &author, &author, message, &tree, &parents)
        .unwrap()
}
