//! `boundary-testserver --port 8000`: the instant OpenAI-compatible server, for benchmarks.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use boundary_testserver::{InstantConfig, InstantServer};
use clap::Parser;

/// An OpenAI-compatible server on loopback that answers every request at once.
#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one; the chosen URL is printed).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// The model id it serves.
    #[arg(long, default_value = "test-model")]
    model: String,
    /// Context length reported in /v1/models and enforced.
    #[arg(long, default_value_t = 4096)]
    max_model_len: u64,
    /// Longest sample, in words.
    #[arg(long, default_value_t = 48)]
    max_words: u32,
    /// Milliseconds each generation request takes.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Require this environment variable's value as the bearer token.
    #[arg(long)]
    api_key_env: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api_key = match &args.api_key_env {
        Some(var) => Some(std::env::var(var).with_context(|| format!("{var} is not set"))?),
        None => None,
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads);
    }
    runtime.enable_all().build()?.block_on(async {
        let config = InstantConfig {
            model: args.model,
            max_model_len: args.max_model_len,
            api_key,
            max_words: args.max_words,
            latency: std::time::Duration::from_millis(args.latency_ms),
        };
        let server =
            InstantServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)), config)
                .await
                .context("cannot bind the port")?;
        println!("{}", server.base_url());
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}
