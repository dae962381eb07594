//! Floating-point evaluation with a running error bound.
//!
//! Expressions with variables or irrational constants are compared by evaluating both
//! at the same sample points. Each value carries an absolute error bound propagated
//! through every operation (first-order, like interval arithmetic), so the comparison
//! can tell "equal within rounding" from "different" from "precision lost" — instead
//! of a fixed rounding that calls `1/2^99` equal to `1/2^98`.

use num_rational::BigRational;
use num_traits::ToPrimitive;

use crate::ast::{Constant, Expr, Function};
use crate::budget::Budget;
use crate::error::Exhausted;
use crate::exact::rational_value;

const EPSILON: f64 = f64::EPSILON;

/// A complex value and an absolute bound on its error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Approx {
    pub re: f64,
    pub im: f64,
    pub error: f64,
}

/// Why an expression has no trustworthy value at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Division by (possibly) zero, a pole, or a domain error at this point.
    Undefined,
    /// Overflow, a branch cut within the error bound, or an unsupported function.
    Unreliable,
    /// The expression contains something without a numeric value (text, sets).
    NotScalar,
    Exhausted(Exhausted),
}

impl From<Exhausted> for Failure {
    fn from(exhausted: Exhausted) -> Failure {
        Failure::Exhausted(exhausted)
    }
}

type Result<T> = std::result::Result<T, Failure>;

impl Approx {
    fn exact(re: f64) -> Approx {
        Approx {
            re,
            im: 0.0,
            error: 0.0,
        }
    }

    fn rounded(re: f64, im: f64, error: f64) -> Result<Approx> {
        let value = Approx {
            re,
            im,
            error: error + EPSILON * re.hypot(im),
        };
        if value.re.is_finite()
            && value.im.is_finite()
            && value.error.is_finite()
            && value.magnitude() < 1e300
        {
            Ok(value)
        } else {
            Err(Failure::Unreliable)
        }
    }

    pub fn magnitude(self) -> f64 {
        self.re.hypot(self.im)
    }

    fn is_real(self) -> bool {
        self.im == 0.0
    }

    fn add(self, other: Approx) -> Result<Approx> {
        Approx::rounded(
            self.re + other.re,
            self.im + other.im,
            self.error + other.error,
        )
    }

    fn neg(self) -> Approx {
        Approx {
            re: -self.re,
            im: -self.im,
            error: self.error,
        }
    }

    fn mul(self, other: Approx) -> Result<Approx> {
        let re = self.re * other.re - self.im * other.im;
        let im = self.re * other.im + self.im * other.re;
        let error = self.magnitude() * other.error
            + other.magnitude() * self.error
            + self.error * other.error;
        Approx::rounded(
            re,
            im,
            error + 2.0 * EPSILON * self.magnitude() * other.magnitude(),
        )
    }

    fn recip(self) -> Result<Approx> {
        let magnitude = self.magnitude();
        if magnitude <= 2.0 * self.error || magnitude == 0.0 {
            return Err(Failure::Undefined);
        }
        // Smith's division avoids squaring the magnitude, which overflows for large values.
        let (re, im) = if self.im.abs() <= self.re.abs() {
            let ratio = self.im / self.re;
            let denominator = self.re + self.im * ratio;
            (1.0 / denominator, -ratio / denominator)
        } else {
            let ratio = self.re / self.im;
            let denominator = self.re * ratio + self.im;
            (ratio / denominator, -1.0 / denominator)
        };
        let lower = magnitude - self.error;
        Approx::rounded(re, im, self.error / lower / lower)
    }

    fn div(self, other: Approx) -> Result<Approx> {
        self.mul(other.recip()?)
    }

    fn exp(self) -> Result<Approx> {
        let scale = self.re.exp();
        let value_magnitude = scale;
        let error = value_magnitude * (self.error.exp_m1());
        Approx::rounded(scale * self.im.cos(), scale * self.im.sin(), error)
    }

    fn ln(self) -> Result<Approx> {
        let magnitude = self.magnitude();
        if magnitude <= 2.0 * self.error || magnitude == 0.0 {
            return Err(Failure::Undefined);
        }
        // The principal branch jumps across the negative real axis.
        if self.re < 0.0 && self.im.abs() <= self.error && self.im != 0.0 {
            return Err(Failure::Unreliable);
        }
        let im = if self.im == 0.0 && self.re < 0.0 {
            std::f64::consts::PI
        } else {
            self.im.atan2(self.re)
        };
        Approx::rounded(magnitude.ln(), im, self.error / (magnitude - self.error))
    }

    fn sqrt(self) -> Result<Approx> {
        if self.re < 0.0 && self.im.abs() <= self.error && self.im != 0.0 {
            return Err(Failure::Unreliable);
        }
        let magnitude = self.magnitude();
        if magnitude == 0.0 {
            return Ok(Approx {
                re: 0.0,
                im: 0.0,
                error: self.error.sqrt(),
            });
        }
        let root_magnitude = magnitude.sqrt();
        let half_angle = self.im.atan2(self.re) / 2.0;
        let half_angle = if self.im == 0.0 && self.re < 0.0 {
            std::f64::consts::FRAC_PI_2
        } else {
            half_angle
        };
        let error = if magnitude > self.error {
            self.error / (2.0 * (magnitude - self.error).sqrt())
        } else {
            self.error.sqrt()
        };
        Approx::rounded(
            root_magnitude * half_angle.cos(),
            root_magnitude * half_angle.sin(),
            error,
        )
    }

    fn powf(self, exponent: Approx) -> Result<Approx> {
        if self.magnitude() == 0.0 && self.error == 0.0 && exponent.is_real() && exponent.re > 0.0 {
            return Ok(Approx::exact(0.0));
        }
        self.ln()?.mul(exponent)?.exp()
    }

    fn powi(self, exponent: i64) -> Result<Approx> {
        if exponent < 0 {
            return self.recip()?.powi(-exponent);
        }
        let mut result = Approx::exact(1.0);
        let mut base = self;
        let mut remaining = exponent;
        while remaining > 0 {
            if remaining & 1 == 1 {
                result = result.mul(base)?;
            }
            remaining >>= 1;
            if remaining > 0 {
                base = base.mul(base)?;
            }
        }
        Ok(result)
    }

    fn sin(self) -> Result<Approx> {
        let (re, im) = (
            self.re.sin() * self.im.cosh(),
            self.re.cos() * self.im.sinh(),
        );
        let derivative = (self.re.cos() * self.im.cosh()).hypot(self.re.sin() * self.im.sinh());
        Approx::rounded(re, im, (derivative + self.error) * self.error)
    }

    fn cos(self) -> Result<Approx> {
        let (re, im) = (
            self.re.cos() * self.im.cosh(),
            -self.re.sin() * self.im.sinh(),
        );
        let derivative = (self.re.sin() * self.im.cosh()).hypot(self.re.cos() * self.im.sinh());
        Approx::rounded(re, im, (derivative + self.error) * self.error)
    }

    /// A real function of a real argument with a known derivative bound.
    fn real_function(self, value: f64, derivative: f64) -> Result<Approx> {
        if !self.is_real() || !value.is_finite() || !derivative.is_finite() {
            return Err(Failure::Unreliable);
        }
        Approx::rounded(value, 0.0, derivative.abs() * self.error * 2.0)
    }
}

/// Values assigned to the free symbols at one sample point.
pub(crate) struct Point<'a> {
    pub symbols: &'a [(String, f64)],
}

impl Point<'_> {
    fn value_of(&self, name: &str) -> Option<f64> {
        self.symbols
            .iter()
            .find(|(symbol, _)| symbol == name)
            .map(|(_, value)| *value)
    }
}

fn rational_to_approx(value: &BigRational) -> Result<Approx> {
    let float = value.to_f64().ok_or(Failure::Unreliable)?;
    if !float.is_finite()
        || (float == 0.0 && !num_traits::Zero::is_zero(value))
        || float.abs() < 1e-300 && float != 0.0
    {
        return Err(Failure::Unreliable);
    }
    Ok(Approx {
        re: float,
        im: 0.0,
        error: EPSILON * float.abs(),
    })
}

pub(crate) fn evaluate(expr: &Expr, point: &Point, budget: &mut Budget) -> Result<Approx> {
    budget.charge(1)?;
    match expr {
        Expr::Number(number) => rational_to_approx(&number.value),
        Expr::Symbol(name) => point
            .value_of(name)
            .map(Approx::exact)
            .ok_or(Failure::Unreliable),
        Expr::Constant(Constant::Pi) => Approx::rounded(std::f64::consts::PI, 0.0, 0.0),
        Expr::Constant(Constant::E) => Approx::rounded(std::f64::consts::E, 0.0, 0.0),
        Expr::Constant(Constant::I) => Ok(Approx {
            re: 0.0,
            im: 1.0,
            error: 0.0,
        }),
        Expr::Constant(Constant::Infinity) => Err(Failure::NotScalar),
        Expr::Neg(inner) => Ok(evaluate(inner, point, budget)?.neg()),
        Expr::Add(terms) => {
            let mut sum = Approx::exact(0.0);
            for term in terms {
                sum = sum.add(evaluate(term, point, budget)?)?;
            }
            Ok(sum)
        }
        Expr::Mul(factors) => {
            let mut product = Approx::exact(1.0);
            for factor in factors {
                product = product.mul(evaluate(factor, point, budget)?)?;
            }
            Ok(product)
        }
        Expr::Div(numerator, denominator) => {
            evaluate(numerator, point, budget)?.div(evaluate(denominator, point, budget)?)
        }
        Expr::Pow(base, exponent) => power(base, exponent, point, budget),
        Expr::Root(index, radicand) => root(index, radicand, point, budget),
        Expr::Apply(function, arguments) => apply(*function, arguments, point, budget),
        Expr::Percent(inner) => evaluate(inner, point, budget)?.div(Approx::exact(100.0)),
        Expr::Degrees(inner) => {
            let radians_per_degree = Approx::rounded(std::f64::consts::PI / 180.0, 0.0, 0.0)?;
            evaluate(inner, point, budget)?.mul(radians_per_degree)
        }
        _ => Err(Failure::NotScalar),
    }
}

/// A small integer exponent, evaluated exactly, keeps `x^2` real for negative `x`.
fn integer_exponent(
    exponent: &Expr,
    budget: &mut Budget,
) -> std::result::Result<Option<i64>, Exhausted> {
    if exponent.contains_symbol() {
        return Ok(None);
    }
    Ok(rational_value(exponent, budget)?
        .filter(BigRational::is_integer)
        .and_then(|value| value.to_integer().to_i64()))
}

fn power(base: &Expr, exponent: &Expr, point: &Point, budget: &mut Budget) -> Result<Approx> {
    if let Some(exponent) = integer_exponent(exponent, budget)? {
        if exponent.unsigned_abs() > 4096 {
            return Err(Failure::Unreliable);
        }
        return evaluate(base, point, budget)?.powi(exponent);
    }
    let exponent_value = evaluate(exponent, point, budget)?;
    if matches!(base, Expr::Constant(Constant::E)) {
        return exponent_value.exp();
    }
    let base_value = evaluate(base, point, budget)?;
    // A real base to a rational power with odd denominator has a real value (`(-8)^{1/3} = -2`).
    if base_value.is_real()
        && base_value.re < 0.0
        && !exponent.contains_symbol()
        && let Some(exponent) = rational_value(exponent, budget)?
        && exponent.denom().to_u64().is_some_and(|q| q % 2 == 1)
    {
        let magnitude = Approx {
            re: -base_value.re,
            im: 0.0,
            error: base_value.error,
        };
        let raised = magnitude.powf(exponent_value)?;
        let odd_numerator = exponent.numer().to_i64().is_some_and(|p| p % 2 != 0);
        return Ok(if odd_numerator { raised.neg() } else { raised });
    }
    base_value.powf(exponent_value)
}

fn root(index: &Expr, radicand: &Expr, point: &Point, budget: &mut Budget) -> Result<Approx> {
    let value = evaluate(radicand, point, budget)?;
    let index = integer_exponent(index, budget)?.ok_or(Failure::Unreliable)?;
    match index {
        2 => value.sqrt(),
        n if n >= 1 => {
            // Odd roots of negative reals are real, as in school math.
            let inverse = Approx::exact(1.0 / n as f64);
            if value.is_real() && value.re < 0.0 && n % 2 == 1 {
                Ok(Approx {
                    re: -value.re,
                    im: 0.0,
                    error: value.error,
                }
                .powf(inverse)?
                .neg())
            } else {
                value.powf(inverse)
            }
        }
        _ => Err(Failure::Undefined),
    }
}

fn apply(
    function: Function,
    arguments: &[Expr],
    point: &Point,
    budget: &mut Budget,
) -> Result<Approx> {
    // Integer-valued functions are only evaluated exactly.
    if matches!(
        function,
        Function::Factorial
            | Function::Binomial
            | Function::Gcd
            | Function::Lcm
            | Function::Floor
            | Function::Ceil
    ) {
        let expr = Expr::Apply(function, arguments.to_vec());
        return match rational_value(&expr, budget)? {
            Some(value) => rational_to_approx(&value),
            None => Err(Failure::Unreliable),
        };
    }
    let mut values = Vec::with_capacity(arguments.len());
    for argument in arguments {
        values.push(evaluate(argument, point, budget)?);
    }
    let [x] = values[..] else {
        return match function {
            Function::Log => {
                let [value, base] = values[..] else {
                    return Err(Failure::Unreliable);
                };
                value.ln()?.div(base.ln()?)
            }
            Function::Max | Function::Min => extremum(function, &values),
            _ => Err(Failure::Unreliable),
        };
    };
    match function {
        Function::Sin => x.sin(),
        Function::Cos => x.cos(),
        Function::Tan => x.sin()?.div(x.cos()?),
        Function::Cot => x.cos()?.div(x.sin()?),
        Function::Sec => x.cos()?.recip(),
        Function::Csc => x.sin()?.recip(),
        Function::Exp => x.exp(),
        Function::Ln => x.ln(),
        Function::Sinh => x.exp()?.add(x.neg().exp()?.neg())?.div(Approx::exact(2.0)),
        Function::Cosh => x.exp()?.add(x.neg().exp()?)?.div(Approx::exact(2.0)),
        Function::Tanh => {
            let (up, down) = (x.exp()?, x.neg().exp()?);
            up.add(down.neg())?.div(up.add(down)?)
        }
        Function::Arcsin | Function::Arccos => {
            if !x.is_real() || x.re.abs() + x.error >= 1.0 {
                return Err(Failure::Unreliable);
            }
            let derivative = 1.0 / (1.0 - (x.re.abs() + x.error).powi(2)).sqrt();
            let value = if function == Function::Arcsin {
                x.re.asin()
            } else {
                x.re.acos()
            };
            x.real_function(value, derivative)
        }
        Function::Arctan => x.real_function(x.re.atan(), 1.0),
        Function::Abs => Approx::rounded(x.magnitude(), 0.0, x.error),
        Function::Max | Function::Min => Ok(x),
        _ => Err(Failure::Unreliable),
    }
}

fn extremum(function: Function, values: &[Approx]) -> Result<Approx> {
    let mut best: Option<Approx> = None;
    for &value in values {
        if !value.is_real() {
            return Err(Failure::Undefined);
        }
        best = Some(match best {
            None => value,
            Some(current) => {
                if (value.re - current.re).abs() <= value.error + current.error {
                    return Err(Failure::Unreliable);
                }
                if (function == Function::Max) == (value.re > current.re) {
                    value
                } else {
                    current
                }
            }
        });
    }
    best.ok_or(Failure::Unreliable)
}

/// `a / b` when `b` is safely away from zero.
pub(crate) fn ratio(a: Approx, b: Approx) -> Option<Approx> {
    a.div(b).ok()
}

/// The outcome of comparing two values at one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointOutcome {
    Equal,
    Different,
    /// The error bounds are too wide to tell.
    Unsure,
}

/// Below this absolute error a difference within the error bound counts as zero
/// (`\sin^2 x + \cos^2 x - 1` evaluates to about 1e-16).
const ABSOLUTE_FLOOR: f64 = 1e-12;
/// Safety factor on the first-order error bound.
const ERROR_MARGIN: f64 = 8.0;

pub(crate) fn compare(a: Approx, b: Approx, relative_tolerance: f64) -> PointOutcome {
    let difference = (a.re - b.re).hypot(a.im - b.im);
    let scale = a.magnitude().max(b.magnitude());
    let error = ERROR_MARGIN * (a.error + b.error);
    if difference > relative_tolerance * scale + error {
        PointOutcome::Different
    } else if error <= relative_tolerance * scale || error <= ABSOLUTE_FLOOR {
        PointOutcome::Equal
    } else {
        PointOutcome::Unsure
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Limits;
    use crate::parser::parse;

    fn at(input: &str, x: f64) -> Result<Approx> {
        let limits = Limits::default();
        let expr = parse(input, &limits).expect("test inputs parse");
        let symbols = [("x".to_string(), x)];
        evaluate(
            &expr,
            &Point { symbols: &symbols },
            &mut Budget::new(&limits),
        )
    }

    fn same(a: &str, b: &str) -> PointOutcome {
        compare(at(a, 1.3).unwrap(), at(b, 1.3).unwrap(), 1e-9)
    }

    #[test]
    fn identities_hold_within_rounding() {
        assert_eq!(same("\\sin^2 x + \\cos^2 x", "1"), PointOutcome::Equal);
        assert_eq!(same("\\sin^2 x + \\cos^2 x - 1", "0"), PointOutcome::Equal);
        assert_eq!(
            same("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt2}"),
            PointOutcome::Equal
        );
        assert_eq!(same("e^{i\\pi}", "-1"), PointOutcome::Equal);
        assert_eq!(same("\\sqrt[3]{-8}", "-2"), PointOutcome::Equal);
    }

    #[test]
    fn tiny_but_different_values_differ() {
        assert_eq!(same("e^{-50}", "0"), PointOutcome::Different);
        assert_eq!(same("e^{-50}", "e^{-51}"), PointOutcome::Different);
        assert_eq!(same("\\pi", "3.1416"), PointOutcome::Different);
    }

    #[test]
    fn cancellation_is_reported_as_unsure() {
        assert_eq!(
            same("(10^{20} + \\pi) - 10^{20}", "3"),
            PointOutcome::Unsure
        );
    }

    #[test]
    fn poles_are_undefined() {
        assert_eq!(at("\\frac{1}{x - x}", 2.0), Err(Failure::Undefined));
    }
}
