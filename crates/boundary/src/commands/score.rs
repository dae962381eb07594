//! `boundary score`: the log-probability of each response given its prompt, for the
//! perplexity analysis (how likely one model's answers are under another).
//!
//! This module holds what every backend shares (the flags, reading the input, writing the
//! output in input order); `score/openai.rs` scores through OpenAI-compatible servers,
//! `score/embedded.rs` with a model file on this machine's CPU.
//!
//! A backend is a module `score/<name>.rs` providing
//! `pub fn run(args: ScoreArgs, global: &GlobalArgs) -> anyhow::Result<()>`, chosen in
//! [`run`] from the flags (the embedded engine: `--model FILE` without `--endpoint`). It
//! reads the input with [`read_pairs`] and hands each line's result, in any order, to an
//! [`OrderedWriter`] as a [`Scored`].

#[cfg(feature = "embedded")]
mod embedded;
mod openai;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use boundary_store::{ErrorList, Fields, InputError, read_objects};
use clap::Args;
use serde_json::{Map, Value, json};

use crate::cli::GlobalArgs;
use crate::endpoints::EndpointArgs;

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
    if args.endpoints.given() {
        return openai::run(args, global);
    }
    #[cfg(feature = "embedded")]
    return embedded::run(args, global);
    #[cfg(not(feature = "embedded"))]
    bail!(
        "no backend: give --endpoint URL to score through an OpenAI-compatible server (the \
         embedded backend, --model FILE without --endpoint, is not part of this build)"
    )
}

/// One line of the input: its fields, and the prompt and response to score.
pub struct Pair {
    pub fields: Map<String, Value>,
    pub prompt: String,
    pub response: String,
}

const NEEDS: &str = "each line needs string fields `prompt` and `response`";

/// Reads the input, reporting every bad line with its number.
pub fn read_pairs(path: &Path) -> anyhow::Result<Vec<Pair>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the input {}", path.display()))?;
    let name = path.display().to_string();
    let mut pairs = Vec::new();
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
                (Ok(prompt), Ok(response)) => pairs.push(Pair {
                    prompt,
                    response,
                    fields: map.clone(),
                }),
                (Err(message), _) | (_, Err(message)) => errors.push(InputError::Line {
                    source_name: name.clone(),
                    line,
                    message,
                }),
            }
        },
    )?;
    errors.into_result()?;
    if pairs.is_empty() {
        bail!("{} holds no lines to score", path.display());
    }
    Ok(pairs)
}

/// Writes scored lines in input order as results arrive in any order.
pub struct OrderedWriter {
    out: Box<dyn Write>,
    pairs: Vec<Option<Map<String, Value>>>,
    waiting: BTreeMap<usize, Map<String, Value>>,
    next: usize,
    pub failed: u64,
}

/// The result of scoring one line.
pub enum Scored {
    Score { logprob_sum: f64, num_tokens: u32 },
    Error(String),
}

impl OrderedWriter {
    pub fn new(output: Option<&Path>, pairs: &mut [Pair]) -> anyhow::Result<Self> {
        let out: Box<dyn Write> = match output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(Self {
            out,
            pairs: pairs
                .iter_mut()
                .map(|p| Some(std::mem::take(&mut p.fields)))
                .collect(),
            waiting: BTreeMap::new(),
            next: 0,
            failed: 0,
        })
    }

    pub fn put(&mut self, index: usize, scored: Scored) -> anyhow::Result<()> {
        let Some(mut fields) = self.pairs.get_mut(index).and_then(Option::take) else {
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
