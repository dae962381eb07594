//! `boundary grade`: attach verdicts to samples. This minimal version handles
//! `--kind code` (see `grade_code`); math grading lands with its own module.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::cli::GlobalArgs;
use crate::commands::grade_code::{self, CodeGradeArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    Math,
    Code,
}

/// Grade a JSON Lines file of samples (`--input`, `--output`), or a store's samples in
/// place (`--store`). For code, each input line holds the model's `response` (or a raw
/// `completion`) and either the problem's tests (`tests`, or HumanEval's `test` +
/// `entry_point`) or a `problem_id` of the benchmark given by `--benchmark` and `--data`.
/// Output lines keep every input field and add `correct`, `verdict` (passed, failed,
/// error, timeout, memory_limit, output_limit, crashed, no_code, harness_error), `code`,
/// `failing_test`, `error`, `tests_passed`, `tests_total`, `cpu_s` and `wall_s`.
#[derive(Debug, Args)]
pub struct GradeArgs {
    /// What the samples answer: math (default) or code.
    #[arg(long, value_enum, default_value_t = Kind::Math)]
    pub kind: Kind,
    /// JSON Lines file of samples to grade.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Where to write the graded lines.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// A run store whose ungraded samples are graded in place.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
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
        Kind::Math => {
            bail!("math grading is not part of this build yet; use --kind code for code samples")
        }
    }
}
