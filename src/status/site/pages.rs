//! What each page shows: the template contexts, built from the status model. The
//! templates only lay out what these structs hold; numbers, forecasts and pictures are
//! decided here.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::status::model::{
    Bucket, DefinitionError, FeedstockStatus, Forecast, MigrationStatus, StateCounts, StatusReport,
};

use super::cf_state::CfState;
use super::graph_svg::{self, Links};
use super::table::{code_str, table_json};
use super::{VersionRow, VersionUpdates, charts, dates, paths};

/// Blockers listed on a migration page.
const BLOCKERS_SHOWN: usize = 50;
/// Excluded feedstocks listed by name on a migration page (the counts cover all).
const EXCLUDED_SHOWN: usize = 500;

/// The parts every page has.
#[derive(Debug, Serialize)]
pub(crate) struct Frame {
    /// Prefix from the page to the site root (`""` or `"../"`).
    pub root: &'static str,
    /// When the report was computed; `None` on feedstock pages, so a republish rewrites
    /// only the feedstocks whose status changed (see `write`).
    pub generated_at: Option<i64>,
    /// Whether the version-updates page exists.
    pub has_versions: bool,
}

/// One state's share of a migration.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Segment {
    state: &'static str,
    label: &'static str,
    count: usize,
    percent: f64,
}

/// The six conda-forge states' counts of a migration.
fn segments(counts: &StateCounts) -> Vec<Segment> {
    let total = counts.total.max(1) as f64;
    CfState::ALL
        .iter()
        .map(|&state| {
            let count = match state {
                CfState::Done => {
                    counts.done + counts.done_declined + counts.done_nothing_to_do + counts.partial
                }
                CfState::InPr => counts.in_pr,
                CfState::AwaitingPr => counts.awaiting_pr,
                CfState::AwaitingParents => counts.awaiting_parents,
                CfState::NotSolvable => counts.not_solvable,
                CfState::BotError => counts.bot_error,
            };
            Segment {
                state: state.as_str(),
                label: state.label(),
                count,
                percent: (count as f64 / total * 1000.0).round() / 10.0,
            }
        })
        .collect()
}

fn bucket_str(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Regular => "regular",
        Bucket::Longterm => "longterm",
        Bucket::Paused => "paused",
    }
}

/// A forecast in a few words (index cards) and in full (migration page).
fn eta(forecast: &Forecast) -> (String, String) {
    match forecast {
        Forecast::Finished { at } => match at {
            Some(at) => (
                format!("finished {}", dates::day(*at)),
                format!("Finished: the last member was done {}.", dates::human(*at)),
            ),
            None => ("finished".into(), "Finished: every member is done.".into()),
        },
        Forecast::Estimate {
            p50,
            p90,
            critical_path,
            latency_p50,
            latency_p90,
            samples,
            ..
        } => (
            format!("ETA {} (P90 {})", dates::day(*p50), dates::day(*p90)),
            format!(
                "Median estimate {}, 90% by {}: {critical_path} wave{} to go on the critical path, \
                 and a PR has taken {} from open to merge (median; P90 {}) over {samples} merged PR{}.",
                dates::human(*p50),
                dates::human(*p90),
                plural(*critical_path as usize),
                dates::duration(*latency_p50),
                dates::duration(*latency_p90),
                plural(*samples),
            ),
        ),
        Forecast::NoEstimate {
            reason,
            critical_path,
        } => (
            "no estimate".into(),
            format!(
                "No estimate: {reason}. {critical_path} wave{} to go on the critical path.",
                plural(*critical_path as usize)
            ),
        ),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A migration on the index.
#[derive(Debug, Serialize)]
struct Card {
    name: String,
    href: String,
    kind: &'static str,
    description: Option<String>,
    pr_limit: u32,
    total: usize,
    done: usize,
    in_pr: usize,
    fraction_done: f64,
    segments: Vec<Segment>,
    eta_short: String,
    sparkline: Option<String>,
}

#[derive(Debug, Serialize)]
struct Group {
    bucket: &'static str,
    title: &'static str,
    migrations: Vec<Card>,
}

/// The index page's context.
#[derive(Debug, Serialize)]
pub(crate) struct IndexPage<'a> {
    #[serde(flatten)]
    frame: Frame,
    migration_count: usize,
    feedstock_count: usize,
    groups: Vec<Group>,
    definition_errors: &'a [DefinitionError],
}

/// Builds the index's context.
pub(crate) fn index_page(report: &StatusReport, frame: Frame) -> IndexPage<'_> {
    let groups = [
        (Bucket::Regular, "Regular"),
        (Bucket::Longterm, "Long-term"),
        (Bucket::Paused, "Paused"),
    ]
    .into_iter()
    .map(|(bucket, title)| Group {
        bucket: bucket_str(bucket),
        title,
        migrations: report
            .migrations
            .iter()
            .filter(|m| m.bucket == bucket)
            .map(|m| Card {
                name: m.name.clone(),
                href: paths::migration_page(&m.name),
                kind: m.kind.as_str(),
                description: m.description.clone(),
                pr_limit: m.pr_limit,
                total: m.progress.total,
                done: m.progress.done,
                in_pr: m.progress.in_pr,
                fraction_done: m.progress.fraction_done,
                segments: segments(&m.counts),
                eta_short: eta(&m.forecast).0,
                sparkline: charts::sparkline(&m.history),
            })
            .collect(),
    })
    .collect();
    IndexPage {
        frame,
        migration_count: report.migrations.len(),
        feedstock_count: report.feedstocks.len(),
        groups,
        definition_errors: &report.definition_errors,
    }
}

#[derive(Debug, Serialize)]
struct Refined {
    state: String,
    cf: &'static str,
    count: usize,
}

#[derive(Debug, Serialize)]
struct BlockerView<'a> {
    feedstock: &'a str,
    state: &'static str,
    cf: &'static str,
    code: String,
    held_back: u32,
    pr_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct ExcludedView<'a> {
    feedstock: &'a str,
    code: String,
    text: &'a str,
}

#[derive(Debug, Serialize)]
struct GraphView {
    svg: String,
    drawn: usize,
    aggregated: usize,
    edges_drawn: usize,
    edges_left_out: usize,
}

#[derive(Debug, Serialize)]
struct MigrationView<'a> {
    name: &'a str,
    stem: String,
    kind: &'static str,
    bucket: &'static str,
    description: Option<&'a str>,
    pr_limit: u32,
    total: usize,
    done: usize,
    in_pr: usize,
    fraction_done: f64,
    fraction_done_or_in_pr: f64,
    segments: Vec<Segment>,
    refined: Vec<Refined>,
    excluded_total: usize,
    excluded_counts: &'a BTreeMap<String, usize>,
    excluded: Vec<ExcludedView<'a>>,
    excluded_more: usize,
    eta_long: String,
    critical_chain: &'a [String],
    burndown: Option<String>,
    blockers: Vec<BlockerView<'a>>,
    blockers_more: usize,
    graph: GraphView,
    table_json: String,
}

/// A migration page's context.
#[derive(Debug, Serialize)]
pub(crate) struct MigrationPage<'a> {
    #[serde(flatten)]
    frame: Frame,
    m: MigrationView<'a>,
}

/// Builds a migration page's context (the graph drawing and the table data included).
pub(crate) fn migration_page(migration: &MigrationStatus, frame: Frame) -> MigrationPage<'_> {
    // Members per reason code: finer than the six states ("awaiting-pr/pr-limit": 40).
    let mut refined: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for node in &migration.nodes {
        let cf = CfState::of(node.state).map_or(usize::MAX, CfState::index);
        *refined.entry((cf, code_str(node.reason.code))).or_default() += 1;
    }
    let refined = refined
        .into_iter()
        .map(|((cf, state), count)| Refined {
            state,
            cf: CfState::ALL.get(cf).map_or("excluded", |s| s.as_str()),
            count,
        })
        .collect();
    let blockers = migration
        .blockers
        .iter()
        .take(BLOCKERS_SHOWN)
        .map(|b| BlockerView {
            feedstock: &b.feedstock,
            state: b.state.as_str(),
            cf: CfState::of(b.state).map_or("excluded", CfState::as_str),
            code: code_str(b.code),
            held_back: b.held_back,
            pr_url: b.pr_url.as_deref(),
        })
        .collect();
    let excluded = migration
        .excluded
        .iter()
        .take(EXCLUDED_SHOWN)
        .map(|e| ExcludedView {
            feedstock: &e.feedstock,
            code: match &e.reason.detail {
                crate::status::model::ReasonDetail::Exclusion { rule, .. } => rule.clone(),
                _ => code_str(e.reason.code),
            },
            text: &e.reason.text,
        })
        .collect();
    let graph = graph_svg::render(migration, Links::Site);
    let critical_chain = match &migration.forecast {
        Forecast::Estimate { critical_chain, .. } => critical_chain.as_slice(),
        _ => &[],
    };
    MigrationPage {
        frame,
        m: MigrationView {
            name: &migration.name,
            stem: paths::stem(&migration.name),
            kind: migration.kind.as_str(),
            bucket: bucket_str(migration.bucket),
            description: migration.description.as_deref(),
            pr_limit: migration.pr_limit,
            total: migration.progress.total,
            done: migration.progress.done,
            in_pr: migration.progress.in_pr,
            fraction_done: migration.progress.fraction_done,
            fraction_done_or_in_pr: migration.progress.fraction_done_or_in_pr,
            segments: segments(&migration.counts),
            refined,
            excluded_total: migration.excluded_counts.values().sum(),
            excluded_counts: &migration.excluded_counts,
            excluded,
            excluded_more: migration.excluded.len().saturating_sub(EXCLUDED_SHOWN),
            eta_long: eta(&migration.forecast).1,
            critical_chain,
            burndown: charts::burndown(&migration.history, &migration.forecast),
            blockers,
            blockers_more: migration.blockers.len().saturating_sub(BLOCKERS_SHOWN),
            graph: GraphView {
                svg: graph.svg,
                drawn: graph.drawn,
                aggregated: graph.aggregated,
                edges_drawn: graph.edges_drawn,
                edges_left_out: graph.edges_left_out,
            },
            table_json: table_json(migration),
        },
    }
}

/// A feedstock page's context.
#[derive(Debug, Serialize)]
pub(crate) struct FeedstockPage<'a> {
    #[serde(flatten)]
    frame: Frame,
    f: &'a FeedstockStatus,
    feedstock_url: String,
    version: Option<&'a VersionRow>,
}

/// Builds a feedstock page's context.
pub(crate) fn feedstock_page<'a>(
    feedstock: &'a FeedstockStatus,
    version: Option<&'a VersionRow>,
    feedstock_url_base: &str,
    frame: Frame,
) -> FeedstockPage<'a> {
    FeedstockPage {
        frame,
        f: feedstock,
        feedstock_url: format!("{feedstock_url_base}{}-feedstock", feedstock.name),
        version,
    }
}

/// The feedstock list's context.
#[derive(Debug, Serialize)]
pub(crate) struct FeedstocksPage {
    #[serde(flatten)]
    frame: Frame,
    count: usize,
    names_json: String,
}

/// Builds the feedstock list's context: `[[name, stem or null]]`, escaped for a script
/// element.
pub(crate) fn feedstocks_page(report: &StatusReport, frame: Frame) -> FeedstocksPage {
    let names: Vec<(&str, Option<String>)> = report
        .feedstocks
        .keys()
        .map(|name| {
            let stem = paths::stem(name);
            (name.as_str(), (stem != *name).then_some(stem))
        })
        .collect();
    FeedstocksPage {
        frame,
        count: names.len(),
        names_json: super::escape::json_for_script(
            &serde_json::to_string(&names).unwrap_or_default(),
        ),
    }
}

/// The version-updates page's context.
#[derive(Debug, Serialize)]
pub(crate) struct VersionsPage<'a> {
    #[serde(flatten)]
    frame: Frame,
    queued: &'a [VersionRow],
    errored: &'a [VersionRow],
}

/// Builds the version-updates page's context.
pub(crate) fn versions_page(versions: &VersionUpdates, frame: Frame) -> VersionsPage<'_> {
    VersionsPage {
        frame,
        queued: &versions.queued,
        errored: &versions.errored,
    }
}
