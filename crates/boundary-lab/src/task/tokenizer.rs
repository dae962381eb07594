//! The task's own vocabulary: four specials, one token per residue, one per
//! legal operation (the teacher's included, so the base has an embedding for
//! it that pretraining never trains as a target) and one per step limit.
//!
//! A prompt is `<bos> start target L<limit> <sep>`; a response is
//! `op value op value … <eos>`.

use super::{Op, Problem, Task, Trace};

pub const PAD: u32 = 0;
pub const BOS: u32 = 1;
pub const SEP: u32 = 2;
pub const EOS: u32 = 3;
const SPECIALS: [&str; 4] = ["<pad>", "<bos>", "<sep>", "<eos>"];
/// Every prompt has this many tokens.
pub const PROMPT_LEN: usize = 5;

/// What one token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Special(u32),
    Number(u32),
    Op(Op),
    Limit(u32),
}

#[derive(Debug, Clone)]
pub struct Tokenizer {
    modulus: u32,
    ops: Vec<Op>,
    max_limit: u32,
    pieces: Vec<String>,
}

impl Tokenizer {
    pub fn new(task: &Task) -> Self {
        let modulus = task.modulus();
        let ops = task.legal_ops();
        let max_limit = task.spec().max_limit;
        let mut pieces: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        pieces.extend((0..modulus).map(|v| v.to_string()));
        pieces.extend(ops.iter().map(ToString::to_string));
        pieces.extend((1..=max_limit).map(|l| format!("L{l}")));
        Self {
            modulus,
            ops,
            max_limit,
            pieces,
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.pieces.len()
    }

    pub fn number(&self, value: u32) -> u32 {
        debug_assert!(value < self.modulus);
        SPECIALS.len() as u32 + value
    }

    pub fn op(&self, op: Op) -> Option<u32> {
        let i = self.ops.iter().position(|&o| o == op)?;
        Some(SPECIALS.len() as u32 + self.modulus + i as u32)
    }

    fn limit(&self, limit: u32) -> u32 {
        debug_assert!((1..=self.max_limit).contains(&limit));
        SPECIALS.len() as u32 + self.modulus + self.ops.len() as u32 + limit - 1
    }

    pub fn piece(&self, token: u32) -> Option<Piece> {
        let mut t = token;
        if (t as usize) < SPECIALS.len() {
            return Some(Piece::Special(t));
        }
        t -= SPECIALS.len() as u32;
        if t < self.modulus {
            return Some(Piece::Number(t));
        }
        t -= self.modulus;
        if let Some(&op) = self.ops.get(t as usize) {
            return Some(Piece::Op(op));
        }
        t -= self.ops.len() as u32;
        (t < self.max_limit).then_some(Piece::Limit(t + 1))
    }

    /// The text of one token, `?` for an id outside the vocabulary.
    pub fn text(&self, token: u32) -> &str {
        self.pieces.get(token as usize).map_or("?", String::as_str)
    }

    /// Prompt tokens: `<bos> start target L<limit> <sep>`.
    pub fn prompt(&self, problem: &Problem) -> Vec<u32> {
        vec![
            BOS,
            self.number(problem.start),
            self.number(problem.target),
            self.limit(problem.limit),
            SEP,
        ]
    }

    /// The prompt as text for the run store, e.g. `4 17 L3`.
    pub fn prompt_text(&self, problem: &Problem) -> String {
        format!("{} {} L{}", problem.start, problem.target, problem.limit)
    }

    /// Response tokens for a trace, ending with `<eos>`.
    pub fn response(&self, trace: &Trace) -> Vec<u32> {
        let mut out = Vec::with_capacity(2 * trace.steps.len() + 1);
        for &(op, value) in &trace.steps {
            // Every op in a trace comes from the task, so it has a token.
            out.push(self.op(op).unwrap_or(PAD));
            out.push(self.number(value));
        }
        out.push(EOS);
        out
    }

    /// Tokens of a response text written by [`Tokenizer::decode_response`],
    /// with `<eos>` appended when the response was finished. `None` when a
    /// piece is not in the vocabulary.
    pub fn encode_response(&self, text: &str, finished: bool) -> Option<Vec<u32>> {
        let mut out: Vec<u32> = text
            .split_whitespace()
            .map(|piece| {
                self.pieces
                    .iter()
                    .position(|p| p == piece)
                    .map(|i| i as u32)
            })
            .collect::<Option<_>>()?;
        if finished {
            out.push(EOS);
        }
        Some(out)
    }

    /// Response text (without the end marker) and whether the end marker is
    /// missing, i.e. generation was cut off.
    pub fn decode_response(&self, tokens: &[u32]) -> (String, bool) {
        let end = tokens.iter().position(|&t| t == EOS);
        let body = &tokens[..end.unwrap_or(tokens.len())];
        let text = body
            .iter()
            .map(|&t| self.text(t))
            .collect::<Vec<_>>()
            .join(" ");
        (text, end.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::tests::small_spec;
    use crate::task::verifier::{grade_text, render_trace};

    #[test]
    fn every_token_round_trips_through_its_piece() {
        let task = Task::new(small_spec()).unwrap();
        let tok = Tokenizer::new(&task);
        // 4 specials + 11 numbers + 4 ops (3 base + teacher) + 3 limits.
        assert_eq!(tok.vocab_size(), 22);
        for id in 0..tok.vocab_size() as u32 {
            let piece = tok.piece(id).unwrap();
            let back = match piece {
                Piece::Special(s) => s,
                Piece::Number(v) => tok.number(v),
                Piece::Op(op) => tok.op(op).unwrap(),
                Piece::Limit(l) => tok.limit(l),
            };
            assert_eq!(back, id);
        }
        assert_eq!(tok.piece(22), None);
        assert_eq!(tok.text(99), "?");
    }

    #[test]
    fn responses_decode_to_the_verifier_text() {
        let task = Task::new(small_spec()).unwrap();
        let tok = Tokenizer::new(&task);
        let p = Problem {
            start: 2,
            target: 10,
            limit: 2,
        };
        let trace = task.teacher_trace(&p).unwrap();
        let tokens = tok.response(&trace);
        let (text, truncated) = tok.decode_response(&tokens);
        assert_eq!(text, render_trace(&trace));
        assert!(!truncated);
        assert!(grade_text(&task, &p, &text, truncated).verdict.is_correct());
        assert_eq!(tok.encode_response(&text, true), Some(tokens.clone()));
        assert_eq!(
            tok.encode_response("*5 <sep>", false),
            Some(vec![tok.op(Op::Mul(5)).unwrap(), SEP])
        );
        assert_eq!(tok.encode_response("*5 banana", false), None);
        // Without the end marker the sample is truncated; a prompt token inside is malformed.
        assert!(tok.decode_response(&tokens[..tokens.len() - 1]).1);
        let (text, _) = tok.decode_response(&[tok.op(Op::Mul(5)).unwrap(), SEP, EOS]);
        assert_eq!(text, "*5 <sep>");
        assert_eq!(tok.prompt(&p), vec![BOS, 6, 14, 20, SEP]);
        assert_eq!(tok.prompt_text(&p), "2 10 L2");
    }
}
