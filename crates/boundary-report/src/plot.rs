//! Drawing charts with plotters, as SVG (inline in HTML, vector for papers) and PNG
//! (twice the size, for slides and Markdown viewers).
//!
//! Text is set in DejaVu Sans, bundled through the `dejavu` crate and plotters'
//! `ab_glyph` font backend, so a PNG renders the same on a machine without fonts.
//! Colours are the Okabe–Ito palette (distinguishable with colour-vision deficiencies)
//! and each series also has its own marker shape, so curves stay apart in greyscale.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use thiserror::Error;

use crate::chart::{BarChart, BoxChart, Chart, LineChart, XScale};

/// The size of an SVG figure; PNGs are drawn at [`PNG_SCALE`] times it.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 500;
pub const PNG_SCALE: u32 = 2;

const FONT: &str = "sans-serif";

/// Okabe & Ito (2008), without yellow, which is unreadable on white.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

#[derive(Debug, Error)]
#[error("cannot draw figure `{figure}`: {message}")]
pub struct PlotError {
    pub figure: String,
    pub message: String,
}

/// A chart drawn both ways.
pub struct Rendered {
    pub svg: String,
    pub png: Vec<u8>,
}

/// Draws `chart` as SVG and PNG.
pub fn render(name: &str, chart: &Chart) -> Result<Rendered, PlotError> {
    register_fonts();
    let error = |message: String| PlotError {
        figure: name.to_owned(),
        message,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root, 1.0).map_err(error)?;
        root.present().map_err(|e| error(e.to_string()))?;
    }
    let (w, h) = (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE);
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        draw(chart, &root, f64::from(PNG_SCALE)).map_err(error)?;
        root.present().map_err(|e| error(e.to_string()))?;
    }
    let png = encode_png(&pixels, w, h).map_err(|e| error(e.to_string()))?;
    Ok(Rendered { svg, png })
}

fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both fonts are valid TrueType files shipped by the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

fn encode_png(pixels: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn draw<DB: DrawingBackend>(chart: &Chart, root: &Area<'_, DB>, s: f64) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    match chart {
        Chart::Line(c) => line(c, root, s),
        Chart::Bars(c) => bars(c, root, s),
        Chart::Box(c) => boxes(c, root, s),
    }
    .map_err(|e| e.to_string())
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn px(v: f64, s: f64) -> u32 {
    (v * s).round() as u32
}

fn font(size: f64, s: f64) -> TextStyle<'static> {
    (FONT, size * s).into_font().color(&BLACK.mix(0.85))
}

/// The marker of series `i` as a polygon around (0, 0), in pixels: circle, triangle,
/// square, diamond, cross. One element type serves the plot (anchored at a data point)
/// and the legend (anchored at a pixel), so the legend shows each series' own marker.
fn marker_shape(i: usize, r: i32) -> Vec<(i32, i32)> {
    let rf = f64::from(r);
    let ring = |n: usize, radius: f64, phase: f64| -> Vec<(i32, i32)> {
        (0..n)
            .map(|j| {
                let a = phase + std::f64::consts::TAU * j as f64 / n as f64;
                (
                    (radius * a.cos()).round() as i32,
                    (radius * a.sin()).round() as i32,
                )
            })
            .collect()
    };
    match i % 5 {
        0 => ring(16, rf, 0.0),
        1 => ring(3, rf * 1.35, -std::f64::consts::FRAC_PI_2),
        2 => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
        3 => ring(4, rf * 1.4, 0.0),
        _ => {
            let (a, b) = (r / 3 + 1, r + 1);
            vec![
                (-a, -b),
                (a, -b),
                (a, -a),
                (b, -a),
                (b, a),
                (a, a),
                (a, b),
                (-a, b),
                (-a, a),
                (-b, a),
                (-b, -a),
                (-a, -a),
            ]
        }
    }
}

fn line<DB: DrawingBackend>(c: &LineChart, root: &Area<'_, DB>, s: f64) -> DrawResult<DB>
where
    DB::ErrorType: 'static,
{
    let xf = |x: f64| match c.x_scale {
        XScale::Linear => x,
        XScale::Log2 => x.max(f64::MIN_POSITIVE).log2(),
    };
    let points = c.series.iter().flat_map(|series| series.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in points {
        x0 = x0.min(xf(p.x));
        x1 = x1.max(xf(p.x));
        y0 = y0.min(p.low.unwrap_or(p.y).min(p.y));
        y1 = y1.max(p.high.unwrap_or(p.y).max(p.y));
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-9 {
        x1 = x0 + 1.0;
    }
    let (y0, y1) = c.y_range.unwrap_or_else(|| {
        let pad = ((y1 - y0) * 0.06).max(1e-6);
        (y0 - pad, y1 + pad)
    });
    let x_pad = (x1 - x0) * 0.03;
    let mut ctx = ChartBuilder::on(root)
        .caption(&c.title, font(21.0, s))
        .margin(px(14.0, s))
        .x_label_area_size(px(52.0, s))
        .y_label_area_size(px(64.0, s))
        .build_cartesian_2d((x0 - x_pad)..(x1 + x_pad), y0..y1)?;
    let log2 = c.x_scale == XScale::Log2;
    let x_ticks = if log2 {
        (x1 - x0).round() as usize + 1
    } else {
        10
    };
    let x_format = move |x: &f64| -> String {
        if log2 {
            if (x - x.round()).abs() < 1e-6 {
                format!("{}", x.round().exp2())
            } else {
                String::new()
            }
        } else {
            trim_number(*x)
        }
    };
    ctx.configure_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .axis_desc_style(font(16.0, s))
        .label_style(font(14.0, s))
        .x_labels(x_ticks.clamp(2, 24))
        .y_labels(8)
        .x_label_formatter(&x_format)
        .y_label_formatter(&|y| trim_number(*y))
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(BLACK.mix(0.04).stroke_width(1))
        .axis_style(BLACK.mix(0.6).stroke_width(px(1.0, s).max(1)))
        .draw()?;

    let size = px(4.0, s) as i32;
    for (i, series) in c.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let band: Vec<(f64, f64, f64)> = series
            .points
            .iter()
            .filter_map(|p| Some((xf(p.x), p.low?, p.high?)))
            .collect();
        if band.len() >= 2 {
            let outline: Vec<(f64, f64)> = band
                .iter()
                .map(|&(x, _, hi)| (x, hi))
                .chain(band.iter().rev().map(|&(x, lo, _)| (x, lo)))
                .collect();
            ctx.draw_series(std::iter::once(Polygon::new(
                outline,
                color.mix(0.16).filled(),
            )))?;
        }
        let xy: Vec<(f64, f64)> = series.points.iter().map(|p| (xf(p.x), p.y)).collect();
        let stroke = color.stroke_width(px(2.0, s).max(1));
        ctx.draw_series(LineSeries::new(xy.clone(), stroke))?
            .label(series.name.clone())
            .legend(move |(x, y)| {
                // Plotters anchors the legend icon at the box's inner left edge: draw
                // the line sample to the right of it, so it stays inside the box.
                let half = px(12.0, s) as i32;
                let marker: Vec<(i32, i32)> = marker_shape(i, size)
                    .into_iter()
                    .map(|(a, b)| (a + half, b))
                    .collect();
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (2 * half, 0)], stroke)
                    + Polygon::new(marker, color.filled())
            });
        ctx.draw_series(
            xy.iter().map(|&p| {
                EmptyElement::at(p) + Polygon::new(marker_shape(i, size), color.filled())
            }),
        )?;
    }
    for m in &c.markers {
        let x = xf(m.x);
        let dash = BLACK.mix(0.55).stroke_width(px(1.0, s).max(1));
        ctx.draw_series(DashedLineSeries::new(
            vec![(x, y0), (x, y1)],
            px(6.0, s),
            px(4.0, s),
            dash,
        ))?;
        ctx.draw_series(std::iter::once(Text::new(
            m.label.clone(),
            (x, y1),
            font(13.0, s).pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    if !c.series.is_empty() {
        // Every drawn value (points and band ends), in plot fractions, so the legend
        // goes where it hides the least.
        let fractions: Vec<(f64, f64)> = c
            .series
            .iter()
            .flat_map(|series| series.points.iter())
            .flat_map(|p| {
                [Some(p.y), p.low, p.high]
                    .into_iter()
                    .flatten()
                    .map(|y| (p.x, y))
            })
            .map(|(x, y)| {
                (
                    (xf(x) - (x0 - x_pad)) / (x1 - x0 + 2.0 * x_pad),
                    (y - y0) / (y1 - y0),
                )
            })
            .collect();
        ctx.configure_series_labels()
            .position(legend_corner(&fractions, c.series.len()))
            .margin(px(10.0, s))
            .legend_area_size(px(34.0, s))
            .label_font(font(14.0, s))
            .background_style(WHITE.mix(0.92))
            .border_style(BLACK.mix(0.35))
            .draw()?;
    }
    Ok(())
}

/// Axis labels for categories drawn at x = 0, 1, 2, …
fn category_label(categories: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() > 1e-6 || i < 0.0 {
        return String::new();
    }
    categories.get(i as usize).cloned().unwrap_or_default()
}

fn bars<DB: DrawingBackend>(c: &BarChart, root: &Area<'_, DB>, s: f64) -> DrawResult<DB>
where
    DB::ErrorType: 'static,
{
    let n = c.categories.len().max(1);
    let top = c
        .series
        .iter()
        .flat_map(|b| b.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.12;
    let mut ctx = ChartBuilder::on(root)
        .caption(&c.title, font(21.0, s))
        .margin(px(14.0, s))
        .x_label_area_size(px(52.0, s))
        .y_label_area_size(px(64.0, s))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)?;
    let categories = c.categories.clone();
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_desc(&c.x_label)
        .y_desc(&c.y_label)
        .axis_desc_style(font(16.0, s))
        .label_style(font(if n > 8 { 12.0 } else { 14.0 }, s))
        .x_labels(n)
        .y_labels(8)
        .x_label_formatter(&|x| category_label(&categories, *x))
        .y_label_formatter(&|y| trim_number(*y))
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(BLACK.mix(0.04).stroke_width(1))
        .axis_style(BLACK.mix(0.6).stroke_width(px(1.0, s).max(1)))
        .draw()?;
    let groups = c.series.len().max(1) as f64;
    let width = 0.8 / groups;
    for (j, series) in c.series.iter().enumerate() {
        let color = PALETTE[j % PALETTE.len()];
        ctx.draw_series(series.values.iter().enumerate().map(|(i, &v)| {
            let left = i as f64 - 0.4 + j as f64 * width;
            Rectangle::new([(left, 0.0), (left + width * 0.92, v)], color.filled())
        }))?
        .label(series.name.clone())
        .legend(move |(x, y)| {
            let r = px(6.0, s) as i32;
            Rectangle::new([(x - r, y - r), (x + r, y + r)], color.filled())
        });
    }
    if !c.series.is_empty() {
        ctx.configure_series_labels()
            .position(SeriesLabelPosition::UpperMiddle)
            .margin(px(10.0, s))
            .label_font(font(14.0, s))
            .background_style(WHITE.mix(0.92))
            .border_style(BLACK.mix(0.35))
            .draw()?;
    }
    Ok(())
}

fn boxes<DB: DrawingBackend>(c: &BoxChart, root: &Area<'_, DB>, s: f64) -> DrawResult<DB>
where
    DB::ErrorType: 'static,
{
    let n = c.boxes.len().max(1);
    let values = c.boxes.iter().flat_map(|b| b.values.iter().copied());
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.08).max(1e-3);
    let mut ctx = ChartBuilder::on(root)
        .caption(&c.title, font(21.0, s))
        .margin(px(14.0, s))
        .x_label_area_size(px(52.0, s))
        .y_label_area_size(px(64.0, s))
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), (lo - pad)..(hi + pad))?;
    let labels: Vec<String> = c.boxes.iter().map(|b| b.label.clone()).collect();
    ctx.configure_mesh()
        .disable_x_mesh()
        .y_desc(&c.y_label)
        .axis_desc_style(font(16.0, s))
        .label_style(font(if n > 4 { 12.0 } else { 14.0 }, s))
        .x_labels(n)
        .y_labels(8)
        .x_label_formatter(&|x| category_label(&labels, *x))
        .y_label_formatter(&|y| trim_number(*y))
        .bold_line_style(BLACK.mix(0.12).stroke_width(1))
        .light_line_style(BLACK.mix(0.04).stroke_width(1))
        .axis_style(BLACK.mix(0.6).stroke_width(px(1.0, s).max(1)))
        .draw()?;
    let stroke = |color: RGBColor| color.stroke_width(px(1.6, s).max(1));
    for (i, b) in c.boxes.iter().enumerate() {
        let Some(f) = b.summary else { continue };
        let color = PALETTE[i % PALETTE.len()];
        let x = i as f64;
        let (half, cap) = (0.28, 0.12);
        ctx.draw_series([
            Rectangle::new(
                [(x - half, f.q1), (x + half, f.q3)],
                color.mix(0.22).filled(),
            ),
            Rectangle::new([(x - half, f.q1), (x + half, f.q3)], stroke(color)),
        ])?;
        ctx.draw_series(
            [
                vec![(x - half, f.median), (x + half, f.median)],
                vec![(x, f.q3), (x, f.high_whisker)],
                vec![(x, f.q1), (x, f.low_whisker)],
                vec![(x - cap, f.high_whisker), (x + cap, f.high_whisker)],
                vec![(x - cap, f.low_whisker), (x + cap, f.low_whisker)],
            ]
            .into_iter()
            .map(|pts| PathElement::new(pts, stroke(color))),
        )?;
        let r = px(4.0, s) as i32;
        ctx.draw_series(std::iter::once(
            EmptyElement::at((x, f.mean)) + Polygon::new(marker_shape(3, r), color.filled()),
        ))?;
        ctx.draw_series(
            b.values
                .iter()
                .filter(|v| **v < f.low_whisker || **v > f.high_whisker)
                .map(|&v| Circle::new((x, v), r - 1, color.stroke_width(1))),
        )?;
    }
    Ok(())
}

/// `0.5` → `0.5`, `20.000000001` → `20`: axis labels without float noise.
fn trim_number(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_owned() }
}

/// The corner of the plot whose legend-sized box covers the fewest drawn values
/// (`points` as fractions of the plot area, y upwards); ties go to the lower right,
/// where rising pass@k curves usually leave room.
fn legend_corner(points: &[(f64, f64)], series: usize) -> SeriesLabelPosition {
    let (width, height) = (0.3, (0.07 * series as f64 + 0.04).min(0.6));
    let corners = [
        (SeriesLabelPosition::LowerRight, 1.0 - width, 0.0),
        (SeriesLabelPosition::UpperLeft, 0.0, 1.0 - height),
        (SeriesLabelPosition::LowerLeft, 0.0, 0.0),
        (SeriesLabelPosition::UpperRight, 1.0 - width, 1.0 - height),
    ];
    let covered = |x: f64, y: f64| {
        points
            .iter()
            .filter(|&&(px, py)| px >= x && px <= x + width && py >= y && py <= y + height)
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&(_, x, y)| covered(x, y))
        .map_or(SeriesLabelPosition::LowerRight, |(corner, _, _)| corner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_avoids_the_data() {
        let rising: Vec<(f64, f64)> = (0..=8)
            .map(|i| (i as f64 / 8.0, 0.3 + 0.08 * i as f64))
            .collect();
        assert!(matches!(
            legend_corner(&rising, 2),
            SeriesLabelPosition::LowerRight
        ));
        // A curve flat along the bottom (a model that solves nothing) and one rising
        // to the upper right: the upper left is free.
        let mut low_and_rising: Vec<(f64, f64)> = (0..=8).map(|i| (i as f64 / 8.0, 0.02)).collect();
        low_and_rising.extend((0..=8).map(|i| (i as f64 / 8.0, 0.1 * i as f64 + 0.05)));
        assert!(matches!(
            legend_corner(&low_and_rising, 2),
            SeriesLabelPosition::UpperLeft
        ));
    }

    #[test]
    fn numbers_lose_float_noise() {
        assert_eq!(trim_number(20.000000001), "20");
        assert_eq!(trim_number(0.25), "0.25");
        assert_eq!(trim_number(-0.0001), "0");
    }

    #[test]
    fn categories_label_integer_ticks_only() {
        let c = vec!["a".to_string(), "b".to_string()];
        assert_eq!(category_label(&c, 1.0), "b");
        assert_eq!(category_label(&c, 0.5), "");
        assert_eq!(category_label(&c, 2.0), "");
    }
}
