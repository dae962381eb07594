//! `boundary histogram`: how per-problem accuracy c/n is distributed.

use boundary_core::{AccuracyBin, accuracy_histogram};
use clap::Args;
use serde::Serialize;

use crate::output;
use crate::selection::{CountSource, Counts, graded_counts, run_label};

/// Bins are `0` (never solved), equal-width bins over (0, 1), and `1` (always solved):
/// RL typically moves mass to both ends.
#[derive(Debug, Args)]
pub struct HistogramArgs {
    #[command(flatten)]
    pub source: CountSource,
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
    let (store, runs) = match args.source.open()? {
        Counts::File(problems) => {
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
        Counts::Store { store, runs } => (store, runs),
    };
    let mut histograms = Vec::new();
    for run in &runs {
        match graded_counts(&store, run, args.source.filter.verifier.as_deref())? {
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
