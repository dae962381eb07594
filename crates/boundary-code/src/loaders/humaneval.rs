//! openai HumanEval (`HumanEval.jsonl`: task_id, prompt, entry_point, canonical_solution, test).

use std::path::Path;

use crate::error::LoadError;
use crate::loaders::{jsonl_lines, parse_line, string_field};
use crate::problem::{Benchmark, CodeProblem, TestSuite};

/// Loads HumanEval; each problem's reference is `prompt + canonical_solution`.
pub fn load(path: &Path) -> Result<Vec<CodeProblem>, LoadError> {
    jsonl_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            let v = parse_line(&text, path, line)?;
            let prompt = string_field(&v, "prompt", path, line)?;
            let canonical = string_field(&v, "canonical_solution", path, line)?;
            Ok(CodeProblem {
                id: string_field(&v, "task_id", path, line)?,
                benchmark: Benchmark::HumanEval,
                reference: Some(format!("{prompt}{canonical}")),
                tests: TestSuite::Check {
                    test: string_field(&v, "test", path, line)?,
                    entry_point: string_field(&v, "entry_point", path, line)?,
                },
                prompt,
            })
        })
        .collect()
}
