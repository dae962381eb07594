//! pass@k curves over a set of problems, with percentile-bootstrap confidence intervals.

use std::collections::HashMap;

use serde::Serialize;
use thiserror::Error;

use crate::bootstrap::{Bootstrap, Interval};
use crate::estimator::{EstimatorError, pass_at_ks, validate_counts};

/// The sample counts of one problem: `n` completed samples, `c` of them correct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemCounts {
    pub id: String,
    pub n: u64,
    pub c: u64,
}

impl ProblemCounts {
    pub fn new(id: impl Into<String>, n: u64, c: u64) -> Self {
        Self {
            id: id.into(),
            n,
            c,
        }
    }

    /// Whether any sample of this problem was correct (pass@n > 0).
    pub fn solved(&self) -> bool {
        self.c > 0
    }
}

/// What to do with a problem that has fewer samples than a requested k.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShortProblems {
    /// Refuse: the estimator is undefined for k > n, and silently dropping the
    /// problem would bias the curve towards problems that were sampled more.
    #[default]
    Reject,
    /// Leave such problems out of the points where k > n; each point reports how
    /// many problems it averages.
    Skip,
}

/// One point of a pass@k curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    pub k: u64,
    /// Mean of the per-problem unbiased estimates.
    pub pass_at_k: f64,
    /// How many problems this point averages (all of them unless short problems are skipped).
    pub problems: usize,
    /// Percentile-bootstrap interval, when a bootstrap was asked for.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Interval>,
}

/// A pass@k curve over a set of problems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    pub curve: Vec<CurvePoint>,
    /// Number of problems the curve was computed from.
    pub problems: usize,
}

/// Why a curve cannot be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CurveError {
    #[error("no problems to compute pass@k over")]
    NoProblems,
    #[error("no k values to compute pass@k at")]
    NoKs,
    #[error("k = 0 is not a valid number of draws; ks start at 1")]
    ZeroK,
    #[error("problem `{problem}`: {source}")]
    Counts {
        problem: String,
        #[source]
        source: EstimatorError,
    },
    #[error(
        "problem `{problem}` has only n = {n} samples, fewer than k = {k}{others}; \
         ask for ks up to {n}, or skip such problems at large k"
    )]
    KExceedsN {
        problem: String,
        n: u64,
        k: u64,
        /// ", and N other problems too" when more than one problem is short.
        others: String,
    },
    #[error("no problem has at least k = {k} samples")]
    NoProblemReachesK { k: u64 },
}

/// The default ks: powers of two up to the largest n, plus the largest n itself
/// (pass@n is the coverage, which is worth seeing on the curve).
pub fn default_ks(problems: &[ProblemCounts]) -> Vec<u64> {
    let max_n = problems.iter().map(|p| p.n).max().unwrap_or(0);
    let mut ks: Vec<u64> = std::iter::successors(Some(1u64), |k| k.checked_mul(2))
        .take_while(|&k| k <= max_n)
        .collect();
    if max_n > 0 && ks.last() != Some(&max_n) {
        ks.push(max_n);
    }
    ks
}

/// Per-problem pass@k values at each k of a sorted k list.
///
/// This is the matrix both the curve and its bootstrap average, computed once.
/// Problems with the same (n, c) share one computation. Because the ks are sorted,
/// the ks a problem can take (k <= n) are a prefix of the list: each row stores its
/// `reach`, and the unreachable tail holds zeros, which keeps the resampling loop a
/// plain, vectorisable slice addition.
pub(crate) struct PassMatrix {
    /// Row-major: `values[problem * ks.len() + k_index]`.
    values: Vec<f64>,
    /// Per problem, how many leading ks are <= its n.
    reach: Vec<usize>,
    ks: Vec<u64>,
}

impl PassMatrix {
    pub(crate) fn new(problems: &[ProblemCounts], ks: &[u64]) -> Result<Self, CurveError> {
        let mut cache: HashMap<(u64, u64), Vec<f64>> = HashMap::new();
        let mut values = Vec::with_capacity(problems.len() * ks.len());
        let mut reach = Vec::with_capacity(problems.len());
        for p in problems {
            validate_counts(p.n, p.c).map_err(|source| CurveError::Counts {
                problem: p.id.clone(),
                source,
            })?;
            let reachable = ks.partition_point(|&k| k <= p.n);
            let row = cache.entry((p.n, p.c)).or_insert_with(|| {
                let mut row = vec![0.0; ks.len()];
                pass_at_ks(p.n, p.c, &ks[..reachable], &mut row[..reachable])
                    .expect("counts validated and ks bounded by n");
                row
            });
            values.extend_from_slice(row);
            reach.push(reachable);
        }
        Ok(Self {
            values,
            reach,
            ks: ks.to_vec(),
        })
    }

    pub(crate) fn ks(&self) -> &[u64] {
        &self.ks
    }

    pub(crate) fn problems(&self) -> usize {
        self.reach.len()
    }

    /// The pass@k of `problem` at the `k_index`-th k, or `None` where k > n.
    pub(crate) fn get(&self, problem: usize, k_index: usize) -> Option<f64> {
        (k_index < self.reach[problem]).then(|| self.values[problem * self.ks.len() + k_index])
    }

    /// Per k, the mean over a multiset of problem indices (all problems for the
    /// point estimate, a resample for the bootstrap) of the problems that reach it.
    pub(crate) fn means(&self, rows: impl Iterator<Item = usize>) -> Vec<Option<f64>> {
        let width = self.ks.len();
        let mut sums = vec![0.0; width];
        // reached[i] = how many rows stop at exactly i ks; suffix sums give counts.
        let mut reached = vec![0usize; width + 1];
        for r in rows {
            let row = &self.values[r * width..(r + 1) * width];
            for (s, v) in sums.iter_mut().zip(row) {
                *s += v;
            }
            reached[self.reach[r]] += 1;
        }
        let mut count = 0;
        let mut counts = vec![0usize; width];
        for i in (0..width).rev() {
            count += reached[i + 1];
            counts[i] = count;
        }
        sums.iter()
            .zip(&counts)
            .map(|(s, &c)| (c > 0).then(|| s / c as f64))
            .collect()
    }
}

/// Sorts and deduplicates a user's k list, rejecting k = 0 and an empty list.
pub fn normalize_ks(ks: &[u64]) -> Result<Vec<u64>, CurveError> {
    let mut ks = ks.to_vec();
    ks.sort_unstable();
    ks.dedup();
    match ks.first() {
        None => Err(CurveError::NoKs),
        Some(0) => Err(CurveError::ZeroK),
        Some(_) => Ok(ks),
    }
}

/// Checks the k list against the problems' sample counts under `short`.
pub(crate) fn check_short_problems(
    problems: &[ProblemCounts],
    ks: &[u64],
    short: ShortProblems,
) -> Result<(), CurveError> {
    let max_k = *ks.last().ok_or(CurveError::NoKs)?;
    match short {
        ShortProblems::Reject => {
            let mut short_problems = problems.iter().filter(|p| p.n < max_k);
            if let Some(first) = short_problems.next() {
                let rest = short_problems.count();
                return Err(CurveError::KExceedsN {
                    problem: first.id.clone(),
                    n: first.n,
                    k: max_k,
                    others: match rest {
                        0 => String::new(),
                        1 => ", and 1 other problem too".to_string(),
                        r => format!(", and {r} other problems too"),
                    },
                });
            }
        }
        ShortProblems::Skip => {
            if problems.iter().all(|p| p.n < max_k) {
                return Err(CurveError::NoProblemReachesK { k: max_k });
            }
        }
    }
    Ok(())
}

/// Computes the pass@k curve of `problems` at `ks` (any order; duplicates ignored).
///
/// The curve is the plain mean of per-problem estimates, as in the paper. With a
/// `bootstrap`, every point also gets a percentile interval from resampling problems.
pub fn pass_at_k_curve(
    problems: &[ProblemCounts],
    ks: &[u64],
    short: ShortProblems,
    bootstrap: Option<&Bootstrap>,
) -> Result<Curve, CurveError> {
    if problems.is_empty() {
        return Err(CurveError::NoProblems);
    }
    let ks = normalize_ks(ks)?;
    check_short_problems(problems, &ks, short)?;
    let matrix = PassMatrix::new(problems, &ks)?;
    let estimate = matrix.means(0..problems.len());
    let intervals = bootstrap.map(|b| b.curve_intervals(&matrix));

    let curve = ks
        .iter()
        .enumerate()
        .filter_map(|(i, &k)| {
            let pass_at_k = estimate[i]?;
            let problems = (0..matrix.problems())
                .filter(|&p| matrix.get(p, i).is_some())
                .count();
            Some(CurvePoint {
                k,
                pass_at_k,
                problems,
                ci: intervals.as_ref().and_then(|iv| iv[i]),
            })
        })
        .collect();
    Ok(Curve {
        curve,
        problems: problems.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems() -> Vec<ProblemCounts> {
        vec![
            ProblemCounts::new("a", 4, 0),
            ProblemCounts::new("b", 4, 1),
            ProblemCounts::new("c", 4, 4),
        ]
    }

    #[test]
    fn curve_is_the_mean_of_problem_estimates() {
        let curve = pass_at_k_curve(&problems(), &[1, 2, 4], ShortProblems::Reject, None).unwrap();
        let values: Vec<f64> = curve.curve.iter().map(|p| p.pass_at_k).collect();
        // b: pass@1 = 1/4, pass@2 = 1 − C(3,2)/C(4,2) = 1/2, pass@4 = 1.
        let expected = [(0.0 + 0.25 + 1.0) / 3.0, (0.0 + 0.5 + 1.0) / 3.0, 2.0 / 3.0];
        for (v, e) in values.iter().zip(expected) {
            assert!((v - e).abs() < 1e-15);
        }
        assert_eq!(curve.problems, 3);
        assert!(
            curve
                .curve
                .iter()
                .all(|p| p.problems == 3 && p.ci.is_none())
        );
    }

    #[test]
    fn default_ks_are_powers_of_two_and_n() {
        assert_eq!(default_ks(&problems()), vec![1, 2, 4]);
        let odd = vec![ProblemCounts::new("x", 100, 3)];
        assert_eq!(default_ks(&odd), vec![1, 2, 4, 8, 16, 32, 64, 100]);
    }

    #[test]
    fn k_beyond_n_names_the_problem() {
        let mut ps = problems();
        ps.push(ProblemCounts::new("short-1", 2, 1));
        ps.push(ProblemCounts::new("short-2", 3, 1));
        let err = pass_at_k_curve(&ps, &[1, 4], ShortProblems::Reject, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "problem `short-1` has only n = 2 samples, fewer than k = 4, and 1 other problem too; \
             ask for ks up to 2, or skip such problems at large k"
        );
    }

    #[test]
    fn skipping_short_problems_reports_counts() {
        let mut ps = problems();
        ps.push(ProblemCounts::new("short", 2, 2));
        let curve = pass_at_k_curve(&ps, &[1, 4], ShortProblems::Skip, None).unwrap();
        assert_eq!(curve.curve[0].problems, 4);
        assert_eq!(curve.curve[1].problems, 3);
        assert!((curve.curve[1].pass_at_k - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn invalid_counts_name_the_problem() {
        let ps = vec![ProblemCounts::new("bad", 3, 5)];
        let err = pass_at_k_curve(&ps, &[1], ShortProblems::Reject, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "problem `bad`: c = 5 correct samples is more than n = 3 samples"
        );
    }

    #[test]
    fn ks_are_sorted_and_deduplicated() {
        let curve =
            pass_at_k_curve(&problems(), &[4, 1, 4, 2], ShortProblems::Reject, None).unwrap();
        let ks: Vec<u64> = curve.curve.iter().map(|p| p.k).collect();
        assert_eq!(ks, vec![1, 2, 4]);
        assert_eq!(normalize_ks(&[]), Err(CurveError::NoKs));
        assert_eq!(normalize_ks(&[0, 3]), Err(CurveError::ZeroK));
    }
}
