//! The report's pictures, drawn with plotters as SVG and PNG: connect cost by mode, connect
//! cycles per second vs clients, steady throughput vs clients, and whole-server memory vs
//! idle sessions (orasim's measured version of Oracle's 5,000-client example).
//!
//! Text needs a TrueType font: the first of a few standard paths (Debian's
//! `fonts-dejavu-core`), or `TNSBENCH_FONT`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use thiserror::Error;

use crate::report::Report;

/// Errors drawing the plots.
#[derive(Debug, Error)]
pub enum PlotError {
    /// No usable font.
    #[error("no TrueType font for the plots (install fonts-dejavu-core or set TNSBENCH_FONT): {0}")]
    Font(String),
    /// plotters failed.
    #[error("drawing {file}: {detail}")]
    Draw {
        /// The file.
        file: String,
        /// What went wrong.
        detail: String,
    },
}

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// Registers the font once; the error says which paths were tried.
fn font() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let mut tried: Vec<PathBuf> = std::env::var_os("TNSBENCH_FONT")
            .map(PathBuf::from)
            .into_iter()
            .collect();
        tried.extend(FONT_PATHS.iter().map(PathBuf::from));
        for p in &tried {
            if let Ok(bytes) = std::fs::read(p) {
                // plotters keeps a 'static reference to the font for the process's life.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!("tried {tried:?}"))
    })
    .clone()
    .map_err(PlotError::Font)
}

/// One line of a chart: name and points.
type Series = (String, Vec<(f64, f64)>);

/// The files written, `(file name, title)`.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<(String, String)>, PlotError> {
    font()?;
    let mut out = Vec::new();
    let ms = |us: Option<u64>| us.map_or(0.0, |v| v as f64 / 1000.0);
    let bars: Vec<ConnectBars> = report
        .connect
        .iter()
        .map(|c| ConnectBars {
            target: c.target.clone(),
            cycle_p50: ms(c.sequential.p50_us),
            wait_p50: ms(c.sequential_wait.p50_us),
            server_cpu: c.cpu.server_us_per_cycle.map_or(0.0, |v| v / 1000.0),
        })
        .collect();
    let title = "Connect cost by mode: cycle p50, its wait p50 and server CPU per connect (ms)";
    both(dir, "connect", &mut out, title, &Chart::Bars(&bars))?;

    let conc: Vec<Series> = report
        .connect
        .iter()
        .map(|c| {
            (
                c.target.clone(),
                c.concurrent
                    .iter()
                    .map(|p| (f64::from(p.clients), p.cycles_per_second))
                    .collect(),
            )
        })
        .collect();
    let title = "Connect cycles per second vs concurrent clients";
    both(
        dir,
        "concurrency",
        &mut out,
        title,
        &Chart::Lines {
            x_desc: "clients",
            y_desc: "cycles/s",
            series: &conc,
            log_y: false,
        },
    )?;

    let tput: Vec<Series> = report
        .steady
        .iter()
        .map(|s| {
            (
                s.target.clone(),
                s.points
                    .iter()
                    .map(|p| (f64::from(p.clients), p.calls_per_second))
                    .collect(),
            )
        })
        .collect();
    let title = "Steady select 1: calls per second vs concurrent sessions";
    both(
        dir,
        "throughput",
        &mut out,
        title,
        &Chart::Lines {
            x_desc: "sessions calling",
            y_desc: "calls/s",
            series: &tput,
            log_y: false,
        },
    )?;

    let mem: Vec<Series> = report
        .idle
        .iter()
        .map(|t| {
            (
                t.target.clone(),
                t.points
                    .iter()
                    .filter(|p| p.open > 0)
                    .map(|p| {
                        (
                            f64::from(p.open),
                            (p.server.pss_kib as f64 / 1024.0).max(0.1),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    let title = "Whole-server memory (sum of PSS, MiB) vs idle sessions";
    both(
        dir,
        "memory",
        &mut out,
        title,
        &Chart::Lines {
            x_desc: "idle sessions",
            y_desc: "server PSS MiB",
            series: &mem,
            log_y: true,
        },
    )?;
    Ok(out)
}

/// The connect picture's bars of one target, in ms.
struct ConnectBars {
    target: String,
    /// The whole cycle as the client sees it.
    cycle_p50: f64,
    /// The cycle less the client's own CPU (its PBKDF2 above all): the wait for the server.
    wait_p50: f64,
    server_cpu: f64,
}

/// Which figure of a [`ConnectBars`] a bar shows.
type BarValue = fn(&ConnectBars) -> f64;

/// What one picture shows.
enum Chart<'a> {
    /// Three bars per target: cycle p50, wait p50 and server CPU per connect.
    Bars(&'a [ConnectBars]),
    /// One line per target over a log-scaled x axis.
    Lines {
        x_desc: &'a str,
        y_desc: &'a str,
        series: &'a [Series],
        log_y: bool,
    },
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    chart: &Chart<'_>,
) -> Result<(), String> {
    match chart {
        Chart::Bars(bars) => draw_bars(root, title, bars),
        Chart::Lines {
            x_desc,
            y_desc,
            series,
            log_y,
        } => draw_lines(root, title, x_desc, y_desc, series, *log_y),
    }
}

/// Draws one picture as `<name>.svg` and `<name>.png`.
fn both(
    dir: &Path,
    name: &str,
    out: &mut Vec<(String, String)>,
    title: &str,
    chart: &Chart<'_>,
) -> Result<(), PlotError> {
    let svg = dir.join(format!("{name}.svg"));
    let png = dir.join(format!("{name}.png"));
    let err = |file: &Path, detail: String| PlotError::Draw {
        file: file.display().to_string(),
        detail,
    };
    {
        let root = SVGBackend::new(&svg, SIZE).into_drawing_area();
        draw(root.clone(), title, chart).map_err(|e| err(&svg, e))?;
        root.present().map_err(|e| err(&svg, e.to_string()))?;
    }
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        draw(root.clone(), title, chart).map_err(|e| err(&png, e))?;
        root.present().map_err(|e| err(&png, e.to_string()))?;
    }
    out.push((format!("{name}.svg"), title.to_string()));
    Ok(())
}

const SIZE: (u32, u32) = (1100, 620);

fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    bars: &[ConnectBars],
) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let n = bars.len().max(1);
    let top = bars
        .iter()
        .map(|b| b.cycle_p50.max(b.wait_p50).max(b.server_cpu))
        .fold(0.1f64, f64::max)
        * 1.15;
    let names: Vec<String> = bars.iter().map(|b| b.target.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(70)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 12))
        .y_desc("ms")
        .draw()
        .map_err(|x| e(&x))?;
    let w = 0.27;
    let kinds: [(&str, BarValue); 3] = [
        ("connect cycle p50 (client-visible)", |b| b.cycle_p50),
        ("wait p50 (cycle less the client's own CPU)", |b| b.wait_p50),
        ("server CPU per connect", |b| b.server_cpu),
    ];
    for (k, (label, value)) in kinds.into_iter().enumerate() {
        let left = k as f64 * w - 1.5 * w;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let x = i as f64 + left;
                Rectangle::new([(x, 0.0), (x + w, value(b))], color(k).filled())
            }))
            .map_err(|x| e(&x))?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color(k).filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|x| e(&x))?;
    Ok(())
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log_y: bool,
) -> Result<(), String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    let pts = series.iter().flat_map(|s| s.1.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (1.0, 2.0, 1.0, 2.0);
    }
    let x1 = if x1 <= x0 { x0 * 2.0 } else { x1 };
    let (y0, y1) = if log_y {
        ((y0 * 0.7).max(0.01), (y1 * 1.4).max(y0 * 2.0))
    } else {
        (0.0, (y1 * 1.15).max(1.0))
    };
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70);
    macro_rules! finish {
        ($chart:expr) => {{
            let mut chart = $chart.map_err(|x| e(&x))?;
            chart
                .configure_mesh()
                .x_label_formatter(&|v| format!("{v:.0}"))
                .x_desc(x_desc)
                .y_desc(y_desc)
                .draw()
                .map_err(|x| e(&x))?;
            for (i, (name, data)) in series.iter().enumerate() {
                let c = color(i);
                chart
                    .draw_series(LineSeries::new(data.iter().copied(), c.stroke_width(2)))
                    .map_err(|x| e(&x))?
                    .label(name.as_str())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                    });
                chart
                    .draw_series(data.iter().map(|&p| Circle::new(p, 3, c.filled())))
                    .map_err(|x| e(&x))?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::UpperLeft)
                .draw()
                .map_err(|x| e(&x))?;
        }};
    }
    if log_y {
        finish!(builder.build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), (y0..y1).log_scale()))
    } else {
        finish!(builder.build_cartesian_2d((x0 * 0.8..x1 * 1.25).log_scale(), y0..y1))
    }
    Ok(())
}
