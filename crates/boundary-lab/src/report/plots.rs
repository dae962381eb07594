//! The report's figures, drawn with plotters once per backend: SVG (inlined
//! into the HTML report) and PNG (linked from the markdown). Each figure is a
//! plain data struct implementing [`Figure`], so the same drawing code serves
//! both backends and the figures can move into a shared report crate as-is.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{LabError, Result};

/// One line of a chart: points `(x, y)` with an optional interval `(low, high)`.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
}

/// A line chart panel.
#[derive(Debug, Clone)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Log-2 x axis (k in pass@k).
    pub log_x: bool,
    /// Fixed y range, or `None` to fit the data.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
}

/// Something drawable on any plotters backend.
pub trait Figure {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String>;
}

/// Several panels in a grid with one shared legend at the bottom.
pub struct Grid {
    pub columns: usize,
    pub panel_size: (u32, u32),
    pub panels: Vec<Panel>,
}

/// Bars per model for one categorical axis, one small panel per model.
pub struct BarGrid {
    pub columns: usize,
    pub panel_size: (u32, u32),
    pub categories: Vec<String>,
    /// (title, color, value per category).
    pub bars: Vec<(String, RGBColor, Vec<f64>)>,
    pub y_label: String,
}

/// Box-and-whisker summaries, one per model.
pub struct Boxes {
    pub title: String,
    pub y_label: String,
    /// (label, color, sorted values).
    pub boxes: Vec<(String, RGBColor, Vec<f64>)>,
    /// A horizontal reference line (e.g. the teacher's traces) and its label.
    pub reference: Option<(f64, String)>,
}

const LEGEND_HEIGHT: u32 = 60;

/// DejaVu Sans for every text: the same glyphs on every machine, no system fonts needed.
fn ensure_fonts() -> Result<()> {
    static FONTS: OnceLock<bool> = OnceLock::new();
    let ok = *FONTS.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .into_iter()
            .zip([dejavu::sans::regular(), dejavu::sans::bold()])
            .all(|(style, bytes)| {
                plotters::style::register_font("sans-serif", style, bytes).is_ok()
            })
    });
    if ok {
        Ok(())
    } else {
        Err(LabError::Invalid(
            "cannot load the bundled DejaVu font".into(),
        ))
    }
}

/// Draws `figure` as `dir/name.svg` and `dir/name.png`; returns the SVG text.
pub fn render(figure: &impl Figure, dir: &Path, name: &str) -> Result<String> {
    ensure_fonts()?;
    let size = figure.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        figure
            .draw(&root)
            .map_err(|e| LabError::Invalid(format!("plot {name}: {e}")))?;
        root.present()
            .map_err(|e| LabError::Invalid(format!("plot {name}: {e}")))?;
    }
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, &svg).map_err(crate::error::io_at(&svg_path))?;
    let png_path = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png_path, size).into_drawing_area();
        figure
            .draw(&root)
            .map_err(|e| LabError::Invalid(format!("plot {name}: {e}")))?;
        root.present()
            .map_err(|e| LabError::Invalid(format!("plot {name} ({}): {e}", png_path.display())))?;
    }
    Ok(svg)
}

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
) -> std::result::Result<(), String> {
    let xs = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let (x_min, x_max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (x_min, x_max) = if x_min.is_finite() {
        (x_min, x_max.max(x_min + 1.0))
    } else {
        (0.0, 1.0)
    };
    let (y_min, y_max) = panel.y_range.unwrap_or_else(|| {
        let ys = panel.series.iter().flat_map(|s| {
            s.points
                .iter()
                .map(|p| p.1)
                .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        });
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let pad = ((hi - lo) * 0.05).max(1e-6);
        (lo - pad, hi + pad)
    });
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(&panel.title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(52);
    if panel.log_x {
        let mut chart = builder
            .build_cartesian_2d((x_min..x_max).log_scale(), y_min..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&panel.x_label)
            .y_desc(&panel.y_label)
            .x_label_formatter(&|x| format!("{}", x.round() as u64))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        draw_series(&mut chart, panel)
    } else {
        let mut chart = builder
            .build_cartesian_2d(x_min..x_max, y_min..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(&panel.x_label)
            .y_desc(&panel.y_label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        draw_series(&mut chart, panel)
    }
}

fn draw_series<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    panel: &Panel,
) -> std::result::Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for s in &panel.series {
        if !s.band.is_empty() {
            let mut outline: Vec<(f64, f64)> = s.band.iter().map(|b| (b.0, b.2)).collect();
            outline.extend(s.band.iter().rev().map(|b| (b.0, b.1)));
            chart
                .draw_series(std::iter::once(Polygon::new(outline, s.color.mix(0.12))))
                .map_err(err)?;
        }
    }
    for s in &panel.series {
        let style = ShapeStyle::from(&s.color).stroke_width(2);
        if s.dashed {
            chart
                .draw_series(DashedLineSeries::new(s.points.iter().copied(), 6, 4, style))
                .map_err(err)?;
        } else {
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), style))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// A shared legend: one swatch and label per distinct series label.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
) -> std::result::Result<(), String> {
    let (width, _) = area.dim_in_pixel();
    let per_row = ((width as usize).saturating_sub(20) / 190).max(1);
    for (i, (label, color, dashed)) in entries.iter().enumerate() {
        let x = 20 + (i % per_row) as i32 * 190;
        let y = 12 + (i / per_row) as i32 * 20;
        let style = ShapeStyle::from(color).stroke_width(3);
        if *dashed {
            area.draw(&PathElement::new(vec![(x, y), (x + 10, y)], style))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(x + 16, y), (x + 26, y)], style))
                .map_err(err)?;
        } else {
            area.draw(&PathElement::new(vec![(x, y), (x + 26, y)], style))
                .map_err(err)?;
        }
        area.draw(&Text::new(
            label.clone(),
            (x + 32, y - 7),
            ("sans-serif", 13),
        ))
        .map_err(err)?;
    }
    Ok(())
}

fn legend_entries(panels: &[Panel]) -> Vec<(String, RGBColor, bool)> {
    let mut entries: Vec<(String, RGBColor, bool)> = Vec::new();
    for s in panels.iter().flat_map(|p| &p.series) {
        if !entries.iter().any(|e| e.0 == s.label) {
            entries.push((s.label.clone(), s.color, s.dashed));
        }
    }
    entries
}

impl Figure for Grid {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns.max(1)) as u32;
        (
            self.panel_size.0 * self.columns as u32,
            self.panel_size.1 * rows + LEGEND_HEIGHT,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let (_, height) = self.size();
        let (body, legend) = root.split_vertically(height - LEGEND_HEIGHT);
        let rows = self.panels.len().div_ceil(self.columns.max(1));
        let cells = body.split_evenly((rows, self.columns.max(1)));
        for (panel, cell) in self.panels.iter().zip(&cells) {
            draw_panel(cell, panel)?;
        }
        draw_legend(&legend, &legend_entries(&self.panels))
    }
}

impl Figure for BarGrid {
    fn size(&self) -> (u32, u32) {
        let rows = self.bars.len().div_ceil(self.columns.max(1)) as u32;
        (
            self.panel_size.0 * self.columns as u32,
            self.panel_size.1 * rows,
        )
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let rows = self.bars.len().div_ceil(self.columns.max(1));
        let cells = root.split_evenly((rows, self.columns.max(1)));
        let y_max = self
            .bars
            .iter()
            .flat_map(|b| b.2.iter().copied())
            .fold(0.0, f64::max)
            .max(1e-6)
            * 1.1;
        let categories = self.categories.len();
        for ((title, color, values), cell) in self.bars.iter().zip(&cells) {
            let mut chart = ChartBuilder::on(cell)
                .caption(title, ("sans-serif", 15))
                .margin(6)
                .x_label_area_size(42)
                .y_label_area_size(46)
                .build_cartesian_2d(0f64..categories as f64, 0f64..y_max)
                .map_err(err)?;
            let labels = self.categories.clone();
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(categories + 1)
                .x_label_formatter(&move |x| {
                    let i = x.floor() as usize;
                    if (x - x.floor() - 0.0).abs() < 1e-9 {
                        String::new()
                    } else {
                        labels.get(i).cloned().unwrap_or_default()
                    }
                })
                .y_desc(&self.y_label)
                .label_style(("sans-serif", 10))
                .draw()
                .map_err(err)?;
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    Rectangle::new([(i as f64 + 0.1, 0.0), (i as f64 + 0.9, v)], color.filled())
                }))
                .map_err(err)?;
            // Category names under each bar.
            for (i, label) in self.categories.iter().enumerate() {
                chart
                    .draw_series(std::iter::once(Text::new(
                        label.clone(),
                        (i as f64 + 0.15, -y_max * 0.02),
                        ("sans-serif", 9),
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

/// The `q`-quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

impl Figure for Boxes {
    fn size(&self) -> (u32, u32) {
        (160 + 90 * self.boxes.len() as u32, 420)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> std::result::Result<(), String> {
        root.fill(&WHITE).map_err(err)?;
        let hi = self
            .boxes
            .iter()
            .map(|b| quantile(&b.2, 0.95))
            .chain(self.reference.as_ref().map(|r| r.0))
            .filter(|v| v.is_finite())
            .fold(1.0, f64::max)
            * 1.1;
        let n = self.boxes.len();
        let labels: Vec<String> = self.boxes.iter().map(|b| b.0.clone()).collect();
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n as f64, 1f64..hi)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&move |x| {
                let frac = x - x.floor();
                if (frac - 0.5).abs() < 0.01 {
                    labels.get(x.floor() as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err)?;
        for (i, (_, color, values)) in self.boxes.iter().enumerate() {
            if values.is_empty() {
                continue;
            }
            let x = i as f64;
            let (p5, q1, med, q3, p95) = (
                quantile(values, 0.05),
                quantile(values, 0.25),
                quantile(values, 0.5),
                quantile(values, 0.75),
                quantile(values, 0.95),
            );
            let style = ShapeStyle::from(color).stroke_width(2);
            chart
                .draw_series([
                    PathElement::new(vec![(x + 0.5, p5), (x + 0.5, q1)], style),
                    PathElement::new(vec![(x + 0.5, q3), (x + 0.5, p95)], style),
                    PathElement::new(
                        vec![(x + 0.25, med), (x + 0.75, med)],
                        ShapeStyle::from(&BLACK).stroke_width(3),
                    ),
                ])
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.25, q1), (x + 0.75, q3)],
                    color.mix(0.35).filled(),
                )))
                .map_err(err)?;
        }
        if let Some((value, label)) = &self.reference {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, *value), (n as f64, *value)],
                    6,
                    4,
                    ShapeStyle::from(&BLACK),
                ))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (0.05, value * 1.03),
                    ("sans-serif", 11),
                )))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// A fixed colour per model, so every figure agrees.
pub fn model_color(id: &str) -> RGBColor {
    match id {
        "base" => RGBColor(20, 20, 20),
        "ppo" => RGBColor(31, 119, 180),
        "grpo" => RGBColor(255, 127, 14),
        "reinforce_pp" => RGBColor(44, 160, 44),
        "rloo" => RGBColor(214, 39, 40),
        "remax" => RGBColor(148, 103, 189),
        "dapo" => RGBColor(140, 86, 75),
        "distill" => RGBColor(227, 119, 194),
        _ => RGBColor(127, 127, 127),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_render_to_svg_and_png() {
        let dir = tempfile::tempdir().unwrap();
        let series = |label: &str, id: &str, shift: f64| Series {
            label: label.into(),
            color: model_color(id),
            dashed: id == "base",
            points: (0..9)
                .map(|i| (2f64.powi(i), (0.1 + shift + 0.08 * i as f64).min(1.0)))
                .collect(),
            band: (0..9)
                .map(|i| {
                    (
                        2f64.powi(i),
                        0.05 + shift + 0.08 * i as f64,
                        0.15 + shift + 0.08 * i as f64,
                    )
                })
                .collect(),
        };
        let grid = Grid {
            columns: 2,
            panel_size: (400, 300),
            panels: vec![
                Panel {
                    title: "pass@k".into(),
                    x_label: "k".into(),
                    y_label: "pass@k".into(),
                    log_x: true,
                    y_range: Some((0.0, 1.0)),
                    series: vec![series("Base", "base", 0.0), series("GRPO", "grpo", 0.1)],
                },
                Panel {
                    title: "loss".into(),
                    x_label: "step".into(),
                    y_label: "nats".into(),
                    log_x: false,
                    y_range: None,
                    series: vec![series("GRPO", "grpo", 0.0)],
                },
            ],
        };
        let svg = render(&grid, dir.path(), "grid").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("pass@k") && svg.contains("GRPO"));
        assert!(
            std::fs::metadata(dir.path().join("grid.png"))
                .unwrap()
                .len()
                > 1000
        );
        let boxes = Boxes {
            title: "perplexity".into(),
            y_label: "ppl".into(),
            boxes: vec![(
                "Base".into(),
                model_color("base"),
                vec![1.0, 1.5, 2.0, 3.0, 8.0],
            )],
            reference: Some((2.5, "teacher".into())),
        };
        render(&boxes, dir.path(), "boxes").unwrap();
        let bars = BarGrid {
            columns: 1,
            panel_size: (300, 200),
            categories: vec!["0".into(), "(0,1)".into(), "1".into()],
            bars: vec![("Base".into(), model_color("base"), vec![0.2, 0.5, 0.3])],
            y_label: "share".into(),
        };
        render(&bars, dir.path(), "bars").unwrap();
    }
}
