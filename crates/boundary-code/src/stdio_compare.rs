//! LiveCodeBench's stdout comparison: whitespace-insensitive per line, and numerically
//! equal tokens count as equal (`1.0` = `1`, `2e3` = `2000`), in exact decimal arithmetic.

/// Why an output was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    LineCount {
        got: usize,
        expected: usize,
    },
    Line {
        index: usize,
        got: String,
        expected: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::LineCount { got, expected } => {
                write!(f, "wrong answer: {got} output lines, expected {expected}")
            }
            Mismatch::Line {
                index,
                got,
                expected,
            } => {
                write!(
                    f,
                    "wrong answer at line {}: got `{}`, expected `{}`",
                    index + 1,
                    clip(got),
                    clip(expected)
                )
            }
        }
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() <= 200 {
        s.to_string()
    } else {
        s.chars().take(200).collect::<String>() + "…"
    }
}

fn stripped_lines(text: &str) -> Vec<&str> {
    text.trim().split('\n').map(str::trim).collect()
}

/// Compares a program's stdout with the expected output.
pub fn compare(got: &str, expected: &str) -> Result<(), Mismatch> {
    let g = stripped_lines(got);
    let e = stripped_lines(expected);
    if g.len() != e.len() {
        return Err(Mismatch::LineCount {
            got: g.len(),
            expected: e.len(),
        });
    }
    for (index, (a, b)) in g.iter().zip(&e).enumerate() {
        if a == b || numerically_equal(a, b) {
            continue;
        }
        return Err(Mismatch::Line {
            index,
            got: a.to_string(),
            expected: b.to_string(),
        });
    }
    Ok(())
}

fn numerically_equal(a: &str, b: &str) -> bool {
    let ta: Vec<_> = a.split_whitespace().collect();
    let tb: Vec<_> = b.split_whitespace().collect();
    if ta.len() != tb.len() {
        return false;
    }
    ta.iter()
        .zip(&tb)
        .all(|(x, y)| match (Decimal::parse(x), Decimal::parse(y)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        })
}

/// A finite decimal in canonical form, or an infinity (NaN never compares equal).
#[derive(Debug, PartialEq, Eq)]
enum Decimal {
    Finite {
        negative: bool,
        digits: String,
        exponent: i64,
    },
    Infinite {
        negative: bool,
    },
}

impl Decimal {
    /// Python's `Decimal(str)` grammar: sign, digits with an optional point, optional
    /// exponent; `inf`/`infinity` in any case. NaN parses to `None` (never equal).
    fn parse(s: &str) -> Option<Decimal> {
        let (negative, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let lower = body.to_ascii_lowercase();
        if lower == "inf" || lower == "infinity" {
            return Some(Decimal::Infinite { negative });
        }
        let (mantissa, exp) = match lower.find('e') {
            Some(i) => (&lower[..i], lower[i + 1..].parse::<i64>().ok()?),
            None => (lower.as_str(), 0),
        };
        let (int, frac) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
            return None;
        }
        let all = format!("{int}{frac}");
        let exponent = exp.checked_sub(frac.len() as i64)?;
        let trimmed_lead = all.trim_start_matches('0');
        if trimmed_lead.is_empty() {
            return Some(Decimal::Finite {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        let trailing = trimmed_lead.len() - trimmed_lead.trim_end_matches('0').len();
        let digits = trimmed_lead.trim_end_matches('0').to_string();
        Some(Decimal::Finite {
            negative,
            digits,
            exponent: exponent.checked_add(trailing as i64)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn whitespace_and_trailing_newlines_are_ignored() {
        assert!(compare("1 2 3\n\n", "  1 2 3").is_ok());
        assert!(compare("a\r\nb\r\n", "a\nb").is_ok());
    }

    #[test]
    fn numbers_compare_as_decimals() {
        assert!(compare("1.0 2e3", "1 2000").is_ok());
        assert!(compare("-0.0", "0").is_ok());
        assert!(compare("0.30000000000000004", "0.3").is_err());
        assert!(compare("50000000000000001", "50000000000000000").is_err());
        assert!(
            compare("nan", "nan").is_ok(),
            "identical lines match before any number parsing"
        );
        assert!(
            compare("nan", "NaN").is_err(),
            "NaN is never numerically equal"
        );
        assert!(compare("Infinity", "inf").is_ok());
    }

    #[test]
    fn mismatches_say_where() {
        assert_eq!(
            compare("1\n2", "1").unwrap_err(),
            Mismatch::LineCount {
                got: 2,
                expected: 1
            }
        );
        let err = compare("1\n3", "1\n2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong answer at line 2: got `3`, expected `2`"
        );
        assert!(compare("YES", "yes").is_err());
    }

    proptest! {
        #[test]
        fn equal_integers_in_any_notation(n in -1_000_000i64..1_000_000, zeros in 0usize..4) {
            let a = format!("{n}");
            let b = format!("{n}.{}", "0".repeat(zeros));
            prop_assert!(compare(&a, &b).is_ok());
        }

        #[test]
        fn parse_never_panics(s in ".{0,40}") {
            let _ = Decimal::parse(&s);
            let _ = compare(&s, &s);
        }
    }
}
