//! PPO (Schulman et al. 2017) as verl runs it for LLMs: a learned critic
//! `V(s_t)` (a separate copy of the network with a scalar head, initialised
//! from the base), generalised advantage estimation over response tokens,
//! advantages whitened over the whole batch, and a clipped value loss.
//! With verl's defaults γ = λ = 1 and an outcome reward, `A_t = R − V_t`.

use super::whiten;

/// GAE over each response (the value after its last token is 0). Returns the
/// whitened advantages and the value targets (unwhitened advantage + value).
pub fn gae(token_rewards: &[Vec<f32>], values: &[Vec<f32>], gamma: f32, lambda: f32) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
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

/// Clipped value loss of one token, `½·max((v − R)², (clip(v, v_old ± ε) − R)²)`.
pub fn value_loss(value: f32, old_value: f32, ret: f32, clip: f32) -> f32 {
    let clipped = old_value + (value - old_value).clamp(-clip, clip);
    0.5 * (value - ret).powi(2).max((clipped - ret).powi(2))
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
        assert!((ret[0][0] - 0.675).abs() < 1e-6 && (ret[0][1] - 1.0).abs() < 1e-6, "{ret:?}");
    }

    #[test]
    fn value_loss_clips_like_verl() {
        // Inside the clip range it is the plain squared error.
        assert!((value_loss(0.6, 0.5, 1.0, 0.5) - 0.08).abs() < 1e-6);
        // Moved 0.9 away from the old value (clip 0.5): the clipped prediction 0.5
        // is worse than the new one, and the max keeps the larger error.
        assert!((value_loss(0.9, 0.0, 1.0, 0.5) - 0.125).abs() < 1e-6);
    }
}
