//! Self-consistency on MATH500: the answer in each reference solution's last `\boxed{}`
//! must be judged equivalent to the dataset's `answer` field. Known exceptions are listed,
//! each with its reason, in `tests/data/math500_exceptions.jsonl`.

use std::collections::BTreeMap;

use boundary_math::{MathConfig, Outcome, verify};
use serde_json::Value;

const PROBLEMS: &str = include_str!("data/math500.jsonl");
const EXCEPTIONS: &str = include_str!("data/math500_exceptions.jsonl");

#[test]
fn reference_solutions_match_their_answers() {
    let config = MathConfig::default();
    let mut failures = BTreeMap::new();
    let mut total = 0;
    for line in PROBLEMS.lines() {
        let problem: Value = serde_json::from_str(line).expect("vendored MATH500 is valid JSONL");
        let id = problem["unique_id"]
            .as_str()
            .expect("unique_id")
            .to_string();
        let answer = problem["answer"].as_str().expect("answer");
        let solution = problem["solution"].as_str().expect("solution");
        total += 1;
        let verdict = verify(answer, solution, &config);
        if verdict.outcome != Outcome::Correct {
            failures.insert(
                id,
                format!(
                    "{:?} {:?}: {} | gold {:?} | extracted {:?}",
                    verdict.outcome,
                    verdict.rule,
                    verdict.reason,
                    verdict.gold_normalized,
                    verdict.extracted
                ),
            );
        }
    }
    let expected: BTreeMap<String, String> = EXCEPTIONS
        .lines()
        .map(|line| {
            let exception: Value =
                serde_json::from_str(line).expect("exceptions file is valid JSONL");
            (
                exception["unique_id"]
                    .as_str()
                    .expect("unique_id")
                    .to_string(),
                exception["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    let unexpected: Vec<_> = failures
        .iter()
        .filter(|(id, _)| !expected.contains_key(*id))
        .collect();
    let fixed: Vec<_> = expected
        .keys()
        .filter(|id| !failures.contains_key(*id))
        .collect();
    assert!(
        unexpected.is_empty(),
        "unexpected failures:\n{unexpected:#?}"
    );
    assert!(
        fixed.is_empty(),
        "listed exceptions now pass; remove them: {fixed:?}"
    );
    assert_eq!(total, 500);
    let agreement = (total - failures.len()) as f64 / total as f64;
    assert!(agreement >= 0.995, "agreement {agreement} below 99.5%");
}
