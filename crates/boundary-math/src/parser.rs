//! Recursive-descent (precedence-climbing) parser from tokens to `Expr`.
//!
//! Precedence, loosest first: answer lists (`,` `;` "and") → relations (`=`, `<`, `\in`)
//! → set operations (`\cup`) → sums (`+`, `-`, `\pm`) → products (`\cdot`, `/`, implicit)
//! → unary signs → powers → postfix (`!`, `%`, `^\circ`, subscripts) → primaries.
//! LaTeX argument rules are followed (`\frac12`, `\sqrt2`), while plain-text habits
//! (`2^10`, `sqrt(2)`, `x**2`) are accepted too. Depth is bounded by `Limits::max_depth`.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Pow, Signed};

use crate::ast::{Constant, Expr, Function, Interval, Number, Relation, SetOperation};
use crate::config::Limits;
use crate::error::{Exhausted, Limit, ParseError};
use crate::lexer::{Token, TokenKind, tokenize};
use crate::units;

/// Parses a whole answer; everything must be consumed.
pub(crate) fn parse(input: &str, limits: &Limits) -> Result<Expr, ParseError> {
    parse_at_depth(input, limits, 0)
}

fn parse_at_depth(input: &str, limits: &Limits, depth: usize) -> Result<Expr, ParseError> {
    if input.len() > limits.max_answer_bytes {
        return Err(Exhausted {
            limit: Limit::AnswerBytes,
        }
        .into());
    }
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(ParseError::Empty);
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth,
        abs_depth: 0,
        end: input.len(),
        limits,
    };
    let expr = parser.list()?;
    if let Some(token) = parser.tokens.get(parser.pos) {
        return Err(unexpected(token));
    }
    if expr.size() > limits.max_nodes {
        return Err(Exhausted {
            limit: Limit::Nodes,
        }
        .into());
    }
    Ok(expr)
}

struct Parser<'l> {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// Inside `|…|`, a bar closes instead of opening.
    abs_depth: usize,
    end: usize,
    limits: &'l Limits,
}

fn unexpected(token: &Token) -> ParseError {
    let found = match &token.kind {
        TokenKind::Number(text) => format!("number {text}"),
        TokenKind::Letter(letter) => format!("'{letter}'"),
        TokenKind::Word(word) => format!("word \"{word}\""),
        TokenKind::Command(name) => format!("\\{name}"),
        TokenKind::Text(text) => format!("text \"{text}\""),
        TokenKind::Symbol(symbol) => format!("'{symbol}'"),
    };
    ParseError::Unexpected {
        found,
        offset: token.offset,
    }
}

/// Words that separate the answers of a list.
fn is_connector(word: &str) -> bool {
    matches!(word.trim(), "and" | "or" | "," | "&" | ";")
}

/// Commands that name a single-argument (or log-like) function.
fn function_command(name: &str) -> Option<Function> {
    match name {
        "lg" => Some(Function::Log),
        _ => Function::from_name(name),
    }
}

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "varrho",
    "sigma",
    "varsigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
    "ell",
];

/// Accents that decorate a symbol without changing which value it names.
const ACCENTS: &[&str] = &[
    "vec",
    "hat",
    "bar",
    "tilde",
    "widehat",
    "widetilde",
    "dot",
    "ddot",
    "mathring",
];

impl Parser<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.pos).map(|token| &token.kind)
    }

    fn peek_at(&self, ahead: usize) -> Option<&TokenKind> {
        self.tokens.get(self.pos + ahead).map(|token| &token.kind)
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map_or(self.end, |token| token.offset)
    }

    fn next_token(&mut self) -> Result<Token, ParseError> {
        let token = self
            .tokens
            .get(self.pos)
            .cloned()
            .ok_or(ParseError::unexpected_end(self.end))?;
        self.pos += 1;
        Ok(token)
    }

    fn peek_symbol(&self, symbol: char) -> bool {
        self.peek() == Some(&TokenKind::Symbol(symbol))
    }

    fn peek_command(&self, name: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Command(command)) if command == name)
    }

    fn eat_symbol(&mut self, symbol: char) -> bool {
        let found = self.peek_symbol(symbol);
        self.pos += usize::from(found);
        found
    }

    fn eat_command(&mut self, name: &str) -> bool {
        let found = self.peek_command(name);
        self.pos += usize::from(found);
        found
    }

    fn expect_symbol(&mut self, symbol: char) -> Result<(), ParseError> {
        if self.eat_symbol(symbol) {
            return Ok(());
        }
        match self.tokens.get(self.pos) {
            Some(token) => Err(unexpected(token)),
            None => Err(ParseError::unexpected_end(self.end)),
        }
    }

    fn expect_command(&mut self, name: &str) -> Result<(), ParseError> {
        if self.eat_command(name) {
            return Ok(());
        }
        match self.tokens.get(self.pos) {
            Some(token) => Err(unexpected(token)),
            None => Err(ParseError::unexpected_end(self.end)),
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Exhausted {
                limit: Limit::Depth,
            }
            .into());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- lists, relations, set operations -------------------------------------------------

    fn list(&mut self) -> Result<Expr, ParseError> {
        let mut items = self.list_items()?;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::List(items)
        })
    }

    fn list_items(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut items = vec![self.relation()?];
        while self.eat_separator() {
            if self.at_list_end() {
                break;
            }
            items.push(self.relation()?);
        }
        Ok(items)
    }

    fn eat_separator(&mut self) -> bool {
        let separator = match self.peek() {
            Some(TokenKind::Symbol(',' | ';')) => true,
            Some(TokenKind::Word(word)) => matches!(word.as_str(), "and" | "or"),
            Some(TokenKind::Text(text)) => is_connector(text),
            _ => false,
        };
        self.pos += usize::from(separator);
        separator
    }

    fn at_list_end(&self) -> bool {
        match self.peek() {
            None => true,
            Some(TokenKind::Symbol(')' | ']' | '}' | '&')) => true,
            Some(TokenKind::Command(name)) => matches!(
                name.as_str(),
                "}" | "\\" | "end" | "rangle" | "rfloor" | "rceil"
            ),
            _ => false,
        }
    }

    fn peek_relation(&self) -> Option<(Relation, usize)> {
        let relation = match self.peek()? {
            TokenKind::Symbol('=') => {
                let doubled = self.peek_at(1) == Some(&TokenKind::Symbol('='));
                return Some((Relation::Equal, 1 + usize::from(doubled)));
            }
            TokenKind::Symbol('<') => Relation::Less,
            TokenKind::Symbol('>') => Relation::Greater,
            TokenKind::Word(word) if word == "in" => Relation::In,
            TokenKind::Command(name) => match name.as_str() {
                "le" | "leq" | "leqslant" | "leqq" => Relation::LessEqual,
                "ge" | "geq" | "geqslant" | "geqq" => Relation::GreaterEqual,
                "ne" | "neq" => Relation::NotEqual,
                "in" => Relation::In,
                "approx" | "simeq" | "thickapprox" => Relation::Approx,
                _ => return None,
            },
            _ => return None,
        };
        Some((relation, 1))
    }

    fn relation(&mut self) -> Result<Expr, ParseError> {
        let first = self.set_expression()?;
        let mut rest = Vec::new();
        while let Some((relation, width)) = self.peek_relation() {
            self.pos += width;
            rest.push((relation, self.set_expression()?));
        }
        Ok(if rest.is_empty() {
            first
        } else {
            Expr::Relation(Box::new(first), rest)
        })
    }

    fn peek_set_operation(&self, left: &Expr) -> Option<SetOperation> {
        match self.peek()? {
            TokenKind::Command(name) => match name.as_str() {
                "cup" => Some(SetOperation::Union),
                "cap" => Some(SetOperation::Intersection),
                "setminus" | "backslash" => Some(SetOperation::Difference),
                _ => None,
            },
            // Plain text writes `(1, 2) U (3, 4)`.
            TokenKind::Letter('U')
                if matches!(
                    left,
                    Expr::Tuple(_) | Expr::Interval(_) | Expr::SetOperation(..)
                ) && matches!(self.peek_at(1), Some(TokenKind::Symbol('(' | '['))) =>
            {
                Some(SetOperation::Union)
            }
            _ => None,
        }
    }

    fn set_expression(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.additive()?;
        while let Some(operation) = self.peek_set_operation(&left) {
            self.pos += 1;
            let right = self.additive()?;
            left = Expr::SetOperation(operation, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    // ---- arithmetic ------------------------------------------------------------------------

    fn additive(&mut self) -> Result<Expr, ParseError> {
        let mut terms = Vec::new();
        let mut first = true;
        loop {
            let term = match self.peek() {
                Some(TokenKind::Symbol('+')) => {
                    self.pos += 1;
                    self.term()?
                }
                Some(TokenKind::Symbol('-')) => {
                    self.pos += 1;
                    Expr::Neg(Box::new(self.term()?))
                }
                Some(TokenKind::Command(name)) if name == "pm" || name == "mp" => {
                    self.pos += 1;
                    Expr::PlusMinus(Box::new(self.term()?))
                }
                _ if first => self.term()?,
                _ => break,
            };
            terms.push(term);
            first = false;
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Add(terms)
        })
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let mut numerator = vec![self.unary()?];
        let mut denominator = Vec::new();
        loop {
            match self.peek() {
                Some(TokenKind::Symbol('*')) => {
                    self.pos += 1;
                    numerator.push(self.unary()?);
                }
                Some(TokenKind::Command(name))
                    if matches!(name.as_str(), "cdot" | "times" | "ast") =>
                {
                    self.pos += 1;
                    numerator.push(self.unary()?);
                }
                Some(TokenKind::Symbol('/')) => {
                    self.pos += 1;
                    denominator.push(self.unary()?);
                }
                Some(TokenKind::Command(name)) if name == "div" => {
                    self.pos += 1;
                    denominator.push(self.unary()?);
                }
                _ if self.can_start_implicit_factor() => {
                    let fraction_follows = matches!(
                        self.peek(),
                        Some(TokenKind::Command(name)) if matches!(name.as_str(), "frac" | "dfrac" | "tfrac")
                    );
                    let factor = self.power()?;
                    let mixed = fraction_follows
                        .then(|| mixed_number(&numerator, &denominator, &factor))
                        .flatten();
                    if let Some(mixed) = mixed {
                        numerator[0] = mixed;
                    } else {
                        numerator.push(factor);
                    }
                }
                _ => break,
            }
        }
        let numerator = if numerator.len() == 1 {
            numerator.remove(0)
        } else {
            Expr::Mul(numerator)
        };
        Ok(match denominator.len() {
            0 => numerator,
            1 => Expr::Div(Box::new(numerator), Box::new(denominator.remove(0))),
            _ => Expr::Div(Box::new(numerator), Box::new(Expr::Mul(denominator))),
        })
    }

    fn can_start_implicit_factor(&self) -> bool {
        match self.peek() {
            Some(TokenKind::Number(_) | TokenKind::Letter(_)) => true,
            Some(TokenKind::Word(word)) => !matches!(word.as_str(), "and" | "or" | "in"),
            Some(TokenKind::Text(text)) => !is_connector(text),
            Some(TokenKind::Symbol('(' | '{')) => true,
            Some(TokenKind::Symbol('|')) => self.abs_depth == 0,
            Some(TokenKind::Command(name)) => !matches!(
                name.as_str(),
                "cdot"
                    | "times"
                    | "ast"
                    | "div"
                    | "pm"
                    | "mp"
                    | "cup"
                    | "cap"
                    | "setminus"
                    | "backslash"
                    | "le"
                    | "leq"
                    | "leqslant"
                    | "leqq"
                    | "ge"
                    | "geq"
                    | "geqslant"
                    | "geqq"
                    | "ne"
                    | "neq"
                    | "in"
                    | "approx"
                    | "simeq"
                    | "thickapprox"
                    | "}"
                    | "\\"
                    | "end"
                    | "rangle"
                    | "rfloor"
                    | "rceil"
                    | "{"
                    | "circ"
                    | "degree"
                    | "to"
                    | "rightarrow"
                    | "implies"
                    | "Rightarrow"
                    | "quad"
                    | "text"
                    | "ldots"
                    | "dots"
                    | "cdots"
            ),
            _ => false,
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        let wrap: fn(Box<Expr>) -> Expr = match self.peek() {
            Some(TokenKind::Symbol('-')) => Expr::Neg,
            Some(TokenKind::Symbol('+')) => |inner| *inner,
            Some(TokenKind::Command(name)) if name == "pm" || name == "mp" => Expr::PlusMinus,
            _ => return self.power(),
        };
        self.pos += 1;
        self.enter()?;
        let inner = self.unary();
        self.leave();
        Ok(wrap(Box::new(inner?)))
    }

    fn power(&mut self) -> Result<Expr, ParseError> {
        let base = self.postfix()?;
        if !self.eat_symbol('^') {
            return Ok(base);
        }
        let powered = match self.exponent()? {
            Exponent::Degrees => Expr::Degrees(Box::new(base)),
            Exponent::Value(exponent) => {
                let exponent = self.exponent_tower(exponent)?;
                Expr::Pow(Box::new(base), Box::new(exponent))
            }
        };
        self.postfix_operators(powered)
    }

    /// Powers associate to the right: `2^3^2` is 2^9.
    fn exponent_tower(&mut self, exponent: Expr) -> Result<Expr, ParseError> {
        if !self.eat_symbol('^') {
            return Ok(exponent);
        }
        self.enter()?;
        let result = match self.exponent() {
            Ok(Exponent::Value(next)) => self
                .exponent_tower(next)
                .map(|next| Expr::Pow(Box::new(exponent), Box::new(next))),
            Ok(Exponent::Degrees) => Err(ParseError::Unexpected {
                found: "degree sign in an exponent".into(),
                offset: self.offset(),
            }),
            Err(error) => Err(error),
        };
        self.leave();
        result
    }

    fn exponent(&mut self) -> Result<Exponent, ParseError> {
        self.enter()?;
        let result = self.exponent_inner();
        self.leave();
        result
    }

    fn exponent_inner(&mut self) -> Result<Exponent, ParseError> {
        match self.peek() {
            Some(TokenKind::Command(name)) if name == "circ" || name == "degree" => {
                self.pos += 1;
                Ok(Exponent::Degrees)
            }
            Some(TokenKind::Symbol('{')) => {
                if matches!(self.peek_at(1), Some(TokenKind::Command(name)) if name == "circ" || name == "degree")
                    && self.peek_at(2) == Some(&TokenKind::Symbol('}'))
                {
                    self.pos += 3;
                    return Ok(Exponent::Degrees);
                }
                self.pos += 1;
                let inner = self.list()?;
                self.expect_symbol('}')?;
                Ok(Exponent::Value(inner))
            }
            Some(TokenKind::Symbol('-')) => {
                self.pos += 1;
                match self.exponent()? {
                    Exponent::Value(inner) => Ok(Exponent::Value(Expr::Neg(Box::new(inner)))),
                    Exponent::Degrees => Err(ParseError::Unexpected {
                        found: "'-'".into(),
                        offset: self.offset(),
                    }),
                }
            }
            Some(TokenKind::Symbol('(')) => Ok(Exponent::Value(self.primary()?)),
            _ => Ok(Exponent::Value(self.primary()?)),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let primary = self.primary()?;
        self.postfix_operators(primary)
    }

    fn postfix_operators(&mut self, mut expr: Expr) -> Result<Expr, ParseError> {
        loop {
            match self.peek() {
                Some(TokenKind::Symbol('!')) => {
                    self.pos += 1;
                    expr = Expr::Apply(Function::Factorial, vec![expr]);
                }
                Some(TokenKind::Symbol('%')) => {
                    self.pos += 1;
                    expr = Expr::Percent(Box::new(expr));
                }
                Some(TokenKind::Command(name)) if name == "degree" || name == "circ" => {
                    self.pos += 1;
                    expr = Expr::Degrees(Box::new(expr));
                }
                Some(TokenKind::Symbol('_')) => {
                    self.pos += 1;
                    expr = self.subscript(expr)?;
                }
                _ => return Ok(expr),
            }
        }
    }

    /// `x_1` names a new symbol; `2516_8` is a numeral in base 8.
    fn subscript(&mut self, base: Expr) -> Result<Expr, ParseError> {
        let offset = self.offset();
        let label = self.subscript_label()?;
        match base {
            Expr::Symbol(name) => Ok(Expr::Symbol(format!("{name}_{label}"))),
            Expr::Constant(Constant::E) => Ok(Expr::Symbol(format!("e_{label}"))),
            Expr::Number(number) if number.value.is_integer() && !number.decimal => {
                let radix = label
                    .parse::<u32>()
                    .ok()
                    .filter(|radix| (2..=36).contains(radix));
                let digits = number.value.to_integer().to_string();
                match radix {
                    Some(radix) if digits.chars().all(|digit| digit.is_digit(radix)) => {
                        Ok(Expr::BaseNumber {
                            digits,
                            base: radix,
                        })
                    }
                    _ => Err(ParseError::Unexpected {
                        found: format!("subscript {label}"),
                        offset,
                    }),
                }
            }
            _ => Err(ParseError::Unexpected {
                found: format!("subscript {label}"),
                offset,
            }),
        }
    }

    /// The raw text of a subscript: one token, or a braced group flattened.
    fn subscript_label(&mut self) -> Result<String, ParseError> {
        if !self.eat_symbol('{') {
            let token = self.next_token()?;
            return token_text(&token).ok_or_else(|| unexpected(&token));
        }
        let mut label = String::new();
        let mut depth = 0usize;
        loop {
            let token = self.next_token()?;
            match token.kind {
                TokenKind::Symbol('{') => depth += 1,
                TokenKind::Symbol('}') if depth == 0 => return Ok(label),
                TokenKind::Symbol('}') => depth -= 1,
                _ => {}
            }
            label.push_str(&token_text(&token).ok_or_else(|| unexpected(&token))?);
            if label.len() > self.limits.max_answer_bytes {
                return Err(Exhausted {
                    limit: Limit::AnswerBytes,
                }
                .into());
            }
        }
    }

    // ---- primaries -------------------------------------------------------------------------

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let result = self.primary_inner();
        self.leave();
        result
    }

    fn primary_inner(&mut self) -> Result<Expr, ParseError> {
        let token = self.next_token()?;
        match token.kind {
            TokenKind::Number(text) => self.number(&text, token.offset),
            TokenKind::Letter('e') => Ok(Expr::Constant(Constant::E)),
            TokenKind::Letter('i') => Ok(Expr::Constant(Constant::I)),
            TokenKind::Letter(letter) => Ok(Expr::Symbol(letter.to_string())),
            TokenKind::Word(word) => self.word(&word, token.offset),
            TokenKind::Text(text) => self.text(&text),
            TokenKind::Symbol('(') => self.bracket('(', token.offset),
            TokenKind::Symbol('[') => self.bracket('[', token.offset),
            TokenKind::Symbol('{') => {
                let inner = self.list()?;
                self.expect_symbol('}')?;
                Ok(inner)
            }
            TokenKind::Symbol('|') => {
                self.abs_depth += 1;
                let inner = self.additive();
                self.abs_depth -= 1;
                let inner = inner?;
                self.expect_symbol('|')?;
                Ok(Expr::Apply(Function::Abs, vec![inner]))
            }
            TokenKind::Command(name) => self.command(&name, token.offset),
            _ => Err(unexpected(&token)),
        }
    }

    fn number(&mut self, text: &str, offset: usize) -> Result<Expr, ParseError> {
        let mut number = parse_number(text, self.limits).ok_or_else(|| ParseError::Unexpected {
            found: format!("number {text}"),
            offset,
        })?;
        // A repeating decimal: `0.\overline{3}`, `0.1\overline{6}`.
        let bare_point = self.peek_symbol('.')
            && matches!(self.peek_at(1), Some(TokenKind::Command(c)) if c == "overline");
        if (number.decimal || bare_point) && !text.contains('e') {
            self.pos += usize::from(bare_point);
            if self.eat_command("overline") {
                let repeating = self.overline_digits()?;
                let fixed_places = text
                    .split_once('.')
                    .map_or(0, |(_, fraction)| fraction.len());
                number.value =
                    repeating_decimal(&number.value, fixed_places, &repeating, self.limits)?;
                number.decimal = false;
            } else if bare_point {
                self.pos -= 1;
            }
        }
        Ok(Expr::Number(number))
    }

    fn overline_digits(&mut self) -> Result<String, ParseError> {
        let braced = self.eat_symbol('{');
        let token = self.next_token()?;
        let TokenKind::Number(digits) = &token.kind else {
            return Err(unexpected(&token));
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unexpected(&token));
        }
        if braced {
            self.expect_symbol('}')?;
        }
        Ok(digits.clone())
    }

    fn word(&mut self, word: &str, offset: usize) -> Result<Expr, ParseError> {
        if let Some(function) = Function::from_name(word) {
            return self.function(function, word == "log");
        }
        match word {
            "sqrt" => {
                let radicand = self.argument()?;
                Ok(Expr::Root(Box::new(Expr::integer(2)), Box::new(radicand)))
            }
            "pi" => Ok(Expr::Constant(Constant::Pi)),
            "inf" | "infty" | "infinity" | "oo" => Ok(Expr::Constant(Constant::Infinity)),
            "and" | "or" | "in" => Err(ParseError::Unexpected {
                found: format!("word \"{word}\""),
                offset,
            }),
            _ if units::is_unit_word(word) || units::is_answer_word(word) || word.len() > 3 => {
                Ok(Expr::Text(word.to_string()))
            }
            // LaTeX-style juxtaposition: `xy` is x·y, and `yx^2` is y·x², so the word
            // becomes one token per letter and only the first is parsed here.
            _ => {
                let letters = word.bytes().enumerate().map(|(index, letter)| Token {
                    kind: TokenKind::Letter(letter as char),
                    offset: offset + index,
                });
                self.pos -= 1;
                self.tokens.splice(self.pos..=self.pos, letters);
                self.primary_inner()
            }
        }
    }

    fn text(&mut self, text: &str) -> Result<Expr, ParseError> {
        let looks_numeric = !text.is_empty()
            && text.bytes().any(|b| b.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b" .,+-/()".contains(&b));
        if looks_numeric {
            return parse_at_depth(text, self.limits, self.depth + 1);
        }
        Ok(Expr::Text(text.to_string()))
    }

    fn bracket(&mut self, open: char, offset: usize) -> Result<Expr, ParseError> {
        let mut items = self.list_items()?;
        let close = match self.next_token()? {
            Token {
                kind: TokenKind::Symbol(close @ (')' | ']')),
                ..
            } => close,
            token => return Err(unexpected(&token)),
        };
        match (open, items.len(), close) {
            (_, 1, _) if (open == '(') == (close == ')') => Ok(items.remove(0)),
            ('(', 2, ')') => Ok(Expr::Tuple(items)),
            (_, 2, _) => {
                let upper = items.remove(1);
                let lower = items.remove(0);
                Ok(Expr::Interval(Box::new(Interval {
                    lower,
                    upper,
                    lower_closed: open == '[',
                    upper_closed: close == ']',
                })))
            }
            ('(', _, ')') | ('[', _, ']') => Ok(Expr::Tuple(items)),
            _ => Err(ParseError::Unexpected {
                found: format!("'{open}' closed by '{close}'"),
                offset,
            }),
        }
    }

    /// A command argument: a braced group, or a single token (`\frac12` is ½).
    fn argument(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(TokenKind::Symbol('{')) => {
                self.pos += 1;
                let inner = self.list()?;
                self.expect_symbol('}')?;
                Ok(inner)
            }
            Some(TokenKind::Number(text))
                if text.len() > 1 && text.as_bytes()[0].is_ascii_digit() =>
            {
                let text = text.clone();
                let offset = self.offset();
                let (first, rest) = text.split_at(1);
                self.tokens[self.pos] = Token {
                    kind: TokenKind::Number(rest.to_string()),
                    offset: offset + 1,
                };
                self.number(first, offset)
            }
            Some(TokenKind::Word(word)) => {
                // `\sqrt ab` reads one letter, like TeX.
                let word = word.clone();
                let offset = self.offset();
                let (first, rest) = word.split_at(1);
                let rest_kind = if rest.len() == 1 {
                    TokenKind::Letter(rest.as_bytes()[0] as char)
                } else {
                    TokenKind::Word(rest.to_string())
                };
                self.tokens[self.pos] = Token {
                    kind: rest_kind,
                    offset: offset + 1,
                };
                self.tokens.insert(
                    self.pos,
                    Token {
                        kind: TokenKind::Letter(first.as_bytes()[0] as char),
                        offset,
                    },
                );
                self.primary()
            }
            Some(TokenKind::Symbol('(')) => {
                // Plain-text `sqrt(2)`.
                self.primary()
            }
            _ => self.primary(),
        }
    }

    fn command(&mut self, name: &str, offset: usize) -> Result<Expr, ParseError> {
        if let Some(function) = function_command(name) {
            return self.function(function, name == "log");
        }
        if GREEK.contains(&name) {
            return Ok(Expr::Symbol(name.to_string()));
        }
        match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let numerator = self.argument()?;
                let denominator = self.argument()?;
                Ok(Expr::Div(Box::new(numerator), Box::new(denominator)))
            }
            "sqrt" => {
                let index = if self.eat_symbol('[') {
                    let index = self.list()?;
                    self.expect_symbol(']')?;
                    index
                } else {
                    Expr::integer(2)
                };
                let radicand = self.argument()?;
                Ok(Expr::Root(Box::new(index), Box::new(radicand)))
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                Ok(Expr::Apply(Function::Binomial, vec![n, k]))
            }
            "pi" => Ok(Expr::Constant(Constant::Pi)),
            "infty" | "infin" => Ok(Expr::Constant(Constant::Infinity)),
            "emptyset" | "varnothing" => Ok(Expr::EmptySet),
            "R" | "Reals" => Ok(Expr::Reals),
            "mathbb" => {
                let label = self.subscript_label()?;
                match label.as_str() {
                    "R" => Ok(Expr::Reals),
                    _ => Err(ParseError::Unsupported {
                        name: format!("mathbb{{{label}}}"),
                        offset,
                    }),
                }
            }
            "{" => self.set(),
            "langle" => {
                let mut items = self.list_items()?;
                self.expect_command("rangle")?;
                Ok(if items.len() == 1 {
                    items.remove(0)
                } else {
                    Expr::Tuple(items)
                })
            }
            "lfloor" => self.delimited(Function::Floor, "rfloor"),
            "lceil" => self.delimited(Function::Ceil, "rceil"),
            "begin" => self.environment(offset),
            "ldots" | "dots" | "cdots" | "dotsc" | "dotsb" => Ok(Expr::Ellipsis),
            "boxed" | "fbox" => self.argument(),
            "%" => Err(ParseError::Unexpected {
                found: "'%'".into(),
                offset,
            }),
            _ if ACCENTS.contains(&name) => self.argument(),
            _ => Err(ParseError::Unsupported {
                name: name.to_string(),
                offset,
            }),
        }
    }

    fn set(&mut self) -> Result<Expr, ParseError> {
        if self.eat_command("}") {
            return Ok(Expr::EmptySet);
        }
        let items = self.list_items()?;
        self.expect_command("}")?;
        Ok(Expr::Set(items))
    }

    fn delimited(&mut self, function: Function, close: &str) -> Result<Expr, ParseError> {
        let inner = self.list()?;
        self.expect_command(close)?;
        Ok(Expr::Apply(function, vec![inner]))
    }

    /// `\sin x`, `\sin^2(x)`, `\sin^{-1} x`, `\log_2 8`, `\gcd(a, b)`.
    fn function(&mut self, function: Function, is_log: bool) -> Result<Expr, ParseError> {
        let log_base = if is_log && self.eat_symbol('_') {
            Some(self.argument()?)
        } else {
            None
        };
        let power = if self.eat_symbol('^') {
            match self.exponent()? {
                Exponent::Value(power) => Some(power),
                Exponent::Degrees => {
                    return Err(ParseError::Unexpected {
                        found: "degree sign".into(),
                        offset: self.offset(),
                    });
                }
            }
        } else {
            None
        };
        let mut arguments = if self.eat_symbol('(') {
            let items = self.list_items()?;
            self.expect_symbol(')')?;
            items
        } else if self.peek_symbol('{') {
            vec![self.argument()?]
        } else {
            vec![self.implicit_argument()?]
        };
        let function = match (function, log_base) {
            (Function::Log, None) => {
                arguments.push(Expr::integer(10));
                Function::Log
            }
            (_, Some(base)) => {
                arguments.push(base);
                Function::Log
            }
            (function, None) => function,
        };
        let single_argument = !matches!(
            function,
            Function::Gcd | Function::Lcm | Function::Max | Function::Min
        );
        let expected = if function == Function::Log { 2 } else { 1 };
        if single_argument && arguments.len() != expected {
            return Err(ParseError::Unexpected {
                found: format!("{} arguments to {}", arguments.len(), function.name()),
                offset: self.offset(),
            });
        }
        let applied = match power {
            Some(power) if is_minus_one(&power) => match function.inverse() {
                Some(inverse) => return Ok(Expr::Apply(inverse, arguments)),
                None => Expr::Pow(Box::new(Expr::Apply(function, arguments)), Box::new(power)),
            },
            Some(power) => Expr::Pow(Box::new(Expr::Apply(function, arguments)), Box::new(power)),
            None => Expr::Apply(function, arguments),
        };
        Ok(applied)
    }

    /// The argument of `\sin 2x`: juxtaposed factors up to the next operator or function.
    fn implicit_argument(&mut self) -> Result<Expr, ParseError> {
        let mut factors = vec![self.unary()?];
        while self.can_start_implicit_factor() && !self.peek_is_function() {
            factors.push(self.power()?);
        }
        Ok(if factors.len() == 1 {
            factors.remove(0)
        } else {
            Expr::Mul(factors)
        })
    }

    fn peek_is_function(&self) -> bool {
        match self.peek() {
            Some(TokenKind::Command(name)) => function_command(name).is_some(),
            Some(TokenKind::Word(word)) => Function::from_name(word).is_some() || word == "sqrt",
            _ => false,
        }
    }

    /// `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` and its relatives.
    fn environment(&mut self, offset: usize) -> Result<Expr, ParseError> {
        let name = self.subscript_label()?;
        let name = name.trim_end_matches('*');
        if !matches!(
            name,
            "pmatrix" | "bmatrix" | "Bmatrix" | "matrix" | "smallmatrix" | "array"
        ) {
            return Err(ParseError::Unsupported {
                name: format!("begin{{{name}}}"),
                offset,
            });
        }
        if name == "array" && self.peek_symbol('{') {
            self.subscript_label()?;
        }
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        let mut row = Vec::new();
        loop {
            if self.eat_command("end") {
                self.subscript_label()?;
                break;
            }
            row.push(self.relation()?);
            if self.eat_symbol('&') {
                continue;
            }
            if self.eat_command("\\") {
                rows.push(std::mem::take(&mut row));
                continue;
            }
            self.expect_command("end")?;
            self.subscript_label()?;
            break;
        }
        if !row.is_empty() {
            rows.push(row);
        }
        let width = rows.first().map_or(0, Vec::len);
        if width == 0 || rows.iter().any(|row| row.len() != width) {
            return Err(ParseError::Unexpected {
                found: "ragged matrix".into(),
                offset,
            });
        }
        Ok(Expr::Matrix(rows))
    }
}

enum Exponent {
    Degrees,
    Value(Expr),
}

fn is_minus_one(expr: &Expr) -> bool {
    matches!(expr, Expr::Neg(inner) if inner.is_one_literal())
}

fn token_text(token: &Token) -> Option<String> {
    Some(match &token.kind {
        TokenKind::Number(text) | TokenKind::Word(text) => text.clone(),
        TokenKind::Letter(letter) => letter.to_string(),
        TokenKind::Command(name) => name.clone(),
        TokenKind::Symbol(symbol) => symbol.to_string(),
        TokenKind::Text(text) => text.clone(),
    })
}

/// `1\frac{4}{5}` is the mixed number 1⅘, as the MATH dataset writes it.
fn mixed_number(numerator: &[Expr], denominator: &[Expr], factor: &Expr) -> Option<Expr> {
    let [whole] = numerator else { return None };
    if !denominator.is_empty() || !whole.is_integer_literal() {
        return None;
    }
    let Expr::Div(top, bottom) = factor else {
        return None;
    };
    let (top_value, bottom_value) = (top.as_number()?, bottom.as_number()?);
    let proper = top.is_integer_literal()
        && bottom.is_integer_literal()
        && top_value.is_positive()
        && top_value < bottom_value;
    proper.then(|| Expr::Add(vec![whole.clone(), factor.clone()]))
}

/// Parses `123`, `1.50`, `.5`, `1.5e-3` exactly.
pub(crate) fn parse_number(text: &str, limits: &Limits) -> Option<Number> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let scale = exponent - i64::try_from(fraction.len()).ok()?;
    // Digits carry ~3.3 bits each; refuse exponents whose value would not fit the budget.
    if scale.unsigned_abs().saturating_mul(4) > limits.max_integer_bits {
        return None;
    }
    let mantissa: BigInt = digits.parse().ok()?;
    let power = BigInt::from(10).pow(scale.unsigned_abs());
    let value = if scale >= 0 {
        BigRational::from_integer(mantissa * power)
    } else {
        BigRational::new(mantissa, power)
    };
    Some(Number {
        value,
        decimal: text.contains(['.', 'e', 'E']),
    })
}

/// The value of `fixed` followed by `repeating` digits forever.
fn repeating_decimal(
    fixed: &BigRational,
    fixed_places: usize,
    repeating: &str,
    limits: &Limits,
) -> Result<BigRational, ParseError> {
    let places = u64::try_from(fixed_places + repeating.len()).unwrap_or(u64::MAX);
    if places.saturating_mul(4) > limits.max_integer_bits {
        return Err(Exhausted {
            limit: Limit::IntegerBits,
        }
        .into());
    }
    let cycle: BigInt = repeating.parse().unwrap_or_default();
    let ten = BigInt::from(10);
    let period = ten.clone().pow(repeating.len() as u64) - BigInt::one();
    let shift = ten.pow(fixed_places as u64);
    let tail = BigRational::new(cycle, period * shift);
    Ok(if fixed.is_negative() {
        fixed - tail
    } else {
        fixed + tail
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::render;

    fn show(input: &str) -> String {
        match parse(input, &Limits::default()) {
            Ok(expr) => render(&expr),
            Err(error) => format!("error: {error}"),
        }
    }

    #[test]
    fn latex_argument_rules() {
        assert_eq!(show("\\frac12"), "1/2");
        assert_eq!(show("\\frac 59"), "5/9");
        assert_eq!(show("\\frac{270}7"), "270/7");
        assert_eq!(show("\\sqrt2"), "sqrt(2)");
        assert_eq!(show("\\sqrt[3]{x}"), "root(3, x)");
    }

    #[test]
    fn mixed_numbers_and_repeating_decimals() {
        assert_eq!(show("1\\frac{4}{5}"), "1 + 4/5");
        assert_eq!(show("0.\\overline{3}"), "1/3");
        assert_eq!(show("0.1\\overline{6}"), "1/6");
    }

    #[test]
    fn functions_take_implicit_arguments() {
        assert_eq!(show("\\sin 2x \\cos x"), "sin(2*x)*cos(x)");
        assert_eq!(show("\\sin^2 x"), "sin(x)^2");
        assert_eq!(show("\\tan^{-1} 1"), "arctan(1)");
        assert_eq!(show("2^3^2"), "2^(3^2)");
        assert_eq!(show("\\log_2 8"), "log(8, 2)");
    }

    #[test]
    fn brackets_make_tuples_intervals_and_sets() {
        assert_eq!(show("(1, 2]"), "(1, 2]");
        assert_eq!(show("(3, \\frac{\\pi}{2})"), "(3, pi/2)");
        assert_eq!(show("\\{1\\pm\\sqrt{5},-2\\}"), "{1 ± sqrt(5), -2}");
        assert_eq!(
            show("(-\\infty, 2) \\cup (3, \\infty)"),
            "(-oo, 2) ∪ (3, oo)"
        );
    }

    #[test]
    fn relations_and_lists() {
        assert_eq!(show("x \\in [-2,7]"), "x in [-2, 7]");
        assert_eq!(show("n=2,3,4"), "n = 2, 3, 4");
        assert_eq!(show("2 \\text{ and } 3"), "2, 3");
    }

    #[test]
    fn postfix_markers() {
        assert_eq!(show("30^\\circ"), "30°");
        assert_eq!(show("2516_8"), "2516_8");
        assert_eq!(show("5!"), "factorial(5)");
        assert_eq!(show("50\\%"), "50%");
    }

    #[test]
    fn matrices() {
        assert_eq!(
            show("\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}"),
            "[[1/5], [-18/5]]"
        );
        assert_eq!(
            show("\\begin{bmatrix} 1 & 0 \\\\ 0 & 1 \\end{bmatrix}"),
            "[[1, 0], [0, 1]]"
        );
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}1{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(show(&deep), "error: nesting depth limit exceeded");
    }
}
