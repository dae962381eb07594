//! Math answer verification for Boundary: does a model's response contain the gold answer?
//!
//! The crate owns the whole path from a free-form response to an auditable verdict:
//! extraction of the final answer ([`extract`]), a LaTeX / plain-math parser into an
//! exact expression tree ([`Expr`]), and equivalence by exact rational arithmetic, a
//! symbolic canonical form, error-bounded numeric sampling, and structural rules for
//! sets, tuples, intervals, matrices and relations. Every call is bounded by a work
//! budget ([`Limits`]) instead of a timeout; running out gives
//! [`Outcome::Unverifiable`], never [`Outcome::Correct`].
//!
//! Main entry points: [`verify`] for one pair, [`Gold`] to parse a gold answer once
//! and grade many responses against it, [`verify_batch`] to grade on all cores.
//!
//! ```
//! use boundary_math::{MathConfig, Outcome, verify};
//!
//! let verdict = verify("\\frac12", "so the answer is \\boxed{0.5}", &MathConfig::default());
//! assert_eq!(verdict.outcome, Outcome::Correct);
//! assert_eq!(verdict.extracted.as_deref(), Some("0.5"));
//! ```

mod ast;
mod budget;
mod compare;
mod config;
mod error;
mod exact;
mod extract;
mod lexer;
mod normalize;
mod numeric;
mod parser;
mod rational;
mod render;
mod symbolic;
mod units;
mod verdict;

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;

pub use ast::Expr;
pub use config::{Limits, MathConfig, PercentMode, Strategy};
pub use error::{Exhausted, Limit, ParseError};
pub use extract::{Extraction, choice_letter, extract};
pub use render::render;
pub use verdict::{Outcome, Rule, Verdict};

use budget::Budget;
use compare::{Comparator, Decision};

/// Parses an answer (LaTeX or plain math) into an expression, with units normalised.
pub fn parse_answer(answer: &str, config: &MathConfig) -> Result<Expr, ParseError> {
    parser::parse(answer, &config.limits).map(|expr| normalize::normalize(expr, config.strip_units))
}

/// A gold answer, parsed once, to grade any number of responses against.
#[derive(Debug, Clone)]
pub struct Gold {
    /// The gold answer text (the last `\boxed{}` content when the gold has one).
    answer: String,
    parsed: Result<Expr, ParseError>,
    normalized: Option<String>,
    /// The letter when the gold is a multiple-choice answer.
    choice: Option<char>,
}

impl Gold {
    pub fn new(gold: &str, config: &MathConfig) -> Gold {
        let answer = extract::boxed(gold).map_or_else(
            || gold.trim().trim_matches('$').trim().to_string(),
            Cow::into_owned,
        );
        let parsed = parse_answer(&answer, config);
        let normalized = parsed.as_ref().ok().map(render);
        let choice = (answer.len() <= 16)
            .then(|| choice_letter(&answer))
            .flatten();
        Gold {
            answer,
            parsed,
            normalized,
            choice,
        }
    }

    /// The gold answer as the verifier reads it.
    pub fn answer(&self) -> &str {
        &self.answer
    }

    /// The parsed gold, or why it does not parse.
    pub fn parsed(&self) -> Result<&Expr, &ParseError> {
        self.parsed.as_ref()
    }

    /// Grades one response. Use the same `config` the gold was built with.
    pub fn verify(&self, response: &str, config: &MathConfig) -> Verdict {
        let mut verdict = Verdict {
            outcome: Outcome::Unverifiable,
            rule: Rule::NoAnswer,
            extracted: None,
            strategy: None,
            gold_normalized: self.normalized.clone(),
            response_normalized: None,
            reason: Cow::Borrowed(""),
            limit: None,
        };
        if response.len() > config.limits.max_response_bytes {
            return decided(
                verdict,
                Decision::over_budget(Exhausted {
                    limit: Limit::ResponseBytes,
                }),
            );
        }
        if let Some(letter) = self.choice {
            return self.verify_choice(letter, response, verdict);
        }
        let Some(extraction) = extract(response, &config.strategies) else {
            verdict.outcome = Outcome::Incorrect;
            verdict.reason = Cow::Borrowed("no answer found in the response");
            return verdict;
        };
        verdict.extracted = Some(extraction.answer.to_string());
        verdict.strategy = Some(extraction.strategy);
        if extraction.answer == self.answer.as_str() {
            verdict.outcome = Outcome::Correct;
            verdict.rule = Rule::SameText;
            verdict.response_normalized = self.normalized.clone();
            verdict.reason = Cow::Borrowed("the answer is the gold text");
            return verdict;
        }
        let gold = match &self.parsed {
            Ok(gold) => gold,
            Err(error) => {
                verdict.rule = if matches!(error, ParseError::Exhausted(_)) {
                    Rule::OverBudget
                } else {
                    Rule::GoldUnparseable
                };
                verdict.reason = Cow::Owned(format!("the gold does not parse: {error}"));
                return verdict;
            }
        };
        let response = match parse_answer(&extraction.answer, config) {
            Ok(response) => response,
            Err(ParseError::Exhausted(exhausted)) => {
                return decided(verdict, Decision::over_budget(exhausted));
            }
            Err(error) => {
                verdict.rule = Rule::ResponseUnparseable;
                verdict.reason = Cow::Owned(format!("the answer does not parse: {error}"));
                return verdict;
            }
        };
        verdict.response_normalized = Some(render(&response));
        let mut comparator = Comparator {
            config,
            budget: Budget::new(&config.limits),
        };
        decided(verdict, comparator.equivalent(gold, &response))
    }

    fn verify_choice(&self, letter: char, response: &str, mut verdict: Verdict) -> Verdict {
        let strategies = [
            Strategy::Boxed,
            Strategy::AnswerPhrase,
            Strategy::ChoiceLetter,
        ];
        let found = strategies.iter().find_map(|&strategy| {
            let extraction = extract(response, &[strategy])?;
            choice_letter(&extraction.answer).map(|found| (found, extraction))
        });
        let Some((found, extraction)) = found else {
            verdict.outcome = Outcome::Incorrect;
            verdict.reason = Cow::Borrowed("no choice letter found in the response");
            return verdict;
        };
        verdict.extracted = Some(extraction.answer.into_owned());
        verdict.strategy = Some(extraction.strategy);
        verdict.gold_normalized = Some(letter.to_string());
        verdict.response_normalized = Some(found.to_string());
        verdict.rule = Rule::ChoiceLetter;
        verdict.outcome = if found == letter {
            Outcome::Correct
        } else {
            Outcome::Incorrect
        };
        verdict.reason = Cow::Owned(format!("choice {found} against {letter}"));
        verdict
    }
}

fn decided(mut verdict: Verdict, decision: Decision) -> Verdict {
    verdict.outcome = decision.outcome;
    verdict.rule = decision.rule;
    verdict.reason = decision.reason;
    verdict.limit = decision.limit;
    verdict
}

/// Grades one response against one gold answer.
pub fn verify(gold: &str, response: &str, config: &MathConfig) -> Verdict {
    Gold::new(gold, config).verify(response, config)
}

/// Grades many (gold, response) pairs on all cores; each distinct gold is parsed once.
/// The verdicts come back in the order of `pairs`.
pub fn verify_batch<G, R>(pairs: &[(G, R)], config: &MathConfig) -> Vec<Verdict>
where
    G: AsRef<str> + Sync,
    R: AsRef<str> + Sync,
{
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let gold_index: Vec<usize> = pairs
        .iter()
        .map(|(gold, _)| {
            *index_of.entry(gold.as_ref()).or_insert_with(|| {
                distinct.push(gold.as_ref());
                distinct.len() - 1
            })
        })
        .collect();
    let golds: Vec<Gold> = distinct
        .par_iter()
        .map(|gold| Gold::new(gold, config))
        .collect();
    pairs
        .par_iter()
        .zip(gold_index.par_iter())
        .map(|((_, response), &index)| golds[index].verify(response.as_ref(), config))
        .collect()
}
