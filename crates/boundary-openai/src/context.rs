//! The context check: before any sample is requested, each problem's prompt tokens plus
//! `max_tokens` are compared with the model's context length, so a problem that cannot fit
//! is reported up front instead of being truncated or failing sample by sample.
//!
//! Prompt tokens are counted by the server itself (a one-token request's
//! `usage.prompt_tokens`), so the count includes whatever chat template it applies. A raw
//! ASCII prompt short enough that it fits whatever the tokenizer does is not sent: counting
//! makes the server process every prompt once more before sampling starts.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::dispatch::{self, Job, RunEnd, RunError, StopSignal};
use crate::pool::{Endpoint, EndpointPool};
use crate::progress::Progress;
use boundary_sample::{PromptInput, SamplingParams};

use crate::request::{CountingEntries, RequestShape, generation_body, route_of};
use crate::retry::RetryPolicy;
use crate::sampler::Problem;
use crate::transport::RequestError;
use crate::wire::GenerationResponse;

/// A problem whose prompt and `max_tokens` do not fit the context, or whose prompt could
/// not be counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Unfit {
    pub problem_id: String,
    pub prompt_tokens: Option<u64>,
    /// Why: the arithmetic, or the server's answer.
    pub detail: String,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "problem `{}`: {}", self.problem_id, self.detail)
    }
}

/// What the check found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextReport {
    pub checked: usize,
    pub unfit: Vec<Unfit>,
    /// Largest prompt the server counted, in tokens (prompts that fit by their length alone
    /// are not counted).
    pub longest_prompt: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Counted {
    Tokens(u64),
    Error(String),
}

struct CountJob {
    model: Arc<str>,
    params: Arc<SamplingParams>,
    index: usize,
    problem: Arc<Problem>,
}

impl Job for CountJob {
    type Delivery = (usize, Counted);

    fn split(self, _endpoint: &Endpoint) -> (Self, Option<Self>) {
        (self, None)
    }

    fn request(&self, endpoint: &Endpoint) -> (&'static str, Map<String, Value>) {
        let shape = RequestShape {
            logprobs: None,
            n: 1,
            seed: None,
            token_ids: false,
            counting_entries: CountingEntries::None,
            neutral: endpoint.plan.neutral,
        };
        let body = generation_body(&self.model, &self.problem.input, &self.params, shape);
        (route_of(&self.problem.input).path(), body)
    }

    fn read(
        &self,
        response: &GenerationResponse,
        _endpoint: &Endpoint,
    ) -> Result<(Vec<(usize, Counted)>, Option<Self>), RequestError> {
        let tokens = response
            .usage
            .and_then(|u| u.prompt_tokens)
            .ok_or_else(|| RequestError::Malformed {
                detail: "the response has no usage.prompt_tokens".into(),
            })?;
        Ok((vec![(self.index, Counted::Tokens(tokens))], None))
    }

    fn fail(&self, error: &str, _attempts: u32) -> Vec<(usize, Counted)> {
        vec![(self.index, Counted::Error(error.to_owned()))]
    }

    fn account(_delivery: &(usize, Counted), progress: &Progress) {
        progress.sample_ok(None);
    }
}

/// Tokens a server may add around a raw prompt: BOS, EOS, a tokenizer's leading-space marker.
const ADDED_TOKENS_MARGIN: u64 = 8;

/// Whether a prompt fits the context whatever its tokenization. Every token of a raw ASCII
/// text stands for at least one of its characters (byte-level BPE, and SentencePiece, whose
/// normalisation leaves ASCII as it is), so the text's length bounds its token count. Other
/// text can grow under Unicode normalisation, and a chat template adds tokens not seen here:
/// those prompts are counted by the server.
fn fits_by_length(input: &PromptInput, max_tokens: u64, context_length: u64) -> bool {
    match input {
        PromptInput::Text(text) => {
            text.is_ascii()
                && text.len() as u64 + ADDED_TOKENS_MARGIN + max_tokens <= context_length
        }
        PromptInput::Chat(_) => false,
    }
}

/// Counts every prompt that does not fit by its length alone ([`fits_by_length`]) and
/// reports those for which `prompt + max_tokens > context_length`.
/// A prompt the server refuses to count (typically a 400 because it alone exceeds the
/// context) is reported with the server's message.
pub async fn check_context(
    pool: &EndpointPool,
    model: &str,
    params: &SamplingParams,
    problems: &[Arc<Problem>],
    context_length: u64,
    retry: RetryPolicy,
    stop: StopSignal,
) -> Result<Option<ContextReport>, RunError> {
    let counting_params = Arc::new(SamplingParams {
        temperature: 0.0,
        top_p: 1.0,
        top_k: None,
        min_p: None,
        max_tokens: 1,
        stop: Vec::new(),
        seed: params.seed,
        extra: params.extra.clone(),
    });
    let max_tokens = u64::from(params.max_tokens);
    let model: Arc<str> = Arc::from(model);
    let jobs: Vec<CountJob> = problems
        .iter()
        .enumerate()
        .filter(|(_, problem)| !fits_by_length(&problem.input, max_tokens, context_length))
        .map(|(index, problem)| CountJob {
            model: model.clone(),
            params: counting_params.clone(),
            index,
            problem: problem.clone(),
        })
        .collect();
    let (sender, mut receiver) = mpsc::channel(1024);
    let collector = tokio::spawn(async move {
        let mut counts = Vec::new();
        while let Some(delivery) = receiver.recv().await {
            counts.push(delivery);
        }
        counts
    });
    let end = dispatch::run(
        pool,
        jobs,
        retry,
        sender,
        Arc::new(Progress::default()),
        stop,
    )
    .await?;
    let mut counts = collector.await.unwrap_or_default();
    if end == RunEnd::Stopped {
        return Ok(None);
    }
    counts.sort_by_key(|(index, _)| *index);
    let mut report = ContextReport {
        checked: problems.len(),
        ..ContextReport::default()
    };
    for (index, counted) in counts {
        let problem_id = problems[index].id.clone();
        match counted {
            Counted::Tokens(tokens) => {
                report.longest_prompt = report.longest_prompt.max(tokens);
                if tokens + max_tokens > context_length {
                    report.unfit.push(Unfit {
                        problem_id,
                        prompt_tokens: Some(tokens),
                        detail: format!(
                            "prompt {tokens} tokens + max_tokens {max_tokens} = {} > context {context_length}",
                            tokens + max_tokens
                        ),
                    });
                }
            }
            Counted::Error(error) => report.unfit.push(Unfit {
                problem_id,
                prompt_tokens: None,
                detail: format!("the server would not count the prompt: {error}"),
            }),
        }
    }
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_sample::ChatMessage;

    #[test]
    fn short_ascii_text_fits_by_length_and_needs_no_count() {
        let text = PromptInput::Text("Question: 2 + 2?\nAnswer:".into());
        // 24 characters + 8 added tokens + 100 generated = 132.
        assert!(fits_by_length(&text, 100, 132));
        assert!(!fits_by_length(&text, 100, 131));
    }

    #[test]
    fn text_that_normalisation_may_grow_and_chat_are_always_counted() {
        // U+FDFA is 3 bytes that NFKC turns into 18 characters.
        let arabic = PromptInput::Text("\u{fdfa}".into());
        assert!(!fits_by_length(&arabic, 1, 1_000_000));
        let chat = PromptInput::Chat(vec![ChatMessage {
            role: "user".into(),
            content: "Hi".into(),
        }]);
        assert!(!fits_by_length(&chat, 1, 1_000_000));
    }
}
