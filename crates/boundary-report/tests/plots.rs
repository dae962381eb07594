//! Structural tests of the figures: the SVG holds the axes' labels, one line per series,
//! a legend entry per series, bands where intervals were given; the PNG is the doubled
//! size and has text drawn with the bundled font.

use boundary_report::plot::{HEIGHT, PNG_SCALE, WIDTH, render};
use boundary_report::{
    BarChart, BarSeries, BoxChart, BoxSeries, Chart, LineChart, Marker, Point, Series, XScale,
};

fn curve(name: &str, scale: f64, with_ci: bool) -> Series {
    Series {
        name: name.into(),
        points: (0..=8)
            .map(|e| {
                let k = f64::from(1u32 << e);
                let y = 100.0 * (1.0 - (-scale * k).exp());
                let p = Point::new(k, y);
                if with_ci {
                    p.with_interval(y - 3.0, (y + 3.0).min(100.0))
                } else {
                    p
                }
            })
            .collect(),
    }
}

fn line_chart(series: Vec<Series>) -> Chart {
    Chart::Line(LineChart {
        title: "MATH500: pass@k".into(),
        x_label: "k (log₂ scale)".into(),
        y_label: "pass@k (%)".into(),
        x_scale: XScale::Log2,
        y_range: None,
        series,
        markers: vec![Marker {
            x: 12.0,
            label: " k≈12".into(),
        }],
    })
}

fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let start = t.find('>')? + 1;
            let end = t.find("</text>")?;
            Some(t[start..end].trim().to_owned())
        })
        .collect()
}

/// Polylines drawn in a series' colour (plotters writes one per LineSeries).
fn polylines_in(svg: &str, rgb: (u8, u8, u8)) -> usize {
    let colour = format!("#{:02X}{:02X}{:02X}", rgb.0, rgb.1, rgb.2);
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p[..p.find("/>").unwrap_or(p.len())].contains(&colour))
        .count()
}

#[test]
fn line_charts_have_axes_series_legend_and_bands() {
    let chart = line_chart(vec![
        curve("base", 0.02, true),
        curve("rl", 0.2, true),
        curve("distilled", 0.08, false),
    ]);
    let r = render("passk", &chart).unwrap();
    let texts = texts(&r.svg);
    for expected in [
        "MATH500: pass@k",
        "k (log₂ scale)",
        "pass@k (%)",
        "base",
        "rl",
        "distilled",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "missing text {expected:?} in {texts:?}"
        );
    }
    // Powers of two label the log₂ axis.
    for k in ["1", "2", "4", "16", "256"] {
        assert!(
            texts.iter().any(|t| t == k),
            "missing tick {k} in {texts:?}"
        );
    }
    assert!(
        texts.iter().any(|t| t.contains("k≈12")),
        "crossover marker label"
    );
    // One line per series, in the palette's first three colours.
    for (i, rgb) in [(0, 114, 178), (213, 94, 0), (0, 158, 115)]
        .into_iter()
        .enumerate()
    {
        assert!(polylines_in(&r.svg, rgb) >= 1, "series {i} has no line");
    }
    // Bands are translucent polygons: two series had intervals.
    let bands = r.svg.matches("opacity=\"0.16\"").count();
    assert_eq!(bands, 2, "one band per series with intervals");
    assert_eq!(chart.series_count(), 3);
}

#[test]
fn png_is_double_size_with_text_drawn() {
    let r = render("passk", &line_chart(vec![curve("base", 0.05, true)])).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&r.png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(
        (info.width, info.height),
        (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE)
    );
    // The title is drawn (dark pixels in the top band, centred), which needs a font.
    let width = info.width as usize;
    let dark_in_title = (10..60)
        .flat_map(|y| (width / 4..3 * width / 4).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let i = (y * width + x) * 3;
            pixels[i] < 100 && pixels[i + 1] < 100 && pixels[i + 2] < 100
        })
        .count();
    assert!(
        dark_in_title > 200,
        "title text drawn: {dark_in_title} dark pixels"
    );
}

#[test]
fn bar_charts_group_series_per_category() {
    let chart = Chart::Bars(BarChart {
        title: "Accuracy histogram".into(),
        x_label: "accuracy c/n".into(),
        y_label: "problems (%)".into(),
        categories: vec!["0".into(), "(0, 0.5]".into(), "(0.5, 1)".into(), "1".into()],
        series: vec![
            BarSeries {
                name: "base".into(),
                values: vec![10.0, 40.0, 30.0, 20.0],
            },
            BarSeries {
                name: "rl".into(),
                values: vec![25.0, 10.0, 15.0, 50.0],
            },
        ],
    });
    let r = render("hist", &chart).unwrap();
    let texts = texts(&r.svg);
    for expected in [
        "0",
        "(0, 0.5]",
        "(0.5, 1)",
        "1",
        "base",
        "rl",
        "accuracy c/n",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "missing {expected:?} in {texts:?}"
        );
    }
    let blue_bars = r.svg.matches("fill=\"#0072B2\"").count();
    let red_bars = r.svg.matches("fill=\"#D55E00\"").count();
    // Four bars each, plus the legend swatch.
    assert_eq!((blue_bars, red_bars), (5, 5));
}

#[test]
fn box_plots_draw_one_box_per_distribution() {
    let spread =
        |base: f64| -> Vec<f64> { (0..40).map(|i| base + f64::from(i % 9) * 0.05).collect() };
    let mut with_outlier = spread(1.1);
    with_outlier.push(4.0);
    let chart = Chart::Box(BoxChart {
        title: "Perplexity".into(),
        y_label: "perplexity".into(),
        boxes: vec![
            BoxSeries::new("PPL_base(base)", spread(1.5)),
            BoxSeries::new("PPL_base(rl)", with_outlier),
        ],
    });
    let r = render("ppl", &chart).unwrap();
    let texts = texts(&r.svg);
    assert!(texts.iter().any(|t| t == "PPL_base(base)"));
    assert!(texts.iter().any(|t| t == "PPL_base(rl)"));
    assert_eq!(r.svg.matches("opacity=\"0.22\"").count(), 2, "two boxes");
    assert!(r.svg.contains("<circle"), "the outlier is drawn");
}
