//! `boundary gap`: the sampling-efficiency gap ΔSE (Yue et al. §4.3), for example the
//! base model's pass@256 minus the RL model's pass@1.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use boundary_core::{ProblemCounts, SamplingEfficiencyGap, sampling_efficiency_gap};
use boundary_store::read_counts;
use clap::Args;
use serde::Serialize;

use crate::output;
use crate::selection::{BootstrapArgs, RunFilter, graded_counts, open_store, select_runs};

/// ΔSE = pass@K of the reference model − pass@k of each other model, over the problems
/// both were evaluated on (a smaller gap means the other model's first try gets closer
/// to what the reference reaches with K tries). With --bootstrap, a paired interval.
#[derive(Debug, Args)]
pub struct GapArgs {
    /// A run store holding both models.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["reference_counts", "other_counts"])]
    pub store: Option<PathBuf>,
    /// The reference model (typically the base model), by its name in the store.
    #[arg(long, value_name = "MODEL", requires = "store")]
    pub reference: Option<String>,
    /// The models to compare with the reference [default: every other model in the store].
    #[arg(long = "other", value_name = "MODEL", requires = "store")]
    pub others: Vec<String>,
    /// Only this benchmark (repeat for several) [default: all].
    #[arg(long = "benchmark", value_name = "BENCHMARK", requires = "store")]
    pub benchmarks: Vec<String>,
    /// Read grades from this verifier; needed only when a run was graded by several.
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
    /// Counts of the reference model ({"id", "n", "c"} lines), instead of a store.
    #[arg(long, value_name = "FILE", requires = "other_counts")]
    pub reference_counts: Option<PathBuf>,
    /// Counts of the other model, instead of a store.
    #[arg(long, value_name = "FILE", requires = "reference_counts")]
    pub other_counts: Option<PathBuf>,
    /// k of the reference model [default: its smallest n over the common problems].
    #[arg(long, value_name = "K")]
    pub reference_k: Option<u64>,
    /// k of the other models.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub other_k: u64,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct GapRow {
    benchmark: Option<String>,
    reference: String,
    other: String,
    #[serde(flatten)]
    gap: SamplingEfficiencyGap,
}

pub fn run(args: GapArgs) -> anyhow::Result<()> {
    let bootstrap = args.bootstrap.bootstrap()?;
    let gap = |reference: &[ProblemCounts],
               other: &[ProblemCounts]|
     -> anyhow::Result<SamplingEfficiencyGap> {
        let k = match args.reference_k {
            Some(k) => k,
            None => {
                let common: std::collections::HashSet<&str> =
                    other.iter().map(|p| p.id.as_str()).collect();
                reference
                    .iter()
                    .filter(|p| common.contains(p.id.as_str()))
                    .map(|p| p.n)
                    .min()
                    .context("the two models have no evaluated problem in common")?
            }
        };
        Ok(sampling_efficiency_gap(
            reference,
            k,
            other,
            args.other_k,
            bootstrap.as_ref(),
        )?)
    };

    let mut rows = Vec::new();
    if let (Some(ref_path), Some(other_path)) = (&args.reference_counts, &args.other_counts) {
        let (reference, other) = (load(ref_path)?, load(other_path)?);
        rows.push(GapRow {
            benchmark: None,
            reference: ref_path.display().to_string(),
            other: other_path.display().to_string(),
            gap: gap(&reference, &other)?,
        });
    } else {
        let Some(path) = &args.store else {
            bail!(
                "give a store (--store FILE --reference MODEL) or two count files (--reference-counts, --other-counts)"
            );
        };
        let Some(reference) = &args.reference else {
            bail!("--reference MODEL names the model whose pass@k the others are compared with");
        };
        let store = open_store(path)?;
        let filter = RunFilter {
            models: Vec::new(),
            benchmarks: args.benchmarks.clone(),
            verifier: args.verifier.clone(),
        };
        let runs = select_runs(&store, &filter)?;
        if !runs.iter().any(|r| &r.model == reference) {
            bail!("the store has no run of the reference model `{reference}`");
        }
        for ref_run in runs.iter().filter(|r| &r.model == reference) {
            let ref_counts = match graded_counts(&store, ref_run, args.verifier.as_deref())? {
                Ok(c) => c,
                Err(reason) => bail!("{reference} on {}: {reason}", ref_run.benchmark),
            };
            let others = runs.iter().filter(|r| {
                r.benchmark == ref_run.benchmark
                    && r.id != ref_run.id
                    && (args.others.is_empty() || args.others.contains(&r.model))
            });
            for other in others {
                let other_counts = match graded_counts(&store, other, args.verifier.as_deref())? {
                    Ok(c) => c,
                    Err(reason) => {
                        eprintln!(
                            "warning: skipped {} on {}: {reason}",
                            other.model, other.benchmark
                        );
                        continue;
                    }
                };
                rows.push(GapRow {
                    benchmark: Some(ref_run.benchmark.clone()),
                    reference: reference.clone(),
                    other: other.model.clone(),
                    gap: gap(&ref_counts.problems, &other_counts.problems).with_context(|| {
                        format!("{reference} vs {} on {}", other.model, ref_run.benchmark)
                    })?,
                });
            }
        }
        if rows.is_empty() {
            bail!("no other model shares a benchmark with `{reference}`");
        }
    }

    if args.json {
        return output::print_json(&serde_json::json!({ "gaps": rows }));
    }
    let mut table = vec![
        [
            "benchmark",
            "reference",
            "pass@K %",
            "other",
            "pass@k %",
            "ΔSE (points)",
            "problems",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in &rows {
        let g = &r.gap;
        table.push(vec![
            r.benchmark.clone().unwrap_or_else(|| "-".into()),
            format!("{} @{}", r.reference, g.reference_k),
            output::percent(g.reference_pass_at_k),
            format!("{} @{}", r.other, g.other_k),
            output::percent(g.other_pass_at_k),
            match g.ci {
                Some(ci) => format!(
                    "{} [{} – {}]",
                    output::percent(g.gap),
                    output::percent(ci.low),
                    output::percent(ci.high)
                ),
                None => output::percent(g.gap),
            },
            g.problems.to_string(),
        ]);
    }
    print!("{}", output::table(&table));
    Ok(())
}

fn load(path: &Path) -> anyhow::Result<Vec<ProblemCounts>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(read_counts(
        BufReader::new(file),
        &path.display().to_string(),
    )?)
}
