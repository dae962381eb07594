//! What every sampling backend of Boundary shares.
//!
//! A backend (the embedded CPU engine, the OpenAI-compatible HTTP client, the lab's
//! tiny transformer) only turns prompts into text. Everything around that lives
//! here, once:
//!
//! - [`read_prompts`]: prompt files (`{"id", "prompt"}` or `{"id", "messages"}`).
//! - [`SamplingParams`] and [`sample_seed`]: settings, and a per-sample seed that
//!   does not depend on batching or resumption.
//! - [`plan`]: records the run in the store and lists the samples still missing, so
//!   re-running a command resumes it; [`Shard`] splits a run across machines.
//! - [`StoreSink`]: a writer thread that commits every finished sample at once.

mod plan;
mod prompt;
mod sink;

pub use plan::{Plan, SamplingParams, Shard, ShardError, WorkItem, plan, sample_seed};
pub use prompt::{ChatMessage, PromptInput, PromptRecord, read_prompts};
pub use sink::{SinkClosed, SinkHandle, SinkSummary, StoreSink};
