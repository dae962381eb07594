//! Stage 3 of `boundary eval`: every completed sample without a grade is graded, math
//! answers by boundary-math and programs in the boundary-code sandbox, through the same
//! code as `boundary grade --store`. Grades are written a batch at a time, so an
//! interrupted eval resumes with the samples still ungraded.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, bail};
use boundary_bench::Domain;
use boundary_code::jsonl::ProblemIndex;
use boundary_code::loaders::{evalplus, livecodebench};
use boundary_code::problem::CodeProblem;
use boundary_code::store::{RunSelection, grade_store};
use boundary_store::{Run, Store};

use super::config::{BenchmarkSource, BenchmarkSpec, Experiment, GradingSettings};
use crate::cli::GlobalArgs;
use crate::commands::grade_code::{CodeGradeArgs, grader};
use crate::commands::grade_math;
use crate::output;

/// The tests of the experiment's code benchmarks, by benchmark name: loaded before
/// anything is sampled, so a release file the code verifier cannot read stops the run
/// before it spends hours sampling.
pub struct CodeTests(HashMap<String, ProblemIndex>);

impl CodeTests {
    pub fn load(experiment: &Experiment) -> anyhow::Result<Self> {
        let mut tests = HashMap::new();
        for benchmark in experiment
            .benchmarks
            .iter()
            .filter(|b| b.domain == Domain::Code)
        {
            let index = ProblemIndex::new(code_problems(benchmark)?);
            let missing: Vec<&str> = benchmark
                .problems
                .iter()
                .filter(|p| index.get(&p.id).is_none())
                .map(|p| p.id.as_str())
                .collect();
            if let Some(first) = missing.first() {
                bail!(
                    "{} problems of `{}` have no tests in its test files (first: {first}); \
                     nothing was sampled",
                    missing.len(),
                    benchmark.name
                );
            }
            tests.insert(benchmark.name.clone(), index);
        }
        Ok(Self(tests))
    }
}

/// The name of the verifier whose grades a benchmark of `domain` gets.
pub fn verifier_of(domain: Domain) -> &'static str {
    match domain {
        Domain::Math | Domain::Visual => grade_math::MATH_VERIFIER,
        Domain::Code => boundary_code::store::VERIFIER,
    }
}

/// Grades what the store's runs of the experiment's models and benchmarks have not had
/// graded yet: the runs eval made, and samples imported under the same names.
pub fn grade(
    experiment: &Experiment,
    tests: &CodeTests,
    store: &mut Store,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let runs: Vec<Run> = store
        .runs()?
        .into_iter()
        .filter(|r| experiment.models.iter().any(|m| m.name == r.model))
        .collect();
    let mut sandbox = None;
    for run in &runs {
        let Some(benchmark) = experiment
            .benchmarks
            .iter()
            .find(|b| b.name == run.benchmark)
        else {
            continue;
        };
        let id = run.id;
        match benchmark.domain {
            Domain::Math | Domain::Visual => grade_math::run(
                None,
                None,
                Some(&experiment.store),
                Some(id),
                experiment.grading.math,
                global,
            )
            .with_context(|| format!("grading {} on {}", run.model, run.benchmark))?,
            Domain::Code => {
                let index = tests.0.get(&benchmark.name).with_context(|| {
                    format!("the tests of `{}` were not loaded", benchmark.name)
                })?;
                let grader = match &mut sandbox {
                    Some(grader) => grader,
                    None => {
                        sandbox.insert(grader(&sandbox_args(&experiment.grading), global.quiet)?)
                    }
                };
                let progress = output::counter(global.quiet, "programs");
                let summary = grade_store(store, grader, index, &RunSelection::Id(id), |s| {
                    progress.set_position(s.graded as u64)
                })
                .with_context(|| format!("grading {} on {}", run.model, run.benchmark))?;
                progress.finish_and_clear();
                if !global.quiet {
                    eprintln!(
                        "run {id} ({} on {}): {} programs graded, {} correct, {} harness errors \
                         (left ungraded, retried next time)",
                        run.model,
                        run.benchmark,
                        summary.graded,
                        summary.correct,
                        summary.harness_errors
                    );
                }
                if let Some(unknown) = summary.unknown_problems.first() {
                    bail!(
                        "{} samples of {} on {} refer to problems the test files do not have \
                         (first: {unknown})",
                        summary.unknown_problems.len(),
                        run.model,
                        run.benchmark
                    );
                }
            }
        }
    }
    Ok(())
}

fn sandbox_args(settings: &GradingSettings) -> CodeGradeArgs {
    CodeGradeArgs {
        benchmark: None,
        data: None,
        mbpp_asserts: false,
        run: None,
        workers: settings.workers,
        python: settings.python.clone(),
        allow_unsafe_sandbox: settings.allow_unsafe_sandbox,
        all_tests: false,
    }
}

/// The problems with their tests, read by the code verifier's loaders from the same
/// files the benchmark's prompts came from.
fn code_problems(benchmark: &BenchmarkSpec) -> anyhow::Result<Vec<CodeProblem>> {
    let BenchmarkSource::Registry(registry) = &benchmark.source else {
        bail!(
            "`{}` is a user benchmark of kind code: its tests are not known to the code \
             verifier",
            benchmark.name
        );
    };
    let files = registry.test_files(&benchmark.options)?;
    let load = |path: &Path| -> anyhow::Result<Vec<CodeProblem>> {
        let problems = match registry {
            boundary_bench::Benchmark::HumanEvalPlus => evalplus::load_humaneval_plus(path)?,
            boundary_bench::Benchmark::MbppPlus => {
                evalplus::load_mbpp_plus(path, evalplus::MbppTests::EvalPlus)?
            }
            boundary_bench::Benchmark::LiveCodeBench => livecodebench::load(path)?,
            other => bail!("{} has no code tests", other.name()),
        };
        Ok(problems)
    };
    let mut problems = Vec::new();
    for file in &files {
        let name = file.to_string_lossy();
        let hint = if name.ends_with(".gz") || name.ends_with(".parquet") {
            "; the code verifier reads uncompressed JSON Lines: give `path` to the unpacked \
             .jsonl release file"
        } else {
            ""
        };
        problems.extend(load(file).with_context(|| {
            format!(
                "reading the tests of `{}` from {}{hint}",
                benchmark.name,
                file.display()
            )
        })?);
    }
    Ok(problems)
}
