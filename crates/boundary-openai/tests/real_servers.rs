//! Against real servers with the SmolLM2 model: llama.cpp's `llama-server` (continuous
//! batching with `--parallel`, honours `n` up to its slot count, `usage` for one choice, no
//! `echo`) and llama-cpp-python's server (ignores `n`, scores through `echo`, shifted by one
//! token unless the prompt starts with BOS). Each test starts its server and walks through
//! completions, chat, `n`, token counting, scoring and the quirks in turn.
//!
//! Needs `scripts/setup/openai.sh` (the tests fail with that instruction otherwise).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use boundary_openai::{
    ConnectError, ConnectOptions, EndpointConfig, EndpointPool, HealthPolicy, Problem, Progress,
    RetryPolicy, RunEnd, SampleOutcome, SampleRecord, SamplerConfig, ScoreItem, ScoreOutcome,
    ScoringProblem, SeedPolicy, StopSignal, TokenCounting, check_context, connect,
    connect_for_scoring, sample, score,
};
use boundary_sample::{ChatMessage, PromptInput, SamplingParams, WorkItem};
use boundary_testserver::RealServer;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

fn chatml(question: &str) -> String {
    format!("<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
}

fn params(max_tokens: u32) -> SamplingParams {
    SamplingParams {
        temperature: 1.0,
        top_p: 1.0,
        top_k: None,
        min_p: None,
        max_tokens,
        stop: vec![],
        seed: 0,
        extra: Map::new(),
    }
}

fn options(model: &str, chunk_size: u32) -> ConnectOptions {
    ConnectOptions {
        model: model.into(),
        chunk_size,
        retry: RetryPolicy {
            request_timeout: Duration::from_secs(300),
            ..RetryPolicy::default()
        },
        health: HealthPolicy::default(),
    }
}

fn problems(inputs: Vec<PromptInput>) -> Vec<Arc<Problem>> {
    inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            Arc::new(Problem {
                id: format!("q{i}"),
                input,
            })
        })
        .collect()
}

/// Samples `n` per problem and returns the records grouped by problem.
async fn sample_all(
    pool: &EndpointPool,
    model: &str,
    problems: &[Arc<Problem>],
    n: u32,
    chunk_size: u32,
    params: SamplingParams,
    logprobs: Option<u32>,
) -> BTreeMap<String, Vec<SampleRecord>> {
    let (sender, mut receiver) = mpsc::channel(64);
    let config = SamplerConfig {
        model: model.into(),
        params,
        logprobs,
        chunk_size,
        seeds: SeedPolicy::Derived { run_seed: 1 },
        retry: RetryPolicy::default(),
    };
    let work = problems
        .iter()
        .map(|p| WorkItem {
            problem: p.id.clone(),
            input: p.input.clone(),
            indices: (0..n).collect(),
        })
        .collect();
    let end = sample(
        pool,
        config,
        work,
        sender,
        Arc::new(Progress::default()),
        StopSignal::default(),
    )
    .await
    .unwrap();
    assert_eq!(end, RunEnd::Complete);
    let mut grouped: BTreeMap<String, Vec<SampleRecord>> = BTreeMap::new();
    while let Some(record) = receiver.recv().await {
        grouped
            .entry(record.problem.id.clone())
            .or_default()
            .push(record);
    }
    grouped
}

/// Checks every problem has samples 0..n exactly once, all completed; returns the texts.
fn exactly_n(
    grouped: &BTreeMap<String, Vec<SampleRecord>>,
    problems: usize,
    n: u32,
) -> Vec<Vec<String>> {
    assert_eq!(grouped.len(), problems);
    grouped
        .iter()
        .map(|(id, records)| {
            let mut indices: Vec<u32> = records.iter().map(|r| r.sample_index).collect();
            indices.sort_unstable();
            assert_eq!(indices, (0..n).collect::<Vec<_>>(), "{id}");
            records
                .iter()
                .map(|r| match &r.outcome {
                    SampleOutcome::Completed(c) => c.text.clone(),
                    SampleOutcome::Failed { error, .. } => panic!("{id}: {error}"),
                })
                .collect()
        })
        .collect()
}

/// `(num_tokens, logprob_sum)` of every completed sample.
fn completion_tokens(records: &[SampleRecord]) -> Vec<(Option<u32>, Option<f64>)> {
    records
        .iter()
        .filter_map(|r| match &r.outcome {
            SampleOutcome::Completed(c) => Some((c.num_tokens, c.logprob_sum)),
            SampleOutcome::Failed { .. } => None,
        })
        .collect()
}

/// The same samples requested two ways: one request per sample index (seeds base+i) and
/// one request with n (children seeded base, base+1, ...), as vLLM and llama.cpp do.
async fn raw_completion(url: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{url}/completions"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

/// The settings of the latest task of every llama-server slot that ran one (`GET /slots`,
/// beside the `/v1` API).
async fn slot_params(url: &str) -> Vec<Value> {
    let root = url.trim_end_matches("/v1");
    let response = reqwest::get(format!("{root}/slots")).await.unwrap();
    let slots: Vec<Value> = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    slots
        .into_iter()
        .filter_map(|mut slot| slot.get_mut("params").map(Value::take))
        .collect()
}

/// `[top_k, min_p, repeat_penalty]` of a slot's task.
fn sampling_of(params: &Value) -> [f64; 3] {
    ["top_k", "min_p", "repeat_penalty"].map(|f| params[f].as_f64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_server_batches_honours_n_and_counts_tokens_per_choice() {
    let server = RealServer::llama_server(4, 2048).unwrap_or_else(|e| panic!("{e}"));
    let model = server.model_id.clone();
    let url = server.base_url();

    // Completions with a raw ChatML prompt.
    let completions = problems(vec![
        PromptInput::Text(chatml("Tell me a story.")),
        PromptInput::Text(chatml("Write a poem about the sea.")),
        PromptInput::Text(chatml("Describe your day.")),
    ]);
    let (pool, reports) = connect(
        vec![EndpointConfig::parse(&url, 8).unwrap()],
        &completions[0].input,
        &params(6),
        &options(&model, 16),
    )
    .await
    .unwrap();
    let report = &reports[0];
    assert!(report.contains("llama.cpp server"), "{report}");
    assert!(
        report.contains("context 512 tokens (/models meta.n_ctx)"),
        "{report}"
    );
    // n=16 is refused (4 slots): the probe settles on 4.
    assert!(report.contains("honours n up to at least 4"), "{report}");
    assert!(
        report.contains("usage covers 50% of the tokens"),
        "{report}"
    );
    assert!(
        report.contains("tokens per choice from post-sampling probabilities"),
        "{report}"
    );
    assert!(
        report.ends_with("sent switched off (top_k, min_p, repeat_penalty)"),
        "{report}"
    );
    let endpoint = &pool.endpoints()[0];
    assert_eq!(endpoint.plan.max_n, 4);
    assert_eq!(endpoint.plan.counting, TokenCounting::PostSamplingProbs);

    let grouped = sample_all(&pool, &model, &completions, 7, 16, params(6), None).await;
    for texts in exactly_n(&grouped, 3, 7) {
        let distinct: HashSet<&String> = texts.iter().collect();
        assert!(
            distinct.len() >= 6,
            "at temperature 1 samples differ: {texts:?}"
        );
    }
    for records in grouped.values() {
        for (tokens, logprob_sum) in completion_tokens(records) {
            let tokens = tokens.expect("counted from post-sampling probabilities");
            assert!((1..=6).contains(&tokens), "{tokens}");
            assert_eq!(
                logprob_sum, None,
                "post-sampling probabilities are no logprob sum"
            );
        }
    }
    let used = slot_params(&url).await;
    assert!(!used.is_empty());
    for params in &used {
        // The server's top-k 40 and min-p 0.05 were switched off: the run set neither.
        assert_eq!(sampling_of(params), [0.0, 0.0, 1.0], "{params}");
        // Tokens were counted from one post-sampling probability per token.
        assert_eq!(
            (&params["n_probs"], &params["post_sampling_probs"]),
            (&json!(1), &json!(true)),
            "{params}"
        );
    }

    // Chat messages go to /v1/chat/completions, n honoured there too.
    let chat = problems(vec![PromptInput::Chat(vec![ChatMessage {
        role: "user".into(),
        content: json!("Give me a color."),
    }])]);
    let (chat_pool, chat_reports) = connect(
        vec![EndpointConfig::parse(&url, 8).unwrap()],
        &chat[0].input,
        &params(5),
        &options(&model, 4),
    )
    .await
    .unwrap();
    assert!(chat_reports[0].contains("honours n"), "{}", chat_reports[0]);
    // With log-probabilities asked for, they are the model's own.
    let grouped = sample_all(&chat_pool, &model, &chat, 5, 4, params(5), Some(2)).await;
    exactly_n(&grouped, 1, 5);
    for (tokens, logprob_sum) in completion_tokens(&grouped["q0"]) {
        assert!((1..=5).contains(&tokens.expect("counted from log-probabilities")));
        assert!(logprob_sum.expect("the model's log-probabilities") < 0.0);
    }
    let with_logprobs: Vec<Value> = slot_params(&url)
        .await
        .into_iter()
        .filter(|params| params["n_probs"] == json!(2))
        .collect();
    assert!(!with_logprobs.is_empty());
    for params in with_logprobs {
        assert_eq!(params["post_sampling_probs"], json!(false), "{params}");
    }

    // Why seeds are base + index: this server seeds the children of `seed=s, n=k` with
    // s..s+k, so naive per-request seeds s and s+1 return overlapping samples.
    let body = |seed: u64, n: u32| {
        json!({"model": model, "prompt": "Once upon a time", "n": n, "max_tokens": 8,
               "temperature": 1.0, "seed": seed})
    };
    let texts = |answer: &Value| -> Vec<String> {
        answer["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = texts(&raw_completion(&url, body(500, 3)).await);
    let second = texts(&raw_completion(&url, body(501, 3)).await);
    assert_eq!(first[1..], second[..2], "children are seeded seed+i");
    // Those raw requests left top_k and min_p out and got the server's own defaults.
    let defaults = slot_params(&url).await;
    assert!(
        defaults.iter().any(|params| {
            let [top_k, min_p, _] = sampling_of(params);
            top_k == 40.0 && (min_p - 0.05).abs() < 1e-6
        }),
        "{defaults:?}"
    );

    // Scoring: llama-server ignores `echo`, and there is no prompt_logprobs.
    let items = vec![ScoreItem {
        index: 0,
        prompt: chatml("Hi"),
        response: "Hello!".into(),
    }];
    let error = connect_for_scoring(
        vec![EndpointConfig::parse(&url, 8).unwrap()],
        &items,
        &options(&model, 4),
    )
    .await
    .err()
    .expect("llama-server cannot score");
    let ConnectError::Scoring(errors) = &error else {
        panic!("{error}")
    };
    assert_eq!(errors[0].problem, ScoringProblem::Unsupported);
    assert!(error.to_string().starts_with(&url), "{error}");

    // The context check: 512 tokens per slot.
    let long = "word ".repeat(600);
    let checked = problems(vec![
        PromptInput::Text(chatml("Short.")),
        PromptInput::Text(chatml(&long)),
    ]);
    let report = check_context(
        &pool,
        &model,
        &params(64),
        &checked,
        512,
        RetryPolicy::default(),
        StopSignal::default(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(report.checked, 2);
    assert_eq!(report.unfit.len(), 1, "{:?}", report.unfit);
    assert_eq!(report.unfit[0].problem_id, "q1");
}

/// Reference scores from llama.cpp itself through llama-cpp-python's low-level API.
fn reference_scores(pairs: &[(String, String)]) -> Vec<(f64, u32)> {
    let python = boundary_testserver::real::llama_python().unwrap();
    let model = boundary_testserver::real::test_model().unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/reference_logprobs.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        for (prompt, response) in pairs {
            writeln!(stdin, "{}", json!({"prompt": prompt, "response": response})).unwrap();
        }
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (
                v["logprob_sum"].as_f64().unwrap(),
                v["num_tokens"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn llama_cpp_python_ignores_n_and_scores_through_echo() {
    let server = RealServer::llama_cpp_python().unwrap_or_else(|e| panic!("{e}"));
    let model = server.model_id.clone();
    let url = server.base_url();

    let texts = problems(vec![
        PromptInput::Text(chatml("Name an animal.")),
        PromptInput::Text(chatml("Count to three.")),
    ]);
    let (pool, reports) = connect(
        vec![EndpointConfig::parse(&url, 4).unwrap()],
        &texts[0].input,
        &params(5),
        &options(&model, 16),
    )
    .await
    .unwrap();
    let report = &reports[0];
    assert!(report.contains("llama-cpp-python server"), "{report}");
    assert!(report.contains("ignores n"), "{report}");
    assert!(report.contains("context length not reported"), "{report}");
    let plan = pool.endpoints()[0].plan;
    assert_eq!(
        (plan.max_n, plan.counting),
        (1, TokenCounting::SingleChoiceUsage)
    );
    // Asked for 3 per problem, it answers one choice per request: each is asked for.
    let grouped = sample_all(&pool, &model, &texts, 3, 16, params(5), None).await;
    exactly_n(&grouped, 2, 3);
    for records in grouped.values() {
        for (tokens, _) in completion_tokens(records) {
            assert!((1..=5).contains(&tokens.expect("usage of one-choice requests")));
        }
    }

    // Scoring through echo, checked against llama.cpp computed directly.
    let pairs = vec![
        (chatml("Hi"), "The phrase \"".to_owned()),
        (chatml("What is 2+3?"), "2+3 equals 5.".to_owned()),
        (
            chatml("Name a fruit."),
            "An apple, a pear and a plum.".to_owned(),
        ),
    ];
    let items: Vec<ScoreItem> = pairs
        .iter()
        .enumerate()
        .map(|(index, (prompt, response))| ScoreItem {
            index,
            prompt: prompt.clone(),
            response: response.clone(),
        })
        .collect();
    let (pool, scorer, reports) = connect_for_scoring(
        vec![EndpointConfig::parse(&url, 4).unwrap()],
        &items,
        &options(&model, 1),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        reports[0].contains("scores with echo + logprobs"),
        "{}",
        reports[0]
    );
    assert!(
        reports[0].contains("matches generation within"),
        "{}",
        reports[0]
    );
    let (sender, mut receiver) = mpsc::channel(16);
    score(
        &pool,
        scorer,
        items,
        sender,
        Arc::new(Progress::default()),
        StopSignal::default(),
    )
    .await
    .unwrap();
    let mut scored = Vec::new();
    while let Some(record) = receiver.recv().await {
        scored.push(record);
    }
    scored.sort_by_key(|r| r.index);
    let reference = reference_scores(&pairs);
    for (record, (expected_sum, expected_tokens)) in scored.iter().zip(&reference) {
        let ScoreOutcome::Scored(s) = &record.outcome else {
            panic!("{record:?}")
        };
        assert_eq!(s.num_tokens, *expected_tokens, "{record:?}");
        let per_token = (s.logprob_sum - expected_sum).abs() / f64::from(s.num_tokens);
        assert!(per_token < 0.02, "{record:?} vs reference {expected_sum}");
    }

    // A plain prompt (no BOS): this server's echo scores are shifted; refused at start.
    let plain = vec![ScoreItem {
        index: 0,
        prompt: "1, 2, 3, 4,".into(),
        response: " 5, 6".into(),
    }];
    let error = connect_for_scoring(
        vec![EndpointConfig::parse(&url, 4).unwrap()],
        &plain,
        &options(&model, 1),
    )
    .await
    .err()
    .expect("shifted scores are refused");
    let ConnectError::Scoring(errors) = &error else {
        panic!("{error}")
    };
    let ScoringProblem::Misaligned { difference, .. } = &errors[0].problem else {
        panic!("{error}")
    };
    assert!(*difference > 1.0, "{error}");
}
