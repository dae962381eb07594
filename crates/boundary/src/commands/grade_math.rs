//! `boundary grade --kind math`: grade responses against gold answers with
//! boundary-math, from a JSON Lines file of pairs or in place in a run store.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use boundary_math::{MathConfig, Outcome, Verdict, verify_batch};
use boundary_store::{ErrorList, InputError, NewGrade, Run, Store, read_objects};
use clap::ValueEnum;
use serde_json::{Map, Value, json};

use crate::cli::GlobalArgs;
use crate::output;

/// Pairs graded (and grades written) per batch: large enough to keep every core busy,
/// small enough that a crash loses little and memory stays flat.
const BATCH: usize = 8192;

/// The name grades of the math verifier carry in a store.
pub const MATH_VERIFIER: &str = "math";

/// Grading semantics of the math verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MathMode {
    /// Exact equivalence; the answer is the last \boxed{}, else an answer phrase, a
    /// trailing $…$, or the last number.
    Default,
    /// Only a \boxed{} answer counts.
    BoxedOnly,
    /// The paper's grader (Qwen2.5-Math): 1e-4 relative tolerance, ×100/÷100 percent
    /// leniency, ordered lists, interval ends ignored. For reproducing published numbers.
    Paper,
}

impl MathMode {
    pub fn config(self) -> MathConfig {
        match self {
            MathMode::Default => MathConfig::default(),
            MathMode::BoxedOnly => MathConfig::boxed_only(),
            MathMode::Paper => MathConfig::paper_compat(),
        }
    }
}

/// The fields a graded line adds.
fn verdict_fields(verdict: &Verdict) -> [(&'static str, Value); 5] {
    [
        ("correct", json!(verdict.is_correct())),
        ("verdict", json!(verdict.outcome.name())),
        ("extracted", json!(verdict.extracted)),
        ("rule", json!(verdict.rule.name())),
        ("reason", json!(verdict.reason)),
    ]
}

#[derive(Debug, Default)]
struct Tally {
    correct: u64,
    incorrect: u64,
    unverifiable: u64,
}

impl Tally {
    fn add(&mut self, verdict: &Verdict) {
        match verdict.outcome {
            Outcome::Correct => self.correct += 1,
            Outcome::Incorrect => self.incorrect += 1,
            Outcome::Unverifiable => self.unverifiable += 1,
        }
    }

    fn total(&self) -> u64 {
        self.correct + self.incorrect + self.unverifiable
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} graded: {} correct, {} incorrect, {} unverifiable",
            self.total(),
            self.correct,
            self.incorrect,
            self.unverifiable
        )
    }
}

/// Grades a batch of parsed lines and writes them out.
fn flush(
    batch: &mut Vec<Map<String, Value>>,
    config: &MathConfig,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> std::io::Result<()> {
    let pairs: Vec<(&str, &str)> = batch
        .iter()
        .map(|line| {
            (
                line["gold"].as_str().unwrap_or_default(),
                line["response"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let verdicts = verify_batch(&pairs, config);
    for (mut line, verdict) in batch.drain(..).zip(&verdicts) {
        tally.add(verdict);
        for (key, value) in verdict_fields(verdict) {
            line.insert(key.to_string(), value);
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Grades `input` pairs into `output` (standard output when absent), or the ungraded
/// samples of `store` (only run `run_id` when given).
pub fn run(
    input: Option<&Path>,
    output: Option<&Path>,
    store: Option<&Path>,
    run_id: Option<i64>,
    mode: MathMode,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let config = mode.config();
    match (input, store) {
        (Some(input), _) => grade_file(input, output, &config, global),
        (None, Some(store)) => grade_store(store, run_id, &config, global),
        (None, None) => anyhow::bail!("give --input FILE (pairs) or --store FILE (a run store)"),
    }
}

fn grade_file(
    input: &Path,
    output: Option<&Path>,
    config: &MathConfig,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let source_name = if input.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        input.display().to_string()
    };
    let reader: Box<dyn std::io::BufRead> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = File::open(input).with_context(|| format!("cannot read {}", input.display()))?;
        Box::new(BufReader::with_capacity(1 << 20, file))
    };
    // Write next to the destination and rename at the end: a failed run leaves no
    // half-written output behind.
    let partial = output.map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    });
    let mut out: Box<dyn Write> = match &partial {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let progress = output::counter(global.quiet, "pairs");
    let mut errors = ErrorList::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut tally = Tally::default();
    let mut write_error: Option<std::io::Error> = None;
    let read = read_objects(
        reader,
        &source_name,
        &mut errors,
        |line_number, object, errors| {
            let missing: Vec<&str> = ["gold", "response"]
                .into_iter()
                .filter(|field| !object.get(*field).is_some_and(Value::is_string))
                .collect();
            if !missing.is_empty() {
                let fields = missing
                    .iter()
                    .map(|field| format!("\"{field}\""))
                    .collect::<Vec<_>>()
                    .join(" and ");
                errors.push(InputError::Line {
                    source_name: source_name.clone(),
                    line: line_number,
                    message: format!(
                        "needs the string field{} {fields}",
                        if missing.len() > 1 { "s" } else { "" }
                    ),
                });
                return;
            }
            batch.push(object);
            if batch.len() == BATCH && write_error.is_none() && errors.is_empty() {
                if let Err(error) = flush(&mut batch, config, &mut out, &mut tally) {
                    write_error = Some(error);
                }
                progress.set_position(tally.total());
            }
        },
    );
    let result = read
        .map_err(anyhow::Error::from)
        .and_then(|()| errors.into_result().map_err(anyhow::Error::from))
        .and_then(|()| match write_error.take() {
            Some(error) => Err(error.into()),
            None => Ok(()),
        })
        .and_then(|()| flush(&mut batch, config, &mut out, &mut tally).map_err(anyhow::Error::from))
        .and_then(|()| out.flush().map_err(anyhow::Error::from));
    drop(out);
    progress.finish_and_clear();
    if let Err(error) = result {
        if let Some(partial) = &partial {
            let _ = std::fs::remove_file(partial);
        }
        return Err(error.context(match output {
            Some(path) => format!("nothing was written to {}", path.display()),
            None => "grading stopped".to_string(),
        }));
    }
    if let (Some(partial), Some(output)) = (&partial, output) {
        std::fs::rename(partial, output)
            .with_context(|| format!("cannot write {}", output.display()))?;
    }
    if !global.quiet {
        eprintln!("{tally}");
    }
    Ok(())
}

fn grade_store(
    path: &Path,
    run_id: Option<i64>,
    config: &MathConfig,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let mut store = Store::open_existing(path)
        .with_context(|| format!("cannot open the store {}", path.display()))?;
    let runs: Vec<Run> = match run_id {
        Some(id) => vec![
            store
                .run(id)
                .with_context(|| format!("no run {id} in {}", path.display()))?,
        ],
        None => store.runs()?,
    };
    let progress = output::counter(global.quiet, "samples");
    let mut without_gold: Vec<(i64, String)> = Vec::new();
    for run in &runs {
        let mut tally = Tally::default();
        let mut after = None;
        loop {
            let page = store.ungraded(run.id, MATH_VERIFIER, after, BATCH)?;
            let Some(last) = page.last() else { break };
            after = Some(last.cursor);
            let (chunk, missing): (Vec<_>, Vec<_>) =
                page.into_iter().partition(|sample| sample.gold.is_some());
            for sample in &missing {
                if !without_gold
                    .iter()
                    .any(|(known_run, problem)| *known_run == run.id && *problem == sample.problem)
                {
                    without_gold.push((run.id, sample.problem.clone()));
                }
            }
            let pairs: Vec<(&str, &str)> = chunk
                .iter()
                .map(|sample| {
                    (
                        sample.gold.as_deref().unwrap_or_default(),
                        sample.response.as_str(),
                    )
                })
                .collect();
            let verdicts = verify_batch(&pairs, config);
            let mut writer = store.writer()?;
            for (sample, verdict) in chunk.iter().zip(&verdicts) {
                tally.add(verdict);
                writer.put_grade(
                    run.id,
                    &NewGrade {
                        problem: sample.problem.clone(),
                        sample_index: sample.sample_index,
                        verifier: MATH_VERIFIER.to_string(),
                        verdict: verdict.outcome.name().to_string(),
                        correct: verdict.is_correct(),
                        extracted: verdict.extracted.clone(),
                        detail: Some(json!({
                            "rule": verdict.rule.name(),
                            "reason": verdict.reason,
                            "strategy": verdict.strategy.map(|strategy| strategy.name()),
                            "gold_normalized": verdict.gold_normalized,
                            "response_normalized": verdict.response_normalized,
                        })),
                    },
                )?;
            }
            writer.commit()?;
            progress.inc(chunk.len() as u64);
        }
        if !global.quiet {
            eprintln!(
                "run {} ({} on {}): {tally}",
                run.id, run.model, run.benchmark
            );
        }
    }
    progress.finish_and_clear();
    if !without_gold.is_empty() {
        let listed: Vec<String> = without_gold
            .iter()
            .take(10)
            .map(|(run, problem)| format!("run {run}, problem {problem}"))
            .collect();
        let more = without_gold.len().saturating_sub(listed.len());
        anyhow::bail!(
            "{} without a gold answer, so their samples were not graded: {}{}\n\
             import the gold answers (a `gold` field with the samples) and run `boundary grade` again",
            match without_gold.len() {
                1 => "1 problem is".to_string(),
                count => format!("{count} problems are"),
            },
            listed.join("; "),
            if more > 0 {
                format!(" … and {more} more")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
