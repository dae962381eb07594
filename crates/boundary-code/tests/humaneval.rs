//! HumanEval ground truth: all 164 canonical solutions pass, broken variants fail.

mod common;

use boundary_code::loaders::humaneval;
use boundary_code::verdict::Verdict;
use rayon::prelude::*;

#[test]
fn canonical_solutions_pass_and_broken_variants_fail() {
    let grader = common::grader();
    let problems = humaneval::load(&common::data("HumanEval.jsonl")).unwrap();
    assert_eq!(problems.len(), 164);
    let canonical: Vec<_> = problems
        .par_iter()
        .map(|p| {
            let solution = p
                .reference
                .as_ref()
                .unwrap()
                .strip_prefix(&p.prompt)
                .unwrap()
                .to_string();
            (p.id.clone(), grader.grade_code(p, &solution))
        })
        .collect();
    let failures: Vec<_> = canonical.iter().filter(|(_, g)| !g.correct).collect();
    assert!(
        failures.is_empty(),
        "canonical solutions failed: {failures:#?}"
    );

    // Three broken variants of every problem: a constant answer, a crash, an early exit.
    let broken: Vec<_> = problems
        .par_iter()
        .flat_map(|p| {
            let entry = p.tests.entry_point().unwrap().to_string();
            let sig = format!("def {entry}(*args, **kwargs):\n");
            vec![
                (
                    p.id.clone(),
                    "constant",
                    grader.grade_code(p, &format!("{sig}    return None\n")),
                ),
                (
                    p.id.clone(),
                    "raise",
                    grader.grade_code(p, &format!("{sig}    raise ValueError('broken')\n")),
                ),
                (
                    p.id.clone(),
                    "exit",
                    grader.grade_code(p, &format!("import sys\n{sig}    sys.exit(0)\n")),
                ),
            ]
        })
        .collect();
    let false_passes: Vec<_> = broken.iter().filter(|(_, _, g)| g.correct).collect();
    assert!(
        false_passes.is_empty(),
        "broken variants passed: {false_passes:#?}"
    );
    assert!(
        broken
            .iter()
            .all(|(_, _, g)| g.verdict != Verdict::HarnessError)
    );
}
