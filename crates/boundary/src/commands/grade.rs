//! `boundary grade`: attach verdicts to samples, from a JSON Lines file or a store's
//! samples in place. Math answers are graded in `grade_math`, code in `grade_code`.

use std::path::PathBuf;

use clap::{ArgGroup, Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::commands::grade_code::{self, CodeGradeArgs};
use crate::commands::grade_math::{self, MathMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Final answers of math problems (boundary-math).
    Math,
    /// Programs run against benchmark tests in a sandbox (boundary-code).
    Code,
}

/// Grade a JSON Lines file of samples (`--input`, `--output`), or a store's samples in
/// place (`--store`).
///
/// Math (the default): each input line is a JSON object with string fields `gold` and
/// `response`; every other field is copied through, and the output line adds `correct`
/// (true or false), `verdict` (correct, incorrect or unverifiable), `extracted` (the
/// answer found in the response, or null), `rule` (what decided) and `reason`. The output
/// is written whole or not at all. With --store, every completed sample without a math
/// grade is graded against the gold stored with its problem, in batches, so an
/// interrupted run resumes where it stopped.
///
/// Code: each input line holds the model's `response` (or a raw `completion`) and either
/// the problem's tests (`tests`, or HumanEval's `test` + `entry_point`) or a `problem_id`
/// of the benchmark given by `--benchmark` and `--data`. Output lines keep every input
/// field and add `correct`, `verdict` (passed, failed, error, timeout, memory_limit,
/// output_limit, crashed, no_code, harness_error), `code`, `failing_test`, `error`,
/// `tests_passed`, `tests_total`, `cpu_s` and `wall_s`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["input", "store"])))]
pub struct GradeArgs {
    /// What the samples answer: math (default) or code.
    #[arg(long, value_enum, default_value_t = Kind::Math)]
    pub kind: Kind,
    /// JSON Lines file of samples to grade; `-` reads standard input (math).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Where to write the graded lines; standard output when absent (math).
    #[arg(long, value_name = "FILE", requires = "input")]
    pub output: Option<PathBuf>,
    /// A run store whose ungraded samples are graded in place.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Math grading semantics.
    #[arg(long, value_enum, default_value_t = MathMode::Default)]
    pub math_mode: MathMode,
    #[command(flatten)]
    pub code: CodeGradeArgs,
}

pub fn run(args: GradeArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    match args.kind {
        Kind::Code => grade_code::run(
            args.input.as_deref(),
            args.output.as_deref(),
            args.store.as_deref(),
            &args.code,
            global,
        ),
        Kind::Math => grade_math::run(
            args.input.as_deref(),
            args.output.as_deref(),
            args.store.as_deref(),
            args.code.run,
            args.math_mode,
            global,
        ),
    }
}
