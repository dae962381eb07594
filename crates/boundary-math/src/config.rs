//! What a caller can tune: extraction strategies, equivalence leniencies and budgets.

use serde::Serialize;

/// One way of finding the final answer in a free-form response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The last `\boxed{…}` or `\fbox{…}` (adjacent boxes form a list).
    Boxed,
    /// The text after "The final answer is", "Final Answer:", "the answer is", "####".
    AnswerPhrase,
    /// A `$…$`, `\(…\)` or `\[…\]` that ends the response.
    TrailingMath,
    /// A choice letter A–E: `(C)`, `C)`, "answer is C"; used when the gold is a letter.
    ChoiceLetter,
    /// The last number in the response.
    LastNumber,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Boxed => "boxed",
            Strategy::AnswerPhrase => "answer_phrase",
            Strategy::TrailingMath => "trailing_math",
            Strategy::ChoiceLetter => "choice_letter",
            Strategy::LastNumber => "last_number",
        }
    }
}

/// How a percent sign relates a value to a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentMode {
    /// `p%` matches `p` (unit left out) and `p/100` (the value); bare numbers are never rescaled.
    UnitOrValue,
    /// `p%` means exactly `p/100`.
    Value,
    /// The Qwen2.5-Math grader's leniency: a number also matches the gold ×100 and ÷100.
    Lenient,
}

/// Hard bounds on the work of one call; exceeding any gives `unverifiable`, never `correct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Longer responses are not searched.
    pub max_response_bytes: usize,
    /// Longer extracted answers (and golds) are not parsed.
    pub max_answer_bytes: usize,
    /// Deepest nesting of brackets and operators the parser follows.
    pub max_depth: usize,
    /// Largest expression tree.
    pub max_nodes: usize,
    /// Largest exact integer, in bits, that arithmetic may create.
    pub max_integer_bits: u64,
    /// Arithmetic work units (one stands for about 10 ns).
    pub max_steps: u64,
    /// Largest polynomial expansion, in terms.
    pub max_terms: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_response_bytes: 1 << 20,
            max_answer_bytes: 4096,
            max_depth: 64,
            max_nodes: 4096,
            max_integer_bits: 1 << 15,
            max_steps: 3_000_000,
            max_terms: 2048,
        }
    }
}

/// Everything `verify` needs to know; `MathConfig::default()` is what evaluation of
/// reasoning models needs, `MathConfig::paper_compat()` mirrors the paper's grader.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MathConfig {
    /// Tried in order on the response; the first that finds something wins.
    pub strategies: Vec<Strategy>,
    pub percent: PercentMode,
    /// Drop unit words (`\text{ cm}`, `dollars`) attached to quantities.
    pub strip_units: bool,
    /// Relative tolerance of the numeric comparison, on top of the tracked rounding error.
    /// It only matters for values the symbolic form cannot decide (trigonometry, logs);
    /// rational values are always compared exactly unless `rational_tolerance` is set.
    pub relative_tolerance: f64,
    /// Compare rational values with `relative_tolerance` too (the Qwen grader does, with 1e-4).
    pub rational_tolerance: bool,
    /// Comma-separated answers match in any order (`2, 3` ≡ `3, 2`).
    pub unordered_lists: bool,
    /// Open and closed interval ends must agree (`[1, 2)` ≢ `(1, 2]`).
    pub interval_ends_matter: bool,
    pub limits: Limits,
}

impl Default for MathConfig {
    fn default() -> MathConfig {
        MathConfig {
            strategies: vec![
                Strategy::Boxed,
                Strategy::AnswerPhrase,
                Strategy::TrailingMath,
                Strategy::LastNumber,
            ],
            percent: PercentMode::UnitOrValue,
            strip_units: true,
            relative_tolerance: 1e-12,
            rational_tolerance: false,
            unordered_lists: true,
            interval_ends_matter: true,
            limits: Limits::default(),
        }
    }
}

impl MathConfig {
    /// The grading semantics of the paper's code (Qwen2.5-Math `math_equal`): numbers equal
    /// within 1e-4 relative, ×100/÷100 percent leniency, ordered lists, interval ends ignored.
    /// Use it to reproduce published numbers, not to measure models: it accepts wrong answers.
    pub fn paper_compat() -> MathConfig {
        MathConfig {
            strategies: vec![
                Strategy::Boxed,
                Strategy::AnswerPhrase,
                Strategy::LastNumber,
            ],
            percent: PercentMode::Lenient,
            relative_tolerance: 1e-4,
            rational_tolerance: true,
            unordered_lists: false,
            interval_ends_matter: false,
            ..MathConfig::default()
        }
    }

    /// Only a boxed answer counts: no fallbacks that could pick a number out of prose.
    pub fn boxed_only() -> MathConfig {
        MathConfig {
            strategies: vec![Strategy::Boxed],
            ..MathConfig::default()
        }
    }
}
