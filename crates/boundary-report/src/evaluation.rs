//! The paper's analyses as report sections: pass@k curves with bootstrap bands and
//! crossover ks, coverage (solved by one model only, both, neither) with the problems
//! only one model solves and their correct samples, accuracy histograms, the
//! sampling-efficiency gap, and perplexity distributions.
//!
//! The input ([`Evaluation`]) is plain analysis results; where they came from (a run
//! store, the lab, a notebook) is the caller's business.

use serde::Serialize;

use boundary_core::{
    AccuracyBin, Bound, Comparison, Crossing, Crossover, Curve, SamplingEfficiencyGap,
};

use crate::chart::{
    BarChart, BarSeries, BoxChart, BoxSeries, Chart, LineChart, Marker, Point, Series, XScale,
};
use crate::document::{Block, Cell, Figure, Section, Table, slug};

/// Everything an evaluation report shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evaluation {
    pub benchmarks: Vec<BenchmarkResults>,
    pub perplexity: Vec<PerplexityResults>,
}

/// The analyses of one benchmark, every model on the same problems.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkResults {
    pub benchmark: String,
    pub models: Vec<ModelResults>,
    /// The model the others are compared with (the base model), when there is one.
    pub reference: Option<String>,
    pub crossovers: Vec<CrossoverResult>,
    pub coverage: Vec<CoverageResult>,
    pub gaps: Vec<GapResult>,
}

/// One model on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelResults {
    pub model: String,
    pub curve: Curve,
    pub histogram: Vec<AccuracyBin>,
    pub samples: SampleTotals,
    /// The verifier whose grades were counted.
    pub verifier: Option<String>,
    /// Problems with at least one correct sample, and problems evaluated.
    pub solved: usize,
    pub problems: usize,
}

/// What a model's numbers are made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SampleTotals {
    /// Graded completed samples (what pass@k counts).
    pub graded: u64,
    /// Completed samples without a grade (left out).
    pub ungraded: u64,
    /// Generations that failed after their retries (left out, never counted wrong).
    pub failed: u64,
    /// Completed samples cut at the token limit (`finish_reason = length`).
    pub truncated: u64,
}

/// Where `model`'s curve overtakes `other`'s.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossoverResult {
    pub model: String,
    pub other: String,
    pub crossover: Crossover,
}

/// How the solved sets of `a` (the reference) and `b` relate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageResult {
    pub a: String,
    pub b: String,
    pub comparison: Comparison,
    /// Correct samples of the problems only `b` solves (for inspection), then those of
    /// the problems only `a` solves.
    pub only_b_samples: Vec<SolvedSample>,
    pub only_a_samples: Vec<SolvedSample>,
}

/// A correct sample, shown as evidence that a problem was solved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SolvedSample {
    pub problem: String,
    pub sample_index: u32,
    pub response: String,
    pub extracted: Option<String>,
    pub gold: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapResult {
    pub reference: String,
    pub other: String,
    pub gap: SamplingEfficiencyGap,
}

/// Per-response perplexities of `responses_of`'s samples under `scorer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerplexityResults {
    pub benchmark: String,
    pub scorer: String,
    pub responses_of: String,
    /// exp(mean negative log-likelihood per response token), one per response.
    pub perplexities: Vec<f64>,
    /// Pooled over every token: exp(Σ NLL / Σ tokens).
    pub pooled: f64,
    pub tokens: u64,
}

/// Options of the evaluation sections.
#[derive(Debug, Clone)]
pub struct SectionOptions {
    /// Confidence level of the intervals shown (for labels only).
    pub confidence: f64,
    /// At most this many problems only one model solves are shown with a sample each.
    pub max_exclusive_shown: usize,
    /// Responses longer than this many characters are shortened in the report (the
    /// sample browser has them whole).
    pub max_response_chars: usize,
}

impl Default for SectionOptions {
    fn default() -> Self {
        Self {
            confidence: 0.95,
            max_exclusive_shown: 20,
            max_response_chars: 4000,
        }
    }
}

/// The sections of an evaluation report: an overview, one section per benchmark and
/// a perplexity section.
pub fn sections(eval: &Evaluation, options: &SectionOptions) -> Vec<Section> {
    let mut out = vec![overview(eval)];
    for b in &eval.benchmarks {
        out.push(benchmark_section(b, options));
    }
    if !eval.perplexity.is_empty() {
        out.push(perplexity_section(&eval.perplexity));
    }
    out
}

fn ci_text(low: Option<f64>, high: Option<f64>) -> Cell {
    match (low, high) {
        (Some(l), Some(h)) => Cell::text(format!("{:.1} – {:.1}", 100.0 * l, 100.0 * h)),
        _ => Cell::Missing,
    }
}

fn overview(eval: &Evaluation) -> Section {
    let mut table = Table::new(
        "summary",
        "Per benchmark and model: pass@1 and pass@n (%), problems solved at least once, and \
         the samples behind the numbers.",
        &[
            "benchmark",
            "model",
            "problems",
            "n",
            "pass@1",
            "pass@n",
            "solved",
            "graded",
            "ungraded",
            "failed",
            "truncated",
        ],
    );
    for b in &eval.benchmarks {
        for m in &b.models {
            let first = m.curve.curve.first();
            let last = m.curve.curve.last();
            table.push(vec![
                Cell::text(&b.benchmark),
                Cell::text(&m.model),
                Cell::count(m.problems),
                last.map_or(Cell::Missing, |p| Cell::count(p.k)),
                first.map_or(Cell::Missing, |p| Cell::Percent(p.pass_at_k)),
                last.map_or(Cell::Missing, |p| Cell::Percent(p.pass_at_k)),
                Cell::count(m.solved),
                Cell::count(m.samples.graded),
                Cell::count(m.samples.ungraded),
                Cell::count(m.samples.failed),
                Cell::count(m.samples.truncated),
            ]);
        }
    }
    let mut section = Section::new("overview", "Overview").text(
        "pass@k is the unbiased estimator 1 − C(n−c, k)/C(n, k) per problem, averaged over \
         problems. Failed and ungraded samples are left out of every number, never counted as \
         wrong; truncated samples (cut at the token limit) are graded as they are.",
    );
    section = section.block(Block::Table(table));
    let mut findings = Vec::new();
    for b in &eval.benchmarks {
        for c in &b.crossovers {
            findings.push(format!("{}: {}", b.benchmark, crossover_sentence(c)));
        }
    }
    if !findings.is_empty() {
        section = section.block(Block::List(findings));
    }
    section
}

fn benchmark_section(b: &BenchmarkResults, options: &SectionOptions) -> Section {
    let id = slug(&b.benchmark);
    let mut section = Section::new(&id, &b.benchmark);

    // pass@k curves.
    let mut passk = Section::new(format!("{id}-passk"), format!("{} · pass@k", b.benchmark));
    let markers = b
        .crossovers
        .iter()
        .filter_map(|c| match c.crossover.crossing {
            Crossing::At { k } => Some(Marker {
                x: k,
                label: format!(" k≈{}", format_k(k)),
            }),
            _ => None,
        })
        .collect();
    let chart = LineChart {
        title: format!("{}: pass@k", b.benchmark),
        x_label: "k (samples per problem, log₂ scale)".into(),
        y_label: "pass@k (%)".into(),
        x_scale: XScale::Log2,
        y_range: None,
        series: b
            .models
            .iter()
            .map(|m| Series {
                name: m.model.clone(),
                points: m
                    .curve
                    .curve
                    .iter()
                    .map(|p| {
                        let point = Point::new(p.k as f64, 100.0 * p.pass_at_k);
                        match p.ci {
                            Some(ci) => point.with_interval(100.0 * ci.low, 100.0 * ci.high),
                            None => point,
                        }
                    })
                    .collect(),
            })
            .collect(),
        markers,
    };
    let has_ci = b
        .models
        .iter()
        .any(|m| m.curve.curve.iter().any(|p| p.ci.is_some()));
    passk = passk.block(Block::Figure(Figure::new(
        format!("{id}-passk"),
        format!(
            "pass@k of every model on {}{}.",
            b.benchmark,
            if has_ci {
                format!(
                    ", with {:.0}% bootstrap intervals over problems (bands)",
                    100.0 * options.confidence
                )
            } else {
                String::new()
            }
        ),
        Chart::Line(chart),
    )));
    passk = passk.block(Block::Table(passk_table(b, options)));
    if !b.crossovers.is_empty() {
        passk = passk.block(Block::Table(crossover_table(b, options)));
    }
    section = section.subsection(passk);

    if !b.coverage.is_empty() {
        section = section.subsection(coverage_section(b, options));
    }
    section = section.subsection(histogram_section(b));
    if !b.gaps.is_empty() {
        section = section.subsection(gap_section(b));
    }
    section
}

fn passk_table(b: &BenchmarkResults, options: &SectionOptions) -> Table {
    let mut ks: Vec<u64> = b
        .models
        .iter()
        .flat_map(|m| m.curve.curve.iter().map(|p| p.k))
        .collect();
    ks.sort_unstable();
    ks.dedup();
    let ci_label = format!("{:.0}% CI", 100.0 * options.confidence);
    let mut columns = vec!["k".to_string()];
    for m in &b.models {
        columns.push(m.model.clone());
        columns.push(format!("{} {ci_label}", m.model));
    }
    let columns_ref: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!("{}-passk", slug(&b.benchmark)),
        format!("pass@k (%) on {}.", b.benchmark),
        &columns_ref,
    );
    for k in ks {
        let mut row = vec![Cell::count(k)];
        for m in &b.models {
            match m.curve.curve.iter().find(|p| p.k == k) {
                Some(p) => {
                    row.push(Cell::Percent(p.pass_at_k));
                    row.push(ci_text(p.ci.map(|c| c.low), p.ci.map(|c| c.high)));
                }
                None => row.extend([Cell::Missing, Cell::Missing]),
            }
        }
        table.push(row);
    }
    table
}

fn format_k(k: f64) -> String {
    if k >= 100.0 {
        format!("{k:.0}")
    } else {
        format!("{k:.1}")
    }
}

fn bound_text(b: Bound, grid_low: u64, grid_high: u64) -> String {
    match b {
        Bound::K { k } => format_k(k),
        Bound::BelowGrid => format!("< {grid_low}"),
        Bound::BeyondGrid => format!("> {grid_high}"),
    }
}

fn crossover_sentence(c: &CrossoverResult) -> String {
    let (lo, hi) = grid_ends(&c.crossover);
    let interval = c.crossover.interval.as_ref().map_or(String::new(), |iv| {
        let confidence = 100.0 * iv.confidence;
        match (iv.low, iv.high) {
            // Both ends off the same side of the grid: one phrase, not "< 1 – < 1".
            (Bound::BelowGrid, Bound::BelowGrid) => {
                format!(" ({confidence:.0}% CI: below k = {lo})")
            }
            (Bound::BeyondGrid, Bound::BeyondGrid) => {
                format!(" ({confidence:.0}% CI: beyond k = {hi})")
            }
            (low, high) => format!(
                " ({confidence:.0}% CI {} – {})",
                bound_text(low, lo, hi),
                bound_text(high, lo, hi)
            ),
        }
    });
    match c.crossover.crossing {
        Crossing::At { k } => format!(
            "**{}** overtakes **{}** at k ≈ {}{interval}",
            c.model,
            c.other,
            format_k(k)
        ),
        Crossing::LeadsFromStart => format!(
            "**{}** is level with or ahead of **{}** from k = {lo}{interval}",
            c.model, c.other
        ),
        Crossing::Beyond => format!(
            "**{}** stays below **{}** up to k = {hi}: any crossover lies beyond the samples \
             drawn{interval}",
            c.model, c.other
        ),
    }
}

fn grid_ends(c: &Crossover) -> (u64, u64) {
    (
        c.differences.first().map_or(1, |d| d.0),
        c.differences.last().map_or(1, |d| d.0),
    )
}

fn crossover_table(b: &BenchmarkResults, options: &SectionOptions) -> Table {
    let mut table = Table::new(
        format!("{}-crossover", slug(&b.benchmark)),
        format!(
            "Crossover k: the first k at which the model's pass@k reaches the other's, \
             interpolated in log₂ k; {:.0}% paired bootstrap interval over problems.",
            100.0 * options.confidence
        ),
        &[
            "model",
            "overtakes",
            "crossover k",
            "CI low",
            "CI high",
            "resamples crossing (%)",
            "problems",
        ],
    );
    for c in &b.crossovers {
        let (lo, hi) = grid_ends(&c.crossover);
        let k = match c.crossover.crossing {
            Crossing::At { k } => Cell::number(k, 1),
            Crossing::LeadsFromStart => Cell::text(format!("leads from k = {lo}")),
            Crossing::Beyond => Cell::text(format!("> {hi}")),
        };
        let iv = c.crossover.interval.as_ref();
        table.push(vec![
            Cell::text(&c.model),
            Cell::text(&c.other),
            k,
            iv.map_or(Cell::Missing, |iv| Cell::text(bound_text(iv.low, lo, hi))),
            iv.map_or(Cell::Missing, |iv| Cell::text(bound_text(iv.high, lo, hi))),
            iv.map_or(Cell::Missing, |iv| Cell::Percent(iv.fraction_on_grid)),
            Cell::count(c.crossover.problems),
        ]);
    }
    table
}

fn coverage_section(b: &BenchmarkResults, options: &SectionOptions) -> Section {
    let id = slug(&b.benchmark);
    let mut section = Section::new(
        format!("{id}-coverage"),
        format!("{} · coverage", b.benchmark),
    )
    .text(
        "A problem is solved by a model when at least one of its samples is correct \
             (pass@n > 0). Each pair is compared on the problems both were evaluated on.",
    );
    let mut table = Table::new(
        format!("{id}-coverage"),
        format!("Solved sets on {}.", b.benchmark),
        &[
            "reference",
            "model",
            "common problems",
            "both",
            "reference only",
            "model only",
            "neither",
            "model's solved also solved by reference",
        ],
    );
    for c in &b.coverage {
        let cmp = &c.comparison;
        table.push(vec![
            Cell::text(&c.a),
            Cell::text(&c.b),
            Cell::count(cmp.common_problems),
            Cell::count(cmp.both.len()),
            Cell::count(cmp.only_a.len()),
            Cell::count(cmp.only_b.len()),
            Cell::count(cmp.neither.len()),
            cmp.fraction_of_b_also_solved_by_a()
                .map_or(Cell::Missing, Cell::Percent),
        ]);
    }
    section = section.block(Block::Table(table));
    for c in &b.coverage {
        for (who, other, ids, samples) in [
            (&c.b, &c.a, &c.comparison.only_b, &c.only_b_samples),
            (&c.a, &c.b, &c.comparison.only_a, &c.only_a_samples),
        ] {
            if ids.is_empty() {
                continue;
            }
            let mut blocks = vec![Block::Text(format!(
                "{} problem(s) solved by **{who}** and never by **{other}**: {}",
                ids.len(),
                ids.iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))];
            for s in samples.iter().take(options.max_exclusive_shown) {
                blocks.push(Block::Text(format!(
                    "Problem `{}`, sample {} — extracted `{}`, gold `{}`:",
                    s.problem,
                    s.sample_index,
                    s.extracted.as_deref().unwrap_or("–"),
                    s.gold.as_deref().unwrap_or("–"),
                )));
                blocks.push(Block::Verbatim(shorten(
                    &s.response,
                    options.max_response_chars,
                )));
            }
            section = section.block(Block::Details {
                summary: format!(
                    "Solved only by {who} (vs {other}): {} problem(s)",
                    ids.len()
                ),
                blocks,
            });
        }
    }
    section
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let head: String = text.chars().take(max / 2).collect();
    let tail: String = {
        let chars: Vec<char> = text.chars().collect();
        chars[chars.len() - max / 2..].iter().collect()
    };
    format!("{head}\n[… shortened; the sample browser shows it whole …]\n{tail}")
}

fn histogram_section(b: &BenchmarkResults) -> Section {
    let id = slug(&b.benchmark);
    let categories: Vec<String> = b
        .models
        .first()
        .map(|m| m.histogram.iter().map(|bin| bin.label.clone()).collect())
        .unwrap_or_default();
    let chart = BarChart {
        title: format!("{}: per-problem accuracy", b.benchmark),
        x_label: "accuracy c/n of a problem".into(),
        y_label: "problems (%)".into(),
        categories: categories.clone(),
        series: b
            .models
            .iter()
            .map(|m| BarSeries {
                name: m.model.clone(),
                values: m.histogram.iter().map(|bin| 100.0 * bin.fraction).collect(),
            })
            .collect(),
    };
    let mut columns = vec!["accuracy".to_string()];
    columns.extend(b.models.iter().map(|m| m.model.clone()));
    let columns_ref: Vec<&str> = columns.iter().map(String::as_str).collect();
    let mut table = Table::new(
        format!("{id}-histogram"),
        format!("Problems per accuracy bin on {} (count).", b.benchmark),
        &columns_ref,
    );
    for (i, label) in categories.iter().enumerate() {
        let mut row = vec![Cell::text(label)];
        row.extend(b.models.iter().map(|m| {
            m.histogram
                .get(i)
                .map_or(Cell::Missing, |bin| Cell::count(bin.problems))
        }));
        table.push(row);
    }
    Section::new(
        format!("{id}-histogram"),
        format!("{} · accuracy histogram", b.benchmark),
    )
    .text(
        "The share of problems at each per-problem accuracy c/n. The end bins are exact: \
             `0` is never solved, `1` always solved.",
    )
    .block(Block::Figure(Figure::new(
        format!("{id}-histogram"),
        format!("Distribution of per-problem accuracy on {}.", b.benchmark),
        Chart::Bars(chart),
    )))
    .block(Block::Table(table))
}

fn gap_section(b: &BenchmarkResults) -> Section {
    let id = slug(&b.benchmark);
    let mut table = Table::new(
        format!("{id}-gap"),
        format!(
            "Sampling-efficiency gap ΔSE on {}: the reference's pass@K minus each model's \
             pass@k, in points (lower is better for the model).",
            b.benchmark
        ),
        &[
            "reference",
            "K",
            "model",
            "k",
            "reference pass@K",
            "model pass@k",
            "ΔSE",
            "CI",
        ],
    );
    for g in &b.gaps {
        table.push(vec![
            Cell::text(&g.reference),
            Cell::count(g.gap.reference_k),
            Cell::text(&g.other),
            Cell::count(g.gap.other_k),
            Cell::Percent(g.gap.reference_pass_at_k),
            Cell::Percent(g.gap.other_pass_at_k),
            Cell::number(100.0 * g.gap.gap, 1),
            ci_text(g.gap.ci.map(|c| c.low), g.gap.ci.map(|c| c.high)),
        ]);
    }
    Section::new(
        format!("{id}-gap"),
        format!("{} · sampling-efficiency gap", b.benchmark),
    )
    .block(Block::Table(table))
}

fn perplexity_section(results: &[PerplexityResults]) -> Section {
    let mut section = Section::new("perplexity", "Perplexity").text(
        "Perplexity of each model's responses under a scorer model: exp of the mean negative \
         log-likelihood per response token, conditioned on the prompt. Responses that are \
         already likely under the base model (low perplexity) are ones the base model could \
         have produced itself.",
    );
    let mut benchmarks: Vec<&str> = results.iter().map(|r| r.benchmark.as_str()).collect();
    benchmarks.dedup();
    let mut table = Table::new(
        "perplexity",
        "Per-response perplexity: quartiles, mean, and the pooled value over all tokens.",
        &[
            "benchmark",
            "scorer",
            "responses of",
            "responses",
            "tokens",
            "q1",
            "median",
            "q3",
            "mean",
            "pooled",
        ],
    );
    for bench in benchmarks {
        let group: Vec<&PerplexityResults> =
            results.iter().filter(|r| r.benchmark == bench).collect();
        let chart = BoxChart {
            title: format!("{bench}: perplexity of responses"),
            y_label: "perplexity per response".into(),
            boxes: group
                .iter()
                .map(|r| {
                    BoxSeries::new(
                        format!("PPL_{}({})", r.scorer, r.responses_of),
                        r.perplexities.clone(),
                    )
                })
                .collect(),
        };
        for (r, b) in group.iter().zip(chart.boxes.iter()) {
            let s = b.summary;
            let n = |f: fn(&crate::chart::FiveNumbers) -> f64| {
                s.as_ref().map_or(Cell::Missing, |s| Cell::number(f(s), 3))
            };
            table.push(vec![
                Cell::text(&r.benchmark),
                Cell::text(&r.scorer),
                Cell::text(&r.responses_of),
                Cell::count(r.perplexities.len()),
                Cell::count(r.tokens),
                n(|s| s.q1),
                n(|s| s.median),
                n(|s| s.q3),
                n(|s| s.mean),
                Cell::number(r.pooled, 3),
            ]);
        }
        section = section.block(Block::Figure(Figure::new(
            format!("{}-perplexity", slug(bench)),
            format!(
                "Per-response perplexity on {bench} (box: quartiles; whiskers: 1.5 IQR; \
                 diamond: mean; circles: outliers)."
            ),
            Chart::Box(chart),
        )));
    }
    section.block(Block::Table(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use boundary_core::CrossoverInterval;

    fn with_interval(crossing: Crossing, low: Bound, high: Bound) -> CrossoverResult {
        CrossoverResult {
            model: "rl".into(),
            other: "base".into(),
            crossover: Crossover {
                crossing,
                differences: vec![(1, 0.1), (4, 0.05), (16, 0.02)],
                problems: 10,
                interval: Some(CrossoverInterval {
                    confidence: 0.95,
                    low,
                    high,
                    fraction_on_grid: 0.0,
                    fraction_leads_from_start: 1.0,
                    fraction_beyond: 0.0,
                }),
            },
        }
    }

    #[test]
    fn crossover_intervals_off_one_end_of_the_grid_read_as_one_phrase() {
        let below = with_interval(Crossing::LeadsFromStart, Bound::BelowGrid, Bound::BelowGrid);
        assert_eq!(
            crossover_sentence(&below),
            "**rl** is level with or ahead of **base** from k = 1 (95% CI: below k = 1)"
        );
        let beyond = with_interval(Crossing::Beyond, Bound::BeyondGrid, Bound::BeyondGrid);
        assert!(
            crossover_sentence(&beyond).ends_with("(95% CI: beyond k = 16)"),
            "{}",
            crossover_sentence(&beyond)
        );
        let spanning = with_interval(
            Crossing::At { k: 4.0 },
            Bound::BelowGrid,
            Bound::K { k: 8.0 },
        );
        assert!(
            crossover_sentence(&spanning).ends_with("(95% CI < 1 – 8.0)"),
            "{}",
            crossover_sentence(&spanning)
        );
    }
}
