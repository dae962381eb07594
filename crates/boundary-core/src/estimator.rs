//! The unbiased pass@k estimator of Chen et al. (2021), computed in log space.
//!
//! For a problem with `n` samples of which `c` are correct, the probability that at
//! least one of `k` samples drawn without replacement is correct is
//! `1 − C(n−c, k) / C(n, k)`. The binomials overflow `f64` long before the `n` users
//! run (1024 and more), so the ratio is written as a product,
//! `C(n−c, k) / C(n, k) = Π_{j=0}^{k−1} (1 − c / (n − j))`, summed as logarithms with
//! compensated summation and turned back with `expm1`. Every term has the same sign,
//! so the sum suffers no cancellation, and `expm1`/`log1p` keep full relative precision
//! when pass@k is tiny; the result is within a few ulps of the exact value (the property
//! tests compare against exact rational arithmetic up to n = 65,536).

use thiserror::Error;

/// Why a pass@k value cannot be computed from `(n, c, k)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EstimatorError {
    /// A problem without a single completed sample has no pass@k.
    #[error("no completed samples (n = 0)")]
    NoSamples,
    /// More correct samples than samples.
    #[error("c = {c} correct samples is more than n = {n} samples")]
    MoreCorrectThanSamples { n: u64, c: u64 },
    /// k must be a positive number of draws.
    #[error("k must be at least 1")]
    ZeroK,
    /// The estimator is only unbiased for k ≤ n.
    #[error("k = {k} is larger than the n = {n} samples available")]
    KExceedsN { n: u64, k: u64 },
}

/// Checks that `(n, c)` describe a problem's samples.
pub fn validate_counts(n: u64, c: u64) -> Result<(), EstimatorError> {
    if n == 0 {
        return Err(EstimatorError::NoSamples);
    }
    if c > n {
        return Err(EstimatorError::MoreCorrectThanSamples { n, c });
    }
    Ok(())
}

/// The unbiased estimate of pass@k for one problem with `n` samples, `c` of them correct.
///
/// ```
/// use boundary_core::pass_at_k;
/// assert_eq!(pass_at_k(10, 3, 1).unwrap(), 0.3);
/// assert_eq!(pass_at_k(10, 0, 5).unwrap(), 0.0);
/// assert_eq!(pass_at_k(10, 6, 5).unwrap(), 1.0); // every 5-subset holds a correct sample
/// ```
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Result<f64, EstimatorError> {
    let mut out = [0.0];
    pass_at_ks(n, c, &[k], &mut out)?;
    Ok(out[0])
}

/// pass@k for one problem at several `ks` (ascending), written into `out`.
///
/// This costs one logarithm per draw up to the largest k, however many ks are asked
/// for, which is what makes curves at every k from 1 to n cheap.
///
/// # Panics
/// If `ks` is not sorted ascending or `out` has a different length; both are the
/// caller's invariants, not properties of user input.
pub fn pass_at_ks(n: u64, c: u64, ks: &[u64], out: &mut [f64]) -> Result<(), EstimatorError> {
    assert_eq!(ks.len(), out.len(), "one output slot per k");
    assert!(ks.is_sorted(), "ks must be ascending");
    validate_counts(n, c)?;
    if ks.first() == Some(&0) {
        return Err(EstimatorError::ZeroK);
    }
    if let Some(&last) = ks.last()
        && last > n
    {
        return Err(EstimatorError::KExceedsN { n, k: last });
    }

    let mut log_ratio = CompensatedSum::default();
    let mut draws = 0u64; // number of terms of the product summed so far
    for (&k, slot) in ks.iter().zip(out.iter_mut()) {
        *slot = if c == 0 {
            0.0
        } else if n - c < k {
            // Fewer incorrect samples than draws: every draw of k holds a correct one.
            1.0
        } else {
            while draws < k {
                log_ratio.add(ln_one_minus_ratio(c, n - draws));
                draws += 1;
            }
            -log_ratio.value().exp_m1()
        };
    }
    Ok(())
}

/// `ln(1 − a/b)` for integers `0 ≤ a < b`, accurate to a few ulps in both regimes:
/// `log1p` when `a/b` is small, and the exactly formed fraction `(b − a)/b` otherwise.
fn ln_one_minus_ratio(a: u64, b: u64) -> f64 {
    debug_assert!(a < b);
    if 2 * a < b {
        (-(a as f64 / b as f64)).ln_1p()
    } else {
        ((b - a) as f64 / b as f64).ln()
    }
}

/// Neumaier's compensated summation: keeps the rounding error of a long sum of
/// same-signed terms at a few ulps instead of growing with the number of terms.
#[derive(Debug, Default, Clone, Copy)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_cases() {
        assert_eq!(pass_at_k(1, 0, 1), Ok(0.0));
        assert_eq!(pass_at_k(1, 1, 1), Ok(1.0));
        assert_eq!(pass_at_k(65_536, 65_536, 65_536), Ok(1.0));
        assert_eq!(pass_at_k(65_536, 0, 65_536), Ok(0.0));
        // k = n with at least one correct sample: the single n-subset contains it.
        assert_eq!(pass_at_k(1024, 1, 1024), Ok(1.0));
    }

    #[test]
    fn pass_at_1_is_the_fraction_correct() {
        for (n, c) in [(4u64, 1u64), (256, 17), (1024, 1023), (65_536, 3)] {
            let p = pass_at_k(n, c, 1).unwrap();
            let expected = c as f64 / n as f64;
            assert!(
                (p - expected).abs() <= 1e-15 * expected,
                "{n} {c}: {p} vs {expected}"
            );
        }
    }

    #[test]
    fn hand_computed_small_case() {
        // n = 5, c = 2, k = 2: 1 − C(3,2)/C(5,2) = 1 − 3/10.
        assert!((pass_at_k(5, 2, 2).unwrap() - 0.7).abs() < 1e-15);
    }

    #[test]
    fn invalid_inputs_are_named() {
        assert_eq!(pass_at_k(0, 0, 1), Err(EstimatorError::NoSamples));
        assert_eq!(
            pass_at_k(4, 5, 1),
            Err(EstimatorError::MoreCorrectThanSamples { n: 4, c: 5 })
        );
        assert_eq!(pass_at_k(4, 1, 0), Err(EstimatorError::ZeroK));
        assert_eq!(
            pass_at_k(4, 1, 5),
            Err(EstimatorError::KExceedsN { n: 4, k: 5 })
        );
    }

    #[test]
    fn many_ks_agree_with_single_calls() {
        let ks = [1, 2, 3, 8, 64, 100, 256];
        let mut out = [0.0; 7];
        pass_at_ks(256, 9, &ks, &mut out).unwrap();
        for (k, v) in ks.iter().zip(out) {
            assert_eq!(v, pass_at_k(256, 9, *k).unwrap());
        }
    }
}
