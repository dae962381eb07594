//! An OpenAI-compatible server that answers at once, for client throughput benchmarks and
//! for fault tests where the model is beside the point.
//!
//! It behaves like vLLM where that matters to a client: it honours `n`, gives the children
//! of a request with `seed = s` the seeds `s, s+1, ...`, sums `usage` over choices, returns
//! `token_ids` on request, reports `max_model_len`, rejects prompts that do not fit, and
//! answers an unknown model with 404. A "token" is one word. The text of a choice is a pure
//! function of the prompt and the child's seed, so a client that reuses a seed for two
//! samples of a problem produces two identical samples, which tests detect.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::serve::{ReadRequest, Reply, ServerHandle, error_response, json_response, serve};

/// Settings of an [`InstantServer`].
#[derive(Clone, Debug)]
pub struct InstantConfig {
    pub model: String,
    pub max_model_len: u64,
    /// When set, requests must carry `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Longest sample in words (the length of each is drawn from 1..=this).
    pub max_words: u32,
    /// How long each generation request takes (zero: answer at once).
    pub latency: Duration,
}

impl Default for InstantConfig {
    fn default() -> Self {
        Self {
            model: "test-model".into(),
            max_model_len: 4096,
            api_key: None,
            max_words: 48,
            latency: Duration::ZERO,
        }
    }
}

/// Counters a test can check after a run.
#[derive(Debug, Default)]
pub struct InstantStats {
    pub generation_requests: AtomicU64,
    pub choices_returned: AtomicU64,
    /// The largest `n` one request asked for.
    pub largest_n: AtomicU64,
}

pub struct InstantServer {
    pub handle: ServerHandle,
    pub stats: Arc<InstantStats>,
}

impl InstantServer {
    pub async fn start(addr: SocketAddr, config: InstantConfig) -> std::io::Result<Self> {
        let stats = Arc::new(InstantStats::default());
        let config = Arc::new(config);
        let handler_stats = stats.clone();
        let handle = serve(addr, move |request| {
            let is_generation = request.path.ends_with("completions");
            let reply = handle(&config, &handler_stats, request);
            let latency = config.latency;
            async move {
                if is_generation && !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                reply
            }
        })
        .await?;
        Ok(Self { handle, stats })
    }

    pub fn base_url(&self) -> String {
        self.handle.base_url()
    }
}

const WORDS: &[&str] = &[
    "the",
    "answer",
    "is",
    "so",
    "we",
    "add",
    "two",
    "and",
    "three",
    "then",
    "multiply",
    "by",
    "four",
    "which",
    "gives",
    "twelve",
    "therefore",
    "boxed",
    "step",
    "first",
    "next",
    "finally",
    "check",
    "sum",
    "of",
    "digits",
    "equals",
    "minus",
    "plus",
    "over",
    "half",
    "double",
];

fn handle(config: &InstantConfig, stats: &InstantStats, request: ReadRequest) -> Reply {
    if let Some(key) = &config.api_key {
        let expected = format!("Bearer {key}");
        let given = request
            .headers
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return Some(error_response(401, "invalid API key"));
        }
    }
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/v1/models") => Some(json_response(
            200,
            &json!({"object": "list", "data": [{
                "id": config.model, "object": "model", "owned_by": "boundary-testserver",
                "max_model_len": config.max_model_len,
            }]}),
        )),
        ("GET", "/health") => Some(json_response(200, &json!({"status": "ok"}))),
        ("POST", "/v1/completions") => Some(generate(config, stats, &request.body, false)),
        ("POST", "/v1/chat/completions") => Some(generate(config, stats, &request.body, true)),
        (_, path) => Some(error_response(404, &format!("no route {path}"))),
    }
}

fn generate(
    config: &InstantConfig,
    stats: &InstantStats,
    body: &[u8],
    chat: bool,
) -> hyper::Response<crate::body::ScriptedBody> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error_response(400, "the body is not JSON");
    };
    let model = request.get("model").and_then(Value::as_str).unwrap_or("");
    if model != config.model {
        return error_response(404, &format!("The model `{model}` does not exist."));
    }
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        return error_response(400, "streaming is not supported by the test server");
    }
    let prompt_text = if chat {
        match request.get("messages").and_then(Value::as_array) {
            Some(messages) => messages
                .iter()
                .filter_map(|m| m.get("content").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            None => return error_response(400, "`messages` is required"),
        }
    } else {
        match request.get("prompt").and_then(Value::as_str) {
            Some(prompt) => prompt.to_owned(),
            None => return error_response(400, "`prompt` must be a string"),
        }
    };
    if request.get("top_k").is_some_and(|k| !k.is_i64()) {
        return error_response(400, "top_k must be an integer");
    }
    let n = request.get("n").and_then(Value::as_u64).unwrap_or(1);
    if !(1..=1024).contains(&n) {
        return error_response(400, "n must be between 1 and 1024");
    }
    let max_tokens = request
        .get("max_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(16);
    let prompt_tokens = prompt_text.split_whitespace().count() as u64 + if chat { 3 } else { 0 };
    if prompt_tokens + max_tokens > config.max_model_len {
        return error_response(
            400,
            &format!(
                "This model's maximum context length is {} tokens. However, you requested {} tokens ({} in the messages, {} in the completion).",
                config.max_model_len,
                prompt_tokens + max_tokens,
                prompt_tokens,
                max_tokens
            ),
        );
    }
    let seed = request.get("seed").and_then(Value::as_u64);
    let want_ids = request.get("return_token_ids").and_then(Value::as_bool) == Some(true);
    let want_logprobs = match request.get("logprobs") {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(_)) => true,
        _ => false,
    };
    let prompt_hash = fnv1a(prompt_text.as_bytes());
    let mut total_tokens = 0;
    let choices: Vec<Value> = (0..n)
        .map(|i| {
            let mut rng = match seed {
                Some(s) => ChaCha8Rng::seed_from_u64(prompt_hash ^ s.wrapping_add(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)),
                None => ChaCha8Rng::from_os_rng(),
            };
            let length = rng.random_range(1..=config.max_words.max(1)) as u64;
            let tokens = length.min(max_tokens);
            total_tokens += tokens;
            let ids: Vec<usize> = (0..tokens).map(|_| rng.random_range(0..WORDS.len())).collect();
            let pieces: Vec<String> = ids.iter().map(|&id| format!(" {}", WORDS[id])).collect();
            let text: String = pieces.concat();
            let finish = if length > max_tokens { "length" } else { "stop" };
            let mut choice = if chat {
                json!({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish})
            } else {
                json!({"index": i, "text": text, "finish_reason": finish})
            };
            if want_ids {
                choice["token_ids"] = json!(ids);
            }
            if want_logprobs {
                choice["logprobs"] = logprobs(&pieces, chat);
            }
            choice
        })
        .collect();
    stats.generation_requests.fetch_add(1, Ordering::Relaxed);
    stats.choices_returned.fetch_add(n, Ordering::Relaxed);
    stats.largest_n.fetch_max(n, Ordering::Relaxed);
    json_response(
        200,
        &json!({
            "id": format!("cmpl-{prompt_hash:x}"),
            "object": if chat { "chat.completion" } else { "text_completion" },
            "model": config.model,
            "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": total_tokens,
                      "total_tokens": prompt_tokens + total_tokens},
        }),
    )
}

fn logprobs(pieces: &[String], chat: bool) -> Value {
    // A fixed, plausible value per token: the client only counts and sums them.
    if chat {
        json!({"content": pieces.iter().map(|p| json!({"token": p, "logprob": -0.5, "top_logprobs": []})).collect::<Vec<_>>()})
    } else {
        let mut offset = 0;
        let offsets: Vec<usize> = pieces
            .iter()
            .map(|p| {
                let at = offset;
                offset += p.chars().count();
                at
            })
            .collect();
        json!({"tokens": pieces, "token_logprobs": vec![-0.5; pieces.len()], "top_logprobs": null, "text_offset": offsets})
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
