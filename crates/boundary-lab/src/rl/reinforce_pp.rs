//! REINFORCE++ (Hu 2025): no critic and no per-prompt baseline; each token's
//! return-to-go `G_t = Σ_{s≥t} γ^{s−t} r_s` (the score on the last token,
//! minus `β·kl_s` on every token when the KL sits in the reward, as in verl's
//! example) is whitened over every token of the whole batch.

use super::{returns_to_go, whiten};

pub fn advantages(token_rewards: &[Vec<f32>], gamma: f32) -> Vec<Vec<f32>> {
    let returns: Vec<Vec<f32>> = token_rewards
        .iter()
        .map(|r| returns_to_go(r, gamma))
        .collect();
    whiten(&returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_batch() {
        // Returns: [1, 1], [0], [0, 0, 0] → six tokens, mean 1/3,
        // unbiased var = (2·(2/3)² + 4·(1/3)²)/5 = (8/9 + 4/9)/5 = 4/15.
        let a = advantages(&[vec![0.0, 1.0], vec![0.0], vec![0.0, 0.0, 0.0]], 1.0);
        let sd = (4.0f32 / 15.0).sqrt();
        let hi = (2.0 / 3.0) / sd;
        let lo = (-1.0 / 3.0) / sd;
        let want = [vec![hi, hi], vec![lo], vec![lo, lo, lo]];
        for (got, want) in a.iter().zip(&want) {
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-5, "{a:?}");
            }
        }
        // With a KL penalty in the reward, the return at t is R − β·Σ_{s≥t} kl_s
        // (before whitening): rewards [−0.1, −0.2, 1 − 0.3].
        let g = returns_to_go(&[-0.1, -0.2, 0.7], 1.0);
        let want = [0.4, 0.5, 0.7];
        for (g, w) in g.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{g}");
        }
    }
}
