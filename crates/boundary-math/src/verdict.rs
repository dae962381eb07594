//! The result of one verification: outcome, the answer that was graded, and why.

use std::borrow::Cow;

use serde::Serialize;

use crate::config::Strategy;
use crate::error::Limit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Correct,
    Incorrect,
    /// The verifier could not decide (a budget ran out, an answer did not parse, or the
    /// numbers lost their precision). Never counted as correct.
    Unverifiable,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Correct => "correct",
            Outcome::Incorrect => "incorrect",
            Outcome::Unverifiable => "unverifiable",
        }
    }
}

/// The rule that decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The extracted answer is the gold, character for character.
    SameText,
    /// The two parse to the same expression tree.
    SameExpression,
    /// Exact rational arithmetic.
    ExactValue,
    /// Canonical symbolic form (polynomials over square roots, π, i and variables).
    SymbolicForm,
    /// Evaluation at sample points with error bounds.
    NumericSampling,
    /// Prose compared case- and space-insensitively.
    TextMatch,
    /// Multiple-choice letters compared.
    ChoiceLetter,
    /// Numerals in a base compared by digits and base.
    BaseNumeral,
    /// Different kinds of answer or sizes (a tuple against a set, 2 items against 3).
    Structure,
    /// Interval ends differ in openness.
    IntervalEnds,
    /// Equations compared up to a constant factor, inequalities as solution sets.
    RelationForm,
    /// Nothing could be extracted from the response.
    NoAnswer,
    /// The gold answer does not parse: the problem's data needs fixing.
    GoldUnparseable,
    /// The extracted answer does not parse.
    ResponseUnparseable,
    /// A budget ran out.
    OverBudget,
    /// Floating-point evaluation lost too much precision to decide.
    PrecisionLost,
    /// The two involve something the verifier cannot compare (e.g. infinities in arithmetic).
    Unsupported,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::SameText => "same_text",
            Rule::SameExpression => "same_expression",
            Rule::ExactValue => "exact_value",
            Rule::SymbolicForm => "symbolic_form",
            Rule::NumericSampling => "numeric_sampling",
            Rule::TextMatch => "text_match",
            Rule::ChoiceLetter => "choice_letter",
            Rule::BaseNumeral => "base_numeral",
            Rule::Structure => "structure",
            Rule::IntervalEnds => "interval_ends",
            Rule::RelationForm => "relation_form",
            Rule::NoAnswer => "no_answer",
            Rule::GoldUnparseable => "gold_unparseable",
            Rule::ResponseUnparseable => "response_unparseable",
            Rule::OverBudget => "over_budget",
            Rule::PrecisionLost => "precision_lost",
            Rule::Unsupported => "unsupported",
        }
    }
}

/// One graded (gold, response) pair, with everything needed to audit it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    pub rule: Rule,
    /// The answer found in the response; `None` means no answer was found.
    pub extracted: Option<String>,
    /// How the answer was found.
    pub strategy: Option<Strategy>,
    /// The gold as the verifier understood it.
    pub gold_normalized: Option<String>,
    /// The extracted answer as the verifier understood it.
    pub response_normalized: Option<String>,
    /// A sentence on what decided, e.g. "item 2 differs: 3 vs 4".
    pub reason: Cow<'static, str>,
    /// The budget that ran out, for `Rule::OverBudget`.
    pub limit: Option<Limit>,
}

impl Verdict {
    pub fn is_correct(&self) -> bool {
        self.outcome == Outcome::Correct
    }
}
