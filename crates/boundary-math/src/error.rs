//! Typed errors: why an answer could not be parsed, and which budget ran out.

use serde::Serialize;

/// A resource bound that keeps every call finite; exceeding one makes a verdict `unverifiable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// The response is longer than `Limits::max_response_bytes`.
    ResponseBytes,
    /// The extracted answer (or the gold) is longer than `Limits::max_answer_bytes`.
    AnswerBytes,
    /// Brackets or operators nest deeper than `Limits::max_depth`.
    Depth,
    /// The expression tree has more than `Limits::max_nodes` nodes.
    Nodes,
    /// An exact integer would need more than `Limits::max_integer_bits` bits.
    IntegerBits,
    /// The arithmetic work exceeded `Limits::max_steps`.
    Steps,
    /// A symbolic expansion produced more than `Limits::max_terms` terms.
    Terms,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Limit::ResponseBytes => "response length",
            Limit::AnswerBytes => "answer length",
            Limit::Depth => "nesting depth",
            Limit::Nodes => "expression size",
            Limit::IntegerBits => "integer size",
            Limit::Steps => "arithmetic steps",
            Limit::Terms => "symbolic terms",
        })
    }
}

/// A budget ran out; the computation stopped without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{limit} limit exceeded")]
pub struct Exhausted {
    pub limit: Limit,
}

/// Why an answer string is not a parseable expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty answer")]
    Empty,
    #[error("unexpected {found} at byte {offset}")]
    Unexpected { found: String, offset: usize },
    #[error("answer ends early (byte {offset}): something is missing")]
    UnexpectedEnd { offset: usize },
    #[error("unsupported LaTeX command \\{name} at byte {offset}")]
    Unsupported { name: String, offset: usize },
    #[error(transparent)]
    Exhausted(#[from] Exhausted),
}

impl ParseError {
    pub(crate) fn unexpected_end(offset: usize) -> ParseError {
        ParseError::UnexpectedEnd { offset }
    }
}
