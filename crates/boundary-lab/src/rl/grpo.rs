//! GRPO (Shao et al. 2024): each response's advantage is its reward
//! standardised within its prompt's group, `(R − mean_g) / (std_g + 1e-6)`
//! with the unbiased (n − 1) standard deviation, broadcast to every token.
//! No critic, no whitening across the batch. Without the division
//! (`norm_by_std = false`) it is Dr. GRPO.

/// Per-response advantages; responses of one prompt are `group_size` consecutive entries.
pub fn group_advantages(scores: &[f32], group_size: usize, norm_by_std: bool) -> Vec<f32> {
    scores
        .chunks(group_size)
        .flat_map(|group| {
            let n = group.len() as f32;
            let mean = group.iter().sum::<f32>() / n;
            let std = if group.len() > 1 {
                (group.iter().map(|r| (r - mean).powi(2)).sum::<f32>() / (n - 1.0)).sqrt()
            } else {
                // verl's convention for a group of one: mean 0, std 1.
                return vec![group[0]];
            };
            group
                .iter()
                .map(|r| {
                    if norm_by_std {
                        (r - mean) / (std + 1e-6)
                    } else {
                        r - mean
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_groups() {
        // [1,0,0,0]: mean 1/4, unbiased var = (9/16 + 3/16)/3 = 1/4, std 1/2.
        let a = group_advantages(&[1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0], 4, true);
        let want = [1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 0.0, 0.0];
        for (got, want) in a.iter().zip(want) {
            assert!((got - want).abs() < 1e-5, "{a:?}");
        }
        // Dr. GRPO: no division.
        let a = group_advantages(&[1.0, 0.0, 0.0, 0.0], 4, false);
        assert_eq!(a, vec![0.75, -0.25, -0.25, -0.25]);
        assert_eq!(group_advantages(&[0.7], 1, true), vec![0.7]);
    }
}
