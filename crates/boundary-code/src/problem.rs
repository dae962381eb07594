//! A code problem and its tests, independent of where it was loaded from.

use serde::{Deserialize, Serialize};

pub use crate::sandbox::protocol::EvalPlusDataset;

/// Which benchmark a problem comes from; decides how programs are assembled and timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Benchmark {
    HumanEval,
    HumanEvalPlus,
    MbppPlus,
    LiveCodeBench,
    /// Problems supplied inline with their tests.
    Custom,
}

impl Benchmark {
    pub fn parse(name: &str) -> Option<Benchmark> {
        match name {
            "humaneval" => Some(Benchmark::HumanEval),
            "humaneval_plus" | "humaneval+" => Some(Benchmark::HumanEvalPlus),
            "mbpp_plus" | "mbpp+" => Some(Benchmark::MbppPlus),
            "livecodebench" | "lcb" => Some(Benchmark::LiveCodeBench),
            _ => None,
        }
    }
}

/// One stdin/stdout or functional case (LiveCodeBench).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoCase {
    pub input: String,
    pub output: String,
}

/// The tests of a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "style", rename_all = "snake_case")]
pub enum TestSuite {
    /// HumanEval: `check(candidate)` defined by `test`; the prompt's helpers are in scope.
    Check { test: String, entry_point: String },
    /// MBPP: assert statements after set-up code.
    Asserts { setup: String, asserts: Vec<String> },
    /// evalplus: inputs whose expected outputs come from the reference solution.
    EvalPlus {
        dataset: EvalPlusDataset,
        entry_point: String,
        /// JSON array of argument lists (base inputs, then plus inputs).
        inputs_json: String,
        input_count: usize,
        atol: f64,
        /// MBPP+ task number, for evalplus's tuple/set restoration of inputs.
        mbpp_task: Option<u32>,
    },
    /// LiveCodeBench stdin/stdout.
    Stdio { cases: Vec<IoCase> },
    /// LiveCodeBench functional (LeetCode `class Solution` method or a function).
    Functional { fn_name: String, cases: Vec<IoCase> },
}

impl TestSuite {
    /// How many tests a passing program must pass.
    pub fn len(&self) -> usize {
        match self {
            TestSuite::Check { .. } => 1,
            TestSuite::Asserts { asserts, .. } => asserts.len(),
            TestSuite::EvalPlus { input_count, .. } => *input_count,
            TestSuite::Stdio { cases } | TestSuite::Functional { cases, .. } => cases.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn entry_point(&self) -> Option<&str> {
        match self {
            TestSuite::Check { entry_point, .. } | TestSuite::EvalPlus { entry_point, .. } => {
                Some(entry_point)
            }
            TestSuite::Functional { fn_name, .. } => Some(fn_name),
            TestSuite::Asserts { .. } | TestSuite::Stdio { .. } => None,
        }
    }
}

/// serde helper for `EvalPlusDataset`.
impl Serialize for EvalPlusDataset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            EvalPlusDataset::HumanEval => "humaneval",
            EvalPlusDataset::Mbpp => "mbpp",
        })
    }
}

impl<'de> Deserialize<'de> for EvalPlusDataset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "humaneval" => Ok(EvalPlusDataset::HumanEval),
            "mbpp" => Ok(EvalPlusDataset::Mbpp),
            other => Err(serde::de::Error::custom(format!(
                "unknown evalplus dataset `{other}`"
            ))),
        }
    }
}

/// A problem with its tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeProblem {
    pub id: String,
    pub benchmark: Benchmark,
    /// The text shown to the model (HumanEval's prompt is also the program's preamble).
    pub prompt: String,
    pub tests: TestSuite,
    /// Reference solution as a complete program, when the data provides one.
    pub reference: Option<String>,
}
