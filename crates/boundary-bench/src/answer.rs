//! Reading gold answers out of reference solutions the way the paper does.

/// The content of the last `\boxed{…}` (or `\fbox{…}`) of `text`, braces matched; `None`
/// when there is none or its braces never close. MATH500 and Minerva Math keep their
/// gold answer this way inside the reference solution.
pub fn last_boxed(text: &str) -> Option<&str> {
    let start = ["\\boxed", "\\fbox"]
        .iter()
        .filter_map(|cmd| text.rfind(cmd).map(|i| i + cmd.len()))
        .max()?;
    let rest = text[start..].trim_start();
    let offset = text.len() - rest.len();
    if !rest.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(text[offset + 1..offset + i].trim());
                }
            }
            _ => {}
        }
    }
    None
}

/// A JSON number as an answer: `27.0` → `27`, `0.5` → `0.5`.
pub fn number_text(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_last_box_with_nested_braces() {
        assert_eq!(
            last_boxed("a \\boxed{1} b \\boxed{\\frac{1}{2}}."),
            Some("\\frac{1}{2}")
        );
        assert_eq!(last_boxed("\\fbox{x} then \\boxed {y}"), Some("y"));
        assert_eq!(last_boxed("no box"), None);
        assert_eq!(last_boxed("\\boxed{unclosed"), None);
        assert_eq!(last_boxed("\\boxed 5"), None);
    }

    #[test]
    fn numbers_lose_a_zero_fraction() {
        let n = |s: &str| serde_json::from_str::<serde_json::Number>(s).unwrap();
        assert_eq!(number_text(&n("27.0")), "27");
        assert_eq!(number_text(&n("0.5")), "0.5");
        assert_eq!(number_text(&n("-3")), "-3");
    }

    proptest! {
        #[test]
        fn boxed_content_round_trips(inner in "[a-z0-9+{}]{0,12}", before in "[a-z ]{0,8}") {
            // Only balanced contents can round-trip.
            let balanced = inner.chars().try_fold(0i32, |d, c| match c {
                '{' => Some(d + 1),
                '}' if d == 0 => None,
                '}' => Some(d - 1),
                _ => Some(d),
            }) == Some(0);
            prop_assume!(balanced);
            let text = format!("{before}\\boxed{{{inner}}}");
            prop_assert_eq!(last_boxed(&text), Some(inner.trim()));
        }

        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = last_boxed(&text);
        }
    }
}
