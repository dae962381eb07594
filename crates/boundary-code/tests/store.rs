//! Grading a run store's code samples in place (feature `store`).
#![cfg(feature = "store")]

mod common;

use boundary_code::jsonl::ProblemIndex;
use boundary_code::loaders::humaneval;
use boundary_code::store::{RunSelection, VERIFIER, grade_store};
use boundary_store::{Store, import_jsonl};

#[test]
fn grades_ungraded_samples_once_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("runs.db")).unwrap();
    let line = |i: u32, problem: &str, response: &str| {
        serde_json::json!({"model": "m", "benchmark": "humaneval", "problem_id": problem, "sample_index": i, "response": response})
            .to_string()
    };
    let good =
        "```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```";
    let samples = [
        line(0, "HumanEval/2", good),
        line(
            1,
            "HumanEval/2",
            "```python\ndef truncate_number(n):\n    return n\n```",
        ),
        line(2, "HumanEval/2", "import sys\nsys.exit(0)"),
        line(0, "Unknown/1", good),
    ]
    .join("\n");
    import_jsonl(&mut store, samples.as_bytes(), "samples.jsonl", |_| {}).unwrap();

    let grader = common::grader();
    let index = ProblemIndex::new(humaneval::load(&common::data("HumanEval.jsonl")).unwrap());
    let summary = grade_store(
        &mut store,
        &grader,
        &index,
        &RunSelection::Benchmark("humaneval".into()),
        |_| {},
    )
    .unwrap();
    assert_eq!((summary.runs, summary.graded, summary.correct), (1, 3, 1));
    assert_eq!(summary.unknown_problems, vec!["1: Unknown/1".to_string()]);

    let run = store.runs().unwrap().remove(0);
    let counts = store.counts(&run, Some(VERIFIER)).unwrap();
    assert_eq!(
        counts.ungraded_samples, 1,
        "only the unknown problem's sample stays ungraded"
    );

    // A second pass has nothing left to grade.
    let again = grade_store(
        &mut store,
        &grader,
        &index,
        &RunSelection::Id(run.id),
        |_| {},
    )
    .unwrap();
    assert_eq!(again.graded, 0);

    let err = grade_store(
        &mut store,
        &grader,
        &index,
        &RunSelection::Benchmark("mbpp".into()),
        |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("no run in"), "{err}");
}
