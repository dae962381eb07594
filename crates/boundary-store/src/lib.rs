//! The run store of Boundary: one SQLite file per experiment.
//!
//! The store sits in the middle of the pipeline: samplers write every sample the
//! moment it exists, verifiers attach grades, scorers attach log-probabilities, and
//! every analysis reads from it. Its tables are `runs` (model, benchmark, sampling
//! settings, seed), `problems` (gold answers), `prompts`, `samples` (text, tokens,
//! finish reason, status `ok`/`failed` with the error), `grades` (verifier, verdict,
//! extracted answer, detail) and `scores` (log-probability under a scorer model).
//!
//! - [`Store`] opens (and migrates) a store and answers queries: runs, per-problem
//!   counts for pass@k, missing sample indices for resuming, ungraded samples, and the
//!   scores of a scorer model with the samples it has not scored yet ([`StoredScore`]).
//! - [`Writer`] is one transaction of idempotent writes keyed by
//!   (run, problem, sample index): writing the same sample twice stores it once.
//! - [`import_jsonl`], [`export`] and [`read_counts`] move data in and out, with
//!   errors that name the file, line and field.
//! - [`merge_stores`] combines stores (the shards of a run), reporting conflicts instead
//!   of overwriting; [`Store::duplicate_responses`] finds samples repeated word for word.
//!
//! The schema is versioned (`PRAGMA user_version`) with forward-only migrations
//! in [`schema`].

mod counts;
mod duplicates;
mod error;
mod export;
mod import;
mod jsonl;
mod merge;
mod record;
pub mod schema;
mod scores;
mod store;
mod writer;

pub use counts::read_counts;
pub use duplicates::DuplicateResponses;
pub use error::{Result, StoreError};
pub use export::{ExportError, ExportFilter, ExportFormat, export};
pub use import::{ImportError, ImportSummary, ImportedRun, import_jsonl};
pub use jsonl::{ErrorList, Fields, InputError, InputErrors, describe, read_objects};
pub use merge::{MergeConflict, MergeError, MergeSummary, merge_stores};
pub use record::{ExportRow, IMPORT_VERIFIER, SampleRecord};
pub use scores::StoredScore;
pub use store::{
    Run, RunCounts, RunSpec, SampleCursor, SampleStats, Store, UngradedSample, canonical_json,
};
pub use writer::{NewGrade, NewSample, NewScore, SampleOutcome, SampleWrite, Writer};
