//! The crossover k: where one model's pass@k curve overtakes another's.
//!
//! The paper's central observation is that an RL-trained model leads its base model at
//! small k and the base model catches up and overtakes it at large k. Where the curves
//! cross is the number to report, and its uncertainty matters: users of the paper's code
//! could not reproduce the stated crossover at n = 128 (limit-of-RLVR #10, #12). This
//! module estimates it on the problems both models were evaluated on, with a paired
//! percentile bootstrap over problems.
//!
//! Definition. With d(k) = pass@k(`a`) − pass@k(`b`) on a sorted grid of ks, the
//! crossover is the first k at which `a` catches up with `b` (d(k) ≥ 0) after trailing
//! at the smallest k (d(k₁) < 0). Between the two grid points around the sign change,
//! k is interpolated linearly in log₂ k, the axis the curves are drawn on. When `a`
//! already leads at k₁ there is no crossover to find ([`Crossing::LeadsFromStart`]);
//! when `a` never catches up on the grid, the crossover lies beyond it
//! ([`Crossing::Beyond`]).

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::bootstrap::Bootstrap;
use crate::curve::{
    CurveError, PassMatrix, ProblemCounts, ShortProblems, check_short_problems, normalize_ks,
};

/// Where `a`'s curve stands against `b`'s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Crossing {
    /// `a` trails at the smallest k and catches up at `k` (interpolated, in
    /// `[k_before, k_after]`).
    At { k: f64 },
    /// `a` is already level or ahead at the smallest k of the grid.
    LeadsFromStart,
    /// `a` trails at every k of the grid: any crossover lies beyond its largest k.
    Beyond,
}

impl Crossing {
    /// The crossover as a number on the k axis, with the censored cases at ∓∞, so that
    /// resamples can be ordered.
    fn position(self) -> f64 {
        match self {
            Crossing::At { k } => k,
            Crossing::LeadsFromStart => f64::NEG_INFINITY,
            Crossing::Beyond => f64::INFINITY,
        }
    }
}

/// A bound of the crossover's confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bound {
    /// A k on the grid's range.
    K { k: f64 },
    /// Below the smallest k of the grid (resamples where `a` leads from the start).
    BelowGrid,
    /// Beyond the largest k of the grid (resamples where `a` never catches up).
    BeyondGrid,
}

/// The crossover of `a` over `b`, with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Crossover {
    pub crossing: Crossing,
    /// pass@k(a) − pass@k(b) at each k of the grid, on the common problems.
    pub differences: Vec<(u64, f64)>,
    /// Problems both models were evaluated on.
    pub problems: usize,
    /// The percentile interval over bootstrap resamples, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<CrossoverInterval>,
}

/// The bootstrap distribution of the crossover, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossoverInterval {
    pub confidence: f64,
    pub low: Bound,
    pub high: Bound,
    /// Fractions of resamples where the crossover is on the grid, where `a` leads from
    /// the start, and where `a` never catches up.
    pub fraction_on_grid: f64,
    pub fraction_leads_from_start: f64,
    pub fraction_beyond: f64,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CrossoverError {
    #[error("the two models have no evaluated problem in common")]
    NoCommonProblems,
    #[error("the crossover needs at least two ks to compare the curves at")]
    TooFewKs,
    #[error(transparent)]
    Curve(#[from] CurveError),
}

/// The ks to look for a crossover at: every k up to `max_k` when there are at most 1,024
/// of them, else 1,024 points spread evenly in log₂ k (rounded, deduplicated). A dense
/// grid keeps the interpolation error well below the bootstrap's spread.
pub fn crossover_grid(max_k: u64) -> Vec<u64> {
    const POINTS: u64 = 1024;
    if max_k <= POINTS {
        return (1..=max_k).collect();
    }
    let top = (max_k as f64).log2();
    let mut ks: Vec<u64> = (0..POINTS)
        .map(|i| (top * i as f64 / (POINTS - 1) as f64).exp2().round() as u64)
        .collect();
    ks.push(max_k);
    ks.sort_unstable();
    ks.dedup();
    ks
}

/// The crossover of `a` over `b` on the ks of `ks` (sorted and deduplicated here), over
/// the problems both were evaluated on. Every common problem needs at least the
/// largest k samples from each model.
pub fn crossover(
    a: &[ProblemCounts],
    b: &[ProblemCounts],
    ks: &[u64],
    bootstrap: Option<&Bootstrap>,
) -> Result<Crossover, CrossoverError> {
    let ks = normalize_ks(ks)?;
    if ks.len() < 2 {
        return Err(CrossoverError::TooFewKs);
    }
    let b_by_id: HashMap<&str, &ProblemCounts> = b.iter().map(|p| (p.id.as_str(), p)).collect();
    let (common_a, common_b): (Vec<ProblemCounts>, Vec<ProblemCounts>) = a
        .iter()
        .filter_map(|p| {
            b_by_id
                .get(p.id.as_str())
                .map(|q| (p.clone(), (*q).clone()))
        })
        .unzip();
    if common_a.is_empty() {
        return Err(CrossoverError::NoCommonProblems);
    }
    check_short_problems(&common_a, &ks, ShortProblems::Reject)?;
    check_short_problems(&common_b, &ks, ShortProblems::Reject)?;
    let matrix_a = PassMatrix::new(&common_a, &ks)?;
    let matrix_b = PassMatrix::new(&common_b, &ks)?;

    // Per-k differences over a multiset of problems (identity or a resample).
    let differences = |rows: &mut dyn Iterator<Item = usize>| -> Vec<f64> {
        let mut sums = vec![0.0; ks.len()];
        let mut count = 0usize;
        for r in rows {
            for (i, sum) in sums.iter_mut().enumerate() {
                // Every k is reachable: short problems were rejected above.
                *sum += matrix_a.get(r, i).unwrap_or(0.0) - matrix_b.get(r, i).unwrap_or(0.0);
            }
            count += 1;
        }
        sums.into_iter().map(|s| s / count as f64).collect()
    };

    let estimate = differences(&mut (0..common_a.len()));
    let crossing = locate(&ks, &estimate);
    let interval = bootstrap.map(|bs| {
        let draws = resample(bs, common_a.len(), |indices| {
            let d = differences(&mut indices.iter().copied());
            locate(&ks, &d).position()
        });
        summarise(draws, bs.confidence())
    });
    Ok(Crossover {
        crossing,
        differences: ks.iter().copied().zip(estimate).collect(),
        problems: common_a.len(),
        interval,
    })
}

/// The first catch-up of a difference curve, interpolated in log₂ k.
fn locate(ks: &[u64], d: &[f64]) -> Crossing {
    if d[0] >= 0.0 {
        return Crossing::LeadsFromStart;
    }
    for i in 1..ks.len() {
        if d[i] >= 0.0 {
            let (x0, x1) = ((ks[i - 1] as f64).log2(), (ks[i] as f64).log2());
            let t = -d[i - 1] / (d[i] - d[i - 1]);
            return Crossing::At {
                k: (x0 + t * (x1 - x0)).exp2(),
            };
        }
    }
    Crossing::Beyond
}

/// The statistic on each bootstrap resample of `0..items`. Resample `r` draws from
/// ChaCha stream `r` of the seed, as [`Bootstrap::intervals`] does, so a crossover
/// interval does not depend on the thread count either.
fn resample<F>(bootstrap: &Bootstrap, items: usize, statistic: F) -> Vec<f64>
where
    F: Fn(&[usize]) -> f64 + Sync,
{
    (0..bootstrap.resamples())
        .into_par_iter()
        .map_init(Vec::new, |indices, r| {
            let mut rng = ChaCha8Rng::seed_from_u64(bootstrap.seed());
            rng.set_stream(r as u64);
            indices.clear();
            indices.extend((0..items).map(|_| rng.random_range(0..items)));
            statistic(indices)
        })
        .collect()
}

/// Percentile bounds by nearest rank: censored draws (∓∞) are never averaged with
/// finite ones, so a bound is a k that some resample produced, or a grid end.
fn summarise(mut draws: Vec<f64>, confidence: f64) -> CrossoverInterval {
    let total = draws.len() as f64;
    let below = draws.iter().filter(|x| **x == f64::NEG_INFINITY).count() as f64;
    let beyond = draws.iter().filter(|x| **x == f64::INFINITY).count() as f64;
    draws.sort_unstable_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    let bound = |q: f64| -> Bound {
        let i = (q * (draws.len() - 1) as f64).round() as usize;
        match draws[i] {
            x if x == f64::NEG_INFINITY => Bound::BelowGrid,
            x if x == f64::INFINITY => Bound::BeyondGrid,
            k => Bound::K { k },
        }
    };
    CrossoverInterval {
        confidence,
        low: bound(alpha / 2.0),
        high: bound(1.0 - alpha / 2.0),
        fraction_on_grid: (total - below - beyond) / total,
        fraction_leads_from_start: below / total,
        fraction_beyond: beyond / total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(counts: &[(u64, u64)]) -> Vec<ProblemCounts> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &(n, c))| ProblemCounts::new(format!("p{i}"), n, c))
            .collect()
    }

    #[test]
    fn finds_the_catch_up_between_grid_points() {
        // "rl" solves problem 0 always and nothing else; "base" solves all four rarely.
        let rl = model(&[(64, 64), (64, 0), (64, 0), (64, 0)]);
        let base = model(&[(64, 4), (64, 4), (64, 4), (64, 4)]);
        let c = crossover(&base, &rl, &crossover_grid(64), None).unwrap();
        let Crossing::At { k } = c.crossing else {
            panic!("expected a crossing, got {:?}", c.crossing)
        };
        // base pass@k = 1 − C(60,k)/C(64,k); rl = 0.25 everywhere. base reaches 0.25 between
        // k = 4 (0.2325) and k = 5 (0.2837).
        assert!((4.0..5.0).contains(&k), "{k}");
        let at = |k: u64| c.differences.iter().find(|d| d.0 == k).unwrap().1;
        assert!(at(4) < 0.0 && at(5) > 0.0);
        assert_eq!(c.problems, 4);
    }

    #[test]
    fn censored_cases() {
        let strong = model(&[(8, 8), (8, 8)]);
        let weak = model(&[(8, 1), (8, 0)]);
        let grid = [1, 2, 4, 8];
        assert_eq!(
            crossover(&strong, &weak, &grid, None).unwrap().crossing,
            Crossing::LeadsFromStart
        );
        assert_eq!(
            crossover(&weak, &strong, &grid, None).unwrap().crossing,
            Crossing::Beyond
        );
    }

    #[test]
    fn errors_are_explained() {
        let a = model(&[(8, 1)]);
        let other = vec![ProblemCounts::new("elsewhere", 8, 1)];
        assert_eq!(
            crossover(&a, &other, &[1, 2], None),
            Err(CrossoverError::NoCommonProblems)
        );
        assert_eq!(crossover(&a, &a, &[4], None), Err(CrossoverError::TooFewKs));
        assert!(matches!(
            crossover(&a, &a, &[1, 16], None),
            Err(CrossoverError::Curve(CurveError::KExceedsN { .. }))
        ));
    }

    #[test]
    fn interval_brackets_the_estimate_and_counts_censored_resamples() {
        // 200 problems: rl solves the easy half always; base solves everything at 1/16.
        let rl: Vec<_> = (0..200)
            .map(|i| ProblemCounts::new(i.to_string(), 64, if i % 2 == 0 { 64 } else { 0 }))
            .collect();
        let base: Vec<_> = (0..200)
            .map(|i| ProblemCounts::new(i.to_string(), 64, 4 + (i % 3)))
            .collect();
        let b = Bootstrap::new(300, 0.9, 11).unwrap();
        let c = crossover(&base, &rl, &crossover_grid(64), Some(&b)).unwrap();
        let Crossing::At { k } = c.crossing else {
            panic!("{:?}", c.crossing)
        };
        let iv = c.interval.clone().unwrap();
        let (Bound::K { k: low }, Bound::K { k: high }) = (iv.low, iv.high) else {
            panic!("{iv:?}")
        };
        assert!(low <= k && k <= high, "{low} {k} {high}");
        assert!(
            high - low < k,
            "a 200-problem benchmark pins the crossover down"
        );
        assert_eq!(iv.fraction_on_grid, 1.0);
        let again = crossover(&base, &rl, &crossover_grid(64), Some(&b)).unwrap();
        assert_eq!(c, again, "same seed, same interval");

        // Nearly equal models: many resamples never cross or lead from the start.
        let twin: Vec<_> = base
            .iter()
            .map(|p| ProblemCounts::new(p.id.clone(), p.n, p.c))
            .collect();
        let tie = crossover(&base, &twin, &[1, 2, 4], Some(&b)).unwrap();
        assert_eq!(tie.crossing, Crossing::LeadsFromStart);
    }

    #[test]
    fn grid_is_dense_then_log_spaced() {
        assert_eq!(crossover_grid(4), vec![1, 2, 3, 4]);
        let g = crossover_grid(65_536);
        assert_eq!((g[0], *g.last().unwrap()), (1, 65_536));
        assert!(g.windows(2).all(|w| w[0] < w[1]));
        assert!(g.len() > 500 && g.len() <= 1025, "{}", g.len());
    }
}
