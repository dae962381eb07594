//! ReMax (Li et al. 2023): the baseline of a prompt is the reward of one
//! extra *greedy* response from the current policy, `A_{i,t} = G_{i,t} − b(x)`
//! where `G` is the return-to-go of token rewards (the score, minus any
//! per-token KL penalty). No normalisation. The greedy rollout is generated
//! by the shared loop before the sampled ones.

use super::returns_to_go;

/// Per-token advantages. `greedy_scores` has one entry per prompt group.
pub fn advantages(
    token_rewards: &[Vec<f32>],
    group_size: usize,
    greedy_scores: &[f32],
) -> Vec<Vec<f32>> {
    token_rewards
        .iter()
        .enumerate()
        .map(|(i, rewards)| {
            let baseline = greedy_scores[i / group_size];
            returns_to_go(rewards, 1.0)
                .into_iter()
                .map(|g| g - baseline)
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_batch() {
        // Two prompts, two responses each; score on the last token.
        // Prompt 0: greedy was right (b = 1); prompt 1: greedy was wrong (b = 0).
        let rewards = vec![
            vec![0.0, 1.0],
            vec![0.0, 0.0, 0.0],
            vec![1.0],
            vec![0.0, 0.0],
        ];
        let a = advantages(&rewards, 2, &[1.0, 0.0]);
        assert_eq!(
            a,
            vec![
                vec![0.0, 0.0],
                vec![-1.0, -1.0, -1.0],
                vec![1.0],
                vec![0.0, 0.0]
            ]
        );
        // A per-token KL penalty enters the return-to-go: r = [−0.1, 1 − 0.2].
        let a = advantages(&[vec![-0.1, 0.8]], 1, &[0.0]);
        assert!((a[0][0] - 0.7).abs() < 1e-6 && (a[0][1] - 0.8).abs() < 1e-6);
    }
}
