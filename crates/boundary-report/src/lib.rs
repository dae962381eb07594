//! Reports of Boundary: the paper's tables and figures for any set of analysis
//! results, as files a researcher can read, paste and publish.
//!
//! The crate knows nothing of where results come from (a run store, the lab, a
//! notebook): it takes plain analysis types and writes a folder.
//!
//! - [`Report`], [`Section`], [`Block`], [`Table`], [`Figure`]: the document. Callers
//!   add their own sections and figures (the lab adds training curves) next to the
//!   evaluation's.
//! - [`Chart`] ([`LineChart`] with log₂ k axes and confidence bands, [`BarChart`],
//!   [`BoxChart`]) and [`plot::render`]: publication-quality SVG and PNG through
//!   plotters, with a bundled font.
//! - [`evaluation::sections`]: pass@k curves with crossover ks, coverage with the
//!   problems only one model solves, accuracy histograms, ΔSE and perplexity, from an
//!   [`Evaluation`].
//! - [`write_report`]: `report.md`, a self-contained `report.html` (inline SVG, no
//!   network), `plots/*.svg|png`, every table as `tables/*.csv|json`, `report.json`, and
//!   the one-file sample browser `samples.html` ([`SampleBrowser`]).

mod browser;
pub mod chart;
mod document;
pub mod evaluation;
mod html;
mod markdown;
pub mod plot;
mod write;

pub use browser::{BrowserSample, SampleBrowser, browser_html};
pub use chart::{
    BarChart, BarSeries, BoxChart, BoxSeries, Chart, FiveNumbers, LineChart, Marker, Point, Series,
    XScale,
};
pub use document::{Block, Cell, Figure, Report, Section, Table, slug};
pub use evaluation::{
    BenchmarkResults, CoverageResult, CrossoverResult, Evaluation, GapResult, ModelResults,
    PerplexityResults, SampleTotals, SectionOptions, SolvedSample,
};
pub use html::{escape, html};
pub use markdown::markdown;
pub use write::{ReportError, Written, table_csv, table_json, write_report};
