//! Exact success probabilities of the pretraining mixture itself: what a base
//! model that imitated its data perfectly would score. The task-tuning script
//! uses these to pick task constants before paying for any training, then
//! checks the few best candidates with a real pretrained base.

use super::{Problem, StrategyKind, Task};

impl Task {
    /// Probability that strategy `index` writes a correct trace for `problem`.
    pub fn strategy_success(&self, index: usize, problem: &Problem) -> f64 {
        let strategy = &self.spec.strategies[index];
        let keep = 1.0 - self.spec.step_noise;
        match strategy.kind {
            StrategyKind::Shortest => self
                .strategy_table(index)
                .distance(problem.start, problem.target)
                .filter(|&d| d <= problem.limit)
                .map_or(0.0, |d| keep.powi(d as i32)),
            StrategyKind::RandomWalk => {
                // Probability mass over the current value of walks that have not yet
                // hit the target; mass reaching the target is absorbed there.
                let p = self.spec.modulus as usize;
                let share = 1.0 / strategy.ops.len() as f64;
                let mut mass = vec![0.0; p];
                mass[problem.start as usize] = 1.0;
                let mut success = 0.0;
                for step in 1..=problem.limit {
                    let mut next = vec![0.0; p];
                    for (v, &m) in mass.iter().enumerate().filter(|(_, m)| **m > 0.0) {
                        for op in &strategy.ops {
                            next[op.apply(v as u32, self.spec.modulus) as usize] += m * share;
                        }
                    }
                    let hit = std::mem::take(&mut next[problem.target as usize]);
                    // Only walks with no wrong value along the way are correct.
                    success += hit * keep.powi(step as i32);
                    mass = next;
                }
                success
            }
        }
    }

    /// Probability that a draw from the whole mixture is correct.
    pub fn mixture_success(&self, problem: &Problem) -> f64 {
        let total: f64 = self.spec.strategies.iter().map(|s| s.weight).sum();
        self.spec
            .strategies
            .iter()
            .enumerate()
            .map(|(i, s)| s.weight / total * self.strategy_success(i, problem))
            .sum()
    }
}

/// Expected pass@k of a problem solved with probability `success` per draw.
pub fn expected_pass_at_k(success: f64, k: u32) -> f64 {
    1.0 - (1.0 - success).powi(k as i32)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::task::tests::small_spec;
    use crate::task::verifier::verify_trace;

    #[test]
    fn random_walk_probability_matches_hand_count() {
        let task = Task::new(small_spec()).unwrap();
        // Walker ops +1 +3 *2 mod 11 from 1 to 2 within 1 step: +1 (1 → 2) and *2 (1 → 2): 2 of 3.
        let p = Problem {
            start: 1,
            target: 2,
            limit: 1,
        };
        assert!((task.strategy_success(1, &p) - 2.0 / 3.0).abs() < 1e-12);
        // Within 2 steps: the 1/3 that went +3 to 4 cannot reach 2 in one more step
        // (4+1=5, 4+3=7, 4*2=8), so the answer stays 2/3.
        let p = Problem {
            start: 1,
            target: 2,
            limit: 2,
        };
        assert!((task.strategy_success(1, &p) - 2.0 / 3.0).abs() < 1e-12);
        // The adder (+3 only) needs 4 steps from 1 to 2 (1→4→7→10→2).
        assert_eq!(
            task.strategy_success(
                0,
                &Problem {
                    start: 1,
                    target: 2,
                    limit: 3
                }
            ),
            0.0
        );
        assert_eq!(
            task.strategy_success(
                0,
                &Problem {
                    start: 1,
                    target: 4,
                    limit: 3
                }
            ),
            1.0
        );
    }

    #[test]
    fn exact_probabilities_match_simulation() {
        let mut spec = small_spec();
        spec.step_noise = 0.1;
        let task = Task::new(spec).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let draws = 20_000;
        for p in [
            Problem {
                start: 0,
                target: 5,
                limit: 3,
            },
            Problem {
                start: 3,
                target: 9,
                limit: 2,
            },
        ] {
            let exact = task.mixture_success(&p);
            let hits = (0..draws)
                .filter(|_| {
                    let s = task.sample_strategy(&mut rng);
                    verify_trace(&task, &p, &task.strategy_trace(s, &p, &mut rng)).is_correct()
                })
                .count();
            let observed = hits as f64 / draws as f64;
            // 5 standard errors of a binomial proportion.
            let tolerance = 5.0 * (exact * (1.0 - exact) / draws as f64).sqrt() + 1e-9;
            assert!(
                (observed - exact).abs() < tolerance,
                "{p:?}: exact {exact}, observed {observed}"
            );
        }
        assert!((expected_pass_at_k(0.5, 2) - 0.75).abs() < 1e-12);
    }
}
