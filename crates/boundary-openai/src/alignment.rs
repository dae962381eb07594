//! Lining up a server's scored tokens with the text they claim to cover, so that a
//! response's log-probability sums exactly its own tokens, or the score is refused.
//!
//! Servers return a token list that is not always a faithful cut of the text: llama-cpp-python
//! drops BOS tokens and renders special tokens and partial UTF-8 bytes as empty strings,
//! other servers render partial bytes as U+FFFD. The response is the tail of the scored
//! text, so the tokens are matched from the end: every ordinary token must reproduce the
//! text exactly; a run of "partial" tokens (empty, or containing U+FFFD) stands for one or
//! more whole non-ASCII characters. The tokens before the response are not checked (that is
//! where servers drop tokens), but the response must start exactly on a token boundary.

use std::collections::{BTreeSet, HashMap};

/// One scored token as the server reported it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredToken<'a> {
    pub text: &'a str,
    pub logprob: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Misalignment {
    #[error("the server echoed a different text than it was sent")]
    EchoMismatch,
    #[error("the response is empty: there is nothing to score")]
    EmptyResponse,
    #[error(
        "the scored tokens do not reproduce the response text (they stop matching {matched} \
         characters from its end, before {context:?})"
    )]
    TextMismatch { matched: usize, context: String },
    #[error(
        "the token {token:?} spans the end of the prompt and the start of the response, so \
         the response has no log-probability of its own; move the boundary to a token edge \
         (for example keep a trailing space or newline with the prompt)"
    )]
    Straddle { token: String },
    #[error("the response's tokens can be matched to its text in more than one way")]
    Ambiguous,
    #[error("response token {index} ({token:?}) has no log-probability")]
    MissingLogprob { index: usize, token: String },
}

/// A token the server could not render as text of its own: an empty string (a special
/// token or a partial UTF-8 byte) or one containing U+FFFD.
fn is_partial(text: &str) -> bool {
    text.is_empty() || text.contains('\u{FFFD}')
}

/// The log-probabilities of the tokens that make up `response`, the tail of the scored
/// text `prompt + response`. The prompt is needed only to tell whether a run of partial
/// tokens that starts the response could also hold part of the prompt.
pub fn response_logprobs(
    tokens: &[ScoredToken<'_>],
    prompt: &str,
    response: &str,
) -> Result<Vec<f64>, Misalignment> {
    if response.is_empty() {
        return Err(Misalignment::EmptyResponse);
    }
    let mut walk = Walk {
        tokens,
        response,
        prompt,
        memo: HashMap::new(),
        furthest: (response.len(), None),
    };
    let starts = walk.starts(tokens.len(), response.len());
    if starts.is_empty() {
        return Err(walk.failure());
    }
    // Prefer a start whose preceding token is an ordinary token that ends the prompt
    // (checked) over one preceded by a partial token or nothing (unchecked).
    let (checked, unchecked): (Vec<usize>, Vec<usize>) = starts
        .into_iter()
        .partition(|&t| t > 0 && !is_partial(tokens[t - 1].text));
    let start = match (checked.as_slice(), unchecked.as_slice()) {
        ([only], _) | ([], [only]) => *only,
        _ => return Err(Misalignment::Ambiguous),
    };
    tokens[start..]
        .iter()
        .enumerate()
        .map(|(index, token)| match token.logprob {
            Some(lp) if lp.is_finite() => Ok(lp),
            _ => Err(Misalignment::MissingLogprob {
                index,
                token: token.text.to_owned(),
            }),
        })
        .collect()
}

struct Walk<'t, 'a> {
    tokens: &'t [ScoredToken<'a>],
    response: &'t str,
    prompt: &'t str,
    /// (tokens left, bytes of the response left) -> possible start indices.
    memo: HashMap<(usize, usize), BTreeSet<usize>>,
    /// The smallest number of response bytes left unmatched, and what stopped the match.
    furthest: (usize, Option<Misalignment>),
}

impl Walk<'_, '_> {
    /// Indices `s` such that `tokens[s..t]` spell exactly `response[..rest]`.
    fn starts(&mut self, t: usize, rest: usize) -> BTreeSet<usize> {
        if rest == 0 {
            // The token before the response must be able to end the prompt.
            let ends_prompt = t == 0 || {
                let before = self.tokens[t - 1].text;
                is_partial(before) || self.prompt.ends_with(before)
            };
            return if ends_prompt {
                BTreeSet::from([t])
            } else {
                self.note(0, None);
                BTreeSet::new()
            };
        }
        if let Some(known) = self.memo.get(&(t, rest)) {
            return known.clone();
        }
        let found = self.starts_uncached(t, rest);
        self.memo.insert((t, rest), found.clone());
        found
    }

    fn starts_uncached(&mut self, t: usize, rest: usize) -> BTreeSet<usize> {
        let text = &self.response[..rest];
        if t == 0 {
            self.note(rest, None);
            return BTreeSet::new();
        }
        let token = self.tokens[t - 1].text;
        if !is_partial(token) {
            if text.ends_with(token) {
                return self.starts(t - 1, rest - token.len());
            }
            let straddles = token.len() > text.len() && token.ends_with(text);
            self.note(
                rest,
                straddles.then(|| Misalignment::Straddle {
                    token: token.to_owned(),
                }),
            );
            return BTreeSet::new();
        }
        // A maximal run of partial tokens covers k >= 1 whole non-ASCII characters.
        let mut run_start = t - 1;
        while run_start > 0 && is_partial(self.tokens[run_start - 1].text) {
            run_start -= 1;
        }
        let mut found = BTreeSet::new();
        let mut cut = rest;
        for c in text.chars().rev() {
            if c.is_ascii() {
                break;
            }
            cut -= c.len_utf8();
            if cut == 0 && self.run_may_hold_prompt_bytes(run_start) {
                self.note(0, Some(Misalignment::Ambiguous));
                continue;
            }
            found.extend(self.starts(run_start, cut));
        }
        if found.is_empty() {
            self.note(rest, None);
        }
        found
    }

    /// Whether a partial run that starts the response might also hold the end of the
    /// prompt (bytes of its last character, or a special token rendered empty). It cannot
    /// when the token before the run is an ordinary token that ends the prompt.
    fn run_may_hold_prompt_bytes(&self, run_start: usize) -> bool {
        run_start == 0 || !self.prompt.ends_with(self.tokens[run_start - 1].text)
    }

    fn note(&mut self, rest: usize, why: Option<Misalignment>) {
        if rest < self.furthest.0 || (rest == self.furthest.0 && why.is_some()) {
            self.furthest = (rest, why);
        }
    }

    fn failure(&self) -> Misalignment {
        let (rest, why) = &self.furthest;
        if let Some(why) = why {
            return why.clone();
        }
        let before: String = self.response[..*rest]
            .chars()
            .rev()
            .take(24)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        Misalignment::TextMismatch {
            matched: self.response[*rest..].chars().count(),
            context: before,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tokens<'a>(parts: &[(&'a str, f64)]) -> Vec<ScoredToken<'a>> {
        parts
            .iter()
            .map(|&(text, lp)| ScoredToken {
                text,
                logprob: Some(lp),
            })
            .collect()
    }

    #[test]
    fn the_response_is_the_token_suffix() {
        // llama-cpp-python with a ChatML prompt: BOS dropped, <|im_end|> rendered empty.
        let toks = tokens(&[
            ("user", 0.0),
            ("\n", -3.3),
            ("Hi", -7.2),
            ("", -9.5),
            ("\n", -0.05),
            ("assistant", -0.06),
            ("\n", -0.001),
            ("The", -2.0),
            (" phrase", -3.6),
            (" \"", -0.08),
        ]);
        let lps =
            response_logprobs(&toks, "user\nHi<|im_end|>\nassistant\n", "The phrase \"").unwrap();
        assert_eq!(lps, vec![-2.0, -3.6, -0.08]);
    }

    #[test]
    fn partial_utf8_tokens_cover_whole_characters() {
        // "≈" split into two byte tokens rendered empty, "😀" into pieces with U+FFFD.
        let toks = tokens(&[
            ("x", -1.0),
            (" π", -2.0),
            ("", -3.0),
            ("", -4.0),
            ("3", -5.0),
            (" ", -6.0),
            ("\u{FFFD}", -7.0),
            ("\u{FFFD}", -8.0),
        ]);
        let lps = response_logprobs(&toks, "x", " π≈3 😀").unwrap();
        assert_eq!(lps, vec![-2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0]);
        // " π" is a whole token, so the run after it holds only bytes of "≈".
        let lps = response_logprobs(&toks, "x π", "≈3 😀").unwrap();
        assert_eq!(lps, vec![-3.0, -4.0, -5.0, -6.0, -7.0, -8.0]);
        // Here "é" ends the prompt as partial bytes too: the run could hold bytes of both.
        let toks = tokens(&[
            ("caf", -1.0),
            ("", -2.0),
            ("", -3.0),
            ("", -4.0),
            ("", -5.0),
            ("!", -6.0),
        ]);
        let err = response_logprobs(&toks, "café", "≈!").unwrap_err();
        assert_eq!(err, Misalignment::Ambiguous);
        // A special token rendered empty ends the prompt: same doubt.
        let toks = tokens(&[("\n", -1.0), ("", -2.0), ("", -3.0), ("", -4.0), ("", -5.0)]);
        let err = response_logprobs(&toks, "\n<|im_end|>", "≈").unwrap_err();
        assert_eq!(err, Misalignment::Ambiguous);
    }

    #[test]
    fn refusals_say_why() {
        let toks = tokens(&[("The", -1.0), (" answer", -2.0), (" is", -3.0)]);
        assert_eq!(
            response_logprobs(&toks, "The an", "swer is").unwrap_err(),
            Misalignment::Straddle {
                token: " answer".into()
            }
        );
        let err = response_logprobs(&toks, "The", " answer was").unwrap_err();
        assert!(
            matches!(err, Misalignment::TextMismatch { matched: 0, .. }),
            "{err:?}"
        );
        let mut toks = toks;
        toks[2].logprob = None;
        assert_eq!(
            response_logprobs(&toks, "The answer", " is").unwrap_err(),
            Misalignment::MissingLogprob {
                index: 0,
                token: " is".into()
            }
        );
        assert_eq!(
            response_logprobs(&toks, "The answer is", "").unwrap_err(),
            Misalignment::EmptyResponse
        );
    }

    #[test]
    fn errors_read_well() {
        let err = Misalignment::TextMismatch {
            matched: 3,
            context: "boxed{4".into(),
        };
        insta::assert_snapshot!(err.to_string(), @r#"the scored tokens do not reproduce the response text (they stop matching 3 characters from its end, before "boxed{4")"#);
    }

    /// A random segmentation of `text` into tokens; each non-ASCII character may be split
    /// into per-byte tokens rendered empty, the way llama-cpp-python shows them.
    fn segment(text: &str, cuts: &[bool], split_bytes: &[bool]) -> Vec<String> {
        let mut pieces = Vec::new();
        let mut current = String::new();
        for (i, c) in text.chars().enumerate() {
            let split = !c.is_ascii() && split_bytes.get(i).copied().unwrap_or(false);
            if split {
                if !current.is_empty() {
                    pieces.push(std::mem::take(&mut current));
                }
                for _ in 0..c.len_utf8() {
                    pieces.push(String::new());
                }
                continue;
            }
            current.push(c);
            if cuts.get(i).copied().unwrap_or(false) {
                pieces.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            pieces.push(current);
        }
        pieces
    }

    proptest! {
        #[test]
        fn any_segmentation_on_the_boundary_aligns(
            prompt in "[a-z ]{1,12}",
            response in "[a-z ,.+=]{0,8}[πé≈😀]{0,3}[a-z0-9 ]{1,8}",
            cuts in proptest::collection::vec(any::<bool>(), 40),
            splits in proptest::collection::vec(any::<bool>(), 40),
        ) {
            let mut pieces = segment(&prompt, &cuts, &[]);
            let response_pieces = segment(&response, &cuts, &splits);
            let first_response = pieces.len();
            pieces.extend(response_pieces);
            let toks: Vec<ScoredToken> = pieces
                .iter()
                .enumerate()
                .map(|(i, t)| ScoredToken { text: t, logprob: Some(-(i as f64)) })
                .collect();
            let lps = response_logprobs(&toks, &prompt, &response).unwrap();
            let expected: Vec<f64> = (first_response..pieces.len()).map(|i| -(i as f64)).collect();
            prop_assert_eq!(lps, expected);
        }
    }
}
