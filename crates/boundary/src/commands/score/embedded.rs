//! `boundary score --model FILE` (no `--endpoint`): log-probabilities of each response given
//! its prompt under a model on this machine's CPU (teacher forcing through the embedded
//! engine, one forward pass per line over prompt and response together).
//!
//! The prompt is tokenized as a whole text (with the model's BOS where it adds one; chat
//! messages are first rendered with the model's chat template, ending with the assistant
//! header, as the embedded sampler renders them) and the response separately, so the
//! scored tokens are exactly the response's own tokens.

use std::path::Path;

use boundary_engine::{
    Model, RenderOptions, ScoreConfig, ScoreError, ScoreRequest, Weights, prompt_tokens, score,
};
use boundary_openai::RunEnd;
use boundary_sample::PromptInput;
use clap::Args;

use super::{ScorePair, Scored, Scorer, ScoringWeights};
use crate::commands::sample::embedded::load_model;

#[derive(Debug, Args)]
#[command(next_help_heading = "Embedded engine (--model FILE, no --endpoint)")]
pub struct EmbeddedScoreArgs {
    /// CPU threads [default: $BOUNDARY_THREADS, or one per core].
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub threads: usize,
    /// Weights to score with: `f32` expands quantized and 16-bit weights to f32 (the same
    /// values, at 4 bytes per weight of memory; log-probabilities move slightly because
    /// llama.cpp no longer rounds activations to 8 bits), `stored` keeps the file's, `auto`
    /// expands where that was measured faster (x86-64, mostly Q4_1, Q5_1 or Q5_K weights) and
    /// the f32 weights take at most 2 GiB (models up to about 500M parameters).
    #[arg(long, value_enum, default_value_t = ScoringWeights::Auto)]
    pub weights: ScoringWeights,
}

impl ScoringWeights {
    /// The largest f32 model `auto` expands.
    const AUTO_LIMIT_BYTES: u64 = 2 << 30;

    fn engine(self) -> Weights {
        match self {
            Self::Auto => Weights::Auto {
                max_f32_bytes: Self::AUTO_LIMIT_BYTES,
            },
            Self::Stored => Weights::Stored,
            Self::F32 => Weights::F32,
        }
    }
}

/// A model file loaded for scoring.
pub struct EmbeddedScorer {
    model: Model,
}

impl EmbeddedScorer {
    /// Loads the model with `threads` CPU threads (0: `$BOUNDARY_THREADS`, or one per
    /// core) and the weights asked for.
    pub fn load(path: &Path, threads: usize, weights: ScoringWeights) -> anyhow::Result<Self> {
        // Scores stay comparable with llama.cpp's defaults and across runs: no flash attention.
        let model = load_model(path, threads, false, weights.engine())?;
        tracing::info!(
            f32_weights = model.info().f32_weights,
            "scoring with {}",
            if model.info().f32_weights {
                "the weights expanded to f32"
            } else {
                "the weights as stored"
            }
        );
        Ok(Self { model })
    }

    /// The tokens of one pair, or why it cannot be scored.
    fn request(&self, pair: &ScorePair) -> Result<ScoreRequest, String> {
        if let PromptInput::Chat(messages) = &pair.prompt
            && messages.iter().any(|m| !m.content.is_string())
        {
            return Err(
                "the chat prompt has content parts (images): the scorer reads text \
                        only"
                    .into(),
            );
        }
        let prompt = prompt_tokens(&self.model, &pair.prompt, &RenderOptions::default())
            .map_err(|e| e.to_string())?;
        if prompt.is_empty() {
            return Err(
                "the prompt is empty (the model adds no BOS token), so the response's \
                    first token has nothing to be predicted from"
                    .into(),
            );
        }
        let continuation = self
            .model
            .tokenizer()
            .encode(&pair.response)
            .map_err(|e| e.to_string())?;
        let context = self.model.info().context_length;
        if prompt.len() + continuation.len() > context {
            return Err(format!(
                "prompt ({} tokens) and response ({} tokens) together exceed the model's \
                 context of {context} tokens",
                prompt.len(),
                continuation.len()
            ));
        }
        Ok(ScoreRequest {
            prompt,
            continuation,
        })
    }
}

impl Scorer for EmbeddedScorer {
    fn score(
        &mut self,
        pairs: &[ScorePair],
        on_scored: &mut dyn FnMut(usize, Scored) -> anyhow::Result<()>,
    ) -> anyhow::Result<RunEnd> {
        // Pairs that cannot be tokenized get their error at once; the others are scored.
        let mut requests = Vec::new();
        let mut pair_of_request = Vec::new();
        for (index, pair) in pairs.iter().enumerate() {
            match self.request(pair) {
                Ok(request) => {
                    requests.push(request);
                    pair_of_request.push(index);
                }
                Err(error) => on_scored(index, Scored::Error(error))?,
            }
        }
        let stats = score(
            &self.model,
            &requests,
            &ScoreConfig::default(),
            |k, scored, _| {
                let num_tokens = u32::try_from(scored.token_logprobs.len()).unwrap_or(u32::MAX);
                on_scored(
                    pair_of_request[k],
                    Scored::Score {
                        logprob_sum: scored.logprob_sum(),
                        num_tokens,
                    },
                )
            },
        )
        .map_err(|e| match e {
            ScoreError::Engine(e) => anyhow::Error::from(e),
            ScoreError::Handler(e) => e.context("handling the scores"),
        })?;
        tracing::info!(
            wall_s = stats.wall_time.as_secs_f64(),
            decode_s = stats.decode_time.as_secs_f64(),
            softmax_s = stats.softmax_time.as_secs_f64(),
            processed_tokens = stats.processed_tokens,
            scored_tokens = stats.scored_tokens,
            // Absent, not NaN, when nothing was processed.
            tokens_per_s = (stats.processed_tokens > 0)
                .then(|| stats.processed_tokens as f64 / stats.wall_time.as_secs_f64()),
            "where the engine's time went"
        );
        Ok(RunEnd::Complete)
    }
}
