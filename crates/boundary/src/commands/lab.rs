//! `boundary lab`: the whole paper in miniature on a CPU — pretrain a tiny
//! base model on a synthetic task, train it with six RL algorithms, distil a
//! teacher into it, evaluate every model through the run store and write the
//! report. Re-running into the same directory resumes from what is saved.

use std::path::PathBuf;

use anyhow::Context;
use boundary_lab::config::{LabConfig, Profile};
use boundary_lab::pipeline::{LabOptions, Stop};
use clap::Args;

use crate::cli::GlobalArgs;

/// Writes into DIR: report.md, report.html, plots/, tables/, summary.json (each
/// model's pass@k curve and solved problems), timings.json, config.toml (the
/// effective configuration), checkpoints/ (safetensors) and lab.db (the run store
/// with every sample and grade).
#[derive(Debug, Args)]
pub struct LabArgs {
    /// Amount of work: quick (about 70 s on 2 cores), default (about 9 min), large (for more cores).
    #[arg(long, default_value = "default", value_name = "PROFILE")]
    pub profile: String,
    /// A TOML file overriding any of the profile's settings (see examples/lab.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Seed of every random choice; overrides the config's.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory; re-running into it resumes from saved checkpoints and samples.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Stop after pretraining and evaluating the base (for tuning the task).
    #[arg(long)]
    pub base_only: bool,
}

pub fn run(args: LabArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let profile: Profile = args.profile.parse()?;
    let mut config = LabConfig::load(profile, args.config.as_deref())?;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if !boundary_lab::kernels_are_single_threaded() {
        tracing::warn!(
            "candle kernels are multi-threaded; the lab runs fastest with one kernel thread per job"
        );
    }
    let options = LabOptions {
        out: args.out.clone(),
        profile,
        stop: if args.base_only {
            Stop::BaseOnly
        } else {
            Stop::Report
        },
    };
    let quiet = global.quiet;
    let started = std::time::Instant::now();
    let log = move |line: &str| {
        if !quiet {
            eprintln!("[{:>6.1}s] {line}", started.elapsed().as_secs_f64());
        }
    };
    let outcome = boundary_lab::pipeline::run(&config, &options, &log)
        .with_context(|| format!("boundary lab --out {}", args.out.display()))?;
    if !quiet {
        for (phase, seconds) in &outcome.timings.phases {
            eprintln!("{phase:>18}: {seconds:7.1} s");
        }
        eprintln!("{:>18}: {:7.1} s", "total", outcome.timings.total);
        if let Some(analysis) = &outcome.analysis {
            for finding in &analysis.findings {
                eprintln!("- {} {}", finding.claim, finding.observed);
            }
            eprintln!("report: {}", outcome.out.join("report.md").display());
        }
    }
    Ok(())
}
