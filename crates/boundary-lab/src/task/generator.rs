//! Traces written by the base's strategies and by the teacher, and the
//! train/validation/test split.

use std::collections::{BTreeMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Op, Problem, ProblemClass, StrategyKind, Task, Trace};

impl Task {
    /// A pretraining trace by strategy `index`, with the spec's step noise.
    ///
    /// Every strategy stops when it reaches the target or after `limit`
    /// steps, so all traces share one stopping rule and differ only in how
    /// they pick operations.
    pub fn strategy_trace(&self, index: usize, problem: &Problem, rng: &mut impl Rng) -> Trace {
        let strategy = &self.spec.strategies[index];
        let table = self.strategy_table(index);
        let p = self.spec.modulus;
        let mut value = problem.start;
        let mut trace = Trace::default();
        while value != problem.target && trace.steps.len() < problem.limit as usize {
            let planned = match strategy.kind {
                StrategyKind::Shortest => table.next_op(value, problem.target),
                StrategyKind::RandomWalk => None,
            };
            // A shortest-path strategy that cannot reach the target at all
            // wanders with its own operations, like a random walk.
            let op =
                planned.unwrap_or_else(|| strategy.ops[rng.random_range(0..strategy.ops.len())]);
            let mut written = op.apply(value, p);
            if self.spec.step_noise > 0.0 && rng.random_bool(self.spec.step_noise) {
                // A wrong value, uniformly among the p - 1 wrong ones.
                let offset = rng.random_range(1..p);
                written = (written + offset) % p;
            }
            trace.steps.push((op, written));
            value = written;
        }
        trace
    }

    /// Picks a strategy index by the mixture weights.
    pub fn sample_strategy(&self, rng: &mut impl Rng) -> usize {
        let total: f64 = self.spec.strategies.iter().map(|s| s.weight).sum();
        let mut x = rng.random_range(0.0..total);
        for (i, s) in self.spec.strategies.iter().enumerate() {
            if x < s.weight {
                return i;
            }
            x -= s.weight;
        }
        self.spec.strategies.len() - 1
    }

    /// The teacher's trace: a shortest path over the base operations plus the
    /// teacher's own, which it tries first. `None` when no path fits the limit.
    pub fn teacher_trace(&self, problem: &Problem) -> Option<Trace> {
        let table = self.teacher_table();
        let d = table.distance(problem.start, problem.target)?;
        if d > problem.limit {
            return None;
        }
        let p = self.spec.modulus;
        let mut value = problem.start;
        let mut trace = Trace::default();
        while value != problem.target {
            let op: Op = table.next_op(value, problem.target)?;
            value = op.apply(value, p);
            trace.steps.push((op, value));
        }
        Some(trace)
    }
}

/// How to split the task's problems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// Number of test problems.
    pub test_problems: usize,
    /// Number of held-out problems for the per-step pass@1 in training curves.
    pub validation_problems: usize,
    /// Share of test (and validation) problems per class, by class name
    /// (a strategy's name, `explore-only` or `teacher-only`). Missing classes get none.
    pub class_mix: BTreeMap<String, f64>,
}

/// The problems of each phase. Test and validation `(start, target)` pairs
/// never occur in training at any step limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    /// Problems pretraining traces are written for (every class).
    pub train: Vec<Problem>,
    /// Training problems used as RL prompts and distillation prompts
    /// (those some procedure can solve).
    pub rl: Vec<Problem>,
    pub validation: Vec<Problem>,
    pub test: Vec<Problem>,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SplitError {
    #[error("split.class_mix: `{0}` is not a class of this task (classes: {1})")]
    UnknownClass(String, String),
    #[error("split.class_mix[`{0}`] = {1}: shares must be non-negative numbers")]
    BadShare(String, f64),
    #[error("split.class_mix: shares add up to zero")]
    EmptyMix,
    #[error(
        "split: the task has too few `{class}` problems with unused (start, target) pairs \
         ({found} found, {wanted} wanted); lower split.test_problems / split.validation_problems \
         or this class's share, or enlarge the task"
    )]
    TooFew {
        class: String,
        found: usize,
        wanted: usize,
    },
}

impl Task {
    /// Splits the task's problems, deterministically for a given `rng` state.
    pub fn split(&self, spec: &SplitSpec, rng: &mut impl Rng) -> Result<Splits, SplitError> {
        let classes = self.classes();
        let names: Vec<String> = classes.iter().map(ToString::to_string).collect();
        for (name, &share) in &spec.class_mix {
            if !names.contains(name) {
                return Err(SplitError::UnknownClass(name.clone(), names.join(", ")));
            }
            if !(share.is_finite() && share >= 0.0) {
                return Err(SplitError::BadShare(name.clone(), share));
            }
        }
        let total: f64 = spec.class_mix.values().sum();
        if total <= 0.0 {
            return Err(SplitError::EmptyMix);
        }

        let mut problems: Vec<(Problem, ProblemClass)> = self
            .all_problems()
            .into_iter()
            .map(|p| {
                let class = self.classify(&p);
                (p, class)
            })
            .collect();
        problems.shuffle(rng);

        let mut held_pairs: HashSet<(u32, u32)> = HashSet::new();
        let mut take = |wanted_total: usize| -> Result<Vec<Problem>, SplitError> {
            let quotas = apportion(&names, &spec.class_mix, total, wanted_total);
            let mut picked = Vec::new();
            for (name, wanted) in names.iter().zip(quotas) {
                let mut found = 0;
                for (p, class) in &problems {
                    if found == wanted {
                        break;
                    }
                    if class.to_string() == *name && held_pairs.insert((p.start, p.target)) {
                        picked.push(*p);
                        found += 1;
                    }
                }
                if found < wanted {
                    return Err(SplitError::TooFew {
                        class: name.clone(),
                        found,
                        wanted,
                    });
                }
            }
            picked.sort();
            Ok(picked)
        };
        let test = take(spec.test_problems)?;
        let validation = take(spec.validation_problems)?;

        let mut train: Vec<Problem> = problems
            .iter()
            .filter(|(p, _)| !held_pairs.contains(&(p.start, p.target)))
            .map(|(p, _)| *p)
            .collect();
        train.sort();
        let rl = train
            .iter()
            .filter(|p| self.classify(p) != ProblemClass::Unsolvable)
            .copied()
            .collect();
        Ok(Splits {
            train,
            rl,
            validation,
            test,
        })
    }
}

/// Largest-remainder apportionment of `total_count` over the classes by share.
fn apportion(
    names: &[String],
    mix: &BTreeMap<String, f64>,
    total_share: f64,
    total_count: usize,
) -> Vec<usize> {
    let exact: Vec<f64> = names
        .iter()
        .map(|n| mix.get(n).copied().unwrap_or(0.0) / total_share * total_count as f64)
        .collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let missing = total_count - counts.iter().sum::<usize>();
    for &i in order.iter().take(missing) {
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::task::tests::small_spec;
    use crate::task::verifier::{Verdict, verify_trace};

    fn mix() -> SplitSpec {
        SplitSpec {
            test_problems: 20,
            validation_problems: 10,
            class_mix: BTreeMap::from([
                ("adder".to_string(), 0.5),
                ("explore-only".to_string(), 0.3),
                ("teacher-only".to_string(), 0.2),
            ]),
        }
    }

    #[test]
    fn strategies_solve_exactly_their_class() {
        let task = Task::new(small_spec()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for p in task.all_problems() {
            let trace = task.strategy_trace(0, &p, &mut rng);
            let verdict = verify_trace(&task, &p, &trace);
            assert_eq!(
                verdict == Verdict::Correct,
                task.strategy_solves(0, &p),
                "{p:?} {trace:?}"
            );
            assert!(trace.steps.len() <= p.limit as usize);
        }
    }

    #[test]
    fn teacher_solves_every_solvable_problem_with_shortest_traces() {
        let task = Task::new(small_spec()).unwrap();
        let mut used_teacher_op = false;
        for p in task.all_problems() {
            let class = task.classify(&p);
            match task.teacher_trace(&p) {
                Some(trace) => {
                    assert_eq!(verify_trace(&task, &p, &trace), Verdict::Correct);
                    assert_eq!(Some(trace.steps.len() as u32), task.full_distance(&p));
                    used_teacher_op |= trace.steps.iter().any(|(op, _)| *op == Op::Mul(5));
                }
                None => assert_eq!(class, ProblemClass::Unsolvable, "{p:?}"),
            }
        }
        assert!(used_teacher_op);
    }

    #[test]
    fn random_walk_solves_sometimes_and_noise_breaks_traces() {
        let mut spec = small_spec();
        spec.step_noise = 0.5;
        let task = Task::new(spec).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let p = Problem {
            start: 0,
            target: 4,
            limit: 3,
        };
        let verdicts: Vec<Verdict> = (0..400)
            .map(|_| verify_trace(&task, &p, &task.strategy_trace(1, &p, &mut rng)))
            .collect();
        assert!(verdicts.contains(&Verdict::Correct));
        assert!(
            verdicts
                .iter()
                .any(|v| matches!(v, Verdict::WrongStep { .. }))
        );
    }

    #[test]
    fn strategies_are_drawn_by_weight() {
        let mut spec = small_spec();
        spec.strategies[0].weight = 3.0;
        spec.strategies[1].weight = 1.0;
        let task = Task::new(spec).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let first = (0..4000)
            .filter(|_| task.sample_strategy(&mut rng) == 0)
            .count();
        // Binomial(4000, 0.75): sd ≈ 27, so ±150 is more than 5 sd.
        assert!((2850..=3150).contains(&first), "{first}");
    }

    #[test]
    fn split_is_deterministic_disjoint_and_stratified() {
        let task = Task::new(small_spec()).unwrap();
        let a = task
            .split(&mix(), &mut ChaCha8Rng::seed_from_u64(7))
            .unwrap();
        let b = task
            .split(&mix(), &mut ChaCha8Rng::seed_from_u64(7))
            .unwrap();
        assert_eq!(a, b);
        let c = task
            .split(&mix(), &mut ChaCha8Rng::seed_from_u64(8))
            .unwrap();
        assert_ne!(a.test, c.test);

        assert_eq!(a.test.len(), 20);
        assert_eq!(a.validation.len(), 10);
        let count = |set: &[Problem], name: &str| {
            set.iter()
                .filter(|p| task.classify(p).to_string() == name)
                .count()
        };
        assert_eq!(count(&a.test, "adder"), 10);
        assert_eq!(count(&a.test, "explore-only"), 6);
        assert_eq!(count(&a.test, "teacher-only"), 4);
        let held: HashSet<(u32, u32)> = a
            .test
            .iter()
            .chain(&a.validation)
            .map(|p| (p.start, p.target))
            .collect();
        assert_eq!(held.len(), 30, "test and validation pairs are distinct");
        assert!(a.train.iter().all(|p| !held.contains(&(p.start, p.target))));
        assert!(
            a.rl.iter()
                .all(|p| task.classify(p) != ProblemClass::Unsolvable)
        );
    }

    #[test]
    fn split_errors_name_the_problem() {
        let task = Task::new(small_spec()).unwrap();
        let mut spec = mix();
        spec.class_mix.insert("doubler".into(), 0.1);
        let err = task
            .split(&spec, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap_err();
        assert!(
            err.to_string().contains("`doubler` is not a class"),
            "{err}"
        );
        let mut spec = mix();
        spec.test_problems = 500;
        let err = task
            .split(&spec, &mut ChaCha8Rng::seed_from_u64(1))
            .unwrap_err();
        assert!(matches!(err, SplitError::TooFew { .. }), "{err}");
    }
}
