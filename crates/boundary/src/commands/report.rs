//! `boundary report`: the paper's tables and figures for everything a store holds.

use std::path::{Path, PathBuf};

use anyhow::Context;
use boundary_report::{
    Block, Cell, Report, Section, SectionOptions, Table, evaluation, write_report,
};
use boundary_store::{Store, canonical_json};
use clap::Args;

use crate::analysis::{Analysis, AnalysisOptions, analyse};
use crate::cli::GlobalArgs;
use crate::selection::{BootstrapArgs, open_store};

/// Writes report.md, a self-contained report.html, plots/*.svg|png, every table as
/// tables/*.csv|json, report.json, and samples.html (a page to read and filter the
/// samples). Every number comes from the store alone; running it again rewrites the
/// same files.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run store to report on.
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// The folder to write (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The model the others are compared with (coverage, crossover, ΔSE)
    /// [default: the first model of each benchmark].
    #[arg(long, value_name = "MODEL")]
    pub reference: Option<String>,
    /// Only runs of this model (repeat for several).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// Only runs on this benchmark (repeat for several).
    #[arg(long = "benchmark", value_name = "BENCHMARK")]
    pub benchmarks: Vec<String>,
    /// Read grades from this verifier; needed only when a run was graded by several.
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
    /// The ks of the curves, comma-separated [default: 1, 2, 4, … n].
    #[arg(long = "k", value_name = "K,...", value_delimiter = ',')]
    pub ks: Vec<u64>,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// Bins of the accuracy histogram between 0 and 1 (the end bins 0 and 1 are extra).
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Leave problems with fewer than k samples out of the points where k > n.
    #[arg(long)]
    pub skip_short: bool,
    /// At most this many samples in samples.html.
    #[arg(long, default_value_t = 20_000)]
    pub browser_limit: usize,
    /// The report's title.
    #[arg(long, default_value = "Reasoning boundary report")]
    pub title: String,
}

pub fn run(args: ReportArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store)?;
    // Reports always carry intervals: 1,000 resamples unless asked otherwise.
    let bootstrap = match args.bootstrap.bootstrap()? {
        Some(b) => b,
        None => boundary_core::Bootstrap::new(
            boundary_core::Bootstrap::DEFAULT_RESAMPLES,
            args.bootstrap.confidence,
            args.bootstrap.seed,
        )
        .context("invalid --confidence")?,
    };
    let options = AnalysisOptions {
        ks: (!args.ks.is_empty()).then(|| args.ks.clone()),
        bootstrap: Some(bootstrap),
        bins: args.bins,
        reference: args.reference.clone(),
        verifier: args.verifier.clone(),
        benchmark_verifiers: Default::default(),
        skip_short: args.skip_short,
        browser_limit: args.browser_limit,
        models: args.models.clone(),
        benchmarks: args.benchmarks.clone(),
        runs: None,
    };
    let analysis = analyse(&store, &options)?;
    write(
        &store,
        &analysis,
        &args.title,
        bootstrap.confidence(),
        &args.out,
        global,
    )
}

/// Builds the report document of an analysis and writes the folder.
pub fn write(
    store: &Store,
    analysis: &Analysis,
    title: &str,
    confidence: f64,
    out: &Path,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let report = document(store, analysis, title, confidence)?;
    let mut browser = analysis.browser.clone();
    browser.title = format!("{title}: samples");
    let written = write_report(&report, Some(&browser), out)
        .with_context(|| format!("cannot write the report to {}", out.display()))?;
    if !global.quiet {
        for w in &analysis.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!(
            "wrote {} files to {}: report.md, report.html, samples.html, {} plots, {} tables",
            written.files.len(),
            out.display(),
            report.figures().len(),
            report.tables().len()
        );
    }
    Ok(())
}

/// The report document: manifest, the evaluation's sections, the runs and any
/// warnings.
pub fn document(
    store: &Store,
    analysis: &Analysis,
    title: &str,
    confidence: f64,
) -> anyhow::Result<Report> {
    let mut report = Report::new(title)
        .manifest_entry("boundary", env!("CARGO_PKG_VERSION"))
        .manifest_entry(
            "store",
            store.path().file_name().map_or_else(
                || store.path().display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        )
        .manifest_entry(
            "intervals",
            format!(
                "{:.0}% percentile bootstrap over problems",
                100.0 * confidence
            ),
        );
    for s in evaluation::sections(
        &analysis.evaluation,
        &SectionOptions {
            confidence,
            ..SectionOptions::default()
        },
    ) {
        report.push(s);
    }
    report.push(runs_section(store)?);
    if !analysis.warnings.is_empty() {
        report.push(
            Section::new("warnings", "Left out").block(Block::List(analysis.warnings.clone())),
        );
    }
    Ok(report)
}

/// Every run with the settings that made it: the run manifest.
fn runs_section(store: &Store) -> anyhow::Result<Section> {
    let mut table = Table::new(
        "runs",
        "The runs of the store, with every setting that shaped their samples.",
        &[
            "run",
            "model",
            "benchmark",
            "source",
            "seed",
            "sampling",
            "config hash",
            "problems",
            "completed",
            "failed",
            "verifiers",
        ],
    );
    for run in store.runs()? {
        let stats = store.sample_stats(run.id)?;
        table.push(vec![
            Cell::count(run.id),
            Cell::text(&run.model),
            Cell::text(&run.benchmark),
            Cell::text(&run.source),
            run.seed.map_or(Cell::Missing, Cell::count),
            Cell::text(canonical_json(&run.sampling)),
            Cell::text(&run.config_hash[..12.min(run.config_hash.len())]),
            Cell::count(stats.problems),
            Cell::count(stats.completed),
            Cell::count(stats.failed),
            Cell::text(store.verifiers(run.id)?.join(", ")),
        ]);
    }
    Ok(Section::new("runs", "Runs").block(Block::Table(table)))
}
