//! Percentile bootstrap over problems.
//!
//! The variance of a pass@k curve at large k comes mostly from *which problems* were
//! drawn into the benchmark, so each resample draws problems with replacement and
//! recomputes the statistic. Resample `r` uses its own ChaCha stream of the seed, so
//! results do not depend on the number of threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::curve::PassMatrix;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    #[serde(rename = "ci_low")]
    pub low: f64,
    #[serde(rename = "ci_high")]
    pub high: f64,
}

/// Settings of a percentile bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    resamples: usize,
    confidence: f64,
    seed: u64,
}

/// Invalid bootstrap settings.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BootstrapError {
    #[error("the bootstrap needs at least 2 resamples, got {0}")]
    TooFewResamples(usize),
    #[error("confidence must be strictly between 0 and 1 (for example 0.95), got {0}")]
    BadConfidence(f64),
}

impl Bootstrap {
    /// 1,000 resamples at 95% confidence are the defaults the CLI uses.
    pub const DEFAULT_RESAMPLES: usize = 1000;
    pub const DEFAULT_CONFIDENCE: f64 = 0.95;

    pub fn new(resamples: usize, confidence: f64, seed: u64) -> Result<Self, BootstrapError> {
        if resamples < 2 {
            return Err(BootstrapError::TooFewResamples(resamples));
        }
        if !(confidence > 0.0 && confidence < 1.0) {
            return Err(BootstrapError::BadConfidence(confidence));
        }
        Ok(Self {
            resamples,
            confidence,
            seed,
        })
    }

    pub fn resamples(&self) -> usize {
        self.resamples
    }

    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Runs `statistic` on `resamples` resamples of `0..items` (indices drawn with
    /// replacement) and returns, for each of its `width` outputs, the percentile
    /// interval. A resample output of `None` (statistic undefined on that resample)
    /// is left out of that output's interval.
    pub fn intervals<F>(&self, items: usize, width: usize, statistic: F) -> Vec<Option<Interval>>
    where
        F: Fn(&[usize]) -> Vec<Option<f64>> + Sync,
    {
        let draws: Vec<Vec<Option<f64>>> = (0..self.resamples)
            .into_par_iter()
            .map_init(Vec::new, |indices, r| {
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(r as u64);
                indices.clear();
                indices.extend((0..items).map(|_| rng.random_range(0..items)));
                statistic(indices)
            })
            .collect();

        let alpha = 1.0 - self.confidence;
        (0..width)
            .map(|j| {
                let mut values: Vec<f64> = draws.iter().filter_map(|d| d[j]).collect();
                if values.is_empty() {
                    return None;
                }
                values.sort_unstable_by(f64::total_cmp);
                Some(Interval {
                    low: quantile(&values, alpha / 2.0),
                    high: quantile(&values, 1.0 - alpha / 2.0),
                })
            })
            .collect()
    }

    /// Intervals for every k of a pass@k curve.
    pub(crate) fn curve_intervals(&self, matrix: &PassMatrix) -> Vec<Option<Interval>> {
        self.intervals(matrix.problems(), matrix.ks().len(), |indices| {
            matrix.means(indices.iter().copied())
        })
    }
}

/// The `q`-quantile of sorted `values` with linear interpolation between order
/// statistics (Hyndman & Fan type 7, the default of R and NumPy).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    debug_assert!(!sorted.is_empty() && (0.0..=1.0).contains(&q));
    let position = q * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::{ProblemCounts, ShortProblems, pass_at_k_curve};

    #[test]
    fn quantile_interpolates() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(quantile(&v, 0.125), 1.5);
    }

    #[test]
    fn rejects_bad_settings() {
        assert_eq!(
            Bootstrap::new(1, 0.95, 0),
            Err(BootstrapError::TooFewResamples(1))
        );
        assert_eq!(
            Bootstrap::new(10, 1.0, 0),
            Err(BootstrapError::BadConfidence(1.0))
        );
        assert!(Bootstrap::new(10, f64::NAN, 0).is_err());
    }

    fn spread_problems() -> Vec<ProblemCounts> {
        (0..200)
            .map(|i| ProblemCounts::new(format!("p{i}"), 16, i % 17))
            .collect()
    }

    #[test]
    fn intervals_bracket_the_estimate_and_are_reproducible() {
        let ps = spread_problems();
        let b = Bootstrap::new(500, 0.95, 7).unwrap();
        let a = pass_at_k_curve(&ps, &[1, 4, 16], ShortProblems::Reject, Some(&b)).unwrap();
        let again = pass_at_k_curve(&ps, &[1, 4, 16], ShortProblems::Reject, Some(&b)).unwrap();
        assert_eq!(a, again, "same seed, same intervals");
        for p in &a.curve {
            let ci = p.ci.unwrap();
            assert!(ci.low < p.pass_at_k && p.pass_at_k < ci.high, "{p:?}");
        }
        let other_seed = Bootstrap::new(500, 0.95, 8).unwrap();
        let b2 = pass_at_k_curve(&ps, &[1], ShortProblems::Reject, Some(&other_seed)).unwrap();
        assert_ne!(
            a.curve[0].ci, b2.curve[0].ci,
            "a different seed resamples differently"
        );
    }

    #[test]
    fn width_shrinks_with_more_problems() {
        // Per-problem pass@1 values alternate between 0 and 1: the standard error of the
        // mean over m problems is 0.5/sqrt(m), so 4x the problems halves the interval.
        let make = |m: usize| -> Vec<ProblemCounts> {
            (0..m)
                .map(|i| ProblemCounts::new(i.to_string(), 1, (i % 2) as u64))
                .collect()
        };
        let b = Bootstrap::new(2000, 0.95, 1).unwrap();
        let width = |m| {
            let c = pass_at_k_curve(&make(m), &[1], ShortProblems::Reject, Some(&b)).unwrap();
            let ci = c.curve[0].ci.unwrap();
            ci.high - ci.low
        };
        let (small, large) = (width(100), width(400));
        // Normal theory: 2 * 1.96 * 0.05 = 0.196 and 0.098.
        assert!((small - 0.196).abs() < 0.03, "{small}");
        assert!((large - 0.098).abs() < 0.015, "{large}");
    }
}
