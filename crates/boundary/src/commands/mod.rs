//! One module per subcommand; each has its clap `Args` and a `run` function.

pub mod coverage;
pub mod export;
pub mod gap;
pub mod histogram;
pub mod import;
pub mod lab;
pub mod passk;
pub mod runs;

use crate::cli::{Command, GlobalArgs};

pub fn run(command: Command, global: &GlobalArgs) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => import::run(args, global),
        Command::Export(args) => export::run(args),
        Command::Runs(args) => runs::run(args),
        Command::Passk(args) => passk::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Gap(args) => gap::run(args),
        Command::Histogram(args) => histogram::run(args),
        Command::Lab(args) => lab::run(args, global),
    }
}
