//! The statistics of Boundary: everything computed from per-problem sample counts.
//!
//! This crate owns the numbers a paper reports, and nothing else: no files, no
//! models, no HTTP. Its input is [`ProblemCounts`] (`n` completed samples of a
//! problem, `c` of them correct); its outputs are plain serialisable structs.
//!
//! - [`pass_at_k`] / [`pass_at_ks`]: the unbiased estimator `1 − C(n−c,k)/C(n,k)`
//!   of Chen et al. (2021), computed in log space so it stays exact (to ~1e-15
//!   relative error) at the n = 256…65,536 that reasoning-boundary studies need.
//! - [`pass_at_k_curve`]: the mean over problems at each k, with an optional
//!   percentile [`Bootstrap`] over problems for confidence intervals.
//! - [`SolvedSet`] and [`Comparison`]: coverage, the problems each model solves at
//!   least once and how two models' sets relate.
//! - [`sampling_efficiency_gap`]: ΔSE, for example base pass@256 − RL pass@1.
//! - [`accuracy_histogram`]: the distribution of per-problem accuracy c/n.

mod bootstrap;
mod coverage;
mod curve;
mod estimator;
mod gap;
mod histogram;

pub use bootstrap::{Bootstrap, BootstrapError, Interval, quantile};
pub use coverage::{Comparison, SolvedSet};
pub use curve::{
    Curve, CurveError, CurvePoint, ProblemCounts, ShortProblems, default_ks, normalize_ks,
    pass_at_k_curve,
};
pub use estimator::{EstimatorError, pass_at_k, pass_at_ks, validate_counts};
pub use gap::{GapError, SamplingEfficiencyGap, sampling_efficiency_gap};
pub use histogram::{AccuracyBin, HistogramError, accuracy_histogram};
