//! Load generator for benchmarks: drives the sampler against one or more endpoints with a
//! sink that only counts, and prints one JSON line with requests/s, samples/s and tokens/s.
//!
//! cargo run --release -p boundary-openai --example openai_load -- \
//!     --endpoint http://127.0.0.1:8000/v1 --model test-model --problems 2000 --n 16
//!
//! It measures the client and the server; `boundary sample` adds the store on top.

use std::sync::Arc;
use std::time::{Duration, Instant};

use boundary_openai::{
    ConnectOptions, EndpointConfig, HealthPolicy, Progress, RetryPolicy, SamplerConfig, SeedPolicy,
    StopSignal, connect, sample,
};
use boundary_sample::{PromptInput, SamplingParams, WorkItem};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

struct Args {
    endpoints: Vec<String>,
    model: String,
    problems: usize,
    n: u32,
    chunk_size: u32,
    max_in_flight: usize,
    max_tokens: u32,
    extra_body: Map<String, Value>,
    prompt: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        endpoints: Vec::new(),
        model: "test-model".into(),
        problems: 1000,
        n: 16,
        chunk_size: 16,
        max_in_flight: 64,
        max_tokens: 32,
        extra_body: Map::new(),
        prompt: "Question {i}: what is {i} plus {i}? Answer:".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--endpoint" => args.endpoints.push(value()?),
            "--model" => args.model = value()?,
            "--problems" => args.problems = value()?.parse().map_err(|e| format!("{e}"))?,
            "--n" => args.n = value()?.parse().map_err(|e| format!("{e}"))?,
            "--chunk-size" => args.chunk_size = value()?.parse().map_err(|e| format!("{e}"))?,
            "--max-in-flight" => {
                args.max_in_flight = value()?.parse().map_err(|e| format!("{e}"))?
            }
            "--max-tokens" => args.max_tokens = value()?.parse().map_err(|e| format!("{e}"))?,
            "--prompt" => args.prompt = value()?,
            "--extra-body" => {
                let parsed: Value = serde_json::from_str(&value()?).map_err(|e| format!("{e}"))?;
                args.extra_body = parsed
                    .as_object()
                    .cloned()
                    .ok_or("--extra-body must be a JSON object")?;
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.endpoints.is_empty() {
        return Err("give at least one --endpoint".into());
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = parse_args()?;
    let params = SamplingParams {
        temperature: 0.6,
        top_p: 0.95,
        top_k: None,
        min_p: None,
        max_tokens: args.max_tokens,
        stop: vec![],
        seed: 0,
        extra: args.extra_body.clone(),
    };
    let work: Vec<WorkItem> = (0..args.problems)
        .map(|i| WorkItem {
            problem: format!("q{i}"),
            input: PromptInput::Text(args.prompt.replace("{i}", &i.to_string())),
            indices: (0..args.n).collect(),
        })
        .collect();
    let retry = RetryPolicy {
        request_timeout: Duration::from_secs(600),
        ..RetryPolicy::default()
    };
    let options = ConnectOptions {
        model: args.model.clone(),
        chunk_size: args.chunk_size,
        retry: retry.clone(),
        health: HealthPolicy::default(),
    };
    let endpoints = args
        .endpoints
        .iter()
        .map(|e| EndpointConfig::parse(e, args.max_in_flight).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let (pool, reports) = connect(endpoints, &work[0].input, &params, &options)
        .await
        .map_err(|e| e.to_string())?;
    for report in reports {
        eprintln!("{report}");
    }
    let (sender, mut receiver) = mpsc::channel(4096);
    let drain = tokio::spawn(async move {
        let mut delivered = 0u64;
        while receiver.recv().await.is_some() {
            delivered += 1;
        }
        delivered
    });
    let progress = Arc::new(Progress::default());
    let config = SamplerConfig {
        model: args.model,
        params,
        logprobs: None,
        chunk_size: args.chunk_size,
        seeds: SeedPolicy::Derived { run_seed: 0 },
        retry,
    };
    let started = Instant::now();
    sample(
        &pool,
        config,
        work,
        sender,
        progress.clone(),
        StopSignal::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let delivered = drain.await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let s = progress.snapshot();
    println!(
        "{}",
        json!({
            "client": "boundary",
            "seconds": seconds,
            "requests": s.requests,
            "samples": delivered,
            "failed": s.samples_failed,
            "retries": s.retries,
            "tokens": s.tokens,
            "requests_per_s": s.requests as f64 / seconds,
            "samples_per_s": delivered as f64 / seconds,
            "tokens_per_s": s.tokens as f64 / seconds,
        })
    );
    Ok(())
}
