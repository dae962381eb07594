//! Adversarial inputs: every call returns, never panics, and never calls a wrong or
//! undecidable answer correct. Random token soup is in `properties.rs`; time bounds are
//! measured by scripts/bench/math-fuzz.sh, not asserted here (timing asserts are flaky on
//! a shared machine).

use boundary_math::{Limit, MathConfig, Outcome, Rule, verify};

fn boxed(answer: &str) -> String {
    format!("The final answer is $\\boxed{{{answer}}}$.")
}

#[test]
fn megabyte_responses_are_searched_or_refused() {
    let config = MathConfig::default();
    let filler = "x + y = z. ".repeat(90_000);
    let verdict = verify("5", &format!("{filler}{}", boxed("5")), &config);
    assert_eq!(
        verdict.outcome,
        Outcome::Correct,
        "a ~1 MB response with the answer at the end"
    );
    let too_long = "a".repeat(config.limits.max_response_bytes + 1);
    let verdict = verify("5", &too_long, &config);
    assert_eq!(
        (verdict.outcome, verdict.limit),
        (Outcome::Unverifiable, Some(Limit::ResponseBytes))
    );
}

#[test]
fn deep_nesting_hits_the_depth_limit() {
    let config = MathConfig::default();
    for (open, close) in [
        ("(", ")"),
        ("{", "}"),
        ("\\sqrt{", "}"),
        ("\\frac{1}{", "}"),
        ("-", ""),
    ] {
        let deep = format!("{}5{}", open.repeat(1500), close.repeat(1500));
        let verdict = verify("5", &boxed(&deep), &config);
        assert_ne!(verdict.outcome, Outcome::Correct, "{open}…{close}");
    }
    let braces = format!("{}{}", "{".repeat(3000), "}".repeat(3000));
    assert_ne!(
        verify("1", &boxed(&braces), &config).outcome,
        Outcome::Correct
    );
}

#[test]
fn huge_numbers_exhaust_the_budget() {
    let config = MathConfig::default();
    for answer in [
        "10^{10^{10^{10}}}",
        "9^{9^{9^{9^9}}}",
        "\\dfrac{5^{(5^{(5^{(5^5)})} - 4)} - 5}{16}",
        "100000!",
        "(10^{5000})!",
        "\\binom{10^{9}}{10^{8}}",
        "10^{-10^{10}}",
        "0.\\overline{1234567890123456789012345678901234567890}",
        "(x+y+z+w+v)^{60}",
        "\\sqrt{10^{10^{6}}}",
        "1.5e99999999",
    ] {
        let verdict = verify("7", &boxed(answer), &config);
        assert_ne!(verdict.outcome, Outcome::Correct, "{answer}: {verdict:?}");
    }
}

#[test]
fn identical_huge_answers_are_correct_without_evaluation() {
    let config = MathConfig::default();
    let verdict = verify("10^{10^{10^{10}}}", &boxed("10^{10^{10^{10}}}"), &config);
    assert_eq!(
        (verdict.outcome, verdict.rule),
        (Outcome::Correct, Rule::SameText)
    );
    // Too large to compute, but the huge parts cancel in the symbolic form.
    let verdict = verify("7", &boxed("2^{2^{64}} - 2^{2^{64}} + 7"), &config);
    assert_eq!(
        (verdict.outcome, verdict.rule),
        (Outcome::Correct, Rule::SymbolicForm)
    );
}

#[test]
fn thousands_of_unclosed_boxes() {
    let config = MathConfig::default();
    let response = "\\boxed{".repeat(5000);
    let verdict = verify("1", &response, &config);
    assert_eq!(
        (verdict.outcome, verdict.rule),
        (Outcome::Incorrect, Rule::NoAnswer)
    );
    let response = format!("{}{}", "\\boxed{1} is wrong; ".repeat(5000), "\\boxed{2}");
    assert_eq!(verify("2", &response, &config).outcome, Outcome::Correct);
}
