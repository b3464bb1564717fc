//! `--html FILE`: the table and, per case, three SVG charts drawn with plotters (SVG backend
//! only, so no font or image libraries are built): throughput per server (median bar,
//! min–max whisker), server CPU per op (user and system stacked), and latency percentile
//! curves (the round with the median throughput of each server).

use super::report::{Report, Summary, summarize, table};
use plotters::coord::Shift;
use plotters::prelude::*;

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

type DrawResult = Result<(), Box<dyn std::error::Error>>;

pub fn render(report: &Report, rounds: usize) -> String {
    let summaries = summarize(report);
    let mut body = String::new();
    for (gi, g) in report.groups.iter().enumerate() {
        for case in &g.cases {
            let key = case.key();
            let rows: Vec<&Summary> = summaries
                .iter()
                .filter(|s| s.group == gi && s.case == key && !s.samples.is_empty())
                .collect();
            body.push_str(&format!("<h2>{}</h2>\n", esc(&key)));
            if rows.is_empty() {
                body.push_str("<p>No server completed a run in this case.</p>\n");
                continue;
            }
            body.push_str("<div class=\"charts\">\n");
            for chart in [throughput_chart, cpu_chart, latency_chart] {
                let mut svg = String::new();
                let res = {
                    let root = SVGBackend::with_string(&mut svg, (460, 320)).into_drawing_area();
                    chart(&root, &rows)
                };
                match res {
                    Ok(()) => body.push_str(&svg),
                    Err(e) => {
                        body.push_str(&format!("<p>chart failed: {}</p>", esc(&e.to_string())))
                    }
                }
                body.push('\n');
            }
            body.push_str("</div>\n");
        }
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>coreloop-bench</title>\n<style>body{{font-family:sans-serif;margin:2em}} .charts{{display:flex;flex-wrap:wrap;gap:1em}} pre{{font-size:12px;overflow-x:auto}}</style></head><body>\n<h1>coreloop-bench</h1>\n<p><code>{}</code></p>\n<pre>{}</pre>\n{body}</body></html>\n",
        esc(&report.command_line.join(" ")),
        esc(&table(report, rounds)),
    )
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One slot per server (a segmented `0..n` range has n + 1 slots; `0..n-1` has n).
fn slots(
    rows: &[&Summary],
) -> plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize> {
    (0..rows.len().saturating_sub(1).max(1)).into_segmented()
}

fn label(rows: &[&Summary], v: &SegmentValue<usize>) -> String {
    match v {
        SegmentValue::CenterOf(i) => rows.get(*i).map_or(String::new(), |r| r.server.clone()),
        _ => String::new(),
    }
}

fn throughput_chart(root: &DrawingArea<SVGBackend, Shift>, rows: &[&Summary]) -> DrawResult {
    root.fill(&WHITE)?;
    let top = rows.iter().map(|r| r.ops_max).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(root)
        .caption("throughput (ops/s, median, min–max)", ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(slots(rows), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|v| label(rows, v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), r.ops_med),
            ],
            PALETTE[i % PALETTE.len()].filled(),
        );
        bar.set_margin(0, 0, 12, 12);
        bar
    }))?;
    chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
        PathElement::new(
            vec![
                (SegmentValue::CenterOf(i), r.ops_min),
                (SegmentValue::CenterOf(i), r.ops_max),
            ],
            BLACK.stroke_width(2),
        )
    }))?;
    root.present()?;
    Ok(())
}

fn cpu_chart(root: &DrawingArea<SVGBackend, Shift>, rows: &[&Summary]) -> DrawResult {
    root.fill(&WHITE)?;
    let top = rows
        .iter()
        .map(|r| r.user_med + r.sys_med)
        .fold(0.01, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "server CPU per op (µs: user, system above)",
            ("sans-serif", 15),
        )
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(slots(rows), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|v| label(rows, v))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    for (part, lighter) in [(0, false), (1, true)] {
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            let (lo, hi) = if part == 0 {
                (0.0, r.user_med)
            } else {
                (r.user_med, r.user_med + r.sys_med)
            };
            let c = PALETTE[i % PALETTE.len()];
            let style = if lighter {
                c.mix(0.45).filled()
            } else {
                c.filled()
            };
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), lo),
                    (SegmentValue::Exact(i + 1), hi),
                ],
                style,
            );
            bar.set_margin(0, 0, 12, 12);
            bar
        }))?;
    }
    root.present()?;
    Ok(())
}

/// −log10(1 − q): 50% → 0.3, 99% → 2, 99.9% → 3.
fn nines(q: f64) -> f64 {
    -(1.0 - q.min(0.99999)).log10()
}

fn latency_chart(root: &DrawingArea<SVGBackend, Shift>, rows: &[&Summary]) -> DrawResult {
    root.fill(&WHITE)?;
    // The round with the median throughput stands for each server.
    let curves: Vec<(&str, Vec<(f64, f64)>)> = rows
        .iter()
        .map(|r| {
            let mut by_ops: Vec<_> = r.samples.iter().collect();
            by_ops.sort_by(|a, b| a.ops_per_sec.total_cmp(&b.ops_per_sec));
            let s = by_ops[by_ops.len() / 2];
            let pts = s
                .latency_us
                .iter()
                .filter(|(q, _)| *q < 1.0)
                .map(|&(q, us)| (nines(q), us.max(1.0)))
                .collect();
            (r.server.as_str(), pts)
        })
        .collect();
    let hi = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .fold(10.0, f64::max)
        * 1.5;
    let lo = curves
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.1))
        .fold(f64::INFINITY, f64::min)
        .clamp(1.0, hi / 10.0)
        / 1.5;
    let mut chart = ChartBuilder::on(root)
        .caption("latency percentiles (µs, log)", ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0f64..4.3, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        // Whole nines: p90, p99, p99.9, p99.99 (the curves start at p50).
        .x_labels(5)
        .x_label_formatter(&|x| {
            if *x < 0.5 {
                return String::new();
            }
            let q = 100.0 * (1.0 - 10f64.powf(-x.round()));
            format!("p{}", (q * 100.0).round() / 100.0)
        })
        .x_desc("percentile")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, (name, pts)) in curves.into_iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.clone(), c.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, c.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
