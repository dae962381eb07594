//! Everything the report states, computed from the run store's counts and
//! samples with `boundary-core`: pass@k curves with bootstrap intervals,
//! paired differences between models, coverage, per-class breakdowns,
//! perplexity under the base, which strategy each correct answer follows,
//! and the findings — each a comparison with the paper decided by whether a
//! confidence interval excludes zero, never assumed.

use std::collections::{BTreeMap, BTreeSet};

use boundary_core::{
    AccuracyBin, Bootstrap, Comparison, Curve, Interval, ProblemCounts, SamplingEfficiencyGap,
    ShortProblems, accuracy_histogram, default_ks, pass_at_k_curve, sampling_efficiency_gap,
};
use boundary_store::Store;
use serde::Serialize;

use crate::config::{EvalSpec, LabConfig};
use crate::error::{LabError, Result};
use crate::eval::{BASE_SCORER, EvalContext, ModelEval, score_samples, stored_samples};
use crate::model::Transformer;
use crate::pipeline::{ModelId, Sidecar};
use crate::task::verifier::parse_response;
use crate::task::{Op, Problem, StrategyKind, Task};

/// One evaluated model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: ModelId,
    pub id: String,
    pub label: String,
    pub run_id: i64,
    /// Per-problem counts under the trace verifier.
    pub counts: Vec<ProblemCounts>,
    pub curve: Curve,
    /// The same samples graded answer-only (final value only).
    pub answer_curve: Curve,
    #[serde(skip)]
    pub sidecar: Sidecar,
}

fn bootstrap(spec: &EvalSpec, seed: u64) -> Result<Bootstrap> {
    Bootstrap::new(spec.bootstrap.max(2), 0.95, seed)
        .map_err(|e| LabError::Invalid(format!("eval.bootstrap: {e}")))
}

fn curve(counts: &[ProblemCounts], bootstrap: Option<&Bootstrap>) -> Result<Curve> {
    pass_at_k_curve(
        counts,
        &default_ks(counts),
        ShortProblems::Reject,
        bootstrap,
    )
    .map_err(|e| LabError::Invalid(format!("pass@k curve: {e}")))
}

impl ModelResult {
    pub fn new(model: ModelId, eval: ModelEval, sidecar: Sidecar, spec: &EvalSpec) -> Result<Self> {
        let b = bootstrap(spec, 0)?;
        Ok(Self {
            model,
            id: model.id(),
            label: model.label(),
            run_id: eval.run_id,
            curve: curve(&eval.counts, Some(&b))?,
            answer_curve: curve(&eval.answer_counts, None)?,
            counts: eval.counts,
            sidecar,
        })
    }

    pub fn pass_at(&self, k: u64) -> Option<f64> {
        self.curve
            .curve
            .iter()
            .find(|p| p.k == k)
            .map(|p| p.pass_at_k)
    }

    /// Ids of test problems solved at least once.
    pub fn solved(&self) -> Vec<String> {
        self.counts
            .iter()
            .filter(|p| p.solved())
            .map(|p| p.id.clone())
            .collect()
    }
}

/// A paired difference `a − b` between two models (or two ks), with its interval.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub a_k: u64,
    pub b_k: u64,
    pub a: f64,
    pub b: f64,
    pub difference: f64,
    pub ci: Option<Interval>,
}

impl Difference {
    fn of(
        a: &[ProblemCounts],
        a_k: u64,
        b: &[ProblemCounts],
        b_k: u64,
        bootstrap: &Bootstrap,
    ) -> Result<Self> {
        let gap: SamplingEfficiencyGap =
            sampling_efficiency_gap(a, a_k, b, b_k, Some(bootstrap))
                .map_err(|e| LabError::Invalid(format!("paired difference: {e}")))?;
        Ok(Self {
            a_k,
            b_k,
            a: gap.reference_pass_at_k,
            b: gap.other_pass_at_k,
            difference: gap.gap,
            ci: gap.ci,
        })
    }

    /// The sign the interval supports: +1 above zero, −1 below, 0 when it straddles zero.
    pub fn sign(&self) -> i8 {
        match self.ci {
            Some(ci) if ci.low > 0.0 => 1,
            Some(ci) if ci.high < 0.0 => -1,
            _ => 0,
        }
    }
}

/// How an RL-trained model relates to the base.
#[derive(Debug, Clone, Serialize)]
pub struct RlComparison {
    pub model: String,
    pub label: String,
    /// RL pass@1 − base pass@1.
    pub pass1_gain: Difference,
    /// Base pass@n − RL pass@n.
    pub base_lead_at_n: Difference,
    /// The smallest k at which the base's curve reaches the RL model's (point estimates).
    pub crossover_k: Option<u64>,
    /// Problems the RL model solves that the base never does, and the reverse.
    pub rl_only: Vec<String>,
    pub base_only: Vec<String>,
    /// Share of the RL model's solved problems the base also solves.
    pub rl_solved_also_by_base: Option<f64>,
    /// ΔSE = base pass@n − RL pass@1.
    pub sampling_efficiency_gap: Difference,
}

/// pass@1 and pass@n of one model on one problem class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassCell {
    pub pass1: f64,
    pub pass_n: f64,
    pub solved: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassRow {
    pub class: String,
    pub problems: usize,
    /// Model id → numbers.
    pub models: BTreeMap<String, ClassCell>,
    /// Model id → pass@k curve on this class.
    #[serde(skip)]
    pub curves: BTreeMap<String, Curve>,
}

/// Perplexity under the base of a model's responses (paper Fig. 6).
#[derive(Debug, Clone, Serialize)]
pub struct PerplexityRow {
    pub model: String,
    pub label: String,
    pub responses: usize,
    pub median: f64,
    pub mean_log: f64,
    /// Share of this model's responses below the median perplexity of the base's own responses.
    pub below_base_median: f64,
    #[serde(skip)]
    pub values: Vec<f64>,
}

/// Which procedure each correct response is consistent with.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyUsage {
    pub model: String,
    pub correct_responses: usize,
    /// Label → share of correct responses: the highest-weight strategy whose
    /// operations cover the trace's, or `teacher op` when it uses that.
    pub shares: BTreeMap<String, f64>,
    /// Mean number of distinct correct traces per solved problem.
    pub distinct_correct_per_solved: f64,
}

/// A statement of the paper checked against this run.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub claim: String,
    pub observed: String,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Agrees,
    Disagrees,
    Inconclusive,
}

/// Whether the base landed where k = 1 and k = n are both informative.
#[derive(Debug, Clone, Serialize)]
pub struct Regime {
    pub pass1: f64,
    pub pass_n: f64,
    pub n: u64,
    pub pass1_band: (f64, f64),
    pub pass_n_band: (f64, f64),
    pub in_band: bool,
}

/// Everything the report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub seed: u64,
    pub n: u64,
    pub test_problems: usize,
    pub parameters: usize,
    pub regime: Regime,
    pub models: Vec<ModelResult>,
    pub comparisons: Vec<RlComparison>,
    pub distill: Option<RlComparison>,
    pub control: Option<RlComparison>,
    pub classes: Vec<ClassRow>,
    pub histograms: BTreeMap<String, Vec<AccuracyBin>>,
    pub perplexity: Vec<PerplexityRow>,
    /// Perplexity under the base of the teacher's traces of the test problems.
    pub teacher_perplexity: Option<f64>,
    pub strategies: Vec<StrategyUsage>,
    pub findings: Vec<Finding>,
    /// Problem id → class name.
    pub problem_classes: BTreeMap<String, String>,
}

/// The bands the task was tuned for (the "both ends informative").
pub const PASS1_BAND: (f64, f64) = (0.05, 0.40);
pub const PASS_N_BAND: (f64, f64) = (0.55, 0.95);

impl Analysis {
    pub fn new(
        task: &Task,
        test: &[Problem],
        config: &LabConfig,
        base_model: &Transformer,
        models: &[ModelResult],
        store: &mut Store,
        ctx: &EvalContext,
    ) -> Result<Self> {
        let b = bootstrap(&config.eval, 1)?;
        let n = config.eval.samples as u64;
        let base = models
            .iter()
            .find(|m| m.model == ModelId::Base)
            .ok_or_else(|| LabError::Invalid("no base model evaluated".into()))?;
        let problem_classes: BTreeMap<String, String> = test
            .iter()
            .map(|p| (p.id(), task.classify(p).to_string()))
            .collect();

        let compare = |m: &ModelResult| -> Result<RlComparison> {
            let cmp = Comparison::of(&base.counts, &m.counts);
            let crossover_k = base
                .curve
                .curve
                .iter()
                .zip(&m.curve.curve)
                .find(|(bp, mp)| bp.pass_at_k >= mp.pass_at_k)
                .map(|(bp, _)| bp.k);
            Ok(RlComparison {
                model: m.id.clone(),
                label: m.label.clone(),
                pass1_gain: Difference::of(&m.counts, 1, &base.counts, 1, &b)?,
                base_lead_at_n: Difference::of(&base.counts, n, &m.counts, n, &b)?,
                crossover_k,
                rl_only: cmp.only_b.clone(),
                base_only: cmp.only_a.clone(),
                rl_solved_also_by_base: cmp.fraction_of_b_also_solved_by_a(),
                sampling_efficiency_gap: Difference::of(&base.counts, n, &m.counts, 1, &b)?,
            })
        };
        let comparisons = models
            .iter()
            .filter(|m| matches!(m.model, ModelId::Rl(_)))
            .map(compare)
            .collect::<Result<Vec<_>>>()?;
        let distill = models
            .iter()
            .find(|m| m.model == ModelId::Distill)
            .map(compare)
            .transpose()?;
        let control = models
            .iter()
            .find(|m| m.model == ModelId::RandomReward)
            .map(compare)
            .transpose()?;

        let classes = class_rows(task, test, models, &b)?;
        let histograms = models
            .iter()
            .map(|m| {
                accuracy_histogram(&m.counts, 8)
                    .map(|h| (m.id.clone(), h))
                    .map_err(|e| LabError::Invalid(format!("histogram: {e}")))
            })
            .collect::<Result<_>>()?;

        let (perplexity, strategies) = sample_level(task, config, base_model, models, store, ctx)?;
        let teacher_perplexity = teacher_perplexity(task, test, base_model, ctx)?;
        let regime = Regime {
            pass1: base.pass_at(1).unwrap_or(0.0),
            pass_n: base.pass_at(n).unwrap_or(0.0),
            n,
            pass1_band: PASS1_BAND,
            pass_n_band: PASS_N_BAND,
            in_band: false,
        };
        let regime = Regime {
            in_band: (PASS1_BAND.0..=PASS1_BAND.1).contains(&regime.pass1)
                && (PASS_N_BAND.0..=PASS_N_BAND.1).contains(&regime.pass_n),
            ..regime
        };
        let mut analysis = Self {
            seed: config.seed,
            n,
            test_problems: test.len(),
            parameters: base.sidecar.parameters,
            regime,
            models: models.to_vec(),
            comparisons,
            distill,
            control,
            classes,
            histograms,
            perplexity,
            teacher_perplexity,
            strategies,
            findings: Vec::new(),
            problem_classes,
        };
        analysis.findings = findings(&analysis);
        Ok(analysis)
    }
}

fn class_rows(
    task: &Task,
    test: &[Problem],
    models: &[ModelResult],
    b: &Bootstrap,
) -> Result<Vec<ClassRow>> {
    let mut rows = Vec::new();
    for class in task.classes() {
        let ids: BTreeSet<String> = test
            .iter()
            .filter(|p| task.classify(p) == class)
            .map(Problem::id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let mut row = ClassRow {
            class: class.to_string(),
            problems: ids.len(),
            models: BTreeMap::new(),
            curves: BTreeMap::new(),
        };
        for m in models {
            let subset: Vec<ProblemCounts> = m
                .counts
                .iter()
                .filter(|p| ids.contains(&p.id))
                .cloned()
                .collect();
            let c = curve(&subset, Some(b))?;
            row.models.insert(
                m.id.clone(),
                ClassCell {
                    pass1: c.curve.first().map_or(0.0, |p| p.pass_at_k),
                    pass_n: c.curve.last().map_or(0.0, |p| p.pass_at_k),
                    solved: subset.iter().filter(|p| p.solved()).count(),
                },
            );
            row.curves.insert(m.id.clone(), c);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Perplexity under the base and strategy usage, from the stored samples.
fn sample_level(
    task: &Task,
    config: &LabConfig,
    base_model: &Transformer,
    models: &[ModelResult],
    store: &mut Store,
    ctx: &EvalContext,
) -> Result<(Vec<PerplexityRow>, Vec<StrategyUsage>)> {
    let mut perplexity = Vec::new();
    let mut strategies = Vec::new();
    let mut base_median = None;
    for m in models {
        let samples = stored_samples(store, ctx, &m.id)?;
        let scored: Vec<&crate::eval::StoredSample> = samples
            .iter()
            .filter(|s| (s.sample_index as usize) < config.eval.perplexity_samples)
            .collect();
        let scores = score_samples(store, ctx, m.run_id, &scored, base_model, BASE_SCORER)?;
        let mut values: Vec<f64> = scores
            .iter()
            .filter(|(_, tokens)| *tokens > 0)
            .map(|(sum, tokens)| (-sum / f64::from(*tokens)).exp())
            .collect();
        values.sort_by(f64::total_cmp);
        let median = values.get(values.len() / 2).copied().unwrap_or(f64::NAN);
        if m.model == ModelId::Base {
            base_median = Some(median);
        }
        let reference = base_median.unwrap_or(median);
        perplexity.push(PerplexityRow {
            model: m.id.clone(),
            label: m.label.clone(),
            responses: values.len(),
            median,
            mean_log: values.iter().map(|v| v.ln()).sum::<f64>() / values.len().max(1) as f64,
            below_base_median: values.iter().filter(|&&v| v < reference).count() as f64
                / values.len().max(1) as f64,
            values,
        });
        strategies.push(strategy_usage(task, m, &samples));
    }
    Ok((perplexity, strategies))
}

fn strategy_usage(
    task: &Task,
    m: &ModelResult,
    samples: &[crate::eval::StoredSample],
) -> StrategyUsage {
    let mut order: Vec<usize> = (0..task.spec().strategies.len()).collect();
    order.sort_by(|&a, &b| {
        task.spec().strategies[b]
            .weight
            .total_cmp(&task.spec().strategies[a].weight)
    });
    // Shortest-path strategies first (they are the specific ones), then walks.
    order.sort_by_key(|&i| task.spec().strategies[i].kind != StrategyKind::Shortest);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut distinct: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut correct = 0;
    for s in samples.iter().filter(|s| s.correct == Some(true)) {
        let Some(response) = s.response.as_deref() else {
            continue;
        };
        let Some(trace) = parse_response(response) else {
            continue;
        };
        correct += 1;
        distinct.entry(&s.problem_id).or_default().insert(response);
        let ops: BTreeSet<Op> = trace.steps.iter().map(|(op, _)| *op).collect();
        let label = if ops.contains(&task.spec().teacher_op) {
            "teacher op".to_string()
        } else {
            order
                .iter()
                .map(|&i| &task.spec().strategies[i])
                .find(|st| ops.iter().all(|op| st.ops.contains(op)))
                .map_or_else(|| "other".to_string(), |st| st.name.clone())
        };
        *counts.entry(label).or_default() += 1;
    }
    StrategyUsage {
        model: m.id.clone(),
        correct_responses: correct,
        shares: counts
            .into_iter()
            .map(|(k, v)| (k, v as f64 / correct.max(1) as f64))
            .collect(),
        distinct_correct_per_solved: distinct.values().map(BTreeSet::len).sum::<usize>() as f64
            / distinct.len().max(1) as f64,
    }
}

/// Median perplexity under the base of the teacher's traces of the test problems.
fn teacher_perplexity(
    task: &Task,
    test: &[Problem],
    base: &Transformer,
    ctx: &EvalContext,
) -> Result<Option<f64>> {
    let sequences: Vec<Vec<u32>> = test
        .iter()
        .filter_map(|p| {
            let trace = task.teacher_trace(p)?;
            let mut seq = ctx.tokenizer.prompt(p);
            seq.extend(ctx.tokenizer.response(&trace));
            Some(seq)
        })
        .collect();
    if sequences.is_empty() {
        return Ok(None);
    }
    let batch = crate::train::TeacherForcing::new(&sequences, crate::task::tokenizer::PROMPT_LEN)?;
    let sums: Vec<f32> = batch.log_probs(base, 1.0)?.sum(1)?.to_vec1()?;
    let mut values: Vec<f64> = sums
        .iter()
        .zip(&sequences)
        .map(|(s, seq)| {
            (-f64::from(*s) / (seq.len() - crate::task::tokenizer::PROMPT_LEN) as f64).exp()
        })
        .collect();
    values.sort_by(f64::total_cmp);
    Ok(values.get(values.len() / 2).copied())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn with_ci(d: &Difference) -> String {
    match d.ci {
        Some(ci) => format!(
            "{:+.1} pts [{:+.1}, {:+.1}]",
            100.0 * d.difference,
            100.0 * ci.low,
            100.0 * ci.high
        ),
        None => format!("{:+.1} pts", 100.0 * d.difference),
    }
}

/// The paper's claims, each checked against the measurements.
fn findings(a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = a.n;
    let rl = &a.comparisons;
    if !rl.is_empty() {
        let up = rl.iter().filter(|c| c.pass1_gain.sign() > 0).count();
        let down = rl.iter().filter(|c| c.pass1_gain.sign() < 0).count();
        let detail: Vec<String> = rl
            .iter()
            .map(|c| format!("{} {}", c.label, with_ci(&c.pass1_gain)))
            .collect();
        out.push(Finding {
            claim: "RL raises pass@1 over the base model.".into(),
            observed: format!(
                "{up} of {} algorithms raise pass@1 significantly, {down} lower it (RL − base, 95% CI): {}.",
                rl.len(),
                detail.join("; ")
            ),
            verdict: if up == rl.len() {
                Verdict::Agrees
            } else if up == 0 {
                Verdict::Disagrees
            } else {
                Verdict::Inconclusive
            },
        });

        let base_ahead = rl.iter().filter(|c| c.base_lead_at_n.sign() > 0).count();
        let rl_ahead = rl.iter().filter(|c| c.base_lead_at_n.sign() < 0).count();
        let detail: Vec<String> = rl
            .iter()
            .map(|c| format!("{} {}", c.label, with_ci(&c.base_lead_at_n)))
            .collect();
        out.push(Finding {
            claim: format!("At large k (here k = {n}) the base matches or beats the RL models."),
            observed: format!(
                "base − RL at k = {n}: base significantly ahead of {base_ahead}, behind {rl_ahead}, tied with {} of {}: {}.",
                rl.len() - base_ahead - rl_ahead,
                rl.len(),
                detail.join("; ")
            ),
            verdict: if rl_ahead == 0 {
                Verdict::Agrees
            } else if rl_ahead == rl.len() {
                Verdict::Disagrees
            } else {
                Verdict::Inconclusive
            },
        });

        let crossings: Vec<String> = rl
            .iter()
            .map(|c| match c.crossover_k {
                Some(k) => format!("{} at k = {k}", c.label),
                None => format!("{} never (RL above at every k ≤ {n})", c.label),
            })
            .collect();
        let crossed = rl.iter().filter(|c| c.crossover_k.is_some()).count();
        out.push(Finding {
            claim: "The base's pass@k curve crosses the RL curves as k grows.".into(),
            observed: format!(
                "Base curve reaches the RL curve (point estimates): {}.",
                crossings.join("; ")
            ),
            verdict: if crossed == rl.len() {
                Verdict::Agrees
            } else if crossed == 0 {
                Verdict::Disagrees
            } else {
                Verdict::Inconclusive
            },
        });

        let shares: Vec<String> = rl
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({} RL-only problems)",
                    c.label,
                    c.rl_solved_also_by_base.map_or("n/a".into(), pct),
                    c.rl_only.len()
                )
            })
            .collect();
        let total_rl_only: usize = rl.iter().map(|c| c.rl_only.len()).sum();
        let min_share = rl
            .iter()
            .filter_map(|c| c.rl_solved_also_by_base)
            .fold(1.0, f64::min);
        out.push(Finding {
            claim: "Problems RL models solve are (almost all) problems the base already solves."
                .into(),
            observed: format!(
                "Share of each RL model's solved test problems that the base also solves: {}.",
                shares.join("; ")
            ),
            verdict: if total_rl_only == 0 || min_share >= 0.95 {
                Verdict::Agrees
            } else if min_share < 0.8 {
                Verdict::Disagrees
            } else {
                Verdict::Inconclusive
            },
        });

        if let Some(base_ppl) = a.perplexity.iter().find(|p| p.model == "base") {
            let rows: Vec<String> = a
                .perplexity
                .iter()
                .filter(|p| rl.iter().any(|c| c.model == p.model))
                .map(|p| {
                    format!(
                        "{} median {:.2}, {} below the base's median",
                        p.label,
                        p.median,
                        pct(p.below_base_median)
                    )
                })
                .collect();
            let lower = a
                .perplexity
                .iter()
                .filter(|p| rl.iter().any(|c| c.model == p.model))
                .filter(|p| p.median < base_ppl.median)
                .count();
            out.push(Finding {
                claim: "RL models' responses are ones the base already finds likely (low perplexity under the base).".into(),
                observed: format!(
                    "Perplexity under the base: base's own responses median {:.2}; {}.",
                    base_ppl.median,
                    rows.join("; ")
                ),
                verdict: if lower == rows.len() {
                    Verdict::Agrees
                } else if lower == 0 {
                    Verdict::Disagrees
                } else {
                    Verdict::Inconclusive
                },
            });
        }
    }
    if let Some(d) = &a.distill {
        let lead = &d.base_lead_at_n;
        out.push(Finding {
            claim: "Distillation from a stronger teacher expands what the model can solve beyond the base.".into(),
            observed: format!(
                "Distill solves {} test problems the base never solves ({}); base − distill at k = {n}: {}.",
                d.rl_only.len(),
                class_summary(&d.rl_only, &a.problem_classes),
                with_ci(lead)
            ),
            verdict: match (d.rl_only.is_empty(), lead.sign()) {
                (false, -1) => Verdict::Agrees,
                (true, _) | (_, 1) => Verdict::Disagrees,
                _ => Verdict::Inconclusive,
            },
        });
    }
    if let Some(c) = &a.control {
        out.push(Finding {
            claim: "Control: RL on random rewards does not improve pass@1 (no reward leakage)."
                .into(),
            observed: format!(
                "Random-reward GRPO − base at k = 1: {}.",
                with_ci(&c.pass1_gain)
            ),
            verdict: if c.pass1_gain.sign() > 0 {
                Verdict::Disagrees
            } else {
                Verdict::Agrees
            },
        });
    }
    out
}

/// "3 explore-only, 2 teacher-only" for a list of problem ids.
pub fn class_summary(ids: &[String], classes: &BTreeMap<String, String>) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in ids {
        *counts
            .entry(classes.get(id).map_or("?", String::as_str))
            .or_default() += 1;
    }
    counts
        .iter()
        .map(|(c, k)| format!("{k} {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
