//! Batched sampling: many samples decode together, one token each per llama.cpp call.
//!
//! Requests (a prompt and the samples still wanted of it) are served in order through a fixed
//! number of sequence slots. A request's prompt is prefilled once; its other samples start from
//! a copy of that KV cache and from the same cached prompt-end logits, so n samples of a prompt
//! cost one prefill. When a sample finishes, its slot goes at once to the next sample (of the
//! same request, or the next one), so the batch stays full until the work runs out: no wave of
//! samples waits for its slowest member.
//!
//! Each sample draws from its own random stream ([`crate::sample_rng`]), so its tokens do not
//! depend on the batch it shared or on the samples already stored by an interrupted run.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;
use rand_chacha::ChaCha8Rng;

use crate::backend::{clear_recent_problems, take_recent_problems};
use crate::sampling::{SamplingParams, StopStrings, TokenSampler, sample_rng};
use crate::{EngineError, Model};

/// One prompt and the samples still to draw from it.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// Prompt token ids (BOS included when the model wants one).
    pub prompt: Vec<u32>,
    pub samples: Vec<SampleSpec>,
}

/// Which sample to draw, and its random stream's seed (`boundary_sample::sample_seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSpec {
    pub index: u32,
    pub seed: u64,
}

/// Why a sample ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// The model emitted one of its end-of-generation tokens.
    EndOfGeneration,
    /// One of the request's stop tokens.
    StopToken(u32),
    /// One of the request's stop strings; the text ends before it.
    StopString(String),
    /// `max_tokens` reached.
    Length,
}

impl FinishReason {
    /// The OpenAI API's name: `"stop"` or `"length"`.
    pub fn openai_name(&self) -> &'static str {
        match self {
            Self::Length => "length",
            _ => "stop",
        }
    }
}

/// A finished sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Position of the request in the slice given to [`generate`].
    pub request: usize,
    pub sample_index: u32,
    /// Generated text, without the end-of-generation token or stop string that ended it.
    pub text: String,
    /// Every generated token, including the one that ended the sample.
    pub token_ids: Vec<u32>,
    pub finish_reason: FinishReason,
}

/// Capacity limits of a generation run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationConfig {
    /// Most samples decoding at once. On 2 cores llama.cpp's aggregate rate plateaus from about
    /// 16 sequences; more slots keep the batch full while samples finish at different times.
    pub max_sequences: usize,
    /// Upper bound on KV-cache memory; the number of slots shrinks to fit it.
    pub kv_budget_bytes: u64,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        Self {
            max_sequences: 64,
            kv_budget_bytes: 4 << 30,
        }
    }
}

/// Counters reported while generating and at the end.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenerationStats {
    pub completed_samples: u64,
    pub generated_tokens: u64,
    pub prompt_tokens: u64,
    /// Samples decoding in the latest step.
    pub active_sequences: usize,
    /// Slots the run was sized for.
    pub sequence_slots: usize,
    pub kv_cache_bytes: u64,
    pub decode_steps: u64,
    /// Samples decoded, summed over decode steps: the generated tokens less each sample's
    /// first, which is drawn from its prompt's prefill.
    pub decoded_tokens: u64,
    /// Samples moved to a lower sequence to keep the batch's sequences consecutive, which
    /// llama.cpp needs to decode them in one pass.
    pub moved_sequences: u64,
    /// Time in llama.cpp decoding generated tokens.
    pub decode_time: Duration,
    /// Time in llama.cpp prefilling prompts.
    pub prefill_time: Duration,
    /// Time choosing tokens from logits.
    pub sampling_time: Duration,
    /// Time in the caller's event handler (writing samples to the store).
    pub handler_time: Duration,
    pub wall_time: Duration,
}

impl GenerationStats {
    /// Samples per decode step, on average: how full the batch ran.
    pub fn mean_batch(&self) -> f64 {
        self.decoded_tokens as f64 / self.decode_steps.max(1) as f64
    }
}

/// What the event handler sees.
#[derive(Debug)]
pub enum GenerationEvent<'a> {
    Completed(Completion),
    /// After every decode step.
    Progress(&'a GenerationStats),
}

/// Failure of the engine, or of the caller's handler.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError<E> {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("handling a finished sample failed: {0}")]
    Handler(E),
}

/// Draws every requested sample, calling `on_event` for each finished sample (as soon as it
/// finishes) and after every decode step.
pub fn generate<E>(
    model: &Model,
    requests: &[GenerationRequest],
    params: &SamplingParams,
    config: &GenerationConfig,
    mut on_event: impl FnMut(GenerationEvent<'_>) -> Result<(), E>,
) -> Result<GenerationStats, GenerateError<E>> {
    params.validate().map_err(EngineError::from)?;
    let started = Instant::now();
    for (index, request) in requests.iter().enumerate() {
        check_prompt(model, index, &request.prompt, params.max_tokens)?;
    }
    let total_samples: usize = requests.iter().map(|r| r.samples.len()).sum();
    if total_samples == 0 {
        return Ok(GenerationStats::default());
    }
    let longest_prompt = requests.iter().map(|r| r.prompt.len()).max().unwrap_or(0);
    let KvFit {
        tokens_per_sequence,
        bytes_per_sequence,
        sequences: fitting,
    } = kv_fit(
        model,
        longest_prompt + params.max_tokens,
        config.kv_budget_bytes,
    )?;
    let slots = config
        .max_sequences
        .clamp(1, MAX_SEQUENCES)
        .min(total_samples)
        .min(fitting);
    let batch_tokens = slots.max(PREFILL_CHUNK);
    let ctx = model.new_context(slots, tokens_per_sequence, batch_tokens)?;
    let mut run = Run {
        model,
        requests,
        params,
        ctx,
        batch: LlamaBatch::new(batch_tokens, 1),
        batch_tokens,
        stops: StopStrings::new(&params.stop),
        banned: if params.ignore_eos {
            model.tokenizer().special_tokens().end_of_generation.clone()
        } else {
            Vec::new()
        },
        states: requests.iter().map(|_| RequestState::default()).collect(),
        next_request: 0,
        active: Vec::with_capacity(slots),
        free_sequences: (0..slots as i32).collect(),
        stats: GenerationStats {
            sequence_slots: slots,
            kv_cache_bytes: bytes_per_sequence * slots as u64,
            ..GenerationStats::default()
        },
    };
    tracing::info!(
        slots,
        tokens_per_sequence,
        kv_cache_mib = run.stats.kv_cache_bytes >> 20,
        "generation context ready"
    );
    run.run(&mut on_event)?;
    run.stats.wall_time = started.elapsed();
    Ok(run.stats)
}

/// llama.cpp's limit on sequences per context.
const MAX_SEQUENCES: usize = 256;
/// Prompt tokens per prefill call (and the physical batch size).
const PREFILL_CHUNK: usize = 512;

/// What a KV cache for sequences of up to some number of tokens takes.
pub(crate) struct KvFit {
    /// Cells per sequence: llama.cpp rounds them up to a multiple of 256.
    pub tokens_per_sequence: usize,
    pub bytes_per_sequence: u64,
    /// Sequences the budget holds (at least one).
    pub sequences: usize,
}

/// How many sequences of up to `tokens` each the KV-cache budget holds, or an error saying
/// what one sequence needs.
pub(crate) fn kv_fit(
    model: &Model,
    tokens: usize,
    budget_bytes: u64,
) -> Result<KvFit, EngineError> {
    let tokens_per_sequence = tokens.next_multiple_of(256);
    let bytes_per_sequence = tokens_per_sequence as u64 * model.info().kv_bytes_per_token;
    match (budget_bytes / bytes_per_sequence.max(1)) as usize {
        0 => Err(EngineError::KvBudget {
            tokens: tokens_per_sequence,
            needed_mib: bytes_per_sequence >> 20,
            budget_mib: budget_bytes >> 20,
        }),
        sequences => Ok(KvFit {
            tokens_per_sequence,
            bytes_per_sequence,
            sequences,
        }),
    }
}

pub(crate) fn check_prompt(
    model: &Model,
    request: usize,
    prompt: &[u32],
    max_tokens: usize,
) -> Result<(), EngineError> {
    let info = model.info();
    if prompt.is_empty() {
        return Err(EngineError::EmptyPrompt { request });
    }
    if let Some(&token) = prompt.iter().find(|&&t| t as usize >= info.vocab_size) {
        return Err(EngineError::TokenOutOfRange {
            request,
            token,
            vocab_size: info.vocab_size,
        });
    }
    let needed = prompt.len() + max_tokens;
    if needed > info.context_length {
        return Err(EngineError::ContextOverflow {
            request,
            prompt_tokens: prompt.len(),
            max_tokens,
            needed,
            context: info.context_length,
        });
    }
    Ok(())
}

#[derive(Default)]
struct RequestState {
    /// How many of the request's samples have been started.
    started: usize,
    /// Logits after the last prompt token, kept while samples remain to start.
    prompt_logits: Option<Vec<f32>>,
}

/// One sample being decoded.
struct ActiveSample {
    sequence: i32,
    request: usize,
    sample_index: u32,
    prompt_len: usize,
    rng: ChaCha8Rng,
    tokens: Vec<u32>,
    text: Vec<u8>,
}

impl ActiveSample {
    /// Position of the latest token (the one to feed next).
    fn last_position(&self) -> i32 {
        (self.prompt_len + self.tokens.len() - 1) as i32
    }
}

struct Run<'m, 'r> {
    model: &'m Model,
    requests: &'r [GenerationRequest],
    params: &'r SamplingParams,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    batch_tokens: usize,
    stops: StopStrings,
    banned: Vec<u32>,
    states: Vec<RequestState>,
    /// Requests before this one have started all their samples.
    next_request: usize,
    /// In sequence order (see [`Run::compact`]).
    active: Vec<ActiveSample>,
    free_sequences: BTreeSet<i32>,
    stats: GenerationStats,
}

/// A sample admitted this round, waiting for its KV cache.
enum Start {
    /// Copy a running sibling's cache and cut it back to the prompt.
    Fork { from: i32 },
    /// Copy the cache of a prompt prefilled this round.
    AfterPrefill { from: i32 },
    /// Prefill the prompt into this sample's own sequence.
    Prefill,
}

impl Run<'_, '_> {
    fn run<E>(
        &mut self,
        on_event: &mut impl FnMut(GenerationEvent<'_>) -> Result<(), E>,
    ) -> Result<(), GenerateError<E>> {
        loop {
            self.admit(on_event)?;
            self.compact()?;
            if !self.active.is_empty() {
                self.step(on_event)?;
            } else if self.next_request >= self.requests.len() {
                return Ok(());
            }
            // Otherwise every admitted sample ended on its first token: admit more.
        }
    }

    /// Starts samples in free slots: builds their KV caches and draws their first tokens.
    fn admit<E>(
        &mut self,
        on_event: &mut impl FnMut(GenerationEvent<'_>) -> Result<(), E>,
    ) -> Result<(), GenerateError<E>> {
        let mut admitted: Vec<(ActiveSample, Start)> = Vec::new();
        while !self.free_sequences.is_empty() {
            while self
                .requests
                .get(self.next_request)
                .is_some_and(|r| self.states[self.next_request].started == r.samples.len())
            {
                self.next_request += 1;
            }
            let Some(request) = self.requests.get(self.next_request) else {
                break;
            };
            let Some(sequence) = self.free_sequences.pop_first() else {
                break;
            };
            let index = self.next_request;
            let state = &mut self.states[index];
            let spec = request.samples[state.started];
            state.started += 1;
            let start = if let Some(sibling) = self.active.iter().find(|s| s.request == index) {
                Start::Fork {
                    from: sibling.sequence,
                }
            } else if let Some((first, _)) = admitted
                .iter()
                .find(|(s, start)| s.request == index && matches!(start, Start::Prefill))
            {
                Start::AfterPrefill {
                    from: first.sequence,
                }
            } else {
                Start::Prefill
            };
            admitted.push((
                ActiveSample {
                    sequence,
                    request: index,
                    sample_index: spec.index,
                    prompt_len: request.prompt.len(),
                    rng: sample_rng(spec.seed),
                    tokens: Vec::new(),
                    text: Vec::new(),
                },
                start,
            ));
        }
        if admitted.is_empty() {
            return Ok(());
        }

        let prefills: Vec<(usize, i32)> = admitted
            .iter()
            .filter(|(_, start)| matches!(start, Start::Prefill))
            .map(|(s, _)| (s.request, s.sequence))
            .collect();
        self.prefill(&prefills)?;
        for (sample, start) in &admitted {
            match *start {
                Start::Prefill => {}
                Start::AfterPrefill { from } => self.copy_sequence(from, sample.sequence, None)?,
                Start::Fork { from } => {
                    self.copy_sequence(from, sample.sequence, Some(sample.prompt_len))?;
                }
            }
        }

        let sampling_started = Instant::now();
        let mut sampler = TokenSampler::default();
        let mut finished = Vec::new();
        let mut touched: Vec<usize> = admitted.iter().map(|(s, _)| s.request).collect();
        touched.dedup();
        for (mut sample, _) in admitted {
            let state = &self.states[sample.request];
            let Some(logits) = state.prompt_logits.as_deref() else {
                return Err(EngineError::backend(
                    "start a sample",
                    "the prompt's logits were not kept (internal error)",
                )
                .into());
            };
            let token = sampler.sample(logits, self.params, &self.banned, &mut sample.rng);
            match self.accept(&mut sample, token) {
                Some(reason) => finished.push((sample, reason)),
                None => self.active.push(sample),
            }
        }
        // Drop prompt logits nobody will need again.
        for request in touched {
            if self.states[request].started == self.requests[request].samples.len() {
                self.states[request].prompt_logits = None;
            }
        }
        self.stats.sampling_time += sampling_started.elapsed();
        for (sample, reason) in finished {
            self.finish(sample, reason, on_event)?;
        }
        Ok(())
    }

    /// Keeps the active samples in sequence order and their sequences consecutive from 0,
    /// moving the highest into the lowest free one while there is a gap (only once nothing
    /// is left to admit: until then every free sequence is taken at once).
    ///
    /// Why: over separate KV streams, llama.cpp decodes in one pass only a run of
    /// consecutive sequence ids in batch order (`split_equal` with `sequential`); every
    /// break starts another pass over all the weights. Unordered, scattered samples made a
    /// 64-sample step of GSM8K several passes (docs/benchmarks/engine.md). Moving a sample
    /// copies its stream once (milliseconds); an extra pass costs about one single-stream
    /// token at every step that follows.
    fn compact(&mut self) -> Result<(), EngineError> {
        self.active.sort_unstable_by_key(|s| s.sequence);
        while let Some(&free) = self.free_sequences.first() {
            let Some(mut moved) = self.active.pop() else {
                return Ok(());
            };
            let from = moved.sequence;
            if from < free {
                self.active.push(moved);
                return Ok(());
            }
            self.copy_sequence(from, free, None)?;
            self.ctx
                .clear_kv_cache_seq(Some(from as u32), None, None)
                .map_err(|e| EngineError::backend("free a KV cache", e))?;
            self.free_sequences.remove(&free);
            self.free_sequences.insert(from);
            moved.sequence = free;
            let at = self.active.partition_point(|s| s.sequence < free);
            self.active.insert(at, moved);
            self.stats.moved_sequences += 1;
        }
        Ok(())
    }

    /// Prefills each `(request, sequence)` prompt, in chunks of at most `batch_tokens`, and
    /// keeps the logits after its last token.
    fn prefill(&mut self, prefills: &[(usize, i32)]) -> Result<(), EngineError> {
        let started = Instant::now();
        // (request, sequence, next prompt position to feed)
        let mut pending: Vec<(usize, i32, usize)> =
            prefills.iter().map(|&(r, s)| (r, s, 0)).collect();
        while !pending.is_empty() {
            self.batch.clear();
            let mut last_rows: Vec<(usize, i32)> = Vec::new();
            let mut room = self.batch_tokens;
            for (request, sequence, fed) in pending.iter_mut() {
                let prompt = &self.requests[*request].prompt;
                let take = (prompt.len() - *fed).min(room);
                for position in *fed..*fed + take {
                    let is_last = position + 1 == prompt.len();
                    add(
                        &mut self.batch,
                        prompt[position],
                        position as i32,
                        *sequence,
                        is_last,
                    )?;
                    if is_last {
                        last_rows.push((*request, self.batch.n_tokens() - 1));
                    }
                }
                *fed += take;
                room -= take;
                if room == 0 {
                    break;
                }
            }
            self.decode("prefill the prompt")?;
            for (request, row) in last_rows {
                self.states[request].prompt_logits = Some(self.ctx.get_logits_ith(row).to_vec());
            }
            pending.retain(|&(request, _, fed)| fed < self.requests[request].prompt.len());
        }
        self.stats.prompt_tokens += prefills
            .iter()
            .map(|&(r, _)| self.requests[r].prompt.len() as u64)
            .sum::<u64>();
        self.stats.prefill_time += started.elapsed();
        Ok(())
    }

    /// Gives sequence `to` the cache of sequence `from`, cut to the first `keep` positions.
    fn copy_sequence(
        &mut self,
        from: i32,
        to: i32,
        keep: Option<usize>,
    ) -> Result<(), EngineError> {
        // Between separate KV streams llama.cpp copies whole streams only (a partial range
        // aborts the process), so copy everything and then drop the sibling's own tokens.
        self.ctx
            .copy_kv_cache_seq(from, to, None, None)
            .map_err(|e| EngineError::backend("copy a KV cache", e))?;
        if let Some(keep) = keep {
            let keep =
                u32::try_from(keep).map_err(|e| EngineError::backend("copy a KV cache", e))?;
            let removed = self
                .ctx
                .clear_kv_cache_seq(Some(to as u32), Some(keep), None)
                .map_err(|e| EngineError::backend("trim a KV cache", e))?;
            if !removed {
                return Err(EngineError::backend(
                    "trim a KV cache",
                    take_recent_problems(),
                ));
            }
        }
        Ok(())
    }

    /// Decodes one token of every active sample and draws each sample's next token.
    fn step<E>(
        &mut self,
        on_event: &mut impl FnMut(GenerationEvent<'_>) -> Result<(), E>,
    ) -> Result<(), GenerateError<E>> {
        let started = Instant::now();
        self.batch.clear();
        for sample in &self.active {
            let token = *sample.tokens.last().unwrap_or(&0);
            add(
                &mut self.batch,
                token,
                sample.last_position(),
                sample.sequence,
                true,
            )?;
        }
        self.decode("decode a step")?;
        self.stats.decode_time += started.elapsed();
        self.stats.decode_steps += 1;
        self.stats.decoded_tokens += self.active.len() as u64;
        self.stats.active_sequences = self.active.len();

        // Sampling stays on this thread. Spread over a thread pool it took 1 % less time, but
        // the pool's idle workers then spin and yield on the two cores that llama.cpp's threads
        // need for the next step: 8x the context switches, and decoding 15-20 % slower.
        let sampling_started = Instant::now();
        let mut sampler = TokenSampler::default();
        let tokens: Vec<u32> = self
            .active
            .iter_mut()
            .enumerate()
            .map(|(row, sample)| {
                let logits = self.ctx.get_logits_ith(row as i32);
                sampler.sample(logits, self.params, &self.banned, &mut sample.rng)
            })
            .collect();
        let mut still_active = Vec::with_capacity(self.active.len());
        let mut finished = Vec::new();
        for (mut sample, token) in std::mem::take(&mut self.active).into_iter().zip(tokens) {
            match self.accept(&mut sample, token) {
                Some(reason) => finished.push((sample, reason)),
                None => still_active.push(sample),
            }
        }
        self.active = still_active;
        self.stats.sampling_time += sampling_started.elapsed();
        for (sample, reason) in finished {
            self.finish(sample, reason, on_event)?;
        }
        let handler_started = Instant::now();
        on_event(GenerationEvent::Progress(&self.stats)).map_err(GenerateError::Handler)?;
        self.stats.handler_time += handler_started.elapsed();
        Ok(())
    }

    /// Appends a drawn token to a sample; returns why the sample ends, if it does.
    fn accept(&mut self, sample: &mut ActiveSample, token: u32) -> Option<FinishReason> {
        sample.tokens.push(token);
        self.stats.generated_tokens += 1;
        let special = self.model.tokenizer().special_tokens();
        if !self.params.ignore_eos && special.end_of_generation.contains(&token) {
            return Some(FinishReason::EndOfGeneration);
        }
        if self.params.stop_token_ids.contains(&token) {
            return Some(FinishReason::StopToken(token));
        }
        let old_len = sample.text.len();
        sample
            .text
            .extend_from_slice(self.model.tokenizer().token_bytes(token));
        if let Some(at) = self.stops.find(&sample.text, old_len) {
            let stop = self
                .params
                .stop
                .iter()
                .find(|s| sample.text[at..].starts_with(s.as_bytes()))
                .cloned()
                .unwrap_or_default();
            sample.text.truncate(at);
            return Some(FinishReason::StopString(stop));
        }
        (sample.tokens.len() >= self.params.max_tokens).then_some(FinishReason::Length)
    }

    /// Frees a finished sample's slot and hands the sample to the caller.
    fn finish<E>(
        &mut self,
        sample: ActiveSample,
        finish_reason: FinishReason,
        on_event: &mut impl FnMut(GenerationEvent<'_>) -> Result<(), E>,
    ) -> Result<(), GenerateError<E>> {
        self.ctx
            .clear_kv_cache_seq(Some(sample.sequence as u32), None, None)
            .map_err(|e| EngineError::backend("free a KV cache", e))?;
        self.free_sequences.insert(sample.sequence);
        self.stats.completed_samples += 1;
        let completion = Completion {
            request: sample.request,
            sample_index: sample.sample_index,
            text: String::from_utf8_lossy(&sample.text).into_owned(),
            token_ids: sample.tokens,
            finish_reason,
        };
        let started = Instant::now();
        on_event(GenerationEvent::Completed(completion)).map_err(GenerateError::Handler)?;
        self.stats.handler_time += started.elapsed();
        Ok(())
    }

    fn decode(&mut self, action: &'static str) -> Result<(), EngineError> {
        clear_recent_problems();
        self.ctx
            .decode(&mut self.batch)
            .map_err(|e| EngineError::backend(action, format!("{e}: {}", take_recent_problems())))
    }
}

fn add(
    batch: &mut LlamaBatch,
    token: u32,
    position: i32,
    sequence: i32,
    logits: bool,
) -> Result<(), EngineError> {
    batch
        .add(LlamaToken::new(token as i32), position, &[sequence], logits)
        .map_err(|e| EngineError::backend("fill a batch", e))
}
