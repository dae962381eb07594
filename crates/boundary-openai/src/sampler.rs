//! Sampling `n` completions per problem: requests of up to a chunk of samples each (only
//! consecutive sample indices, so seeds line up), choices mapped back to their sample
//! indices, tokens counted per choice, and whatever a server did not return asked for again.
//!
//! Exactly-once is the caller's store's job (writes keyed by problem and sample index); this
//! module guarantees that each missing index is handed to the sink at most once per run.

use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::capabilities::{RequestPlan, TokenCounting};
use crate::dispatch::{self, Job, RunEnd, RunError, StopSignal};
use crate::pool::{Endpoint, EndpointPool};
use crate::progress::Progress;
use boundary_sample::{PromptInput, SamplingParams, WorkItem};

use crate::request::{generation_body, route_of};
use crate::retry::RetryPolicy;
use crate::seed::SeedPolicy;
use crate::transport::RequestError;
use crate::wire::{Choice, GenerationResponse};

/// One problem to sample: an id unique within the run, and its prompt. Shared by every
/// request and record of the problem.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub id: String,
    pub input: PromptInput,
}

/// Settings of a sampling run.
#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub model: String,
    pub params: SamplingParams,
    /// Top log-probabilities per generated token to ask for (their sum is reported).
    pub logprobs: Option<u32>,
    /// Most samples asked for in one request (`n`); large `n` is split into such chunks.
    pub chunk_size: u32,
    pub seeds: SeedPolicy,
    pub retry: RetryPolicy,
}

/// A generated sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    /// Generated tokens of this choice, when the server made them knowable (never guessed).
    pub num_tokens: Option<u32>,
    /// Sum of the sampled tokens' log-probabilities, when the server returned them.
    pub logprob_sum: Option<f64>,
    /// The endpoint that produced it.
    pub endpoint: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SampleOutcome {
    Completed(Completion),
    /// The retry budget was spent or the server rejected the request; `error` says why.
    Failed {
        error: String,
        attempts: u32,
    },
}

/// What the sink receives, one per sample index.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleRecord {
    pub problem: Arc<Problem>,
    pub sample_index: u32,
    pub outcome: SampleOutcome,
}

/// Samples still to be requested for one problem.
#[derive(Clone, Debug)]
struct Chunk {
    config: Arc<SamplerConfig>,
    problem: Arc<Problem>,
    indices: Vec<u32>,
}

impl Job for Chunk {
    type Delivery = SampleRecord;

    /// The longest run of consecutive indices at the front, at most the endpoint's `n`:
    /// consecutive, because a request's `k` choices take the seeds `seed..seed+k`.
    fn split(mut self, endpoint: &Endpoint) -> (Self, Option<Self>) {
        let max = endpoint.plan.max_n.min(self.config.chunk_size).max(1) as usize;
        let mut len = 1;
        while len < self.indices.len()
            && len < max
            && self.indices[len] == self.indices[len - 1] + 1
        {
            len += 1;
        }
        if len == self.indices.len() {
            return (self, None);
        }
        let rest = Chunk {
            config: self.config.clone(),
            problem: self.problem.clone(),
            indices: self.indices.split_off(len),
        };
        (self, Some(rest))
    }

    fn request(&self, endpoint: &Endpoint) -> (&'static str, Map<String, Value>) {
        let n = self.indices.len() as u32;
        let seed = self
            .config
            .seeds
            .request_seed(&self.problem.id, u64::from(self.indices[0]));
        let body = generation_body(
            &self.config.model,
            &self.problem.input,
            &self.config.params,
            endpoint.plan.shape(n, seed, self.config.logprobs),
        );
        (route_of(&self.problem.input).path(), body)
    }

    fn read(
        &self,
        response: &GenerationResponse,
        endpoint: &Endpoint,
    ) -> Result<(Vec<SampleRecord>, Option<Self>), RequestError> {
        let n = self.indices.len() as u32;
        let url = endpoint.config.url.to_string();
        let choices = read_choices(response, n, endpoint.plan, &url)?;
        let mut returned = vec![false; self.indices.len()];
        let records = choices
            .into_iter()
            .map(|(offset, completion)| {
                returned[offset] = true;
                SampleRecord {
                    problem: self.problem.clone(),
                    sample_index: self.indices[offset],
                    outcome: SampleOutcome::Completed(completion),
                }
            })
            .collect();
        let missing: Vec<u32> = self
            .indices
            .iter()
            .zip(&returned)
            .filter(|(_, returned)| !**returned)
            .map(|(index, _)| *index)
            .collect();
        let rest = (!missing.is_empty()).then(|| Chunk {
            config: self.config.clone(),
            problem: self.problem.clone(),
            indices: missing,
        });
        Ok((records, rest))
    }

    fn fail(&self, error: &str, attempts: u32) -> Vec<SampleRecord> {
        self.indices
            .iter()
            .map(|&index| SampleRecord {
                problem: self.problem.clone(),
                sample_index: index,
                outcome: SampleOutcome::Failed {
                    error: error.to_owned(),
                    attempts,
                },
            })
            .collect()
    }

    fn account(record: &SampleRecord, progress: &Progress) {
        match &record.outcome {
            SampleOutcome::Completed(completion) => progress.sample_ok(completion.num_tokens),
            SampleOutcome::Failed { .. } => progress.samples_failed(1),
        }
    }
}

/// Requests every missing sample of `work` (indices ascending, as the resume plan lists
/// them) and hands each to `sink` as it arrives: each missing index is delivered at most
/// once per run, completed or failed, and nothing is delivered after
/// [`StopSignal::abort`].
pub async fn sample(
    pool: &EndpointPool,
    config: SamplerConfig,
    work: Vec<WorkItem>,
    sink: mpsc::Sender<SampleRecord>,
    progress: Arc<Progress>,
    stop: StopSignal,
) -> Result<RunEnd, RunError> {
    let retry = config.retry.clone();
    let config = Arc::new(config);
    let jobs = work
        .into_iter()
        .filter(|w| !w.indices.is_empty())
        .map(|w| Chunk {
            config: config.clone(),
            problem: Arc::new(Problem {
                id: w.problem,
                input: w.input,
            }),
            indices: w.indices,
        })
        .collect();
    dispatch::run(pool, jobs, retry, sink, progress, stop).await
}

/// The usable choices of a response, each with its offset in the request (`0..n`).
///
/// A choice outside `0..n`, a repeated index or a choice without text makes the whole
/// response malformed (retried): its numbering cannot be trusted. A choice the server
/// aborted is left out, to be asked for again.
fn read_choices(
    response: &GenerationResponse,
    n: u32,
    plan: RequestPlan,
    endpoint: &str,
) -> Result<Vec<(usize, Completion)>, RequestError> {
    let mut seen = vec![false; n as usize];
    let mut completions = Vec::with_capacity(response.choices.len());
    for (position, choice) in response.choices.iter().enumerate() {
        let offset = choice.index.map_or(position, |i| i as usize);
        if offset >= n as usize {
            return Err(RequestError::Malformed {
                detail: format!("choice index {offset} in an answer to n={n}"),
            });
        }
        if std::mem::replace(&mut seen[offset], true) {
            return Err(RequestError::Malformed {
                detail: format!("choice index {offset} appears twice"),
            });
        }
        let Some(text) = choice.generated_text() else {
            return Err(RequestError::Malformed {
                detail: format!("choice {offset} has neither `text` nor `message`"),
            });
        };
        if matches!(choice.finish_reason.as_deref(), Some("abort" | "error")) {
            continue;
        }
        let single_choice_usage = (response.choices.len() == 1 && n == 1)
            .then(|| response.usage.and_then(|u| u.completion_tokens))
            .flatten();
        completions.push((
            offset,
            Completion {
                text: text.to_owned(),
                finish_reason: choice.finish_reason.clone(),
                num_tokens: count_tokens(choice, plan.counting, single_choice_usage),
                logprob_sum: logprob_sum(choice),
                endpoint: endpoint.to_owned(),
            },
        ));
    }
    Ok(completions)
}

fn count_tokens(
    choice: &Choice,
    counting: TokenCounting,
    single_usage: Option<u64>,
) -> Option<u32> {
    let count = match counting {
        TokenCounting::TokenIds => choice.token_ids.as_ref().map(Vec::len),
        TokenCounting::Logprobs | TokenCounting::PostSamplingProbs => {
            choice.logprobs.as_ref().map(|l| l.len())
        }
        TokenCounting::SingleChoiceUsage => None,
    };
    count
        .map(|c| c as u64)
        .or(single_usage)
        .and_then(|c| u32::try_from(c).ok())
}

/// The model's log-probability of the choice; none when any token lacks one (post-sampling
/// probabilities are not the model's).
fn logprob_sum(choice: &Choice) -> Option<f64> {
    let entries = choice.logprobs.as_ref()?.entries();
    if entries.is_empty() {
        return None;
    }
    entries.iter().map(|(_, lp)| *lp).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::NeutralDefaults;

    fn chunk(indices: Vec<u32>, chunk_size: u32) -> Chunk {
        Chunk {
            config: Arc::new(SamplerConfig {
                model: "m".into(),
                params: SamplingParams {
                    temperature: 1.0,
                    top_p: 1.0,
                    top_k: None,
                    min_p: None,
                    max_tokens: 8,
                    stop: vec![],
                    seed: 0,
                    extra: Map::new(),
                },
                logprobs: None,
                chunk_size,
                seeds: SeedPolicy::Unseeded,
                retry: RetryPolicy::default(),
            }),
            problem: Arc::new(Problem {
                id: "p".into(),
                input: PromptInput::Text("x".into()),
            }),
            indices,
        }
    }

    fn endpoint(max_n: u32) -> Endpoint {
        let capabilities = crate::capabilities::Capabilities::assumed();
        Endpoint {
            config: crate::endpoint::EndpointConfig::parse("http://127.0.0.1:9/v1", 4).unwrap(),
            plan: RequestPlan {
                max_n,
                ..capabilities.request_plan(16)
            },
            capabilities,
        }
    }

    #[test]
    fn chunks_are_consecutive_and_bounded() {
        let (first, rest) = chunk(vec![0, 1, 2, 3, 4], 2).split(&endpoint(16));
        assert_eq!(first.indices, vec![0, 1]);
        assert_eq!(rest.unwrap().indices, vec![2, 3, 4]);

        let (first, rest) = chunk(vec![3, 7, 8, 9, 20], 16).split(&endpoint(16));
        assert_eq!(first.indices, vec![3]);
        let (second, rest) = rest.unwrap().split(&endpoint(16));
        assert_eq!(second.indices, vec![7, 8, 9]);
        assert_eq!(rest.unwrap().indices, vec![20]);

        // The endpoint's own limit (1 for servers that ignore n) wins over the chunk size.
        let (first, rest) = chunk(vec![5, 6], 16).split(&endpoint(1));
        assert_eq!(first.indices, vec![5]);
        assert_eq!(rest.unwrap().indices, vec![6]);
    }

    fn response(json: &str) -> GenerationResponse {
        serde_json::from_str(json).unwrap()
    }

    const LOGPROBS_PLAN: RequestPlan = RequestPlan {
        counting: TokenCounting::Logprobs,
        max_n: 16,
        neutral: NeutralDefaults::Unknown,
    };

    #[test]
    fn choices_map_to_their_offsets_and_count_their_own_tokens() {
        let r = response(
            r#"{"choices": [
              {"index": 2, "text": "c", "finish_reason": "stop",
               "logprobs": {"content": [{"token": "c", "logprob": -0.5}, {"token": "!", "logprob": -0.25}]}},
              {"index": 0, "text": "a", "finish_reason": "length",
               "logprobs": {"content": [{"token": "a", "logprob": -1.0}]}}],
             "usage": {"completion_tokens": 1}}"#,
        );
        let choices = read_choices(&r, 3, LOGPROBS_PLAN, "http://e/v1").unwrap();
        let offsets: Vec<_> = choices.iter().map(|(o, _)| *o).collect();
        assert_eq!(offsets, vec![2, 0]);
        assert_eq!(choices[0].1.num_tokens, Some(2), "not usage's 1");
        assert_eq!(choices[0].1.logprob_sum, Some(-0.75));
        assert_eq!(choices[1].1.finish_reason.as_deref(), Some("length"));
    }

    #[test]
    fn post_sampling_probabilities_count_tokens_but_are_no_logprob_sum() {
        let plan = RequestPlan {
            counting: TokenCounting::PostSamplingProbs,
            ..LOGPROBS_PLAN
        };
        let r = response(
            r#"{"choices": [{"index": 0, "text": "ab", "finish_reason": "stop",
               "logprobs": {"content": [{"id": 1, "token": "a", "prob": 0.5, "top_probs": []},
                                        {"id": 2, "token": "b", "prob": 1.0, "top_probs": []}]}}],
             "usage": {"completion_tokens": 2}}"#,
        );
        let choices = read_choices(&r, 2, plan, "e").unwrap();
        assert_eq!(choices[0].1.num_tokens, Some(2));
        assert_eq!(choices[0].1.logprob_sum, None);
    }

    #[test]
    fn usage_counts_only_single_choice_answers() {
        let plan = RequestPlan {
            counting: TokenCounting::SingleChoiceUsage,
            max_n: 1,
            neutral: NeutralDefaults::Unknown,
        };
        let one = response(
            r#"{"choices": [{"index": 0, "text": "a b"}], "usage": {"completion_tokens": 7}}"#,
        );
        assert_eq!(
            read_choices(&one, 1, plan, "e").unwrap()[0].1.num_tokens,
            Some(7)
        );
        // A server that honoured n=2 although asked for 1 choice per request... cannot
        // happen, but if usage covers two choices it must not be attributed to one.
        let two = response(
            r#"{"choices": [{"index": 0, "text": "a"}, {"index": 1, "text": "b"}], "usage": {"completion_tokens": 7}}"#,
        );
        let choices = read_choices(&two, 2, plan, "e").unwrap();
        assert!(choices.iter().all(|(_, c)| c.num_tokens.is_none()));
    }

    #[test]
    fn untrustworthy_numbering_is_malformed() {
        for (json, expected) in [
            (r#"{"choices": [{"index": 3, "text": "x"}]}"#, "index 3"),
            (
                r#"{"choices": [{"index": 0, "text": "x"}, {"index": 0, "text": "y"}]}"#,
                "twice",
            ),
            (r#"{"choices": [{"index": 0}]}"#, "neither"),
        ] {
            let err = read_choices(&response(json), 2, LOGPROBS_PLAN, "e").unwrap_err();
            assert!(err.to_string().contains(expected), "{json}: {err}");
        }
        let aborted = response(
            r#"{"choices": [{"index": 0, "text": "", "finish_reason": "abort"}, {"index": 1, "text": "ok"}]}"#,
        );
        let choices = read_choices(&aborted, 2, LOGPROBS_PLAN, "e").unwrap();
        assert_eq!(choices.len(), 1);
        assert_eq!(choices[0].0, 1);
    }
}
