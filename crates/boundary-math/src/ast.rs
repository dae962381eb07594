//! The expression tree every answer is parsed into.
//!
//! One tree type covers scalars (exact numbers, symbols, constants, arithmetic and
//! functions) and the structured answers of competition math (tuples, sets, intervals,
//! matrices, relations, lists, text). Values are exact: literals hold big rationals.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// A numeric literal, held exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Number {
    pub value: BigRational,
    /// Written with a decimal point (`0.50`): rendered as a decimal again.
    pub decimal: bool,
}

impl Number {
    pub fn integer(value: i64) -> Number {
        Number {
            value: BigRational::from_integer(BigInt::from(value)),
            decimal: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Constant {
    Pi,
    E,
    /// The imaginary unit.
    I,
    Infinity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    Tanh,
    Exp,
    /// Natural logarithm; `\log` without a base is read as `\ln`, as SymPy does.
    Ln,
    /// Logarithm with an explicit base: arguments are `[value, base]`.
    Log,
    Abs,
    Floor,
    Ceil,
    Factorial,
    Binomial,
    Gcd,
    Lcm,
    Max,
    Min,
}

impl Function {
    pub fn name(self) -> &'static str {
        match self {
            Function::Sin => "sin",
            Function::Cos => "cos",
            Function::Tan => "tan",
            Function::Cot => "cot",
            Function::Sec => "sec",
            Function::Csc => "csc",
            Function::Arcsin => "arcsin",
            Function::Arccos => "arccos",
            Function::Arctan => "arctan",
            Function::Sinh => "sinh",
            Function::Cosh => "cosh",
            Function::Tanh => "tanh",
            Function::Exp => "exp",
            Function::Ln => "ln",
            Function::Log => "log",
            Function::Abs => "abs",
            Function::Floor => "floor",
            Function::Ceil => "ceil",
            Function::Factorial => "factorial",
            Function::Binomial => "binomial",
            Function::Gcd => "gcd",
            Function::Lcm => "lcm",
            Function::Max => "max",
            Function::Min => "min",
        }
    }

    /// Looks a function up by its LaTeX command or plain-text name.
    pub fn from_name(name: &str) -> Option<Function> {
        Some(match name {
            "sin" => Function::Sin,
            "cos" => Function::Cos,
            "tan" | "tg" => Function::Tan,
            "cot" | "ctg" => Function::Cot,
            "sec" => Function::Sec,
            "csc" | "cosec" => Function::Csc,
            "arcsin" | "asin" => Function::Arcsin,
            "arccos" | "acos" => Function::Arccos,
            "arctan" | "atan" => Function::Arctan,
            "sinh" => Function::Sinh,
            "cosh" => Function::Cosh,
            "tanh" => Function::Tanh,
            "exp" => Function::Exp,
            "ln" | "log" => Function::Ln,
            "abs" => Function::Abs,
            "floor" => Function::Floor,
            "ceil" => Function::Ceil,
            "gcd" => Function::Gcd,
            "lcm" => Function::Lcm,
            "max" => Function::Max,
            "min" => Function::Min,
            _ => return None,
        })
    }

    /// The inverse function written as `f^{-1}`.
    pub fn inverse(self) -> Option<Function> {
        Some(match self {
            Function::Sin => Function::Arcsin,
            Function::Cos => Function::Arccos,
            Function::Tan => Function::Arctan,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    /// Set membership, `x \in [0, 1]`.
    In,
    Approx,
}

impl Relation {
    pub fn symbol(self) -> &'static str {
        match self {
            Relation::Equal => "=",
            Relation::NotEqual => "!=",
            Relation::Less => "<",
            Relation::LessEqual => "<=",
            Relation::Greater => ">",
            Relation::GreaterEqual => ">=",
            Relation::In => "in",
            Relation::Approx => "~=",
        }
    }

    /// The same relation read right to left (`a < b` is `b > a`).
    pub fn flipped(self) -> Relation {
        match self {
            Relation::Less => Relation::Greater,
            Relation::LessEqual => Relation::GreaterEqual,
            Relation::Greater => Relation::Less,
            Relation::GreaterEqual => Relation::LessEqual,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SetOperation {
    Union,
    Intersection,
    Difference,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    pub lower: Expr,
    pub upper: Expr,
    pub lower_closed: bool,
    pub upper_closed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Expr {
    Number(Number),
    /// A variable such as `x`, `x_1` or `\theta` (stored as `theta`).
    Symbol(String),
    Constant(Constant),
    Neg(Box<Expr>),
    Add(Vec<Expr>),
    Mul(Vec<Expr>),
    Div(Box<Expr>, Box<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// `Root(index, radicand)`: `\sqrt[3]{x}` is `Root(3, x)`.
    Root(Box<Expr>, Box<Expr>),
    Apply(Function, Vec<Expr>),
    /// A `±x` term inside a sum; the answer stands for both signs.
    PlusMinus(Box<Expr>),
    Percent(Box<Expr>),
    /// A value marked with a degree sign.
    Degrees(Box<Expr>),
    /// A unit word attached to a quantity (`cm`, `dollars`).
    Unit(String),
    /// Prose (`\text{even}`), stored trimmed.
    Text(String),
    /// A numeral in another base, `2516_8`.
    BaseNumber {
        digits: String,
        base: u32,
    },
    /// `(a, b, …)`: an ordered tuple (a 2-tuple may also denote an open interval).
    Tuple(Vec<Expr>),
    /// Answers separated by commas or "and" at the top level.
    List(Vec<Expr>),
    /// `\{a, b\}`.
    Set(Vec<Expr>),
    Interval(Box<Interval>),
    SetOperation(SetOperation, Box<Expr>, Box<Expr>),
    Matrix(Vec<Vec<Expr>>),
    /// A chain `a op b op c …`: first operand, then each (operator, operand).
    Relation(Box<Expr>, Vec<(Relation, Expr)>),
    /// `\ldots` inside a list.
    Ellipsis,
    EmptySet,
    /// `\mathbb{R}`.
    Reals,
}

impl Expr {
    pub fn integer(value: i64) -> Expr {
        Expr::Number(Number::integer(value))
    }

    pub fn rational(value: BigRational) -> Expr {
        Expr::Number(Number {
            value,
            decimal: false,
        })
    }

    /// The literal value when this is a plain number (or a negated one).
    pub fn as_number(&self) -> Option<BigRational> {
        match self {
            Expr::Number(number) => Some(number.value.clone()),
            Expr::Neg(inner) => inner.as_number().map(|value| -value),
            _ => None,
        }
    }

    pub fn is_integer_literal(&self) -> bool {
        matches!(self, Expr::Number(number) if !number.decimal && number.value.is_integer())
    }

    pub fn is_zero_literal(&self) -> bool {
        matches!(self, Expr::Number(number) if number.value.is_zero())
    }

    pub fn is_one_literal(&self) -> bool {
        matches!(self, Expr::Number(number) if number.value.is_one())
    }

    /// Whether this is arithmetic (a value), as opposed to a container, relation or text.
    pub fn is_scalar(&self) -> bool {
        match self {
            Expr::Number(_)
            | Expr::Symbol(_)
            | Expr::Constant(_)
            | Expr::Neg(_)
            | Expr::Add(_)
            | Expr::Mul(_)
            | Expr::Div(..)
            | Expr::Pow(..)
            | Expr::Root(..)
            | Expr::Apply(..)
            | Expr::PlusMinus(_)
            | Expr::Percent(_)
            | Expr::Degrees(_)
            | Expr::Unit(_) => true,
            Expr::Text(_)
            | Expr::BaseNumber { .. }
            | Expr::Tuple(_)
            | Expr::List(_)
            | Expr::Set(_)
            | Expr::Interval(_)
            | Expr::SetOperation(..)
            | Expr::Matrix(_)
            | Expr::Relation(..)
            | Expr::Ellipsis
            | Expr::EmptySet
            | Expr::Reals => false,
        }
    }

    /// Calls `visit` on this node and every descendant, stopping early when it returns false.
    pub fn any(&self, visit: &mut impl FnMut(&Expr) -> bool) -> bool {
        if visit(self) {
            return true;
        }
        match self {
            Expr::Neg(inner)
            | Expr::PlusMinus(inner)
            | Expr::Percent(inner)
            | Expr::Degrees(inner) => inner.any(visit),
            Expr::Div(a, b) | Expr::Pow(a, b) | Expr::Root(a, b) | Expr::SetOperation(_, a, b) => {
                a.any(visit) || b.any(visit)
            }
            Expr::Add(items)
            | Expr::Mul(items)
            | Expr::Apply(_, items)
            | Expr::Tuple(items)
            | Expr::List(items)
            | Expr::Set(items) => items.iter().any(|item| item.any(visit)),
            Expr::Interval(interval) => interval.lower.any(visit) || interval.upper.any(visit),
            Expr::Matrix(rows) => rows.iter().flatten().any(|item| item.any(visit)),
            Expr::Relation(first, rest) => {
                first.any(visit) || rest.iter().any(|(_, item)| item.any(visit))
            }
            Expr::Number(_)
            | Expr::Symbol(_)
            | Expr::Constant(_)
            | Expr::Unit(_)
            | Expr::Text(_)
            | Expr::BaseNumber { .. }
            | Expr::Ellipsis
            | Expr::EmptySet
            | Expr::Reals => false,
        }
    }

    pub fn contains_symbol(&self) -> bool {
        self.any(&mut |node| matches!(node, Expr::Symbol(_)))
    }

    /// Number of nodes, for budget checks.
    pub fn size(&self) -> usize {
        let mut count = 0;
        self.any(&mut |_| {
            count += 1;
            false
        });
        count
    }
}
