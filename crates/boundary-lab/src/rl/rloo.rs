//! RLOO (Ahmadian et al. 2024): each response is baselined by the mean reward
//! of the *other* responses to the same prompt, `R_i − mean_{j≠i} R_j`
//! (= n/(n−1)·(R_i − mean_g)), broadcast to every token. No normalisation.

/// Per-response advantages; responses of one prompt are `group_size` consecutive entries.
pub fn leave_one_out(scores: &[f32], group_size: usize) -> Vec<f32> {
    scores
        .chunks(group_size)
        .flat_map(|group| {
            let n = group.len() as f32;
            let sum: f32 = group.iter().sum();
            group.iter().map(move |r| {
                if n > 1.0 {
                    r - (sum - r) / (n - 1.0)
                } else {
                    0.0
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_groups() {
        // [1,0,0,0]: the correct one's baseline is 0, each wrong one's is 1/3.
        let a = leave_one_out(&[1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 0.0], 4);
        let want = [
            1.0,
            -1.0 / 3.0,
            -1.0 / 3.0,
            -1.0 / 3.0,
            0.0,
            0.0,
            2.0 / 3.0,
            -2.0 / 3.0,
        ];
        for (got, want) in a.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{a:?}");
        }
        // Advantages of a group sum to zero.
        assert!(a[..4].iter().sum::<f32>().abs() < 1e-6);
    }
}
