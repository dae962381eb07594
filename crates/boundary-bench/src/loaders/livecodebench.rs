//! LiveCodeBench's `code_generation_lite` release: JSON Lines files `test.jsonl`,
//! `test2.jsonl`, … (one per release increment) with `question_id`, `question_title`,
//! `question_content`, `platform`, `contest_date`, `starter_code`, `difficulty`, the
//! test cases and a `metadata` JSON string. Read from a local file or folder, or from
//! the Hub; the Hub's Parquet conversion of the same columns reads the same way.

use std::path::PathBuf;

use serde_json::Value;

use super::{keep, load_with};
use crate::error::{BenchError, Result};
use crate::problem::Problem;
use crate::registry::Benchmark;
use crate::source::LoadOptions;

pub const HUB_REPO: &str = "livecodebench/code_generation_lite";
/// The paper's window: LiveCodeBench v5, contests from August 2024 to January 2025.
pub const DEFAULT_VERSION: &str = "release_v5";
pub const DEFAULT_START: &str = "2024-08-01";
pub const DEFAULT_END: &str = "2025-01-31";

/// The files that make up a release: `release_vN` is `test.jsonl` … `testN.jsonl`.
pub fn release_files(version: &str) -> Option<Vec<String>> {
    let n: usize = version.strip_prefix("release_v")?.parse().ok()?;
    (1..=n)
        .map(|i| match i {
            1 => Some("test.jsonl".to_owned()),
            i => Some(format!("test{i}.jsonl")),
        })
        .collect()
}

/// The local files a load reads: the user's file, the release's files in the user's
/// folder, or the release's files from the Hub.
pub fn files(options: &LoadOptions) -> Result<Vec<PathBuf>> {
    let version = options.version.as_deref().unwrap_or(DEFAULT_VERSION);
    let names = release_files(version).ok_or_else(|| BenchError::DataMissing {
        benchmark: "livecodebench".into(),
        what: format!("release `{version}`"),
        hint: "releases are named release_v1 … release_v6".into(),
    })?;
    match (&options.path, &options.hub) {
        (Some(path), _) if path.is_dir() => {
            let found: Vec<PathBuf> = names
                .iter()
                .map(|n| path.join(n))
                .filter(|p| p.exists())
                .collect();
            if found.is_empty() {
                return Err(BenchError::DataMissing {
                    benchmark: "livecodebench".into(),
                    what: format!("{} in {}", names.join(", "), path.display()),
                    hint: "download them from the code_generation_lite dataset".into(),
                });
            }
            Ok(found)
        }
        (Some(path), _) => Ok(vec![path.clone()]),
        (None, Some(hub)) => names.iter().map(|n| hub.get(HUB_REPO, n)).collect(),
        (None, None) => Err(BenchError::DataMissing {
            benchmark: "livecodebench".into(),
            what: "the code_generation_lite files (not redistributable here)".into(),
            hint: "give `path` (a test*.jsonl file or the folder holding them) or allow \
                   downloads from the Hugging Face Hub"
                .into(),
        }),
    }
}

/// Problems of the release whose contest date falls in the window.
pub fn load(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    let start = options.start_date.as_deref().unwrap_or(DEFAULT_START);
    let end = options.end_date.as_deref().unwrap_or(DEFAULT_END);
    let mut problems = Vec::new();
    for path in files(options)? {
        problems.extend(load_with(&path, |f| {
            let date = f.text("contest_date")?;
            let day = date.get(..10).unwrap_or(&date);
            if day < start || day > end {
                return Ok(None);
            }
            let mut p = Problem::new(f.text("question_id")?, f.text("question_content")?, None);
            keep(
                &mut p,
                f,
                &[
                    "question_title",
                    "platform",
                    "contest_id",
                    "contest_date",
                    "difficulty",
                ],
            );
            p.fields.insert(
                "starter_code".into(),
                Value::String(f.optional_text("starter_code")?.unwrap_or_default()),
            );
            if let Some(Value::String(meta)) = f.get("metadata")
                && let Ok(Value::Object(meta)) = serde_json::from_str::<Value>(meta)
                && let Some(name) = meta.get("func_name")
            {
                p.fields.insert("func_name".into(), name.clone());
            }
            Ok(Some(p))
        })?);
    }
    if problems.is_empty() {
        return Err(BenchError::Empty {
            benchmark: benchmark.name().to_owned(),
            detail: format!(" with a contest date from {start} to {end}"),
        });
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_cumulative_files() {
        assert_eq!(release_files("release_v1").unwrap(), ["test.jsonl"]);
        assert_eq!(
            release_files("release_v3").unwrap(),
            ["test.jsonl", "test2.jsonl", "test3.jsonl"]
        );
        assert_eq!(release_files("v5"), None);
    }
}
