//! Six RLVR algorithms sharing one rollout → reward → advantage → update loop.
//!
//! Each algorithm is a small module holding only what makes it different
//! (mostly its advantage estimator); everything else — sampling, the
//! verifier reward, the clipped policy loss with token-mean aggregation,
//! KL and entropy terms, optimizer steps, metrics — lives in [`trainer`] and
//! [`loss`], so the algorithms are compared on equal footing.

pub mod dapo;
pub mod grpo;
pub mod kl;
pub mod loss;
pub mod ppo;
pub mod reinforce_pp;
pub mod remax;
pub mod rloo;
pub mod trainer;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The RL algorithms the paper compares (Table 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    Ppo,
    Grpo,
    ReinforcePp,
    Rloo,
    Remax,
    Dapo,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Ppo,
        Algorithm::Grpo,
        Algorithm::ReinforcePp,
        Algorithm::Rloo,
        Algorithm::Remax,
        Algorithm::Dapo,
    ];

    /// The identifier used in configs, file names and `summary.json`.
    pub fn id(self) -> &'static str {
        match self {
            Algorithm::Ppo => "ppo",
            Algorithm::Grpo => "grpo",
            Algorithm::ReinforcePp => "reinforce_pp",
            Algorithm::Rloo => "rloo",
            Algorithm::Remax => "remax",
            Algorithm::Dapo => "dapo",
        }
    }

    /// The name papers use.
    pub fn display_name(self) -> &'static str {
        match self {
            Algorithm::Ppo => "PPO",
            Algorithm::Grpo => "GRPO",
            Algorithm::ReinforcePp => "REINFORCE++",
            Algorithm::Rloo => "RLOO",
            Algorithm::Remax => "ReMax",
            Algorithm::Dapo => "DAPO",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Return-to-go of one response's token rewards: `G_t = r_t + γ·G_{t+1}`.
pub fn returns_to_go(rewards: &[f32], gamma: f32) -> Vec<f32> {
    let mut out = vec![0.0; rewards.len()];
    let mut running = 0.0;
    for t in (0..rewards.len()).rev() {
        running = rewards[t] + gamma * running;
        out[t] = running;
    }
    out
}

/// Whitens values over every token of the batch, as verl's `masked_whiten`:
/// subtract the mean, divide by `sqrt(unbiased variance + 1e-8)`.
pub fn whiten(values: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let count = values.iter().map(Vec::len).sum::<usize>();
    if count < 2 {
        return values.to_vec();
    }
    let n = count as f64;
    let mean = values.iter().flatten().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = values
        .iter()
        .flatten()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0);
    let scale = 1.0 / (var + 1e-8).sqrt();
    values
        .iter()
        .map(|row| {
            row.iter()
                .map(|&v| ((f64::from(v) - mean) * scale) as f32)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_and_whitening() {
        assert_eq!(returns_to_go(&[1.0, 2.0, 3.0], 1.0), vec![6.0, 5.0, 3.0]);
        assert_eq!(returns_to_go(&[0.0, 0.0, 1.0], 0.5), vec![0.25, 0.5, 1.0]);
        let w = whiten(&[vec![1.0, 2.0], vec![3.0]]);
        // mean 2, unbiased sd 1.
        assert_eq!(w, vec![vec![-1.0, 0.0], vec![1.0]]);
        let ids: Vec<&str> = Algorithm::ALL.iter().map(|a| a.id()).collect();
        assert_eq!(
            ids,
            ["ppo", "grpo", "reinforce_pp", "rloo", "remax", "dapo"]
        );
    }
}
