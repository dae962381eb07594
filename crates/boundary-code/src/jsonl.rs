//! Grading JSONL files of samples: the engine behind `boundary grade --kind code`.
//!
//! Each input line is an object with the model's output in `response` (code is extracted)
//! or `completion` (a raw continuation of the prompt, run as is), and its tests either
//! inline or by reference:
//! - `problem_id` (or `task_id`/`question_id`) of a problem from the loaded benchmark;
//! - `tests`: a test suite object (`{"style": "check", "test": ..., "entry_point": ...}`,
//!   `{"style": "asserts", "setup": ..., "asserts": [...]}`, `{"style": "stdio", "cases":
//!   [{"input": ..., "output": ...}]}`, `{"style": "functional", "fn_name": ..., "cases": ...}`),
//!   with an optional `prompt`;
//! - or HumanEval's own fields `test` + `entry_point` (+ `prompt`).
//!
//! Every input line yields one output line, in order: the input's fields plus `correct`,
//! `verdict`, `code`, `tests_passed`, `tests_total`, `failing_test`, `error`, `cpu_s`,
//! `wall_s`. A line that cannot be graded gets `verdict: "invalid_input"` and an `error`
//! that names the line and field, so nothing is lost and the file can be fixed and re-run.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::harness::Grader;
use crate::problem::{Benchmark, CodeProblem, TestSuite};
use crate::verdict::Grade;

/// Lines graded in parallel before their results are written.
const CHUNK: usize = 512;

/// Totals of a grading run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: usize,
    pub correct: usize,
    pub invalid: usize,
    /// Samples whose grading failed for reasons outside the program (never counted correct).
    pub harness_errors: usize,
}

/// The problems lines may refer to by id.
pub struct ProblemIndex {
    by_id: HashMap<String, CodeProblem>,
}

impl ProblemIndex {
    pub fn new(problems: Vec<CodeProblem>) -> ProblemIndex {
        ProblemIndex {
            by_id: problems.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }

    pub fn empty() -> ProblemIndex {
        ProblemIndex {
            by_id: HashMap::new(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&CodeProblem> {
        self.by_id.get(id)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// What a line asks to grade.
struct Request {
    problem: CodeProblem,
    output: Output,
}

enum Output {
    Response(String),
    Completion(String),
}

fn text_field(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "field `{name}` must be a string, found {}",
            kind(other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn parse_request(obj: &Map<String, Value>, index: &ProblemIndex) -> Result<Request, String> {
    let output = match (text_field(obj, "response")?, text_field(obj, "completion")?) {
        (Some(r), _) => Output::Response(r),
        (None, Some(c)) => Output::Completion(c),
        (None, None) => {
            return Err(
                "needs a `response` (or `completion`) string with the model's output".into(),
            );
        }
    };
    let prompt = text_field(obj, "prompt")?.unwrap_or_default();
    let id = ["problem_id", "task_id", "question_id"]
        .iter()
        .find_map(|f| obj.get(*f).and_then(|v| v.as_str()).map(str::to_string));
    let problem = if let Some(tests) = obj.get("tests") {
        let suite: TestSuite = serde_json::from_value(tests.clone())
            .map_err(|e| format!("field `tests` is not a test suite: {e}"))?;
        CodeProblem {
            id: id.unwrap_or_default(),
            benchmark: Benchmark::Custom,
            prompt,
            tests: suite,
            reference: None,
        }
    } else if let (Some(test), Some(entry_point)) =
        (text_field(obj, "test")?, text_field(obj, "entry_point")?)
    {
        CodeProblem {
            id: id.unwrap_or_default(),
            benchmark: Benchmark::HumanEval,
            prompt,
            tests: TestSuite::Check { test, entry_point },
            reference: None,
        }
    } else {
        let id = id.ok_or(
            "needs `tests` (inline), `test` + `entry_point`, or a `problem_id` with --benchmark",
        )?;
        if index.is_empty() {
            return Err(format!(
                "refers to problem `{id}` but no benchmark is loaded (pass --benchmark and --data)"
            ));
        }
        index
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("problem `{id}` is not in the loaded benchmark"))?
    };
    Ok(Request { problem, output })
}

fn grade_request(grader: &Grader, request: &Request) -> Grade {
    match &request.output {
        Output::Response(r) => grader.grade_response(&request.problem, r),
        Output::Completion(c) => grader.grade_code(&request.problem, c),
    }
}

/// Adds the grade's fields to a line.
pub fn annotate(obj: &mut Map<String, Value>, grade: &Grade) {
    obj.insert("correct".into(), Value::Bool(grade.correct));
    obj.insert(
        "verdict".into(),
        Value::String(grade.verdict.as_str().into()),
    );
    obj.insert("code".into(), Value::String(grade.code.clone()));
    obj.insert("tests_passed".into(), grade.tests_passed.into());
    obj.insert("tests_total".into(), grade.tests_total.into());
    obj.insert(
        "failing_test".into(),
        grade
            .failing_test
            .clone()
            .map_or(Value::Null, Value::String),
    );
    obj.insert(
        "error".into(),
        grade.error.clone().map_or(Value::Null, Value::String),
    );
    obj.insert("cpu_s".into(), serde_json::json!(grade.cpu_s));
    obj.insert("wall_s".into(), serde_json::json!(grade.wall_s));
}

fn invalid(obj: &mut Map<String, Value>, line: usize, source: &str, message: &str) {
    obj.insert("correct".into(), Value::Bool(false));
    obj.insert("verdict".into(), Value::String("invalid_input".into()));
    obj.insert(
        "error".into(),
        Value::String(format!("{source}:{line}: {message}")),
    );
}

/// Grades every line of `input` into `output` (same order, one line each).
/// `source` names the input in error messages.
pub fn grade_jsonl<R: BufRead, W: Write>(
    grader: &Grader,
    index: &ProblemIndex,
    input: R,
    mut output: W,
    source: &str,
    mut progress: impl FnMut(&Summary),
) -> std::io::Result<Summary> {
    let mut summary = Summary::default();
    let mut lines = input.lines().enumerate();
    loop {
        let mut chunk: Vec<(usize, Result<String, std::io::Error>)> = Vec::with_capacity(CHUNK);
        for (i, line) in lines.by_ref() {
            chunk.push((i + 1, line));
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            return Ok(summary);
        }
        let graded: Vec<Option<Map<String, Value>>> = chunk
            .into_par_iter()
            .map(|(number, line)| {
                let line = match line {
                    Ok(l) => l,
                    Err(e) => {
                        let mut obj = Map::new();
                        invalid(&mut obj, number, source, &format!("unreadable line: {e}"));
                        return Some(obj);
                    }
                };
                if line.trim().is_empty() {
                    return None;
                }
                let mut obj = match serde_json::from_str::<Value>(&line) {
                    Ok(Value::Object(o)) => o,
                    Ok(other) => {
                        let mut obj = Map::new();
                        invalid(
                            &mut obj,
                            number,
                            source,
                            &format!("expected a JSON object, found {}", kind(&other)),
                        );
                        return Some(obj);
                    }
                    Err(e) => {
                        let mut obj = Map::new();
                        invalid(&mut obj, number, source, &format!("not JSON: {e}"));
                        return Some(obj);
                    }
                };
                match parse_request(&obj, index) {
                    Ok(request) => {
                        let grade = grade_request(grader, &request);
                        annotate(&mut obj, &grade);
                    }
                    Err(message) => invalid(&mut obj, number, source, &message),
                }
                Some(obj)
            })
            .collect();
        for obj in graded.into_iter().flatten() {
            summary.lines += 1;
            match obj.get("verdict").and_then(|v| v.as_str()) {
                Some("invalid_input") => summary.invalid += 1,
                Some("harness_error") => summary.harness_errors += 1,
                _ => {}
            }
            if obj.get("correct") == Some(&Value::Bool(true)) {
                summary.correct += 1;
            }
            serde_json::to_writer(&mut output, &obj)?;
            output.write_all(b"\n")?;
        }
        output.flush()?;
        progress(&summary);
    }
}
