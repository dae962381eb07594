//! The grading harness: from a problem and a response to a [`Grade`].
//!
//! Program assembly and time limits follow each benchmark's own harness:
//! - HumanEval / HumanEval+: the prompt (imports, helpers) then the code; a response that
//!   redefines the entry point replaces the prompt's stub. HumanEval gets 3 s for its
//!   `check` (openai human-eval's default); HumanEval+ and MBPP+ get, per input,
//!   `max(1 s, 4 × the reference solution's time)` (evalplus 0.3's defaults), measured as
//!   CPU time rather than wall time so verdicts do not depend on machine load.
//! - LiveCodeBench: LiveCodeBench's import prelude then the code; 6 s per test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::extract::{defines_function, extract_code};
use crate::problem::{Benchmark, CodeProblem, TestSuite};
use crate::sandbox::Sandbox;
use crate::sandbox::protocol::{
    CandidateSpec, Comparison, JudgeSpec, Limits, Mode, SessionReport, TestRecord,
};
use crate::stdio_compare;
use crate::verdict::{Grade, TestResult, Verdict};

/// LiveCodeBench prepends these imports to every program (`lcb_runner`'s `import_string`).
const LCB_PRELUDE: &str = "from string import *\nfrom re import *\nfrom datetime import *\n\
from collections import *\nfrom heapq import *\nfrom bisect import *\nfrom copy import *\n\
from math import *\nfrom random import *\nfrom statistics import *\nfrom itertools import *\n\
from functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\n\
from json import *\nfrom builtins import *\nfrom typing import *\nimport string\nimport re\n\
import datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\nimport math\n\
import random\nimport statistics\nimport itertools\nimport functools\nimport operator\n\
import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n";

/// Time and memory policy.
#[derive(Debug, Clone)]
pub struct GraderOptions {
    /// HumanEval's limit for the whole `check` (seconds).
    pub humaneval_timeout_s: f64,
    /// evalplus: per-input limit = max(floor, factor × reference time).
    pub evalplus_factor: f64,
    pub evalplus_floor_s: f64,
    /// LiveCodeBench per-test limit.
    pub lcb_timeout_s: f64,
    /// Limit to define the program before tests start.
    pub load_timeout_s: f64,
    pub memory_bytes: u64,
    /// Stop at the first failing test (enough for pass@k; faster).
    pub stop_at_first_failure: bool,
}

impl Default for GraderOptions {
    fn default() -> Self {
        GraderOptions {
            humaneval_timeout_s: 3.0,
            evalplus_factor: 4.0,
            evalplus_floor_s: 1.0,
            lcb_timeout_s: 6.0,
            load_timeout_s: 10.0,
            memory_bytes: 4 << 30,
            stop_at_first_failure: true,
        }
    }
}

/// Expected outputs and CPU times of a reference solution (evalplus problems).
#[derive(Debug, Clone)]
struct Reference {
    expected_marshal: Vec<String>,
    cpu_s: Vec<f64>,
}

/// Grades responses; share one per run (it caches reference outputs).
pub struct Grader {
    sandbox: Arc<Sandbox>,
    options: GraderOptions,
    references: Mutex<HashMap<String, Arc<Result<Reference, String>>>>,
}

impl Grader {
    pub fn new(sandbox: Arc<Sandbox>, options: GraderOptions) -> Grader {
        Grader {
            sandbox,
            options,
            references: Mutex::new(HashMap::new()),
        }
    }

    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    fn limits(&self, per_test: f64, total: f64) -> Limits {
        Limits {
            cpu_total_s: total,
            load_cpu_s: self.options.load_timeout_s,
            cpu_per_test_s: per_test,
            // The wall-clock limit only catches programs that sleep or block; CPU time
            // is what is measured against the benchmark's limit. Generous, so that a
            // loaded machine does not turn slow-but-correct programs into timeouts.
            wall_factor: 10.0,
            wall_slack_s: 2.0,
            memory_bytes: self.options.memory_bytes,
            file_bytes: 64 << 20,
            open_files: 256,
        }
    }

    /// The program that runs for `code` on `problem`.
    pub fn assemble(&self, problem: &CodeProblem, code: &str) -> String {
        match problem.benchmark {
            Benchmark::HumanEval | Benchmark::HumanEvalPlus => {
                let entry = problem.tests.entry_point().unwrap_or("");
                if defines_function(code, entry, true) {
                    format!("{}\n\n{code}", problem.prompt)
                } else {
                    format!("{}{code}", problem.prompt)
                }
            }
            Benchmark::LiveCodeBench => format!("{LCB_PRELUDE}\n{code}"),
            Benchmark::MbppPlus | Benchmark::Custom => code.to_string(),
        }
    }

    /// Extracts the code from `response`, then grades it.
    pub fn grade_response(&self, problem: &CodeProblem, response: &str) -> Grade {
        let extracted = extract_code(response, problem.tests.entry_point());
        self.grade_code(problem, &extracted.code)
    }

    /// Grades code (already extracted).
    pub fn grade_code(&self, problem: &CodeProblem, code: &str) -> Grade {
        let total = problem.tests.len();
        if code.trim().is_empty() {
            return Grade::without_run(
                Verdict::NoCode,
                code.to_string(),
                total,
                "the response contains no code".into(),
            );
        }
        let program = self.assemble(problem, code);
        let (candidate, judge) = match self.job(problem, program.clone()) {
            Ok(job) => job,
            Err(e) => return Grade::without_run(Verdict::HarnessError, code.to_string(), total, e),
        };
        let deadline = job_deadline(&candidate, &judge);
        match self
            .sandbox
            .run(&candidate, &judge, Instant::now() + deadline)
        {
            Ok(report) => grade_report(problem, code, &report),
            Err(e) => Grade::without_run(
                Verdict::HarnessError,
                code.to_string(),
                total,
                e.to_string(),
            ),
        }
    }

    fn job(
        &self,
        problem: &CodeProblem,
        program: String,
    ) -> Result<(CandidateSpec, JudgeSpec), String> {
        let o = &self.options;
        let stop = o.stop_at_first_failure;
        Ok(match &problem.tests {
            TestSuite::Check { test, entry_point } => (
                CandidateSpec {
                    mode: Mode::Call,
                    code: program,
                    exports: vec![entry_point.clone()],
                    method_host: None,
                    limits: self.limits(
                        o.humaneval_timeout_s,
                        o.load_timeout_s + o.humaneval_timeout_s,
                    ),
                },
                JudgeSpec::Check {
                    prelude: problem.prompt.clone(),
                    test: test.clone(),
                    entry_point: entry_point.clone(),
                },
            ),
            TestSuite::Asserts { setup, asserts } => (
                CandidateSpec {
                    mode: Mode::Call,
                    code: program,
                    exports: referenced_names(asserts),
                    method_host: None,
                    limits: self.limits(
                        o.humaneval_timeout_s,
                        o.load_timeout_s + o.humaneval_timeout_s * asserts.len() as f64,
                    ),
                },
                JudgeSpec::Asserts {
                    setup: setup.clone(),
                    asserts: asserts.clone(),
                    stop_at_first_failure: stop,
                },
            ),
            TestSuite::EvalPlus {
                dataset,
                entry_point,
                inputs_json,
                atol,
                mbpp_task,
                ..
            } => {
                let reference = self.reference(problem)?;
                let cpu_limits: Vec<f64> = reference
                    .cpu_s
                    .iter()
                    .map(|t| (o.evalplus_factor * t).max(o.evalplus_floor_s))
                    .collect();
                let total: f64 = cpu_limits.iter().sum::<f64>() + o.load_timeout_s;
                (
                    CandidateSpec {
                        mode: Mode::Call,
                        code: program,
                        exports: vec![entry_point.clone()],
                        method_host: None,
                        limits: self.limits(o.evalplus_floor_s, total),
                    },
                    JudgeSpec::Io {
                        entry_point: entry_point.clone(),
                        inputs_json: inputs_json.clone(),
                        mbpp_task: *mbpp_task,
                        lcb_lines: false,
                        expected_marshal: Some(reference.expected_marshal.clone()),
                        expected_json: None,
                        cpu_limits_s: cpu_limits,
                        compare: Comparison::EvalPlus(*dataset),
                        atol: *atol,
                        stop_at_first_failure: stop,
                    },
                )
            }
            TestSuite::Functional { fn_name, cases } => {
                let inputs: Vec<&str> = cases.iter().map(|c| c.input.as_str()).collect();
                let per = o.lcb_timeout_s;
                (
                    CandidateSpec {
                        mode: Mode::Call,
                        method_host: program
                            .contains("class Solution")
                            .then(|| "Solution".to_string()),
                        code: program,
                        exports: vec![fn_name.clone()],
                        limits: self.limits(per, o.load_timeout_s + per * cases.len() as f64),
                    },
                    JudgeSpec::Io {
                        entry_point: fn_name.clone(),
                        inputs_json: serde_json::to_string(&inputs).map_err(|e| e.to_string())?,
                        mbpp_task: None,
                        lcb_lines: true,
                        expected_marshal: None,
                        expected_json: Some(cases.iter().map(|c| c.output.clone()).collect()),
                        cpu_limits_s: vec![per; cases.len()],
                        compare: Comparison::LiveCodeBench,
                        atol: 0.0,
                        stop_at_first_failure: stop,
                    },
                )
            }
            TestSuite::Stdio { cases } => {
                let per = o.lcb_timeout_s;
                (
                    CandidateSpec {
                        mode: Mode::Stdio,
                        code: program,
                        exports: Vec::new(),
                        method_host: None,
                        limits: self.limits(per, per),
                    },
                    JudgeSpec::Stdio {
                        stdin: cases.iter().map(|c| c.input.clone()).collect(),
                        cpu_limits_s: vec![per; cases.len()],
                        stop_at_first_failure: stop,
                    },
                )
            }
        })
    }

    /// Runs the reference solution once per problem to get expected outputs and times.
    fn reference(&self, problem: &CodeProblem) -> Result<Reference, String> {
        let cached = self
            .references
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&problem.id)
            .cloned();
        let result = match cached {
            Some(r) => r,
            None => {
                let computed = Arc::new(self.compute_reference(problem));
                self.references
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(problem.id.clone(), computed.clone());
                computed
            }
        };
        (*result).clone()
    }

    fn compute_reference(&self, problem: &CodeProblem) -> Result<Reference, String> {
        let TestSuite::EvalPlus {
            entry_point,
            inputs_json,
            input_count,
            mbpp_task,
            ..
        } = &problem.tests
        else {
            return Err("only evalplus problems have reference outputs".into());
        };
        let program = problem
            .reference
            .clone()
            .ok_or_else(|| format!("{} has no reference solution", problem.id))?;
        // The reference is trusted but still confined; it gets generous limits.
        let per = 60.0;
        let candidate = CandidateSpec {
            mode: Mode::Call,
            code: program,
            exports: vec![entry_point.clone()],
            method_host: None,
            limits: self.limits(per, 600.0),
        };
        let judge = JudgeSpec::Io {
            entry_point: entry_point.clone(),
            inputs_json: inputs_json.clone(),
            mbpp_task: *mbpp_task,
            lcb_lines: false,
            expected_marshal: None,
            expected_json: None,
            cpu_limits_s: vec![per; *input_count],
            compare: Comparison::Record,
            atol: 0.0,
            stop_at_first_failure: true,
        };
        let report = self
            .sandbox
            .run(
                &candidate,
                &judge,
                Instant::now() + Duration::from_secs(900),
            )
            .map_err(|e| format!("reference run of {} failed: {e}", problem.id))?;
        if let Some(e) = report.harness_error {
            return Err(format!("reference run of {} failed: {e}", problem.id));
        }
        let mut expected = Vec::with_capacity(*input_count);
        let mut cpu = Vec::with_capacity(*input_count);
        for t in &report.tests {
            match (&t.value, t.outcome.as_str()) {
                (Some(v), "passed") => {
                    expected.push(v.clone());
                    cpu.push(t.cpu_s);
                }
                _ => {
                    return Err(format!(
                        "the reference solution of {} fails on {}: {}",
                        problem.id,
                        t.name,
                        t.message.clone().unwrap_or_default()
                    ));
                }
            }
        }
        if expected.len() != *input_count {
            return Err(format!(
                "the reference solution of {} answered {} of {} inputs",
                problem.id,
                expected.len(),
                input_count
            ));
        }
        Ok(Reference {
            expected_marshal: expected,
            cpu_s: cpu,
        })
    }
}

/// Names an MBPP assert list calls or reads (the candidate's exports).
fn referenced_names(asserts: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for a in asserts {
        let mut ident = String::new();
        for c in a.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() || c == '_' {
                ident.push(c);
            } else {
                if !ident.is_empty()
                    && !ident.chars().next().is_some_and(|f| f.is_ascii_digit())
                    && !names.contains(&ident)
                {
                    names.push(ident.clone());
                }
                ident.clear();
            }
        }
    }
    names
}

fn job_deadline(candidate: &CandidateSpec, judge: &JudgeSpec) -> Duration {
    let l = &candidate.limits;
    let tests: f64 = match judge {
        JudgeSpec::Io { cpu_limits_s, .. } | JudgeSpec::Stdio { cpu_limits_s, .. } => {
            cpu_limits_s.iter().sum()
        }
        JudgeSpec::Asserts { asserts, .. } => l.cpu_per_test_s * asserts.len() as f64,
        JudgeSpec::Check { .. } => l.cpu_per_test_s,
    };
    let seconds = (l.load_cpu_s + tests) * l.wall_factor + l.wall_slack_s * 4.0 + 60.0;
    Duration::from_secs_f64(seconds)
}

fn to_result(t: &TestRecord, verdict: Verdict, message: Option<String>) -> TestResult {
    TestResult {
        name: t.name.clone(),
        verdict,
        error_type: t.error_type.clone(),
        message: message.or_else(|| t.message.clone()),
        cpu_s: t.cpu_s,
        wall_s: t.wall_s,
    }
}

/// Turns the session's report into a grade. A pass needs every one of the problem's
/// tests, counted here, to have passed.
fn grade_report(problem: &CodeProblem, code: &str, report: &SessionReport) -> Grade {
    let total = problem.tests.len();
    if let Some(e) = &report.harness_error {
        return Grade::without_run(Verdict::HarnessError, code.to_string(), total, e.clone());
    }
    let expected_outputs: Option<Vec<&str>> = match &problem.tests {
        TestSuite::Stdio { cases } => Some(cases.iter().map(|c| c.output.as_str()).collect()),
        _ => None,
    };
    let mut tests = Vec::with_capacity(report.tests.len());
    for (i, t) in report.tests.iter().enumerate() {
        let result = match (&expected_outputs, t.outcome.as_str()) {
            (Some(outputs), "ran") => match outputs
                .get(i)
                .map(|e| stdio_compare::compare(t.stdout.as_deref().unwrap_or(""), e))
            {
                Some(Ok(())) => to_result(t, Verdict::Passed, None),
                Some(Err(m)) => {
                    let mut r = to_result(t, Verdict::Failed, Some(m.to_string()));
                    r.error_type = Some("WrongAnswer".into());
                    r
                }
                None => to_result(
                    t,
                    Verdict::HarnessError,
                    Some("more results than tests".into()),
                ),
            },
            _ => to_result(t, Verdict::from_outcome(&t.outcome), None),
        };
        tests.push(result);
    }
    let passed = tests
        .iter()
        .filter(|t| t.verdict == Verdict::Passed)
        .count();
    let first_bad = tests.iter().find(|t| t.verdict != Verdict::Passed);
    let (verdict, failing_test, error) = match first_bad {
        Some(t) => (
            t.verdict,
            Some(t.name.clone()),
            Some(match (&t.error_type, &t.message) {
                (Some(ty), Some(m)) if !m.starts_with(ty.as_str()) => format!("{ty}: {m}"),
                (_, Some(m)) => m.clone(),
                (Some(ty), None) => ty.clone(),
                (None, None) => t.verdict.as_str().to_string(),
            }),
        ),
        None if passed == total && total > 0 => (Verdict::Passed, None, None),
        None => (
            Verdict::Error,
            None,
            Some(format!(
                "only {passed} of {total} tests ran (program status: {})",
                report.status
            )),
        ),
    };
    Grade {
        correct: verdict == Verdict::Passed,
        verdict,
        code: code.to_string(),
        tests_passed: passed,
        tests_total: total,
        failing_test,
        error,
        cpu_s: report.cpu_s,
        wall_s: report.wall_s,
        tests,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assert_names_skip_numbers_and_keep_order() {
        let names =
            referenced_names(&["assert f(1, x2) == g(3)".into(), "assert f(2) == 0".into()]);
        assert_eq!(names, vec!["assert", "f", "x2", "g"]);
    }
}
