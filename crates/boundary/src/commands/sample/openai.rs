//! `boundary sample --endpoint URL ...`: sampling through OpenAI-compatible servers.
//!
//! Probe every endpoint and print what it does, check every prompt fits the context, then
//! request the missing samples and hand each to the store sink as it arrives, with a
//! progress bar; the summary says what was made, what failed and what is still missing.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use boundary_openai::{
    ConnectOptions, ContextReport, EndpointPool, HealthPolicy, Problem, Progress, RunEnd,
    SampleOutcome, SampleRecord, SamplerConfig, SeedPolicy, check_context, connect, sample,
};
use boundary_sample::{Plan, PromptInput, SamplingParams, SinkSummary, StoreSink, plan};
use boundary_store::{NewSample, Store};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::{
    BackendOutcome, SampleArgs, existing_run_is_complete, finish, read_prompt_file,
    refuse_changed_settings,
};
use crate::cli::GlobalArgs;
use crate::endpoints::{runtime, stop_on_ctrl_c};
use crate::output;

/// Unfit problems listed in the error before "and N more".
const UNFIT_LISTED: usize = 10;

#[derive(Debug, Args)]
#[command(next_help_heading = "OpenAI-compatible servers")]
pub struct OpenAiSampleArgs {
    /// Most samples one request asks for (`n`); large --n is split into such requests,
    /// and a server that takes fewer is asked for fewer.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub chunk_size: u32,
    /// Extra fields for every request, as a JSON object: vLLM's `repetition_penalty`,
    /// `chat_template_kwargs`, ... They are part of the run's settings.
    #[arg(long, value_name = "JSON")]
    pub extra_body: Option<String>,
    /// The context length to check prompts against when the server does not report it
    /// (llama-cpp-python's server does not).
    #[arg(long, value_name = "TOKENS")]
    pub context_length: Option<u64>,
    /// Leave out (and list) problems whose prompt plus --max-tokens does not fit the
    /// context, instead of refusing to start.
    #[arg(long)]
    pub skip_unfit: bool,
    /// Send no seeds: the server draws its own randomness (not reproducible).
    #[arg(long)]
    pub unseeded: bool,
}

pub fn run(args: SampleArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let quiet = global.quiet || args.json;
    let prompts = read_prompt_file(&args.prompts)?;
    let extra = parse_extra_body(args.openai.extra_body.as_deref())?;
    let params = args.params(extra);
    boundary_openai::validate(&params, None).context("invalid sampling settings")?;
    if args.openai.chunk_size == 0 {
        bail!("--chunk-size must be at least 1");
    }
    let endpoints = args.endpoints.configs()?;
    let retry = args.endpoints.retry_policy()?;
    let health = args.endpoints.health_policy()?;
    let seeds = if args.openai.unseeded {
        SeedPolicy::Unseeded
    } else {
        SeedPolicy::Derived {
            run_seed: args.seed,
        }
    };
    // Sample i of a problem gets seed base(problem) + i (see boundary-openai's seed.rs).
    let seed_label = (!args.openai.unseeded).then_some("base+index");
    let spec = args.run_spec("openai", &params, &prompts, seed_label);
    let selected = args.selected(&prompts);
    let store = Store::open(&args.store)
        .with_context(|| format!("cannot open the store {}", args.store.display()))?;
    refuse_changed_settings(&store, &spec, args.new_run)?;

    let started = Instant::now();
    let (made, sink) = if existing_run_is_complete(&store, &spec, &selected, args.n)? {
        drop(store);
        (Ok(BackendOutcome::nothing()), None)
    } else {
        let job = ServerJob {
            served_model: args.model.clone(),
            params,
            seeds,
            chunk_size: args.openai.chunk_size,
            context_length: args.openai.context_length,
            skip_unfit: args.openai.skip_unfit,
            retry,
            health,
            quiet,
        };
        runtime()?.block_on(async {
            let probe_prompt = prompts
                .iter()
                .find(|p| args.shard.is_none_or(|s| s.contains(&p.id)))
                .map(|p| &p.input)
                .context("the shard holds no problems")?;
            // A misconfigured endpoint fails here, before the store is touched.
            let pool = job.connect(endpoints, probe_prompt).await?;
            let mut store = store;
            let plan = plan(&mut store, &spec, &prompts, args.n, args.shard)?;
            if !quiet {
                eprintln!(
                    "run {} ({} on {}): {} problems x {}; {} samples in the store, {} to make",
                    plan.run.id,
                    spec.model,
                    spec.benchmark,
                    plan.problems,
                    args.n,
                    plan.completed,
                    plan.missing()
                );
            }
            job.sample_plan(&pool, store, plan).await
        })?
    };
    let written = finish_sink(sink)?;
    finish(&args, global, spec, &selected, written, made?, started)
}

/// Waits until every sample handed to the sink of [`ServerJob::sample_plan`] is committed
/// (call it outside the runtime, whatever happened to the requests), so that the store
/// can be read back.
pub fn finish_sink(sink: Option<StoreSink>) -> anyhow::Result<SinkSummary> {
    match sink {
        Some(sink) => sink.finish().context("the store writer failed"),
        None => Ok(SinkSummary::default()),
    }
}

fn parse_extra_body(text: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let Some(text) = text else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => bail!(
            "--extra-body must be a JSON object like '{{\"top_k\": 20}}', got {}",
            boundary_store::describe(&other)
        ),
        Err(e) => bail!("--extra-body is not valid JSON: {e}"),
    }
}

/// What sampling through servers needs besides the endpoints and the plan: `boundary
/// sample` fills it from its flags, `boundary eval` from the experiment.
pub struct ServerJob {
    /// The model's name on the servers.
    pub served_model: String,
    pub params: SamplingParams,
    pub seeds: SeedPolicy,
    pub chunk_size: u32,
    /// The context to check prompts against when the servers report none.
    pub context_length: Option<u64>,
    /// Leave out problems that do not fit the context instead of refusing to start.
    pub skip_unfit: bool,
    pub retry: boundary_openai::RetryPolicy,
    pub health: HealthPolicy,
    pub quiet: bool,
}

impl ServerJob {
    /// Probes every endpoint with `probe_prompt` and this job's settings (what each server
    /// does is printed unless quiet) and opens a pool of them.
    pub async fn connect(
        &self,
        endpoints: Vec<boundary_openai::EndpointConfig>,
        probe_prompt: &PromptInput,
    ) -> anyhow::Result<EndpointPool> {
        let options = ConnectOptions {
            model: self.served_model.clone(),
            chunk_size: self.chunk_size,
            retry: self.retry.clone(),
            health: self.health.clone(),
        };
        let (pool, reports) = connect(endpoints, probe_prompt, &self.params, &options).await?;
        if !self.quiet {
            for report in &reports {
                eprintln!("{report}");
            }
        }
        Ok(pool)
    }

    /// Checks the context, then requests the plan's missing samples and hands each to a
    /// store sink as it arrives. Returns the outcome and the sink, which the caller
    /// finishes outside the runtime whatever happened.
    pub async fn sample_plan(
        self,
        pool: &EndpointPool,
        store: Store,
        plan: Plan,
    ) -> anyhow::Result<(anyhow::Result<BackendOutcome>, Option<StoreSink>)> {
        let progress = Arc::new(Progress::default());
        let run_id = plan.run.id;
        let mut items = plan.items;
        if items.is_empty() {
            return Ok((Ok(BackendOutcome::nothing()), None));
        }
        let stop = stop_on_ctrl_c(self.quiet);

        let reported = pool
            .endpoints()
            .iter()
            .filter_map(|e| e.capabilities.context_length.as_ref().map(|c| c.tokens))
            .min();
        let mut skipped_unfit = Vec::new();
        match self.context_length.or(reported) {
            Some(limit) => {
                let problems: Vec<Arc<Problem>> = items
                    .iter()
                    .map(|w| {
                        Arc::new(Problem {
                            id: w.problem.clone(),
                            input: w.input.clone(),
                        })
                    })
                    .collect();
                let spinner = output::counter(self.quiet, "prompts counted");
                let report = check_context(
                    pool,
                    &self.served_model,
                    &self.params,
                    &problems,
                    limit,
                    self.retry.clone(),
                    stop.clone(),
                )
                .await?;
                spinner.finish_and_clear();
                let Some(report) = report else {
                    return Ok((
                        Ok(BackendOutcome {
                            stopped: true,
                            ..BackendOutcome::nothing()
                        }),
                        None,
                    ));
                };
                if !report.unfit.is_empty() {
                    if !self.skip_unfit {
                        bail!("{}", unfit_message(&report, limit));
                    }
                    let unfit: HashSet<&str> =
                        report.unfit.iter().map(|u| u.problem_id.as_str()).collect();
                    items.retain(|w| !unfit.contains(w.problem.as_str()));
                    skipped_unfit = report.unfit.iter().map(|u| u.problem_id.clone()).collect();
                }
            }
            None if !self.quiet => eprintln!(
                "warning: no context length is known (the server does not report one), so \
                 prompts are not checked up front; pass --context-length N to check them"
            ),
            None => {}
        }

        let total: u64 = items.iter().map(|w| w.indices.len() as u64).sum();
        let sink = StoreSink::spawn(store, run_id);
        let handle = sink.handle();
        let (sender, mut receiver) = mpsc::channel::<SampleRecord>(1024);
        let forward = tokio::spawn(async move {
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            while let Some(record) = receiver.recv().await {
                if let SampleOutcome::Failed { error, .. } = &record.outcome {
                    *errors.entry(error.clone()).or_default() += 1;
                }
                if handle.write(stored_sample(record)).is_err() {
                    break;
                }
            }
            errors
        });
        let bar = progress_bar(total, self.quiet);
        let ticker = tokio::spawn(tick(bar.clone(), progress.clone()));
        let config = SamplerConfig {
            model: self.served_model,
            params: self.params,
            logprobs: None,
            chunk_size: self.chunk_size,
            seeds: self.seeds,
            retry: self.retry,
        };
        let ended = sample(pool, config, items, sender, progress.clone(), stop).await;
        ticker.abort();
        bar.finish_and_clear();
        let errors = forward.await.unwrap_or_default();
        let counted = progress.snapshot();
        let outcome = ended
            .map_err(anyhow::Error::from)
            .map(|end| BackendOutcome {
                requests: counted.requests,
                retries: counted.retries,
                tokens: counted.tokens,
                stopped: end == RunEnd::Stopped,
                skipped_unfit,
                errors,
            });
        Ok((outcome, Some(sink)))
    }
}

/// Why sampling cannot start: the problems that do not fit the context, and those whose
/// prompt the server would not count (a prompt longer than the context on its own, or a
/// server error: the server's answer is shown), at most [`UNFIT_LISTED`] of them.
fn unfit_message(report: &ContextReport, limit: u64) -> String {
    let too_long = report
        .unfit
        .iter()
        .filter(|u| u.prompt_tokens.is_some())
        .count();
    let uncounted = report.unfit.len() - too_long;
    let mut causes = Vec::new();
    if too_long > 0 {
        causes.push(format!(
            "{too_long} cannot fit in the context of {limit} tokens"
        ));
    }
    if uncounted > 0 {
        causes.push(format!(
            "the server would not count the prompts of {uncounted}"
        ));
    }
    let mut text = format!("of {} problems, {}:", report.checked, causes.join(", and "));
    for unfit in report.unfit.iter().take(UNFIT_LISTED) {
        text.push_str(&format!("\n  {unfit}"));
    }
    let more = report.unfit.len().saturating_sub(UNFIT_LISTED);
    if more > 0 {
        text.push_str(&format!("\n  ... and {more} more"));
    }
    text.push_str(
        "\nLower --max-tokens, serve the model with a longer context, check the server's log \
         for errors, or pass --skip-unfit to leave these problems out.",
    );
    text
}

/// A record of the sampler as the store keeps it.
fn stored_sample(record: SampleRecord) -> NewSample {
    let (outcome, finish_reason, completion_tokens) = match record.outcome {
        SampleOutcome::Completed(c) => (
            boundary_store::SampleOutcome::Ok { response: c.text },
            c.finish_reason,
            c.num_tokens,
        ),
        SampleOutcome::Failed { error, .. } => {
            (boundary_store::SampleOutcome::Failed { error }, None, None)
        }
    };
    NewSample {
        problem: record.problem.id.clone(),
        sample_index: record.sample_index,
        outcome,
        finish_reason,
        prompt_tokens: None,
        completion_tokens,
    }
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} samples ({per_sec}, eta {eta}) {msg}")
            .expect("valid progress template"),
    )
}

/// Refreshes the bar's numbers: samples/s from the bar, tokens/s, retries, failures.
async fn tick(bar: ProgressBar, progress: Arc<Progress>) {
    let started = Instant::now();
    loop {
        let s = progress.snapshot();
        bar.set_position(s.samples_ok + s.samples_failed);
        let seconds = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{:.0} tok/s, {} retries, {} failed",
            s.tokens as f64 / seconds,
            s.retries,
            s.samples_failed
        ));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_openai::Unfit;

    fn unfit(problem: &str, prompt_tokens: Option<u64>, detail: &str) -> Unfit {
        Unfit {
            problem_id: problem.into(),
            prompt_tokens,
            detail: detail.into(),
        }
    }

    #[test]
    fn prompts_the_server_would_not_count_are_not_called_too_long() {
        let report = ContextReport {
            checked: 5,
            unfit: vec![
                unfit(
                    "a",
                    Some(4000),
                    "prompt 4000 tokens + max_tokens 512 = 4512 > context 4096",
                ),
                unfit("b", None, "the server would not count the prompt: HTTP 500"),
            ],
            longest_prompt: 4000,
        };
        let message = unfit_message(&report, 4096);
        assert!(
            message.starts_with(
                "of 5 problems, 1 cannot fit in the context of 4096 tokens, and the server would \
                 not count the prompts of 1:\n  problem `a`: prompt 4000"
            ),
            "{message}"
        );
        assert!(
            message.contains("problem `b`: the server would not count"),
            "{message}"
        );
        let only_errors = ContextReport {
            unfit: vec![report.unfit[1].clone()],
            ..report
        };
        let message = unfit_message(&only_errors, 4096);
        assert!(
            message.starts_with("of 5 problems, the server would not count the prompts of 1:"),
            "{message}"
        );
        assert!(!message.contains("cannot fit"), "{message}");
    }
}
