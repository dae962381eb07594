//! The command line, as clap derive types. Each subcommand's arguments live with
//! its implementation in `commands/`.

use clap::{Args, Parser, Subcommand};

use crate::commands;

/// Measure the reasoning boundary of language models: what a model solves given many
/// tries (pass@k at large k), which problems it ever solves (coverage), and how likely
/// one model's answers are under another (perplexity).
///
/// Samples live in a run store (one SQLite file). Import samples made anywhere, or
/// sample them with Boundary, then grade, analyse and report from the store.
#[derive(Debug, Parser)]
#[command(name = "boundary", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace); BOUNDARY_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars or summaries on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load samples generated anywhere (JSON Lines) into a run store.
    Import(commands::import::ImportArgs),
    /// Write a store's samples, with their grades, as JSON Lines, CSV or Parquet.
    Export(commands::export::ExportArgs),
    /// List the runs of a store with their sample, grade and failure counts.
    Runs(commands::runs::RunsArgs),
    /// pass@k curves with bootstrap confidence intervals, from a store or a count file.
    Passk(commands::passk::PasskArgs),
    /// Attach verdicts to samples: math answers against gold answers (`--kind math`, the
    /// default) or code run against benchmark tests in a sandbox (`--kind code`), from a
    /// JSON Lines file or a store's samples in place.
    Grade(commands::grade::GradeArgs),
    /// Which problems each model solves at least once, and how models' sets differ.
    Coverage(commands::coverage::CoverageArgs),
    /// The sampling-efficiency gap: one model's pass@k minus another's pass@k.
    Gap(commands::gap::GapArgs),
    /// The distribution of per-problem accuracy c/n.
    Histogram(commands::histogram::HistogramArgs),
    /// Sample n responses per problem into a store; re-running resumes.
    Sample(Box<commands::sample::SampleArgs>),
    /// Log-probability of responses given their prompts (for perplexity).
    Score(Box<commands::score::ScoreArgs>),
    /// Combine stores (the shards of a run) into one, reporting conflicts.
    Merge(commands::merge::MergeArgs),
    /// The paper in miniature on a CPU: pretrain a tiny model, RL it six ways, distil, evaluate, report.
    Lab(commands::lab::LabArgs),
    /// Check one response against one gold answer and show why.
    Verify(commands::verify::VerifyArgs),
    /// Run an experiment from models to report: sample, grade, analyse, write the report.
    Eval(commands::eval::EvalArgs),
    /// Write the paper's tables and figures for a store: Markdown, HTML, plots, CSV/JSON.
    Report(commands::report::ReportArgs),
    /// List the benchmarks and prompt templates, with their sizes and where their data is.
    Benchmarks(commands::benchmarks::BenchmarksArgs),
}
