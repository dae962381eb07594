//! Throughput of the embedded engine, printed as one JSON object per measurement.
//! `scripts/bench/engine.sh` runs it next to the same measurements of llama.cpp through
//! llama-cpp-python (`scripts/bench/engine_llama_cpp.py`).
//!
//!   engine_bench MODEL single  TOKENS            one sample, EOS masked
//!   engine_bench MODEL batched N TOKENS          N samples of one prompt, EOS masked
//!   engine_bench MODEL free N SLOTS TOKENS       N samples, at most SLOTS at a time, ending at
//!                                                EOS or TOKENS: lengths differ, as in real runs
//!   engine_bench MODEL prefill TOKENS            prompt processing: a TOKENS-long prompt
//!   engine_bench MODEL score TOKENS [WEIGHTS]    log-probabilities of a TOKENS-long text,
//!                                                with the weights expanded to f32 (WEIGHTS
//!                                                `f32`, the default: what `boundary score`
//!                                                does with a model this small) or `stored`
//!
//! Settings for every mode: the paper's temperature 0.6 and top-p 0.95, 2 threads unless
//! BOUNDARY_THREADS says otherwise; flash attention off unless BOUNDARY_FLASH_ATTENTION=1. The
//! prompt is the ChatML-rendered GSM8K question used by the llama.cpp side.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Instant;

use boundary_engine::{
    GenerationConfig, GenerationRequest, Model, ModelOptions, SampleSpec, SamplingParams,
    ScoreConfig, ScoreRequest, Weights, generate, score,
};
use serde_json::json;

const QUESTION: &str = "Janet\u{2019}s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";

/// A long, fixed text for prompt processing and scoring.
const LONG_TEXT: &str = "The derivative measures how a function changes as its input changes. For a function f, the derivative at a point a is the limit of (f(a + h) - f(a)) / h as h approaches zero, when that limit exists. Geometrically it is the slope of the tangent line to the graph of f at a. ";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: engine_bench MODEL (single TOKENS | batched N TOKENS | free N SLOTS TOKENS | prefill TOKENS | score TOKENS [f32|stored])";
    let model_path = PathBuf::from(args.get(1).expect(usage));
    let mode = args.get(2).expect(usage).as_str();
    let number = |i: usize| -> usize { args.get(i).expect(usage).parse().expect(usage) };
    let threads =
        std::env::var("BOUNDARY_THREADS").map_or(2, |t| t.parse().expect("BOUNDARY_THREADS"));
    let flash_attention = std::env::var("BOUNDARY_FLASH_ATTENTION").is_ok_and(|v| v == "1");
    let weights = match (mode, args.get(4).map(String::as_str)) {
        ("score", None | Some("f32")) => Weights::F32,
        ("score", Some("stored")) => Weights::Stored,
        ("score", Some(_)) => panic!("{usage}"),
        _ => Weights::Stored,
    };
    let model = Model::load(
        &model_path,
        &ModelOptions {
            threads,
            flash_attention,
            weights,
            ..ModelOptions::default()
        },
    )
    .expect("loading the model");
    let result = match mode {
        "single" => sample(&model, 1, 1, number(3), true),
        "batched" => sample(&model, number(3), number(3), number(4), true),
        "free" => sample(&model, number(3), number(4), number(5), false),
        "prefill" => prefill(&model, number(3)),
        "score" => score_text(&model, number(3)),
        _ => panic!("{usage}"),
    };
    let mut result = result;
    result["threads"] = json!(threads);
    result["flash_attention"] = json!(flash_attention);
    result["peak_rss_mib"] = json!(peak_rss_mib());
    println!("{result}");
}

fn chat_prompt(model: &Model) -> Vec<u32> {
    let text = format!("<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n");
    model.tokenizer().encode_prompt(&text).expect("tokenize")
}

fn long_tokens(model: &Model, count: usize) -> Vec<u32> {
    let mut tokens = Vec::new();
    while tokens.len() < count {
        tokens.extend(model.tokenizer().encode(LONG_TEXT).expect("tokenize"));
    }
    tokens.truncate(count);
    tokens
}

/// n samples of the chat prompt, at most `slots` decoding together, `tokens` each when EOS is
/// masked, else up to `tokens`.
fn sample(
    model: &Model,
    n: usize,
    slots: usize,
    tokens: usize,
    ignore_eos: bool,
) -> serde_json::Value {
    let prompt = chat_prompt(model);
    let prompt_len = prompt.len();
    let requests = [GenerationRequest {
        prompt,
        samples: (0..n as u32)
            .map(|index| SampleSpec {
                index,
                seed: u64::from(index),
            })
            .collect(),
    }];
    let params = SamplingParams {
        temperature: 0.6,
        top_p: 0.95,
        max_tokens: tokens,
        ignore_eos,
        ..SamplingParams::default()
    };
    let config = GenerationConfig {
        max_sequences: slots,
        ..GenerationConfig::default()
    };
    let stats = generate(model, &requests, &params, &config, |_| {
        Ok::<_, Infallible>(())
    })
    .expect("generate");
    let decode_seconds = (stats.wall_time - stats.prefill_time).as_secs_f64();
    json!({
        "engine": "boundary",
        "mode": match (n, ignore_eos) {
            (1, true) => "single".to_owned(),
            (_, true) => format!("batched-{n}"),
            (_, false) => format!("free-{n}x{slots}"),
        },
        "samples": n,
        "prompt_tokens": prompt_len,
        "generated_tokens": stats.generated_tokens,
        "tokens_per_second": stats.generated_tokens as f64 / decode_seconds,
        "wall_seconds": stats.wall_time.as_secs_f64(),
        "prefill_seconds": stats.prefill_time.as_secs_f64(),
        "decode_seconds": stats.decode_time.as_secs_f64(),
        "sampling_seconds": stats.sampling_time.as_secs_f64(),
        "kv_cache_mib": stats.kv_cache_bytes >> 20,
        "mean_batch": stats.mean_batch(),
        "moved_sequences": stats.moved_sequences,
    })
}

/// Processing a `count`-token prompt (the logits of its last position only).
fn prefill(model: &Model, count: usize) -> serde_json::Value {
    let requests = [GenerationRequest {
        prompt: long_tokens(model, count),
        samples: vec![SampleSpec { index: 0, seed: 0 }],
    }];
    let params = SamplingParams {
        max_tokens: 1,
        ..SamplingParams::default()
    };
    let stats = generate(
        model,
        &requests,
        &params,
        &GenerationConfig::default(),
        |_| Ok::<_, Infallible>(()),
    )
    .expect("generate");
    json!({
        "engine": "boundary",
        "mode": "prefill",
        "prompt_tokens": count,
        "tokens_per_second": count as f64 / stats.prefill_time.as_secs_f64(),
        "seconds": stats.prefill_time.as_secs_f64(),
    })
}

/// Log-probabilities of a `count`-token text after a one-token prompt.
fn score_text(model: &Model, count: usize) -> serde_json::Value {
    let tokens = long_tokens(model, count);
    let requests = [ScoreRequest {
        prompt: tokens[..1].to_vec(),
        continuation: tokens[1..].to_vec(),
    }];
    let started = Instant::now();
    let mut perplexity = 0.0;
    let stats = score(model, &requests, &ScoreConfig::default(), |_, s, _| {
        perplexity = s.perplexity();
        Ok::<_, Infallible>(())
    })
    .expect("score");
    let seconds = started.elapsed().as_secs_f64();
    json!({
        "engine": "boundary",
        "mode": "score",
        "weights": if model.info().f32_weights { "f32" } else { "stored" },
        "tokens": count,
        "tokens_per_second": count as f64 / seconds,
        "seconds": seconds,
        "decode_seconds": stats.decode_time.as_secs_f64(),
        "softmax_seconds": stats.softmax_time.as_secs_f64(),
        "perplexity": perplexity,
    })
}

/// The process's peak resident memory (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
