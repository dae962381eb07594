//! Clean-up after parsing: unit words, spelled-out degree and percent signs.
//!
//! `5.4 \text{ cents}` is the quantity 5.4; `\frac{270}{7}\text{ degrees}` is a degree
//! value; `50 \text{ percent}` is `50\%`. Prose that stands alone (`\text{even}`) stays.

use crate::ast::{Expr, Interval};
use crate::units::{is_degree_word, is_percent_word};

pub(crate) fn normalize(expr: Expr, strip_units: bool) -> Expr {
    match expr {
        Expr::Mul(factors) => scale_matrix(normalize_product(factors, strip_units)),
        Expr::Neg(inner) => Expr::Neg(Box::new(normalize(*inner, strip_units))),
        Expr::PlusMinus(inner) => Expr::PlusMinus(Box::new(normalize(*inner, strip_units))),
        Expr::Percent(inner) => Expr::Percent(Box::new(normalize(*inner, strip_units))),
        Expr::Degrees(inner) => Expr::Degrees(Box::new(normalize(*inner, strip_units))),
        Expr::Add(terms) => Expr::Add(normalize_all(terms, strip_units)),
        Expr::Div(a, b) => Expr::Div(
            Box::new(normalize(*a, strip_units)),
            Box::new(normalize(*b, strip_units)),
        ),
        Expr::Pow(a, b) => Expr::Pow(
            Box::new(normalize(*a, strip_units)),
            Box::new(normalize(*b, strip_units)),
        ),
        Expr::Tuple(items) => Expr::Tuple(normalize_all(items, strip_units)),
        Expr::List(items) => Expr::List(normalize_all(items, strip_units)),
        Expr::Set(items) => Expr::Set(normalize_all(items, strip_units)),
        Expr::Interval(interval) => {
            let Interval {
                lower,
                upper,
                lower_closed,
                upper_closed,
            } = *interval;
            Expr::Interval(Box::new(Interval {
                lower: normalize(lower, strip_units),
                upper: normalize(upper, strip_units),
                lower_closed,
                upper_closed,
            }))
        }
        Expr::SetOperation(operation, a, b) => Expr::SetOperation(
            operation,
            Box::new(normalize(*a, strip_units)),
            Box::new(normalize(*b, strip_units)),
        ),
        Expr::Matrix(rows) => Expr::Matrix(
            rows.into_iter()
                .map(|row| normalize_all(row, strip_units))
                .collect(),
        ),
        Expr::Relation(first, rest) => Expr::Relation(
            Box::new(normalize(*first, strip_units)),
            rest.into_iter()
                .map(|(relation, operand)| (relation, normalize(operand, strip_units)))
                .collect(),
        ),
        other => other,
    }
}

fn normalize_all(items: Vec<Expr>, strip_units: bool) -> Vec<Expr> {
    items
        .into_iter()
        .map(|item| normalize(item, strip_units))
        .collect()
}

/// `\frac{1}{49}\begin{pmatrix} 16 \\ 48 \end{pmatrix}`: a scalar times a matrix is a matrix.
fn scale_matrix(product: Expr) -> Expr {
    let Expr::Mul(factors) = product else {
        return product;
    };
    let matrices = factors
        .iter()
        .filter(|factor| matches!(factor, Expr::Matrix(_)))
        .count();
    let scalars_only = factors
        .iter()
        .all(|factor| factor.is_scalar() || matches!(factor, Expr::Matrix(_)));
    if matrices != 1 || !scalars_only {
        return Expr::Mul(factors);
    }
    let (matrix, scalars): (Vec<Expr>, Vec<Expr>) = factors
        .into_iter()
        .partition(|factor| matches!(factor, Expr::Matrix(_)));
    let Some(Expr::Matrix(rows)) = matrix.into_iter().next() else {
        return Expr::Mul(scalars);
    };
    let scaled = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|entry| {
                    let mut product = scalars.clone();
                    product.push(entry);
                    Expr::Mul(product)
                })
                .collect()
        })
        .collect();
    Expr::Matrix(scaled)
}

/// A unit factor: prose, possibly raised to a power (`\text{cm}^2`).
fn unit_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Text(name) | Expr::Unit(name) => Some(name),
        Expr::Pow(base, _) => unit_name(base),
        _ => None,
    }
}

fn normalize_product(factors: Vec<Expr>, strip_units: bool) -> Expr {
    let factors = normalize_all(factors, strip_units);
    let (units, mut values): (Vec<Expr>, Vec<Expr>) = factors
        .into_iter()
        .partition(|factor| unit_name(factor).is_some());
    if values.is_empty() {
        return Expr::Mul(units);
    }
    let degrees = units
        .iter()
        .any(|unit| unit_name(unit).is_some_and(is_degree_word));
    let percent = units
        .iter()
        .any(|unit| unit_name(unit).is_some_and(is_percent_word));
    let kept_units: Vec<Expr> = if strip_units {
        Vec::new()
    } else {
        units
            .into_iter()
            .filter(|unit| {
                !unit_name(unit).is_some_and(|name| is_degree_word(name) || is_percent_word(name))
            })
            .map(|unit| match unit {
                Expr::Text(name) => Expr::Unit(name),
                other => other,
            })
            .collect()
    };
    values.extend(kept_units);
    let mut value = if values.len() == 1 {
        values.remove(0)
    } else {
        Expr::Mul(values)
    };
    if degrees {
        value = Expr::Degrees(Box::new(value));
    }
    if percent {
        value = Expr::Percent(Box::new(value));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::parser::parse;
    use crate::render::render;

    fn normalized(input: &str, strip_units: bool) -> String {
        render(&normalize(
            parse(input, &Limits::default()).expect("test inputs parse"),
            strip_units,
        ))
    }

    #[test]
    fn units_are_stripped_from_quantities_only() {
        assert_eq!(normalized("5.4 \\text{ cents}", true), "5.4");
        assert_eq!(normalized("864 \\mbox{ inches}^2", true), "864");
        assert_eq!(normalized("\\text{even}", true), "\"even\"");
        assert_eq!(normalized("5 \\text{ cm}", false), "5*\"cm\"");
    }

    #[test]
    fn spelled_out_degrees_and_percent() {
        assert_eq!(normalized("\\frac{270}7\\text{ degrees}", true), "(270/7)°");
        assert_eq!(normalized("50 \\text{ percent}", true), "50%");
    }
}
