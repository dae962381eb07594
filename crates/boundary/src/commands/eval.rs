//! `boundary eval`: one experiment file from models to report. It samples what is
//! missing, grades what is ungraded, analyses and writes the report; every stage reads
//! the run store, so running the same command again resumes wherever it stopped.

mod config;
mod diagnostic;
mod grade;
mod plan;
mod sample;
mod score;

use std::path::PathBuf;

use anyhow::{Context, bail};
use boundary_store::Store;
use clap::Args;

use crate::analysis::{AnalysisOptions, analyse};
use crate::cli::GlobalArgs;
use crate::output;

/// The experiment file lists models (a GGUF file for the embedded backend, or
/// OpenAI-compatible endpoints), benchmarks (with n, template, a subset), sampling
/// settings, seed, ks and analyses; see docs/eval.md and examples/*.toml. Flags make a
/// quick run without a file (`--model name=PATH_OR_URL --benchmark gsm8k --n 8`); the
/// experiment they describe is saved next to the report.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The experiment file (TOML).
    #[arg(value_name = "EXPERIMENT", required_unless_present = "models")]
    pub experiment: Option<PathBuf>,
    /// Print the plan (prompts, samples to make, estimated tokens) and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Sample nothing: grade, analyse and report the samples the store already has for
    /// the experiment's models and benchmarks (from an earlier eval, or entered with
    /// `boundary import` under the same model and benchmark names).
    #[arg(long, conflicts_with = "dry_run")]
    pub no_sample: bool,
    /// Print the plan as JSON.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    /// Quick run: a model as NAME=PATH.gguf or NAME=http://host:port/v1 (repeat).
    #[arg(
        long = "model",
        value_name = "NAME=PATH|URL",
        conflicts_with = "experiment"
    )]
    pub models: Vec<String>,
    /// Quick run: a benchmark (repeat) [default: gsm8k].
    #[arg(long = "benchmark", value_name = "NAME", requires = "models")]
    pub benchmarks: Vec<String>,
    /// Quick run: samples per problem [default: the paper's n].
    #[arg(long, requires = "models")]
    pub n: Option<u32>,
    /// Quick run: only the first LIMIT problems of each benchmark.
    #[arg(long, requires = "models")]
    pub limit: Option<usize>,
    /// Quick run: "raw" (one text, the paper's way) or "chat" (the model's chat template).
    #[arg(long, requires = "models")]
    pub prompt: Option<String>,
    /// Quick run: sampling temperature [default: 0.6].
    #[arg(long, requires = "models")]
    pub temperature: Option<f64>,
    /// Quick run: new tokens per sample [default: 16384].
    #[arg(long, requires = "models")]
    pub max_tokens: Option<u32>,
    /// Quick run: the report folder [default: eval-report].
    #[arg(long, requires = "models")]
    pub out: Option<PathBuf>,
}

pub fn run(args: EvalArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let experiment = match &args.experiment {
        Some(path) => config::load(path)?,
        None => {
            let out = args
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from("eval-report"));
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let path = out.join("experiment.toml");
            std::fs::write(&path, quick_experiment(&args)?)
                .with_context(|| format!("cannot write {}", path.display()))?;
            config::load(&path)?
        }
    };

    let store_exists = experiment.store.exists();
    let plan = if store_exists {
        let store = Store::open_existing(&experiment.store)
            .with_context(|| format!("cannot open the store {}", experiment.store.display()))?;
        plan::plan(&experiment, Some(&store))?
    } else {
        plan::plan(&experiment, None)?
    };
    // The code verifier's tests are read before anything is written or sampled.
    let code_tests = grade::CodeTests::load(&experiment)?;
    if args.dry_run {
        if args.json {
            return output::print_json(&plan);
        }
        print!("{}", plan::render(&plan, &experiment));
        return Ok(());
    }
    if !global.quiet {
        eprint!("{}", plan::render(&plan, &experiment));
    }

    if args.no_sample {
        let mut store = Store::open_existing(&experiment.store).with_context(|| {
            format!(
                "--no-sample reports the samples of an existing store, and {} cannot be opened",
                experiment.store.display()
            )
        })?;
        grade::grade(&experiment, &code_tests, &mut store, global)?;
        score::score(&experiment, &mut store, global)?;
        return report(&experiment, &store, None, global);
    }

    if let Some(parent) = experiment.store.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut store = Store::open(&experiment.store)
        .with_context(|| format!("cannot open the store {}", experiment.store.display()))?;

    // Stage 1: record runs, problems (with gold answers) and the exact prompts.
    let runs = plan::prepare(&experiment, &mut store)?;

    // Stage 2: sample what is missing, each sample stored the moment it exists.
    let sampled = sample::sample(&experiment, &runs, global.quiet)?;

    // Stage 3: grade what is ungraded.
    grade::grade(&experiment, &code_tests, &mut store, global)?;

    // Stage 4: score the perplexity selection.
    score::score(&experiment, &mut store, global)?;

    // Stage 5: analyse what is graded and write the report, of this experiment's runs only
    // (a changed setting made new runs; the old ones stay in the store, out of the report).
    let run_ids = runs.iter().map(|r| r.plan.run.id).collect();
    report(&experiment, &store, Some(run_ids), global)?;
    if sampled.stopped {
        bail!(
            "sampling stopped before every sample was made; the report in {} covers the \
             samples the store has. Run the same command again to resume.",
            experiment.out.display()
        );
    }
    if sampled.unfit > 0 && !global.quiet {
        eprintln!(
            "warning: {} problems have no samples of a model because they do not fit its \
             context (skip_unfit); the report's \"Left out\" section names them, and \
             compares models only on the problems both have",
            sampled.unfit
        );
    }
    if sampled.failed > 0 && !global.quiet {
        eprintln!(
            "warning: {} samples failed and are not counted; run the same command again to \
             retry them",
            sampled.failed
        );
    }
    Ok(())
}

/// Analyses what the store has graded for the experiment (of `runs` only, when given) and
/// writes the report.
fn report(
    experiment: &config::Experiment,
    store: &Store,
    runs: Option<Vec<i64>>,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let options = AnalysisOptions {
        ks: experiment.analysis.ks.clone(),
        bootstrap: Some(boundary_core::Bootstrap::new(
            experiment.analysis.bootstrap,
            experiment.analysis.confidence,
            experiment.seed,
        )?),
        bins: experiment.analysis.bins,
        reference: experiment
            .analysis
            .reference
            .clone()
            .or_else(|| experiment.models.first().map(|m| m.name.clone())),
        verifier: experiment.analysis.verifier.clone(),
        benchmark_verifiers: experiment
            .benchmarks
            .iter()
            .map(|b| (b.name.clone(), grade::verifier_of(b.domain).to_owned()))
            .collect(),
        models: experiment.models.iter().map(|m| m.name.clone()).collect(),
        benchmarks: experiment
            .benchmarks
            .iter()
            .map(|b| b.name.clone())
            .collect(),
        runs,
        ..AnalysisOptions::default()
    };
    let analysis = analyse(store, &options)?;
    crate::commands::report::write(
        store,
        &analysis,
        &experiment.title,
        experiment.analysis.confidence,
        &experiment.out,
        global,
    )
}

/// The experiment file a quick run's flags describe.
fn quick_experiment(args: &EvalArgs) -> anyhow::Result<String> {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut text = String::from("# Written by `boundary eval` from its flags.\n");
    text.push_str("store = \"run.db\"\nout = \".\"\n");
    if args.temperature.is_some() || args.max_tokens.is_some() {
        text.push_str("\n[sampling]\n");
        if let Some(t) = args.temperature {
            text.push_str(&format!("temperature = {t}\n"));
        }
        if let Some(m) = args.max_tokens {
            text.push_str(&format!("max_tokens = {m}\n"));
        }
    }
    for m in &args.models {
        let Some((name, target)) = m.split_once('=') else {
            bail!("--model {m:?}: write it as NAME=PATH.gguf or NAME=http://host:port/v1");
        };
        let cwd = std::env::current_dir()?;
        text.push_str(&format!("\n[[model]]\nname = {}\n", quote(name)));
        if target.starts_with("http://") || target.starts_with("https://") {
            text.push_str(&format!("endpoint = {}\n", quote(target)));
        } else {
            text.push_str(&format!(
                "path = {}\n",
                quote(&cwd.join(target).display().to_string())
            ));
        }
        if let Some(p) = &args.prompt {
            text.push_str(&format!("prompt = {}\n", quote(p)));
        }
    }
    let benchmarks = if args.benchmarks.is_empty() {
        vec!["gsm8k".to_string()]
    } else {
        args.benchmarks.clone()
    };
    for b in &benchmarks {
        text.push_str(&format!("\n[[benchmark]]\nname = {}\n", quote(b)));
        if let Some(n) = args.n {
            text.push_str(&format!("n = {n}\n"));
        }
        if let Some(l) = args.limit {
            text.push_str(&format!("limit = {l}\n"));
        }
    }
    Ok(text)
}
