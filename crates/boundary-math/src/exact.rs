//! Exact evaluation of expressions whose value is a rational number.
//!
//! `0.5` and `1/2` are the same rational, `0.33` and `1/3` are not, and
//! `1/2004!` differs from `1/2006!` although both are below any float tolerance.
//! Every operation charges the budget first and refuses integers wider than the limit,
//! so `10^{10^{10^{10}}}` stops immediately instead of allocating.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::ast::{Expr, Function};
use crate::budget::Budget;
use crate::error::Exhausted;
use crate::rational;

/// The exact value, `Ok(None)` when the expression is not a rational constant
/// (symbols, irrational roots, π, undefined operations).
pub(crate) fn rational_value(
    expr: &Expr,
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    budget.charge(1)?;
    Ok(match expr {
        Expr::Number(number) => Some(number.value.clone()),
        Expr::Neg(inner) => rational_value(inner, budget)?.map(|value| -value),
        Expr::Add(terms) => {
            let mut sum = BigRational::zero();
            for term in terms {
                let Some(value) = rational_value(term, budget)? else {
                    return Ok(None);
                };
                sum = rational::add(&sum, &value, budget)?;
            }
            Some(sum)
        }
        Expr::Mul(factors) => {
            let mut product = BigRational::one();
            for factor in factors {
                let Some(value) = rational_value(factor, budget)? else {
                    return Ok(None);
                };
                product = rational::multiply(&product, &value, budget)?;
            }
            Some(product)
        }
        Expr::Div(numerator, denominator) => {
            let Some(numerator) = rational_value(numerator, budget)? else {
                return Ok(None);
            };
            let Some(denominator) = rational_value(denominator, budget)? else {
                return Ok(None);
            };
            rational::divide(&numerator, &denominator, budget)?
        }
        Expr::Pow(base, exponent) => {
            let Some(exponent) = rational_value(exponent, budget)? else {
                return Ok(None);
            };
            let Some(base) = rational_value(base, budget)? else {
                return Ok(None);
            };
            power(&base, &exponent, budget)?
        }
        Expr::Root(index, radicand) => {
            let Some(index) = rational_value(index, budget)? else {
                return Ok(None);
            };
            let Some(radicand) = rational_value(radicand, budget)? else {
                return Ok(None);
            };
            if !index.is_integer() || !index.is_positive() {
                return Ok(None);
            }
            let Some(index) = index.to_integer().to_u32() else {
                return Ok(None);
            };
            exact_root(&radicand, index, budget)?
        }
        Expr::Percent(inner) => match rational_value(inner, budget)? {
            Some(value) => {
                rational::divide(&value, &BigRational::from_integer(100.into()), budget)?
            }
            None => None,
        },
        Expr::Apply(function, arguments) => apply(*function, arguments, budget)?,
        _ => None,
    })
}

fn words(value: &BigInt) -> u64 {
    value.bits() / 64 + 1
}

fn power(
    base: &BigRational,
    exponent: &BigRational,
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    if exponent.is_integer() {
        let exponent = exponent.to_integer();
        if base.is_zero() {
            return Ok(match exponent.sign() {
                num_bigint::Sign::Minus => None,
                num_bigint::Sign::NoSign => Some(BigRational::one()),
                num_bigint::Sign::Plus => Some(BigRational::zero()),
            });
        }
        let magnitude = base.numer().abs();
        if (magnitude.is_one() && base.denom().is_one()) || exponent.is_zero() {
            let odd = exponent.is_odd();
            return Ok(Some(if exponent.is_zero() || !base.is_negative() || !odd {
                BigRational::one()
            } else {
                -BigRational::one()
            }));
        }
        let Some(count) = exponent.abs().to_u64() else {
            return Err(Exhausted {
                limit: crate::error::Limit::IntegerBits,
            });
        };
        let widest = base.numer().bits().max(base.denom().bits());
        budget.check_bits(widest.saturating_mul(count))?;
        let result_words = widest.saturating_mul(count) / 64 + 1;
        budget.charge(result_words.saturating_mul(result_words))?;
        let count = u32::try_from(count).map_err(|_| Exhausted {
            limit: crate::error::Limit::IntegerBits,
        })?;
        let raised = num_traits::Pow::pow(base, count);
        return Ok(Some(if exponent.is_negative() {
            raised.recip()
        } else {
            raised
        }));
    }
    // Rational exponent p/q: exact only when the base is a perfect q-th power.
    let Some(root_index) = exponent.denom().to_u32() else {
        return Ok(None);
    };
    let Some(root) = exact_root(base, root_index, budget)? else {
        return Ok(None);
    };
    power(
        &root,
        &BigRational::from_integer(exponent.numer().clone()),
        budget,
    )
}

/// The rational q-th root when it exists (real root for odd q and negative values).
pub(crate) fn exact_root(
    value: &BigRational,
    index: u32,
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    if index == 0 {
        return Ok(None);
    }
    if index == 1 || value.is_zero() {
        return Ok(Some(value.clone()));
    }
    if value.is_negative() {
        if index.is_multiple_of(2) {
            return Ok(None);
        }
        return Ok(exact_root(&-value, index, budget)?.map(|root| -root));
    }
    let numerator = integer_root(value.numer(), index, budget)?;
    let denominator = integer_root(value.denom(), index, budget)?;
    Ok(match (numerator, denominator) {
        (Some(numerator), Some(denominator)) => Some(BigRational::new(numerator, denominator)),
        _ => None,
    })
}

fn integer_root(
    value: &BigInt,
    index: u32,
    budget: &mut Budget,
) -> Result<Option<BigInt>, Exhausted> {
    let size = words(value);
    budget.charge(size.saturating_mul(size).saturating_mul(8))?;
    let root = value.nth_root(index);
    Ok((num_traits::Pow::pow(&root, index) == *value).then_some(root))
}

fn integer_argument(
    arguments: &[Expr],
    index: usize,
    budget: &mut Budget,
) -> Result<Option<BigInt>, Exhausted> {
    let Some(argument) = arguments.get(index) else {
        return Ok(None);
    };
    Ok(rational_value(argument, budget)?
        .filter(BigRational::is_integer)
        .map(|value| value.to_integer()))
}

fn apply(
    function: Function,
    arguments: &[Expr],
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    let single = |budget: &mut Budget| -> Result<Option<BigRational>, Exhausted> {
        match arguments {
            [argument] => rational_value(argument, budget),
            _ => Ok(None),
        }
    };
    Ok(match function {
        Function::Abs => single(budget)?.map(|value| value.abs()),
        Function::Floor => single(budget)?.map(|value| value.floor()),
        Function::Ceil => single(budget)?.map(|value| value.ceil()),
        Function::Factorial => match integer_argument(arguments, 0, budget)? {
            Some(n) if !n.is_negative() => factorial(&n, budget)?.map(BigRational::from_integer),
            _ => None,
        },
        Function::Binomial => {
            let (Some(n), Some(k)) = (
                integer_argument(arguments, 0, budget)?,
                integer_argument(arguments, 1, budget)?,
            ) else {
                return Ok(None);
            };
            binomial(&n, &k, budget)?.map(BigRational::from_integer)
        }
        Function::Gcd | Function::Lcm => {
            let mut result: Option<BigInt> = None;
            for index in 0..arguments.len() {
                let Some(value) = integer_argument(arguments, index, budget)? else {
                    return Ok(None);
                };
                result = Some(match result {
                    None => value.abs(),
                    Some(so_far) if function == Function::Gcd => so_far.gcd(&value),
                    Some(so_far) => {
                        budget.check_bits(so_far.bits() + value.bits())?;
                        so_far.lcm(&value)
                    }
                });
            }
            result.map(BigRational::from_integer)
        }
        Function::Max | Function::Min => {
            let mut result: Option<BigRational> = None;
            for argument in arguments {
                let Some(value) = rational_value(argument, budget)? else {
                    return Ok(None);
                };
                result = Some(match result {
                    None => value,
                    Some(so_far) if (function == Function::Max) == (value > so_far) => value,
                    Some(so_far) => so_far,
                });
            }
            result
        }
        Function::Ln | Function::Log | Function::Exp => {
            rational_special_value(function, arguments, budget)?
        }
        _ => None,
    })
}

/// `\ln 1`, `\log_b b^k`, `e^0`: the few rational values of transcendental functions.
fn rational_special_value(
    function: Function,
    arguments: &[Expr],
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    let Some(value) = arguments
        .first()
        .map(|argument| rational_value(argument, budget))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    Ok(match function {
        Function::Ln if value.is_one() => Some(BigRational::zero()),
        Function::Exp if value.is_zero() => Some(BigRational::one()),
        Function::Log => {
            let Some(base) = arguments
                .get(1)
                .map(|base| rational_value(base, budget))
                .transpose()?
                .flatten()
            else {
                return Ok(None);
            };
            exact_logarithm(&value, &base, budget)?
        }
        _ => None,
    })
}

/// `log_b(v)` when `v = b^k` for an integer k (or its reciprocal).
fn exact_logarithm(
    value: &BigRational,
    base: &BigRational,
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    if !value.is_positive() || !base.is_positive() || base.is_one() {
        return Ok(None);
    }
    if value.is_one() {
        return Ok(Some(BigRational::zero()));
    }
    let (target, sign) = if (value > &BigRational::one()) == (base > &BigRational::one()) {
        (value.clone(), 1)
    } else {
        (value.recip(), -1)
    };
    let mut power = base.clone();
    for exponent in 1..=value.numer().bits().max(value.denom().bits()) {
        if power == target {
            return Ok(Some(BigRational::from_integer(BigInt::from(
                exponent as i64 * sign,
            ))));
        }
        let overshot = if base > &BigRational::one() {
            power > target
        } else {
            power < target
        };
        if overshot {
            break;
        }
        power = rational::multiply(&power, base, budget)?;
    }
    Ok(None)
}

fn factorial(n: &BigInt, budget: &mut Budget) -> Result<Option<BigInt>, Exhausted> {
    let Some(n) = n.to_u64() else {
        return Err(Exhausted {
            limit: crate::error::Limit::IntegerBits,
        });
    };
    // log2(n!) <= n·log2(n): refuse before multiplying.
    let estimate = n.saturating_mul(64 - n.leading_zeros() as u64);
    budget.check_bits(estimate)?;
    // Runs of factors multiplied in a machine word, then a balanced product tree:
    // far fewer big multiplications than multiplying the factors in one by one.
    let mut partial: Vec<BigInt> = Vec::new();
    let mut word = 1u64;
    for factor in 2..=n {
        match word.checked_mul(factor) {
            Some(product) => word = product,
            None => {
                partial.push(BigInt::from(word));
                word = factor;
            }
        }
    }
    partial.push(BigInt::from(word));
    while partial.len() > 1 {
        let mut next = Vec::with_capacity(partial.len().div_ceil(2));
        for pair in partial.chunks(2) {
            next.push(match pair {
                [a, b] => {
                    budget.charge(1 + words(a).saturating_mul(words(b)) / 8)?;
                    a * b
                }
                [a] => a.clone(),
                _ => BigInt::one(),
            });
        }
        partial = next;
    }
    Ok(partial.pop())
}

fn binomial(n: &BigInt, k: &BigInt, budget: &mut Budget) -> Result<Option<BigInt>, Exhausted> {
    if n.is_negative() || k.is_negative() || k > n {
        return Ok(if n.is_negative() {
            None
        } else {
            Some(BigInt::zero())
        });
    }
    let Some(n) = n.to_u64() else {
        return Err(Exhausted {
            limit: crate::error::Limit::IntegerBits,
        });
    };
    let Some(k) = k.to_u64() else {
        return Err(Exhausted {
            limit: crate::error::Limit::IntegerBits,
        });
    };
    let k = k.min(n - k);
    budget.check_bits(k.saturating_mul(64 - n.leading_zeros() as u64))?;
    let mut result = BigInt::one();
    for step in 0..k {
        budget.charge(words(&result))?;
        result = result * (n - step) / (step + 1);
    }
    Ok(Some(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::parser::parse;

    fn value(input: &str) -> Result<Option<String>, Exhausted> {
        let limits = Limits::default();
        let expr = parse(input, &limits).expect("test inputs parse");
        let mut budget = Budget::new(&limits);
        Ok(rational_value(&expr, &mut budget)?.map(|value| value.to_string()))
    }

    #[test]
    fn decimals_and_fractions_are_exact() {
        assert_eq!(value("0.5").unwrap(), value("\\frac{1}{2}").unwrap());
        assert_ne!(value("0.33").unwrap(), value("\\frac13").unwrap());
        assert_eq!(value("2^{-3}").unwrap().as_deref(), Some("1/8"));
        assert_eq!(
            value("\\sqrt{\\frac{9}{4}}").unwrap().as_deref(),
            Some("3/2")
        );
        assert_eq!(value("8^{2/3}").unwrap().as_deref(), Some("4"));
        assert_eq!(value("\\sqrt[3]{-27}").unwrap().as_deref(), Some("-3"));
    }

    #[test]
    fn irrational_values_are_not_rational() {
        assert_eq!(value("\\sqrt{2}").unwrap(), None);
        assert_eq!(value("\\pi").unwrap(), None);
        assert_eq!(value("\\frac{1}{0}").unwrap(), None);
    }

    #[test]
    fn combinatorics() {
        assert_eq!(value("5!").unwrap().as_deref(), Some("120"));
        assert_eq!(value("\\binom{10}{3}").unwrap().as_deref(), Some("120"));
        assert_eq!(value("\\log_2 8").unwrap().as_deref(), Some("3"));
        assert_eq!(
            value("\\log_{2} \\frac{1}{8}").unwrap().as_deref(),
            Some("-3")
        );
    }

    #[test]
    fn huge_values_exhaust_the_budget_instead_of_hanging() {
        assert!(value("10^{10^{10^{10}}}").is_err());
        assert!(value("100000!").is_err());
        assert!(value("\\dfrac{5^{(5^{(5^{(5^5)})} - 4)} - 5}{16}").is_err());
    }
}
