//! Boundary's lab: the whole experiment of Yue et al. (2025) in miniature.

pub mod rl;
pub mod task;
