//! Live counters of a sampling or scoring run, updated by the request tasks and read by
//! whoever draws a progress bar or prints the summary.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters; cheap to update from many tasks at once.
#[derive(Debug, Default)]
pub struct Progress {
    samples_ok: AtomicU64,
    samples_failed: AtomicU64,
    tokens: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    short_responses: AtomicU64,
}

/// A consistent-enough copy of the counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Samples (or scores) completed and handed to the sink.
    pub samples_ok: u64,
    /// Samples stored as failed after the retry budget or a rejected request.
    pub samples_failed: u64,
    /// Generated tokens counted per choice (see [`crate::TokenCounting`]).
    pub tokens: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Requests that failed and were tried again.
    pub retries: u64,
    /// Responses with fewer choices than asked for (the rest was asked for again).
    pub short_responses: u64,
}

impl Progress {
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            samples_ok: self.samples_ok.load(Ordering::Relaxed),
            samples_failed: self.samples_failed.load(Ordering::Relaxed),
            tokens: self.tokens.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            short_responses: self.short_responses.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn sample_ok(&self, tokens: Option<u32>) {
        self.samples_ok.fetch_add(1, Ordering::Relaxed);
        if let Some(tokens) = tokens {
            self.tokens.fetch_add(u64::from(tokens), Ordering::Relaxed);
        }
    }

    pub(crate) fn samples_failed(&self, count: u64) {
        self.samples_failed.fetch_add(count, Ordering::Relaxed);
    }

    pub(crate) fn request_sent(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn short_response(&self) {
        self.short_responses.fetch_add(1, Ordering::Relaxed);
    }
}
