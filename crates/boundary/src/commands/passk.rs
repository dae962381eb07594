//! `boundary passk`: pass@k curves from a store or a count file.

use anyhow::{Context, bail};
use boundary_core::{Bootstrap, Curve, ProblemCounts, ShortProblems, default_ks, pass_at_k_curve};
use clap::Args;
use serde::Serialize;

use crate::output;
use crate::selection::{BootstrapArgs, CountSource, Counts, graded_counts, run_label};

/// pass@k is the unbiased estimator 1 − C(n−c, k)/C(n, k) per problem (Chen et al.
/// 2021), averaged over problems; it is exact for any n (no overflowing binomials).
/// Problems may have different n; a k larger than a problem's n is an error naming the
/// problem, unless --skip-short is given.
#[derive(Debug, Args)]
pub struct PasskArgs {
    #[command(flatten)]
    pub source: CountSource,
    /// The ks, comma-separated [default: 1, 2, 4, … up to the largest n, and n itself].
    #[arg(long = "k", value_name = "K,...", value_delimiter = ',')]
    pub ks: Vec<u64>,
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// Leave problems with fewer than k samples out of the points where k > n (each
    /// point reports how many problems it averages) instead of stopping with an error.
    #[arg(long)]
    pub skip_short: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct StoreCurve {
    model: String,
    benchmark: String,
    run: i64,
    verifier: Option<String>,
    failed_samples: u64,
    ungraded_samples: u64,
    #[serde(flatten)]
    curve: Curve,
}

#[derive(Serialize)]
struct Skipped {
    model: String,
    benchmark: String,
    run: i64,
    reason: String,
}

pub fn run(args: PasskArgs) -> anyhow::Result<()> {
    let bootstrap = args.bootstrap.bootstrap()?;
    let short = if args.skip_short {
        ShortProblems::Skip
    } else {
        ShortProblems::Reject
    };
    let curve_of = |problems: &[ProblemCounts]| -> anyhow::Result<Curve> {
        let ks = if args.ks.is_empty() {
            default_ks(problems)
        } else {
            args.ks.clone()
        };
        Ok(pass_at_k_curve(problems, &ks, short, bootstrap.as_ref())?)
    };

    let (store, runs) = match args.source.open()? {
        Counts::File(problems) => {
            let curve = curve_of(&problems)?;
            if args.json {
                return output::print_json(&curve);
            }
            print!("{}", curve_table(&curve, bootstrap.as_ref()));
            return Ok(());
        }
        Counts::Store { store, runs } => (store, runs),
    };
    let mut curves = Vec::new();
    let mut skipped = Vec::new();
    for run in &runs {
        match graded_counts(&store, run, args.source.filter.verifier.as_deref())? {
            Ok(counts) => {
                let curve = curve_of(&counts.problems).with_context(|| {
                    format!(
                        "pass@k of {} on {} (run {})",
                        run.model, run.benchmark, run.id
                    )
                })?;
                curves.push(StoreCurve {
                    model: run_label(run, &runs),
                    benchmark: run.benchmark.clone(),
                    run: run.id,
                    verifier: counts.verifier,
                    failed_samples: counts.failed_samples,
                    ungraded_samples: counts.ungraded_samples,
                    curve,
                });
            }
            Err(reason) => skipped.push(Skipped {
                model: run_label(run, &runs),
                benchmark: run.benchmark.clone(),
                run: run.id,
                reason,
            }),
        }
    }
    if curves.is_empty() {
        let reasons: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} on {}: {}", s.model, s.benchmark, s.reason))
            .collect();
        bail!("no pass@k to compute: {}", reasons.join("; "));
    }
    if args.json {
        return output::print_json(&serde_json::json!({ "curves": curves, "skipped": skipped }));
    }
    for (i, c) in curves.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "{} · {} (run {}, {} problems{}{})",
            c.benchmark,
            c.model,
            c.run,
            c.curve.problems,
            c.verifier
                .as_ref()
                .map(|v| format!(", verifier {v}"))
                .unwrap_or_default(),
            match c.failed_samples {
                0 => String::new(),
                f => format!(", {f} failed samples left out"),
            }
        );
        print!("{}", curve_table(&c.curve, bootstrap.as_ref()));
    }
    for s in &skipped {
        eprintln!(
            "warning: skipped {} on {} (run {}): {}",
            s.model, s.benchmark, s.run, s.reason
        );
    }
    Ok(())
}

fn curve_table(curve: &Curve, bootstrap: Option<&Bootstrap>) -> String {
    let varying = curve.curve.iter().any(|p| p.problems != curve.problems);
    let mut header = vec!["k".to_string(), "pass@k %".to_string()];
    if let Some(b) = bootstrap {
        header.push(format!("{:.0}% CI", 100.0 * b.confidence()));
    }
    if varying {
        header.push("problems".into());
    }
    let mut rows = vec![header];
    for p in &curve.curve {
        let mut row = vec![p.k.to_string(), output::percent(p.pass_at_k)];
        if bootstrap.is_some() {
            row.push(p.ci.map_or("-".into(), |ci| {
                format!("{} – {}", output::percent(ci.low), output::percent(ci.high))
            }));
        }
        if varying {
            row.push(p.problems.to_string());
        }
        rows.push(row);
    }
    output::table(&rows)
}
