//! Scoring: the log-probability of a given continuation after a given prompt (teacher forcing),
//! per token and summed. Many (prompt, continuation) pairs are packed into each llama.cpp call,
//! each in its own sequence; logits are computed only at the positions that predict a
//! continuation token, and log-softmax runs on all cores while llama.cpp's threads are idle.

use std::time::{Duration, Instant};

use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use crate::backend::{clear_recent_problems, take_recent_problems};
use crate::generate::{KvFit, check_prompt, kv_fit};
use crate::sampling::log_softmax_at;
use crate::{EngineError, Model};

/// A prompt and the continuation to score after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRequest {
    pub prompt: Vec<u32>,
    pub continuation: Vec<u32>,
}

/// Log-probabilities (natural log) of each continuation token given everything before it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuationScore {
    pub token_logprobs: Vec<f64>,
}

impl ContinuationScore {
    pub fn logprob_sum(&self) -> f64 {
        self.token_logprobs.iter().sum()
    }

    /// exp(-mean log-probability); 1 for an empty continuation.
    pub fn perplexity(&self) -> f64 {
        if self.token_logprobs.is_empty() {
            return 1.0;
        }
        (-self.logprob_sum() / self.token_logprobs.len() as f64).exp()
    }
}

/// Capacity of a scoring run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreConfig {
    /// Tokens per llama.cpp call. Each scored position holds a vocabulary-sized row of logits
    /// (192 KiB for a 49k vocabulary), so this also bounds that buffer.
    pub batch_tokens: usize,
    /// Most sequences packed into one call.
    pub max_sequences: usize,
    pub kv_budget_bytes: u64,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        Self {
            batch_tokens: 512,
            max_sequences: 16,
            kv_budget_bytes: 2 << 30,
        }
    }
}

/// Counters of a scoring run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreStats {
    pub scored_requests: u64,
    /// Prompt and continuation tokens fed to the model.
    pub processed_tokens: u64,
    pub scored_tokens: u64,
    pub decode_time: Duration,
    pub softmax_time: Duration,
    pub wall_time: Duration,
}

/// Failure of the engine, or of the caller's handler.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError<E> {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("handling a score failed: {0}")]
    Handler(E),
}

/// Scores every request, calling `on_scored(request index, score)` as each completes (in
/// request order).
pub fn score<E>(
    model: &Model,
    requests: &[ScoreRequest],
    config: &ScoreConfig,
    mut on_scored: impl FnMut(usize, ContinuationScore, &ScoreStats) -> Result<(), E>,
) -> Result<ScoreStats, ScoreError<E>> {
    let started = Instant::now();
    let mut stats = ScoreStats::default();
    for (index, request) in requests.iter().enumerate() {
        let mut whole = request.prompt.clone();
        whole.extend_from_slice(&request.continuation);
        check_prompt(model, index, &request.prompt, 0)?;
        check_prompt(model, index, &whole, 0)?;
    }
    if requests.is_empty() {
        return Ok(stats);
    }
    let longest = requests
        .iter()
        .map(|r| r.prompt.len() + r.continuation.len())
        .max()
        .unwrap_or(1);
    let KvFit {
        tokens_per_sequence,
        sequences: fitting,
        ..
    } = kv_fit(model, longest, config.kv_budget_bytes)?;
    let slots = config
        .max_sequences
        .clamp(1, 256)
        .min(requests.len())
        .min(fitting);
    let batch_tokens = config.batch_tokens.max(1);
    let mut ctx = model.new_context(slots, tokens_per_sequence, batch_tokens)?;
    let mut batch = LlamaBatch::new(batch_tokens, 1);

    // Sequences in flight: (request, sequence id, tokens fed so far, log-probs so far).
    struct InFlight {
        request: usize,
        sequence: i32,
        fed: usize,
        logprobs: Vec<f64>,
    }
    let tokens_of = |r: usize, i: usize| -> u32 {
        let request = &requests[r];
        match i.checked_sub(request.prompt.len()) {
            None => request.prompt[i],
            Some(j) => request.continuation[j],
        }
    };
    let length_of = |r: usize| requests[r].prompt.len() + requests[r].continuation.len();
    let mut in_flight: Vec<InFlight> = Vec::new();
    let mut weights = Vec::new(); // log_softmax_at's scratch space
    let mut free: Vec<i32> = (0..slots as i32).rev().collect();
    let mut next_request = 0;
    // Finished out of order; reported in request order.
    let mut done: std::collections::BTreeMap<usize, ContinuationScore> = Default::default();
    let mut next_to_report = 0;

    while next_request < requests.len() || !in_flight.is_empty() {
        while let (true, Some(sequence)) = (next_request < requests.len(), free.last().copied()) {
            free.pop();
            in_flight.push(InFlight {
                request: next_request,
                sequence,
                fed: 0,
                logprobs: Vec::with_capacity(requests[next_request].continuation.len()),
            });
            next_request += 1;
        }

        // Fill one call: each sequence contributes its next chunk while room remains. A row's
        // logits are wanted when the token after it is a continuation token.
        batch.clear();
        // (in-flight index, token it predicts, row in the batch)
        let mut rows: Vec<(usize, u32, i32)> = Vec::new();
        let mut room = batch_tokens;
        for (slot, seq) in in_flight.iter_mut().enumerate() {
            let length = length_of(seq.request);
            let take = (length - seq.fed).min(room);
            let prompt_len = requests[seq.request].prompt.len();
            for position in seq.fed..seq.fed + take {
                let wanted = position + 1 >= prompt_len && position + 1 < length;
                let token = LlamaToken::new(tokens_of(seq.request, position) as i32);
                batch
                    .add(token, position as i32, &[seq.sequence], wanted)
                    .map_err(|e| EngineError::backend("fill a batch", e))?;
                if wanted {
                    let row = batch.n_tokens() - 1;
                    rows.push((slot, tokens_of(seq.request, position + 1), row));
                }
            }
            seq.fed += take;
            room -= take;
            if room == 0 {
                break;
            }
        }
        let decode_started = Instant::now();
        clear_recent_problems();
        ctx.decode(&mut batch).map_err(|e| {
            EngineError::backend("score a batch", format!("{e}: {}", take_recent_problems()))
        })?;
        stats.decode_time += decode_started.elapsed();
        stats.processed_tokens += batch.n_tokens() as u64;

        let softmax_started = Instant::now();
        // One thread on purpose, as in generation: see `generate::Run::step`.
        for &(slot, target, row) in &rows {
            let logprob = log_softmax_at(ctx.get_logits_ith(row), target as usize, &mut weights);
            in_flight[slot].logprobs.push(logprob);
        }
        stats.softmax_time += softmax_started.elapsed();
        stats.scored_tokens += rows.len() as u64;

        let mut still = Vec::with_capacity(in_flight.len());
        for seq in in_flight {
            if seq.fed == length_of(seq.request) {
                ctx.clear_kv_cache_seq(Some(seq.sequence as u32), None, None)
                    .map_err(|e| EngineError::backend("free a KV cache", e))?;
                free.push(seq.sequence);
                done.insert(
                    seq.request,
                    ContinuationScore {
                        token_logprobs: seq.logprobs,
                    },
                );
            } else {
                still.push(seq);
            }
        }
        in_flight = still;
        while let Some(score) = done.remove(&next_to_report) {
            stats.scored_requests += 1;
            stats.wall_time = started.elapsed();
            on_scored(next_to_report, score, &stats).map_err(ScoreError::Handler)?;
            next_to_report += 1;
        }
    }
    stats.wall_time = started.elapsed();
    Ok(stats)
}

/// The raw logits at every position of `tokens` (row i predicts token i + 1): one
/// vocabulary-sized row per token, so keep `tokens` short. For checks against other
/// implementations and for analyses that need whole distributions.
pub fn all_logits(model: &Model, tokens: &[u32]) -> Result<Vec<Vec<f32>>, EngineError> {
    check_prompt(model, 0, tokens, 0)?;
    let chunk = 512;
    let mut ctx = model.new_context(1, tokens.len().next_multiple_of(256), chunk)?;
    let mut batch = LlamaBatch::new(chunk, 1);
    let mut rows = Vec::with_capacity(tokens.len());
    for (start, piece) in (0..).step_by(chunk).zip(tokens.chunks(chunk)) {
        batch.clear();
        for (offset, &token) in piece.iter().enumerate() {
            batch
                .add(
                    LlamaToken::new(token as i32),
                    (start + offset) as i32,
                    &[0],
                    true,
                )
                .map_err(|e| EngineError::backend("fill a batch", e))?;
        }
        clear_recent_problems();
        ctx.decode(&mut batch).map_err(|e| {
            EngineError::backend("compute logits", format!("{e}: {}", take_recent_problems()))
        })?;
        rows.extend((0..piece.len() as i32).map(|i| ctx.get_logits_ith(i).to_vec()));
    }
    Ok(rows)
}
