//! LiveCodeBench `code_generation_lite` releases (`test*.jsonl`).
//!
//! Fields used: question_id, question_content, starter_code, public_test_cases (JSON text),
//! private_test_cases (JSON text, or base64 of zlib of a pickled JSON string), metadata
//! (JSON text; `func_name` marks functional problems). Tests run public first, then
//! private, as in LiveCodeBench.

use std::io::Read;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use crate::error::LoadError;
use crate::loaders::{jsonl_lines, parse_line, pickle, string_field};
use crate::problem::{Benchmark, CodeProblem, IoCase, TestSuite};

#[derive(Deserialize)]
struct RawTest {
    input: String,
    output: String,
    testtype: String,
}

/// Decodes a test-case field in either of LiveCodeBench's encodings.
pub fn decode_tests(field: &str) -> Result<Vec<IoCase>, String> {
    let raw: Vec<RawTest> = match serde_json::from_str(field) {
        Ok(tests) => tests,
        Err(_) => {
            let compressed = base64::engine::general_purpose::STANDARD
                .decode(field.trim())
                .map_err(|e| format!("neither JSON nor base64: {e}"))?;
            let mut pickled = Vec::new();
            flate2::read::ZlibDecoder::new(compressed.as_slice())
                .read_to_end(&mut pickled)
                .map_err(|e| format!("bad zlib stream: {e}"))?;
            let json = pickle::unpickle_str(&pickled)?;
            serde_json::from_str(&json).map_err(|e| format!("decoded tests are not JSON: {e}"))?
        }
    };
    raw.into_iter()
        .map(|t| match t.testtype.as_str() {
            "stdin" | "functional" => Ok(IoCase {
                input: t.input,
                output: t.output,
            }),
            other => Err(format!("unknown testtype `{other}`")),
        })
        .collect()
}

/// Loads a LiveCodeBench release file.
pub fn load(path: &Path) -> Result<Vec<CodeProblem>, LoadError> {
    jsonl_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            let v = parse_line(&text, path, line)?;
            let mut cases = decode_tests(&string_field(&v, "public_test_cases", path, line)?)
                .map_err(|e| LoadError::invalid(path, line, format!("public_test_cases: {e}")))?;
            cases.extend(
                decode_tests(&string_field(&v, "private_test_cases", path, line)?).map_err(
                    |e| LoadError::invalid(path, line, format!("private_test_cases: {e}")),
                )?,
            );
            let metadata: serde_json::Value =
                serde_json::from_str(&string_field(&v, "metadata", path, line)?).map_err(|e| {
                    LoadError::invalid(path, line, format!("metadata is not JSON: {e}"))
                })?;
            let tests = match metadata.get("func_name").and_then(|f| f.as_str()) {
                Some(name) => TestSuite::Functional {
                    fn_name: name.to_string(),
                    cases,
                },
                None => TestSuite::Stdio { cases },
            };
            let starter = v.get("starter_code").and_then(|s| s.as_str()).unwrap_or("");
            let content = string_field(&v, "question_content", path, line)?;
            Ok(CodeProblem {
                id: string_field(&v, "question_id", path, line)?,
                benchmark: Benchmark::LiveCodeBench,
                prompt: if starter.is_empty() {
                    content
                } else {
                    format!("{content}\n\n{starter}")
                },
                tests,
                reference: None,
            })
        })
        .collect()
}
