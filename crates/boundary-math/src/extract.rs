//! Finding the final answer in a free-form response.
//!
//! All scanning is hand-written over bytes (no regular expressions): the searches run
//! backwards from the end, where answers are, and every loop is linear in the
//! response length, so a megabyte of adversarial text costs about a millisecond.

use std::borrow::Cow;

use crate::config::Strategy;

/// An answer found in a response and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction<'a> {
    pub answer: Cow<'a, str>,
    pub strategy: Strategy,
}

/// Tries the strategies in order; the first that finds a non-empty answer wins.
///
/// A response that ends inside an unclosed `\boxed{` was cut off while writing its
/// answer: nothing from the unfinished box on is searched, so a truncated
/// `\boxed{12` never yields the number 12.
pub fn extract<'a>(response: &'a str, strategies: &[Strategy]) -> Option<Extraction<'a>> {
    let response = &response[..unfinished_box_start(response)];
    strategies.iter().find_map(|&strategy| {
        let answer = match strategy {
            Strategy::Boxed => boxed(response),
            Strategy::AnswerPhrase => answer_phrase(response).map(Cow::Borrowed),
            Strategy::TrailingMath => trailing_math(response),
            Strategy::ChoiceLetter => {
                last_choice_letter(response).map(|letter| Cow::Owned(letter.to_string()))
            }
            Strategy::LastNumber => last_number(response).map(Cow::Borrowed),
        }?;
        let trimmed = trim_cow(answer);
        (!trimmed.is_empty()).then_some(Extraction {
            answer: trimmed,
            strategy,
        })
    })
}

/// Trims spaces and a sentence-ending period (`\boxed{7.}`).
fn trim_cow(answer: Cow<'_, str>) -> Cow<'_, str> {
    let trim = |text: &str| -> (usize, usize) {
        let trimmed = text.trim();
        let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed).trim_end();
        let start = trimmed.as_ptr() as usize - text.as_ptr() as usize;
        (start, start + trimmed.len())
    };
    match answer {
        Cow::Borrowed(text) => {
            let (start, end) = trim(text);
            Cow::Borrowed(&text[start..end])
        }
        Cow::Owned(text) => {
            let (start, end) = trim(&text);
            Cow::Owned(text[start..end].to_string())
        }
    }
}

/// Where an unclosed last box starts, or the length of the text.
fn unfinished_box_start(text: &str) -> usize {
    let Some((start, name_length)) = last_box_command(text, 0, text.len()) else {
        return text.len();
    };
    let bytes = text.as_bytes();
    let mut cursor = start + name_length;
    while bytes.get(cursor) == Some(&b' ') {
        cursor += 1;
    }
    if bytes.get(cursor) == Some(&b'{') && matching_brace(bytes, cursor, bytes.len()).is_none() {
        start
    } else {
        text.len()
    }
}

/// The most boxes joined into one list answer (`\boxed{2}, \boxed{3}`).
const MAX_ADJACENT_BOXES: usize = 8;
/// How far before a box an adjacent one may start.
const ADJACENT_WINDOW: usize = 4096;

/// The content of the last `\boxed{…}`/`\fbox{…}`, joined with directly preceding boxes.
pub(crate) fn boxed(text: &str) -> Option<Cow<'_, str>> {
    let last = last_box(text, 0, text.len())?;
    let mut contents = vec![&text[last.content.0..last.content.1]];
    let mut start = last.start;
    while contents.len() < MAX_ADJACENT_BOXES {
        // A box directly before this one ends within a few bytes of it; its content is
        // short, so the search need not go further back than a window.
        let Some(previous) = last_box(text, start.saturating_sub(ADJACENT_WINDOW), start) else {
            break;
        };
        if previous.end > start || !only_separators(&text[previous.end..start]) {
            break;
        }
        let content = &text[previous.content.0..previous.content.1];
        if !contents.contains(&content) {
            contents.push(content);
        }
        start = previous.start;
    }
    if contents.len() == 1 {
        return Some(Cow::Borrowed(contents[0]));
    }
    contents.reverse();
    Some(Cow::Owned(contents.join(", ")))
}

struct BoxSpan {
    start: usize,
    content: (usize, usize),
    end: usize,
}

/// The last complete box that starts before `before`. An unclosed box (a truncated
/// response) is skipped; scanning an earlier candidate stops where the later one
/// starts, so the search stays linear even for thousands of nested openings.
fn last_box(text: &str, floor: usize, before: usize) -> Option<BoxSpan> {
    let bytes = text.as_bytes();
    let mut limit = text.len();
    let mut search_end = before;
    loop {
        let (start, name_length) = last_box_command(text, floor, search_end)?;
        search_end = start;
        let mut cursor = start + name_length;
        if bytes.get(cursor).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        while bytes.get(cursor) == Some(&b' ') {
            cursor += 1;
        }
        if bytes.get(cursor) == Some(&b'{') {
            if let Some(close) = matching_brace(bytes, cursor, limit) {
                return Some(BoxSpan {
                    start,
                    content: (cursor + 1, close),
                    end: close + 1,
                });
            }
            limit = start;
            continue;
        }
        // `\boxed 5`: one token, up to a space or a math delimiter.
        let token_end = bytes[cursor..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'$')
            .map_or(text.len(), |offset| cursor + offset);
        if token_end > cursor && token_end <= limit {
            return Some(BoxSpan {
                start,
                content: (cursor, token_end),
                end: token_end,
            });
        }
    }
}

/// The last `\\boxed` or `\\fbox` starting in `floor..end`: (start, length of the name).
/// Walks back over backslashes (a memrchr each), so a long response costs one pass.
fn last_box_command(text: &str, floor: usize, end: usize) -> Option<(usize, usize)> {
    let mut search_end = end;
    while let Some(position) = text[..search_end]
        .rfind('\\')
        .filter(|&position| position >= floor)
    {
        let rest = &text[position..];
        for name in ["\\boxed", "\\fbox"] {
            if rest.starts_with(name) {
                return Some((position, name.len()));
            }
        }
        search_end = position;
    }
    None
}

/// The index of the `}` closing the `{` at `open`, searching no further than `limit`.
fn matching_brace(bytes: &[u8], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut index = open;
    while index < limit.min(bytes.len()) {
        match bytes[index] {
            b'\\' => index += 1,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// Whether text between two boxes only separates them (`, `, ` and `, `$ $`).
fn only_separators(gap: &str) -> bool {
    let mut rest = gap.trim();
    if rest.len() > 40 {
        return false;
    }
    const SEPARATORS: &[&str] = &[
        "\\text{and}",
        "\\text{ and }",
        "\\text{or}",
        "\\text{ or }",
        "\\quad",
        "\\qquad",
        "\\,",
        "\\;",
        "\\(",
        "\\)",
        "\\[",
        "\\]",
        "and",
        "or",
        "$",
        ",",
        ";",
        "&",
        "\\\\",
    ];
    while !rest.is_empty() {
        match SEPARATORS
            .iter()
            .find(|separator| rest.starts_with(**separator))
        {
            Some(separator) => rest = rest[separator.len()..].trim_start(),
            None => return false,
        }
    }
    true
}

/// The last position of `needle` (ASCII, compared case-insensitively) in `haystack`.
fn rfind_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (bytes, needle) = (haystack.as_bytes(), needle.as_bytes());
    if needle.is_empty() || needle.len() > bytes.len() {
        return None;
    }
    let first = needle[0];
    (0..=bytes.len() - needle.len()).rev().find(|&start| {
        bytes[start].eq_ignore_ascii_case(&first)
            && bytes[start..start + needle.len()].eq_ignore_ascii_case(needle)
    })
}

/// Phrases that introduce a final answer, longest first so "final answer is" beats "answer is".
const ANSWER_PHRASES: &[&str] = &[
    "final answer is",
    "final answer:",
    "the answer is",
    "answer is",
    "answer:",
    "####",
];

/// The text after the last answer phrase, up to the end of its sentence or line.
pub(crate) fn answer_phrase(text: &str) -> Option<&str> {
    let (position, length) = ANSWER_PHRASES
        .iter()
        .filter_map(|phrase| {
            rfind_ignore_case(text, phrase).map(|position| (position, phrase.len()))
        })
        .max_by_key(|(position, length)| (*position + *length, *length))?;
    let rest = text[position + length..]
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '*'));
    if let Some(math) = leading_math(rest) {
        return Some(math);
    }
    let end = sentence_end(rest);
    let sentence = rest[..end].trim().trim_end_matches(['.', '$', ' ']);
    (!sentence.is_empty()).then_some(sentence)
}

/// The content of a math environment that starts `text`.
fn leading_math(text: &str) -> Option<&str> {
    for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(rest) = text.strip_prefix(open) {
            let end = rest.find(close)?;
            return Some(rest[..end].trim());
        }
    }
    None
}

/// Where the sentence starting `text` ends: a line break, "I hope", or a period that
/// is not a decimal point.
fn sentence_end(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\n' => return index,
            b'.' if !bytes.get(index + 1).is_some_and(u8::is_ascii_digit) => return index,
            b'I' if text[index..].starts_with("I hope") => return index,
            _ => {}
        }
        index += 1;
    }
    bytes.len()
}

/// The math environment that ends the response (trailing punctuation allowed), joined
/// with directly preceding ones: "the solutions are $1$, $2$ and $3$." gives `1, 2, 3`.
pub(crate) fn trailing_math(text: &str) -> Option<Cow<'_, str>> {
    let (mut start, last) = last_math_environment(text)?;
    let mut contents = vec![last];
    while contents.len() < MAX_ADJACENT_BOXES {
        let before = &text[..start];
        let Some((previous_start, previous)) = last_math_environment_ending(before) else {
            break;
        };
        contents.push(previous);
        start = previous_start;
    }
    if contents.len() == 1 {
        return Some(Cow::Borrowed(contents[0]));
    }
    contents.reverse();
    Some(Cow::Owned(contents.join(", ")))
}

/// (start of the environment, its content) of the environment ending `text`.
fn last_math_environment(text: &str) -> Option<(usize, &str)> {
    let end = text.trim_end().trim_end_matches(['.', '!', ' ', '\n']);
    for (open, close) in [("$$", "$$"), ("\\]", "\\["), ("\\)", "\\("), ("$", "$")] {
        if let Some(before_close) = end.strip_suffix(open) {
            let start = before_close.rfind(close)?;
            let content = before_close[start + close.len()..].trim();
            return (!content.is_empty()).then_some((start, content));
        }
    }
    None
}

/// An environment that ends `text` after only list separators (", ", " and ").
fn last_math_environment_ending(text: &str) -> Option<(usize, &str)> {
    let trimmed = text.trim_end();
    let separator_start = [",", " and", " or", ", and", ", or"]
        .iter()
        .filter_map(|separator| trimmed.strip_suffix(separator))
        .map(str::len)
        .min()?;
    let candidate = &text[..separator_start];
    let (start, content) = last_math_environment(candidate)?;
    only_separators(&text[candidate.trim_end().len()..]).then_some((start, content))
}

/// The last number: digits with a decimal point, thousands commas, a sign or a `/`.
pub(crate) fn last_number(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let last_digit = bytes.iter().rposition(u8::is_ascii_digit)?;
    let mut start = last_digit;
    let mut seen_slash = false;
    while start > 0 {
        let previous = bytes[start - 1];
        let digit_before = start >= 2 && bytes[start - 2].is_ascii_digit();
        let accept = match previous {
            b'0'..=b'9' => true,
            b'.' => digit_before,
            b',' => {
                digit_before
                    && bytes.len() >= start + 3
                    && bytes[start..start + 3].iter().all(u8::is_ascii_digit)
                    && !bytes.get(start + 3).is_some_and(u8::is_ascii_digit)
            }
            b'/' if !seen_slash && digit_before => {
                seen_slash = true;
                true
            }
            _ => false,
        };
        if !accept {
            break;
        }
        start -= 1;
    }
    if start > 0
        && bytes[start - 1] == b'-'
        && (start == 1 || !bytes[start - 2].is_ascii_alphanumeric())
    {
        start -= 1;
    }
    Some(&text[start..=last_digit])
}

/// A multiple-choice letter written as `C`, `(C)`, `C)`, `\text{(C)}`, `(C) 42` or `C. 42`.
pub fn choice_letter(text: &str) -> Option<char> {
    let mut cleaned = text.trim();
    for wrapper in ["\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{"] {
        if let Some(inner) = cleaned
            .strip_prefix(wrapper)
            .and_then(|inner| inner.strip_suffix('}'))
        {
            cleaned = inner.trim();
        }
    }
    let cleaned = cleaned.trim_matches(|c: char| c == '$' || c == '*' || c.is_whitespace());
    let bytes = cleaned.as_bytes();
    // A bare lowercase letter is a variable (`e`, `a`), not a choice; `(c)` is a choice.
    let is_choice = |byte: u8| matches!(byte, b'A'..=b'E');
    let letter = match bytes {
        [letter] if is_choice(*letter) => *letter,
        [b'(', letter, b')', ..] if is_choice(letter.to_ascii_uppercase()) => *letter,
        [letter, b')' | b'.' | b':', rest @ ..]
            if is_choice(*letter) && rest.first().is_none_or(|b| *b == b' ') =>
        {
            *letter
        }
        _ => return None,
    };
    Some(letter.to_ascii_uppercase() as char)
}

/// The last `(A)`–`(E)` in the response.
fn last_choice_letter(text: &str) -> Option<char> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(2))
        .rev()
        .find_map(|start| match &bytes[start..start + 3] {
            [b'(', letter @ b'A'..=b'E', b')'] => Some(*letter as char),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(response: &str, strategies: &[Strategy]) -> Option<(String, Strategy)> {
        extract(response, strategies)
            .map(|extraction| (extraction.answer.into_owned(), extraction.strategy))
    }

    const DEFAULT: &[Strategy] = &[
        Strategy::Boxed,
        Strategy::AnswerPhrase,
        Strategy::TrailingMath,
        Strategy::LastNumber,
    ];

    #[test]
    fn boxed_answers() {
        assert_eq!(
            found("so \\boxed{\\frac{1}{2}}.", DEFAULT),
            Some(("\\frac{1}{2}".into(), Strategy::Boxed))
        );
        assert_eq!(
            found("\\boxed{1} then \\boxed{2}", DEFAULT).map(|f| f.0),
            Some("2".into())
        );
        assert_eq!(
            found("$\\boxed{1}$ and $\\boxed{2}$", DEFAULT).map(|f| f.0),
            Some("1, 2".into())
        );
        assert_eq!(
            found("\\boxed 5 is it", DEFAULT).map(|f| f.0),
            Some("5".into())
        );
        assert_eq!(
            found("\\boxed{\\{1,2\\}}", DEFAULT).map(|f| f.0),
            Some("\\{1,2\\}".into())
        );
        assert_eq!(found("\\fbox{7}", DEFAULT).map(|f| f.0), Some("7".into()));
    }

    #[test]
    fn truncated_boxes_are_not_answers() {
        assert_eq!(found("so the total is \\boxed{12", DEFAULT), None);
        assert_eq!(found("\\boxed{7.}", DEFAULT).map(|f| f.0), Some("7".into()));
        assert_eq!(
            found("\\boxed{3} but wait \\boxed{4", DEFAULT).map(|f| f.0),
            Some("3".into())
        );
        let adversarial = "\\boxed{".repeat(5000);
        assert_eq!(found(&adversarial, &[Strategy::Boxed]), None);
    }

    #[test]
    fn answer_phrases() {
        let minerva = "Final Answer: The final answer is $12$. I hope it is correct.";
        assert_eq!(
            found(minerva, DEFAULT),
            Some(("12".into(), Strategy::AnswerPhrase))
        );
        assert_eq!(
            found("So the answer is 3.5.\n", DEFAULT).map(|f| f.0),
            Some("3.5".into())
        );
        assert_eq!(
            found("#### 1,234", DEFAULT).map(|f| f.0),
            Some("1,234".into())
        );
    }

    #[test]
    fn trailing_math_and_last_number() {
        assert_eq!(
            found("The solutions are $1$, $-2$ and $3$.", DEFAULT).map(|f| f.0),
            Some("1, -2, 3".into())
        );
        assert_eq!(
            found("Thus we get $x = 2$.", DEFAULT),
            Some(("x = 2".into(), Strategy::TrailingMath))
        );
        assert_eq!(
            found("we get 12 apples and -3/4 of a pie", DEFAULT),
            Some(("-3/4".into(), Strategy::LastNumber))
        );
        assert_eq!(
            found("total 1,234,567 units", DEFAULT).map(|f| f.0),
            Some("1,234,567".into())
        );
        assert_eq!(found("values 3,4", DEFAULT).map(|f| f.0), Some("4".into()));
        assert_eq!(found("no digits here", DEFAULT), None);
    }

    #[test]
    fn choice_letters() {
        for text in ["C", "(C)", "C)", "\\text{(C)}", "(C) 42", "C. 42", "$C$"] {
            assert_eq!(choice_letter(text), Some('C'), "{text}");
        }
        assert_eq!(choice_letter("Cat"), None);
        assert_eq!(choice_letter("e"), None, "Euler's number is not choice E");
        assert_eq!(choice_letter("(c)"), Some('C'));
        assert_eq!(
            found("I pick (B) since", &[Strategy::ChoiceLetter]).map(|f| f.0),
            Some("B".into())
        );
    }
}
