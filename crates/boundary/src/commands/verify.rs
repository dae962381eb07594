//! `boundary verify`: check one response against one gold answer and show why.

use std::io::Read;

use anyhow::Context;
use boundary_math::verify;
use clap::Args;

use crate::commands::grade_math::MathMode;
use crate::output;

/// Check one response against one gold answer, and show the answer found, both
/// normalized forms and the rule that decided.
///
///   boundary verify --gold '\frac12' --response 'so the answer is \boxed{0.5}'
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The gold answer, LaTeX or plain math.
    #[arg(long)]
    pub gold: String,
    /// The model's response; `-` reads it from standard input.
    #[arg(long)]
    pub response: String,
    /// Grading semantics.
    #[arg(long, value_enum, default_value_t = MathMode::Default)]
    pub math_mode: MathMode,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let response = if args.response == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the response from standard input")?;
        text
    } else {
        args.response
    };
    let verdict = verify(&args.gold, &response, &args.math_mode.config());
    if args.json {
        return output::print_json(&verdict);
    }
    let or_none = |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".to_string());
    println!("{}", verdict.outcome.name());
    println!("  rule:      {} ({})", verdict.rule.name(), verdict.reason);
    match (&verdict.extracted, verdict.strategy) {
        (Some(extracted), Some(strategy)) => {
            println!("  extracted: {extracted}  [{}]", strategy.name())
        }
        _ => println!("  extracted: (no answer found)"),
    }
    println!("  gold:      {}", or_none(&verdict.gold_normalized));
    println!("  answer:    {}", or_none(&verdict.response_normalized));
    if let Some(limit) = verdict.limit {
        println!("  budget:    the {limit} limit was exceeded");
    }
    Ok(())
}
