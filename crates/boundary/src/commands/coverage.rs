//! `boundary coverage`: the problems each model solves at least once, and how the
//! solved sets of models relate (does RL solve anything its base never does?).

use std::collections::BTreeMap;
use std::path::PathBuf;

use boundary_core::{Comparison, ProblemCounts, SolvedSet};
use clap::Args;
use serde::Serialize;

use crate::output;
use crate::selection::{RunFilter, graded_counts, open_store, run_label, select_runs};

/// A problem is solved by a model when at least one of its graded samples is correct
/// (pass@n > 0). Pairs compare two models on the problems both were evaluated on.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// The run store to read.
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    #[command(flatten)]
    pub filter: RunFilter,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct ModelCoverage {
    model: String,
    run: i64,
    solved_count: usize,
    #[serde(flatten)]
    solved: SolvedSet,
}

#[derive(Serialize)]
struct PairCoverage {
    a: String,
    b: String,
    /// Fraction of b's solved problems that a solves too (1.0: b's set ⊆ a's).
    b_solved_also_by_a: Option<f64>,
    a_solved_also_by_b: Option<f64>,
    #[serde(flatten)]
    comparison: Comparison,
}

#[derive(Serialize)]
struct BenchmarkCoverage {
    benchmark: String,
    models: Vec<ModelCoverage>,
    pairs: Vec<PairCoverage>,
}

pub fn run(args: CoverageArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store)?;
    let runs = select_runs(&store, &args.filter)?;
    let mut by_benchmark: BTreeMap<String, Vec<(String, i64, Vec<ProblemCounts>)>> =
        BTreeMap::new();
    for run in &runs {
        match graded_counts(&store, run, args.filter.verifier.as_deref())? {
            Ok(counts) => by_benchmark
                .entry(run.benchmark.clone())
                .or_default()
                .push((run_label(run, &runs), run.id, counts.problems)),
            Err(reason) => eprintln!(
                "warning: skipped {} on {} (run {}): {reason}",
                run.model, run.benchmark, run.id
            ),
        }
    }
    let report: Vec<BenchmarkCoverage> = by_benchmark
        .into_iter()
        .map(|(benchmark, models)| {
            let pairs = models
                .iter()
                .enumerate()
                .flat_map(|(i, a)| models[i + 1..].iter().map(move |b| (a, b)))
                .map(|((a, _, pa), (b, _, pb))| {
                    let comparison = Comparison::of(pa, pb);
                    PairCoverage {
                        a: a.clone(),
                        b: b.clone(),
                        b_solved_also_by_a: comparison.fraction_of_b_also_solved_by_a(),
                        a_solved_also_by_b: Comparison::of(pb, pa).fraction_of_b_also_solved_by_a(),
                        comparison,
                    }
                })
                .collect();
            let models = models
                .into_iter()
                .map(|(model, run, problems)| {
                    let solved = SolvedSet::of(&problems);
                    ModelCoverage {
                        model,
                        run,
                        solved_count: solved.solved.len(),
                        solved,
                    }
                })
                .collect();
            BenchmarkCoverage {
                benchmark,
                models,
                pairs,
            }
        })
        .collect();
    if args.json {
        return output::print_json(&serde_json::json!({ "benchmarks": report }));
    }
    for (i, b) in report.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}", b.benchmark);
        let mut rows = vec![vec![
            "model".to_string(),
            "solved".to_string(),
            "of problems".to_string(),
        ]];
        for m in &b.models {
            rows.push(vec![
                m.model.clone(),
                m.solved_count.to_string(),
                m.solved.problems.to_string(),
            ]);
        }
        print!("{}", output::table(&rows));
        for p in &b.pairs {
            let c = &p.comparison;
            println!(
                "{} vs {} ({} common problems): both {}, only {} {}, only {} {}, neither {}",
                p.a,
                p.b,
                c.common_problems,
                c.both.len(),
                p.a,
                c.only_a.len(),
                p.b,
                c.only_b.len(),
                c.neither.len()
            );
            for (who, ids) in [(&p.a, &c.only_a), (&p.b, &c.only_b)] {
                if !ids.is_empty() && ids.len() <= 20 {
                    println!("  solved only by {who}: {}", ids.join(", "));
                }
            }
        }
    }
    Ok(())
}
