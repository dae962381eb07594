//! `boundary import`: samples made anywhere, into a store.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::Context;
use boundary_store::{Store, import_jsonl};
use clap::Args;

use crate::cli::GlobalArgs;
use crate::output;

/// Each line of the input is one sample:
///
///   {"model": "qwen2.5-7b", "benchmark": "math500", "problem_id": "17", "sample_index": 0,
///    "response": "... \\boxed{3}", "correct": true}
///
/// Optional fields: `gold`, `prompt`, `finish_reason`, `num_tokens`, `prompt_tokens`,
/// `verdict`, `extracted`, `verifier`, `status` ("ok" or "failed", with `error`), and a
/// run's `source`, `sampling` and `seed` (as `boundary export` writes them). The file goes
/// in whole or not at all; importing it again adds nothing twice.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The run store to import into (created if it does not exist).
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// JSON Lines file of samples; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
}

pub fn run(args: ImportArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.store)
        .with_context(|| format!("cannot open the store {}", args.store.display()))?;
    let progress = output::counter(global.quiet, "lines");
    let summary = if args.input.as_os_str() == "-" {
        import_jsonl(&mut store, std::io::stdin().lock(), "<stdin>", |n| {
            progress.set_position(n)
        })
    } else {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        let name = args.input.display().to_string();
        import_jsonl(
            &mut store,
            BufReader::with_capacity(1 << 20, file),
            &name,
            |n| progress.set_position(n),
        )
    };
    progress.finish_and_clear();
    let summary = summary?;
    if !global.quiet {
        eprintln!(
            "imported {} new samples ({} already in the store{}), {} grades, into {}",
            summary.inserted,
            summary.unchanged,
            if summary.replaced_failed > 0 {
                format!(", {} failed samples completed", summary.replaced_failed)
            } else {
                String::new()
            },
            summary.grades,
            args.store.display()
        );
        for run in &summary.runs {
            eprintln!(
                "  run {}: {} on {}, {} samples",
                run.run, run.model, run.benchmark, run.samples
            );
        }
    }
    Ok(())
}
