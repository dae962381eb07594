//! `boundary`: measure the reasoning boundary of language models.
//!
//! This binary owns the command line (clap derive, one module per subcommand in
//! [`commands`]), progress display and error reporting. The work itself happens in
//! the library crates: `boundary-core` (statistics), `boundary-store` (the run store),
//! `boundary-sample` (what sampling backends share) and the backend, verifier, report
//! and lab crates the subcommands name.

mod analysis;
mod cli;
mod commands;
mod endpoints;
mod interrupt;
mod output;
mod selection;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Lab(_)) {
        // Only the lab: grading and bootstrap use every core through rayon.
        // SAFETY: argument parsing starts no threads, so none exists yet.
        unsafe { boundary_lab::use_single_threaded_kernels() };
    }
    init_tracing(cli.global.verbose);
    match commands::run(cli.command, &cli.global) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if output::is_broken_pipe(&error) {
                // `boundary export ... | head` closing the pipe early is not an error.
                return ExitCode::SUCCESS;
            }
            output::print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `BOUNDARY_LOG` (tracing's env-filter syntax) overrides `-v`.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BOUNDARY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: a log redirected to a file stays plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
