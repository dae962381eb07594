//! Per-sample seeds that stay distinct however `n` is split across requests.
//!
//! vLLM gives the children of a request with `seed = s` and `n = k` the seeds
//! `s, s+1, ..., s+k-1`. So two requests for the same prompt with seeds 100 and 101 share
//! k-1 seeds and return k-1 identical samples, the duplicate-samples complaint users file
//! against servers. Boundary gives sample `i` of a problem the seed `base(problem) + i` and
//! sends a request for samples `i..i+k` with `seed = base + i`: every child then lands on its
//! own sample's seed, whether the samples come in one request, one at a time, or in pieces
//! after a server returned fewer choices than asked.

/// Largest sample index a seed can be derived for (exclusive).
pub const MAX_SAMPLES_PER_PROBLEM: u64 = 1 << 24;

/// Seeds stay below 2^31: llama.cpp's server takes a 32-bit seed (with `0xFFFFFFFF` meaning
/// "random"), and some servers store it in a signed 32-bit integer.
const SEED_SPACE: u64 = 1 << 31;

/// How requests are seeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedPolicy {
    /// Sample `i` of problem `p` gets `base(run_seed, p) + i`.
    Derived { run_seed: u64 },
    /// No seed is sent: the server draws its own randomness (fastest on vLLM V1, not
    /// reproducible).
    Unseeded,
}

impl SeedPolicy {
    /// The seed for a request whose first sample is `first_index`.
    pub fn request_seed(self, problem_id: &str, first_index: u64) -> Option<u64> {
        match self {
            Self::Derived { run_seed } => Some(problem_base(run_seed, problem_id) + first_index),
            Self::Unseeded => None,
        }
    }
}

/// A problem's base seed, uniform in `[0, 2^31 - 2^24)` so that `base + index` for every
/// index below [`MAX_SAMPLES_PER_PROBLEM`] stays in the seed space.
fn problem_base(run_seed: u64, problem_id: &str) -> u64 {
    splitmix64(run_seed ^ fnv1a64(problem_id.as_bytes())) % (SEED_SPACE - MAX_SAMPLES_PER_PROBLEM)
}

/// FNV-1a: a fixed, documented hash, so seeds do not change with the Rust version.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: spreads nearby inputs (run seeds 0, 1, 2) far apart.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seeds_are_stable_across_releases() {
        // Changing these breaks reproducibility of every stored run: never update them.
        let policy = SeedPolicy::Derived { run_seed: 0 };
        assert_eq!(policy.request_seed("gsm8k/0", 0), Some(1_343_230_314));
        assert_eq!(policy.request_seed("gsm8k/0", 5), Some(1_343_230_319));
        assert_eq!(SeedPolicy::Unseeded.request_seed("gsm8k/0", 5), None);
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    proptest! {
        #[test]
        fn splitting_n_never_reuses_a_seed(
            run_seed in any::<u64>(),
            id in "[a-z0-9/_-]{1,20}",
            cuts in proptest::collection::vec(1u64..64, 1..20),
        ) {
            // Model vLLM: a request for samples [start, start+k) yields child seeds
            // seed+0..seed+k. Over any split of 0..total, each sample gets exactly its own.
            let policy = SeedPolicy::Derived { run_seed };
            let mut start = 0;
            let mut children = Vec::new();
            for k in cuts {
                let seed = policy.request_seed(&id, start).unwrap();
                children.extend((0..k).map(|c| seed + c));
                start += k;
            }
            let per_sample: Vec<u64> = (0..start)
                .map(|i| policy.request_seed(&id, i).unwrap())
                .collect();
            prop_assert_eq!(&children, &per_sample);
            let mut unique = children.clone();
            unique.sort_unstable();
            unique.dedup();
            prop_assert_eq!(unique.len(), children.len());
            prop_assert!(children.iter().all(|&s| s < SEED_SPACE));
        }

        #[test]
        fn every_index_stays_in_the_seed_space(run_seed in any::<u64>(), id in ".{0,40}") {
            let policy = SeedPolicy::Derived { run_seed };
            let last = policy.request_seed(&id, MAX_SAMPLES_PER_PROBLEM - 1).unwrap();
            prop_assert!(last < SEED_SPACE);
        }
    }
}
