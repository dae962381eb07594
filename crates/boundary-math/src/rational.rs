//! Exact rational arithmetic that charges the budget for its own cost.
//!
//! num-rational reduces every result with num-bigint's binary gcd, which takes
//! milliseconds when one operand is small and the other has thousands of digits
//! (`gcd(1, 2006!)` walks all 19 000 bits). These helpers skip gcds that are known
//! to be 1, reduce a small operand by one division first, and keep integers integral,
//! so `1/2006!` costs microseconds; what work remains is charged to the budget.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::budget::Budget;
use crate::error::Exhausted;

fn words(value: &BigInt) -> u64 {
    value.bits() / 64 + 1
}

/// Charges for a product of two integers (schoolbook bound, one step ≈ 8 word products).
fn charge_product(budget: &mut Budget, a: &BigInt, b: &BigInt) -> Result<(), Exhausted> {
    budget.charge(1 + words(a).saturating_mul(words(b)) / 8)
}

fn gcd_u64(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The non-negative gcd, reducing by one division when an operand fits a machine word.
pub(crate) fn gcd(a: &BigInt, b: &BigInt, budget: &mut Budget) -> Result<BigInt, Exhausted> {
    if a.is_zero() {
        return Ok(b.abs());
    }
    if b.is_zero() {
        return Ok(a.abs());
    }
    if a.magnitude().is_one() || b.magnitude().is_one() {
        return Ok(BigInt::one());
    }
    let small = |value: &BigInt| value.magnitude().to_u64();
    match (small(a), small(b)) {
        (Some(x), Some(y)) => Ok(BigInt::from(gcd_u64(x, y))),
        (Some(x), None) | (None, Some(x)) => {
            let big = if small(a).is_some() { b } else { a };
            budget.charge(1 + words(big) / 4)?;
            let remainder = (big.magnitude() % x).to_u64().unwrap_or(0);
            Ok(BigInt::from(gcd_u64(x, remainder)))
        }
        (None, None) => {
            // num-bigint's binary gcd makes about one allocating pass over the words per
            // bit of the larger operand (measured: ~30 instructions per bit-word).
            let widest = a.bits().max(b.bits());
            budget.charge(1 + widest.saturating_mul(words(a).max(words(b))))?;
            Ok(a.gcd(b))
        }
    }
}

/// `numerator / denominator` in lowest terms with a positive denominator (denominator ≠ 0).
pub(crate) fn reduced(
    numerator: BigInt,
    denominator: BigInt,
    budget: &mut Budget,
) -> Result<BigRational, Exhausted> {
    let divisor = gcd(&numerator, &denominator, budget)?;
    let (mut numerator, mut denominator) = if divisor.is_one() {
        (numerator, denominator)
    } else {
        budget.charge(1 + (words(&numerator) + words(&denominator)) / 4)?;
        (numerator / &divisor, denominator / &divisor)
    };
    if denominator.is_negative() {
        numerator = -numerator;
        denominator = -denominator;
    }
    Ok(BigRational::new_raw(numerator, denominator))
}

pub(crate) fn multiply(
    a: &BigRational,
    b: &BigRational,
    budget: &mut Budget,
) -> Result<BigRational, Exhausted> {
    if a.is_zero() || b.is_zero() {
        return Ok(BigRational::zero());
    }
    budget.check_bits(
        a.numer().bits().max(a.denom().bits()) + b.numer().bits().max(b.denom().bits()),
    )?;
    if a.is_integer() && b.is_integer() {
        charge_product(budget, a.numer(), b.numer())?;
        return Ok(BigRational::from_integer(a.numer() * b.numer()));
    }
    if a == b {
        // A square of a reduced fraction is reduced: no gcd.
        charge_product(budget, a.numer(), a.numer())?;
        charge_product(budget, a.denom(), a.denom())?;
        return Ok(BigRational::new_raw(
            a.numer() * a.numer(),
            a.denom() * a.denom(),
        ));
    }
    // Both inputs are in lowest terms, so only the cross gcds can cancel.
    let left = gcd(a.numer(), b.denom(), budget)?;
    let right = gcd(b.numer(), a.denom(), budget)?;
    charge_product(budget, a.numer(), b.numer())?;
    charge_product(budget, a.denom(), b.denom())?;
    let numerator = (a.numer() / &left) * (b.numer() / &right);
    let denominator = (a.denom() / &right) * (b.denom() / &left);
    Ok(BigRational::new_raw(numerator, denominator))
}

pub(crate) fn add(
    a: &BigRational,
    b: &BigRational,
    budget: &mut Budget,
) -> Result<BigRational, Exhausted> {
    if a.is_zero() {
        return Ok(b.clone());
    }
    if b.is_zero() {
        return Ok(a.clone());
    }
    budget.check_bits(
        a.numer().bits().max(a.denom().bits()) + b.numer().bits().max(b.denom().bits()),
    )?;
    if a.is_integer() && b.is_integer() {
        budget.charge(1 + (words(a.numer()) + words(b.numer())) / 16)?;
        return Ok(BigRational::from_integer(a.numer() + b.numer()));
    }
    if a.denom() == b.denom() {
        return reduced(a.numer() + b.numer(), a.denom().clone(), budget);
    }
    charge_product(budget, a.numer(), b.denom())?;
    charge_product(budget, b.numer(), a.denom())?;
    charge_product(budget, a.denom(), b.denom())?;
    reduced(
        a.numer() * b.denom() + b.numer() * a.denom(),
        a.denom() * b.denom(),
        budget,
    )
}

/// `a / b`, `None` when `b` is zero.
pub(crate) fn divide(
    a: &BigRational,
    b: &BigRational,
    budget: &mut Budget,
) -> Result<Option<BigRational>, Exhausted> {
    if b.is_zero() {
        return Ok(None);
    }
    // `recip` only swaps and fixes the sign: no gcd.
    multiply(a, &b.recip(), budget).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;

    fn rational(numerator: i64, denominator: i64) -> BigRational {
        BigRational::new(numerator.into(), denominator.into())
    }

    #[test]
    fn agrees_with_num_rational() {
        let limits = Limits::default();
        let mut budget = Budget::new(&limits);
        let values = [
            rational(0, 1),
            rational(1, 1),
            rational(-3, 4),
            rational(6, 35),
            rational(-10, 21),
            rational(7, 1),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(add(a, b, &mut budget).unwrap(), a + b);
                assert_eq!(multiply(a, b, &mut budget).unwrap(), a * b);
                if !b.is_zero() {
                    assert_eq!(divide(a, b, &mut budget).unwrap(), Some(a / b));
                }
            }
        }
        assert_eq!(
            reduced(BigInt::from(6), BigInt::from(-4), &mut budget).unwrap(),
            rational(-3, 2)
        );
    }

    #[test]
    fn huge_times_small_is_cheap() {
        let limits = Limits::default();
        let mut budget = Budget::new(&limits);
        let huge = BigRational::from_integer(
            (1..=2000u32).fold(BigInt::one(), |product, factor| product * factor),
        );
        let inverse = divide(&BigRational::one(), &huge, &mut budget)
            .unwrap()
            .unwrap();
        let product = multiply(&inverse, &rational(3, 1), &mut budget).unwrap();
        assert_eq!(product * &huge, rational(3, 1));
        let spent = limits.max_steps - budget.steps_left();
        assert!(spent < 10_000, "spent {spent} steps");
    }
}
