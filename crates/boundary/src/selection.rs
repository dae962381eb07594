//! Choosing runs from a store, and reading their per-problem counts.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Context, bail};
use boundary_core::ProblemCounts;
use boundary_store::{Run, RunCounts, Store, read_counts};
use clap::{ArgGroup, Args};

/// Which runs of a store a command looks at, and whose grades it reads.
#[derive(Debug, Args)]
pub struct RunFilter {
    /// Only runs of this model (repeat the flag for several).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
    /// Only runs on this benchmark (repeat the flag for several).
    #[arg(long = "benchmark", value_name = "BENCHMARK")]
    pub benchmarks: Vec<String>,
    /// Read grades from this verifier; needed only when a run was graded by several.
    #[arg(long, value_name = "NAME")]
    pub verifier: Option<String>,
}

/// Where per-problem counts come from: a count file, or the runs of a store.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["counts", "store"])))]
pub struct CountSource {
    /// Per-problem counts, one JSON object per line: {"id": "17", "n": 256, "c": 3}.
    #[arg(long, value_name = "FILE")]
    pub counts: Option<PathBuf>,
    /// A run store: one result per run (model × benchmark).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub filter: RunFilter,
}

/// What a [`CountSource`] holds once opened.
pub enum Counts {
    /// The problems of a count file.
    File(Vec<ProblemCounts>),
    /// A store and the runs the filter selected, in creation order.
    Store { store: Store, runs: Vec<Run> },
}

impl CountSource {
    /// Reads the count file, or opens the store and selects its runs; run filters given
    /// with a count file are an error rather than silently ignored.
    pub fn open(&self) -> anyhow::Result<Counts> {
        match (&self.counts, &self.store) {
            (Some(path), _) => {
                let filter = &self.filter;
                if !filter.models.is_empty()
                    || !filter.benchmarks.is_empty()
                    || filter.verifier.is_some()
                {
                    bail!(
                        "--model, --benchmark and --verifier select runs of a store; they do not \
                         apply to --counts"
                    );
                }
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let problems = read_counts(BufReader::new(file), &path.display().to_string())?;
                Ok(Counts::File(problems))
            }
            (None, Some(path)) => {
                let store = open_store(path)?;
                let runs = select_runs(&store, &self.filter)?;
                Ok(Counts::Store { store, runs })
            }
            (None, None) => bail!("give --counts FILE or --store FILE"),
        }
    }
}

/// Opens an existing store, with the path in the error.
pub fn open_store(path: &std::path::Path) -> anyhow::Result<Store> {
    Store::open_existing(path).with_context(|| format!("cannot open the store {}", path.display()))
}

/// The runs matching the filter, in creation order; no match is an error that lists
/// what the store does hold.
pub fn select_runs(store: &Store, filter: &RunFilter) -> anyhow::Result<Vec<Run>> {
    let all = store.runs()?;
    if all.is_empty() {
        bail!(
            "the store {} has no runs yet: import samples with `boundary import` or make some \
             with `boundary sample`",
            store.path().display()
        );
    }
    let selected: Vec<Run> = all
        .iter()
        .filter(|r| filter.models.is_empty() || filter.models.contains(&r.model))
        .filter(|r| filter.benchmarks.is_empty() || filter.benchmarks.contains(&r.benchmark))
        .cloned()
        .collect();
    if selected.is_empty() {
        let available: Vec<String> = all
            .iter()
            .map(|r| format!("{} on {}", r.model, r.benchmark))
            .collect();
        bail!(
            "no run matches{}{}; the store holds: {}",
            describe_filter(" --model", &filter.models),
            describe_filter(" --benchmark", &filter.benchmarks),
            available.join(", ")
        );
    }
    Ok(selected)
}

fn describe_filter(flag: &str, values: &[String]) -> String {
    values.iter().map(|v| format!("{flag} {v}")).collect()
}

/// A run's name in output: its model, or "model [run N]" when the store holds
/// several runs of that model on that benchmark (different sampling settings).
pub fn run_label(run: &Run, runs: &[Run]) -> String {
    let twins = runs
        .iter()
        .filter(|r| r.model == run.model && r.benchmark == run.benchmark)
        .count();
    if twins > 1 {
        format!("{} [run {}]", run.model, run.id)
    } else {
        run.model.clone()
    }
}

/// A run's counts, or why they are empty: ungraded, or only failed samples.
pub fn graded_counts(
    store: &Store,
    run: &Run,
    verifier: Option<&str>,
) -> anyhow::Result<Result<RunCounts, String>> {
    let counts = store.counts(run, verifier)?;
    if !counts.problems.is_empty() {
        return Ok(Ok(counts));
    }
    let reason = match (
        &counts.verifier,
        counts.ungraded_samples,
        counts.failed_samples,
    ) {
        (None, 0, 0) => "it has no samples".to_string(),
        (None, 0, failed) => format!("all of its {failed} samples failed"),
        (None, 1, _) => "its 1 sample is not graded yet: grade it with `boundary grade --store`, \
                         or import it with a `correct` field"
            .to_string(),
        (None, ungraded, _) => format!(
            "its {ungraded} samples are not graded yet: grade them with `boundary grade --store`, \
             or import them with a `correct` field"
        ),
        (Some(v), _, _) => format!("it has no samples graded by verifier `{v}`"),
    };
    Ok(Err(reason))
}

/// Confidence intervals by a percentile bootstrap over problems.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Add confidence intervals from a percentile bootstrap over problems with this many
    /// resamples (1000 when the flag has no number).
    #[arg(long, value_name = "RESAMPLES", num_args = 0..=1, default_missing_value = "1000")]
    pub bootstrap: Option<usize>,
    /// Confidence level of the intervals.
    #[arg(long, value_name = "LEVEL", default_value_t = boundary_core::Bootstrap::DEFAULT_CONFIDENCE)]
    pub confidence: f64,
    /// Seed of the bootstrap's resampling (same seed, same intervals).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl BootstrapArgs {
    pub fn bootstrap(&self) -> anyhow::Result<Option<boundary_core::Bootstrap>> {
        self.bootstrap
            .map(|resamples| boundary_core::Bootstrap::new(resamples, self.confidence, self.seed))
            .transpose()
            .context("invalid --bootstrap/--confidence")
    }
}
