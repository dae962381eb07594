//! `boundary score --model FILE` (no `--endpoint`): log-probabilities of each response given
//! its prompt under a model on this machine's CPU (teacher forcing through the embedded
//! engine, one forward pass per line over prompt and response together).
//!
//! The prompt is tokenized as a whole text (with the model's BOS where it adds one) and the
//! response separately, so the scored tokens are exactly the response's own tokens.

use std::path::Path;

use anyhow::bail;
use boundary_engine::{Model, ScoreConfig, ScoreError, ScoreRequest, score};
use clap::Args;

use super::{OrderedWriter, ScoreArgs, Scored, read_pairs};
use crate::cli::GlobalArgs;
use crate::commands::sample::embedded::load_model;
use crate::output;

#[derive(Debug, Args)]
#[command(next_help_heading = "Embedded engine (--model FILE, no --endpoint)")]
pub struct EmbeddedScoreArgs {
    /// CPU threads [default: $BOUNDARY_THREADS, or one per core].
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
}

pub fn run(args: ScoreArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    let mut pairs = read_pairs(&args.input)?;
    let model_path = Path::new(&args.model);
    let model = load_model(model_path, args.embedded.threads)?;

    // Lines that cannot be tokenized get an `error` field; the others are scored.
    let mut requests = Vec::new();
    let mut line_of_request = Vec::new();
    let mut unscorable = Vec::new();
    for (index, pair) in pairs.iter().enumerate() {
        match request(&model, &pair.prompt, &pair.response) {
            Ok(request) => {
                requests.push(request);
                line_of_request.push(index);
            }
            Err(error) => unscorable.push((index, error)),
        }
    }
    let total = pairs.len();
    let mut writer = OrderedWriter::new(args.output.as_deref(), &mut pairs)?;
    for (index, error) in unscorable {
        writer.put(index, Scored::Error(error))?;
    }
    let counter = output::counter(global.quiet, "scored");
    score(
        &model,
        &requests,
        &ScoreConfig::default(),
        |k, scored, _| {
            let num_tokens = u32::try_from(scored.token_logprobs.len()).unwrap_or(u32::MAX);
            counter.inc(1);
            writer.put(
                line_of_request[k],
                Scored::Score {
                    logprob_sum: scored.logprob_sum(),
                    num_tokens,
                },
            )
        },
    )
    .map_err(|e| match e {
        ScoreError::Engine(e) => anyhow::Error::from(e),
        ScoreError::Handler(e) => e.context("writing the scored lines"),
    })?;
    counter.finish_and_clear();
    let failed = writer.failed;
    writer.finish()?;
    if failed > 0 {
        bail!("{failed} of {total} lines could not be scored; their output lines carry `error`");
    }
    Ok(())
}

/// The tokens of one line, or why it cannot be scored.
fn request(model: &Model, prompt: &str, response: &str) -> Result<ScoreRequest, String> {
    let prompt = model
        .tokenizer()
        .encode_prompt(prompt)
        .map_err(|e| e.to_string())?;
    if prompt.is_empty() {
        return Err(
            "the prompt is empty (the model adds no BOS token), so the response's \
                    first token has nothing to be predicted from"
                .into(),
        );
    }
    let continuation = model
        .tokenizer()
        .encode(response)
        .map_err(|e| e.to_string())?;
    let context = model.info().context_length;
    if prompt.len() + continuation.len() > context {
        return Err(format!(
            "prompt ({} tokens) and response ({} tokens) together exceed the model's context of \
             {context} tokens",
            prompt.len(),
            continuation.len()
        ));
    }
    Ok(ScoreRequest {
        prompt,
        continuation,
    })
}
