//! Equivalence of two parsed answers.
//!
//! Structure first (relations, ±, text, numerals in a base, matrices, sets, lists,
//! tuples), then values: exact rationals, then the symbolic normal form, then
//! evaluation at sample points. Each step returns a `Decision` that names its rule,
//! and "cannot tell" stays distinct from "different".

use std::borrow::Cow;

use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::ast::{Constant, Expr, Interval, Relation, SetOperation};
use crate::budget::Budget;
use crate::config::{MathConfig, PercentMode};
use crate::error::{Exhausted, Limit};
use crate::exact::rational_value;
use crate::numeric::{Failure, Point, PointOutcome, compare as compare_at_point, evaluate};
use crate::render::render;
use crate::symbolic;
use crate::verdict::{Outcome, Rule};

/// The result of comparing two (sub)answers.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    pub outcome: Outcome,
    pub rule: Rule,
    pub reason: Cow<'static, str>,
    pub limit: Option<Limit>,
}

impl Decision {
    fn equal(rule: Rule, reason: impl Into<Cow<'static, str>>) -> Decision {
        Decision {
            outcome: Outcome::Correct,
            rule,
            reason: reason.into(),
            limit: None,
        }
    }

    fn differ(rule: Rule, reason: impl Into<Cow<'static, str>>) -> Decision {
        Decision {
            outcome: Outcome::Incorrect,
            rule,
            reason: reason.into(),
            limit: None,
        }
    }

    fn unknown(rule: Rule, reason: impl Into<Cow<'static, str>>) -> Decision {
        Decision {
            outcome: Outcome::Unverifiable,
            rule,
            reason: reason.into(),
            limit: None,
        }
    }

    pub fn over_budget(exhausted: Exhausted) -> Decision {
        Decision {
            outcome: Outcome::Unverifiable,
            rule: Rule::OverBudget,
            reason: format!("{} limit exceeded", exhausted.limit).into(),
            limit: Some(exhausted.limit),
        }
    }

    fn is_equal(&self) -> bool {
        self.outcome == Outcome::Correct
    }

    fn is_different(&self) -> bool {
        self.outcome == Outcome::Incorrect
    }

    /// Prefixes the reason with where in a structure this decision was made.
    fn within(mut self, context: impl FnOnce() -> String) -> Decision {
        self.reason = format!("{}: {}", context(), self.reason).into();
        self
    }
}

/// Sample points used for expressions with free symbols.
const SAMPLE_POINTS: usize = 4;
/// The most ± alternatives one answer may expand to.
const MAX_PLUS_MINUS_VARIANTS: usize = 16;

pub(crate) struct Comparator<'a> {
    pub config: &'a MathConfig,
    pub budget: Budget<'a>,
}

impl Comparator<'_> {
    pub fn equivalent(&mut self, gold: &Expr, response: &Expr) -> Decision {
        if let Err(exhausted) = self.budget.charge(1) {
            return Decision::over_budget(exhausted);
        }
        if gold == response {
            return Decision::equal(Rule::SameExpression, "same expression");
        }
        match (gold, response) {
            (Expr::Relation(..), Expr::Relation(..)) => return self.relations(gold, response),
            (Expr::Relation(..), _) => {
                return match unwrap_relation(gold, response) {
                    Some(value) => self.equivalent(&value, response),
                    None => Decision::differ(
                        Rule::Structure,
                        "the gold is a relation, the response is not",
                    ),
                };
            }
            (_, Expr::Relation(..)) => {
                return match unwrap_relation(response, gold) {
                    Some(value) => self.equivalent(gold, &value),
                    None => Decision::differ(
                        Rule::Structure,
                        "the response is a relation, the gold is not",
                    ),
                };
            }
            _ => {}
        }
        match (expand_plus_minus(gold), expand_plus_minus(response)) {
            (Some(Err(())), _) | (_, Some(Err(()))) => {
                return Decision::unknown(Rule::Unsupported, "too many ± alternatives");
            }
            (Some(Ok(gold)), _) => return self.equivalent(&gold, response),
            (None, Some(Ok(response))) => return self.equivalent(gold, &response),
            (None, None) => {}
        }
        self.structures(gold, response)
    }

    fn structures(&mut self, gold: &Expr, response: &Expr) -> Decision {
        match (gold, response) {
            (Expr::Text(_), _) | (_, Expr::Text(_)) => texts(gold, response),
            (Expr::BaseNumber { .. }, _) | (_, Expr::BaseNumber { .. }) => {
                base_numerals(gold, response)
            }
            (Expr::Matrix(a), Expr::Matrix(b)) => self.matrices(a, b),
            (Expr::Matrix(rows), Expr::Tuple(items)) | (Expr::Tuple(items), Expr::Matrix(rows)) => {
                match vector_entries(rows) {
                    Some(entries) => {
                        let (gold_items, response_items) = if matches!(gold, Expr::Matrix(_)) {
                            (entries, items.clone())
                        } else {
                            (items.clone(), entries)
                        };
                        self.ordered(&gold_items, &response_items)
                    }
                    None => Decision::differ(Rule::Structure, "a matrix against a tuple"),
                }
            }
            _ if is_definite_set(gold) || is_definite_set(response) => {
                self.real_sets(gold, response)
            }
            (
                Expr::List(a) | Expr::Set(a) | Expr::Tuple(a),
                Expr::List(b) | Expr::Set(b) | Expr::Tuple(b),
            ) => {
                let ordered = match (gold, response) {
                    // A set is never a tuple: `(1, 2)` is a point or an interval.
                    (Expr::Set(_), Expr::Tuple(_)) | (Expr::Tuple(_), Expr::Set(_)) => {
                        return Decision::differ(Rule::Structure, "a set against a tuple");
                    }
                    (Expr::Set(_), _) | (_, Expr::Set(_)) => false,
                    (Expr::Tuple(_), _) => true,
                    _ => !self.config.unordered_lists,
                };
                if a.len() != b.len() {
                    return Decision::differ(
                        Rule::Structure,
                        format!("{} items against {}", a.len(), b.len()),
                    );
                }
                if ordered {
                    self.ordered(a, b)
                } else {
                    self.unordered(a, b)
                }
            }
            (Expr::Set(items) | Expr::List(items), other)
            | (other, Expr::Set(items) | Expr::List(items))
                if other.is_scalar() =>
            {
                let response_is_list = std::ptr::eq(other, gold);
                match items.as_slice() {
                    [single] if response_is_list => self.equivalent(other, single),
                    [single] => self.equivalent(single, other),
                    // "$\boxed{15\frac{39}{40}}$ or $\boxed{\frac{639}{40}}$": alternative
                    // forms of one value are one answer; a hedge between values is not.
                    _ if response_is_list && matches!(response, Expr::List(_)) => {
                        self.all_equal(other, items)
                    }
                    _ => Decision::differ(
                        Rule::Structure,
                        format!("{} items against one value", items.len()),
                    ),
                }
            }
            _ if gold.is_scalar() && response.is_scalar() => self.scalars(gold, response),
            _ => Decision::differ(
                Rule::Structure,
                format!("{} against {}", kind(gold), kind(response)),
            ),
        }
    }

    /// Every listed answer equals the gold.
    fn all_equal(&mut self, gold: &Expr, items: &[Expr]) -> Decision {
        let golds = vec![gold.clone(); items.len()];
        let decision = self.ordered(&golds, items);
        if decision.is_different() {
            return Decision::differ(
                Rule::Structure,
                format!("{} different answers against one value", items.len()),
            );
        }
        decision
    }

    fn ordered(&mut self, gold: &[Expr], response: &[Expr]) -> Decision {
        if gold.len() != response.len() {
            return Decision::differ(
                Rule::Structure,
                format!("{} items against {}", gold.len(), response.len()),
            );
        }
        let mut undecided: Option<Decision> = None;
        let mut weakest: Option<Decision> = None;
        for (index, (g, r)) in gold.iter().zip(response).enumerate() {
            let decision = self.equivalent(g, r);
            match decision.outcome {
                Outcome::Incorrect => return decision.within(|| format!("item {}", index + 1)),
                Outcome::Unverifiable => {
                    if decision.rule == Rule::OverBudget {
                        return decision;
                    }
                    undecided.get_or_insert(decision.within(|| format!("item {}", index + 1)));
                }
                Outcome::Correct => {
                    if weakest
                        .as_ref()
                        .is_none_or(|w| strength(decision.rule) < strength(w.rule))
                    {
                        weakest = Some(decision);
                    }
                }
            }
        }
        undecided
            .or(weakest)
            .unwrap_or_else(|| Decision::equal(Rule::SameExpression, "no items"))
    }

    fn unordered(&mut self, gold: &[Expr], response: &[Expr]) -> Decision {
        let n = gold.len();
        let mut decisions: Vec<Vec<Decision>> = Vec::with_capacity(n);
        for g in gold {
            let mut row = Vec::with_capacity(n);
            for r in response {
                let decision = self.equivalent(g, r);
                if decision.rule == Rule::OverBudget {
                    return decision;
                }
                row.push(decision);
            }
            decisions.push(row);
        }
        let equal: Vec<Vec<bool>> = decisions
            .iter()
            .map(|row| row.iter().map(Decision::is_equal).collect())
            .collect();
        if let Some(matching) = perfect_matching(&equal) {
            let weakest = matching
                .iter()
                .enumerate()
                .map(|(g, &r)| &decisions[g][r])
                .min_by_key(|decision| strength(decision.rule))
                .cloned();
            return weakest.unwrap_or_else(|| Decision::equal(Rule::SameExpression, "no items"));
        }
        let possible: Vec<Vec<bool>> = decisions
            .iter()
            .map(|row| {
                row.iter()
                    .map(|decision| !decision.is_different())
                    .collect()
            })
            .collect();
        if perfect_matching(&possible).is_some() {
            let unsure = decisions
                .iter()
                .flatten()
                .find(|decision| decision.outcome == Outcome::Unverifiable)
                .cloned();
            return unsure.unwrap_or_else(|| {
                Decision::unknown(Rule::PrecisionLost, "items could not be matched")
            });
        }
        let unmatched = equal
            .iter()
            .position(|row| !row.iter().any(|&is_equal| is_equal))
            .unwrap_or(0);
        Decision::differ(
            Rule::Structure,
            format!(
                "nothing in the response matches {}",
                render(&gold[unmatched])
            ),
        )
    }

    fn matrices(&mut self, gold: &[Vec<Expr>], response: &[Vec<Expr>]) -> Decision {
        let shape = |rows: &[Vec<Expr>]| (rows.len(), rows.first().map_or(0, Vec::len));
        if shape(gold) != shape(response) {
            let ((gr, gc), (rr, rc)) = (shape(gold), shape(response));
            return Decision::differ(
                Rule::Structure,
                format!("a {gr}x{gc} matrix against a {rr}x{rc} matrix"),
            );
        }
        let flat_gold: Vec<Expr> = gold.iter().flatten().cloned().collect();
        let flat_response: Vec<Expr> = response.iter().flatten().cloned().collect();
        self.ordered(&flat_gold, &flat_response)
    }

    // ---- relations ---------------------------------------------------------------------------

    fn relations(&mut self, gold: &Expr, response: &Expr) -> Decision {
        let (Expr::Relation(gold_first, gold_rest), Expr::Relation(response_first, response_rest)) =
            (gold, response)
        else {
            return Decision::differ(Rule::Structure, "not relations");
        };
        if let (Some(gold_set), Some(response_set)) = (solution_set(gold), solution_set(response)) {
            if solution_variable(gold) != solution_variable(response) {
                return Decision::differ(Rule::RelationForm, "different variables");
            }
            return self.compare_parts(&gold_set, &response_set);
        }
        if let ([(Relation::Equal, gold_rhs)], [(Relation::Equal, response_rhs)]) =
            (gold_rest.as_slice(), response_rest.as_slice())
        {
            let gold_assignment = assignment(gold_first, gold_rhs);
            let response_assignment = assignment(response_first, response_rhs);
            if let (Some((gold_name, gold_value)), Some((response_name, response_value))) =
                (gold_assignment, response_assignment)
            {
                if gold_name != response_name {
                    return Decision::differ(
                        Rule::RelationForm,
                        format!("{gold_name} = … against {response_name} = …"),
                    );
                }
                return self.equivalent(gold_value, response_value);
            }
            let gold_difference = Expr::Add(vec![
                (**gold_first).clone(),
                Expr::Neg(Box::new(gold_rhs.clone())),
            ]);
            let response_difference = Expr::Add(vec![
                (**response_first).clone(),
                Expr::Neg(Box::new(response_rhs.clone())),
            ]);
            return self.proportional(&gold_difference, &response_difference);
        }
        // Chains of the same shape, read either way round.
        let forward = |rest: &[(Relation, Expr)]| {
            rest.iter()
                .map(|(relation, _)| *relation)
                .collect::<Vec<_>>()
        };
        let gold_operands: Vec<Expr> = std::iter::once((**gold_first).clone())
            .chain(gold_rest.iter().map(|(_, e)| e.clone()))
            .collect();
        let mut response_operands: Vec<Expr> = std::iter::once((**response_first).clone())
            .chain(response_rest.iter().map(|(_, e)| e.clone()))
            .collect();
        let gold_relations = forward(gold_rest);
        let mut response_relations = forward(response_rest);
        if gold_relations != response_relations {
            response_relations.reverse();
            response_relations
                .iter_mut()
                .for_each(|relation| *relation = relation.flipped());
            response_operands.reverse();
        }
        if gold_relations != response_relations {
            return Decision::differ(Rule::RelationForm, "different relations");
        }
        self.ordered(&gold_operands, &response_operands)
    }

    /// Whether `gold = c · response` for a nonzero constant c (the same equation).
    fn proportional(&mut self, gold: &Expr, response: &Expr) -> Decision {
        match symbolic::proportional(gold, response, &mut self.budget) {
            Ok(Some(true)) => {
                return Decision::equal(
                    Rule::RelationForm,
                    "equations agree up to a constant factor",
                );
            }
            Ok(Some(false)) => {
                return Decision::differ(
                    Rule::RelationForm,
                    "equations are not multiples of each other",
                );
            }
            Ok(None) => {}
            Err(exhausted) => return Decision::over_budget(exhausted),
        }
        let symbols = free_symbols(gold, response);
        let mut ratio: Option<crate::numeric::Approx> = None;
        let mut agreeing = 0;
        for index in 0..SAMPLE_POINTS {
            let assignment = sample_point(&symbols, index);
            let point = Point {
                symbols: &assignment,
            };
            let (g, r) = match (
                evaluate(gold, &point, &mut self.budget),
                evaluate(response, &point, &mut self.budget),
            ) {
                (Ok(g), Ok(r)) => (g, r),
                (Err(Failure::Exhausted(exhausted)), _)
                | (_, Err(Failure::Exhausted(exhausted))) => {
                    return Decision::over_budget(exhausted);
                }
                (Err(Failure::Undefined), _) | (_, Err(Failure::Undefined)) => continue,
                _ => {
                    return Decision::unknown(
                        Rule::PrecisionLost,
                        "the equations could not be evaluated",
                    );
                }
            };
            let Some(current) = crate::numeric::ratio(g, r) else {
                continue;
            };
            match ratio {
                None => ratio = Some(current),
                Some(first) => {
                    match compare_at_point(first, current, self.config.relative_tolerance.max(1e-9))
                    {
                        PointOutcome::Equal => agreeing += 1,
                        PointOutcome::Different => {
                            return Decision::differ(
                                Rule::RelationForm,
                                "equations are not multiples of each other",
                            );
                        }
                        PointOutcome::Unsure => {}
                    }
                }
            }
        }
        if agreeing >= 2 {
            Decision::equal(
                Rule::RelationForm,
                "equations agree up to a constant factor",
            )
        } else {
            Decision::unknown(Rule::PrecisionLost, "the equations could not be compared")
        }
    }

    // ---- real sets: intervals, unions, finite sets --------------------------------------------

    fn real_sets(&mut self, gold: &Expr, response: &Expr) -> Decision {
        match (set_parts(gold), set_parts(response)) {
            (Some(gold_parts), Some(response_parts)) => {
                self.compare_parts(&gold_parts, &response_parts)
            }
            _ => Decision::differ(
                Rule::Structure,
                format!("{} against {}", kind(gold), kind(response)),
            ),
        }
    }

    fn compare_parts(&mut self, gold: &[SetPart], response: &[SetPart]) -> Decision {
        if gold.len() != response.len() {
            return Decision::differ(
                Rule::Structure,
                format!("{} pieces against {}", gold.len(), response.len()),
            );
        }
        let mut equal = vec![vec![false; response.len()]; gold.len()];
        let mut possible = vec![vec![false; response.len()]; gold.len()];
        let mut ends_differ = false;
        let mut unsure: Option<Decision> = None;
        for (g_index, g) in gold.iter().enumerate() {
            for (r_index, r) in response.iter().enumerate() {
                let decision = self.compare_part(g, r);
                if decision.rule == Rule::OverBudget {
                    return decision;
                }
                ends_differ |= decision.rule == Rule::IntervalEnds;
                if decision.outcome == Outcome::Unverifiable {
                    unsure.get_or_insert(decision.clone());
                }
                equal[g_index][r_index] = decision.is_equal();
                possible[g_index][r_index] = !decision.is_different();
            }
        }
        if perfect_matching(&equal).is_some() {
            return Decision::equal(Rule::ExactValue, "same set");
        }
        if perfect_matching(&possible).is_some() {
            return unsure.unwrap_or_else(|| {
                Decision::unknown(Rule::PrecisionLost, "sets could not be matched")
            });
        }
        if ends_differ {
            return Decision::differ(Rule::IntervalEnds, "an interval end differs in openness");
        }
        Decision::differ(Rule::ExactValue, "different sets")
    }

    fn compare_part(&mut self, gold: &SetPart, response: &SetPart) -> Decision {
        match (gold, response) {
            (SetPart::Point(a), SetPart::Point(b)) => self.equivalent(a, b),
            (SetPart::Interval(a), SetPart::Interval(b)) => {
                let lower = self.equivalent(&a.lower, &b.lower);
                if !lower.is_equal() {
                    return lower;
                }
                let upper = self.equivalent(&a.upper, &b.upper);
                if !upper.is_equal() {
                    return upper;
                }
                let ends_agree = (a.lower_closed == b.lower_closed
                    && a.upper_closed == b.upper_closed)
                    || !self.config.interval_ends_matter;
                if ends_agree {
                    Decision::equal(Rule::ExactValue, "same interval")
                } else {
                    Decision::differ(Rule::IntervalEnds, "an interval end differs in openness")
                }
            }
            _ => Decision::differ(Rule::Structure, "an interval against a point"),
        }
    }

    // ---- scalars ------------------------------------------------------------------------------

    fn scalars(&mut self, gold: &Expr, response: &Expr) -> Decision {
        match (gold, response) {
            (Expr::Percent(a), Expr::Percent(b)) | (Expr::Degrees(a), Expr::Degrees(b)) => {
                return self.scalars(a, b);
            }
            (Expr::Percent(percent), other) | (other, Expr::Percent(percent)) => {
                return self.percent(percent, other);
            }
            (Expr::Degrees(degrees), other) | (other, Expr::Degrees(degrees)) => {
                return self.degrees(degrees, other);
            }
            _ => {}
        }
        if self.config.percent == PercentMode::Lenient {
            let direct = self.values(gold, response);
            if direct.is_equal() {
                return direct;
            }
            for scaled in [divide_by_hundred(gold), times_hundred(gold)] {
                if self.values(&scaled, response).is_equal() {
                    return Decision::equal(
                        Rule::ExactValue,
                        "equal after ×100 or ÷100 (compatibility leniency)",
                    );
                }
            }
            return direct;
        }
        self.values(gold, response)
    }

    fn percent(&mut self, percent: &Expr, other: &Expr) -> Decision {
        let as_value = self.values(&divide_by_hundred(percent), other);
        if self.config.percent == PercentMode::Value || as_value.is_equal() {
            return as_value;
        }
        let as_unit = self.values(percent, other);
        if as_unit.is_equal() {
            return Decision::equal(as_unit.rule, "equal with the percent sign left out");
        }
        as_unit
    }

    fn degrees(&mut self, degrees: &Expr, other: &Expr) -> Decision {
        let as_number = self.values(degrees, other);
        if as_number.is_equal()
            || !other.any(&mut |node| matches!(node, Expr::Constant(Constant::Pi)))
        {
            return as_number;
        }
        let radians = Expr::Div(
            Box::new(Expr::Mul(vec![
                degrees.clone(),
                Expr::Constant(Constant::Pi),
            ])),
            Box::new(Expr::integer(180)),
        );
        let converted = self.values(&radians, other);
        if converted.is_equal() {
            return Decision::equal(converted.rule, "equal after converting degrees to radians");
        }
        converted
    }

    /// Value equality: exact rationals, then the symbolic form, then sampling.
    fn values(&mut self, gold: &Expr, response: &Expr) -> Decision {
        if let Some(decision) = infinities(gold, response) {
            return decision;
        }
        // A value too large to compute exactly may still cancel symbolically
        // (`10^{10^{10}} / 10^{10^{10}}`), so only a spent step budget stops here.
        let mut too_large = None;
        match (
            rational_value(gold, &mut self.budget),
            rational_value(response, &mut self.budget),
        ) {
            (Ok(Some(a)), Ok(Some(b))) => return self.rationals(&a, &b),
            (Err(exhausted), _) | (_, Err(exhausted)) if exhausted.limit == Limit::Steps => {
                return Decision::over_budget(exhausted);
            }
            (Err(exhausted), _) | (_, Err(exhausted)) => too_large = Some(exhausted),
            _ => {}
        }
        match symbolic::equal(gold, response, &mut self.budget) {
            Ok(Some(true)) => return Decision::equal(Rule::SymbolicForm, "same canonical form"),
            Ok(Some(false)) if !self.config.rational_tolerance => {
                return Decision::differ(Rule::SymbolicForm, "different canonical forms");
            }
            Ok(_) => {}
            Err(exhausted) if exhausted.limit == Limit::Steps => {
                return Decision::over_budget(exhausted);
            }
            Err(exhausted) => {
                too_large.get_or_insert(exhausted);
            }
        }
        let sampled = self.sample(gold, response);
        match too_large {
            Some(exhausted) if sampled.outcome == Outcome::Unverifiable => {
                Decision::over_budget(exhausted)
            }
            _ => sampled,
        }
    }

    fn rationals(&self, a: &BigRational, b: &BigRational) -> Decision {
        if a == b {
            return Decision::equal(Rule::ExactValue, "equal rationals");
        }
        if self.config.rational_tolerance {
            let difference = (a - b).abs();
            let scale = a.abs().max(b.abs());
            let tolerance = BigRational::from_float(self.config.relative_tolerance)
                .unwrap_or_else(BigRational::zero);
            if difference <= tolerance * scale {
                return Decision::equal(Rule::ExactValue, "equal within the relative tolerance");
            }
        }
        Decision::differ(
            Rule::ExactValue,
            format!("{} ≠ {}", short_rational(a), short_rational(b)),
        )
    }

    fn sample(&mut self, gold: &Expr, response: &Expr) -> Decision {
        let symbols = free_symbols(gold, response);
        let points = if symbols.is_empty() { 1 } else { SAMPLE_POINTS };
        let mut equal_points = 0;
        let mut unsure = false;
        for index in 0..points {
            let assignment = sample_point(&symbols, index);
            let point = Point {
                symbols: &assignment,
            };
            let outcome = match (
                evaluate(gold, &point, &mut self.budget),
                evaluate(response, &point, &mut self.budget),
            ) {
                (Ok(g), Ok(r)) => compare_at_point(g, r, self.config.relative_tolerance),
                (Err(Failure::Exhausted(exhausted)), _)
                | (_, Err(Failure::Exhausted(exhausted))) => {
                    return Decision::over_budget(exhausted);
                }
                (Err(Failure::NotScalar), _) | (_, Err(Failure::NotScalar)) => {
                    return Decision::unknown(
                        Rule::Unsupported,
                        "a value that cannot be evaluated",
                    );
                }
                (Err(Failure::Undefined), Err(Failure::Undefined)) => continue,
                (Err(Failure::Undefined), Ok(_)) | (Ok(_), Err(Failure::Undefined)) => {
                    return Decision::differ(
                        Rule::NumericSampling,
                        "one side is undefined where the other is not",
                    );
                }
                (Err(Failure::Unreliable), _) | (_, Err(Failure::Unreliable)) => {
                    PointOutcome::Unsure
                }
            };
            match outcome {
                PointOutcome::Equal => equal_points += 1,
                PointOutcome::Different => {
                    let at = if assignment.is_empty() {
                        String::new()
                    } else {
                        format!(" at {}", describe_point(&assignment))
                    };
                    return Decision::differ(Rule::NumericSampling, format!("values differ{at}"));
                }
                PointOutcome::Unsure => unsure = true,
            }
        }
        if equal_points > 0 && !unsure {
            Decision::equal(
                Rule::NumericSampling,
                format!("equal at {equal_points} sample point(s)"),
            )
        } else {
            Decision::unknown(
                Rule::PrecisionLost,
                "floating-point evaluation could not decide",
            )
        }
    }
}

// ---- helpers ----------------------------------------------------------------------------------

/// Rules ordered from weakest evidence to strongest, to report the weakest one a
/// structured answer relied on.
fn strength(rule: Rule) -> u8 {
    match rule {
        Rule::NumericSampling => 0,
        Rule::RelationForm => 1,
        Rule::TextMatch | Rule::ChoiceLetter | Rule::BaseNumeral => 2,
        Rule::SymbolicForm => 3,
        Rule::ExactValue => 4,
        _ => 5,
    }
}

fn kind(expr: &Expr) -> &'static str {
    match expr {
        Expr::Text(_) => "text",
        Expr::BaseNumber { .. } => "a numeral in a base",
        Expr::Tuple(_) => "a tuple",
        Expr::List(_) => "a list",
        Expr::Set(_) => "a set",
        Expr::Interval(_) => "an interval",
        Expr::SetOperation(..) => "a set expression",
        Expr::Matrix(_) => "a matrix",
        Expr::Relation(..) => "a relation",
        Expr::Ellipsis => "an ellipsis",
        Expr::EmptySet => "the empty set",
        Expr::Reals => "the real line",
        _ => "a value",
    }
}

fn short_rational(value: &BigRational) -> String {
    // Printing a huge number in decimal is quadratic; describe it instead.
    let bits = value.numer().bits().max(value.denom().bits());
    if bits > 128 {
        return format!("a {bits}-bit rational");
    }
    value.to_string()
}

fn divide_by_hundred(expr: &Expr) -> Expr {
    Expr::Div(Box::new(expr.clone()), Box::new(Expr::integer(100)))
}

fn times_hundred(expr: &Expr) -> Expr {
    Expr::Mul(vec![expr.clone(), Expr::integer(100)])
}

/// Key for comparing prose: lowercase letters and digits only.
fn text_key(expr: &Expr) -> String {
    let rendered = match expr {
        Expr::Text(text) => text.clone(),
        other => render(other),
    };
    rendered
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn texts(gold: &Expr, response: &Expr) -> Decision {
    let (gold_key, response_key) = (text_key(gold), text_key(response));
    if !gold_key.is_empty() && gold_key == response_key {
        Decision::equal(Rule::TextMatch, "same words")
    } else {
        Decision::differ(Rule::TextMatch, "different words")
    }
}

fn base_numerals(gold: &Expr, response: &Expr) -> Decision {
    let digits = |expr: &Expr| -> Option<(String, Option<u32>)> {
        match expr {
            Expr::BaseNumber { digits, base } => Some((
                digits.trim_start_matches('0').to_ascii_lowercase(),
                Some(*base),
            )),
            Expr::Number(number)
                if number.value.is_integer() && !number.decimal && !number.value.is_negative() =>
            {
                Some((
                    number
                        .value
                        .to_integer()
                        .to_string()
                        .trim_start_matches('0')
                        .to_string(),
                    None,
                ))
            }
            _ => None,
        }
    };
    match (digits(gold), digits(response)) {
        (Some((gold_digits, gold_base)), Some((response_digits, response_base))) => {
            // The response may leave out the gold's base (`2516` for `2516_8`), but a
            // numeral in a base is not the decimal number with the same digits.
            let bases_agree = gold_base == response_base || response_base.is_none();
            if bases_agree && gold_digits == response_digits {
                Decision::equal(Rule::BaseNumeral, "same digits in the same base")
            } else {
                Decision::differ(Rule::BaseNumeral, "different digits or base")
            }
        }
        _ => Decision::differ(
            Rule::Structure,
            "a numeral in a base against something else",
        ),
    }
}

/// The entries of a one-row or one-column matrix.
fn vector_entries(rows: &[Vec<Expr>]) -> Option<Vec<Expr>> {
    match rows {
        [row] => Some(row.clone()),
        _ if rows.iter().all(|row| row.len() == 1) => {
            Some(rows.iter().map(|row| row[0].clone()).collect())
        }
        _ => None,
    }
}

/// A subset of the line for sure; `(a, b)` only when an end is infinite (else it may be a point).
fn is_definite_set(expr: &Expr) -> bool {
    let infinite =
        |expr: &Expr| expr.any(&mut |node| matches!(node, Expr::Constant(Constant::Infinity)));
    match expr {
        Expr::Interval(_) | Expr::SetOperation(..) | Expr::Reals | Expr::EmptySet => true,
        Expr::Tuple(items) => items.len() == 2 && items.iter().any(infinite),
        _ => false,
    }
}

/// Kuhn's augmenting-path matching; returns the partner of each left vertex.
fn perfect_matching(edges: &[Vec<bool>]) -> Option<Vec<usize>> {
    fn augment(
        left: usize,
        edges: &[Vec<bool>],
        seen: &mut [bool],
        partner_of_right: &mut [Option<usize>],
    ) -> bool {
        for right in 0..edges[left].len() {
            if edges[left][right] && !seen[right] {
                seen[right] = true;
                if partner_of_right[right]
                    .is_none_or(|other| augment(other, edges, seen, partner_of_right))
                {
                    partner_of_right[right] = Some(left);
                    return true;
                }
            }
        }
        false
    }
    let n = edges.len();
    let mut partner_of_right = vec![None; n];
    for left in 0..n {
        let mut seen = vec![false; n];
        if !augment(left, edges, &mut seen, &mut partner_of_right) {
            return None;
        }
    }
    let mut partner_of_left = vec![0; n];
    for (right, left) in partner_of_right.iter().enumerate() {
        partner_of_left[(*left)?] = right;
    }
    Some(partner_of_left)
}

/// `±∞` compared by sign; a finite value never equals an infinite one.
fn infinities(gold: &Expr, response: &Expr) -> Option<Decision> {
    let has_infinity =
        |expr: &Expr| expr.any(&mut |node| matches!(node, Expr::Constant(Constant::Infinity)));
    if !has_infinity(gold) && !has_infinity(response) {
        return None;
    }
    fn sign(expr: &Expr) -> Option<i8> {
        match expr {
            Expr::Constant(Constant::Infinity) => Some(1),
            Expr::Neg(inner) => sign(inner).map(|s| -s),
            _ => None,
        }
    }
    Some(match (sign(gold), sign(response)) {
        (Some(a), Some(b)) if a == b => Decision::equal(Rule::SameExpression, "same infinity"),
        (Some(_), Some(_)) => Decision::differ(Rule::ExactValue, "infinities of opposite sign"),
        (Some(_), None) if !has_infinity(response) => {
            Decision::differ(Rule::ExactValue, "infinite against finite")
        }
        (None, Some(_)) if !has_infinity(gold) => {
            Decision::differ(Rule::ExactValue, "finite against infinite")
        }
        _ => Decision::unknown(Rule::Unsupported, "arithmetic with infinity"),
    })
}

/// Replaces every `±` by both signs; `None` when there is none, `Err` when too many.
fn expand_plus_minus(expr: &Expr) -> Option<Result<Expr, ()>> {
    if !expr.any(&mut |node| matches!(node, Expr::PlusMinus(_))) {
        return None;
    }
    let expanded = match expr {
        Expr::List(items) | Expr::Set(items) => {
            let mut flat = Vec::new();
            for item in items {
                match variants(item) {
                    Some(alternatives) => flat.extend(alternatives),
                    None => return Some(Err(())),
                }
                if flat.len() > MAX_PLUS_MINUS_VARIANTS * 4 {
                    return Some(Err(()));
                }
            }
            if matches!(expr, Expr::Set(_)) {
                Expr::Set(flat)
            } else {
                Expr::List(flat)
            }
        }
        _ if expr.is_scalar() => match variants(expr) {
            Some(alternatives) => Expr::List(alternatives),
            None => return Some(Err(())),
        },
        _ => return None,
    };
    Some(Ok(expanded))
}

/// All sign choices of a scalar with `±` terms (up to `MAX_PLUS_MINUS_VARIANTS`).
fn variants(expr: &Expr) -> Option<Vec<Expr>> {
    let combine = |children: &[Expr], build: &dyn Fn(Vec<Expr>) -> Expr| -> Option<Vec<Expr>> {
        let mut results: Vec<Vec<Expr>> = vec![Vec::new()];
        for child in children {
            let options = variants(child)?;
            let mut next = Vec::new();
            for partial in &results {
                for option in &options {
                    let mut extended = partial.clone();
                    extended.push(option.clone());
                    next.push(extended);
                }
            }
            if next.len() > MAX_PLUS_MINUS_VARIANTS {
                return None;
            }
            results = next;
        }
        Some(results.into_iter().map(build).collect())
    };
    let pair = |a: &Expr, b: &Expr, build: &dyn Fn(Box<Expr>, Box<Expr>) -> Expr| {
        combine(&[a.clone(), b.clone()], &|mut parts: Vec<Expr>| {
            let second = parts.pop().unwrap_or(Expr::EmptySet);
            let first = parts.pop().unwrap_or(Expr::EmptySet);
            build(Box::new(first), Box::new(second))
        })
    };
    if !expr.any(&mut |node| matches!(node, Expr::PlusMinus(_))) {
        return Some(vec![expr.clone()]);
    }
    match expr {
        Expr::PlusMinus(inner) => {
            let options = variants(inner)?;
            Some(
                options
                    .iter()
                    .flat_map(|option| [option.clone(), Expr::Neg(Box::new(option.clone()))])
                    .collect(),
            )
        }
        Expr::Neg(inner) => Some(
            variants(inner)?
                .into_iter()
                .map(|option| Expr::Neg(Box::new(option)))
                .collect(),
        ),
        Expr::Add(terms) => combine(terms, &Expr::Add),
        Expr::Mul(factors) => combine(factors, &Expr::Mul),
        Expr::Apply(function, arguments) => {
            combine(arguments, &|arguments| Expr::Apply(*function, arguments))
        }
        Expr::Div(a, b) => pair(a, b, &Expr::Div),
        Expr::Pow(a, b) => pair(a, b, &Expr::Pow),
        Expr::Root(a, b) => pair(a, b, &Expr::Root),
        _ => None,
    }
}

/// `v = value` (either way round) where `v` is a lone symbol not used in `value`.
fn assignment<'e>(left: &'e Expr, right: &'e Expr) -> Option<(&'e str, &'e Expr)> {
    let uses = |expr: &Expr, name: &str| {
        expr.any(&mut |node| matches!(node, Expr::Symbol(s) if s == name))
    };
    match (left, right) {
        (Expr::Symbol(name), value) if !uses(value, name) => Some((name, value)),
        (value, Expr::Symbol(name)) if !uses(value, name) => Some((name, value)),
        _ => None,
    }
}

/// What a relation says when the other side is a bare answer: `x = 3` says 3,
/// `x \in [0, 1]` says [0, 1], `a = b = 101` says 101, `x < 3` says (-∞, 3).
fn unwrap_relation(relation: &Expr, other: &Expr) -> Option<Expr> {
    let Expr::Relation(first, rest) = relation else {
        return None;
    };
    if let [(Relation::In, set)] = rest.as_slice() {
        return Some(set.clone());
    }
    // `x = 14/3 ≈ 4.67` states 14/3: the chain up to its first approximation.
    let exact_length = rest
        .iter()
        .take_while(|(relation, _)| *relation == Relation::Equal)
        .count();
    if rest[exact_length..]
        .iter()
        .all(|(relation, _)| *relation == Relation::Approx)
    {
        let lone_symbol = |expr: &Expr| matches!(expr, Expr::Symbol(_));
        let stated = if exact_length == 0 {
            first
        } else {
            &rest[exact_length - 1].1
        };
        let approximated = exact_length < rest.len();
        return match (lone_symbol(stated), approximated) {
            (false, _) => Some(stated.clone()),
            // `5 = x`: the value is on the left.
            (true, false) if !lone_symbol(first) => Some((**first).clone()),
            (true, false) => Some(stated.clone()),
            // `x ≈ 12` states no exact value.
            (true, true) => None,
        };
    }
    // Against a pair `(a, b)` an inequality reads it as an open interval.
    if is_definite_set(other) || matches!(other, Expr::Tuple(items) if items.len() == 2) {
        let parts = solution_set(relation)?;
        return Some(parts_to_expr(parts));
    }
    None
}

/// A subset of the real line: intervals and isolated points.
#[derive(Debug, Clone)]
enum SetPart {
    Interval(Interval),
    Point(Expr),
}

fn infinity(negative: bool) -> Expr {
    let infinity = Expr::Constant(Constant::Infinity);
    if negative {
        Expr::Neg(Box::new(infinity))
    } else {
        infinity
    }
}

fn set_parts(expr: &Expr) -> Option<Vec<SetPart>> {
    match expr {
        Expr::Interval(interval) => Some(vec![SetPart::Interval((**interval).clone())]),
        Expr::Tuple(items) if items.len() == 2 => Some(vec![SetPart::Interval(Interval {
            lower: items[0].clone(),
            upper: items[1].clone(),
            lower_closed: false,
            upper_closed: false,
        })]),
        Expr::Reals => Some(vec![SetPart::Interval(Interval {
            lower: infinity(true),
            upper: infinity(false),
            lower_closed: false,
            upper_closed: false,
        })]),
        Expr::EmptySet => Some(Vec::new()),
        Expr::Set(items) if items.iter().all(Expr::is_scalar) => {
            Some(items.iter().cloned().map(SetPart::Point).collect())
        }
        Expr::SetOperation(SetOperation::Union, left, right) => {
            let mut parts = set_parts(left)?;
            parts.extend(set_parts(right)?);
            Some(parts)
        }
        Expr::Relation(..) => solution_set(expr),
        _ => None,
    }
}

fn parts_to_expr(parts: Vec<SetPart>) -> Expr {
    let mut exprs = parts.into_iter().map(|part| match part {
        SetPart::Interval(interval) => Expr::Interval(Box::new(interval)),
        SetPart::Point(point) => Expr::Set(vec![point]),
    });
    let Some(first) = exprs.next() else {
        return Expr::EmptySet;
    };
    exprs.fold(first, |union, next| {
        Expr::SetOperation(SetOperation::Union, Box::new(union), Box::new(next))
    })
}

/// The single variable an inequality or membership constrains.
fn solution_variable(relation: &Expr) -> Option<&str> {
    let Expr::Relation(first, rest) = relation else {
        return None;
    };
    std::iter::once(&**first)
        .chain(rest.iter().map(|(_, operand)| operand))
        .find_map(|operand| match operand {
            Expr::Symbol(name) => Some(name.as_str()),
            _ => None,
        })
}

/// The solution set of a one-variable inequality chain or membership, as interval pieces.
fn solution_set(relation: &Expr) -> Option<Vec<SetPart>> {
    let Expr::Relation(first, rest) = relation else {
        return None;
    };
    if let ([(Relation::In, set)], Expr::Symbol(_)) = (rest.as_slice(), &**first) {
        return set_parts(set);
    }
    let operands: Vec<&Expr> = std::iter::once(&**first)
        .chain(rest.iter().map(|(_, operand)| operand))
        .collect();
    let variable_positions: Vec<usize> = operands
        .iter()
        .enumerate()
        .filter(|(_, operand)| operand.contains_symbol())
        .map(|(index, _)| index)
        .collect();
    let [position] = variable_positions[..] else {
        return None;
    };
    if !matches!(operands[position], Expr::Symbol(_)) {
        return None;
    }
    let is_order = |relation: Relation| {
        matches!(
            relation,
            Relation::Less | Relation::LessEqual | Relation::Greater | Relation::GreaterEqual
        )
    };
    match (rest.len(), position) {
        (1, _) if rest[0].0 == Relation::NotEqual => {
            let point = operands[1 - position].clone();
            Some(vec![
                SetPart::Interval(Interval {
                    lower: infinity(true),
                    upper: point.clone(),
                    lower_closed: false,
                    upper_closed: false,
                }),
                SetPart::Interval(Interval {
                    lower: point,
                    upper: infinity(false),
                    lower_closed: false,
                    upper_closed: false,
                }),
            ])
        }
        (1, _) if is_order(rest[0].0) => {
            // Read as `x op bound`.
            let (relation, bound) = if position == 0 {
                (rest[0].0, operands[1])
            } else {
                (rest[0].0.flipped(), operands[0])
            };
            let closed = matches!(relation, Relation::LessEqual | Relation::GreaterEqual);
            let interval = if matches!(relation, Relation::Less | Relation::LessEqual) {
                Interval {
                    lower: infinity(true),
                    upper: bound.clone(),
                    lower_closed: false,
                    upper_closed: closed,
                }
            } else {
                Interval {
                    lower: bound.clone(),
                    upper: infinity(false),
                    lower_closed: closed,
                    upper_closed: false,
                }
            };
            Some(vec![SetPart::Interval(interval)])
        }
        (2, 1) if is_order(rest[0].0) && is_order(rest[1].0) => {
            let ascending =
                |relation: Relation| matches!(relation, Relation::Less | Relation::LessEqual);
            if ascending(rest[0].0) != ascending(rest[1].0) {
                return None;
            }
            let closed = |relation: Relation| {
                matches!(relation, Relation::LessEqual | Relation::GreaterEqual)
            };
            let interval = if ascending(rest[0].0) {
                Interval {
                    lower: operands[0].clone(),
                    upper: operands[2].clone(),
                    lower_closed: closed(rest[0].0),
                    upper_closed: closed(rest[1].0),
                }
            } else {
                Interval {
                    lower: operands[2].clone(),
                    upper: operands[0].clone(),
                    lower_closed: closed(rest[1].0),
                    upper_closed: closed(rest[0].0),
                }
            };
            Some(vec![SetPart::Interval(interval)])
        }
        _ => None,
    }
}

/// The free symbols of both sides, sorted, each once.
fn free_symbols(a: &Expr, b: &Expr) -> Vec<String> {
    let mut symbols = Vec::new();
    for expr in [a, b] {
        expr.any(&mut |node| {
            if let Expr::Symbol(name) = node
                && !symbols.contains(name)
            {
                symbols.push(name.clone());
            }
            false
        });
    }
    symbols.sort();
    symbols
}

/// Deterministic pseudo-random values in [0.6, 2.4): positive, so that `\sqrt{x^2} = x`
/// and `\sqrt{1/n} = 1/\sqrt{n}` hold as competition answers intend.
fn sample_point(symbols: &[String], index: usize) -> Vec<(String, f64)> {
    symbols
        .iter()
        .enumerate()
        .map(|(position, name)| {
            let mut state = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (position as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            state ^= state >> 31;
            state = state.wrapping_mul(0x94D0_49BB_1331_11EB);
            state ^= state >> 29;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            (name.clone(), 0.6 + 1.8 * unit)
        })
        .collect()
}

fn describe_point(assignment: &[(String, f64)]) -> String {
    assignment
        .iter()
        .map(|(name, value)| format!("{name} = {value:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}
