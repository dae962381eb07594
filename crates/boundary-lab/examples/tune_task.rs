//! Stage 1 of task tuning: scores a grid of
//! task constants by the exact success probabilities of the pretraining
//! mixture itself — the base a perfect imitator would be — on a stratified
//! test split, and prints the candidates as CSV. Stage 2 pretrains real bases
//! for the best few (`boundary lab --base-only --config candidate.toml`), since a
//! trained model only approximates its data.
//!
//! `cargo run --release -p boundary-lab --example tune_task > candidates.csv`

use std::collections::BTreeMap;

use boundary_lab::task::analysis::expected_pass_at_k;
use boundary_lab::task::generator::SplitSpec;
use boundary_lab::task::{Op, Strategy, StrategyKind, Task, TaskSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn strategy(name: &str, kind: StrategyKind, ops: &[Op], weight: f64) -> Strategy {
    Strategy {
        name: name.into(),
        kind,
        ops: ops.to_vec(),
        weight,
    }
}

/// A candidate operation set: its label, the base operations, the `adder` and
/// `doubler` procedures' operations, and the teacher's extra operation.
type OpSet = (&'static str, Vec<Op>, Vec<Op>, Vec<Op>, Op);

fn main() {
    use Op::{Add, Mul};
    let op_sets: [OpSet; 3] = [
        (
            "+3+7*2*3",
            vec![Add(3), Add(7), Mul(2), Mul(3)],
            vec![Add(3), Add(7)],
            vec![Mul(2), Add(3)],
            Mul(5),
        ),
        (
            "+1+5*2*3",
            vec![Add(1), Add(5), Mul(2), Mul(3)],
            vec![Add(1), Add(5)],
            vec![Mul(2), Add(1)],
            Mul(5),
        ),
        (
            "+2+9*3",
            vec![Add(2), Add(9), Mul(3)],
            vec![Add(2), Add(9)],
            vec![Mul(3), Add(2)],
            Mul(2),
        ),
    ];
    println!(
        "modulus,ops,min_limit,max_limit,adder,doubler,walker,noise,test_pass1,test_pass256,classes,class_pass1,class_pass256"
    );
    for modulus in [23u32, 29, 31, 37, 41, 47] {
        for (ops_name, base, adder_ops, doubler_ops, teacher) in &op_sets {
            for (min_limit, max_limit) in [(2, 4), (2, 5), (3, 6)] {
                for (wa, wd, ww) in [
                    (0.5, 0.25, 0.25),
                    (0.4, 0.2, 0.4),
                    (0.3, 0.2, 0.5),
                    (0.2, 0.1, 0.7),
                ] {
                    for noise in [0.0, 0.05, 0.1] {
                        let spec = TaskSpec {
                            modulus,
                            base_ops: base.clone(),
                            teacher_op: *teacher,
                            min_limit,
                            max_limit,
                            step_noise: noise,
                            strategies: vec![
                                strategy("adder", StrategyKind::Shortest, adder_ops, wa),
                                strategy("doubler", StrategyKind::Shortest, doubler_ops, wd),
                                strategy("walker", StrategyKind::RandomWalk, base, ww),
                            ],
                        };
                        let Ok(task) = Task::new(spec) else { continue };
                        let split = SplitSpec {
                            test_problems: 200,
                            validation_problems: 64,
                            class_mix: BTreeMap::from([
                                ("adder".to_string(), 0.35),
                                ("doubler".to_string(), 0.25),
                                ("explore-only".to_string(), 0.25),
                                ("teacher-only".to_string(), 0.15),
                            ]),
                        };
                        let Ok(splits) = task.split(&split, &mut ChaCha8Rng::seed_from_u64(1))
                        else {
                            continue;
                        };
                        let mut by_class: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
                        let (mut p1, mut p256) = (0.0, 0.0);
                        for p in &splits.test {
                            let s = task.mixture_success(p);
                            let e = by_class.entry(task.classify(p).to_string()).or_default();
                            e.0 += s;
                            e.1 += expected_pass_at_k(s, 256);
                            e.2 += 1;
                            p1 += s;
                            p256 += expected_pass_at_k(s, 256);
                        }
                        let n = splits.test.len() as f64;
                        let names: Vec<&str> = by_class.keys().map(String::as_str).collect();
                        let c1: Vec<String> = by_class
                            .values()
                            .map(|(a, _, c)| format!("{:.3}", a / *c as f64))
                            .collect();
                        let c256: Vec<String> = by_class
                            .values()
                            .map(|(_, b, c)| format!("{:.3}", b / *c as f64))
                            .collect();
                        println!(
                            "{modulus},{ops_name},{min_limit},{max_limit},{wa},{wd},{ww},{noise},{:.3},{:.3},{},{},{}",
                            p1 / n,
                            p256 / n,
                            names.join("|"),
                            c1.join("|"),
                            c256.join("|")
                        );
                    }
                }
            }
        }
    }
}
