//! The lab's report: `report.md` (PNG plots linked), a self-contained
//! `report.html` (SVG plots inline), `summary.json` (each model's pass@k curve
//! and solved problems), CSV/JSON tables under `tables/` and the figures under
//! `plots/`. Nothing here reads the clock, so identical runs give identical
//! reports; wall times live in `timings.json`.
//!
//! Built on plotters inside the lab until Boundary has a shared report crate;
//! the generic parts (pass@k curves, histograms, perplexity boxes) are plain
//! [`plots::Figure`]s over `boundary-core` results and can move there as-is.

pub mod plots;

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use self::plots::{BarGrid, Boxes, Grid, Panel, Series, model_color, render};
use crate::analysis::{Analysis, Difference, ModelResult, Verdict, class_summary};
use crate::config::Profile;
use crate::error::{LabError, Result, io_at};
use crate::rl::trainer::StepMetrics;

/// Writes every report file into `out`.
pub fn write(out: &Path, analysis: &Analysis, profile: Profile) -> Result<()> {
    let plots_dir = out.join("plots");
    let tables_dir = out.join("tables");
    for dir in [&plots_dir, &tables_dir] {
        std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    }
    let figures = Figures::render(analysis, &plots_dir)?;
    write_file(&out.join("summary.json"), &summary(analysis, profile)?)?;
    write_tables(&tables_dir, analysis)?;
    write_file(
        &out.join("report.md"),
        &markdown(analysis, profile, &figures),
    )?;
    write_file(&out.join("report.html"), &html(analysis, profile, &figures))?;
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(io_at(path))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map_err(|e| LabError::Invalid(format!("serialising the report: {e}")))
}

/// The figures, as (file stem, caption, inline SVG).
struct Figures {
    items: Vec<(String, String, String)>,
}

fn curve_series(m: &ModelResult, curve: &boundary_core::Curve) -> Series {
    Series {
        label: m.label.clone(),
        color: model_color(&m.id),
        dashed: m.id == "base" || m.id == "grpo_random_reward",
        points: curve
            .curve
            .iter()
            .map(|p| (p.k as f64, p.pass_at_k))
            .collect(),
        band: curve
            .curve
            .iter()
            .filter_map(|p| p.ci.map(|ci| (p.k as f64, ci.low, ci.high)))
            .collect(),
    }
}

fn training_series(m: &ModelResult, value: impl Fn(&StepMetrics) -> Option<f32>) -> Series {
    Series {
        label: m.label.clone(),
        color: model_color(&m.id),
        dashed: m.id == "grpo_random_reward",
        points: m
            .sidecar
            .rl_curve
            .iter()
            .filter_map(|s| value(s).map(|v| (s.step as f64 + 1.0, f64::from(v))))
            .collect(),
        band: Vec::new(),
    }
}

impl Figures {
    fn render(a: &Analysis, dir: &Path) -> Result<Self> {
        let mut items = Vec::new();
        let mut add =
            |name: &str, caption: String, figure: &dyn Fn() -> Result<String>| -> Result<()> {
                items.push((name.to_string(), caption, figure()?));
                Ok(())
            };

        let passk = Grid {
            columns: 2,
            panel_size: (560, 400),
            panels: vec![
                Panel {
                    title: "pass@k, trace-verified (95% bootstrap CI)".into(),
                    x_label: "k".into(),
                    y_label: "pass@k".into(),
                    log_x: true,
                    y_range: Some((0.0, 1.0)),
                    series: a.models.iter().map(|m| curve_series(m, &m.curve)).collect(),
                },
                Panel {
                    title: "pass@k, answer-only grading".into(),
                    x_label: "k".into(),
                    y_label: "pass@k".into(),
                    log_x: true,
                    y_range: Some((0.0, 1.0)),
                    series: a
                        .models
                        .iter()
                        .map(|m| curve_series(m, &m.answer_curve))
                        .collect(),
                },
            ],
        };
        add(
            "passk",
            format!(
                "pass@k on {} test problems, n = {} samples each.",
                a.test_problems, a.n
            ),
            &|| render(&passk, dir, "passk"),
        )?;

        let classes = Grid {
            columns: 2,
            panel_size: (520, 360),
            panels: a
                .classes
                .iter()
                .map(|row| Panel {
                    title: format!("{} ({} problems)", row.class, row.problems),
                    x_label: "k".into(),
                    y_label: "pass@k".into(),
                    log_x: true,
                    y_range: Some((0.0, 1.0)),
                    series: a
                        .models
                        .iter()
                        .filter_map(|m| row.curves.get(&m.id).map(|c| curve_series(m, c)))
                        .collect(),
                })
                .collect(),
        };
        add(
            "classes",
            "pass@k by problem class (which procedure can solve it).".into(),
            &|| render(&classes, dir, "classes"),
        )?;

        let trained: Vec<&ModelResult> = a
            .models
            .iter()
            .filter(|m| !m.sidecar.rl_curve.is_empty())
            .collect();
        if !trained.is_empty() {
            let panel = |title: &str, y: &str, f: &dyn Fn(&StepMetrics) -> Option<f32>| Panel {
                title: title.into(),
                x_label: "RL step".into(),
                y_label: y.into(),
                log_x: false,
                y_range: None,
                series: trained.iter().map(|m| training_series(m, f)).collect(),
            };
            let training = Grid {
                columns: 3,
                panel_size: (420, 300),
                panels: vec![
                    panel("training accuracy (verifier)", "share correct", &|s| {
                        Some(s.accuracy)
                    }),
                    panel("reward optimised", "mean reward", &|s| Some(s.reward)),
                    panel("held-out pass@1", "pass@1", &|s| s.validation_pass1),
                    panel("KL to base (k3, per token)", "nats", &|s| Some(s.kl)),
                    panel("entropy (per token)", "nats", &|s| Some(s.entropy)),
                    panel("response length", "tokens", &|s| Some(s.response_tokens)),
                ],
            };
            add(
                "training",
                "RL training curves, one line per run.".into(),
                &|| render(&training, dir, "training"),
            )?;
        }

        let sft: Vec<&ModelResult> = a
            .models
            .iter()
            .filter(|m| !m.sidecar.sft_curve.is_empty())
            .collect();
        if !sft.is_empty() {
            let losses = Grid {
                columns: sft.len(),
                panel_size: (460, 300),
                panels: sft
                    .iter()
                    .map(|m| Panel {
                        title: format!("{} training loss", m.label),
                        x_label: "step".into(),
                        y_label: "nats per response token".into(),
                        log_x: false,
                        y_range: None,
                        series: vec![Series {
                            label: m.label.clone(),
                            color: model_color(&m.id),
                            dashed: false,
                            points: m
                                .sidecar
                                .sft_curve
                                .iter()
                                .map(|p| (p.step as f64 + 1.0, f64::from(p.loss)))
                                .collect(),
                            band: Vec::new(),
                        }],
                    })
                    .collect(),
            };
            add(
                "sft",
                "Next-token loss of pretraining (base) and distillation.".into(),
                &|| render(&losses, dir, "sft"),
            )?;
        }

        let categories: Vec<String> = a
            .histograms
            .values()
            .next()
            .map(|bins| bins.iter().map(|b| b.label.clone()).collect())
            .unwrap_or_default();
        let histogram = BarGrid {
            columns: 3,
            panel_size: (360, 240),
            categories,
            bars: a
                .models
                .iter()
                .filter_map(|m| {
                    a.histograms.get(&m.id).map(|bins| {
                        (
                            m.label.clone(),
                            model_color(&m.id),
                            bins.iter().map(|b| b.fraction).collect(),
                        )
                    })
                })
                .collect(),
            y_label: "share of problems".into(),
        };
        add(
            "histogram",
            "Per-problem accuracy c/n: never solved (0), always solved (1), and between.".into(),
            &|| render(&histogram, dir, "histogram"),
        )?;

        let boxes = Boxes {
            title: "Perplexity under the base of each model's responses".into(),
            y_label: "perplexity (per token)".into(),
            boxes: a
                .perplexity
                .iter()
                .map(|p| (p.label.clone(), model_color(&p.model), p.values.clone()))
                .collect(),
            reference: a
                .teacher_perplexity
                .map(|v| (v, "teacher traces (median)".to_string())),
        };
        add(
            "perplexity",
            "Boxes: quartiles and median; whiskers: 5th–95th percentile.".into(),
            &|| render(&boxes, dir, "perplexity"),
        )?;
        Ok(Self { items })
    }
}

fn summary(a: &Analysis, profile: Profile) -> Result<String> {
    let models: serde_json::Map<String, serde_json::Value> = a
        .models
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                json!({
                    "label": m.label,
                    "pass_at_k": m.curve.curve,
                    "answer_only_pass_at_k": m.answer_curve.curve,
                    "solved": m.solved(),
                }),
            )
        })
        .collect();
    to_json(&json!({
        "profile": profile.name(),
        "seed": a.seed,
        "n": a.n,
        "test_problems": a.test_problems,
        "regime": a.regime,
        "models": models,
        "findings": a.findings,
    }))
}

fn write_tables(dir: &Path, a: &Analysis) -> Result<()> {
    let mut passk = String::from("model,k,pass_at_k,ci_low,ci_high,answer_only_pass_at_k\n");
    for m in &a.models {
        for (p, q) in m.curve.curve.iter().zip(&m.answer_curve.curve) {
            let (lo, hi) = p.ci.map_or((String::new(), String::new()), |ci| {
                (format!("{:.6}", ci.low), format!("{:.6}", ci.high))
            });
            let _ = writeln!(
                passk,
                "{},{},{:.6},{lo},{hi},{:.6}",
                m.id, p.k, p.pass_at_k, q.pass_at_k
            );
        }
    }
    write_file(&dir.join("passk.csv"), &passk)?;

    let mut classes = String::from("class,problems,model,pass_at_1,pass_at_n,solved\n");
    for row in &a.classes {
        for m in &a.models {
            if let Some(c) = row.models.get(&m.id) {
                let _ = writeln!(
                    classes,
                    "{},{},{},{:.6},{:.6},{}",
                    row.class, row.problems, m.id, c.pass1, c.pass_n, c.solved
                );
            }
        }
    }
    write_file(&dir.join("classes.csv"), &classes)?;

    let mut ppl = String::from("model,responses,median,mean_log,below_base_median\n");
    for p in &a.perplexity {
        let _ = writeln!(
            ppl,
            "{},{},{:.6},{:.6},{:.6}",
            p.model, p.responses, p.median, p.mean_log, p.below_base_median
        );
    }
    write_file(&dir.join("perplexity.csv"), &ppl)?;

    for m in a.models.iter().filter(|m| !m.sidecar.rl_curve.is_empty()) {
        let mut t = String::from(
            "step,reward,accuracy,kl,entropy,response_tokens,clip_fraction,grad_norm,groups_generated,groups_used,value_loss,explained_variance,validation_pass1\n",
        );
        for s in &m.sidecar.rl_curve {
            let opt = |v: Option<f32>| v.map_or(String::new(), |v| format!("{v:.6}"));
            let _ = writeln!(
                t,
                "{},{:.6},{:.6},{:.6},{:.6},{:.3},{:.6},{:.6},{},{},{},{},{}",
                s.step + 1,
                s.reward,
                s.accuracy,
                s.kl,
                s.entropy,
                s.response_tokens,
                s.clip_fraction,
                s.grad_norm,
                s.groups_generated,
                s.groups_used,
                opt(s.value_loss),
                opt(s.explained_variance),
                opt(s.validation_pass1)
            );
        }
        write_file(&dir.join(format!("training_{}.csv", m.id)), &t)?;
    }
    write_file(
        &dir.join("comparisons.json"),
        &to_json(&json!({
            "rl": a.comparisons,
            "distill": a.distill,
            "control": a.control,
            "strategies": a.strategies,
            "classes": a.classes,
            "histograms": a.histograms,
        }))?,
    )?;
    write_file(&dir.join("findings.json"), &to_json(&a.findings)?)
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn diff(d: &Difference) -> String {
    match d.ci {
        Some(ci) => format!(
            "{:+.1} [{:+.1}, {:+.1}]",
            100.0 * d.difference,
            100.0 * ci.low,
            100.0 * ci.high
        ),
        None => format!("{:+.1}", 100.0 * d.difference),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Agrees => "agrees with the paper",
        Verdict::Disagrees => "DISAGREES with the paper",
        Verdict::Inconclusive => "mixed / inconclusive",
    }
}

/// The report body as (heading level, markdown) blocks shared by both formats.
fn sections(a: &Analysis, profile: Profile) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let r = &a.regime;
    out.push((
        "Setup".to_string(),
        format!(
            "Profile `{}`, seed {}. A {}-parameter transformer pretrained from scratch on a mixture of solution \
             procedures for ModReach (reach a target residue with written, step-checked operations), then trained \
             with six RLVR algorithms, distilled from a teacher that knows one more operation, and evaluated on {} \
             held-out test problems with n = {} samples each. Every sample is in `lab.db` (the run store); grading \
             checks every step of the trace.\n\n\
             Base regime: pass@1 = {}, pass@{} = {} (target bands {}–{} and {}–{}): {}.",
            profile.name(),
            a.seed,
            a.parameters,
            a.test_problems,
            a.n,
            pct(r.pass1),
            r.n,
            pct(r.pass_n),
            pct(r.pass1_band.0),
            pct(r.pass1_band.1),
            pct(r.pass_n_band.0),
            pct(r.pass_n_band.1),
            if r.in_band {
                "both ends informative"
            } else {
                "OUTSIDE the tuned bands — read the comparisons below with that in mind"
            }
        ),
    ));

    let mut findings = String::from(
        "Each statement of the paper, checked against this run. Differences are in percentage points with 95% \
         paired bootstrap intervals over test problems; a verdict counts only differences whose interval excludes zero.\n\n",
    );
    for f in &a.findings {
        let _ = writeln!(
            findings,
            "- **{}** {} — *{}*.",
            f.claim,
            f.observed,
            verdict(f.verdict)
        );
    }
    out.push(("Findings".to_string(), findings));

    let mut table = String::from("| model | pass@1 | pass@");
    let _ = write!(
        table,
        "{} | solved (of {}) | answer-only pass@{} |\n|---|---|---|---|---|\n",
        a.n, a.test_problems, a.n
    );
    for m in &a.models {
        let pass = |k| m.pass_at(k).map_or("–".to_string(), pct);
        let answer = m
            .answer_curve
            .curve
            .last()
            .map_or("–".to_string(), |p| pct(p.pass_at_k));
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} |",
            m.label,
            pass(1),
            pass(a.n),
            m.solved().len(),
            answer
        );
    }
    out.push(("pass@k".to_string(), table));

    let mut cmp = String::from(
        "| model | pass@1 − base | base − model at k = n | ΔSE = base@n − model@1 | crossover k | solved only by model | solved only by base | model-solved also solved by base |\n|---|---|---|---|---|---|---|---|\n",
    );
    for c in a.comparisons.iter().chain(&a.distill).chain(&a.control) {
        let _ = writeln!(
            cmp,
            "| {} | {} | {} | {} | {} | {} ({}) | {} | {} |",
            c.label,
            diff(&c.pass1_gain),
            diff(&c.base_lead_at_n),
            diff(&c.sampling_efficiency_gap),
            c.crossover_k.map_or("none".to_string(), |k| k.to_string()),
            c.rl_only.len(),
            class_summary(&c.rl_only, &a.problem_classes),
            c.base_only.len(),
            c.rl_solved_also_by_base.map_or("–".to_string(), pct)
        );
    }
    out.push(("Each model against the base".to_string(), cmp));

    let mut classes = String::from(
        "pass@1 / pass@n per class of test problem (the class says which procedure can solve it).\n\n| class | problems |",
    );
    for m in &a.models {
        let _ = write!(classes, " {} |", m.label);
    }
    classes.push_str("\n|---|---|");
    classes.push_str(&"---|".repeat(a.models.len()));
    classes.push('\n');
    for row in &a.classes {
        let _ = write!(classes, "| {} | {} |", row.class, row.problems);
        for m in &a.models {
            match row.models.get(&m.id) {
                Some(c) => {
                    let _ = write!(classes, " {:.2} / {:.2} |", c.pass1, c.pass_n);
                }
                None => classes.push_str(" – |"),
            }
        }
        classes.push('\n');
    }
    out.push(("By problem class".to_string(), classes));

    let mut strategies = String::from(
        "Which procedure each correct response is consistent with (the first strategy, by pretraining weight, whose \
         operations cover the trace's), and how many distinct correct traces a model writes per solved problem.\n\n| model | correct responses | shares | distinct correct traces per solved problem |\n|---|---|---|---|\n",
    );
    for s in &a.strategies {
        let shares: Vec<String> = s
            .shares
            .iter()
            .map(|(k, v)| format!("{k} {}", pct(*v)))
            .collect();
        let _ = writeln!(
            strategies,
            "| {} | {} | {} | {:.2} |",
            s.model,
            s.correct_responses,
            shares.join(", "),
            s.distinct_correct_per_solved
        );
    }
    out.push(("Strategies".to_string(), strategies));

    let mut ppl = String::from(
        "| model | responses scored | median perplexity under the base | share below the base's own median |\n|---|---|---|---|\n",
    );
    for p in &a.perplexity {
        let _ = writeln!(
            ppl,
            "| {} | {} | {:.3} | {} |",
            p.label,
            p.responses,
            p.median,
            pct(p.below_base_median)
        );
    }
    if let Some(t) = a.teacher_perplexity {
        let _ = writeln!(
            ppl,
            "\nThe teacher's own traces of the test problems: median perplexity {t:.3} under the base."
        );
    }
    out.push(("Perplexity".to_string(), ppl));

    let mut training = String::from(
        "| run | steps | accuracy, first 5 steps | accuracy, last 5 steps | training reward before → after RL | rise [95% CI] | z | final KL (k3) | final entropy |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut probed = None;
    for m in a.models.iter().filter(|m| !m.sidecar.rl_curve.is_empty()) {
        let c = &m.sidecar.rl_curve;
        let window = 5.min(c.len());
        let mean = |s: &[StepMetrics]| {
            s.iter().map(|x| f64::from(x.accuracy)).sum::<f64>() / s.len().max(1) as f64
        };
        let probe = match &m.sidecar.reward_probe {
            Some(p) => {
                probed = Some((p.before.len(), p.samples));
                let (rise, se) = p.rise();
                format!(
                    "{} → {} | {:+.1} [{:+.1}, {:+.1}] pts | {:.1}",
                    pct(p.mean_before()),
                    pct(p.mean_after()),
                    100.0 * rise,
                    100.0 * (rise - 1.96 * se),
                    100.0 * (rise + 1.96 * se),
                    p.z()
                )
            }
            None => "– | – | –".to_string(),
        };
        let last = c.last();
        let _ = writeln!(
            training,
            "| {} | {} | {} | {} | {probe} | {:.4} | {:.3} |",
            m.label,
            c.len(),
            pct(mean(&c[..window])),
            pct(mean(&c[c.len() - window..])),
            last.map_or(0.0, |s| s.kl),
            last.map_or(0.0, |s| s.entropy)
        );
    }
    if let Some((prompts, samples)) = probed {
        let _ = writeln!(
            training,
            "\nTraining reward before → after RL: verifier accuracy on the same {prompts} RL \
             prompts × {samples} responses, drawn with the same random numbers before and after \
             (paired by prompt; normal 95% CI). The per-step accuracies are of each step's own \
             batch of prompts, and noisier."
        );
    }
    out.push(("Training".to_string(), training));
    out
}

fn markdown(a: &Analysis, profile: Profile, figures: &Figures) -> String {
    let mut md = String::from("# Boundary lab report\n\n");
    let figure = |name: &str| -> String {
        figures
            .items
            .iter()
            .find(|f| f.0 == name)
            .map_or(String::new(), |(stem, caption, _)| {
                format!("\n![{caption}](plots/{stem}.png)\n\n*{caption}*\n")
            })
    };
    for (title, body) in sections(a, profile) {
        let _ = write!(md, "## {title}\n\n{body}\n");
        match title.as_str() {
            "pass@k" => md.push_str(&(figure("passk") + &figure("histogram"))),
            "By problem class" => md.push_str(&figure("classes")),
            "Perplexity" => md.push_str(&figure("perplexity")),
            "Training" => md.push_str(&(figure("training") + &figure("sft"))),
            _ => {}
        }
        md.push('\n');
    }
    md.push_str("Tables: `tables/*.csv`, `tables/*.json`; every model's curve and solved problems: `summary.json`.\n");
    md
}

/// Minimal markdown → HTML for the report's own blocks: paragraphs, bullet
/// lists, pipe tables, `code`, **bold** and *italic*.
fn html_block(markdown: &str) -> String {
    fn inline(text: &str) -> String {
        let escaped = text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let mut out = String::new();
        let mut rest = escaped.as_str();
        let markers = [("**", "strong"), ("`", "code"), ("*", "em")];
        'outer: while !rest.is_empty() {
            for (marker, tag) in markers {
                if let Some(after) = rest.strip_prefix(marker)
                    && let Some(end) = after.find(marker)
                {
                    let _ = write!(out, "<{tag}>{}</{tag}>", &after[..end]);
                    rest = &after[end + marker.len()..];
                    continue 'outer;
                }
            }
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            rest = &rest[ch.len_utf8()..];
        }
        out
    }
    let mut out = String::new();
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('|') {
            out.push_str("<table>\n");
            let mut first = true;
            let mut row = Some(line);
            while let Some(r) = row {
                let cells: Vec<&str> = r
                    .trim()
                    .trim_matches('|')
                    .split('|')
                    .map(str::trim)
                    .collect();
                if !cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
                    let tag = if first { "th" } else { "td" };
                    out.push_str("<tr>");
                    for c in cells {
                        let _ = write!(out, "<{tag}>{}</{tag}>", inline(c));
                    }
                    out.push_str("</tr>\n");
                    first = false;
                }
                row = lines.next_if(|l| l.starts_with('|'));
            }
            out.push_str("</table>\n");
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push_str("<ul>\n");
            let _ = writeln!(out, "<li>{}</li>", inline(item));
            while let Some(next) = lines.next_if(|l| l.starts_with("- ")) {
                let _ = writeln!(out, "<li>{}</li>", inline(&next[2..]));
            }
            out.push_str("</ul>\n");
        } else if !line.trim().is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(line));
        }
    }
    out
}

fn html(a: &Analysis, profile: Profile, figures: &Figures) -> String {
    let mut body = String::new();
    let figure = |name: &str| -> String {
        figures
            .items
            .iter()
            .find(|f| f.0 == name)
            .map_or(String::new(), |(_, caption, svg)| {
                format!("<figure>{svg}<figcaption>{caption}</figcaption></figure>\n")
            })
    };
    for (title, block) in sections(a, profile) {
        let _ = write!(body, "<h2>{title}</h2>\n{}", html_block(&block));
        match title.as_str() {
            "pass@k" => body.push_str(&(figure("passk") + &figure("histogram"))),
            "By problem class" => body.push_str(&figure("classes")),
            "Perplexity" => body.push_str(&figure("perplexity")),
            "Training" => body.push_str(&(figure("training") + &figure("sft"))),
            _ => {}
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Boundary lab report</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}\n\
         th {{ background: #f3f3f3; }}\n figure {{ margin: 1.5em 0; }} figure svg {{ max-width: 100%; height: auto; }}\n\
         figcaption {{ color: #555; font-style: italic; }}\n</style>\n</head>\n<body>\n<h1>Boundary lab report</h1>\n{body}\
         <p>Tables: <code>tables/*.csv</code>, <code>tables/*.json</code>; every model's curve and solved problems: \
         <code>summary.json</code>.</p>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_blocks_render_tables_lists_and_inline_marks() {
        let html = html_block(
            "Intro with `code` and **bold** and *it*.\n\n- one\n- two <x>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(
            html.contains(
                "<p>Intro with <code>code</code> and <strong>bold</strong> and <em>it</em>.</p>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<ul>\n<li>one</li>\n<li>two &lt;x&gt;</li>\n</ul>"),
            "{html}"
        );
        assert!(
            html.contains("<tr><th>a</th><th>b</th></tr>\n<tr><td>1</td><td>2</td></tr>"),
            "{html}"
        );
    }
}
