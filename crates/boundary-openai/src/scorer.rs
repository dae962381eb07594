//! Log-probabilities of given text through a server, for the perplexity analysis: the
//! response's tokens given the prompt, read from `echo` + `logprobs` on `/v1/completions`
//! or from vLLM's `prompt_logprobs`, whichever the server offers.
//!
//! Two checks keep wrong numbers out. Per item, the scored tokens must line up with the
//! response text ([`crate::alignment`]). Per endpoint and kind of prompt, at start, the
//! scores must agree with what the same server reports while *generating* the same tokens:
//! llama-cpp-python 0.3.36 shifts its echo log-probabilities by one position for prompts
//! that do not start with BOS, which no per-item check can see, but this one does.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::alignment::{Misalignment, ScoredToken, response_logprobs};
use crate::dispatch::{self, Job, RunEnd, RunError, StopSignal};
use crate::endpoint::EndpointConfig;
use crate::pool::{Endpoint, EndpointPool};
use crate::progress::Progress;
use crate::retry::RetryPolicy;
use crate::transport::{RequestError, Transport};
use crate::wire::{Choice, GenerationResponse};

/// Tokens generated for the alignment self-check.
const CHECK_TOKENS: u32 = 8;
/// Largest mean difference (nats) between generation-time and scoring-time log-probabilities
/// of the same tokens. Batch numerics move them by hundredths; a shift by one position
/// moves them by several nats.
const MAX_MEAN_DIFFERENCE: f64 = 0.25;

/// How a server reports the log-probabilities of text it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoringMethod {
    /// `echo: true` + `logprobs` on `/v1/completions` (OpenAI legacy, vLLM,
    /// llama-cpp-python).
    Echo,
    /// vLLM's `prompt_logprobs`.
    PromptLogprobs,
}

impl std::fmt::Display for ScoringMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Echo => "echo + logprobs",
            Self::PromptLogprobs => "prompt_logprobs",
        })
    }
}

/// One text to score: the response's tokens given the prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreItem {
    /// Position in the input, carried through to the output.
    pub index: usize,
    pub prompt: String,
    pub response: String,
}

/// The log-probability of a response given its prompt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    pub logprob_sum: f64,
    pub num_tokens: u32,
}

impl Score {
    /// exp(-mean log-probability) of the response tokens.
    pub fn perplexity(&self) -> f64 {
        (-self.logprob_sum / f64::from(self.num_tokens.max(1))).exp()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScoreOutcome {
    Scored(Score),
    Failed { error: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScoreRecord {
    pub index: usize,
    pub outcome: ScoreOutcome,
}

/// Why an endpoint cannot score, found at start; always names the endpoint.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{url}: {problem}")]
pub struct ScoringProbeError {
    pub url: String,
    pub problem: ScoringProblem,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoringProblem {
    #[error(
        "the server offers no way to score given text: it returns no prompt log-probabilities \
         for `echo` and does not support `prompt_logprobs` (llama.cpp's llama-server ignores \
         `echo`). Score with the embedded backend (`boundary score --model FILE.gguf`) or a \
         vLLM server"
    )]
    Unsupported,
    #[error("a scoring test request failed: {0}")]
    Request(RequestError),
    #[error(
        "its {method} log-probabilities disagree with the ones it reports while generating the \
         same tokens (mean difference {difference:.2} nats over {tokens} tokens, for prompts \
         starting {prefix:?}): the scores are misaligned, refusing to use them. \
         (llama-cpp-python's server shifts echo scores by one token when the prompt does not \
         start with the BOS token; prompts in the model's chat format avoid it.)"
    )]
    Misaligned {
        method: ScoringMethod,
        difference: f64,
        tokens: usize,
        prefix: String,
    },
}

/// Finds how `endpoint` scores text, trying `echo` first, then `prompt_logprobs`.
pub async fn probe_scoring(
    transport: &Transport,
    endpoint: &EndpointConfig,
    model: &str,
) -> Result<ScoringMethod, ScoringProbeError> {
    let fail = |problem| ScoringProbeError {
        url: endpoint.url.to_string(),
        problem,
    };
    let (prompt, response) = ("The capital of France is", " Paris.");
    for method in [ScoringMethod::Echo, ScoringMethod::PromptLogprobs] {
        let body = score_body(model, method, &format!("{prompt}{response}"));
        let answer: Result<GenerationResponse, RequestError> =
            transport.post(endpoint, "completions", &body).await;
        match answer {
            Ok(answer) => {
                if read_score(&answer, method, prompt, response).is_ok() {
                    return Ok(method);
                }
            }
            // A server that rejects the field outright does not offer this method.
            Err(RequestError::Status { status, .. })
                if (400..500).contains(&status) && ![401, 403, 404].contains(&status) => {}
            Err(error) => return Err(fail(ScoringProblem::Request(error))),
        }
    }
    Err(fail(ScoringProblem::Unsupported))
}

/// Generates a few tokens greedily after `prompt` with their log-probabilities, scores the
/// same tokens with `method`, and compares. `Ok(None)` when the check cannot decide (the
/// server re-tokenized the generated text differently, or generated nothing).
pub async fn verify_alignment(
    transport: &Transport,
    endpoint: &EndpointConfig,
    model: &str,
    method: ScoringMethod,
    prompt: &str,
) -> Result<Option<f64>, ScoringProbeError> {
    let fail = |problem| ScoringProbeError {
        url: endpoint.url.to_string(),
        problem,
    };
    let generate = json!({
        "model": model, "prompt": prompt, "max_tokens": CHECK_TOKENS,
        "temperature": 0, "logprobs": 1,
    });
    let generated: GenerationResponse = transport
        .post(endpoint, "completions", &generate)
        .await
        .map_err(|e| fail(ScoringProblem::Request(e)))?;
    let Some(choice) = generated.choices.first() else {
        return Ok(None);
    };
    let (Some(text), Some(logprobs)) = (choice.generated_text(), &choice.logprobs) else {
        return Ok(None);
    };
    let sampled: Vec<(&str, Option<f64>)> = logprobs.entries();
    if text.is_empty() || sampled.iter().map(|(t, _)| *t).collect::<String>() != text {
        return Ok(None);
    }
    let scored: GenerationResponse = transport
        .post(
            endpoint,
            "completions",
            &score_body(model, method, &format!("{prompt}{text}")),
        )
        .await
        .map_err(|e| fail(ScoringProblem::Request(e)))?;
    let Ok(scores) = read_token_scores(&scored, method, prompt, text) else {
        return Ok(None);
    };
    if scores.len() != sampled.len() {
        return Ok(None);
    }
    let differences: Vec<f64> = sampled
        .iter()
        .zip(&scores)
        .filter_map(|((_, g), s)| g.map(|g| (g - s).abs()))
        .collect();
    if differences.is_empty() {
        return Ok(None);
    }
    let mean = differences.iter().sum::<f64>() / differences.len() as f64;
    if mean > MAX_MEAN_DIFFERENCE {
        return Err(fail(ScoringProblem::Misaligned {
            method,
            difference: mean,
            tokens: differences.len(),
            prefix: prompt_prefix(prompt).to_owned(),
        }));
    }
    Ok(Some(mean))
}

/// The part of a prompt that decides how servers treat it (a leading BOS or chat marker):
/// prompts sharing it are verified once.
pub fn prompt_prefix(prompt: &str) -> &str {
    match prompt.char_indices().nth(16) {
        Some((cut, _)) => &prompt[..cut],
        None => prompt,
    }
}

fn score_body(model: &str, method: ScoringMethod, text: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("prompt".into(), json!(text));
    // At least one token must be generated (vLLM rejects 0, llama-cpp-python reads 0 as
    // "no limit"); it is left out of the score.
    body.insert("max_tokens".into(), json!(1));
    body.insert("temperature".into(), json!(0));
    match method {
        ScoringMethod::Echo => {
            body.insert("echo".into(), json!(true));
            body.insert("logprobs".into(), json!(1));
        }
        ScoringMethod::PromptLogprobs => {
            body.insert("prompt_logprobs".into(), json!(0));
        }
    }
    body
}

fn read_score(
    response: &GenerationResponse,
    method: ScoringMethod,
    prompt: &str,
    text: &str,
) -> Result<Score, Misalignment> {
    let scores = read_token_scores(response, method, prompt, text)?;
    Ok(Score {
        logprob_sum: scores.iter().sum(),
        num_tokens: scores.len() as u32,
    })
}

/// Per-token log-probabilities of `response` from a scoring answer.
fn read_token_scores(
    answer: &GenerationResponse,
    method: ScoringMethod,
    prompt: &str,
    response: &str,
) -> Result<Vec<f64>, Misalignment> {
    let choice = answer.choices.first().ok_or(Misalignment::EchoMismatch)?;
    match method {
        ScoringMethod::Echo => echo_scores(choice, answer, prompt, response),
        ScoringMethod::PromptLogprobs => prompt_logprob_scores(choice, prompt, response),
    }
}

fn echo_scores(
    choice: &Choice,
    answer: &GenerationResponse,
    prompt: &str,
    response: &str,
) -> Result<Vec<f64>, Misalignment> {
    let full_len = prompt.len() + response.len();
    let text = choice.generated_text().ok_or(Misalignment::EchoMismatch)?;
    let echoed_ok = text.len() >= full_len
        && text.is_char_boundary(prompt.len())
        && text.is_char_boundary(full_len)
        && text[..prompt.len()] == *prompt
        && text[prompt.len()..full_len] == *response;
    if !echoed_ok {
        return Err(Misalignment::EchoMismatch);
    }
    let generated = &text[full_len..];
    let entries = choice
        .logprobs
        .as_ref()
        .ok_or(Misalignment::EchoMismatch)?
        .entries();
    let tokens: Vec<ScoredToken> = entries
        .iter()
        .map(|&(text, logprob)| ScoredToken { text, logprob })
        .collect();
    // Servers differ on whether the generated token is listed after the echoed ones:
    // drop it when the tail of the list spells the generated text, else take the list as
    // it is. A wrong guess cannot align, because the response must end the token list.
    let generated_count = answer
        .usage
        .and_then(|u| u.completion_tokens)
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(1)
        .min(tokens.len());
    let tail: String = tokens[tokens.len() - generated_count..]
        .iter()
        .map(|t| t.text)
        .collect();
    let with_generated_dropped = (generated_count > 0 && tail == generated)
        .then(|| response_logprobs(&tokens[..tokens.len() - generated_count], prompt, response));
    match with_generated_dropped {
        Some(Ok(scores)) => Ok(scores),
        Some(Err(first)) => response_logprobs(&tokens, prompt, response).map_err(|_| first),
        None => response_logprobs(&tokens, prompt, response),
    }
}

fn prompt_logprob_scores(
    choice: &Choice,
    prompt: &str,
    response: &str,
) -> Result<Vec<f64>, Misalignment> {
    let positions = choice
        .prompt_logprobs
        .as_ref()
        .ok_or(Misalignment::EchoMismatch)?;
    // With `prompt_logprobs: 0` each position lists only the prompt token itself.
    let tokens: Vec<ScoredToken> = positions
        .iter()
        .map(|position| match position {
            None => Ok(ScoredToken {
                text: "",
                logprob: None,
            }),
            Some(alternatives) if alternatives.len() == 1 => {
                let entry = alternatives
                    .values()
                    .next()
                    .ok_or(Misalignment::EchoMismatch)?;
                Ok(ScoredToken {
                    text: entry.decoded_token.as_deref().unwrap_or(""),
                    logprob: Some(entry.logprob),
                })
            }
            Some(_) => Err(Misalignment::Ambiguous),
        })
        .collect::<Result<_, _>>()?;
    response_logprobs(&tokens, prompt, response)
}

/// Settings of a scoring run.
#[derive(Clone, Debug)]
pub struct ScorerConfig {
    pub model: String,
    pub retry: RetryPolicy,
    /// The method each endpoint uses, keyed by its base URL as displayed.
    pub methods: HashMap<String, ScoringMethod>,
}

struct ScoreJob {
    config: Arc<ScorerConfig>,
    item: ScoreItem,
}

impl Job for ScoreJob {
    type Delivery = ScoreRecord;

    fn split(self, _endpoint: &Endpoint) -> (Self, Option<Self>) {
        (self, None)
    }

    fn request(&self, endpoint: &Endpoint) -> (&'static str, Map<String, Value>) {
        let method = self.method(endpoint);
        let text = format!("{}{}", self.item.prompt, self.item.response);
        ("completions", score_body(&self.config.model, method, &text))
    }

    fn read(
        &self,
        response: &GenerationResponse,
        endpoint: &Endpoint,
    ) -> Result<(Vec<ScoreRecord>, Option<Self>), RequestError> {
        // A misaligned answer is a property of the text and the server, not a transient
        // fault: it is recorded as this item's failure, not retried.
        let outcome = match read_score(
            response,
            self.method(endpoint),
            &self.item.prompt,
            &self.item.response,
        ) {
            Ok(score) => ScoreOutcome::Scored(score),
            Err(why) => ScoreOutcome::Failed {
                error: format!("{}: {why}", endpoint.config.url),
            },
        };
        Ok((
            vec![ScoreRecord {
                index: self.item.index,
                outcome,
            }],
            None,
        ))
    }

    fn fail(&self, error: &str, _attempts: u32) -> Vec<ScoreRecord> {
        vec![ScoreRecord {
            index: self.item.index,
            outcome: ScoreOutcome::Failed {
                error: error.to_owned(),
            },
        }]
    }

    fn account(record: &ScoreRecord, progress: &Progress) {
        match &record.outcome {
            ScoreOutcome::Scored(score) => progress.sample_ok(Some(score.num_tokens)),
            ScoreOutcome::Failed { .. } => progress.samples_failed(1),
        }
    }
}

impl ScoreJob {
    fn method(&self, endpoint: &Endpoint) -> ScoringMethod {
        self.config
            .methods
            .get(&endpoint.config.url.to_string())
            .copied()
            .unwrap_or(ScoringMethod::Echo)
    }
}

/// Scores every item and hands each result to `sink` as it arrives.
pub async fn score(
    pool: &EndpointPool,
    config: ScorerConfig,
    items: Vec<ScoreItem>,
    sink: mpsc::Sender<ScoreRecord>,
    progress: Arc<Progress>,
    stop: StopSignal,
) -> Result<RunEnd, RunError> {
    let retry = config.retry.clone();
    let config = Arc::new(config);
    let jobs = items
        .into_iter()
        .map(|item| ScoreJob {
            config: config.clone(),
            item,
        })
        .collect();
    dispatch::run(pool, jobs, retry, sink, progress, stop).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> GenerationResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn echo_with_the_generated_token_listed() {
        // llama-cpp-python, prompt starting with BOS (dropped from the list).
        let a = answer(
            r#"{"choices": [{"index": 0, "text": "<s>Q: 1+1?\nA: 2\n",
                 "logprobs": {"tokens": ["Q", ":", " 1", "+", "1", "?", "\n", "A", ":", " 2", "\n"],
                   "token_logprobs": [null, -1, -2, -3, -4, -5, -6, -7, -8, -0.5, -0.25],
                   "text_offset": [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 12]}}],
                 "usage": {"prompt_tokens": 11, "completion_tokens": 1}}"#,
        );
        let score = read_score(&a, ScoringMethod::Echo, "<s>Q: 1+1?\nA:", " 2").unwrap();
        assert_eq!(
            score,
            Score {
                logprob_sum: -0.5,
                num_tokens: 1
            }
        );
    }

    #[test]
    fn echo_without_the_generated_token_listed() {
        // llama-cpp-python, plain prompt: the generated "\n" is in the text, not the list.
        let a = answer(
            r#"{"choices": [{"index": 0, "text": "The capital of France is Paris.\n",
                 "logprobs": {"tokens": ["The", " capital", " of", " France", " is", " Paris", "."],
                   "token_logprobs": [null, -9.6, -10.5, -11.2, -11.8, -8.5, -18.2]}}],
                 "usage": {"prompt_tokens": 7, "completion_tokens": 1}}"#,
        );
        let score = read_score(
            &a,
            ScoringMethod::Echo,
            "The capital of France is",
            " Paris.",
        )
        .unwrap();
        assert_eq!(score.num_tokens, 2);
        assert!((score.logprob_sum - (-26.7)).abs() < 1e-9);
    }

    #[test]
    fn a_server_that_ignores_echo_is_caught() {
        // llama.cpp's llama-server: only the generated text comes back.
        let a = answer(
            r#"{"choices": [{"index": 0, "text": "\n",
                 "logprobs": {"content": [{"token": "\n", "logprob": -1.0}]}}]}"#,
        );
        let err = read_score(
            &a,
            ScoringMethod::Echo,
            "The capital of France is",
            " Paris.",
        )
        .unwrap_err();
        assert_eq!(err, Misalignment::EchoMismatch);
    }

    #[test]
    fn vllm_prompt_logprobs() {
        // Shape documented by vLLM: one dict per prompt position (none for the first),
        // keyed by token id, with `prompt_logprobs: 0` holding only the prompt token.
        let a = answer(
            r#"{"choices": [{"index": 0, "text": "\n", "prompt_logprobs": [null,
                 {"6864": {"logprob": -9.6, "rank": 812, "decoded_token": " capital"}},
                 {"315": {"logprob": -0.4, "rank": 1, "decoded_token": " of"}},
                 {"9625": {"logprob": -1.2, "rank": 3, "decoded_token": " France"}},
                 {"374": {"logprob": -0.5, "rank": 1, "decoded_token": " is"}},
                 {"12095": {"logprob": -0.3, "rank": 1, "decoded_token": " Paris"}},
                 {"13": {"logprob": -0.7, "rank": 1, "decoded_token": "."}}]}]}"#,
        );
        let score = read_score(
            &a,
            ScoringMethod::PromptLogprobs,
            "The capital of France is",
            " Paris.",
        )
        .unwrap();
        assert_eq!(score.num_tokens, 2);
        assert!((score.logprob_sum - (-1.0)).abs() < 1e-12);
        assert!((score.perplexity() - 0.5f64.exp()).abs() < 1e-12);
    }

    #[test]
    fn probe_errors_read_well() {
        let err = ScoringProbeError {
            url: "http://127.0.0.1:8080/v1".into(),
            problem: ScoringProblem::Misaligned {
                method: ScoringMethod::Echo,
                difference: 7.345,
                tokens: 8,
                prefix: "1, 2, 3,".into(),
            },
        };
        insta::assert_snapshot!(err.to_string(), @r#"http://127.0.0.1:8080/v1: its echo + logprobs log-probabilities disagree with the ones it reports while generating the same tokens (mean difference 7.34 nats over 8 tokens, for prompts starting "1, 2, 3,"): the scores are misaligned, refusing to use them. (llama-cpp-python's server shifts echo scores by one token when the prompt does not start with the BOS token; prompts in the model's chat format avoid it.)"#);
    }
}
