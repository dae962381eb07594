//! ModReach: reach a target residue modulo `p` from a start residue in at most
//! `L` steps, each step one operation from a fixed set, every intermediate
//! value written out.
//!
//! A problem is `(start, target, limit)`. A solution is a trace
//! `op₁ v₁ op₂ v₂ … opₘ vₘ` with `m ≤ limit`, `vᵢ = opᵢ(vᵢ₋₁) mod p`,
//! `v₀ = start` and `vₘ = target`. Because the generator knows every solver,
//! each problem carries a ground-truth [`ProblemClass`]: which of the base
//! model's strategies can solve it, whether only a random exploration can,
//! whether only the teacher's extra operation can, or none.
//!
//! - [`Op`]: one operation (`+k` or `*k` mod p).
//! - [`TaskSpec`]: modulus, operations, step limits, the strategy mixture the
//!   base is pretrained on, and the teacher's extra operation.
//! - [`Task`]: a validated spec with its distance tables; classifies problems.
//! - [`generator`]: strategy and teacher traces, train/test splits.
//! - [`verifier`]: checks every step of a trace.
//! - [`tokenizer`]: the task's own vocabulary.
//! - [`analysis`]: exact success probabilities of the strategy mixture itself,
//!   used to tune the task before any model is trained.

pub mod analysis;
pub mod generator;
pub mod tokenizer;
pub mod verifier;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One operation on residues modulo `p`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Add(u32),
    Mul(u32),
}

impl Op {
    pub fn apply(self, value: u32, modulus: u32) -> u32 {
        match self {
            Op::Add(k) => (value + k) % modulus,
            Op::Mul(k) => (value * k) % modulus,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Add(k) => write!(f, "+{k}"),
            Op::Mul(k) => write!(f, "*{k}"),
        }
    }
}

impl FromStr for Op {
    type Err = TaskError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || TaskError::BadOp(text.to_string());
        let (kind, number) = text.split_at_checked(1).ok_or_else(bad)?;
        let k: u32 = number.parse().map_err(|_| bad())?;
        match kind {
            "+" => Ok(Op::Add(k)),
            "*" => Ok(Op::Mul(k)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Op {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// How a strategy picks its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Follows a shortest path to the target using only its own operations
    /// (ties broken by the order the operations are listed), and stops at the
    /// step limit whether or not it has arrived: it solves exactly the problems
    /// whose distance under its operations is within the limit.
    Shortest,
    /// Applies uniformly random operations until it hits the target or the
    /// step limit: it solves every reachable problem, but only sometimes.
    RandomWalk,
}

/// One solution procedure in the base model's pretraining mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strategy {
    pub name: String,
    pub kind: StrategyKind,
    pub ops: Vec<Op>,
    /// Share of pretraining traces written by this strategy (normalised over strategies).
    pub weight: f64,
}

/// Everything that defines the task family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The modulus `p` (need not be prime, but multiplication is only invertible when it is).
    pub modulus: u32,
    /// Operations the base model sees in pretraining.
    pub base_ops: Vec<Op>,
    /// The operation only the teacher knows; legal in any solution.
    pub teacher_op: Op,
    /// Smallest step limit `L` a problem can have.
    pub min_limit: u32,
    /// Largest step limit `L` a problem can have.
    pub max_limit: u32,
    /// Probability that a pretraining trace writes a wrong value at a step
    /// (the walk then continues from the wrong value).
    pub step_noise: f64,
    pub strategies: Vec<Strategy>,
}

/// Largest modulus: number tokens are part of the vocabulary, and the
/// distance tables are `p²` entries per operation set.
pub const MAX_MODULUS: u32 = 211;
/// Largest step limit: sequences must fit the model's context.
pub const MAX_LIMIT: u32 = 12;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum TaskError {
    #[error(
        "`{0}` is not an operation: write `+k` or `*k` with a whole number k, e.g. `+3` or `*2`"
    )]
    BadOp(String),
    #[error("task.modulus = {0}: must be between 3 and {MAX_MODULUS}")]
    Modulus(u32),
    #[error(
        "task.{field}: operation `{op}` does nothing or repeats another operation mod {modulus}"
    )]
    UselessOp { field: String, op: Op, modulus: u32 },
    #[error(
        "task.teacher_op `{0}` is also a base operation; the teacher must know something the base never saw"
    )]
    TeacherOpIsBase(Op),
    #[error(
        "task.min_limit = {min}, task.max_limit = {max}: need 1 <= min_limit <= max_limit <= {MAX_LIMIT}"
    )]
    Limits { min: u32, max: u32 },
    #[error("task.step_noise = {0}: must be in [0, 1)")]
    Noise(f64),
    #[error("task.strategies: need at least one strategy")]
    NoStrategies,
    #[error("task.strategies[{index}] (`{name}`): {reason}")]
    BadStrategy {
        index: usize,
        name: String,
        reason: String,
    },
}

/// Ground truth about a problem, from the generator's own solvers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "class", content = "strategy")]
pub enum ProblemClass {
    /// Solved by this `Shortest` strategy (the highest-weight one that solves it).
    Strategy(String),
    /// No `Shortest` strategy solves it, but some path over the base operations
    /// fits the limit, so only exploration can find it.
    ExploreOnly,
    /// Only paths that use the teacher's operation fit the limit.
    TeacherOnly,
    /// No path fits the limit at all.
    Unsolvable,
}

impl fmt::Display for ProblemClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemClass::Strategy(name) => write!(f, "{name}"),
            ProblemClass::ExploreOnly => f.write_str("explore-only"),
            ProblemClass::TeacherOnly => f.write_str("teacher-only"),
            ProblemClass::Unsolvable => f.write_str("unsolvable"),
        }
    }
}

/// One problem: reach `target` from `start` in at most `limit` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    pub start: u32,
    pub target: u32,
    pub limit: u32,
}

impl Problem {
    /// A stable identifier, used as the problem id in the run store.
    pub fn id(&self) -> String {
        format!("{}-{}-L{}", self.start, self.target, self.limit)
    }
}

/// A written solution attempt: each step's operation and the value it wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trace {
    pub steps: Vec<(Op, u32)>,
}

/// Shortest-path distances between all residue pairs under one operation set.
#[derive(Debug, Clone)]
pub struct DistanceTable {
    modulus: u32,
    ops: Vec<Op>,
    /// `dist[s * p + t]`, `u8::MAX` when unreachable.
    dist: Vec<u8>,
}

pub const UNREACHABLE: u8 = u8::MAX;

impl DistanceTable {
    pub fn new(modulus: u32, ops: &[Op]) -> Self {
        let p = modulus as usize;
        let mut dist = vec![UNREACHABLE; p * p];
        let mut frontier = Vec::with_capacity(p);
        let mut next = Vec::with_capacity(p);
        for s in 0..p {
            let row = &mut dist[s * p..(s + 1) * p];
            row[s] = 0;
            frontier.clear();
            frontier.push(s as u32);
            let mut depth = 0u8;
            while !frontier.is_empty() && depth < UNREACHABLE - 1 {
                depth += 1;
                next.clear();
                for &v in &frontier {
                    for op in ops {
                        let w = op.apply(v, modulus) as usize;
                        if row[w] == UNREACHABLE {
                            row[w] = depth;
                            next.push(w as u32);
                        }
                    }
                }
                std::mem::swap(&mut frontier, &mut next);
            }
        }
        Self {
            modulus,
            ops: ops.to_vec(),
            dist,
        }
    }

    /// Steps from `from` to `to`, `None` if unreachable.
    pub fn distance(&self, from: u32, to: u32) -> Option<u32> {
        let d = self.dist[(from * self.modulus + to) as usize];
        (d != UNREACHABLE).then_some(u32::from(d))
    }

    /// The first listed operation that moves one step closer to `to`, if `to`
    /// is reachable and not already reached.
    pub fn next_op(&self, from: u32, to: u32) -> Option<Op> {
        let d = self.distance(from, to).filter(|&d| d > 0)?;
        self.ops
            .iter()
            .copied()
            .find(|op| self.distance(op.apply(from, self.modulus), to) == Some(d - 1))
    }
}

/// A validated [`TaskSpec`] with the distance tables its solvers need.
#[derive(Debug, Clone)]
pub struct Task {
    spec: TaskSpec,
    base: DistanceTable,
    with_teacher: DistanceTable,
    /// One table per strategy (used by `Shortest` strategies).
    per_strategy: Vec<DistanceTable>,
    /// Strategy indices in decreasing weight, for naming a problem's class.
    by_weight: Vec<usize>,
}

impl Task {
    pub fn new(spec: TaskSpec) -> Result<Self, TaskError> {
        validate(&spec)?;
        let p = spec.modulus;
        let base = DistanceTable::new(p, &spec.base_ops);
        // The teacher tries its own operation first, so its traces show it
        // whenever it is on some shortest path.
        let mut teacher_ops = vec![spec.teacher_op];
        teacher_ops.extend(&spec.base_ops);
        let with_teacher = DistanceTable::new(p, &teacher_ops);
        let per_strategy = spec
            .strategies
            .iter()
            .map(|s| DistanceTable::new(p, &s.ops))
            .collect();
        let mut by_weight: Vec<usize> = (0..spec.strategies.len()).collect();
        // Stable sort: equal weights keep the listed order.
        by_weight.sort_by(|&a, &b| {
            spec.strategies[b]
                .weight
                .total_cmp(&spec.strategies[a].weight)
        });
        Ok(Self {
            spec,
            base,
            with_teacher,
            per_strategy,
            by_weight,
        })
    }

    pub fn spec(&self) -> &TaskSpec {
        &self.spec
    }

    pub fn modulus(&self) -> u32 {
        self.spec.modulus
    }

    /// Every operation a solution may use: the base operations, then the teacher's.
    pub fn legal_ops(&self) -> Vec<Op> {
        let mut ops = self.spec.base_ops.clone();
        ops.push(self.spec.teacher_op);
        ops
    }

    /// Shortest distance over the base operations.
    pub fn base_distance(&self, p: &Problem) -> Option<u32> {
        self.base.distance(p.start, p.target)
    }

    /// Shortest distance over the base operations plus the teacher's.
    pub fn full_distance(&self, p: &Problem) -> Option<u32> {
        self.with_teacher.distance(p.start, p.target)
    }

    pub(crate) fn strategy_table(&self, index: usize) -> &DistanceTable {
        &self.per_strategy[index]
    }

    pub(crate) fn teacher_table(&self) -> &DistanceTable {
        &self.with_teacher
    }

    /// Whether strategy `index` (a `Shortest` one) solves `p`.
    pub fn strategy_solves(&self, index: usize, p: &Problem) -> bool {
        self.spec.strategies[index].kind == StrategyKind::Shortest
            && self.per_strategy[index]
                .distance(p.start, p.target)
                .is_some_and(|d| d <= p.limit)
    }

    pub fn classify(&self, p: &Problem) -> ProblemClass {
        if let Some(&i) = self.by_weight.iter().find(|&&i| self.strategy_solves(i, p)) {
            return ProblemClass::Strategy(self.spec.strategies[i].name.clone());
        }
        let fits = |d: Option<u32>| d.is_some_and(|d| d <= p.limit);
        if fits(self.base_distance(p)) {
            ProblemClass::ExploreOnly
        } else if fits(self.full_distance(p)) {
            ProblemClass::TeacherOnly
        } else {
            ProblemClass::Unsolvable
        }
    }

    /// Every class a problem of this task can have, in report order.
    pub fn classes(&self) -> Vec<ProblemClass> {
        let mut classes: Vec<ProblemClass> = self
            .by_weight
            .iter()
            .filter(|&&i| self.spec.strategies[i].kind == StrategyKind::Shortest)
            .map(|&i| ProblemClass::Strategy(self.spec.strategies[i].name.clone()))
            .collect();
        classes.extend([
            ProblemClass::ExploreOnly,
            ProblemClass::TeacherOnly,
            ProblemClass::Unsolvable,
        ]);
        classes
    }

    /// All problems of the task: every `start != target` pair at every limit.
    pub fn all_problems(&self) -> Vec<Problem> {
        let p = self.spec.modulus;
        let mut out = Vec::new();
        for start in 0..p {
            for target in (0..p).filter(|&t| t != start) {
                for limit in self.spec.min_limit..=self.spec.max_limit {
                    out.push(Problem {
                        start,
                        target,
                        limit,
                    });
                }
            }
        }
        out
    }
}

fn validate(spec: &TaskSpec) -> Result<(), TaskError> {
    let p = spec.modulus;
    if !(3..=MAX_MODULUS).contains(&p) {
        return Err(TaskError::Modulus(p));
    }
    // An op is useless if it maps every residue to itself, or acts exactly like an earlier one.
    let action = |op: &Op| (0..p).map(|v| op.apply(v, p)).collect::<Vec<_>>();
    let identity: Vec<u32> = (0..p).collect();
    let mut seen: Vec<Vec<u32>> = Vec::new();
    for op in &spec.base_ops {
        let a = action(op);
        if a == identity || seen.contains(&a) {
            return Err(TaskError::UselessOp {
                field: "base_ops".into(),
                op: *op,
                modulus: p,
            });
        }
        seen.push(a);
    }
    if spec.base_ops.contains(&spec.teacher_op) {
        return Err(TaskError::TeacherOpIsBase(spec.teacher_op));
    }
    let teacher = action(&spec.teacher_op);
    if teacher == identity || seen.contains(&teacher) {
        return Err(TaskError::UselessOp {
            field: "teacher_op".into(),
            op: spec.teacher_op,
            modulus: p,
        });
    }
    if spec.min_limit < 1 || spec.min_limit > spec.max_limit || spec.max_limit > MAX_LIMIT {
        return Err(TaskError::Limits {
            min: spec.min_limit,
            max: spec.max_limit,
        });
    }
    if !(0.0..1.0).contains(&spec.step_noise) {
        return Err(TaskError::Noise(spec.step_noise));
    }
    if spec.strategies.is_empty() {
        return Err(TaskError::NoStrategies);
    }
    for (index, s) in spec.strategies.iter().enumerate() {
        let bad = |reason: String| TaskError::BadStrategy {
            index,
            name: s.name.clone(),
            reason,
        };
        if s.name.is_empty()
            || !s
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad(
                "name must be non-empty letters, digits, `_` or `-`".into()
            ));
        }
        if spec.strategies[..index].iter().any(|o| o.name == s.name) {
            return Err(bad("another strategy has the same name".into()));
        }
        if !(s.weight.is_finite() && s.weight > 0.0) {
            return Err(bad(format!(
                "weight = {} must be a positive number",
                s.weight
            )));
        }
        if s.ops.is_empty() {
            return Err(bad("needs at least one operation".into()));
        }
        if let Some(op) = s.ops.iter().find(|op| !spec.base_ops.contains(op)) {
            return Err(bad(format!(
                "operation `{op}` is not in task.base_ops; strategies may only use base operations"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small task used across the crate's unit tests.
    pub(crate) fn small_spec() -> TaskSpec {
        TaskSpec {
            modulus: 11,
            base_ops: vec![Op::Add(1), Op::Add(3), Op::Mul(2)],
            teacher_op: Op::Mul(5),
            min_limit: 1,
            max_limit: 3,
            step_noise: 0.0,
            strategies: vec![
                Strategy {
                    name: "adder".into(),
                    kind: StrategyKind::Shortest,
                    ops: vec![Op::Add(3)],
                    weight: 0.5,
                },
                Strategy {
                    name: "walker".into(),
                    kind: StrategyKind::RandomWalk,
                    ops: vec![Op::Add(1), Op::Add(3), Op::Mul(2)],
                    weight: 0.5,
                },
            ],
        }
    }

    #[test]
    fn ops_parse_print_and_apply() {
        assert_eq!("+3".parse::<Op>(), Ok(Op::Add(3)));
        assert_eq!("*12".parse::<Op>(), Ok(Op::Mul(12)));
        for bad in ["", "+", "3", "-3", "+x", "/2", "+ 3"] {
            assert!(bad.parse::<Op>().is_err(), "{bad:?} parsed");
        }
        assert_eq!(Op::Mul(12).to_string(), "*12");
        assert_eq!(Op::Add(3).apply(9, 11), 1);
        assert_eq!(Op::Mul(2).apply(7, 11), 3);
    }

    #[test]
    fn distances_match_hand_computation() {
        // Only +3 mod 11: from 0, 3 is one step, 6 two, 9 three, 1 four (12 mod 11).
        let table = DistanceTable::new(11, &[Op::Add(3)]);
        assert_eq!(table.distance(0, 0), Some(0));
        assert_eq!(table.distance(0, 9), Some(3));
        assert_eq!(table.distance(0, 1), Some(4));
        assert_eq!(table.next_op(0, 1), Some(Op::Add(3)));
        assert_eq!(table.next_op(4, 4), None);
        // Only *2 from 0 never leaves 0.
        let mul = DistanceTable::new(11, &[Op::Mul(2)]);
        assert_eq!(mul.distance(0, 5), None);
        assert_eq!(mul.next_op(0, 5), None);
        // *2 mod 11: 1 → 2 → 4 → 8 → 5.
        assert_eq!(mul.distance(1, 5), Some(4));
    }

    #[test]
    fn classes_follow_the_solvers() {
        let task = Task::new(small_spec()).unwrap();
        // 0 → 3 with +3: one step; the adder solves it.
        let p = Problem {
            start: 0,
            target: 3,
            limit: 1,
        };
        assert_eq!(task.classify(&p), ProblemClass::Strategy("adder".into()));
        // 0 → 1: the adder needs four steps, +1 does it in one.
        let p = Problem {
            start: 0,
            target: 1,
            limit: 1,
        };
        assert_eq!(task.classify(&p), ProblemClass::ExploreOnly);
        // 2 → 10: *5 gives 10 in one step; base ops need more than one.
        let p = Problem {
            start: 2,
            target: 10,
            limit: 1,
        };
        assert_eq!(task.base_distance(&p), Some(2));
        assert_eq!(task.classify(&p), ProblemClass::TeacherOnly);
        let p = Problem {
            start: 0,
            target: 7,
            limit: 1,
        };
        assert_eq!(task.classify(&p), ProblemClass::Unsolvable);
        assert_eq!(task.all_problems().len(), 11 * 10 * 3);
    }

    #[test]
    fn invalid_specs_are_rejected_with_the_field_named() {
        let mut spec = small_spec();
        spec.teacher_op = Op::Add(3);
        assert!(matches!(
            Task::new(spec),
            Err(TaskError::TeacherOpIsBase(_))
        ));
        let mut spec = small_spec();
        spec.base_ops.push(Op::Mul(1));
        let err = Task::new(spec).unwrap_err();
        assert!(err.to_string().contains("base_ops"), "{err}");
        let mut spec = small_spec();
        spec.base_ops.push(Op::Add(12)); // acts like +1 mod 11
        assert!(Task::new(spec).is_err());
        let mut spec = small_spec();
        spec.strategies[1].ops.push(Op::Mul(5));
        let err = Task::new(spec).unwrap_err();
        assert!(
            err.to_string().contains("strategies[1] (`walker`)"),
            "{err}"
        );
        let mut spec = small_spec();
        spec.max_limit = 0;
        assert!(matches!(Task::new(spec), Err(TaskError::Limits { .. })));
    }
}
