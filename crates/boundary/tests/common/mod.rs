//! Helpers for running the real `boundary` binary in a temporary directory.

#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct TestDir {
    pub dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Runs `boundary` with `args` in this directory.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_boundary"))
            .args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1")
            .env_remove("BOUNDARY_LOG")
            .output()
            .expect("boundary runs")
    }

    /// Runs `boundary` and returns stdout, failing the test on a non-zero exit.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "boundary {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs `boundary`, expects failure, and returns stderr with the temp dir masked.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "boundary {args:?} should fail");
        self.mask(&String::from_utf8_lossy(&out.stderr))
    }

    /// Samples per run of `store` as (model, samples), in run order, read through
    /// `boundary runs --json` (so a test needs no second SQLite): none while the store does
    /// not exist, and `boundary runs`'s stderr while it cannot be read.
    pub fn samples_per_run(&self, store: &str) -> Result<Vec<(String, u64)>, String> {
        if !self.path(store).exists() {
            return Ok(Vec::new());
        }
        let out = self.run(&["runs", "--store", store, "--json"]);
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs JSON");
        Ok(runs["runs"]
            .as_array()
            .expect("a list of runs")
            .iter()
            .map(|r| {
                (
                    r["model"].as_str().expect("a model").to_owned(),
                    r["samples"].as_u64().expect("a sample count"),
                )
            })
            .collect())
    }

    pub fn mask(&self, text: &str) -> String {
        text.replace(&self.dir.path().display().to_string(), "[DIR]")
    }
}

/// Writes `lines` as a JSON Lines file.
pub fn jsonl(lines: &[serde_json::Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// A synthetic store file: `problems` problems × `n` samples for two models, where
/// "base" solves problem p with probability p/problems and "rl" solves only the easy
/// half but more often. Deterministic.
pub fn two_model_samples(problems: u32, n: u32) -> String {
    let mut lines = String::new();
    for model in ["base", "rl"] {
        for p in 0..problems {
            for i in 0..n {
                let correct = match model {
                    "base" => (i * problems) % (problems + 1) < p,
                    _ => p < problems / 2 && i % 4 != 0,
                };
                lines.push_str(&format!(
                    "{{\"model\":\"{model}\",\"benchmark\":\"toy\",\"problem_id\":\"p{p}\",\"sample_index\":{i},\"response\":\"r{i}\",\"correct\":{correct}}}\n"
                ));
            }
        }
    }
    lines
}

/// Where the setup scripts cache what they install: `$BOUNDARY_CACHE` or ~/.cache/boundary.
fn cache_dir() -> PathBuf {
    std::env::var_os("BOUNDARY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/boundary")
        })
}

/// The real test model, SmolLM2-135M-Instruct (GGUF), fetched by `scripts/setup/model.sh`.
pub fn smollm2() -> PathBuf {
    let path = cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup/model.sh (scripts/test does it for you)",
        path.display()
    );
    path
}

/// The Python of `$BOUNDARY_CACHE/venv-NAME`, made by `scripts/setup/NAME.sh`.
pub fn venv_python(name: &str) -> PathBuf {
    let python = cache_dir().join(format!("venv-{name}/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup/{name}.sh (scripts/test does it for you)",
        python.display()
    );
    python
}
