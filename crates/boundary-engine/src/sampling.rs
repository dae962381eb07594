//! Choosing the next token from logits: temperature, top-k, top-p, min-p, with a random stream
//! per sample seeded from (run seed, problem id, sample index), so a sample's tokens depend on
//! which sample it is, never on which batch it was decoded in or whether the run was resumed.
//!
//! The filters follow vLLM and Hugging Face (the paper's setting): the temperature scales the
//! logits first, then top-k, top-p and min-p cut the scaled distribution. (llama.cpp's default
//! chain applies the temperature last, which makes top-p keep a different set at T != 1.)

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Sampling settings shared by every sample of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplingParams {
    /// 0 means greedy decoding.
    pub temperature: f32,
    /// Keep the most likely tokens whose probabilities sum to at least this (1 = off).
    pub top_p: f32,
    /// Keep only this many most likely tokens (0 = off).
    pub top_k: usize,
    /// Drop tokens less likely than `min_p` times the most likely one (0 = off).
    pub min_p: f32,
    /// Most tokens to generate per sample.
    pub max_tokens: usize,
    /// Generation ends when the text contains one of these; the text is cut before it.
    pub stop: Vec<String>,
    /// Generation ends on these tokens, besides the model's own end-of-generation tokens.
    pub stop_token_ids: Vec<u32>,
    /// Never end on the model's end-of-generation tokens (they are masked): benchmarks use it
    /// to make every sample exactly `max_tokens` long.
    pub ignore_eos: bool,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            max_tokens: 512,
            stop: Vec::new(),
            stop_token_ids: Vec::new(),
            ignore_eos: false,
        }
    }
}

/// A sampling setting out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SamplingError {
    #[error("temperature must be a finite number >= 0, got {0}")]
    Temperature(f32),
    #[error("top-p must be in (0, 1], got {0}")]
    TopP(f32),
    #[error("min-p must be in [0, 1], got {0}")]
    MinP(f32),
    #[error("max tokens must be at least 1")]
    MaxTokens,
    #[error("stop strings must not be empty")]
    EmptyStop,
    #[error("sampling setting `{0}` {1}")]
    Extra(String, String),
}

impl SamplingParams {
    pub fn validate(&self) -> Result<(), SamplingError> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return Err(SamplingError::Temperature(self.temperature));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(SamplingError::TopP(self.top_p));
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return Err(SamplingError::MinP(self.min_p));
        }
        if self.max_tokens == 0 {
            return Err(SamplingError::MaxTokens);
        }
        if self.stop.iter().any(String::is_empty) {
            return Err(SamplingError::EmptyStop);
        }
        Ok(())
    }
}

/// The random stream of one sample, from its seed (`boundary_sample::sample_seed` derives
/// seeds from the run seed, the problem id and the sample index).
pub fn sample_rng(seed: u64) -> ChaCha8Rng {
    let mut state = seed;
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_exact_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        chunk.copy_from_slice(&mix(state).to_le_bytes());
    }
    ChaCha8Rng::from_seed(bytes)
}

/// SplitMix64's output function.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Picks tokens from logits. Holds scratch buffers so sampling allocates nothing per token.
#[derive(Debug, Default)]
pub struct TokenSampler {
    weights: Vec<f32>,
    candidates: Vec<(f32, u32)>,
}

/// Candidates ordered most likely first, ties by lower token id, so every filter and the final
/// draw see one well-defined order.
fn more_likely(a: &(f32, u32), b: &(f32, u32)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

/// How many candidates top-p sorts first; most distributions at T < 1 put their top-p mass
/// in far fewer tokens, and the sort widens when they do not.
const TOP_P_FIRST_SORT: usize = 64;

impl TokenSampler {
    /// Draws a token from `logits` (one per vocabulary entry). `banned` tokens are never drawn.
    pub fn sample(
        &mut self,
        logits: &[f32],
        params: &SamplingParams,
        banned: &[u32],
        rng: &mut ChaCha8Rng,
    ) -> u32 {
        let allowed = |id: usize| !banned.contains(&(id as u32));
        if params.temperature == 0.0 {
            // Greedy decoding still advances the stream, so switching a run between greedy and
            // sampled settings never shifts the draws of later tokens.
            let _: f64 = rng.random();
            return argmax(logits, allowed);
        }
        let max = max_allowed_logit(logits, banned);
        let weights = &mut self.weights;
        relative_weights(logits, max, 1.0 / params.temperature, weights);
        for &id in banned {
            if let Some(weight) = weights.get_mut(id as usize) {
                *weight = 0.0;
            }
        }

        // Top-p needs the whole vocabulary's weight; with it known up front, the candidate list
        // can leave out the tokens top-p would drop anyway (see `top_p_floor`).
        let mut vocabulary_total = None;
        let mut floor = 0.0;
        if params.top_p < 1.0 && params.top_k == 0 {
            let (total, positive) = sum_and_count_positive(weights);
            floor = top_p_floor(total, params.top_p, positive);
            vocabulary_total = Some(total);
        }
        let candidates = &mut self.candidates;
        candidates.clear();
        candidates.extend(
            weights
                .iter()
                .enumerate()
                // Every weight but the top one may underflow to 0; NaN logits weigh 0.
                .filter(|&(_, &w)| w > 0.0 && f64::from(w) >= floor)
                .map(|(id, &w)| (w, id as u32)),
        );
        if candidates.is_empty() {
            let _: f64 = rng.random();
            return argmax(logits, allowed);
        }

        let mut sorted = 0; // candidates[..sorted] is in `more_likely` order
        if params.top_k > 0 && params.top_k < candidates.len() {
            candidates.select_nth_unstable_by(params.top_k - 1, more_likely);
            candidates.truncate(params.top_k);
        }
        if params.top_p < 1.0 {
            let total = vocabulary_total.unwrap_or_else(|| {
                let total = candidates.iter().map(|c| f64::from(c.0)).sum();
                let floor = top_p_floor(total, params.top_p, candidates.len());
                candidates.retain(|c| f64::from(c.0) >= floor);
                total
            });
            let target = f64::from(params.top_p) * total;
            let mut width = TOP_P_FIRST_SORT.min(candidates.len());
            loop {
                if width < candidates.len() {
                    candidates.select_nth_unstable_by(width - 1, more_likely);
                }
                candidates[..width].sort_unstable_by(more_likely);
                sorted = width;
                let mut mass = 0.0;
                let cut = candidates[..width].iter().position(|c| {
                    mass += f64::from(c.0);
                    mass >= target
                });
                if let Some(last) = cut {
                    candidates.truncate(last + 1);
                    sorted = candidates.len();
                    break;
                }
                if width == candidates.len() {
                    break;
                }
                width = (width * 4).min(candidates.len());
            }
        }
        if params.min_p > 0.0 {
            // The most likely token has weight exp(0) = 1 after scaling by the maximum.
            candidates.retain(|c| c.0 >= params.min_p);
            sorted = sorted.min(candidates.len());
        }
        if sorted < candidates.len() {
            candidates.sort_unstable_by(more_likely);
        }
        draw(candidates, rng)
    }
}

/// The weight below which top-p can never keep a token: `count` tokens lighter than it weigh
/// less than half of the (1 - top_p) tail all together, so the cut always falls before them,
/// and the sort works on hundreds of candidates instead of the whole vocabulary.
fn top_p_floor(total: f64, top_p: f32, count: usize) -> f64 {
    0.5 * (total - f64::from(top_p) * total) / count as f64
}

/// The largest logit of an allowed token (NaN logits ignored). The loops below and in
/// `relative_weights` and `sum_and_count_positive` keep independent lanes so the compiler
/// vectorises them: together they touch every vocabulary entry for every sample and step.
fn max_allowed_logit(logits: &[f32], banned: &[u32]) -> f32 {
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; 16];
    let mut chunks = logits.chunks_exact(lanes.len());
    for chunk in &mut chunks {
        for (lane, &l) in lanes.iter_mut().zip(chunk) {
            *lane = larger(*lane, l);
        }
    }
    let max = lanes
        .into_iter()
        .chain(chunks.remainder().iter().copied())
        .fold(f32::NEG_INFINITY, larger);
    if banned
        .iter()
        .any(|&id| logits.get(id as usize) == Some(&max))
    {
        // Rare: a banned token holds the maximum, so look again without it.
        let allowed = logits
            .iter()
            .enumerate()
            .filter(|(id, _)| !banned.contains(&(*id as u32)));
        return allowed.fold(f32::NEG_INFINITY, |m, (_, &l)| larger(m, l));
    }
    max
}

/// exp((logit - max) * inv_temperature) for every logit, into `weights`.
fn relative_weights(logits: &[f32], max: f32, inv_temperature: f32, weights: &mut Vec<f32>) {
    weights.clear();
    weights.extend(
        logits
            .iter()
            .map(|&l| exp_nonpositive((l - max) * inv_temperature)),
    );
}

/// The sum of `weights` (accumulated in f64) and how many of them are positive.
fn sum_and_count_positive(weights: &[f32]) -> (f64, usize) {
    let mut sums = [0.0f64; 8];
    let mut counts = [0usize; 8];
    let mut chunks = weights.chunks_exact(sums.len());
    for chunk in &mut chunks {
        for ((sum, count), &w) in sums.iter_mut().zip(&mut counts).zip(chunk) {
            *sum += f64::from(w);
            *count += usize::from(w > 0.0);
        }
    }
    let rest = chunks.remainder();
    let sum = sums.iter().sum::<f64>() + rest.iter().map(|&w| f64::from(w)).sum::<f64>();
    let count = counts.iter().sum::<usize>() + rest.iter().filter(|&&w| w > 0.0).count();
    (sum, count)
}

/// log softmax(logits)[target], the scorer's log-probability of one token, with the sampler's
/// vectorised maximum, exp and f64 sum (scoring computes one per scored token, over the whole
/// vocabulary). `weights` is scratch space, kept between calls.
pub(crate) fn log_softmax_at(logits: &[f32], target: usize, weights: &mut Vec<f32>) -> f64 {
    let max = max_allowed_logit(logits, &[]);
    relative_weights(logits, max, 1.0, weights);
    let (sum, _) = sum_and_count_positive(weights);
    f64::from(logits[target] - max) - sum.ln()
}

/// e^x for x <= 0, within 1.5e-7 relative error (about one f32 ulp); 0 below -87 (where f32
/// leaves its normal range) and for NaN. Plain branch-free f32/i32 arithmetic, so a loop over
/// it becomes SIMD code where `f32::exp` is one libm call per element; and no fused
/// multiply-adds, so every build (SSE2, AVX2, AVX-512) computes the same bits and a seed draws
/// the same samples.
fn exp_nonpositive(x: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to the nearest integer, which lands in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 split so that n * LN2_HI is exact for the n that occur here (Cody and Waite).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // e^x = 2^n * e^r with |r| <= ln(2) / 2, where a degree-7 Taylor series is within 1e-8.
    let r = x - n * LN2_HI - n * LN2_LO;
    let series = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    let exponent = (shifted.to_bits() as i32)
        .wrapping_sub(ROUND.to_bits() as i32)
        .wrapping_add(127);
    let two_to_n = f32::from_bits((exponent as u32) << 23);
    if x >= -87.0 { series * two_to_n } else { 0.0 }
}

/// Draws one of `candidates` (weights, most likely first) in proportion to its weight.
fn draw(candidates: &[(f32, u32)], rng: &mut ChaCha8Rng) -> u32 {
    let total: f64 = candidates.iter().map(|c| f64::from(c.0)).sum();
    let mut remaining = rng.random::<f64>() * total;
    for &(weight, id) in candidates {
        remaining -= f64::from(weight);
        if remaining < 0.0 {
            return id;
        }
    }
    // Rounding left a sliver of mass past the last candidate: it belongs to the last one.
    candidates.last().map_or(0, |c| c.1)
}

/// The most likely allowed token; the lowest id wins ties.
fn argmax(logits: &[f32], allowed: impl Fn(usize) -> bool) -> u32 {
    let mut best: Option<(f32, usize)> = None;
    for (id, &l) in logits.iter().enumerate() {
        if allowed(id) && best.is_none_or(|(b, _)| l > b) {
            best = Some((l, id));
        }
    }
    best.map_or(0, |(_, id)| id as u32)
}

/// Finds stop strings in text that grows a token at a time, looking only at the part that a
/// match could newly end in.
#[derive(Debug, Clone)]
pub struct StopStrings {
    stops: Vec<Vec<u8>>,
    longest: usize,
}

impl StopStrings {
    pub fn new(stops: &[String]) -> Self {
        let stops: Vec<Vec<u8>> = stops.iter().map(|s| s.as_bytes().to_vec()).collect();
        let longest = stops.iter().map(Vec::len).max().unwrap_or(0);
        Self { stops, longest }
    }

    pub fn is_empty(&self) -> bool {
        self.stops.is_empty()
    }

    /// The byte offset where the earliest stop string starts, considering only matches that end
    /// after `old_len` (the text's length before the latest token).
    pub fn find(&self, text: &[u8], old_len: usize) -> Option<usize> {
        let from = old_len.saturating_sub(self.longest.saturating_sub(1));
        self.stops
            .iter()
            .filter_map(|stop| {
                text[from..]
                    .windows(stop.len())
                    .position(|w| w == stop.as_slice())
                    .map(|p| from + p)
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(temperature: f32, top_p: f32, top_k: usize, min_p: f32) -> SamplingParams {
        SamplingParams {
            temperature,
            top_p,
            top_k,
            min_p,
            ..SamplingParams::default()
        }
    }

    /// Draws `n` tokens and counts them per id.
    fn histogram(logits: &[f32], p: &SamplingParams, n: usize) -> Vec<usize> {
        let mut sampler = TokenSampler::default();
        let mut rng = sample_rng(7);
        let mut counts = vec![0; logits.len()];
        for _ in 0..n {
            counts[sampler.sample(logits, p, &[], &mut rng) as usize] += 1;
        }
        counts
    }

    #[test]
    fn random_streams_are_pinned() {
        // Stored runs depend on these draws: a change here changes every sample.
        let mut rng = sample_rng(42);
        let draws: Vec<u32> = (0..4).map(|_| rng.random::<u32>()).collect();
        assert_eq!(draws, [2278103804, 823500537, 3021377537, 391485508]);
    }

    #[test]
    fn greedy_takes_the_maximum_and_respects_bans() {
        let logits = [0.5, 3.0, 3.0, -1.0];
        let mut sampler = TokenSampler::default();
        let mut rng = sample_rng(1);
        assert_eq!(
            sampler.sample(&logits, &params(0.0, 1.0, 0, 0.0), &[], &mut rng),
            1
        );
        assert_eq!(
            sampler.sample(&logits, &params(0.0, 1.0, 0, 0.0), &[1], &mut rng),
            2
        );
    }

    #[test]
    fn frequencies_follow_the_softmax() {
        // p = softmax([ln 1, ln 2, ln 3, ln 4]) = [0.1, 0.2, 0.3, 0.4]
        let logits: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|x| x.ln()).collect();
        let counts = histogram(&logits, &params(1.0, 1.0, 0, 0.0), 40_000);
        for (count, expected) in counts.iter().zip([0.1, 0.2, 0.3, 0.4]) {
            let freq = *count as f64 / 40_000.0;
            assert!((freq - expected).abs() < 0.01, "{counts:?}");
        }
    }

    #[test]
    fn filters_cut_the_tail() {
        let logits: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|x| x.ln()).collect();
        // top-k 2 keeps ids 2 and 3.
        let counts = histogram(&logits, &params(1.0, 1.0, 2, 0.0), 2000);
        assert_eq!(counts[..2], [0, 0]);
        // top-p 0.65: 0.4 + 0.3 >= 0.65 keeps ids 3 and 2.
        let counts = histogram(&logits, &params(1.0, 0.65, 0, 0.0), 2000);
        assert_eq!(counts[..2], [0, 0]);
        // top-p 0.75 needs 0.4 + 0.3 + 0.2.
        let counts = histogram(&logits, &params(1.0, 0.75, 0, 0.0), 2000);
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 0);
        // min-p 0.5: keep p >= 0.2 = ids 1, 2, 3.
        let counts = histogram(&logits, &params(1.0, 1.0, 0, 0.5), 2000);
        assert_eq!(counts[0], 0);
        assert!(counts[1] > 0);
    }

    #[test]
    fn temperature_sharpens() {
        let logits: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0].iter().map(|x| x.ln()).collect();
        let hot = histogram(&logits, &params(1.0, 1.0, 0, 0.0), 20_000);
        let cold = histogram(&logits, &params(0.5, 1.0, 0, 0.0), 20_000);
        // At T = 0.5 the probabilities go as the squares: 16/30 for the top token.
        assert!(
            (cold[3] as f64 / 20_000.0 - 16.0 / 30.0).abs() < 0.015,
            "{cold:?}"
        );
        assert!(cold[3] > hot[3]);
    }

    #[test]
    fn top_p_widens_past_the_first_sort() {
        // 1000 equally likely tokens: top-p 0.9 must keep 900 of them.
        let logits = vec![0.0f32; 1000];
        let counts = histogram(&logits, &params(1.0, 0.9, 0, 0.0), 3_000);
        let used = counts.iter().filter(|&&c| c > 0).count();
        assert!((800..=900).contains(&used), "{used}");
        assert!(counts[900..].iter().all(|&c| c == 0));
    }

    #[test]
    fn stop_strings_found_across_tokens() {
        let stops = StopStrings::new(&["\n\n".to_owned(), "END".to_owned()]);
        assert_eq!(stops.find(b"abc\n", 3), None);
        assert_eq!(stops.find(b"abc\n\n", 4), Some(3));
        assert_eq!(stops.find(b"xxEN", 3), None);
        assert_eq!(stops.find(b"xxEND", 4), Some(2));
        assert!(StopStrings::new(&[]).find(b"anything", 0).is_none());
    }

    #[test]
    fn validation() {
        assert!(SamplingParams::default().validate().is_ok());
        assert_eq!(
            params(-1.0, 1.0, 0, 0.0).validate(),
            Err(SamplingError::Temperature(-1.0))
        );
        assert_eq!(
            params(1.0, 0.0, 0, 0.0).validate(),
            Err(SamplingError::TopP(0.0))
        );
        assert_eq!(
            params(1.0, 1.0, 0, 2.0).validate(),
            Err(SamplingError::MinP(2.0))
        );
    }

    proptest! {
        #[test]
        fn always_draws_an_allowed_token(
            logits in proptest::collection::vec(-50.0f32..50.0, 1..300),
            temperature in 0.0f32..3.0,
            top_p in 0.01f32..=1.0,
            top_k in 0usize..10,
            min_p in 0.0f32..1.0,
            seed in any::<u64>(),
        ) {
            let banned = [0u32];
            let mut sampler = TokenSampler::default();
            let mut rng = sample_rng(seed);
            let id = sampler.sample(&logits, &params(temperature, top_p, top_k, min_p), &banned, &mut rng);
            prop_assert!((id as usize) < logits.len());
            if logits.len() > 1 {
                prop_assert_ne!(id, 0);
            }
        }

        #[test]
        fn same_seed_same_draws(logits in proptest::collection::vec(-5.0f32..5.0, 2..100), seed in any::<u64>()) {
            let p = params(0.7, 0.9, 0, 0.05);
            let draw = |seed| {
                let mut sampler = TokenSampler::default();
                let mut rng = sample_rng(seed);
                (0..8).map(|_| sampler.sample(&logits, &p, &[], &mut rng)).collect::<Vec<_>>()
            };
            prop_assert_eq!(draw(seed), draw(seed));
        }

        /// The sampler's shortcuts (the partial sorts, dropping negligible tokens before the
        /// top-p cut) draw exactly what sorting the whole vocabulary would.
        #[test]
        fn top_p_draws_what_a_full_sort_draws(
            logits in proptest::collection::vec(-30.0f32..30.0, 1..2000),
            temperature in 0.1f32..2.0,
            top_p in 0.01f32..1.0,
            seed in any::<u64>(),
        ) {
            let mut sampler = TokenSampler::default();
            let mut rng = sample_rng(seed);
            let drawn = sampler.sample(&logits, &params(temperature, top_p, 0, 0.0), &[], &mut rng);
            prop_assert_eq!(drawn, full_sort_draw(&logits, temperature, top_p, &mut sample_rng(seed)));
        }
    }

    #[test]
    fn exp_edges() {
        assert_eq!(
            exp_nonpositive(0.0),
            1.0,
            "min-p relies on the top weight being exactly 1"
        );
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(f32::NAN), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(-87.5), 0.0);
        assert!(exp_nonpositive(-87.0) > 0.0);
    }

    proptest! {
        #[test]
        fn log_softmax_matches_f64(
            logits in proptest::collection::vec(-30.0f32..30.0, 1..200),
            pick in any::<proptest::sample::Index>(),
        ) {
            let target = pick.index(logits.len());
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let sum: f64 = logits.iter().map(|&l| (f64::from(l) - f64::from(max)).exp()).sum();
            let exact = f64::from(logits[target]) - f64::from(max) - sum.ln();
            let ours = log_softmax_at(&logits, target, &mut Vec::new());
            // logit - max is an f32 difference, so the error grows with its size.
            prop_assert!((ours - exact).abs() < 1e-6 * (1.0 + exact.abs()), "{ours} vs {exact}");
        }
    }

    #[test]
    fn exp_matches_f64_exp() {
        // A dense sweep of the whole range: a wrong series coefficient shows up as an error of
        // about 2e-7 somewhere in it.
        for step in 0..=2_900_000u32 {
            let x = step as f32 * -3e-5;
            let exact = f64::from(x).exp();
            let relative_error = (f64::from(exp_nonpositive(x)) - exact).abs() / exact;
            assert!(relative_error < 1.5e-7, "x = {x}: error {relative_error:e}");
        }
    }

    /// Top-p the plain way (with the same exp, which `exp_matches_f64_exp` checks on its own): every token sorted, most likely first, cut where the mass reaches
    /// `top_p`, drawn in that order.
    fn full_sort_draw(logits: &[f32], temperature: f32, top_p: f32, rng: &mut ChaCha8Rng) -> u32 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut weights: Vec<(f32, u32)> = logits
            .iter()
            .enumerate()
            .map(|(id, &l)| (exp_nonpositive((l - max) * (1.0 / temperature)), id as u32))
            .filter(|w| w.0 > 0.0)
            .collect();
        let target = f64::from(top_p) * weights.iter().map(|w| f64::from(w.0)).sum::<f64>();
        weights.sort_by(more_likely);
        let mut mass = 0.0;
        if let Some(last) = weights.iter().position(|w| {
            mass += f64::from(w.0);
            mass >= target
        }) {
            weights.truncate(last + 1);
        }
        draw(&weights, rng)
    }
}
