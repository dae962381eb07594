//! The `boundary` binary against real servers with the SmolLM2 model: sampling from
//! llama.cpp's `llama-server` (continuous batching, `--parallel`) and scoring through
//! llama-cpp-python's server. Needs `scripts/setup/openai.sh`.

mod common;

use std::collections::BTreeMap;

use boundary_testserver::RealServer;
use common::TestDir;
use serde_json::{Value, json};

fn chatml(question: &str) -> String {
    format!("<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n")
}

#[test]
fn sample_from_llama_server_then_resume() {
    let server = RealServer::llama_server(4, 2048).unwrap_or_else(|e| panic!("{e}"));
    let t = TestDir::new();
    let lines: String = [
        "Tell me a story.",
        "Name three colors.",
        "What is 7 times 6?",
    ]
    .iter()
    .enumerate()
    .map(|(i, q)| format!("{}\n", json!({"id": format!("q{i}"), "prompt": chatml(q)})))
    .chain(std::iter::once(format!(
        "{}\n",
        json!({"id": "chat", "messages": [{"role": "user", "content": "Say hi."}]})
    )))
    .collect();
    t.write("p.jsonl", &lines);
    let url = server.base_url();
    let args = |n: &'static str| -> Vec<String> {
        [
            "sample",
            "--endpoint",
            &url,
            "--model",
            &server.model_id,
            "--prompts",
            "p.jsonl",
            "--n",
            n,
            "--max-tokens",
            "8",
            "--temperature",
            "1.0",
            "--store",
            "run.db",
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |n| {
        let args = args(n);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = t.run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A prompt file mixing raw text (completions) and chat messages: both routes.
    let (first, _) = run("6");
    assert_eq!(first["written"].as_u64(), Some(24), "{first}");
    assert_eq!(first["missing"].as_u64(), Some(0));
    let (topped, stderr) = run("9");
    assert_eq!(topped["written"].as_u64(), Some(12), "{topped}");
    assert!(stderr.is_empty(), "--json keeps stderr quiet: {stderr}");
    let exported = t.ok(&["export", "--store", "run.db", "--format", "jsonl"]);
    let mut per_problem: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in exported.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert_eq!(row["status"], "ok");
        let tokens = row["num_tokens"]
            .as_u64()
            .expect("tokens are counted per choice");
        assert!((1..=8).contains(&tokens), "{row}");
        per_problem
            .entry(row["problem_id"].as_str().unwrap().to_owned())
            .or_default()
            .push(row["sample_index"].as_u64().unwrap());
    }
    for (problem, mut indices) in per_problem {
        indices.sort_unstable();
        assert_eq!(indices, (0..9).collect::<Vec<_>>(), "{problem}");
    }
}

#[test]
fn score_through_llama_cpp_python() {
    let server = RealServer::llama_cpp_python().unwrap_or_else(|e| panic!("{e}"));
    let t = TestDir::new();
    let pairs = [
        json!({"id": 1, "prompt": chatml("What is 2+3?"), "response": "2+3 equals 5.", "model": "x"}),
        json!({"id": 2, "prompt": chatml("Name a fruit."), "response": "An apple."}),
    ];
    t.write("pairs.jsonl", &common::jsonl(&pairs));
    let url = server.base_url();
    t.ok(&[
        "score",
        "--endpoint",
        &url,
        "--model",
        &server.model_id,
        "--input",
        "pairs.jsonl",
        "--output",
        "scored.jsonl",
    ]);
    let scored: Vec<Value> = std::fs::read_to_string(t.path("scored.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(scored.len(), 2);
    for (line, pair) in scored.iter().zip(&pairs) {
        assert_eq!(line["id"], pair["id"], "input order and fields are kept");
        let sum = line["logprob_sum"].as_f64().unwrap();
        let tokens = line["num_tokens"].as_u64().unwrap();
        let perplexity = line["perplexity"].as_f64().unwrap();
        assert!(sum < 0.0 && tokens >= 3, "{line}");
        assert!((perplexity - (-sum / tokens as f64).exp()).abs() < 1e-9);
    }
    assert_eq!(scored[0]["model"], "x");

    // A plain prompt: this server's echo scores are shifted, so they are refused.
    t.write(
        "plain.jsonl",
        &common::jsonl(&[json!({"prompt": "1, 2, 3, 4,", "response": " 5, 6"})]),
    );
    let stderr = t.fails(&[
        "score",
        "--endpoint",
        &url,
        "--model",
        &server.model_id,
        "--input",
        "plain.jsonl",
    ]);
    assert!(
        stderr.contains("misaligned, refusing to use them"),
        "{stderr}"
    );
    assert!(stderr.contains(&url), "{stderr}");
}
