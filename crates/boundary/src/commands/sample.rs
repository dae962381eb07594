//! `boundary sample`: n samples per problem, each written to the run store the moment it
//! exists. Re-running the same command resumes: only missing samples are made, so every
//! problem ends with exactly n, none twice; a larger --n tops the run up.
//!
//! This module holds what every backend shares (the flags, the run's identity, the check
//! for changed settings, the summary); `sample/openai.rs` drives OpenAI-compatible servers,
//! `sample/embedded.rs` runs a model file on this machine's CPU.
//!
//! ## How a backend plugs in
//! A backend is a module `sample/<name>.rs` providing
//! `pub fn run(args: SampleArgs, global: &GlobalArgs) -> anyhow::Result<()>`, chosen in
//! [`run`] below from the flags (`--endpoint` → `openai`; `--model FILE` without
//! `--endpoint` → `embedded`). Its own flags are a struct flattened into
//! [`SampleArgs`] under its own help heading. It follows the steps of `sample/openai.rs`:
//! 1. [`read_prompt_file`], [`SampleArgs::params`], and [`SampleArgs::run_spec`] with the
//!    backend's name as `source` and its seed policy;
//! 2. [`refuse_changed_settings`]; if [`existing_run_is_complete`], nothing is loaded;
//! 3. `boundary_sample::plan` for the missing samples, each finished sample written at once
//!    through `boundary_sample::StoreSink` (failed ones as `Failed`, never as text);
//! 4. [`finish`] with the sink's counts and a [`BackendOutcome`]: it reads the store back
//!    and prints the summary every backend shares.

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod openai;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use boundary_sample::{PromptRecord, SamplingParams, Shard, SinkSummary, read_prompts};
use boundary_store::{Run, RunSpec, Store, canonical_json};
use clap::Args;
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::cli::GlobalArgs;
use crate::endpoints::EndpointArgs;

/// Prompt lines are `{"id": ..., "prompt": "..."}` (raw text: sent as is, the paper's
/// setting for base models) or `{"id": ..., "messages": [...]}` (chat: the server applies
/// the model's template); `gold` or `answer` is kept for grading.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Prompt file (JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub prompts: PathBuf,
    /// The run store (created if missing).
    #[arg(long, value_name = "FILE")]
    pub store: PathBuf,
    /// With --endpoint: the model's name on the server (one of the ids of its /v1/models).
    /// Without: a GGUF file or Hugging Face safetensors directory, run on this machine.
    #[arg(long, value_name = "NAME|PATH")]
    pub model: String,
    /// Samples per problem.
    #[arg(long, value_name = "N")]
    pub n: u32,
    #[arg(long, default_value_t = 0.6)]
    pub temperature: f64,
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f64,
    #[arg(long, value_name = "K")]
    pub top_k: Option<u32>,
    #[arg(long, value_name = "P")]
    pub min_p: Option<f64>,
    /// Most tokens generated per sample.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_tokens: u32,
    /// A stop string (repeat for several).
    #[arg(long = "stop", value_name = "TEXT")]
    pub stop: Vec<String>,
    /// The run's seed; each sample's seed is derived from it, the problem and its index.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The benchmark the problems belong to (default: the prompt file's name).
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,
    /// Sample only shard i of N (problems split by a hash of their id), for running one
    /// benchmark on several machines; `boundary merge` combines the stores afterwards.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<Shard>,
    /// Start a new run even though the store holds this model and benchmark with other
    /// settings (without it, that is refused and the differences are shown).
    #[arg(long)]
    pub new_run: bool,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    #[command(flatten)]
    pub openai: openai::OpenAiSampleArgs,
    #[cfg(feature = "embedded")]
    #[command(flatten)]
    pub embedded: embedded::EmbeddedSampleArgs,
}

pub fn run(args: SampleArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    if args.endpoints.given() {
        return openai::run(args, global);
    }
    #[cfg(feature = "embedded")]
    return embedded::run(args, global);
    #[cfg(not(feature = "embedded"))]
    bail!(
        "no backend: give --endpoint URL to sample from an OpenAI-compatible server (the \
         embedded backend, --model FILE without --endpoint, is not part of this build)"
    )
}

impl SampleArgs {
    pub fn params(&self, extra: Map<String, Value>) -> SamplingParams {
        SamplingParams {
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: self.top_k,
            min_p: self.min_p,
            max_tokens: self.max_tokens,
            stop: self.stop.clone(),
            seed: self.seed,
            extra,
        }
    }

    /// The run's identity: everything that shapes its samples (model, sampling settings,
    /// every prompt as rendered, seed policy), nothing that does not (endpoints, in-flight
    /// limits, chunk sizes, threads). `source` names the backend; `seeds` names how sample
    /// i of a problem gets its seed (None: the backend draws its own, not reproducible).
    pub fn run_spec(
        &self,
        source: &str,
        params: &SamplingParams,
        prompts: &[PromptRecord],
        seeds: Option<&str>,
    ) -> RunSpec {
        let settings = serde_json::json!({
            "model": self.model,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": params.top_k,
            "min_p": params.min_p,
            "max_tokens": params.max_tokens,
            "stop": params.stop,
            "extra_body": params.extra,
            "seeds": seeds.unwrap_or("server"),
            "prompts_sha256": prompts_digest(prompts),
        });
        // Unset options are left out, so that a new option does not change existing runs.
        let sampling = match settings {
            Value::Object(map) => {
                Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            other => other,
        };
        RunSpec {
            model: self.model.clone(),
            benchmark: self.benchmark(),
            source: source.into(),
            sampling,
            seed: seeds.map(|_| self.seed),
        }
    }

    /// The ids of the problems this command samples (all, or those of --shard).
    pub fn selected(&self, prompts: &[PromptRecord]) -> Vec<String> {
        prompts
            .iter()
            .filter(|p| self.shard.is_none_or(|s| s.contains(&p.id)))
            .map(|p| p.id.clone())
            .collect()
    }

    /// The benchmark name: `--benchmark`, or the prompt file's name without extension.
    pub fn benchmark(&self) -> String {
        self.benchmark.clone().unwrap_or_else(|| {
            self.prompts
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "prompts".into())
        })
    }
}

/// Reads the prompt file; every bad line is reported with its number.
pub fn read_prompt_file(path: &Path) -> anyhow::Result<Vec<PromptRecord>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the prompt file {}", path.display()))?;
    let prompts = read_prompts(std::io::BufReader::new(file), &path.display().to_string())?;
    if prompts.is_empty() {
        bail!("the prompt file {} holds no prompts", path.display());
    }
    Ok(prompts)
}

/// sha256 of every prompt of the file (before sharding), in id order: part of the run's
/// identity, so that a changed template or prompt set is a different run, while the
/// shards of one run share it.
pub fn prompts_digest(prompts: &[PromptRecord]) -> String {
    let mut sorted: Vec<(&str, String)> = prompts
        .iter()
        .map(|p| (p.id.as_str(), p.input.stored_form()))
        .collect();
    sorted.sort();
    let mut hash = Sha256::new();
    for (id, prompt) in sorted {
        for part in [id, prompt.as_str()] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses to start a run next to an existing one of the same model and benchmark with
/// other settings (a resumed command whose flags changed), showing what differs, unless
/// the user asked for a new run.
pub fn refuse_changed_settings(store: &Store, spec: &RunSpec, new_run: bool) -> anyhow::Result<()> {
    let hash = spec.config_hash()?;
    let others: Vec<_> = store
        .runs()?
        .into_iter()
        .filter(|r| r.model == spec.model && r.benchmark == spec.benchmark)
        .collect();
    if new_run || others.is_empty() || others.iter().any(|r| r.config_hash == hash) {
        return Ok(());
    }
    let latest = &others[others.len() - 1];
    let mut stored = latest.sampling.as_object().cloned().unwrap_or_default();
    stored.insert("source".into(), Value::from(latest.source.clone()));
    stored.insert("seed".into(), serde_json::json!(latest.seed));
    let mut wanted = spec.sampling.as_object().cloned().unwrap_or_default();
    wanted.insert("source".into(), Value::from(spec.source.clone()));
    wanted.insert("seed".into(), serde_json::json!(spec.seed));
    let differences = differences(&stored, &wanted);
    bail!(
        "the store {} already has run {} of `{}` on `{}` with other settings:\n{}\n\
         Run the original command to resume it, or pass --new-run to start a separate run.",
        store.path().display(),
        latest.id,
        spec.model,
        spec.benchmark,
        differences.join("\n")
    )
}

/// `  key: stored → wanted` for every key whose value differs.
fn differences(stored: &Map<String, Value>, wanted: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<&String> = stored.keys().chain(wanted.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&Value>| v.map_or("(not set)".to_owned(), canonical_json);
    keys.into_iter()
        .filter(|k| stored.get(*k) != wanted.get(*k))
        .map(|k| format!("  {k}: {} → {}", show(stored.get(k)), show(wanted.get(k))))
        .collect()
}

/// The store's run with exactly this spec, if any.
fn find_run(store: &Store, spec: &RunSpec) -> anyhow::Result<Option<Run>> {
    let hash = spec.config_hash()?;
    Ok(store
        .runs()?
        .into_iter()
        .find(|r| r.model == spec.model && r.benchmark == spec.benchmark && r.config_hash == hash))
}

/// Whether the store already holds this run with every sample of the selected problems,
/// read without writing: a finished command re-run neither loads a model nor contacts a
/// server, and leaves the store as it was.
pub fn existing_run_is_complete(
    store: &Store,
    spec: &RunSpec,
    selected: &[String],
    n: u32,
) -> anyhow::Result<bool> {
    let Some(run) = find_run(store, spec)? else {
        return Ok(false);
    };
    for problem in selected {
        if !store.missing_indices(run.id, problem, n)?.is_empty() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What a backend's sampling did, beyond what the store shows.
pub struct BackendOutcome {
    /// Requests, retries and tokens counted by the backend (zero where it has none).
    pub requests: u64,
    pub retries: u64,
    pub tokens: u64,
    /// Stopped (Ctrl-C, or no server came back) before every sample was asked for.
    pub stopped: bool,
    pub skipped_unfit: Vec<String>,
    /// Error text of failed samples → how many samples failed with it.
    pub errors: BTreeMap<String, u64>,
}

impl BackendOutcome {
    pub fn nothing() -> Self {
        Self {
            requests: 0,
            retries: 0,
            tokens: 0,
            stopped: false,
            skipped_unfit: Vec::new(),
            errors: BTreeMap::new(),
        }
    }
}

/// Ends every backend's command: reads the run back from the store (after the sink has
/// committed everything), prints the summary (or its JSON), and fails when stopped early.
pub fn finish(
    args: &SampleArgs,
    global: &GlobalArgs,
    spec: RunSpec,
    selected: &[String],
    written: SinkSummary,
    outcome: BackendOutcome,
    started: Instant,
) -> anyhow::Result<()> {
    let store = Store::open_existing(&args.store)?;
    let run =
        find_run(&store, &spec)?.context("the run is missing from the store after sampling")?;
    let mut missing = 0u64;
    for problem in selected {
        missing += store.missing_indices(run.id, problem, args.n)?.len() as u64;
    }
    let selected_set: HashSet<&str> = selected.iter().map(String::as_str).collect();
    let duplicate_problems = store
        .duplicate_responses(run.id)?
        .into_iter()
        .filter(|d| selected_set.contains(d.problem.as_str()))
        .map(|d| DuplicateProblem {
            problem: d.problem,
            samples: d.samples,
            duplicates: d.duplicates,
        })
        .collect();
    let summary = SampleSummary {
        run: run.id,
        model: spec.model,
        benchmark: spec.benchmark,
        problems: selected.len(),
        n: args.n,
        completed: selected.len() as u64 * u64::from(args.n) - missing,
        missing,
        written: written.completed + written.failed,
        written_failed: written.failed,
        seconds: started.elapsed().as_secs_f64(),
        requests: outcome.requests,
        retries: outcome.retries,
        tokens: outcome.tokens,
        stopped: outcome.stopped,
        duplicate_problems,
        skipped_unfit: outcome.skipped_unfit,
        errors: outcome.errors.into_iter().collect(),
    };
    if args.json {
        crate::output::print_json(&summary)?;
    } else if !global.quiet {
        summary.print();
    }
    if summary.stopped {
        bail!("stopped before every sample was made; run the same command again to resume");
    }
    Ok(())
}

/// What a sampling command did, for people (stderr) or scripts (`--json`).
#[derive(Debug, Serialize)]
pub struct SampleSummary {
    pub run: i64,
    pub model: String,
    pub benchmark: String,
    pub problems: usize,
    pub n: u32,
    /// Completed samples the run holds now, of the n per problem asked for.
    pub completed: u64,
    /// Samples still missing: failed (never graded; the next run retries them) or not
    /// made because the run was stopped.
    pub missing: u64,
    /// Made by this command.
    pub written: u64,
    pub written_failed: u64,
    pub seconds: f64,
    pub requests: u64,
    pub retries: u64,
    pub tokens: u64,
    /// The run was stopped (Ctrl-C) before everything was asked for.
    pub stopped: bool,
    /// Problems whose completed samples repeat a response word for word.
    pub duplicate_problems: Vec<DuplicateProblem>,
    /// Problems left out because they do not fit the context (--skip-unfit).
    pub skipped_unfit: Vec<String>,
    /// The first errors of failed samples, with how many samples each.
    pub errors: Vec<(String, u64)>,
}

#[derive(Debug, Serialize)]
pub struct DuplicateProblem {
    pub problem: String,
    pub samples: u64,
    pub duplicates: u64,
}

impl SampleSummary {
    pub fn print(&self) {
        eprintln!(
            "run {} ({} on {}): {} samples made in {:.1} s ({} failed); the run now holds {} of \
             {} samples ({} problems x {})",
            self.run,
            self.model,
            self.benchmark,
            self.written,
            self.seconds,
            self.written_failed,
            self.completed,
            self.problems as u64 * u64::from(self.n),
            self.problems,
            self.n
        );
        if self.requests > 0 {
            eprintln!(
                "  {} requests, {} retried, {} tokens counted",
                self.requests, self.retries, self.tokens
            );
        }
        for (error, count) in &self.errors {
            eprintln!("  failed ({count} samples): {error}");
        }
        if !self.skipped_unfit.is_empty() {
            eprintln!(
                "  left out {} problems that do not fit the context: {}",
                self.skipped_unfit.len(),
                self.skipped_unfit.join(", ")
            );
        }
        if !self.duplicate_problems.is_empty() {
            let total: u64 = self.duplicate_problems.iter().map(|d| d.duplicates).sum();
            eprintln!(
                "  warning: {total} samples repeat an earlier response of their problem word for \
                 word, in {} problems (first: {} with {} of {})",
                self.duplicate_problems.len(),
                self.duplicate_problems[0].problem,
                self.duplicate_problems[0].duplicates,
                self.duplicate_problems[0].samples
            );
        }
        if self.missing > 0 {
            eprintln!(
                "  {} samples are still missing{}: run the same command again to make them",
                self.missing,
                if self.stopped { " (stopped)" } else { "" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_each_changed_setting() {
        let stored = json!({"temperature": 0.6, "max_tokens": 1024, "stop": ["x"]});
        let wanted = json!({"temperature": 0.7, "max_tokens": 1024, "top_k": 20});
        let lines = differences(stored.as_object().unwrap(), wanted.as_object().unwrap());
        assert_eq!(
            lines,
            vec![
                "  stop: [\"x\"] → (not set)",
                "  temperature: 0.6 → 0.7",
                "  top_k: (not set) → 20"
            ]
        );
    }
}
