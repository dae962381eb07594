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

pub mod analysis;
pub mod config;
pub mod error;
pub mod eval;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod rl;
pub mod sampler;
pub mod seeds;
pub mod task;
pub mod train;

/// Makes candle run every kernel on the calling thread.
///
/// The lab parallelises across independent jobs instead (the RL runs, the
/// evaluations of each model): on a shared two-core machine candle's
/// spinning thread pool stalls whenever another process holds a core (a
/// training step measured 4× slower with two kernel threads than with one
/// under load; docs/benchmarks/lab.md), and single-threaded kernels make
/// every result independent of how many jobs run at once.
///
/// # Safety
/// It sets process environment variables, which is only sound while no
/// other thread may read or write the environment: call it first thing in
/// `main` (or a test binary's only test), before candle runs any operation.
pub unsafe fn use_single_threaded_kernels() {
    // SAFETY: the caller guarantees no other thread touches the environment.
    unsafe {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
}

/// Whether candle will run kernels on one thread (see [`use_single_threaded_kernels`]).
pub fn kernels_are_single_threaded() -> bool {
    candle_core::utils::get_num_threads() == 1
}
