//! `boundary grade --kind code`: model-written Python run against benchmark tests in the
//! `boundary-code` sandbox, from a JSONL file or a store's samples in place.

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use boundary_code::jsonl::{ProblemIndex, grade_jsonl};
use boundary_code::loaders::{evalplus, humaneval, livecodebench};
use boundary_code::problem::Benchmark;
use boundary_code::store::{RunSelection, grade_store};
use boundary_code::{Grader, GraderOptions, Sandbox, SandboxOptions};
use boundary_store::Store;
use clap::Args;

use crate::cli::GlobalArgs;
use crate::output;

/// Options of code grading.
#[derive(Debug, Args)]
pub struct CodeGradeArgs {
    /// Benchmark that `problem_id`s (and store runs) refer to: humaneval, humaneval_plus,
    /// mbpp_plus or livecodebench. Needs --data.
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,
    /// The benchmark's released file: HumanEval.jsonl, HumanEvalPlus-v0.1.10.jsonl,
    /// MbppPlus.jsonl, or a LiveCodeBench code_generation_lite test*.jsonl.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// MBPP+: grade against the original MBPP asserts instead of evalplus's inputs.
    #[arg(long)]
    pub mbpp_asserts: bool,
    /// Grade this run of --store (default: every run of --benchmark).
    #[arg(long, value_name = "ID")]
    pub run: Option<i64>,
    /// Sandbox workers (default: all cores).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Python interpreter that runs the programs.
    #[arg(long, value_name = "PATH", default_value = "python3")]
    pub python: String,
    /// Run even where this machine lacks a required isolation layer (PID namespace,
    /// Landlock, network denial, process limit); the active layers are printed.
    #[arg(long)]
    pub allow_unsafe_sandbox: bool,
    /// Keep running a sample's tests after the first failure (slower; full detail).
    #[arg(long)]
    pub all_tests: bool,
}

fn load_problems(args: &CodeGradeArgs) -> anyhow::Result<(ProblemIndex, Option<Benchmark>)> {
    let (Some(name), Some(path)) = (&args.benchmark, &args.data) else {
        if args.benchmark.is_some() != args.data.is_some() {
            bail!("--benchmark and --data go together: name the benchmark and its released file");
        }
        return Ok((ProblemIndex::empty(), None));
    };
    let benchmark = Benchmark::parse(name).with_context(|| {
        format!("unknown code benchmark `{name}` (expected humaneval, humaneval_plus, mbpp_plus or livecodebench)")
    })?;
    let problems = match benchmark {
        Benchmark::HumanEval => humaneval::load(path)?,
        Benchmark::HumanEvalPlus => evalplus::load_humaneval_plus(path)?,
        Benchmark::MbppPlus => {
            let tests = if args.mbpp_asserts {
                evalplus::MbppTests::Asserts
            } else {
                evalplus::MbppTests::EvalPlus
            };
            evalplus::load_mbpp_plus(path, tests)?
        }
        Benchmark::LiveCodeBench => livecodebench::load(path)?,
        Benchmark::Custom => bail!("`{name}` is not a benchmark file format"),
    };
    Ok((ProblemIndex::new(problems), Some(benchmark)))
}

fn grader(args: &CodeGradeArgs, quiet: bool) -> anyhow::Result<Grader> {
    let mut options = SandboxOptions {
        python: args.python.clone(),
        allow_unsafe: args.allow_unsafe_sandbox,
        ..SandboxOptions::default()
    };
    if let Some(n) = args.workers {
        options.workers = n.max(1);
    }
    let sandbox = Sandbox::new(options)?;
    if !quiet {
        eprint!("{}", sandbox.isolation());
    }
    let grading = GraderOptions {
        stop_at_first_failure: !args.all_tests,
        ..GraderOptions::default()
    };
    Ok(Grader::new(Arc::new(sandbox), grading))
}

/// Grades `input` into `output` (JSONL), or the store's samples in place.
pub fn run(
    input: Option<&Path>,
    output: Option<&Path>,
    store: Option<&Path>,
    args: &CodeGradeArgs,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let (index, benchmark) = load_problems(args)?;
    match (input, store) {
        (Some(input), None) => {
            let output =
                output.context("--output is needed with --input (the graded JSON Lines file)")?;
            let grader = grader(args, global.quiet)?;
            let reader = BufReader::with_capacity(
                1 << 20,
                std::fs::File::open(input)
                    .with_context(|| format!("cannot read {}", input.display()))?,
            );
            let writer = BufWriter::new(
                std::fs::File::create(output)
                    .with_context(|| format!("cannot create {}", output.display()))?,
            );
            let progress = output::counter(global.quiet, "samples");
            let name = input.display().to_string();
            let summary = grade_jsonl(&grader, &index, reader, writer, &name, |s| {
                progress.set_position(s.lines as u64)
            })
            .with_context(|| format!("grading {} into {}", input.display(), output.display()))?;
            progress.finish_and_clear();
            if !global.quiet {
                eprintln!(
                    "graded {} samples: {} correct, {} invalid lines, {} harness errors -> {}",
                    summary.lines,
                    summary.correct,
                    summary.invalid,
                    summary.harness_errors,
                    output.display()
                );
            }
            if summary.invalid > 0 {
                bail!(
                    "{} lines could not be graded; their `error` fields in {} say why",
                    summary.invalid,
                    output.display()
                );
            }
            Ok(())
        }
        (None, Some(path)) => {
            let selection = match (args.run, benchmark) {
                (Some(id), _) => RunSelection::Id(id),
                (None, Some(_)) => {
                    RunSelection::Benchmark(args.benchmark.clone().unwrap_or_default())
                }
                (None, None) => {
                    bail!("grading a store needs --benchmark and --data (and optionally --run)")
                }
            };
            let mut store = Store::open_existing(path)
                .with_context(|| format!("cannot open the store {}", path.display()))?;
            let grader = grader(args, global.quiet)?;
            let progress = output::counter(global.quiet, "samples");
            let summary = grade_store(&mut store, &grader, &index, &selection, |s| {
                progress.set_position(s.graded as u64)
            })?;
            progress.finish_and_clear();
            if !global.quiet {
                eprintln!(
                    "graded {} samples in {} runs: {} correct, {} harness errors (left ungraded)",
                    summary.graded, summary.runs, summary.correct, summary.harness_errors
                );
            }
            if !summary.unknown_problems.is_empty() {
                bail!(
                    "{} samples refer to problems missing from {}: {}",
                    summary.unknown_problems.len(),
                    args.data
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    summary
                        .unknown_problems
                        .iter()
                        .take(5)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(())
        }
        (Some(_), Some(_)) => {
            bail!("give either --input (a JSONL file) or --store (grade in place), not both")
        }
        (None, None) => bail!("nothing to grade: give --input FILE --output FILE, or --store FILE"),
    }
}
