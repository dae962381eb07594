//! `run_plan` against a real SQLite run store and SmolLM2: every sample lands in the store,
//! a problem whose prompt cannot run is stored as failed while the others go on, and a run
//! topped up in two commands holds exactly the samples of a run made in one.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use boundary_engine::{GenerationConfig, run_plan};
use boundary_sample::{ChatMessage, PromptInput, PromptRecord, SamplingParams, StoreSink, plan};
use boundary_store::{RunSpec, Store};
use common::smollm2;
use serde_json::{Map, json};

fn chat(id: &str, question: &str) -> PromptRecord {
    PromptRecord {
        id: id.into(),
        input: PromptInput::Chat(vec![ChatMessage {
            role: "user".into(),
            content: json!(question),
        }]),
        gold: None,
        metadata: None,
    }
}

fn prompts() -> Vec<PromptRecord> {
    vec![
        chat("add", "What is 2 + 3?"),
        chat("capital", "Name the capital of France."),
        // Far longer than SmolLM2's 8,192-token context.
        PromptRecord {
            id: "too-long".into(),
            input: PromptInput::Text("one two three four ".repeat(3000)),
            gold: None,
            metadata: None,
        },
    ]
}

fn params() -> SamplingParams {
    SamplingParams {
        temperature: 0.8,
        top_p: 0.95,
        top_k: None,
        min_p: None,
        max_tokens: 12,
        stop: Vec::new(),
        seed: 7,
        extra: Map::new(),
    }
}

fn spec() -> RunSpec {
    RunSpec {
        model: "SmolLM2-135M-Instruct".into(),
        benchmark: "store-run-test".into(),
        source: "embedded".into(),
        sampling: serde_json::to_value(params()).unwrap(),
        seed: Some(7),
    }
}

/// Samples until every problem has `n`, in one command; returns (completed, failed) written.
fn sample(store_path: &Path, n: u32) -> (u64, u64) {
    let mut store = Store::open(store_path).unwrap();
    let plan = plan(&mut store, &spec(), &prompts(), n, None).unwrap();
    let sink = StoreSink::spawn(store, plan.run.id);
    let handle = sink.handle();
    let config = GenerationConfig {
        max_sequences: 4,
        ..GenerationConfig::default()
    };
    let mut progress_calls = 0;
    let summary = run_plan(smollm2(), &plan, &params(), &config, &handle, |_| {
        progress_calls += 1
    })
    .unwrap();
    drop(handle);
    let written = sink.finish().unwrap();
    assert!(progress_calls > 0);
    assert_eq!(written.completed, summary.completed);
    (summary.completed, summary.failed)
}

/// (problem, index) → (status, response or error) for every stored sample.
fn stored(store_path: &Path) -> BTreeMap<(String, i64), (String, Option<String>)> {
    let db = rusqlite::Connection::open(store_path).unwrap();
    let mut query = db
        .prepare(
            "SELECT p.key, s.sample_index, s.status, COALESCE(s.response, s.error)
             FROM samples s JOIN problems p ON p.id = s.problem_id",
        )
        .unwrap();
    query
        .query_map([], |row| {
            Ok(((row.get(0)?, row.get(1)?), (row.get(2)?, row.get(3)?)))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn samples_stream_into_the_store_and_top_ups_match_a_single_run() {
    let temp = tempfile::tempdir().unwrap();
    let once = temp.path().join("once.db");
    let twice = temp.path().join("twice.db");

    assert_eq!(sample(&once, 3), (6, 3));
    let all = stored(&once);
    assert_eq!(all.len(), 9);
    for ((problem, _), (status, text)) in &all {
        let text = text.as_deref().unwrap_or_default();
        if problem == "too-long" {
            assert_eq!(status, "failed");
            assert!(
                text.contains("problem too-long") && text.contains("context"),
                "{text}"
            );
        } else {
            assert_eq!(status, "ok", "{problem}: {text}");
        }
    }

    // Two samples first, then a top-up to three: the stored samples are the same, since each
    // sample's random stream depends only on (seed, problem, index).
    assert_eq!(sample(&twice, 2), (4, 2));
    // The failed samples are retried (and fail again); the completed ones are not redone.
    assert_eq!(sample(&twice, 3), (2, 3));
    let topped_up = stored(&twice);
    let ok = |m: &BTreeMap<(String, i64), (String, Option<String>)>| -> Vec<_> {
        m.iter()
            .filter(|(_, (status, _))| status == "ok")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    assert_eq!(ok(&topped_up), ok(&all));
}
