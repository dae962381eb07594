//! The sampling-efficiency gap ΔSE between two models: for example the base model's
//! pass@256 minus the RL model's pass@1 (Yue et al. §4.3; lower is better for RL).

use std::collections::HashMap;

use serde::Serialize;
use thiserror::Error;

use crate::bootstrap::{Bootstrap, Interval};
use crate::curve::{CurveError, PassMatrix, ProblemCounts};

/// ΔSE = pass@`reference_k` of the reference model − pass@`other_k` of the other
/// model, over the problems both were evaluated on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplingEfficiencyGap {
    pub reference_k: u64,
    pub other_k: u64,
    pub reference_pass_at_k: f64,
    pub other_pass_at_k: f64,
    /// `reference_pass_at_k − other_pass_at_k`.
    pub gap: f64,
    /// Paired percentile-bootstrap interval of the gap (problems resampled jointly).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Interval>,
    /// Problems evaluated for both models.
    pub problems: usize,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum GapError {
    #[error("the two models have no evaluated problem in common")]
    NoCommonProblems,
    #[error(transparent)]
    Curve(#[from] CurveError),
}

pub fn sampling_efficiency_gap(
    reference: &[ProblemCounts],
    reference_k: u64,
    other: &[ProblemCounts],
    other_k: u64,
    bootstrap: Option<&Bootstrap>,
) -> Result<SamplingEfficiencyGap, GapError> {
    let other_by_id: HashMap<&str, &ProblemCounts> =
        other.iter().map(|p| (p.id.as_str(), p)).collect();
    let (ref_common, other_common): (Vec<ProblemCounts>, Vec<ProblemCounts>) = reference
        .iter()
        .filter_map(|r| {
            other_by_id
                .get(r.id.as_str())
                .map(|o| (r.clone(), (*o).clone()))
        })
        .unzip();
    if ref_common.is_empty() {
        return Err(GapError::NoCommonProblems);
    }
    let a = per_problem(&ref_common, reference_k)?;
    let b = per_problem(&other_common, other_k)?;
    let mean = |idx: &mut dyn Iterator<Item = usize>| -> (f64, f64) {
        let (mut sa, mut sb, mut m) = (0.0, 0.0, 0usize);
        for i in idx {
            sa += a[i];
            sb += b[i];
            m += 1;
        }
        (sa / m as f64, sb / m as f64)
    };
    let (ra, rb) = mean(&mut (0..a.len()));
    let ci = bootstrap.and_then(|bs| {
        bs.intervals(a.len(), 1, |indices| {
            let (x, y) = mean(&mut indices.iter().copied());
            vec![Some(x - y)]
        })[0]
    });
    Ok(SamplingEfficiencyGap {
        reference_k,
        other_k,
        reference_pass_at_k: ra,
        other_pass_at_k: rb,
        gap: ra - rb,
        ci,
        problems: a.len(),
    })
}

/// Per-problem pass@k at a single k, rejecting problems with fewer than k samples.
fn per_problem(problems: &[ProblemCounts], k: u64) -> Result<Vec<f64>, CurveError> {
    crate::curve::check_short_problems(problems, &[k], crate::ShortProblems::Reject)?;
    let matrix = PassMatrix::new(problems, &[k])?;
    Ok((0..problems.len())
        .map(|p| matrix.get(p, 0).expect("k <= n was checked"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_pairs_common_problems() {
        let base = [
            ProblemCounts::new("a", 4, 1),
            ProblemCounts::new("b", 4, 0),
            ProblemCounts::new("only-base", 4, 4),
        ];
        let rl = [ProblemCounts::new("a", 4, 4), ProblemCounts::new("b", 4, 0)];
        let g = sampling_efficiency_gap(&base, 4, &rl, 1, None).unwrap();
        // base pass@4 over {a, b} = (1 + 0)/2; rl pass@1 = (1 + 0)/2.
        assert_eq!(g.problems, 2);
        assert_eq!(g.reference_pass_at_k, 0.5);
        assert_eq!(g.other_pass_at_k, 0.5);
        assert_eq!(g.gap, 0.0);
    }

    #[test]
    fn paired_interval_contains_the_gap() {
        let base: Vec<_> = (0..100)
            .map(|i| ProblemCounts::new(i.to_string(), 8, i % 3))
            .collect();
        let rl: Vec<_> = (0..100)
            .map(|i| ProblemCounts::new(i.to_string(), 8, (i % 2) * 8))
            .collect();
        let b = Bootstrap::new(400, 0.9, 3).unwrap();
        let g = sampling_efficiency_gap(&base, 8, &rl, 1, Some(&b)).unwrap();
        let ci = g.ci.unwrap();
        assert!(ci.low <= g.gap && g.gap <= ci.high, "{g:?}");
    }

    #[test]
    fn no_common_problem_is_an_error() {
        let a = [ProblemCounts::new("x", 2, 1)];
        let b = [ProblemCounts::new("y", 2, 1)];
        assert_eq!(
            sampling_efficiency_gap(&a, 1, &b, 1, None),
            Err(GapError::NoCommonProblems)
        );
    }

    #[test]
    fn k_beyond_n_is_an_error() {
        let a = [ProblemCounts::new("x", 2, 1)];
        assert!(matches!(
            sampling_efficiency_gap(&a, 4, &a, 1, None),
            Err(GapError::Curve(CurveError::KExceedsN { .. }))
        ));
    }
}
