//! DAPO (Yu et al. 2025) as a recipe over GRPO advantages: clip-higher
//! (a larger upper clip range), dynamic sampling (drop prompt groups whose
//! responses are all right or all wrong, and keep drawing rollout batches
//! until the step is full), token-level loss (the shared loop's token-mean),
//! and a soft penalty on overlong responses. No KL.

/// Dynamic sampling's test: a group carries signal only if its responses
/// disagree on correctness (verl's `filter_groups.metric = acc`).
pub fn is_informative(correct: &[bool]) -> bool {
    correct.iter().any(|&c| c) && correct.iter().any(|&c| !c)
}

/// Overlong reward shaping: zero up to `max_len − buffer` tokens, then a
/// linear penalty reaching `−factor` at `max_len`.
pub fn overlong_penalty(response_len: usize, max_len: usize, buffer: usize, factor: f32) -> f32 {
    if buffer == 0 {
        return 0.0;
    }
    let expected = max_len.saturating_sub(buffer) as f32;
    let exceed = response_len as f32 - expected;
    (-exceed / buffer as f32 * factor).min(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_uniform_groups() {
        assert!(is_informative(&[true, false, false]));
        assert!(!is_informative(&[true, true]));
        assert!(!is_informative(&[false, false, false]));
    }

    #[test]
    fn overlong_penalty_is_linear_in_the_buffer() {
        // max 20, buffer 4: no penalty up to 16 tokens, −0.5 at 18, −1 at 20.
        assert_eq!(overlong_penalty(16, 20, 4, 1.0), 0.0);
        assert_eq!(overlong_penalty(10, 20, 4, 1.0), 0.0);
        assert_eq!(overlong_penalty(18, 20, 4, 1.0), -0.5);
        assert_eq!(overlong_penalty(20, 20, 4, 1.0), -1.0);
        assert_eq!(overlong_penalty(20, 20, 0, 1.0), 0.0);
    }
}
