//! Stage 4 of `boundary eval`: perplexity. The `[perplexity]` scorer (one of the
//! experiment's models, embedded or on servers) scores the responses of each
//! `responses_of` model on each of its benchmarks: the first `problems` problems, the first
//! `samples` completed samples of each, each response given the exact prompt stored with
//! its run (the text, or the chat messages, the model was sampled with). Scores go to the
//! store a batch at a time under the scorer's experiment name, so a killed eval loses at
//! most the batch in flight and a re-run scores only what is missing. The runs scored are
//! those of the models' names in the store: the runs eval made, and samples imported
//! under the same names.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use boundary_openai::{ConnectOptions, RunEnd};
use boundary_sample::PromptInput;
use boundary_store::{NewScore, Store};

use super::config::{Backend, Experiment, ModelSpec, PerplexitySpec};
use crate::cli::GlobalArgs;
use crate::commands::score::openai::ServerScorer;
use crate::commands::score::{ScorePair, Scored, Scorer, ScoringWeights};
use crate::output;

/// Responses scored and written together: what a kill can lose.
const BATCH: usize = 64;

/// The responses of one problem of one run still to score.
struct ProblemWork {
    run: i64,
    model: String,
    benchmark: String,
    problem: String,
    prompt: PromptInput,
    indices: Vec<u32>,
}

/// Why responses were left unscored: each reason with how many, and the first one's place.
#[derive(Default)]
struct Unscorable(BTreeMap<String, (u64, String)>);

impl Unscorable {
    fn add(&mut self, reason: String, count: u64, place: impl FnOnce() -> String) {
        self.0.entry(reason).or_insert_with(|| (0, place())).0 += count;
    }

    fn total(&self) -> u64 {
        self.0.values().map(|(n, _)| n).sum()
    }
}

/// Scores what the `[perplexity]` selection still lacks; nothing when the experiment has
/// no `[perplexity]` table or everything is scored (the scorer is then never loaded).
pub fn score(
    experiment: &Experiment,
    store: &mut Store,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let Some(spec) = &experiment.perplexity else {
        return Ok(());
    };
    let scorer_model = experiment
        .models
        .iter()
        .find(|m| m.name == spec.scorer)
        .with_context(|| format!("the scorer `{}` is not one of the models", spec.scorer))?;
    let mut unscorable = Unscorable::default();
    let work = plan(experiment, spec, store, &mut unscorable)?;
    let total: u64 = work.iter().map(|w| w.indices.len() as u64).sum();
    let mut scored = 0u64;
    if total > 0 {
        if !global.quiet {
            eprintln!(
                "perplexity: {} scores {total} responses of {}",
                spec.scorer,
                spec.responses_of.join(", ")
            );
        }
        let mut scorer = scorer(scorer_model, spec.weights, global)?;
        let responses: Vec<(&ProblemWork, u32)> = work
            .iter()
            .flat_map(|w| w.indices.iter().map(move |&i| (w, i)))
            .collect();
        let bar = output::bar(global.quiet, total, "responses scored");
        for batch in responses.chunks(BATCH) {
            let end = score_batch(
                batch,
                &spec.scorer,
                scorer.as_mut(),
                store,
                &mut unscorable,
                &mut scored,
                &bar,
            )?;
            if end == RunEnd::Stopped {
                bar.abandon();
                bail!(
                    "stopped after scoring {scored} of {total} responses; they are kept in {}, \
                     and running the same command again scores the rest",
                    experiment.store.display()
                );
            }
        }
        bar.finish_and_clear();
    }
    if !global.quiet {
        if total > 0 {
            eprintln!("perplexity: {scored} responses scored by {}", spec.scorer);
        }
        if unscorable.total() > 0 {
            eprintln!(
                "warning: {} responses could not be scored by {} (they are left out of the \
                 perplexity analysis, and tried again next time):",
                unscorable.total(),
                spec.scorer
            );
            for (reason, (count, first)) in &unscorable.0 {
                eprintln!("  {count} × {reason} (first: {first})");
            }
        }
    }
    Ok(())
}

/// The responses of the selection that have no score from the scorer yet, problem by
/// problem; problems whose prompt was not stored are counted in `unscorable`.
fn plan(
    experiment: &Experiment,
    spec: &PerplexitySpec,
    store: &Store,
    unscorable: &mut Unscorable,
) -> anyhow::Result<Vec<ProblemWork>> {
    let mut work = Vec::new();
    for benchmark in experiment
        .benchmarks
        .iter()
        .filter(|b| spec.benchmarks.contains(&b.name))
    {
        let mut problems: Vec<&str> = Vec::new();
        for p in &benchmark.problems {
            if !problems.contains(&p.id.as_str()) {
                problems.push(&p.id);
            }
        }
        problems.truncate(spec.problems.unwrap_or(usize::MAX));
        let runs = store
            .runs()?
            .into_iter()
            .filter(|r| r.benchmark == benchmark.name && spec.responses_of.contains(&r.model));
        for run in runs {
            for &problem in &problems {
                let indices = store.unscored(run.id, problem, &spec.scorer, spec.samples)?;
                if indices.is_empty() {
                    continue;
                }
                let Some(prompt) = store.prompt(run.id, problem)? else {
                    unscorable.add(
                        "no prompt is stored for the problem (import samples with a `prompt` \
                         field)"
                            .into(),
                        indices.len() as u64,
                        || format!("{} on {}, problem {problem}", run.model, run.benchmark),
                    );
                    continue;
                };
                work.push(ProblemWork {
                    run: run.id,
                    model: run.model.clone(),
                    benchmark: run.benchmark.clone(),
                    problem: problem.to_owned(),
                    prompt: PromptInput::from_stored(&prompt),
                    indices,
                });
            }
        }
    }
    Ok(work)
}

/// Scores one batch and writes its scores in one transaction.
fn score_batch(
    batch: &[(&ProblemWork, u32)],
    scorer_name: &str,
    scorer: &mut dyn Scorer,
    store: &mut Store,
    unscorable: &mut Unscorable,
    scored: &mut u64,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<RunEnd> {
    let mut pairs = Vec::with_capacity(batch.len());
    let mut keys = Vec::with_capacity(batch.len());
    for &(work, index) in batch {
        // The sample was completed when the plan was made; it stays so.
        let Some(response) = store.response(work.run, &work.problem, index)? else {
            continue;
        };
        pairs.push(ScorePair {
            prompt: work.prompt.clone(),
            response,
        });
        keys.push((work, index));
    }
    let mut results = Vec::with_capacity(pairs.len());
    let end = scorer.score(&pairs, &mut |i, result| {
        bar.inc(1);
        results.push((i, result));
        Ok(())
    })?;
    let mut writer = store.writer()?;
    for (i, result) in results {
        let (work, sample_index) = keys[i];
        match result {
            Scored::Score {
                logprob_sum,
                num_tokens,
            } => {
                writer.put_score(
                    work.run,
                    &NewScore {
                        problem: work.problem.clone(),
                        sample_index,
                        scorer: scorer_name.to_owned(),
                        logprob_sum,
                        num_tokens,
                    },
                )?;
                *scored += 1;
            }
            Scored::Error(reason) => unscorable.add(reason, 1, || {
                format!(
                    "{} on {}, problem {}, sample {sample_index}",
                    work.model, work.benchmark, work.problem
                )
            }),
        }
    }
    writer.commit()?;
    Ok(end)
}

/// The scorer model's backend.
fn scorer(
    model: &ModelSpec,
    #[cfg_attr(not(feature = "embedded"), expect(unused_variables))] weights: ScoringWeights,
    global: &GlobalArgs,
) -> anyhow::Result<Box<dyn Scorer>> {
    match &model.backend {
        #[cfg(feature = "embedded")]
        Backend::Embedded { path } => Ok(Box::new(
            crate::commands::score::embedded::EmbeddedScorer::load(path, 0, weights)?,
        )),
        #[cfg(not(feature = "embedded"))]
        Backend::Embedded { .. } => bail!(
            "the scorer `{}` is a model file, and the embedded backend is not part of this \
             build; give it an `endpoint` instead",
            model.name
        ),
        Backend::Server(server) => {
            let flags = server.endpoint_args();
            let options = ConnectOptions {
                model: server.request_name(&model.name),
                chunk_size: 1,
                retry: flags.retry_policy()?,
                health: flags.health_policy()?,
            };
            Ok(Box::new(ServerScorer::new(
                flags.configs()?,
                options,
                global.quiet,
            )?))
        }
    }
}
