//! Grading the code samples of a run store in place (feature `store`).
//!
//! Ungraded completed samples of the selected runs are graded in parallel and their
//! grades written in batches, one transaction each: an interrupted run keeps what it
//! graded, and the next invocation only grades what is still missing.

use boundary_store::{NewGrade, Run, Store, StoreError, UngradedSample};
use rayon::prelude::*;
use serde_json::json;

use crate::harness::Grader;
use crate::jsonl::ProblemIndex;
use crate::verdict::{Grade, Verdict};

/// Verifier name under which grades are stored.
pub const VERIFIER: &str = concat!("boundary-code/", env!("CARGO_PKG_VERSION"));

/// Samples graded per transaction.
const BATCH: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum StoreGradeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no run in {path} matches {wanted} (runs: {available})")]
    NoRun {
        path: String,
        wanted: String,
        available: String,
    },
}

/// What a store grading pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSummary {
    pub runs: usize,
    pub graded: usize,
    pub correct: usize,
    pub harness_errors: usize,
    /// `run id: problem` of samples whose problem the loaded benchmark does not have.
    pub unknown_problems: Vec<String>,
}

/// Which runs to grade.
#[derive(Debug, Clone)]
pub enum RunSelection {
    Id(i64),
    Benchmark(String),
}

fn grade_for(sample: &UngradedSample, grade: &Grade) -> NewGrade {
    NewGrade {
        problem: sample.problem.clone(),
        sample_index: sample.sample_index,
        verifier: VERIFIER.to_string(),
        verdict: grade.verdict.as_str().to_string(),
        correct: grade.correct,
        extracted: Some(grade.code.clone()),
        detail: Some(json!({
            "failing_test": grade.failing_test,
            "error": grade.error,
            "tests_passed": grade.tests_passed,
            "tests_total": grade.tests_total,
            "cpu_s": grade.cpu_s,
            "wall_s": grade.wall_s,
        })),
    }
}

fn select_runs(store: &Store, selection: &RunSelection) -> Result<Vec<Run>, StoreGradeError> {
    let runs = store.runs()?;
    let chosen: Vec<Run> = runs
        .iter()
        .filter(|r| match selection {
            RunSelection::Id(id) => r.id == *id,
            RunSelection::Benchmark(b) => &r.benchmark == b,
        })
        .cloned()
        .collect();
    if chosen.is_empty() {
        return Err(StoreGradeError::NoRun {
            path: store.path().display().to_string(),
            wanted: match selection {
                RunSelection::Id(id) => format!("run id {id}"),
                RunSelection::Benchmark(b) => format!("benchmark `{b}`"),
            },
            available: runs
                .iter()
                .map(|r| format!("{} ({}, {})", r.id, r.model, r.benchmark))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(chosen)
}

/// Grades every ungraded completed sample of the selected runs.
pub fn grade_store(
    store: &mut Store,
    grader: &Grader,
    index: &ProblemIndex,
    selection: &RunSelection,
    mut progress: impl FnMut(&StoreSummary),
) -> Result<StoreSummary, StoreGradeError> {
    let runs = select_runs(store, selection)?;
    let mut summary = StoreSummary {
        runs: runs.len(),
        ..StoreSummary::default()
    };
    for run in runs {
        let mut after = None;
        loop {
            let batch = store.ungraded(run.id, VERIFIER, after, BATCH)?;
            let Some(last) = batch.last() else { break };
            after = Some(last.cursor);
            let graded: Vec<(NewGrade, Grade)> = batch
                .par_iter()
                .filter_map(|sample| {
                    let problem = index.get(&sample.problem)?;
                    let grade = grader.grade_response(problem, &sample.response);
                    Some((grade_for(sample, &grade), grade))
                })
                .collect();
            for sample in batch.iter().filter(|s| index.get(&s.problem).is_none()) {
                summary
                    .unknown_problems
                    .push(format!("{}: {}", run.id, sample.problem));
            }
            let mut writer = store.writer()?;
            for (new, grade) in &graded {
                if grade.verdict == Verdict::HarnessError {
                    // Not a verdict on the program: left ungraded so the next pass retries it.
                    summary.harness_errors += 1;
                    continue;
                }
                writer.put_grade(run.id, new)?;
                summary.graded += 1;
                summary.correct += usize::from(grade.correct);
            }
            writer.commit()?;
            progress(&summary);
        }
    }
    Ok(summary)
}
