//! Trace-level verification: a response earns reward only if every step is
//! a legal operation with the value it really produces, the trace fits the
//! step limit and it ends at the target. A right final number reached
//! through a wrong step is *not* correct (no credit for lucky guesses), but
//! it is recorded, so answer-only grading can be compared with trace grading.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Op, Problem, Task, Trace};

/// The outcome of checking one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Correct,
    /// Generation stopped at the token budget before the end marker.
    Truncated,
    /// Not a sequence of `op value` pairs (or an operation the task does not have).
    Malformed,
    /// Step `step` (1-based) wrote a value its operation does not produce.
    WrongStep {
        step: u32,
    },
    /// Every step is right but there are more of them than the limit allows.
    OverLimit,
    /// Every step is right and within the limit, but the last value is not the target.
    MissedTarget,
}

impl Verdict {
    pub fn is_correct(self) -> bool {
        self == Verdict::Correct
    }

    /// A short label for tables and the run store.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Truncated => "truncated",
            Verdict::Malformed => "malformed",
            Verdict::WrongStep { .. } => "wrong_step",
            Verdict::OverLimit => "over_limit",
            Verdict::MissedTarget => "missed_target",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::WrongStep { step } => write!(f, "wrong value at step {step}"),
            other => f.write_str(other.label()),
        }
    }
}

/// The full grade of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Whether the last written value is the target, however it got there
    /// (what an answer-only grader would accept).
    pub answer_matches: bool,
    /// Steps written.
    pub steps: u32,
}

/// Checks a parsed trace step by step.
pub fn verify_trace(task: &Task, problem: &Problem, trace: &Trace) -> Verdict {
    let legal = task.legal_ops();
    let mut value = problem.start;
    for (i, &(op, written)) in trace.steps.iter().enumerate() {
        if !legal.contains(&op) || written >= task.modulus() {
            return Verdict::Malformed;
        }
        if op.apply(value, task.modulus()) != written {
            return Verdict::WrongStep { step: i as u32 + 1 };
        }
        value = written;
    }
    if trace.steps.len() > problem.limit as usize {
        Verdict::OverLimit
    } else if trace.steps.is_empty() || value != problem.target {
        Verdict::MissedTarget
    } else {
        Verdict::Correct
    }
}

/// Parses a response's text: whitespace-separated `op value` pairs, e.g. `+3 7 *2 14`.
pub fn parse_response(text: &str) -> Option<Trace> {
    let mut pieces = text.split_whitespace();
    let mut trace = Trace::default();
    while let Some(op) = pieces.next() {
        let op: Op = op.parse().ok()?;
        let value: u32 = pieces.next()?.parse().ok()?;
        trace.steps.push((op, value));
    }
    Some(trace)
}

/// Grades a response's text. `truncated` says generation hit its token
/// budget without writing the end marker.
pub fn grade_text(task: &Task, problem: &Problem, text: &str, truncated: bool) -> Grade {
    let trace = parse_response(text);
    let answer_matches = trace
        .as_ref()
        .and_then(|t| t.steps.last())
        .is_some_and(|&(_, v)| v == problem.target);
    let steps = trace.as_ref().map_or(0, |t| t.steps.len() as u32);
    let verdict = match (&trace, truncated) {
        (_, true) => Verdict::Truncated,
        (None, false) => Verdict::Malformed,
        (Some(trace), false) => verify_trace(task, problem, trace),
    };
    Grade {
        verdict,
        answer_matches,
        steps,
    }
}

/// Renders a trace as response text (the inverse of [`parse_response`]).
pub fn render_trace(trace: &Trace) -> String {
    let mut out = String::new();
    for (op, value) in &trace.steps {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{op} {value}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::task::tests::small_spec;

    fn task() -> Task {
        Task::new(small_spec()).unwrap()
    }

    // mod 11, base ops +1 +3 *2, teacher *5; 2 → 4 → 8 within 2 steps.
    const PROBLEM: Problem = Problem {
        start: 2,
        target: 8,
        limit: 2,
    };

    #[test]
    fn accepts_a_correct_trace_and_teacher_op() {
        let t = task();
        assert_eq!(
            grade_text(&t, &PROBLEM, "*2 4 *2 8", false).verdict,
            Verdict::Correct
        );
        // *5: 2 → 10, +1: 10 → 0 (mod 11); not at the target.
        assert_eq!(
            grade_text(&t, &PROBLEM, "*5 10 +1 0", false).verdict,
            Verdict::MissedTarget
        );
        let p = Problem {
            start: 2,
            target: 10,
            limit: 1,
        };
        assert_eq!(grade_text(&t, &p, "*5 10", false).verdict, Verdict::Correct);
    }

    #[test]
    fn rejects_each_kind_of_error() {
        let t = task();
        let grade = |text: &str| grade_text(&t, &PROBLEM, text, false);
        // Right answer through a wrong step: the answer-only grader would accept it.
        let lucky = grade("*2 5 +3 8");
        assert_eq!(lucky.verdict, Verdict::WrongStep { step: 1 });
        assert!(lucky.answer_matches);
        assert_eq!(grade("*2 4 *2 9").verdict, Verdict::WrongStep { step: 2 });
        assert_eq!(grade("+1 3 +1 4 *2 8").verdict, Verdict::OverLimit);
        assert_eq!(grade("*2 4").verdict, Verdict::MissedTarget);
        assert_eq!(grade("").verdict, Verdict::MissedTarget);
        assert_eq!(grade("*2 4 *2").verdict, Verdict::Malformed);
        assert_eq!(
            grade("*7 3").verdict,
            Verdict::Malformed,
            "not an operation of the task"
        );
        assert_eq!(
            grade("*2 15").verdict,
            Verdict::Malformed,
            "value out of range"
        );
        assert_eq!(grade("4 *2").verdict, Verdict::Malformed);
        assert_eq!(
            grade_text(&t, &PROBLEM, "*2 4 *2 8", true).verdict,
            Verdict::Truncated
        );
    }

    #[test]
    fn every_single_value_corruption_of_a_teacher_trace_is_rejected() {
        let t = task();
        for p in t.all_problems() {
            let Some(trace) = t.teacher_trace(&p) else {
                continue;
            };
            for i in 0..trace.steps.len() {
                for wrong in (0..11).filter(|&v| v != trace.steps[i].1) {
                    let mut bad = trace.clone();
                    bad.steps[i].1 = wrong;
                    assert!(!verify_trace(&t, &p, &bad).is_correct(), "{p:?} {bad:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_round_trips(text in "[ +*0-9a-z]{0,40}") {
            if let Some(trace) = parse_response(&text) {
                prop_assert_eq!(parse_response(&render_trace(&trace)), Some(trace));
            }
        }
    }
}
