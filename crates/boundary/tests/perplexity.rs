//! `boundary eval`'s perplexity stage on the real SmolLM2 model (embedded): real samples
//! imported under the experiment's names are scored given their stored prompts (chat and
//! raw), the scores match `boundary score` on the same pairs, the report shows them, and
//! re-runs score only what is missing; and a scorer on a real llama-cpp-python server.
//! Needs `scripts/setup/model.sh` and `scripts/setup/openai.sh`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use boundary_store::Store;
use boundary_testserver::RealServer;
use common::TestDir;
use serde_json::{Value, json};

/// SmolLM2's chat template applied to one user message, written out by hand so that the
/// embedded scorer's rendering of stored chat prompts is checked, not assumed.
fn smollm2_chat(question: &str) -> String {
    format!(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging \
         Face<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n"
    )
}

/// An experiment on the first four GSM8K problems with these `[[model]]`s.
fn experiment(models: &str, perplexity: &str) -> String {
    let header = "store = \"run.db\"\nout = \"report\"\n\n[analysis]\nbootstrap = 100\n";
    let benchmark = "[[benchmark]]\nname = \"gsm8k\"\nn = 8\nlimit = 4\n";
    format!("{header}\n{models}\n{benchmark}\n[perplexity]\n{perplexity}")
}

/// The two embedded models of the first test: one sampled with chat prompts, one raw.
fn embedded_models(model: &std::path::Path) -> String {
    let path = model.display();
    format!(
        "[[model]]\nname = \"cool\"\npath = \"{path}\"\nprompt = \"chat\"\n\n\
         [[model]]\nname = \"hot\"\npath = \"{path}\"\nprompt = \"raw\"\n"
    )
}

/// The demo's real SmolLM2 samples (GSM8K, two temperatures, chat prompts), each
/// response cut to its first 200 characters: scoring on this CPU runs at about 150 tokens
/// a second, and a prefix of a real response is still real text to score.
fn demo_samples() -> Vec<Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/smollm2-gsm8k.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut sample: Value = serde_json::from_str(l).unwrap();
            let response: String = sample["response"]
                .as_str()
                .unwrap()
                .chars()
                .take(200)
                .collect();
            sample["response"] = json!(response);
            sample
        })
        .collect()
}

/// The question of a demo sample's chat prompt.
fn question(demo: &Value) -> Option<String> {
    let messages: Value = serde_json::from_str(demo["prompt"].as_str()?).ok()?;
    Some(messages[0]["content"].as_str()?.to_owned())
}

/// One imported sample: the demo's real SmolLM2 responses to GSM8K, under this
/// experiment's names. The demo's t = 0.3 samples keep their chat prompt; the t = 1.0
/// ones get a raw prompt (problem 1's is left out, so it cannot be scored).
fn imported(demo: &Value) -> Option<Value> {
    let model = match demo["model"].as_str()? {
        "smollm2-135m-t0.3" => "cool",
        _ => "hot",
    };
    let problem = demo["problem_id"].as_str()?;
    if problem.parse::<u32>().ok()? >= 3 {
        return None;
    }
    let mut line = json!({
        "model": model,
        "benchmark": "gsm8k",
        "problem_id": problem,
        "sample_index": demo["sample_index"],
        "response": demo["response"],
        "gold": demo["gold"],
    });
    let question = question(demo)?;
    match (model, problem) {
        ("cool", _) => line["prompt"] = demo["prompt"].clone(),
        ("hot", "1") => {}
        _ => line["prompt"] = json!(format!("Question: {question}\nAnswer:")),
    }
    Some(line)
}

/// (model, problem, sample index) → (logprob_sum, num_tokens) of every score by `scorer`.
fn stored_scores(t: &TestDir, scorer: &str) -> BTreeMap<(String, String, u32), (f64, u32)> {
    let store = Store::open_existing(t.path("run.db")).unwrap();
    let mut scores = BTreeMap::new();
    for run in store.runs().unwrap() {
        for s in store.scores(run.id, scorer).unwrap() {
            scores.insert(
                (run.model.clone(), s.problem, s.sample_index),
                (s.logprob_sum, s.num_tokens),
            );
        }
    }
    scores
}

/// `boundary eval --no-sample` on exp.toml; its stderr.
fn eval(t: &TestDir) -> String {
    eval_args(t, &["eval", "exp.toml", "--no-sample"])
}

fn eval_args(t: &TestDir, args: &[&str]) -> String {
    let out = t.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "eval failed:\n{stderr}");
    stderr
}

#[test]
fn eval_scores_stored_samples_and_reports_their_perplexity() {
    let model = common::smollm2();
    let t = TestDir::new();
    let lines: Vec<Value> = demo_samples().iter().filter_map(imported).collect();
    assert_eq!(lines.len(), 48, "3 problems × 8 samples × 2 models");
    t.write("samples.jsonl", &common::jsonl(&lines));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);

    // First the first sample of the first two problems of each model.
    let first = "scorer = \"cool\"\nproblems = 2\nsamples = 1\n";
    t.write("exp.toml", &experiment(&embedded_models(&model), first));
    let stderr = eval(&t);
    let scores = stored_scores(&t, "cool");
    // cool: problems 0 and 1; hot: 0 (problem 1 has no stored prompt).
    assert_eq!(scores.len(), 3, "{scores:?}\n{stderr}");
    assert!(
        stderr.contains("1 × no prompt is stored for the problem")
            && stderr.contains("hot on gsm8k, problem 1"),
        "{stderr}"
    );

    // Then two samples of each: only the three new ones are scored, the first kept.
    let more = "scorer = \"cool\"\nproblems = 2\nsamples = 2\n";
    t.write("exp.toml", &experiment(&embedded_models(&model), more));
    let stderr = eval(&t);
    assert!(stderr.contains("cool scores 3 responses of"), "{stderr}");
    let all = stored_scores(&t, "cool");
    assert_eq!(all.len(), 6, "{all:?}");
    for (key, value) in &scores {
        assert_eq!(all.get(key), Some(value), "{key:?} was rescored");
    }
    let wanted: Vec<(String, String, u32)> = [("cool", 0..2), ("hot", 0..1)]
        .into_iter()
        .flat_map(|(m, problems)| {
            problems.flat_map(move |p| (0..2).map(move |i| (m.to_owned(), p.to_string(), i)))
        })
        .collect();
    assert_eq!(all.keys().cloned().collect::<Vec<_>>(), wanted);

    // The same pairs through `boundary score`, prompts written out as text.
    let by_key: BTreeMap<(String, String, u32), &Value> = lines
        .iter()
        .map(|l| {
            let key = (
                l["model"].as_str().unwrap().to_owned(),
                l["problem_id"].as_str().unwrap().to_owned(),
                l["sample_index"].as_u64().unwrap() as u32,
            );
            (key, l)
        })
        .collect();
    let pairs: Vec<Value> = wanted
        .iter()
        .map(|key| {
            let line = by_key[key];
            let stored = line["prompt"].as_str().unwrap();
            let prompt = match key.0.as_str() {
                "cool" => smollm2_chat(&question(line).unwrap()),
                _ => stored.to_owned(),
            };
            json!({"prompt": prompt, "response": line["response"]})
        })
        .collect();
    t.write("pairs.jsonl", &common::jsonl(&pairs));
    let model_arg = model.display().to_string();
    t.ok(&[
        "score",
        "--model",
        &model_arg,
        "--input",
        "pairs.jsonl",
        "--output",
        "scored.jsonl",
        "--quiet",
    ]);
    let scored: Vec<(f64, u32)> = std::fs::read_to_string(t.path("scored.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["logprob_sum"].as_f64().unwrap(),
                v["num_tokens"].as_u64().unwrap() as u32,
            )
        })
        .collect();
    for (key, &(sum, tokens)) in wanted.iter().zip(&scored) {
        let (stored_sum, stored_tokens) = all[key];
        assert_eq!(stored_tokens, tokens, "{key:?}");
        assert!(tokens > 20, "{key:?}: 200 characters are dozens of tokens");
        // The same engine on the same tokens; only how requests share a batch differs.
        assert!(
            (stored_sum - sum).abs() <= 1e-3 * sum.abs(),
            "{key:?}: eval {stored_sum} vs score {sum}"
        );
    }

    // The report's perplexity table: per model, the responses and tokens scored, and the
    // pooled perplexity of `boundary score`'s numbers.
    let report = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    assert!(report.contains("## Perplexity"), "{report}");
    assert!(
        t.path("report/plots/gsm8k-perplexity.svg").exists(),
        "the box plot is drawn"
    );
    let table: Value = serde_json::from_str(
        &std::fs::read_to_string(t.path("report/tables/perplexity.json")).unwrap(),
    )
    .unwrap();
    let rows = table["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{table}");
    for (row, model) in rows.iter().zip(["cool", "hot"]) {
        let of_model: Vec<(f64, u32)> = wanted
            .iter()
            .zip(&scored)
            .filter(|(k, _)| k.0 == model)
            .map(|(_, &s)| s)
            .collect();
        let sum: f64 = of_model.iter().map(|s| s.0).sum();
        let tokens: u32 = of_model.iter().map(|s| s.1).sum();
        assert_eq!(row["scorer"], "cool", "{row}");
        assert_eq!(row["responses of"], model, "{row}");
        assert_eq!(row["responses"], of_model.len(), "{row}");
        assert_eq!(row["tokens"], tokens, "{row}");
        let pooled = row["pooled"]["value"].as_f64().unwrap();
        let expected = (-sum / f64::from(tokens)).exp();
        assert!((pooled - expected).abs() < 1e-3 * expected, "{row}");
    }

    // A third run has nothing left to score: the scorer is not even loaded.
    let stderr = eval(&t);
    assert!(!stderr.contains("responses scored by"), "{stderr}");
    assert!(stderr.contains("2 × no prompt is stored"), "{stderr}");
    assert_eq!(stored_scores(&t, "cool"), all);

    // `boundary report` on the store alone shows the same perplexities.
    t.ok(&[
        "report",
        "--store",
        "run.db",
        "--out",
        "alone",
        "--bootstrap",
        "100",
        "--quiet",
    ]);
    let alone = std::fs::read_to_string(t.path("alone/tables/perplexity.json")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&alone).unwrap(),
        table,
        "the same table from the store alone"
    );
}

#[test]
fn eval_scores_what_it_has_just_sampled() {
    let model = common::smollm2();
    let t = TestDir::new();
    let one_model = format!(
        "[sampling]\nmax_tokens = 24\n\n[[model]]\nname = \"small\"\npath = \"{}\"\n\
         prompt = \"chat\"\n",
        model.display()
    );
    // The weights as stored: what llama.cpp itself computes with this file.
    let text = experiment(
        &one_model,
        "scorer = \"small\"\nproblems = 2\nsamples = 2\nweights = \"stored\"\n",
    );
    // Two samples of the first two problems: n = 2, limit = 2.
    t.write(
        "exp.toml",
        &text.replace("n = 8\nlimit = 4", "n = 2\nlimit = 2"),
    );
    let stderr = eval_args(&t, &["eval", "exp.toml", "-v"]);
    assert!(
        stderr.contains("sampling small on gsm8k: 4 samples"),
        "{stderr}"
    );
    assert!(stderr.contains("small scores 4 responses"), "{stderr}");
    assert!(
        stderr.contains("scoring with the weights as stored"),
        "{stderr}"
    );
    let scores = stored_scores(&t, "small");
    assert_eq!(scores.len(), 4, "{scores:?}");
    assert!(
        scores.values().all(|&(sum, n)| n > 0 && sum < 0.0),
        "{scores:?}"
    );
    let report = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    assert!(report.contains("## Perplexity"), "{report}");
    // Everything is sampled and scored: a second eval makes and scores nothing.
    let stderr = eval_args(&t, &["eval", "exp.toml"]);
    assert!(!stderr.contains("responses scored by"), "{stderr}");
    assert_eq!(stored_scores(&t, "small"), scores);
}

#[test]
fn a_scorer_on_a_server_scores_raw_prompts_through_its_completions_endpoint() {
    // One response only: llama-cpp-python takes about 12 s per scoring request here.
    let server = RealServer::llama_cpp_python().unwrap_or_else(|e| panic!("{e}"));
    let t = TestDir::new();
    let models = format!(
        "[[model]]\nname = \"served\"\nendpoint = \"{}\"\nserved_model = \"{}\"\n",
        server.base_url(),
        server.model_id
    );
    let perplexity = "scorer = \"served\"\nproblems = 1\nsamples = 1\n";
    t.write("exp.toml", &experiment(&models, perplexity));
    // Real responses with the ChatML text they were sampled with, as raw prompts.
    let lines: Vec<Value> = demo_samples()
        .iter()
        .filter(|d| d["model"] == "smollm2-135m-t0.3" && d["problem_id"] == "0")
        .map(|d| {
            json!({
                "model": "served", "benchmark": "gsm8k", "problem_id": d["problem_id"],
                "sample_index": d["sample_index"], "response": d["response"], "gold": d["gold"],
                "prompt": smollm2_chat(&question(d).unwrap()),
            })
        })
        .collect();
    t.write("samples.jsonl", &common::jsonl(&lines));
    t.ok(&["import", "--store", "run.db", "--input", "samples.jsonl"]);
    let stderr = eval(&t);
    assert!(stderr.contains("scores with echo + logprobs"), "{stderr}");
    let scores = stored_scores(&t, "served");
    let key = ("served".to_owned(), "0".to_owned(), 0);
    assert_eq!(scores.keys().collect::<Vec<_>>(), [&key], "{stderr}");
    let (sum, tokens) = scores[&key];

    // The embedded engine runs the same GGUF file with the same weights: its `boundary score`
    // of the same pair agrees with the server's to well within 0.01 nats per token.
    let pair = json!({"prompt": lines[0]["prompt"], "response": lines[0]["response"]});
    t.write("pair.jsonl", &common::jsonl(&[pair]));
    let model = common::smollm2().display().to_string();
    let out = t.ok(&[
        "score",
        "--model",
        &model,
        "--input",
        "pair.jsonl",
        "--weights",
        "stored",
        "--quiet",
    ]);
    let embedded: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(embedded["num_tokens"], tokens);
    let difference = (embedded["logprob_sum"].as_f64().unwrap() - sum).abs() / f64::from(tokens);
    assert!(
        difference < 0.01,
        "{difference} nats/token: {embedded} vs {sum}"
    );
    let report = std::fs::read_to_string(t.path("report/report.md")).unwrap();
    assert!(report.contains("## Perplexity"), "{report}");
}

#[test]
fn perplexity_settings_the_scorer_cannot_honour_are_refused_before_sampling() {
    let t = TestDir::new();
    t.write("model.gguf", "never loaded: the dry run stops first");
    let text = r#"store = "run.db"

[[model]]
name = "base"
endpoint = "http://127.0.0.1:9/v1"
prompt = "chat"

[[model]]
name = "instruct"
path = "model.gguf"
prompt = "chat"

[[benchmark]]
name = "gsm8k"
n = 2
limit = 2

[[benchmark]]
name = "mathvision"
n = 2
limit = 1

[perplexity]
scorer = "base"
benchmarks = ["gsm8k", "mathvision"]
weights = "f32"
"#;
    t.write("exp.toml", text);
    let err = t.fails(&["eval", "exp.toml", "--dry-run"]);
    insta::assert_snapshot!("perplexity_refused", err);
    assert!(!t.path("run.db").exists());
}
