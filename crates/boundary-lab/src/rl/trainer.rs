//! The loop every algorithm runs: draw prompts, roll out a group of
//! responses per prompt, score them with the verifier, compute advantages
//! (the only per-algorithm part, plus ReMax's greedy baseline, DAPO's dynamic
//! sampling and PPO's critic), then take clipped policy-gradient steps.

use candle_core::{Device, Tensor};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::kl::KlEstimator;
use super::loss::{Clip, aggregate, clipped_policy_loss};
use super::ppo::Critic;
use super::{Algorithm, dapo, grpo, ppo, reinforce_pp, remax, rloo};
use crate::config::{EvalSpec, KlPlacement, KlSpec, RlSpec};
use crate::model::{Result, Transformer, token_entropy, token_log_probs};
use crate::sampler::{Decoding, generate};
use crate::seeds::stream;
use crate::task::tokenizer::{PROMPT_LEN, Tokenizer};
use crate::task::verifier::grade_text;
use crate::task::{Problem, Task};
use crate::train::{Optimizer, TeacherForcing};

/// Everything an RL run reads but does not change.
pub struct RlSetup<'a> {
    pub task: &'a Task,
    pub tokenizer: &'a Tokenizer,
    pub spec: &'a RlSpec,
    /// Decoding for the held-out pass@1 in the training curves (the test's settings).
    pub eval: &'a EvalSpec,
    /// RL training prompts.
    pub prompts: &'a [Problem],
    pub validation: &'a [Problem],
    /// The frozen base model: KL reference and PPO critic initialisation.
    pub reference: &'a Transformer,
    pub max_new_tokens: usize,
    pub seed: u64,
}

/// What the policy is rewarded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardSource {
    /// 1 for a verified-correct trace, else 0.
    Verifier,
    /// A fair coin, independent of the response: the control run. Any gain in
    /// accuracy under it would mean reward information leaks some other way.
    CoinFlip,
}

/// What one RL step did, for the training curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub step: usize,
    /// Mean reward the algorithm optimised (coin flips for the control; DAPO's includes its shaping).
    pub reward: f32,
    /// Share of rollouts the verifier accepts, whatever the reward was.
    pub accuracy: f32,
    /// Verifier accuracy of each prompt group used for the update.
    pub group_accuracy: Vec<f32>,
    /// Mean k3 estimate of KL(π‖π_base) per response token, at rollout time.
    pub kl: f32,
    /// Mean next-token entropy over response tokens (nats).
    pub entropy: f32,
    pub response_tokens: f32,
    pub clip_fraction: f32,
    pub grad_norm: f32,
    /// Prompt groups generated, and how many were used (they differ only for DAPO).
    pub groups_generated: usize,
    pub groups_used: usize,
    /// PPO's critic: value loss and explained variance of the returns.
    pub value_loss: Option<f32>,
    pub explained_variance: Option<f32>,
    /// Held-out pass@1 (validation problems) measured before this step's update.
    pub validation_pass1: Option<f32>,
}

/// One sampled response and what the loop knows about it.
struct Rollout {
    /// Full sequence: prompt then response.
    sequence: Vec<u32>,
    old_log_probs: Vec<f32>,
    score: f32,
    correct: bool,
}

/// Cycles through the prompts in a fresh random order each epoch.
struct PromptOrder {
    order: Vec<usize>,
    next: usize,
}

impl PromptOrder {
    fn take(&mut self, count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
        (0..count)
            .map(|_| {
                if self.next == self.order.len() {
                    self.order.shuffle(rng);
                    self.next = 0;
                }
                self.next += 1;
                self.order[self.next - 1]
            })
            .collect()
    }
}

/// The KL settings an algorithm runs with: DAPO never uses KL; REINFORCE++
/// and ReMax may override the shared settings.
fn kl_for(algorithm: Algorithm, spec: &RlSpec) -> KlSpec {
    let none = KlSpec {
        placement: KlPlacement::None,
        coef: 0.0,
        estimator: KlEstimator::K1,
    };
    match algorithm {
        Algorithm::Dapo => none,
        Algorithm::ReinforcePp => spec
            .reinforce_pp
            .kl
            .clone()
            .unwrap_or_else(|| spec.kl.clone()),
        Algorithm::Remax => spec.remax.kl.clone().unwrap_or_else(|| spec.kl.clone()),
        _ => spec.kl.clone(),
    }
}

/// Lays per-response values onto the teacher-forcing grid `[B, W]`: response
/// token `j` of row `i` sits at column `prompt_len − 1 + j`.
fn to_grid(values: &[Vec<f32>], prompt_len: usize, width: usize) -> Result<Tensor> {
    let mut grid = vec![0f32; values.len() * width];
    for (row, v) in values.iter().enumerate() {
        let start = row * width + prompt_len - 1;
        grid[start..start + v.len()].copy_from_slice(v);
    }
    Ok(Tensor::from_vec(grid, (values.len(), width), &Device::Cpu)?)
}

/// The inverse of [`to_grid`]: each row's first `lengths[i]` response values.
fn from_grid(grid: &Tensor, lengths: &[usize], prompt_len: usize) -> Result<Vec<Vec<f32>>> {
    let rows: Vec<Vec<f32>> = grid.to_vec2()?;
    Ok(rows
        .into_iter()
        .zip(lengths)
        .map(|(row, &len)| row[prompt_len - 1..prompt_len - 1 + len].to_vec())
        .collect())
}

/// Trains `policy` in place with `algorithm`; returns one entry per step.
pub fn train_rl(
    policy: &Transformer,
    algorithm: Algorithm,
    reward: RewardSource,
    setup: &RlSetup,
    progress: &mut dyn FnMut(&StepMetrics),
) -> Result<Vec<StepMetrics>> {
    let spec = setup.spec;
    let n = spec.group_size;
    let prompt_len = PROMPT_LEN;
    let run_label = [algorithm as u64, reward as u64];
    let mut rng = stream(setup.seed, &[0x5254, run_label[0], run_label[1]]);
    let mut order = PromptOrder {
        order: (0..setup.prompts.len()).collect(),
        next: setup.prompts.len(),
    };
    let mut optimizer = Optimizer::new(policy.vars(), spec.lr, spec.weight_decay, spec.grad_clip)?;
    let mut critic = match algorithm {
        Algorithm::Ppo => Some(Critic::new(setup.reference, &spec.ppo, spec)?),
        _ => None,
    };
    let clip = Clip {
        low: spec.clip_low,
        high: if algorithm == Algorithm::Dapo {
            spec.dapo.clip_high
        } else {
            spec.clip_high
        },
        dual: spec.clip_dual,
    };
    let kl = kl_for(algorithm, spec);
    let rollout_decoding = Decoding::Sample {
        temperature: spec.temperature,
        top_p: 1.0,
    };

    let mut curve = Vec::with_capacity(spec.steps);
    for step in 0..spec.steps {
        let validation_pass1 = if spec.validation_every > 0 && (step % spec.validation_every == 0) {
            Some(validation_pass1(policy, setup, step)?)
        } else {
            None
        };

        // 1. Rollouts, scored. DAPO keeps drawing until the step is full of mixed groups.
        let mut problems: Vec<Problem> = Vec::new();
        let mut rollouts: Vec<Rollout> = Vec::new();
        let mut groups_generated = 0;
        let max_batches = if algorithm == Algorithm::Dapo {
            spec.dapo.max_gen_batches
        } else {
            1
        };
        for gen_batch in 0..max_batches {
            let picked = order.take(spec.prompts_per_step, &mut rng);
            let batch_problems: Vec<Problem> = picked.iter().map(|&i| setup.prompts[i]).collect();
            let prompts: Vec<Vec<u32>> = batch_problems
                .iter()
                .flat_map(|p| std::iter::repeat_n(setup.tokenizer.prompt(p), n))
                .collect();
            let mut rngs: Vec<ChaCha8Rng> = (0..prompts.len())
                .map(|i| {
                    stream(
                        setup.seed,
                        &[
                            0x524f,
                            run_label[0],
                            run_label[1],
                            step as u64,
                            gen_batch as u64,
                            i as u64,
                        ],
                    )
                })
                .collect();
            let generations = generate(
                policy,
                &prompts,
                &mut rngs,
                rollout_decoding,
                setup.max_new_tokens,
            )?;
            groups_generated += batch_problems.len();
            for (g, problem) in batch_problems.iter().enumerate() {
                let group: Vec<Rollout> = (0..n)
                    .map(|j| {
                        let index = g * n + j;
                        let generation = &generations[index];
                        let (text, truncated) = setup.tokenizer.decode_response(&generation.tokens);
                        let correct = grade_text(setup.task, problem, &text, truncated)
                            .verdict
                            .is_correct();
                        let score = match reward {
                            RewardSource::Verifier => f32::from(u8::from(correct)),
                            RewardSource::CoinFlip => {
                                f32::from(u8::from(rngs[index].random_bool(0.5)))
                            }
                        };
                        let shaping = if algorithm == Algorithm::Dapo {
                            dapo::overlong_penalty(
                                generation.tokens.len(),
                                setup.max_new_tokens,
                                spec.dapo.overlong_buffer,
                                spec.dapo.overlong_factor as f32,
                            )
                        } else {
                            0.0
                        };
                        let mut sequence = prompts[index].clone();
                        sequence.extend(&generation.tokens);
                        Rollout {
                            sequence,
                            old_log_probs: generation.log_probs.clone(),
                            score: score + shaping,
                            correct,
                        }
                    })
                    .collect();
                let correct: Vec<bool> = group.iter().map(|r| r.correct).collect();
                if algorithm == Algorithm::Dapo && !dapo::is_informative(&correct) {
                    continue;
                }
                problems.push(*problem);
                rollouts.extend(group);
            }
            if problems.len() >= spec.prompts_per_step {
                break;
            }
        }
        problems.truncate(spec.prompts_per_step);
        rollouts.truncate(problems.len() * n);

        let accuracy_all =
            rollouts.iter().filter(|r| r.correct).count() as f32 / rollouts.len().max(1) as f32;
        let group_accuracy: Vec<f32> = rollouts
            .chunks(n)
            .map(|g| g.iter().filter(|r| r.correct).count() as f32 / n as f32)
            .collect();
        if rollouts.is_empty() {
            // DAPO found no group with mixed outcomes: nothing to learn from this step.
            let metrics = StepMetrics {
                step,
                reward: 0.0,
                accuracy: accuracy_all,
                group_accuracy,
                kl: 0.0,
                entropy: 0.0,
                response_tokens: 0.0,
                clip_fraction: 0.0,
                grad_norm: 0.0,
                groups_generated,
                groups_used: 0,
                value_loss: None,
                explained_variance: None,
                validation_pass1,
            };
            progress(&metrics);
            curve.push(metrics);
            continue;
        }

        // 2. Reference log-probs (KL), token rewards, critic values.
        let sequences: Vec<Vec<u32>> = rollouts.iter().map(|r| r.sequence.clone()).collect();
        let lengths: Vec<usize> = rollouts.iter().map(|r| r.old_log_probs.len()).collect();
        let whole = TeacherForcing::new(&sequences, prompt_len)?;
        let ref_log_probs = from_grid(
            &whole.log_probs(setup.reference, spec.temperature)?,
            &lengths,
            prompt_len,
        )?;
        let kl_tokens: Vec<Vec<f32>> = rollouts
            .iter()
            .zip(&ref_log_probs)
            .map(|(r, reference)| {
                r.old_log_probs
                    .iter()
                    .zip(reference)
                    .map(|(&lp, &rf)| KlEstimator::K3.estimate(f64::from(lp), f64::from(rf)) as f32)
                    .collect()
            })
            .collect();
        let token_rewards: Vec<Vec<f32>> = rollouts
            .iter()
            .zip(&ref_log_probs)
            .map(|(r, reference)| {
                let mut rewards: Vec<f32> = match kl.placement {
                    KlPlacement::Reward => r
                        .old_log_probs
                        .iter()
                        .zip(reference)
                        .map(|(&lp, &rf)| {
                            -(kl.coef * kl.estimator.estimate(f64::from(lp), f64::from(rf))) as f32
                        })
                        .collect(),
                    _ => vec![0.0; r.old_log_probs.len()],
                };
                if let Some(last) = rewards.last_mut() {
                    *last += r.score;
                }
                rewards
            })
            .collect();
        let old_values = match &critic {
            Some(c) => Some(from_grid(&c.values(&whole)?, &lengths, prompt_len)?),
            None => None,
        };

        // 3. Advantages: the one place the algorithms differ.
        let sequence_rewards: Vec<f32> = token_rewards.iter().map(|r| r.iter().sum()).collect();
        let broadcast = |per_response: Vec<f32>| -> Vec<Vec<f32>> {
            per_response
                .iter()
                .zip(&lengths)
                .map(|(&a, &len)| vec![a; len])
                .collect()
        };
        let mut returns = None;
        let advantages: Vec<Vec<f32>> = match algorithm {
            Algorithm::Grpo | Algorithm::Dapo => broadcast(grpo::group_advantages(
                &sequence_rewards,
                n,
                spec.grpo.norm_by_std,
            )),
            Algorithm::Rloo => broadcast(rloo::leave_one_out(&sequence_rewards, n)),
            Algorithm::ReinforcePp => reinforce_pp::advantages(&token_rewards, 1.0),
            Algorithm::Remax => {
                let greedy = greedy_scores(policy, setup, &problems)?;
                remax::advantages(&token_rewards, n, &greedy)
            }
            Algorithm::Ppo => {
                let values = old_values.as_ref().map_or(&[][..], Vec::as_slice);
                let (adv, ret) = ppo::gae(
                    &token_rewards,
                    values,
                    spec.ppo.gamma as f32,
                    spec.ppo.lambda as f32,
                );
                returns = Some(ret);
                adv
            }
        };

        // 4. Updates: `epochs` passes, each split into `mini_batches` optimizer steps of whole groups.
        let groups = problems.len();
        let per_mini = groups.div_ceil(spec.mini_batches);
        let mut clip_fractions = Vec::new();
        let mut entropies = Vec::new();
        let mut grad_norms = Vec::new();
        let mut value_losses = Vec::new();
        for _epoch in 0..spec.epochs {
            for first_group in (0..groups).step_by(per_mini) {
                let rows = first_group * n..((first_group + per_mini).min(groups)) * n;
                let mini = TeacherForcing::new(&sequences[rows.clone()], prompt_len)?;
                let width = mini.mask.dim(1)?;
                let old_grid = to_grid(
                    &rollouts[rows.clone()]
                        .iter()
                        .map(|r| r.old_log_probs.clone())
                        .collect::<Vec<_>>(),
                    prompt_len,
                    width,
                )?;
                let adv_grid = to_grid(&advantages[rows.clone()], prompt_len, width)?;
                let logits = policy.logits(&policy.hidden(&mini.inputs)?)?;
                let logits = if spec.temperature == 1.0 {
                    logits
                } else {
                    (logits / spec.temperature)?
                };
                let log_probs = (token_log_probs(&logits, &mini.targets)? * &mini.mask)?;
                let policy_loss = clipped_policy_loss(
                    &log_probs,
                    &old_grid,
                    &adv_grid,
                    &mini.mask,
                    clip,
                    spec.loss_aggregation,
                )?;
                let entropy = aggregate(
                    &(token_entropy(&logits)? * &mini.mask)?,
                    &mini.mask,
                    spec.loss_aggregation,
                )?;
                let mut loss = policy_loss.loss;
                if spec.entropy_coef > 0.0 {
                    loss = (loss - (&entropy * spec.entropy_coef)?)?;
                }
                if kl.placement == KlPlacement::Loss && kl.coef > 0.0 {
                    let ref_grid = to_grid(&ref_log_probs[rows.clone()], prompt_len, width)?;
                    let kl_tokens =
                        (kl.estimator.estimate_tensor(&log_probs, &ref_grid)? * &mini.mask)?;
                    loss = (loss
                        + (aggregate(&kl_tokens, &mini.mask, spec.loss_aggregation)? * kl.coef)?)?;
                }
                grad_norms.push(optimizer.step(&loss)?);
                clip_fractions.push(policy_loss.clip_fraction);
                entropies.push(entropy.to_scalar::<f32>()?);
                if let (Some(critic), Some(old), Some(ret)) =
                    (critic.as_mut(), old_values.as_ref(), returns.as_ref())
                {
                    let old_grid = to_grid(&old[rows.clone()], prompt_len, width)?;
                    let ret_grid = to_grid(&ret[rows.clone()], prompt_len, width)?;
                    value_losses.push(critic.update(&mini, &old_grid, &ret_grid)?);
                }
            }
        }

        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
        let token_count: usize = lengths.iter().sum();
        let metrics = StepMetrics {
            step,
            reward: mean(&rollouts.iter().map(|r| r.score).collect::<Vec<_>>()),
            accuracy: mean(
                &rollouts
                    .iter()
                    .map(|r| f32::from(u8::from(r.correct)))
                    .collect::<Vec<_>>(),
            ),
            group_accuracy,
            kl: kl_tokens.iter().flatten().sum::<f32>() / token_count.max(1) as f32,
            entropy: mean(&entropies),
            response_tokens: token_count as f32 / rollouts.len() as f32,
            clip_fraction: mean(&clip_fractions),
            grad_norm: mean(&grad_norms),
            groups_generated,
            groups_used: groups,
            value_loss: (!value_losses.is_empty()).then(|| mean(&value_losses)),
            explained_variance: match (&old_values, &returns) {
                (Some(v), Some(r)) => Some(ppo::explained_variance(v, r)),
                _ => None,
            },
            validation_pass1,
        };
        progress(&metrics);
        curve.push(metrics);
    }
    Ok(curve)
}

/// ReMax's baseline: the verifier score of one greedy response per prompt.
fn greedy_scores(policy: &Transformer, setup: &RlSetup, problems: &[Problem]) -> Result<Vec<f32>> {
    let prompts: Vec<Vec<u32>> = problems.iter().map(|p| setup.tokenizer.prompt(p)).collect();
    // Greedy decoding draws no random numbers; the streams are placeholders.
    let mut rngs: Vec<ChaCha8Rng> = (0..prompts.len()).map(|i| stream(0, &[i as u64])).collect();
    let generations = generate(
        policy,
        &prompts,
        &mut rngs,
        Decoding::Greedy,
        setup.max_new_tokens,
    )?;
    Ok(problems
        .iter()
        .zip(&generations)
        .map(|(p, g)| {
            let (text, truncated) = setup.tokenizer.decode_response(&g.tokens);
            f32::from(u8::from(
                grade_text(setup.task, p, &text, truncated)
                    .verdict
                    .is_correct(),
            ))
        })
        .collect())
}

/// Held-out pass@1: mean verifier accuracy of `validation_samples` draws per
/// validation problem with the evaluation's decoding settings.
fn validation_pass1(policy: &Transformer, setup: &RlSetup, step: usize) -> Result<f32> {
    let decoding = Decoding::Sample {
        temperature: setup.eval.temperature,
        top_p: setup.eval.top_p,
    };
    let streams = [0x5641, step as u64];
    let accuracy = accuracy_per_problem(
        policy,
        setup,
        setup.validation,
        setup.spec.validation_samples.max(1),
        decoding,
        &streams,
    )?;
    Ok(accuracy.iter().sum::<f32>() / accuracy.len().max(1) as f32)
}

/// Mean verifier reward of each of the first `probe_prompts` RL prompts, from
/// `probe_samples` rollouts each at the rollout temperature. The random draws
/// depend only on the seed, so a probe before RL and one after it compare the
/// two policies on the same prompts with the same randomness (common random
/// numbers): the noise of the difference is only the policies' difference.
pub fn probe_training_reward(policy: &Transformer, setup: &RlSetup) -> Result<Vec<f32>> {
    let count = setup.spec.probe_prompts.min(setup.prompts.len());
    let decoding = Decoding::Sample {
        temperature: setup.spec.temperature,
        top_p: 1.0,
    };
    accuracy_per_problem(
        policy,
        setup,
        &setup.prompts[..count],
        setup.spec.probe_samples.max(1),
        decoding,
        &[0x5052],
    )
}

/// Share of `samples` responses per problem the verifier accepts; the random
/// stream of response `i` is keyed by `streams` and `i`. Decodes at most
/// `eval.batch_size` sequences at once, which bounds the KV caches' memory.
fn accuracy_per_problem(
    policy: &Transformer,
    setup: &RlSetup,
    problems: &[Problem],
    samples: usize,
    decoding: Decoding,
    streams: &[u64],
) -> Result<Vec<f32>> {
    let prompts: Vec<Vec<u32>> = problems
        .iter()
        .flat_map(|p| std::iter::repeat_n(setup.tokenizer.prompt(p), samples))
        .collect();
    let mut rngs: Vec<ChaCha8Rng> = (0..prompts.len())
        .map(|i| {
            let key: Vec<u64> = streams.iter().copied().chain([i as u64]).collect();
            stream(setup.seed, &key)
        })
        .collect();
    let mut correct = vec![0usize; problems.len()];
    let batch = setup.eval.batch_size.max(1);
    for (chunk, (prompts, rngs)) in prompts
        .chunks(batch)
        .zip(rngs.chunks_mut(batch))
        .enumerate()
    {
        let generations = generate(policy, prompts, rngs, decoding, setup.max_new_tokens)?;
        for (offset, g) in generations.iter().enumerate() {
            let problem = (chunk * batch + offset) / samples;
            let (text, truncated) = setup.tokenizer.decode_response(&g.tokens);
            if grade_text(setup.task, &problems[problem], &text, truncated)
                .verdict
                .is_correct()
            {
                correct[problem] += 1;
            }
        }
    }
    Ok(correct
        .into_iter()
        .map(|c| c as f32 / samples as f32)
        .collect())
}

/// The training reward of the same prompts before and after RL (see
/// [`probe_training_reward`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardProbe {
    /// Responses per prompt.
    pub samples: usize,
    /// Per prompt: share of correct responses before RL.
    pub before: Vec<f32>,
    /// Per prompt: the same after RL.
    pub after: Vec<f32>,
}

impl RewardProbe {
    /// Mean training reward after minus before, and its standard error: the
    /// prompts are the unit (a random sample of the training prompts, each
    /// measured under both policies), so the SE is that of a paired mean.
    pub fn rise(&self) -> (f64, f64) {
        let d: Vec<f64> = self
            .after
            .iter()
            .zip(&self.before)
            .map(|(a, b)| f64::from(a - b))
            .collect();
        let n = d.len() as f64;
        if d.len() < 2 {
            return (d.first().copied().unwrap_or(0.0), f64::INFINITY);
        }
        let mean = d.iter().sum::<f64>() / n;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, (var / n).sqrt())
    }

    /// The rise in standard errors (0 when nothing changed at all).
    pub fn z(&self) -> f64 {
        let (rise, se) = self.rise();
        if se > 0.0 {
            rise / se
        } else if rise == 0.0 {
            0.0
        } else {
            rise.signum() * f64::INFINITY
        }
    }

    pub fn mean_before(&self) -> f64 {
        mean_of(&self.before)
    }

    pub fn mean_after(&self) -> f64 {
        mean_of(&self.after)
    }
}

fn mean_of(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_rise_is_a_paired_mean_with_its_standard_error() {
        // Differences 0.5, 0.25, 0.0, 0.25: mean 0.25; sample variance
        // (0.0625 + 0 + 0.0625 + 0) / 3 = 0.041667; SE = sqrt(0.041667 / 4) = 0.102062.
        let probe = RewardProbe {
            samples: 4,
            before: vec![0.0, 0.25, 0.5, 0.25],
            after: vec![0.5, 0.5, 0.5, 0.5],
        };
        let (rise, se) = probe.rise();
        assert!((rise - 0.25).abs() < 1e-12);
        assert!((se - 0.102_062).abs() < 1e-6, "{se}");
        assert!((probe.z() - 0.25 / 0.102_062).abs() < 1e-4);
        assert!((probe.mean_before() - 0.25).abs() < 1e-12);
        assert!((probe.mean_after() - 0.5).abs() < 1e-12);
        // Identical policies under common random numbers: no rise, z 0 (not NaN).
        let same = RewardProbe {
            samples: 4,
            before: vec![0.25, 0.5],
            after: vec![0.25, 0.5],
        };
        assert_eq!(same.z(), 0.0);
    }

    #[test]
    fn grids_place_response_tokens_after_the_prompt() {
        let values = vec![vec![1.0, 2.0], vec![3.0]];
        let grid = to_grid(&values, 3, 5).unwrap();
        assert_eq!(
            grid.to_vec2::<f32>().unwrap(),
            vec![vec![0.0, 0.0, 1.0, 2.0, 0.0], vec![0.0, 0.0, 3.0, 0.0, 0.0]]
        );
        assert_eq!(from_grid(&grid, &[2, 1], 3).unwrap(), values);
    }

    #[test]
    fn prompt_order_visits_every_prompt_once_per_epoch() {
        let mut rng = stream(1, &[]);
        let mut order = PromptOrder {
            order: (0..5).collect(),
            next: 5,
        };
        let mut first: Vec<usize> = order.take(5, &mut rng);
        first.sort();
        assert_eq!(first, vec![0, 1, 2, 3, 4]);
    }
}
