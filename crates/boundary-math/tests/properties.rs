//! Property tests (proptest) over generated LaTeX: the parser and the equivalence engine
//! never panic, algebraic rewrites of an expression are never judged different, and a
//! shifted expression is never judged equal. A short run here; the long fuzz run is
//! scripts/bench/math-fuzz.sh.

use boundary_math::{MathConfig, Outcome, parse_answer, render, verify};
use proptest::prelude::*;

/// Random well-formed LaTeX expressions.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        (0u32..30).prop_map(|n| n.to_string()),
        (1u32..100, 1u32..100).prop_map(|(a, b)| format!("{a}.{b}")),
        Just("x".to_string()),
        Just("y".to_string()),
        Just("\\pi".to_string()),
        (2u32..30).prop_map(|n| format!("\\sqrt{{{n}}}")),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) + ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) - ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) \\cdot ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("\\frac{{{a}}}{{{b}}}")),
            (inner.clone(), 2u32..4).prop_map(|(a, k)| format!("({a})^{{{k}}}")),
            inner.clone().prop_map(|a| format!("\\sqrt{{({a})^2 + 1}}")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("\\sin({a})")),
            inner.prop_map(|a| format!("\\left|{a}\\right|")),
        ]
    })
}

/// Arbitrary token soup, most of it malformed.
fn garbage() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\\frac",
        "{",
        "}",
        "^",
        "_",
        "\\sqrt",
        "[",
        "]",
        "(",
        ")",
        "\\left(",
        "\\right)",
        "\\begin{pmatrix}",
        "&",
        "\\\\",
        "\\end{pmatrix}",
        "\\pm",
        "=",
        "<",
        "\\le",
        "\\cup",
        "\\infty",
        "\\text{",
        "\\%",
        "!",
        "\\overline{",
        ".",
        ",",
        "1",
        "0",
        "9",
        "x",
        "\\pi",
        "e",
        "i",
        "|",
        "\\boxed{",
        "$",
        "\\",
        "−",
        "°",
        " and ",
        "10^{",
        "\\dfrac",
        "\\{",
        "\\}",
        "\\in",
        "\\mathbb{R}",
        "\\emptyset",
        "\\ldots",
        "\\sin",
        "\\log_",
        "2516_8",
        "\\,",
        "\\!",
    ]);
    prop::collection::vec(pieces, 0..48).prop_map(|pieces| pieces.concat())
}

fn boxed(answer: &str) -> String {
    format!("so the answer is $\\boxed{{{answer}}}$.")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_expressions_parse(expression in expression()) {
        prop_assert!(parse_answer(&expression, &MathConfig::default()).is_ok(), "{expression}");
    }

    #[test]
    fn rewrites_are_never_judged_different(expression in expression()) {
        let config = MathConfig::default();
        let rendered = render(&parse_answer(&expression, &config).expect("generated expressions parse"));
        for rewrite in [
            format!("({expression}) + 0"),
            format!("\\frac{{2({expression})}}{{2}}"),
            format!("-(-({expression}))"),
            format!("({expression}) + x - x"),
            rendered,
        ] {
            let verdict = verify(&expression, &boxed(&rewrite), &config);
            prop_assert_ne!(verdict.outcome, Outcome::Incorrect, "{} vs {}: {:?}", expression, rewrite, verdict);
        }
    }

    #[test]
    fn shifted_expressions_are_never_judged_equal(expression in expression()) {
        let config = MathConfig::default();
        // The second shift is relative, so that it is far above rounding at any magnitude.
        for shifted in [format!("({expression}) + 1"), format!("({expression}) + \\frac{{|{expression}| + 1}}{{10^{{6}}}}")] {
            let verdict = verify(&expression, &boxed(&shifted), &config);
            prop_assert_ne!(verdict.outcome, Outcome::Correct, "{} vs {}: {:?}", expression, shifted, verdict);
        }
    }

    #[test]
    fn garbage_never_panics(gold in garbage(), response in garbage()) {
        let config = MathConfig::default();
        let verdict = verify(&gold, &response, &config);
        if verdict.outcome == Outcome::Correct {
            prop_assert!(verdict.extracted.is_some());
        }
        std::hint::black_box(verify(&gold, &boxed(&response), &config));
    }
}
