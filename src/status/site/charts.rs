//! Small SVG charts of a migration's history: the burn-down (stacked done / in PR /
//! remaining after each run, with the forecast's P50 and P90 marked) and the index's
//! sparkline of what remains.
//!
//! History can hold a point per run for months, so both downsample evenly (keeping the
//! first and the last point) before drawing; a chart is a few kilobytes whatever the
//! history's length.

use std::fmt::Write;

use crate::status::model::{Forecast, HistoryPoint};

use super::dates;
use super::escape::xml;

/// Points drawn at most in a burn-down chart.
const CHART_POINTS: usize = 240;
/// Points drawn at most in a sparkline.
const SPARK_POINTS: usize = 60;

const W: f64 = 640.0;
const H: f64 = 220.0;
const PAD_L: f64 = 48.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 12.0;
const PAD_B: f64 = 34.0;

/// The lower and upper count of one stacked band at one point.
type Band = fn(&HistoryPoint) -> (usize, usize);

/// Evenly spaced points of `history`, first and last always included.
fn sample(history: &[HistoryPoint], max: usize) -> Vec<HistoryPoint> {
    if history.len() <= max || max < 2 {
        return history.to_vec();
    }
    let last = history.len() - 1;
    (0..max)
        .filter_map(|k| history.get(k * last / (max - 1)).copied())
        .collect()
}

/// The burn-down chart; `None` without history (the page says so instead).
pub(crate) fn burndown(history: &[HistoryPoint], forecast: &Forecast) -> Option<String> {
    let points = sample(history, CHART_POINTS);
    let first = points.first()?;
    let last = points.last()?;
    let (p50, p90) = match forecast {
        Forecast::Estimate { p50, p90, .. } => (Some(*p50), Some(*p90)),
        _ => (None, None),
    };
    let t0 = first.at;
    let t1 = [Some(last.at), p50, p90]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(last.at)
        .max(t0 + 1);
    let top = points
        .iter()
        .map(|p| p.total.max(p.done + p.in_pr + p.remaining))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |t: i64| PAD_L + (t - t0) as f64 / (t1 - t0) as f64 * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (1.0 - v / top) * (H - PAD_T - PAD_B);

    // Three stacked bands, step-after: a run's counts hold until the next run.
    let layers: [(&str, &str, Band); 3] = [
        ("done", "#440154", |p| (0, p.done)),
        ("in PR", "#31688e", |p| (p.done, p.done + p.in_pr)),
        ("remaining", "#35b779", |p| {
            (p.done + p.in_pr, p.done + p.in_pr + p.remaining)
        }),
    ];
    let mut out = String::with_capacity(4096 + points.len() * 60);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="burndown" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="burn-down: members done, in PR and remaining after each run"><rect width="100%" height="100%" fill="#ffffff"/><g font-family="sans-serif" font-size="11" fill="#5b6470">"##
    );
    // Axes and labels.
    let _ = write!(
        out,
        r##"<line x1="{PAD_L}" y1="{}" x2="{}" y2="{}" stroke="#c4c9d0"/><line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{}" stroke="#c4c9d0"/><text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text><text x="{PAD_L}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></g>"##,
        y(0.0),
        W - PAD_R,
        y(0.0),
        y(0.0),
        PAD_L - 6.0,
        y(top) + 4.0,
        top as usize,
        PAD_L - 6.0,
        y(0.0),
        H - 10.0,
        dates::day(t0),
        W - PAD_R,
        H - 10.0,
        dates::day(t1),
    );
    for (name, colour, band) in layers {
        let mut upper = String::new();
        let mut lower = Vec::new();
        for (k, p) in points.iter().enumerate() {
            let next_at = points.get(k + 1).map_or(last.at, |n| n.at);
            let (lo, hi) = band(p);
            let (xa, xb) = (x(p.at), x(next_at.max(p.at)));
            let _ = write!(
                upper,
                "{xa:.1},{:.1} {xb:.1},{:.1} ",
                y(hi as f64),
                y(hi as f64)
            );
            lower.push(format!(
                "{xb:.1},{:.1} {xa:.1},{:.1}",
                y(lo as f64),
                y(lo as f64)
            ));
        }
        if points.len() == 1 {
            // One run: a bar a few pixels wide, so it is visible.
            let (lo, hi) = band(first);
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{:.1}" width="6" height="{:.1}" fill="{colour}"><title>{name}: {}</title></rect>"#,
                x(first.at),
                y(hi as f64),
                y(lo as f64) - y(hi as f64),
                hi - lo
            );
            continue;
        }
        lower.reverse();
        let _ = write!(
            out,
            r#"<polygon points="{}{}" fill="{colour}" fill-opacity="0.85"><title>{name}: {} after the last run</title></polygon>"#,
            upper,
            lower.join(" "),
            {
                let (lo, hi) = band(last);
                hi - lo
            }
        );
    }
    for (label, at) in [("P50", p50), ("P90", p90)] {
        let Some(at) = at else { continue };
        let _ = write!(
            out,
            r##"<g font-family="sans-serif" font-size="11"><line x1="{0:.1}" y1="{PAD_T}" x2="{0:.1}" y2="{1:.1}" stroke="#d1495b" stroke-dasharray="4 3"/><text x="{2:.1}" y="{3:.1}" fill="#d1495b" text-anchor="end">{label} {4}</text></g>"##,
            x(at),
            y(0.0),
            x(at) - 3.0,
            PAD_T + if label == "P50" { 10.0 } else { 24.0 },
            xml(&dates::day(at))
        );
    }
    out.push_str("</svg>");
    Some(out)
}

/// The index's sparkline: the share of members not yet done after each run (falling is
/// good). `None` with fewer than two runs, or when the migration never had members.
pub(crate) fn sparkline(history: &[HistoryPoint]) -> Option<String> {
    let points = sample(history, SPARK_POINTS);
    if points.len() < 2 || points.iter().all(|p| p.total == 0) {
        return None;
    }
    let n = (points.len() - 1) as f64;
    let mut coords = String::with_capacity(points.len() * 12);
    for (k, p) in points.iter().enumerate() {
        let total = p.total.max(1) as f64;
        let left = (p.total.saturating_sub(p.done)) as f64 / total;
        let _ = write!(
            coords,
            "{:.1},{:.1} ",
            k as f64 / n * 100.0,
            2.0 + (1.0 - left) * 16.0
        );
    }
    Some(format!(
        r#"<svg class="sparkline" viewBox="0 0 100 20" preserveAspectRatio="none" role="img" aria-label="share not done after each of the last {} runs"><polyline points="{}"/></svg>"#,
        points.len(),
        coords.trim_end()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(run_id: i64, at: i64, done: usize, in_pr: usize, remaining: usize) -> HistoryPoint {
        HistoryPoint {
            run_id,
            at,
            total: done + in_pr + remaining,
            done,
            in_pr,
            remaining,
        }
    }

    #[test]
    fn no_history_draws_no_chart() {
        let none = Forecast::NoEstimate {
            reason: "no run yet".into(),
            critical_path: 3,
        };
        assert!(burndown(&[], &none).is_none());
        assert!(sparkline(&[point(1, 0, 0, 0, 5)]).is_none());
    }

    #[test]
    fn a_burndown_has_one_band_per_stack_and_marks_the_forecast() {
        let history = [
            point(1, 1_790_000_000, 0, 2, 8),
            point(2, 1_790_086_400, 3, 3, 4),
            point(3, 1_790_172_800, 6, 2, 2),
        ];
        let forecast = Forecast::Estimate {
            p50: 1_790_400_000,
            p90: 1_790_600_000,
            critical_path: 2,
            critical_chain: vec![],
            latency_p50: 3600,
            latency_p90: 7200,
            samples: 6,
        };
        let svg = burndown(&history, &forecast).unwrap();
        assert_eq!(svg.matches("<polygon").count(), 3);
        assert!(
            svg.contains("P50 2026-09-26") && svg.contains("P90 2026-09-28"),
            "{svg}"
        );
        assert!(svg.contains("done: 6 after the last run"));
    }

    #[test]
    fn long_histories_are_sampled_keeping_both_ends() {
        let history: Vec<HistoryPoint> = (0..10_000)
            .map(|k| point(k, k * 3600, k as usize, 0, 10_000 - k as usize))
            .collect();
        let sampled = sample(&history, 50);
        assert_eq!(sampled.len(), 50);
        assert_eq!(sampled.first().unwrap().run_id, 0);
        assert_eq!(sampled.last().unwrap().run_id, 9_999);
        let spark = sparkline(&history).unwrap();
        assert!(spark.len() < 2_000, "{}", spark.len());
    }
}
