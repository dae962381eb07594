//! The estimator against exact rational arithmetic.
//!
//! `1 − C(n−c,k)/C(n,k)` is computed here with big integers, as
//! `1 − Π (n−c−j)/(n−j)` over the shorter of the two product forms, and rounded to
//! `f64` only at the end. The library must agree to 1e-12 relative error (the
//! issue's contract is 1e-9) for every n ≤ 65,536.

use boundary_core::pass_at_k;
use num_bigint::BigUint;
use num_traits::{One, ToPrimitive, Zero};
use proptest::prelude::*;

const MAX_N: u64 = 65_536;
const TOLERANCE: f64 = 1e-12;

/// Exact pass@k rounded once to f64.
fn exact_pass_at_k(n: u64, c: u64, k: u64) -> f64 {
    if c == 0 {
        return 0.0;
    }
    if n - c < k {
        return 1.0;
    }
    // C(n−c,k)/C(n,k) = Π_{j<k} (n−c−j)/(n−j) = Π_{i=n−c+1..n} (i−k)/i.
    let (mut num, mut den) = (BigUint::one(), BigUint::one());
    if k <= c {
        for j in 0..k {
            num *= n - c - j;
            den *= n - j;
        }
    } else {
        for i in (n - c + 1)..=n {
            num *= i - k;
            den *= i;
        }
    }
    let diff = &den - &num; // 1 − num/den = diff/den
    if diff.is_zero() {
        return 0.0;
    }
    // Scale so the integer quotient carries 96 significant bits, then round once.
    let shift = 96 + den.bits() - diff.bits();
    let quotient: BigUint = (diff << shift) / &den;
    quotient.to_f64().expect("quotient fits in f64") * 2f64.powi(-(shift as i32))
}

fn assert_close(n: u64, c: u64, k: u64) {
    let got = pass_at_k(n, c, k).unwrap();
    let want = exact_pass_at_k(n, c, k);
    let error = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        error <= TOLERANCE,
        "n={n} c={c} k={k}: got {got:e}, exact {want:e}, relative error {error:e}"
    );
}

#[test]
fn edge_cases_at_the_largest_n() {
    for (c, k) in [
        (0, 1),
        (0, MAX_N),
        (MAX_N, 1),
        (MAX_N, MAX_N),
        (1, 1),
        (1, MAX_N),
        (1, MAX_N - 1),
        (2, MAX_N - 1),
        (MAX_N - 1, 1),
        (MAX_N - 1, 2),
        (32_768, 32_768),
        (32_768, 32_769),
        (3, 30_000),
        (30_000, 3),
        (60_000, 5_000),
    ] {
        assert_close(MAX_N, c, k);
    }
}

#[test]
fn agrees_with_the_naive_formula_where_it_does_not_overflow() {
    // Binomials up to n = 60 fit in u128. The naive `1 − a/b` is then exact up to
    // its final rounding and subtraction, so it is good to a few ulps of 1 (absolute).
    fn binomial(n: u64, k: u64) -> u128 {
        if k > n {
            return 0;
        }
        (0..k).fold(1u128, |acc, j| acc * (n - j) as u128 / (j + 1) as u128)
    }
    for n in 1..=60u64 {
        for c in 0..=n {
            for k in 1..=n {
                let naive = 1.0 - binomial(n - c, k) as f64 / binomial(n, k) as f64;
                let got = pass_at_k(n, c, k).unwrap();
                assert!(
                    (got - naive).abs() <= 4.0 * f64::EPSILON,
                    "n={n} c={c} k={k}: {got} vs naive {naive}"
                );
            }
        }
    }
}

fn counts() -> impl Strategy<Value = (u64, u64, u64)> {
    // Exact products cost O(min(c, k)) big multiplications, so the random cases keep
    // one of c and k modest while n ranges over everything; the deterministic edge
    // cases above cover min(c, k) in the tens of thousands.
    (1..=MAX_N)
        .prop_flat_map(|n| (Just(n), 0..=n, 1..=n))
        .prop_map(|(n, c, k)| {
            let small = 1 + (c.min(k) % 400);
            if c < k {
                (n, c.min(small), k)
            } else {
                (n, c, k.min(small))
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn matches_exact_rational_arithmetic((n, c, k) in counts()) {
        assert_close(n, c, k);
    }

    #[test]
    fn monotone_in_k_and_in_c((n, c, k) in counts()) {
        let p = pass_at_k(n, c, k).unwrap();
        prop_assert!((0.0..=1.0).contains(&p));
        if k < n {
            prop_assert!(pass_at_k(n, c, k + 1).unwrap() >= p);
        }
        if c < n {
            prop_assert!(pass_at_k(n, c + 1, k).unwrap() >= p);
        }
    }

    #[test]
    fn small_n_is_exact_everywhere(n in 1u64..=300, c_frac in 0.0f64..=1.0, k_frac in 0.0f64..=1.0) {
        let c = (c_frac * n as f64).round() as u64;
        let k = ((k_frac * n as f64).round() as u64).max(1);
        assert_close(n, c, k);
    }
}
