//! The project's labelled set: (gold, response, expected) cases across every answer
//! category, including the known failure modes of Math-Verify and of the Qwen2.5-Math
//! grader in both directions. Prints per-category accuracy; every case we get wrong must
//! be listed, with its reason, in `tests/data/labelled_known_misses.jsonl`.

use std::collections::BTreeMap;

use boundary_math::{MathConfig, Outcome, verify};
use serde_json::Value;

const CASES: &str = include_str!("data/labelled.jsonl");
const KNOWN_MISSES: &str = include_str!("data/labelled_known_misses.jsonl");

#[test]
fn labelled_cases() {
    let config = MathConfig::default();
    let mut per_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = BTreeMap::new();
    for (line_number, line) in CASES.lines().enumerate() {
        let case: Value = serde_json::from_str(line)
            .unwrap_or_else(|error| panic!("line {}: {error}", line_number + 1));
        let field = |name: &str| {
            case[name]
                .as_str()
                .unwrap_or_else(|| panic!("line {}: missing {name}", line_number + 1))
        };
        let expected_correct = match field("expected") {
            "correct" => true,
            "incorrect" => false,
            other => panic!(
                "line {}: expected must be correct or incorrect, not {other}",
                line_number + 1
            ),
        };
        let verdict = verify(field("gold"), field("response"), &config);
        let predicted_correct = verdict.outcome == Outcome::Correct;
        let entry = per_category
            .entry(field("category").to_string())
            .or_default();
        entry.1 += 1;
        if predicted_correct == expected_correct {
            entry.0 += 1;
        } else {
            misses.insert(
                field("id").to_string(),
                format!(
                    "{:?}/{:?}: {} (extracted {:?})",
                    verdict.outcome, verdict.rule, verdict.reason, verdict.extracted
                ),
            );
        }
    }
    let mut report = String::new();
    let (mut right, mut total) = (0, 0);
    for (category, (correct, count)) in &per_category {
        report.push_str(&format!("{category:<24} {correct:>3}/{count}\n"));
        right += correct;
        total += count;
    }
    report.push_str(&format!("{:<24} {right:>3}/{total}\n", "all"));
    println!("{report}");
    assert!(
        total >= 400,
        "the labelled set must have at least 400 cases"
    );
    let known: BTreeMap<String, String> = KNOWN_MISSES
        .lines()
        .map(|line| {
            let miss: Value = serde_json::from_str(line).expect("known misses are valid JSONL");
            (
                miss["id"].as_str().expect("id").to_string(),
                miss["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect();
    let new_misses: Vec<_> = misses
        .iter()
        .filter(|(id, _)| !known.contains_key(*id))
        .collect();
    let fixed: Vec<_> = known
        .keys()
        .filter(|id| !misses.contains_key(*id))
        .collect();
    assert!(new_misses.is_empty(), "new misses:\n{new_misses:#?}");
    assert!(
        fixed.is_empty(),
        "known misses now pass; remove them from the list: {fixed:?}"
    );
    insta::assert_snapshot!("labelled_accuracy", report);
}

/// The paper-compatibility mode reproduces the Qwen2.5-Math grader's leniencies, which the
/// default mode rejects as wrong.
#[test]
fn paper_compat_mode_reproduces_the_qwen_grader() {
    let compat = MathConfig::paper_compat();
    let default = MathConfig::default();
    for (gold, response, note) in [
        ("50", "0.5", "gold/100 accepted"),
        ("50", "5000", "gold*100 accepted"),
        ("1000", "1000.09", "relative tolerance 1e-4"),
        (
            "\\frac{\\sqrt{2}}{2}",
            "0.7071",
            "approximation within 1e-4",
        ),
        ("[1,2)", "(1,2]", "interval ends ignored"),
    ] {
        let boxed = format!("\\boxed{{{response}}}");
        assert_eq!(
            verify(gold, &boxed, &compat).outcome,
            Outcome::Correct,
            "compat: {note}"
        );
        assert_eq!(
            verify(gold, &boxed, &default).outcome,
            Outcome::Incorrect,
            "default: {note}"
        );
    }
    // Qwen compares lists in order.
    assert_eq!(
        verify("1, 2", "\\boxed{2, 1}", &compat).outcome,
        Outcome::Incorrect
    );
    assert_eq!(
        verify("1, 2", "\\boxed{2, 1}", &default).outcome,
        Outcome::Correct
    );
}
