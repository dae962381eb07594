//! `boundary runs`: what a store holds.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::output;
use crate::selection::open_store;

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The run store to read.
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct RunInfo {
    run: i64,
    model: String,
    benchmark: String,
    source: String,
    sampling: serde_json::Value,
    seed: Option<u64>,
    created_at: String,
    problems: usize,
    samples: u64,
    failed_samples: u64,
    verifiers: Vec<String>,
}

pub fn run(args: RunsArgs) -> anyhow::Result<()> {
    let store = open_store(&args.store)?;
    let mut infos = Vec::new();
    for run in store.runs()? {
        let stats = store.sample_stats(run.id)?;
        infos.push(RunInfo {
            run: run.id,
            verifiers: store.verifiers(run.id)?,
            model: run.model,
            benchmark: run.benchmark,
            source: run.source,
            sampling: run.sampling,
            seed: run.seed,
            created_at: run.created_at,
            problems: stats.problems,
            samples: stats.completed,
            failed_samples: stats.failed,
        });
    }
    if args.json {
        return output::print_json(&serde_json::json!({ "runs": infos }));
    }
    let mut rows = vec![
        [
            "run",
            "model",
            "benchmark",
            "problems",
            "samples",
            "failed",
            "verifiers",
            "source",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for i in &infos {
        rows.push(vec![
            i.run.to_string(),
            i.model.clone(),
            i.benchmark.clone(),
            i.problems.to_string(),
            i.samples.to_string(),
            i.failed_samples.to_string(),
            if i.verifiers.is_empty() {
                "-".into()
            } else {
                i.verifiers.join(",")
            },
            i.source.clone(),
        ]);
    }
    print!("{}", output::table(&rows));
    Ok(())
}
