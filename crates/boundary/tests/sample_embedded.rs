//! `boundary sample` and `boundary score` with the embedded engine, through the real binary
//! and the real SmolLM2 model: samples land in the store, a re-run makes nothing, SIGKILL
//! mid-run loses nothing and the resumed run ends with the same samples as an uninterrupted
//! one, and scores are the model's log-probabilities.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDir;
use serde_json::Value;

const PROMPTS: &str = concat!(
    r#"{"id": "add", "prompt": "Question: What is 17 + 25?\nAnswer:", "gold": "42"}"#,
    "\n",
    r#"{"id": "chat", "messages": [{"role": "user", "content": "Name a prime number."}], "gold": "7"}"#,
    "\n",
);

/// `boundary sample` of prompts.jsonl at temperature 1 with seed 7, on one thread.
fn sample_args<'a>(
    model: &'a str,
    store: &'a str,
    n: &'a str,
    max_tokens: &'a str,
) -> Vec<&'a str> {
    vec![
        "sample",
        "--model",
        model,
        "--prompts",
        "prompts.jsonl",
        "--store",
        store,
        "--n",
        n,
        "--max-tokens",
        max_tokens,
        "--temperature",
        "1.0",
        "--seed",
        "7",
        "--threads",
        "1",
    ]
}

fn replace<'a>(mut args: Vec<&'a str>, flag: &str, value: &'a str) -> Vec<&'a str> {
    let at = args
        .iter()
        .position(|a| *a == flag)
        .expect("the flag is there");
    args[at + 1] = value;
    args
}

/// problem → sample index → response, read back with `boundary export`.
fn responses(t: &TestDir, store: &str) -> BTreeMap<(String, u64), String> {
    t.ok(&["export", "--store", store, "--format", "jsonl"])
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            assert_eq!(row["status"], "ok", "{row}");
            (
                (
                    row["problem_id"].as_str().unwrap().to_owned(),
                    row["sample_index"].as_u64().unwrap(),
                ),
                row["response"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn samples_resume_and_are_refused_on_changed_settings() {
    let t = TestDir::new();
    t.write("prompts.jsonl", PROMPTS);
    let model = common::smollm2();
    let model = model.to_str().unwrap();
    let mut args = sample_args(model, "run.db", "3", "16");
    args.push("--json");
    let summary: Value = serde_json::from_str(&t.ok(&args)).unwrap();
    assert_eq!(summary["completed"], 6, "{summary}");
    assert_eq!(summary["written"], 6, "{summary}");
    assert_eq!(summary["missing"], 0, "{summary}");
    let first = responses(&t, "run.db");
    assert_eq!(first.len(), 6);
    // Three samples of one prompt at temperature 1 are not all the same text.
    let add: Vec<&String> = (0..3).map(|i| &first[&("add".to_owned(), i)]).collect();
    assert!(add[0] != add[1] || add[1] != add[2], "{add:?}");

    // The same command again makes nothing.
    let again: Value = serde_json::from_str(&t.ok(&args)).unwrap();
    assert_eq!(again["written"], 0, "{again}");
    assert_eq!(responses(&t, "run.db"), first);

    // Another temperature for the same model and prompts is refused, naming the change.
    let changed = replace(
        sample_args(model, "run.db", "3", "16"),
        "--temperature",
        "0.5",
    );
    let err = t.fails(&changed);
    assert!(err.contains("temperature: 1.0 → 0.5"), "{err}");

    // Flash attention moves log-probabilities, so switching it on is a changed setting too;
    // a run of its own with it completes.
    let mut flash = sample_args(model, "run.db", "3", "16");
    flash.push("--flash-attention");
    let err = t.fails(&flash);
    assert!(err.contains("flash_attention"), "{err}");
    let mut flash = sample_args(model, "flash.db", "1", "8");
    flash.extend(["--flash-attention", "--json"]);
    let summary: Value = serde_json::from_str(&t.ok(&flash)).unwrap();
    assert_eq!(summary["completed"], 2, "{summary}");
}

#[test]
fn sigkill_mid_run_then_rerun_matches_an_uninterrupted_run() {
    let t = TestDir::new();
    t.write("prompts.jsonl", PROMPTS);
    let model = common::smollm2();
    let model = model.to_str().unwrap();
    t.ok(&sample_args(model, "whole.db", "6", "48"));
    let whole = responses(&t, "whole.db");
    assert_eq!(whole.len(), 12);

    // Kill the second run as soon as its first samples are committed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_boundary"))
        .args(sample_args(model, "killed.db", "6", "48"))
        .current_dir(t.dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(t.path("killed.log")).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut stored_before_kill = 0;
    while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
        // Unreadable while the command is still creating the store: nothing stored yet.
        if let Ok(runs) = t.samples_per_run("killed.db") {
            stored_before_kill = runs.first().map_or(0, |(_, n)| *n);
            if stored_before_kill > 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        stored_before_kill > 0,
        "no sample was stored before the kill ({status}): {}",
        std::fs::read_to_string(t.path("killed.log")).unwrap()
    );

    t.ok(&sample_args(model, "killed.db", "6", "48"));
    // Each sample's seed depends on (run seed, problem, index) only, so the resumed run
    // holds exactly the uninterrupted run's samples.
    assert_eq!(responses(&t, "killed.db"), whole);
}

/// A true and an absurd continuation of one prompt, as `boundary score` input.
const CAPITAL_PAIRS: &str = concat!(
    r#"{"id": 1, "prompt": "The capital of France is", "response": " Paris."}"#,
    "\n",
    r#"{"id": 2, "prompt": "The capital of France is", "response": " a purple elephant."}"#,
    "\n",
);

#[test]
fn scores_are_log_probabilities_of_the_response_tokens() {
    let t = TestDir::new();
    let model = common::smollm2();
    let model = model.to_str().unwrap();
    t.write("pairs.jsonl", CAPITAL_PAIRS);
    let out = t.ok(&["score", "--model", model, "--input", "pairs.jsonl"]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in &lines {
        let logprob = line["logprob_sum"].as_f64().unwrap();
        let tokens = line["num_tokens"].as_f64().unwrap();
        assert!(logprob < 0.0 && tokens >= 2.0, "{line}");
        let perplexity = line["perplexity"].as_f64().unwrap();
        assert!(
            (perplexity - (-logprob / tokens).exp()).abs() < 1e-6 * perplexity,
            "{line}"
        );
    }
    // The model finds the true continuation far likelier than the absurd one.
    let per_token =
        |l: &Value| l["logprob_sum"].as_f64().unwrap() / l["num_tokens"].as_f64().unwrap();
    assert!(per_token(&lines[0]) > per_token(&lines[1]) + 1.0, "{out}");
    // Scoring is deterministic.
    assert_eq!(
        t.ok(&["score", "--model", model, "--input", "pairs.jsonl"]),
        out
    );
}

#[test]
fn scores_a_small_model_with_f32_weights_unless_told_to_keep_the_stored_ones() {
    let t = TestDir::new();
    t.write("pairs.jsonl", CAPITAL_PAIRS);
    let model = common::smollm2();
    let model = model.to_str().unwrap();
    let score = |weights: Option<&str>| {
        let mut args = vec!["score", "-v", "--model", model, "--input", "pairs.jsonl"];
        args.extend(weights.map(|w| ["--weights", w]).into_iter().flatten());
        let out = t.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines, stderr)
    };
    // SmolLM2's weights are mostly Q4_1, and in f32 take about 540 MB, under `auto`'s limit
    // (`auto` expands only where it was measured faster: x86-64).
    let (auto, auto_log) = score(None);
    let (expanded, _) = score(Some("f32"));
    let (stored, stored_log) = score(Some("stored"));
    assert!(stored_log.contains("as stored"), "{stored_log}");
    if cfg!(target_arch = "x86_64") {
        assert!(auto_log.contains("expanded to f32"), "{auto_log}");
        assert_eq!(auto, expanded);
    } else {
        assert_eq!(auto, stored);
    }

    // The same weight values: the scores differ only by the 8-bit rounding of activations
    // that llama.cpp does with Q4_1 weights.
    assert_eq!(stored.len(), 2);
    for (f32_line, stored_line) in expanded.iter().zip(&stored) {
        assert_eq!(f32_line["num_tokens"], stored_line["num_tokens"]);
        let per_token =
            |l: &Value| l["logprob_sum"].as_f64().unwrap() / l["num_tokens"].as_f64().unwrap();
        let difference = (per_token(f32_line) - per_token(stored_line)).abs();
        assert!(difference < 0.1, "{f32_line} vs {stored_line}");
    }
    assert_ne!(expanded, stored, "the rounding moves some log-probability");
}
