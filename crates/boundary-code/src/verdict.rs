//! Verdicts: what a graded sample looks like.

use serde::{Deserialize, Serialize};

/// Outcome of a sample or of one test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every test ran and passed.
    Passed,
    /// A test ran and its answer was wrong (or an assertion failed).
    Failed,
    /// The program raised, did not define the function, or could not be loaded.
    Error,
    /// A CPU or wall-clock limit was hit.
    Timeout,
    /// The program ran out of its memory allowance.
    MemoryLimit,
    /// The program wrote more output than allowed.
    OutputLimit,
    /// The program died mid-test (killed by a signal, exited before answering).
    Crashed,
    /// The response contained no code.
    NoCode,
    /// The grading machinery failed; never counted as the model's fault or success.
    HarnessError,
}

impl Verdict {
    pub(crate) fn from_outcome(outcome: &str) -> Verdict {
        match outcome {
            "passed" => Verdict::Passed,
            "failed" => Verdict::Failed,
            "timeout" => Verdict::Timeout,
            "memory" => Verdict::MemoryLimit,
            "output_limit" => Verdict::OutputLimit,
            "crashed" => Verdict::Crashed,
            _ => Verdict::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Error => "error",
            Verdict::Timeout => "timeout",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::OutputLimit => "output_limit",
            Verdict::Crashed => "crashed",
            Verdict::NoCode => "no_code",
            Verdict::HarnessError => "harness_error",
        }
    }
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub verdict: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub cpu_s: f64,
    pub wall_s: f64,
}

/// The graded sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// True only when every test of the problem ran and passed.
    pub correct: bool,
    pub verdict: Verdict,
    /// The code that was run (after extraction).
    pub code: String,
    pub tests_passed: usize,
    pub tests_total: usize,
    /// The first test that did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_test: Option<String>,
    /// Its error: exception type and message, wrong answer, or limit hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// CPU seconds of the candidate process(es) and wall seconds of the whole job.
    pub cpu_s: f64,
    pub wall_s: f64,
    /// Per-test detail (tests after the first failure are not run).
    pub tests: Vec<TestResult>,
}

impl Grade {
    pub(crate) fn without_run(
        verdict: Verdict,
        code: String,
        total: usize,
        error: String,
    ) -> Grade {
        Grade {
            correct: false,
            verdict,
            code,
            tests_passed: 0,
            tests_total: total,
            failing_test: None,
            error: Some(error),
            cpu_s: 0.0,
            wall_s: 0.0,
            tests: Vec::new(),
        }
    }
}
