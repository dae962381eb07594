//! KL estimators between the policy and the reference (base) model, per
//! sampled token, as verl writes them. With `d = log π(y) − log π_ref(y)` for
//! a token `y` sampled from π:
//!
//! - `k1`: `d` — unbiased for KL(π‖π_ref), can be negative, high variance.
//! - `k2`: `d²/2` — biased, but its gradient is the KL gradient on-policy.
//! - `k3`: `exp(−d) + d − 1` — unbiased and non-negative (Schulman's
//!   low-variance estimator); verl clamps `−d` to ±20 and the result to ±10.
//! - `abs`: `|d|`.

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::model::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlEstimator {
    K1,
    K2,
    K3,
    Abs,
}

impl KlEstimator {
    /// The estimate for one token from its two log-probabilities.
    pub fn estimate(self, logp: f64, ref_logp: f64) -> f64 {
        let d = logp - ref_logp;
        match self {
            KlEstimator::K1 => d,
            KlEstimator::K2 => 0.5 * d * d,
            KlEstimator::K3 => {
                let u = (-d).clamp(-20.0, 20.0);
                (u.exp() - u - 1.0).clamp(-10.0, 10.0)
            }
            KlEstimator::Abs => d.abs(),
        }
    }

    /// The same estimate element-wise on tensors, differentiable through `log_probs`.
    pub fn estimate_tensor(self, log_probs: &Tensor, ref_log_probs: &Tensor) -> Result<Tensor> {
        let d = (log_probs - ref_log_probs)?;
        Ok(match self {
            KlEstimator::K1 => d,
            KlEstimator::K2 => (d.sqr()? * 0.5)?,
            KlEstimator::K3 => {
                let u = d.neg()?.clamp(-20.0, 20.0)?;
                ((u.exp()? - &u)? - 1.0)?.clamp(-10.0, 10.0)?
            }
            KlEstimator::Abs => d.abs()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::distr::{Distribution, weighted::WeightedIndex};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn exact_kl(p: &[f64], q: &[f64]) -> f64 {
        p.iter().zip(q).map(|(p, q)| p * (p / q).ln()).sum()
    }

    #[test]
    fn estimators_vanish_when_the_policies_agree() {
        for e in [
            KlEstimator::K1,
            KlEstimator::K2,
            KlEstimator::K3,
            KlEstimator::Abs,
        ] {
            assert_eq!(e.estimate(-1.3, -1.3), 0.0);
        }
        // Hand values: d = ln 2.
        let (lp, lr) = (0.5f64.ln(), 0.25f64.ln());
        let d = 2f64.ln();
        assert!((KlEstimator::K1.estimate(lp, lr) - d).abs() < 1e-12);
        assert!((KlEstimator::K2.estimate(lp, lr) - 0.5 * d * d).abs() < 1e-12);
        // k3 = r − ln r − 1 with r = π_ref/π = 1/2: 0.5 + ln 2 − 1.
        assert!((KlEstimator::K3.estimate(lp, lr) - (0.5 + d - 1.0)).abs() < 1e-12);
        assert!(KlEstimator::K3.estimate(lr, lp) >= 0.0);
    }

    #[test]
    fn tensor_estimates_match_scalar_ones() {
        let lp = [-0.1f32, -2.0, -0.7, -30.0];
        let rf = [-0.3f32, -1.0, -0.7, -1.0];
        let dev = &candle_core::Device::Cpu;
        for e in [
            KlEstimator::K1,
            KlEstimator::K2,
            KlEstimator::K3,
            KlEstimator::Abs,
        ] {
            let got = e
                .estimate_tensor(
                    &Tensor::new(&lp, dev).unwrap(),
                    &Tensor::new(&rf, dev).unwrap(),
                )
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            for i in 0..lp.len() {
                let want = e.estimate(f64::from(lp[i]), f64::from(rf[i]));
                assert!(
                    (f64::from(got[i]) - want).abs() < 1e-4 * want.abs().max(1.0),
                    "{e:?} {i}"
                );
            }
        }
    }

    /// k1 and k3 are unbiased: their exact expectation under π equals KL(π‖π_ref);
    /// k2's expectation is the second-order approximation, close for nearby policies.
    #[test]
    fn expectations_match_exact_kl() {
        let pi = [0.5, 0.3, 0.15, 0.05];
        let reference = [0.25, 0.25, 0.25, 0.25];
        let kl = exact_kl(&pi, &reference);
        let expect = |e: KlEstimator| -> f64 {
            pi.iter()
                .zip(&reference)
                .map(|(p, q): (&f64, &f64)| p * e.estimate(p.ln(), q.ln()))
                .sum()
        };
        assert!((expect(KlEstimator::K1) - kl).abs() < 1e-12);
        assert!((expect(KlEstimator::K3) - kl).abs() < 1e-12);
        let near = [0.26, 0.25, 0.25, 0.24];
        let kl_near = exact_kl(&near, &reference);
        let k2_near: f64 = near
            .iter()
            .zip(&reference)
            .map(|(p, q): (&f64, &f64)| p * KlEstimator::K2.estimate(p.ln(), q.ln()))
            .sum();
        assert!(
            (k2_near - kl_near).abs() < 0.05 * kl_near,
            "{k2_near} vs {kl_near}"
        );

        // And by sampling, as training uses them: the mean over draws converges.
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let dist = WeightedIndex::new(pi).unwrap();
        let draws = 200_000;
        let samples: Vec<usize> = (0..draws).map(|_| dist.sample(&mut rng)).collect();
        for e in [KlEstimator::K1, KlEstimator::K3] {
            let values: Vec<f64> = samples
                .iter()
                .map(|&i| e.estimate(pi[i].ln(), reference[i].ln()))
                .collect();
            let n = draws as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            // Six standard errors: a false failure has probability ~1e-9.
            let tolerance = 6.0 * (var / n).sqrt();
            assert!(
                (mean - kl).abs() < tolerance,
                "{e:?}: {mean} vs {kl} ± {tolerance}"
            );
        }
    }
}
