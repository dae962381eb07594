//! evalplus releases: HumanEval+ (`HumanEvalPlus-v*.jsonl`) and MBPP+ (`MbppPlus*.jsonl`).
//!
//! Fields: task_id, prompt, entry_point, canonical_solution, base_input, plus_input, atol
//! (MBPP+ also `assertion`). Expected outputs are not in the files: evalplus computes them
//! by running the canonical solution, and so does the harness (cached per problem).

use std::path::Path;

use crate::error::LoadError;
use crate::loaders::{jsonl_lines, rawjson};
use crate::problem::{Benchmark, CodeProblem, EvalPlusDataset, TestSuite};

/// Which tests an MBPP+ problem gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MbppTests {
    /// base + plus inputs, compared with the reference's outputs (the MBPP+ benchmark).
    EvalPlus,
    /// The original MBPP assert statements (the `assertion` field).
    Asserts,
}

fn field<'a>(
    fields: &'a [(String, &'a str)],
    name: &str,
    path: &Path,
    line: usize,
) -> Result<&'a str, LoadError> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| LoadError::invalid(path, line, format!("missing field `{name}`")))
}

fn string(
    fields: &[(String, &str)],
    name: &str,
    path: &Path,
    line: usize,
) -> Result<String, LoadError> {
    let raw = field(fields, name, path, line)?;
    serde_json::from_str(raw)
        .map_err(|_| LoadError::invalid(path, line, format!("field `{name}` is not a string")))
}

/// A line's fields as raw JSON text, by name.
type RawFields<'a> = Vec<(String, &'a str)>;

struct Row {
    id: String,
    prompt: String,
    entry_point: String,
    canonical: String,
    inputs_json: String,
    input_count: usize,
    atol: f64,
}

fn read_row<'a>(
    text: &'a str,
    path: &Path,
    line: usize,
) -> Result<(Row, RawFields<'a>), LoadError> {
    let fields = rawjson::object_fields(text).map_err(|e| LoadError::invalid(path, line, e))?;
    let base = rawjson::array_items(field(&fields, "base_input", path, line)?)
        .map_err(|e| LoadError::invalid(path, line, format!("base_input: {e}")))?;
    let plus_raw = field(&fields, "plus_input", path, line)?;
    // One MBPP+ task (Mbpp/793) stores its empty plus inputs as `{}`.
    let plus = if plus_raw.trim() == "{}" {
        Vec::new()
    } else {
        rawjson::array_items(plus_raw)
            .map_err(|e| LoadError::invalid(path, line, format!("plus_input: {e}")))?
    };
    let atol_raw = field(&fields, "atol", path, line)?;
    let atol: f64 = atol_raw.parse().map_err(|_| {
        LoadError::invalid(path, line, format!("atol `{atol_raw}` is not a number"))
    })?;
    let all: Vec<&str> = base.iter().chain(plus.iter()).copied().collect();
    let row = Row {
        id: string(&fields, "task_id", path, line)?,
        prompt: string(&fields, "prompt", path, line)?,
        entry_point: string(&fields, "entry_point", path, line)?,
        canonical: string(&fields, "canonical_solution", path, line)?,
        inputs_json: format!("[{}]", all.join(",")),
        input_count: all.len(),
        atol,
    };
    Ok((row, fields))
}

/// Loads HumanEval+ (base + plus inputs, evalplus comparison).
pub fn load_humaneval_plus(path: &Path) -> Result<Vec<CodeProblem>, LoadError> {
    jsonl_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            let (row, _) = read_row(&text, path, line)?;
            Ok(CodeProblem {
                id: row.id,
                benchmark: Benchmark::HumanEvalPlus,
                reference: Some(format!("{}{}", row.prompt, row.canonical)),
                tests: TestSuite::EvalPlus {
                    dataset: EvalPlusDataset::HumanEval,
                    entry_point: row.entry_point,
                    inputs_json: row.inputs_json,
                    input_count: row.input_count,
                    atol: row.atol,
                    mbpp_task: None,
                },
                prompt: row.prompt,
            })
        })
        .collect()
}

/// Loads MBPP+ with the chosen tests.
pub fn load_mbpp_plus(path: &Path, tests: MbppTests) -> Result<Vec<CodeProblem>, LoadError> {
    jsonl_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            let (row, fields) = read_row(&text, path, line)?;
            let task: u32 = row
                .id
                .rsplit('/')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| {
                    LoadError::invalid(
                        path,
                        line,
                        format!("task_id `{}` is not Mbpp/<number>", row.id),
                    )
                })?;
            let suite = match tests {
                MbppTests::EvalPlus => TestSuite::EvalPlus {
                    dataset: EvalPlusDataset::Mbpp,
                    entry_point: row.entry_point,
                    inputs_json: row.inputs_json,
                    input_count: row.input_count,
                    atol: row.atol,
                    mbpp_task: Some(task),
                },
                MbppTests::Asserts => {
                    let assertion = string(&fields, "assertion", path, line)?;
                    let (setup, asserts) = split_asserts(&assertion);
                    TestSuite::Asserts { setup, asserts }
                }
            };
            Ok(CodeProblem {
                id: row.id,
                benchmark: Benchmark::MbppPlus,
                reference: Some(format!("{}{}", row.prompt, row.canonical)),
                tests: suite,
                prompt: row.prompt,
            })
        })
        .collect()
}

/// Splits MBPP's assertion text into set-up lines (imports) and one test per `assert`.
fn split_asserts(text: &str) -> (String, Vec<String>) {
    let mut setup = String::new();
    let mut asserts = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("assert") {
            asserts.push(trimmed.to_string());
        } else if let Some(last) = asserts.last_mut().filter(|_| line.starts_with([' ', '\t'])) {
            last.push('\n');
            last.push_str(line);
        } else {
            setup.push_str(line);
            setup.push('\n');
        }
    }
    (setup, asserts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_text_becomes_one_test_per_assert() {
        let (setup, asserts) =
            split_asserts("\nimport math\nassert f(1) == 2\nassert math.isclose(f(2), 3.0)\n");
        assert_eq!(setup, "import math\n");
        assert_eq!(
            asserts,
            vec!["assert f(1) == 2", "assert math.isclose(f(2), 3.0)"]
        );
    }
}
