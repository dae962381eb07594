//! What an experiment will do: one run per (model, benchmark), its identity in the
//! store, the samples it already has and those still to make, and the tokens they cost.

use std::collections::HashSet;

use anyhow::Context;
use boundary_bench::{Domain, PromptMode, RenderedPrompt};
use boundary_sample::{PromptRecord, SamplingParams};
use boundary_store::{RunSpec, Store};
use serde::Serialize;
use serde_json::{Value, json};

use super::config::{Backend, BenchmarkSource, BenchmarkSpec, Experiment, ModelSpec};
use crate::output;

/// Characters per token assumed for the estimate (English and LaTeX average about 4 with
/// the BPE vocabularies of current models).
const CHARS_PER_TOKEN: f64 = 4.0;

#[derive(Debug, Serialize)]
pub struct Plan {
    pub store: String,
    pub report: String,
    pub runs: Vec<PlannedRun>,
    pub samples_to_make: u64,
    pub estimated_prompt_tokens: u64,
    pub max_new_tokens: u64,
    pub perplexity: Option<PlannedScoring>,
}

/// The perplexity stage: whose responses are scored, by which model, where.
#[derive(Debug, Serialize)]
pub struct PlannedScoring {
    pub scorer: String,
    pub responses_of: Vec<String>,
    pub benchmarks: Vec<String>,
    /// Responses to score: problems × samples per problem × models, at most.
    pub responses: u64,
}

#[derive(Debug, Serialize)]
pub struct PlannedRun {
    pub model: String,
    pub benchmark: String,
    pub backend: &'static str,
    /// What grades the samples: the math or the code verifier.
    pub verifier: &'static str,
    pub template: String,
    pub prompt: &'static str,
    pub problems: usize,
    pub n: u32,
    pub requested: u64,
    pub completed: u64,
    pub to_make: u64,
    /// Prompt tokens of the samples still to make, estimated from characters.
    pub estimated_prompt_tokens: u64,
    /// Upper bound of new tokens: samples to make × max_tokens.
    pub max_new_tokens: u64,
}

/// A run recorded in the store, with the samples it still needs.
pub struct PreparedRun {
    pub model: String,
    pub benchmark: String,
    pub backend: Backend,
    /// The settings its samples are made with (the model's, plus the template's stops).
    pub params: SamplingParams,
    pub plan: boundary_sample::Plan,
}

impl PreparedRun {
    pub fn backend_name(&self) -> &'static str {
        backend_name(&self.backend)
    }
}

fn backend_name(backend: &Backend) -> &'static str {
    match backend {
        Backend::Embedded { .. } => "embedded",
        Backend::Server(_) => "openai",
    }
}

fn mode_name(mode: PromptMode) -> &'static str {
    match mode {
        PromptMode::Raw => "raw",
        PromptMode::Chat => "chat",
    }
}

/// The template a model uses on a benchmark.
fn template_of<'a>(model: &'a ModelSpec, benchmark: &'a BenchmarkSpec) -> &'a str {
    model.template.as_deref().unwrap_or(&benchmark.template)
}

/// The settings a backend is given: the model's, plus the stop strings of the raw
/// layout (ChatML's end-of-turn tokens) in raw mode.
pub fn effective_sampling(
    experiment: &Experiment,
    model: &ModelSpec,
    benchmark: &BenchmarkSpec,
) -> SamplingParams {
    let mut sampling = model.sampling.clone();
    if model.prompt == PromptMode::Raw
        && let Ok(t) = experiment.templates.get(template_of(model, benchmark))
    {
        for stop in &t.stop {
            if !sampling.stop.contains(stop) {
                sampling.stop.push(stop.clone());
            }
        }
    }
    sampling
}

/// The run's identity: everything that shapes its samples. Changing any of it makes a
/// new run instead of mixing samples.
pub fn run_spec(experiment: &Experiment, model: &ModelSpec, benchmark: &BenchmarkSpec) -> RunSpec {
    let template = experiment
        .templates
        .get(template_of(model, benchmark))
        .ok()
        .and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(Value::Null);
    let model_identity = match &model.backend {
        // The file's name and size, not its path: moving a model keeps its runs.
        Backend::Embedded { path } => json!({
            "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
            "bytes": std::fs::metadata(path).map(|m| m.len()).ok(),
        }),
        Backend::Server(server) => json!({ "served_model": server.served_model }),
    };
    let source = match &benchmark.source {
        BenchmarkSource::Registry(registry) => json!({
            "registry": registry.name(),
            "path": benchmark.options.path,
            "version": benchmark.options.version,
            "start_date": benchmark.options.start_date,
            "end_date": benchmark.options.end_date,
            "multiple_choice": benchmark.options.multiple_choice,
        }),
        BenchmarkSource::Custom { path, mapping } => json!({ "path": path, "fields": mapping }),
    };
    RunSpec {
        model: model.name.clone(),
        benchmark: benchmark.name.clone(),
        source: backend_name(&model.backend).to_owned(),
        sampling: json!({
            "params": effective_sampling(experiment, model, benchmark),
            "prompt": mode_name(model.prompt),
            "template": template,
            "model": model_identity,
            "benchmark_source": source,
        }),
        seed: Some(experiment.seed),
    }
}

fn render_all(
    experiment: &Experiment,
    model: &ModelSpec,
    benchmark: &BenchmarkSpec,
) -> anyhow::Result<Vec<(String, RenderedPrompt)>> {
    benchmark
        .problems
        .iter()
        .map(|p| {
            experiment
                .templates
                .render(template_of(model, benchmark), p, model.prompt)
                .map(|r| (p.id.clone(), r))
                .with_context(|| format!("model `{}` on `{}`", model.name, benchmark.name))
        })
        .collect()
}

/// The plan, reading (never writing) the store when it exists.
pub fn plan(experiment: &Experiment, store: Option<&Store>) -> anyhow::Result<Plan> {
    let existing = store.map(Store::runs).transpose()?.unwrap_or_default();
    let mut runs = Vec::new();
    for m in &experiment.models {
        for b in &experiment.benchmarks {
            let spec = run_spec(experiment, m, b);
            let hash = spec.config_hash()?;
            let run = existing.iter().find(|r| {
                r.model == spec.model && r.benchmark == spec.benchmark && r.config_hash == hash
            });
            let prompts = render_all(experiment, m, b)?;
            let mut completed = 0u64;
            let mut chars_to_make = 0u64;
            for (id, rendered) in &prompts {
                let missing = match (run, store) {
                    (Some(run), Some(store)) => {
                        store.missing_indices(run.id, id, b.n)?.len() as u64
                    }
                    _ => u64::from(b.n),
                };
                completed += u64::from(b.n) - missing;
                chars_to_make += missing * rendered.input.stored_form().chars().count() as u64;
            }
            let requested = b.problems.len() as u64 * u64::from(b.n);
            let to_make = requested - completed;
            let sampling = effective_sampling(experiment, m, b);
            runs.push(PlannedRun {
                model: m.name.clone(),
                benchmark: b.name.clone(),
                backend: backend_name(&m.backend),
                verifier: match b.domain {
                    Domain::Code => "code",
                    Domain::Math | Domain::Visual => "math",
                },
                template: template_of(m, b).to_owned(),
                prompt: mode_name(m.prompt),
                problems: b.problems.len(),
                n: b.n,
                requested,
                completed,
                to_make,
                estimated_prompt_tokens: (chars_to_make as f64 / CHARS_PER_TOKEN).round() as u64,
                max_new_tokens: to_make * u64::from(sampling.max_tokens),
            });
        }
    }
    Ok(Plan {
        store: experiment.store.display().to_string(),
        report: experiment.out.display().to_string(),
        samples_to_make: runs.iter().map(|r| r.to_make).sum(),
        estimated_prompt_tokens: runs.iter().map(|r| r.estimated_prompt_tokens).sum(),
        max_new_tokens: runs.iter().map(|r| r.max_new_tokens).sum(),
        perplexity: experiment.perplexity.as_ref().map(|p| PlannedScoring {
            scorer: p.scorer.clone(),
            responses_of: p.responses_of.clone(),
            benchmarks: p.benchmarks.clone(),
            responses: experiment
                .benchmarks
                .iter()
                .filter(|b| p.benchmarks.contains(&b.name))
                .map(|b| {
                    let problems = p
                        .problems
                        .map_or(b.problems.len(), |n| n.min(b.problems.len()));
                    let per_problem = p.samples.map_or(b.n, |s| s.min(b.n));
                    problems as u64 * u64::from(per_problem) * p.responses_of.len() as u64
                })
                .sum(),
        }),
        runs,
    })
}

/// The plan for people.
pub fn render(plan: &Plan, experiment: &Experiment) -> String {
    let mut rows = vec![
        [
            "model",
            "benchmark",
            "backend",
            "verifier",
            "template",
            "prompt",
            "problems",
            "n",
            "samples",
            "done",
            "to make",
            "prompt tokens≈",
            "new tokens ≤",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in &plan.runs {
        rows.push(vec![
            r.model.clone(),
            r.benchmark.clone(),
            r.backend.to_owned(),
            r.verifier.to_owned(),
            r.template.clone(),
            r.prompt.to_owned(),
            r.problems.to_string(),
            r.n.to_string(),
            r.requested.to_string(),
            r.completed.to_string(),
            r.to_make.to_string(),
            r.estimated_prompt_tokens.to_string(),
            r.max_new_tokens.to_string(),
        ]);
    }
    let mut text = format!(
        "experiment {} · store {} · report {}\n{}{} samples to make; about {} prompt tokens \
         (estimated at {CHARS_PER_TOKEN} characters per token), at most {} new tokens\n",
        experiment.file.display(),
        plan.store,
        plan.report,
        output::table(&rows),
        plan.samples_to_make,
        plan.estimated_prompt_tokens,
        plan.max_new_tokens,
    );
    if let Some(p) = &plan.perplexity {
        text.push_str(&format!(
            "perplexity: {} scores up to {} responses of {} on {}\n",
            p.scorer,
            p.responses,
            p.responses_of.join(", "),
            p.benchmarks.join(", ")
        ));
    }
    text
}

/// Records every run with its problems (gold answers, fields) and the exact prompts in
/// the store, and returns what each run still needs. Idempotent.
pub fn prepare(experiment: &Experiment, store: &mut Store) -> anyhow::Result<Vec<PreparedRun>> {
    let mut prepared = Vec::new();
    for m in &experiment.models {
        for b in &experiment.benchmarks {
            let spec = run_spec(experiment, m, b);
            let rendered = render_all(experiment, m, b)?;
            let mut seen = HashSet::new();
            let records: Vec<PromptRecord> = b
                .problems
                .iter()
                .zip(rendered)
                .filter(|(p, _)| seen.insert(p.id.clone()))
                .map(|(p, (_, r))| PromptRecord {
                    id: p.id.clone(),
                    input: r.input,
                    gold: p.gold.clone(),
                    metadata: (!p.fields.is_empty()).then(|| Value::Object(p.fields.clone())),
                })
                .collect();
            let plan = boundary_sample::plan(store, &spec, &records, b.n, None)
                .with_context(|| format!("cannot record run {} on {}", m.name, b.name))?;
            prepared.push(PreparedRun {
                model: m.name.clone(),
                benchmark: b.name.clone(),
                backend: m.backend.clone(),
                params: effective_sampling(experiment, m, b),
                plan,
            });
        }
    }
    Ok(prepared)
}
