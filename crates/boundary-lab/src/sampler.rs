//! Batched generation with a key/value cache.
//!
//! Many sequences decode together (one matmul per layer serves them all) and
//! finished sequences are dropped from the batch as they finish. Every
//! sequence draws from its own random stream, so a sample depends only on
//! its own seed — not on which other sequences shared its batch — which is
//! what lets an interrupted evaluation resume and reproduce the same samples.

use candle_core::{D, Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::model::{Result, Transformer};
use crate::task::tokenizer::EOS;

/// How to pick each next token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoding {
    /// Sample from `softmax(logits / temperature)` restricted to the smallest
    /// set of tokens whose probability reaches `top_p`.
    Sample { temperature: f64, top_p: f64 },
    /// Always the most likely token (ReMax's baseline rollout).
    Greedy,
}

/// One generated response.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Response tokens, ending with `<eos>` unless cut off.
    pub tokens: Vec<u32>,
    /// Log-probability of each token under the distribution it was drawn
    /// from (temperature applied, before top-p truncation).
    pub log_probs: Vec<f32>,
    /// Whether `<eos>` was written within the token budget.
    pub finished: bool,
}

/// Generates one response per prompt. All prompts have the same length;
/// `rngs` holds one random stream per prompt.
pub fn generate(
    model: &Transformer,
    prompts: &[Vec<u32>],
    rngs: &mut [ChaCha8Rng],
    decoding: Decoding,
    max_new_tokens: usize,
) -> Result<Vec<Generation>> {
    let batch = prompts.len();
    let mut out: Vec<Generation> = (0..batch)
        .map(|_| Generation {
            tokens: Vec::with_capacity(max_new_tokens),
            log_probs: Vec::with_capacity(max_new_tokens),
            finished: false,
        })
        .collect();
    if batch == 0 || max_new_tokens == 0 {
        return Ok(out);
    }
    let prompt_len = prompts[0].len();
    let flat: Vec<u32> = prompts.iter().flatten().copied().collect();
    let (mut logits, mut cache) =
        model.prefill(&Tensor::from_vec(flat, (batch, prompt_len), &Device::Cpu)?)?;
    // `active[i]` is the output row of the i-th row still in the batch.
    let mut active: Vec<usize> = (0..batch).collect();
    for step in 0..max_new_tokens {
        let scaled = match decoding {
            Decoding::Sample { temperature, .. } if temperature != 1.0 => (logits / temperature)?,
            _ => logits,
        };
        let log_probs: Vec<Vec<f32>> =
            candle_nn::ops::log_softmax(&scaled, D::Minus1)?.to_vec2()?;
        let mut next_tokens = Vec::with_capacity(active.len());
        let mut still_active = Vec::with_capacity(active.len());
        let mut keep_rows: Vec<u32> = Vec::with_capacity(active.len());
        for (row, (&index, row_log_probs)) in active.iter().zip(&log_probs).enumerate() {
            let token = match decoding {
                Decoding::Greedy => argmax(row_log_probs),
                Decoding::Sample { top_p, .. } => sample(row_log_probs, top_p, &mut rngs[index]),
            };
            let generation = &mut out[index];
            generation.tokens.push(token);
            generation.log_probs.push(row_log_probs[token as usize]);
            if token == EOS {
                generation.finished = true;
            } else {
                next_tokens.push(token);
                still_active.push(index);
                keep_rows.push(row as u32);
            }
        }
        if still_active.is_empty() || step + 1 == max_new_tokens {
            break;
        }
        if still_active.len() < active.len() {
            cache.retain(&Tensor::new(keep_rows.as_slice(), &Device::Cpu)?)?;
        }
        active = still_active;
        logits = model.decode(
            &Tensor::new(next_tokens.as_slice(), &Device::Cpu)?,
            &mut cache,
        )?;
    }
    Ok(out)
}

/// The most likely token; ties go to the lowest id, so it is deterministic.
fn argmax(log_probs: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &lp) in log_probs.iter().enumerate() {
        if lp > log_probs[best] {
            best = i;
        }
    }
    best as u32
}

/// Inverse-CDF sampling from `exp(log_probs)`, nucleus-truncated at `top_p`.
fn sample(log_probs: &[f32], top_p: f64, rng: &mut ChaCha8Rng) -> u32 {
    let probs: Vec<f64> = log_probs.iter().map(|&lp| f64::from(lp).exp()).collect();
    let u: f64 = rng.random();
    if top_p >= 1.0 {
        let total: f64 = probs.iter().sum();
        let mut threshold = u * total;
        for (i, &p) in probs.iter().enumerate() {
            if threshold < p {
                return i as u32;
            }
            threshold -= p;
        }
        // Rounding left the threshold past the end: the last token with mass.
        return probs.iter().rposition(|&p| p > 0.0).unwrap_or(0) as u32;
    }
    let mut order: Vec<usize> = (0..probs.len()).collect();
    // Descending probability; ties by id so the nucleus is deterministic.
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]).then(a.cmp(&b)));
    let mut nucleus = 0.0;
    let mut cut = order.len();
    for (rank, &i) in order.iter().enumerate() {
        nucleus += probs[i];
        if nucleus >= top_p {
            cut = rank + 1;
            break;
        }
    }
    let mut threshold = u * nucleus;
    for &i in &order[..cut] {
        if threshold < probs[i] {
            return i as u32;
        }
        threshold -= probs[i];
    }
    order[cut - 1] as u32
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::model::ModelConfig;

    fn model() -> Transformer {
        let config = ModelConfig {
            vocab_size: 9,
            max_seq_len: 12,
            d_model: 16,
            layers: 1,
            heads: 2,
            d_ff: 32,
        };
        Transformer::new(config, &mut ChaCha8Rng::seed_from_u64(5)).unwrap()
    }

    #[test]
    fn sampling_follows_the_distribution_and_top_p() {
        let lp: Vec<f32> = [0.5f32, 0.3, 0.2].iter().map(|p| p.ln()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let draws = 30_000;
        let mut counts = [0usize; 3];
        for _ in 0..draws {
            counts[sample(&lp, 1.0, &mut rng) as usize] += 1;
        }
        for (c, p) in counts.iter().zip([0.5, 0.3, 0.2]) {
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (*c as f64 / draws as f64 - p).abs() < 5.0 * sd,
                "{counts:?}"
            );
        }
        // top_p 0.6 keeps {0.5, 0.3}: token 2 never appears, token 0 has 5/8.
        let mut counts = [0usize; 3];
        for _ in 0..draws {
            counts[sample(&lp, 0.6, &mut rng) as usize] += 1;
        }
        assert_eq!(counts[2], 0);
        let share = counts[0] as f64 / draws as f64;
        assert!(
            (share - 0.625).abs() < 5.0 * (0.625f64 * 0.375 / draws as f64).sqrt(),
            "{counts:?}"
        );
        assert_eq!(argmax(&[0.1, 0.7, 0.7]), 1);
    }

    #[test]
    fn samples_do_not_depend_on_batch_company() {
        let model = model();
        let prompts = vec![vec![1, 4, 5], vec![1, 6, 7], vec![1, 4, 6]];
        let decoding = Decoding::Sample {
            temperature: 1.0,
            top_p: 1.0,
        };
        let rngs = |seeds: &[u64]| {
            seeds
                .iter()
                .map(|&s| ChaCha8Rng::seed_from_u64(s))
                .collect::<Vec<_>>()
        };
        let together = generate(&model, &prompts, &mut rngs(&[10, 11, 12]), decoding, 8).unwrap();
        let alone = generate(&model, &prompts[2..], &mut rngs(&[12]), decoding, 8).unwrap();
        assert_eq!(together[2], alone[0]);
        for g in &together {
            assert_eq!(g.tokens.len(), g.log_probs.len());
            assert!(g.tokens.len() <= 8);
            assert_eq!(g.finished, g.tokens.last() == Some(&EOS));
            assert!(g.log_probs.iter().all(|lp| lp.is_finite() && *lp <= 0.0));
        }
    }

    #[test]
    fn greedy_is_deterministic_and_log_probs_match_the_model() {
        let model = model();
        let prompts = vec![vec![1, 4, 5]; 2];
        let mut rngs = vec![ChaCha8Rng::seed_from_u64(1), ChaCha8Rng::seed_from_u64(2)];
        let g = generate(&model, &prompts, &mut rngs, Decoding::Greedy, 6).unwrap();
        assert_eq!(g[0], g[1]);
        // Recompute the first token's log-prob with a full forward pass.
        let input = Tensor::new(&[[1u32, 4, 5]], &Device::Cpu).unwrap();
        let logits = model.logits(&model.hidden(&input).unwrap()).unwrap();
        let lp = candle_nn::ops::log_softmax(&logits.get(0).unwrap().get(2).unwrap(), 0).unwrap();
        let want: f32 = lp
            .get(g[0].tokens[0] as usize)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!((want - g[0].log_probs[0]).abs() < 1e-5);
    }
}
