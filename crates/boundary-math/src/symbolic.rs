//! A canonical form for the answers competition math mostly has: rational functions
//! whose coefficients are rationals, square roots of integers and `i`, in the
//! indeterminates π, e and the answer's variables.
//!
//! Square roots of distinct square-free integers are linearly independent over the
//! rationals, π and e are transcendental, and variables are indeterminates, so two
//! such forms are equal exactly when their canonical polynomials are: the comparison
//! is a proof, in both directions, with no tolerance. That is what separates `√2/2`
//! from `0.7071067812` and `10^{20} + √2` from `10^{20} + √3`, which floating point
//! cannot. Anything else (trig, logs, nested radicals) becomes an opaque atom: equal
//! atoms still cancel, but a difference is then not conclusive and sampling decides.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::ast::{Constant, Expr};
use crate::budget::Budget;
use crate::error::{Exhausted, Limit};
use crate::exact::{exact_root, rational_value};
use crate::rational;
use crate::render::render;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Atom {
    Pi,
    E,
    Symbol(String),
    /// A subexpression outside the form, keyed by its rendering.
    Opaque(String),
}

/// `√radical · i^imaginary · Π atom^exponent`, with `radical` square-free and positive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Monomial {
    radical: BigInt,
    imaginary: bool,
    atoms: Vec<(Atom, i64)>,
}

impl Monomial {
    fn one() -> Monomial {
        Monomial {
            radical: BigInt::one(),
            imaginary: false,
            atoms: Vec::new(),
        }
    }

    /// The product and the rational factor it produced (`√2·√6 = 2√3`, `i·i = -1`).
    fn times(&self, other: &Monomial) -> Result<(Monomial, BigRational), Exhausted> {
        let common = self.radical.gcd(&other.radical);
        let radical = (&self.radical / &common) * (&other.radical / &common);
        let mut factor = BigRational::from_integer(common);
        let imaginary = self.imaginary != other.imaginary;
        if self.imaginary && other.imaginary {
            factor = -factor;
        }
        let mut atoms = self.atoms.clone();
        for (atom, exponent) in &other.atoms {
            match atoms.binary_search_by(|(existing, _)| existing.cmp(atom)) {
                Ok(index) => {
                    atoms[index].1 = atoms[index]
                        .1
                        .checked_add(*exponent)
                        .filter(|sum| sum.abs() <= MAX_ATOM_EXPONENT)
                        .ok_or(Exhausted {
                            limit: Limit::IntegerBits,
                        })?;
                    if atoms[index].1 == 0 {
                        atoms.remove(index);
                    }
                }
                Err(index) => atoms.insert(index, (atom.clone(), *exponent)),
            }
        }
        Ok((
            Monomial {
                radical,
                imaginary,
                atoms,
            },
            factor,
        ))
    }
}

/// Budget steps for multiplying two terms (monomial merge and map insertion, ~300 ns).
const STEPS_PER_TERM_PRODUCT: u64 = 30;

/// Exponents of atoms beyond this (`x^{2^{40}}`) exhaust the budget instead of overflowing.
const MAX_ATOM_EXPONENT: i64 = 1 << 40;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Polynomial {
    terms: BTreeMap<Monomial, BigRational>,
}

impl Polynomial {
    fn constant(value: BigRational) -> Polynomial {
        let mut terms = BTreeMap::new();
        if !value.is_zero() {
            terms.insert(Monomial::one(), value);
        }
        Polynomial { terms }
    }

    fn monomial(monomial: Monomial, coefficient: BigRational) -> Polynomial {
        let mut terms = BTreeMap::new();
        terms.insert(monomial, coefficient);
        Polynomial { terms }
    }

    fn atom(atom: Atom) -> Polynomial {
        Polynomial::monomial(
            Monomial {
                atoms: vec![(atom, 1)],
                ..Monomial::one()
            },
            BigRational::one(),
        )
    }

    fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    fn add_term(
        &mut self,
        monomial: Monomial,
        coefficient: BigRational,
        budget: &mut Budget,
    ) -> Result<(), Exhausted> {
        if coefficient.is_zero() {
            return Ok(());
        }
        match self.terms.get_mut(&monomial) {
            Some(existing) => {
                *existing = rational::add(existing, &coefficient, budget)?;
                if existing.is_zero() {
                    self.terms.remove(&monomial);
                }
            }
            None => {
                self.terms.insert(monomial, coefficient);
            }
        }
        Ok(())
    }

    fn plus(&self, other: &Polynomial, budget: &mut Budget) -> Result<Polynomial, Exhausted> {
        let mut sum = self.clone();
        for (monomial, coefficient) in &other.terms {
            budget.charge(STEPS_PER_TERM_PRODUCT)?;
            sum.add_term(monomial.clone(), coefficient.clone(), budget)?;
        }
        check_terms(budget, sum.terms.len())?;
        Ok(sum)
    }

    fn negated(&self) -> Polynomial {
        Polynomial {
            terms: self
                .terms
                .iter()
                .map(|(monomial, coefficient)| (monomial.clone(), -coefficient))
                .collect(),
        }
    }

    fn times(&self, other: &Polynomial, budget: &mut Budget) -> Result<Polynomial, Exhausted> {
        check_terms(budget, self.terms.len().saturating_mul(other.terms.len()))?;
        let mut product = Polynomial {
            terms: BTreeMap::new(),
        };
        for (left, a) in &self.terms {
            for (right, b) in &other.terms {
                budget.charge(STEPS_PER_TERM_PRODUCT)?;
                let (monomial, factor) = left.times(right)?;
                let coefficient =
                    rational::multiply(&rational::multiply(a, b, budget)?, &factor, budget)?;
                product.add_term(monomial, coefficient, budget)?;
            }
        }
        Ok(product)
    }

    fn has_opaque(&self) -> bool {
        self.terms
            .keys()
            .flat_map(|monomial| &monomial.atoms)
            .any(|(atom, _)| matches!(atom, Atom::Opaque(_)))
    }

    /// Whether a nonzero polynomial is provably a nonzero value: no opaque atoms, and not
    /// both π and e (their algebraic independence is an open problem).
    fn is_conclusive(&self) -> bool {
        let mixes_constants = self.has_atom(&Atom::Pi) && self.has_atom(&Atom::E);
        !self.has_opaque() && !mixes_constants
    }

    fn has_atom(&self, wanted: &Atom) -> bool {
        self.terms
            .keys()
            .flat_map(|monomial| &monomial.atoms)
            .any(|(atom, _)| atom == wanted)
    }
}

fn check_terms(budget: &Budget, terms: usize) -> Result<(), Exhausted> {
    if terms > budget.limits.max_terms {
        Err(Exhausted {
            limit: Limit::Terms,
        })
    } else {
        Ok(())
    }
}

/// `numerator / denominator`, never normalised by a gcd: equality is tested by cross-multiplying.
#[derive(Debug, Clone)]
struct Fraction {
    numerator: Polynomial,
    denominator: Polynomial,
}

impl Fraction {
    fn whole(numerator: Polynomial) -> Fraction {
        Fraction {
            numerator,
            denominator: Polynomial::constant(BigRational::one()),
        }
    }

    fn plus(&self, other: &Fraction, budget: &mut Budget) -> Result<Fraction, Exhausted> {
        if self.denominator == other.denominator {
            return Ok(Fraction {
                numerator: self.numerator.plus(&other.numerator, budget)?,
                denominator: self.denominator.clone(),
            });
        }
        let left = self.numerator.times(&other.denominator, budget)?;
        let right = other.numerator.times(&self.denominator, budget)?;
        Ok(Fraction {
            numerator: left.plus(&right, budget)?,
            denominator: self.denominator.times(&other.denominator, budget)?,
        })
    }

    fn times(&self, other: &Fraction, budget: &mut Budget) -> Result<Fraction, Exhausted> {
        Ok(Fraction {
            numerator: self.numerator.times(&other.numerator, budget)?,
            denominator: self.denominator.times(&other.denominator, budget)?,
        })
    }

    fn reciprocal(&self) -> Option<Fraction> {
        (!self.numerator.is_zero()).then(|| Fraction {
            numerator: self.denominator.clone(),
            denominator: self.numerator.clone(),
        })
    }

    fn is_single_term(&self) -> bool {
        self.numerator.terms.len() <= 1 && self.denominator.terms.len() == 1
    }

    fn power(&self, exponent: i64, budget: &mut Budget) -> Result<Option<Fraction>, Exhausted> {
        let base = if exponent < 0 {
            match self.reciprocal() {
                Some(reciprocal) => reciprocal,
                None => return Ok(None),
            }
        } else {
            self.clone()
        };
        let mut result = Fraction::whole(Polynomial::constant(BigRational::one()));
        let mut square = base;
        let mut remaining = exponent.unsigned_abs();
        while remaining > 0 {
            if remaining & 1 == 1 {
                result = result.times(&square, budget)?;
            }
            remaining >>= 1;
            if remaining > 0 {
                square = square.times(&square, budget)?;
            }
        }
        Ok(Some(result))
    }

    /// Whether a difference between two forms proves the values differ.
    fn is_conclusive(&self) -> bool {
        self.numerator.is_conclusive() && self.denominator.is_conclusive()
    }
}

/// The largest power of a sum that is expanded; larger powers become opaque.
const MAX_EXPANDED_EXPONENT: i64 = 64;
/// The largest power of a single term (`x^{1000}`) kept in the form.
const MAX_MONOMIAL_EXPONENT: i64 = 1 << 20;

fn opaque(expr: &Expr) -> Fraction {
    Fraction::whole(Polynomial::atom(Atom::Opaque(render(expr))))
}

/// The canonical form of a scalar, `None` for things outside arithmetic (text, sets, ∞).
fn form(expr: &Expr, budget: &mut Budget) -> Result<Option<Fraction>, Exhausted> {
    budget.charge(1)?;
    let result = match expr {
        Expr::Number(number) => Fraction::whole(Polynomial::constant(number.value.clone())),
        Expr::Symbol(name) => Fraction::whole(Polynomial::atom(Atom::Symbol(name.clone()))),
        Expr::Constant(Constant::Pi) => Fraction::whole(Polynomial::atom(Atom::Pi)),
        Expr::Constant(Constant::E) => Fraction::whole(Polynomial::atom(Atom::E)),
        Expr::Constant(Constant::I) => Fraction::whole(Polynomial::monomial(
            Monomial {
                imaginary: true,
                ..Monomial::one()
            },
            BigRational::one(),
        )),
        Expr::Constant(Constant::Infinity) => return Ok(None),
        Expr::Neg(inner) => match form(inner, budget)? {
            Some(inner) => Fraction {
                numerator: inner.numerator.negated(),
                denominator: inner.denominator,
            },
            None => return Ok(None),
        },
        Expr::Add(terms) => {
            let mut sum = Fraction::whole(Polynomial::constant(BigRational::zero()));
            for term in terms {
                let Some(term) = form(term, budget)? else {
                    return Ok(None);
                };
                sum = sum.plus(&term, budget)?;
            }
            sum
        }
        Expr::Mul(factors) => {
            let mut product = Fraction::whole(Polynomial::constant(BigRational::one()));
            for factor in factors {
                let Some(factor) = form(factor, budget)? else {
                    return Ok(None);
                };
                product = product.times(&factor, budget)?;
            }
            product
        }
        Expr::Div(numerator, denominator) => {
            let (Some(numerator), Some(denominator)) =
                (form(numerator, budget)?, form(denominator, budget)?)
            else {
                return Ok(None);
            };
            let Some(reciprocal) = denominator.reciprocal() else {
                return Ok(None);
            };
            numerator.times(&reciprocal, budget)?
        }
        Expr::Pow(base, exponent) => return power(expr, base, exponent, budget),
        Expr::Root(index, radicand) => {
            let index = rational_value(index, budget)?
                .filter(BigRational::is_integer)
                .and_then(|value| value.to_integer().to_u32());
            match index {
                Some(2) => square_root(expr, radicand, budget)?,
                Some(index) => match rational_value(radicand, budget)? {
                    Some(value) => match exact_root(&value, index, budget)? {
                        Some(root) => Fraction::whole(Polynomial::constant(root)),
                        None => opaque(expr),
                    },
                    None => opaque(expr),
                },
                None => opaque(expr),
            }
        }
        Expr::Percent(inner) => {
            let Some(inner) = form(inner, budget)? else {
                return Ok(None);
            };
            inner.times(
                &Fraction::whole(Polynomial::constant(BigRational::new(1.into(), 100.into()))),
                budget,
            )?
        }
        Expr::Degrees(inner) => {
            let Some(inner) = form(inner, budget)? else {
                return Ok(None);
            };
            let per_degree = Fraction {
                numerator: Polynomial::atom(Atom::Pi),
                denominator: Polynomial::constant(BigRational::from_integer(180.into())),
            };
            inner.times(&per_degree, budget)?
        }
        Expr::Apply(..) => match rational_value(expr, budget)? {
            Some(value) => Fraction::whole(Polynomial::constant(value)),
            None => opaque(expr),
        },
        _ => return Ok(None),
    };
    Ok(Some(result))
}

fn power(
    expr: &Expr,
    base: &Expr,
    exponent: &Expr,
    budget: &mut Budget,
) -> Result<Option<Fraction>, Exhausted> {
    let Some(exponent_value) = rational_value(exponent, budget)? else {
        return Ok(Some(opaque(expr)));
    };
    if exponent_value.is_integer() {
        let Some(exponent) = exponent_value
            .to_integer()
            .to_i64()
            .filter(|e| e.abs() <= MAX_MONOMIAL_EXPONENT)
        else {
            return Ok(Some(opaque(expr)));
        };
        let Some(base) = form(base, budget)? else {
            return Ok(None);
        };
        // Raising one term is a few multiplications at any exponent; sums expand.
        if exponent.abs() > MAX_EXPANDED_EXPONENT && !base.is_single_term() {
            return Ok(Some(opaque(expr)));
        }
        return base.power(exponent, budget);
    }
    if exponent_value.denom() == &BigInt::from(2) {
        // x^{p/2} = (√x)^p
        let root = Expr::Root(Box::new(Expr::integer(2)), Box::new(base.clone()));
        let Some(root) = form(&root, budget)? else {
            return Ok(None);
        };
        let Some(numerator) = exponent_value
            .numer()
            .to_i64()
            .filter(|e| e.abs() <= MAX_EXPANDED_EXPONENT)
        else {
            return Ok(Some(opaque(expr)));
        };
        return root.power(numerator, budget);
    }
    Ok(Some(match rational_value(expr, budget)? {
        Some(value) => Fraction::whole(Polynomial::constant(value)),
        None => opaque(expr),
    }))
}

/// `√(p/q) = √(p·q)/q`, with the square part of `p·q` taken out.
fn square_root(expr: &Expr, radicand: &Expr, budget: &mut Budget) -> Result<Fraction, Exhausted> {
    let Some(value) = rational_value(radicand, budget)? else {
        return Ok(opaque(expr));
    };
    let product = value.numer().abs() * value.denom();
    let Some((outside, inside)) = split_square(&product, budget)? else {
        return Ok(opaque(expr));
    };
    let coefficient = BigRational::new(outside, value.denom().clone());
    let monomial = Monomial {
        radical: inside,
        imaginary: value.is_negative(),
        atoms: Vec::new(),
    };
    Ok(Fraction::whole(Polynomial::monomial(monomial, coefficient)))
}

/// Trial-division bound: a cofactor below its cube has at most two prime factors.
const TRIAL_PRIMES_BELOW: u64 = 1000;

/// `n = outside² · inside` with `inside` square-free, when that can be decided cheaply.
fn split_square(n: &BigInt, budget: &mut Budget) -> Result<Option<(BigInt, BigInt)>, Exhausted> {
    if n.is_zero() {
        return Ok(Some((BigInt::zero(), BigInt::one())));
    }
    let mut rest = n.clone();
    let mut outside = BigInt::one();
    let mut inside = BigInt::one();
    let mut candidate = 2u64;
    while candidate < TRIAL_PRIMES_BELOW {
        budget.charge(rest.bits() / 64 + 1)?;
        let divisor = BigInt::from(candidate);
        let mut count = 0u32;
        while (&rest % &divisor).is_zero() {
            rest /= &divisor;
            count += 1;
        }
        if count > 0 {
            outside *= num_traits::Pow::pow(&divisor, count / 2);
            if count % 2 == 1 {
                inside *= &divisor;
            }
        }
        candidate += if candidate == 2 { 1 } else { 2 };
    }
    if rest.is_one() {
        return Ok(Some((outside, inside)));
    }
    // Squares are quadratic residues modulo 64·63·65·11; most non-squares fail this
    // cheaply, before an integer square root that costs as much as a division.
    let residue = (&rest % BigInt::from(64u32 * 63 * 65 * 11))
        .to_u64()
        .unwrap_or(0);
    let may_be_square = [64, 63, 65, 11].iter().all(|&modulus| {
        let value = residue % modulus;
        (0..modulus).any(|root| root * root % modulus == value)
    });
    if may_be_square {
        let size = rest.bits() / 64 + 1;
        budget.charge(size.saturating_mul(size))?;
        let root = rest.sqrt();
        if &root * &root == rest {
            return Ok(Some((outside * root, inside)));
        }
    }
    // No prime below the bound divides `rest`; below bound³ it is p, or p·q with p ≠ q.
    let cube = BigInt::from(TRIAL_PRIMES_BELOW).pow(3);
    if rest < cube {
        return Ok(Some((outside, inside * rest)));
    }
    Ok(None)
}

/// `Some(true)` when the forms are identical, `Some(false)` when they provably differ,
/// `None` when the form cannot decide (opaque parts, or not arithmetic).
pub(crate) fn equal(a: &Expr, b: &Expr, budget: &mut Budget) -> Result<Option<bool>, Exhausted> {
    let (Some(a), Some(b)) = (form(a, budget)?, form(b, budget)?) else {
        return Ok(None);
    };
    let difference = a.numerator.times(&b.denominator, budget)?.plus(
        &b.numerator.times(&a.denominator, budget)?.negated(),
        budget,
    )?;
    if difference.is_zero() {
        return Ok(Some(true));
    }
    // a - b = difference / (a_den · b_den): a nonzero canonical difference proves the
    // values differ even when a and b themselves have opaque parts (`sin x` vs `sin x + 1`).
    Ok(difference.is_conclusive().then_some(false))
}

/// Whether `a = c·b` for some nonzero rational c: the same equation `a = 0` and `b = 0`.
pub(crate) fn proportional(
    a: &Expr,
    b: &Expr,
    budget: &mut Budget,
) -> Result<Option<bool>, Exhausted> {
    let (Some(a), Some(b)) = (form(a, budget)?, form(b, budget)?) else {
        return Ok(None);
    };
    // a_num/a_den = c · b_num/b_den  ⇔  a_num·b_den = c · b_num·a_den
    let left = a.numerator.times(&b.denominator, budget)?;
    let right = b.numerator.times(&a.denominator, budget)?;
    let conclusive = a.is_conclusive() && b.is_conclusive();
    let Some((monomial, right_coefficient)) = right.terms.iter().next() else {
        return Ok(None);
    };
    let Some(left_coefficient) = left.terms.get(monomial) else {
        return Ok(conclusive.then_some(false));
    };
    let Some(factor) = rational::divide(left_coefficient, right_coefficient, budget)? else {
        return Ok(None);
    };
    let mut scaled = Polynomial {
        terms: BTreeMap::new(),
    };
    for (monomial, coefficient) in &right.terms {
        scaled.terms.insert(
            monomial.clone(),
            rational::multiply(coefficient, &factor, budget)?,
        );
    }
    if scaled == left {
        return Ok(Some(true));
    }
    Ok(conclusive.then_some(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::parser::parse;

    fn check(a: &str, b: &str) -> Option<bool> {
        let limits = Limits::default();
        let (a, b) = (
            parse(a, &limits).expect("parses"),
            parse(b, &limits).expect("parses"),
        );
        equal(&a, &b, &mut Budget::new(&limits)).expect("within budget")
    }

    #[test]
    fn radicals_are_canonical() {
        assert_eq!(
            check("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt2}"),
            Some(true)
        );
        assert_eq!(check("2\\sqrt{2}", "\\sqrt{8}"), Some(true));
        assert_eq!(check("\\sqrt{12}", "2\\sqrt3"), Some(true));
        assert_eq!(check("\\frac{\\sqrt{2}}{2}", "0.7071067812"), Some(false));
        assert_eq!(
            check("10^{20} + \\sqrt{2}", "10^{20} + \\sqrt{3}"),
            Some(false)
        );
        assert_eq!(check("\\sqrt{-4}", "2i"), Some(true));
    }

    #[test]
    fn polynomials_expand() {
        assert_eq!(check("(x+1)^2", "x^2 + 2x + 1"), Some(true));
        assert_eq!(check("(a+5)(b+2)", "ab + 2a + 5b + 10"), Some(true));
        assert_eq!(check("\\frac{x^2 - 1}{x - 1}", "x + 1"), Some(true));
        assert_eq!(check("(x+1)^2", "x^2 + 1"), Some(false));
        assert_eq!(check("\\frac{1}{2}\\pi", "\\frac{\\pi}{2}"), Some(true));
    }

    #[test]
    fn opaque_parts_cancel_but_do_not_decide_differences() {
        assert_eq!(check("2\\sin x", "\\sin x + \\sin x"), Some(true));
        assert_eq!(check("\\sin^2 x + \\cos^2 x", "1"), None);
    }

    #[test]
    fn quotients_of_radicals_reduce() {
        assert_eq!(check("\\frac{\\sqrt{8}}{\\sqrt{2}}", "2"), Some(true));
        assert_eq!(check("\\frac{1}{1+\\sqrt2}", "\\sqrt2 - 1"), Some(true));
    }
}
