//! PPO (Schulman et al. 2017) as verl runs it for LLMs: a learned critic
//! `V(s_t)` (a separate copy of the network with a scalar head, initialised
//! from the base), generalised advantage estimation over response tokens,
//! advantages whitened over the whole batch, and a clipped value loss.
//! With verl's defaults γ = λ = 1 and an outcome reward, `A_t = R − V_t`.

use candle_core::{DType, Device, Tensor, Var};

use super::whiten;
use crate::config::{PpoSpec, RlSpec};
use crate::model::{Result, Transformer};
use crate::rl::loss::aggregate;
use crate::train::{Optimizer, TeacherForcing};

/// The learned value function: a copy of the base network with a scalar
/// head (zero-initialised, so every value starts at 0), trained by its own
/// optimizer at the critic learning rate.
pub struct Critic {
    model: Transformer,
    optimizer: Optimizer,
    value_clip: f64,
    aggregation: crate::rl::loss::Aggregation,
}

const VALUE_HEAD: &str = "value_head";

impl Critic {
    pub fn new(base: &Transformer, spec: &PpoSpec, rl: &RlSpec) -> Result<Self> {
        let mut model = base.deep_copy()?;
        let d = model.config().d_model;
        model.add_extra(VALUE_HEAD, Var::zeros((d, 1), DType::F32, &Device::Cpu)?);
        let optimizer =
            Optimizer::new(model.vars(), spec.critic_lr, rl.weight_decay, rl.grad_clip)?;
        Ok(Self {
            model,
            optimizer,
            value_clip: spec.value_clip,
            aggregation: rl.loss_aggregation,
        })
    }

    fn forward(&self, batch: &TeacherForcing) -> Result<Tensor> {
        let head = self.model.extra(VALUE_HEAD).map(Var::as_tensor);
        let head =
            head.ok_or_else(|| candle_core::Error::Msg("critic has no value head".into()))?;
        let values = self
            .model
            .hidden(&batch.inputs)?
            .broadcast_matmul(head)?
            .squeeze(2)?;
        Ok((values * &batch.mask)?)
    }

    /// `V(s_t)` for every response token `[B, W]` (0 elsewhere), without gradient.
    pub fn values(&self, batch: &TeacherForcing) -> Result<Tensor> {
        Ok(self.forward(batch)?.detach())
    }

    /// One optimizer step on the clipped value loss
    /// `½·max((v − R)², (clip(v, v_old ± ε) − R)²)`; returns the loss.
    pub fn update(
        &mut self,
        batch: &TeacherForcing,
        old_values: &Tensor,
        returns: &Tensor,
    ) -> Result<f32> {
        let values = self.forward(batch)?;
        let loss = clipped_value_loss(
            &values,
            old_values,
            returns,
            &batch.mask,
            self.value_clip,
            self.aggregation,
        )?;
        self.optimizer.step(&loss)?;
        Ok(loss.to_scalar()?)
    }
}

/// verl's clipped value loss over a mini-batch `[B, W]`:
/// `½·max((v − R)², (clip(v, v_old ± ε) − R)²)` per token, aggregated.
pub fn clipped_value_loss(
    values: &Tensor,
    old_values: &Tensor,
    returns: &Tensor,
    mask: &Tensor,
    clip: f64,
    how: crate::rl::loss::Aggregation,
) -> Result<Tensor> {
    let clipped = (old_values + (values - old_values)?.clamp(-clip, clip)?)?;
    let plain = (values - returns)?.sqr()?;
    let clipped = (clipped - returns)?.sqr()?;
    let per_token = (plain.maximum(&clipped)? * 0.5)?;
    aggregate(&(per_token * mask)?, mask, how)
}

/// Share of the returns' variance the values explain, `1 − Var(R − V)/Var(R)`.
pub fn explained_variance(values: &[Vec<f32>], returns: &[Vec<f32>]) -> f32 {
    let pairs: Vec<(f64, f64)> = values
        .iter()
        .flatten()
        .zip(returns.iter().flatten())
        .map(|(&v, &r)| (f64::from(v), f64::from(r)))
        .collect();
    let n = pairs.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let variance = |xs: &mut dyn Iterator<Item = f64>| {
        let xs: Vec<f64> = xs.collect();
        let mean = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n
    };
    let var_r = variance(&mut pairs.iter().map(|p| p.1));
    if var_r == 0.0 {
        return 0.0;
    }
    let var_diff = variance(&mut pairs.iter().map(|p| p.1 - p.0));
    (1.0 - var_diff / var_r) as f32
}

/// GAE over each response (the value after its last token is 0). Returns the
/// whitened advantages and the value targets (unwhitened advantage + value).
pub fn gae(
    token_rewards: &[Vec<f32>],
    values: &[Vec<f32>],
    gamma: f32,
    lambda: f32,
) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let mut advantages = Vec::with_capacity(token_rewards.len());
    let mut returns = Vec::with_capacity(token_rewards.len());
    for (rewards, values) in token_rewards.iter().zip(values) {
        let mut adv = vec![0.0; rewards.len()];
        let mut running = 0.0;
        for t in (0..rewards.len()).rev() {
            let next_value = values.get(t + 1).copied().unwrap_or(0.0);
            let delta = rewards[t] + gamma * next_value - values[t];
            running = delta + gamma * lambda * running;
            adv[t] = running;
        }
        returns.push(adv.iter().zip(values).map(|(a, v)| a + v).collect());
        advantages.push(adv);
    }
    (whiten(&advantages), returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_with_unit_gamma_lambda_is_return_minus_value() {
        let rewards = vec![vec![0.0, 0.0, 1.0], vec![0.0, 0.0]];
        let values = vec![vec![0.2, 0.5, 0.9], vec![0.4, 0.1]];
        let (adv, ret) = gae(&rewards, &values, 1.0, 1.0);
        // Returns are the outcome at every token.
        assert_eq!(ret, vec![vec![1.0, 1.0, 1.0], vec![0.0, 0.0]]);
        // Raw advantages R − V: [0.8, 0.5, 0.1], [−0.4, −0.1]; mean 0.18,
        // unbiased var = Σ(x − 0.18)²/4 = (0.3844 + 0.1024 + 0.0064 + 0.3364 + 0.0784)/4 = 0.227.
        let sd = 0.227f32.sqrt();
        let raw = [0.8, 0.5, 0.1, -0.4, -0.1];
        let flat: Vec<f32> = adv.concat();
        for (got, r) in flat.iter().zip(raw) {
            assert!((got - (r - 0.18) / sd).abs() < 1e-4, "{flat:?}");
        }
    }

    #[test]
    fn gae_discounts_by_gamma_lambda() {
        // One response, rewards [0, 1], values [0.5, 0.5], γ = 0.9, λ = 0.5:
        // δ₁ = 1 − 0.5 = 0.5; δ₀ = 0 + 0.9·0.5 − 0.5 = −0.05;
        // A₁ = 0.5; A₀ = −0.05 + 0.45·0.5 = 0.175. Returns: 0.675, 1.0.
        let (_, ret) = gae(&[vec![0.0, 1.0]], &[vec![0.5, 0.5]], 0.9, 0.5);
        assert!(
            (ret[0][0] - 0.675).abs() < 1e-6 && (ret[0][1] - 1.0).abs() < 1e-6,
            "{ret:?}"
        );
    }

    #[test]
    fn value_loss_clips_like_verl() {
        let row = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        // Token 1: inside the clip range, the plain error ½·(0.6 − 1)² = 0.08.
        // Token 2: moved 0.9 from its old value 0 (clip 0.5): the clipped prediction 0.5
        //   errs more than the new one, and the max keeps ½·(0.5 − 1)² = 0.125.
        // Token 3: masked out.
        let loss = clipped_value_loss(
            &row(&[0.6, 0.9, 5.0]),
            &row(&[0.5, 0.0, 0.0]),
            &row(&[1.0, 1.0, 0.0]),
            &row(&[1.0, 1.0, 0.0]),
            0.5,
            crate::rl::loss::Aggregation::TokenMean,
        )
        .unwrap();
        assert!((loss.to_scalar::<f32>().unwrap() - (0.08 + 0.125) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn explained_variance_of_perfect_and_useless_values() {
        let returns = vec![vec![1.0, 0.0], vec![1.0]];
        assert!((explained_variance(&returns, &returns) - 1.0).abs() < 1e-6);
        let constant = vec![vec![0.5, 0.5], vec![0.5]];
        assert!(explained_variance(&constant, &returns).abs() < 1e-6);
    }
}
