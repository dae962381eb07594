//! Tokenizer for answers written in LaTeX or plain math.
//!
//! The lexer does the purely lexical clean-up so the parser sees a small, regular
//! token set: spacing and sizing commands vanish, `\text{…}` becomes one token,
//! unicode operators map to their LaTeX names, and digit groups joined by thousands
//! separators (`1,000`, `1{,}000`, `1,\!000`, `10\,000`) become one number.

use crate::error::ParseError;

/// One lexical unit of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// Digits with at most one decimal point, separators already removed (`"1000"`, `"0.5"`, `".5"`).
    Number(String),
    /// A single ASCII letter (LaTeX reads `xy` as `x·y`).
    Letter(char),
    /// A run of two or more letters in plain text (`sqrt`, `cm`, `and`); the parser decides.
    Word(String),
    /// A control sequence without its backslash (`frac`, `pi`, `{`, `\\`).
    Command(String),
    /// The contents of `\text{…}` and its relatives.
    Text(String),
    /// Any other single character (`+`, `(`, `^`, `=`, …).
    Symbol(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte offset in the answer, for error messages.
    pub offset: usize,
}

/// Commands that only affect spacing or size and carry no meaning for the value.
const IGNORED_COMMANDS: &[&str] = &[
    ",",
    ";",
    ":",
    "!",
    " ",
    ">",
    "quad",
    "qquad",
    "enspace",
    "thinspace",
    "medspace",
    "thickspace",
    "negthinspace",
    "negmedspace",
    "negthickspace",
    "left",
    "right",
    "middle",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "displaystyle",
    "textstyle",
    "scriptstyle",
    "limits",
    "nolimits",
    "mathbf",
    "mathit",
    "boldsymbol",
    "bm",
    "mathsf",
    "mathnormal",
    "mathcal",
    "mathscr",
    "mathtt",
    "$",
    "(",
    ")",
    "[",
    "]",
    "relax",
    "mathord",
    "mathrel",
    "mathbin",
    "ensuremath",
    "phantom",
    "hfill",
];

/// Commands whose braced argument is prose.
const TEXT_COMMANDS: &[&str] = &[
    "text",
    "textrm",
    "textbf",
    "textit",
    "textnormal",
    "textsf",
    "texttt",
    "mbox",
    "hbox",
    "textup",
    "emph",
];

/// Commands whose braced argument is an upright name (`\mathrm{e}`, `\operatorname{lcm}`).
const NAME_COMMANDS: &[&str] = &["mathrm", "operatorname", "rm"];

pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    Lexer {
        input,
        bytes: input.as_bytes(),
        pos: 0,
        bracket_depth: 0,
        plain: !input.contains('\\'),
        tokens: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Depth of `(`, `[` and `\{`: a bare comma inside brackets separates items, never thousands.
    bracket_depth: usize,
    /// No backslash anywhere: plain-text conventions such as `1e-5` apply.
    plain: bool,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Vec<Token>, ParseError> {
        while self.pos < self.bytes.len() {
            let start = self.pos;
            let byte = self.bytes[self.pos];
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | b'~' | b'$' => self.pos += 1,
                b'0'..=b'9' => self.number(start),
                b'.' if self.peek_byte(1).is_some_and(|b| b.is_ascii_digit()) => self.number(start),
                b'a'..=b'z' | b'A'..=b'Z' => self.letters(start),
                b'\\' => self.command(start)?,
                b'{' if self.input[start..].starts_with("{,}") => {
                    // A lone `{,}` not after a number is just a comma.
                    self.pos += 3;
                    self.push(TokenKind::Symbol(','), start);
                }
                b'*' if self.peek_byte(1) == Some(b'*') => {
                    self.pos += 2;
                    self.push(TokenKind::Symbol('^'), start);
                }
                b'<' if self.peek_byte(1) == Some(b'=') => {
                    self.pos += 2;
                    self.push(TokenKind::Command("le".into()), start);
                }
                b'>' if self.peek_byte(1) == Some(b'=') => {
                    self.pos += 2;
                    self.push(TokenKind::Command("ge".into()), start);
                }
                b'!' if self.peek_byte(1) == Some(b'=') => {
                    self.pos += 2;
                    self.push(TokenKind::Command("ne".into()), start);
                }
                0x80.. => self.unicode(start),
                _ => {
                    self.pos += 1;
                    let symbol = byte as char;
                    match symbol {
                        '(' | '[' => self.bracket_depth += 1,
                        ')' | ']' => self.bracket_depth = self.bracket_depth.saturating_sub(1),
                        _ => {}
                    }
                    self.push(TokenKind::Symbol(symbol), start);
                }
            }
        }
        Ok(self.tokens)
    }

    fn push(&mut self, kind: TokenKind, offset: usize) {
        self.tokens.push(Token { kind, offset });
    }

    fn peek_byte(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn digits_at(&self, at: usize) -> usize {
        self.bytes[at.min(self.bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    }

    /// Reads a number, joining thousands groups and (in plain text) scientific notation.
    fn number(&mut self, start: usize) {
        let mut text = String::new();
        let leading = self.digits_at(self.pos);
        text.push_str(&self.input[self.pos..self.pos + leading]);
        self.pos += leading;
        if (1..=3).contains(&leading) && !text.starts_with('0') {
            while let Some(after_separator) = self.thousands_separator_end() {
                if self.digits_at(after_separator) != 3 {
                    break;
                }
                text.push_str(&self.input[after_separator..after_separator + 3]);
                self.pos = after_separator + 3;
            }
        }
        if self.peek_byte(0) == Some(b'.') && self.peek_byte(1).is_some_and(|b| b.is_ascii_digit())
        {
            let fraction = self.digits_at(self.pos + 1);
            text.push_str(&self.input[self.pos..self.pos + 1 + fraction]);
            self.pos += 1 + fraction;
        }
        if self.plain {
            self.scientific_exponent(&mut text);
        }
        self.push(TokenKind::Number(text), start);
    }

    /// If a thousands separator starts at the cursor, the offset just after it.
    fn thousands_separator_end(&self) -> Option<usize> {
        let rest = &self.input[self.pos..];
        // Explicit LaTeX idioms are unambiguous wherever they appear.
        for separator in ["{,}", ",\\!", ",\\,", "\\,", "\\ ", "\\!,"] {
            if rest.starts_with(separator) {
                let after = self.pos + separator.len();
                let spaces = self.bytes[after..]
                    .iter()
                    .take_while(|b| **b == b' ')
                    .count();
                return Some(after + spaces);
            }
        }
        // A bare comma or space is a separator only outside brackets (and a comma only when
        // not followed by a space), so that `(1,100)` stays a pair and `3, 5, 7` a list.
        if (rest.starts_with(',') || rest.starts_with(' ')) && self.bracket_depth == 0 {
            let after = self.pos + 1;
            let group_end = after + 3;
            let fourth = self.bytes.get(group_end).copied();
            if !fourth.is_some_and(|b| b.is_ascii_digit()) {
                return Some(after);
            }
        }
        None
    }

    fn scientific_exponent(&mut self, text: &mut String) {
        if !matches!(self.peek_byte(0), Some(b'e' | b'E')) {
            return;
        }
        let sign = usize::from(matches!(self.peek_byte(1), Some(b'+' | b'-')));
        let digits = self.digits_at(self.pos + 1 + sign);
        let after = self.pos + 1 + sign + digits;
        let followed_by_letter = self
            .bytes
            .get(after)
            .is_some_and(|b| b.is_ascii_alphabetic());
        if digits == 0 || followed_by_letter {
            return;
        }
        text.push('e');
        text.push_str(&self.input[self.pos + 1..after]);
        self.pos = after;
    }

    fn letters(&mut self, start: usize) {
        let length = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        self.pos += length;
        if length == 1 {
            self.push(TokenKind::Letter(self.bytes[start] as char), start);
        } else {
            self.push(
                TokenKind::Word(self.input[start..start + length].to_string()),
                start,
            );
        }
    }

    fn command(&mut self, start: usize) -> Result<(), ParseError> {
        self.pos += 1;
        let name_length = self.bytes[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let name = if name_length == 0 {
            // A control symbol: one character, which may be multi-byte.
            match self.input[self.pos..].chars().next() {
                Some(symbol) => {
                    self.pos += symbol.len_utf8();
                    symbol.to_string()
                }
                None => return Err(ParseError::unexpected_end(start)),
            }
        } else {
            self.pos += name_length;
            self.input[self.pos - name_length..self.pos].to_string()
        };
        if IGNORED_COMMANDS.contains(&name.as_str()) {
            if matches!(name.as_str(), "left" | "right" | "middle")
                || name.starts_with("big")
                || name.starts_with("Big")
            {
                self.skip_size_delimiter_dot();
            }
            return Ok(());
        }
        if TEXT_COMMANDS.contains(&name.as_str()) {
            let content = self.braced_raw().unwrap_or_default();
            self.push(TokenKind::Text(content.trim().to_string()), start);
            return Ok(());
        }
        if NAME_COMMANDS.contains(&name.as_str()) {
            if let Some(content) = self.braced_raw() {
                let name = content.trim();
                if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic()) {
                    let kind = if name.len() == 1 {
                        TokenKind::Letter(name.as_bytes()[0] as char)
                    } else {
                        TokenKind::Word(name.to_string())
                    };
                    self.push(kind, start);
                } else {
                    self.push(TokenKind::Text(name.to_string()), start);
                }
            }
            return Ok(());
        }
        match name.as_str() {
            "{" | "lbrace" => {
                self.bracket_depth += 1;
                self.push(TokenKind::Command("{".into()), start);
            }
            "}" | "rbrace" => {
                self.bracket_depth = self.bracket_depth.saturating_sub(1);
                self.push(TokenKind::Command("}".into()), start);
            }
            "%" => self.push(TokenKind::Symbol('%'), start),
            "|" | "vert" | "lvert" | "rvert" | "mid" => self.push(TokenKind::Symbol('|'), start),
            "&" => {}
            "lt" => self.push(TokenKind::Symbol('<'), start),
            "gt" => self.push(TokenKind::Symbol('>'), start),
            _ => self.push(TokenKind::Command(name), start),
        }
        Ok(())
    }

    /// `\left.` and `\right.` are invisible delimiters.
    fn skip_size_delimiter_dot(&mut self) {
        while self.peek_byte(0) == Some(b' ') {
            self.pos += 1;
        }
        if self.peek_byte(0) == Some(b'.') && !self.peek_byte(1).is_some_and(|b| b.is_ascii_digit())
        {
            self.pos += 1;
        }
    }

    /// The raw text of a `{…}` group at the cursor (nested braces kept), consuming it.
    fn braced_raw(&mut self) -> Option<String> {
        while self.peek_byte(0) == Some(b' ') {
            self.pos += 1;
        }
        if self.peek_byte(0) != Some(b'{') {
            return None;
        }
        let open = self.pos;
        let mut depth = 0usize;
        let mut index = open;
        while index < self.bytes.len() {
            match self.bytes[index] {
                b'\\' => index += 1,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = index + 1;
                        return Some(self.input[open + 1..index].to_string());
                    }
                }
                _ => {}
            }
            index += 1;
        }
        // Unbalanced: take the rest so the parser can report what follows.
        self.pos = self.bytes.len();
        Some(self.input[open + 1..].to_string())
    }

    fn unicode(&mut self, start: usize) {
        let Some(character) = self.input[self.pos..].chars().next() else {
            self.pos = self.bytes.len();
            return;
        };
        self.pos += character.len_utf8();
        let kind = match character {
            '\u{2212}' | '\u{2013}' | '\u{2014}' => TokenKind::Symbol('-'),
            '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2002}' | '\u{2003}' => return,
            '²' => {
                self.push(TokenKind::Symbol('^'), start);
                TokenKind::Number("2".into())
            }
            '³' => {
                self.push(TokenKind::Symbol('^'), start);
                TokenKind::Number("3".into())
            }
            other => match unicode_command(other) {
                Some(name) => TokenKind::Command(name.into()),
                None => TokenKind::Symbol(other),
            },
        };
        self.push(kind, start);
    }
}

fn unicode_command(character: char) -> Option<&'static str> {
    Some(match character {
        'π' => "pi",
        '∞' => "infty",
        '≤' | '⩽' => "le",
        '≥' | '⩾' => "ge",
        '≠' => "ne",
        '√' => "sqrt",
        '×' => "times",
        '·' | '⋅' | '∙' => "cdot",
        '÷' => "div",
        '°' => "degree",
        '∪' => "cup",
        '∩' => "cap",
        '∈' => "in",
        '±' => "pm",
        '∓' => "mp",
        '…' => "ldots",
        '∅' => "emptyset",
        'ℝ' => "R",
        'α' => "alpha",
        'β' => "beta",
        'γ' => "gamma",
        'δ' => "delta",
        'θ' => "theta",
        'λ' => "lambda",
        'μ' => "mu",
        'φ' => "phi",
        'ω' => "omega",
        '≈' => "approx",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .map(|tokens| tokens.into_iter().map(|t| t.kind).collect())
            .unwrap_or_default()
    }

    #[test]
    fn thousands_separators_join_groups() {
        for input in ["1,000", "1{,}000", "1,\\!000", "1\\,000"] {
            assert_eq!(
                kinds(input),
                vec![TokenKind::Number("1000".into())],
                "{input}"
            );
        }
        assert_eq!(
            kinds("11,\\! 111,\\! 111,\\! 100"),
            vec![TokenKind::Number("11111111100".into())]
        );
    }

    #[test]
    fn commas_inside_brackets_and_with_spaces_separate() {
        assert_eq!(kinds("(1,100)").len(), 5);
        assert_eq!(kinds("3, 500").len(), 3);
        assert_eq!(
            kinds("0,100").len(),
            3,
            "a leading zero never starts a thousands number"
        );
        assert_eq!(
            kinds("1 000 000"),
            vec![TokenKind::Number("1000000".into())]
        );
        assert_eq!(kinds("2 3").len(), 2);
    }

    #[test]
    fn spacing_and_sizing_commands_vanish() {
        assert_eq!(
            kinds("\\left( x \\right.\\,"),
            vec![TokenKind::Symbol('('), TokenKind::Letter('x')]
        );
    }

    #[test]
    fn scientific_notation_only_in_plain_text() {
        assert_eq!(kinds("1.5e-3"), vec![TokenKind::Number("1.5e-3".into())]);
        assert_eq!(
            kinds("2e-1\\cdot"),
            vec![
                TokenKind::Number("2".into()),
                TokenKind::Letter('e'),
                TokenKind::Symbol('-'),
                TokenKind::Number("1".into()),
                TokenKind::Command("cdot".into())
            ]
        );
    }

    #[test]
    fn text_and_names_become_single_tokens() {
        assert_eq!(kinds("\\text{ cm}"), vec![TokenKind::Text("cm".into())]);
        assert_eq!(kinds("\\mathrm{e}"), vec![TokenKind::Letter('e')]);
        assert_eq!(
            kinds("\\operatorname{lcm}"),
            vec![TokenKind::Word("lcm".into())]
        );
    }
}
