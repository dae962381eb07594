//! The policy loss every algorithm shares: PPO's clipped importance ratio
//! with dual-clip, aggregated over tokens, as verl's `compute_policy_loss`.
//!
//! Per response token, with `ρ = exp(clamp(log π − log π_old, ±20))`:
//! `L = max(−A·ρ, −A·clip(ρ, 1 − ε_low, 1 + ε_high))`, and for `A < 0` the
//! dual clip `L = min(L, −A·c)` caps how hard a token the policy has already
//! made much likelier can be pushed down.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::model::Result;

/// How per-token losses become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregation {
    /// Sum over every valid token of the mini-batch / number of valid tokens
    /// (verl's default for all algorithms; DAPO's "token-level loss").
    TokenMean,
    /// Mean over each response's tokens, then over responses (the GRPO paper).
    SeqMeanTokenMean,
}

/// Clip ranges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clip {
    pub low: f64,
    pub high: f64,
    pub dual: f64,
}

/// The loss and what to log about it.
pub struct PolicyLoss {
    /// Scalar, differentiable through `log_probs`.
    pub loss: Tensor,
    /// Share of valid tokens whose clipped term was the larger one.
    pub clip_fraction: f32,
    /// Mean of `log π_old − log π` over valid tokens (verl's `ppo_kl`).
    pub approx_kl: f32,
}

/// Aggregates per-token values `[B, T]` (already zero outside `mask`).
pub fn aggregate(values: &Tensor, mask: &Tensor, how: Aggregation) -> Result<Tensor> {
    Ok(match how {
        Aggregation::TokenMean => {
            (values.sum_all()? / f64::from(mask.sum_all()?.to_scalar::<f32>()?).max(1.0))?
        }
        Aggregation::SeqMeanTokenMean => {
            let per_seq = values
                .sum(1)?
                .div(&mask.sum(1)?.clamp(1.0, f64::INFINITY)?)?;
            // Only responses with at least one valid token count.
            let seqs = mask
                .sum(1)?
                .gt(0.0)?
                .to_dtype(candle_core::DType::F32)?
                .sum_all()?;
            per_seq.sum_all()?.div(&seqs.clamp(1.0, f64::INFINITY)?)?
        }
    })
}

/// The clipped policy-gradient loss over a mini-batch. All inputs are `[B, T]`;
/// only `log_probs` carries gradient.
pub fn clipped_policy_loss(
    log_probs: &Tensor,
    old_log_probs: &Tensor,
    advantages: &Tensor,
    mask: &Tensor,
    clip: Clip,
    how: Aggregation,
) -> Result<PolicyLoss> {
    let neg_adv = advantages.neg()?;
    let log_ratio = (log_probs - old_log_probs)?.clamp(-20.0, 20.0)?;
    let ratio = log_ratio.exp()?;
    let unclipped = (&neg_adv * &ratio)?;
    let clipped = (&neg_adv * ratio.clamp(1.0 - clip.low, 1.0 + clip.high)?)?;
    let pessimistic = unclipped.maximum(&clipped)?;
    let capped = pessimistic.minimum(&(&neg_adv * clip.dual)?)?;
    let per_token = advantages.lt(0.0)?.where_cond(&capped, &pessimistic)?;
    let loss = aggregate(&(per_token * mask)?, mask, how)?;

    let valid = f64::from(mask.sum_all()?.to_scalar::<f32>()?).max(1.0);
    let clipped_tokens = (clipped.gt(&unclipped)?.to_dtype(candle_core::DType::F32)? * mask)?;
    let clip_fraction = clipped_tokens.sum_all()?.to_scalar::<f32>()? / valid as f32;
    let approx_kl = (log_ratio.neg()? * mask)?.sum_all()?.to_scalar::<f32>()? / valid as f32;
    Ok(PolicyLoss {
        loss,
        clip_fraction,
        approx_kl,
    })
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    const CLIP: Clip = Clip {
        low: 0.2,
        high: 0.28,
        dual: 3.0,
    };

    fn t(rows: &[&[f32]]) -> Tensor {
        let cols = rows[0].len();
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_vec(flat, (rows.len(), cols), &Device::Cpu).unwrap()
    }

    fn scalar(x: &Tensor) -> f32 {
        x.to_scalar::<f32>().unwrap()
    }

    /// Reference per-token loss written out in plain floats.
    fn reference(logp: f64, old: f64, adv: f64) -> f64 {
        let ratio = (logp - old).clamp(-20.0, 20.0).exp();
        let l = (-adv * ratio).max(-adv * ratio.clamp(1.0 - CLIP.low, 1.0 + CLIP.high));
        if adv < 0.0 {
            l.min(-adv * CLIP.dual)
        } else {
            l
        }
    }

    #[test]
    fn on_policy_loss_is_minus_mean_advantage_without_clipping() {
        let lp = t(&[&[-1.0, -2.0], &[-0.5, 0.0]]);
        let adv = t(&[&[1.0, 1.0], &[-2.0, 0.0]]);
        let mask = t(&[&[1.0, 1.0], &[1.0, 0.0]]);
        let out = clipped_policy_loss(&lp, &lp, &adv, &mask, CLIP, Aggregation::TokenMean).unwrap();
        // ρ = 1: loss = −(1 + 1 − 2)/3 = 0.
        assert!(scalar(&out.loss).abs() < 1e-6);
        assert_eq!(out.clip_fraction, 0.0);
        assert_eq!(out.approx_kl, 0.0);
    }

    #[test]
    fn hand_worked_clipping_cases() {
        // Token 1: A = +1, ρ = 1.5 → clipped to 1.28: loss −1.28.
        // Token 2: A = −1, ρ = 5 → max(5, 1.28) = 5, capped by the dual clip at 3.
        // Token 3: A = −1, ρ = 0.5 → max(0.5, 0.8) = 0.8 (clipped to 1 − 0.2).
        let old = t(&[&[0.0, 0.0, 0.0]]);
        let lp = t(&[&[1.5f32.ln(), 5f32.ln(), 0.5f32.ln()]]);
        let adv = t(&[&[1.0, -1.0, -1.0]]);
        let mask = t(&[&[1.0, 1.0, 1.0]]);
        let out =
            clipped_policy_loss(&lp, &old, &adv, &mask, CLIP, Aggregation::TokenMean).unwrap();
        let want = (-1.28 + 3.0 + 0.8) / 3.0;
        assert!(
            (scalar(&out.loss) - want).abs() < 1e-5,
            "{}",
            scalar(&out.loss)
        );
        // Tokens 1 and 3 took the clipped branch (token 2's clipped term 1.28 < 5).
        assert!((out.clip_fraction - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn aggregations_differ_on_unequal_lengths() {
        // Response 1 has three tokens of loss 1, response 2 one token of loss 4.
        let values = t(&[&[1.0, 1.0, 1.0], &[4.0, 0.0, 0.0]]);
        let mask = t(&[&[1.0, 1.0, 1.0], &[1.0, 0.0, 0.0]]);
        let token_mean = aggregate(&values, &mask, Aggregation::TokenMean).unwrap();
        let seq_mean = aggregate(&values, &mask, Aggregation::SeqMeanTokenMean).unwrap();
        assert!((scalar(&token_mean) - 7.0 / 4.0).abs() < 1e-6);
        assert!((scalar(&seq_mean) - 2.5).abs() < 1e-6);
    }

    /// The gradient candle computes through the whole loss matches central
    /// finite differences of the reference loss, token by token, in every
    /// regime (unclipped, clipped above, clipped below, dual-clipped).
    #[test]
    fn gradient_matches_finite_differences() {
        let old = [0.0f64, -0.3, -1.0, 0.2, -0.7, 0.1];
        let logp = [0.1f64, -0.1, -1.5, 1.9, -0.9, 0.5];
        let adv = [1.0f64, 2.0, -1.0, -0.5, 0.7, -2.0];
        let mask = [1.0f64, 1.0, 1.0, 1.0, 1.0, 0.0];
        let valid: f64 = mask.iter().sum();
        let var = Var::new(
            logp.iter().map(|&x| x as f32).collect::<Vec<_>>(),
            &Device::Cpu,
        )
        .unwrap();
        let as_row = |v: &[f64]| {
            Tensor::new(
                v.iter().map(|&x| x as f32).collect::<Vec<_>>(),
                &Device::Cpu,
            )
            .unwrap()
            .unsqueeze(0)
            .unwrap()
        };
        let out = clipped_policy_loss(
            &var.as_tensor().unsqueeze(0).unwrap(),
            &as_row(&old),
            &as_row(&adv),
            &as_row(&mask),
            CLIP,
            Aggregation::TokenMean,
        )
        .unwrap();
        let grad = out
            .loss
            .backward()
            .unwrap()
            .get(&var)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let total = |lp: &[f64]| -> f64 {
            (0..lp.len())
                .map(|i| mask[i] * reference(lp[i], old[i], adv[i]))
                .sum::<f64>()
                / valid
        };
        assert!((f64::from(scalar(&out.loss)) - total(&logp)).abs() < 1e-5);
        let h = 1e-4;
        for i in 0..logp.len() {
            let mut up = logp;
            let mut down = logp;
            up[i] += h;
            down[i] -= h;
            let numeric = (total(&up) - total(&down)) / (2.0 * h);
            assert!(
                (f64::from(grad[i]) - numeric).abs() < 1e-3,
                "token {i}: autodiff {} vs numeric {numeric}",
                grad[i]
            );
        }
        // The masked token and the clipped ones get no gradient; the others do.
        assert_eq!(grad[5], 0.0);
        assert!(grad[0] != 0.0);
    }
}
