//! From a run store to the analyses of a report: pass@k curves with bootstrap
//! intervals, crossover ks, coverage with evidence, accuracy histograms, ΔSE, the
//! perplexity of each run's responses under every scorer that scored them, and the
//! samples of the sample browser. Used by `boundary report` and `boundary eval`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use anyhow::Context;
use boundary_core::{
    Bootstrap, Comparison, ProblemCounts, ShortProblems, accuracy_histogram, crossover,
    crossover_grid, default_ks, pass_at_k_curve, sampling_efficiency_gap,
};
use boundary_report::{
    BenchmarkResults, BrowserSample, CoverageResult, CrossoverResult, Evaluation, GapResult,
    ModelResults, PerplexityResults, SampleBrowser, SampleTotals, SolvedSample,
};
use boundary_store::{ExportFilter, ExportFormat, Run, Store, canonical_json, export};
use serde::Deserialize;

use crate::selection::{graded_counts, run_label};

/// What to compute.
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// The ks of the curves [default: powers of two up to each model's n, and n].
    pub ks: Option<Vec<u64>>,
    pub bootstrap: Option<Bootstrap>,
    pub bins: usize,
    /// The model every other is compared with (the base model) [default: the first
    /// model of each benchmark, in run order].
    pub reference: Option<String>,
    pub verifier: Option<String>,
    /// Per benchmark, whose grades to read when `verifier` is not given (eval: the
    /// verifier it grades that benchmark with, so grades imported with the samples do
    /// not make the choice ambiguous).
    pub benchmark_verifiers: HashMap<String, String>,
    pub skip_short: bool,
    /// At most this many samples go into the sample browser.
    pub browser_limit: usize,
    /// Only these models / benchmarks [default: all].
    pub models: Vec<String>,
    pub benchmarks: Vec<String>,
    /// Only these runs [default: all] (eval: the runs of the experiment as it is now, not
    /// those an earlier version of it made with other settings).
    pub runs: Option<Vec<i64>>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            ks: None,
            bootstrap: None,
            bins: 10,
            reference: None,
            verifier: None,
            benchmark_verifiers: HashMap::new(),
            skip_short: false,
            browser_limit: 20_000,
            models: Vec::new(),
            benchmarks: Vec::new(),
            runs: None,
        }
    }
}

impl AnalysisOptions {
    fn verifier_of(&self, benchmark: &str) -> Option<&str> {
        self.verifier
            .as_deref()
            .or_else(|| self.benchmark_verifiers.get(benchmark).map(String::as_str))
    }
}

/// The analyses, the browser's samples, and what was left out and why.
pub struct Analysis {
    pub evaluation: Evaluation,
    pub browser: SampleBrowser,
    pub warnings: Vec<String>,
}

/// One graded run, ready to analyse.
struct RunData {
    run: Run,
    label: String,
    verifier: Option<String>,
    problems: Vec<ProblemCounts>,
    failed: u64,
    ungraded: u64,
}

/// What the export stream tells about a sample (the fields the analyses read).
#[derive(Deserialize)]
struct Row {
    model: String,
    benchmark: String,
    problem_id: String,
    sample_index: u32,
    status: String,
    response: Option<String>,
    error: Option<String>,
    finish_reason: Option<String>,
    correct: Option<bool>,
    verdict: Option<String>,
    extracted: Option<String>,
    gold: Option<String>,
    prompt: Option<String>,
    source: String,
    sampling: String,
    seed: Option<u64>,
}

/// A `Write` that hands each complete line to a callback: the export is streamed, never
/// held whole in memory.
struct Lines<F: FnMut(&[u8]) + Send> {
    buffer: Vec<u8>,
    each: F,
}

impl<F: FnMut(&[u8]) + Send> Write for Lines<F> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = self.buffer[start..].iter().position(|&b| b == b'\n') {
            (self.each)(&self.buffer[start..start + end]);
            start += end + 1;
        }
        self.buffer.drain(..start);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The identity of a run as export rows carry it.
fn run_key(
    model: &str,
    benchmark: &str,
    source: &str,
    sampling: &str,
    seed: Option<u64>,
) -> String {
    format!("{model}\0{benchmark}\0{source}\0{sampling}\0{seed:?}")
}

/// Analyses every graded run of `store`.
pub fn analyse(store: &Store, options: &AnalysisOptions) -> anyhow::Result<Analysis> {
    // Runs are told apart by id only where the selection holds two of a model.
    let all_runs: Vec<Run> = store
        .runs()?
        .into_iter()
        .filter(|run| {
            (options.models.is_empty() || options.models.contains(&run.model))
                && (options.benchmarks.is_empty() || options.benchmarks.contains(&run.benchmark))
                && options
                    .runs
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&run.id))
        })
        .collect();
    let mut warnings = Vec::new();
    let mut by_benchmark: BTreeMap<String, Vec<RunData>> = BTreeMap::new();
    let mut benchmark_order: Vec<String> = Vec::new();
    for run in &all_runs {
        match graded_counts(store, run, options.verifier_of(&run.benchmark))? {
            Ok(counts) => {
                if !benchmark_order.contains(&run.benchmark) {
                    benchmark_order.push(run.benchmark.clone());
                }
                by_benchmark
                    .entry(run.benchmark.clone())
                    .or_default()
                    .push(RunData {
                        label: run_label(run, &all_runs),
                        run: run.clone(),
                        verifier: counts.verifier,
                        problems: counts.problems,
                        failed: counts.failed_samples,
                        ungraded: counts.ungraded_samples,
                    })
            }
            Err(reason) => warnings.push(format!(
                "{} on {} (run {}) is left out: {reason}",
                run.model, run.benchmark, run.id
            )),
        }
    }
    if by_benchmark.is_empty() {
        anyhow::bail!(
            "nothing to report: no run of the store has graded samples{}",
            if warnings.is_empty() {
                String::new()
            } else {
                format!(" ({})", warnings.join("; "))
            }
        );
    }

    // Problems only one model of a pair solves, to keep one correct sample of each.
    let mut wanted_evidence: HashSet<(String, String)> = HashSet::new(); // (run key, problem)
    let mut benchmarks = Vec::new();
    for name in &benchmark_order {
        let runs = &by_benchmark[name];
        let results = benchmark_results(name, runs, options, &mut warnings)?;
        for c in &results.coverage {
            for (label, ids) in [(&c.b, &c.comparison.only_b), (&c.a, &c.comparison.only_a)] {
                if let Some(r) = runs.iter().find(|r| &r.label == label) {
                    let key = key_of(&r.run);
                    wanted_evidence.extend(ids.iter().map(|id| (key.clone(), id.clone())));
                }
            }
        }
        benchmarks.push(results);
    }

    // One pass over the samples: truncation counts, evidence, and the browser.
    let labels: HashMap<String, String> = by_benchmark
        .values()
        .flatten()
        .map(|r| (key_of(&r.run), r.label.clone()))
        .collect();
    let mut truncated: HashMap<String, u64> = HashMap::new();
    let mut evidence: HashMap<(String, String), SolvedSample> = HashMap::new();
    let mut browser = SampleBrowser {
        title: "Samples".into(),
        ..SampleBrowser::default()
    };
    let mut prompt_index: HashMap<String, usize> = HashMap::new();
    let mut total_rows = 0u64;
    let mut parse_error: Option<String> = None;
    for (model, benchmark) in by_benchmark
        .values()
        .flatten()
        .map(|r| (r.run.model.clone(), r.run.benchmark.clone()))
        .collect::<std::collections::BTreeSet<_>>()
    {
        let filter = ExportFilter {
            verifier: options.verifier_of(&benchmark).map(str::to_owned),
            model: Some(model),
            benchmark: Some(benchmark),
        };
        let sink = Lines {
            buffer: Vec::new(),
            each: |line: &[u8]| {
                let row: Row = match serde_json::from_slice(line) {
                    Ok(row) => row,
                    Err(e) => {
                        parse_error.get_or_insert(e.to_string());
                        return;
                    }
                };
                let key = run_key(
                    &row.model,
                    &row.benchmark,
                    &row.source,
                    &row.sampling,
                    row.seed,
                );
                let Some(label) = labels.get(&key) else {
                    return;
                };
                total_rows += 1;
                if row.finish_reason.as_deref() == Some("length") && row.status == "ok" {
                    *truncated.entry(key.clone()).or_default() += 1;
                }
                let evidence_key = (key, row.problem_id.clone());
                if row.correct == Some(true)
                    && wanted_evidence.contains(&evidence_key)
                    && !evidence.contains_key(&evidence_key)
                {
                    evidence.insert(
                        evidence_key,
                        SolvedSample {
                            problem: row.problem_id.clone(),
                            sample_index: row.sample_index,
                            response: row.response.clone().unwrap_or_default(),
                            extracted: row.extracted.clone(),
                            gold: row.gold.clone(),
                        },
                    );
                }
                if browser.samples.len() < options.browser_limit {
                    let prompt = row.prompt.map(|p| {
                        let next = browser.prompts.len();
                        *prompt_index.entry(p.clone()).or_insert_with(|| {
                            browser.prompts.push(p);
                            next
                        })
                    });
                    let failed = row.status == "failed";
                    browser.samples.push(BrowserSample {
                        model: label.clone(),
                        benchmark: row.benchmark,
                        problem: row.problem_id,
                        index: row.sample_index,
                        verdict: match (&row.verdict, failed) {
                            (_, true) => "failed".into(),
                            (Some(v), _) => v.clone(),
                            (None, _) => "ungraded".into(),
                        },
                        correct: row.correct == Some(true),
                        text: if failed {
                            row.error.unwrap_or_default()
                        } else {
                            row.response.unwrap_or_default()
                        },
                        extracted: row.extracted,
                        gold: row.gold,
                        reason: None,
                        finish_reason: row.finish_reason,
                        prompt,
                    });
                }
            },
        };
        export(store, &filter, ExportFormat::Jsonl, sink)
            .context("cannot read the samples of the store")?;
    }
    if let Some(e) = parse_error {
        anyhow::bail!("the store's samples did not read back: {e}");
    }
    if total_rows > browser.samples.len() as u64 {
        browser.note = Some(format!(
            "The first {} of {total_rows} samples are shown.",
            browser.samples.len()
        ));
    }

    // Attach truncation counts and evidence.
    for (b, name) in benchmarks.iter_mut().zip(&benchmark_order) {
        let runs = &by_benchmark[name];
        for (m, r) in b.models.iter_mut().zip(runs) {
            m.samples.truncated = truncated.get(&key_of(&r.run)).copied().unwrap_or(0);
        }
        for c in &mut b.coverage {
            let find = |label: &str, ids: &[String]| -> Vec<SolvedSample> {
                let Some(r) = runs.iter().find(|r| r.label == label) else {
                    return Vec::new();
                };
                let key = key_of(&r.run);
                ids.iter()
                    .filter_map(|id| evidence.get(&(key.clone(), id.clone())).cloned())
                    .collect()
            };
            c.only_b_samples = find(&c.b, &c.comparison.only_b);
            c.only_a_samples = find(&c.a, &c.comparison.only_a);
        }
    }
    let perplexity = perplexity_results(store, &benchmark_order, &by_benchmark, &mut warnings)?;
    Ok(Analysis {
        evaluation: Evaluation {
            benchmarks,
            perplexity,
        },
        browser,
        warnings,
    })
}

/// The perplexities of every analysed run's responses under every scorer the store has
/// scores of, benchmark by benchmark, then by scorer, in run order.
fn perplexity_results(
    store: &Store,
    benchmark_order: &[String],
    by_benchmark: &BTreeMap<String, Vec<RunData>>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Vec<PerplexityResults>> {
    let mut results = Vec::new();
    for benchmark in benchmark_order {
        let runs = &by_benchmark[benchmark];
        let mut scorers = std::collections::BTreeSet::new();
        for r in runs {
            scorers.extend(store.scorers(r.run.id)?);
        }
        for scorer in &scorers {
            for r in runs {
                let scores = store.scores(r.run.id, scorer)?;
                let empty = scores.iter().filter(|s| s.num_tokens == 0).count();
                if empty > 0 {
                    warnings.push(format!(
                        "{benchmark}: {empty} responses of {} have no tokens, hence no \
                         perplexity under {scorer}",
                        r.label
                    ));
                }
                results.extend(perplexities(
                    benchmark,
                    scorer,
                    &r.label,
                    scores.iter().map(|s| (s.logprob_sum, s.num_tokens)),
                ));
            }
        }
    }
    Ok(results)
}

/// The perplexities of one set of responses from each one's summed log-probability and
/// token count: exp(−Σ log p / tokens) per response, and pooled over every token.
/// Responses of no tokens have none and are left out; `None` when none is left.
fn perplexities(
    benchmark: &str,
    scorer: &str,
    responses_of: &str,
    scores: impl IntoIterator<Item = (f64, u32)>,
) -> Option<PerplexityResults> {
    let (mut per_response, mut logprob_sum, mut tokens) = (Vec::new(), 0.0, 0u64);
    for (sum, n) in scores.into_iter().filter(|&(_, n)| n > 0) {
        per_response.push((-sum / f64::from(n)).exp());
        logprob_sum += sum;
        tokens += u64::from(n);
    }
    (tokens > 0).then(|| PerplexityResults {
        benchmark: benchmark.to_owned(),
        scorer: scorer.to_owned(),
        responses_of: responses_of.to_owned(),
        perplexities: per_response,
        pooled: (-logprob_sum / tokens as f64).exp(),
        tokens,
    })
}

fn key_of(run: &Run) -> String {
    run_key(
        &run.model,
        &run.benchmark,
        &run.source,
        &canonical_json(&run.sampling),
        run.seed,
    )
}

fn benchmark_results(
    benchmark: &str,
    runs: &[RunData],
    options: &AnalysisOptions,
    warnings: &mut Vec<String>,
) -> anyhow::Result<BenchmarkResults> {
    let short = if options.skip_short {
        ShortProblems::Skip
    } else {
        ShortProblems::Reject
    };
    warnings.extend(problem_set_differences(benchmark, runs));
    let mut models = Vec::new();
    for r in runs {
        let ks = options
            .ks
            .clone()
            .unwrap_or_else(|| default_ks(&r.problems));
        let curve = pass_at_k_curve(&r.problems, &ks, short, options.bootstrap.as_ref())
            .with_context(|| format!("pass@k of {} on {benchmark}", r.label))?;
        let histogram = accuracy_histogram(&r.problems, options.bins)
            .with_context(|| format!("accuracy histogram of {} on {benchmark}", r.label))?;
        models.push(ModelResults {
            model: r.label.clone(),
            curve,
            histogram,
            samples: SampleTotals {
                graded: r.problems.iter().map(|p| p.n).sum(),
                ungraded: r.ungraded,
                failed: r.failed,
                truncated: 0,
            },
            verifier: r.verifier.clone(),
            solved: r.problems.iter().filter(|p| p.solved()).count(),
            problems: r.problems.len(),
        });
    }

    let reference = match &options.reference {
        Some(name) => runs
            .iter()
            .find(|r| &r.run.model == name || &r.label == name),
        None => runs.first(),
    };
    let (mut crossovers, mut coverage, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(reference) = reference {
        for other in runs.iter().filter(|r| r.label != reference.label) {
            let comparison = Comparison::of(&reference.problems, &other.problems);
            coverage.push(CoverageResult {
                a: reference.label.clone(),
                b: other.label.clone(),
                comparison,
                only_b_samples: Vec::new(),
                only_a_samples: Vec::new(),
            });
            let common_n = common_min_n(&reference.problems, &other.problems);
            match common_n {
                Some(n) if n >= 2 => {
                    match crossover(
                        &reference.problems,
                        &other.problems,
                        &crossover_grid(n),
                        options.bootstrap.as_ref(),
                    ) {
                        Ok(c) => crossovers.push(CrossoverResult {
                            model: reference.label.clone(),
                            other: other.label.clone(),
                            crossover: c,
                        }),
                        Err(e) => warnings.push(format!(
                            "{benchmark}: no crossover of {} over {}: {e}",
                            reference.label, other.label
                        )),
                    }
                    match sampling_efficiency_gap(
                        &reference.problems,
                        n,
                        &other.problems,
                        1,
                        options.bootstrap.as_ref(),
                    ) {
                        Ok(gap) => gaps.push(GapResult {
                            reference: reference.label.clone(),
                            other: other.label.clone(),
                            gap,
                        }),
                        Err(e) => warnings.push(format!(
                            "{benchmark}: no ΔSE of {} vs {}: {e}",
                            reference.label, other.label
                        )),
                    }
                }
                _ => warnings.push(format!(
                    "{benchmark}: {} and {} share no problem with at least 2 samples each; no \
                     crossover or ΔSE",
                    reference.label, other.label
                )),
            }
        }
    } else if let Some(name) = &options.reference {
        warnings.push(format!(
            "{benchmark}: the reference model `{name}` has no graded run here; no comparisons"
        ));
    }
    Ok(BenchmarkResults {
        benchmark: benchmark.to_owned(),
        models,
        reference: reference.map(|r| r.label.clone()),
        crossovers,
        coverage,
        gaps,
    })
}

/// One warning per run of a benchmark that lacks problems another of its runs has (no
/// samples made, as `skip_unfit` leaves them, all failed, or none graded), naming them:
/// that run's curve and histogram average over fewer problems than the others', so its
/// numbers are not over the same problems, while the pairwise comparisons use only the
/// problems both runs have.
fn problem_set_differences(benchmark: &str, runs: &[RunData]) -> Vec<String> {
    const NAMED: usize = 10;
    let all: std::collections::BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.problems.iter().map(|p| p.id.as_str()))
        .collect();
    runs.iter()
        .filter_map(|r| {
            let has: HashSet<&str> = r.problems.iter().map(|p| p.id.as_str()).collect();
            let lacks: Vec<&str> = all.iter().copied().filter(|id| !has.contains(id)).collect();
            if lacks.is_empty() {
                return None;
            }
            let mut named = lacks[..lacks.len().min(NAMED)]
                .iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if lacks.len() > NAMED {
                named.push_str(&format!(" and {} more", lacks.len() - NAMED));
            }
            Some(format!(
                "{benchmark}: {} has no graded samples of {} of the {} problems its models \
                 were evaluated on ({named}); its pass@k and histogram cover its {} problems \
                 only, and coverage, crossover and ΔSE compare it on the problems both models \
                 of a pair have",
                r.label,
                lacks.len(),
                all.len(),
                r.problems.len(),
            ))
        })
        .collect()
}

/// The smallest n over the problems two models share, from either model.
fn common_min_n(a: &[ProblemCounts], b: &[ProblemCounts]) -> Option<u64> {
    let b_n: HashMap<&str, u64> = b.iter().map(|p| (p.id.as_str(), p.n)).collect();
    a.iter()
        .filter_map(|p| b_n.get(p.id.as_str()).map(|&n| n.min(p.n)))
        .min()
}

#[cfg(test)]
mod tests {
    use super::{RunData, perplexities, problem_set_differences};
    use boundary_core::ProblemCounts;
    use boundary_store::Run;

    fn run_data(model: &str, problems: &[&str]) -> RunData {
        RunData {
            run: Run {
                id: 1,
                model: model.into(),
                benchmark: "b".into(),
                source: "import".into(),
                sampling: serde_json::Value::Null,
                seed: None,
                config_hash: String::new(),
                created_at: String::new(),
            },
            label: model.into(),
            verifier: None,
            problems: problems
                .iter()
                .map(|id| ProblemCounts::new(*id, 4, 1))
                .collect(),
            failed: 0,
            ungraded: 0,
        }
    }

    #[test]
    fn a_run_lacking_problems_is_named_with_them() {
        let runs = [
            run_data("base", &["p1", "p2", "p3"]),
            run_data("rl", &["p1", "p3"]),
            run_data("distilled", &["p1", "p2", "p4"]),
        ];
        let warnings = problem_set_differences("math", &runs);
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(warnings[0].starts_with("math: base has no graded samples of 1 of the 4 problems"));
        assert!(warnings[0].contains("(`p4`)"));
        assert!(warnings[1].contains("rl has no graded samples of 2 of the 4 problems"));
        assert!(warnings[1].contains("(`p2`, `p4`)"));
        assert!(warnings[1].contains("cover its 2 problems only"));
        assert!(warnings[2].contains("distilled has no graded samples of 1 of the 4 problems"));
        assert!(warnings[2].contains("(`p3`)"));

        let same = [
            run_data("base", &["p1", "p2"]),
            run_data("rl", &["p2", "p1"]),
        ];
        assert!(problem_set_differences("math", &same).is_empty());
    }

    #[test]
    fn a_long_list_of_lacking_problems_is_cut() {
        let ids: Vec<String> = (0..25).map(|i| format!("p{i:02}")).collect();
        let all: Vec<&str> = ids.iter().map(String::as_str).collect();
        let runs = [run_data("base", &all), run_data("rl", &all[..3])];
        let warnings = problem_set_differences("math", &runs);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains(
                "`p03`, `p04`, `p05`, `p06`, `p07`, `p08`, `p09`, `p10`, `p11`, `p12` and 12 more"
            ),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn perplexity_per_response_and_pooled_over_tokens() {
        // ln 2 per token over 3 tokens: 2; ln 4 over 1 token: 4; an empty response: none.
        let ln2 = std::f64::consts::LN_2;
        let p = perplexities("b", "s", "m", [(-3.0 * ln2, 3), (-2.0 * ln2, 1), (0.0, 0)]).unwrap();
        assert_eq!(p.perplexities.len(), 2);
        assert!((p.perplexities[0] - 2.0).abs() < 1e-12);
        assert!((p.perplexities[1] - 4.0).abs() < 1e-12);
        // Pooled: 5 ln 2 over 4 tokens, not the mean of the two.
        assert!((p.pooled - (5.0 * ln2 / 4.0).exp()).abs() < 1e-12);
        assert_eq!(p.tokens, 4);
        assert_eq!((p.benchmark.as_str(), p.scorer.as_str()), ("b", "s"));
        assert_eq!(p.responses_of, "m");
        assert!(perplexities("b", "s", "m", [(0.0, 0)]).is_none());
        assert!(perplexities("b", "s", "m", []).is_none());
    }
}
