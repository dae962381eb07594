//! `boundary score`: the log-probability of each response given its prompt, for the
//! perplexity analysis (how likely one model's answers are under another).
//!
//! This module holds what every backend shares (the flags, reading the input, writing the
//! output in input order, the [`Scorer`] interface); `score/openai.rs` scores through
//! OpenAI-compatible servers, `score/embedded.rs` with a model file on this machine's CPU.
//! `boundary eval`'s perplexity stage scores stored samples through the same backends.
//!
//! A backend is a module `score/<name>.rs` providing a [`Scorer`], chosen in [`run`] from
//! the flags (the embedded engine: `--model FILE` without `--endpoint`). The command reads
//! the input with [`read_pairs`] and hands each line's result, in any order, to an
//! [`OrderedWriter`] as a [`Scored`].

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod openai;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use boundary_openai::{ConnectOptions, RunEnd};
use boundary_sample::PromptInput;
use boundary_store::{ErrorList, Fields, InputError, read_objects};
use clap::Args;
use serde_json::{Map, Value, json};

use crate::cli::GlobalArgs;
use crate::endpoints::EndpointArgs;
use crate::output;

/// Input lines: `{"prompt": "...", "response": "...", ...}`; other fields are copied
/// through. Output lines add `logprob_sum` (natural log), `num_tokens` and `perplexity`
/// (exp of the mean negative log-probability) of the response tokens, or `error` when a
/// line could not be scored.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// With --endpoint: the model's name on the server (one of the ids of its /v1/models).
    /// Without: a GGUF file or Hugging Face safetensors directory, run on this machine.
    #[arg(long, value_name = "NAME|PATH")]
    pub model: String,
    /// Pairs to score (JSON Lines).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the scored lines (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub endpoints: EndpointArgs,
    #[cfg(feature = "embedded")]
    #[command(flatten)]
    pub embedded: embedded::EmbeddedScoreArgs,
}

pub fn run(args: ScoreArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let Input { fields, pairs } = read_pairs(&args.input)?;
    let mut scorer = backend(&args, global)?;
    let total = pairs.len();
    let mut writer = OrderedWriter::new(args.output.as_deref(), fields)?;
    let counter = output::counter(global.quiet, "scored");
    let end = scorer.score(&pairs, &mut |index, scored| {
        counter.inc(1);
        writer.put(index, scored)
    })?;
    counter.finish_and_clear();
    let failed = writer.failed;
    let written = writer.finish()?;
    if end == RunEnd::Stopped {
        bail!("stopped after {written} of {total} lines; nothing after them was written");
    }
    if failed > 0 {
        bail!("{failed} of {total} lines could not be scored; their output lines carry `error`");
    }
    Ok(())
}

/// The backend the flags ask for.
fn backend(args: &ScoreArgs, global: &GlobalArgs) -> anyhow::Result<Box<dyn Scorer>> {
    if args.endpoints.given() {
        let options = ConnectOptions {
            model: args.model.clone(),
            chunk_size: 1,
            retry: args.endpoints.retry_policy()?,
            health: args.endpoints.health_policy()?,
        };
        let scorer = openai::ServerScorer::new(args.endpoints.configs()?, options, global.quiet)?;
        return Ok(Box::new(scorer));
    }
    #[cfg(feature = "embedded")]
    return Ok(Box::new(embedded::EmbeddedScorer::load(
        Path::new(&args.model),
        args.embedded.threads,
        args.embedded.weights,
    )?));
    #[cfg(not(feature = "embedded"))]
    bail!(
        "no backend: give --endpoint URL to score through an OpenAI-compatible server (the \
         embedded backend, --model FILE without --endpoint, is not part of this build)"
    )
}

/// Which weights the embedded scorer computes with (`--weights`, and `weights` in an
/// experiment's `[perplexity]` table).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ScoringWeights {
    #[default]
    Auto,
    Stored,
    F32,
}

/// A response to score after its prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePair {
    /// Raw text, or chat messages the scorer renders with its chat template.
    pub prompt: PromptInput,
    pub response: String,
}

/// The result of scoring one pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Scored {
    Score { logprob_sum: f64, num_tokens: u32 },
    Error(String),
}

/// A scoring backend: the embedded engine, or OpenAI-compatible servers.
pub trait Scorer {
    /// Scores `pairs`, handing each result to `on_scored` with the pair's position, in any
    /// order; a pair that cannot be scored gets a [`Scored::Error`] saying why. Returns
    /// [`RunEnd::Stopped`] when Ctrl-C ended it before every pair had its result.
    fn score(
        &mut self,
        pairs: &[ScorePair],
        on_scored: &mut dyn FnMut(usize, Scored) -> anyhow::Result<()>,
    ) -> anyhow::Result<RunEnd>;
}

/// The input file: each line's fields (copied to the output), and its pair to score.
pub struct Input {
    pub fields: Vec<Map<String, Value>>,
    pub pairs: Vec<ScorePair>,
}

const NEEDS: &str = "each line needs string fields `prompt` and `response`";

/// Reads the input, reporting every bad line with its number.
pub fn read_pairs(path: &Path) -> anyhow::Result<Input> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the input {}", path.display()))?;
    let name = path.display().to_string();
    let mut input = Input {
        fields: Vec::new(),
        pairs: Vec::new(),
    };
    let mut errors = ErrorList::default();
    read_objects(
        std::io::BufReader::new(file),
        &name,
        &mut errors,
        |line, map, errors| {
            let fields = Fields { map: &map };
            match (
                fields.string("prompt", NEEDS),
                fields.string("response", NEEDS),
            ) {
                (Ok(prompt), Ok(response)) => {
                    input.pairs.push(ScorePair {
                        prompt: PromptInput::Text(prompt),
                        response,
                    });
                    input.fields.push(map);
                }
                (Err(message), _) | (_, Err(message)) => errors.push(InputError::Line {
                    source_name: name.clone(),
                    line,
                    message,
                }),
            }
        },
    )?;
    errors.into_result()?;
    if input.pairs.is_empty() {
        bail!("{} holds no lines to score", path.display());
    }
    Ok(input)
}

/// Writes scored lines in input order as results arrive in any order.
pub struct OrderedWriter {
    out: Box<dyn Write>,
    lines: Vec<Option<Map<String, Value>>>,
    waiting: BTreeMap<usize, Map<String, Value>>,
    next: usize,
    pub failed: u64,
}

impl OrderedWriter {
    pub fn new(output: Option<&Path>, fields: Vec<Map<String, Value>>) -> anyhow::Result<Self> {
        let out: Box<dyn Write> = match output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(Self {
            out,
            lines: fields.into_iter().map(Some).collect(),
            waiting: BTreeMap::new(),
            next: 0,
            failed: 0,
        })
    }

    pub fn put(&mut self, index: usize, scored: Scored) -> anyhow::Result<()> {
        let Some(mut fields) = self.lines.get_mut(index).and_then(Option::take) else {
            return Ok(());
        };
        match scored {
            Scored::Score {
                logprob_sum,
                num_tokens,
            } => {
                fields.insert("logprob_sum".into(), json!(logprob_sum));
                fields.insert("num_tokens".into(), json!(num_tokens));
                let perplexity = (-logprob_sum / f64::from(num_tokens.max(1))).exp();
                fields.insert("perplexity".into(), json!(perplexity));
            }
            Scored::Error(error) => {
                self.failed += 1;
                fields.insert("error".into(), json!(error));
            }
        }
        self.waiting.insert(index, fields);
        while let Some(fields) = self.waiting.remove(&self.next) {
            writeln!(self.out, "{}", Value::Object(fields))?;
            self.next += 1;
        }
        Ok(())
    }

    /// Flushes; lines never scored (the run was stopped) are not written.
    pub fn finish(mut self) -> anyhow::Result<usize> {
        self.out.flush()?;
        Ok(self.next)
    }
}
