//! What commands that talk to OpenAI-compatible servers share: the endpoint flags, the
//! API key, the async runtime, and Ctrl-C handling (first press: finish what is in flight
//! and stop; second press: stop at once).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use boundary_openai::{
    ApiKey, DEFAULT_MAX_IN_FLIGHT, EndpointConfig, HealthPolicy, MAX_IN_FLIGHT_LIMIT, RetryPolicy,
    StopSignal,
};
use clap::Args;

/// The environment variable read for the API key when no flag names one.
const DEFAULT_KEY_VARIABLE: &str = "OPENAI_API_KEY";

#[derive(Debug, Args)]
#[command(next_help_heading = "OpenAI-compatible servers")]
pub struct EndpointArgs {
    /// Base URL of an OpenAI-compatible server (vLLM, SGLang, llama.cpp, a load
    /// balancer), e.g. http://127.0.0.1:8000/v1. Repeat for several servers; requests go
    /// to the least loaded one that works. Append `,limit=N` to give one server its own
    /// in-flight limit.
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
    /// Requests in flight per server (unless its URL says `,limit=N`).
    #[arg(long, default_value_t = DEFAULT_MAX_IN_FLIGHT, value_name = "N")]
    pub max_in_flight: usize,
    /// Attempts per request (connection errors, timeouts, 429, 5xx, garbled answers)
    /// before its samples are stored as failed; a re-run asks for them again.
    #[arg(long, default_value_t = DEFAULT_RETRIES, value_name = "N")]
    pub retries: u32,
    /// Seconds one request may take, queueing and generation included.
    #[arg(long, default_value_t = DEFAULT_REQUEST_TIMEOUT, value_name = "SECONDS")]
    pub request_timeout: f64,
    /// Seconds to wait for a server to come back when none works (a server restarting);
    /// then the command stops and the samples stay missing for the next run.
    #[arg(long, default_value_t = DEFAULT_WAIT_FOR_SERVERS, value_name = "SECONDS")]
    pub wait_for_servers: f64,
    /// Environment variable holding the API key (default: OPENAI_API_KEY, when set).
    /// Keys are never written to the store, logs or messages.
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// File holding the API key on one line (`chmod 600` it).
    #[arg(long, value_name = "FILE", conflicts_with = "api_key_env")]
    pub api_key_file: Option<PathBuf>,
}

const DEFAULT_RETRIES: u32 = 8;
const DEFAULT_REQUEST_TIMEOUT: f64 = 900.0;
const DEFAULT_WAIT_FOR_SERVERS: f64 = 600.0;

impl EndpointArgs {
    /// The flags' defaults for these endpoints (what `boundary eval` uses).
    pub fn with_defaults(endpoints: Vec<String>, api_key_env: Option<String>) -> Self {
        Self {
            endpoints,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            retries: DEFAULT_RETRIES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            wait_for_servers: DEFAULT_WAIT_FOR_SERVERS,
            api_key_env,
            api_key_file: None,
        }
    }

    pub fn given(&self) -> bool {
        !self.endpoints.is_empty()
    }

    /// The endpoints, each with the API key.
    pub fn configs(&self) -> anyhow::Result<Vec<EndpointConfig>> {
        if !(1..=MAX_IN_FLIGHT_LIMIT).contains(&self.max_in_flight) {
            bail!(
                "--max-in-flight must be from 1 to {MAX_IN_FLIGHT_LIMIT}, got {}",
                self.max_in_flight
            );
        }
        let key = self.api_key()?.map(Arc::new);
        self.endpoints
            .iter()
            .map(|spec| {
                EndpointConfig::parse(spec, self.max_in_flight)
                    .map(|e| e.with_api_key(key.clone()))
                    .context("in --endpoint")
            })
            .collect()
    }

    fn api_key(&self) -> anyhow::Result<Option<ApiKey>> {
        if let Some(path) = &self.api_key_file {
            return Ok(Some(ApiKey::from_file(path)?));
        }
        match &self.api_key_env {
            Some(var) => match ApiKey::from_env(var)? {
                Some(key) => Ok(Some(key)),
                None => bail!(
                    "--api-key-env {var}: the environment variable {var} is not set; export it, \
                     or drop the flag if the server needs no key"
                ),
            },
            None => Ok(ApiKey::from_env(DEFAULT_KEY_VARIABLE)?),
        }
    }

    pub fn health_policy(&self) -> anyhow::Result<HealthPolicy> {
        if !(self.wait_for_servers.is_finite() && self.wait_for_servers >= 0.0) {
            bail!(
                "--wait-for-servers must be a number of seconds >= 0, got {}",
                self.wait_for_servers
            );
        }
        Ok(HealthPolicy {
            give_up_after: Duration::from_secs_f64(self.wait_for_servers),
            ..HealthPolicy::default()
        })
    }

    pub fn retry_policy(&self) -> anyhow::Result<RetryPolicy> {
        if self.retries == 0 {
            bail!("--retries must be at least 1 (it counts the first attempt)");
        }
        if !(self.request_timeout.is_finite() && self.request_timeout > 0.0) {
            bail!(
                "--request-timeout must be a positive number of seconds, got {}",
                self.request_timeout
            );
        }
        Ok(RetryPolicy {
            max_attempts: self.retries,
            request_timeout: Duration::from_secs_f64(self.request_timeout),
            ..RetryPolicy::default()
        })
    }
}

/// The runtime HTTP work runs on. Ctrl-C is its [`StopSignal`]'s while it lives, and ends
/// the process again once it is dropped (see [`crate::interrupt`]).
pub struct Runtime(tokio::runtime::Runtime);

impl Runtime {
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        crate::interrupt::release();
    }
}

/// A new [`Runtime`].
pub fn runtime() -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map(Runtime)
        .context("cannot start the async runtime")
}

/// Turns Ctrl-C into a [`StopSignal`]: the first press stops sending requests and waits
/// for those in flight (their samples are kept); the second drops them too. Either way
/// the store stays consistent and a re-run resumes. Call inside the runtime.
pub fn stop_on_ctrl_c(quiet: bool) -> StopSignal {
    crate::interrupt::claim();
    let stop = StopSignal::default();
    let signal = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if !quiet {
            eprintln!(
                "\nstopping: waiting for the requests in flight (Ctrl-C again to drop them); \
                 run the same command again to resume"
            );
        }
        signal.graceful.cancel();
        if tokio::signal::ctrl_c().await.is_ok() {
            signal.abort.cancel();
        }
    });
    stop
}
