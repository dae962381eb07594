//! `boundary sample --model FILE` (no `--endpoint`): sampling on this machine's CPU with the
//! embedded engine (`boundary-engine`, llama.cpp underneath). The n samples of a problem
//! decode together after one prefill of its prompt; each finished sample goes to the store
//! sink at once, so a killed run resumes where it stopped.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use boundary_engine::{GenerationConfig, Model, ModelOptions, RunProgress, Weights, run_plan};
use boundary_sample::{Plan, SamplingParams, SinkSummary, StoreSink, plan};
use boundary_store::{RunSpec, Store};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use super::{
    BackendOutcome, SampleArgs, existing_run_is_complete, finish, read_prompt_file,
    refuse_changed_settings,
};
use crate::cli::GlobalArgs;

/// The engine's settings; `boundary eval` uses the defaults.
#[derive(Debug, Args)]
#[command(next_help_heading = "Embedded engine (--model FILE, no --endpoint)")]
pub struct EmbeddedSampleArgs {
    /// CPU threads [default: $BOUNDARY_THREADS, or one per core].
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// Most samples decoding together (fewer when the KV cache limit is reached).
    #[arg(long, default_value_t = DEFAULT_BATCH, value_name = "N")]
    pub batch: usize,
    /// KV-cache memory limit in MiB.
    #[arg(long, default_value_t = DEFAULT_KV_CACHE_MIB, value_name = "MIB")]
    pub kv_cache_mib: u64,
    /// Use llama.cpp's flash attention. It skips the cache cells a shorter sample does not
    /// use, but measured no faster on a 2-core CPU (docs/benchmarks/engine.md, run G); it
    /// moves log-probabilities by up to ~0.2 nats, so the run records it and a resume must use
    /// the same setting.
    #[arg(long)]
    pub flash_attention: bool,
}

const DEFAULT_BATCH: usize = 64;
const DEFAULT_KV_CACHE_MIB: u64 = 4096;

impl Default for EmbeddedSampleArgs {
    fn default() -> Self {
        Self {
            threads: 0,
            batch: DEFAULT_BATCH,
            kv_cache_mib: DEFAULT_KV_CACHE_MIB,
            flash_attention: false,
        }
    }
}

/// How sample i of a problem gets its seed: `boundary_sample::sample_seed(seed, problem, i)`.
const SEED_POLICY: &str = "sample_seed(run, problem, index)";

pub fn run(args: SampleArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let quiet = global.quiet || args.json;
    let prompts = read_prompt_file(&args.prompts)?;
    let params = args.params(Map::new());
    boundary_engine::SamplingParams::from_shared(&params).context("invalid sampling settings")?;
    let model_path = Path::new(&args.model);
    let mut spec = args.run_spec("embedded", &params, &prompts, Some(SEED_POLICY));
    identify_model(&mut spec, model_path)?;
    if args.embedded.flash_attention
        && let Value::Object(settings) = &mut spec.sampling
    {
        // Only when on, so runs made before the flag existed resume unchanged.
        settings.insert("flash_attention".into(), Value::from(true));
    }
    let selected = args.selected(&prompts);
    let mut store = Store::open(&args.store)
        .with_context(|| format!("cannot open the store {}", args.store.display()))?;
    refuse_changed_settings(&store, &spec, args.new_run)?;

    let started = Instant::now();
    if existing_run_is_complete(&store, &spec, &selected, args.n)? {
        drop(store);
        let nothing = BackendOutcome::nothing();
        return finish(
            &args,
            global,
            spec,
            &selected,
            Default::default(),
            nothing,
            started,
        );
    }
    let plan = plan(&mut store, &spec, &prompts, args.n, args.shard)?;
    let model = load_model(
        model_path,
        args.embedded.threads,
        args.embedded.flash_attention,
        Weights::Stored,
    )?;
    let (written, outcome) = sample_plan(&model, store, &plan, &params, &args.embedded, quiet)?;
    finish(&args, global, spec, &selected, written, outcome, started)
}

/// Loads a GGUF file or safetensors directory for the engine, with `threads` kernel
/// threads; 0 means `$BOUNDARY_THREADS` when set (a machine shared with other work runs
/// llama.cpp faster on fewer threads), else one per core; flash attention and weights as
/// asked.
pub fn load_model(
    path: &Path,
    threads: usize,
    flash_attention: bool,
    weights: Weights,
) -> anyhow::Result<Model> {
    let threads = match threads {
        0 => match std::env::var("BOUNDARY_THREADS") {
            Ok(text) => text
                .trim()
                .parse()
                .with_context(|| format!("BOUNDARY_THREADS={text:?} is not a number of threads"))?,
            Err(_) => 0,
        },
        given => given,
    };
    Model::load(
        path,
        &ModelOptions {
            threads,
            flash_attention,
            weights,
            ..ModelOptions::default()
        },
    )
    .with_context(|| format!("cannot load the model {}", path.display()))
}

/// Makes the plan's missing samples with `model`, each written to `store` the moment it
/// finishes; returns what was written (every sample committed) and what the engine counted.
pub fn sample_plan(
    model: &Model,
    store: Store,
    plan: &Plan,
    params: &SamplingParams,
    engine: &EmbeddedSampleArgs,
    quiet: bool,
) -> anyhow::Result<(SinkSummary, BackendOutcome)> {
    if engine.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let sink = StoreSink::spawn(store, plan.run.id);
    let handle = sink.handle();
    let bar = progress_bar(quiet, plan.missing());
    let config = GenerationConfig {
        max_sequences: engine.batch,
        kv_budget_bytes: engine.kv_cache_mib << 20,
    };
    let made = run_plan(model, plan, params, &config, &handle, |p: &RunProgress| {
        bar.set_position(p.samples_done);
        let rate = p.generated_tokens as f64 / p.elapsed.as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "problems {}/{}, {rate:.0} tokens/s",
            p.problems_done, p.problems_total
        ));
    });
    drop(handle);
    bar.finish_and_clear();
    // Every sample handed to the sink is committed before anyone reads the store back.
    let written = sink.finish().context("the store writer failed")?;
    let made = made?;
    let engine_time = &made.generation;
    tracing::info!(
        wall_s = engine_time.wall_time.as_secs_f64(),
        decode_s = engine_time.decode_time.as_secs_f64(),
        prefill_s = engine_time.prefill_time.as_secs_f64(),
        sampling_s = engine_time.sampling_time.as_secs_f64(),
        store_s = engine_time.handler_time.as_secs_f64(),
        mean_batch = engine_time.mean_batch(),
        moved_sequences = engine_time.moved_sequences,
        "where the engine's time went"
    );
    let outcome = BackendOutcome {
        tokens: made.generation.generated_tokens,
        errors: made.errors,
        ..BackendOutcome::nothing()
    };
    Ok((written, outcome))
}

/// Names the run after the model file and identifies the model by file name and size, not
/// by the path it was given by: the same model reached another way resumes the same run.
fn identify_model(spec: &mut RunSpec, path: &Path) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .with_context(|| format!("--model {} names no file or directory", path.display()))?;
    spec.model = path
        .file_stem()
        .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
    if let Value::Object(settings) = &mut spec.sampling {
        settings.insert("model".into(), Value::from(name));
        settings.insert("model_bytes".into(), Value::from(model_bytes(path)?));
    }
    Ok(())
}

/// Total bytes of a model file, or of the files of a model directory.
fn model_bytes(path: &Path) -> anyhow::Result<u64> {
    let cannot = || format!("cannot read the model {}", path.display());
    let meta = std::fs::metadata(path).with_context(cannot)?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).with_context(cannot)? {
        let meta = entry
            .with_context(cannot)?
            .metadata()
            .with_context(cannot)?;
        if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

fn progress_bar(quiet: bool, total: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} samples, {msg} ({elapsed}, eta {eta})")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
