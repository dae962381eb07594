//! Coverage: which problems a model solves at least once, and how two models' solved
//! sets relate (the paper's "RL solves (nearly) a subset of what the base solves").

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::curve::ProblemCounts;

/// The problems a model solved at least once, out of those it was evaluated on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SolvedSet {
    /// Problems with at least one correct sample, sorted.
    pub solved: Vec<String>,
    /// Number of problems evaluated.
    pub problems: usize,
}

impl SolvedSet {
    pub fn of(problems: &[ProblemCounts]) -> Self {
        let solved: BTreeSet<&str> = problems
            .iter()
            .filter(|p| p.solved())
            .map(|p| p.id.as_str())
            .collect();
        Self {
            solved: solved.into_iter().map(str::to_owned).collect(),
            problems: problems.len(),
        }
    }
}

/// How the solved sets of models `a` and `b` relate, over the problems both were
/// evaluated on. Problems evaluated for only one of them are listed apart, never
/// silently counted as unsolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Solved by `a` and not by `b`.
    pub only_a: Vec<String>,
    /// Solved by `b` and not by `a`.
    pub only_b: Vec<String>,
    /// Solved by both.
    pub both: Vec<String>,
    /// Solved by neither.
    pub neither: Vec<String>,
    /// Problems evaluated for both models.
    pub common_problems: usize,
    /// Problems evaluated for `a` only, or for `b` only.
    pub unmatched_a: Vec<String>,
    pub unmatched_b: Vec<String>,
}

impl Comparison {
    pub fn of(a: &[ProblemCounts], b: &[ProblemCounts]) -> Self {
        let index = |ps: &[ProblemCounts]| -> BTreeMap<String, bool> {
            ps.iter().map(|p| (p.id.clone(), p.solved())).collect()
        };
        let (a, b) = (index(a), index(b));
        let mut cmp = Comparison {
            only_a: Vec::new(),
            only_b: Vec::new(),
            both: Vec::new(),
            neither: Vec::new(),
            common_problems: 0,
            unmatched_a: Vec::new(),
            unmatched_b: b
                .keys()
                .filter(|id| !a.contains_key(*id))
                .cloned()
                .collect(),
        };
        for (id, &solved_a) in &a {
            let Some(&solved_b) = b.get(id) else {
                cmp.unmatched_a.push(id.clone());
                continue;
            };
            cmp.common_problems += 1;
            let bucket = match (solved_a, solved_b) {
                (true, false) => &mut cmp.only_a,
                (false, true) => &mut cmp.only_b,
                (true, true) => &mut cmp.both,
                (false, false) => &mut cmp.neither,
            };
            bucket.push(id.clone());
        }
        cmp
    }

    /// Fraction of `b`'s solved problems that `a` also solves, over common problems
    /// (1.0 when b's solved set is a subset of a's); `None` when b solves nothing.
    pub fn fraction_of_b_also_solved_by_a(&self) -> Option<f64> {
        let solved_b = self.both.len() + self.only_b.len();
        (solved_b > 0).then(|| self.both.len() as f64 / solved_b as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, c: u64) -> ProblemCounts {
        ProblemCounts::new(id, 8, c)
    }

    #[test]
    fn solved_set_is_sorted_and_counts_problems() {
        let s = SolvedSet::of(&[p("b", 1), p("a", 2), p("c", 0)]);
        assert_eq!(s.solved, vec!["a", "b"]);
        assert_eq!(s.problems, 3);
    }

    #[test]
    fn comparison_partitions_common_problems() {
        let base = [
            p("1", 3),
            p("2", 1),
            p("3", 0),
            p("4", 0),
            p("base-only", 1),
        ];
        let rl = [p("1", 8), p("2", 0), p("3", 2), p("4", 0), p("rl-only", 0)];
        let cmp = Comparison::of(&base, &rl);
        assert_eq!(cmp.both, vec!["1"]);
        assert_eq!(cmp.only_a, vec!["2"]);
        assert_eq!(cmp.only_b, vec!["3"]);
        assert_eq!(cmp.neither, vec!["4"]);
        assert_eq!(cmp.common_problems, 4);
        assert_eq!(cmp.unmatched_a, vec!["base-only"]);
        assert_eq!(cmp.unmatched_b, vec!["rl-only"]);
        assert_eq!(cmp.fraction_of_b_also_solved_by_a(), Some(0.5));
    }
}
