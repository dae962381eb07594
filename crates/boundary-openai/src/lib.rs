//! Boundary's OpenAI-compatible backend: sampling and scoring through vLLM, SGLang,
//! llama.cpp or any server that speaks `/v1/completions` and `/v1/chat/completions`.
//!
//! It owns everything between a list of problems and the HTTP wire:
//! - [`EndpointPool`]: several endpoints, each with its own in-flight limit and health;
//!   a request goes to the least loaded endpoint that is up, endpoints that keep failing are
//!   taken out and probed back in ([`health`]).
//! - [`probe`]: asks each endpoint once at start what it really does ([`Capabilities`]):
//!   served models, context length, whether `n` is honoured, how tokens per choice can be
//!   counted. Misconfiguration is reported within seconds, naming the endpoint.
//! - [`sample`]: requests the missing samples of each problem in chunks of `n`, asks again
//!   for whatever a server did not return, retries with backoff, jitter and `Retry-After`,
//!   and hands every sample to a sink the moment it arrives ([`SampleRecord`]).
//! - [`score`]: log-probabilities of given text through `echo` or vLLM's
//!   `prompt_logprobs`, refusing scores whose tokens do not line up with the text.
//! - [`check_context`]: prompt tokens + `max_tokens` against the context length, up front.
//! - [`ApiKey`]: keys from an environment variable or a file, never printed or stored.
//!
//! It knows nothing of the run store or of grading: callers turn [`SampleRecord`]s into
//! stored samples.

pub mod alignment;
pub mod capabilities;
pub mod connect;
pub mod context;
mod dispatch;
pub mod endpoint;
pub mod health;
pub mod pool;
pub mod progress;
pub mod request;
pub mod retry;
pub mod sampler;
pub mod scorer;
pub mod secret;
pub mod seed;
pub mod transport;
pub mod wire;

pub use capabilities::{
    Capabilities, CapabilityReport, ContextLength, ProbeError, ProbeProblem, ProbeSettings,
    RequestPlan, ServerKind, TokenCounting, probe,
};
pub use connect::{ConnectError, ConnectOptions, connect, connect_for_scoring};
pub use context::{ContextReport, Unfit, check_context};
pub use dispatch::{RunEnd, RunError, StopSignal};
pub use endpoint::{
    BaseUrl, DEFAULT_MAX_IN_FLIGHT, EndpointConfig, EndpointError, MAX_IN_FLIGHT_LIMIT,
};
pub use health::HealthPolicy;
pub use pool::{Endpoint, EndpointPool, EndpointStatus, NoEndpointUp, RecoveryProbe};
pub use progress::{Progress, ProgressSnapshot};
pub use request::{NeutralDefaults, ParamsError, Route, route_of, validate};
pub use retry::RetryPolicy;
pub use sampler::{Completion, Problem, SampleOutcome, SampleRecord, SamplerConfig, sample};
pub use scorer::{
    Score, ScoreItem, ScoreOutcome, ScoreRecord, ScorerConfig, ScoringMethod, ScoringProbeError,
    ScoringProblem, probe_scoring, score, verify_alignment,
};
pub use secret::{ApiKey, SecretError};
pub use seed::SeedPolicy;
pub use transport::{RequestError, Transport};
