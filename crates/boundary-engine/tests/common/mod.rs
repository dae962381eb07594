//! Paths and loaders shared by the integration tests. The tests run the real SmolLM2 model and
//! compare with llama.cpp's own numbers; both are prepared by setup scripts, and a missing
//! prerequisite fails the test with the command that provides it.

#![allow(dead_code)] // each test binary uses a different part

use std::path::PathBuf;
use std::sync::OnceLock;

use boundary_engine::{Model, ModelOptions};

pub fn cache_dir() -> PathBuf {
    match std::env::var_os("BOUNDARY_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is not set"))
            .join(".cache/boundary"),
    }
}

pub fn smollm2_path() -> PathBuf {
    let path = cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup/model.sh",
        path.display()
    );
    path
}

pub fn test_data_dir() -> PathBuf {
    let dir = cache_dir().join("engine-test-data");
    assert!(
        dir.join(".stamp").is_file(),
        "{} is missing: run scripts/setup/engine-test-data.sh",
        dir.display()
    );
    dir
}

/// Model options for tests: all cores, or `BOUNDARY_THREADS` threads. (llama.cpp's threads
/// meet at a barrier after every operation, so on a machine busy with other work one thread
/// can be much faster than two.)
pub fn options() -> ModelOptions {
    ModelOptions {
        threads: std::env::var("BOUNDARY_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        ..ModelOptions::default()
    }
}

/// SmolLM2, loaded once per test binary.
pub fn smollm2() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::load(&smollm2_path(), &options()).expect("loading SmolLM2"))
}

/// llama.cpp's reference numbers for one model (see scripts/setup/engine_test_data.py).
pub fn reference(name: &str) -> serde_json::Value {
    let path = test_data_dir().join(format!("reference-{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The texts every tokenizer is checked on: adversarial strings, then MATH500 problems and
/// solutions (stored in the SmolLM2 reference).
pub fn reference_texts() -> Vec<String> {
    reference("smollm2")["texts"]
        .as_array()
        .expect("texts")
        .iter()
        .map(|t| t.as_str().expect("text").to_owned())
        .collect()
}

pub fn ids(value: &serde_json::Value) -> Vec<u32> {
    value
        .as_array()
        .expect("token ids")
        .iter()
        .map(|v| v.as_u64().expect("token id") as u32)
        .collect()
}
