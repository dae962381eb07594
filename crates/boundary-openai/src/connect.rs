//! Starting a session: probe every endpoint at once, and turn what they said into a pool
//! (for sampling, or for scoring with the scoring checks on top).

use std::time::Duration;

use std::collections::HashMap;

use tokio::task::JoinSet;

use crate::capabilities::{
    CapabilityReport, ProbeError, ProbeSettings, probe, recovery_probe_body,
};
use crate::endpoint::EndpointConfig;
use crate::health::HealthPolicy;
use crate::pool::{Endpoint, EndpointPool, RecoveryProbe};
use boundary_sample::{PromptInput, SamplingParams};

use crate::request::route_of;
use crate::retry::RetryPolicy;
use crate::scorer::{
    ScoreItem, ScorerConfig, ScoringProbeError, probe_scoring, prompt_prefix, verify_alignment,
};
use crate::transport::Transport;

/// Everything needed to open a pool.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub model: String,
    /// Most samples one request may ask for.
    pub chunk_size: u32,
    pub retry: RetryPolicy,
    pub health: HealthPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// Every endpoint that failed its probe, each naming itself.
    #[error("{}", render(.0))]
    Probe(Vec<ProbeError>),
    /// Every endpoint that cannot score, each naming itself.
    #[error("{}", render(.0))]
    Scoring(Vec<ScoringProbeError>),
}

fn render<E: std::fmt::Display>(errors: &[E]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Distinct kinds of prompt (by [`prompt_prefix`]) whose scoring is verified per endpoint.
const PREFIXES_VERIFIED: usize = 3;

/// Opens a pool for scoring `items`: each endpoint is probed, asked how it scores text
/// ([`probe_scoring`]), and checked on up to three kinds of prompt from `items` to score
/// the same tokens as it generates ([`verify_alignment`]). Returns the pool, the scorer
/// settings and one line per endpoint saying what was found.
pub async fn connect_for_scoring(
    endpoints: Vec<EndpointConfig>,
    items: &[ScoreItem],
    options: &ConnectOptions,
) -> Result<(EndpointPool, ScorerConfig, Vec<String>), ConnectError> {
    let probe_prompt = PromptInput::Text("Hello".into());
    let params = SamplingParams {
        temperature: 0.0,
        top_p: 1.0,
        top_k: None,
        min_p: None,
        max_tokens: 1,
        stop: Vec::new(),
        seed: 0,
        extra: serde_json::Map::new(),
    };
    let (pool, _) = connect(endpoints, &probe_prompt, &params, options).await?;
    let mut prompts: Vec<&str> = Vec::new();
    for item in items {
        let prefix = prompt_prefix(&item.prompt);
        if prompts.len() < PREFIXES_VERIFIED && !prompts.iter().any(|p| prompt_prefix(p) == prefix)
        {
            prompts.push(&item.prompt);
        }
    }
    let mut methods = HashMap::new();
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for endpoint in pool.endpoints() {
        let config = &endpoint.config;
        let method = match probe_scoring(pool.transport(), config, &options.model).await {
            Ok(method) => method,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let mut checks = Vec::new();
        for prompt in &prompts {
            match verify_alignment(pool.transport(), config, &options.model, method, prompt).await {
                Ok(Some(difference)) => checks.push(format!(
                    "{:?}…: matches generation within {difference:.3} nats/token",
                    prompt_prefix(prompt)
                )),
                Ok(None) => checks.push(format!(
                    "{:?}…: could not be checked (the generated text re-tokenizes differently)",
                    prompt_prefix(prompt)
                )),
                Err(error) => errors.push(error),
            }
        }
        reports.push(format!(
            "{}: scores with {method}; {}",
            config.url,
            checks.join("; ")
        ));
        methods.insert(config.url.to_string(), method);
    }
    if !errors.is_empty() {
        return Err(ConnectError::Scoring(errors));
    }
    let scorer = ScorerConfig {
        model: options.model.clone(),
        retry: options.retry.clone(),
        methods,
    };
    Ok((pool, scorer, reports))
}

/// Probes each endpoint (concurrently, so start-up costs one round trip however many
/// there are) with `sample_prompt` and the run's `params`, and opens a pool of them.
/// Returns the pool and one line per endpoint saying what was found.
pub async fn connect(
    endpoints: Vec<EndpointConfig>,
    sample_prompt: &PromptInput,
    params: &SamplingParams,
    options: &ConnectOptions,
) -> Result<(EndpointPool, Vec<String>), ConnectError> {
    let transport = Transport::new(&options.retry).map_err(ConnectError::Client)?;
    let mut probes = JoinSet::new();
    for (position, config) in endpoints.into_iter().enumerate() {
        let transport = transport.clone();
        let model = options.model.clone();
        let prompt = sample_prompt.clone();
        let params = params.clone();
        let timeout = options.retry.request_timeout;
        let wanted_n = options.chunk_size;
        probes.spawn(async move {
            let settings = ProbeSettings {
                model: &model,
                prompt: &prompt,
                params: &params,
                timeout,
                wanted_n,
            };
            let found = probe(&transport, &config, settings).await;
            (position, config, found)
        });
    }
    let mut probed = Vec::new();
    let mut errors = Vec::new();
    while let Some(joined) = probes.join_next().await {
        match joined {
            Ok((position, config, Ok(capabilities))) => {
                probed.push((position, config, capabilities));
            }
            Ok((_, _, Err(error))) => errors.push(error),
            Err(join_error) => std::panic::resume_unwind(join_error.into_panic()),
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| a.url.cmp(&b.url));
        return Err(ConnectError::Probe(errors));
    }
    probed.sort_by_key(|(position, _, _)| *position);
    let mut reports = Vec::new();
    let endpoints = probed
        .into_iter()
        .map(|(_, config, capabilities)| {
            let plan = capabilities.request_plan(options.chunk_size);
            reports.push(
                CapabilityReport {
                    url: &config.url.to_string(),
                    capabilities: &capabilities,
                    plan,
                }
                .to_string(),
            );
            Endpoint {
                config,
                capabilities,
                plan,
            }
        })
        .collect();
    let probe = RecoveryProbe {
        route: route_of(sample_prompt).path(),
        body: recovery_probe_body(&options.model, route_of(sample_prompt)),
        timeout: options.retry.request_timeout.min(Duration::from_secs(30)),
    };
    let pool = EndpointPool::new(endpoints, options.health.clone(), transport, probe);
    Ok((pool, reports))
}
