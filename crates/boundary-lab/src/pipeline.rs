//! The whole lab run, phase by phase, resumable: pretrain the base, then
//! (in parallel jobs) distil the teacher into a student and train one model
//! per RL algorithm plus the random-reward control, then evaluate every
//! model through the run store, then analyse and write the report.
//!
//! Every phase writes its result under the output directory as soon as it
//! finishes (a safetensors checkpoint with a JSON sidecar holding its
//! fingerprint and training curve; samples in the store batch by batch), so
//! a re-run into the same directory skips whatever is already done with the
//! same settings and recomputes only what changed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use boundary_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::analysis::{Analysis, ModelResult};
use crate::config::{LabConfig, Profile, fingerprint};
use crate::error::{LabError, Result, io_at};
use crate::eval::{EvalContext, sample_into_store};
use crate::model::{ModelConfig, Transformer};
use crate::report;
use crate::rl::Algorithm;
use crate::rl::trainer::{
    RewardProbe, RewardSource, RlSetup, StepMetrics, probe_training_reward, train_rl,
};
use crate::seeds::stream;
use crate::task::generator::Splits;
use crate::task::tokenizer::{PROMPT_LEN, Tokenizer};
use crate::task::{Problem, Task};
use crate::train::{SftPoint, train_sft};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Everything: base, distillation, RL, evaluation, report.
    Report,
    /// Pretrain and evaluate the base only (task tuning).
    BaseOnly,
}

/// Where and how to run.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub out: PathBuf,
    pub profile: Profile,
    pub stop: Stop,
}

/// A model the lab trains and evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ModelId {
    Base,
    Rl(Algorithm),
    Distill,
    /// GRPO on coin-flip rewards.
    RandomReward,
}

impl ModelId {
    /// The name in file names, the store and `summary.json`.
    pub fn id(self) -> String {
        match self {
            ModelId::Base => "base".into(),
            ModelId::Rl(a) => a.id().into(),
            ModelId::Distill => "distill".into(),
            ModelId::RandomReward => "grpo_random_reward".into(),
        }
    }

    /// The name in tables and plots.
    pub fn label(self) -> String {
        match self {
            ModelId::Base => "Base".into(),
            ModelId::Rl(a) => a.display_name().into(),
            ModelId::Distill => "Distill".into(),
            ModelId::RandomReward => "GRPO (random reward)".into(),
        }
    }
}

/// Training record kept beside a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sidecar {
    pub model: String,
    pub fingerprint: String,
    pub parameters: usize,
    #[serde(default)]
    pub sft_curve: Vec<SftPoint>,
    #[serde(default)]
    pub rl_curve: Vec<StepMetrics>,
    /// Training reward on the probe prompts before and after RL (RL runs with
    /// `rl.probe_prompts` > 0).
    #[serde(default)]
    pub reward_probe: Option<RewardProbe>,
}

/// Wall time of each phase (kept out of the report, which must not change
/// between identical runs).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timings {
    pub phases: Vec<(String, f64)>,
    pub total: f64,
}

/// What a finished run produced.
pub struct LabOutcome {
    pub analysis: Option<Analysis>,
    pub timings: Timings,
    pub out: PathBuf,
}

/// Everything the phases share.
struct Context<'a> {
    config: &'a LabConfig,
    task: Task,
    tokenizer: Tokenizer,
    splits: Splits,
    model_config: ModelConfig,
    max_new_tokens: usize,
    out: &'a Path,
    log: &'a (dyn Fn(&str) + Sync),
}

impl Context<'_> {
    fn checkpoint(&self, model: ModelId) -> PathBuf {
        self.out
            .join("checkpoints")
            .join(format!("{}.safetensors", model.id()))
    }

    fn sidecar(&self, model: ModelId) -> PathBuf {
        self.out
            .join("checkpoints")
            .join(format!("{}.json", model.id()))
    }

    /// The fingerprint of the base model's inputs; every other phase includes it.
    fn base_fingerprint(&self) -> String {
        let c = self.config;
        fingerprint(&[
            json!("base-v1"),
            json!(c.seed),
            serde_json::to_value(&c.task).unwrap_or_default(),
            serde_json::to_value(&c.split).unwrap_or_default(),
            serde_json::to_value(&c.model).unwrap_or_default(),
            serde_json::to_value(&c.pretrain).unwrap_or_default(),
        ])
    }

    fn fingerprint_of(&self, model: ModelId) -> String {
        let c = self.config;
        let base = self.base_fingerprint();
        match model {
            ModelId::Base => base,
            ModelId::Distill => fingerprint(&[
                json!("distill-v1"),
                json!(base),
                serde_json::to_value(&c.distill).unwrap_or_default(),
            ]),
            ModelId::Rl(_) | ModelId::RandomReward => fingerprint(&[
                json!("rl-v1"),
                json!(base),
                json!(model.id()),
                serde_json::to_value(&c.rl).unwrap_or_default(),
                serde_json::to_value(&c.eval).unwrap_or_default(),
            ]),
        }
    }

    /// The trained model from a previous run, if its fingerprint matches.
    fn resume(&self, model: ModelId) -> Result<Option<(Transformer, Sidecar)>> {
        let (ckpt, side) = (self.checkpoint(model), self.sidecar(model));
        if !ckpt.exists() || !side.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&side).map_err(io_at(&side))?;
        let Ok(sidecar) = serde_json::from_str::<Sidecar>(&text) else {
            (self.log)(&format!(
                "{}: unreadable sidecar {}, retraining",
                model.id(),
                side.display()
            ));
            return Ok(None);
        };
        if sidecar.fingerprint != self.fingerprint_of(model) {
            (self.log)(&format!(
                "{}: settings changed since the saved checkpoint, retraining",
                model.id()
            ));
            return Ok(None);
        }
        let mut weights = Transformer::new(self.model_config, &mut stream(0, &[]))?;
        weights.load_weights(&ckpt)?;
        Ok(Some((weights, sidecar)))
    }

    /// Saves a checkpoint, then its sidecar (written last, so a sidecar
    /// always describes a complete checkpoint).
    fn save(&self, model: ModelId, weights: &Transformer, sidecar: &Sidecar) -> Result<()> {
        weights.save(&self.checkpoint(model))?;
        let side = self.sidecar(model);
        let text =
            serde_json::to_string_pretty(sidecar).map_err(|e| LabError::Invalid(e.to_string()))?;
        std::fs::write(&side, text).map_err(io_at(&side))
    }
}

/// Runs the lab into `options.out`.
pub fn run(
    config: &LabConfig,
    options: &LabOptions,
    log: &(dyn Fn(&str) + Sync),
) -> Result<LabOutcome> {
    let started = Instant::now();
    let out = options.out.as_path();
    for dir in [out.to_path_buf(), out.join("checkpoints")] {
        std::fs::create_dir_all(&dir).map_err(io_at(&dir))?;
    }
    let effective = toml::to_string_pretty(config).map_err(|e| LabError::Invalid(e.to_string()))?;
    let config_path = out.join("config.toml");
    std::fs::write(&config_path, effective).map_err(io_at(&config_path))?;

    let task = Task::new(config.task.clone())?;
    let tokenizer = Tokenizer::new(&task);
    let splits = task.split(&config.split, &mut stream(config.seed, &[0x5350]))?;
    let max_new_tokens = 2 * (config.task.max_limit as usize + 2) + 1;
    let model_config = ModelConfig {
        vocab_size: tokenizer.vocab_size(),
        max_seq_len: PROMPT_LEN + max_new_tokens,
        d_model: config.model.d_model,
        layers: config.model.layers,
        heads: config.model.heads,
        d_ff: config.model.d_ff,
    };
    let ctx = Context {
        config,
        task,
        tokenizer,
        splits,
        model_config,
        max_new_tokens,
        out,
        log,
    };
    log(&format!(
        "task: {} test, {} validation, {} training problems ({} RL prompts); model {} parameters",
        ctx.splits.test.len(),
        ctx.splits.validation.len(),
        ctx.splits.train.len(),
        ctx.splits.rl.len(),
        Transformer::new(model_config, &mut stream(0, &[]))?.parameter_count()
    ));
    let mut timings = Timings::default();
    let mut timed = |name: &str, since: Instant| {
        timings
            .phases
            .push((name.to_string(), since.elapsed().as_secs_f64()))
    };

    let phase = Instant::now();
    let (base, base_sidecar) = pretrain(&ctx)?;
    timed("pretrain", phase);

    let mut trained: Vec<(ModelId, Transformer, Sidecar)> =
        vec![(ModelId::Base, base.deep_copy()?, base_sidecar)];
    if options.stop == Stop::Report {
        let phase = Instant::now();
        trained.extend(post_train(&ctx, &base)?);
        timed("distill + RL", phase);
    }

    let phase = Instant::now();
    let store_path = out.join("lab.db");
    let store = Mutex::new(Store::open(&store_path)?);
    let results = evaluate(&ctx, &store, &trained)?;
    timed("evaluate", phase);

    let analysis = if options.stop == Stop::Report {
        let phase = Instant::now();
        let mut store = store
            .into_inner()
            .map_err(|_| LabError::Invalid("store lock poisoned".into()))?;
        let analysis = Analysis::new(
            &ctx.task,
            &ctx.splits.test,
            config,
            &base,
            &results,
            &mut store,
            &ctx.eval_context(),
        )?;
        report::write(out, &analysis, options.profile)?;
        timed("analyse + report", phase);
        Some(analysis)
    } else {
        let base = &results[0];
        let pass1 = base.curve.curve.first().map_or(0.0, |p| p.pass_at_k);
        let pass_n = base.curve.curve.last().map_or(0.0, |p| p.pass_at_k);
        log(&format!(
            "base: pass@1 {pass1:.3}, pass@{} {pass_n:.3}",
            config.eval.samples
        ));
        let summary = json!({ "base": { "pass_at_1": pass1, "pass_at_n": pass_n, "n": config.eval.samples } });
        let path = out.join("base.json");
        std::fs::write(&path, summary.to_string()).map_err(io_at(&path))?;
        None
    };
    timings.total = started.elapsed().as_secs_f64();
    let path = out.join("timings.json");
    let text =
        serde_json::to_string_pretty(&timings).map_err(|e| LabError::Invalid(e.to_string()))?;
    std::fs::write(&path, text).map_err(io_at(&path))?;
    Ok(LabOutcome {
        analysis,
        timings,
        out: out.to_path_buf(),
    })
}

impl Context<'_> {
    fn eval_context(&self) -> EvalContext<'_> {
        EvalContext {
            task: &self.task,
            tokenizer: &self.tokenizer,
            test: &self.splits.test,
            spec: &self.config.eval,
            benchmark: format!(
                "modreach-{}",
                fingerprint(&[
                    serde_json::to_value(&self.config.task).unwrap_or_default(),
                    serde_json::to_value(&self.config.split).unwrap_or_default(),
                    json!(self.config.seed),
                ])
            ),
            seed: self.config.seed,
            max_new_tokens: self.max_new_tokens,
        }
    }
}

/// Pretrains the base on strategy-mixture traces of the training problems.
fn pretrain(ctx: &Context) -> Result<(Transformer, Sidecar)> {
    if let Some(done) = ctx.resume(ModelId::Base)? {
        (ctx.log)("base: resumed from checkpoint");
        return Ok(done);
    }
    let config = ctx.config;
    let mut rng = stream(config.seed, &[0x4241]);
    let model = Transformer::new(ctx.model_config, &mut rng)?;
    let train = &ctx.splits.train;
    let steps = config.pretrain.steps;
    let mut data_rng = stream(config.seed, &[0x4441]);
    let mut next_batch = |_: &mut rand_chacha::ChaCha8Rng, size: usize| -> Vec<Vec<u32>> {
        (0..size)
            .map(|_| {
                let problem = &train[rand::Rng::random_range(&mut data_rng, 0..train.len())];
                let strategy = ctx.task.sample_strategy(&mut data_rng);
                let trace = ctx.task.strategy_trace(strategy, problem, &mut data_rng);
                let mut seq = ctx.tokenizer.prompt(problem);
                seq.extend(ctx.tokenizer.response(&trace));
                seq
            })
            .collect()
    };
    let log_every = (steps / 10).max(1);
    let curve = train_sft(
        &model,
        &config.pretrain,
        PROMPT_LEN,
        &mut rng,
        &mut next_batch,
        &mut |point| {
            if (point.step + 1) % log_every == 0 {
                (ctx.log)(&format!(
                    "base: step {}/{steps} loss {:.3}",
                    point.step + 1,
                    point.loss
                ));
            }
        },
    )?;
    let sidecar = Sidecar {
        model: "base".into(),
        fingerprint: ctx.fingerprint_of(ModelId::Base),
        parameters: model.parameter_count(),
        sft_curve: curve,
        rl_curve: Vec::new(),
        reward_probe: None,
    };
    ctx.save(ModelId::Base, &model, &sidecar)?;
    Ok((model, sidecar))
}

/// Distillation and every RL run, as independent jobs on `threads` workers.
fn post_train(ctx: &Context, base: &Transformer) -> Result<Vec<(ModelId, Transformer, Sidecar)>> {
    let mut jobs: Vec<ModelId> = ctx
        .config
        .rl
        .algorithms
        .iter()
        .map(|&a| ModelId::Rl(a))
        .collect();
    jobs.push(ModelId::Distill);
    if ctx.config.rl.random_reward_control {
        jobs.push(ModelId::RandomReward);
    }
    // Every RL run starts from the base, so their "before" reward probes are one and the
    // same: the first run that needs it measures it for all.
    let base_probe = Mutex::new(None);
    run_jobs(ctx.config.threads, &jobs, |&model| {
        if let Some((weights, sidecar)) = ctx.resume(model)? {
            (ctx.log)(&format!("{}: resumed from checkpoint", model.id()));
            return Ok((model, weights, sidecar));
        }
        let started = Instant::now();
        let weights = base.deep_copy()?;
        let mut sidecar = Sidecar {
            model: model.id(),
            fingerprint: ctx.fingerprint_of(model),
            parameters: weights.parameter_count(),
            sft_curve: Vec::new(),
            rl_curve: Vec::new(),
            reward_probe: None,
        };
        match model {
            ModelId::Distill => sidecar.sft_curve = distill(ctx, &weights)?,
            ModelId::Rl(algorithm) => {
                (sidecar.rl_curve, sidecar.reward_probe) = reinforce(
                    ctx,
                    (base, &base_probe),
                    &weights,
                    algorithm,
                    RewardSource::Verifier,
                )?
            }
            ModelId::RandomReward => {
                (sidecar.rl_curve, sidecar.reward_probe) = reinforce(
                    ctx,
                    (base, &base_probe),
                    &weights,
                    Algorithm::Grpo,
                    RewardSource::CoinFlip,
                )?;
            }
            ModelId::Base => {}
        }
        ctx.save(model, &weights, &sidecar)?;
        (ctx.log)(&format!(
            "{}: trained in {:.0} s",
            model.id(),
            started.elapsed().as_secs_f64()
        ));
        Ok((model, weights, sidecar))
    })
}

/// Fine-tunes `student` (a copy of the base) on the teacher's traces of the RL prompts.
fn distill(ctx: &Context, student: &Transformer) -> Result<Vec<SftPoint>> {
    let config = ctx.config;
    let traces: Vec<Vec<u32>> = ctx
        .splits
        .rl
        .iter()
        .filter_map(|p: &Problem| {
            let trace = ctx.task.teacher_trace(p)?;
            let mut seq = ctx.tokenizer.prompt(p);
            seq.extend(ctx.tokenizer.response(&trace));
            Some(seq)
        })
        .collect();
    if traces.is_empty() {
        return Err(LabError::Invalid(
            "the teacher solves none of the training problems; nothing to distil".into(),
        ));
    }
    let mut rng = stream(config.seed, &[0x4453]);
    let steps = config.distill.steps;
    let log_every = (steps / 4).max(1);
    let mut next_batch = |rng: &mut rand_chacha::ChaCha8Rng, size: usize| -> Vec<Vec<u32>> {
        (0..size)
            .map(|_| traces[rand::Rng::random_range(rng, 0..traces.len())].clone())
            .collect()
    };
    train_sft(
        student,
        &config.distill,
        PROMPT_LEN,
        &mut rng,
        &mut next_batch,
        &mut |point| {
            if (point.step + 1) % log_every == 0 {
                (ctx.log)(&format!(
                    "distill: step {}/{steps} loss {:.3}",
                    point.step + 1,
                    point.loss
                ));
            }
        },
    )
    .map_err(LabError::from)
}

/// Trains `policy` (a copy of the base) with one algorithm; `base` comes with the
/// shared slot for its reward probe.
fn reinforce(
    ctx: &Context,
    (base, base_probe): (&Transformer, &Mutex<Option<Vec<f32>>>),
    policy: &Transformer,
    algorithm: Algorithm,
    reward: RewardSource,
) -> Result<(Vec<StepMetrics>, Option<RewardProbe>)> {
    let setup = RlSetup {
        task: &ctx.task,
        tokenizer: &ctx.tokenizer,
        spec: &ctx.config.rl,
        eval: &ctx.config.eval,
        prompts: &ctx.splits.rl,
        validation: &ctx.splits.validation,
        reference: base,
        max_new_tokens: ctx.max_new_tokens,
        seed: ctx.config.seed,
    };
    let name = match reward {
        RewardSource::Verifier => algorithm.id().to_string(),
        RewardSource::CoinFlip => ModelId::RandomReward.id(),
    };
    let steps = ctx.config.rl.steps;
    let every = (steps / 5).max(1);
    let before = if ctx.config.rl.probe_prompts > 0 {
        let mut slot = base_probe
            .lock()
            .map_err(|_| LabError::Invalid("reward probe lock poisoned".into()))?;
        if slot.is_none() {
            *slot = Some(probe_training_reward(base, &setup)?);
        }
        slot.clone()
    } else {
        None
    };
    let curve = train_rl(policy, algorithm, reward, &setup, &mut |m| {
        if (m.step + 1) % every == 0 || m.step == 0 {
            (ctx.log)(&format!(
                "{name}: step {}/{steps} accuracy {:.3} kl {:.4} entropy {:.3}",
                m.step + 1,
                m.accuracy,
                m.kl,
                m.entropy
            ));
        }
    })?;
    let probe = match before {
        Some(before) => Some(RewardProbe {
            samples: ctx.config.rl.probe_samples.max(1),
            before,
            after: probe_training_reward(policy, &setup)?,
        }),
        None => None,
    };
    if let Some(p) = &probe {
        (ctx.log)(&format!(
            "{name}: training reward on {} probe prompts {:.3} -> {:.3} (z {:.1})",
            p.before.len(),
            p.mean_before(),
            p.mean_after(),
            p.z()
        ));
    }
    Ok((curve, probe))
}

/// Samples every model into the store (in parallel jobs) and collects its counts.
fn evaluate(
    ctx: &Context,
    store: &Mutex<Store>,
    models: &[(ModelId, Transformer, Sidecar)],
) -> Result<Vec<ModelResult>> {
    let eval_ctx = ctx.eval_context();
    let indices: Vec<usize> = (0..models.len()).collect();
    run_jobs(ctx.config.threads, &indices, |&i| {
        let (model, weights, sidecar) = &models[i];
        let started = Instant::now();
        let evaluation = sample_into_store(
            store,
            &eval_ctx,
            &model.id(),
            weights,
            &sidecar.fingerprint,
            &mut |done, total| {
                if done == total && total > 0 {
                    (ctx.log)(&format!("{}: {total} samples evaluated", model.id()));
                }
            },
        )?;
        if evaluation.generated > 0 {
            (ctx.log)(&format!(
                "{}: evaluated in {:.0} s",
                model.id(),
                started.elapsed().as_secs_f64()
            ));
        }
        ModelResult::new(*model, evaluation, sidecar.clone(), &ctx.config.eval)
    })
}

/// Runs `work` on every job with `threads` workers; results come back in job
/// order whatever order they finished in. The first error wins.
fn run_jobs<J: Sync, T: Send>(
    threads: usize,
    jobs: &[J],
    work: impl Fn(&J) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<T>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(jobs.len()).max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= jobs.len() {
                        break;
                    }
                    let result = work(&jobs[i]);
                    let failed = result.is_err();
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                    if failed {
                        // Stop handing out new jobs; running ones finish.
                        next.store(jobs.len(), Ordering::SeqCst);
                    }
                }
            });
        }
    });
    let slots = results
        .into_inner()
        .map_err(|_| LabError::Invalid("a job panicked".into()))?;
    let mut out = Vec::with_capacity(jobs.len());
    let mut first_error = None;
    for slot in slots {
        match slot {
            Some(Ok(value)) => out.push(value),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match first_error {
        Some(e) => Err(e),
        None if out.len() == jobs.len() => Ok(out),
        None => Err(LabError::Invalid("a job did not finish".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_return_in_order_and_errors_propagate() {
        let jobs: Vec<u64> = (0..7).collect();
        let squares = run_jobs(3, &jobs, |&j| Ok(j * j)).unwrap();
        assert_eq!(squares, vec![0, 1, 4, 9, 16, 25, 36]);
        let failed = run_jobs(2, &jobs, |&j| {
            if j == 3 {
                Err(LabError::Invalid("job 3".into()))
            } else {
                Ok(j)
            }
        });
        assert!(matches!(failed, Err(LabError::Invalid(m)) if m == "job 3"));
    }
}
