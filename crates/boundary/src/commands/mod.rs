//! One module per subcommand; each has its clap `Args` and a `run` function.

pub mod benchmarks;
pub mod coverage;
pub mod eval;
pub mod export;
pub mod gap;
pub mod grade;
pub mod grade_code;
pub mod grade_math;
pub mod histogram;
pub mod import;
pub mod lab;
pub mod merge;
pub mod passk;
pub mod report;
pub mod runs;
pub mod sample;
pub mod score;
pub mod verify;

use crate::cli::{Command, GlobalArgs};

pub fn run(command: Command, global: &GlobalArgs) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => import::run(args, global),
        Command::Export(args) => export::run(args),
        Command::Runs(args) => runs::run(args),
        Command::Passk(args) => passk::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Gap(args) => gap::run(args),
        Command::Grade(args) => grade::run(args, global),
        Command::Histogram(args) => histogram::run(args),
        Command::Sample(args) => sample::run(*args, global),
        Command::Score(args) => score::run(*args, global),
        Command::Merge(args) => merge::run(args),
        Command::Lab(args) => lab::run(args, global),
        Command::Verify(args) => verify::run(args),
        Command::Eval(args) => eval::run(args, global),
        Command::Report(args) => report::run(args, global),
        Command::Benchmarks(args) => benchmarks::run(args),
    }
}
