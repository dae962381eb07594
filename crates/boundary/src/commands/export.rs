//! `boundary export`: a store's samples with their grades, for pandas, polars or jq.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, bail};
use boundary_store::{ExportFilter, ExportFormat, export};
use clap::{Args, ValueEnum};

use crate::selection::open_store;

/// One row per sample with the fields `boundary import` reads (`model`, `benchmark`,
/// `problem_id`, `sample_index`, `response`, `status`, ...) plus the grade (`correct`,
/// `verdict`, `extracted`, `verifier`), so an export re-imports cleanly.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run store to read.
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Where to write; standard output when omitted.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only runs of this model.
    #[arg(long)]
    pub model: Option<String>,
    /// Only runs on this benchmark.
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Grades from this verifier; needed only when a run was graded by several.
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
    Parquet,
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store)?;
    let format = match args.format {
        Format::Jsonl => ExportFormat::Jsonl,
        Format::Csv => ExportFormat::Csv,
        Format::Parquet => ExportFormat::Parquet,
    };
    let filter = ExportFilter {
        model: args.model,
        benchmark: args.benchmark,
        verifier: args.verifier,
    };
    match &args.output {
        Some(path) => {
            // Write next to the target and rename, so a failed export never leaves a
            // truncated file where a good one is expected.
            let partial = path.with_extension("partial");
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let result = export(&store, &filter, format, file);
            if result.is_err() {
                let _ = std::fs::remove_file(&partial);
            }
            result?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        None => {
            if matches!(format, ExportFormat::Parquet) && std::io::stdout().is_terminal() {
                bail!("Parquet is binary: write it to a file with --output FILE, or pipe it");
            }
            export(&store, &filter, format, std::io::stdout())?;
        }
    }
    Ok(())
}
