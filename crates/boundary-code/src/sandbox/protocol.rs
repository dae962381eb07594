//! The JSON frames exchanged with the Python runtime (`runtime.py`).
//!
//! A job is two frames: the [`CandidateSpec`] (read by the session before it forks the
//! candidate) and the [`JudgeSpec`] (read only afterwards, so the candidate's memory never
//! holds tests or expected values). The session answers with one [`SessionReport`].

use serde::{Deserialize, Serialize};

/// Resource limits of one candidate process.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Limits {
    /// CPU seconds for the whole candidate process (kernel `RLIMIT_CPU` backstop).
    pub cpu_total_s: f64,
    /// CPU seconds to define the program (module-level code) before the first test.
    pub load_cpu_s: f64,
    /// CPU seconds per test where the judge has no per-test limits (check, asserts).
    pub cpu_per_test_s: f64,
    /// Wall-clock limit = CPU limit × `wall_factor` + `wall_slack_s` (catches sleepers).
    pub wall_factor: f64,
    pub wall_slack_s: f64,
    /// Address-space limit (`RLIMIT_AS`).
    pub memory_bytes: u64,
    /// Largest file the program may write (`RLIMIT_FSIZE`).
    pub file_bytes: u64,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
}

/// How the candidate program is run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Define the program once, then answer function calls from the judge.
    Call,
    /// Run the program as `__main__` once per test, input on stdin.
    Stdio,
}

/// First frame of a job: what the candidate runs.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateSpec {
    pub mode: Mode,
    pub code: String,
    /// Names the judge may call or read (call mode).
    pub exports: Vec<String>,
    /// For LeetCode-style problems: the class to instantiate once (`Solution`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method_host: Option<String>,
    pub limits: Limits,
}

/// How outputs of input/output tests are compared in the judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// evalplus semantics for HumanEval+ (`humaneval`) or MBPP+ (`mbpp`).
    EvalPlus(EvalPlusDataset),
    /// LiveCodeBench functional tests (tuples count as lists).
    LiveCodeBench,
    /// No comparison: record the outputs and CPU times (reference solutions).
    Record,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalPlusDataset {
    HumanEval,
    Mbpp,
}

impl Serialize for Comparison {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Comparison::EvalPlus(EvalPlusDataset::HumanEval) => "evalplus:humaneval",
            Comparison::EvalPlus(EvalPlusDataset::Mbpp) => "evalplus:mbpp",
            Comparison::LiveCodeBench => "lcb",
            Comparison::Record => "record",
        })
    }
}

/// Second frame of a job: the tests, held only by the trusted session.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JudgeSpec {
    /// HumanEval: `prelude` (the prompt's helpers), then `test`, then `check(candidate)`.
    Check {
        prelude: String,
        test: String,
        entry_point: String,
    },
    /// MBPP: assert statements after optional set-up code.
    Asserts {
        setup: String,
        asserts: Vec<String>,
        stop_at_first_failure: bool,
    },
    /// Input/output pairs compared in the judge.
    Io {
        entry_point: String,
        /// JSON array of argument lists, passed through untouched (it may hold
        /// `Infinity`, `NaN` and integers wider than 64 bits, which Python reads natively).
        inputs_json: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        mbpp_task: Option<u32>,
        /// LiveCodeBench functional inputs: one JSON value per line of each input.
        lcb_lines: bool,
        /// base64 of each marshalled expected value (from a reference run).
        #[serde(skip_serializing_if = "Option::is_none")]
        expected_marshal: Option<Vec<String>>,
        /// Expected values as JSON texts (LiveCodeBench).
        #[serde(skip_serializing_if = "Option::is_none")]
        expected_json: Option<Vec<String>>,
        cpu_limits_s: Vec<f64>,
        compare: Comparison,
        atol: f64,
        stop_at_first_failure: bool,
    },
    /// Programs reading stdin; outputs are returned and compared by the caller.
    Stdio {
        stdin: Vec<String>,
        cpu_limits_s: Vec<f64>,
        stop_at_first_failure: bool,
    },
}

/// One test as the session saw it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TestRecord {
    pub name: String,
    /// passed, failed, error, timeout, memory, output_limit, crashed, or `ran` (stdio:
    /// the program finished and its output awaits comparison).
    pub outcome: String,
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub wall_s: f64,
    #[serde(default)]
    pub cpu_s: f64,
    /// stdio mode: what the program printed.
    #[serde(default)]
    pub stdout: Option<String>,
    /// record mode: base64 of the marshalled return value.
    #[serde(default)]
    pub value: Option<String>,
}

/// The session's answer for one job.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct SessionReport {
    #[serde(default)]
    pub tests: Vec<TestRecord>,
    /// How the candidate process ended (`exit 0`, `signal SIGKILL`, ...).
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub cpu_s: f64,
    #[serde(default)]
    pub wall_s: f64,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
    /// Set when the trusted side failed (a bug or a broken test, never a verdict).
    #[serde(default)]
    pub harness_error: Option<String>,
}
