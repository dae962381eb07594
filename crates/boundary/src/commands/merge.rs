//! `boundary merge`: combine stores — the shards of a run (`boundary sample --shard i/N`)
//! or stores made on different machines — into one.

use std::path::PathBuf;

use anyhow::{Context, bail};
use boundary_store::{MergeSummary, Store, merge_stores};
use clap::Args;

use crate::output;

/// Runs, problems, samples, grades and scores are matched by their keys: what only one
/// store has is copied, identical rows are kept once, and a completed sample replaces a
/// failed one. Two different values for the same key are a conflict: the value already
/// in --into is kept, the conflict is listed, and the command exits with an error.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The store to merge into (created if missing).
    #[arg(long, value_name = "FILE")]
    pub into: PathBuf,
    /// The stores to merge from.
    #[arg(value_name = "STORE", required = true)]
    pub stores: Vec<PathBuf>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Conflicts printed before "and N more".
const CONFLICTS_PRINTED: usize = 20;

pub fn run(args: MergeArgs) -> anyhow::Result<()> {
    let mut store = Store::open(&args.into)
        .with_context(|| format!("cannot open the store {}", args.into.display()))?;
    let sources: Vec<&std::path::Path> = args.stores.iter().map(PathBuf::as_path).collect();
    let summary = merge_stores(&mut store, &sources)
        .with_context(|| format!("cannot merge into {}", args.into.display()))?;
    if args.json {
        output::print_json(&summary)?;
    } else {
        print(&summary, &args);
    }
    if summary.conflict_count > 0 {
        bail!(
            "{} conflicts: the values already in {} were kept (see the list above)",
            summary.conflict_count,
            args.into.display()
        );
    }
    Ok(())
}

fn print(summary: &MergeSummary, args: &MergeArgs) {
    eprintln!(
        "merged {} stores into {}: {} runs new, {} matched; {} problems new; {} samples new, {} \
         failed samples completed, {} already there; {} grades, {} scores new",
        args.stores.len(),
        args.into.display(),
        summary.runs_added,
        summary.runs_matched,
        summary.problems_added,
        summary.samples_added,
        summary.samples_completed,
        summary.samples_unchanged,
        summary.grades_added,
        summary.scores_added
    );
    for conflict in summary.conflicts.iter().take(CONFLICTS_PRINTED) {
        let model = conflict.model.as_deref().unwrap_or("-");
        let sample = conflict
            .sample_index
            .map_or(String::new(), |i| format!(" sample {i}"));
        eprintln!(
            "  conflict ({}): {model} on {}, problem `{}`{sample}: {}",
            conflict.kind, conflict.benchmark, conflict.problem, conflict.detail
        );
    }
    let unlisted = summary
        .conflict_count
        .saturating_sub(CONFLICTS_PRINTED as u64);
    if unlisted > 0 {
        eprintln!("  ... and {unlisted} more conflicts");
    }
    if summary.annotations_skipped > 0 {
        eprintln!(
            "  {} grades or scores not copied: they belong to conflicting or failed samples",
            summary.annotations_skipped
        );
    }
}
