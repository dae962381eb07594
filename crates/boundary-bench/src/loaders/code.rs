//! HumanEval+ and MBPP+ in evalplus's released formats. The tests stay in the file:
//! the code verifier reads them from the same path; problems carry the task text, the
//! entry point and the test count.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{keep, load_with};
use crate::error::{BenchError, Result};
use crate::problem::Problem;
use crate::records::{Fields, Format};
use crate::registry::{Benchmark, DataSource};
use crate::source::LoadOptions;

/// The Hub dataset holding MBPP+ (Parquet, columns `task_id`, `prompt`, `test_list`, ...).
pub const MBPP_PLUS_HUB: &str = "evalplus/mbppplus";

/// The version of MBPP+ that [`mbpp_plus`] reads from the Hub when no `path` is given
/// (the vendored file is the older development copy).
pub const MBPP_PLUS_HUB_VERSION: &str = "v0.2.0";

fn vendored(benchmark: Benchmark, options: &LoadOptions) -> Result<PathBuf> {
    let DataSource::Vendored { file } = benchmark.info().source else {
        unreachable!("HumanEval+ and MBPP+ are vendored")
    };
    options.vendored_or_path(benchmark.name(), file)
}

/// The file MBPP+ is read from: the user's, the Hub's v0.2.0 Parquet when that version
/// is asked for, else the vendored development copy.
pub fn mbpp_plus_path(benchmark: Benchmark, options: &LoadOptions) -> Result<PathBuf> {
    match (&options.path, &options.hub, options.version.as_deref()) {
        (None, Some(hub), Some(MBPP_PLUS_HUB_VERSION)) => {
            let files = hub.find(MBPP_PLUS_HUB, "data/test-", ".parquet")?;
            let file = files.first().ok_or_else(|| BenchError::Hub {
                repo: MBPP_PLUS_HUB.into(),
                file: "data/test-*.parquet".into(),
                message: "no such file in the repository".into(),
            })?;
            hub.get(MBPP_PLUS_HUB, file)
        }
        (None, None, Some(MBPP_PLUS_HUB_VERSION)) => Err(BenchError::DataMissing {
            benchmark: benchmark.name().to_owned(),
            what: format!("MBPP+ {MBPP_PLUS_HUB_VERSION}"),
            hint: "give `path` (MbppPlus-v0.2.0.jsonl.gz from the evalplus release) or allow \
                   downloads from the Hugging Face Hub"
                .into(),
        }),
        _ => vendored(benchmark, options),
    }
}

/// The file HumanEval+ is read from: the user's, else the vendored v0.1.10.
pub fn humaneval_plus_path(benchmark: Benchmark, options: &LoadOptions) -> Result<PathBuf> {
    vendored(benchmark, options)
}

/// HumanEval+ (`task_id`, `prompt`, `entry_point`): the prompt is the function
/// signature and docstring the model completes.
pub fn humaneval_plus(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    load_with(&humaneval_plus_path(benchmark, options)?, |f| {
        let mut p = Problem::new(f.text("task_id")?, f.text("prompt")?, None);
        keep(&mut p, f, &["entry_point"]);
        p.fields.insert("tests".into(), json!(test_count(f)));
        Ok(Some(p))
    })
}

/// MBPP+, in either released form:
/// - evalplus JSONL (`MbppPlus-v0.2.0.jsonl[.gz]` or the vendored development copy):
///   `task_id` `Mbpp/N`, `prompt` a docstring. v0.2.0 prompts already show one test
///   assert (which names the function); the development copy keeps it in `assertion`,
///   so its first assert is put into the docstring the same way.
/// - the Hub's Parquet (`evalplus/mbppplus`): `task_id` N, `prompt` plain text,
///   `test_list` the asserts; written as the same docstring.
pub fn mbpp_plus(benchmark: Benchmark, options: &LoadOptions) -> Result<Vec<Problem>> {
    let path = mbpp_plus_path(benchmark, options)?;
    let parquet = Format::of(&path) == Some(Format::Parquet);
    load_with(&path, |f| {
        let problem = if parquet {
            hub_mbpp(f)?
        } else {
            evalplus_mbpp(f)?
        };
        Ok(Some(problem))
    })
}

fn evalplus_mbpp(f: &Fields<'_>) -> Result<Problem> {
    let prompt = f.text("prompt")?;
    let question = match f.optional_text("assertion")? {
        // The development copy: put the first assert inside the docstring, as v0.2.0 does.
        Some(assertion) if !prompt.contains("assert ") => {
            let first = assertion
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("assert "))
                .ok_or_else(|| f.error("field `assertion` has no `assert` line"))?;
            docstring(strip_docstring(&prompt), first)
        }
        _ => prompt,
    };
    let mut p = Problem::new(f.text("task_id")?, question, None);
    keep(&mut p, f, &["entry_point"]);
    p.fields.insert("tests".into(), json!(test_count(f)));
    Ok(p)
}

fn hub_mbpp(f: &Fields<'_>) -> Result<Problem> {
    let tests: Vec<String> = match f.get("test_list") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return Err(f.error("field `test_list` must be a list of assert statements")),
    };
    let first = tests
        .first()
        .ok_or_else(|| f.error("field `test_list` is empty"))?;
    let id = format!("Mbpp/{}", f.text("task_id")?);
    let mut p = Problem::new(id, docstring(f.text("prompt")?.trim(), first), None);
    p.fields.insert("tests".into(), json!(tests.len()));
    Ok(p)
}

/// The task text without its `'''`/`"""` quotes.
fn strip_docstring(prompt: &str) -> &str {
    prompt
        .trim()
        .trim_start_matches("\"\"\"")
        .trim_start_matches("'''")
        .trim_end_matches("\"\"\"")
        .trim_end_matches("'''")
        .trim()
}

fn docstring(text: &str, assert: &str) -> String {
    format!("\"\"\"\n{text}\n{}\n\"\"\"\n", assert.trim())
}

/// Base plus extra test inputs, when the record lists them as JSON arrays.
fn test_count(f: &Fields<'_>) -> usize {
    ["base_input", "plus_input"]
        .iter()
        .filter_map(|name| match f.get(name) {
            Some(Value::Array(items)) => Some(items.len()),
            Some(Value::String(text)) => serde_json::from_str::<Vec<Value>>(text)
                .ok()
                .map(|v| v.len()),
            _ => None,
        })
        .sum()
}
