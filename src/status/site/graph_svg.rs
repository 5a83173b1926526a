//! The migration graph drawn as SVG: members laid out by topological level (top to
//! bottom), coloured by conda-forge state, linked to their pages.
//!
//! Up to [`DETAIL_LIMIT`] members every node is drawn with the edges between them. A
//! larger migration would be an unreadable hairball (cf-scripts gives up at 500 and
//! writes a placeholder), so it is aggregated: per level, one box per state with the
//! member count, and only the not-done frontier — members the bot can act on or is
//! acting on (in PR, awaiting PR, bot error, not solvable) — expanded into nodes, the
//! [`FRONTIER_LIMIT`] holding back the most descendants first. Within a level, nodes
//! are ordered by the mean position of their drawn parents (one barycentre pass), which
//! keeps most edges short.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::graph::{SnapshotCi, SnapshotMergeable};
use crate::status::model::{MigrationStatus, NodeStatus, State};

use super::cf_state::CfState;
use super::escape::xml;
use super::paths;

/// Migrations up to this many members are drawn node by node.
pub(crate) const DETAIL_LIMIT: usize = 300;
/// At most this many frontier nodes are drawn individually in an aggregated graph.
pub(crate) const FRONTIER_LIMIT: usize = 120;
/// Beyond this many edges between drawn nodes, edges are left out.
const EDGE_LIMIT: usize = 3000;

const NODE_W: i64 = 150;
const NODE_H: i64 = 26;
const GAP_X: i64 = 10;
const GAP_Y: i64 = 10;
const LEVEL_GAP: i64 = 30;
const LEFT: i64 = 44;
const TOP: i64 = 12;
const MAX_COLUMNS: usize = 8;
/// Characters of a name that fit a node box at the font size used.
const LABEL_CHARS: usize = 21;

/// Where the nodes of a drawing link to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Links<'a> {
    /// Inline on the migration page: feedstock pages, and aggregate boxes filter the
    /// page's own table.
    Site,
    /// The standalone `migration_svg/<name>.svg`: the PR, else the feedstock's
    /// repository (as cf-scripts links them).
    Forge {
        /// Prefix of a feedstock repository URL (`https://github.com/conda-forge/`).
        feedstock_url_base: &'a str,
    },
}

/// A drawing and what it leaves out, for the caption.
#[derive(Debug, Clone)]
pub(crate) struct GraphSvg {
    /// The `<svg>` element (escaped; safe to embed as is).
    pub svg: String,
    /// Members drawn as their own node.
    pub drawn: usize,
    /// Members counted in aggregate boxes instead.
    pub aggregated: usize,
    /// Edges drawn.
    pub edges_drawn: usize,
    /// Edges between drawn nodes left out (over [`EDGE_LIMIT`], or within a level).
    pub edges_left_out: usize,
}

/// One box of the layout.
enum Item {
    Node(usize),
    Aggregate { state: CfState, count: usize },
}

struct Placed {
    level: u32,
    item: Item,
    x: i64,
    y: i64,
}

/// Draws `migration`'s graph.
pub(crate) fn render(migration: &MigrationStatus, links: Links<'_>) -> GraphSvg {
    let nodes = &migration.nodes;
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.feedstock.as_str(), i))
        .collect();
    let states: Vec<Option<CfState>> = nodes.iter().map(|n| CfState::of(n.state)).collect();
    let individual = choose_individual(nodes, &states);

    // Per level: the nodes drawn on their own, and per-state counts of the rest.
    let mut levels: BTreeMap<u32, (Vec<usize>, [usize; 6])> = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let Some(state) = states.get(i).copied().flatten() else {
            continue;
        };
        let slot = levels.entry(node.level).or_default();
        if individual.get(i).copied().unwrap_or(false) {
            slot.0.push(i);
        } else if let Some(count) = slot.1.get_mut(state.index()) {
            *count += 1;
        }
    }

    let widest = levels
        .values()
        .map(|(drawn, counts)| drawn.len() + counts.iter().filter(|c| **c > 0).count())
        .max()
        .unwrap_or(0);
    let columns = widest.clamp(4, MAX_COLUMNS);

    // Place level by level; `x_of` feeds the barycentre ordering of the next level.
    let mut x_of: HashMap<usize, i64> = HashMap::new();
    let mut placed: Vec<Placed> = Vec::new();
    let mut y = TOP;
    for (&level, (drawn, counts)) in &mut levels {
        let key = |i: usize| -> (i64, std::cmp::Reverse<u32>, &str) {
            let node = nodes.get(i);
            let parents = node.map(|n| n.parents.as_slice()).unwrap_or_default();
            let xs: Vec<i64> = parents
                .iter()
                .filter_map(|p| index.get(p.as_str()))
                .filter_map(|p| x_of.get(p).copied())
                .collect();
            let bary = if xs.is_empty() {
                i64::MAX
            } else {
                xs.iter().sum::<i64>() / xs.len() as i64
            };
            (
                bary,
                std::cmp::Reverse(node.map_or(0, |n| n.num_descendants)),
                node.map_or("", |n| n.feedstock.as_str()),
            )
        };
        drawn.sort_by_cached_key(|&i| {
            let (b, d, n) = key(i);
            (b, d, n.to_string())
        });
        let mut items: Vec<Item> = drawn.iter().map(|&i| Item::Node(i)).collect();
        for state in CfState::ALL {
            let count = counts.get(state.index()).copied().unwrap_or(0);
            if count > 0 {
                items.push(Item::Aggregate { state, count });
            }
        }
        let rows = items.len().div_ceil(columns).max(1);
        for (k, item) in items.into_iter().enumerate() {
            let x = LEFT + (k % columns) as i64 * (NODE_W + GAP_X);
            let row_y = y + (k / columns) as i64 * (NODE_H + GAP_Y);
            if let Item::Node(i) = item {
                x_of.insert(i, x);
            }
            placed.push(Placed {
                level,
                item,
                x,
                y: row_y,
            });
        }
        y += rows as i64 * (NODE_H + GAP_Y) - GAP_Y + LEVEL_GAP;
    }
    let width = LEFT + columns as i64 * (NODE_W + GAP_X) - GAP_X + 8;
    let height = (y - LEVEL_GAP + TOP).max(NODE_H + 2 * TOP);

    let mut out = String::with_capacity(256 + placed.len() * 320);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="migration-graph" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}"><rect width="100%" height="100%" fill="#ffffff"/>"##,
        xml(&format!("graph of the {} migration", migration.name))
    );
    let (edges_drawn, edges_left_out) = draw_edges(&mut out, migration, &index, &placed);
    draw_level_labels(&mut out, &placed);
    out.push_str(r#"<g font-family="sans-serif" font-size="11">"#);
    for p in &placed {
        match p.item {
            Item::Node(i) => {
                if let Some(node) = nodes.get(i) {
                    draw_node(&mut out, node, p, links);
                }
            }
            Item::Aggregate { state, count } => {
                draw_aggregate(&mut out, migration, state, count, p, links)
            }
        }
    }
    out.push_str("</g></svg>");

    let drawn = individual.iter().filter(|b| **b).count();
    GraphSvg {
        svg: out,
        drawn,
        aggregated: nodes.len() - drawn,
        edges_drawn,
        edges_left_out,
    }
}

/// Which members get their own node (see the module docs).
fn choose_individual(nodes: &[NodeStatus], states: &[Option<CfState>]) -> Vec<bool> {
    if nodes.len() <= DETAIL_LIMIT {
        return vec![true; nodes.len()];
    }
    let mut frontier: Vec<usize> = (0..nodes.len())
        .filter(|&i| {
            matches!(
                states.get(i).copied().flatten(),
                Some(
                    CfState::InPr | CfState::AwaitingPr | CfState::BotError | CfState::NotSolvable
                )
            )
        })
        .collect();
    frontier.sort_by(|&a, &b| {
        let (na, nb) = (&nodes[a], &nodes[b]);
        nb.num_descendants
            .cmp(&na.num_descendants)
            .then_with(|| na.feedstock.cmp(&nb.feedstock))
    });
    let mut individual = vec![false; nodes.len()];
    for i in frontier.into_iter().take(FRONTIER_LIMIT) {
        if let Some(slot) = individual.get_mut(i) {
            *slot = true;
        }
    }
    individual
}

fn draw_edges(
    out: &mut String,
    migration: &MigrationStatus,
    index: &HashMap<&str, usize>,
    placed: &[Placed],
) -> (usize, usize) {
    let position: HashMap<usize, (i64, i64)> = placed
        .iter()
        .filter_map(|p| match p.item {
            Item::Node(i) => Some((i, (p.x, p.y))),
            Item::Aggregate { .. } => None,
        })
        .collect();
    let mut segments = Vec::new();
    let mut left_out = 0;
    for edge in &migration.edges {
        let (Some(parent), Some(child)) = (
            index.get(edge.parent.as_str()),
            index.get(edge.child.as_str()),
        ) else {
            continue;
        };
        let (Some(&(px, py)), Some(&(cx, cy))) = (position.get(parent), position.get(child)) else {
            continue;
        };
        if cy <= py {
            // Same level (a cycle) or wrapped rows: no downward path to draw.
            left_out += 1;
            continue;
        }
        segments.push((px, py, cx, cy));
    }
    if segments.len() > EDGE_LIMIT {
        return (0, left_out + segments.len());
    }
    out.push_str(r##"<g fill="none" stroke="#8c95a1" stroke-width="1" stroke-opacity="0.55">"##);
    for (px, py, cx, cy) in &segments {
        let (x1, y1, x2, y2) = (px + NODE_W / 2, py + NODE_H, cx + NODE_W / 2, *cy);
        let mid = (y2 - y1) / 2;
        let _ = write!(
            out,
            r#"<path d="M{x1} {y1}C{x1} {}, {x2} {}, {x2} {y2}"/>"#,
            y1 + mid,
            y2 - mid
        );
    }
    out.push_str("</g>");
    (segments.len(), left_out)
}

fn draw_level_labels(out: &mut String, placed: &[Placed]) {
    out.push_str(r##"<g font-family="sans-serif" font-size="10" fill="#5b6470">"##);
    let mut last = None;
    for p in placed {
        if last == Some(p.level) {
            continue;
        }
        last = Some(p.level);
        let _ = write!(
            out,
            r#"<text x="4" y="{}">L{}</text>"#,
            p.y + NODE_H / 2 + 4,
            p.level
        );
    }
    out.push_str("</g>");
}

fn draw_node(out: &mut String, node: &NodeStatus, p: &Placed, links: Links<'_>) {
    let Some(state) = CfState::of(node.state) else {
        return;
    };
    let href = match links {
        Links::Site => format!("../{}", paths::feedstock_page(&node.feedstock)),
        Links::Forge { feedstock_url_base } => node
            .pr
            .as_ref()
            .map(|pr| pr.url.clone())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| format!("{feedstock_url_base}{}-feedstock", node.feedstock)),
    };
    let mark = pr_mark(node);
    let mut label: String = node.feedstock.chars().take(LABEL_CHARS).collect();
    if node.feedstock.chars().count() > LABEL_CHARS {
        label.pop();
        label.push('…');
    }
    let mut title = format!(
        "{}: {} ({}) — {} descendants",
        node.feedstock,
        node.state.as_str(),
        reason_code(node),
        node.num_descendants
    );
    if !node.reason.text.is_empty() {
        title.push_str(". ");
        title.extend(node.reason.text.chars().take(240));
    }
    let _ = write!(
        out,
        r#"<a href="{}" data-feedstock="{}" data-state="{}"><title>{}</title><rect x="{}" y="{}" width="{NODE_W}" height="{NODE_H}" rx="4" fill="{}"/><text x="{}" y="{}" fill="{}">{}{}</text></a>"#,
        xml(&href),
        xml(&node.feedstock),
        state.as_str(),
        xml(&title),
        p.x,
        p.y,
        state.colour(),
        p.x + 6,
        p.y + NODE_H / 2 + 4,
        state.text_colour(),
        xml(&label),
        mark
    );
}

/// cf-scripts marks in-PR nodes ✓ when mergeable and clean, else ❎; cascade also knows
/// CI, so ✓ means "clean and not failing".
fn pr_mark(node: &NodeStatus) -> &'static str {
    if node.state != State::InPr {
        return "";
    }
    let Some(pr) = &node.pr else {
        return "";
    };
    let clean = pr.mergeable == Some(SnapshotMergeable::Clean);
    let failing = pr.ci == Some(SnapshotCi::Failing);
    if clean && !failing && !pr.draft {
        " ✓"
    } else {
        " ✗"
    }
}

fn reason_code(node: &NodeStatus) -> String {
    serde_json::to_value(node.reason.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn draw_aggregate(
    out: &mut String,
    migration: &MigrationStatus,
    state: CfState,
    count: usize,
    p: &Placed,
    links: Links<'_>,
) {
    let text = format!("{count} {}", state.label());
    let title = format!(
        "level {}: {count} members {} in {}",
        p.level,
        state.label(),
        migration.name
    );
    let body = format!(
        r##"<title>{}</title><rect x="{}" y="{}" width="{NODE_W}" height="{NODE_H}" rx="13" fill="{}" stroke="#ffffff" stroke-width="2" stroke-dasharray="4 2"/><text x="{}" y="{}" fill="{}" font-weight="bold">{}</text>"##,
        xml(&title),
        p.x,
        p.y,
        state.colour(),
        p.x + 10,
        p.y + NODE_H / 2 + 4,
        state.text_colour(),
        xml(&text)
    );
    match links {
        Links::Site => {
            let _ = write!(
                out,
                r##"<a href="#state={}&amp;level={}" data-aggregate="{}" data-level="{}" data-count="{count}">{body}</a>"##,
                state.as_str(),
                p.level,
                state.as_str(),
                p.level
            );
        }
        Links::Forge { .. } => {
            let _ = write!(out, "<g>{body}</g>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::site::fixture::migration;

    #[test]
    fn a_small_migration_draws_every_member_and_its_edges() {
        let m = migration(
            "small",
            &[
                ("zlib", State::Done, &[]),
                ("libpng", State::InPr, &["zlib"]),
                ("freetype", State::AwaitingParents, &["libpng", "zlib"]),
            ],
        );
        let g = render(&m, Links::Site);
        assert_eq!((g.drawn, g.aggregated), (3, 0));
        assert_eq!(g.edges_drawn, 3);
        assert_eq!(g.svg.matches("<rect x=").count(), 3);
        assert!(
            g.svg
                .contains(r#"data-feedstock="libpng" data-state="in-pr""#)
        );
        assert!(g.svg.contains(r#"href="../feedstocks/zlib.html""#));
        // Levels run top to bottom.
        let y = |name: &str| {
            let at = g.svg.find(&format!(r#"data-feedstock="{name}""#)).unwrap();
            let rect = &g.svg[at..];
            let y_at = rect.find(r#" y=""#).unwrap() + 4;
            rect[y_at..]
                .split('"')
                .next()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        };
        assert!(y("zlib") < y("libpng") && y("libpng") < y("freetype"));
    }

    #[test]
    fn a_large_migration_is_aggregated_with_the_frontier_expanded() {
        let names: Vec<String> = (0..1200).map(|i| format!("pkg{i:04}")).collect();
        let mut members: Vec<(&str, State, &[&str])> = Vec::new();
        let root: &[&str] = &[];
        for (i, name) in names.iter().enumerate() {
            let state = match i % 4 {
                0 => State::Done,
                1 => State::AwaitingPr,
                2 => State::AwaitingParents,
                _ => State::InPr,
            };
            members.push((name.as_str(), state, root));
        }
        let m = migration("large", &members);
        let g = render(&m, Links::Site);
        assert_eq!(g.drawn, FRONTIER_LIMIT);
        assert_eq!(g.drawn + g.aggregated, 1200);
        assert!(
            g.svg
                .contains(r#"data-aggregate="done" data-level="0" data-count="300""#)
        );
        assert!(g.svg.contains(">300 done<"), "the done members are one box");
        assert!(
            !g.svg.contains(r#"data-state="done""#),
            "no done member is drawn"
        );
        assert!(g.svg.len() < 200_000, "{} bytes", g.svg.len());
    }

    #[test]
    fn names_and_reasons_are_escaped_in_the_drawing() {
        let m = migration(
            "evil",
            &[("<script>alert(1)</script>", State::BotError, &[])],
        );
        let g = render(
            &m,
            Links::Forge {
                feedstock_url_base: "https://example.org/\"x",
            },
        );
        assert!(!g.svg.contains("<script>"), "{}", g.svg);
        assert!(g.svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(g.svg.contains("https://example.org/&quot;x"));
    }
}
