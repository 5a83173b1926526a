//! Writing the site's files: safe to share across rayon workers, counting what it
//! wrote (for the summary and the page-size budget) and removing what an earlier build
//! left behind.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use minijinja::Environment;
use serde::Serialize;

use super::{SiteError, paths};

/// What was written, for the summary.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub pages: usize,
    pub files: usize,
    pub bytes: u64,
    pub largest_page: PathBuf,
    pub largest_page_bytes: u64,
    pub unchanged: usize,
}

#[derive(Debug, Default)]
struct Tally {
    written: Written,
    paths: HashSet<PathBuf>,
}

/// The file that marks a directory as a site cascade wrote. Only in such a directory
/// does a build remove files it did not write, so `--out` pointed at someone's
/// directory never deletes their files.
pub(crate) const MARKER: &str = ".cascade-site";

/// Writes files under one output directory.
#[derive(Debug)]
pub(crate) struct Writer {
    out: PathBuf,
    /// The directory held a site of ours before this build ([`MARKER`]).
    ours: bool,
    tally: Mutex<Tally>,
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SiteError {
    let path = path.to_path_buf();
    move |source| SiteError::Io {
        action,
        path,
        source,
    }
}

impl Writer {
    /// Creates the output directory and the site's subdirectories.
    pub(crate) fn new(out: &Path) -> Result<Writer, SiteError> {
        for dir in [
            paths::ASSETS_DIR,
            paths::MIGRATIONS_DIR,
            paths::FEEDSTOCKS_DIR,
            paths::MIGRATION_JSON_DIR,
            paths::MIGRATION_SVG_DIR,
        ] {
            let path = out.join(dir);
            fs_err::create_dir_all(&path).map_err(io_error("create directory", &path))?;
        }
        let ours = out.join(MARKER).is_file();
        let marker = out.join(MARKER);
        fs_err::write(&marker, "written by `cascade status build`\n")
            .map_err(io_error("write", &marker))?;
        Ok(Writer {
            out: out.to_path_buf(),
            ours,
            tally: Mutex::new(Tally::default()),
        })
    }

    /// Writes `contents` to `relative` (a path under the output directory), unless the
    /// file already holds exactly these bytes: a republish then touches only what
    /// changed, which is what makes it cheap on a slow disk and small in a git-backed
    /// deployment (cf-scripts commits its status directory to a repository).
    pub(crate) fn write(&self, relative: &str, contents: &[u8]) -> Result<(), SiteError> {
        let path = self.out.join(relative);
        let same = fs_err::metadata(&path).is_ok_and(|m| m.len() == contents.len() as u64)
            && fs_err::read(&path).is_ok_and(|old| old == contents);
        if !same {
            fs_err::write(&path, contents).map_err(io_error("write", &path))?;
        }
        let bytes = contents.len() as u64;
        let mut tally = self
            .tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = &mut tally.written;
        if same {
            written.unchanged += 1;
        }
        written.files += 1;
        written.bytes += bytes;
        if relative.ends_with(".html") {
            written.pages += 1;
            if bytes > written.largest_page_bytes {
                written.largest_page_bytes = bytes;
                written.largest_page = PathBuf::from(relative);
            }
        }
        tally.paths.insert(path);
        Ok(())
    }

    /// Renders `template` with `context` into `relative`.
    pub(crate) fn render<C: Serialize>(
        &self,
        env: &Environment<'_>,
        template: &'static str,
        relative: &str,
        context: C,
    ) -> Result<(), SiteError> {
        let render_error = |source| SiteError::Render {
            template,
            page: relative.to_string(),
            source,
        };
        let html = env
            .get_template(template)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&context))))
            .map_err(render_error)?;
        self.write(relative, html.as_bytes())
    }

    /// Writes `value` as compact JSON to `relative`.
    pub(crate) fn json<T: Serialize + ?Sized>(
        &self,
        relative: &str,
        value: &T,
    ) -> Result<(), SiteError> {
        let path = self.out.join(relative);
        let bytes = serde_json::to_vec(value)
            .map_err(|e| io_error("serialize", &path)(io::Error::other(e)))?;
        self.write(relative, &bytes)
    }

    /// A `{string: string}` JSON file a previous build left, or an empty map when it is
    /// missing or unreadable (then nothing counts as closed by this build).
    pub(crate) fn read_json_map(&self, relative: &str) -> BTreeMap<String, String> {
        let path = self.out.join(relative);
        let Ok(text) = fs_err::read_to_string(&path) else {
            return BTreeMap::new();
        };
        serde_json::from_str(&text).unwrap_or_else(|error| {
            tracing::warn!(path = %path.display(), %error, "ignoring an unreadable status file of an earlier build");
            BTreeMap::new()
        })
    }

    /// Removes the files in `dirs` that this build did not write; returns how many. Does
    /// nothing in a directory that did not hold a site of ours before ([`MARKER`]).
    pub(crate) fn remove_stale(&self, dirs: &[&str]) -> Result<usize, SiteError> {
        if !self.ours {
            return Ok(0);
        }
        let tally = self
            .tally
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut removed = 0;
        for dir in dirs {
            let dir = self.out.join(dir);
            let entries = fs_err::read_dir(&dir).map_err(io_error("read directory", &dir))?;
            for entry in entries {
                let entry = entry.map_err(io_error("read directory", &dir))?;
                let path = entry.path();
                let is_file = entry.file_type().is_ok_and(|t| t.is_file());
                if is_file && !tally.paths.contains(&path) {
                    fs_err::remove_file(&path).map_err(io_error("remove", &path))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Removes `relative` when it exists (a page this build has no data for) in a
    /// directory that held a site of ours.
    pub(crate) fn remove_if_present(&self, relative: &str) -> Result<(), SiteError> {
        let path = self.out.join(relative);
        if self.ours && path.is_file() {
            fs_err::remove_file(&path).map_err(io_error("remove", &path))?;
        }
        Ok(())
    }

    /// The counts of everything written.
    pub(crate) fn finish(self) -> Written {
        self.tally
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .written
    }
}
