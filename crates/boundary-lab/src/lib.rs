//! Boundary's lab: the whole experiment of Yue et al. (2025) in miniature,
//! on a CPU, in minutes.
//!
//! A synthetic task with exact, step-by-step verification ([`task`]: the
//! ModReach family, its generator, verifier and tokenizer), a small
//! transformer ([`model`]) pretrained from scratch on a mixture of solution
//! strategies ([`train`]), six RLVR algorithms sharing one loop ([`rl`]),
//! a distilled student of a teacher that knows one more operation, batched
//! KV-cached sampling ([`sampler`]), and the same pass@k / coverage /
//! perplexity analysis as real models.
//!
//! Main types: [`config::LabConfig`] (profiles and TOML overrides),
//! [`task::Task`], [`model::Transformer`], [`rl::Algorithm`].

pub mod config;
pub mod model;
pub mod rl;
pub mod sampler;
pub mod seeds;
pub mod task;
pub mod train;
