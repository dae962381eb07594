//! What one endpoint really does, found out once at start: which models it serves, its
//! context length, whether it honours `n`, and how tokens can be counted per choice.
//!
//! Servers differ (see `docs/benchmarks/openai.md`): llama-cpp-python ignores `n`, llama.cpp's
//! server reports `usage` for one choice only, vLLM sums `usage` over choices and returns
//! `token_ids` on request. Boundary asks instead of assuming, and a misconfigured endpoint
//! (wrong URL, wrong model, not an OpenAI API) is reported within seconds, by name.

use std::fmt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::endpoint::EndpointConfig;
use boundary_sample::{PromptInput, SamplingParams};

use crate::request::{
    CountingEntries, NeutralDefaults, RequestShape, Route, generation_body, route_of,
};
use crate::transport::{Disposition, RequestError, Transport};
use crate::wire::{GenerationResponse, Logprobs, ModelList};

/// Time allowed for `GET /models`: a live server answers at once.
pub const MODELS_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time allowed for the one-token test generation (a busy server may queue it
/// briefly); shorter when the run's request timeout is shorter.
pub const TEST_GENERATION_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries of the test generation when it fails in a way that may pass.
const TRANSIENT_ATTEMPTS: u32 = 5;
/// How long a server that answers 503 (llama.cpp's server while it loads the model) is
/// waited for.
pub const LOADING_WAIT: Duration = Duration::from_secs(120);

/// The software behind an endpoint, as far as `/v1/models` gives it away. Behaviour is
/// decided by what the probe observed, with one exception: the sampling defaults a server
/// applies to fields a request leaves out cannot be seen in its answers, so they are known
/// by name ([`ServerKind::neutral_defaults`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerKind {
    Vllm,
    Sglang,
    LlamaCppServer,
    LlamaCppPython,
    Other(String),
}

impl ServerKind {
    fn from_owned_by(owned_by: Option<&str>) -> Self {
        match owned_by {
            Some("vllm") => Self::Vllm,
            Some("sglang") => Self::Sglang,
            Some("llamacpp") => Self::LlamaCppServer,
            // llama-cpp-python's server hard-codes this owner.
            Some("me") => Self::LlamaCppPython,
            Some(other) => Self::Other(other.to_owned()),
            None => Self::Other("unknown".to_owned()),
        }
    }

    /// What this server would add to sampling fields a request leaves unset.
    pub fn neutral_defaults(&self) -> NeutralDefaults {
        match self {
            Self::Vllm | Self::Sglang => NeutralDefaults::GenerationConfig,
            Self::LlamaCppServer | Self::LlamaCppPython => NeutralDefaults::LlamaCpp,
            Self::Other(_) => NeutralDefaults::Unknown,
        }
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Vllm => f.write_str("vLLM"),
            Self::Sglang => f.write_str("SGLang"),
            Self::LlamaCppServer => f.write_str("llama.cpp server"),
            Self::LlamaCppPython => f.write_str("llama-cpp-python server"),
            Self::Other(owner) => write!(f, "server owned by `{owner}`"),
        }
    }
}

/// A context length and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextLength {
    pub tokens: u64,
    pub source: String,
}

/// How the number of generated tokens of each choice is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenCounting {
    /// The server returns the generated token ids per choice (`return_token_ids`, vLLM).
    TokenIds,
    /// Per-token log-probabilities are returned per choice; their length is the count.
    Logprobs,
    /// llama.cpp's server's post-sampling probabilities (`post_sampling_probs`), one per
    /// token like log-probabilities but cheaper for the server. They are not the model's
    /// log-probabilities, so such samples store no log-probability sum.
    PostSamplingProbs,
    /// `usage.completion_tokens` of a request that asked for one choice.
    SingleChoiceUsage,
}

/// Everything the probe learnt about one endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Capabilities {
    pub server: ServerKind,
    pub models: Vec<String>,
    pub context_length: Option<ContextLength>,
    /// The largest `n` one request was seen to honour (1: the server ignores `n`).
    pub max_n: u32,
    /// The server returned `token_ids` per choice when asked.
    pub token_ids: bool,
    /// The server returned per-token log-probabilities when asked.
    pub logprobs: bool,
    /// The server returned one post-sampling probability per token when asked.
    pub post_sampling_probs: bool,
    /// `usage.completion_tokens` of the 2-choice test divided by the tokens really
    /// generated: 1.0 means usage sums over choices, 0.5 that it counts one choice.
    pub usage_coverage: Option<f64>,
}

impl Capabilities {
    pub fn honours_n(&self) -> bool {
        self.max_n >= 2
    }

    /// How tokens per choice will be counted, and the largest `n` one request may ask for.
    ///
    /// Counts are never guessed: when a server that honours `n` can report per-choice
    /// counts neither through token ids nor log-probabilities, requests ask for one choice
    /// each and read `usage`, which is exact for a single choice.
    pub fn request_plan(&self, chunk_size: u32) -> RequestPlan {
        let (counting, max_n) = if self.token_ids {
            (TokenCounting::TokenIds, self.max_n)
        } else if !self.honours_n() {
            (TokenCounting::SingleChoiceUsage, 1)
        } else if self.post_sampling_probs {
            (TokenCounting::PostSamplingProbs, self.max_n)
        } else if self.logprobs {
            (TokenCounting::Logprobs, self.max_n)
        } else {
            (TokenCounting::SingleChoiceUsage, 1)
        };
        RequestPlan {
            counting,
            max_n: max_n.min(chunk_size).max(1),
            neutral: self.server.neutral_defaults(),
        }
    }

    /// What is assumed of an endpoint before anything was observed (unit tests only).
    #[cfg(test)]
    pub fn assumed() -> Self {
        Self {
            server: ServerKind::Other("test".into()),
            models: vec!["test".into()],
            context_length: None,
            max_n: 16,
            token_ids: false,
            logprobs: true,
            post_sampling_probs: false,
            usage_coverage: Some(1.0),
        }
    }
}

/// Per-endpoint request settings derived from its capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestPlan {
    pub counting: TokenCounting,
    pub max_n: u32,
    pub neutral: NeutralDefaults,
}

impl RequestPlan {
    pub fn shape(self, n: u32, seed: Option<u64>, logprobs: Option<u32>) -> RequestShape {
        RequestShape {
            logprobs,
            n,
            seed,
            token_ids: self.counting == TokenCounting::TokenIds,
            counting_entries: match self.counting {
                TokenCounting::Logprobs => CountingEntries::Logprobs,
                TokenCounting::PostSamplingProbs => CountingEntries::PostSamplingProbs,
                TokenCounting::TokenIds | TokenCounting::SingleChoiceUsage => CountingEntries::None,
            },
            neutral: self.neutral,
        }
    }
}

/// A one-line summary, printed at start for every endpoint.
pub struct CapabilityReport<'a> {
    pub url: &'a str,
    pub capabilities: &'a Capabilities,
    pub plan: RequestPlan,
}

impl fmt::Display for CapabilityReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.capabilities;
        write!(f, "{}: {}", self.url, c.server)?;
        match &c.context_length {
            Some(ctx) => write!(f, ", context {} tokens ({})", ctx.tokens, ctx.source)?,
            None => write!(f, ", context length not reported")?,
        }
        if c.honours_n() {
            write!(f, ", honours n up to at least {}", c.max_n)?;
        } else {
            write!(f, ", ignores n (1 choice for n=2)")?;
        }
        match c.usage_coverage {
            Some(r) if (r - 1.0).abs() < 1e-9 => write!(f, ", usage sums choices")?,
            Some(r) => write!(f, ", usage covers {:.0}% of the tokens", r * 100.0)?,
            None => {}
        }
        let counting = match self.plan.counting {
            TokenCounting::TokenIds => "token_ids",
            TokenCounting::Logprobs => "log-probabilities",
            TokenCounting::PostSamplingProbs => "post-sampling probabilities",
            TokenCounting::SingleChoiceUsage => "usage of one-choice requests",
        };
        write!(
            f,
            "; tokens per choice from {counting}, up to {} choices per request",
            self.plan.max_n
        )?;
        let switched_off: Vec<&str> = self
            .plan
            .neutral
            .fields()
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        if !switched_off.is_empty() {
            write!(
                f,
                "; sampling fields the run leaves unset are sent switched off ({})",
                switched_off.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Why an endpoint cannot be used; always names the endpoint.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{url}: {problem}")]
pub struct ProbeError {
    pub url: String,
    pub problem: ProbeProblem,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeProblem {
    #[error("cannot connect ({detail}); is the server running and is the URL right?")]
    Unreachable { detail: String },
    #[error("{route} did not answer within {} s", timeout.as_secs())]
    Timeout { route: String, timeout: Duration },
    #[error("not an OpenAI-compatible API: {detail}{hint}")]
    NotOpenAi { detail: String, hint: String },
    #[error(
        "the server refused the credentials (HTTP {status}); set the API key with \
         --api-key-env VAR or --api-key-file PATH"
    )]
    Unauthorized { status: u16 },
    #[error("does not serve the model `{model}`; it serves: {}", served.join(", "))]
    ModelNotServed { model: String, served: Vec<String> },
    #[error("is still loading after {} s (HTTP 503: {detail})", waited.as_secs())]
    Loading { detail: String, waited: Duration },
    #[error("a one-token test request to {route} failed: {error}")]
    TestRequest { route: String, error: RequestError },
}

/// What to probe an endpoint with: the run's model, a prompt of the run (it decides the
/// route) and its settings, so that a server that rejects them (an unknown `--extra-body`
/// field, a bad stop list) fails here, before any sample is requested.
#[derive(Clone, Copy, Debug)]
pub struct ProbeSettings<'a> {
    pub model: &'a str,
    pub prompt: &'a PromptInput,
    pub params: &'a SamplingParams,
    /// The run's request timeout (the probe uses at most [`TEST_GENERATION_TIMEOUT`]).
    pub timeout: Duration,
    /// The largest `n` the run would ask for in one request.
    pub wanted_n: u32,
}

/// Asks an endpoint what it does.
pub async fn probe(
    transport: &Transport,
    endpoint: &EndpointConfig,
    settings: ProbeSettings<'_>,
) -> Result<Capabilities, ProbeError> {
    let fail = |problem| ProbeError {
        url: endpoint.url.to_string(),
        problem,
    };
    let models = list_models(transport, endpoint).await.map_err(fail)?;
    let card = models.data.iter().find(|card| card.id == settings.model);
    let Some(card) = card else {
        return Err(fail(ProbeProblem::ModelNotServed {
            model: settings.model.to_owned(),
            served: models.data.iter().map(|c| format!("`{}`", c.id)).collect(),
        }));
    };
    let context_length = card.context_length().map(|(tokens, field)| ContextLength {
        tokens,
        source: format!("/models {field}"),
    });
    let server = ServerKind::from_owned_by(card.owned_by.as_deref());
    let tester = Tester {
        transport,
        endpoint,
        settings,
        timeout: settings.timeout.min(TEST_GENERATION_TIMEOUT),
        neutral: server.neutral_defaults(),
        // A field of llama.cpp's own: other servers may refuse fields they do not know.
        offer_post_sampling_probs: server == ServerKind::LlamaCppServer,
    };
    let (observed, shape) = tester.test_generation().await.map_err(fail)?;
    let max_n = if observed.honours_n() && settings.wanted_n > 2 {
        tester.largest_n(shape).await.map_err(fail)?
    } else {
        observed.max_n
    };
    Ok(Capabilities {
        server,
        models: models.data.iter().map(|c| c.id.clone()).collect(),
        context_length,
        max_n,
        ..observed
    })
}

async fn list_models(
    transport: &Transport,
    endpoint: &EndpointConfig,
) -> Result<ModelList, ProbeProblem> {
    let hint = if endpoint.url.ends_with_v1() {
        String::new()
    } else {
        format!(
            " (OpenAI-compatible servers mount their API under /v1: try {}/v1)",
            endpoint.url
        )
    };
    let raw = models_while_loading(transport, endpoint)
        .await
        .map_err(|error| match error {
            RequestError::Connect { detail } => ProbeProblem::Unreachable { detail },
            RequestError::Timeout { .. } => ProbeProblem::Timeout {
                route: "GET /models".into(),
                timeout: MODELS_TIMEOUT,
            },
            RequestError::Status { status, .. } if status == 401 || status == 403 => {
                ProbeProblem::Unauthorized { status }
            }
            RequestError::Status {
                status: 503, body, ..
            } => ProbeProblem::Loading {
                detail: body,
                waited: LOADING_WAIT,
            },
            RequestError::Status { status, body, .. } => ProbeProblem::NotOpenAi {
                detail: format!("GET /models answered HTTP {status} ({body})"),
                hint: hint.clone(),
            },
            RequestError::Malformed { detail } => ProbeProblem::NotOpenAi {
                detail: format!("GET /models did not return JSON: {detail}"),
                hint: hint.clone(),
            },
            other => ProbeProblem::NotOpenAi {
                detail: format!("GET /models failed: {other}"),
                hint: hint.clone(),
            },
        })?;
    serde_json::from_value::<ModelList>(raw.clone()).map_err(|e| ProbeProblem::NotOpenAi {
        detail: format!(
            "GET /models returned JSON without a model list ({e}): {}",
            shorten(&raw.to_string(), 200)
        ),
        hint,
    })
}

/// `GET /models`, waiting while the server answers 503 (still loading its model).
async fn models_while_loading(
    transport: &Transport,
    endpoint: &EndpointConfig,
) -> Result<Value, RequestError> {
    let started = std::time::Instant::now();
    loop {
        match transport.get(endpoint, "models", MODELS_TIMEOUT).await {
            Err(RequestError::Status { status: 503, .. }) if started.elapsed() < LOADING_WAIT => {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            other => return other,
        }
    }
}

/// The test requests of one probe.
struct Tester<'a> {
    transport: &'a Transport,
    endpoint: &'a EndpointConfig,
    settings: ProbeSettings<'a>,
    timeout: Duration,
    /// Sent in the test requests too, so a server that refuses them fails the probe.
    neutral: NeutralDefaults,
    /// Ask for post-sampling probabilities where log-probabilities count tokens.
    offer_post_sampling_probs: bool,
}

impl Tester<'_> {
    /// One request for two choices of one token, asking for token ids and log-probabilities
    /// (post-sampling probabilities where offered). Servers that reject those fields are
    /// asked again without them; transient failures (a 5xx, a dropped connection, a garbled
    /// body) are retried a few times, so a flaky server does not fail the start, while a
    /// refused connection or a 404 fails it at once.
    async fn test_generation(&self) -> Result<(Capabilities, RequestShape), ProbeProblem> {
        let preferred = if self.offer_post_sampling_probs {
            CountingEntries::PostSamplingProbs
        } else {
            CountingEntries::Logprobs
        };
        let mut shapes = vec![(true, preferred), (false, preferred)];
        if preferred != CountingEntries::Logprobs {
            shapes.push((false, CountingEntries::Logprobs));
        }
        shapes.push((false, CountingEntries::None));
        let shapes = shapes
            .into_iter()
            .map(|(token_ids, counting_entries)| RequestShape {
                logprobs: None,
                n: 2,
                seed: None,
                token_ids,
                counting_entries,
                neutral: self.neutral,
            });
        let mut rejected = None;
        for shape in shapes {
            match self.send(shape).await? {
                Ok(response) => return Ok((observe(&response, shape), shape)),
                Err(error) => rejected = Some(error),
            }
        }
        let error = rejected.unwrap_or(RequestError::Malformed {
            detail: "no attempt was made".into(),
        });
        Err(self.problem(error))
    }

    /// The largest `n` up to the one wanted that the server accepts, halving from the
    /// wanted `n` (llama.cpp's server refuses an `n` above its slot count with a 400).
    async fn largest_n(&self, shape: RequestShape) -> Result<u32, ProbeProblem> {
        let mut n = self.settings.wanted_n;
        while n > 2 {
            match self.send(RequestShape { n, ..shape }).await? {
                // A server may also cap n silently: what came back is what it gives.
                Ok(response) => return Ok((response.choices.len() as u32).clamp(2, n)),
                Err(_) => n /= 2,
            }
        }
        Ok(2)
    }

    /// Sends one test request, retrying transient failures. `Ok(Err)` is a rejection
    /// (4xx other than 401/403/404): the request, not the endpoint, is at fault.
    async fn send(
        &self,
        shape: RequestShape,
    ) -> Result<Result<GenerationResponse, RequestError>, ProbeProblem> {
        let params = SamplingParams {
            max_tokens: 1,
            ..self.settings.params.clone()
        };
        let body = generation_body(self.settings.model, self.settings.prompt, &params, shape);
        let route = route_of(self.settings.prompt);
        let mut attempt = 0;
        loop {
            let result: Result<GenerationResponse, RequestError> = self
                .transport
                .post_with_timeout(self.endpoint, route.path(), &body, self.timeout)
                .await;
            let error = match result {
                Ok(response) => return Ok(Ok(response)),
                Err(error) => error,
            };
            attempt += 1;
            match error.disposition() {
                Disposition::RejectRequest => return Ok(Err(error)),
                Disposition::Fatal => return Err(self.problem(error)),
                Disposition::RetryBusy | Disposition::RetryUnhealthy => {
                    if matches!(error, RequestError::Connect { .. })
                        || attempt == TRANSIENT_ATTEMPTS
                    {
                        return Err(self.problem(error));
                    }
                    let wait = error
                        .retry_after()
                        .unwrap_or(Duration::from_millis(200 << attempt))
                        .min(Duration::from_secs(5));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    fn problem(&self, error: RequestError) -> ProbeProblem {
        test_request_problem(route_of(self.settings.prompt), error)
    }
}

fn test_request_problem(route: Route, error: RequestError) -> ProbeProblem {
    match error {
        RequestError::Connect { detail } => ProbeProblem::Unreachable { detail },
        RequestError::Status { status, .. } if status == 401 || status == 403 => {
            ProbeProblem::Unauthorized { status }
        }
        error => ProbeProblem::TestRequest {
            route: format!("POST /{}", route.path()),
            error,
        },
    }
}

fn observe(response: &GenerationResponse, shape: RequestShape) -> Capabilities {
    let choices = &response.choices;
    let token_ids = shape.token_ids && choices.iter().all(|c| c.token_ids.is_some());
    let logprobs = shape.counting_entries != CountingEntries::None
        && !choices.is_empty()
        && choices
            .iter()
            .all(|c| c.logprobs.as_ref().is_some_and(|l| !l.is_empty()));
    let post_sampling_probs = shape.counting_entries == CountingEntries::PostSamplingProbs
        && logprobs
        && choices
            .iter()
            .all(|c| c.logprobs.as_ref().is_some_and(Logprobs::are_post_sampling));
    let generated: Option<usize> = if token_ids {
        choices
            .iter()
            .map(|c| c.token_ids.as_ref().map(Vec::len))
            .sum()
    } else if logprobs {
        choices
            .iter()
            .map(|c| c.logprobs.as_ref().map(|l| l.len()))
            .sum()
    } else {
        None
    };
    let usage_coverage = match (generated, response.usage.and_then(|u| u.completion_tokens)) {
        (Some(g), Some(u)) if g > 0 => Some(u as f64 / g as f64),
        _ => None,
    };
    Capabilities {
        server: ServerKind::Other("unknown".into()),
        models: Vec::new(),
        context_length: None,
        max_n: choices.len() as u32,
        token_ids,
        logprobs,
        post_sampling_probs,
        usage_coverage,
    }
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A body for [`crate::pool::RecoveryProbe`]: the cheapest real generation on `route`.
pub fn recovery_probe_body(model: &str, route: Route) -> Value {
    match route {
        Route::Completions => json!({"model": model, "prompt": "Hi", "max_tokens": 1}),
        Route::Chat => json!({
            "model": model,
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(max_n: u32, token_ids: bool, logprobs: bool) -> Capabilities {
        Capabilities {
            max_n,
            token_ids,
            logprobs,
            ..Capabilities::assumed()
        }
    }

    #[test]
    fn request_plans_never_guess_token_counts() {
        let vllm = caps(64, true, true).request_plan(16);
        assert_eq!((vllm.counting, vllm.max_n), (TokenCounting::TokenIds, 16));
        let llama_server = caps(4, false, true).request_plan(16);
        assert_eq!(
            (llama_server.counting, llama_server.max_n),
            (TokenCounting::Logprobs, 4),
            "never more than the server takes"
        );
        let ignores_n = caps(1, false, true).request_plan(16);
        assert_eq!(
            (ignores_n.counting, ignores_n.max_n),
            (TokenCounting::SingleChoiceUsage, 1)
        );
        let post_sampling = Capabilities {
            post_sampling_probs: true,
            ..caps(4, false, true)
        }
        .request_plan(16);
        assert_eq!(
            (post_sampling.counting, post_sampling.max_n),
            (TokenCounting::PostSamplingProbs, 4)
        );
        let opaque = caps(2, false, false).request_plan(16);
        assert_eq!(
            (opaque.counting, opaque.max_n),
            (TokenCounting::SingleChoiceUsage, 1)
        );
    }

    #[test]
    fn observing_a_llama_server_style_answer() {
        let response: GenerationResponse = serde_json::from_str(
            r#"{"choices": [
                {"index": 0, "text": "x", "finish_reason": "length",
                 "logprobs": {"content": [{"token": "x", "logprob": -1.0}]}},
                {"index": 1, "text": "y", "finish_reason": "length",
                 "logprobs": {"content": [{"token": "y", "logprob": -2.0}]}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#,
        )
        .unwrap();
        let shape = RequestShape {
            logprobs: None,
            n: 2,
            seed: None,
            token_ids: true,
            counting_entries: CountingEntries::PostSamplingProbs,
            neutral: NeutralDefaults::LlamaCpp,
        };
        let seen = observe(&response, shape);
        assert_eq!(seen.max_n, 2);
        assert!(!seen.token_ids);
        assert!(seen.logprobs);
        assert!(!seen.post_sampling_probs, "log-probabilities came back");
        assert_eq!(seen.usage_coverage, Some(0.5));

        let post_sampling: GenerationResponse = serde_json::from_str(
            r#"{"choices": [
                {"index": 0, "text": "x", "finish_reason": "length",
                 "logprobs": {"content": [{"id": 1, "token": "x", "prob": 0.5, "top_probs": []}]}},
                {"index": 1, "text": "y", "finish_reason": "length",
                 "logprobs": {"content": [{"id": 2, "token": "y", "prob": 0.25, "top_probs": []}]}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1}}"#,
        )
        .unwrap();
        let seen = observe(&post_sampling, shape);
        assert!(seen.logprobs && seen.post_sampling_probs);
        assert_eq!(seen.usage_coverage, Some(0.5));
    }
}
