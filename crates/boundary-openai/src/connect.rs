//! Starting a session: probe every endpoint at once, and turn what they said into a pool.

use std::time::Duration;

use tokio::task::JoinSet;

use crate::capabilities::{CapabilityReport, ProbeError, probe, recovery_probe_body};
use crate::endpoint::EndpointConfig;
use crate::health::HealthPolicy;
use crate::pool::{Endpoint, EndpointPool, RecoveryProbe};
use crate::request::{Prompt, SamplingParams};
use crate::retry::RetryPolicy;
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
}

fn render(errors: &[ProbeError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Probes each endpoint (concurrently, so start-up costs one round trip however many
/// there are) with `sample_prompt` and the run's `params`, and opens a pool of them.
/// Returns the pool and one line per endpoint saying what was found.
pub async fn connect(
    endpoints: Vec<EndpointConfig>,
    sample_prompt: &Prompt,
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
        probes.spawn(async move {
            let found = probe(&transport, &config, &model, &prompt, &params, timeout).await;
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
        route: sample_prompt.route().path(),
        body: recovery_probe_body(&options.model, sample_prompt.route()),
        timeout: options.retry.request_timeout.min(Duration::from_secs(30)),
    };
    let pool = EndpointPool::new(endpoints, options.health.clone(), transport, probe);
    Ok((pool, reports))
}
