//! One module per subcommand; each has its clap `Args` and a `run` function.

pub mod coverage;
pub mod export;
pub mod gap;
pub mod grade;
pub mod grade_code;
pub mod grade_math;
pub mod histogram;
pub mod import;
pub mod lab;
pub mod passk;
pub mod runs;
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
        Command::Lab(args) => lab::run(args, global),
        Command::Verify(args) => verify::run(args),
    }
}
