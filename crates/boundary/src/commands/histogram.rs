//! `boundary histogram`: how per-problem accuracy c/n is distributed.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context, bail};
use boundary_core::{AccuracyBin, accuracy_histogram};
use boundary_store::read_counts;
use clap::{ArgGroup, Args};
use serde::Serialize;

use crate::output;
use crate::selection::{RunFilter, graded_counts, open_store, run_label, select_runs};

/// Bins are `0` (never solved), equal-width bins over (0, 1), and `1` (always solved):
/// RL typically moves mass to both ends.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["counts", "store"])))]
pub struct HistogramArgs {
    /// Per-problem counts, one JSON object per line: {"id": "17", "n": 256, "c": 3}.
    #[arg(long, value_name = "FILE")]
    pub counts: Option<PathBuf>,
    /// A run store: one histogram per run.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub filter: RunFilter,
    /// Number of equal-width bins between the `0` and `1` bins.
    #[arg(long, default_value_t = 10)]
    pub bins: usize,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Histogram {
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    benchmark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<i64>,
    problems: usize,
    bins: Vec<AccuracyBin>,
}

pub fn run(args: HistogramArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.counts {
        if !args.filter.models.is_empty() || !args.filter.benchmarks.is_empty() {
            bail!("--model and --benchmark select runs of a store; they do not apply to --counts");
        }
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let problems = read_counts(BufReader::new(file), &path.display().to_string())?;
        let h = Histogram {
            model: None,
            benchmark: None,
            run: None,
            problems: problems.len(),
            bins: accuracy_histogram(&problems, args.bins)?,
        };
        return if args.json {
            output::print_json(&h)
        } else {
            print_histogram(&h)
        };
    }
    let store = open_store(
        args.store
            .as_ref()
            .expect("clap requires --counts or --store"),
    )?;
    let runs = select_runs(&store, &args.filter)?;
    let mut histograms = Vec::new();
    for run in &runs {
        match graded_counts(&store, run, args.filter.verifier.as_deref())? {
            Ok(counts) => histograms.push(Histogram {
                model: Some(run_label(run, &runs)),
                benchmark: Some(run.benchmark.clone()),
                run: Some(run.id),
                problems: counts.problems.len(),
                bins: accuracy_histogram(&counts.problems, args.bins)?,
            }),
            Err(reason) => eprintln!(
                "warning: skipped {} on {} (run {}): {reason}",
                run.model, run.benchmark, run.id
            ),
        }
    }
    if args.json {
        return output::print_json(&serde_json::json!({ "histograms": histograms }));
    }
    for (i, h) in histograms.iter().enumerate() {
        if i > 0 {
            println!();
        }
        print_histogram(h)?;
    }
    Ok(())
}

fn print_histogram(h: &Histogram) -> anyhow::Result<()> {
    if let (Some(model), Some(benchmark)) = (&h.model, &h.benchmark) {
        println!("{benchmark} · {model} ({} problems)", h.problems);
    }
    let mut rows = vec![vec![
        "accuracy".to_string(),
        "problems".to_string(),
        "%".to_string(),
        String::new(),
    ]];
    for b in &h.bins {
        rows.push(vec![
            b.label.clone(),
            b.problems.to_string(),
            output::percent(b.fraction),
            "#".repeat((b.fraction * 50.0).round() as usize),
        ]);
    }
    print!("{}", output::table(&rows));
    Ok(())
}
