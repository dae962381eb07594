//! Canonical plain-text rendering of an `Expr`: the "normalized form" shown in verdicts.

use std::fmt::Write;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, Zero};

use crate::ast::{Constant, Expr, Number, SetOperation};

/// Binding strength, loosest first; a child looser than its slot gets parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    List,
    Relation,
    SetOperation,
    Sum,
    Product,
    Unary,
    Power,
    Atom,
}

pub fn render(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

fn level(expr: &Expr) -> Level {
    match expr {
        Expr::List(_) => Level::List,
        Expr::Relation(..) => Level::Relation,
        Expr::SetOperation(..) => Level::SetOperation,
        Expr::Add(_) => Level::Sum,
        Expr::Mul(_) | Expr::Div(..) => Level::Product,
        Expr::Number(number) if !number.value.is_integer() && !number.decimal => Level::Product,
        Expr::Number(number) if number.value.is_negative() => Level::Unary,
        Expr::Neg(_) | Expr::PlusMinus(_) => Level::Unary,
        Expr::Pow(..) => Level::Power,
        _ => Level::Atom,
    }
}

fn write_child(out: &mut String, expr: &Expr, slot: Level) {
    if level(expr) < slot {
        out.push('(');
        write_expr(out, expr);
        out.push(')');
    } else {
        write_expr(out, expr);
    }
}

fn write_joined(out: &mut String, items: &[Expr], separator: &str, slot: Level) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(separator);
        }
        write_child(out, item, slot);
    }
}

fn write_expr(out: &mut String, expr: &Expr) {
    match expr {
        Expr::Number(number) => write_number(out, number),
        Expr::Symbol(name) => out.push_str(name),
        Expr::Constant(constant) => out.push_str(match constant {
            Constant::Pi => "pi",
            Constant::E => "e",
            Constant::I => "i",
            Constant::Infinity => "oo",
        }),
        Expr::Neg(inner) => {
            // The sign commutes with products, so `-a*b` needs no parentheses.
            out.push('-');
            write_child(out, inner, Level::Product);
        }
        Expr::PlusMinus(inner) => {
            out.push('±');
            write_child(out, inner, Level::Power);
        }
        Expr::Add(terms) => {
            for (index, term) in terms.iter().enumerate() {
                match (index, term) {
                    (0, _) => write_child(out, term, Level::Sum),
                    (_, Expr::Neg(inner)) => {
                        out.push_str(" - ");
                        write_child(out, inner, Level::Product);
                    }
                    (_, Expr::PlusMinus(inner)) => {
                        out.push_str(" ± ");
                        write_child(out, inner, Level::Product);
                    }
                    _ => {
                        out.push_str(" + ");
                        write_child(out, term, Level::Product);
                    }
                }
            }
        }
        Expr::Mul(factors) => write_joined(out, factors, "*", Level::Unary),
        Expr::Div(numerator, denominator) => {
            write_child(out, numerator, Level::Product);
            out.push('/');
            write_child(out, denominator, Level::Power);
        }
        Expr::Pow(base, exponent) => {
            write_child(out, base, Level::Atom);
            out.push('^');
            write_child(out, exponent, Level::Atom);
        }
        Expr::Root(index, radicand) => {
            if matches!(index.as_number(), Some(two) if two == BigInt::from(2).into()) {
                out.push_str("sqrt(");
            } else {
                out.push_str("root(");
                write_expr(out, index);
                out.push_str(", ");
            }
            write_expr(out, radicand);
            out.push(')');
        }
        Expr::Apply(function, arguments) => {
            out.push_str(function.name());
            out.push('(');
            write_joined(out, arguments, ", ", Level::Relation);
            out.push(')');
        }
        Expr::Percent(inner) => {
            write_child(out, inner, Level::Atom);
            out.push('%');
        }
        Expr::Degrees(inner) => {
            write_child(out, inner, Level::Atom);
            out.push('°');
        }
        Expr::Unit(name) | Expr::Text(name) => {
            let _ = write!(out, "\"{name}\"");
        }
        Expr::BaseNumber { digits, base } => {
            let _ = write!(out, "{digits}_{base}");
        }
        Expr::Tuple(items) => {
            out.push('(');
            write_joined(out, items, ", ", Level::Relation);
            out.push(')');
        }
        Expr::List(items) => write_joined(out, items, ", ", Level::Relation),
        Expr::Set(items) => {
            out.push('{');
            write_joined(out, items, ", ", Level::Relation);
            out.push('}');
        }
        Expr::Interval(interval) => {
            out.push(if interval.lower_closed { '[' } else { '(' });
            write_expr(out, &interval.lower);
            out.push_str(", ");
            write_expr(out, &interval.upper);
            out.push(if interval.upper_closed { ']' } else { ')' });
        }
        Expr::SetOperation(operation, left, right) => {
            write_child(out, left, Level::SetOperation);
            out.push_str(match operation {
                SetOperation::Union => " ∪ ",
                SetOperation::Intersection => " ∩ ",
                SetOperation::Difference => " \\ ",
            });
            write_child(out, right, Level::Sum);
        }
        Expr::Matrix(rows) => {
            out.push('[');
            for (index, row) in rows.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push('[');
                write_joined(out, row, ", ", Level::Relation);
                out.push(']');
            }
            out.push(']');
        }
        Expr::Relation(first, rest) => {
            write_child(out, first, Level::SetOperation);
            for (relation, operand) in rest {
                let _ = write!(out, " {} ", relation.symbol());
                write_child(out, operand, Level::SetOperation);
            }
        }
        Expr::Ellipsis => out.push_str("..."),
        Expr::EmptySet => out.push_str("{}"),
        Expr::Reals => out.push('R'),
    }
}

fn write_number(out: &mut String, number: &Number) {
    let value = &number.value;
    if value.is_integer() {
        let _ = write!(out, "{}", value.numer());
        return;
    }
    if number.decimal
        && let Some(decimal) = decimal_digits(value.numer(), value.denom())
    {
        out.push_str(&decimal);
        return;
    }
    let _ = write!(out, "{}/{}", value.numer(), value.denom());
}

/// Exact decimal expansion when the denominator is of the form 2^a·5^b.
fn decimal_digits(numerator: &BigInt, denominator: &BigInt) -> Option<String> {
    let (two, five) = (BigInt::from(2), BigInt::from(5));
    let mut rest = denominator.clone();
    let mut places = 0u32;
    let (mut twos, mut fives) = (0u32, 0u32);
    while rest.is_even() && !rest.is_zero() {
        rest /= &two;
        twos += 1;
    }
    while (&rest % &five).is_zero() && !rest.is_zero() {
        rest /= &five;
        fives += 1;
    }
    if rest != BigInt::from(1) {
        return None;
    }
    places += twos.max(fives);
    let scaled = numerator * BigInt::from(10).pow(places) / denominator;
    let sign = if scaled.is_negative() { "-" } else { "" };
    let digits = scaled.abs().to_string();
    let places = places as usize;
    let padded = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = padded.split_at(padded.len() - places);
    Some(format!("{sign}{whole}.{fraction}"))
}
