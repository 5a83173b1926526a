//! The static status site and conda-forge's status JSON, written from a
//! [`StatusReport`].
//!
//! [`build`] writes, under one output directory (every link relative, so the site works
//! from `file://` and from any static host, and no page fetches anything to render):
//!
//! | path | what |
//! | --- | --- |
//! | `index.html` | migrations grouped regular / long-term / paused: progress bar, counts per state, ETA, sparkline |
//! | `migrations/<name>.html` | one migration: figures, forecast and burn-down, blockers, the graph (SVG), the sortable, filterable table of members, exclusions |
//! | `feedstocks/<name>.html` | one feedstock: every migration it is in, its state, reason and decision trace there |
//! | `feedstocks.html` | every feedstock, filterable |
//! | `versions.html` | version updates, queued and errored (only with version data) |
//! | `assets/` | the CSS and JS, embedded in the binary from `status-site/assets/` |
//! | `migration_json/<name>.json`, `migration_svg/<name>.svg`, `regular_status.json`, `longterm_status.json`, `paused_status.json`, `total_status.json`, `closed_status.json`, `version_status.json` | conda-forge's status files (`cf_json`) |
//!
//! Names become file names through `paths::stem`. Everything from the model reaches
//! HTML through minijinja's autoescape or the `escape` module. Pages are rendered and
//! written in parallel (rayon); a file that already holds the same bytes is left alone.
//! In a directory an earlier build marked as a cascade site (`.cascade-site`), files
//! that this build did not write are removed from the directories the site owns; a
//! directory without the marker loses nothing.

mod cf_json;
mod cf_state;
mod charts;
mod dates;
mod embedded;
mod escape;
#[cfg(test)]
mod fixture;
mod graph_svg;
mod pages;
mod paths;
mod table;
#[cfg(test)]
mod tests;
mod versions;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::status::model::{Bucket, StatusReport};

pub use cf_json::VersionStatusJson;
pub use cf_state::CfState;
pub use versions::version_updates;

use pages::Frame;
use write::Writer;

/// The feedstock repositories' URL prefix cf-scripts links to.
pub const CONDA_FORGE_URL_BASE: &str = "https://github.com/conda-forge/";

/// How to build the site.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// Prefix of a feedstock repository URL, followed by `<name>-feedstock`: the link of
    /// a feedstock without a PR (conda-forge: [`CONDA_FORGE_URL_BASE`]).
    pub feedstock_url_base: String,
}

impl Default for SiteOptions {
    fn default() -> Self {
        SiteOptions {
            feedstock_url_base: CONDA_FORGE_URL_BASE.to_string(),
        }
    }
}

/// Version updates for the version page and `version_status.json`: the feedstocks with
/// a newer upstream version the bot has not delivered yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionUpdates {
    /// New versions not attempted yet (or attempted without failing), by name.
    pub queued: Vec<VersionRow>,
    /// New versions whose update failed, by name.
    pub errored: Vec<VersionRow>,
}

/// One feedstock's pending version update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    /// The feedstock.
    pub feedstock: String,
    /// Its recipe's version now.
    pub current_version: Option<String>,
    /// The upstream version it should move to.
    pub new_version: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The last error (errored rows only).
    pub error: Option<String>,
}

/// What a build wrote.
#[derive(Debug, Clone, Serialize)]
pub struct SiteSummary {
    /// The output directory.
    pub out: PathBuf,
    /// The index page.
    pub index: PathBuf,
    /// HTML pages written.
    pub pages: usize,
    /// Files of the site in all (pages, JSON, SVG, assets).
    pub files: usize,
    /// Of those, files that already held the same bytes and were left alone.
    pub unchanged: usize,
    /// Bytes written in all.
    pub bytes: u64,
    /// The largest HTML page, relative to `out`.
    pub largest_page: PathBuf,
    /// Its size in bytes.
    pub largest_page_bytes: u64,
    /// Stale files of an earlier build removed.
    pub removed: usize,
    /// Wall time of the build, milliseconds.
    pub wall_ms: u64,
}

/// Why the site could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// A file or directory could not be written or read.
    #[error("failed to {action} `{}`", .path.display())]
    Io {
        /// What was being done (`write`, `create directory`, ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A template failed to render a page (a bug in a template, not in the data).
    #[error("template `{template}` failed on `{page}`")]
    Render {
        /// The template.
        template: &'static str,
        /// The page it was rendering.
        page: String,
        /// minijinja's error, with the template line.
        #[source]
        source: minijinja::Error,
    },
    /// The embedded templates do not compile (a bug in cascade).
    #[error("internal error: the embedded site templates do not load")]
    Internal(#[source] minijinja::Error),
}

/// Writes the site for `report` (and `versions`, when the store has version data) into
/// `out`, creating it when needed.
pub fn build(
    report: &StatusReport,
    versions: Option<&VersionUpdates>,
    out: &Path,
    options: &SiteOptions,
) -> Result<SiteSummary, SiteError> {
    let started = Instant::now();
    let env = embedded::environment().map_err(SiteError::Internal)?;
    let writer = Writer::new(out)?;
    let frame = |root: &'static str| Frame {
        root,
        generated_at: Some(report.generated_at),
        has_versions: versions.is_some(),
    };
    let undated_frame = || Frame {
        generated_at: None,
        ..frame("../")
    };

    for (name, contents) in embedded::ASSETS {
        writer.write(
            &format!("{}/{name}", paths::ASSETS_DIR),
            contents.as_bytes(),
        )?;
    }
    writer.render(
        &env,
        "index.html",
        "index.html",
        pages::index_page(report, frame("")),
    )?;
    writer.render(
        &env,
        "feedstocks.html",
        "feedstocks.html",
        pages::feedstocks_page(report, frame("")),
    )?;
    if let Some(versions) = versions {
        writer.render(
            &env,
            "versions.html",
            "versions.html",
            pages::versions_page(versions, frame("")),
        )?;
    }

    report
        .migrations
        .par_iter()
        .try_for_each(|migration| -> Result<(), SiteError> {
            let stem = paths::stem(&migration.name);
            writer.render(
                &env,
                "migration.html",
                &paths::migration_page(&migration.name),
                pages::migration_page(migration, frame("../")),
            )?;
            writer.json(
                &format!("{}/{stem}.json", paths::MIGRATION_JSON_DIR),
                &cf_json::migration_json(migration, &options.feedstock_url_base),
            )?;
            let svg = graph_svg::render(
                migration,
                graph_svg::Links::Forge {
                    feedstock_url_base: &options.feedstock_url_base,
                },
            );
            writer.write(
                &format!("{}/{stem}.svg", paths::MIGRATION_SVG_DIR),
                svg.svg.as_bytes(),
            )
        })?;

    let version_of: BTreeMap<&str, &VersionRow> = versions
        .map(|v| v.queued.iter().chain(&v.errored))
        .into_iter()
        .flatten()
        .map(|row| (row.feedstock.as_str(), row))
        .collect();
    report
        .feedstocks
        .par_iter()
        .try_for_each(|(name, feedstock)| {
            writer.render(
                &env,
                "feedstock.html",
                &paths::feedstock_page(name),
                pages::feedstock_page(
                    feedstock,
                    version_of.get(name.as_str()).copied(),
                    &options.feedstock_url_base,
                    undated_frame(),
                ),
            )
        })?;

    write_bucket_files(report, versions, &writer)?;
    let removed = writer.remove_stale(&[
        paths::MIGRATIONS_DIR,
        paths::FEEDSTOCKS_DIR,
        paths::MIGRATION_JSON_DIR,
        paths::MIGRATION_SVG_DIR,
        paths::ASSETS_DIR,
    ])?;
    if versions.is_none() {
        writer.remove_if_present("versions.html")?;
    }
    let written = writer.finish();
    Ok(SiteSummary {
        out: out.to_path_buf(),
        index: out.join("index.html"),
        pages: written.pages,
        files: written.files,
        unchanged: written.unchanged,
        bytes: written.bytes,
        largest_page: written.largest_page,
        largest_page_bytes: written.largest_page_bytes,
        removed,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// The status-page lists, the closed list (from what the previous build left) and the
/// version status.
fn write_bucket_files(
    report: &StatusReport,
    versions: Option<&VersionUpdates>,
    writer: &Writer,
) -> Result<(), SiteError> {
    let total = cf_json::bucket_json(report, None);
    let previous_total = writer.read_json_map("total_status.json");
    let previous_closed = writer.read_json_map("closed_status.json");
    let closed = cf_json::closed_json(
        &previous_total,
        &previous_closed,
        &total,
        report.generated_at,
    );
    for (file, bucket) in [
        ("regular_status.json", Bucket::Regular),
        ("longterm_status.json", Bucket::Longterm),
        ("paused_status.json", Bucket::Paused),
    ] {
        writer.json(file, &cf_json::bucket_json(report, Some(bucket)))?;
    }
    writer.json("total_status.json", &total)?;
    writer.json("closed_status.json", &closed)?;
    let version_status = match versions {
        Some(v) => VersionStatusJson {
            queued: v.queued.iter().map(|r| r.feedstock.clone()).collect(),
            errored: v.errored.iter().map(|r| r.feedstock.clone()).collect(),
            errors: v
                .errored
                .iter()
                .map(|r| (r.feedstock.clone(), r.error.clone().unwrap_or_default()))
                .collect(),
        },
        None => VersionStatusJson::default(),
    };
    writer.json("version_status.json", &version_status)
}
