//! The sample stage of `boundary eval`: every run's missing samples, made by the backend
//! its model names (a GGUF file on this machine's CPU, or OpenAI-compatible servers) with
//! the same code as `boundary sample`, each sample written to the store the moment it
//! exists. Runs are sampled one after another; a run that stops early leaves its missing
//! samples for the next `eval`.

use std::time::Instant;

use anyhow::Context;
use boundary_openai::SeedPolicy;
use boundary_sample::SinkSummary;
use boundary_store::Store;

use super::config::{Backend, Experiment, ServerModel};
use super::plan::PreparedRun;
use crate::commands::sample::BackendOutcome;
use crate::commands::sample::openai::{ServerJob, finish_sink};
use crate::endpoints::runtime;

/// Samples per request to a server unless the model says: `boundary sample`'s default.
const CHUNK_SIZE: u32 = 16;

/// What the stage did.
#[derive(Debug, Default)]
pub struct Sampled {
    /// Samples written (completed or failed) across every run.
    pub written: u64,
    pub failed: u64,
    /// Problems left out of a run because they do not fit the context (`skip_unfit`).
    pub unfit: u64,
    /// A run stopped before every sample was asked for (Ctrl-C, or no server came back).
    pub stopped: bool,
}

/// Makes the missing samples of every run, in order.
pub fn sample(
    experiment: &Experiment,
    runs: &[PreparedRun],
    quiet: bool,
) -> anyhow::Result<Sampled> {
    let mut sampled = Sampled::default();
    #[cfg(feature = "embedded")]
    let mut loaded: Option<(std::path::PathBuf, boundary_engine::Model)> = None;
    for run in runs.iter().filter(|r| r.plan.missing() > 0) {
        let store = Store::open(&experiment.store)
            .with_context(|| format!("cannot open the store {}", experiment.store.display()))?;
        if !quiet {
            eprintln!(
                "sampling {} on {}: {} samples ({} backend)",
                run.model,
                run.benchmark,
                run.plan.missing(),
                run.backend_name()
            );
        }
        let started = Instant::now();
        let (written, outcome) = match &run.backend {
            #[cfg(feature = "embedded")]
            Backend::Embedded { path } => {
                use crate::commands::sample::embedded;
                use boundary_engine::Weights;
                // Consecutive runs of one model (its benchmarks) share the loaded model.
                if loaded.as_ref().is_none_or(|(p, _)| p != path) {
                    drop(loaded.take()); // free the previous model's memory first
                    loaded = Some((
                        path.clone(),
                        embedded::load_model(path, 0, false, Weights::Stored)?,
                    ));
                }
                let (_, model) = loaded.as_ref().context("the model is loaded")?;
                let engine = embedded::EmbeddedSampleArgs::default();
                embedded::sample_plan(model, store, &run.plan, &run.params, &engine, quiet)?
            }
            #[cfg(not(feature = "embedded"))]
            Backend::Embedded { path } => anyhow::bail!(
                "model `{}` is a model file ({}), and the embedded backend is not part of this \
                 build: build boundary with its default features, or serve the model and give \
                 its `endpoint`",
                run.model,
                path.display()
            ),
            Backend::Server(server) => sample_from_servers(run, store, server, quiet)
                .with_context(|| format!("sampling {} on {}", run.model, run.benchmark))?,
        };
        report_run(&written, &outcome, started, quiet);
        sampled.written += written.completed + written.failed;
        sampled.failed += written.failed;
        sampled.unfit += outcome.skipped_unfit.len() as u64;
        if outcome.stopped {
            sampled.stopped = true;
            break;
        }
    }
    Ok(sampled)
}

/// One run through OpenAI-compatible servers.
fn sample_from_servers(
    run: &PreparedRun,
    store: Store,
    server: &ServerModel,
    quiet: bool,
) -> anyhow::Result<(SinkSummary, BackendOutcome)> {
    let flags = server.endpoint_args();
    let settings = &server.settings;
    let job = ServerJob {
        served_model: server.request_name(&run.model),
        params: run.params.clone(),
        seeds: SeedPolicy::Derived {
            run_seed: run.params.seed,
        },
        chunk_size: settings.chunk_size.unwrap_or(CHUNK_SIZE),
        context_length: settings.context_length,
        skip_unfit: settings.skip_unfit,
        retry: flags.retry_policy()?,
        health: flags.health_policy()?,
        quiet,
    };
    let configs = flags.configs()?;
    let probe_prompt = run
        .plan
        .items
        .first()
        .map(|item| item.input.clone())
        .context("the run has no samples to make")?;
    let plan = run.plan.clone();
    let (made, sink) = runtime()?.block_on(async {
        let pool = job.connect(configs, &probe_prompt).await?;
        job.sample_plan(&pool, store, plan).await
    })?;
    Ok((finish_sink(sink)?, made?))
}

fn report_run(written: &SinkSummary, outcome: &BackendOutcome, started: Instant, quiet: bool) {
    if quiet {
        return;
    }
    eprintln!(
        "  {} samples made in {:.1} s ({} failed, {} tokens)",
        written.completed + written.failed,
        started.elapsed().as_secs_f64(),
        written.failed,
        outcome.tokens
    );
    for (error, count) in &outcome.errors {
        eprintln!("  failed ({count} samples): {error}");
    }
    if !outcome.skipped_unfit.is_empty() {
        eprintln!(
            "  left out, prompt and max_tokens beyond the context ({}): {}",
            outcome.skipped_unfit.len(),
            outcome.skipped_unfit.join(", ")
        );
    }
}
