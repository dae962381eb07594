//! The distribution of per-problem accuracy c/n (the paper's "accuracy histogram").

use serde::Serialize;
use thiserror::Error;

use crate::curve::ProblemCounts;
use crate::estimator::{EstimatorError, validate_counts};

/// One bin of the accuracy histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyBin {
    /// Human-readable range, such as `0`, `(0, 0.1]`, `(0.9, 1)` or `1`.
    pub label: String,
    pub low: f64,
    pub high: f64,
    pub problems: usize,
    pub fraction: f64,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum HistogramError {
    #[error("the accuracy histogram needs at least one bin")]
    NoBins,
    #[error("problem `{problem}`: {source}")]
    Counts {
        problem: String,
        #[source]
        source: EstimatorError,
    },
}

/// Bins per-problem accuracy c/n into `0` (never solved), `bins` equal-width bins over
/// the open interval (0, 1), and `1` (always solved). The two end bins are kept apart
/// because they are what RL moves: it raises the mass at 1 and, often, at 0 too.
pub fn accuracy_histogram(
    problems: &[ProblemCounts],
    bins: usize,
) -> Result<Vec<AccuracyBin>, HistogramError> {
    if bins == 0 {
        return Err(HistogramError::NoBins);
    }
    let mut counts = vec![0usize; bins + 2];
    for p in problems {
        validate_counts(p.n, p.c).map_err(|source| HistogramError::Counts {
            problem: p.id.clone(),
            source,
        })?;
        let slot = if p.c == 0 {
            0
        } else if p.c == p.n {
            bins + 1
        } else {
            // (i/bins, (i+1)/bins] ↦ i + 1, computed in integers to avoid edge rounding:
            // the smallest i with c * bins <= (i + 1) * n.
            let i = (p.c * bins as u64).div_ceil(p.n) as usize - 1;
            1 + i.min(bins - 1)
        };
        counts[slot] += 1;
    }
    let total = problems.len().max(1) as f64;
    let width = 1.0 / bins as f64;
    Ok(counts
        .into_iter()
        .enumerate()
        .map(|(slot, n)| {
            let (label, low, high) = match slot {
                0 => ("0".to_string(), 0.0, 0.0),
                s if s == bins + 1 => ("1".to_string(), 1.0, 1.0),
                s => {
                    let low = (s - 1) as f64 * width;
                    let high = s as f64 * width;
                    let close = if s == bins { ")" } else { "]" };
                    (format!("({}, {}{close}", trim(low), trim(high)), low, high)
                }
            };
            AccuracyBin {
                label,
                low,
                high,
                problems: n,
                fraction: n as f64 / total,
            }
        })
        .collect())
}

/// `0.30000000000000004` → `0.3`: labels show the bin edges as a person writes them.
fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_separate_never_and_always_solved() {
        let ps = [
            ProblemCounts::new("never", 10, 0),
            ProblemCounts::new("tenth", 10, 1), // exactly 0.1 → (0, 0.1]
            ProblemCounts::new("just-over", 100, 11), // 0.11 → (0.1, 0.2]
            ProblemCounts::new("most", 10, 9),  // 0.9 → (0.8, 0.9]
            ProblemCounts::new("almost", 100, 99), // 0.99 → (0.9, 1)
            ProblemCounts::new("always", 10, 10),
        ];
        let h = accuracy_histogram(&ps, 10).unwrap();
        assert_eq!(h.len(), 12);
        let labels: Vec<&str> = h.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels[0], "0");
        assert_eq!(labels[1], "(0, 0.1]");
        assert_eq!(labels[3], "(0.2, 0.3]");
        assert_eq!(labels[10], "(0.9, 1)");
        assert_eq!(labels[11], "1");
        let counts: Vec<usize> = h.iter().map(|b| b.problems).collect();
        assert_eq!(counts, vec![1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
        let total: f64 = h.iter().map(|b| b.fraction).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_zero_bins_and_bad_counts() {
        assert_eq!(accuracy_histogram(&[], 0), Err(HistogramError::NoBins));
        let err = accuracy_histogram(&[ProblemCounts::new("x", 2, 3)], 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "problem `x`: c = 3 correct samples is more than n = 2 samples"
        );
    }
}
