//! What a figure shows, independent of how it is drawn: line charts with confidence
//! bands (pass@k curves, training curves), grouped bars (accuracy histograms) and box
//! plots (perplexity distributions).

use serde::Serialize;

/// A chart to draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    Line(LineChart),
    Bars(BarChart),
    Box(BoxChart),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Line(c) => &c.title,
            Chart::Bars(c) => &c.title,
            Chart::Box(c) => &c.title,
        }
    }

    /// Number of data series (lines, bar groups or boxes): what the legend lists.
    pub fn series_count(&self) -> usize {
        match self {
            Chart::Line(c) => c.series.len(),
            Chart::Bars(c) => c.series.len(),
            Chart::Box(c) => c.boxes.len(),
        }
    }
}

/// How the x axis maps values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum XScale {
    Linear,
    /// Ticks at powers of two, as the paper draws pass@k against k.
    Log2,
}

/// Lines through points, each with an optional shaded interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: XScale,
    /// The y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
    pub series: Vec<Series>,
    /// Vertical guides at an x (a crossover k), with a label.
    pub markers: Vec<Marker>,
}

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// A point with an optional interval (drawn as a band around the line).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Self {
            x,
            y,
            low: None,
            high: None,
        }
    }

    pub fn with_interval(mut self, low: f64, high: f64) -> Self {
        self.low = Some(low);
        self.high = Some(high);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    pub x: f64,
    pub label: String,
}

/// Bars per category, one bar per series side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarSeries {
    pub name: String,
    /// One value per category.
    pub values: Vec<f64>,
}

/// Box plots of distributions, one box per group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxChart {
    pub title: String,
    pub y_label: String,
    pub boxes: Vec<BoxSeries>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxSeries {
    pub label: String,
    #[serde(skip)]
    pub values: Vec<f64>,
    pub summary: Option<FiveNumbers>,
}

impl BoxSeries {
    pub fn new(label: impl Into<String>, values: Vec<f64>) -> Self {
        let summary = FiveNumbers::of(&values);
        Self {
            label: label.into(),
            values,
            summary,
        }
    }
}

/// Quartiles, Tukey whiskers (the furthest data within 1.5 IQR of the box) and mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FiveNumbers {
    pub count: usize,
    pub low_whisker: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub high_whisker: f64,
    pub mean: f64,
}

impl FiveNumbers {
    /// `None` for an empty or non-finite sample.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable_by(f64::total_cmp);
        let q = |p: f64| boundary_core::quantile(&v, p);
        let (q1, q3) = (q(0.25), q(0.75));
        let iqr = q3 - q1;
        let low_whisker = v
            .iter()
            .copied()
            .find(|&x| x >= q1 - 1.5 * iqr)
            .unwrap_or(q1);
        let high_whisker = v
            .iter()
            .rev()
            .copied()
            .find(|&x| x <= q3 + 1.5 * iqr)
            .unwrap_or(q3);
        Some(Self {
            count: v.len(),
            low_whisker,
            q1,
            median: q(0.5),
            q3,
            high_whisker,
            mean: v.iter().sum::<f64>() / v.len() as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_numbers_use_tukey_whiskers() {
        let mut values: Vec<f64> = (1..=9).map(f64::from).collect();
        values.push(100.0);
        let s = FiveNumbers::of(&values).unwrap();
        assert_eq!(s.count, 10);
        assert_eq!(s.median, 5.5);
        assert_eq!((s.q1, s.q3), (3.25, 7.75));
        assert_eq!(s.low_whisker, 1.0);
        assert_eq!(s.high_whisker, 9.0, "100 is an outlier beyond 1.5 IQR");
        assert!((s.mean - 14.5).abs() < 1e-12);
        assert_eq!(FiveNumbers::of(&[f64::NAN]), None);
    }
}
